"""Helpers for the write side (the ORM): a workspace made on first use, a committee loaded by
its code to change it or import into it, the key a role name is matched by. What the Slack
commands show is read through models/reads.py."""
from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.tables import Committee, Workspace

_FILLER = {"the", "of", "for", "and", "&", "amp"}


def role_key(name: str) -> str:
    """Reduce a role name for matching: case, punctuation, filler words and word order
    don't matter, so "ESCB Chairman" and "Chairman of the ESCB" are one role."""
    words = re.findall(r"[a-z0-9']+", name.lower().replace("’", "'"))
    words = sorted({w.strip("'") for w in words if w not in _FILLER and w.strip("'")})
    return " ".join(words)[:300]


async def ensure_workspace(session: AsyncSession, team_id: str, now: datetime, name: str | None = None) -> Workspace:
    ws = await session.get(Workspace, team_id)
    if ws is None:
        ws = Workspace(team_id=team_id, name=name, created_at=now)
        session.add(ws)
        await session.flush()
    return ws


async def committee_by_code(session: AsyncSession, team_id: str, code: str) -> Committee | None:
    return (await session.scalars(select(Committee).where(
        Committee.team_id == team_id, Committee.code == code.lower()))).first()
