"""LocalSlack and the payload builders, driven through the real slack_sdk client."""
from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from urllib.parse import parse_qs, parse_qsl

import pytest
import pytest_asyncio
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import SectionBlock
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.offline.local_slack import LocalSlack
from bot.offline.slack_payloads import (
    JSON,
    block_actions_body,
    event_body,
    input_values_from_view,
    sign,
    slash_command_body,
    view_submission_body,
)

TOKEN = "xoxb-local-test"


@pytest_asyncio.fixture
async def slack():
    local = LocalSlack()
    local.add_user("U100", "amy", is_admin=True, real_name="Amy Admin", email="amy@essex.gov.uk")
    local.add_user("U200", "bob", real_name="Bob Member")
    local.add_channel("C100", "scrutiny-health", members=("U100", "U200"))
    await local.start()
    try:
        yield local
    finally:
        await local.stop()


@pytest.fixture
def client(slack):
    return AsyncWebClient(token=TOKEN, base_url=slack.api_url)


def _payload(form_body: str) -> dict:
    return json.loads(dict(parse_qsl(form_body))["payload"])


# --------------------------------------------------------------------------- Web API

@pytest.mark.asyncio
async def test_auth_test_and_token_recorded(slack, client):
    resp = await client.auth_test()
    assert resp["ok"] and resp["user_id"] == "UBOT" and resp["bot_id"] == "BBOT"
    assert resp["team_id"] == "T0001"
    [call] = slack.calls_to("auth.test")
    assert call.token == TOKEN and call.path == "/api/auth.test"


@pytest.mark.asyncio
async def test_post_message_blocks_read_back_parsed(slack, client):
    blocks = [
        {"type": "section", "block_id": "intro", "text": {"type": "mrkdwn", "text": "*Rec 1*"}},
        {"type": "actions", "elements": [
            {"type": "button", "action_id": "mark_done", "text": {"type": "plain_text", "text": "Done"}, "value": "r1"},
        ]},
    ]
    first = await client.chat_postMessage(channel="C100", text="Rec 1", blocks=blocks)
    second = await client.chat_postMessage(channel="C100", text="again", thread_ts=first["ts"])
    assert abs(float(first["ts"]) - time.time()) < 60 and len(first["ts"].split(".")[1]) == 6
    assert float(second["ts"]) > float(first["ts"])
    assert first["channel"] == "C100" and first["message"]["bot_id"] == "BBOT"

    [call, _] = slack.calls_to("chat.postMessage")
    assert call.args["blocks"] == blocks  # parsed back into objects, exactly as sent
    stored = slack.messages_in("C100")
    assert [m["text"] for m in stored] == ["Rec 1", "again"]
    assert stored[0]["blocks"][0] == blocks[0]
    assert stored[0]["blocks"][1]["block_id"]  # Slack fills in missing block ids
    assert stored[1]["thread_ts"] == first["ts"]

    # Blocks built with slack_sdk's model classes, sent as a form body (JSON string field).
    await client.api_call("chat.postMessage", data={
        "channel": "C100", "text": "form", "blocks": json.dumps([SectionBlock(text="hi").to_dict()]),
    })
    assert slack.calls_to("chat.postMessage")[-1].args["blocks"][0]["type"] == "section"


@pytest.mark.asyncio
async def test_update_delete_and_dm_by_user_id(slack, client):
    posted = await client.chat_postMessage(channel="U200", text="Your action is due")
    assert posted["channel"] == "DU200"
    await client.chat_update(channel="DU200", ts=posted["ts"], text="Your action is overdue")
    assert slack.messages_in("DU200")[0]["text"] == "Your action is overdue"
    await client.chat_delete(channel="DU200", ts=posted["ts"])
    assert slack.messages_in("DU200") == []
    with pytest.raises(SlackApiError) as err:
        await client.chat_update(channel="DU200", ts=posted["ts"], text="gone")
    assert err.value.response["error"] == "message_not_found"


@pytest.mark.asyncio
async def test_users_info_admin_member_unknown(client):
    amy = await client.users_info(user="U100")
    assert amy["user"]["is_admin"] is True and amy["user"]["is_owner"] is False
    assert amy["user"]["profile"]["email"] == "amy@essex.gov.uk"
    assert amy["user"]["profile"]["real_name"] == "Amy Admin"
    bob = await client.users_info(user="U200")
    assert bob["user"]["is_admin"] is False and bob["user"]["team_id"] == "T0001"
    with pytest.raises(SlackApiError) as err:
        await client.users_info(user="U999")
    assert err.value.response["error"] == "user_not_found"


@pytest.mark.asyncio
async def test_conversations_members_paginates(slack, client):
    members = [f"U{i:04d}" for i in range(250)]
    slack.add_channel("C250", "full-council", members=members)
    seen, cursor, pages = [], None, 0
    while True:
        resp = await client.conversations_members(channel="C250", limit=100, cursor=cursor)
        pages += 1
        seen += resp["members"]
        cursor = resp["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert pages == 3 and seen == members
    assert [c.args["limit"] for c in slack.calls_to("conversations.members")] == ["100"] * 3

    with pytest.raises(SlackApiError) as err:
        await client.conversations_members(channel="C404")
    assert err.value.response["error"] == "channel_not_found"


@pytest.mark.asyncio
async def test_conversations_info_and_users_conversations(slack, client):
    slack.add_channel("G100", "scrutiny-private", is_private=True, members=("U100",))
    slack.add_channel("G200", "not-ours", is_private=True, members=("U100",), bot_member=False)
    info = await client.conversations_info(channel="G100")
    assert info["channel"]["is_private"] is True and info["channel"]["is_member"] is True
    with pytest.raises(SlackApiError):
        await client.conversations_info(channel="G200")  # the bot cannot see it
    mine = await client.users_conversations(user="U100", types="public_channel,private_channel")
    assert {c["id"] for c in mine["channels"]} == {"C100", "G100", "G200"}
    public = await client.users_conversations(user="U100")
    assert [c["id"] for c in public["channels"]] == ["C100"]
    opened = await client.conversations_open(users="U100")
    assert opened["channel"]["id"] == "DU100"


@pytest.mark.asyncio
async def test_views_open_update_and_trigger_reuse(slack, client):
    view = {"type": "modal", "callback_id": "add_rec", "title": {"type": "plain_text", "text": "Add"},
            "private_metadata": "C100", "blocks": [{"type": "input", "label": {"type": "plain_text", "text": "T"},
                                                     "element": {"type": "plain_text_input"}}]}
    opened = (await client.views_open(trigger_id="1.2.abc", view=view))["view"]
    assert opened["id"].startswith("V") and opened["callback_id"] == "add_rec"
    assert opened["private_metadata"] == "C100" and opened["hash"]
    assert opened["blocks"][0]["block_id"] and opened["blocks"][0]["element"]["action_id"]
    with pytest.raises(SlackApiError) as err:
        await client.views_open(trigger_id="1.2.abc", view=view)
    assert err.value.response["error"] == "exchanged_trigger_id"

    updated = (await client.views_update(view_id=opened["id"], hash=opened["hash"], view=view))["view"]
    assert updated["id"] == opened["id"] and updated["hash"] != opened["hash"]
    with pytest.raises(SlackApiError) as err:
        await client.views_update(view_id=opened["id"], hash=opened["hash"], view=view)
    assert err.value.response["error"] == "hash_conflict"


@pytest.mark.asyncio
async def test_file_upload_v2_records_bytes(slack, client):
    resp = await client.files_upload_v2(channel="C100", filename="tracker.csv",
                                        content=b"ref,status\nR1,done\n", title="Tracker")
    assert resp["file"]["title"] == "Tracker"
    [upload] = slack.calls_to("upload_url")
    assert upload.args["content"] == b"ref,status\nR1,done\n"
    assert slack.file_content(resp["file"]["id"]) == b"ref,status\nR1,done\n"
    assert slack.messages_in("C100")[-1]["files"][0]["name"] == "tracker.csv"


@pytest.mark.asyncio
async def test_fail_next_429_with_retry_after(slack, client):
    slack.fail_next("chat.postMessage", status=429, retry_after=7)
    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(channel="C100", text="hello")
    assert err.value.response.status_code == 429
    assert err.value.response.headers["Retry-After"] == "7"
    assert err.value.response["error"] == "ratelimited"
    [failed] = slack.calls_to("chat.postMessage")
    assert failed.failed is True and failed.args["text"] == "hello"
    # Only the next call fails.
    assert (await client.chat_postMessage(channel="C100", text="hello"))["ok"]
    assert slack.messages_in("C100")[-1]["text"] == "hello"


@pytest.mark.asyncio
async def test_fail_next_slack_error_and_times(slack, client):
    slack.fail_next("users.info", error="ratelimited", times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError) as err:
            await client.users_info(user="U100")
        assert err.value.response.status_code == 200 and err.value.response["error"] == "ratelimited"
    assert (await client.users_info(user="U100"))["ok"]


@pytest.mark.asyncio
async def test_per_channel_interval_answers_a_second_message_429():
    async with LocalSlack(per_channel_interval=0.3) as slack:
        slack.add_user("U200", "bob")
        client = AsyncWebClient(token=TOKEN, base_url=slack.api_url)
        assert (await client.chat_postMessage(channel="C100", text="first"))["ok"]
        with pytest.raises(SlackApiError) as err:
            await client.chat_postMessage(channel="C100", text="too soon")
        assert err.value.response.status_code == 429
        assert err.value.response.headers["Retry-After"] == "1"  # whole seconds, rounded up
        assert err.value.response["error"] == "ratelimited"
        limited = slack.calls_to("chat.postMessage")[-1]
        assert limited.failed and limited.limited
        assert [m["text"] for m in slack.messages_in("C100")] == ["first"]
        # Other channels, and a DM by user id, are limited separately; other methods not at all.
        assert (await client.chat_postMessage(channel="U200", text="a DM"))["ok"]
        assert (await client.chat_postMessage(channel="C200", text="elsewhere"))["ok"]
        assert (await client.users_info(user="U200"))["ok"]
        time.sleep(0.3)
        assert (await client.chat_postMessage(channel="C100", text="later"))["ok"]
        assert [m["text"] for m in slack.messages_in("C100")] == ["first", "later"]
    # Off unless asked for.
    async with LocalSlack() as plain:
        client = AsyncWebClient(token=TOKEN, base_url=plain.api_url)
        for n in range(3):
            assert (await client.chat_postMessage(channel="C100", text=str(n)))["ok"]


@pytest.mark.asyncio
async def test_latency_delays_every_answer():
    async with LocalSlack(latency=0.2) as slack:
        client = AsyncWebClient(token=TOKEN, base_url=slack.api_url)
        started = time.monotonic()
        await client.chat_postMessage(channel="C100", text="slow")
        assert time.monotonic() - started >= 0.2
        assert slack.calls_to("chat.postMessage")[0].at - started >= 0.2


@pytest.mark.asyncio
async def test_method_latency_slows_only_those_methods():
    async with LocalSlack(method_latency={"users.info": 0.3}) as slack:
        slack.add_user("UALICE", "alice")
        client = AsyncWebClient(token=TOKEN, base_url=slack.api_url)
        started = time.monotonic()
        slow = asyncio.ensure_future(client.users_info(user="UALICE"))
        await client.chat_postMessage(channel="C100", text="quick")
        assert not slow.done()
        assert (await slow)["user"]["id"] == "UALICE"
        assert time.monotonic() - started >= 0.3
        # Recorded when answered: the quick call first, though the slow one was made first.
        assert [c.method for c in slack.calls] == ["chat.postMessage", "users.info"]
        slack.method_latency["users.info"] = 0  # changed later: answered at once
        started = time.monotonic()
        await client.users_info(user="UALICE")
        assert time.monotonic() - started < 0.3


@pytest.mark.asyncio
async def test_inject_faults_is_seeded_per_channel_and_attempt():
    async def run(order: list[str]) -> dict[str, list[str]]:
        """Post to each channel until it succeeds; the outcomes seen, by channel."""
        async with LocalSlack() as slack:
            slack.inject_faults(0.3, seed=7, stored_500=0.5)
            client = AsyncWebClient(token=TOKEN, base_url=slack.api_url, retry_handlers=[])
            seen: dict[str, list[str]] = {c: [] for c in order}
            pending = list(order)
            while pending:
                channel = pending.pop(0)
                try:
                    await client.chat_postMessage(channel=channel, text=f"to {channel}")
                    seen[channel].append("ok")
                except SlackApiError as e:
                    status = e.response.status_code
                    if status == 429:
                        assert e.response.headers["Retry-After"] == "1"
                    seen[channel].append(str(status))
                    pending.append(channel)  # retried after the others: a different interleaving
            for channel, outcomes in seen.items():
                expected = []
                for n in range(len(outcomes)):
                    fault = slack.planned_fault("chat.postMessage", channel, n)
                    expected.append({"429": "429", "500": "500", "500-stored": "500"}.get(fault, "ok"))
                assert outcomes == expected
                stored = sum(c.stored for c in slack.calls_to("chat.postMessage") if c.args["channel"] == channel)
                assert len(slack.messages_in(channel)) == 1 + stored  # a stored 500 is really there
            assert (await client.users_info(user="UBOT"))["ok"]  # only the methods asked for fail
            return seen

    channels = [f"C{n:03d}" for n in range(200)]
    first = await run(channels)
    assert first == await run(list(reversed(channels)))  # the same whatever the order
    outcomes = [o for seen in first.values() for o in seen]
    failed = [o for o in outcomes if o != "ok"]
    assert 0.2 < len(failed) / len(outcomes) < 0.4
    assert 0.3 < failed.count("429") / len(failed) < 0.7

@pytest.mark.asyncio
async def test_response_url_post_recorded_and_listener_called(slack):
    heard = []
    slack.listeners.append(heard.append)
    url = slack.response_url("cmd-1")
    assert url.endswith("/respond/cmd-1")
    resp = await AsyncWebhookClient(url).send(text="Added R1", response_type="ephemeral",
                                              blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}])
    assert resp.status_code == 200 and resp.body == "ok"
    [call] = await slack.wait_for("response_url")
    assert call.path == "cmd-1" and call.token is None
    assert call.args["text"] == "Added R1" and call.args["blocks"][0]["type"] == "section"
    assert slack.responses["cmd-1"][0]["response_type"] == "ephemeral"
    assert heard == [call]


@pytest.mark.asyncio
async def test_wait_for_timeout_lists_calls(slack, client):
    await client.chat_postMessage(channel="C100", text="only this")
    with pytest.raises(AssertionError) as err:
        await slack.wait_for("chat.postMessage", count=2, timeout=0.05)
    message = str(err.value)
    assert "2 call(s) to chat.postMessage; got 1" in message
    assert "chat.postMessage" in message and "only this" in message


@pytest.mark.asyncio
async def test_unknown_method_is_ok_and_missing_token_is_not(slack, client):
    assert (await client.api_call("bookmarks.list", params={"channel_id": "C100"}))["ok"]
    assert slack.calls_to("bookmarks.list")[0].args == {"channel_id": "C100"}
    with pytest.raises(SlackApiError) as err:
        await AsyncWebClient(base_url=slack.api_url).auth_test()
    assert err.value.response["error"] == "not_authed"


# --------------------------------------------------------------------------- payloads

def test_signed_slash_command_verifies():
    body = slash_command_body("/scrutiny", "add rec & more", user_id="U100", team_id="T0001",
                              channel_id="C100", response_url="http://127.0.0.1:1/respond/x")
    headers = sign(body, "s3cret")
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert SignatureVerifier("s3cret").is_valid_request(body, headers)
    assert not SignatureVerifier("other").is_valid_request(body, headers)
    assert not SignatureVerifier("s3cret").is_valid_request(body + "x", headers)

    fields = parse_qs(body)
    assert list(dict(parse_qsl(body))) == [
        "token", "team_id", "team_domain", "channel_id", "channel_name", "user_id", "user_name",
        "command", "text", "api_app_id", "is_enterprise_install", "response_url", "trigger_id",
    ]
    assert fields["text"] == ["add rec & more"] and fields["is_enterprise_install"] == ["false"]


def test_event_body_is_signed_json():
    body = event_body({"type": "app_mention", "user": "U100", "text": "<@UBOT> hi", "channel": "C100",
                       "ts": "1.2"}, team_id="T0001", event_time=1700000000)
    headers = sign(body, "s3cret", content_type=JSON)
    assert headers["Content-Type"] == "application/json"
    assert SignatureVerifier("s3cret").is_valid_request(body, headers)
    envelope = json.loads(body)
    assert envelope["type"] == "event_callback" and envelope["event"]["type"] == "app_mention"
    assert envelope["authorizations"][0] == {"enterprise_id": None, "team_id": "T0001", "user_id": "UBOT",
                                             "is_bot": True, "is_enterprise_install": False}
    assert envelope["event_id"].startswith("Ev") and envelope["event_time"] == 1700000000


@pytest.mark.asyncio
async def test_block_actions_from_posted_message(slack, client):
    blocks = [{"type": "actions", "block_id": "rec_R1", "elements": [
        {"type": "button", "action_id": "mark_done", "style": "primary",
         "text": {"type": "plain_text", "text": "Mark done"}, "value": "R1"}]}]
    posted = await client.chat_postMessage(channel="C100", text="R1", blocks=blocks)
    payload = _payload(block_actions_body(
        action_id="mark_done", value="R1", user_id="U100", team_id="T0001", channel_id="C100",
        response_url=slack.response_url(), trigger_id="1.2.x", message=posted["message"]))
    assert payload["type"] == "block_actions"
    assert payload["container"] == {"type": "message", "message_ts": posted["ts"], "channel_id": "C100",
                                    "is_ephemeral": False}
    assert payload["channel"] == {"id": "C100", "name": "general"}
    [action] = payload["actions"]
    assert action["block_id"] == "rec_R1" and action["text"]["text"] == "Mark done"
    assert action["type"] == "button" and action["value"] == "R1" and action["style"] == "primary"
    assert payload["user"]["id"] == "U100" and payload["team"]["id"] == "T0001"

    bare = _payload(block_actions_body(action_id="a", value="v", user_id="U1", team_id="T1", channel_id=None,
                                       response_url=None, trigger_id="t"))
    assert bare["actions"][0]["block_id"] == "b" and "channel" not in bare and "response_url" not in bare


@pytest.mark.asyncio
async def test_input_values_round_trip_through_view_submission(slack, client):
    options = [{"text": {"type": "plain_text", "text": t}, "value": v}
               for t, v in (("Red", "red"), ("Amber", "amber"), ("Green", "green"))]
    view = {
        "type": "modal", "callback_id": "add_rec", "private_metadata": '{"committee": 3}',
        "title": {"type": "plain_text", "text": "Add"}, "submit": {"type": "plain_text", "text": "Save"},
        "blocks": [
            {"type": "input", "block_id": "title", "label": {"type": "plain_text", "text": "Title"},
             "element": {"type": "plain_text_input", "action_id": "v"}},
            {"type": "input", "block_id": "rag", "label": {"type": "plain_text", "text": "RAG"},
             "element": {"type": "static_select", "action_id": "v", "options": options,
                         "initial_option": options[1]}},
            {"type": "input", "block_id": "due", "optional": True, "label": {"type": "plain_text", "text": "Due"},
             "element": {"type": "datepicker", "action_id": "v"}},
            {"type": "input", "block_id": "owner", "label": {"type": "plain_text", "text": "Owner"},
             "element": {"type": "users_select", "action_id": "v", "initial_user": "U200"}},
            {"type": "input", "block_id": "members", "label": {"type": "plain_text", "text": "Members"},
             "element": {"type": "multi_users_select", "action_id": "v"}},
            {"type": "input", "block_id": "tags", "optional": True, "label": {"type": "plain_text", "text": "T"},
             "element": {"type": "multi_static_select", "action_id": "v", "options": options}},
            {"type": "input", "block_id": "notes", "optional": True, "label": {"type": "plain_text", "text": "N"},
             "element": {"type": "plain_text_input", "action_id": "v", "initial_value": "none"}},
        ],
    }
    opened = (await client.views_open(trigger_id="9.9.z", view=view))["view"]
    values = input_values_from_view(opened, {
        ("title", "v"): "Reduce waiting times",
        ("rag", "v"): "green",
        ("due", "v"): dt.date(2025, 3, 31),
        ("members", "v"): ["U100", "U200"],
        ("tags", "v"): ["red", "amber"],
    })
    assert values == {
        "title": {"v": {"type": "plain_text_input", "value": "Reduce waiting times"}},
        "rag": {"v": {"type": "static_select", "selected_option": options[2]}},
        "due": {"v": {"type": "datepicker", "selected_date": "2025-03-31"}},
        "owner": {"v": {"type": "users_select", "selected_user": "U200"}},
        "members": {"v": {"type": "multi_users_select", "selected_users": ["U100", "U200"]}},
        "tags": {"v": {"type": "multi_static_select", "selected_options": options[:2]}},
        "notes": {"v": {"type": "plain_text_input", "value": "none"}},
    }
    untouched = input_values_from_view(opened, {})
    assert untouched["title"]["v"]["value"] is None and untouched["due"]["v"]["selected_date"] is None
    assert untouched["rag"]["v"]["selected_option"] == options[1]
    assert untouched["members"]["v"]["selected_users"] == []

    with pytest.raises(ValueError):
        input_values_from_view(opened, {("rag", "v"): "purple"})
    with pytest.raises(ValueError):
        input_values_from_view(opened, {("titel", "v"): "typo"})

    body = view_submission_body(view=opened, values=values, user_id="U100", team_id="T0001")
    assert SignatureVerifier("s").is_valid_request(body, sign(body, "s"))
    payload = _payload(body)
    assert payload["type"] == "view_submission" and payload["response_urls"] == []
    assert payload["view"]["id"] == opened["id"] and payload["view"]["callback_id"] == "add_rec"
    assert payload["view"]["private_metadata"] == '{"committee": 3}'
    assert payload["view"]["state"] == {"values": values}
    assert opened["state"] == {"values": {}}  # the caller's view is not mutated


@pytest.mark.asyncio
async def test_bodies_drive_a_real_bolt_app(slack):
    """The builders' bodies pass Bolt's signature check and reach the right listeners,
    whose say/respond/client calls land in LocalSlack."""
    from slack_bolt.async_app import AsyncApp
    from slack_bolt.request.async_request import AsyncBoltRequest

    secret = "bolt-secret"
    app = AsyncApp(client=AsyncWebClient(token=TOKEN, base_url=slack.api_url), signing_secret=secret)
    modal = {"type": "modal", "callback_id": "add_rec", "title": {"type": "plain_text", "text": "Add"},
             "submit": {"type": "plain_text", "text": "Save"},
             "blocks": [{"type": "input", "block_id": "title", "label": {"type": "plain_text", "text": "Title"},
                         "element": {"type": "plain_text_input", "action_id": "v"}}]}
    seen = {}

    @app.command("/scrutiny")
    async def command(ack, body, client, respond):
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=modal)
        await respond(f"opening for {body['text']}")

    @app.view("add_rec")
    async def submitted(ack, view, body):
        seen["title"] = view["state"]["values"]["title"]["v"]["value"]
        seen["team"] = body["team"]["id"]
        await ack()

    @app.action("mark_done")
    async def clicked(ack, action, respond):
        await ack()
        await respond(replace_original=True, text=f"done {action['value']}")

    @app.event("app_mention")
    async def mentioned(event, say):
        await say(f"hello <@{event['user']}>")

    async def dispatch(body, content_type="application/x-www-form-urlencoded"):
        request = AsyncBoltRequest(body=body, headers=sign(body, secret, content_type=content_type))
        return await app.async_dispatch(request)

    command_body = slash_command_body("/scrutiny", "health", user_id="U100", team_id="T0001",
                                      channel_id="C100", response_url=slack.response_url("cmd"))
    assert (await dispatch(command_body)).status == 200
    [opened] = await slack.wait_for("views.open")
    await slack.wait_for("response_url")
    assert slack.responses["cmd"][0]["text"] == "opening for health"

    view = opened.response["view"]
    values = input_values_from_view(view, {("title", "v"): "Shorter waits"})
    response = await dispatch(view_submission_body(view=view, values=values, user_id="U100", team_id="T0001"))
    assert response.status == 200 and seen == {"title": "Shorter waits", "team": "T0001"}

    response = await dispatch(block_actions_body(
        action_id="mark_done", value="R1", user_id="U100", team_id="T0001", channel_id="C100",
        response_url=slack.response_url("act"), trigger_id="3.3.c"))
    assert response.status == 200
    await slack.wait_for("response_url", count=2)
    assert slack.responses["act"][0] == {"text": "done R1", "replace_original": True}

    mention = {"type": "app_mention", "user": "U200", "text": "<@UBOT> hi", "channel": "C100",
               "ts": "1700000001.000100", "event_ts": "1700000001.000100"}
    assert (await dispatch(event_body(mention, team_id="T0001"), JSON)).status == 200
    await slack.wait_for("chat.postMessage")
    assert slack.messages_in("C100")[-1]["text"] == "hello <@U200>"
