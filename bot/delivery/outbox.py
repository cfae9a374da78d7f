"""Queue a message in the same transaction as the change that caused it.

Nothing is sent here: the dispatcher sends later, so a rolled-back change sends nothing
and a committed one is never forgotten, even if the process dies the next instant."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from models.delivery import OutboxMessage


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
