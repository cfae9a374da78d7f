"""Many councils on one service, at the signed-HTTP boundary against the fake Slack: someone from
another organisation in a Slack Connect channel reads the tracker but can't change it (unless
they hold a role); an Enterprise Grid org-wide install serves every workspace of the org; and
messages given up when a workspace goes leave the letters' records right."""
from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import date, timedelta
from urllib.parse import parse_qs, urlencode

import pytest
from slack_sdk.oauth.installation_store import Installation as SdkInstallation
from sqlalchemy import func, select

from bot.delivery import enqueue
from bot.offline import slack_payloads as payloads
from bot.scheduled import build_worker
from bot.services import items
from bot.services.committees import FROM_ELSEWHERE
from bot.services.installations import InstallationStore, stop_workspace
from models.delivery import OutboxMessage
from models.installations import OrgWorkspace
from models.meetings import Letter, LetterRecipient
from models.queries import committee_by_code, ensure_workspace, role_key
from models.tables import AuditEvent, Committee, Item, Role
from tests.harness import Harness, Reply
from tests.test_oauth import install

CABINET = "Cabinet Member for Children"


@pytest.fixture
async def councils(slack, database_url, clock):
    """The app serving many workspaces, installed by OAuth (as tests/test_oauth.py's `many`)."""
    h = Harness(slack, database_url, clock)
    h.settings = dataclasses.replace(h.settings, bot_token=None, client_id="111.222", client_secret="shh")
    await h.start()
    yield h
    await h.stop()


async def command(h: Harness, text_command: str, text: str, *, user: str, team: str = "T1", channel: str = "CCYP",
                  **extra: str) -> Reply:
    """A slash command as Slack posts it, with any fields Slack adds in a shared channel or an
    Enterprise Grid org (`user_team`, `enterprise_id`)."""
    key = uuid.uuid4().hex
    body = payloads.slash_command_body(text_command, text, user_id=user, team_id=team, channel_id=channel,
                                       response_url=h.slack.response_url(key),
                                       enterprise_id=extra.pop("enterprise_id", None))
    if extra:
        body += "&" + urlencode(extra)
    status, _ = await h.post(body)
    assert status == 200
    return await h.reply(key)


async def press_as(h: Harness, button: dict, message: Reply, *, user: str, user_team: str) -> Reply:
    """A button pressed in T1's channel by someone whose own workspace is `user_team`."""
    key = uuid.uuid4().hex
    form = payloads.block_actions_body(
        action_id=button["action_id"], value=button.get("value", ""), user_id=user, team_id="T1", channel_id="CCYP",
        response_url=h.slack.response_url(key), trigger_id=payloads.new_trigger_id(),
        message={"type": "message", "ts": "1700000000.000001", "blocks": message.blocks}, text=button["text"]["text"])
    payload = json.loads(parse_qs(form)["payload"][0])
    payload["user"]["team_id"] = user_team
    status, _ = await h.post(urlencode({"payload": json.dumps(payload)}))
    assert status == 200
    return await h.reply(key)


async def set_up(h: Harness) -> None:
    """#cyp bound to the committee (T1); one action owned by the Cabinet Member (Carol); Erin, of
    another council (T3), is in the channel through Slack Connect."""
    await command(h, "/scrutiny", "setup cyp Children and Young People Scrutiny Committee", user="UADMIN")
    await command(h, "/scrutiny", f'role "{CABINET}" <@UCAROL|carol>', user="UADMIN")
    async with h.db.session() as s, s.begin():
        committee = await committee_by_code(s, "T1", "cyp")
        role = await s.scalar(select(Role).filter_by(team_id="T1", key=role_key(CABINET)))
        await items.create_action(s, team_id="T1", committee=committee, text="Arrange foster carer training",
                                  roles=[role], due=date(2026, 9, 30), actor="UADMIN", now=h.clock())
    h.slack.add_user("UERIN", "erin", real_name="Erin Elsewhere", team_id="T3")
    h.slack.channels["CCYP"].members.append("UERIN")


async def item_state(h: Harness) -> tuple[str, int]:
    async with h.db.session() as s:
        status = await s.scalar(select(Item.status).where(Item.team_id == "T1"))
        audited = await s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.actor == "UERIN"))
    return status, audited


# ---------------------------------------------------------------- Slack Connect

async def test_someone_from_another_organisation_reads_but_cannot_change(harness):
    h = harness
    await set_up(h)
    # Reading: the list and the item, as anyone in the channel.
    listed = await command(h, "/actions", "", user="UERIN", user_team="T3")
    assert "Arrange foster carer training" in listed.visible and FROM_ELSEWHERE not in listed.visible
    card = await command(h, "/position", "act-1", user="UERIN", user_team="T3")
    assert "Arrange foster carer training" in card.visible

    # Changing: one polite line, nothing changed, no form opened.
    for text in ("act-1 status in progress", "act-1 position Training booked", "act-1"):
        refused = await command(h, "/update", text, user="UERIN", user_team="T3")
        assert refused.text == FROM_ELSEWHERE, text
    # The same when Slack doesn't say the person's workspace: asked of Slack (users.info).
    refused = await command(h, "/update", "act-1 status completed", user="UERIN")
    assert refused.text == FROM_ELSEWHERE
    # A button that changes (Update on the item), pressed from the other organisation.
    refused = await press_as(h, card.button("Update"), card, user="UERIN", user_team="T3")
    assert refused.text == FROM_ELSEWHERE
    # An admin's command too.
    refused = await command(h, "/scrutiny", "setup other Another Committee", user="UERIN", user_team="T3")
    assert refused.text == FROM_ELSEWHERE
    assert h.slack.calls_to("views.open") == []
    assert await item_state(h) == ("not started", 0)
    async with h.db.session() as s:
        assert await s.scalar(select(func.count()).select_from(Committee)) == 1


async def test_a_role_holder_from_another_organisation_may_change(harness):
    h = harness
    await set_up(h)
    await command(h, "/scrutiny", "role officer <@UERIN|erin>", user="UADMIN")
    done = await command(h, "/update", "act-1 status in progress", user="UERIN", user_team="T3")
    assert FROM_ELSEWHERE not in done.text and "in progress" in (done.text + done.visible)
    assert await item_state(h) == ("in progress", 1)


async def test_people_of_the_workspace_keep_their_own_answers(harness):
    h = harness
    await set_up(h)
    refused = await command(h, "/update", "act-1 status in progress", user="UDAVE", user_team="T1")
    assert refused.text.startswith("Only the owners of act-1") and refused.text != FROM_ELSEWHERE
    done = await command(h, "/update", "act-1 status in progress", user="UCAROL", user_team="T1")
    assert "in progress" in (done.text + done.visible)


# ---------------------------------------------------------------- Enterprise Grid

async def org_install(h: Harness, enterprise: str = "E1") -> str:
    """The app installed org-wide in an Enterprise Grid org (no team of its own)."""
    token = f"xoxb-{enterprise}-org"
    await InstallationStore(h.db).async_save(SdkInstallation(
        app_id=payloads.DEFAULT_APP_ID, enterprise_id=enterprise, enterprise_name="Grid County", team_id=None,
        bot_token=token, bot_id="BORG", bot_user_id="UBOT", bot_scopes=["commands", "chat:write"],
        user_id="UINSTALLER", is_enterprise_install=True))
    h.slack.token_teams[token] = "T5"
    return token


async def test_an_org_wide_install_serves_every_workspace_of_the_org(councils):
    h, slack = councils, councils.slack
    token = await org_install(h)
    slack.add_user("UGRID", "gridadmin", real_name="Grace Grid", is_admin=True, team_id="T5")
    slack.add_channel("CGRID", "grid-scrutiny", members=["UGRID"], team_id="T5")

    reply = await command(h, "/scrutiny", "setup grid Grid Scrutiny Committee", user="UGRID", team="T5",
                          channel="CGRID", enterprise_id="E1")
    assert "sorry" not in reply.text.lower() and "install" not in reply.text.lower()
    asked = [c for c in slack.calls if c.method not in ("response_url", "ack")]
    assert asked and {c.token for c in asked} == {token}   # every call for T5 with the org's token
    async with h.db.session() as s:
        assert (await committee_by_code(s, "T5", "grid")).name == "Grid Scrutiny Committee"
        assert (await s.get(OrgWorkspace, "T5")).enterprise_id == "E1"

    # The worker knows only the row's team: it finds the org's token too.
    async with h.db.session() as s, s.begin():
        await enqueue(s, team_id="T5", key="t5:hello", channel="CGRID", now=h.clock(), payload={"text": "hello"})
    slack.clear_calls()
    assert await build_worker(h.settings, h.db, h.clock).dispatcher.run_once() == 1
    assert [(c.args["channel"], c.token) for c in slack.calls_to("chat.postMessage")] == [("CGRID", token)]

    # The org-wide install removed: its workspaces stop with it.
    async with h.db.session() as s, s.begin():
        await enqueue(s, team_id="T5", key="t5:later", channel="CGRID", now=h.clock(), payload={"text": "later"})
    await stop_workspace(h.db, "", "app_uninstalled", h.clock(), enterprise_id="E1")
    async with h.db.session() as s:
        row = await s.scalar(select(OutboxMessage).where(OutboxMessage.key == "t5:later"))
    assert row.dead_at is not None and row.last_error == "app_uninstalled"


# ---------------------------------------------------------------- on_dead when a workspace goes

async def letter_for(h: Harness, team: str, user: str) -> int:
    """A decision letter of `team` to one Slack contact, its DM queued. The recipient's id."""
    now = h.clock()
    async with h.db.session() as s, s.begin():
        await ensure_workspace(s, team, now)
        committee = Committee(team_id=team, code="cyp", name=f"{team} committee", channel_id=f"C{team}",
                              created_at=now)
        s.add(committee)
        await s.flush()
        letter = Letter(team_id=team, committee_id=committee.id, text="Dear partners", sent_by=user, sent_at=now)
        s.add(letter)
        await s.flush()
        recipient = LetterRecipient(letter_id=letter.id, kind="contact", agency="Police", user_id=user)
        s.add(recipient)
        await s.flush()
        recipient.outbox_key = f"letter:{letter.id}:{recipient.id}"
        await enqueue(s, team_id=team, key=recipient.outbox_key, channel=user, now=now,
                      payload={"text": "Dear partners"})
        return recipient.id


async def delivery_error(h: Harness, recipient_id: int) -> str | None:
    async with h.db.session() as s:
        return (await s.get(LetterRecipient, recipient_id)).delivery_error


async def test_letters_queued_for_a_workspace_that_goes_are_marked_undelivered(councils):
    h, slack = councils, councils.slack
    await install(h, "T1")
    t2 = await install(h, "T2")
    first = await letter_for(h, "T1", "UCAROL")
    second = await letter_for(h, "T2", "UT2ADMIN")
    # Uninstalled (the event): the letter's recipient is marked as the dispatcher's hook would.
    status, _ = await h.post(payloads.event_body({"type": "app_uninstalled"}, team_id="T1"), content_type=payloads.JSON)
    assert status == 200
    assert await delivery_error(h, first) == "app_uninstalled"
    assert await delivery_error(h, second) is None
    # A token Slack refuses (the dispatcher stops the workspace): the on_dead hooks run too.
    slack.revoked_tokens.add(t2)
    h.clock.now += timedelta(minutes=1)
    await build_worker(h.settings, h.db, h.clock).dispatcher.run_once()
    assert await delivery_error(h, second) == "token_revoked"
