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
day per meeting), and drop an open item from a meeting's agenda (`/meeting drop rec-3 [reason]`,
undone with `/meeting undrop` or Undo): it is listed as "dropped from this agenda", and its owners
are not asked for an update for that meeting nor chased (bot.services.updates).

`since_last_meeting` is the same "changed since the last meeting" for the export
`--since-last-meeting` (bot.export.changes)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import NotFound, UserError
from bot.core.status import CLOSED, OPEN, item_overdue
from bot.services import audit
from bot.services.committees import require_channel_committee
from bot.services.context import Ctx
from bot.services.items import load_item, resolve
from bot.services.meetings import (
    NEW_EXAMPLE,
    _enqueue_parts,
    current_meeting,
    previous_meeting,
    require_meeting_officer,
)
from models import reads
from models.carry import AgendaDrop
from models.meetings import Meeting
from models.queries import committee_by_code
from models.tables import AuditEvent, Committee, Item, Position


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
    dropped: list[tuple[reads.ItemRow, AgendaDrop]] = field(default_factory=list)   # by the officer, for this meeting

    @property
    def due_for_report(self) -> list[reads.ItemRow]:
        return self.carried + self.new


class AgendaRenderer(Protocol):
    def agenda(self, a: Agenda, tz, *, for_channel: bool = False): ...


def _since(previous: Meeting | None) -> datetime | None:
    if previous is None:
        return None
    return previous.closed_at or previous.ends_at


_UNSET = object()


async def build_agenda(session: AsyncSession, committee, meeting: Meeting | None, now: datetime, tz,
                       previous=_UNSET) -> Agenda:
    """The agenda of `meeting`; with meeting None, of the next meeting not yet scheduled, after
    `previous` (the last meeting held)."""
    today = now.astimezone(tz).date()
    if previous is _UNSET:
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
    drops = await dropped_from(session, meeting.id) if meeting is not None else {}
    carried = [r for r in open_rows if (since is None or created[r.id] <= since) and r.id not in drops]
    new = [r for r in open_rows if since is not None and created[r.id] > since and r.id not in drops]
    a = Agenda(committee, meeting, previous, since, carried, new, today=today)
    a.dropped = [(r, drops[r.id]) for r in open_rows if r.id in drops]
    pos_query = select(Position).where(Position.item_id.in_(list(by_id) or [0]))
    if since is not None:
        pos_query = pos_query.where(Position.created_at > since)
    for p in await session.scalars(pos_query.where(Position.review_state != "returned")
                                   .order_by(Position.created_at, Position.id)):
        # An update awaiting review is listed as such (review_state "submitted"), never as a position.
        a.positions.append((by_id[p.item_id], reads.PositionRow(p.id, p.item_id, p.text, p.as_of, p.author_user_id,
                                                                p.author_name, p.source, p.review_state)))
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
    a.overdue = sorted((r for r in open_rows if item_overdue(r, today)),
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


async def since_last_meeting(session: AsyncSession, team_id: str, committee_code: str, now: datetime, tz) -> Agenda:
    """What changed since the committee's last meeting (the export `--since-last-meeting`): the
    agenda of its current or next meeting — the same "changed since the last meeting" as
    `/meeting agenda` — or, with none scheduled, everything since the last meeting held."""
    committee = await committee_by_code(session, team_id, committee_code)
    if committee is None:
        raise NotFound(f"There is no committee `{committee_code}` in this workspace.")
    meeting = await current_meeting(session, committee, now)
    if meeting is not None:
        return await build_agenda(session, committee, meeting, now, tz)
    held = (await session.scalars(select(Meeting).where(
        Meeting.committee_id == committee.id, Meeting.team_id == committee.team_id, Meeting.starts_at <= now,
        Meeting.cancelled_at.is_(None)).order_by(Meeting.starts_at.desc(), Meeting.id.desc()).limit(1))).first()
    if held is None:
        raise UserError(f"{committee.name} has held no meeting yet: there is no “since the last meeting”.")
    return await build_agenda(session, committee, None, now, tz, previous=held)


# ---- dropping an item from a meeting's agenda ------------------------------------------------------

async def dropped_from(session: AsyncSession, meeting_id: int) -> dict[int, AgendaDrop]:
    """Item id -> its standing drop from this meeting's agenda."""
    return {d.item_id: d for d in await session.scalars(select(AgendaDrop).where(
        AgendaDrop.meeting_id == meeting_id, AgendaDrop.undone_at.is_(None)).order_by(AgendaDrop.id))}


@dataclass
class Dropped:
    meeting: Meeting
    item: Item
    drop: AgendaDrop | None     # the standing drop (None: undone)
    newly: bool                 # False: it already was (or wasn't) dropped


def parse_drop(text: str) -> tuple[str, str | None]:
    """`rec-3 [reason]` -> (ref, reason)."""
    ref, _, reason = (text or "").strip().partition(" ")
    if not ref:
        raise UserError("Say which item, e.g. `/meeting drop rec-3 not due until the spring`.")
    reason = " ".join(reason.split()) or None
    if reason and reason.lower().startswith("because "):
        reason = reason[len("because "):].strip() or None
    if reason and len(reason) > 500:
        raise UserError("Keep the reason under 500 characters.")
    return ref, reason


async def _drop_target(session: AsyncSession, ctx: Ctx, ref: str | None, *, meeting_id: int | None,
                       item_id: int | None = None) -> tuple[Meeting, Item]:
    if meeting_id is not None:
        meeting = await session.get(Meeting, meeting_id)
        if meeting is None or meeting.team_id != ctx.team_id:
            raise NotFound("That meeting no longer exists.")
        committee = await session.get(Committee, meeting.committee_id)
    else:
        row, meeting = await _committee_meeting(session, ctx)
        committee = await session.get(Committee, row.id)
    await require_meeting_officer(session, ctx, committee, "change the agenda")
    if meeting.closed_at is not None or meeting.cancelled_at is not None:
        raise UserError("That meeting is over: its agenda can't change now.")
    item = await resolve(session, ctx, ref) if item_id is None else await load_item(session, ctx, item_id)
    if item.committee_id != committee.id:
        raise UserError(f"{item.ref} isn't an item of {committee.name}.")
    return meeting, item


async def drop(session: AsyncSession, ctx: Ctx, ref: str, reason: str | None, *,
               meeting_id: int | None = None) -> Dropped:
    """`/meeting drop rec-3 [reason]`: drop an open item from the current or next meeting's agenda
    (its officers, chair and admins). Not asked for an update for that meeting, not chased;
    audited. Dropping it again changes nothing."""
    meeting, item = await _drop_target(session, ctx, ref, meeting_id=meeting_id)
    if item.status not in OPEN:
        raise UserError(f"{item.ref} is {item.status}: closed items are on no agenda.")
    standing = (await dropped_from(session, meeting.id)).get(item.id)
    if standing is not None:
        return Dropped(meeting, item, standing, False)
    row = AgendaDrop(team_id=ctx.team_id, meeting_id=meeting.id, item_id=item.id, reason=reason,
                     dropped_by=ctx.user_id, dropped_at=ctx.now)
    session.add(row)
    await session.flush()
    audit.record(session, team_id=ctx.team_id, actor=ctx.user_id, at=ctx.now, entity="item", entity_id=item.id,
                 action="agenda_drop", after={"meeting_id": meeting.id, "reason": reason, "drop_id": row.id})
    return Dropped(meeting, item, row, True)


async def undrop(session: AsyncSession, ctx: Ctx, ref: str | None, *, meeting_id: int | None = None,
                 item_id: int | None = None) -> Dropped:
    """`/meeting undrop rec-3` (or Undo): the item is back on the agenda; the drop is kept, ended."""
    meeting, item = await _drop_target(session, ctx, ref, meeting_id=meeting_id, item_id=item_id)
    standing = (await dropped_from(session, meeting.id)).get(item.id)
    if standing is None:
        return Dropped(meeting, item, None, False)
    standing.undone_at, standing.undone_by = ctx.now, ctx.user_id
    audit.record(session, team_id=ctx.team_id, actor=ctx.user_id, at=ctx.now, entity="item", entity_id=item.id,
                 action="agenda_undrop", before={"meeting_id": meeting.id, "drop_id": standing.id},
                 after={"meeting_id": meeting.id})
    return Dropped(meeting, item, None, True)


__all__ = ["since_last_meeting", "Agenda", "Dropped", "agenda", "build_agenda", "drop", "dropped_from", "parse_drop", "post_agenda",
           "undrop"]
