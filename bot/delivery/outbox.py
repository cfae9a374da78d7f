"""Queue a message in the same transaction as the change that caused it.

Nothing is sent here: the dispatcher sends later, so a rolled-back change sends nothing
and a committed one is never forgotten, even if the process dies the next instant."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from models.delivery import OutboxMessage

# A payload field naming the key of another row: this row goes as a reply in that row's
# thread, its ts looked up when this one is sent (the dispatcher sends a channel's rows in
# order, so the first is out by then). Not sent to Slack itself.
THREAD_AFTER = "thread_after"


async def enqueue(session: AsyncSession, *, team_id: str, key: str, channel: str, payload: dict,
                  now: datetime, not_before: datetime | None = None, method: str = "chat.postMessage") -> bool:
    """Queue one logical message. Returns False when a message with this key already exists:
    keys name the *logical* message ("digest:meeting:12"), so asking twice sends once."""
    values = dict(team_id=team_id, key=key[:300], method=method, channel=channel, payload=payload,
                  created_at=now, not_before=not_before or now, attempts=0)
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(OutboxMessage).values(**values).on_conflict_do_nothing(index_elements=["key"])
    result = await session.execute(stmt)
    return bool(result.rowcount)


async def enqueue_many(session: AsyncSession, messages: Iterable[dict], *, now: datetime) -> int:
    """Queue many logical messages at once (a letter to a thousand people, a day's reminders):
    each a dict of enqueue's arguments (team_id, key, channel, payload; not_before and method
    optional). Keys already queued are skipped, as enqueue does. Returns how many were new.

    One statement, compiled once, with a row of parameters per message: SQLAlchemy sends them
    in batches of multi-row INSERTs ("insertmanyvalues"), and RETURNING counts the new ones."""
    rows = [dict(team_id=m["team_id"], key=m["key"][:300], method=m.get("method", "chat.postMessage"),
                 channel=m["channel"], payload=m["payload"], created_at=now, not_before=m.get("not_before") or now,
                 attempts=0) for m in messages]
    if not rows:
        return 0
    table = OutboxMessage.__table__
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    result = await session.execute(
        insert(table).on_conflict_do_nothing(index_elements=["key"]).returning(table.c.id), rows)
    return len(result.all())


async def abandon_team(session: AsyncSession, team_id: str, reason: str, now: datetime) -> int:
    """Everything still waiting for a workspace ends as dead, `reason` kept (the app was
    uninstalled there, or its token revoked): nothing more is sent there. How many rows."""
    from sqlalchemy import update

    done = await session.execute(
        update(OutboxMessage).where(OutboxMessage.team_id == team_id, OutboxMessage.sent_at.is_(None),
                                    OutboxMessage.dead_at.is_(None))
        .values(dead_at=now, in_flight_since=None, last_error=reason[:500])
        .execution_options(synchronize_session=False))
    return done.rowcount or 0
