"""What the last import of a paper said about each item, so a re-import can tell what the
paper changed from what someone changed in Scrutineer since (bot.services.imports)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from models.tables import Base, UTCDateTime


class ImportBaseline(Base):
    """The value a paper last gave one field of an item: "text", "due" (ISO date or null),
    "status", "owners" (the names as written) or "position" (the position text). Replaced on
    each import that carries the field; never read by anything but the import."""
    __tablename__ = "import_baselines"
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), primary_key=True)
    field: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[object | None] = mapped_column(JSON)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)
