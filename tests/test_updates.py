"""Asking owners for updates before a meeting (issue 14): the scheduled request round (a plain
function of `now`), the "Give update" form, the officers' Accept / Return, `/meeting updates`
and its chase — through the real app against the fake Slack, on both stores."""
from __future__ import annotations

from datetime import date, timezone

from sqlalchemy import select

from bot.services import updates
from bot.services.updates import working_days_before
from bot.slack_ui import updates as updates_ui
from models.tables import AuditEvent, Position
from tests.test_reminders import action, at, dispatcher, dms, keys, set_up

DIRECTOR = "Director of Children's Services"


async def run(h, now) -> int:
    async with h.db.session() as s, s.begin():
        return await updates.queue_update_requests(s, now.astimezone(timezone.utc), h.settings, render=updates_ui)


async def prepared(h) -> None:
    """A meeting on Thursday 4 June 2026; Carol owns two open items, Dave one."""
    h.clock.now = at(date(2026, 5, 1), 10)
    await set_up(h)
    await h.command("/scrutiny", f'role "{DIRECTOR}" <@UDAVE|dave>', user="UADMIN", channel="CCYP")
    reply = await h.command("/meeting", "new 4 June 2026 10:00", user="UALICE", channel="CCYP")
    assert "4 June 2026" in reply.visible or "4 Jun" in reply.visible, reply.visible
    await action(h, "Arrange foster carer training", date(2026, 5, 15))
    await action(h, "Publish the sufficiency strategy", date(2026, 9, 30))
    await action(h, "Audit the front door", date(2026, 7, 31), owner=DIRECTOR)


def test_ten_working_days_before_skips_the_weekend_and_the_bank_holiday():
    # 25 May 2026 is the spring bank holiday.
    assert working_days_before(date(2026, 6, 4), 10) == date(2026, 5, 20)
    assert working_days_before(date(2026, 6, 4), 3) == date(2026, 6, 1)


async def test_one_request_per_owner_once_then_the_automatic_chase(harness):
    h = harness
    await prepared(h)
    assert await run(h, at(date(2026, 5, 19), 10)) == 0   # eleven working days before
    assert await run(h, at(date(2026, 5, 20), 8)) == 0    # before 09:00
    assert await run(h, at(date(2026, 5, 20), 9)) == 2    # one DM each to Carol and Dave
    assert await run(h, at(date(2026, 5, 20), 9, 5)) == 0  # running twice queues once
    assert await run(h, at(date(2026, 5, 23), 10)) == 0   # a Saturday
    h.clock.now = at(date(2026, 5, 20), 9, 10)
    assert await dispatcher(h).run_once() == 2
    [carol] = dms(h, "UCAROL")
    assert "Arrange foster carer training" in carol.visible and "Publish the sufficiency strategy" in carol.visible
    assert [b["text"]["text"] for b in carol.buttons()] == ["Give update", "Give update"]
    [dave] = dms(h, "UDAVE")
    assert "Audit the front door" in dave.visible and "foster" not in dave.visible

    # Carol answers; three working days before (Monday 1 June) only Dave is chased.
    await h.press(carol.buttons()[0], user="UCAROL", channel="DUCAROL", message=carol)
    form = await h.opened_view()
    assert (await h.submit(form, {("position", "value"): "Trainer booked for July",
                                  ("due", "value"): "2026-07-31"}, user="UCAROL")) == (200, None)
    assert await run(h, at(date(2026, 5, 29), 10)) == 0
    before = set(await keys(h, "updates:chase:"))
    assert await run(h, at(date(2026, 6, 1), 9)) == 1
    assert [k for k in await keys(h, "updates:chase:") if k not in before] == [
        k for k in await keys(h, "updates:chase:") if k.endswith(":UDAVE:auto")]


async def test_submit_accept_return_and_the_round(harness):
    h = harness
    await prepared(h)
    h.clock.now = at(date(2026, 5, 20), 9)
    assert await run(h, h.clock.now) == 2
    assert await dispatcher(h).run_once() == 2
    [carol] = dms(h, "UCAROL")

    # Carol sends an update: it waits for review, so /position doesn't show it yet.
    await h.press(carol.buttons()[0], user="UCAROL", channel="DUCAROL", message=carol)
    form = await h.opened_view()
    assert "Revised date" in str(form)
    assert (await h.submit(form, {("position", "value"): "Trainer booked for July", ("due", "value"): "2026-07-31",
                                  ("status", "value"): "in progress"}, user="UCAROL")) == (200, None)
    shown = await h.command("/position", "act-1", user="UCAROL", channel="CCYP")
    assert "Trainer booked for July" not in shown.visible

    # The officer (Bob) and the chair (Alice) get it with Accept / Return.
    await dispatcher(h).run_once()
    [bob] = dms(h, "UBOB")
    assert "Trainer booked for July" in bob.visible and "says nothing" not in bob.visible
    assert [b["text"]["text"] for b in bob.buttons()] == ["Accept", "Return"]
    assert len(dms(h, "UALICE")) == 1

    # Dave, not an officer, can't accept it.
    refused = await h.reply(await h.press(bob.button("Accept"), user="UDAVE", channel="DUDAVE", message=bob))
    assert "Only the chair and officers" in refused.text
    ok = await h.reply(await h.press(bob.button("Accept"), user="UBOB", channel="DUBOB", message=bob))
    assert "Accepted" in ok.visible
    shown = await h.command("/position", "act-1", user="UCAROL", channel="CCYP")
    assert "Trainer booked for July" in shown.visible and "in progress" in shown.visible
    again = await h.reply(await h.press(bob.button("Accept"), user="UALICE", channel="DUALICE", message=bob))
    assert "accepted already" in again.text

    # A "no change" update is flagged to the officer; returned with a reason, it goes back to
    # Carol with the form prefilled.
    await h.press(carol.buttons()[1], user="UCAROL", channel="DUCAROL", message=carol)
    form = await h.opened_view(2)
    assert (await h.submit(form, {("position", "value"): "No change"}, user="UCAROL")) == (200, None)
    await dispatcher(h).run_once()
    bob2 = dms(h, "UBOB")[-1]
    assert "says nothing the committee can use" in bob2.visible and "no change" in bob2.visible
    await h.press(bob2.button("Return"), user="UBOB", channel="DUBOB", message=bob2)
    reason_form = await h.opened_view(3)
    assert (await h.submit(reason_form, {("reason", "value"): "Say where the strategy has got to"},
                           user="UBOB")) == (200, None)
    await dispatcher(h).run_once()
    returned = dms(h, "UCAROL")[-1]
    assert "returned" in returned.text and "Say where the strategy has got to" in returned.visible
    await h.press(returned.button("Give update"), user="UCAROL", channel="DUCAROL", message=returned)
    prefilled = await h.opened_view(4)
    assert "No change" in str(prefilled) and "Say where the strategy has got to" in str(prefilled)

    # /meeting updates: Carol answered, Dave hasn't; the chase goes to Dave only.
    status = await h.command("/meeting", "updates", user="UBOB", channel="CCYP")
    answered, outstanding = status.visible.split("Outstanding")
    assert "UCAROL" in answered and "UDAVE" in outstanding and "UCAROL" not in outstanding
    before = set(await keys(h, "updates:chase:"))
    chased = await h.reply(await h.press(status.button("Chase everyone outstanding"), user="UBOB", channel="CCYP",
                                         message=status))
    assert "Chased 1" in chased.visible
    new = [k for k in await keys(h, "updates:chase:") if k not in before]
    assert len(new) == 1 and new[0].endswith(":UDAVE:2026-05-20")

    # Nothing was overwritten, and every step is in the audit trail.
    async with h.db.session() as s:
        states = [p.review_state for p in await s.scalars(select(Position).order_by(Position.id))]
        actions = set(await s.scalars(select(AuditEvent.action)))
    assert states == ["accepted", "returned"]
    assert {"request", "update_submitted", "update_accepted", "update_returned", "chase"} <= actions
