"""A council's own settings (`/scrutiny settings`) and the admins its admins named.

A NULL setting means "the default": the environment's (bot.config.Settings) for a workspace,
the workspace's for a committee (bot.services.settings resolves them). Named admins are ended
(removed_at), never deleted, so who was an admin when stays known."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.tables import Base, UTCDateTime


class WorkspaceSettings(Base):
    """One council's settings: one row per workspace, made when an admin first saves one."""
    __tablename__ = "workspace_settings"
    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    council_name: Mapped[str | None] = mapped_column(String(200))
    tz_name: Mapped[str | None] = mapped_column(String(64))
    digest_delay_minutes: Mapped[int | None] = mapped_column(Integer)
    remind_days: Mapped[int | None] = mapped_column(Integer)
    escalate_days: Mapped[int | None] = mapped_column(Integer)
    escalate_roles: Mapped[list | None] = mapped_column(JSON)        # committee role kinds: ["chair", "officer"]
    meeting_minutes: Mapped[int | None] = mapped_column(Integer)     # a new meeting's length
    holiday_region: Mapped[str | None] = mapped_column(String(32))   # bot.core.workdays.REGIONS
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str | None] = mapped_column(String(32))


class CommitteeSettings(Base):
    """One committee's own settings, over its workspace's."""
    __tablename__ = "committee_settings"
    committee_id: Mapped[int] = mapped_column(ForeignKey("committees.id"), primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    update_days: Mapped[int | None] = mapped_column(Integer)
    escalate_days: Mapped[int | None] = mapped_column(Integer)
    escalate_roles: Mapped[list | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str | None] = mapped_column(String(32))


class WorkspaceAdmin(Base):
    """Someone an admin named an admin of this workspace (`/scrutiny admin add @x`), from when
    until when."""
    __tablename__ = "workspace_admins"
    __table_args__ = (Index("ix_workspace_admin", "team_id", "user_id", "removed_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    added_by: Mapped[str] = mapped_column(String(32))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
    removed_by: Mapped[str | None] = mapped_column(String(32))
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
