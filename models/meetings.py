"""Meetings, their numbered decisions, partner agencies and decision letters."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.tables import Base, Committee, UTCDateTime


class Meeting(Base):
    __tablename__ = "meetings"
    __table_args__ = (Index("ix_meeting_committee", "committee_id", "starts_at"),
                      Index("ix_meeting_open", "closed_at", "ends_at"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    committee_id: Mapped[int] = mapped_column(ForeignKey("committees.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[str | None] = mapped_column(String(32))  # "auto" when the digest went on its own
    # Cancelled: closed at the same moment (so it is never current and never digested), kept.
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by: Mapped[str | None] = mapped_column(String(32))
    # Written up after it was held (scheduled in the past): its digest delay counts from here.
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    committee: Mapped[Committee] = relationship(lazy="joined")
    decisions: Mapped[list[Decision]] = relationship(order_by="Decision.number", lazy="selectin")


class Decision(Base):
    """"Resolved – That (1) …": numbered 1, 2, … within its meeting."""
    __tablename__ = "decisions"
    __table_args__ = (UniqueConstraint("meeting_id", "number", name="uq_decision_number"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"))
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    corrected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)   # text corrected (the old one is audited)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)   # kept, numbered, shown as withdrawn
    withdrawn_by: Mapped[str | None] = mapped_column(String(32))


class Agency(Base):
    """A partner agency of a committee (e.g. Essex Police), whose contacts get decision letters."""
    __tablename__ = "agencies"
    __table_args__ = (UniqueConstraint("committee_id", "name", name="uq_agency_name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    committee_id: Mapped[int] = mapped_column(ForeignKey("committees.id"))
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)   # no letters after this; kept in history
    contacts: Mapped[list[AgencyContact]] = relationship(order_by="AgencyContact.id", lazy="selectin")


class AgencyContact(Base):
    __tablename__ = "agency_contacts"
    __table_args__ = (Index("ix_contact_agency", "agency_id"),)   # an agency's contacts (Agency.contacts)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    user_id: Mapped[str | None] = mapped_column(String(32))
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)   # set with active=False


class Letter(Base):
    """The chair's decision letter after a meeting, as sent."""
    __tablename__ = "letters"
    __table_args__ = (Index("ix_letter_committee", "committee_id", "sent_at"),
                      # The scheduled chase: letters not yet chased, sent before a date.
                      Index("ix_letter_unchased", "chased_at", "sent_at"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    committee_id: Mapped[int] = mapped_column(ForeignKey("committees.id"))
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id"))
    text: Mapped[str] = mapped_column(Text)
    sent_by: Mapped[str] = mapped_column(String(32))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    chased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recipients: Mapped[list[LetterRecipient]] = relationship(order_by="LetterRecipient.id", lazy="selectin")


class LetterRecipient(Base):
    """Who a letter went to, and when it was delivered and acknowledged."""
    __tablename__ = "letter_recipients"
    __table_args__ = (Index("ix_recipient_letter", "letter_id"), Index("ix_recipient_user", "user_id"),
                      # The dispatcher's on_sent hook notes delivery by the message's outbox key.
                      Index("ix_recipient_outbox_key", "outbox_key"),
                      # An emailed acknowledgement link finds its recipient by its token's hash.
                      Index("ix_recipient_ack_token", "ack_token_hash", unique=True))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("letters.id"))
    kind: Mapped[str] = mapped_column(String(16))   # channel | contact | officer
    agency: Mapped[str | None] = mapped_column(String(200))
    user_id: Mapped[str | None] = mapped_column(String(32))
    channel_id: Mapped[str | None] = mapped_column(String(32))
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    outbox_key: Mapped[str | None] = mapped_column(String(300))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A contact known only by email: the sha256 of their acknowledgement link's token (the token
    # itself is only in the email), until when it works, and the mail server's refusal, if any.
    ack_token_hash: Mapped[str | None] = mapped_column(String(64))
    ack_token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivery_error: Mapped[str | None] = mapped_column(Text)
