"""Performance indicators of a committee (re-referrals, assessments on time, children looked
after) and the figures recorded against them, period by period.

Figures are appended, never updated: a figure recorded again for the same period is a
correction, the newest row for a period is the one that counts, and the older rows stay."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.tables import Base, Committee, Role, UTCDateTime


class Indicator(Base):
    """One indicator of a committee: "Re-referrals within 12 months", in %, target 25, lower
    is better, owned by a role ("Head of Children's Social Care"). slug is its name reduced for
    `/indicator rec re-referrals …`, unique within the committee."""
    __tablename__ = "indicators"
    __table_args__ = (UniqueConstraint("committee_id", "slug", name="uq_indicator_slug"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    committee_id: Mapped[int] = mapped_column(ForeignKey("committees.id"))
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str | None] = mapped_column(String(40))
    target: Mapped[float | None] = mapped_column(Float)
    lower_is_better: Mapped[bool] = mapped_column(Boolean, default=False)
    owner_role_id: Mapped[int | None] = mapped_column(ForeignKey("roles.id"))
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    committee: Mapped[Committee] = relationship(lazy="joined")
    owner_role: Mapped[Role | None] = relationship(lazy="joined")


class IndicatorValue(Base):
    """A figure for one period (a financial-year quarter, a month, a year). Append-only: the
    newest row of an (indicator, period) is its value; older ones are what it corrected."""
    __tablename__ = "indicator_values"
    __table_args__ = (Index("ix_indicator_value_period", "indicator_id", "period_end", "period_start", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id"))
    period: Mapped[str] = mapped_column(String(16))          # as shown: "Q1 2012/13", "June 2012", "2012/13"
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    value: Mapped[float] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(32))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
