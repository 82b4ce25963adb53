"""Tables of the contractor scorecard: the figures of each month as last reported, and the
revisions a reported month went through (workorders.contractors.scorecard)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow


class ScorecardReport(Base):
    """A contractor's ended month as it was last reported (served by the API): the figures the
    pay was read from. A later computation that disagrees is a revision, never silent."""

    __tablename__ = "scorecard_reports"

    contractor_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    #: YYYY-MM, the site's local calendar month.
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    #: {"score", "payment", "response_percent", "resolution_percent", "breaches", ...}
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    reported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ScorecardRevision(Base):
    """A reported month whose figures changed afterwards, and why."""

    __tablename__ = "scorecard_revisions"
    __table_args__ = (Index("ix_scorecard_revisions_month", "contractor_id", "month"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contractor_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    month: Mapped[str] = mapped_column(String(7))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reason: Mapped[str] = mapped_column(Text)
    before: Mapped[dict[str, Any]] = mapped_column(JSON)
    after: Mapped[dict[str, Any]] = mapped_column(JSON)


class BreachDispute(Base):
    """A contractor's dispute of one breached clock of one of its work orders, judged in one
    month, and the admin's decision: accepted (the breach no longer counts) or rejected."""

    __tablename__ = "scorecard_disputes"
    __table_args__ = (
        UniqueConstraint(
            "contractor_id", "month", "workorder_id", "clock", name="uq_scorecard_disputes_breach"
        ),
        Index("ix_scorecard_disputes_month", "contractor_id", "month"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contractor_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    month: Mapped[str] = mapped_column(String(7))
    workorder_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"))
    #: "response" or "resolution"
    clock: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    raised_by: Mapped[str] = mapped_column(String(200))
    raised_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: "open", "accepted" or "rejected"
    status: Mapped[str] = mapped_column(String(20), default="open")
    decided_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decision_note: Mapped[str | None] = mapped_column(Text, nullable=True)


class MonthSignoff(Base):
    """An admin's sign-off of a contractor's ended month, with the figures signed off."""

    __tablename__ = "scorecard_signoffs"

    contractor_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    signed_by: Mapped[str] = mapped_column(String(200))
    signed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)


class Complaint(Base):
    """A complaint against a contractor's work, counted in the site-local month it was made:
    recorded by an admin, or an occupant request marked as a complaint."""

    __tablename__ = "contractor_complaints"
    __table_args__ = (Index("ix_contractor_complaints_made", "contractor_id", "made_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contractor_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    #: When the complaint was made (an occupant request: when it was reported).
    made_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    text: Mapped[str] = mapped_column(Text)
    #: The firm's work order the complaint is about, if named.
    workorder_id: Mapped[int | None] = mapped_column(
        ForeignKey("work_orders.id", ondelete="SET NULL"), nullable=True
    )
    #: The occupant request (a work order of origin request) marked as this complaint.
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("work_orders.id", ondelete="SET NULL"), nullable=True, unique=True
    )
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    withdrawn_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
