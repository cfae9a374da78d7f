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
- An item dropped from the meeting's agenda (bot.services.agenda) is not asked about nor chased.
- An owner outside Slack (a role holder known only by email) is asked by email (with a mail
  server configured) with a personal link to a page where they write each update (GET/POST
  /update/<token>, bot.server); only the token's hash is kept, and the link is sealed in the
  outbox. What they send goes through the same review; a returned one is emailed back with why.
- What Scrutineer does on its own (requests, automatic chases) is audited as audit.SYSTEM.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import UserError
from bot.core.status import OPEN, RAGS, STATUSES, item_overdue
from bot.core.workdays import holidays_of, is_working_day
from bot.services import audit
from bot.services import settings as council_settings
from bot.services.agenda import dropped_from
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
    late = item_overdue(item, today)
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


async def _due_items(session: AsyncSession, meeting: Meeting) -> list[reads.ItemRow]:
    """The items due for report at this meeting: open, and not dropped from its agenda."""
    dropped = await dropped_from(session, meeting.id)
    return [r for r in await _open_items(session, meeting.committee_id) if r.id not in dropped]


def by_owner(items: list[reads.ItemRow]) -> dict[str, list[reads.ItemRow]]:
    found: dict[str, list[reads.ItemRow]] = {}
    for item in items:
        for user in _owner_users(item):
            found.setdefault(user, []).append(item)
    return found


async def queue_update_requests(session: AsyncSession, now: datetime, settings, *, render,
                                anytime: bool = False, mail: UpdateMailRenderer | None = None) -> int:
    """Queue the requests and automatic chases due at `now`; returns how many were newly queued.
    Each committee is asked its own update_days before a meeting (else its council's, else
    settings.update_days), in its council's time zone and bank holidays."""
    resolver = await council_settings.Resolver.load(session, settings)
    queued = 0
    for council in resolver.profiles("tz_name", "holiday_region"):
        with holidays_of(council.region):
            queued += await _queue_update_requests(session, now, council, resolver, render=render, anytime=anytime,
                                                   mail=mail)
    return queued


async def _queue_update_requests(session: AsyncSession, now: datetime, settings, resolver, *, render,
                                 anytime: bool = False, mail: UpdateMailRenderer | None = None) -> int:
    """The councils of one time zone and bank holidays (settings: theirs, a settings profile).
    Only in working hours, unless `anytime` (the console demo, started at any hour)."""
    if not anytime and not working_hours(now, settings.tz):
        return 0
    today = local_today(now, settings.tz)
    most = max(settings.update_days, council_settings.LIMITS["update_days"][1])   # a committee may ask earlier
    horizon = now + timedelta(days=most * 2 + 14)   # enough calendar days for the working ones
    meetings = list(await session.scalars(
        select(Meeting).where(Meeting.closed_at.is_(None), Meeting.cancelled_at.is_(None),
                              Meeting.starts_at > now, Meeting.starts_at <= horizon)
        .order_by(Meeting.starts_at, Meeting.id)))
    meetings = [m for m in meetings if settings.includes(m.team_id)]
    await resolver.load_committees(session, {m.committee_id for m in meetings})
    batch = _Batch()
    for meeting in meetings:
        day = meeting.starts_at.astimezone(settings.tz).date()
        update_days = resolver.committee(meeting.team_id, meeting.committee_id).update_days
        if today < working_days_before(day, update_days) or today >= day:
            continue
        chase = today >= working_days_before(day, CHASE_DAYS)
        due_items = await _due_items(session, meeting)
        if mail is not None:   # owners outside Slack, known only by email
            await _email_requests(session, meeting, due_items, now, today, settings.tz, chase, mail)
        owners = by_owner(due_items)
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
                audit.record(session, team_id=meeting.team_id, actor=audit.SYSTEM, at=now, entity="update_request",
                             entity_id=request.id, action="request", after={"meeting_id": meeting.id, "user": user,
                                                                            "items": [i.id for i in owned]})
            batch.add(f"updates:request:{meeting.id}:{user}", meeting.team_id, user,
                      lambda meeting=meeting, owned=owned, rid=request.id: render.request(
                          meeting, owned, rid, settings.tz, today, chase=False))
            if chase and request.answered_at is None:
                if request.chased_at is None:
                    request.chased_at = now

                def auto_chase(meeting=meeting, owned=owned, rid=request.id, user=user):
                    # Built only when newly queued: the automatic chase is audited once, like a manual one.
                    audit.record(session, team_id=meeting.team_id, actor=audit.SYSTEM, at=now,
                                 entity="update_request", entity_id=rid, action="chase",
                                 after={"meeting_id": meeting.id, "user": user, "automatic": True})
                    return render.request(meeting, owned, rid, settings.tz, today, chase=True)
                batch.add(f"updates:chase:{meeting.id}:{user}:auto", meeting.team_id, user, auto_chase)
    await batch.flush(session, now)
    return batch.queued


# ---- owners outside Slack: asked by email, answering on a page ------------------------------------

UPDATE_LINK_DAYS = 2   # the link works until this many days after the meeting starts


class UpdateMailRenderer(Protocol):
    """What asking by email needs from the caller (bot.export.letter_email.UpdateMail)."""

    def update_link(self, token: str) -> str: ...

    def request_email(self, meeting: Meeting, items: list, link: str, tz, today: date, *, name: str | None) -> dict: ...

    def chase_email(self, original: dict, meeting: Meeting, tz) -> dict: ...

    def returned_email(self, original: dict, item, reason: str) -> dict: ...


def update_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def by_email(items: list[reads.ItemRow]) -> dict[str, tuple[str | None, list[reads.ItemRow]]]:
    """Address (lower case) -> (name, items) of the owners' current holders known only by email."""
    found: dict[str, tuple[str | None, list[reads.ItemRow]]] = {}
    for item in items:
        for owner in item.owners:
            for h in owner.role.current_holders:
                if h.email and not h.user_id:
                    name, owned = found.setdefault(h.email.strip().lower(), (h.name, []))
                    if item not in owned:
                        owned.append(item)
    return found


async def _email_requests(session: AsyncSession, meeting: Meeting, items: list[reads.ItemRow], now: datetime,
                          today: date, tz, chase: bool, mail: UpdateMailRenderer) -> None:
    """One email per outside owner with a personal link to a page to send their updates (once, under
    its key), and the automatic chase: the same email again, a line before it (the link is only in
    the first email, sealed)."""
    from bot.delivery import enqueue
    from bot.delivery.mail import EMAIL_METHOD
    from bot.services.letters import mail_lane
    from models.delivery import OutboxMessage

    for email, (name, owned) in by_email(items).items():
        lane = mail_lane(email)
        request = await session.scalar(select(UpdateRequest).where(
            UpdateRequest.meeting_id == meeting.id, UpdateRequest.user_id == lane))
        key = f"updates:request:{meeting.id}:{lane}"
        if request is None:
            token = secrets.token_urlsafe(32)
            request = UpdateRequest(team_id=meeting.team_id, committee_id=meeting.committee_id, meeting_id=meeting.id,
                                    user_id=lane, requested_at=now, email=email, token_hash=update_token_hash(token),
                                    token_expires_at=meeting.starts_at + timedelta(days=UPDATE_LINK_DAYS))
            session.add(request)
            await session.flush()
            audit.record(session, team_id=meeting.team_id, actor=audit.SYSTEM, at=now, entity="update_request",
                         entity_id=request.id, action="request",
                         after={"meeting_id": meeting.id, "email": email, "items": [i.id for i in owned]})
            await enqueue(session, team_id=meeting.team_id, key=key, channel=lane, method=EMAIL_METHOD, now=now,
                          payload={"to": email, **mail.request_email(meeting, owned, mail.update_link(token), tz,
                                                                     today, name=name)})
        if chase and request.answered_at is None:
            original = await session.scalar(select(OutboxMessage.payload).where(OutboxMessage.key == key))
            if original and await enqueue(session, team_id=meeting.team_id, key=f"updates:chase:{meeting.id}:{lane}:auto",
                                          channel=lane, method=EMAIL_METHOD, now=now,
                                          payload={"to": email, **mail.chase_email(original, meeting, tz)}):
                request.chased_at = request.chased_at or now
                audit.record(session, team_id=meeting.team_id, actor=audit.SYSTEM, at=now, entity="update_request",
                             entity_id=request.id, action="chase", after={"meeting_id": meeting.id, "email": email,
                                                                          "automatic": True})


@dataclass
class EmailedRequest:
    """What a personal update link opens: the request, its meeting and committee, the items asked
    about, and what the person already sent for each (newest first)."""
    request: UpdateRequest
    meeting: Meeting
    committee: Committee
    name: str | None
    items: list[reads.ItemRow]
    sent: dict[int, list[Position]] = field(default_factory=dict)


async def request_for_token(session: AsyncSession, token: str, now: datetime) -> EmailedRequest | None:
    """The request a personal update link names, while it works (None: unknown or expired)."""
    if not token or len(token) > 200:
        return None
    request = await session.scalar(select(UpdateRequest).where(UpdateRequest.token_hash == update_token_hash(token)))
    if request is None or request.token_expires_at is None or request.token_expires_at <= now or not request.email:
        return None
    meeting = await session.get(Meeting, request.meeting_id)
    if meeting is None or meeting.cancelled_at is not None:
        return None
    committee = await session.get(Committee, request.committee_id)
    name, owned = by_email(await _due_items(session, meeting)).get(request.email, (None, []))
    found = EmailedRequest(request, meeting, committee, name, owned)
    if owned:
        for p in await session.scalars(select(Position).where(
                Position.request_id == request.id, Position.item_id.in_([i.id for i in owned]))
                .order_by(Position.id.desc())):
            found.sent.setdefault(p.item_id, []).append(p)
    return found


async def submit_by_token(session: AsyncSession, token: str, item_id: int, p: Proposal, now: datetime, tz, *,
                          render) -> tuple[EmailedRequest, reads.ItemRow, Position, list[str]] | None:
    """An update sent on the page a personal link opens: submitted for review as from Slack
    (the officers and chair get it with Accept / Return). None: the link is unknown or expired."""
    found = await request_for_token(session, token, now)
    if found is None:
        return None
    item = next((i for i in found.items if i.id == item_id), None)
    if item is None:
        raise UserError("That item isn't one you are asked about (any more).")
    if p.status is not None and p.status not in STATUSES:
        raise UserError(f"“{p.status[:40]}” isn't a status.")
    text = (p.text or "").strip()
    if not text:
        raise UserError("Write the update: where this item has got to.")
    if len(text) > 3000:
        raise UserError("Keep the update under 3,000 characters.")
    today = now.astimezone(tz).date()
    request = found.request
    position = Position(item_id=item.id, text=text, as_of=today, author_user_id=None,
                        author_name=(found.name or request.email)[:200], source="email", created_at=now,
                        review_state=SUBMITTED, proposed=Proposal(text, p.status, p.due).as_json(),
                        request_id=request.id)
    session.add(position)
    if request.answered_at is None:
        request.answered_at = now
    await session.flush()
    flagged = flags(text, item, position.proposed, today)
    audit.record(session, team_id=request.team_id, actor=f"email:{request.email}"[:64], at=now, entity="position",
                 entity_id=position.id, action="update_submitted",
                 after={"item_id": item.id, "text": text, **position.proposed, "flags": flagged})
    author = found.name or request.email
    batch = _Batch()
    for user in await reviewers(session, found.committee):
        batch.add(f"updates:review:{position.id}:{user}", request.team_id, user,
                  lambda: render.review(item, position, flagged, None, today, author_name=author))
    await batch.flush(session, now)
    found.sent.setdefault(item.id, []).insert(0, position)
    return found, item, position, flagged


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


async def return_update(session: AsyncSession, ctx: Ctx, position_id: int, reason: str, *, render,
                        mail: UpdateMailRenderer | None = None) -> tuple[Item, Position]:
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
    elif mail is not None and position.request_id:
        await _return_by_email(session, ctx, item, position, reason, mail)
    return item, position


async def _return_by_email(session: AsyncSession, ctx: Ctx, item: Item, position: Position, reason: str,
                           mail: UpdateMailRenderer) -> None:
    """An owner outside Slack: the reason by email, with their link again (from the request's email,
    where it is sealed) — their page shows the update as returned, and why."""
    from bot.delivery import enqueue
    from bot.delivery.mail import EMAIL_METHOD
    from models.delivery import OutboxMessage

    request = await session.get(UpdateRequest, position.request_id)
    if request is None or not request.email:
        return
    original = await session.scalar(select(OutboxMessage.payload).where(
        OutboxMessage.key == f"updates:request:{request.meeting_id}:{request.user_id}"))
    if original:
        await enqueue(session, team_id=ctx.team_id, key=f"updates:returned:{position.id}", channel=request.user_id,
                      method=EMAIL_METHOD, now=ctx.now,
                      payload={"to": request.email, **mail.returned_email(original, item, reason)})


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
    # An owner outside Slack is named by their address (shown as "by email"), not a Slack mention.
    return Round(committee, meeting, [r.email or r.user_id for r in requests if r.answered_at is not None],
                 [r.email or r.user_id for r in requests if r.answered_at is None], waiting)


async def chase(session: AsyncSession, ctx: Ctx, meeting_id: int, *, render) -> int:
    """Chase everyone outstanding now (officers and chair): queues once per person a day."""
    meeting = await session.get(Meeting, meeting_id)
    if meeting is None or meeting.team_id != ctx.team_id:
        raise UserError("That meeting is no longer there.")
    await require_meeting_officer(session, ctx, meeting.committee, "chase updates")
    owners = by_owner(await _due_items(session, meeting))
    batch = _Batch()
    for request in await session.scalars(select(UpdateRequest).where(
            UpdateRequest.meeting_id == meeting.id, UpdateRequest.answered_at.is_(None))):
        owned = owners.get(request.user_id)
        if not owned or request.email:
            continue
        request.chased_at = ctx.now
        audit.record(session, team_id=ctx.team_id, actor=ctx.user_id, at=ctx.now, entity="update_request",
                     entity_id=request.id, action="chase")
        batch.add(f"updates:chase:{meeting.id}:{request.user_id}:{ctx.today.isoformat()}", ctx.team_id,
                  request.user_id, lambda owned=owned, rid=request.id: render.request(
                      meeting, owned, rid, ctx.tz, ctx.today, chase=True))
    await batch.flush(session, ctx.now)
    return batch.queued
