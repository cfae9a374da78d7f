"""Outgoing messages (the outbox) and the lease that lets one replica dispatch at a time."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.tables import Base, UTCDateTime


class OutboxMessage(Base):
    """One logical message to Slack, written in the same transaction as the change that
    caused it. `key` is unique, so the same logical message can never be queued twice."""
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "sent_at", "dead_at", "not_before"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(300), unique=True)
    method: Mapped[str] = mapped_column(String(40))      # chat.postMessage | views.publish
    channel: Mapped[str] = mapped_column(String(32))     # a channel ID, or a user ID for a DM / Home tab
    payload: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Set when an attempt starts (the row is claimed right before its send, never ahead of
    # it) and cleared when a sure outcome is recorded: if it is still set when the row is
    # next claimed, the process died mid-send, or Slack's answer was unclear, and Slack may
    # have it. A row only read ahead by a dispatcher that died carries no mark at all.
    in_flight_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dead_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result_channel: Mapped[str | None] = mapped_column(String(32))
    result_ts: Mapped[str | None] = mapped_column(String(32))


class Lease(Base):
    """A named lease held by one process until it expires (e.g. "dispatcher"). expires_at is
    by the database's clock. generation goes up by one whenever the lease changes hands (or
    is taken again after it ran out): a holder's claims and sends carry the generation it
    took the lease with, so one that lost the lease can't act on it any more."""
    __tablename__ = "leases"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ProcessedEvent(Base):
    """Events already handled, by Slack's event_id: Slack retries an event it thinks we
    missed (X-Slack-Retry-Num), and the retry may reach another replica."""
    __tablename__ = "processed_events"
    __table_args__ = (Index("ix_event_received", "received_at"),)   # forgetting the old ones
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
