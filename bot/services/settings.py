"""A council's own settings (`/scrutiny settings`) and the admins its admins name.

The environment (bot.config.Settings) gives every workspace its defaults; a workspace's own
setting wins over it, and a committee's own (days before a meeting to ask for updates, days
overdue before escalating, whom to escalate to) over its workspace's. A NULL column means "the
default". `effective` resolves them for one workspace or committee; the scheduled rounds read
every workspace's settings once per round (`Resolver`) and run once per group of workspaces
that share the values the round needs (`Resolver.profiles`), so with no settings of their own
they run exactly once, as before. Every change is audited, old → new.

Admins are a workspace's own admins and owners in Slack, the people SCRUTINEER_ADMINS names,
and people one of them named here (`/scrutiny admin add @x`): per workspace, never across.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import UserError
from bot.core.workdays import DEFAULT_REGION, REGION_NAMES, REGIONS
from bot.services import audit
from bot.services.committees import COMMITTEE_KINDS, require_admin
from bot.services.context import Ctx
from models.queries import ensure_workspace
from models.settings import CommitteeSettings, WorkspaceAdmin, WorkspaceSettings
from models.tables import Committee, Workspace

# Sane ranges for what an admin may type.
LIMITS = {"digest_delay_minutes": (0, 7 * 24 * 60), "remind_days": (0, 60), "escalate_days": (1, 120),
          "meeting_minutes": (15, 12 * 60), "update_days": (1, 60)}
LABELS = {"council_name": "council name", "tz_name": "time zone", "digest_delay_minutes": "digest delay",
          "remind_days": "reminder lead time", "escalate_days": "escalation days", "escalate_roles": "escalate to",
          "meeting_minutes": "meeting length", "holiday_region": "bank holidays", "update_days": "update requests"}
WORKSPACE_FIELDS = ("council_name", "tz_name", "digest_delay_minutes", "remind_days", "escalate_days",
                    "escalate_roles", "meeting_minutes", "holiday_region")
COMMITTEE_FIELDS = ("update_days", "escalate_days", "escalate_roles")
ROLE_TITLES = {"chair": "Chair", "vice_chair": "Vice chair", "officer": "Officers"}


@dataclass(frozen=True)
class Effective:
    """The settings that apply to one workspace (committee_id None) or one of its committees."""
    team_id: str
    committee_id: int | None
    council_name: str
    tz_name: str
    holiday_region: str
    digest_delay_minutes: int
    remind_days: int
    escalate_days: int
    escalate_roles: tuple[str, ...]
    meeting_minutes: int
    update_days: int

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.tz_name)

    @property
    def region(self) -> str:
        return self.holiday_region

    @property
    def region_name(self) -> str:
        return REGION_NAMES.get(self.holiday_region, self.holiday_region)


def defaults_of(settings, team_id: str = "", council_name: str = "") -> Effective:
    """What applies to a workspace that set nothing of its own: the environment's values."""
    region = getattr(settings, "holiday_region", DEFAULT_REGION)
    return Effective(team_id=team_id, committee_id=None, council_name=council_name, tz_name=settings.tz_name,
                     holiday_region=region if region in REGIONS else DEFAULT_REGION,
                     digest_delay_minutes=settings.digest_delay_minutes, remind_days=settings.remind_days,
                     escalate_days=settings.escalate_days,
                     escalate_roles=tuple(getattr(settings, "escalate_roles", ("chair", "officer"))),
                     meeting_minutes=getattr(settings, "meeting_minutes", 120), update_days=settings.update_days)


def _over(base: Effective, row, names) -> Effective:
    """base with the row's own (non-NULL) values."""
    if row is None:
        return base
    own = {}
    for name in names:
        value = getattr(row, name, None)
        if value is None or value == [] or value == "":
            continue
        if name == "escalate_roles":
            value = tuple(k for k in value if k in COMMITTEE_KINDS) or base.escalate_roles
        if name == "holiday_region" and value not in REGIONS:
            continue
        if name == "tz_name" and not valid_tz(value):
            continue
        own[name] = value
    return replace(base, **own)


def valid_tz(name: str) -> bool:
    try:
        ZoneInfo(name)
        return "/" in name or name == "UTC"
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return False


def _resolve(settings, team_id: str, ws_row, workspace_name: str | None, c_row=None,
             committee_id: int | None = None) -> Effective:
    base = defaults_of(settings, team_id, (workspace_name or "").strip())
    eff = _over(base, ws_row, WORKSPACE_FIELDS)
    if committee_id is not None:
        eff = replace(_over(eff, c_row, COMMITTEE_FIELDS), committee_id=committee_id)
    return eff


async def effective(session: AsyncSession, settings, team_id: str, committee_id: int | None = None) -> Effective:
    """What applies to the workspace (and the committee, when given) now."""
    ws_row = await session.get(WorkspaceSettings, team_id)
    workspace = await session.get(Workspace, team_id)
    c_row = await session.get(CommitteeSettings, committee_id) if committee_id is not None else None
    if c_row is not None and c_row.team_id != team_id:
        c_row = None
    return _resolve(settings, team_id, ws_row, workspace.name if workspace else None, c_row, committee_id)


async def council_name(session: AsyncSession, team_id: str) -> str:
    """The council's name as exports and letters show it: its own setting, else the workspace's
    name as Slack gave it at installation, else "" (nothing shown)."""
    row = await session.get(WorkspaceSettings, team_id)
    if row is not None and (row.council_name or "").strip():
        return row.council_name.strip()
    workspace = await session.get(Workspace, team_id)
    return (workspace.name or "").strip() if workspace is not None else ""


# ---- the scheduled rounds ----------------------------------------------------------------------

@dataclass(frozen=True)
class Profile:
    """Workspaces that share what a round needs: the round runs once for each, with `where`
    narrowing its queries to them."""
    settings: Effective
    teams: frozenset[str] | None = None        # these workspaces; None: all but `others`
    others: frozenset[str] = field(default_factory=frozenset)

    def where(self, column):
        if self.teams is not None:
            return column.in_(sorted(self.teams))
        if self.others:
            return column.not_in(sorted(self.others))
        return true()

    def includes(self, team_id: str) -> bool:
        return team_id in self.teams if self.teams is not None else team_id not in self.others

    def __getattr__(self, name):   # profile.tz, profile.remind_days, …: its settings'
        return getattr(self.settings, name)


class Resolver:
    """Every workspace's own settings, read once per round; committees' as the round asks."""

    def __init__(self, settings, rows: dict[str, WorkspaceSettings]):
        self.settings = settings
        self.rows = rows
        self.committee_rows: dict[int, CommitteeSettings] = {}

    @classmethod
    async def load(cls, session: AsyncSession, settings) -> "Resolver":
        rows = {r.team_id: r for r in await session.scalars(select(WorkspaceSettings))}
        return cls(settings, rows)

    def team(self, team_id: str) -> Effective:
        return _resolve(self.settings, team_id, self.rows.get(team_id), None)

    async def load_committees(self, session: AsyncSession, committee_ids) -> None:
        wanted = sorted({c for c in committee_ids if c not in self.committee_rows})
        for start in range(0, len(wanted), 500):
            for row in await session.scalars(select(CommitteeSettings).where(
                    CommitteeSettings.committee_id.in_(wanted[start:start + 500]))):
                self.committee_rows[row.committee_id] = row

    def committee(self, team_id: str, committee_id: int) -> Effective:
        """Needs load_committees first for its own settings (else the workspace's apply)."""
        row = self.committee_rows.get(committee_id)
        if row is not None and row.team_id != team_id:
            row = None
        return _resolve(self.settings, team_id, self.rows.get(team_id), None, row, committee_id)

    def profiles(self, *names: str) -> list[Profile]:
        """One profile for every workspace whose `names` settings are the defaults, and one per
        other combination of them."""
        default = defaults_of(self.settings)
        key = lambda e: tuple(getattr(e, n) for n in names)   # noqa: E731
        groups: dict[tuple, list[str]] = {}
        for team_id in self.rows:
            eff = self.team(team_id)
            if key(eff) != key(default):
                groups.setdefault(key(eff), []).append(team_id)
        moved = frozenset(t for teams in groups.values() for t in teams)
        found = [Profile(default, None, moved)]
        for teams in groups.values():
            found.append(Profile(replace(self.team(teams[0]), team_id="", council_name=""), frozenset(teams)))
        return found


async def profiles(session: AsyncSession, settings, *names: str) -> list[Profile]:
    return (await Resolver.load(session, settings)).profiles(*names)


# ---- changing them ------------------------------------------------------------------------------

class SettingsInvalid(UserError):
    """Some typed values can't be used: field name -> why (shown beside each field of the form)."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(" ".join(errors.values()))
        self.errors = errors


def _number(name: str, raw, errors: dict[str, str]) -> int | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    text = str(raw).strip().lower()
    for unit in ("working days", "days", "day", "minutes", "mins", "min", "m"):
        if text.endswith(unit) and text[:-len(unit)].strip().isdigit():
            text = text[:-len(unit)].strip()
            break
    low, high = LIMITS[name]
    if name in ("digest_delay_minutes", "meeting_minutes") and not text.isdigit():
        from bot.config import _minutes
        try:
            text = str(_minutes(text, 0))
        except ValueError:
            pass
    if not text.isdigit():
        errors[name] = f"Give a whole number from {low} to {high}."
        return None
    value = int(text)
    if not low <= value <= high:
        errors[name] = f"Give a whole number from {low} to {high}."
        return None
    return value


def read_workspace_values(raw: dict) -> dict:
    """The workspace's settings as typed (strings, lists; empty = default) → values to store.
    Raises SettingsInvalid naming each field that can't be used."""
    errors: dict[str, str] = {}
    out: dict = {}
    name = " ".join((raw.get("council_name") or "").split())
    if len(name) > 200:
        errors["council_name"] = "Keep the council's name under 200 characters."
    out["council_name"] = name or None
    tz = (raw.get("tz_name") or "").strip()
    if tz and not valid_tz(tz):
        errors["tz_name"] = f"“{tz[:40]}” isn't a time zone I know: use a name such as Europe/London."
    out["tz_name"] = tz or None
    for n in ("digest_delay_minutes", "remind_days", "escalate_days", "meeting_minutes"):
        out[n] = _number(n, raw.get(n), errors)
    region = raw.get("holiday_region") or None
    if region in ("default", ""):
        region = None
    if region is not None and region not in REGIONS:
        errors["holiday_region"] = "Choose England and Wales, Scotland or Northern Ireland."
    out["holiday_region"] = region
    out["escalate_roles"] = _roles(raw.get("escalate_roles"), errors)
    if errors:
        raise SettingsInvalid(errors)
    return out


def read_committee_values(raw: dict) -> dict:
    errors: dict[str, str] = {}
    out = {n: _number(n, raw.get(n), errors) for n in ("update_days", "escalate_days")}
    out["escalate_roles"] = _roles(raw.get("escalate_roles"), errors)
    if errors:
        raise SettingsInvalid(errors)
    return out


def _roles(raw, errors: dict[str, str]) -> list[str] | None:
    kinds = [k for k in (raw or []) if k]
    if any(k not in COMMITTEE_KINDS for k in kinds):
        errors["escalate_roles"] = "Choose among the chair, the vice chair and the officers."
        return None
    return [k for k in COMMITTEE_KINDS if k in kinds] or None


@dataclass
class Saved:
    """What a save changed: field -> (before, after), for the workspace and the committee."""
    workspace: dict = field(default_factory=dict)
    committee: dict = field(default_factory=dict)
    committee_name: str | None = None

    @property
    def changed(self) -> bool:
        return bool(self.workspace or self.committee)


def _apply(row, values: dict, names) -> dict:
    changes = {}
    for n in names:
        if n not in values:
            continue
        before, after = getattr(row, n), values[n]
        if (before or None) != (after or None):
            changes[n] = (before, after)
            setattr(row, n, after)
    return changes


async def save(session: AsyncSession, ctx: Ctx, workspace_values: dict | None,
               committee_id: int | None = None, committee_values: dict | None = None) -> Saved:
    """Store what an admin set (values already read: read_workspace_values, read_committee_values),
    auditing each change old → new. Admins only."""
    await require_admin(ctx, "change the council's settings")
    await ensure_workspace(session, ctx.team_id, ctx.now)
    saved = Saved()
    if workspace_values is not None:
        row = await session.get(WorkspaceSettings, ctx.team_id)
        if row is None:
            row = WorkspaceSettings(team_id=ctx.team_id, updated_at=ctx.now, updated_by=ctx.user_id)
            for n in WORKSPACE_FIELDS:
                setattr(row, n, None)
            session.add(row)
        saved.workspace = _apply(row, workspace_values, WORKSPACE_FIELDS)
        if saved.workspace:
            row.updated_at, row.updated_by = ctx.now, ctx.user_id
            audit.record(session, team_id=ctx.team_id, actor=ctx.user_id, at=ctx.now, entity="settings", entity_id=0,
                         action="update", before={n: b for n, (b, _a) in saved.workspace.items()},
                         after={n: a for n, (_b, a) in saved.workspace.items()})
    if committee_id is not None and committee_values is not None:
        committee = await session.get(Committee, committee_id)
        if committee is None or committee.team_id != ctx.team_id:
            raise UserError("That committee no longer exists: run `/scrutiny settings` again.")
        saved.committee_name = committee.name
        row = await session.get(CommitteeSettings, committee_id)
        if row is None:
            row = CommitteeSettings(committee_id=committee_id, team_id=ctx.team_id, updated_at=ctx.now,
                                    updated_by=ctx.user_id)
            for n in COMMITTEE_FIELDS:
                setattr(row, n, None)
            session.add(row)
        saved.committee = _apply(row, committee_values, COMMITTEE_FIELDS)
        if saved.committee:
            row.updated_at, row.updated_by = ctx.now, ctx.user_id
            audit.record(session, team_id=ctx.team_id, actor=ctx.user_id, at=ctx.now, entity="committee",
                         entity_id=committee_id, action="settings",
                         before={n: b for n, (b, _a) in saved.committee.items()},
                         after={n: a for n, (_b, a) in saved.committee.items()})
    await session.flush()
    forget_tz(ctx.team_id)
    return saved


@dataclass(frozen=True)
class FormData:
    """What `/scrutiny settings` shows: the workspace's own values (None = default), the defaults
    they fall back to, and, in a committee's channel, that committee's own values."""
    own: dict
    defaults: Effective
    committee: Committee | None = None
    committee_own: dict = field(default_factory=dict)
    workspace_effective: Effective | None = None


async def form_data(session: AsyncSession, ctx: Ctx, settings, committee_id: int | None) -> FormData:
    await require_admin(ctx, "change the council's settings")
    row = await session.get(WorkspaceSettings, ctx.team_id)
    own = {n: getattr(row, n) if row is not None else None for n in WORKSPACE_FIELDS}
    defaults = defaults_of(settings, ctx.team_id)
    committee = committee_own = None
    if committee_id is not None:
        committee = await session.get(Committee, committee_id)
        c_row = await session.get(CommitteeSettings, committee_id)
        committee_own = {n: getattr(c_row, n) if c_row is not None else None for n in COMMITTEE_FIELDS}
    return FormData(own, defaults, committee, committee_own or {}, await effective(session, settings, ctx.team_id))


# ---- the time zone and bank holidays each request is read in ------------------------------------

_LOCALE_CACHE: dict[str, tuple[float, tuple[str | None, str | None]]] = {}
LOCALE_TTL = 30.0   # how long another replica may take to see a new time zone or region


def forget_tz(team_id: str) -> None:
    _LOCALE_CACHE.pop(team_id, None)


def _own_locale(conn: Connection, team_id: str) -> tuple[str | None, str | None]:
    row = conn.execute(select(WorkspaceSettings.tz_name, WorkspaceSettings.holiday_region).where(
        WorkspaceSettings.team_id == team_id)).first()
    return (row[0], row[1]) if row is not None else (None, None)


async def locale_for(db, settings, team_id: str) -> tuple[ZoneInfo, str]:
    """The workspace's time zone for reading and showing dates and its bank holidays' region (its
    own, else the defaults), remembered briefly."""
    hit = _LOCALE_CACHE.get(team_id)
    if hit is None or hit[0] < time.monotonic():
        own = await db.read(_own_locale, team_id) if team_id else (None, None)
        hit = _LOCALE_CACHE[team_id] = (time.monotonic() + LOCALE_TTL, own)
    tz_name, region = hit[1]
    default = defaults_of(settings)
    return (ZoneInfo(tz_name) if tz_name and valid_tz(tz_name) else settings.tz,
            region if region in REGIONS else default.holiday_region)


async def tz_for(db, settings, team_id: str) -> ZoneInfo:
    return (await locale_for(db, settings, team_id))[0]


async def meeting_length(session: AsyncSession, team_id: str, default: timedelta) -> timedelta:
    """How long a new meeting is: the council's own setting, else `default`."""
    row = await session.get(WorkspaceSettings, team_id)
    return timedelta(minutes=row.meeting_minutes) if row is not None and row.meeting_minutes else default


# ---- admins named by an admin -------------------------------------------------------------------

def _named(conn: Connection, team_id: str, user_id: str) -> bool:
    return conn.execute(select(WorkspaceAdmin.id).where(
        WorkspaceAdmin.team_id == team_id, WorkspaceAdmin.user_id == user_id,
        WorkspaceAdmin.removed_at.is_(None)).limit(1)).first() is not None


def named_admin_check(db):
    """For bot.services.directory.Directory: is the person an admin one of the workspace's admins
    named (`/scrutiny admin add`)?"""
    async def check(team_id: str, user_id: str) -> bool:
        return bool(team_id) and await db.read(_named, team_id, user_id)
    return check


async def _current(session: AsyncSession, team_id: str, user_id: str) -> WorkspaceAdmin | None:
    return (await session.scalars(select(WorkspaceAdmin).where(
        WorkspaceAdmin.team_id == team_id, WorkspaceAdmin.user_id == user_id,
        WorkspaceAdmin.removed_at.is_(None)).limit(1))).first()


async def add_admin(session: AsyncSession, ctx: Ctx, user_id: str) -> bool:
    """Name someone an admin of this workspace. Returns False when they already were one."""
    await require_admin(ctx, "name other admins")
    if await _current(session, ctx.team_id, user_id) is not None:
        return False
    person = await ctx.directory.user(user_id)
    if person is None or person.get("deleted") or person.get("is_bot"):
        raise UserError("I can't find that person in Slack: type @ and pick them from the list Slack offers.")
    if await ctx.directory.is_admin(user_id, ctx.team_id):
        return False
    row = WorkspaceAdmin(team_id=ctx.team_id, user_id=user_id, added_by=ctx.user_id, added_at=ctx.now)
    session.add(row)
    await session.flush()
    audit.record(session, team_id=ctx.team_id, actor=ctx.user_id, at=ctx.now, entity="admin", entity_id=row.id,
                 action="add", after={"user": f"<@{user_id}>"})
    ctx.directory.forget_admin(ctx.team_id, user_id)
    return True


async def remove_admin(session: AsyncSession, ctx: Ctx, user_id: str) -> bool:
    """End someone's naming as an admin (kept in the history). False when they weren't named."""
    await require_admin(ctx, "remove admins")
    row = await _current(session, ctx.team_id, user_id)
    if row is None:
        return False
    row.removed_at, row.removed_by = ctx.now, ctx.user_id
    audit.record(session, team_id=ctx.team_id, actor=ctx.user_id, at=ctx.now, entity="admin", entity_id=row.id,
                 action="remove", before={"user": f"<@{user_id}>", "added_by": f"<@{row.added_by}>"})
    ctx.directory.forget_admin(ctx.team_id, user_id)
    return True


async def named_admins(session: AsyncSession, ctx: Ctx) -> list[WorkspaceAdmin]:
    await require_admin(ctx, "list the admins")
    return list(await session.scalars(select(WorkspaceAdmin).where(
        WorkspaceAdmin.team_id == ctx.team_id, WorkspaceAdmin.removed_at.is_(None))
        .order_by(WorkspaceAdmin.added_at, WorkspaceAdmin.id)))


def env_admins(settings, team_id: str) -> list[str]:
    """Who SCRUTINEER_ADMINS names for this workspace (`T1:U123`, or a bare `U123`)."""
    found = []
    for entry in sorted(settings.admins):
        team, _, user = entry.rpartition(":")
        if not team or team == team_id:
            found.append(user)
    return found


__all__ = ["COMMITTEE_FIELDS", "Effective", "FormData", "LIMITS", "Profile", "Resolver", "ROLE_TITLES", "Saved",
           "SettingsInvalid", "WORKSPACE_FIELDS", "add_admin", "council_name", "defaults_of", "effective",
           "env_admins", "form_data", "forget_tz", "locale_for", "meeting_length", "named_admin_check", "named_admins", "profiles",
           "read_committee_values", "read_workspace_values", "remove_admin", "save", "tz_for", "valid_tz"]
