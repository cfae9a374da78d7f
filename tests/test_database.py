"""Database.read: the read path behind /actions and /position."""
from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from bot.db import Database
from models import reads
from models.queries import ensure_workspace
from models.tables import Committee, Workspace
from tests.conftest import NOW


async def _database_with_a_committee(url: str) -> Database:
    db = Database(url)
    await db.upgrade()
    async with db.session() as s, s.begin():
        await ensure_workspace(s, "T1", NOW)
        s.add(Committee(team_id="T1", code="cyp", name="Children and Young People", channel_id="CCYP",
                        is_private=False, created_at=NOW))
    return db


async def test_a_read_sees_what_was_just_committed_and_cannot_write(database_url):
    db = await _database_with_a_committee(database_url)
    try:
        here, _ = await db.read(reads.committees_for, "T1", "CCYP")
        assert (here.code, here.name) == ("cyp", "Children and Young People")
        if not db.is_postgres:   # the SQLite reader is opened query-only
            with pytest.raises(OperationalError, match="readonly"):
                await db.read(lambda conn: conn.execute(text(
                    "INSERT INTO workspaces (team_id, created_at) VALUES ('T2', '2026-06-01 00:00:00')")))
        async with db.session() as s:
            assert await s.scalar(select(func.count()).select_from(Workspace)) == 1
    finally:
        await db.dispose()


async def test_a_read_survives_the_server_dropping_its_connection(database_url):
    db = await _database_with_a_committee(database_url)
    if not db.is_postgres:
        await db.dispose()
        pytest.skip("a SQLite file has no server to drop connections")
    try:
        assert (await db.read(reads.committees_for, "T1", "CCYP"))[0].code == "cyp"   # now pooled
        name = database_url.rsplit("/", 1)[1]
        admin = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
        try:   # as a restart or failover would: every connection to the database is cut
            dropped = await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = $1 AND pid <> pg_backend_pid()", name)
        finally:
            await admin.close()
        assert dropped >= 1
        here, _ = await db.read(reads.committees_for, "T1", "CCYP")
        assert here.code == "cyp"
    finally:
        await db.dispose()


async def test_item_rows_reads_owners_and_positions_of_many_items_in_batches(database_url, monkeypatch):
    """A page of thousands (the officers' weekly summary reads every open item due soon) is
    read with its owners and positions in batches of ids, under the drivers' parameter caps."""
    from bot.importing import ImportedItem
    from bot.services.imports import import_items

    db = await _database_with_a_committee(database_url)
    try:
        async with db.session() as s, s.begin():
            await import_items(s, team_id="T1", committee_code="cyp", review_code="sg2010", actor="U1", now=NOW,
                               items=[ImportedItem(number=str(n), text=f"Recommendation {n}",
                                                   owners=[f"Role {n % 3}", "Cabinet Member"],
                                                   position=f"Position {n}") for n in range(1, 8)])
        monkeypatch.setattr(reads, "IDS_AT_ONCE", 3)   # 7 items: batches of 3, 3 and 1
        rows, _ = await db.read(reads.item_rows, [reads.items.c.team_id == "T1"],
                                order_by=(reads.items.c.seq,), with_latest=True)
        assert [(i.number, [o.role.name for o in i.owners], i.latest.text) for i in rows] == [
            (str(n), [f"Role {n % 3}", "Cabinet Member"], f"Position {n}") for n in range(1, 8)]
    finally:
        await db.dispose()
