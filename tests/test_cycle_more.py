"""The scrutiny cycle, the rest of it (issue 14): one definition of "overdue" that paused and
deferred items never meet, on every surface; escalations in the digest and the Monday summary;
updates awaiting review labelled as such (never the latest position); dropping an item from a
meeting's agenda; the export `--since-last-meeting`; automatic chases audited; requests following
a meeting moved or cancelled — through the real app against the fake Slack, on both stores, the
scheduled parts plain functions of `now` (no sleeping); and the console demo driven through the
request → update → accept path."""
from __future__ import annotations

import asyncio
from datetime import date, timezone

from sqlalchemy import func, select

from bot.core.status import is_overdue, item_overdue
from bot.export import build_position_paper, changes
from bot.export import render as render_paper
from bot.importing import ImportedItem
from bot.scheduled import run_scheduled
from bot.services import audit, publication, reports, updates
from bot.services.imports import import_items
from bot.slack_ui import updates as updates_ui
from models.carry import AgendaDrop, Escalation
from models.meetings import Meeting
from models.queries import committee_by_code
from models.tables import AuditEvent, Item, Position
from models.updates import UpdateRequest
from tests.test_cli import run_cli, run_demo, sqlite_url_for
from tests.test_reminders import (
    CABINET,
    LONDON,
    action,
    at,
    dispatcher,
    dms,
    home_text,
    keys,
    open_home,
    outbox,
    payload_text,
    set_up,
)

DIRECTOR = "Director of Children's Services"


async def ask(h, command: str, text: str, user: str = "UBOB", channel: str = "CCYP"):
    return await h.command(command, text, user=user, channel=channel)


async def scheduled(h, now) -> int:
    return await run_scheduled(h.db, h.settings, now.astimezone(timezone.utc))


async def recommendations(h, *recs: tuple[str, str, date | None]) -> None:
    """Recommendations of review sg2026 of cyp, owned by the Cabinet Member: (number, text, due)."""
    async with h.db.session() as s, s.begin():
        await import_items(s, team_id="T1", committee_code="cyp", review_code="sg2026",
                           items=[ImportedItem(number=n, text=t, owners=[CABINET], due=d) for n, t, d in recs],
                           actor="UADMIN", now=h.clock.now, title="Safeguarding review 2026",
                           agreed_on=date(2026, 4, 1), as_of=date(2026, 4, 1))


async def item_id(h, kind: str, number: str) -> int:
    async with h.db.session() as s:
        return await s.scalar(select(Item.id).where(Item.kind == kind, Item.number == number))


# ---- one definition of overdue ------------------------------------------------------------------

def test_one_definition_of_overdue_across_its_boundaries():
    today = date(2026, 6, 1)
    assert is_overdue("in progress", date(2026, 5, 29), today)              # Friday's date, on Monday
    assert not is_overdue("in progress", today, today)                     # due today: not yet
    assert not is_overdue("not started", None, today)                      # no date: never
    assert not is_overdue("implemented", date(2026, 5, 1), today)          # closed: never
    assert not is_overdue("paused", date(2026, 5, 1), today, date(2026, 6, 15))
    assert not is_overdue("deferred", date(2026, 5, 1), today, None)
    assert is_overdue("paused", date(2026, 5, 1), today, today)            # resumes today: counts again
    row = type("Row", (), {"status": "deferred", "due": date(2026, 5, 1), "paused_until": date(2026, 6, 2)})()
    assert not item_overdue(row, today) and item_overdue(row, date(2026, 6, 2))


async def test_paused_and_deferred_are_overdue_nowhere_and_escalations_are_reported(harness):
    h = harness
    h.clock.now = at(date(2026, 5, 4), 10)
    await set_up(h)
    # All due Thursday 14 May 2026; on Monday 1 June each is 11 working days late (25 May is a
    # bank holiday), so the ones that count are escalated that morning.
    await recommendations(h, ("1", "Review the fostering allowances.", date(2026, 5, 14)),
                          ("2", "Publish the sufficiency strategy.", date(2026, 5, 14)))
    await action(h, "Arrange foster carer training", date(2026, 5, 14))     # act-1: paused
    await action(h, "Audit the front door", date(2026, 5, 14))              # act-2: counts
    h.clock.now = at(date(2026, 5, 18), 10)
    assert "paused" in (await ask(h, "/update", "act-1 status paused until 15 June 2026 because the trainer left")).text
    assert "deferred" in (await ask(h, "/update", "rec-1 status deferred until 1 July 2026 because of the election")).text
    await ask(h, "/meeting", "new 1 June 2026 10:00")

    monday = at(date(2026, 6, 1), 9)
    await scheduled(h, monday)
    h.clock.now = at(date(2026, 6, 1), 9, 30)
    rec1, rec2, act1, act2 = (await item_id(h, "rec", "1"), await item_id(h, "rec", "2"),
                              await item_id(h, "act", "1"), await item_id(h, "act", "2"))

    # Reminders and escalations: only the items that count.
    overdue_keys = await keys(h, "remind:overdue:")
    assert sorted({int(k.split(":")[2]) for k in overdue_keys}) == sorted([rec2, act2])
    async with h.db.session() as s:
        assert sorted(await s.scalars(select(Escalation.item_id))) == sorted([rec2, act2])
        actors = set(await s.scalars(select(AuditEvent.actor).where(AuditEvent.action == "escalate")))
    assert actors == {audit.SYSTEM}

    # The officers' Monday summary: the escalations (ref, owner, working days late, since when), and
    # an overdue list without the paused and deferred items.
    summary = payload_text(await outbox(h, "summary:1:2026-W23:UBOB"))
    escalated = summary.split("Escalated (2)")[1].split("Overdue")[0]
    assert "sg2026/rec-2" in escalated and "cyp/act-2" in escalated and "<@UCAROL>" in escalated
    assert "11 working days late" in escalated and "escalated since 1 Jun 2026" in escalated
    late = summary.split("Overdue (2)")[1]
    assert "act-2" in late and "rec-2" in late and "act-1" not in late and "rec-1" not in late

    # /actions overdue.
    listed = (await ask(h, "/actions", "overdue")).visible
    assert "act-2" in listed and "rec-2" in listed and "act-1" not in listed and "rec-1" not in listed

    # The owner's Home tab: two overdue, not four; the paused one says so instead of "overdue".
    home = home_text(await open_home(h, "UCAROL"))
    assert "2 overdue" in home
    paused_line = next(line for line in home.split("\n") if "act-1" in line or "Arrange foster" in line)
    assert "overdue" not in paused_line.split("Arrange foster carer training")[-1]

    # The agenda of the meeting.
    agenda = (await ask(h, "/meeting", "agenda")).visible
    overdue = agenda.split("Overdue (2)")[1]
    assert "act-2" in overdue and "rec-2" in overdue and "act-1" not in overdue and "rec-1" not in overdue

    # The report: one recommendation overdue (rec-1 is deferred).
    async with h.db.session() as s:
        committee = await committee_by_code(s, "T1", "cyp")
        report = await reports.build_report(s, "T1", [committee], now=h.clock.now, tz=LONDON)
    assert report.total.now.overdue == 1

    # The public page: the deferred recommendation isn't red.
    h.clock.now = at(date(2026, 6, 1), 9, 40)
    assert "is now public" in (await ask(h, "/scrutiny", "publish on", user="UALICE")).text
    async with h.db.session() as s:
        slug = await publication.workspace_slug(s, "T1")
        tracker = await publication.public_tracker(s, slug, "cyp", date(2026, 6, 1))
    rags = {r.ref: r.rag for r in tracker.rows}
    assert rags["rec-1"] == "amber" and rags["rec-2"] == "red"

    # The digest after the meeting: two overdue, and the escalations with their owner and lateness.
    h.clock.now = at(date(2026, 6, 1), 12)
    await ask(h, "/meeting", "close")
    async with h.db.session() as s:
        meeting_id = await s.scalar(select(Meeting.id))
    digest = payload_text(await outbox(h, f"digest:meeting:{meeting_id}"))
    assert "Overdue (2)" in digest
    overdue = digest.split("Overdue (2)")[1]
    assert "act-1" not in overdue and "rec-1" not in overdue
    escalated = digest.split("Escalated (2)")[1].split("Overdue (2)")[0]
    assert "rec-2" in escalated and "act-2" in escalated and "Cabinet Member for Children" in escalated
    assert "11 working days late" in escalated and "escalated since 1 Jun 2026" in escalated

    # A revised date that hasn't passed ends act-2's escalation: the next digest doesn't list it.
    assert act1 and rec1
    h.clock.now = at(date(2026, 6, 2), 10)
    await ask(h, "/update", "act-2 due 30 June 2026")
    await ask(h, "/meeting", "new 2 June 2026 11:00")
    h.clock.now = at(date(2026, 6, 2), 14)
    await ask(h, "/meeting", "close")
    async with h.db.session() as s:
        second = await s.scalar(select(func.max(Meeting.id)))
    digest = payload_text(await outbox(h, f"digest:meeting:{second}"))
    escalated = digest.split("Escalated (1)")[1].split("Overdue")[0]
    assert "rec-2" in escalated and "act-2" not in escalated and "12 working days late" in escalated


# ---- awaiting review ----------------------------------------------------------------------------

async def test_an_update_awaiting_review_is_labelled_and_never_the_latest_position(harness):
    h = harness
    h.clock.now = at(date(2026, 5, 1), 10)
    await set_up(h)
    await recommendations(h, ("1", "Review the fostering allowances.", date(2026, 9, 30)))
    await ask(h, "/update", "rec-1 position Allowances benchmarked against neighbours")
    await ask(h, "/meeting", "new 4 June 2026 10:00")
    async with h.db.session() as s, s.begin():
        assert await updates.queue_update_requests(s, at(date(2026, 5, 20), 9).astimezone(timezone.utc),
                                                   h.settings, render=updates_ui) == 1
    h.clock.now = at(date(2026, 5, 20), 9, 10)
    await dispatcher(h).run_once()
    [carol] = dms(h, "UCAROL")
    await h.press(carol.button("Give update"), user="UCAROL", channel="DUCAROL", message=carol)
    form = await h.opened_view()
    assert (await h.submit(form, {("position", "value"): "New rates agreed by Cabinet <b>in May</b>"},
                           user="UCAROL")) == (200, None)

    # /position: the accepted position is the latest; the history labels the update.
    card = (await ask(h, "/position", "rec-1", user="UCAROL")).visible
    assert "Allowances benchmarked" in card and "New rates agreed" not in card
    history = (await ask(h, "/position", "rec-1 history", user="UCAROL")).visible
    assert "awaiting review" in history and "New rates agreed" in history
    newest, older = history.split("Allowances benchmarked")[0], history.split("Allowances benchmarked")[1]
    assert "awaiting review" in newest and "awaiting review" not in older
    # The card's History button shows the same.
    card_reply = await ask(h, "/position", "rec-1", user="UCAROL")
    await h.press(card_reply.button("History"), user="UCAROL", channel="CCYP", message=card_reply)

    # The position paper: the latest position is the accepted one; the update is labelled.
    async with h.db.session() as s:
        paper = await build_position_paper(s, "T1", "cyp", "sg2026", today=date(2026, 5, 20))
    [row] = paper.rows
    assert row.position == "Allowances benchmarked against neighbours"
    assert row.awaiting.startswith("New rates agreed") and row.awaiting_date == date(2026, 5, 20)
    md = render_paper(paper, "md")[0].decode()
    assert "Update awaiting review, submitted 20 May 2026" in md and "not the latest position" in md
    csv = render_paper(paper, "csv")[0].decode()
    assert "New rates agreed" not in csv          # the CSV imports back: no unaccepted update in it
    docx = render_paper(paper, "docx")[0]
    assert docx[:2] == b"PK"

    # The agenda lists it as awaiting review, not as a new position.
    agenda = (await ask(h, "/meeting", "agenda")).visible
    assert "rec-1* update _awaiting review_ (20 May 2026): New rates agreed" in agenda

    # The digest of a meeting held meanwhile: "Updates awaiting review", not "Positions recorded".
    h.clock.now = at(date(2026, 5, 21), 10)
    await ask(h, "/meeting", "new 21 May 2026 9:00")
    h.clock.now = at(date(2026, 5, 21), 12)
    await ask(h, "/meeting", "close")
    async with h.db.session() as s:
        held = await s.scalar(select(Meeting.id).where(Meeting.closed_at.is_not(None)))
    digest = payload_text(await outbox(h, f"digest:meeting:{held}"))
    waiting = digest.split("Updates awaiting review (1)")[1]
    assert "rec-1" in waiting and "awaiting review" in waiting and "&lt;b&gt;" in waiting
    assert "New rates agreed" not in digest.split("Updates awaiting review")[0]

    # Accepted: now it is the latest everywhere, and no longer labelled.
    await dispatcher(h).run_once()
    bob = next(r for r in dms(h, "UBOB") if "New rates agreed" in r.visible)
    await h.press(bob.button("Accept"), user="UBOB", channel="DUBOB", message=bob)
    await h.settle()
    async with h.db.session() as s:
        assert await s.scalar(select(Position.review_state).order_by(Position.id.desc()).limit(1)) == "accepted"
        paper = await build_position_paper(s, "T1", "cyp", "sg2026", today=date(2026, 5, 21))
    assert paper.rows[0].position.startswith("New rates agreed") and paper.rows[0].awaiting is None
    history = (await ask(h, "/position", "rec-1 history", user="UCAROL")).visible
    assert "awaiting review" not in history


# ---- dropping an item from the agenda -------------------------------------------------------------

async def test_an_item_dropped_from_the_agenda_is_not_asked_for_nor_chased_and_can_be_put_back(harness):
    h = harness
    h.clock.now = at(date(2026, 5, 1), 10)
    await set_up(h)
    await h.command("/scrutiny", f'role "{DIRECTOR}" <@UDAVE|dave>', user="UADMIN", channel="CCYP")
    await ask(h, "/meeting", "new 4 June 2026 10:00")
    await action(h, "Arrange foster carer training", date(2026, 7, 15))       # act-1
    await action(h, "Publish the sufficiency strategy", date(2026, 9, 30))    # act-2
    await action(h, "Audit the front door", date(2026, 7, 31), owner=DIRECTOR)   # act-3, Dave's only item

    # Only the chair, officers and admins; a polite line for what can't be done, nothing changed.
    assert "Only the chair and officers" in (await ask(h, "/meeting", "drop act-2", user="UDAVE")).text
    assert "isn't a reference" in (await ask(h, "/meeting", "drop nonsense")).text
    assert "Say which item" in (await ask(h, "/meeting", "drop")).text
    assert "takes only the item" in (await ask(h, "/meeting", "undrop act-2 please")).text
    dropped = await ask(h, "/meeting", "drop act-2 because it is covered by the <b>strategy</b> review")
    assert "act-2 is dropped from the agenda of the meeting of Thu 4 Jun 2026, 10:00" in dropped.text
    assert "&lt;b&gt;strategy&lt;/b&gt;" in dropped.visible
    assert "already dropped" in (await ask(h, "/meeting", "drop act-2")).text
    await ask(h, "/meeting", "drop act-3")

    # Wednesday 20 May, ten working days before: Carol is asked about act-1 only; Dave, whose only
    # item is dropped, isn't asked at all.
    async with h.db.session() as s, s.begin():
        assert await updates.queue_update_requests(s, at(date(2026, 5, 20), 9).astimezone(timezone.utc),
                                                   h.settings, render=updates_ui) == 1
    h.clock.now = at(date(2026, 5, 20), 9, 10)
    await dispatcher(h).run_once()
    [carol] = dms(h, "UCAROL")
    assert "Arrange foster carer training" in carol.visible and "sufficiency" not in carol.visible
    assert dms(h, "UDAVE") == []

    # The agenda shows them as dropped, with who, when and why, and not as due for report.
    agenda = await ask(h, "/meeting", "agenda", user="UDAVE")
    text = agenda.visible
    section = text.split("Dropped from this agenda (2)")[1]
    assert "act-2" in section and "dropped from this agenda" in section and "covered by the" in section
    assert "1 items for report" in agenda.text or "1 item" in agenda.text
    assert "act-2" not in text.split("Dropped from this agenda")[0]

    # Undo (the button on the answer) puts act-2 back; act-3 stays dropped, so Dave is not chased.
    await h.press(dropped.button("Undo"), user="UBOB", channel="CCYP", message=dropped)
    await h.settle()
    h.clock.now = at(date(2026, 6, 1), 9)
    async with h.db.session() as s, s.begin():
        assert await updates.queue_update_requests(s, at(date(2026, 6, 1), 9).astimezone(timezone.utc),
                                                   h.settings, render=updates_ui) == 1
    chase = [k for k in await keys(h, "updates:chase:")]
    assert len(chase) == 1 and chase[0].endswith(":UCAROL:auto")
    assert "Publish the sufficiency strategy" in payload_text(await outbox(h, chase[0]))
    assert "wasn't dropped" in (await ask(h, "/meeting", "undrop act-2")).text
    assert "back on the agenda" in (await ask(h, "/meeting", "undrop act-3")).text

    # Kept, never deleted; every step audited, the automatic chase too.
    async with h.db.session() as s:
        drops = list(await s.scalars(select(AgendaDrop).order_by(AgendaDrop.id)))
        events = [(e.action, e.actor) for e in await s.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert [(d.reason, d.undone_at is not None) for d in drops] == [
        ("it is covered by the <b>strategy</b> review", True), (None, True)]
    assert ("agenda_drop", "UBOB") in events and ("agenda_undrop", "UBOB") in events
    assert ("chase", audit.SYSTEM) in events and ("request", audit.SYSTEM) in events


# ---- meetings moved or cancelled ----------------------------------------------------------------

async def test_requests_follow_a_meeting_moved_and_none_for_one_cancelled(harness):
    h = harness
    h.clock.now = at(date(2026, 5, 1), 10)
    await set_up(h)
    await action(h, "Arrange foster carer training", date(2026, 7, 15))
    await ask(h, "/meeting", "new 4 June 2026 10:00")
    await ask(h, "/meeting", "move 18 June 2026 10:00")

    async def run(day: date, hh: int = 9) -> int:
        async with h.db.session() as s, s.begin():
            return await updates.queue_update_requests(s, at(day, hh).astimezone(timezone.utc), h.settings,
                                                       render=updates_ui)
    assert await run(date(2026, 5, 20)) == 0        # ten working days before the old date: nothing
    assert await run(date(2026, 6, 3)) == 0         # eleven working days before 18 June
    assert await run(date(2026, 6, 4)) == 1         # ten
    h.clock.now = at(date(2026, 6, 4), 10)
    await ask(h, "/meeting", "cancel")
    assert await run(date(2026, 6, 15)) == 0        # the chase day, but the meeting is cancelled
    async with h.db.session() as s:
        assert await s.scalar(select(func.count()).select_from(UpdateRequest)) == 1


# ---- the export --since-last-meeting -------------------------------------------------------------

async def test_export_since_last_meeting(harness, database_url, tmp_path):
    h = harness
    h.clock.now = at(date(2026, 5, 18), 10)
    await set_up(h)
    await action(h, "Arrange foster carer training", date(2026, 5, 29))   # act-1
    await action(h, "Report foster carer numbers", date(2026, 9, 30))     # act-2
    await action(h, "Audit the case files", date(2026, 7, 31))            # act-3
    h.clock.now = at(date(2026, 5, 20), 10, 30)
    await ask(h, "/meeting", "new 20 May 2026 10:00")
    h.clock.now = at(date(2026, 5, 20), 12)
    await ask(h, "/meeting", "close")
    h.clock.now = at(date(2026, 5, 26), 10)
    await ask(h, "/update", "act-2 position Numbers *collected* from the agencies", user="UCAROL")
    await ask(h, "/update", "act-1 status in progress", user="UCAROL")
    await ask(h, "/update", "act-3 status implemented")

    async with h.db.session() as s:
        paper = await changes.build_changes(s, "T1", "cyp", at(date(2026, 5, 27), 10), LONDON)
    assert paper.since == "the meeting of 20 May 2026" and paper.next_meeting is None
    whats = {(c.ref, c.what) for c in paper.changes}
    assert ("act-2", "New position (26 May 2026)") in whats
    assert ("act-1", "Status: not started → in progress") in whats
    assert any(ref == "act-3" and what.startswith("Closed: implemented") for ref, what in whats)
    md = changes.render(paper, "md")[0].decode()
    assert "# Changes since the meeting of 20 May 2026" in md and r"Numbers \*collected\*" in md
    assert changes.render(paper, "docx")[0][:2] == b"PK"

    if not database_url.startswith("sqlite"):
        return
    out = tmp_path / "changes.md"
    result = run_cli("export", "--committee", "cyp", "--since-last-meeting", "--out", str(out),
                     database_url=database_url)
    assert result.returncode == 0, result.stderr
    assert "Wrote" in result.stdout and "act-2" in out.read_text()
    refused = run_cli("export", "--committee", "cyp", "--since-last-meeting", "--format", "csv",
                      database_url=database_url)
    assert refused.returncode == 2 and "md or docx" in refused.stderr


# ---- the console demo ----------------------------------------------------------------------------

async def _demo_counts(url: str) -> dict:
    from bot.db import Database
    db = Database(url)
    try:
        async with db.session() as s:
            return {m.__tablename__: await s.scalar(select(func.count()).select_from(m))
                    for m in (Meeting, UpdateRequest, Item, Position)}
    finally:
        await db.dispose()


def test_console_demo_request_update_and_accept(tmp_path):
    db = tmp_path / "demo.db"
    script = (":user sarah\n:inbox\n1\nInduction pack agreed with the Board\n\n31 March 2027\n\n\n\n"
              "/position rec-4 history\n:user graham\n/meeting updates\n:inbox\n1\n/position rec-4\n:quit\n")
    result = run_demo(db, script)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Traceback" not in out + result.stderr
    assert "Please give an update on 3 items before Children and Young People Policy and Scrutiny Committee" in out
    assert "went to the committee's officer to accept" in out
    assert "_awaiting review_" in out.split("HISTORY OF SG2010/REC-4")[1]
    assert "Answered:* @Sarah" in out
    assert "sent an update on sg2010/rec-4 for review" in out and "[1] Accept  [2] Return" in out
    assert "Accepted: it is now the latest position of *sg2010/rec-4*" in out
    card = out.split("SG2010/REC-4 · RECOMMENDATION 4")[-1]
    assert "Induction pack agreed with the Board" in card and "31 Mar 2027" in card
    first = asyncio.run(_demo_counts(sqlite_url_for(db)))
    assert first["meetings"] == 1 and first["update_requests"] == 4

    # Started again: no second meeting, no second request, nothing duplicated.
    again = run_demo(db, ":user sarah\n:inbox\n:quit\n")
    assert again.returncode == 0, again.stderr
    assert asyncio.run(_demo_counts(sqlite_url_for(db))) == first
