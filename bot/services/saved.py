"""State Slack can't carry, kept here under a short key that Slack carries instead: a long
"More" filter (a button's value holds 2,000 characters), an import preview's metadata that
outgrows private_metadata (3,000). Keys are unguessable and read back only by the team that
saved them; they are forgotten after a day (bot.services.events.forget_old_events)."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from models.saved_state import SavedState

KEEP_FOR = timedelta(days=1)
PREFIX = "saved:"   # how a value that is a key, not the thing itself, starts


def is_key(value: object) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX) and len(value) < 100


async def save(session: AsyncSession, *, team_id: str, kind: str, payload: object, now: datetime) -> str:
    """Keep payload; returns the value to carry instead ("saved:<key>")."""
    key = secrets.token_urlsafe(24)
    session.add(SavedState(key=key, team_id=team_id, kind=kind, payload=payload, created_at=now))
    await session.flush()
    return PREFIX + key


async def load(session: AsyncSession, value: str, *, team_id: str, kind: str, now: datetime) -> object | None:
    """What save() kept under value, if it is this team's, of this kind and not yet forgotten."""
    if not is_key(value):
        return None
    row = await session.get(SavedState, value[len(PREFIX):])
    if row is None or row.team_id != team_id or row.kind != kind or row.created_at < now - KEEP_FOR:
        return None
    return row.payload


async def forget_old(session: AsyncSession, now: datetime) -> None:
    await session.execute(delete(SavedState).where(SavedState.created_at < now - KEEP_FOR))


__all__ = ["KEEP_FOR", "PREFIX", "forget_old", "is_key", "load", "save"]
