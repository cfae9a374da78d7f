"""The worker's busiest round: a working day's reminders for a hosted service.

    .venv/bin/python bench/reminders_bench.py [--store sqlite|postgresql|both] [--scale 100x10x100] [--json PATH]

On a copy of the latency benchmark's data set (bench/data.py: every third item overdue,
owned by roles held by one person each), `queue_reminders` runs once at 09:00 on a working
day, in one transaction, as the worker would: the owners' before-due and overdue DMs, the
officers' weekly summaries (on the week's first working day) and the executive-response flags, all queued
in the outbox. Timed from the call to the commit; the count is what was queued. The issue
names no target for it: it runs in the background (on a worker replica when web replicas
run with SCRUTINEER_WORKER=off), but it holds a transaction while it runs.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import datetime, time, timezone
from pathlib import Path
from time import perf_counter

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import data  # noqa: E402
from results import row  # noqa: E402

from bot.config import Settings, normalise_database_url  # noqa: E402
from bot.db import Database  # noqa: E402
from bot.services.reminders import queue_reminders  # noqa: E402
from bot.slack_ui import reminders as reminders_ui  # noqa: E402


async def working_morning(db: Database) -> datetime:
    """09:00 on the day the data set was made (its dates are relative to that day), or on the
    working day after it."""
    from sqlalchemy import func, select

    from bot.core.workdays import next_working_day
    from models.tables import Item

    async with db.session() as s:
        loaded = (await s.scalar(select(func.min(Item.created_at)))).date()
    return datetime.combine(next_working_day(loaded, include_today=True), time(9, 0), tzinfo=timezone.utc)


async def one_store(store: str, workspaces: int, committees: int, items: int) -> list[dict]:
    run_name = f"bench_reminders_{store}"
    url = await data.prepared_copy(store, run_name, workspaces=workspaces, committees=committees, items=items)
    db = Database(normalise_database_url(url))
    try:
        await db.upgrade()
        now = await working_morning(db)
        started = perf_counter()
        async with db.session() as s, s.begin():
            queued = await queue_reminders(s, now, Settings(), render=reminders_ui)
        seconds = perf_counter() - started
    finally:
        await db.dispose()
        await data.drop_copy(store, url, run_name)
    print(f"[{store}] {now:%a %d %b %Y %H:%M}: {queued:,} reminders queued in {seconds:.1f} s", file=sys.stderr)
    return [row("scheduled", store, f"{now:%A}'s reminders: {queued:,} queued in one round", seconds, "s",
                "", True)]


async def main_async(args) -> list[dict]:
    workspaces, committees, items = (int(x) for x in args.scale.split("x"))
    stores = ["sqlite", "postgresql"] if args.store == "both" else [args.store]
    rows: list[dict] = []
    for store in stores:
        if store == "postgresql" and (why := await data.pg_available()):
            print(f"[postgresql] skipped: {why}", file=sys.stderr)
            continue
        rows += await one_store(store, workspaces, committees, items)
    return rows


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--store", choices=("sqlite", "postgresql", "both"), default="both")
    ap.add_argument("--scale", default="100x10x100", help="workspaces x committees x items")
    ap.add_argument("--json", metavar="PATH", help="also write the rows as a JSON list")
    args = ap.parse_args(argv)
    rows = asyncio.run(main_async(args))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
