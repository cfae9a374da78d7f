"""Slack events handled once, however often Slack sends them."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import saved
from models.delivery import ProcessedEvent

# Slack retries an unacknowledged event three times within about an hour: an id older than
# this can't come back, so it is forgotten (the table would otherwise grow with every event).
REMEMBER_EVENTS_FOR = timedelta(days=1)


async def remember_event(db, event_id: str, team_id: str, now: datetime) -> bool:
    """True the first time an event id (or a request's signature) is seen. One statement in
    autocommit: on PostgreSQL a single round trip (it was a session's four, most of a command's
    time in the database)."""
    insert = postgresql.insert if db.is_postgres else sqlite.insert
    result = await db.execute_once(insert(ProcessedEvent).values(event_id=event_id[:64], team_id=team_id,
                                                                 received_at=now)
                                   .on_conflict_do_nothing(index_elements=["event_id"]))
    return bool(result.rowcount)


class RecentSignatures:
    """Request signatures seen in the last few minutes, kept in this process. Where the store is
    SQLite one process answers Slack, so a replay is caught here without a database write on
    every request (that write was about 2 ms of each command's answer). Slack's signature
    is refused after five minutes (the timestamp check), so older ones are forgotten."""

    def __init__(self, keep: timedelta = timedelta(minutes=10)):
        self.keep = keep
        self._seen: dict[str, datetime] = {}   # in the order received

    def first_time(self, key: str, now: datetime) -> bool:
        while self._seen:
            oldest = next(iter(self._seen))
            if self._seen[oldest] >= now - self.keep:
                break
            del self._seen[oldest]
        if key in self._seen:
            return False
        self._seen[key] = now
        return True


async def forget_old_events(session: AsyncSession, now: datetime, _settings=None) -> int:
    """Scheduled: drop the ids of events too old to be retried. Returns 0 (it queues nothing)."""
    await session.execute(delete(ProcessedEvent).where(ProcessedEvent.received_at < now - REMEMBER_EVENTS_FOR))
    await saved.forget_old(session, now)   # long filters and forms kept for Slack: a day's use
    return 0
