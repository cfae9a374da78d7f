"""The tables. Every row belongs to one workspace (Slack team) through team_id.

History is kept by appending: positions are never updated, role holders are ended
(ended_at) rather than removed, and every change writes an AuditEvent.
"""
from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """Timestamps stored in UTC and always read back timezone-aware.
    (SQLite keeps no zone, so without this it would hand back naive datetimes.)"""
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime: pass an aware one")
            value = value.astimezone(timezone.utc)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime}


def _fit_to_columns(mapper, _connection, target) -> None:
    """A name or title longer than its column (a 2,500-character paper title, a runaway owner
    cell) is shortened with an ellipsis rather than refused by PostgreSQL mid-transaction
    (SQLite would have kept it whole, so both stores now store the same)."""
    for column in mapper.columns:
        length = getattr(column.type, "length", None)
        if not length or not isinstance(column.type, String):
            continue
        value = getattr(target, column.key, None)
        if isinstance(value, str) and len(value) > length:
            setattr(target, column.key, value[:length - 1] + "…")


event.listen(Base, "before_insert", _fit_to_columns, propagate=True)
event.listen(Base, "before_update", _fit_to_columns, propagate=True)


class Workspace(Base):
    __tablename__ = "workspaces"
    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Committee(Base):
    __tablename__ = "committees"
    __table_args__ = (
        UniqueConstraint("team_id", "code", name="uq_committee_code"),
        Index("ix_committee_channel", "team_id", "channel_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("workspaces.team_id"))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(300))
    channel_id: Mapped[str | None] = mapped_column(String(32))
    is_private: Mapped[bool] = mapped_column(Boolean, default=False)
    # Set while `/scrutiny publish on` shows its public tracker page (never for a private one).
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Role(Base):
    """A named office ("Chairman of the ESCB"). Items are owned by roles, not people.

    kind: "role" (a workspace-wide office), "chair"/"officer" (of one committee, which
    gives rights there), or "person" (an item owned by a named Slack user directly).
    key is the name reduced for matching, so "ESCB Chairman" finds "Chairman of the ESCB".
    """
    __tablename__ = "roles"
    __table_args__ = (
        UniqueConstraint("team_id", "key", name="uq_role_key"),
        # A committee's chair and officer roles: who may act on it, its officers' reminders and
        # the officers who get a copy of its letters.
        Index("ix_role_committee", "committee_id", "kind"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("workspaces.team_id"))
    name: Mapped[str] = mapped_column(String(300))
    key: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(16), default="role")
    committee_id: Mapped[int | None] = mapped_column(ForeignKey("committees.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    holders: Mapped[list[RoleHolder]] = relationship(
        back_populates="role", order_by="RoleHolder.started_at", lazy="selectin")

    @property
    def current_holders(self) -> list[RoleHolder]:
        return [h for h in self.holders if h.ended_at is None]


class RoleHolder(Base):
    """Who holds a role, from when until when. A Slack user, or an outside person."""
    __tablename__ = "role_holders"
    __table_args__ = (
        Index("ix_holder_role", "role_id", "ended_at"),
        Index("ix_holder_user", "user_id", "ended_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    role_id: Mapped[int] = mapped_column(ForeignKey("roles.id"))
    user_id: Mapped[str | None] = mapped_column(String(32))
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assigned_by: Mapped[str | None] = mapped_column(String(32))
    role: Mapped[Role] = relationship(back_populates="holders")


class Review(Base):
    """The scrutiny report that produced recommendations (e.g. sg2010)."""
    __tablename__ = "reviews"
    __table_args__ = (
        UniqueConstraint("team_id", "code", name="uq_review_code"),
        # The scheduled executive-response flags look across every workspace by agreed date.
        Index("ix_review_agreed", "agreed_on"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("workspaces.team_id"))
    committee_id: Mapped[int] = mapped_column(ForeignKey("committees.id"))
    code: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(500))
    agreed_on: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Item(Base):
    """A recommendation (kind "rec", numbered within its review) or an action ("act",
    numbered within its committee)."""
    __tablename__ = "items"
    __table_args__ = (
        Index("ix_item_committee_due", "committee_id", "due"),
        Index("ix_item_team_status_due", "team_id", "status", "due"),
        Index("ix_item_ref", "team_id", "kind", "number"),
        Index("ix_item_review", "review_id", "number"),
        # The scheduled reminders and officers' summaries look across every workspace for open
        # items due by a date: status first (the open ones), then the due-date range.
        Index("ix_item_status_due", "status", "due"),
        # A meeting's actions arising (/meeting, its digest, the decision letter).
        Index("ix_item_meeting", "meeting_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(ForeignKey("workspaces.team_id"))
    committee_id: Mapped[int] = mapped_column(ForeignKey("committees.id"))
    review_id: Mapped[int | None] = mapped_column(ForeignKey("reviews.id"))
    kind: Mapped[str] = mapped_column(String(8))
    number: Mapped[str] = mapped_column(String(32))
    seq: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(32), default="not started")
    rag_override: Mapped[str | None] = mapped_column(String(8))
    rag_reason: Mapped[str | None] = mapped_column(Text)
    due: Mapped[date | None] = mapped_column(Date)
    exec_response: Mapped[str] = mapped_column(String(32), default="awaiting")
    exec_response_reason: Mapped[str | None] = mapped_column(Text)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id"))  # the meeting it arose at
    snoozed_until: Mapped[date | None] = mapped_column(Date)  # no reminders before this day
    # Paused or deferred (bot.core.status.PAUSED): why, and the day it resumes (not overdue, not chased till then).
    paused_until: Mapped[date | None] = mapped_column(Date)
    pause_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    owners: Mapped[list[ItemOwner]] = relationship(
        order_by="ItemOwner.ordinal", lazy="selectin", cascade="all, delete-orphan")
    committee: Mapped[Committee] = relationship(lazy="joined")
    review: Mapped[Review | None] = relationship(lazy="joined")

    @property
    def ref(self) -> str:
        return f"{self.kind}-{self.number}"

    @property
    def full_ref(self) -> str:
        prefix = self.review.code if self.review is not None else self.committee.code
        return f"{prefix}/{self.ref}"


class ItemOwner(Base):
    __tablename__ = "item_owners"
    __table_args__ = (Index("ix_owner_role", "role_id"),)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), primary_key=True)
    role_id: Mapped[int] = mapped_column(ForeignKey("roles.id"), primary_key=True)
    ordinal: Mapped[int] = mapped_column(Integer, default=0)
    role: Mapped[Role] = relationship(lazy="selectin")


class Position(Base):
    """A dated position reported against an item. Append-only."""
    __tablename__ = "positions"
    __table_args__ = (Index("ix_position_item", "item_id", "as_of", "id"),
                      Index("ix_position_request", "request_id"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    text: Mapped[str] = mapped_column(Text)
    as_of: Mapped[date] = mapped_column(Date)
    author_user_id: Mapped[str | None] = mapped_column(String(32))
    author_name: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(16), default="slack")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # An update asked for before a meeting (bot.services.updates) is "submitted" until the
    # committee's officer or chair accepts or returns it; only accepted positions are the latest.
    review_state: Mapped[str] = mapped_column(String(16), default="accepted", server_default="accepted")
    proposed: Mapped[dict | None] = mapped_column(JSON)   # the status, due date and RAG it asks for
    request_id: Mapped[int | None] = mapped_column(ForeignKey("update_requests.id"))
    reviewed_by: Mapped[str | None] = mapped_column(String(32))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_note: Mapped[str | None] = mapped_column(Text)   # why it was returned


class AuditEvent(Base):
    """Who changed what, when, from what to what. Kept for good."""
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_entity", "team_id", "entity", "entity_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32))
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
