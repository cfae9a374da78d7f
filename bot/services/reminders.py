"""Reminders: scheduled work, a plain function of `now`.

- Owners (the Slack users holding a role that owns an item) get a DM `remind_days` before
  an open item falls due, on the first working day after it became overdue, then weekly
  while it stays open and overdue — unless the item is snoozed.
- Officers get a summary of their committee's overdue and due-soon items on the first
  working day of each ISO week.
- Recommendations still awaiting the executive's response are flagged to officers from
  14 days before the two-month deadline, and once more after it has passed.

Everything happens on working days (bot.core.workdays) from 09:00 in settings.tz; a reminder
whose day fell on a weekend or bank holiday goes on the next working day. Nothing is
sent here: messages are queued in the outbox under deterministic keys, so running this
twice, or in two processes at once, queues each message once. What they say is the
caller's: queue_reminders takes a ReminderRenderer (the Slack rendering of reminders).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.status import item_overdue
from bot.core.workdays import WORKING_HOUR, holidays_of, is_working_day, next_working_day
from bot.delivery import enqueue_many
from bot.services import audit
from bot.services import settings as council_settings
from bot.services.context import Ctx
from bot.services.items import counted, on_hold, require_can_update
from models import reads
from models.delivery import OutboxMessage
from models.tables import Committee, Item, Review, Role, RoleHolder

SNOOZE_DAYS = 7
SOON_DAYS = 14                   # "due soon" in the officers' summary (as RAG amber)
EXEC_RESPONSE_MONTHS = 2         # the executive must respond to a scrutiny report within two months
EXEC_WARN_DAYS = 14              # officers are told this many days before that deadline
EXEC_STALE_DAYS = 183            # a report whose deadline passed longer ago than this is history: no flag


# ---- when ------------------------------------------------------------------------------

def local_today(now: datetime, tz) -> date:
    return now.astimezone(tz).date()


def working_hours(now: datetime, tz) -> bool:
    """A working day, at or after 09:00 local time."""
    local = now.astimezone(tz)
    return is_working_day(local.date()) and local.time() >= WORKING_HOUR


def before_day(due: date, remind_days: int) -> date:
    """The day the "falls due soon" reminder goes: remind_days before, or the next working day."""
    return next_working_day(due - timedelta(days=remind_days), include_today=True)


def first_overdue_day(due: date) -> date:
    """The first working day after the due date."""
    return next_working_day(due)


def overdue_week(due: date, today: date) -> int | None:
    """Which weekly overdue nudge is due today (0 = the first), or None before the first.
    Nudge n belongs to the week starting first_overdue_day + 7n; on a working day it goes
    (if not sent already), so one that fell on a holiday goes on the next working day."""
    first = first_overdue_day(due)
    if today < first:
        return None
    return (today - first).days // 7


def first_working_day_of_week(d: date) -> date:
    monday = d - timedelta(days=d.weekday())
    return next_working_day(monday, include_today=True)


def add_months(d: date, n: int) -> date:
    """The same day n months on, clamped to the month's end (31 Dec + 2 months = 28/29 Feb)."""
    y, m = divmod(d.month - 1 + n, 12)
    year, month = d.year + y, m + 1
    last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(d.day, last))


def exec_response_deadline(agreed_on: date) -> date:
    return add_months(agreed_on, EXEC_RESPONSE_MONTHS)


# ---- what the reminders say: the caller's ---------------------------------------------------

class Rendered(Protocol):
    """A message as a renderer returns it: its payload is what is queued."""

    def payload(self) -> dict: ...


class ReminderRenderer(Protocol):
    """What queuing reminders needs from the rendering the caller passes (a module with these
    functions will do). Items come as read rows (models.reads.ItemRow) or as ORM items: both
    carry what a message shows."""

    def before_due(self, item, today: date) -> Rendered: ...

    def overdue(self, item, today: date, week: int) -> Rendered: ...

    def officer_summary(self, committee, overdue_items: list, soon: list, today: date, week_label: str,
                        soon_days: int, *, escalated: list = ()) -> Rendered: ...

    def exec_response(self, review: Review, committee: Committee, recs: list[Item], deadline: date, today: date,
                      *, late: bool) -> Rendered: ...


# ---- queuing ---------------------------------------------------------------------------

@dataclass
class _Pending:
    key: str
    team_id: str
    channel: str
    build: Callable[[], Rendered]


class _Batch:
    """Candidate messages: their keys are looked up in one query, and only the new ones are
    built and queued (the worker runs this every few seconds; most keys already exist)."""

    def __init__(self) -> None:
        self.pending: list[_Pending] = []
        self.queued = 0
        self.keep: Callable[[str], bool] | None = None   # only these workspaces' (a round per settings group)

    def add(self, key: str, team_id: str, channel: str, build: Callable[[], Rendered]) -> None:
        if self.keep is not None and not self.keep(team_id):
            return
        self.pending.append(_Pending(key[:300], team_id, channel, build))

    async def flush(self, session: AsyncSession, now: datetime) -> int:
        if not self.pending:
            return 0
        keys = list(dict.fromkeys(p.key for p in self.pending))
        existing: set[str] = set()
        for start in range(0, len(keys), 500):
            existing.update(await session.scalars(
                select(OutboxMessage.key).where(OutboxMessage.key.in_(keys[start:start + 500]))))
        new = []
        for p in self.pending:
            if p.key not in existing:
                existing.add(p.key)
                new.append(dict(team_id=p.team_id, key=p.key, channel=p.channel, payload=p.build().payload()))
        # In a few multi-row inserts. Another process may have queued some since the lookup:
        # the unique key settles it, and those are not counted.
        queued = await enqueue_many(session, new, now=now)
        self.pending.clear()
        self.queued += queued
        return queued


def _owner_users(item) -> list[str]:
    """Current Slack-user holders of the item's owning roles, each once."""
    users: list[str] = []
    for owner in item.owners:
        for h in owner.role.current_holders:
            if h.user_id and h.user_id not in users:
                users.append(h.user_id)
    return users


async def _officers(session: AsyncSession, committee_ids: list[int]) -> dict[int, list[str]]:
    """committee id -> Slack users holding its officer role, each once."""
    if not committee_ids:
        return {}
    rows = await session.execute(
        select(Role.committee_id, RoleHolder.user_id).join(RoleHolder, RoleHolder.role_id == Role.id).where(
            Role.committee_id.in_(committee_ids), Role.kind == "officer", RoleHolder.ended_at.is_(None),
            RoleHolder.user_id.is_not(None)).order_by(RoleHolder.started_at, RoleHolder.id))
    found: dict[int, list[str]] = {}
    for committee_id, user_id in rows:
        users = found.setdefault(committee_id, [])
        if user_id not in users:
            users.append(user_id)
    return found


# ---- the three kinds of reminder ---------------------------------------------------------

OWNER_CHUNK = 500


async def _owner_reminders(session: AsyncSession, batch: _Batch, today: date, remind_days: int,
                           now: datetime, render: ReminderRenderer) -> None:
    """Every overdue item in every workspace is a candidate each week, so the items are read
    (with their owners) and their reminders queued a chunk at a time: memory stays flat."""
    horizon = today + timedelta(days=max(remind_days, 0) + 7)  # a holiday can only push a day later
    ids = list(await session.scalars(
        select(Item.id).where(counted(Item.__table__, today), Item.due.is_not(None), Item.due <= horizon)
        .order_by(Item.due, Item.id)))
    for start in range(0, len(ids), OWNER_CHUNK):
        # Plain rows with their owners' holders (models/reads.py): cheaper than loading the
        # chunk into the ORM, and nothing stays in the session's identity map.
        chunk, _ = await session.run_sync(reads.item_rows, [reads.items.c.id.in_(ids[start:start + OWNER_CHUNK])],
                                          order_by=(reads.items.c.due, reads.items.c.id))
        _owner_candidates(batch, chunk, today, remind_days, render)
        await batch.flush(session, now)


def _owner_candidates(batch: _Batch, items: list[reads.ItemRow], today: date, remind_days: int,
                      render: ReminderRenderer) -> None:
    for item in items:
        if item.snoozed_until is not None and item.snoozed_until >= today or on_hold(item, today):
            continue
        due = item.due
        if due >= today:
            if before_day(due, remind_days) <= today:
                for user in _owner_users(item):
                    batch.add(f"remind:before:{item.id}:{due.isoformat()}:{user}", item.team_id, user,
                              lambda item=item: render.before_due(item, today))
            continue
        week = overdue_week(due, today)
        if week is None:
            continue
        for user in _owner_users(item):
            batch.add(f"remind:overdue:{item.id}:{due}:{user}:{week}", item.team_id, user,
                      lambda item=item, week=week: render.overdue(item, today, week))


async def _officer_summaries(session: AsyncSession, batch: _Batch, today: date, render: ReminderRenderer) -> None:
    if today != first_working_day_of_week(today):
        return
    iso = today.isocalendar()
    week_label = f"{iso.year}-W{iso.week:02d}"
    soon_until = today + timedelta(days=SOON_DAYS)
    t = reads.items
    items, _ = await session.run_sync(
        reads.item_rows, [counted(t, today), t.c.due.is_not(None), t.c.due <= soon_until],
        order_by=(t.c.due, t.c.committee_id, t.c.review_id, t.c.kind.desc(), t.c.seq, t.c.id))
    by_committee: dict[int, list[reads.ItemRow]] = {}
    for item in items:
        by_committee.setdefault(item.committee_id, []).append(item)
    officers = await _officers(session, list(by_committee))
    # Escalations still standing (bot.services.escalations), listed in the summary too.
    from bot.services.escalations import standing  # (it imports this module)
    escalated = await standing(session, list(by_committee), today)
    for committee_id, rows in by_committee.items():
        late = [i for i in rows if item_overdue(i, today)]
        soon = [i for i in rows if i.due >= today]
        committee = rows[0].committee
        flagged = escalated.get(committee_id, [])
        for user in officers.get(committee_id, []):
            batch.add(f"summary:{committee_id}:{week_label}:{user}", committee.team_id, user,
                      lambda committee=committee, late=late, soon=soon, flagged=flagged: render.officer_summary(
                          committee, late, soon, today, week_label, SOON_DAYS, escalated=flagged))


async def _exec_response_flags(session: AsyncSession, batch: _Batch, today: date,
                               render: ReminderRenderer) -> None:
    # Deadlines between EXEC_STALE_DAYS ago and EXEC_WARN_DAYS ahead: a cheap filter on agreed_on.
    earliest = add_months(today - timedelta(days=EXEC_STALE_DAYS), -EXEC_RESPONSE_MONTHS) - timedelta(days=3)
    latest = add_months(today + timedelta(days=EXEC_WARN_DAYS), -EXEC_RESPONSE_MONTHS) + timedelta(days=3)
    reviews = list(await session.scalars(
        select(Review).where(Review.agreed_on.is_not(None), Review.agreed_on >= earliest,
                             Review.agreed_on <= latest).order_by(Review.id)))
    flagged: list[tuple[Review, date, bool]] = []
    for review in reviews:
        deadline = exec_response_deadline(review.agreed_on)
        if deadline - timedelta(days=EXEC_WARN_DAYS) <= today <= deadline:
            flagged.append((review, deadline, False))
        elif deadline < today <= deadline + timedelta(days=EXEC_STALE_DAYS):
            flagged.append((review, deadline, True))
    if not flagged:
        return
    officers = await _officers(session, list({r.committee_id for r, _, _ in flagged}))
    for review, deadline, late in flagged:
        users = officers.get(review.committee_id, [])
        if not users:
            continue
        recs = list(await session.scalars(
            select(Item).where(Item.review_id == review.id, Item.kind == "rec", Item.exec_response == "awaiting",
                               Item.status != "withdrawn").order_by(Item.seq, Item.id)))
        if not recs:
            continue
        committee = await session.get(Committee, review.committee_id)
        suffix = ":overdue" if late else ""
        for user in users:
            batch.add(f"execresponse:{review.id}:{user}{suffix}", review.team_id, user,
                      lambda review=review, committee=committee, recs=recs, deadline=deadline, late=late:
                      render.exec_response(review, committee, recs, deadline, today, late=late))


async def queue_reminders(session: AsyncSession, now: datetime, settings, *, render: ReminderRenderer) -> int:
    """Queue every reminder due at `now`, as `render` draws them; returns how many were newly
    queued. Runs inside the caller's transaction. `settings` gives the defaults; councils with a
    time zone, bank holidays or lead time of their own (`/scrutiny settings`) get a round of their own."""
    batch = _Batch()
    for council in await council_settings.profiles(session, settings, "tz_name", "holiday_region", "remind_days"):
        with holidays_of(council.region):
            if not working_hours(now, council.tz):
                continue
            today = local_today(now, council.tz)
            batch.keep = council.includes
            await _owner_reminders(session, batch, today, council.remind_days, now, render)
            await _officer_summaries(session, batch, today, render)
            await _exec_response_flags(session, batch, today, render)
            await batch.flush(session, now)
    return batch.queued


# ---- "Snooze a week" -----------------------------------------------------------------------

async def snooze(session: AsyncSession, ctx: Ctx, item: Item) -> tuple[date, bool]:
    """No reminders about the item for a week from today (owners, officers, chair and admins
    only). Returns (snoozed until, newly): pressing again never extends a snooze beyond a week
    from today, and a press racing another is settled by the conditional UPDATE."""
    await require_can_update(session, ctx, item)
    until = ctx.today + timedelta(days=SNOOZE_DAYS)
    before = item.snoozed_until
    result = await session.execute(
        update(Item).where(Item.id == item.id, or_(Item.snoozed_until.is_(None), Item.snoozed_until < until))
        .values(snoozed_until=until).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        await session.refresh(item, ["snoozed_until"])
        return item.snoozed_until or until, False
    item.snoozed_until = until
    audit.record(session, team_id=ctx.team_id, actor=ctx.user_id, at=ctx.now, entity="item", entity_id=item.id,
                 action="snooze", before={"snoozed_until": before}, after={"snoozed_until": until})
    return until, True


__all__ = ["ReminderRenderer", "add_months", "before_day", "exec_response_deadline", "first_overdue_day",
           "first_working_day_of_week", "overdue_week", "queue_reminders", "snooze", "working_hours"]
