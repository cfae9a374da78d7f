"""Updates asked of owners before a meeting (bot.services.updates): one request per meeting and
owner. What they send is a Position in review_state "submitted" (models.tables.Position)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.tables import Base, UTCDateTime


class UpdateRequest(Base):
    __tablename__ = "update_requests"
    __table_args__ = (UniqueConstraint("meeting_id", "user_id", name="uq_update_request"),
                      Index("ix_update_request_token", "token_hash", unique=True))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    committee_id: Mapped[int] = mapped_column(ForeignKey("committees.id"))
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"))
    user_id: Mapped[str] = mapped_column(String(32))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    chased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)   # the first update sent
    # An owner outside Slack, asked by email (user_id is then their mail lane, "mail:<hash>"):
    # the address, and the sha256 of their personal link's token and when it stops working.
    email: Mapped[str | None] = mapped_column(String(320))
    token_hash: Mapped[str | None] = mapped_column(String(64))
    token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
