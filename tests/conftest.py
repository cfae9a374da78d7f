"""Shared fixtures: a real database (SQLite, and PostgreSQL when it runs here), a fake
Slack Web API on loopback, and the real app behind real HTTP."""
from __future__ import annotations

import asyncio
import os
import socket
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest
import pytest_asyncio

from bot.offline.local_slack import LocalSlack
from tests.harness import Clock, Harness

PG_URL = os.environ.get("SCRUTINEER_TEST_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
# A Monday in term time; tests move the clock explicitly when they need to.
NOW = datetime(2026, 6, 1, 9, 30, tzinfo=timezone.utc)


def _pg_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=0.5):
            return True
    except OSError:
        return False


PG_AVAILABLE = _pg_reachable()
_PG_REFUSED: list[str] = []   # why PostgreSQL turned the tests away, once known (asked once per run)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A fresh, empty database of each kind (a new PostgreSQL database per test)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'scrutineer.db'}"
        return
    if not PG_AVAILABLE:
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432 (start it to run these tests)")
    import asyncpg

    name = "scrutineer_t_" + uuid.uuid4().hex[:12]
    admin_dsn = PG_URL.replace("postgresql+asyncpg://", "postgresql://")

    async def run(sql):
        conn = await asyncpg.connect(admin_dsn, timeout=5)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    if _PG_REFUSED:
        pytest.skip(_PG_REFUSED[0])
    try:
        asyncio.run(run(f"CREATE DATABASE {name}"))
    except (OSError, asyncio.TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as e:
        # Running, but not as these tests need it (no `postgres` role, a password asked, no
        # right to create databases): a skip that says why, not an error in every test.
        user = PG_URL.split("://", 1)[1].split("@", 1)[0] if "@" in PG_URL else "(default)"
        _PG_REFUSED.append(f"PostgreSQL on 127.0.0.1:5432 refused these tests as role {user!r} "
                           f"({type(e).__name__}: {str(e).splitlines()[0][:150] if str(e) else ''}); "
                           "create the role (createuser -s postgres) or set SCRUTINEER_TEST_PG")
        pytest.skip(_PG_REFUSED[0])
    yield PG_URL.rsplit("/", 1)[0] + "/" + name
    asyncio.run(run(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite+aiosqlite:///{tmp_path / 'scrutineer.db'}"


def populate_slack(slack: LocalSlack) -> None:
    """Two councils. T1: Essex, where committees live in #cyp (public) and #ssc (private).
    T2: another council with its own #cyp, to prove nothing crosses."""
    slack.add_user("UADMIN", "admin", real_name="Ada Admin", is_admin=True, team_id="T1")
    slack.add_user("UALICE", "alice", real_name="Alice Chair", team_id="T1")
    slack.add_user("UBOB", "bob", real_name="Bob Officer", team_id="T1")
    slack.add_user("UCAROL", "carol", real_name="Carol Cabinet", team_id="T1")
    slack.add_user("UDAVE", "dave", real_name="Dave Member", team_id="T1")
    slack.add_user("UENV", "envadmin", real_name="Eve Env-Admin", team_id="T1")
    slack.add_user("UT2ADMIN", "t2admin", real_name="Other Admin", is_admin=True, team_id="T2")
    slack.add_channel("CCYP", "cyp-scrutiny", members=["UADMIN", "UALICE", "UBOB", "UCAROL", "UDAVE"], team_id="T1")
    slack.add_channel("CSSC", "safeguarding-sub", is_private=True, members=["UADMIN", "UALICE", "UBOB"], team_id="T1")
    slack.add_channel("CT2", "t2-scrutiny", members=["UT2ADMIN"], team_id="T2")


@pytest_asyncio.fixture
async def slack():
    fake = LocalSlack(team_id="T1")
    populate_slack(fake)
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def clock():
    return Clock(NOW)


@pytest_asyncio.fixture
async def harness(slack, database_url, clock):
    h = Harness(slack, database_url, clock, admins={"UENV"})
    await h.start()
    yield h
    await h.stop()


SEED_002 = SHARED / "seeds" / "002_32c8a528e5124c67.txt"


@pytest.fixture
def seed_002() -> Path:
    if not SEED_002.exists():
        pytest.skip("../shared/seeds is not present beside the checkout")
    return SEED_002
