"""Socket Mode (`scrutineer socket`): the same app, fed envelopes over a WebSocket."""
from urllib.parse import parse_qsl

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from bot.app import build_app
from bot.config import Settings
from bot.db import Database
from bot.offline import slack_payloads as payloads


async def test_slash_command_over_socket_mode(slack, sqlite_url, clock):
    settings = Settings.from_env({}, database_url=sqlite_url, bot_token="xoxb-test", app_token="xapp-test",
                                 slack_api_url=slack.api_url)
    db = Database(settings.database_url)
    await db.upgrade()
    app, _ = build_app(settings, db, clock=clock)
    handler = AsyncSocketModeHandler(app, settings.app_token)
    await handler.connect_async()
    try:
        body = payloads.slash_command_body(
            "/scrutiny", "setup cyp Children and Young People Scrutiny Committee", user_id="UADMIN",
            team_id="T1", channel_id="CCYP", response_url=slack.response_url("setup"))
        envelope_id = await slack.send_envelope("slash_commands", dict(parse_qsl(body)))
        acks = await slack.wait_for("socket_ack")
        assert acks[0].args["envelope_id"] == envelope_id
        # The answer rides in the envelope's acknowledgement, as over HTTP.
        assert "bound to the new committee" in acks[0].args["payload"]["text"]
        assert not slack.calls_to("response_url")
        # The app token opened the connection; the bot token made the Web API calls.
        assert slack.calls_to("apps.connections.open")[0].token == "xapp-test"
        assert {c.token for c in slack.calls_to("conversations.info")} == {"xoxb-test"}
    finally:
        await handler.close_async()
        await db.dispose()
