"""Meetings: scheduling one, its numbered decisions and actions arising, closing it, and
the digest that goes out after it.

- `/meeting new 3 June 2026 10:00` schedules a meeting of the channel's committee (read in
  settings.tz; two hours long unless said otherwise).
- The *current* meeting is the latest one that has started and isn't closed; failing
  that, the next one. Decisions ("Resolved – That (1) …") and actions arising attach to it.
- Closing a meeting queues its digest to the committee channel and a DM to each owner of a
  new or changed item, in the same transaction as the close. A meeting nobody closes is
  closed by `send_overdue_digests` (closed_by "auto") a set time after it ends.
- Corrections keep history: `/meeting cancel` closes the meeting as cancelled (never digested,
  kept and shown as cancelled), `/meeting move` changes its time, `/meeting decision 3 correct …`
  and `… withdraw` change a decision's text or mark it withdrawn (its number stays); each is
  audited. A meeting scheduled in the past is one written up after it was held: it stays
  open, and its digest delay counts from when it was recorded (recorded_at), not from its end.
- Digest keys name the logical message (f"digest:meeting:{id}", f"digest:meeting:{id}:{user}"),
  so a close racing the scheduled job, or either running twice, still sends each once.
- What the digest says is the caller's: it passes a DigestRenderer (the Slack rendering of
  meetings), and the digest is queued as that draws it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import dates
from bot.core.errors import UserError
from bot.core.status import OPEN, item_overdue
from bot.delivery import THREAD_AFTER, enqueue
from bot.services import audit, escalations
from bot.services import settings as council_settings
from bot.services.committees import (
    owner_role,
    require_channel_committee,
    require_committee_officer,
)
from bot.services.context import Ctx
from bot.services.home import refresh_item_owners
from bot.services.items import create_action, rag_of
from bot.services.parsing import parse_owners
from models.meetings import Decision, Meeting
from models.tables import AuditEvent, Committee, Item, Position, RoleHolder

DEFAULT_LENGTH = timedelta(hours=2)
MAX_TEXT = 3000
LIST_LIMIT = 20           # lines per list in the digest; the rest are counted
NEW_EXAMPLE = "`/meeting new 3 June 2026 10:00` (or `next Tuesday 2pm`)"
ACTION_EXAMPLE = ('`/meeting action Report foster carer numbers owner "Cabinet Member" due 30 September` '
                  "(or `owner @alice`)")

# A time of day: "10:00", "14:30", "10am", "2.30pm", "noon", optionally after "at".
_TIME = re.compile(
    r"(?:(?<=\s)|^)(?:at\s+)?(?:"
    r"(?P<h1>\d{1,2})(?:[:.](?P<m1>\d{2}))?\s*(?P<ap>a\.?m\.?|p\.?m\.?)(?=\s|$|[,;])"
    r"|(?P<h2>\d{1,2}):(?P<m2>\d{2})(?:\s*(?:hrs|h))?(?=\s|$|[,;])"
    r"|(?P<noon>noon|midday))", re.I)


# ---- reading what was typed ---------------------------------------------------------

def parse_when(text: str, today: date, tz: ZoneInfo) -> datetime | None:
    """A meeting's start from "3 June 2026 10:00", "next Tuesday at 2pm", "3/6/2026 14:30":
    the date read the UK way (bot.core.dates), the time of day in tz. None if either is missing
    or unreadable. Returned in UTC."""
    text = " ".join((text or "").split())
    found = list(_TIME.finditer(text))
    if len(found) != 1:
        return None
    m = found[0]
    if m["noon"]:
        hour, minute = 12, 0
    elif m["ap"]:
        hour, minute = int(m["h1"]), int(m["m1"] or 0)
        if not 1 <= hour <= 12:
            return None
        pm = m["ap"].lower().startswith("p")
        hour = hour % 12 + (12 if pm else 0)
    else:
        hour, minute = int(m["h2"]), int(m["m2"])
    if hour > 23 or minute > 59:
        return None
    rest = (text[:m.start()] + " " + text[m.end():]).strip(" ,;")
    day = dates.parse_date(rest, today) if rest else None
    if day is None:
        return None
    local = datetime.combine(day, time(hour, minute), tzinfo=tz)
    return local.astimezone(ZoneInfo("UTC"))


@dataclass
class ActionRequest:
    text: str
    owners: list            # role names, or ("user", U123)
    due: date | None


_KEYWORD = re.compile(r"(?:(?<=\s)|^)(?P<kw>owners?|due)(?=\s|$)", re.I)


def parse_action(text: str, today: date) -> ActionRequest:
    """"<text> owner <role or @user> due <when>" (either order; due may be left out).
    The last "owner" and the last "due" are the keywords, so the text may use the words."""
    text = " ".join((text or "").split())
    last: dict[str, re.Match] = {}
    for m in _KEYWORD.finditer(text):
        last["due" if m["kw"].lower() == "due" else "owner"] = m
    if "owner" not in last:
        raise UserError(f"Say who owns the action: {ACTION_EXAMPLE}.")
    marks = sorted(last.values(), key=lambda m: m.start())
    body = text[:marks[0].start()].strip(" ,;:–-")
    parts = {}
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        parts["due" if m["kw"].lower() == "due" else "owner"] = text[m.end():end].strip(" ,;")
    if not body:
        raise UserError(f"Say what the action is: {ACTION_EXAMPLE}.")
    if len(body) > MAX_TEXT:
        raise UserError(f"That action is too long: keep it under {MAX_TEXT:,} characters.")
    owners = parse_owners(parts["owner"])
    if not owners:
        raise UserError(f"Name the owner after `owner`: {ACTION_EXAMPLE}.")
    due = None
    if "due" in parts:
        due_text = parts["due"]
        due = dates.parse_date(due_text, today) if due_text else None
        if due is None:
            shown = f"“{due_text[:60]}”" if due_text else "an empty due date"
            raise UserError(f"I couldn't read {shown} as a due date, so nothing was recorded. {dates.DATE_EXAMPLES}")
    return ActionRequest(body, owners, due)


# ---- finding meetings ---------------------------------------------------------------

def _open(committee: Committee):
    return (Meeting.committee_id == committee.id, Meeting.team_id == committee.team_id,
            Meeting.closed_at.is_(None))


async def current_meeting(session: AsyncSession, committee: Committee, now: datetime) -> Meeting | None:
    """The latest not-closed meeting that has started; else the next one; else None."""
    started = (await session.scalars(
        select(Meeting).where(*_open(committee), Meeting.starts_at <= now)
        .order_by(Meeting.starts_at.desc(), Meeting.id.desc()).limit(1))).first()
    if started is not None:
        return started
    return (await session.scalars(
        select(Meeting).where(*_open(committee), Meeting.starts_at > now)
        .order_by(Meeting.starts_at, Meeting.id).limit(1))).first()


async def last_closed(session: AsyncSession, committee: Committee) -> Meeting | None:
    """The last meeting held and closed (a cancelled one was never held)."""
    return (await session.scalars(
        select(Meeting).where(Meeting.committee_id == committee.id, Meeting.team_id == committee.team_id,
                              Meeting.closed_at.is_not(None), Meeting.cancelled_at.is_(None))
        .order_by(Meeting.starts_at.desc(), Meeting.id.desc()).limit(1))).first()


async def previous_meeting(session: AsyncSession, meeting: Meeting) -> Meeting | None:
    """The committee's meeting before this one (closed or not; not a cancelled one)."""
    return (await session.scalars(
        select(Meeting).where(Meeting.committee_id == meeting.committee_id, Meeting.team_id == meeting.team_id,
                              Meeting.id != meeting.id, Meeting.starts_at < meeting.starts_at,
                              Meeting.cancelled_at.is_(None))
        .order_by(Meeting.starts_at.desc(), Meeting.id.desc()).limit(1))).first()


async def decisions_of(session: AsyncSession, meeting: Meeting) -> list[Decision]:
    return list(await session.scalars(
        select(Decision).where(Decision.meeting_id == meeting.id).order_by(Decision.number)))


async def actions_of(session: AsyncSession, meeting: Meeting) -> list[Item]:
    return list(await session.scalars(
        select(Item).where(Item.meeting_id == meeting.id, Item.team_id == meeting.team_id)
        .order_by(Item.seq, Item.id)))


# Who may schedule, record and close a committee's meetings: its chair, its officers, an admin.
require_meeting_officer = require_committee_officer


async def _require_current(session: AsyncSession, ctx: Ctx, committee: Committee) -> Meeting:
    meeting = await current_meeting(session, committee, ctx.now)
    if meeting is None:
        raise UserError(f"{committee.name} has no meeting in progress or scheduled. "
                        f"Schedule one with {NEW_EXAMPLE}.")
    return meeting


# ---- commands -----------------------------------------------------------------------

@dataclass
class MeetingView:
    """What `/meeting` shows."""
    committee: Committee
    meeting: Meeting | None
    decisions: list[Decision] = field(default_factory=list)
    actions: list[Item] = field(default_factory=list)
    now: datetime | None = None
    cancelled: list[Meeting] = field(default_factory=list)   # recently cancelled (or cancelled ahead)


CANCELLED_SHOWN = timedelta(days=14)   # `/meeting` lists meetings cancelled this recently or ahead


async def show(session: AsyncSession, ctx: Ctx) -> MeetingView:
    committee = await require_channel_committee(session, ctx)
    meeting = await current_meeting(session, committee, ctx.now)
    cancelled = list(await session.scalars(
        select(Meeting).where(Meeting.committee_id == committee.id, Meeting.team_id == committee.team_id,
                              Meeting.cancelled_at.is_not(None), Meeting.starts_at >= ctx.now - CANCELLED_SHOWN)
        .order_by(Meeting.starts_at, Meeting.id).limit(5)))
    if meeting is None:
        return MeetingView(committee, None, now=ctx.now, cancelled=cancelled)
    return MeetingView(committee, meeting, await decisions_of(session, meeting), await actions_of(session, meeting),
                       now=ctx.now, cancelled=cancelled)


async def schedule(session: AsyncSession, ctx: Ctx, text: str, *, length: timedelta | None = None) -> Meeting:
    """length: the council's meeting length (`/scrutiny settings`) unless given, else DEFAULT_LENGTH."""
    committee = await require_channel_committee(session, ctx)
    await require_meeting_officer(session, ctx, committee, "schedule its meetings")
    text = " ".join((text or "").split())
    if not text:
        raise UserError(f"Say when: {NEW_EXAMPLE}.")
    starts_at = parse_when(text, ctx.today, ctx.tz)
    if starts_at is None and dates.parse_date(text, ctx.today) is not None:
        raise UserError(f"Add a start time too, e.g. `/meeting new {text[:40]} 10:00` or `… 2pm`.")
    if starts_at is None:
        raise UserError(f"I couldn't read “{text[:60]}” as a date and time. Try {NEW_EXAMPLE}. {dates.DATE_EXAMPLES}")
    if length is None:
        length = await council_settings.meeting_length(session, ctx.team_id, DEFAULT_LENGTH)
    ends_at = starts_at + length
    await _refuse_clash(session, committee, starts_at, ctx.tz)
    # A meeting that has already ended is being written up after it was held: recorded, not closed.
    recorded_at = ctx.now if ends_at <= ctx.now else None
    meeting = Meeting(team_id=ctx.team_id, committee_id=committee.id, committee=await session.get(Committee, committee.id), starts_at=starts_at,
                      ends_at=ends_at, created_by=ctx.user_id, created_at=ctx.now, recorded_at=recorded_at)
    session.add(meeting)
    await session.flush()
    audit.record(session, team_id=ctx.team_id, actor=ctx.user_id, at=ctx.now, entity="meeting",
                 entity_id=meeting.id, action="create",
                 after={"committee": committee.code, "starts_at": starts_at, "ends_at": ends_at,
                        **({"recorded_after_it_was_held": True} if recorded_at else {})})
    return meeting


async def _refuse_clash(session: AsyncSession, committee: Committee, starts_at: datetime, tz: ZoneInfo,
                        moving: Meeting | None = None) -> None:
    conds = [Meeting.committee_id == committee.id, Meeting.starts_at == starts_at, Meeting.cancelled_at.is_(None)]
    if moving is not None:
        conds.append(Meeting.id != moving.id)
    if (await session.scalars(select(Meeting).where(*conds))).first() is not None:
        raise UserError(f"{committee.name} already has a meeting at {describe_start(starts_at, tz)}.")


def held_already(meeting: Meeting, now: datetime) -> bool:
    """Scheduled after it was held (written up afterwards)."""
    return meeting.recorded_at is not None and meeting.ends_at <= now


# ---- corrections ----------------------------------------------------------------------

async def cancel(session: AsyncSession, ctx: Ctx) -> Meeting:
    """`/meeting cancel`: the meeting `/meeting` shows is cancelled — closed at once, so it is
    never current and its digest never goes; kept, shown as cancelled, audited."""
    committee = await require_channel_committee(session, ctx)
    await require_meeting_officer(session, ctx, committee, "cancel its meetings")
    meeting = await _require_current(session, ctx, committee)
    decisions = [d for d in await decisions_of(session, meeting) if d.withdrawn_at is None]
    actions = await actions_of(session, meeting)
    if decisions or actions:
        what = " and ".join(p for p in (
            f"{len(decisions)} decision{'' if len(decisions) == 1 else 's'}" if decisions else "",
            f"{len(actions)} action{'' if len(actions) == 1 else 's'} arising" if actions else "") if p)
        raise UserError(f"The meeting of {describe_start(meeting.starts_at, ctx.tz)} has {what} recorded, so it "
                        "was held: close it with `/meeting close`, or withdraw a decision recorded by mistake "
                        "with `/meeting decision <number> withdraw`. Nothing was cancelled.")
    result = await session.execute(
        update(Meeting).where(Meeting.id == meeting.id, Meeting.closed_at.is_(None))
        .values(closed_at=ctx.now, closed_by=ctx.user_id, cancelled_at=ctx.now, cancelled_by=ctx.user_id)
        .execution_options(synchronize_session=False))
    if not result.rowcount:
        raise UserError("That meeting was closed a moment ago, so it can't be cancelled; its digest is on its way.")
    meeting.closed_at = meeting.cancelled_at = ctx.now
    meeting.closed_by = meeting.cancelled_by = ctx.user_id
    audit.record(session, team_id=ctx.team_id, actor=ctx.user_id, at=ctx.now, entity="meeting",
                 entity_id=meeting.id, action="cancel", before={"cancelled_at": None},
                 after={"cancelled_at": ctx.now, "starts_at": meeting.starts_at})
    return meeting


@dataclass
class Moved:
    meeting: Meeting
    was_starts_at: datetime
    was_ends_at: datetime


async def move(session: AsyncSession, ctx: Ctx, text: str) -> Moved:
    """`/meeting move <when>`: the meeting `/meeting` shows starts then instead, as long as before."""
    committee = await require_channel_committee(session, ctx)
    await require_meeting_officer(session, ctx, committee, "move its meetings")
    text = " ".join((text or "").split())
    example = "`/meeting move 10 June 2026 14:00`"
    if not text:
        raise UserError(f"Say when it now starts: {example}.")
    starts_at = parse_when(text, ctx.today, ctx.tz)
    if starts_at is None:
        raise UserError(f"I couldn't read “{text[:60]}” as a date and time. Try {example}. {dates.DATE_EXAMPLES}")
    meeting = await _require_current(session, ctx, committee)
    if starts_at == meeting.starts_at:
        raise UserError(f"The meeting already starts at {describe_start(starts_at, ctx.tz)}: nothing changed.")
    await _refuse_clash(session, committee, starts_at, ctx.tz, moving=meeting)
    was = Moved(meeting, meeting.starts_at, meeting.ends_at)
    meeting.starts_at, meeting.ends_at = starts_at, starts_at + (was.was_ends_at - was.was_starts_at)
    if meeting.ends_at <= ctx.now and meeting.recorded_at is None:
        meeting.recorded_at = ctx.now   # moved into the past: its digest delay counts from now
    await session.flush()
    audit.record(session, team_id=ctx.team_id, actor=ctx.user_id, at=ctx.now, entity="meeting",
                 entity_id=meeting.id, action="move",
                 before={"starts_at": was.was_starts_at, "ends_at": was.was_ends_at},
                 after={"starts_at": meeting.starts_at, "ends_at": meeting.ends_at})
    return was


_DECISION_EDIT = re.compile(r"^\(?(?P<number>\d{1,4})\)?\s+(?P<verb>correct(?:ion|ed)?|withdraw(?:n)?)\b\s*[:–—-]?\s*(?P<text>.*)$",
                            re.I | re.S)


def parse_decision_edit(text: str) -> tuple[int, str, str] | None:
    """`3 correct <text>` → (3, "correct", text); `3 withdraw` → (3, "withdraw", ""); else None
    (the text is a new decision)."""
    m = _DECISION_EDIT.match(" ".join((text or "").split()))
    if not m:
        return None
    verb = "correct" if m["verb"].lower().startswith("correct") else "withdraw"
    return int(m["number"]), verb, m["text"].strip()


async def _decision_to_edit(session: AsyncSession, ctx: Ctx, committee: Committee,
                            number: int) -> tuple[Meeting, Decision]:
    """Decision (number) of the meeting in progress (or held, not yet closed); failing that of
    the last meeting held, or of the next one."""
    started = (await session.scalars(
        select(Meeting).where(*_open(committee), Meeting.starts_at <= ctx.now)
        .order_by(Meeting.starts_at.desc(), Meeting.id.desc()).limit(1))).first()
    candidates = [started] if started is not None else [await last_closed(session, committee),
                                                        await current_meeting(session, committee, ctx.now)]
    candidates = [m for m in candidates if m is not None]
    if not candidates:
        raise UserError(f"{committee.name} has no meeting with decisions yet.")
    for meeting in candidates:
        decision = (await session.scalars(select(Decision).where(
            Decision.meeting_id == meeting.id, Decision.number == number))).first()
        if decision is not None:
            return meeting, decision
    raise UserError(f"The meeting of {describe_start(candidates[0].starts_at, ctx.tz)} has no decision ({number}). "
                    "`/meeting` lists its decisions.")


@dataclass
class DecisionEdit:
    meeting: Meeting
    decision: Decision
    verb: str                 # "correct" | "withdraw"
    before: str | None = None  # the text it replaced


async def edit_decision(session: AsyncSession, ctx: Ctx, number: int, verb: str, text: str = "") -> DecisionEdit:
    """`/meeting decision 3 correct <text>` or `… 3 withdraw`: the decision keeps its number;
    its old text (or its withdrawal) is in the audit trail."""
    committee = await require_channel_committee(session, ctx)
    await require_meeting_officer(session, ctx, committee, "correct its decisions")
    meeting, decision = await _decision_to_edit(session, ctx, committee, number)
    if decision.withdrawn_at is not None:
        raise UserError(f"Decision ({number}) was withdrawn on "
                        f"{dates.format_date(decision.withdrawn_at.astimezone(ctx.tz).date())}, so it can't be "
                        f"{'corrected' if verb == 'correct' else 'withdrawn again'}. Record a new one with "
                        "`/meeting decision <text>`.")
    if verb == "withdraw":
        if text:
            raise UserError(f"`/meeting decision {number} withdraw` takes nothing after it.")
        decision.withdrawn_at, decision.withdrawn_by = ctx.now, ctx.user_id
        audit.record(session, team_id=ctx.team_id, actor=ctx.user_id, at=ctx.now, entity="decision",
                     entity_id=decision.id, action="withdraw", before={"withdrawn_at": None},
                     after={"meeting_id": meeting.id, "number": number, "withdrawn_at": ctx.now})
        await session.flush()
        return DecisionEdit(meeting, decision, verb)
    text = re.sub(r"^(?:resolved\s*[–—:-]?\s*)?(?:that\s+)?", "", text, flags=re.I).strip()
    if not text:
        raise UserError(f"Say what it should read: `/meeting decision {number} correct the Cabinet Member report "
                        "back in September`.")
    if len(text) > MAX_TEXT:
        raise UserError(f"That decision is too long: keep it under {MAX_TEXT:,} characters.")
    if text == decision.text:
        raise UserError(f"Decision ({number}) already reads that: nothing changed.")
    before = decision.text
    decision.text, decision.corrected_at = text, ctx.now
    audit.record(session, team_id=ctx.team_id, actor=ctx.user_id, at=ctx.now, entity="decision",
                 entity_id=decision.id, action="correct", before={"text": before},
                 after={"meeting_id": meeting.id, "number": number, "text": text})
    await session.flush()
    return DecisionEdit(meeting, decision, verb, before)


async def add_decision(session: AsyncSession, ctx: Ctx, text: str) -> tuple[Meeting, Decision]:
    committee = await require_channel_committee(session, ctx)
    await require_meeting_officer(session, ctx, committee, "record its decisions")
    text = " ".join((text or "").split())
    text = re.sub(r"^(?:resolved\s*[–—:-]?\s*)?(?:that\s+)?", "", text, flags=re.I).strip()
    if not text:
        raise UserError("Say what was resolved, e.g. `/meeting decision the Cabinet Member report back in September`.")
    if len(text) > MAX_TEXT:
        raise UserError(f"That decision is too long: keep it under {MAX_TEXT:,} characters.")
    meeting = await _require_current(session, ctx, committee)
    for attempt in range(5):  # two officers recording at once: the loser takes the next number
        number = (await session.scalar(select(func.max(Decision.number)).where(
            Decision.meeting_id == meeting.id)) or 0) + 1
        decision = Decision(meeting_id=meeting.id, number=number, text=text, created_by=ctx.user_id,
                            created_at=ctx.now)
        try:
            async with session.begin_nested():
                session.add(decision)
                await session.flush()
            break
        except IntegrityError:
            if attempt == 4:
                raise
    audit.record(session, team_id=ctx.team_id, actor=ctx.user_id, at=ctx.now, entity="decision",
                 entity_id=decision.id, action="create",
                 after={"meeting_id": meeting.id, "number": number, "text": text})
    return meeting, decision


async def add_action(session: AsyncSession, ctx: Ctx, text: str) -> tuple[Meeting, Item]:
    committee = await require_channel_committee(session, ctx)
    await require_meeting_officer(session, ctx, committee, "record its actions")
    req = parse_action(text, ctx.today)   # everything is read before anything is stored
    meeting = await _require_current(session, ctx, committee)
    roles = []
    for owner in req.owners:   # an unknown role name is refused, not made into a vacant role
        role = await owner_role(session, ctx, committee, owner)
        if role.id not in {r.id for r in roles}:
            roles.append(role)
    item = await create_action(session, team_id=ctx.team_id, committee=meeting.committee, text=req.text, roles=roles,
                               due=req.due, actor=ctx.user_id, now=ctx.now)
    item.meeting_id = meeting.id
    await session.flush()
    audit.record(session, team_id=ctx.team_id, actor=ctx.user_id, at=ctx.now, entity="meeting",
                 entity_id=meeting.id, action="add_action", after={"item_id": item.id, "ref": item.ref})
    await refresh_item_owners(session, ctx, item)   # the owners' Home tabs list it now
    return meeting, item


@dataclass
class Closed:
    meeting: Meeting
    channel_queued: bool
    dms_queued: int


async def close(session: AsyncSession, ctx: Ctx, *, render: DigestRenderer) -> Closed:
    """Mark the current meeting held and queue its digest (as `render` draws it), in this transaction."""
    committee = await require_channel_committee(session, ctx)
    await require_meeting_officer(session, ctx, committee, "close its meetings")
    meeting = (await session.scalars(
        select(Meeting).where(*_open(committee), Meeting.starts_at <= ctx.now)
        .order_by(Meeting.starts_at.desc(), Meeting.id.desc()).limit(1))).first()
    if meeting is None:
        upcoming = await current_meeting(session, committee, ctx.now)
        if upcoming is not None:
            raise UserError(f"The next meeting ({describe_start(upcoming.starts_at, ctx.tz)}) hasn't started yet, "
                            "so there is nothing to close.")
        done = await last_closed(session, committee)
        if done is not None:
            raise UserError(f"The last meeting ({describe_start(done.starts_at, ctx.tz)}) is already closed"
                            " and its digest sent.")
        raise UserError(f"{committee.name} has no meeting to close. Schedule one with {NEW_EXAMPLE}.")
    if not await _mark_closed(session, meeting, ctx.now, ctx.user_id):
        raise UserError("Someone closed that meeting a moment ago; its digest is on its way.")
    channel, dms = await queue_digest(session, meeting, ctx.now, ctx.tz, render=render)
    return Closed(meeting, channel, dms)


async def _mark_closed(session: AsyncSession, meeting: Meeting, now: datetime, by: str) -> bool:
    """Close it only if nobody has (an atomic compare-and-set: one closer wins)."""
    result = await session.execute(
        update(Meeting).where(Meeting.id == meeting.id, Meeting.closed_at.is_(None))
        .values(closed_at=now, closed_by=by).execution_options(synchronize_session=False))
    if not result.rowcount:
        return False
    meeting.closed_at, meeting.closed_by = now, by
    audit.record(session, team_id=meeting.team_id, actor=by, at=now, entity="meeting", entity_id=meeting.id,
                 action="close", before={"closed_at": None}, after={"closed_at": now, "closed_by": by})
    return True


async def send_overdue_digests(session: AsyncSession, now: datetime, settings, *, render: DigestRenderer) -> int:
    """Scheduled: close every meeting nobody closed digest_delay_minutes after it ended, and
    queue its digest. Returns how many messages were queued. Councils with a delay or time zone
    of their own (`/scrutiny settings`) are done with theirs."""
    queued = 0
    for council in await council_settings.profiles(session, settings, "digest_delay_minutes", "tz_name"):
        cutoff = now - timedelta(minutes=council.digest_delay_minutes)
        due = list(await session.scalars(
            select(Meeting).where(Meeting.closed_at.is_(None), Meeting.ends_at <= cutoff,
                                  # written up after it was held: the delay counts from when it was recorded
                                  or_(Meeting.recorded_at.is_(None), Meeting.recorded_at <= cutoff))
            .order_by(Meeting.ends_at, Meeting.id)))
        for meeting in due:
            if council.includes(meeting.team_id) and await _mark_closed(session, meeting, now, "auto"):
                channel, dms = await queue_digest(session, meeting, now, council.tz, render=render)
                queued += int(channel) + dms
    return queued


# ---- the digest ---------------------------------------------------------------------

@dataclass
class OwnerItem:
    item: Item
    why: str                  # "new" | "changed"
    positions: list[Position] = field(default_factory=list)
    status_change: tuple | None = None   # (before, after)


@dataclass
class Digest:
    meeting: Meeting
    committee: Committee
    previous: Meeting | None
    decisions: list[Decision]
    actions: list[Item]
    positions: list[tuple[Item, Position]]        # recorded since the previous meeting
    status_changes: dict[int, tuple]              # item id -> (first before, last after)
    overdue: list[Item]                           # the most overdue open items, as many as the digest lists
    overdue_count: int                            # how many open items are overdue in all
    rag_counts: dict[str, int]
    items: dict[int, Item]                        # every item the digest names (actions, new positions,
                                                  # status changes, the overdue listed), by id
    today: date
    tz: ZoneInfo
    owners: dict[str, list[OwnerItem]] = field(default_factory=dict)   # Slack user -> their items
    indicators: list = field(default_factory=list)   # the committee's indicators (services.indicators.Standing)
    escalated: list = field(default_factory=list)   # bot.services.escalations.Escalated, still standing
    awaiting_review: list[tuple[Item, Position]] = field(default_factory=list)   # updates submitted, not yet accepted


async def build_digest(session: AsyncSession, meeting: Meeting, now: datetime, tz: ZoneInfo) -> Digest:
    committee = await session.get(Committee, meeting.committee_id)
    today = now.astimezone(tz).date()
    previous = await previous_meeting(session, meeting)
    since = previous.starts_at if previous is not None else None
    decisions = await decisions_of(session, meeting)
    of_committee = (Item.committee_id == committee.id, Item.team_id == committee.team_id)
    committee_item_ids = select(Item.id).where(*of_committee)   # a subquery, not a list of every id
    # Every item counts towards the RAG totals and the overdue list, but only the items the digest
    # names are loaded whole (with their owners and holders); the rest are read as plain columns.
    brief = (await session.execute(
        select(Item.id, Item.kind, Item.seq, Item.status, Item.due, Item.rag_override, Item.paused_until)
        .where(*of_committee))).all()
    pos_query = select(Position).where(Position.item_id.in_(committee_item_ids), Position.review_state == "accepted")
    if since is not None:
        pos_query = pos_query.where(Position.created_at > since)
    recorded = list(await session.scalars(pos_query.order_by(Position.created_at, Position.id)))
    # Status changes come from the audit trail (positions are their own rows).
    status_changes: dict[int, tuple] = {}
    audit_query = select(AuditEvent).where(
        AuditEvent.team_id == committee.team_id, AuditEvent.entity == "item", AuditEvent.action == "update",
        AuditEvent.entity_id.in_(committee_item_ids))
    if since is not None:
        audit_query = audit_query.where(AuditEvent.at > since)
    for ev in await session.scalars(audit_query.order_by(AuditEvent.at, AuditEvent.id)):
        if isinstance(ev.after, dict) and "status" in ev.after:
            before = (ev.before or {}).get("status")
            first = status_changes.get(ev.entity_id, (before, None))[0]
            status_changes[ev.entity_id] = (first, ev.after["status"])
    open_items = [i for i in brief if i.status in OPEN]
    overdue_ids = [i.id for i in sorted((i for i in open_items if item_overdue(i, today)),
                                        key=lambda i: (i.due, i.kind != "rec", i.seq, i.id))]
    counts = {"red": 0, "amber": 0, "green": 0}
    for i in open_items:
        rag = rag_of(i, today)
        if rag in counts:
            counts[rag] += 1
    # Loaded whole: the actions, the items with new positions or statuses (their owners get a DM) and
    # the overdue items the digest lists; the rest of the overdue are only counted.
    wanted = {p.item_id for p in recorded} | set(status_changes) | set(overdue_ids[:LIST_LIMIT])
    arose_here = (Item.meeting_id == meeting.id, Item.team_id == meeting.team_id)   # as actions_of()
    named = {i.id: i for i in await session.scalars(select(Item).where(or_(and_(*arose_here), Item.id.in_(wanted))))}
    actions = sorted((i for i in named.values() if i.meeting_id == meeting.id and i.team_id == meeting.team_id),
                     key=lambda i: (i.seq, i.id))
    positions = [(named[p.item_id], p) for p in recorded]
    overdue = [named[i] for i in overdue_ids[:LIST_LIMIT]]
    digest = Digest(meeting, committee, previous, decisions, actions, positions, status_changes, overdue,
                    len(overdue_ids), counts, named, today, tz)
    digest.owners = await _owners_items(session, digest)
    digest.indicators = await _indicator_standings(session, committee)
    digest.escalated = (await escalations.standing(session, [committee.id], today)).get(committee.id, [])
    waiting = list(await session.scalars(select(Position).where(
        Position.item_id.in_(committee_item_ids), Position.review_state == "submitted")
        .order_by(Position.created_at, Position.id)))
    if waiting:
        more = {p.item_id for p in waiting} - set(named)
        if more:
            named.update({i.id: i for i in await session.scalars(select(Item).where(Item.id.in_(more)))})
        digest.awaiting_review = [(named[p.item_id], p) for p in waiting]
    return digest


async def _indicator_standings(session: AsyncSession, committee: Committee) -> list:
    """The digest's "Indicators" section: how each of the committee's indicators stands."""
    from bot.services.indicators import standings_of
    return await standings_of(session, committee)


async def _owners_items(session: AsyncSession, d: Digest) -> dict[str, list[OwnerItem]]:
    """Each Slack user holding an owning role of a new or changed item -> those items."""
    entries: dict[int, OwnerItem] = {}
    for item in d.actions:
        entries[item.id] = OwnerItem(item, "new")
    for item, pos in d.positions:
        entry = entries.setdefault(item.id, OwnerItem(item, "changed"))
        entry.positions.append(pos)
    for item_id, change in d.status_changes.items():
        item = d.items.get(item_id)
        if item is None or change[0] == change[1]:
            continue
        entries.setdefault(item_id, OwnerItem(item, "changed")).status_change = change
    role_ids = {o.role_id for e in entries.values() for o in e.item.owners}
    if not role_ids:
        return {}
    holders: dict[int, list[str]] = {}
    for role_id, user_id in await session.execute(
            select(RoleHolder.role_id, RoleHolder.user_id).where(
                RoleHolder.role_id.in_(role_ids), RoleHolder.ended_at.is_(None), RoleHolder.user_id.is_not(None))
            .order_by(RoleHolder.started_at, RoleHolder.id)):
        holders.setdefault(role_id, []).append(user_id)
    owners: dict[str, list[OwnerItem]] = {}
    order = sorted(entries.values(), key=lambda e: (e.why != "new", e.item.kind != "act", e.item.seq, e.item.id))
    for entry in order:
        for user_id in dict.fromkeys(u for o in entry.item.owners for u in holders.get(o.role_id, [])):
            owners.setdefault(user_id, []).append(entry)
    return owners


class Rendered(Protocol):
    """A message as a renderer returns it: its payloads are what is queued (one, or several
    when it is too long for one Slack message; the rest go as replies in the first's thread)."""

    def payloads(self, *, threaded: bool = False) -> list[dict]: ...


class DigestRenderer(Protocol):
    """What queuing a digest needs from the rendering the caller passes (a module with these
    functions will do)."""

    def meeting_digest(self, d: Digest) -> Rendered: ...

    def owner_digest(self, d: Digest, entries: list[OwnerItem]) -> Rendered: ...


async def queue_digest(session: AsyncSession, meeting: Meeting, now: datetime, tz: ZoneInfo, *,
                       render: DigestRenderer) -> tuple[bool, int]:
    """Queue the meeting's digest to the committee channel and each owner's DM, under keys
    that make a second call a no-op. Returns (channel digest queued, DMs queued)."""
    d = await build_digest(session, meeting, now, tz)
    channel_queued = False
    if d.committee.channel_id:
        channel_queued = await _enqueue_parts(session, meeting.team_id, f"digest:meeting:{meeting.id}",
                                              d.committee.channel_id, render.meeting_digest(d), now)
    dms = 0
    for user_id, entries in d.owners.items():
        if await _enqueue_parts(session, meeting.team_id, f"digest:meeting:{meeting.id}:{user_id}", user_id,
                                render.owner_digest(d, entries), now):
            dms += 1
    return channel_queued, dms


async def _enqueue_parts(session: AsyncSession, team_id: str, key: str, channel: str, message: Rendered,
                         now: datetime) -> bool:
    """Queue a message, and when it is too long for one, the rest of it as replies in its
    thread ("<key>#2", … each marked to go under the first: bot.delivery.dispatcher)."""
    first, *rest = message.payloads(threaded=True)
    if not await enqueue(session, team_id=team_id, key=key, channel=channel, payload=first, now=now):
        return False
    for n, payload in enumerate(rest, start=2):
        await enqueue(session, team_id=team_id, key=f"{key}#{n}", channel=channel,
                      payload={**payload, THREAD_AFTER: key}, now=now)
    return True


def describe_start(starts_at: datetime, tz: ZoneInfo) -> str:
    local = starts_at.astimezone(tz)
    return f"{local:%a} {dates.format_date(local.date())}, {local:%H:%M}"


__all__ = ["DecisionEdit", "Moved", "cancel", "edit_decision", "held_already", "move", "parse_decision_edit",
           "ActionRequest", "Closed", "DEFAULT_LENGTH", "Digest", "DigestRenderer", "LIST_LIMIT", "MeetingView",
           "OwnerItem", "add_action", "add_decision", "build_digest", "close", "current_meeting", "describe_start",
           "parse_action", "parse_when", "previous_meeting", "queue_digest", "schedule", "send_overdue_digests",
           "show"]
