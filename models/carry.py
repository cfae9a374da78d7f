"""Carrying items forward: who watches an item, and which items were escalated."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.tables import Base, UTCDateTime


class Watcher(Base):
    """Someone told of an item's new positions and status changes without owning it (`/watch`).
    Stopping ends the row (ended_at); watching again starts a new one."""
    __tablename__ = "watchers"
    __table_args__ = (Index("ix_watcher_item", "item_id", "ended_at"),
                      Index("ix_watcher_user", "team_id", "user_id", "ended_at"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    user_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Escalation(Base):
    """An overdue item escalated to its committee's chair and officers: once per due date
    (a revised date that also slips escalates again)."""
    __tablename__ = "escalations"
    __table_args__ = (UniqueConstraint("item_id", "due", name="uq_escalation_item_due"),
                      Index("ix_escalation_committee", "committee_id", "escalated_on"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    committee_id: Mapped[int] = mapped_column(ForeignKey("committees.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    due: Mapped[date] = mapped_column(Date)
    escalated_on: Mapped[date] = mapped_column(Date)
    days_late: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AgendaDrop(Base):
    """An open item dropped from one meeting's agenda by its officer (`/meeting drop`): not asked
    for an update for that meeting, nor chased. Undoing it ends the row (undone_at); dropping
    again starts a new one."""
    __tablename__ = "agenda_drops"
    __table_args__ = (Index("ix_agenda_drop_meeting", "meeting_id", "undone_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    dropped_by: Mapped[str] = mapped_column(String(64))
    dropped_at: Mapped[datetime] = mapped_column(UTCDateTime)
    undone_by: Mapped[str | None] = mapped_column(String(64))
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
