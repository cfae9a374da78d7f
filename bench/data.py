"""The benchmark's data: many councils sharing one Scrutineer.

    .venv/bin/python bench/data.py DATABASE_URL [--workspaces 100] [--committees 10] [--items 100]

Default scale (issue 5): 100 workspaces x 10 committees x 100 recommendations and
actions = 100,000 items, 3 positions each with their audit events, 1,000 role holders.
Items go in through the real import service (bot.services.imports.import_items), one
review per committee imported three times with a later position each time, as a
committee's officer would over three meetings. Committees and role holders are set up
the way the demo does it (rows plus audit events), since /scrutiny setup needs Slack.

Everything is deterministic (seeded), so two runs produce the same data, and the
latency benchmark knows which refs exist and who owns what:
  workspace  T{w:03d}           users U{w:03d}M{k} (k = 0..9), U{w:03d}M0 holds role 0
  committee  c{c} in channel    C{w:03d}{c:02d}, review r{c}, items rec-1 .. rec-N
  owners     "Role {k} of T{w}" owns items k, k+10, ...; every third item overdue
"""
from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.config import normalise_database_url  # noqa: E402
from bot.db import Database  # noqa: E402
from bot.importing import ImportedItem  # noqa: E402
from bot.services import audit  # noqa: E402
from bot.services.committees import get_or_create_role  # noqa: E402
from bot.services.imports import import_items  # noqa: E402
from models.queries import ensure_workspace  # noqa: E402
from models.tables import Committee, RoleHolder  # noqa: E402

ROLES_PER_WORKSPACE = 10
STATUSES = ("not started", "in progress", "in progress", "implemented", "needs clarification")
WORDS = ("review", "housing", "allocations", "care leavers", "safeguarding", "transport", "budget",
         "apprenticeships", "libraries", "parking", "flood defences", "school places", "recycling",
         "domestic abuse", "foster carers", "air quality", "youth services", "planning", "adult social care")


def team_id(w: int) -> str:
    return f"T{w:03d}"


def user_id(w: int, k: int) -> str:
    return f"U{w:03d}M{k}"


def channel_id(w: int, c: int) -> str:
    return f"C{w:03d}{c:02d}"


def role_name(w: int, k: int) -> str:
    return f"Role {k} of {team_id(w)}"


def item_text(rng: random.Random, n: int) -> str:
    a, b = rng.sample(WORDS, 2)
    return f"Recommendation {n}: the council should report on {a} and its effect on {b} to the committee."


def paper(rng: random.Random, w: int, items: int, today: date, round_: int) -> list[ImportedItem]:
    """The committee's tracker as it stood at meeting `round_` (0, 1, 2): same items,
    a newer position each time."""
    out = []
    for n in range(1, items + 1):
        overdue = n % 3 == 0
        due = today - timedelta(days=1 + n % 60) if overdue else today + timedelta(days=1 + n % 200)
        status = "in progress" if overdue else STATUSES[n % len(STATUSES)]
        out.append(ImportedItem(
            number=str(n), text=item_text(random.Random(n), n),
            owners=[role_name(w, (n - 1) % ROLES_PER_WORKSPACE)], due=due, status=status,
            position=f"Update {round_ + 1} on recommendation {n}: {rng.choice(WORDS)} work "
                     f"{['has begun', 'is on track', 'was reported to the cabinet'][round_]}."))
    return out


async def load(url: str, *, workspaces: int = 100, committees: int = 10, items: int = 100,
               now: datetime | None = None, progress: bool = True) -> dict:
    """Create the data set in the database at url (migrated first). Returns counts and timings."""
    now = now or datetime.now(timezone.utc)
    today = now.date()
    db = Database(normalise_database_url(url))
    await db.upgrade()
    started = time.perf_counter()
    try:
        for w in range(1, workspaces + 1):
            rng = random.Random(w)
            team = team_id(w)
            async with db.session() as s, s.begin():
                await ensure_workspace(s, team, now, f"Bench Council {w}")
                for k in range(ROLES_PER_WORKSPACE):
                    role = await get_or_create_role(s, team, role_name(w, k), now, "bench")
                    if not role.current_holders:
                        s.add(RoleHolder(role_id=role.id, user_id=user_id(w, k), started_at=now,
                                         assigned_by="bench"))
                for c in range(committees):
                    committee = Committee(team_id=team, code=f"c{c}", name=f"Committee {c} of Bench Council {w}",
                                          channel_id=channel_id(w, c), is_private=False, created_at=now)
                    s.add(committee)
                    await s.flush()
                    audit.record(s, team_id=team, actor="bench", at=now, entity="committee",
                                 entity_id=committee.id, action="create", after={"code": committee.code})
            # Three meetings' trackers, each its own transaction as an officer's import is.
            for round_ in range(3):
                for c in range(committees):
                    async with db.session() as s, s.begin():
                        await import_items(s, team_id=team, committee_code=f"c{c}", review_code=f"r{c}",
                                           items=paper(rng, w, items, today, round_), actor=user_id(w, 0),
                                           now=now + timedelta(seconds=round_),
                                           as_of=today - timedelta(days=60 - 30 * round_),
                                           title=f"Review {c}", source="bench data")
            if progress and (w % 10 == 0 or w == workspaces):
                rate = w * committees * items / (time.perf_counter() - started)
                print(f"  {w}/{workspaces} workspaces loaded ({rate:,.0f} items/s)", file=sys.stderr)
    finally:
        await db.dispose()
    return {"workspaces": workspaces, "committees": workspaces * committees,
            "items": workspaces * committees * items, "positions": 3 * workspaces * committees * items,
            "role_holders": workspaces * ROLES_PER_WORKSPACE, "seconds": time.perf_counter() - started}


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("database_url")
    ap.add_argument("--workspaces", type=int, default=100)
    ap.add_argument("--committees", type=int, default=10)
    ap.add_argument("--items", type=int, default=100)
    args = ap.parse_args(argv)
    counts = asyncio.run(load(args.database_url, workspaces=args.workspaces, committees=args.committees,
                              items=args.items))
    print(counts)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))


# -- prepared copies ------------------------------------------------------------
# Loading 100,000 items through the import service takes minutes, so each scale is
# loaded once per code version and copied for every run (a run's /update writes to
# its copy): a file copy on SQLite, CREATE DATABASE … TEMPLATE on PostgreSQL.

CACHE = ROOT / "bench" / ".cache"


def _version(workspaces: int, committees: int, items: int) -> str:
    """Names the cached data set: its scale and the code that generates it. The schema
    is not part of it: `scrutineer serve` migrates its copy on start, as in production."""
    import hashlib
    import inspect
    h = hashlib.sha1("".join(inspect.getsource(f) for f in (load, paper, item_text)).encode())
    return f"{workspaces}x{committees}x{items}_{h.hexdigest()[:10]}"


async def _pg(sql: str, *, fetch: bool = False, database: str = "postgres"):
    import asyncpg
    conn = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:5432/{database}")
    try:
        return await (conn.fetch(sql) if fetch else conn.execute(sql))
    finally:
        await conn.close()


async def pg_available() -> str | None:
    """None when PostgreSQL answers on 127.0.0.1:5432, else why not."""
    try:
        await asyncio.wait_for(_pg("SELECT 1"), 5)
        return None
    except Exception as e:  # noqa: BLE001 - any failure means "not here"
        return f"PostgreSQL not reachable on 127.0.0.1:5432 ({type(e).__name__})"


async def prepared_copy(store: str, run_name: str, *, workspaces: int = 100, committees: int = 10,
                        items: int = 100) -> str:
    """A database URL holding the data set, fresh for this run."""
    version = _version(workspaces, committees, items)
    if store == "sqlite":
        import shutil
        CACHE.mkdir(parents=True, exist_ok=True)
        master = CACHE / f"data_{version}.db"
        if not master.exists():
            print(f"  loading the {workspaces * committees * items:,}-item data set into SQLite once "
                  f"(cached in {master.relative_to(ROOT)})…", file=sys.stderr)
            partial = master.with_suffix(".loading")
            partial.unlink(missing_ok=True)
            await load(f"sqlite:///{partial}", workspaces=workspaces, committees=committees, items=items)
            partial.rename(master)
        copy = CACHE / f"{run_name}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{copy}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(master, copy)
        return f"sqlite:///{copy}"
    template = f"bench_data_{version}".lower()
    exists = await _pg(f"SELECT 1 FROM pg_database WHERE datname = '{template}'", fetch=True)
    if not exists:
        print(f"  loading the {workspaces * committees * items:,}-item data set into PostgreSQL once "
              f"(kept as database {template})…", file=sys.stderr)
        loading = template + "_loading"
        await _pg(f'DROP DATABASE IF EXISTS "{loading}"')
        await _pg(f'CREATE DATABASE "{loading}"')
        await load(f"postgresql://postgres@127.0.0.1:5432/{loading}", workspaces=workspaces,
                   committees=committees, items=items)
        await _pg("VACUUM ANALYZE", database=loading)  # copies made from it keep these statistics
        await _pg(f'ALTER DATABASE "{loading}" RENAME TO "{template}"')
    await _pg(f'DROP DATABASE IF EXISTS "{run_name}"')
    await _pg(f'CREATE DATABASE "{run_name}" TEMPLATE "{template}"')
    return f"postgresql://postgres@127.0.0.1:5432/{run_name}"


async def drop_copy(store: str, url: str, run_name: str) -> None:
    if store == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{CACHE / run_name}.db{suffix}").unlink(missing_ok=True)
    else:
        await _pg(f'DROP DATABASE IF EXISTS "{run_name}" WITH (FORCE)')
