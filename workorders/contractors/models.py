"""Tables of the contractor scorecard: the figures of each month as last reported, and the
revisions a reported month went through (workorders.contractors.scorecard)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
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
