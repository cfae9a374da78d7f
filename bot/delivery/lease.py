"""A lease in the database: at most one process holds a name until it expires.

Replicas behind a load balancer all run the scheduler loop; only the lease holder
dispatches and runs scheduled work, and another takes over within one lease period
if it dies. Plain UPDATE … WHERE is atomic on SQLite and PostgreSQL alike."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.dialects import postgresql, sqlite

from models.delivery import Lease


async def acquire(db, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Take or renew the lease; True when `holder` has it until now + ttl."""
    async with db.session() as s, s.begin():
        insert = postgresql.insert if db.is_postgres else sqlite.insert
        await s.execute(insert(Lease).values(name=name, holder=None, expires_at=None)
                        .on_conflict_do_nothing(index_elements=["name"]))
        result = await s.execute(
            update(Lease).where(Lease.name == name, or_(Lease.holder == holder, Lease.holder.is_(None),
                                                        Lease.expires_at < now))
            .values(holder=holder, expires_at=now + ttl))
        return result.rowcount == 1


async def release(db, name: str, holder: str) -> None:
    async with db.session() as s, s.begin():
        await s.execute(update(Lease).where(Lease.name == name, Lease.holder == holder)
                        .values(holder=None, expires_at=None))
