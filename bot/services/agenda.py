"""`/meeting agenda`: what the next (or current) meeting of a committee takes, worked out from
the items, their positions and the audit trail — nothing is copied, so items roll forward on
their own.

- Due for report: every open item of the committee (paused and deferred ones too, marked so).
  Of these, "carried forward" are those that were already open at the last meeting; the rest
  are new since.
- Changed since the last meeting (since it closed, or ended when it wasn't closed): new
  positions, status changes, and items closed. An item signed off at or before the last meeting
  is closed, so it is on no list of the next agenda: it drops off.
- Overdue: open items past their due date, not paused or deferred.

The officer can post the agenda to the committee's channel (queued through the outbox, once a
day per meeting)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import NotFound, UserError
from bot.core.status import CLOSED, OPEN
from bot.services.committees import require_channel_committee
from bot.services.context import Ctx
from bot.services.items import on_hold
from bot.services.meetings import (
    NEW_EXAMPLE,
    _enqueue_parts,
    current_meeting,
    previous_meeting,
    require_meeting_officer,
)
from models import reads
from models.meetings import Meeting
from models.tables import AuditEvent, Committee, Position


@dataclass
class Agenda:
    committee: object
    meeting: Meeting
    previous: Meeting | None
    since: datetime | None
    carried: list[reads.ItemRow]                      # open, and open at the last meeting
    new: list[reads.ItemRow]                          # open, added since the last meeting
    positions: list[tuple[reads.ItemRow, reads.PositionRow]] = field(default_factory=list)
    status_changes: list[tuple[reads.ItemRow, str | None, str]] = field(default_factory=list)
    closed: list[reads.ItemRow] = field(default_factory=list)   # closed since the last meeting
    overdue: list[reads.ItemRow] = field(default_factory=list)
    today: date | None = None

    @property
    def due_for_report(self) -> list[reads.ItemRow]:
        return self.carried + self.new


class AgendaRenderer(Protocol):
    def agenda(self, a: Agenda, tz, *, for_channel: bool = False): ...


def _since(previous: Meeting | None) -> datetime | None:
    if previous is None:
        return None
    return previous.closed_at or previous.ends_at


async def build_agenda(session: AsyncSession, committee, meeting: Meeting, now: datetime, tz) -> Agenda:
    today = now.astimezone(tz).date()
    previous = await previous_meeting(session, meeting)
    since = _since(previous)
    t = reads.items
    order = (t.c.due.is_(None), t.c.due, t.c.review_id, t.c.kind.desc(), t.c.seq, t.c.id)
    rows, _ = await reads.in_session(session, reads.item_rows,
                                     [t.c.committee_id == committee.id, t.c.team_id == committee.team_id],
                                     order_by=order, with_latest=True)
    by_id = {r.id: r for r in rows}
    open_rows = [r for r in rows if r.status in OPEN]
    created = dict((await session.execute(select(reads.items.c.id, reads.items.c.created_at).where(
        reads.items.c.committee_id == committee.id))).all())
    carried = [r for r in open_rows if since is None or created[r.id] <= since]
    new = [r for r in open_rows if since is not None and created[r.id] > since]
    a = Agenda(committee, meeting, previous, since, carried, new, today=today)
    pos_query = select(Position).where(Position.item_id.in_(list(by_id) or [0]))
    if since is not None:
        pos_query = pos_query.where(Position.created_at > since)
    for p in await session.scalars(pos_query.order_by(Position.created_at, Position.id)):
        a.positions.append((by_id[p.item_id], reads.PositionRow(p.id, p.item_id, p.text, p.as_of, p.author_user_id,
                                                                p.author_name, p.source)))
    audit_query = select(AuditEvent).where(
        AuditEvent.team_id == committee.team_id, AuditEvent.entity == "item", AuditEvent.action == "update",
        AuditEvent.entity_id.in_(list(by_id) or [0]))
    if since is not None:
        audit_query = audit_query.where(AuditEvent.at > since)
    changes: dict[int, tuple[str | None, str]] = {}
    for ev in await session.scalars(audit_query.order_by(AuditEvent.at, AuditEvent.id)):
        if isinstance(ev.after, dict) and "status" in ev.after:
            first = changes.get(ev.entity_id, ((ev.before or {}).get("status"), ""))[0]
            changes[ev.entity_id] = (first, ev.after["status"])
    for item_id, (before, after) in changes.items():
        if before == after:
            continue
        a.status_changes.append((by_id[item_id], before, after))
        if after in CLOSED and by_id[item_id].status in CLOSED:
            a.closed.append(by_id[item_id])
    a.overdue = sorted((r for r in open_rows if r.due is not None and r.due < today and not on_hold(r, today)),
                       key=lambda r: (r.due, r.id))
    return a


async def _committee_meeting(session: AsyncSession, ctx: Ctx) -> tuple[object, Meeting]:
    committee = await require_channel_committee(session, ctx)
    meeting = await current_meeting(session, await session.get(Committee, committee.id), ctx.now)
    if meeting is None:
        raise UserError(f"{committee.name} has no meeting in progress or scheduled. Schedule one with {NEW_EXAMPLE}.")
    return committee, meeting


async def agenda(session: AsyncSession, ctx: Ctx) -> Agenda:
    """`/meeting agenda`: the agenda of this channel's committee's current or next meeting."""
    committee, meeting = await _committee_meeting(session, ctx)
    return await build_agenda(session, committee, meeting, ctx.now, ctx.tz)


async def post_agenda(session: AsyncSession, ctx: Ctx, meeting_id: int, *, render: AgendaRenderer) -> tuple[Agenda, bool]:
    """"Post to channel": queue the agenda to the committee's channel (chair, officers, admins).
    Returns (the agenda, newly queued): a second press the same day posts nothing more."""
    meeting = await session.get(Meeting, meeting_id)
    if meeting is None or meeting.team_id != ctx.team_id:
        raise NotFound("That meeting no longer exists.")
    committee = await session.get(Committee, meeting.committee_id)
    await require_meeting_officer(session, ctx, committee, "post the agenda")
    if not committee.channel_id:
        raise UserError(f"{committee.name} has no channel to post to.")
    a = await build_agenda(session, committee, meeting, ctx.now, ctx.tz)
    newly = await _enqueue_parts(session, ctx.team_id, f"agenda:{meeting.id}:{ctx.today.isoformat()}",
                                 committee.channel_id, render.agenda(a, ctx.tz, for_channel=True), ctx.now)
    return a, newly


__all__ = ["Agenda", "agenda", "build_agenda", "post_agenda"]
