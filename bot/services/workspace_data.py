"""A council's data is its own: everything one workspace stored, exported or removed.

- `workspace_tables(team_id)`: every table holding the workspace's rows, found from the models
  themselves (a `team_id` column, or a foreign key to a table that is the workspace's), so a
  table added later is covered without a list to keep up to date. Parents come before children.
- `export_workspace` writes them into one zip: a CSV per table, read a few hundred rows at a
  time (never the whole table in memory), and `manifest.json` (row counts, schema revision,
  when). Secrets (the bot's tokens, acknowledgement-link hashes) are never written.
- `remove_workspace` deletes every one of those rows, children before parents, in one
  transaction, and keeps a record (`removed_workspaces`). Refused while the app is still
  installed there unless forced; an installation still in use is then kept (the app stays
  installed and starts afresh), one already uninstalled goes with the rest.
- Scheduled rounds (plain functions of `now`): `remove_expired_workspaces` removes the data of
  workspaces uninstalled more than SCRUTINEER_RETENTION_DAYS ago; `forget_expired_states`
  drops OAuth states past their expiry.
"""
from __future__ import annotations

import csv
import io
import json
import logging
import os
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Table, and_, delete, func, insert, select, text, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from bot.core.errors import UserError
from models.installations import Installation, OAuthState, OrgWorkspace
from models.removals import RemovedWorkspace
from models.tables import Base

log = logging.getLogger("scrutineer.workspace_data")

# Tables that are no workspace's: the dispatcher's lease, OAuth states (before any workspace is
# known), and the records of removals themselves.
NOT_A_WORKSPACES = frozenset({"leases", "oauth_states", "removed_workspaces", "alembic_version"})
# Columns never exported: tokens and what stands for them.
SECRET_COLUMNS = frozenset({"bot_token", "bot_refresh_token", "user_token", "user_refresh_token",
                            "ack_token_hash", "client_secret"})
TEAM_RE = re.compile(r"^[A-Z0-9]{2,32}$")
ROWS_AT_A_TIME = 500
REMOVALS_PER_ROUND = 5   # workspaces removed by one retention round at most (the next round does the rest)
STILL_INSTALLED = ("Scrutineer is still installed in workspace {team}: uninstall it there first, "
                   "or add --force to remove its data anyway.")


def check_team(team_id: str) -> str:
    team = (team_id or "").strip().upper()
    if not TEAM_RE.match(team):
        raise UserError(f"“{team_id}” isn't a Slack workspace ID: it looks like T0123ABCD.")
    return team


def _is_secret(name: str) -> bool:
    return name in SECRET_COLUMNS or name.endswith(("_token", "_secret"))


def workspace_tables(team_id: str) -> list[tuple[Table, ColumnElement]]:
    """Each table holding rows of the workspace, with the condition that picks them out;
    parents before children (delete in reverse)."""
    import models  # noqa: F401  (every model registered on Base.metadata)

    found: dict[str, ColumnElement] = {}
    out: list[tuple[Table, ColumnElement]] = []
    for table in Base.metadata.sorted_tables:
        if table.name in NOT_A_WORKSPACES:
            continue
        if "team_id" in table.c:
            condition = table.c.team_id == team_id
        else:
            # Reached through a parent that is the workspace's: a required link first.
            links = sorted((fk for fk in table.foreign_keys if fk.column.table.name in found),
                           key=lambda fk: (fk.parent.nullable, fk.parent.name))
            if not links:
                continue
            fk = links[0]
            condition = fk.parent.in_(select(fk.column).where(found[fk.column.table.name]))
        found[table.name] = condition
        out.append((table, condition))
    return out


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return str(value)


async def _schema_revision(conn) -> str | None:
    try:
        return await conn.scalar(text("SELECT version_num FROM alembic_version"))
    except Exception:   # a database never upgraded (tests building tables from the models)
        return None


@dataclass
class Export:
    team_id: str
    path: Path
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(self.counts.values())


async def export_workspace(db, team_id: str, out: Path, now: datetime) -> Export:
    """Write the workspace's rows into the zip `out` (replaced only once it is whole). Raises
    UserError when nothing is stored for the workspace (and writes nothing)."""
    team = check_team(team_id)
    out = Path(out)
    partial = out.with_name(out.name + ".part")
    result = Export(team, out)
    manifest: dict = {"team_id": team, "exported_at": now.isoformat(), "format": "CSV, one file per table, UTF-8",
                      "tables": {}, "left_out": {}}
    async with db.engine.connect() as conn:
        if db.is_postgres:   # one consistent view of every table
            await conn.execution_options(isolation_level="REPEATABLE READ")
        manifest["schema_revision"] = await _schema_revision(conn)
        tables = workspace_tables(team)
        counted = 0
        for _table, condition in tables:
            counted += await conn.scalar(select(func.count()).select_from(_table).where(condition))
        if counted == 0:
            raise UserError(f"Nothing is stored for workspace {team} here.")
        try:
            with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                for table, condition in tables:
                    columns = [c for c in table.c if not _is_secret(c.name)]
                    left_out = [c.name for c in table.c if _is_secret(c.name)]
                    if left_out:
                        manifest["left_out"][table.name] = left_out
                    n = 0
                    with zf.open(f"{table.name}.csv", "w") as raw, \
                            io.TextIOWrapper(raw, encoding="utf-8", newline="") as f:
                        writer = csv.writer(f)
                        writer.writerow([c.name for c in columns])
                        stream = await conn.stream(select(*columns).where(condition)
                                                   .order_by(*table.primary_key.columns))
                        async for rows in stream.partitions(ROWS_AT_A_TIME):
                            writer.writerows([_cell(v) for v in row] for row in rows)
                            n += len(rows)
                    result.counts[table.name] = n
                    manifest["tables"][table.name] = {"file": f"{table.name}.csv", "rows": n,
                                                      "columns": [c.name for c in columns]}
                manifest["rows"] = result.rows
                zf.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
            os.replace(partial, out)
        finally:
            if partial.exists():
                partial.unlink()
    return result


@dataclass
class Removal:
    team_id: str
    counts: dict[str, int]

    @property
    def rows(self) -> int:
        return sum(self.counts.values())


async def still_installed(session: AsyncSession, team_id: str) -> bool:
    """An installation of the app in the workspace (or org-wide in its Enterprise Grid org) that
    was not uninstalled nor revoked."""
    org = select(OrgWorkspace.enterprise_id).where(OrgWorkspace.team_id == team_id)
    return await session.scalar(select(func.count()).select_from(Installation).where(
        Installation.uninstalled_at.is_(None),
        (Installation.team_id == team_id) | ((Installation.team_id == "") & Installation.enterprise_id.in_(org)))) > 0


async def delete_workspace_data(session: AsyncSession, team_id: str, now: datetime, reason: str) -> Removal:
    """Delete every row of the workspace in the session's transaction, children first (an
    installation still in use is kept), and record the removal. Nothing recorded when there
    was nothing to remove."""
    counts: dict[str, int] = {}
    for table, condition in reversed(workspace_tables(team_id)):
        if table.name == Installation.__tablename__:
            condition = condition & table.c.uninstalled_at.is_not(None)
        done = await session.execute(delete(table).where(condition).execution_options(synchronize_session=False))
        if done.rowcount:
            counts[table.name] = done.rowcount
    if counts:
        await session.execute(insert(RemovedWorkspace).values(
            team_id=team_id, removed_at=now, reason=reason[:200], row_counts=counts))
        log.warning("Removed the data of workspace %s (%s): %d rows", team_id, reason, sum(counts.values()))
    return Removal(team_id, counts)


async def remove_workspace(db, team_id: str, now: datetime, *, force: bool = False,
                           reason: str = "deleted by an operator") -> Removal:
    """`scrutineer workspace delete`: one transaction. Raises UserError, changing nothing,
    while the app is installed there (unless forced) or when nothing is stored for it."""
    team = check_team(team_id)
    async with db.session() as s, s.begin():
        installed = await still_installed(s, team)
        if installed and not force:
            raise UserError(STILL_INSTALLED.format(team=team))
        removal = await delete_workspace_data(s, team, now, reason + (" (forced while installed)" if installed else ""))
        if not removal.counts:
            raise UserError(f"Nothing is stored for workspace {team} here; nothing removed.")
    return removal


async def remove_expired_workspaces(session: AsyncSession, now: datetime, settings) -> int:
    """Scheduled: the data of each workspace uninstalled more than `settings.retention_days`
    ago (and not installed again) is removed, as `scrutineer workspace delete` would."""
    days = getattr(settings, "retention_days", None)
    if not days or days <= 0:
        return 0
    cutoff = now - timedelta(days=days)
    active_teams = select(Installation.team_id).where(Installation.uninstalled_at.is_(None))
    own = (select(Installation.team_id.label("team_id"), Installation.uninstalled_at.label("uninstalled_at"))
           .where(Installation.team_id != "", Installation.uninstalled_at.is_not(None)))
    # The workspaces of an Enterprise Grid org whose org-wide install was removed.
    org = select(OrgWorkspace.team_id, Installation.uninstalled_at).join(Installation, and_(
        Installation.enterprise_id == OrgWorkspace.enterprise_id, Installation.team_id == "",
        Installation.uninstalled_at.is_not(None)))
    gone = union_all(own, org).subquery()
    rows = (await session.execute(
        select(gone.c.team_id, func.max(gone.c.uninstalled_at))
        .where(~gone.c.team_id.in_(active_teams))
        .group_by(gone.c.team_id).having(func.max(gone.c.uninstalled_at) <= cutoff)
        .order_by(gone.c.team_id).limit(REMOVALS_PER_ROUND))).all()
    for team, uninstalled_at in rows:
        await delete_workspace_data(session, team, now,
                                    f"retention: uninstalled {uninstalled_at:%Y-%m-%d}, kept {days} days")
    return 0


async def forget_expired_states(session: AsyncSession, now: datetime, settings=None) -> int:
    """Scheduled: OAuth states past their expiry (used or not) are of no more use."""
    await session.execute(delete(OAuthState).where(OAuthState.expires_at < now)
                          .execution_options(synchronize_session=False))
    return 0
