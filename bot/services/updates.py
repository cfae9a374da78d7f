"""Asking for updates before a meeting (issue 14).

- `update_days` working days before each scheduled meeting (settings.update_days), every Slack
  user holding a role that owns an open item of the committee gets ONE DM listing their items,
  each with a "Give update" button; CHASE_DAYS working days before, those who have not answered
  are chased once more. Scheduled work, a plain function of `now`, queued through the outbox
  under deterministic keys (bot.services.reminders' _Batch), so running it twice queues once.
- What an owner sends is a Position in review_state "submitted", with the status, revised date
  and RAG it asks for kept beside it (`proposed`). The committee's officers and chair get a DM
  with Accept / Return; an update that says nothing is flagged to them first.
- Accepted: it becomes the latest position (models.reads.latest_positions reads only accepted
  ones) and what it proposed is applied to the item. Returned: with a reason, which goes to the
  owner with the form prefilled. Rows are never overwritten but for their review state, and
  every step is audited.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import UserError
from bot.core.status import OPEN, RAGS, STATUSES
from bot.core.workdays import is_working_day
from bot.services import audit
from bot.services.committees import require_channel_committee
from bot.services.context import Ctx
from bot.services.items import ItemChanges, apply_changes, require_can_update
from bot.services.meetings import current_meeting, require_meeting_officer
from bot.services.reminders import _Batch, _officers, _owner_users, local_today, working_hours
from models import reads
from models.meetings import Meeting
from models.tables import Committee, Item, Position, Role, RoleHolder
from models.updates import UpdateRequest

CHASE_DAYS = 3   # the automatic chase: this many working days before the meeting

SUBMITTED, ACCEPTED, RETURNED = "submitted", "accepted", "returned"
_SAYS_NOTHING = re.compile(r"^(no (change|changes|update|further update|progress)( to report)?|nothing (new|to report)|"
                           r"n/?a|none|nil|as (above|before)|same as (before|last time)|-+|\.+)[.!]*$", re.I)


def working_days_before(d: date, n: int) -> date:
    """The working day n working days before d (n=0: d itself or the working day before)."""
    while not is_working_day(d):
        d -= timedelta(days=1)
    for _ in range(n):
        d -= timedelta(days=1)
        while not is_working_day(d):
            d -= timedelta(days=1)
    return d


def flags(text: str | None, item: Item | reads.ItemRow, proposed: dict, today: date) -> list[str]:
    """Why an update says nothing the committee can use (empty for a good one)."""
    found = []
    text = (text or "").strip()
    if not text:
        found.append("it has no position")
    elif _SAYS_NOTHING.match(text):
        found.append("it says no change")
    due = proposed.get("due")
    due = date.fromisoformat(due) if isinstance(due, str) else due
    late = item.due is not None and item.due < today and item.status in OPEN
    if late and (proposed.get("status") or item.status) in OPEN and (due is None or due <= today):
        found.append("the item is overdue and it gives no revised date")
    return found


# ---- the scheduled round ----------------------------------------------------------------------

async def _open_items(session: AsyncSession, committee_id: int) -> list[reads.ItemRow]:
    t = reads.items
    rows, _ = await session.run_sync(
        lambda s: reads.item_rows(s.connection(), [t.c.committee_id == committee_id, t.c.status.in_(OPEN)],
                                  order_by=(t.c.review_id, t.c.kind.desc(), t.c.seq, t.c.id)))
    return rows


def by_owner(items: list[reads.ItemRow]) -> dict[str, list[reads.ItemRow]]:
    found: dict[str, list[reads.ItemRow]] = {}
    for item in items:
        for user in _owner_users(item):
            found.setdefault(user, []).append(item)
    return found


async def queue_update_requests(session: AsyncSession, now: datetime, settings, *, render) -> int:
    """Queue the requests and automatic chases due at `now`; returns how many were newly queued."""
    if not working_hours(now, settings.tz):
        return 0
    today = local_today(now, settings.tz)
    horizon = now + timedelta(days=settings.update_days * 2 + 14)   # enough calendar days for the working ones
    meetings = list(await session.scalars(
        select(Meeting).where(Meeting.closed_at.is_(None), Meeting.cancelled_at.is_(None),
                              Meeting.starts_at > now, Meeting.starts_at <= horizon)
        .order_by(Meeting.starts_at, Meeting.id)))
    batch = _Batch()
    for meeting in meetings:
        day = meeting.starts_at.astimezone(settings.tz).date()
        if today < working_days_before(day, settings.update_days) or today >= day:
            continue
        chase = today >= working_days_before(day, CHASE_DAYS)
        owners = by_owner(await _open_items(session, meeting.committee_id))
        if not owners:
            continue
        requests = {r.user_id: r for r in await session.scalars(
            select(UpdateRequest).where(UpdateRequest.meeting_id == meeting.id))}
        for user, owned in owners.items():
            request = requests.get(user)
            if request is None:
                request = UpdateRequest(team_id=meeting.team_id, committee_id=meeting.committee_id,
                                        meeting_id=meeting.id, user_id=user, requested_at=now)
                session.add(request)
                await session.flush()
                audit.record(session, team_id=meeting.team_id, actor="scheduled", at=now, entity="update_request",
                             entity_id=request.id, action="request", after={"meeting_id": meeting.id, "user": user,
                                                                            "items": [i.id for i in owned]})
            batch.add(f"updates:request:{meeting.id}:{user}", meeting.team_id, user,
                      lambda meeting=meeting, owned=owned, rid=request.id: render.request(
                          meeting, owned, rid, settings.tz, today, chase=False))
            if chase and request.answered_at is None:
                if request.chased_at is None:
                    request.chased_at = now
                batch.add(f"updates:chase:{meeting.id}:{user}:auto", meeting.team_id, user,
                          lambda meeting=meeting, owned=owned, rid=request.id: render.request(
                              meeting, owned, rid, settings.tz, today, chase=True))
    await batch.flush(session, now)
    return batch.queued


# ---- submitting ------------------------------------------------------------------------------

@dataclass
class Proposal:
    text: str | None
    status: str | None = None
    due: date | None = None
    rag: str | None = None          # red/amber/green, "auto", or None to leave alone
    rag_reason: str | None = None

    def as_json(self) -> dict:
        return {"status": self.status, "due": self.due.isoformat() if self.due else None, "rag": self.rag,
                "rag_reason": self.rag_reason}


async def submit(session: AsyncSession, ctx: Ctx, item: Item, p: Proposal, *, request_id: int | None,
                 render) -> tuple[Position, list[str]]:
    await require_can_update(session, ctx, item)
    if p.status is not None and p.status not in STATUSES:
        raise UserError(f"“{p.status}” isn't a status.")
    if p.rag not in (None, "auto", *RAGS):
        raise UserError(f"“{p.rag}” isn't a RAG.")
    if p.rag not in (None, "auto") and not p.rag_reason:
        raise UserError("Say why you are setting the RAG by hand.")
    request = await session.get(UpdateRequest, request_id) if request_id else None
    if request is not None and (request.team_id != ctx.team_id or request.committee_id != item.committee_id):
        request = None
    position = Position(item_id=item.id, text=(p.text or "").strip(), as_of=ctx.today, author_user_id=ctx.user_id,
                        source="slack", created_at=ctx.now, review_state=SUBMITTED, proposed=p.as_json(),
                        request_id=request.id if request else None)
    session.add(position)
    if request is not None and request.answered_at is None:
        request.answered_at = ctx.now
    await session.flush()
    found = flags(position.text, item, position.proposed, ctx.today)
    audit.record(session, team_id=ctx.team_id, actor=ctx.user_id, at=ctx.now, entity="position",
                 entity_id=position.id, action="update_submitted",
                 after={"item_id": item.id, "text": position.text, **position.proposed, "flags": found})
    committee = item.committee
    batch = _Batch()
    for user in await reviewers(session, committee):
        batch.add(f"updates:review:{position.id}:{user}", ctx.team_id, user,
                  lambda: render.review(item, position, found, ctx.user_id, ctx.today))
    await batch.flush(session, ctx.now)
    return position, found


async def reviewers(session: AsyncSession, committee: Committee) -> list[str]:
    """The committee's officers, then its chair: who accepts or returns updates."""
    users = list((await _officers(session, [committee.id])).get(committee.id, []))
    chairs = await session.scalars(
        select(RoleHolder.user_id).join(Role, Role.id == RoleHolder.role_id).where(
            Role.committee_id == committee.id, Role.kind == "chair", RoleHolder.ended_at.is_(None),
            RoleHolder.user_id.is_not(None)).order_by(RoleHolder.started_at, RoleHolder.id))
    return users + [u for u in chairs if u not in users]


# ---- reviewing -----------------------------------------------------------------------------

async def _to_review(session: AsyncSession, ctx: Ctx, position_id: int) -> tuple[Position, Item]:
    position = await session.get(Position, position_id, with_for_update=True)
    item = await session.get(Item, position.item_id) if position is not None else None
    if item is None or item.team_id != ctx.team_id:
        raise UserError("That update is no longer there.")
    await require_meeting_officer(session, ctx, item.committee, "accept or return updates")
    if position.review_state != SUBMITTED:
        raise UserError(f"That update of {item.ref} was {position.review_state} already.")
    return position, item


async def accept(session: AsyncSession, ctx: Ctx, position_id: int) -> tuple[Item, Position]:
    position, item = await _to_review(session, ctx, position_id)
    proposed = position.proposed or {}
    due = date.fromisoformat(proposed["due"]) if proposed.get("due") else None
    changes = ItemChanges(status=proposed.get("status"), due=due, rag=proposed.get("rag"),
                          rag_reason=proposed.get("rag_reason"))
    if any(v is not None for v in (changes.status, changes.due, changes.rag)):
        await apply_changes(session, ctx, item, changes)
    position.review_state, position.reviewed_by, position.reviewed_at = ACCEPTED, ctx.user_id, ctx.now
    audit.record(session, team_id=ctx.team_id, actor=ctx.user_id, at=ctx.now, entity="position",
                 entity_id=position.id, action="update_accepted", before={"review_state": SUBMITTED},
                 after={"review_state": ACCEPTED})
    return item, position


async def return_update(session: AsyncSession, ctx: Ctx, position_id: int, reason: str, *, render) -> tuple[Item, Position]:
    reason = (reason or "").strip()
    if not reason:
        raise UserError("Say why it is being returned.")
    position, item = await _to_review(session, ctx, position_id)
    position.review_state, position.reviewed_by, position.reviewed_at = RETURNED, ctx.user_id, ctx.now
    position.review_note = reason
    audit.record(session, team_id=ctx.team_id, actor=ctx.user_id, at=ctx.now, entity="position",
                 entity_id=position.id, action="update_returned", before={"review_state": SUBMITTED},
                 after={"review_state": RETURNED, "reason": reason})
    if position.author_user_id:
        batch = _Batch()
        batch.add(f"updates:returned:{position.id}", ctx.team_id, position.author_user_id,
                  lambda: render.returned(item, position, reason, ctx.user_id))
        await batch.flush(session, ctx.now)
    return item, position


async def returned_position(session: AsyncSession, ctx: Ctx, position_id: int) -> Position | None:
    """A returned update of the person's own, to prefill the form with (None: start afresh)."""
    position = await session.get(Position, position_id)
    if position is None or position.author_user_id != ctx.user_id or position.review_state != RETURNED:
        return None
    return position


# ---- /meeting updates and the chase --------------------------------------------------------------

@dataclass
class Round:
    committee: Committee
    meeting: Meeting | None
    answered: list[str] = field(default_factory=list)
    outstanding: list[str] = field(default_factory=list)
    awaiting_review: int = 0


async def round_of(session: AsyncSession, ctx: Ctx) -> Round:
    committee = await require_channel_committee(session, ctx)
    meeting = await current_meeting(session, committee, ctx.now)
    if meeting is None:
        return Round(committee, None)
    requests = list(await session.scalars(
        select(UpdateRequest).where(UpdateRequest.meeting_id == meeting.id).order_by(UpdateRequest.id)))
    waiting = len(list(await session.scalars(
        select(Position.id).join(Item, Item.id == Position.item_id).where(
            Item.committee_id == committee.id, Position.review_state == SUBMITTED))))
    return Round(committee, meeting, [r.user_id for r in requests if r.answered_at is not None],
                 [r.user_id for r in requests if r.answered_at is None], waiting)


async def chase(session: AsyncSession, ctx: Ctx, meeting_id: int, *, render) -> int:
    """Chase everyone outstanding now (officers and chair): queues once per person a day."""
    meeting = await session.get(Meeting, meeting_id)
    if meeting is None or meeting.team_id != ctx.team_id:
        raise UserError("That meeting is no longer there.")
    await require_meeting_officer(session, ctx, meeting.committee, "chase updates")
    owners = by_owner(await _open_items(session, meeting.committee_id))
    batch = _Batch()
    for request in await session.scalars(select(UpdateRequest).where(
            UpdateRequest.meeting_id == meeting.id, UpdateRequest.answered_at.is_(None))):
        owned = owners.get(request.user_id)
        if not owned:
            continue
        request.chased_at = ctx.now
        audit.record(session, team_id=ctx.team_id, actor=ctx.user_id, at=ctx.now, entity="update_request",
                     entity_id=request.id, action="chase")
        batch.add(f"updates:chase:{meeting.id}:{request.user_id}:{ctx.today.isoformat()}", ctx.team_id,
                  request.user_id, lambda owned=owned, rid=request.id: render.request(
                      meeting, owned, rid, ctx.tz, ctx.today, chase=True))
    await batch.flush(session, ctx.now)
    return batch.queued
