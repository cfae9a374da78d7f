"""The database: engine, sessions, and schema upgrades on start."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from sqlalchemy import create_engine, event, make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

T = TypeVar("T")

MIGRATIONS = Path(__file__).with_name("migrations")
# Connections a process keeps for reads. Reads take about a millisecond, so beyond these a
# read waits its turn for one rather than opening a connection of its own: opening one costs
# more than the read, and an overflow connection is closed again as soon as it is returned
# (at 16 concurrent requests that churn halved throughput on PostgreSQL).
READERS = 10


class Database:
    def __init__(self, url: str):
        self.url = url
        kwargs: dict = {}
        if url.startswith("sqlite"):
            # SQLite has one writer at a time, and a writer that finds the file locked sleeps
            # in growing steps (up to 100 ms) before trying again: 16 people updating at once
            # waited up to 0.6 s that way. One pooled connection makes sessions queue for it
            # here instead, woken the moment it is free. (Reads don't queue: they use the
            # reader below.) timeout: another process writing the same file is still waited for.
            kwargs.update(connect_args={"timeout": 30}, pool_size=1, max_overflow=0, pool_timeout=60)
        else:
            kwargs.update(pool_size=20, max_overflow=10, pool_pre_ping=True)
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if url.startswith("sqlite"):
            @event.listens_for(self.engine.sync_engine, "connect")
            def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA foreign_keys=ON")
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.close()
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._reader = self._sqlite_reader(url)
        # Elsewhere, reads have a pool of their own in autocommit, unpinged: no BEGIN, ROLLBACK
        # or ping round trips around a select (about 0.5 ms of a command's few). A connection
        # the server dropped is found by the read itself, which is then tried once more.
        self._async_reader = None if self._reader is not None or url.startswith("sqlite") else \
            create_async_engine(url, pool_size=READERS, max_overflow=0, isolation_level="AUTOCOMMIT")

    @staticmethod
    def _sqlite_reader(url: str):
        """A plain (synchronous) engine for reads from a SQLite file. A few indexed selects
        take tens of microseconds in SQLite, while each step through aiosqlite is a hop to its
        thread and back; in WAL mode a reader never waits for the writer, so these run right
        on the event loop. query_only: this engine can't write, whatever it is handed."""
        parsed = make_url(url)
        if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
            return None
        engine = create_engine(parsed.set(drivername="sqlite"),
                               connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _read_only(dbapi_conn, _record):  # pragma: no cover - trivial
            dbapi_conn.execute("PRAGMA query_only=ON")
        return engine

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def session(self) -> AsyncSession:
        return self.sessions()

    @property
    def sync_engines(self) -> list:
        """Every engine statements run on (for event listeners: logging, query capture)."""
        readers = [self._reader] if self._reader is not None else []
        if self._async_reader is not None:
            readers.append(self._async_reader.sync_engine)
        return [self.engine.sync_engine, *readers]

    async def read(self, fn: Callable[..., T], /, *args, **kwargs) -> T:
        """fn(connection, *args, **kwargs): a few quick Core selects (models/reads.py), run on
        the SQLite reader, or through the async driver on the readers' pool. fn only reads, so
        when the server has dropped the pooled connection it is safe to run it again."""
        if self._reader is not None:
            with self._reader.connect() as conn:
                return fn(conn, *args, **kwargs)
        engine = self._async_reader or self.engine
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(fn, *args, **kwargs)
        except DBAPIError as e:
            if not e.connection_invalidated:
                raise
        async with engine.connect() as conn:
            return await conn.run_sync(fn, *args, **kwargs)

    async def execute_once(self, statement):
        """One statement that is a whole transaction by itself (an INSERT … ON CONFLICT DO
        NOTHING), in autocommit on the readers' pool where there is one: a single round trip,
        without the BEGIN, COMMIT and ping of a session. Returns the result."""
        if self._async_reader is None:
            async with self.session() as s, s.begin():
                return await s.execute(statement)
        async with self._async_reader.connect() as conn:
            return await conn.execute(statement)

    async def upgrade(self) -> None:
        """Bring the schema to the newest Alembic revision.

        On PostgreSQL an advisory lock makes replicas that start together take turns."""
        from alembic import command
        from alembic.config import Config

        def run(sync_conn):
            cfg = Config()
            cfg.set_main_option("script_location", str(MIGRATIONS))
            cfg.attributes["connection"] = sync_conn
            command.upgrade(cfg, "head")

        async with self.engine.begin() as conn:
            if self.is_postgres:
                await conn.execute(text("SELECT pg_advisory_xact_lock(7262031)"))
            await conn.run_sync(run)

    async def healthy(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self._reader is not None:
            self._reader.dispose()
        if self._async_reader is not None:
            await self._async_reader.dispose()
