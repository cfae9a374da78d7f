"""Small pieces of state kept server-side because Slack can't carry them: a long "More"
filter (a button's value holds 2,000 characters), an import preview's metadata that outgrows
private_metadata (3,000). Slack carries only the key; bot.services.saved reads it back."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from models.tables import Base, UTCDateTime


class SavedState(Base):
    """One saved value, under an unguessable key, readable only by the team that saved it.
    Forgotten after a day (bot.services.events.forget_old_events)."""
    __tablename__ = "saved_state"
    __table_args__ = (Index("ix_saved_state_created", "created_at"),)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))     # "item_filter" | "import_form"
    payload: Mapped[object] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
