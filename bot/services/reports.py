"""`/scrutiny report` and `scrutineer report`: how a committee's recommendations fare.

Every figure is counted from the stored rows: the items as they are now and, for the
comparison with an earlier date, the items as they were then, reconstructed by undoing the
audit trail's changes (each `update`/`import` event keeps the fields' values before and after)
made since that date. Nothing is counted on the side. The previous report's date is itself an
audit event (entity "committee", action "report")."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import dates
from bot.core.errors import NotVisible, UserError
from bot.core.status import is_overdue
from bot.services import audit
from bot.services.committees import can_see, require_channel_committee
from bot.services.context import Ctx
from bot.services.items import rag_of
from models.meetings import Agency
from models.queries import committee_by_code
from models.tables import AuditEvent, Committee, Item

IMPLEMENTED = frozenset({"implemented", "signed off"})
REPORT_ACTION = "report"
# (attribute of Tally, the words a paper uses for it), in the order a report gives them.
FIGURES = (
    ("made", "Recommendations made"),
    ("accepted", "Accepted"),
    ("partially", "Partially accepted"),
    ("not_accepted", "Not accepted"),
    ("awaiting", "Awaiting the executive response"),
    ("implemented", "Implemented (including signed off)"),
    ("signed_off", "Signed off"),
    ("overdue", "Overdue"),
)
USAGE = "`/scrutiny report` (or `/scrutiny report since 1 March 2026`; a committee code first for another committee)"


@dataclass
class Tally:
    """The figures for a set of recommendations at one moment."""
    made: int = 0
    accepted: int = 0
    partially: int = 0
    not_accepted: int = 0
    awaiting: int = 0
    implemented: int = 0        # implemented or signed off
    signed_off: int = 0
    overdue: int = 0            # open and past its due date
    days: list[int] = field(default_factory=list)   # days from agreed to implemented, where the date is known

    @property
    def average_days(self) -> float | None:
        return sum(self.days) / len(self.days) if self.days else None

    @property
    def longest_days(self) -> int | None:
        return max(self.days) if self.days else None

    def add(self, state: "State") -> None:
        self.made += 1
        response = state.response
        if response == "accepted":
            self.accepted += 1
        elif response == "partially accepted":
            self.partially += 1
        elif response == "rejected" or state.status == "not accepted":
            self.not_accepted += 1
        else:
            self.awaiting += 1
        if state.status in IMPLEMENTED:
            self.implemented += 1
            if state.days is not None:
                self.days.append(state.days)
        if state.status == "signed off":
            self.signed_off += 1
        if state.overdue:
            self.overdue += 1


@dataclass
class Line:
    """One row of a breakdown: its figures now and at the earlier date (None: no comparison)."""
    label: str
    now: Tally
    then: Tally | None = None

    def change(self, name: str) -> int | None:
        return None if self.then is None else getattr(self.now, name) - getattr(self.then, name)


@dataclass
class State:
    """One recommendation as it stood at a moment."""
    status: str
    response: str
    due: date | None
    owners: tuple[str, ...]
    overdue: bool
    days: int | None            # days to implement, when implemented and the date is known


@dataclass
class Report:
    title: str
    committees: list[str]           # names
    codes: list[str]
    today: date
    since: date | None              # the earlier date compared with (None: the first report)
    since_reason: str | None        # "asked" | "last report"
    total: Line
    by_committee: list[Line]
    by_owner: list[Line]
    by_agency: list[Line]
    rag: dict[str, int]             # open recommendations now by RAG ("red", "amber", "green")
    undated_implemented: int        # implemented, but when isn't recorded (e.g. imported already done)

    @property
    def file_stem(self) -> str:
        return f"report-{'-'.join(self.codes)}-{self.today.isoformat()}"


def parse_report_words(text: str, today: date) -> tuple[str | None, date | None]:
    """(committee code or None, since date or None) from `[code] [since <when>]`."""
    words = text.split()
    code, since = None, None
    low = [w.lower() for w in words]
    if "since" in low:
        at = low.index("since")
        when = " ".join(words[at + 1:])
        since = dates.parse_date(when, today, prefer="past")
        if since is None:
            raise UserError(f"I can't read “{when[:40]}” as a date: try {USAGE}.")
        if since > today:
            raise UserError(f"{dates.long_date(since)} is in the future: a report compares with an earlier date.")
        words = words[:at]
    if len(words) > 1:
        raise UserError(f"I don't understand “{' '.join(words)[:40]}”: try {USAGE}.")
    if words:
        code = words[0].lower().strip("`\"'.,")
    return code, since


def _end_of(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)


def _as_date(value) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _state(item: Item, events: list[AuditEvent], cutoff: datetime | None, day: date, tz: ZoneInfo) -> State | None:
    """The item as it stood at cutoff (None: now), or None when it didn't exist yet.
    events: the item's audit events, oldest first."""
    if cutoff is not None and item.created_at >= cutoff:
        return None
    status, response, due = item.status, item.exec_response, item.due
    paused_until = item.paused_until
    owners = tuple(o.role.name for o in item.owners)
    kept = events
    if cutoff is not None:
        kept = [e for e in events if e.at < cutoff]
        for e in reversed([e for e in events if e.at >= cutoff]):   # undo what came later, newest first
            before = e.before or {}
            if "status" in before:
                status = before["status"]
            if "exec_response" in before:
                response = before["exec_response"]
            if "due" in before:
                due = _as_date(before["due"])
            if "paused_until" in before:
                paused_until = _as_date(before["paused_until"])
            if "owners" in before and isinstance(before["owners"], list):
                owners = tuple(before["owners"])
    days = None
    if status in IMPLEMENTED:
        done = None      # the last change into implemented/signed off from an open status
        for e in kept:
            before, after = e.before or {}, e.after or {}
            if "status" in before and after.get("status") in IMPLEMENTED and before["status"] not in IMPLEMENTED:
                done = e.at.astimezone(tz).date()
        if done is not None:
            start = item.review.agreed_on if item.review is not None and item.review.agreed_on else \
                item.created_at.astimezone(tz).date()
            days = max(0, (done - start).days)
    return State(status, response, due, owners, is_overdue(status, due, day, paused_until), days)


def _agencies_of(owner_names: tuple[str, ...], holders: set[str], agencies: list[Agency]) -> list[str]:
    """The partner agencies an item's owners belong to, where known: the agency's name is part
    of an owner role's name ("Chief Constable, Essex Police"), or a contact holds an owner role."""
    found = []
    names = [n.lower() for n in owner_names]
    for a in agencies:
        contacts = {c.user_id for c in a.contacts if c.active and c.user_id}
        if any(a.name.lower() in n for n in names) or contacts & holders:
            found.append(a.name)
    return found


async def last_report_date(session: AsyncSession, committee_id: int, tz: ZoneInfo) -> date | None:
    at = (await session.scalars(select(AuditEvent.at).where(
        AuditEvent.entity == "committee", AuditEvent.entity_id == committee_id,
        AuditEvent.action == REPORT_ACTION).order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(1))).first()
    return at.astimezone(tz).date() if at is not None else None


async def build_report(session: AsyncSession, team_id: str, committees: list[Committee], *, now: datetime,
                       tz: ZoneInfo, since: date | None = None) -> Report:
    """The report on these committees' recommendations at `now`, compared with the end of the
    `since` day (default: the day of the previous report, if any)."""
    today = now.astimezone(tz).date()
    reason = "asked" if since is not None else None
    if since is None and len(committees) == 1:
        since = await last_report_date(session, committees[0].id, tz)
        reason = "last report" if since is not None else None
    ids = [c.id for c in committees]
    items = list(await session.scalars(select(Item).where(
        Item.team_id == team_id, Item.committee_id.in_(ids), Item.kind == "rec").order_by(Item.committee_id, Item.id)))
    events: dict[int, list[AuditEvent]] = {i.id: [] for i in items}
    if items:
        for e in await session.scalars(select(AuditEvent).where(
                AuditEvent.team_id == team_id, AuditEvent.entity == "item",
                AuditEvent.entity_id.in_(list(events))).order_by(AuditEvent.at, AuditEvent.id)):
            events[e.entity_id].append(e)
    agencies = list(await session.scalars(select(Agency).where(
        Agency.committee_id.in_(ids), Agency.removed_at.is_(None)).order_by(Agency.name)))
    cutoff = _end_of(since, tz) if since is not None else None

    total = Line("All recommendations", Tally(), Tally() if since else None)
    by_committee = {c.id: Line(c.name, Tally(), Tally() if since else None) for c in committees}
    by_owner: dict[str, Line] = {}
    by_agency: dict[str, Line] = {}
    rag = {"red": 0, "amber": 0, "green": 0}
    undated = 0

    def line(table: dict[str, Line], label: str) -> Line:
        if label not in table:
            table[label] = Line(label, Tally(), Tally() if since else None)
        return table[label]

    for item in items:
        holders = {h.user_id for o in item.owners for h in o.role.current_holders if h.user_id}
        mine = [a for a in agencies if a.committee_id == item.committee_id]
        for moment, day in (("now", today), ("then", since)):
            if moment == "then" and since is None:
                continue
            state = _state(item, events[item.id], None if moment == "now" else cutoff, day, tz)
            if state is None:
                continue
            for target in (total, by_committee[item.committee_id],
                           *(line(by_owner, name) for name in (state.owners or ("No owner",))),
                           *(line(by_agency, name) for name in _agencies_of(state.owners, holders, mine))):
                getattr(target, moment).add(state)
            if moment == "now":
                if state.status in IMPLEMENTED and state.days is None:
                    undated += 1
                if (r := rag_of(item, today)) is not None:
                    rag[r] += 1
    names = [c.name for c in committees]
    title = (f"Scrutiny recommendations: {names[0]}" if len(names) == 1 else "Scrutiny recommendations") + \
        f" – report of {dates.long_date(today)}"
    return Report(title=title, committees=names, codes=[c.code for c in committees], today=today, since=since,
                  since_reason=reason, total=total, by_committee=list(by_committee.values()),
                  by_owner=sorted(by_owner.values(), key=lambda x: (-x.now.made, x.label.lower())),
                  by_agency=sorted(by_agency.values(), key=lambda x: x.label.lower()),
                  rag=rag, undated_implemented=undated)


def record_report(session: AsyncSession, *, team_id: str, actor: str, now: datetime, committees: list[Committee],
                  report: Report) -> None:
    """Remember that the report was made: the next one compares with today."""
    for c in committees:
        audit.record(session, team_id=team_id, actor=actor, at=now, entity="committee", entity_id=c.id,
                     action=REPORT_ACTION, after={"since": report.since, "made": report.total.now.made,
                                                  "implemented": report.total.now.implemented})


async def report_committee(session: AsyncSession, ctx: Ctx, code: str | None) -> Committee:
    """The committee `/scrutiny report` is about: the channel's, or the one named, if the person may see it."""
    if code is None:
        row = await require_channel_committee(session, ctx)
        committee = await session.get(Committee, row.id)
    else:
        committee = await committee_by_code(session, ctx.team_id, code)
        if committee is None:
            raise UserError(f"There is no committee `{code[:32]}`: try {USAGE}.")
    if not await can_see(ctx, committee):
        raise NotVisible("That committee is private to its channel's members.")
    if committee.is_private and committee.channel_id != ctx.channel_id:   # the chart is posted where asked
        raise NotVisible("Ask for a private committee's report in its own channel.")
    return committee


__all__ = ["FIGURES", "IMPLEMENTED", "Line", "Report", "State", "Tally", "USAGE", "build_report",
           "last_report_date", "parse_report_words", "record_report", "report_committee"]
