"""A record of each workspace whose data was removed (`scrutineer workspace delete`, or the
retention period after an uninstall): kept after everything else of it is gone."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.tables import Base, UTCDateTime


class RemovedWorkspace(Base):
    """When a workspace's data was removed, why ("deleted by an operator", "retention: …"), and
    how many rows of each table went. Nothing the council stored is kept here."""
    __tablename__ = "removed_workspaces"
    __table_args__ = (Index("ix_removed_workspace_team", "team_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    removed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(200))
    row_counts: Mapped[dict] = mapped_column(JSON)
