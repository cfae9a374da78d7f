"""The audit trail: one row per change, never updated or deleted."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from models.tables import AuditEvent

# The actor of what Scrutineer does on its own (scheduled rounds: update requests and their
# automatic chases, letter chases, escalations, items resuming after a pause).
SYSTEM = "Scrutineer (automatic)"


def _plain(value):
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def record(session: AsyncSession, *, team_id: str, actor: str, at: datetime, entity: str,
           entity_id: int, action: str, before: dict | None = None, after: dict | None = None) -> None:
    session.add(AuditEvent(team_id=team_id, actor=actor, at=at, entity=entity, entity_id=entity_id,
                           action=action, before=_plain(before), after=_plain(after)))
