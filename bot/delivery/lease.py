"""A lease in the database: at most one process holds a name until it expires.

Replicas behind a load balancer all run the scheduler loop; only the lease holder
dispatches and runs scheduled work, and another takes over within one lease period
if it dies. Plain UPDATE … WHERE is atomic on SQLite and PostgreSQL alike.

- Time is the database's. On PostgreSQL the statement reads clock_timestamp() as it runs,
  both to see whether the lease ran out and to set the new expiry, so a renewal held up on
  the way to the server can't commit an expiry worked out before it left. (On SQLite — a
  file on one machine — the local clock is the database's clock.)
- Every change of holder increments the lease's generation (so does taking one's own lease
  again after it ran out). What a holder does under the lease carries the generation it
  holds: the dispatcher claims a row only while the lease row still names this holder,
  with this generation, unexpired by the database's clock (`held_clause`).
- A holder can't read the database's clock, so it keeps a deadline on its own monotonic
  clock (`Tenure`): when its last confirmed renewal statement was *sent*, plus the ttl, less a
  safety margin — never later than the expiry the database wrote for it. A renewal whose
  round trip took more than a fraction of the ttl confirms nothing. Past its deadline a
  holder sends nothing more until a renewal is confirmed again, however long the database
  stays out of reach; by then another process may have taken over."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import Interval, and_, case, exists, func, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from models.delivery import Lease
from models.tables import UTCDateTime

log = logging.getLogger("scrutineer.lease")

SAFETY = 0.2           # of the ttl: a holder's deadline comes this long before the lease's expiry
MAX_ROUND_TRIP = 0.2   # of the ttl: a renewal that took longer to answer confirms nothing
RENEW_EVERY = 1 / 3    # of the ttl: how often a holder renews
RETRY_EVERY = 0.05     # of the ttl: how soon a renewal that failed (or confirmed nothing) is tried again


@dataclass(frozen=True)
class Grant:
    """The lease, as the database granted it."""
    generation: int
    expires_at: datetime   # by the database's clock


def db_now(db, now: datetime | None = None):
    """The database's clock, in SQL: PostgreSQL's clock_timestamp() (read as the statement
    runs); on SQLite the local clock, `now` (the caller's clock; the wall clock if None)."""
    if db.is_postgres:
        return func.clock_timestamp(type_=UTCDateTime())
    return literal(now or datetime.now(timezone.utc), UTCDateTime())


def _expiry(db, now: datetime | None, ttl: timedelta):
    if db.is_postgres:
        return func.clock_timestamp(type_=UTCDateTime()) + literal(ttl, Interval())
    return literal((now or datetime.now(timezone.utc)) + ttl, UTCDateTime())


async def acquire(db, name: str, holder: str, now: datetime | None, ttl: timedelta) -> Grant | None:
    """Take or renew the lease: a Grant (the generation `holder` now holds, and the expiry the
    database set, by its clock: when the statement ran + ttl) when it has it; None when another
    process does. `now` is the local clock, used only where it is the database's (SQLite)."""
    async with db.session() as s, s.begin():
        insert = postgresql.insert if db.is_postgres else sqlite.insert
        await s.execute(insert(Lease).values(name=name, holder=None, expires_at=None, generation=0)
                        .on_conflict_do_nothing(index_elements=["name"]))
        renewal = and_(Lease.holder == holder, Lease.expires_at >= db_now(db, now))   # else it changes hands
        result = await s.execute(
            update(Lease).where(Lease.name == name, or_(Lease.holder == holder, Lease.holder.is_(None),
                                                        Lease.expires_at < db_now(db, now)))
            .values(holder=holder, expires_at=_expiry(db, now, ttl),
                    generation=case((renewal, Lease.generation), else_=Lease.generation + 1))
            .returning(Lease.generation, Lease.expires_at)
            .execution_options(synchronize_session=False))
        granted = result.one_or_none()
        return None if granted is None else Grant(granted.generation, granted.expires_at)


async def release(db, name: str, holder: str) -> None:
    async with db.session() as s, s.begin():
        await s.execute(update(Lease).where(Lease.name == name, Lease.holder == holder)
                        .values(holder=None, expires_at=None))


def held_clause(db, name: str, holder: str, generation: int, now: datetime | None = None):
    """SQL, true while the lease row names `holder` with `generation`, unexpired by the
    database's clock: a condition of every claim a holder makes."""
    return exists().where(Lease.name == name, Lease.holder == holder, Lease.generation == generation,
                          Lease.expires_at > db_now(db, now))


async def held(db, name: str, holder: str, generation: int, now: datetime | None = None) -> bool:
    """Whether the database says `holder` still has the lease, as `generation`."""
    async with db.session() as s:
        return bool(await s.scalar(select(held_clause(db, name, holder, generation, now))))


class Tenure:
    """This process's hold on a lease, as far as it can vouch for it itself: the generation it
    holds, and the deadline (on `monotonic`) before which nobody else can have taken it over.
    `confirmed()` needs no round trip, so the dispatcher asks it before every send; it also
    starts a renewal, in the background, whenever one is due."""

    def __init__(self, db, name: str, holder: str, ttl: timedelta, clock: Callable[[], datetime], *,
                 monotonic: Callable[[], float] = time.monotonic):
        self.db = db
        self.name = name
        self.holder = holder
        self.ttl = ttl
        self.clock = clock            # the local clock: the database's on SQLite
        self.monotonic = monotonic
        self.generation: int | None = None   # held (by the last renewal that answered), or None
        self.deadline = -math.inf     # monotonic: act under the lease only before this
        self._renew_at = -math.inf    # monotonic: when the next renewal is due
        self._renewal: asyncio.Task | None = None

    @property
    def _seconds(self) -> float:
        return self.ttl.total_seconds()

    def confirmed(self, generation: int | None = None) -> bool:
        """May this process still act under the lease (as `generation`, when given)? Only while
        its last confirmed renewal's deadline hasn't passed, and the lease hasn't changed hands
        since. Starts a renewal when one is due."""
        if self.generation is None or generation not in (None, self.generation):
            return False
        now = self.monotonic()
        if now >= self._renew_at and (self._renewal is None or self._renewal.done()):
            self._renewal = asyncio.create_task(self._renew())
        return now < self.deadline

    def fence(self, generation: int):
        """SQL, true while the database still says this holder has the lease as `generation`."""
        return held_clause(self.db, self.name, self.holder, generation, self.clock())

    async def renew(self) -> bool:
        """Take or renew the lease now (or wait for the renewal under way): True when confirmed."""
        if self._renewal is None or self._renewal.done():
            self._renewal = asyncio.create_task(self._renew())
        return await asyncio.shield(self._renewal)

    async def still_held(self, generation: int) -> bool:
        """Ask the database (after a claim that found nothing, say). Forgets the lease when it
        is no longer ours as `generation`."""
        if await held(self.db, self.name, self.holder, generation, self.clock()):
            return True
        if generation == self.generation:
            log.warning("Lost the %s lease (generation %s): stopping", self.name, generation)
            self.lose()
        return False

    def lose(self) -> None:
        self.generation = None
        self.deadline = -math.inf

    async def settle(self) -> None:
        """Wait for a renewal under way, so none lands after this."""
        if self._renewal is not None:
            with contextlib.suppress(Exception):
                await self._renewal

    async def release(self) -> None:
        await self.settle()
        self.lose()
        await release(self.db, self.name, self.holder)

    async def _renew(self) -> bool:
        sent = self.monotonic()   # the deadline counts from here: the database's expiry can only be later
        try:
            grant = await acquire(self.db, self.name, self.holder, self.clock(), self.ttl)
        except Exception as e:  # the database is out of reach: the deadline stands, and runs out
            log.warning("Could not renew the %s lease: %r", self.name, e)
            self._renew_at = self.monotonic() + RETRY_EVERY * self._seconds
            return False
        took = self.monotonic() - sent
        if grant is None:
            if self.generation is not None:
                log.warning("Lost the %s lease (generation %s)", self.name, self.generation)
            self.lose()
            return False
        if grant.generation != self.generation:   # taken (again): nothing is confirmed for it yet
            self.generation = grant.generation
            self.deadline = -math.inf
        if took > MAX_ROUND_TRIP * self._seconds:
            log.warning("Renewing the %s lease took %.2f s: not counted as confirmed", self.name, took)
            self._renew_at = self.monotonic() + RETRY_EVERY * self._seconds
            return False
        self.deadline = sent + (1 - SAFETY) * self._seconds
        self._renew_at = sent + RENEW_EVERY * self._seconds
        return True
