"""Every list the app shows is served by an index, on SQLite and on PostgreSQL.

Each test fills a real database through the real services (two workspaces: committees, roles
and their holders, two imports of each committee's review, positions, audit events, meetings
with decisions and actions arising, a decision letter, reminders, a part-sent outbox), then
calls the service functions behind one area of the app while a `before_cursor_execute`
listener on the engine records the SQL they send, with its parameters. Every recorded SELECT,
UPDATE and DELETE is then explained with the same parameters, on a connection of the same
engine, and the test fails naming the area, the service call, the plan line and the SQL when
a checked table (every table but EXEMPT's) is read other than through an index:

- SQLite, `EXPLAIN QUERY PLAN`: only `SEARCH` (an index or primary-key lookup) passes.
  `SCAN t` fails, and so does `SCAN t USING [COVERING] INDEX` (a walk of the whole index,
  usually for an ORDER BY) and `USING AUTOMATIC INDEX` (a table scan to build a throwaway
  index). No ANALYZE is run: the app never runs it on SQLite, so these are the plans a
  SQLite deployment gets, and they don't depend on the amount of data.
- PostgreSQL, `EXPLAIN` after `SET enable_seqscan = off` (and hash and merge joins off, see
  PG_SETTINGS): a `Seq Scan` that remains means no index can serve the read. So does the
  planner's other way out, a walk of a whole index: an index scan with no `Index Cond`, or
  one whose condition leaves out the index's first column. The planner's choices depend on
  table sizes, so the database also holds other councils' rows (BALLAST) and is ANALYZEd.
- Either: a growing table (NOT_BY_WORKSPACE_ALONE) reached through team_id alone fails,
  unless the list is by design the whole workspace (`/actions all` in a DM).
- `INSERT … ON CONFLICT (cols)` (the outbox, the lease, processed events) must find a unique
  index over its conflict columns: the "Conflict Arbiter" on PostgreSQL; looked up in the
  schema on SQLite.

Text search (`/actions search word`) uses each store's own full-text index over an item's text
and positions (migration 0010, models.reads.SEARCH_TABLES), checked like a table: on SQLite
the FTS5 table must be read with a MATCH or a rowid constraint (`SCAN item_search VIRTUAL TABLE
INDEX 0:=M2`), never walked whole; on PostgreSQL through its GIN index or its primary key.

`-rP` shows every statement checked and its plan.
"""
from __future__ import annotations

import asyncio
import re
import shutil
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.errors import SlackApiError
from sqlalchemy import event, select

import models  # noqa: F401  (every table module, so Base.metadata knows every table)
from bot.config import Settings
from bot.db import Database
from bot.delivery import enqueue, lease
from bot.delivery.dispatcher import Dispatcher
from bot.export.content import build_position_paper
from bot.importing import ImportedItem
from bot.scheduled import home_builder
from bot.services import committees, home, items, letters, meetings, reminders
from bot.services.committees import Holder
from bot.services.context import Ctx
from bot.services.events import forget_old_events, remember_event
from bot.services.imports import import_items
from bot.services.letters import ContactSpec
from bot.services.parsing import parse_actions, parse_update
from bot.slack_ui import letters as letters_ui
from bot.slack_ui import meetings as meetings_ui
from bot.slack_ui import reminders as reminders_ui
from bot.slack_ui.home import home_view
from models.delivery import OutboxMessage
from models.meetings import LetterRecipient
from models.queries import committee_by_code, ensure_workspace
from models.reads import SEARCH_TABLES, latest_positions
from models.tables import Base, Item
from tests.conftest import NOW, PG_URL

TZ = ZoneInfo("Europe/London")
SETTINGS = Settings(tz_name="Europe/London")

# Tables whose full scan is acceptable, and why. Every other table is checked.
EXEMPT = {
    "workspaces": "one row per Slack workspace using the app; read only by primary key anyway",
    "leases": "one row per lease name (just 'dispatcher'); read only by primary key anyway",
    "workspace_settings": "one row per workspace that set its own settings; each scheduled round reads it whole "
                          "once (bot.services.settings.Resolver), elsewhere only by primary key",
}
CHECKED = frozenset(Base.metadata.tables) - frozenset(EXEMPT) | SEARCH_TABLES
# The search tables are not in the models: their columns, for reading index conditions.
SEARCH_COLUMNS = {"item_search": {"rowid", "item_id", "document"}}

TEAMS = ("T1", "T2")
# Each workspace's committees: code -> (name, private?). #ssc is a private channel.
COMMITTEES = {"cyp": ("Children and Young People Scrutiny Committee", False),
              "ssc": ("Safeguarding Sub-Committee", True),
              "env": ("Environment and Transport Scrutiny Committee", False),
              "hsg": ("Housing Scrutiny Committee", False)}
ROLES = ("Cabinet Member for Children", "Chairman of the ESCB", "Director of Housing",
         "Executive Director of SCF", "Head of Legal Services", "Cabinet Member for Transport",
         "Police Commander", "Chief Executive")
RECS_PER_REVIEW = 45
STATUSES = ("not started", "in progress", "in progress", "needs clarification", "implemented", "referred",
            "signed off")
WORDS = ("foster carers", "housing allocations", "care leavers", "school places", "flood defences",
         "air quality", "domestic abuse", "youth services", "libraries", "bus routes")


def user(team: str, k: int | str) -> str:
    return f"U{team}X{k}"


def channel(team: str, code: str) -> str:
    return f"C{team}{code.upper()}"


def admin(team: str) -> str:
    return user(team, "ADMIN")


def chair(team: str) -> str:
    return user(team, "CHAIR")


def officer(team: str) -> str:
    return user(team, "OFFICER")


class StubDirectory:
    """What Slack would say about people and channels: an admin per workspace, and the
    private #ssc channel's members (its chair and officer)."""

    async def is_admin(self, user_id: str, team_id: str | None = None) -> bool:
        return user_id.endswith("XADMIN")

    async def private_channels_of(self, user_id: str) -> frozenset[str]:
        if user_id.endswith(("XCHAIR", "XOFFICER")):
            return frozenset({channel(user_id[1:3], "ssc")})
        return frozenset()

    async def channel_is_private(self, channel_id: str) -> bool:
        return channel_id.endswith("SSC")

    async def display_name(self, user_id: str) -> str:
        return f"Person {user_id}"

    async def display_names(self, user_ids) -> dict[str, str]:
        return {u: f"Person {u}" for u in dict.fromkeys(user_ids) if u}

    def display_name_cached(self, user_id: str) -> str | None:
        return f"Person {user_id}"

    async def user(self, user_id: str) -> dict:
        return {"id": user_id, "real_name": f"Person {user_id}"}


DIRECTORY = StubDirectory()


def ctx(team: str, user_id: str, channel_id: str | None = None, now: datetime = NOW) -> Ctx:
    return Ctx(team_id=team, user_id=user_id, channel_id=channel_id, now=now, tz=TZ, directory=DIRECTORY)


# ---- capturing and explaining ---------------------------------------------------------------

@dataclass
class Captured:
    label: str
    statement: str
    params: object


@dataclass
class Recorder:
    """Records the SQL sent while a label is set (`with rec.query("…"):`)."""
    label: str | None = None
    captured: list[Captured] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    workspace_wide: set[str] = field(default_factory=set)

    def attach(self, db: Database) -> None:
        for engine in db.sync_engines:
            event.listen(engine, "before_cursor_execute", self._on_execute)

    def _on_execute(self, conn, cursor, statement, parameters, context, executemany):
        if self.label is not None and not executemany:   # executemany is only ever a bulk INSERT
            self.captured.append(Captured(self.label, statement, parameters))

    @contextmanager
    def query(self, label: str, *, workspace_wide: bool = False):
        """workspace_wide: the list is, by design, everything of the workspace the person may
        see (`/actions all` in a DM), so reaching it by team_id alone is the right index."""
        self.label = label
        self.labels.append(label)
        if workspace_wide:
            self.workspace_wide.add(label)
        try:
            yield
        finally:
            self.label = None


# Tables that grow without bound within one workspace: reaching their rows through an index on
# team_id alone reads the whole workspace's history (every item, every audit event), so that
# counts as unserved too unless the list itself is the whole workspace. (Committees, roles,
# reviews and agencies are read by workspace on purpose: listing a workspace's roles is /scrutiny
# roles.)
NOT_BY_WORKSPACE_ALONE = frozenset({"items", "audit_events", "meetings", "letters", "outbox", "processed_events"})

# PostgreSQL: sequential scans are priced out, so one that remains means no index can serve the
# read. Hash and merge joins are priced out too: they read a whole table on purpose (the planner
# walks a whole index instead when sequential scans are off), which hides whether an index could
# have served the join. Left with nested loops, every table must be reached through an Index
# Cond; a walk of a whole index that remains means no index fits the predicate or the join key.
PG_SETTINGS = ("enable_seqscan", "enable_hashjoin", "enable_mergejoin")

_ALIAS = re.compile(r"\b(\w+) AS (\w+)\b")
_CONFLICT = re.compile(r"^INSERT INTO (\w+) .* ON CONFLICT \(([^)]*)\)", re.S)
_PG_SEQ = re.compile(r"Seq Scan on (\w+)")
_PG_BITMAP_HEAP = re.compile(r"Bitmap Heap Scan on (\w+)")
# (An index scan names its index and table; a Bitmap Index Scan only its index.)
_PG_INDEX = re.compile(r"(?:Index Scan|Index Only Scan)(?: Backward)? using (\w+) on \w+|Bitmap Index Scan on (\w+)")
_SQLITE_TERMS = re.compile(r"\(([^()]*)\)$")


def _kind(statement: str) -> str:
    return statement.lstrip().split(None, 1)[0].upper()


def _tables(statement: str, name: str) -> str:
    """The table an alias in a plan stands for (SQLAlchemy writes `committees AS committees_1`)."""
    return {alias: table for table, alias in _ALIAS.findall(statement)}.get(name, name)


def _columns_in(table: str, condition: str) -> set[str]:
    """The columns of `table` an index condition mentions (not words in its literals or casts:
    PostgreSQL writes `((team_id)::text = 'T1'::text)`)."""
    condition = re.sub(r"'[^']*'", "", condition)
    condition = re.sub(r"::(?:timestamp with time zone|character varying|[a-z]+)(?:\[\])?", "", condition)
    columns = SEARCH_COLUMNS[table] if table in SEARCH_COLUMNS else Base.metadata.tables[table].columns.keys()
    return set(re.findall(r"[a-z_]+", condition)) & set(columns)


def sqlite_problems(statement: str, rows, workspace_wide: bool) -> list[str]:
    problems = []
    for row in rows:
        detail = row[-1]
        words = detail.split()
        if words[0] not in ("SCAN", "SEARCH") or len(words) < 2:
            continue   # LIST SUBQUERY, USE TEMP B-TREE FOR ORDER BY, …: not a read of a table
        table = _tables(statement, words[1])
        if table not in CHECKED:
            continue
        if table in SEARCH_TABLES:   # FTS5: served when a MATCH (M) or rowid (=) constraint is used
            if not re.search(r"VIRTUAL TABLE INDEX \d+:\S*[M=]", detail):
                problems.append(detail + "  (the full-text table read without MATCH)")
            continue
        if words[0] == "SCAN" or " AUTOMATIC " in detail or "ANY(" in detail:
            problems.append(detail)   # ANY(col): a skip-scan, which reads past every value of col
            continue
        terms = _SQLITE_TERMS.search(detail)
        if (table in NOT_BY_WORKSPACE_ALONE and not workspace_wide and terms
                and _columns_in(table, terms.group(1)) == {"team_id"}):
            problems.append(detail + "  (narrowed to the workspace only)")
    return problems


def pg_problems(lines: list[str], indexes: dict[str, tuple[str, str]], workspace_wide: bool) -> list[str]:
    """Seq Scans of checked tables; index scans that walk a whole index: with no Index Cond, or
    one that leaves out the index's first column (PostgreSQL 15 then reads every index entry
    and tests each); and reads of a growing table narrowed by team_id alone.
    indexes: index name -> (its table, its first column)."""
    nodes: list[list[str]] = []
    for line in lines:
        if not nodes or "->" in line:
            nodes.append([line])
        else:
            nodes[-1].append(line)
    problems = []
    for node in nodes:
        head = node[0].strip(" ->")
        if (m := _PG_SEQ.search(head)) and m.group(1) in CHECKED:
            problems.append(head)
            continue
        if m := _PG_BITMAP_HEAP.search(head):
            # The table read through one or more Bitmap Index Scans (below it, checked on their
            # own): its Recheck Cond joins all their conditions, so a bitmap on team_id ANDed
            # with one on committee_id is narrowed by the committee.
            table = m.group(1)
            cond = _detail(node, "Recheck Cond:")
            if table in NOT_BY_WORKSPACE_ALONE and not workspace_wide and _columns_in(table, cond) == {"team_id"}:
                problems.append(head + f"  (narrowed to the workspace only:{cond})")
            continue
        if not (m := _PG_INDEX.search(head)):
            continue
        index = m.group(1) or m.group(2)
        table, first = indexes[index]
        if table not in CHECKED:
            continue
        cond = _detail(node, "Index Cond:")
        columns = _columns_in(table, cond)
        if not cond:
            problems.append(head + "  (no Index Cond: a walk of the whole index)")
        elif first not in columns:
            problems.append(head + f"  (Index Cond{cond} leaves out {index}'s first column, {first}: "
                                   "a walk of the whole index)")
        elif (m.group(1) and table in NOT_BY_WORKSPACE_ALONE and not workspace_wide
              and columns == {"team_id"}):
            problems.append(head + f"  (narrowed to the workspace only:{cond})")
    return problems


def _detail(node: list[str], name: str) -> str:
    return " ".join(d.split(":", 1)[1] for d in node[1:] if d.strip().startswith(name))


async def pg_indexes(conn) -> dict[str, tuple[str, str]]:
    """Every index of the schema: name -> (table, first column)."""
    rows = await conn.exec_driver_sql(
        "SELECT ic.relname, t.relname, a.attname FROM pg_index i "
        "JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid "
        "JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = current_schema() "
        "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]")
    return {index: (table, column) for index, table, column in rows}


async def sqlite_conflict_index(conn, table: str, columns: list[str]) -> bool:
    """Does `table` have a unique index (or primary key) over exactly these columns?"""
    for index in (await conn.exec_driver_sql(f"PRAGMA index_list({table})")).all():
        if index[2]:   # unique
            cols = [r[2] for r in (await conn.exec_driver_sql(f"PRAGMA index_info({index[1]})")).all()]
            if sorted(cols) == sorted(columns):
                return True
    return False


@dataclass
class Checked:
    label: str
    statement: str
    plan: list[str]


async def explain(db: Database, rec: Recorder) -> tuple[list[Checked], list[str]]:
    """EXPLAIN each recorded statement; returns (what was checked, the problems found)."""
    checked: list[Checked] = []
    problems: list[str] = []
    seen: set[tuple] = set()
    async with db.engine.connect() as conn:
        if db.is_postgres:
            for setting in PG_SETTINGS:
                await conn.exec_driver_sql(f"SET {setting} = off")
            indexes = await pg_indexes(conn)
        for c in rec.captured:
            key = (c.label, c.statement, repr(c.params))
            if key in seen:
                continue
            seen.add(key)
            kind = _kind(c.statement)
            conflict = _CONFLICT.match(c.statement) if kind == "INSERT" else None
            if kind not in ("SELECT", "WITH", "UPDATE", "DELETE") and conflict is None:
                continue   # a plain INSERT, SAVEPOINT, …: nothing is looked up
            if conflict is not None and not db.is_postgres:
                table, columns = conflict.group(1), [col.strip(' "') for col in conflict.group(2).split(",")]
                plan = [f"ON CONFLICT ({', '.join(columns)}) on {table}"]
                if not await sqlite_conflict_index(conn, table, columns):
                    problems.append(f"[{c.label}] no unique index on {table}({', '.join(columns)})\n"
                                    f"    SQL: {_short(c.statement)}")
                checked.append(Checked(c.label, c.statement, plan))
                continue
            params = c.params if c.params is not None else ()
            if db.is_postgres:
                plan = [r[0] for r in (await conn.exec_driver_sql("EXPLAIN " + c.statement, params)).all()]
                found = pg_problems(plan, indexes, c.label in rec.workspace_wide)
                if conflict is not None and not any("Conflict Arbiter Indexes" in line for line in plan):
                    found.append("no Conflict Arbiter index")
            else:
                rows = (await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + c.statement, params)).all()
                plan = [r[-1] for r in rows]
                found = sqlite_problems(c.statement, rows, c.label in rec.workspace_wide)
            checked.append(Checked(c.label, c.statement, plan))
            for line in found:
                problems.append(f"[{c.label}] {line}\n    SQL: {_short(c.statement)}")
        await conn.rollback()
    return checked, problems


def _short(statement: str, limit: int = 600) -> str:
    text = " ".join(statement.split())
    return text if len(text) <= limit else text[:limit] + " …"


# ---- the data ---------------------------------------------------------------------------------

def paper(team: str, code: str, round_: int, today: date) -> list[ImportedItem]:
    """A committee's tracker: the same recommendations each round, a newer position each time,
    owners rotating over the workspace's roles (some jointly owned), due dates either side of
    today (every third overdue, every seventh undated)."""
    out = []
    for n in range(1, RECS_PER_REVIEW + 1):
        owners = [ROLES[n % len(ROLES)]] + ([ROLES[(n + 3) % len(ROLES)]] if n % 4 == 0 else [])
        due = None if n % 7 == 0 else today - timedelta(days=n % 40 + 1) if n % 3 == 0 else today + timedelta(days=n * 3)
        status = STATUSES[(n + round_) % len(STATUSES)]   # the second round moves some on
        word = WORDS[n % len(WORDS)]
        out.append(ImportedItem(
            number=str(n), owners=owners, due=due, status=status,
            text=f"The council should report on {word} in {code} to the committee ({team} rec {n}).",
            position=None if round_ and n % 3 == 1 else f"Round {round_ + 1}: work on {word} is under way."))
    return out


class StubSlack:
    """Answers the dispatcher's Web API calls; a channel named in `fail` answers with that error."""

    def __init__(self, fail: dict[str, tuple[int, str]] | None = None):
        self.fail = fail or {}
        self.n = 0

    def _maybe_fail(self, channel_id: str) -> None:
        if channel_id in self.fail:
            status, error = self.fail[channel_id]
            response = type("Resp", (), {"status_code": status, "data": {"ok": False, "error": error},
                                         "headers": {"Retry-After": "1"}})()
            raise SlackApiError(error, response)

    async def chat_postMessage(self, channel: str, **_):
        self._maybe_fail(channel)
        self.n += 1
        return {"ok": True, "channel": channel, "ts": f"1780000000.{self.n:06d}"}

    async def views_publish(self, user_id: str, view: dict):
        self._maybe_fail(user_id)
        return {"ok": True}

    async def conversations_open(self, users: str):
        return {"ok": True, "channel": {"id": "D" + users}}

    async def conversations_history(self, **_):
        return {"ok": True, "messages": []}


async def populate(db: Database) -> None:
    """Two workspaces, four committees each, a few hundred items with their positions, audit
    events, role holders (some ended), meetings, a letter, reminders and a part-sent outbox."""
    today = NOW.astimezone(TZ).date()
    for team in TEAMS:
        async with db.session() as s, s.begin():
            await ensure_workspace(s, team, NOW - timedelta(days=90), f"Council {team}")
            for code, (name, _) in COMMITTEES.items():
                await committees.setup_committee(s, ctx(team, admin(team), channel(team, code), NOW - timedelta(days=90)),
                                                 code, name)
            for k, role in enumerate(ROLES):
                await committees.assign_role(s, ctx(team, admin(team), channel(team, "cyp"), NOW - timedelta(days=80)),
                                             role, [Holder(user_id=user(team, k))])
            # Two roles change hands: their first holders stay in the history, ended.
            for k in (0, 1):
                await committees.assign_role(s, ctx(team, admin(team), channel(team, "cyp"), NOW - timedelta(days=40)),
                                             ROLES[k], [Holder(user_id=user(team, 10 + k))])
            await committees.assign_role(s, ctx(team, admin(team), channel(team, "cyp"), NOW - timedelta(days=40)),
                                         ROLES[2], [Holder(name="Dan Director", email="dan@example.gov.uk")])
            for code in COMMITTEES:
                here = ctx(team, admin(team), channel(team, code), NOW - timedelta(days=80))
                await committees.assign_role(s, here, "chair", [Holder(user_id=chair(team))])
                await committees.assign_role(s, here, "officers", [Holder(user_id=officer(team))])
        for round_ in range(2):
            for code in COMMITTEES:
                async with db.session() as s, s.begin():
                    await import_items(s, team_id=team, committee_code=code, review_code=f"{code}26", items=paper(
                        team, code, round_, today), actor=officer(team), now=NOW - timedelta(days=60 - 30 * round_),
                        title=f"Review of {code}", agreed_on=today - timedelta(days=50),
                        as_of=today - timedelta(days=60 - 30 * round_))
        # Officers record positions and statuses by hand (audit events, Home refreshes queued).
        for n, code in enumerate(COMMITTEES):
            async with db.session() as s, s.begin():
                for rec in (2, 5, 11):
                    who = ctx(team, officer(team), channel(team, code), NOW - timedelta(days=20 - n))
                    item = await items.resolve(s, who, f"rec-{rec}")
                    await items.apply_changes(s, who, item, items.ItemChanges(
                        position="Reported to the cabinet in May", status="in progress"))
        await _meetings(db, team)
        await _letter(db, team)
    # Reminders from last week fill the outbox with keys the next round must look up.
    async with db.session() as s, s.begin():
        await reminders.queue_reminders(s, NOW - timedelta(days=6), SETTINGS, render=reminders_ui)
    # Deliver part of the outbox, as the worker would have; one recipient's DMs fail for good.
    sent = Dispatcher(db, StubSlack({user("T2", 5): (404, "channel_not_found")}), lambda: NOW - timedelta(days=1),
                      build_view=home_builder(DIRECTORY), per_channel=0.0, batch=60)
    sent.on_sent.append(lambda row, ch, ts: letters.record_delivery(db, row, ch, ts))
    await sent.run_once()
    for n in range(40):
        await remember_event(db, f"Ev{n:04d}", TEAMS[n % 2], NOW - timedelta(minutes=n))
    if db.is_postgres:
        async with db.engine.begin() as conn:
            for statement in BALLAST:
                await conn.exec_driver_sql(statement)
            await conn.exec_driver_sql("ANALYZE")


# ---- other councils (PostgreSQL only) --------------------------------------------------------------
# PostgreSQL plans by table statistics. With only the two workspaces above, every table is a
# page or two, and the planner rightly walks a whole tiny index rather than look rows up, which
# says nothing about the same query at production size (where letters, committees and roles
# number thousands). So the template also holds other councils' rows, in realistic proportions
# and mostly history (closed items, sent messages, chased letters), as plain bulk INSERTs: going
# through the services would take minutes. Their ids start at BALLAST_ID, clear of the services'
# own. SQLite keeps no statistics unless ANALYZE is run (the app never runs it), so its plans do
# not depend on size and it gets none of this.
BALLAST_ID = 1_000_000
W, C = 200, 4          # workspaces, committees per workspace
I = 30  # noqa: E741  (items per committee)
_TEAM = "'B' || lpad(({g} / {C})::text, 4, '0')"


def _b(expr: str) -> str:
    return f"({BALLAST_ID} + ({expr}))"


BALLAST = [
    f"INSERT INTO workspaces (team_id, name, created_at) SELECT 'B' || lpad(w::text, 4, '0'), 'Council ' || w, "
    f"now() FROM generate_series(0, {W - 1}) w",
    f"INSERT INTO committees (id, team_id, code, name, channel_id, is_private, created_at) "
    f"SELECT {_b('g')}, {_TEAM.format(g='g', C=C)}, 'c' || (g % {C}), 'Committee ' || g, 'CB' || g, g % 5 = 0, now() "
    f"FROM generate_series(0, {W * C - 1}) g",
    # Ten workspace roles each (ids BALLAST_ID + 500000 + …), and a chair and officer role per committee.
    f"INSERT INTO roles (id, team_id, name, key, kind, committee_id, created_at) "
    f"SELECT {_b('500000 + r')}, 'B' || lpad((r / 10)::text, 4, '0'), 'Role ' || (r % 10), (r % 10) || ' role', 'role', "
    f"NULL, now() FROM generate_series(0, {W * 10 - 1}) r",
    f"INSERT INTO roles (id, team_id, name, key, kind, committee_id, created_at) "
    f"SELECT {_b('g * 2 + j')}, {_TEAM.format(g='g', C=C)}, (CASE j WHEN 0 THEN 'Chair of ' ELSE 'Officer of ' END) || g, "
    f"(CASE j WHEN 0 THEN 'chair:c' ELSE 'officer:c' END) || (g % {C}), CASE j WHEN 0 THEN 'chair' ELSE 'officer' END, "
    f"{_b('g')}, now() FROM generate_series(0, {W * C - 1}) g, generate_series(0, 1) j",
    # A current holder of every role, and an ended one of every other workspace role.
    f"INSERT INTO role_holders (id, role_id, user_id, started_at, ended_at) "
    f"SELECT {_b('r')}, {_b('500000 + r')}, 'UB' || r, now() - interval '400 days', NULL "
    f"FROM generate_series(0, {W * 10 - 1}) r",
    f"INSERT INTO role_holders (id, role_id, user_id, started_at, ended_at) "
    f"SELECT {_b('100000 + r')}, {_b('500000 + r')}, 'UBOLD' || r, now() - interval '800 days', now() - interval '400 days' "
    f"FROM generate_series(0, {W * 10 - 1}, 2) r",
    f"INSERT INTO role_holders (id, role_id, user_id, started_at, ended_at) "
    f"SELECT {_b('200000 + x')}, {_b('x')}, 'UBC' || x, now() - interval '400 days', NULL "
    f"FROM generate_series(0, {W * C * 2 - 1}) x",
    f"INSERT INTO reviews (id, team_id, committee_id, code, title, agreed_on, created_at) "
    f"SELECT {_b('g * 2 + r')}, {_TEAM.format(g='g', C=C)}, {_b('g')}, 'r' || (g % {C}) || '_' || r, 'Review', "
    f"date '2026-06-01' - ((g * 2 + r) * 7 % 1500), now() FROM generate_series(0, {W * C - 1}) g, generate_series(0, 1) r",
    # Meetings, all held and closed (six a committee), three decisions each.
    f"INSERT INTO meetings (id, team_id, committee_id, starts_at, ends_at, created_by, created_at, closed_at, closed_by) "
    f"SELECT {_b('m')}, {_TEAM.format(g='(m / 6)', C=C)}, {_b('m / 6')}, "
    f"timestamptz '2026-05-01 09:00Z' - (m % 6) * interval '45 days' - (m % 7) * interval '1 day', "
    f"timestamptz '2026-05-01 11:00Z' - (m % 6) * interval '45 days' - (m % 7) * interval '1 day', 'UB', now(), "
    f"timestamptz '2026-05-01 11:00Z' - (m % 6) * interval '45 days' - (m % 7) * interval '1 day', 'auto' "
    f"FROM generate_series(0, {W * C * 6 - 1}) m",
    f"INSERT INTO decisions (id, meeting_id, number, text, created_by, created_at) "
    f"SELECT {_b('d')}, {_b('d / 3')}, d % 3 + 1, 'Resolved', 'UB', now() FROM generate_series(0, {W * C * 18 - 1}) d",
    # Items: recommendations of the committee's reviews and actions arising at its meetings, most
    # of them closed and due in the last three years; the open ones fall due in the coming year
    # (so the reminders in these tests are about the two workspaces above).
    f"INSERT INTO items (id, team_id, committee_id, review_id, kind, number, seq, text, status, due, exec_response, "
    f"meeting_id, created_at, updated_at) "
    f"SELECT {_b('i')}, {_TEAM.format(g=f'(i / {I})', C=C)}, {_b(f'i / {I}')}, "
    f"CASE WHEN i % 3 = 2 THEN NULL ELSE {_b(f'(i / {I}) * 2 + i % 2')} END, "
    f"CASE WHEN i % 3 = 2 THEN 'act' ELSE 'rec' END, (i % {I} + 1)::text, i % {I} + 1, "
    f"'Recommendation about ' || (ARRAY['housing','parking','libraries','budget','transport'])[i % 5 + 1], "
    f"(ARRAY['implemented','signed off','implemented','withdrawn','in progress','not started','not accepted',"
    f"'implemented','signed off','needs clarification'])[i % 10 + 1], "
    f"date '2026-06-01' + CASE WHEN i % 10 IN (4, 5, 9) THEN 30 + (i * 37) % 365 ELSE -1 - (i * 37) % 1095 END, "
    f"'accepted', "
    f"CASE WHEN i % 3 = 2 THEN {_b(f'(i / {I}) * 6 + i % 6')} END, now(), now() "
    f"FROM generate_series(0, {W * C * I - 1}) i",
    f"INSERT INTO item_owners (item_id, role_id, ordinal) "
    f"SELECT {_b('i')}, {_b(f'500000 + (i / ({C} * {I})) * 10 + i % 10')}, 0 FROM generate_series(0, {W * C * I - 1}) i",
    f"INSERT INTO positions (id, item_id, text, as_of, source, created_at) "
    f"SELECT {_b('p')}, {_b('p / 2')}, 'Position ' || p, date '2026-05-01' - (p % 900), 'import', "
    f"timestamptz '2026-05-01 09:00Z' - (p % 900) * interval '1 day' FROM generate_series(0, {W * C * I * 2 - 1}) p",
    f"INSERT INTO audit_events (id, team_id, at, actor, entity, entity_id, action, before, after) "
    f"SELECT {_b('a')}, {_TEAM.format(g=f'(a / 3 / {I})', C=C)}, timestamptz '2026-05-01 09:00Z' - (a % 900) * interval '1 day', "
    f"'UB', 'item', {_b('a / 3')}, (ARRAY['import','update','position'])[a % 3 + 1], NULL, "
    f"json_build_object('status', 'implemented') FROM generate_series(0, {W * C * I * 3 - 1}) a",
    f"INSERT INTO agencies (id, team_id, committee_id, name, created_at) "
    f"SELECT {_b('a')}, {_TEAM.format(g='(a / 2)', C=C)}, {_b('a / 2')}, 'Agency ' || (a % 2), now() "
    f"FROM generate_series(0, {W * C * 2 - 1}) a",
    f"INSERT INTO agency_contacts (id, agency_id, user_id, active, created_at) "
    f"SELECT {_b('x')}, {_b('x / 2')}, 'UBA' || x, true, now() FROM generate_series(0, {W * C * 4 - 1}) x",
    # Letters after three of each committee's meetings, long since chased; five recipients each.
    f"INSERT INTO letters (id, team_id, committee_id, meeting_id, text, sent_by, sent_at, chased_at) "
    f"SELECT {_b('l')}, {_TEAM.format(g='(l / 3)', C=C)}, {_b('l / 3')}, {_b('(l / 3) * 6 + l % 3')}, 'Dear colleagues', "
    f"'UB', timestamptz '2026-05-02 09:00Z' - (l % 3) * interval '45 days', "
    f"timestamptz '2026-05-07 09:00Z' - (l % 3) * interval '45 days' FROM generate_series(0, {W * C * 3 - 1}) l",
    f"INSERT INTO letter_recipients (id, letter_id, kind, user_id, outbox_key, delivered_at, acknowledged_at) "
    f"SELECT {_b('r')}, {_b('r / 5')}, CASE WHEN r % 5 = 0 THEN 'channel' ELSE 'contact' END, "
    f"CASE WHEN r % 5 = 0 THEN NULL ELSE 'UBA' || r END, 'letter:' || {_b('r / 5')} || ':' || {_b('r')}, "
    f"timestamptz '2026-05-02 09:00Z', CASE WHEN r % 7 = 0 THEN NULL ELSE timestamptz '2026-05-03 09:00Z' END "
    f"FROM generate_series(0, {W * C * 15 - 1}) r",
    # Messages long sent, and events long processed.
    f"INSERT INTO outbox (id, team_id, key, method, channel, payload, created_at, not_before, attempts, sent_at) "
    f"SELECT {_b('o')}, {_TEAM.format(g='(o / 50)', C=C)}, 'ballast:' || o, 'chat.postMessage', 'CB' || (o / 50), "
    f"json_build_object('text', 'hello'), timestamptz '2026-05-01 09:00Z' - (o % 900) * interval '1 hour', "
    f"timestamptz '2026-05-01 09:00Z' - (o % 900) * interval '1 hour', 1, "
    f"timestamptz '2026-05-01 09:01Z' - (o % 900) * interval '1 hour' FROM generate_series(0, {W * C * 50 - 1}) o",
    f"INSERT INTO processed_events (event_id, team_id, received_at) "
    f"SELECT 'EvB' || e, {_TEAM.format(g='(e / 25)', C=C)}, now() - e * interval '1 minute' "
    f"FROM generate_series(0, {W * C * 25 - 1}) e",
]


async def _meetings(db: Database, team: str) -> None:
    """#cyp: a meeting four weeks ago (decisions, actions, closed, digest sent), one in progress
    now and one in a fortnight; #env: yesterday's, which nobody closed."""
    cyp, env = channel(team, "cyp"), channel(team, "env")
    held = datetime(2026, 5, 4, 9, 0, tzinfo=timezone.utc)   # Mon 4 May 2026, 10:00 in London
    async with db.session() as s, s.begin():
        await meetings.schedule(s, ctx(team, officer(team), cyp, held - timedelta(days=7)), "4 May 2026 10:00")
        await meetings.schedule(s, ctx(team, officer(team), cyp, held), "1 June 2026 10:00")
        await meetings.schedule(s, ctx(team, officer(team), cyp, held), "15 June 2026 10:00")
        await meetings.schedule(s, ctx(team, officer(team), env, held), "31 May 2026 14:00")
    during = ctx(team, chair(team), cyp, held + timedelta(minutes=30))
    async with db.session() as s, s.begin():
        for n in range(3):
            await meetings.add_decision(s, during, f"the Cabinet Member reports back on item {n + 1} in September")
        await meetings.add_action(s, during, f'Report foster carer numbers owner "{ROLES[0]}" due 30 September')
        await meetings.add_action(s, during, f"Circulate the map of boards owner <@{user(team, 3)}> due 31 May")
        await meetings.close(s, ctx(team, chair(team), cyp, held + timedelta(hours=2)), render=meetings_ui)
    now = ctx(team, chair(team), cyp, NOW)
    async with db.session() as s, s.begin():
        await meetings.add_decision(s, now, "the committee notes the annual report")
        await meetings.add_action(s, now, f'Bring the re-referral report owner "{ROLES[4]}" due 30 June')


async def _letter(db: Database, team: str) -> None:
    """Partner agencies of #cyp, and the decision letter after the May meeting, sent five
    working days ago; one contact has acknowledged it."""
    sent = ctx(team, chair(team), channel(team, "cyp"), datetime(2026, 5, 22, 10, 0, tzinfo=timezone.utc))
    async with db.session() as s, s.begin():
        await letters.add_agency(s, sent, "Essex Police", [ContactSpec(user_id=user(team, 20)),
                                                           ContactSpec(name="Jo Bloggs", email="jo@police.example")])
        await letters.add_agency(s, sent, "NHS Trust", [ContactSpec(user_id=user(team, 21)),
                                                        ContactSpec(user_id=user(team, 22))])
        draft = await letters.draft_letter(s, sent)
        letter, _ = await letters.send_letter(s, sent, draft.committee, draft.meeting, draft.text, render=letters_ui)
    async with db.session() as s, s.begin():
        recipient = (await s.scalars(select(LetterRecipient).where(
            LetterRecipient.letter_id == letter.id, LetterRecipient.user_id == user(team, 21)))).one()
        await letters.acknowledge(s, ctx(team, user(team, 21), None, sent.now + timedelta(days=1)), recipient.id)


# ---- the areas: the service calls behind each list ----------------------------------------------

async def area_actions(db: Database, rec: Recorder) -> None:
    """/actions with every filter, in a committee channel and in a DM."""
    for where, channel_id in (("#cyp", channel("T1", "cyp")), ("DM", None)):
        for text in ("", "overdue", "mine", "all", f"<@{user('T1', 3)}|carol>", f'owner "{ROLES[4]}"',
                     "due next week", "due before 30 June", "status needs clarification",
                     "overdue mine", "search foster carers", "all search cabinet"):
            who = ctx("T1", user("T1", 4), channel_id)
            # In a DM, `/actions all` is every item of every committee the person may see.
            whole = channel_id is None and text.startswith("all")
            with rec.query(f"/actions {text} ({where})".replace("  ", " "), workspace_wide=whole):
                await items.list_items(db, who, parse_actions(text, who.today))
    # The "More" button: the next page of the same filter.
    who = ctx("T1", officer("T1"), None)
    with rec.query("/actions all, page 2 (More button in a DM)", workspace_wide=True):
        filt = parse_actions("all", who.today)
        filt.offset = items.PAGE_SIZE
        await items.list_items(db, who, items.ItemFilter.from_json(filt.to_json()))


async def area_position(db: Database, rec: Recorder) -> None:
    """/position <ref>: short refs in a channel and in a DM, full refs, the history."""
    in_cyp = ctx("T1", user("T1", 4), channel("T1", "cyp"))
    in_dm = ctx("T1", officer("T1"), None)
    for label, who, ref in (("short ref in its channel", in_cyp, "rec-10"), ("action ref in its channel", in_cyp, "act-1"),
                            ("full ref by review", in_cyp, "env26/rec-7"), ("full ref by committee", in_dm, "cyp/act-2"),
                            ("short ref in a DM (ambiguous)", in_dm, "rec-3")):
        with rec.query(f"/position {ref} ({label})"):
            try:
                await items.find(db, who, ref)
            except items.UserError:
                pass   # rec-3 is in every committee: the reply lists the full refs
        with rec.query(f"/update {ref} ({label})"):
            async with db.session() as s:
                try:
                    item = await items.resolve(s, who, ref)
                except items.UserError:
                    item = None
                if item is not None:
                    await items.latest_position(s, item)
    with rec.query("/update rec-10 position … (a new position alone)"):
        await items.update(db, ctx("T1", officer("T1"), channel("T1", "cyp")), "rec-10",
                           items.ItemChanges(position="Figures received"))
    with rec.query("/position rec-10 history"):
        await items.positions_of(db, await items.find(db, in_cyp, "rec-10"))
    async with db.session() as s:   # (the test's own look-up, not recorded)
        item_id = await s.scalar(select(Item.id).where(Item.team_id == "T1", Item.number == "12"))
    with rec.query("item by id (the View button)"):
        await items.find_by_id(db, in_dm, item_id)
    with rec.query("item by id (buttons and forms that change it)"):
        async with db.session() as s:
            await items.load_item(s, in_dm, item_id)


async def area_updates(db: Database, rec: Recorder) -> None:
    """/update: a position, a status, a due date, new owners; snoozing a reminder."""
    who = ctx("T1", user("T1", 4), channel("T1", "hsg"))
    for text in ("rec-12 position Training in place from June", "rec-12 status in progress", "rec-12 due 30 September",
                 f'rec-12 owner "{ROLES[5]}"', "rec-12 rag red because funding is delayed"):
        with rec.query(f"/update {text}"):
            async with db.session() as s, s.begin():
                req = parse_update(text, who.today)
                item = await items.resolve(s, who, req.ref)
                await items.apply_changes(s, ctx("T1", officer("T1"), channel("T1", "hsg")), item, req.changes)
    with rec.query("Snooze a week"):
        async with db.session() as s, s.begin():
            item = await items.resolve(s, who, "rec-12")
            await reminders.snooze(s, ctx("T1", officer("T1"), channel("T1", "hsg")), item)


async def area_roles(db: Database, rec: Recorder) -> None:
    """/scrutiny roles, a role changing hands, and the role look-ups rights depend on."""
    in_cyp = ctx("T1", admin("T1"), channel("T1", "cyp"))
    with rec.query("/scrutiny roles"):
        async with db.session() as s:
            await committees.list_roles(s, in_cyp)
    with rec.query("/scrutiny role (a role changes hands)"):
        async with db.session() as s, s.begin():
            await committees.assign_role(s, in_cyp, ROLES[6], [Holder(user_id=user("T1", 30))])
    with rec.query("/scrutiny role chair (a committee role)"):
        async with db.session() as s, s.begin():
            await committees.assign_role(s, in_cyp, "chair", [Holder(user_id=chair("T1")), Holder(user_id=user("T1", 31))])
    with rec.query("the chair and officer roles a person holds on a committee"):
        async with db.session() as s:
            committee = await committee_by_code(s, "T1", "cyp")
            await committees.committee_roles_of(s, ctx("T1", officer("T1"), channel("T1", "cyp")), committee)
    with rec.query("may this person update the item"):
        async with db.session() as s:
            item = await items.resolve(s, in_cyp, "rec-9")
            await committees.can_update_item(s, ctx("T1", user("T1", 3), channel("T1", "cyp")), item)


async def area_home(db: Database, rec: Recorder) -> None:
    """The App Home of an owner, an officer, a partner-agency contact, and the queued refresh."""
    for label, who in (("an owner", user("T1", 3)), ("an officer", officer("T1")), ("an agency contact", user("T1", 20)),
                       ("someone new", user("T1", 99))):
        with rec.query(f"App Home of {label}"):
            async with db.session() as s:
                home_view(await home.home_data(s, "T1", who, NOW, TZ, DIRECTORY))
    with rec.query("Home refresh queued twice at one instant (queued once)"):
        async with db.session() as s, s.begin():
            await home.queue_home_refresh(s, "T1", [user("T1", 3)], NOW, tz=TZ)
            await home.queue_home_refresh(s, "T1", [user("T1", 3)], NOW, tz=TZ)
    with rec.query("letters awaiting acknowledgement"):
        async with db.session() as s:
            await letters.letters_awaiting(s, "T1", user("T1", 20))


async def area_meetings(db: Database, rec: Recorder) -> None:
    """/meeting and its commands, the digest on close, and the scheduled digest of a meeting
    nobody closed."""
    in_cyp = ctx("T1", officer("T1"), channel("T1", "cyp"))
    with rec.query("/meeting (the current meeting, its decisions and actions)"):
        async with db.session() as s:
            await meetings.show(s, in_cyp)
    with rec.query("/meeting new"):
        async with db.session() as s, s.begin():
            await meetings.schedule(s, in_cyp, "29 June 2026 10:00")
    with rec.query("/meeting decision"):
        async with db.session() as s, s.begin():
            await meetings.add_decision(s, in_cyp, "Resolved – That the report be noted")
    with rec.query("/meeting action"):
        async with db.session() as s, s.begin():
            await meetings.add_action(s, in_cyp, f'Report bus route changes owner "{ROLES[5]}" due 31 July')
    with rec.query("the previous and last closed meetings"):
        async with db.session() as s:
            committee = await committee_by_code(s, "T1", "cyp")
            await meetings.last_closed(s, committee)
            current = await meetings.current_meeting(s, committee, NOW)
            await meetings.previous_meeting(s, current)
    with rec.query("/meeting close (digest to the channel and owners)"):
        async with db.session() as s, s.begin():
            await meetings.close(s, ctx("T1", officer("T1"), channel("T1", "cyp"), NOW + timedelta(hours=1)),
                                 render=meetings_ui)
    with rec.query("scheduled: digests of meetings nobody closed"):
        async with db.session() as s, s.begin():
            await meetings.send_overdue_digests(s, NOW, SETTINGS, render=meetings_ui)


async def area_reminders(db: Database, rec: Recorder) -> None:
    """Scheduled reminders on a Monday (owners, the officers' summary, executive responses)."""
    with rec.query("scheduled: reminders (owners, officers' Monday summary, executive responses)"):
        async with db.session() as s, s.begin():
            assert await reminders.queue_reminders(s, NOW, SETTINGS, render=reminders_ui) > 0


async def area_letters(db: Database, rec: Recorder) -> None:
    """Partner agencies, /letter (draft, send, status), acknowledging, and the chase."""
    in_cyp = ctx("T1", chair("T1"), channel("T1", "cyp"))
    with rec.query("/scrutiny agencies"):
        async with db.session() as s:
            await letters.list_agencies(s, in_cyp)
    with rec.query("/scrutiny agency add"):
        async with db.session() as s, s.begin():
            await letters.add_agency(s, in_cyp, "Essex Police", [ContactSpec(user_id=user("T1", 23))])
    with rec.query("/letter status"):
        async with db.session() as s:
            await letters.latest_letter(s, in_cyp)
    with rec.query("/letter (the draft and its recipients)"):
        async with db.session() as s:
            draft = await letters.draft_letter(s, in_cyp)
    with rec.query("/letter send"):
        async with db.session() as s, s.begin():
            letter, sent = await letters.send_letter(s, in_cyp, draft.committee, draft.meeting, draft.text + "\nPS",
                                                     render=letters_ui)
            assert sent
    with rec.query("Acknowledge receipt"):
        async with db.session() as s, s.begin():
            recipient = next(r for r in letter.recipients if r.user_id == user("T1", 20))
            await letters.acknowledge(s, ctx("T1", user("T1", 20)), recipient.id)
    async with db.session() as s:   # (the test's own look-up, not recorded)
        row = (await s.scalars(select(OutboxMessage).where(OutboxMessage.key == recipient.outbox_key))).one()
    with rec.query("a letter's delivery noted (dispatcher hook)"):
        await letters.record_delivery(db, row, row.channel, "1780000000.000001")
    with rec.query("scheduled: chase unacknowledged letters"):
        async with db.session() as s, s.begin():
            assert await letters.chase_unacknowledged(s, NOW, SETTINGS, render=letters_ui) > 0


async def area_delivery(db: Database, rec: Recorder) -> None:
    """The outbox: queueing, the dispatcher's claim and outcomes, the lease."""
    with rec.query("enqueue (unique key)"):
        async with db.session() as s, s.begin():
            await enqueue(s, team_id="T1", key="plans:1", channel=channel("T1", "cyp"), payload={"text": "x"}, now=NOW)
            await enqueue(s, team_id="T1", key="plans:1", channel=channel("T1", "cyp"), payload={"text": "x"}, now=NOW)
    async with db.session() as s, s.begin():
        await enqueue(s, team_id="T1", key="plans:2", channel="CGONE", payload={"text": "x"}, now=NOW)
        await enqueue(s, team_id="T1", key="plans:3", channel="CBUSY", payload={"text": "x"}, now=NOW)
        await home.queue_home_refresh(s, "T1", [user("T1", 3), officer("T1")], NOW, tz=TZ)
    dispatcher = Dispatcher(db, StubSlack({"CGONE": (404, "channel_not_found"), "CBUSY": (429, "ratelimited")}),
                            lambda: NOW, build_view=home_builder(DIRECTORY), per_channel=0.0, batch=500)
    with rec.query("dispatcher: the due messages"):
        due = await dispatcher.due()
    assert any("home" in row.payload for row in due)
    with rec.query("dispatcher: claim, build Home views, send, mark sent / retry / dead"):
        delivered = {row.key: await dispatcher.deliver(row) for row in due}
    assert all(ok for key, ok in delivered.items() if key.startswith("home:"))
    with rec.query("lease: take, renew, release"):
        assert await lease.acquire(db, "dispatcher", "me", NOW, timedelta(seconds=30))
        assert await lease.acquire(db, "dispatcher", "me", NOW, timedelta(seconds=30))
        await lease.release(db, "dispatcher", "me")


async def area_processed_events(db: Database, rec: Recorder) -> None:
    """Slack's retried events: remembered by event_id, so a retry is seen as one."""
    with rec.query("remember an event (and its retry)"):
        assert await remember_event(db, "Ev9999", "T1", NOW)
        assert not await remember_event(db, "Ev9999", "T1", NOW)
    with rec.query("forget event ids too old to be retried (scheduled)"):
        async with db.session() as s, s.begin():
            await forget_old_events(s, NOW + timedelta(days=2))


async def area_import_export(db: Database, rec: Recorder) -> None:
    """Importing a review again (updates and new positions), and the position paper."""
    with rec.query("import a review again"):
        async with db.session() as s, s.begin():
            await import_items(s, team_id="T1", committee_code="env", review_code="env26",
                               items=paper("T1", "env", 2, NOW.date()), actor=officer("T1"), now=NOW)
    with rec.query("export the position paper of a review"):
        async with db.session() as s:
            await build_position_paper(s, "T1", "env", "env26", today=NOW.date())
    with rec.query("export the position paper of a committee"):
        async with db.session() as s:
            await build_position_paper(s, "T1", "cyp", today=NOW.date())
    async with db.session() as s:   # (the test's own look-up, not recorded)
        ids = list(await s.scalars(select(Item.id).where(Item.team_id == "T2").limit(20)))
    with rec.query("latest positions of a page of items"):
        await db.read(latest_positions, ids)


AREAS = {
    "actions": area_actions,
    "position": area_position,
    "updates": area_updates,
    "roles": area_roles,
    "home": area_home,
    "meetings": area_meetings,
    "reminders": area_reminders,
    "letters": area_letters,
    "delivery": area_delivery,
    "processed_events": area_processed_events,
    "import_export": area_import_export,
}


# Filling a database through the services takes seconds, so each kind is filled once per run
# (a "template") and every test gets its own copy in the fresh database `database_url` names:
# a file copy on SQLite, CREATE DATABASE … TEMPLATE on PostgreSQL. Areas change data (close
# meetings, send letters), so they never share one.
_TEMPLATES: dict[str, str] = {}


@pytest.fixture(scope="module")
def _template_cleanup():
    yield
    if "postgresql" in _TEMPLATES:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{_TEMPLATES.pop("postgresql")}" WITH (FORCE)'))


async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_URL.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _populated_template(kind: str, tmp_dir: Path) -> str:
    if kind not in _TEMPLATES:
        if kind == "sqlite":
            name = str(tmp_dir / "template.db")
            url = f"sqlite+aiosqlite:///{name}"
        else:
            name = "scrutineer_plans_" + uuid.uuid4().hex[:12]
            await _pg_admin(f'CREATE DATABASE "{name}"')
            url = PG_URL.rsplit("/", 1)[0] + "/" + name
        template = Database(url)
        try:
            await template.upgrade()
            await populate(template)
        except BaseException:
            await template.dispose()
            if kind == "postgresql":
                await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            raise
        await template.dispose()   # a template database must have no connections to be copied
        _TEMPLATES[kind] = name
    return _TEMPLATES[kind]


@pytest.fixture
async def db(database_url, tmp_path_factory, _template_cleanup):
    kind = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    template = await _populated_template(kind, tmp_path_factory.getbasetemp())
    if kind == "sqlite":
        target = database_url.split("///", 1)[1]
        for suffix in ("", "-wal"):   # closing the last connection folds the WAL in; copy any left
            if Path(template + suffix).exists():
                shutil.copyfile(template + suffix, target + suffix)
    else:
        name = database_url.rsplit("/", 1)[1]
        await _pg_admin(f'DROP DATABASE "{name}"')
        await _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    database = Database(database_url)
    await database.upgrade()   # a no-op: the copy is at the newest revision
    yield database
    await database.dispose()


@pytest.mark.parametrize("area", list(AREAS))
async def test_every_query_is_served_by_an_index(db, area):
    rec = Recorder()
    rec.attach(db)
    await AREAS[area](db, rec)
    checked, problems = await explain(db, rec)
    # Every call really sent something that was checked (a call that read nothing proves nothing).
    labels_checked = {c.label for c in checked}
    assert not [label for label in rec.labels if label not in labels_checked], "no statement was checked for these"
    for c in checked:   # shown with -rP: what was checked, and its plan
        print(f"[{c.label}] {_short(c.statement, 160)}\n    " + "\n    ".join(c.plan))
    assert not problems, (f"{len(problems)} quer{'y' if len(problems) == 1 else 'ies'} of {area} not served by an "
                          f"index on {db.engine.dialect.name}:\n" + "\n".join(problems))
