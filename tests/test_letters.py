"""Partner agencies and the decision letter (seeds/002 recommendations 5 and 6): the chair
writes after each meeting to every member agency's senior officer, the committee gets a copy
through its officers, and the app keeps the evidence: delivered when, acknowledged when.

Everything goes through the real app over signed HTTP against the fake Slack; messages
leave through the outbox and a Dispatcher run against the same fake."""
from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta, timezone

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import func, select

from bot.core.workdays import is_working_day
from bot.delivery.dispatcher import Dispatcher
from bot.scheduled import home_builder
from bot.services import items
from bot.services.directory import Directory
from bot.services.letters import chase_unacknowledged, parse_agency_add, record_delivery
from bot.slack_ui import letters as letters_ui
from models.delivery import OutboxMessage
from models.meetings import Agency, AgencyContact, Decision, Letter, LetterRecipient, Meeting
from models.queries import committee_by_code, role_key
from models.tables import AuditEvent, Role, RoleHolder
from tests.harness import Reply, visible_text

CYP = "Children and Young People Scrutiny Committee"
DECISION_1 = "the Cabinet Member report back on foster carer training by September"
DECISION_2 = "partner agencies confirm their safeguarding leads"
JANE = "Jane Smith <mailto:jane.smith@nhs.uk|jane.smith@nhs.uk>"


# ---- helpers ------------------------------------------------------------------------------

async def ok(h, command, text, user, channel="CCYP", team="T1") -> Reply:
    return await h.command(command, text, user=user, channel=channel, team=team)


async def set_up(h, *, agencies=True) -> None:
    """#cyp bound to the committee; Alice chairs, Bob is the officer; two partner agencies."""
    await ok(h, "/scrutiny", f"setup cyp {CYP}", "UADMIN")
    await ok(h, "/scrutiny", "role chair <@UALICE|alice>", "UADMIN")
    await ok(h, "/scrutiny", "role officer <@UBOB|bob>", "UADMIN")
    await ok(h, "/scrutiny", 'role "Cabinet Member for Children" <@UCAROL|carol>', "UADMIN")
    await ok(h, "/scrutiny", 'role "Director of Children\'s Services" Dan Director <mailto:dan@essex.gov.uk|dan@essex.gov.uk>', "UADMIN")
    if agencies:
        r = await ok(h, "/scrutiny", 'agency add "Essex Police" <@UCAROL|carol>', "UALICE")
        assert "Added partner agency *Essex Police*" in r.visible
        r = await ok(h, "/scrutiny", f'agency add "NHS Mid Essex" <@UDAVE|dave> {JANE}', "UBOB")
        assert "NHS Mid Essex" in r.visible


async def hold_meeting(h, starts_at: datetime, team="T1") -> int:
    """A held meeting with two decisions and three actions arising (two owners)."""
    async with h.db.session() as s, s.begin():
        committee = await committee_by_code(s, team, "cyp")
        meeting = Meeting(team_id=team, committee_id=committee.id, starts_at=starts_at,
                          ends_at=starts_at + timedelta(hours=2), created_by="UALICE", created_at=starts_at,
                          closed_at=starts_at + timedelta(hours=2), closed_by="UALICE")
        s.add(meeting)
        await s.flush()
        s.add_all([Decision(meeting_id=meeting.id, number=1, text=DECISION_1, created_by="UALICE", created_at=starts_at),
                   Decision(meeting_id=meeting.id, number=2, text=DECISION_2, created_by="UALICE", created_at=starts_at)])
        cabinet = await s.scalar(select(Role).filter_by(team_id=team, key=role_key("Cabinet Member for Children")))
        director = await s.scalar(select(Role).filter_by(team_id=team, key=role_key("Director of Children's Services")))
        for text, role, due in [("Arrange foster carer training", cabinet, date(2026, 9, 30)),
                                ("Name a safeguarding lead in each agency", director, date(2026, 7, 31)),
                                ("Report training numbers to the committee", cabinet, None)]:
            item = await items.create_action(s, team_id=team, committee=committee, text=text, roles=[role], due=due,
                                             actor="UALICE", now=starts_at)
            item.meeting_id = meeting.id
        return meeting.id


def dispatcher(h) -> Dispatcher:
    client = AsyncWebClient(token="xoxb-test", base_url=h.slack.api_url, retry_handlers=[])
    d = Dispatcher(h.db, client, h.clock, per_channel=0.0, build_view=home_builder(Directory(client)))
    d.on_sent.append(lambda row, ch, ts: record_delivery(h.db, row, ch, ts))
    return d


async def open_letter(h, user="UALICE", count=1) -> dict:
    """/letter, and the form as the person ends up seeing it: opened, then (if it opened while
    names were being looked up) updated with the names."""
    await h.command("/letter", "", user=user, channel="CCYP", expect_reply=False)
    view = await h.opened_view(count)
    if names_pending(view):
        view = await updated_view(h, view)
    return view


def names_pending(view: dict) -> bool:
    return any(b.get("block_id") == letters_ui.NAMES_PENDING_BLOCK for b in view["blocks"])


async def updated_view(h, view: dict, timeout: float = 5.0) -> dict:
    """The view as the app's views.update of it left it."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        for call in h.slack.calls_to("views.update"):
            if call.args.get("view_id") == view["id"] and call.response.get("ok"):
                return call.response["view"]
        await asyncio.sleep(0.01)
    raise AssertionError(f"no views.update of {view['id']}:\n{h.slack.describe_calls()}")


def letter_text(view: dict) -> str:
    [block] = [b for b in view["blocks"]
               if b.get("block_id") in (letters_ui.LETTER_BLOCK, letters_ui.LETTER_DRAFT_BLOCK)]
    return block["element"]["initial_value"]


def view_text(view: dict) -> str:
    return "\n".join(b["text"]["text"] for b in view["blocks"] if b.get("type") == "section" and "text" in b)


async def send(h, user="UALICE") -> dict:
    """Open the form, preview, send. Returns the view shown after sending."""
    view = await open_letter(h, user)
    status, body = await h.submit(view, {}, user=user)
    assert status == 200 and body["response_action"] == "update", body
    status, body = await h.submit(body["view"], {}, user=user)
    assert status == 200 and body["response_action"] == "update", body
    return body["view"]


async def recipients(h) -> list[LetterRecipient]:
    async with h.db.session() as s:
        return list(await s.scalars(select(LetterRecipient).order_by(LetterRecipient.id)))


async def count(h, model) -> int:
    async with h.db.session() as s:
        return await s.scalar(select(func.count()).select_from(model))


def posts(h, channel: str) -> list[Reply]:
    return [Reply(c) for c in h.slack.calls_to("chat.postMessage")
            if not c.failed and c.args.get("channel") == channel]


# ---- agencies ------------------------------------------------------------------------------

def test_contacts_are_read_as_mentions_and_addresses():
    name, contacts = parse_agency_add(f'"Essex Police" <@UBOB|bob> {JANE}, john@essex.police.uk')
    assert name == "Essex Police"
    assert [(c.user_id, c.name, c.email) for c in contacts] == [
        ("UBOB", None, None), (None, "Jane Smith", "jane.smith@nhs.uk"), (None, None, "john@essex.police.uk")]
    assert parse_agency_add("Essex Fire and Rescue <@UBOB>")[0] == "Essex Fire and Rescue"


async def test_agency_add_and_list(harness):
    h = harness
    await set_up(h)
    r = await ok(h, "/scrutiny", "agencies", "UDAVE")
    assert r.ephemeral
    assert "*Essex Police*: <@UCAROL>" in r.visible
    assert "*NHS Mid Essex*: <@UDAVE>, Jane Smith &lt;jane.smith@nhs.uk&gt; (send by email)" in r.visible
    # Adding the same contact again changes nothing; a new one is added to the same agency.
    r = await ok(h, "/scrutiny", 'agency add "essex police" <@UCAROL|carol>', "UBOB")
    assert "Nothing changed" in r.visible
    r = await ok(h, "/scrutiny", 'agency add "Essex Police" Sam Jones sam@essex.police.uk', "UADMIN")
    assert "Added 1 contact to *Essex Police*" in r.visible
    async with h.db.session() as s:
        agencies = list(await s.scalars(select(Agency).order_by(Agency.name)))
        assert [(a.name, [(c.user_id, c.name, c.email) for c in a.contacts]) for a in agencies] == [
            ("Essex Police", [("UCAROL", None, None), (None, "Sam Jones", "sam@essex.police.uk")]),
            ("NHS Mid Essex", [("UDAVE", None, None), (None, "Jane Smith", "jane.smith@nhs.uk")])]
        assert await s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.entity == "agency")) == 5
    help_reply = await ok(h, "/scrutiny", "help", "UDAVE")
    assert "/scrutiny agency add" in help_reply.visible


async def test_agency_add_refused_for_members_and_explained_when_wrong(harness):
    h = harness
    await set_up(h, agencies=False)
    r = await ok(h, "/scrutiny", 'agency add "Essex Police" <@UCAROL|carol>', "UDAVE")
    assert r.ephemeral and "Only the chair and officers" in r.text
    r = await ok(h, "/scrutiny", 'agency add "Essex Police" Jane Smith', "UALICE")
    assert "I need an email address for “Jane Smith”" in r.text
    r = await ok(h, "/scrutiny", 'agency add "Essex Police" <@UCAROL|carol>', "UALICE", channel="CSSC")
    assert "isn't bound to a committee" in r.text
    assert await count(h, Agency) == 0 and await count(h, AgencyContact) == 0


# ---- the letter ----------------------------------------------------------------------------

async def test_non_chair_is_refused(harness):
    h = harness
    await set_up(h)
    await hold_meeting(h, h.clock.now - timedelta(days=3))
    r = await ok(h, "/letter", "", "UDAVE")
    assert r.ephemeral and "Only the chair or an officer" in r.text
    assert h.slack.calls_to("views.open") == []


async def test_letter_with_no_meeting_yet_says_so(harness):
    h = harness
    await set_up(h)
    r = await ok(h, "/letter", "", "UALICE")
    assert "no meeting yet" in r.text
    r = await ok(h, "/letter", "help", "UDAVE")
    assert "/letter status" in r.visible
    r = await ok(h, "/letter", "status", "UDAVE")
    assert "No decision letter has been sent" in r.text


async def test_prefilled_letter_preview_send_deliver_acknowledge_status(harness):
    h = harness
    await set_up(h)
    meeting_start = datetime(2026, 5, 28, 9, 0, tzinfo=timezone.utc)  # 10:00 in London
    meeting_id = await hold_meeting(h, meeting_start)

    view = await open_letter(h)
    text = letter_text(view)
    assert f"The {CYP} met on 28 May 2026" in text
    assert f"Resolved – That\n(1) {DECISION_1}\n(2) {DECISION_2}" in text
    # Actions grouped by owner, each with its due date, in the order they arose.
    assert ("Cabinet Member for Children (Carol Cabinet):\n"
            "• act-1: Arrange foster carer training — by 30 September 2026\n"
            "• act-3: Report training numbers to the committee — no due date yet\n"
            "Director of Children's Services (Dan Director):\n"
            "• act-2: Name a safeguarding lead in each agency — by 31 July 2026") in text
    assert "Alice Chair\nChair, " + CYP in text
    assert view["submit"]["text"] == "Preview"

    # Preview: the letter as it will look, and who gets it.
    edited = text.replace("Dear colleagues,", "Dear partners,")
    status, body = await h.submit(view, {("letter", "value"): edited}, user="UALICE")
    assert status == 200 and body["response_action"] == "update"
    preview = body["view"]
    assert preview["submit"]["text"] == "Send"
    shown = view_text(preview)
    assert "Dear partners," in shown and "Resolved – That" in shown
    assert "*Recipients (5)*" in shown
    assert "• <#CCYP> — posted in the committee channel" in shown
    assert "• Essex Police: <@UCAROL> — DM with “Acknowledge receipt”" in shown
    assert "• NHS Mid Essex: <@UDAVE> — DM with “Acknowledge receipt”" in shown
    assert "• NHS Mid Essex: Jane Smith &lt;jane.smith@nhs.uk&gt; — *send by email*" in shown
    assert "• Committee officer: <@UBOB> — copy by DM" in shown
    assert await count(h, Letter) == 0 and await count(h, OutboxMessage) == 0

    # Changing the text on the preview and pressing Send shows a fresh preview, not a send.
    final = edited + "\nP.S. Minutes to follow."
    status, body = await h.submit(preview, {("letter", "value"): final}, user="UALICE")
    assert body["response_action"] == "update" and "You changed the letter" in view_text(body["view"])
    assert await count(h, Letter) == 0
    status, body = await h.submit(body["view"], {}, user="UALICE")
    assert status == 200 and body["response_action"] == "update"
    assert "on its way" in view_text(body["view"]) and "jane.smith@nhs.uk" in view_text(body["view"])

    async with h.db.session() as s:
        [letter] = list(await s.scalars(select(Letter)))
        assert (letter.text, letter.meeting_id, letter.sent_by, letter.sent_at) == (final, meeting_id, "UALICE", h.clock.now)
        outbox = {r.key: r for r in await s.scalars(select(OutboxMessage))}
    rows = await recipients(h)
    assert [(r.kind, r.agency, r.user_id, r.email) for r in rows] == [
        ("channel", None, None, None), ("contact", "Essex Police", "UCAROL", None),
        ("contact", "NHS Mid Essex", "UDAVE", None), ("contact", "NHS Mid Essex", None, "jane.smith@nhs.uk"),
        ("officer", None, "UBOB", None)]
    email_row = rows[3]
    assert email_row.outbox_key is None
    assert set(outbox) == {f"letter:{letter.id}:channel", f"letter:{letter.id}:{rows[1].id}",
                           f"letter:{letter.id}:{rows[2].id}", f"letter:{letter.id}:{rows[4].id}"}
    assert outbox[f"letter:{letter.id}:channel"].channel == "CCYP"
    assert outbox[f"letter:{letter.id}:{rows[1].id}"].channel == "UCAROL"
    assert h.slack.calls_to("chat.postMessage") == []  # queued, not sent, until the dispatcher runs

    # Deliver: one channel post, one DM per Slack contact (with the button), one per officer.
    h.clock.now += timedelta(minutes=1)
    d = dispatcher(h)
    assert await d.run_once() == 4
    assert await d.run_once() == 0
    assert len(h.slack.calls_to("chat.postMessage")) == 4
    [channel_post] = posts(h, "CCYP")
    assert "Dear partners," in channel_post.visible and "P.S. Minutes to follow." in channel_post.visible
    assert channel_post.buttons() == []
    [carol] = posts(h, "UCAROL")
    [dave] = posts(h, "UDAVE")
    [bob] = posts(h, "UBOB")
    for dm in (carol, dave):
        assert "Dear partners," in dm.visible
        assert dm.button("Acknowledge receipt")
    assert "Your copy" in bob.text and bob.buttons() == []
    assert "Essex Police" in carol.visible
    rows = await recipients(h)
    assert [r.delivered_at for r in rows] == [h.clock.now] * 3 + [None] + [h.clock.now]

    # Acknowledge: set once, audited; the DM is replaced with a thank-you.
    sent_at = h.clock.now
    h.clock.now += timedelta(hours=2)
    acked_at = h.clock.now
    key = await h.press(carol.button("Acknowledge receipt"), user="UCAROL", channel="DUCAROL", message=carol)
    answer = await h.reply(key)
    assert answer.call.args.get("replace_original") is True
    assert "Thank you — you acknowledged receipt" in answer.visible
    assert answer.buttons() == [] and "Dear partners," in answer.visible
    # Pressed again later (a second device): nothing changes, and it says so politely.
    h.clock.now += timedelta(hours=1)
    key = await h.press(carol.button("Acknowledge receipt"), user="UCAROL", channel="DUCAROL", message=carol)
    again = await h.reply(key)
    assert "already acknowledged" in again.visible
    # Someone else pressing Carol's button can't acknowledge for her.
    key = await h.press(carol.button("Acknowledge receipt"), user="UDAVE", channel="DUDAVE", message=carol)
    refused = await h.reply(key)
    assert "Only the person this letter was sent to" in refused.text
    rows = await recipients(h)
    assert rows[1].acknowledged_at == acked_at and rows[2].acknowledged_at is None
    async with h.db.session() as s:
        acks = list(await s.scalars(select(AuditEvent).where(AuditEvent.entity == "letter",
                                                             AuditEvent.action == "acknowledge")))
        assert len(acks) == 1 and acks[0].actor == "UCAROL" and acks[0].after["recipient_id"] == rows[1].id

    # /letter status, for anyone who can see the committee.
    r = await ok(h, "/letter", "status", "UDAVE")
    assert r.ephemeral
    assert "1 of 2 contacts in Slack acknowledged · 1 to send by email" in r.visible
    local = lambda t: t.astimezone(h.settings.tz).strftime("%-d %b %Y %H:%M")  # noqa: E731
    assert f"• Essex Police · <@UCAROL> · delivered {local(sent_at)} · acknowledged {local(acked_at)}" in r.visible
    assert f"• NHS Mid Essex · <@UDAVE> · delivered {local(sent_at)} · _not acknowledged yet_" in r.visible
    assert "• NHS Mid Essex · Jane Smith &lt;jane.smith@nhs.uk&gt; · *send by email*" in r.visible
    assert f"• Committee officer · <@UBOB> · delivered {local(sent_at)}" in r.visible
    assert f"• Channel <#CCYP> · delivered {local(sent_at)}" in r.visible


async def test_send_pressed_twice_sends_once(harness):
    h = harness
    await set_up(h)
    await hold_meeting(h, h.clock.now - timedelta(days=2))
    view = await open_letter(h)
    _, body = await h.submit(view, {}, user="UALICE")
    preview = body["view"]
    await h.submit(preview, {}, user="UALICE")
    await h.submit(preview, {}, user="UALICE")
    assert await count(h, Letter) == 1
    assert await count(h, OutboxMessage) == 4


async def test_officer_losing_rights_between_preview_and_send_sends_nothing(harness):
    h = harness
    await set_up(h)
    await hold_meeting(h, h.clock.now - timedelta(days=2))
    view = await open_letter(h, user="UBOB")
    _, body = await h.submit(view, {}, user="UBOB")
    await ok(h, "/scrutiny", "role officer <@UCAROL|carol>", "UADMIN")
    status, body = await h.submit(body["view"], {}, user="UBOB")
    assert body["response_action"] == "errors" and "Only the chair or an officer" in body["errors"]["letter"]
    assert await count(h, Letter) == 0 and await count(h, OutboxMessage) == 0


# ---- the form opens at once; names follow ------------------------------------------------------
# Slack's trigger_id for views.open lasts 3 s, and each name the letter needs is a users.info
# round trip. The form opens first, with the names the directory has cached (others as their
# mentions); the names are then looked up together and the form updated in place.

TEN = [(f"UP{n:02d}", f"Person Number {n}") for n in range(1, 11)]


async def hold_meeting_with_ten_owners(h, starts_at: datetime) -> None:
    """A held meeting with ten actions, each owned by a role held by a different person, none of
    whom the app has looked up yet."""
    for user_id, name in TEN:
        h.slack.add_user(user_id, user_id.lower(), real_name=name, team_id="T1")
    async with h.db.session() as s, s.begin():
        committee = await committee_by_code(s, "T1", "cyp")
        meeting = Meeting(team_id="T1", committee_id=committee.id, starts_at=starts_at,
                          ends_at=starts_at + timedelta(hours=2), created_by="UALICE", created_at=starts_at)
        s.add(meeting)
        await s.flush()
        for n, (user_id, _) in enumerate(TEN, 1):
            role = Role(team_id="T1", name=f"Lead for area {n}", key=role_key(f"Lead for area {n}"),
                        kind="role", created_at=starts_at, holders=[RoleHolder(user_id=user_id, started_at=starts_at)])
            s.add(role)
            await s.flush()
            item = await items.create_action(s, team_id="T1", committee=committee, text=f"Report on area {n}",
                                             roles=[role], due=None, actor="UALICE", now=starts_at)
            item.meeting_id = meeting.id
    assert all(h.deps.directory.display_name_cached(u) is None for u, _ in TEN)


def slack_calls(h, since: int, *methods: str) -> list[str]:
    return [c.method for c in h.slack.calls[since:] if c.method in methods]


async def test_form_opens_before_any_name_is_looked_up_then_names_fill_in(harness):
    h = harness
    await set_up(h)
    await hold_meeting_with_ten_owners(h, h.clock.now - timedelta(days=1))
    h.slack.method_latency["users.info"] = 0.5     # each look-up a slow round trip
    since = len(h.slack.calls)

    await h.command("/letter", "", user="UALICE", channel="CCYP", expect_reply=False)
    # Answered (the quick listener has returned): the form is open and no name has come back.
    assert slack_calls(h, since, "views.open", "users.info", "views.update") == ["views.open"]
    [opened] = h.slack.calls_to("views.open")
    view = opened.response["view"]
    assert names_pending(view) and "Looking up names" in view_text_all(view)
    draft = letter_text(view)
    for n, (user_id, name) in enumerate(TEN, 1):
        assert f"Lead for area {n} (<@{user_id}>):\n• act-{n}: Report on area {n} — no due date yet" in draft
        assert name not in draft
    assert f"Yours sincerely,\n<@UALICE>\nChair, {CYP}" in draft

    # Then everyone is looked up together, and the same form is updated with the names.
    final = await updated_view(h, view)
    lookups = [c for c in h.slack.calls[since:] if c.method == "users.info"]
    asked = [c.args["user"] for c in lookups]
    assert sorted(asked) == sorted(set(asked)) and set(asked) >= {u for u, _ in TEN}   # each person once
    assert slack_calls(h, since, "views.open", "users.info", "views.update") == (
        ["views.open"] + ["users.info"] * len(lookups) + ["views.update"])
    # Together, not one after another (in turn, each would come 0.5 s after the last).
    assert lookups[-1].at - lookups[0].at < 0.5
    [update] = h.slack.calls_to("views.update")
    assert update.args["view_id"] == view["id"] and update.args["hash"] == view["hash"]
    assert not names_pending(final)
    text = letter_text(final)
    for n, (_, name) in enumerate(TEN, 1):
        assert f"Lead for area {n} ({name}):\n• act-{n}: Report on area {n}" in text
    assert "<@" not in text and f"Yours sincerely,\nAlice Chair\nChair, {CYP}" in text

    # The named form previews and sends as ever.
    _, body = await h.submit(final, {}, user="UALICE")
    assert body["response_action"] == "update" and "Person Number 10" in view_text(body["view"])
    _, body = await h.submit(body["view"], {}, user="UALICE")
    assert "on its way" in view_text(body["view"])
    async with h.db.session() as s:
        [letter] = list(await s.scalars(select(Letter)))
    assert letter.text == text


async def test_names_arriving_after_the_form_moved_on_leave_it_alone(harness):
    h = harness
    await set_up(h)
    await hold_meeting_with_ten_owners(h, h.clock.now - timedelta(days=1))
    h.slack.method_latency["users.info"] = 0.5

    await h.command("/letter", "", user="UALICE", channel="CCYP", expect_reply=False)
    view = await h.opened_view()
    assert names_pending(view)
    # Preview pressed at once, on the draft: Slack shows the preview in place of the form,
    # which changes the view's hash (done here as Slack would, with its own token).
    _, body = await h.submit(view, {}, user="UALICE")
    assert body["response_action"] == "update"
    preview = body["view"]
    assert "<@UP01>" in view_text(preview) and preview["submit"]["text"] == "Send"
    slack_itself = AsyncWebClient(token="xoxb-slack-itself", base_url=h.slack.api_url)
    await slack_itself.views_update(view_id=view["id"], view=preview)

    # The names come back, and the app's update is refused (hash_conflict): the preview stays.
    deadline = asyncio.get_running_loop().time() + 5
    while not [c for c in h.slack.calls_to("views.update") if c.token == "xoxb-test"]:
        assert asyncio.get_running_loop().time() < deadline, h.slack.describe_calls()
        await asyncio.sleep(0.01)
    [late] = [c for c in h.slack.calls_to("views.update") if c.token == "xoxb-test"]
    assert late.args["hash"] == view["hash"] and late.response == {"ok": False, "error": "hash_conflict"}
    shown = h.slack.views[view["id"]]
    assert shown["submit"]["text"] == "Send" and "<@UP01>" in view_text(shown)

    # Sending the previewed draft sends it with the mentions, which Slack shows as names.
    _, body = await h.submit(preview, {}, user="UALICE")
    assert "on its way" in view_text(body["view"])
    async with h.db.session() as s:
        [letter] = list(await s.scalars(select(Letter)))
    assert "Lead for area 1 (<@UP01>):" in letter.text


async def test_form_opens_complete_when_every_name_is_known(harness):
    h = harness
    await set_up(h)
    await hold_meeting(h, h.clock.now - timedelta(days=2))
    first = await open_letter(h)                     # looks Alice and Carol up
    looked_up = len(h.slack.calls_to("users.info"))
    assert looked_up and len(h.slack.calls_to("views.update")) == 1

    await h.command("/letter", "", user="UALICE", channel="CCYP", expect_reply=False)
    second = await h.opened_view(2)
    assert not names_pending(second)
    assert letter_text(second) == letter_text(first)
    assert "Cabinet Member for Children (Carol Cabinet):" in letter_text(second)
    await h.settle()
    assert len(h.slack.calls_to("users.info")) == looked_up and len(h.slack.calls_to("views.update")) == 1


async def test_the_draft_form_refuses_an_empty_letter_on_its_own_block(harness):
    h = harness
    await set_up(h)
    await hold_meeting_with_ten_owners(h, h.clock.now - timedelta(days=1))
    h.slack.method_latency["users.info"] = 0.5
    await h.command("/letter", "", user="UALICE", channel="CCYP", expect_reply=False)
    view = await h.opened_view()
    _, body = await h.submit(view, {(letters_ui.LETTER_DRAFT_BLOCK, "value"): "  "}, user="UALICE")
    assert body == {"response_action": "errors",
                    "errors": {letters_ui.LETTER_DRAFT_BLOCK: "The letter is empty: write something to send."}}


async def test_directory_looks_names_up_together_and_caches_them():
    class SlowSlack:
        def __init__(self):
            self.asked, self.in_flight, self.most = [], 0, 0

        async def users_info(self, user):
            self.asked.append(user)
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
            await asyncio.sleep(0.01)
            self.in_flight -= 1
            if user == "UGONE":
                raise SlackApiError("user_not_found", {"ok": False, "error": "user_not_found"})
            return {"ok": True, "user": {"id": user, "real_name": f"Name of {user}"}}

    slack = SlowSlack()
    directory = Directory(slack)
    assert directory.display_name_cached("U1") is None
    names = await directory.display_names(["U1", "U2", "U1", "U3", "UGONE", ""])
    assert names == {"U1": "Name of U1", "U2": "Name of U2", "U3": "Name of U3", "UGONE": "UGONE"}
    assert sorted(slack.asked) == ["U1", "U2", "U3", "UGONE"] and slack.most == 4
    assert directory.display_name_cached("U2") == "Name of U2"
    assert directory.display_name_cached("UGONE") == "UGONE"   # as display_name answers it
    assert directory.display_name_cached("U9") is None
    assert await directory.display_names(["U3", "U1"]) == {"U3": "Name of U3", "U1": "Name of U1"}
    assert len(slack.asked) == 4


def view_text_all(view: dict) -> str:
    return visible_text(view["blocks"])


# ---- chasing the chair after three working days ------------------------------------------

async def chase(h, when: datetime) -> int:
    async with h.db.session() as s, s.begin():
        return await chase_unacknowledged(s, when, h.settings, render=letters_ui)


async def test_chase_after_three_working_days_across_christmas_and_never_twice(harness):
    h = harness
    assert not is_working_day(date(2026, 12, 25)) and not is_working_day(date(2026, 12, 28))  # substitute day
    await set_up(h)
    h.clock.now = datetime(2026, 12, 24, 10, 0, tzinfo=timezone.utc)  # Thursday, Christmas Eve
    await hold_meeting(h, datetime(2026, 12, 22, 10, 0, tzinfo=timezone.utc))
    await send(h)
    d = dispatcher(h)
    assert await d.run_once() == 4
    [carol] = posts(h, "UCAROL")
    key = await h.press(carol.button("Acknowledge receipt"), user="UCAROL", channel="DUCAROL", message=carol)
    assert "Thank you" in (await h.reply(key)).text
    assert (await recipients(h))[1].acknowledged_at is not None

    # Fri 25 (Christmas), the weekend, Mon 28 (Boxing Day substitute) don't count;
    # Tue 29, Wed 30, Thu 31 do: the chase is due at 09:00 on Thursday 31 December.
    for when in [datetime(2026, 12, 28, 12, 0, tzinfo=timezone.utc), datetime(2026, 12, 29, 12, 0, tzinfo=timezone.utc),
                 datetime(2026, 12, 30, 17, 0, tzinfo=timezone.utc), datetime(2026, 12, 31, 8, 59, tzinfo=timezone.utc)]:
        assert await chase(h, when) == 0, when
    due = datetime(2026, 12, 31, 9, 0, tzinfo=timezone.utc)
    assert await chase(h, due) == 1
    assert await chase(h, due + timedelta(minutes=5)) == 0
    assert await chase(h, due + timedelta(days=7)) == 0
    async with h.db.session() as s:
        [letter] = list(await s.scalars(select(Letter)))
        assert letter.chased_at == due
        [row] = list(await s.scalars(select(OutboxMessage).where(OutboxMessage.key == f"letter:{letter.id}:chase")))
        assert row.channel == "UALICE" and row.team_id == "T1"
    h.clock.now = due
    assert await d.run_once() == 2   # the chase, and Carol's Home refresh queued by her acknowledgement
    [dm] = posts(h, "UALICE")
    assert "1 partner contact has not acknowledged" in dm.text
    assert "NHS Mid Essex: <@UDAVE>" in dm.visible and "UCAROL" not in dm.visible
    assert "Jane Smith &lt;jane.smith@nhs.uk&gt;" in dm.visible


async def test_no_chase_on_a_weekend_or_when_everyone_acknowledged(harness):
    h = harness
    await set_up(h)
    async with h.db.session() as s, s.begin():  # only Carol: Dave and Jane no longer contacts
        for c in await s.scalars(select(AgencyContact)):
            c.active = c.user_id == "UCAROL"
    h.clock.now = datetime(2026, 6, 4, 10, 0, tzinfo=timezone.utc)  # Thursday
    await hold_meeting(h, datetime(2026, 6, 3, 10, 0, tzinfo=timezone.utc))
    await send(h)
    await dispatcher(h).run_once()
    saturday = datetime(2026, 6, 13, 10, 0, tzinfo=timezone.utc)
    assert await chase(h, saturday) == 0
    [carol] = posts(h, "UCAROL")
    key = await h.press(carol.button("Acknowledge receipt"), user="UCAROL", channel="DUCAROL", message=carol)
    assert "Thank you" in (await h.reply(key)).text
    monday = datetime(2026, 6, 15, 10, 0, tzinfo=timezone.utc)
    assert await chase(h, monday) == 0
    async with h.db.session() as s:
        [letter] = list(await s.scalars(select(Letter)))
        assert letter.chased_at == monday  # checked once, nothing to say
        assert not (await s.scalars(select(OutboxMessage).where(OutboxMessage.key.like("%chase%")))).all()


# ---- workspaces ---------------------------------------------------------------------------

async def test_nothing_crosses_workspaces(harness):
    h = harness
    await set_up(h)
    await hold_meeting(h, h.clock.now - timedelta(days=2))
    await send(h)
    await dispatcher(h).run_once()
    [carol] = posts(h, "UCAROL")
    # Another council with its own cyp committee, chaired by its admin.
    await ok(h, "/scrutiny", "setup cyp Another Council's Committee", "UT2ADMIN", channel="CT2", team="T2")
    await ok(h, "/scrutiny", "role chair <@UT2ADMIN|t2admin>", "UT2ADMIN", channel="CT2", team="T2")
    r = await ok(h, "/scrutiny", "agencies", "UT2ADMIN", channel="CT2", team="T2")
    assert "No partner agencies" in r.text and "UCAROL" not in r.visible
    r = await ok(h, "/letter", "status", "UT2ADMIN", channel="CT2", team="T2")
    assert "No decision letter has been sent" in r.text
    r = await ok(h, "/letter", "", "UT2ADMIN", channel="CT2", team="T2")
    assert "no meeting yet" in r.text
    # T1's committee channel, asked about from T2: not bound there.
    r = await ok(h, "/letter", "status", "UT2ADMIN", channel="CCYP", team="T2")
    assert "isn't bound to a committee" in r.text
    # A T1 button pressed as if from T2 acknowledges nothing.
    key = await h.press(carol.button("Acknowledge receipt"), user="UCAROL", channel="DUCAROL", team="T2", message=carol)
    assert "no longer exists" in (await h.reply(key)).text
    assert all(r.acknowledged_at is None for r in await recipients(h))
    async with h.db.session() as s:
        assert {row.team_id for row in await s.scalars(select(OutboxMessage))} == {"T1"}
