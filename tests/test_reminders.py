"""Reminders and the App Home.

queue_reminders is a plain function of `now`: these tests move the clock across weekends,
bank holidays and snoozes (no sleeping), run it, and read the outbox; where Slack is
involved the real app runs behind signed HTTP against the fake Slack, and a Dispatcher
delivers what was queued."""
from __future__ import annotations

import asyncio
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import func, select

from bot.delivery import enqueue
from bot.delivery.dispatcher import Dispatcher
from bot.offline import slack_payloads as payloads
from bot.scheduled import home_builder
from bot.services import home, items
from bot.services.directory import Directory
from bot.services.reminders import (
    before_day,
    exec_response_deadline,
    first_overdue_day,
    first_working_day_of_week,
    overdue_week,
    queue_reminders,
)
from bot.slack_ui import reminders as reminders_ui
from models.delivery import OutboxMessage
from models.meetings import Letter, LetterRecipient, Meeting
from models.queries import committee_by_code, role_key
from models.tables import AuditEvent, Item, ItemOwner, Review, Role
from tests.harness import Reply

LONDON = ZoneInfo("Europe/London")
CYP = "Children and Young People Scrutiny Committee"
CABINET = "Cabinet Member for Children"


def at(d: date, hh: int = 9, mm: int = 0) -> datetime:
    """That local (London) time, as an aware datetime."""
    return datetime.combine(d, time(hh, mm), tzinfo=LONDON)


# ---- helpers ------------------------------------------------------------------------------

async def set_up(h) -> None:
    """#cyp bound to the committee; Alice chairs, Bob is the officer, Carol the Cabinet Member."""
    for text in (f"setup cyp {CYP}", "role chair <@UALICE|alice>", "role officer <@UBOB|bob>",
                 f'role "{CABINET}" <@UCAROL|carol>'):
        await h.command("/scrutiny", text, user="UADMIN", channel="CCYP")


async def action(h, text: str, due: date | None, owner: str = CABINET, code: str = "cyp", status="not started") -> int:
    async with h.db.session() as s, s.begin():
        committee = await committee_by_code(s, "T1", code)
        role = (await s.scalars(select(Role).where(Role.team_id == "T1", Role.key == owner))).one() \
            if owner.startswith("officer:") else await s.scalar(select(Role).filter_by(team_id="T1", key=role_key(owner)))
        item = await items.create_action(s, team_id="T1", committee=committee, text=text, roles=[role], due=due,
                                         actor="UADMIN", now=h.clock.now, status=status)
        return item.id


async def run(h, now: datetime) -> int:
    async with h.db.session() as s, s.begin():
        return await queue_reminders(s, now.astimezone(timezone.utc), h.settings, render=reminders_ui)


async def reminded(h, now: datetime, prefix: str = "remind:") -> list[str]:
    """Run at `now`; the keys newly queued that start with prefix."""
    before = set(await keys(h, prefix))
    await run(h, now)
    return [k for k in await keys(h, prefix) if k not in before]


async def keys(h, prefix: str = "") -> list[str]:
    async with h.db.session() as s:
        return list(await s.scalars(select(OutboxMessage.key).where(OutboxMessage.key.startswith(prefix))
                                    .order_by(OutboxMessage.id)))


async def outbox(h, key: str) -> OutboxMessage:
    async with h.db.session() as s:
        return (await s.scalars(select(OutboxMessage).where(OutboxMessage.key == key))).one()


def dispatcher(h) -> Dispatcher:
    client = AsyncWebClient(token="xoxb-test", base_url=h.slack.api_url, retry_handlers=[])
    return Dispatcher(h.db, client, h.clock, per_channel=0.0, build_view=home_builder(Directory(client)))


def dms(h, user: str) -> list[Reply]:
    return [Reply(c) for c in h.slack.calls_to("chat.postMessage") if not c.failed and c.args.get("channel") == user]


def payload_text(row: OutboxMessage) -> str:
    return Reply(type("C", (), {"args": row.payload})()).visible  # the blocks' text, as a person sees it


# ---- the calendar, as plain functions ----------------------------------------------------------

def test_the_calendar_of_reminders():
    # Due Saturday 6 June 2026: overdue from Monday 8 June.
    assert first_overdue_day(date(2026, 6, 6)) == date(2026, 6, 8)
    # Due Thursday before Easter: Good Friday and Easter Monday are bank holidays.
    assert first_overdue_day(date(2026, 4, 2)) == date(2026, 4, 7)
    # Christmas 2026: 25 Dec (Fri), 28 Dec (Boxing Day substitute).
    assert first_overdue_day(date(2026, 12, 24)) == date(2026, 12, 29)
    # Seven days before 6 June is a Saturday: the reminder goes on Monday 1 June.
    assert before_day(date(2026, 6, 6), 7) == date(2026, 6, 1)
    assert before_day(date(2027, 1, 4), 7) == date(2026, 12, 29)
    assert overdue_week(date(2026, 6, 3), date(2026, 6, 3)) is None
    assert [overdue_week(date(2026, 6, 3), date(2026, 6, d)) for d in (4, 10, 11, 18)] == [0, 0, 1, 2]
    # The week's first working day: Tuesday after the spring bank holiday.
    assert first_working_day_of_week(date(2026, 5, 27)) == date(2026, 5, 26)
    assert first_working_day_of_week(date(2026, 6, 3)) == date(2026, 6, 1)
    assert exec_response_deadline(date(2026, 4, 1)) == date(2026, 6, 1)
    assert exec_response_deadline(date(2025, 12, 31)) == date(2026, 2, 28)


# ---- owners' reminders ----------------------------------------------------------------------------

async def test_due_saturday_reminds_on_monday_at_nine_not_at_the_weekend(harness):
    h = harness
    await set_up(h)
    item_id = await action(h, "Arrange foster carer training", date(2026, 6, 6))
    # Seven days before is Saturday 30 May: nothing that weekend, nor on Friday.
    for d in (29, 30, 31):
        assert await reminded(h, at(date(2026, 5, d), 10)) == [], d
    # Monday 1 June: not before 09:00 London time (08:00 UTC in June)…
    assert await run(h, at(date(2026, 6, 1), 8, 59)) == 0
    assert await run(h, datetime(2026, 6, 1, 7, 59, tzinfo=timezone.utc)) == 0
    # …then the "falls due" reminder, once.
    assert await reminded(h, datetime(2026, 6, 1, 8, 0, tzinfo=timezone.utc)) == [
        f"remind:before:{item_id}:2026-06-06:UCAROL"]
    row = await outbox(h, f"remind:before:{item_id}:2026-06-06:UCAROL")
    assert row.channel == "UCAROL" and row.method == "chat.postMessage"
    assert "cyp/act-1 is due in 5 days" in row.payload["text"]
    # Due Saturday; overdue on Sunday, but nobody is reminded on a Sunday…
    assert await run(h, at(date(2026, 6, 7), 10)) == 0
    assert await run(h, at(date(2026, 6, 8), 8, 30)) == 0
    # …it's Monday at 09:00.
    assert await reminded(h, at(date(2026, 6, 8), 9, 0)) == [f"remind:overdue:{item_id}:2026-06-06:UCAROL:0"]
    assert await run(h, at(date(2026, 6, 8), 15)) == 0
    assert await run(h, at(date(2026, 6, 9), 9)) == 0


async def test_bank_holidays_put_reminders_on_the_next_working_day(harness):
    h = harness
    await set_up(h)
    easter = await action(h, "Report on the Easter holiday scheme", date(2026, 4, 2))
    h.clock.now = at(date(2026, 4, 2), 17)
    # Good Friday, the weekend and Easter Monday: nothing.
    for d in (3, 4, 5, 6):
        assert await run(h, at(date(2026, 4, d), 12)) == 0, d
    assert await reminded(h, at(date(2026, 4, 7), 9)) == [f"remind:overdue:{easter}:2026-04-02:UCAROL:0"]
    # The weekly nudge a week later, not daily.
    for d in (8, 9, 10, 13):
        assert await reminded(h, at(date(2026, 4, d), 9)) == [], d
    assert await reminded(h, at(date(2026, 4, 14), 9)) == [f"remind:overdue:{easter}:2026-04-02:UCAROL:1"]

    # Christmas 2026: due Christmas Eve; 25 and 28 December are bank holidays.
    xmas = await action(h, "Christmas placements check", date(2026, 12, 24))
    new_year = await action(h, "New year report", date(2027, 1, 4))
    for d in (25, 26, 27, 28):
        assert await run(h, at(date(2026, 12, d), 10)) == 0, d
    assert set(await reminded(h, at(date(2026, 12, 29), 9))) == {
        f"remind:overdue:{xmas}:2026-12-24:UCAROL:0", f"remind:overdue:{easter}:2026-04-02:UCAROL:38",
        f"remind:before:{new_year}:2027-01-04:UCAROL"}


async def test_weekly_nudge_stops_once_implemented(harness):
    h = harness
    await set_up(h)
    item_id = await action(h, "Name a safeguarding lead", date(2026, 6, 3))
    assert await reminded(h, at(date(2026, 5, 27), 9)) == [f"remind:before:{item_id}:2026-06-03:UCAROL"]
    assert await reminded(h, at(date(2026, 6, 3), 12)) == []  # due today: not overdue yet
    assert await reminded(h, at(date(2026, 6, 4), 9)) == [f"remind:overdue:{item_id}:2026-06-03:UCAROL:0"]
    assert await reminded(h, at(date(2026, 6, 5), 9)) == []
    assert await reminded(h, at(date(2026, 6, 8), 9)) == []
    assert await reminded(h, at(date(2026, 6, 10), 9)) == []
    assert await reminded(h, at(date(2026, 6, 11), 9)) == [f"remind:overdue:{item_id}:2026-06-03:UCAROL:1"]
    # Carol reports it done: no more nudges.
    h.clock.now = at(date(2026, 6, 12), 10)
    r = await h.command("/update", "act-1 status implemented", user="UCAROL", channel="CCYP")
    assert "Updated" in r.text
    for d in (15, 18, 25):
        assert await reminded(h, at(date(2026, 6, d), 9)) == []
    assert len(await keys(h, "remind:overdue")) == 2


async def test_a_new_due_date_is_a_new_reminder_and_owners_are_current_holders(harness):
    h = harness
    await set_up(h)
    item_id = await action(h, "Review the placement policy", date(2026, 6, 10))
    assert await reminded(h, at(date(2026, 6, 3), 9)) == [f"remind:before:{item_id}:2026-06-10:UCAROL"]
    # The role changes hands: Dave now holds it, and gets the reminders; Carol doesn't.
    await h.command("/scrutiny", f'role "{CABINET}" <@UDAVE|dave>', user="UADMIN", channel="CCYP")
    assert await reminded(h, at(date(2026, 6, 4), 9)) == [f"remind:before:{item_id}:2026-06-10:UDAVE"]
    # A new due date is a new reminder.
    h.clock.now = at(date(2026, 6, 4), 10)
    await h.command("/update", "act-1 due 19 June 2026", user="UBOB", channel="CCYP")
    assert await reminded(h, at(date(2026, 6, 11), 9)) == []
    assert await reminded(h, at(date(2026, 6, 12), 9)) == [f"remind:before:{item_id}:2026-06-19:UDAVE"]
    assert await reminded(h, at(date(2026, 6, 22), 9)) == [f"remind:overdue:{item_id}:2026-06-19:UDAVE:0"]


async def test_running_twice_or_at_once_queues_nothing_new(harness):
    h = harness
    await set_up(h)
    for n in range(3):
        await action(h, f"Action {n}", date(2026, 5, 20 + n))
    now = at(date(2026, 6, 1), 9, 5)
    first = await run(h, now)
    assert first == 3 + 1  # three overdue reminders to Carol, and Bob's Monday summary
    assert await run(h, now) == 0
    assert await run(h, now + timedelta(hours=3)) == 0
    # Two workers at the same moment (as two replicas would): each message once.
    later = at(date(2026, 6, 8), 9, 5)
    results = await asyncio.gather(run(h, later), run(h, later))
    assert sum(results) == 3 + 1
    async with h.db.session() as s:
        assert await s.scalar(select(func.count()).select_from(OutboxMessage)) == 8


async def test_dispatched_reminder_has_both_buttons_and_snooze_silences_a_week(harness):
    h = harness
    await set_up(h)
    item_id = await action(h, "Arrange foster carer training", date(2026, 5, 29))
    h.clock.now = at(date(2026, 6, 1), 9)
    assert await run(h, h.clock.now) == 2  # Carol's overdue reminder and Bob's summary
    d = dispatcher(h)
    assert await d.run_once() == 2
    [carol] = dms(h, "UCAROL")
    assert "cyp/act-1 is overdue" in carol.text
    assert "Arrange foster carer training" in carol.visible and "29 May 2026 · 3 days overdue" in carol.visible
    assert [b["text"]["text"] for b in carol.buttons()] == ["Update position", "Snooze a week"]
    assert carol.button("Update position")["action_id"] == "item_update"

    # "Update position" opens the update form.
    await h.press(carol.button("Update position"), user="UCAROL", channel="DUCAROL", message=carol)
    form = await h.opened_view()
    assert "act-1" in str(form)
    assert (await h.submit(form, {("position", "value"): "Trainer booked for July"}, user="UCAROL")) == (200, None)
    async with h.db.session() as s:
        item = await s.get(Item, item_id)
    assert [p.text for p in await items.positions_of(h.db, item)] == ["Trainer booked for July"]
    assert (await keys(h, "home:"))[0].startswith("home:UCAROL:")  # her Home tab is refreshed too

    # Someone who is not an owner, officer, chair or admin can't snooze it.
    h.clock.now = at(date(2026, 6, 1), 10)
    refused = await h.reply(await h.press(carol.button("Snooze a week"), user="UDAVE", channel="DUDAVE",
                                          message=carol))
    assert "Only the owners of act-1" in refused.text
    # Carol snoozes it: the DM is replaced, saying until when.
    answer = await h.reply(await h.press(carol.button("Snooze a week"), user="UCAROL", channel="DUCAROL",
                                         message=carol))
    assert answer.call.args.get("replace_original") is True
    assert "Snoozed until 8 Jun 2026" in answer.text
    assert [b["text"]["text"] for b in answer.buttons()] == ["Update position"]
    # Pressed again the same day: one snooze, not extended, and it says so.
    h.clock.now = at(date(2026, 6, 1), 11)
    again = await h.reply(await h.press(carol.button("Snooze a week"), user="UCAROL", channel="DUCAROL",
                                        message=carol))
    assert "already snoozed until 8 Jun 2026" in again.text
    async with h.db.session() as s:
        item = await s.get(Item, item_id)
        assert item.snoozed_until == date(2026, 6, 8)
        snoozes = list(await s.scalars(select(AuditEvent).where(AuditEvent.action == "snooze")))
        assert len(snoozes) == 1 and snoozes[0].actor == "UCAROL"
        assert snoozes[0].after == {"snoozed_until": "2026-06-08"} and snoozes[0].before == {"snoozed_until": None}

    # Silent through the snooze, including the Monday the weekly nudge would have gone…
    for day in (2, 3, 4, 5, 8):
        assert await reminded(h, at(date(2026, 6, day), 9)) == [], day
    # …then the nudge goes on the next working day.
    assert await reminded(h, at(date(2026, 6, 9), 9)) == [f"remind:overdue:{item_id}:2026-05-29:UCAROL:1"]


# ---- officers ------------------------------------------------------------------------------------

async def test_monday_summary_once_a_week_per_officer(harness):
    h = harness
    await set_up(h)
    await h.command("/scrutiny", "role officers <@UBOB|bob> <@UALICE|alice>", user="UADMIN", channel="CCYP")
    await action(h, "Overdue thing", date(2026, 5, 1))
    await action(h, "Due soon thing", date(2026, 5, 29))
    await action(h, "Far off thing", date(2026, 9, 30))
    # 25 May 2026 is the spring bank holiday: the week's summary goes on Tuesday.
    assert await run(h, at(date(2026, 5, 25), 10)) == 0
    await run(h, at(date(2026, 5, 26), 9))
    summaries = await keys(h, "summary:")
    async with h.db.session() as s:
        cyp = await committee_by_code(s, "T1", "cyp")
    assert summaries == [f"summary:{cyp.id}:2026-W22:UBOB", f"summary:{cyp.id}:2026-W22:UALICE"]
    row = await outbox(h, summaries[0])
    text = payload_text(row)
    assert "Overdue (1)" in text and "Overdue thing" in text
    assert "Due in the next 14 days (1)" in text and "Due soon thing" in text
    assert "Far off thing" not in text
    assert "1 overdue, 1 due in the next 14 days" in row.payload["text"]
    # Not again that week.
    for d in (27, 28, 29):
        await run(h, at(date(2026, 5, d), 9))
    assert len(await keys(h, "summary:")) == 2
    # Next Monday: the next week's.
    await run(h, at(date(2026, 6, 1), 9))
    assert (await keys(h, "summary:"))[2:] == [f"summary:{cyp.id}:2026-W23:UBOB", f"summary:{cyp.id}:2026-W23:UALICE"]


async def test_exec_response_deadline_is_flagged_to_officers(harness):
    h = harness
    await set_up(h)
    async with h.db.session() as s, s.begin():
        cyp = await committee_by_code(s, "T1", "cyp")
        cabinet = await s.scalar(select(Role).filter_by(team_id="T1", key=role_key(CABINET)))
        review = Review(team_id="T1", committee_id=cyp.id, code="fc2026", title="Foster care review",
                        agreed_on=date(2026, 4, 1), created_at=h.clock.now)
        old = Review(team_id="T1", committee_id=cyp.id, code="sg2010", title="Safeguarding 2010",
                     agreed_on=date(2010, 6, 1), created_at=h.clock.now)
        s.add_all([review, old])
        await s.flush()
        for rv in (review, old):
            for n, response in ((1, "awaiting"), (2, "accepted"), (3, "awaiting")):
                s.add(Item(team_id="T1", committee_id=cyp.id, review_id=rv.id, kind="rec", number=str(n), seq=n,
                           text=f"Recommendation {n} of {rv.code}", exec_response=response, status="not started",
                           created_at=h.clock.now, updated_at=h.clock.now,
                           owners=[ItemOwner(role_id=cabinet.id, ordinal=0)]))
        review_id = review.id
    # Deadline 1 June 2026; flagged from 18 May (14 days before).
    assert await run(h, at(date(2026, 5, 15), 10)) == 0
    assert await run(h, at(date(2026, 5, 18), 9)) == 1
    key = f"execresponse:{review_id}:UBOB"
    assert await keys(h, "execresponse:") == [key]
    row = await outbox(h, key)
    assert row.channel == "UBOB"
    text = payload_text(row)
    assert "fc2026/rec-1" in text and "fc2026/rec-3" in text and "fc2026/rec-2" not in text
    assert "The executive response to fc2026 is due in 2 weeks" in row.payload["text"]
    assert await run(h, at(date(2026, 5, 19), 9)) == 0
    assert await run(h, at(date(2026, 6, 1), 9)) == 0  # the deadline itself: already told
    assert await keys(h, "execresponse:") == [key]
    # Once the deadline has passed: again, once. (rec-3's response came in meanwhile.)
    async with h.db.session() as s, s.begin():
        rec3 = (await s.scalars(select(Item).where(Item.review_id == review_id, Item.number == "3"))).one()
        rec3.exec_response = "rejected"
    assert await run(h, at(date(2026, 6, 2), 9)) == 1
    assert await run(h, at(date(2026, 6, 3), 9)) == 0
    assert await keys(h, "execresponse:") == [key, key + ":overdue"]
    late = await outbox(h, key + ":overdue")
    assert "The executive response to fc2026 is overdue" in late.payload["text"]
    assert "fc2026/rec-1" in payload_text(late) and "fc2026/rec-3" not in payload_text(late)
    # The 2010 review is history: never flagged.


# ---- the App Home ---------------------------------------------------------------------------------

async def open_home(h, user: str) -> dict:
    before = len(h.slack.calls_to("views.publish"))
    event = {"type": "app_home_opened", "user": user, "channel": f"D{user}", "tab": "home",
             "event_ts": f"{h.clock.now.timestamp():.6f}"}
    status, _ = await h.post(payloads.event_body(event, team_id="T1"), content_type=payloads.JSON)
    assert status == 200
    calls = await h.slack.wait_for("views.publish", before + 1)
    call = calls[before]
    assert not call.failed and call.args["user_id"] == user
    return call.args["view"]


def home_text(view: dict) -> str:
    return Reply(type("C", (), {"args": {"blocks": view["blocks"]}})()).visible


async def test_home_shows_own_items_overdue_first_next_meeting_and_letters(harness):
    h = harness
    await set_up(h)
    h.clock.now = at(date(2026, 6, 1), 11)
    await action(h, "Later thing", date(2026, 7, 31))
    await action(h, "Undated thing", None)
    await action(h, "Overdue thing", date(2026, 5, 20))
    await action(h, "Done thing", date(2026, 5, 1), status="implemented")
    await action(h, "Bob's thing", date(2026, 5, 2), owner="officer:cyp")
    # A private committee Carol can't see, with its own meeting.
    await h.command("/scrutiny", "setup ssc Safeguarding Sub-Committee", user="UADMIN", channel="CSSC")
    async with h.db.session() as s, s.begin():
        cyp = await committee_by_code(s, "T1", "cyp")
        ssc = await committee_by_code(s, "T1", "ssc")

        def meeting(committee, start, closed=False):
            return Meeting(team_id="T1", committee_id=committee.id, starts_at=start, ends_at=start + timedelta(hours=2),
                           created_by="UALICE", created_at=h.clock.now, closed_at=h.clock.now if closed else None)
        s.add_all([meeting(cyp, at(date(2026, 5, 20), 10), closed=True),   # held
                   meeting(cyp, at(date(2026, 6, 3), 10)),                 # next
                   meeting(cyp, at(date(2026, 7, 1), 10)),                 # after that
                   meeting(ssc, at(date(2026, 6, 2), 14))])                # private
        letter = Letter(team_id="T1", committee_id=cyp.id, text="Dear partners", sent_by="UALICE",
                        sent_at=at(date(2026, 5, 21), 15))
        s.add(letter)
        await s.flush()
        s.add_all([LetterRecipient(letter_id=letter.id, kind="contact", agency="Essex Police", user_id="UCAROL"),
                   LetterRecipient(letter_id=letter.id, kind="contact", agency="NHS", user_id="UDAVE",
                                   acknowledged_at=h.clock.now)])

    view = await open_home(h, "UCAROL")
    assert view["type"] == "home"
    text = home_text(view)
    order = [text.index(t) for t in ("Overdue thing", "Later thing", "Undated thing")]
    assert order == sorted(order), text
    assert "20 May 2026 · 12 days overdue" in text
    assert "Done thing" not in text and "Bob's thing" not in text
    assert f"*{CYP}*\nWed 3 Jun 2026, 10:00" in text
    assert "Wed 1 Jul 2026" not in text and "Safeguarding Sub-Committee" not in text
    assert f"Decision letter from {CYP}* (Essex Police)" in text
    # Dave acknowledged his; he owns nothing.
    text = home_text(await open_home(h, "UDAVE"))
    assert "You don't own any open recommendations or actions" in text and "None — you're up to date" in text
    # Bob (an officer, in the private channel) sees the private committee's meeting too.
    text = home_text(await open_home(h, "UBOB"))
    assert "Safeguarding Sub-Committee*\nTue 2 Jun 2026, 14:00" in text and "Bob's thing" in text


def published(h) -> dict[str, dict]:
    """The last Home view published to each person."""
    return {c.args["user_id"]: c.args["view"] for c in h.slack.calls_to("views.publish") if not c.failed}


async def test_a_new_position_refreshes_the_owners_home(harness):
    h = harness
    await set_up(h)
    h.clock.now = at(date(2026, 6, 1), 11)
    await action(h, "Arrange foster carer training", date(2026, 6, 30))
    r = await h.command("/update", "act-1 position Trainer booked for July", user="UBOB", channel="CCYP")
    assert r.text.startswith("Updated")
    assert [k.split(":")[1] for k in await keys(h, "home:")] == ["UCAROL"]   # Carol holds the owning role
    assert await dispatcher(h).run_once() == 1
    [call] = [c for c in h.slack.calls_to("views.publish") if not c.failed]
    assert call.args["user_id"] == "UCAROL" and "Arrange foster carer training" in home_text(call.args["view"])


async def test_home_is_refreshed_through_the_outbox_when_items_change(harness):
    h = harness
    await set_up(h)
    h.clock.now = at(date(2026, 6, 1), 11)
    await action(h, "Arrange foster carer training", date(2026, 6, 30))
    r = await h.command("/update", "act-1 status in progress", user="UBOB", channel="CCYP")
    assert "Updated" in r.text
    [key] = await keys(h, "home:")
    assert key == f"home:UCAROL:{h.clock.now.astimezone(timezone.utc).isoformat()}"
    row = await outbox(h, key)
    # Queued: the request to refresh, in the change's transaction. The view is built when sent.
    assert (row.method, row.channel, row.payload) == ("views.publish", "UCAROL", {"home": {"tz": "Europe/London"}})
    assert h.slack.calls_to("views.publish") == []  # queued, not sent, until the dispatcher runs
    assert await dispatcher(h).run_once() == 1
    assert "_in progress_" in home_text(published(h)["UCAROL"])
    # The owner changes: both the old holder's and the new holder's Home are refreshed.
    h.clock.now += timedelta(minutes=5)
    await h.command("/update", "act-1 owner <@UDAVE|dave>", user="UBOB", channel="CCYP")
    assert sorted(k.split(":")[1] for k in (await keys(h, "home:"))[1:]) == ["UCAROL", "UDAVE"]
    assert await dispatcher(h).run_once() == 2
    text = home_text(published(h)["UDAVE"])
    assert "Arrange foster carer training" in text and "_in progress_" in text
    assert "Arrange foster carer training" not in home_text(published(h)["UCAROL"])


async def test_queued_home_shows_what_changed_after_it_was_queued(harness):
    h = harness
    await set_up(h)
    h.clock.now = at(date(2026, 6, 1), 11)
    await action(h, "Arrange foster carer training", date(2026, 6, 30))
    await h.command("/update", "act-1 status in progress", user="UBOB", channel="CCYP")
    h.clock.now += timedelta(minutes=1)
    await h.command("/update", "act-1 status needs clarification", user="UBOB", channel="CCYP")
    # A meeting is scheduled after both were queued; it queues no refresh of its own.
    async with h.db.session() as s, s.begin():
        cyp = await committee_by_code(s, "T1", "cyp")
        s.add(Meeting(team_id="T1", committee_id=cyp.id, starts_at=at(date(2026, 6, 3), 10),
                      ends_at=at(date(2026, 6, 3), 12), created_by="UALICE", created_at=h.clock.now))
    queued = await keys(h, "home:")
    assert [k.split(":")[1] for k in queued] == ["UCAROL", "UCAROL"]
    # Carol's Home goes once, built now: the later status and the meeting both show.
    assert await dispatcher(h).run_once() == 1
    [call] = h.slack.calls_to("views.publish")
    text = home_text(call.args["view"])
    assert "_needs clarification_" in text and "_in progress_" not in text
    assert f"*{CYP}*\nWed 3 Jun 2026, 10:00" in text
    assert all([(await outbox(h, k)).sent_at is not None for k in queued])


async def test_queued_home_sees_private_committees_as_the_app_does(harness):
    h = harness
    await set_up(h)
    h.clock.now = at(date(2026, 6, 1), 11)
    await h.command("/scrutiny", "setup ssc Safeguarding Sub-Committee", user="UADMIN", channel="CSSC")
    async with h.db.session() as s, s.begin():
        ssc = await committee_by_code(s, "T1", "ssc")
        s.add(Meeting(team_id="T1", committee_id=ssc.id, starts_at=at(date(2026, 6, 2), 14),
                      ends_at=at(date(2026, 6, 2), 16), created_by="UALICE", created_at=h.clock.now))
        await home.queue_home_refresh(s, "T1", ["UBOB", "UCAROL"], h.clock.now, tz=LONDON)
    assert await dispatcher(h).run_once() == 2
    # Bob is in the private #ssc channel, Carol isn't.
    assert "Safeguarding Sub-Committee*\nTue 2 Jun 2026, 14:00" in home_text(published(h)["UBOB"])
    assert "Safeguarding Sub-Committee" not in home_text(published(h)["UCAROL"])


async def test_a_view_queued_whole_goes_as_it_is_and_one_that_cant_be_built_waits(harness):
    h = harness
    await set_up(h)
    old = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Queued whole"}}]}
    async with h.db.session() as s, s.begin():
        await enqueue(s, team_id="T1", key="home:UCAROL:old", channel="UCAROL", payload={"view": old},
                      now=h.clock.now, method="views.publish")
        await enqueue(s, team_id="T1", key="home:UDAVE:bad", channel="UDAVE", payload={"home": {"tz": "Nowhere/Else"}},
                      now=h.clock.now, method="views.publish")
    assert await dispatcher(h).run_once() == 1
    assert home_text(published(h)["UCAROL"]) == "Queued whole"
    # The view that can't be built is retried later, as a failed send; the round went on.
    bad = await outbox(h, "home:UDAVE:bad")
    assert bad.sent_at is None and bad.dead_at is None and bad.in_flight_since is None
    assert bad.last_error.startswith("building the view:") and bad.not_before > h.clock.now
    assert "UDAVE" not in published(h)
