"""/indicator: a committee's performance indicators and the figures recorded against them.

The rules are plain functions: reading the command, the periods councils write (`Q1 2012/13`
is April–June 2012, `June 2012`, `2012/13` the financial year, `2012` the calendar year), RAG
against the target and the direction of travel. The stored figures are appended: one recorded
again for the same period is a correction, and the older figure stays in the history.
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import UserError
from bot.core.workdays import next_working_day
from bot.services import audit
from bot.services.committees import owner_role, require_channel_committee, require_committee_officer
from bot.services.context import Ctx
from bot.services.parsing import parse_owners, split_words
from models.indicators import Indicator, IndicatorValue
from models.reads import CommitteeRow
from models.tables import Committee, Role, RoleHolder

AMBER_BAND = 0.10          # amber: missing the target by no more than 10% of it
MAX_NAME = 200
MAX_UNIT = 40
MAX_NOTE = 1000

MONTHS = {name.lower(): n for n, name in enumerate(calendar.month_name) if name}
MONTHS.update({name.lower(): n for n, name in enumerate(calendar.month_abbr) if name})
MONTHS["sept"] = 9

PERIOD_HELP = "Write the period as `Q1 2012/13` (April–June 2012), `June 2012`, `2012/13` or `2012`."


# ---- periods -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    label: str      # as shown: "Q1 2012/13", "June 2012", "2012/13", "2012"
    start: date
    end: date
    kind: str       # "quarter" | "month" | "financial year" | "year"


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _financial_year(text: str) -> int | None:
    """The first calendar year of `2012/13`, `2012-13`, `2012/2013`; None if it isn't one."""
    m = re.fullmatch(r"(\d{4})\s*[/-]\s*(\d{2}|\d{4})", text)
    if not m:
        return None
    first, second = int(m[1]), m[2]
    if int(second) != ((first + 1) % 100 if len(second) == 2 else first + 1):
        raise UserError(f"`{text}` isn't a financial year: the second year follows the first, as in "
                        f"`{first}/{(first + 1) % 100:02d}`.")
    return first


def fy_label(first: int) -> str:
    return f"{first}/{(first + 1) % 100:02d}"


def quarter(n: int, first: int) -> Period:
    """Financial-year quarter n (1–4) of the year starting April `first`."""
    start_month = 4 + 3 * (n - 1)
    year = first + (start_month - 1) // 12
    start_month = (start_month - 1) % 12 + 1
    return Period(f"Q{n} {fy_label(first)}", date(year, start_month, 1),
                  _month_end(year, start_month + 2), "quarter")


def parse_period(text: str, today: date | None = None) -> Period:
    """A period as councils write it. `today` given: one that hasn't begun is refused."""
    raw = " ".join(text.split())
    low = raw.lower().strip(" .,")
    period = None
    if m := re.fullmatch(r"q([1-4])\s+(.+)", low):
        first = _financial_year(m[2])
        if first is None:
            raise UserError(f"Which financial year is `{raw}`? Write it as `Q{m[1]} 2012/13` "
                            "(Q1 is April–June).")
        period = quarter(int(m[1]), first)
    elif m := re.fullmatch(r"([a-z]+)\s+(\d{4})", low):
        month = MONTHS.get(m[1])
        if month is None:
            raise UserError(f"`{raw}` isn't a period I know. {PERIOD_HELP}")
        year = int(m[2])
        period = Period(f"{calendar.month_name[month]} {year}", date(year, month, 1), _month_end(year, month), "month")
    elif m := re.fullmatch(r"(\d{4})-(\d{2})", low):
        year, month = int(m[1]), int(m[2])
        if not 1 <= month <= 12:
            raise UserError(f"`{raw}` isn't a month. {PERIOD_HELP}")
        period = Period(f"{calendar.month_name[month]} {year}", date(year, month, 1), _month_end(year, month), "month")
    elif (first := _financial_year(low)) is not None:
        period = Period(fy_label(first), date(first, 4, 1), date(first + 1, 3, 31), "financial year")
    elif re.fullmatch(r"\d{4}", low):
        year = int(low)
        period = Period(low, date(year, 1, 1), date(year, 12, 31), "year")
    if period is None:
        raise UserError(f"`{raw[:40]}` isn't a period I know. {PERIOD_HELP}")
    if not 1900 <= period.start.year <= 2200:
        raise UserError(f"`{raw}` is out of range. {PERIOD_HELP}")
    if today is not None and period.start > today:
        raise UserError(f"{period.label} hasn't begun yet, so it has no figure to record.")
    return period


def period_of(value: IndicatorValue) -> Period:
    """The period a stored figure is for (its label was written by parse_period)."""
    return parse_period(value.period)


# ---- RAG and direction -------------------------------------------------------------------------

def rag(value: float, target: float | None, lower_is_better: bool) -> str | None:
    """Green meets the target, amber misses it by no more than 10% of it, red otherwise.
    No target: no RAG."""
    if target is None:
        return None
    band = abs(target) * AMBER_BAND
    if lower_is_better:
        return "green" if value <= target else "amber" if value <= target + band else "red"
    return "green" if value >= target else "amber" if value >= target - band else "red"


@dataclass(frozen=True)
class Direction:
    arrow: str            # "↑", "↓" or "→"
    better: bool | None   # None: unchanged
    previous: PeriodValue

    @property
    def word(self) -> str:
        return "no change" if self.better is None else "better" if self.better else "worse"


def direction(latest: float, previous: PeriodValue | None, lower_is_better: bool) -> Direction | None:
    if previous is None:
        return None
    if latest == previous.value:
        return Direction("→", None, previous)
    up = latest > previous.value
    return Direction("↑" if up else "↓", up != lower_is_better, previous)


# ---- the figures as recorded ------------------------------------------------------------------

@dataclass
class PeriodValue:
    """An indicator's figure for one period: the newest recorded, and those it corrected."""
    period: Period
    value: float
    note: str | None
    recorded_by: str
    recorded_at: datetime
    corrected: list[IndicatorValue] = field(default_factory=list)   # older figures, oldest first


def series(values: list[IndicatorValue]) -> list[PeriodValue]:
    """One figure per period (the newest recorded), periods in order."""
    by_period: dict[tuple, list[IndicatorValue]] = {}
    for v in sorted(values, key=lambda v: (v.recorded_at, v.id)):
        by_period.setdefault((v.period_start, v.period_end), []).append(v)
    out = []
    for rows in by_period.values():
        last = rows[-1]
        out.append(PeriodValue(period_of(last), last.value, last.note, last.recorded_by, last.recorded_at,
                               corrected=rows[:-1]))
    return sorted(out, key=lambda p: (p.period.end, p.period.start))


def previous_of(points: list[PeriodValue], point: PeriodValue) -> PeriodValue | None:
    """The figure for the nearest earlier period of the same kind (a quarter's previous
    quarter, a year's previous year)."""
    earlier = [p for p in points if p.period.kind == point.period.kind and p.period.end < point.period.start]
    return earlier[-1] if earlier else None


@dataclass
class Standing:
    """How an indicator stands: its latest figure, RAG and direction of travel."""
    indicator: Indicator
    points: list[PeriodValue]
    latest: PeriodValue | None
    rag: str | None
    direction: Direction | None


def standing(indicator: Indicator, values: list[IndicatorValue]) -> Standing:
    points = series(values)
    latest = points[-1] if points else None
    if latest is None:
        return Standing(indicator, points, None, None, None)
    return Standing(indicator, points, latest, rag(latest.value, indicator.target, indicator.lower_is_better),
                    direction(latest.value, previous_of(points, latest), indicator.lower_is_better))


# ---- reading the commands ---------------------------------------------------------------------

def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def parse_number(text: str) -> float:
    t = text.strip().rstrip("%").replace(",", "")
    try:
        value = float(t)
    except ValueError:
        raise UserError(f"`{text[:30]}` isn't a number: give the figure as e.g. `35` or `95.4`.") from None
    if value != value or value in (float("inf"), float("-inf")) or abs(value) >= 1e12:
        raise UserError(f"`{text[:30]}` isn't a figure I can record.")
    return value


@dataclass
class NewIndicator:
    name: str
    unit: str | None = None
    target: float | None = None
    lower_is_better: bool = False
    owner: str | None = None


ADD_KEYWORDS = {"unit", "target", "lower-is-better", "higher-is-better", "owner"}


def parse_add(text: str) -> NewIndicator:
    """`"Re-referrals within 12 months" unit % target 25 lower-is-better owner "Head of …"`."""
    words = split_words(text)
    i = 0
    while i < len(words) and words[i].lower() not in ADD_KEYWORDS:
        i += 1
    name = " ".join(" ".join(words[:i]).split())
    if not name:
        raise UserError('Give the indicator a name first: `/indicator add "Re-referrals within 12 months" '
                        'unit % target 25 lower-is-better owner "Head of Service"`.')
    if len(name) > MAX_NAME:
        raise UserError(f"That name is too long: keep it under {MAX_NAME} characters.")
    if not slug(name):
        raise UserError("An indicator's name needs letters or digits.")
    new = NewIndicator(name)
    while i < len(words):
        word = words[i].lower()
        if word in ("lower-is-better", "higher-is-better"):
            new.lower_is_better = word == "lower-is-better"
            i += 1
            continue
        j = i + 1
        while j < len(words) and words[j].lower() not in ADD_KEYWORDS:
            j += 1
        value = " ".join(words[i + 1:j]).strip()
        if word != "owner" and j - i != 2 or not value:
            example = {"unit": "`unit %`", "target": "`target 25`", "owner": '`owner "Head of Service"`'}[word]
            raise UserError(f"`{word}` takes one value, e.g. {example}.")
        if word == "unit":
            if len(value) > MAX_UNIT:
                raise UserError(f"That unit is too long: keep it under {MAX_UNIT} characters.")
            new.unit = value
        elif word == "target":
            new.target = parse_number(value)
            if value.endswith("%") and not new.unit:
                new.unit = "%"
        else:
            new.owner = value
        i = j
    return new


@dataclass
class Recording:
    ref: str
    period: Period
    value: float
    note: str | None


def parse_rec(text: str, today: date) -> Recording:
    """`re-referrals Q1 2012/13 35 note "13 families; data cleansing under way"`: the indicator
    (a unique start of its name), the period, the figure, and an optional note."""
    m = re.search(r"(?i)(?:^|\s)note(?:\s|$)", text)
    head, note = (text[:m.start()], text[m.end():]) if m else (text, "")
    note = note.strip().strip('"“”').strip() or None
    if note and len(note) > MAX_NOTE:
        raise UserError(f"That note is too long: keep it under {MAX_NOTE:,} characters.")
    words = split_words(head)
    usage = "Say which indicator, the period and the figure: `/indicator rec re-referrals Q1 2012/13 35`."
    if len(words) < 3:
        raise UserError(usage)
    value = parse_number(words[-1])
    for n in (2, 1):
        if len(words) - 1 - n < 1:
            continue
        try:
            period = parse_period(" ".join(words[-1 - n:-1]), today)
        except UserError:
            first = words[-1 - n].lower()
            if n == 1 or re.fullmatch(r"q\d+", first) or first in MONTHS:
                raise
            continue
        return Recording(" ".join(words[:-1 - n]), period, value, note)
    raise UserError(usage)


# ---- the store ---------------------------------------------------------------------------------

async def indicators_of(session: AsyncSession, committee: CommitteeRow) -> list[Indicator]:
    # Sorted here, not by ORDER BY id: that makes PostgreSQL walk the primary key of every
    # committee's indicators instead of finding this committee's through uq_indicator_slug.
    found = await session.scalars(
        select(Indicator).where(Indicator.team_id == committee.team_id, Indicator.committee_id == committee.id))
    return sorted(found, key=lambda i: i.id)


async def values_of(session: AsyncSession, team_id: str, ids: list[int]) -> dict[int, list[IndicatorValue]]:
    out: dict[int, list[IndicatorValue]] = {i: [] for i in ids}
    if ids:
        for v in await session.scalars(select(IndicatorValue).where(
                IndicatorValue.team_id == team_id, IndicatorValue.indicator_id.in_(ids))
                .order_by(IndicatorValue.id)):
            out[v.indicator_id].append(v)
    return out


def find(indicators: list[Indicator], ref: str) -> Indicator:
    """The one indicator a typed reference means: its name or slug, or a unique start of it
    (`re-referrals`), or failing that of one of its words."""
    key = slug(ref)
    if not key:
        raise UserError("Say which indicator, e.g. `/indicator re-referrals history`.")
    for test in (lambda s: s == key, lambda s: s.startswith(key), lambda s: f"-{key}" in f"-{s}"):
        found = [i for i in indicators if test(i.slug)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            names = ", ".join(f"`{i.slug}`" for i in found[:5])
            raise UserError(f"`{ref[:40]}` could be any of {names}: type more of the name.")
    if not indicators:
        raise UserError("This committee has no indicators yet: add one with `/indicator add \"Name\" target 25`.")
    names = ", ".join(f"`{i.slug}`" for i in indicators[:8])
    raise UserError(f"There's no indicator `{ref[:40]}` here. This committee's: {names}.")




async def _holds(session: AsyncSession, ctx: Ctx, role_id: int | None) -> bool:
    if role_id is None:
        return False
    return (await session.scalar(select(RoleHolder.id).where(
        RoleHolder.role_id == role_id, RoleHolder.user_id == ctx.user_id, RoleHolder.ended_at.is_(None)))) is not None


@dataclass
class Added:
    indicator: Indicator
    committee: CommitteeRow
    owner: Role | None


async def add(session: AsyncSession, ctx: Ctx, text: str) -> Added:
    committee = await require_channel_committee(session, ctx)
    await require_committee_officer(session, ctx, committee, "add indicators")
    new = parse_add(text)
    role = None
    if new.owner:
        owners = parse_owners(new.owner)
        if len(owners) != 1:
            raise UserError('An indicator has one owner: `owner "Head of Service"` or `owner @alice`.')
        role = await owner_role(session, ctx, committee, owners[0])
    existing = await indicators_of(session, committee)
    key = slug(new.name)
    if any(i.slug == key for i in existing):
        raise UserError(f"{committee.name} already has an indicator called “{new.name}”.")
    ind = Indicator(team_id=ctx.team_id, committee_id=committee.id, name=new.name, slug=key, unit=new.unit,
                    target=new.target, lower_is_better=new.lower_is_better,
                    owner_role_id=role.id if role else None, created_by=ctx.user_id, created_at=ctx.now)
    session.add(ind)
    await session.flush()
    audit.record(session, team_id=ctx.team_id, actor=ctx.user_id, at=ctx.now, entity="indicator",
                 entity_id=ind.id, action="create",
                 after={"name": ind.name, "committee": committee.code, "unit": ind.unit, "target": ind.target,
                        "lower_is_better": ind.lower_is_better, "owner": role.name if role else None})
    return Added(ind, committee, role)


@dataclass
class Changed:
    indicator: Indicator
    committee: CommitteeRow
    owner: Role | None
    before: dict
    after: dict


async def change(session: AsyncSession, ctx: Ctx, text: str) -> Changed:
    """`/indicator set re-referrals owner "Head of Service" target 20 unit % higher-is-better`: an
    indicator's owner, target, unit or direction, changed by the chair, officers or an admin
    (audited: before and after)."""
    committee = await require_channel_committee(session, ctx)
    await require_committee_officer(session, ctx, committee, "change indicators")
    words = split_words(text)
    cut = next((k for k, w in enumerate(words) if w.lower() in ADD_KEYWORDS
                or w.lower() in ("lower-is-better", "higher-is-better")), len(words))
    if cut == 0 or cut == len(words):
        raise UserError('Say which indicator and what to change: `/indicator set re-referrals owner "Head of '
                        'Service"` (or `target 20`, `unit %`, `lower-is-better`, `higher-is-better`).')
    ind = find(await indicators_of(session, committee), " ".join(words[:cut]))
    new = parse_add(" ".join(['"x"'] + [f'"{w}"' if " " in w else w for w in words[cut:]]))
    before = {"unit": ind.unit, "target": ind.target, "lower_is_better": ind.lower_is_better,
              "owner_role_id": ind.owner_role_id}
    role = None   # the owner named now, if one is
    said = {w.lower() for w in words[cut:]}
    if new.owner:
        owners = parse_owners(new.owner)
        if len(owners) != 1:
            raise UserError('An indicator has one owner: `owner "Head of Service"` or `owner @alice`.')
        role = await owner_role(session, ctx, committee, owners[0])
        ind.owner_role, ind.owner_role_id = role, role.id
    if "unit" in said:
        ind.unit = new.unit
    if "target" in said:
        ind.target = new.target
        if new.unit and "unit" not in said and not ind.unit:
            ind.unit = new.unit
    if said & {"lower-is-better", "higher-is-better"}:
        ind.lower_is_better = new.lower_is_better
    after = {"unit": ind.unit, "target": ind.target, "lower_is_better": ind.lower_is_better,
             "owner_role_id": ind.owner_role_id}
    if after != before:
        audit.record(session, team_id=ctx.team_id, actor=ctx.user_id, at=ctx.now, entity="indicator",
                     entity_id=ind.id, action="update", before=before, after=after)
    return Changed(ind, committee, role, before, after)


@dataclass
class Recorded:
    standing: Standing
    point: PeriodValue
    replaced: IndicatorValue | None      # the figure this one corrects


async def record(session: AsyncSession, ctx: Ctx, text: str) -> Recorded:
    committee = await require_channel_committee(session, ctx)
    rec = parse_rec(text, ctx.today)
    ind = find(await indicators_of(session, committee), rec.ref)
    if not await _holds(session, ctx, ind.owner_role_id):
        await require_committee_officer(session, ctx, committee, "record indicator figures")
    before = [v for v in (await values_of(session, ctx.team_id, [ind.id]))[ind.id]
              if (v.period_start, v.period_end) == (rec.period.start, rec.period.end)]
    replaced = before[-1] if before else None
    if replaced is not None and rec.note is None:
        rec.note = replaced.note       # a corrected figure keeps the period's note unless given a new one
    row = IndicatorValue(team_id=ctx.team_id, indicator_id=ind.id, period=rec.period.label,
                         period_start=rec.period.start, period_end=rec.period.end, value=rec.value,
                         note=rec.note, recorded_by=ctx.user_id, recorded_at=ctx.now)
    session.add(row)
    await session.flush()
    audit.record(session, team_id=ctx.team_id, actor=ctx.user_id, at=ctx.now, entity="indicator",
                 entity_id=ind.id, action="correct value" if replaced else "record value",
                 before={"period": replaced.period, "value": replaced.value, "note": replaced.note} if replaced else None,
                 after={"period": row.period, "value": row.value, "note": row.note, "value_id": row.id})
    st = standing(ind, (await values_of(session, ctx.team_id, [ind.id]))[ind.id])
    point = next(p for p in st.points if p.period.start == rec.period.start and p.period.end == rec.period.end)
    return Recorded(st, point, replaced)


@dataclass
class Board:
    committee: CommitteeRow
    standings: list[Standing]


async def board(session: AsyncSession, ctx: Ctx) -> Board:
    committee = await require_channel_committee(session, ctx)
    inds = await indicators_of(session, committee)
    values = await values_of(session, ctx.team_id, [i.id for i in inds])
    return Board(committee, [standing(i, values[i.id]) for i in inds])


async def history(session: AsyncSession, ctx: Ctx, ref: str) -> Standing:
    committee = await require_channel_committee(session, ctx)
    ind = find(await indicators_of(session, committee), ref)
    return standing(ind, (await values_of(session, ctx.team_id, [ind.id]))[ind.id])


async def standings_of(session: AsyncSession, committee) -> list[Standing]:
    """Every indicator of the committee with how it stands (the digest, the report paper, the
    console's `:report`). `committee`: a Committee or a CommitteeRow."""
    inds = await indicators_of(session, committee)
    values = await values_of(session, committee.team_id, [i.id for i in inds])
    return [standing(i, values[i.id]) for i in inds]


# ---- reminding owners when a period closes ----------------------------------------------------

CHASE_WORKING_DAYS = 10    # still no figure this many working days after the reminder: one chase
DEFAULT_KIND = "quarter"   # an indicator with no figures yet is reported quarterly


def period_containing(kind: str, d: date) -> Period:
    """The period of this kind ("quarter", "month", "financial year", "year") that d falls in."""
    if kind == "quarter":
        first = d.year if d.month >= 4 else d.year - 1
        return quarter((d.month - 4) % 12 // 3 + 1, first)
    if kind == "month":
        return Period(f"{calendar.month_name[d.month]} {d.year}", date(d.year, d.month, 1),
                      _month_end(d.year, d.month), "month")
    if kind == "financial year":
        first = d.year if d.month >= 4 else d.year - 1
        return Period(fy_label(first), date(first, 4, 1), date(first + 1, 3, 31), "financial year")
    return Period(str(d.year), date(d.year, 1, 1), date(d.year, 12, 31), "year")


def last_closed(kind: str, today: date) -> Period:
    """The latest period of this kind that ended before today."""
    return period_containing(kind, period_containing(kind, today).start - timedelta(days=1))


def reminder_days(period: Period, region: str | None = None) -> tuple[date, date]:
    """(the first working day after the period ends, the day of the chase: CHASE_WORKING_DAYS
    working days after that), in the bank holidays of `region` (bot.core.workdays)."""
    kw = {"region": region} if region else {}
    first = next_working_day(period.end, **kw)
    chase = first
    for _ in range(CHASE_WORKING_DAYS):
        chase = next_working_day(chase, **kw)
    return first, chase


def cadence(values: list[IndicatorValue]) -> str:
    """How often an indicator is reported: the kind of period its latest figure is for."""
    if not values:
        return DEFAULT_KIND
    latest = max(values, key=lambda v: (v.recorded_at, v.id))
    try:
        return period_of(latest).kind
    except UserError:
        return DEFAULT_KIND


@dataclass
class FigureDue:
    """What a reminder says: the indicator, the period just closed, whether it is the chase."""
    indicator: Indicator
    committee: Committee
    period: Period
    chase: bool
    today: date

    @property
    def command(self) -> str:
        return f"/indicator rec {self.indicator.slug} {self.period.label} <figure>"


class FigureDueRenderer(Protocol):
    def figure_due(self, due: FigureDue) -> Any: ...


async def queue_figure_reminders(session: AsyncSession, now: datetime, settings, *,
                                 render: FigureDueRenderer) -> int:
    """Scheduled: on the first working day after a period closes (from 09:00), each holder of an
    indicator's owner role gets one DM asking for the figure for that period, if none is
    recorded yet; CHASE_WORKING_DAYS working days later, once more if there is still none.
    Queued in the outbox under keys naming indicator, period and person, so a second run, or
    another replica's, queues nothing more. Returns how many were newly queued."""
    from bot.services.reminders import _Batch, local_today, working_hours

    if not working_hours(now, settings.tz):
        return 0
    today = local_today(now, settings.tz)
    inds = list(await session.scalars(select(Indicator).where(Indicator.owner_role_id.is_not(None))
                                      .order_by(Indicator.id)))
    if not inds:
        return 0
    by_team: dict[str, list[int]] = {}
    for i in inds:
        by_team.setdefault(i.team_id, []).append(i.id)
    values: dict[int, list[IndicatorValue]] = {}
    for team_id, ids in by_team.items():
        values.update(await values_of(session, team_id, ids))
    holders: dict[int, list[str]] = {}
    for role_id, user_id in await session.execute(
            select(RoleHolder.role_id, RoleHolder.user_id).where(
                RoleHolder.role_id.in_({i.owner_role_id for i in inds}), RoleHolder.ended_at.is_(None),
                RoleHolder.user_id.is_not(None)).order_by(RoleHolder.started_at, RoleHolder.id)):
        if user_id not in holders.setdefault(role_id, []):
            holders[role_id].append(user_id)
    batch = _Batch()
    for ind in inds:
        users = holders.get(ind.owner_role_id, [])
        if not users:
            continue
        mine = values[ind.id]
        period = last_closed(cadence(mine), today)
        if ind.created_at.astimezone(settings.tz).date() > period.end:
            continue          # added after the period closed: its figure is not chased
        if any((v.period_start, v.period_end) == (period.start, period.end) for v in mine):
            continue
        first, chase_day = reminder_days(period, getattr(settings, "holiday_region", None))
        if today < first:
            continue
        chase = today >= chase_day
        key = f"indicator:due:{ind.id}:{period.start.isoformat()}:{period.end.isoformat()}"
        for user in users:
            due = FigureDue(ind, ind.committee, period, chase, today)
            batch.add(f"{key}:{user}" + (":chase" if chase else ""), ind.team_id, user,
                      lambda due=due: render.figure_due(due))
    await batch.flush(session, now)
    return batch.queued


# ---- importing a table of figures --------------------------------------------------------------

@dataclass
class ImportConflict:
    indicator: str
    period: str
    table: float
    recorded: float
    unit: str | None

    def describe(self) -> str:
        u = "%" if self.unit == "%" else ""
        return (f"{self.indicator}, {self.period}: the table says {_num(self.table)}{u}, Scrutineer has "
                f"{_num(self.recorded)}{u} (kept)")


def _num(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


@dataclass
class TableImport:
    committee: str
    new_indicators: list[str] = field(default_factory=list)
    added: list[tuple[str, str, float]] = field(default_factory=list)       # (indicator, period, value)
    already: int = 0                                                         # the same figure recorded before
    conflicts: list[ImportConflict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    dry_run: bool = False

    def counts(self) -> str:
        parts = [f"{len(self.new_indicators)} new indicator{'' if len(self.new_indicators) == 1 else 's'}",
                 f"{len(self.added)} new figure{'' if len(self.added) == 1 else 's'}",
                 f"{self.already} already recorded",
                 f"{len(self.conflicts)} conflict{'' if len(self.conflicts) == 1 else 's'}"]
        return ", ".join(parts)

    def summary(self) -> str:
        verb = "Would import" if self.dry_run else "Imported"
        return f"{verb} indicator figures into {self.committee}: {self.counts()}."


def _lower_is_better(text: str) -> bool | None:
    t = text.lower()
    if any(w in t for w in ("lower", "low", "smaller", "less", "down", "minimise", "minimize", "decrease")):
        return True
    if any(w in t for w in ("higher", "high", "bigger", "more", "up", "maximise", "maximize", "increase")):
        return False
    return None


async def import_table(session: AsyncSession, *, team_id: str, committee_code: str, rows: list, actor: str,
                       now: datetime, today: date, dry_run: bool = False) -> TableImport:
    """Add a table's figures (bot.importing.indicator_table rows) to the committee's indicators:
    indicators it doesn't know yet are added, figures for periods with none are recorded.
    Importing again adds nothing twice; a figure already recorded is never replaced — a
    different one in the table is reported as a conflict. dry_run: the same answer, nothing
    stored."""
    from models.queries import committee_by_code

    committee = await committee_by_code(session, team_id, committee_code)
    if committee is None:
        raise UserError(f"There is no committee `{committee_code[:32]}` here.")
    result = TableImport(committee.name, dry_run=dry_run)
    known = await indicators_of(session, committee)
    values = await values_of(session, team_id, [i.id for i in known])
    # slug -> (indicator or None when new in this import, {(start, end): value})
    recorded: dict[str, dict[tuple, float]] = {}
    for i in known:
        latest: dict[tuple, float] = {}
        for v in sorted(values[i.id], key=lambda v: (v.recorded_at, v.id)):
            latest[(v.period_start, v.period_end)] = v.value
        recorded[i.slug] = latest
    by_slug = {i.slug: i for i in known}
    new_rows: dict[str, Indicator | None] = {}
    seen: dict[tuple, float] = {}
    for row in rows:
        where = f"Row {row.line}"
        name = " ".join(row.indicator.split())[:MAX_NAME]
        key = slug(name)
        if not key:
            result.problems.append(f"{where}: the indicator's name needs letters or digits; skipped.")
            continue
        try:
            period = parse_period(row.period, today)
        except UserError as e:
            result.problems.append(f"{where} ({name}): {e.message}")
            continue
        if not row.value.strip() or row.value.strip() in ("-", "—", "n/a", "N/A"):
            result.problems.append(f"{where} ({name}, {period.label}): no figure; skipped.")
            continue
        try:
            value = parse_number(row.value)
            target = parse_number(row.target) if row.target.strip() else None
        except UserError as e:
            result.problems.append(f"{where} ({name}, {period.label}): {e.message}")
            continue
        ind = by_slug.get(key)
        if ind is None and key not in new_rows:
            # A shortened name ("Re-referrals") means the one indicator whose name it begins.
            starting = [i for i in known if i.slug.startswith(key + "-")]
            if len(starting) > 1:
                names = ", ".join(f"“{i.name}”" for i in starting[:3])
                result.problems.append(f"{where}: “{name}” could be any of {names}; skipped.")
                continue
            ind = starting[0] if starting else None
            if ind is not None:
                by_slug[key] = ind
        if ind is None:
            if key not in new_rows:
                unit = row.unit.strip()[:MAX_UNIT] or ("%" if row.value.strip().endswith("%")
                                                       or row.target.strip().endswith("%") else None)
                new = Indicator(team_id=team_id, committee_id=committee.id, name=name, slug=key, unit=unit,
                                target=target, lower_is_better=bool(_lower_is_better(row.polarity)),
                                owner_role_id=None, created_by=actor, created_at=now)
                result.new_indicators.append(name)
                if not dry_run:
                    session.add(new)
                    await session.flush()
                    audit.record(session, team_id=team_id, actor=actor, at=now, entity="indicator",
                                 entity_id=new.id, action="create",
                                 after={"name": name, "committee": committee.code, "unit": unit, "target": target,
                                        "lower_is_better": new.lower_is_better, "owner": None, "source": "import"})
                new_rows[key] = new
                recorded[key] = {}
            ind = new_rows[key]
        elif target is not None and ind.target is not None and target != ind.target:
            result.problems.append(f"{where} ({ind.name}): the table's target {_num(target)} differs from the "
                                   f"indicator's {_num(ind.target)}; kept {_num(ind.target)}.")
        span = (period.start, period.end)
        have = recorded[ind.slug]
        if (ind.slug, span) in seen:
            if seen[(ind.slug, span)] != value:
                result.problems.append(f"{where} ({ind.name}, {period.label}): a second, different figure in the "
                                       "table; the first is used.")
            continue
        seen[(ind.slug, span)] = value
        if span in have:
            if have[span] == value:
                result.already += 1
            else:
                result.conflicts.append(ImportConflict(ind.name, period.label, value, have[span], ind.unit))
            continue
        result.added.append((ind.name, period.label, value))
        if not dry_run:
            row_value = IndicatorValue(team_id=team_id, indicator_id=ind.id, period=period.label,
                                       period_start=period.start, period_end=period.end, value=value,
                                       note=None, recorded_by=actor, recorded_at=now)
            session.add(row_value)
            await session.flush()
            audit.record(session, team_id=team_id, actor=actor, at=now, entity="indicator", entity_id=ind.id,
                         action="import value",
                         after={"period": period.label, "value": value, "value_id": row_value.id})
        have[span] = value
    return result
