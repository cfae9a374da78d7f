"""Carrying items forward (issue 14): `/meeting agenda` and its "Post to channel", paused and
deferred items, `/watch`, and escalation — through the real app against the fake Slack, on both
stores; the scheduled parts are plain functions of `now` (no sleeping)."""
from __future__ import annotations

from datetime import date, timezone

from sqlalchemy import select

from bot.scheduled import run_scheduled
from bot.services import escalations
from models.carry import Escalation, Watcher
from models.meetings import Meeting
from models.tables import Item
from tests.test_reminders import action, at, dispatcher, dms, keys, outbox, payload_text, reminded, set_up


async def ask(h, command: str, text: str, user: str = "UBOB", channel: str = "CCYP"):
    return await h.command(command, text, user=user, channel=channel)


async def scheduled(h, now) -> int:
    return await run_scheduled(h.db, h.settings, now.astimezone(timezone.utc))


# ---- paused and deferred --------------------------------------------------------------------

async def test_paused_item_is_not_overdue_nor_chased_until_it_resumes(harness):
    h = harness
    await set_up(h)
    item_id = await action(h, "Arrange foster carer training", date(2026, 5, 29))
    # A pause needs a day to resume and a reason.
    for text, says in (("act-1 status paused", "Say until when"),
                       ("act-1 status paused until 15 June", "Say why it is paused"),
                       ("act-1 status paused until yesterday because x", "after today")):
        assert says in (await ask(h, "/update", text)).text, text
    reply = await ask(h, "/update", "act-1 status paused until 15 June 2026 because the budget is frozen")
    assert "paused" in reply.text
    async with h.db.session() as s:
        item = await s.get(Item, item_id)
        assert (item.status, item.paused_until, item.pause_reason) == (
            "paused", date(2026, 6, 15), "the budget is frozen")
    card = await ask(h, "/position", "act-1")
    assert "paused until 15 Jun 2026 — the budget is frozen" in card.visible
    assert "No open items overdue" in (await ask(h, "/actions", "overdue")).text
    # Not reminded, not in the officer's Monday summary, not escalated, while paused.
    for day in (1, 2, 8, 12):
        assert await reminded(h, at(date(2026, 6, day), 9), prefix="") == [], day
    # Deferred works the same way.
    await action(h, "Review the panel", date(2026, 5, 20))
    assert "deferred" in (await ask(h, "/update", "act-2 status deferred until 1 July 2026 because of the election")).text
    # Monday 15 June: act-1 resumes (audited), and is chased and counted again.
    await scheduled(h, at(date(2026, 6, 15), 9))
    async with h.db.session() as s:
        item = await s.get(Item, item_id)
        assert (item.status, item.paused_until, item.pause_reason) == ("in progress", None, None)
        assert (await s.get(Item, item_id + 1)).status == "deferred"
    new = await keys(h, "remind:overdue:")
    assert new == [f"remind:overdue:{item_id}:2026-05-29:UCAROL:2"]
    h.clock.now = at(date(2026, 6, 15), 10)
    assert "act-1" in (await ask(h, "/actions", "overdue")).visible


# ---- watchers -------------------------------------------------------------------------------

async def test_watch_an_item_and_get_a_dm_when_it_changes(harness):
    h = harness
    await set_up(h)
    item_id = await action(h, "Arrange foster carer training", date(2026, 6, 30))
    assert "You don't watch any items" in (await ask(h, "/watch", "", user="UDAVE")).text
    assert "You're watching" in (await ask(h, "/watch", "act-1", user="UDAVE")).text
    assert "already watch" in (await ask(h, "/watch", "act-1", user="UDAVE")).text
    listed = await ask(h, "/watch", "", user="UDAVE")
    assert "You watch 1 item" in listed.text and "act-1" in listed.visible
    # The card's Watch button does the same for someone else.
    card = await ask(h, "/position", "act-1", user="UERIN")
    await h.press(card.button("Watch"), user="UERIN", channel="CCYP", message=card)
    await h.settle()
    async with h.db.session() as s:
        assert sorted(await s.scalars(select(Watcher.user_id).where(Watcher.ended_at.is_(None)))) == ["UDAVE", "UERIN"]

    # Carol (an owner) records a position: each watcher gets a DM, queued with the change.
    await ask(h, "/update", "act-1 position Trainer booked for July", user="UCAROL")
    watch_keys = await keys(h, f"watch:{item_id}:")
    assert sorted(k.rsplit(":", 1)[-1] for k in watch_keys) == ["UDAVE", "UERIN"]
    assert "Trainer booked for July" in payload_text(await outbox(h, watch_keys[0]))
    # A due-date change isn't told; a status change is, but not to the person making it.
    await ask(h, "/update", "act-1 due 31 July 2026")
    assert len(await keys(h, f"watch:{item_id}:")) == 2
    h.clock.now = at(date(2026, 6, 1), 11)
    await ask(h, "/watch", "act-1", user="UBOB")
    await ask(h, "/update", "act-1 status in progress", user="UBOB")
    after = await keys(h, f"watch:{item_id}:")
    assert len(after) == 4 and not any(k.endswith(":UBOB") for k in after)
    await dispatcher(h).run_once()
    [first, second] = dms(h, "UDAVE")
    assert "act-1 changed" in first.text and "in progress" in second.visible
    assert [b["text"]["text"] for b in second.buttons()] == ["View", "Stop watching"]

    # Off: no more DMs.
    assert "no longer watch" in (await ask(h, "/watch", "act-1 off", user="UDAVE")).text
    assert "weren't watching" in (await ask(h, "/watch", "act-1 off", user="UDAVE")).text
    h.clock.now = at(date(2026, 6, 1), 12)
    await ask(h, "/update", "act-1 position Trainer confirmed", user="UCAROL")
    latest = [k for k in await keys(h, f"watch:{item_id}:") if k not in after]
    assert sorted(k.rsplit(":", 1)[-1] for k in latest) == ["UBOB", "UERIN"]
    assert "/watch" in (await ask(h, "/watch", "help", user="UDAVE")).text


# ---- escalation -----------------------------------------------------------------------------

async def test_escalated_once_after_ten_working_days_across_a_bank_holiday(harness):
    h = harness
    await set_up(h)
    # Due Thursday 14 May 2026. Working days late: 15 May is 1; 25 May is the late-May bank
    # holiday; Friday 29 May is 10; Monday 1 June is 11 — more than 10, so it is escalated then.
    item_id = await action(h, "Arrange foster carer training", date(2026, 5, 14))
    assert escalations.days_late(date(2026, 5, 14), date(2026, 5, 29)) == 10
    assert escalations.days_late(date(2026, 5, 14), date(2026, 6, 1)) == 11
    for now in (at(date(2026, 5, 28), 9), at(date(2026, 5, 29), 15), at(date(2026, 5, 30), 10),
                at(date(2026, 5, 31), 10), at(date(2026, 6, 1), 8, 59)):
        await scheduled(h, now)
        assert await keys(h, "escalate:") == [], now
    await scheduled(h, at(date(2026, 6, 1), 9))
    assert await keys(h, "escalate:") == [f"escalate:{item_id}:2026-05-14:UALICE",
                                          f"escalate:{item_id}:2026-05-14:UBOB"]
    # Not twice: later that day, the next day, the next week.
    for now in (at(date(2026, 6, 1), 15), at(date(2026, 6, 2), 9), at(date(2026, 6, 8), 9)):
        await scheduled(h, now)
    assert len(await keys(h, "escalate:")) == 2
    async with h.db.session() as s:
        [row] = list(await s.scalars(select(Escalation)))
        assert (row.item_id, row.escalated_on, row.days_late) == (item_id, date(2026, 6, 1), 11)

    summary = payload_text(await outbox(h, "summary:1:2026-W24:UBOB"))   # Monday 8 June
    escalated = summary.split("Escalated (1)")[1].split("Overdue")[0]
    assert "cyp/act-1" in escalated and "<@UCAROL>" in escalated
    assert "16 working days late" in escalated and "escalated since 1 Jun 2026" in escalated
    h.clock.now = at(date(2026, 6, 8), 10)
    await dispatcher(h).run_once()
    [alice] = [r for r in dms(h, "UALICE") if "Escalated" in r.text]
    assert "cyp/act-1 is 11 working days overdue" in alice.text
    assert "Cabinet Member for Children" in alice.visible and "<@UCAROL>" in alice.visible
    assert [b["text"]["text"] for b in alice.buttons()] == ["Chase the owner", "Record a revised date"]
    assert alice.button("Record a revised date")["action_id"] == "item_update"
    # Chase the owner: Carol is DMed now, through the outbox.
    answer = await h.reply(await h.press(alice.button("Chase the owner"), user="UALICE", channel="DUALICE",
                                         message=alice))
    assert "Chased <@UCAROL>" in answer.text
    assert [k.rsplit(":", 1)[-1] for k in await keys(h, f"chase:{item_id}:")] == ["UCAROL"]
    # Someone with no part in it can't chase.
    refused = await h.reply(await h.press(alice.button("Chase the owner"), user="UDAVE", channel="DUDAVE",
                                          message=alice))
    assert "Only the owners of act-1" in refused.text
    # A revised date that slips again by more than ten working days escalates again, once.
    await ask(h, "/update", "act-1 due 9 June 2026")
    await scheduled(h, at(date(2026, 6, 23), 9))   # 10 working days late: not yet
    assert len(await keys(h, "escalate:")) == 2
    await scheduled(h, at(date(2026, 6, 24), 9))
    assert len(await keys(h, "escalate:")) == 4


# ---- the agenda -----------------------------------------------------------------------------

async def test_agenda_carries_open_items_forward_and_signed_off_ones_drop_off(harness):
    h = harness
    await set_up(h)
    h.clock.now = at(date(2026, 5, 18), 10)
    await action(h, "Arrange foster carer training", date(2026, 5, 29))        # act-1
    await action(h, "Report foster carer numbers", date(2026, 9, 30))                 # act-2
    await action(h, "Publish the annual report", date(2026, 5, 1))                    # act-3
    await action(h, "Audit the case files", date(2026, 7, 31))                        # act-4
    # The meeting of 20 May: act-3 is signed off at it, then it closes.
    h.clock.now = at(date(2026, 5, 20), 10, 30)
    await ask(h, "/meeting", "new 20 May 2026 10:00")
    h.clock.now = at(date(2026, 5, 20), 11)
    await ask(h, "/update", "act-3 status signed off")
    h.clock.now = at(date(2026, 5, 20), 12)
    await ask(h, "/meeting", "close")
    # Since: a position on act-2, act-1 started, act-4 implemented, a new act-5.
    h.clock.now = at(date(2026, 5, 26), 10)
    await ask(h, "/update", "act-2 position Numbers collected from the agencies", user="UCAROL")
    await ask(h, "/update", "act-1 status in progress", user="UCAROL")
    await ask(h, "/update", "act-4 status implemented")
    await action(h, "Survey foster carers", date(2026, 12, 1))                        # act-5
    h.clock.now = at(date(2026, 6, 1), 10)
    await ask(h, "/meeting", "new 10 June 2026 10:00")

    agenda = await ask(h, "/meeting", "agenda", user="UDAVE")   # anyone may read it
    text = agenda.visible
    assert "Agenda — Children and Young People Scrutiny Committee" in text
    assert "3 items for report (2 carried forward, 1 new), 1 overdue" in agenda.text
    carried = text.split("*Carried forward (2)*")[1].split("*New since")[0]
    assert "act-1" in carried and "act-2" in carried and "act-3" not in carried and "act-4" not in carried
    assert "act-5" in text.split("*New since the last meeting (1)*")[1].split("Changes since")[0]
    changes = text.split("Changes since the last meeting (20 May 2026)")[1].split("Overdue")[0]
    assert "act-2* new position (26 May 2026): Numbers collected" in changes
    assert "act-1* status not started → *in progress*" in changes
    assert "act-4* closed: _implemented_" in changes
    assert "act-3" not in text   # signed off at the last meeting: dropped off
    overdue = text.split("Overdue (1)")[1]
    assert "act-1" in overdue and "act-2" not in overdue
    assert agenda.button("Post to channel")

    # Posting needs the chair or an officer; it goes through the outbox, once a day.
    refused = await h.reply(await h.press(agenda.button("Post to channel"), user="UDAVE", channel="CCYP",
                                          message=agenda))
    assert "Only the chair and officers" in refused.text
    done = await h.reply(await h.press(agenda.button("Post to channel"), user="UBOB", channel="CCYP",
                                       message=agenda))
    assert "goes to <#CCYP>" in done.text
    again = await h.reply(await h.press(agenda.button("Post to channel"), user="UBOB", channel="CCYP",
                                        message=agenda))
    assert "already posted" in again.text
    async with h.db.session() as s:
        meeting_id = await s.scalar(select(Meeting.id).where(Meeting.closed_at.is_(None)))
    assert await keys(h, "agenda:") == [f"agenda:{meeting_id}:2026-06-01"]
    row = await outbox(h, f"agenda:{meeting_id}:2026-06-01")
    assert row.channel == "CCYP" and "Post to channel" not in str(row.payload)
