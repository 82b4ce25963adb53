"""The analytics' own tables: monthly snapshots of each asset's health and of the maintenance
KPIs (issue 17), and of the capital plan (issue 18), written by the snapshot job
(analytics.snapshots) for the reporting views."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Float, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow


class AssetHealthMonthly(Base):
    """An asset's health at the end of a month (or, for the month under way, when last
    written): age ratio, failures, Crow-AMSAA β with its bounds, cost ratio and flags."""

    __tablename__ = "analytics_asset_health_monthly"
    __table_args__ = (
        UniqueConstraint("month", "asset_id", name="uq_analytics_asset_health_monthly_month"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: YYYY-MM, in the site's time zone.
    month: Mapped[str] = mapped_column(String(7))
    asset_id: Mapped[str] = mapped_column(String(100))
    age_ratio: Mapped[float | None] = mapped_column(Float)
    n_failures: Mapped[int] = mapped_column(Integer, default=0)
    beta: Mapped[float | None] = mapped_column(Float)
    beta_lower: Mapped[float | None] = mapped_column(Float)
    beta_upper: Mapped[float | None] = mapped_column(Float)
    mtbf_days: Mapped[float | None] = mapped_column(Float)
    mttr_hours: Mapped[float | None] = mapped_column(Float)
    cost_ratio: Mapped[float | None] = mapped_column(Float)
    #: The health JSON's flags (e.g. "replace", "rising_failures").
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: The whole health JSON (analytics.ageing.asset_health) as of the snapshot.
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: As of when the figures are: the month's end, or the time of writing within it.
    as_of: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    written_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class KpiMonthly(Base):
    """The maintenance KPIs of a month for one scope: the site ('site'), a building
    ('building:<id>'), a contractor firm ('contractor:<id>', 'contractor:in-house') or an
    asset class ('class:<Brick class>')."""

    __tablename__ = "analytics_kpi_monthly"
    __table_args__ = (UniqueConstraint("month", "key", name="uq_analytics_kpi_monthly_month_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[str] = mapped_column(String(7))
    key: Mapped[str] = mapped_column(String(150))
    mttr_hours: Mapped[float | None] = mapped_column(Float)
    mtbf_days: Mapped[float | None] = mapped_column(Float)
    pm_compliance_percent: Mapped[float | None] = mapped_column(Float)
    planned_share_percent: Mapped[float | None] = mapped_column(Float)
    backlog_crew_weeks: Mapped[float | None] = mapped_column(Float)
    recall_rate_percent: Mapped[float | None] = mapped_column(Float)
    spend_total: Mapped[float] = mapped_column(Float, default=0.0)
    spend_planned: Mapped[float] = mapped_column(Float, default=0.0)
    spend_reactive: Mapped[float] = mapped_column(Float, default=0.0)
    #: The scope's whole KPI block (spend and counts included) as of the snapshot.
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    as_of: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    written_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CapitalPlanMonthly(Base):
    """One asset of the capital plan (analytics.ageing.capital_plan) as of a month's end (or,
    for the month under way, when last written): its rank, recommended year, cost, reasons
    and the evidence behind them."""

    __tablename__ = "analytics_capital_plan_monthly"
    __table_args__ = (
        UniqueConstraint("month", "asset_id", name="uq_analytics_capital_plan_monthly_month"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[str] = mapped_column(String(7))
    #: 1 for the strongest case for replacement.
    rank: Mapped[int] = mapped_column(Integer)
    asset_id: Mapped[str] = mapped_column(String(100))
    recommended_year: Mapped[int] = mapped_column(Integer)
    #: The asset's replacement cost, when known.
    cost: Mapped[float | None] = mapped_column(Float)
    score: Mapped[float] = mapped_column(Float)
    #: Reason codes, e.g. ["past_life", "rising_failures", "critical"].
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    age_ratio: Mapped[float | None] = mapped_column(Float)
    beta: Mapped[float | None] = mapped_column(Float)
    beta_lower: Mapped[float | None] = mapped_column(Float)
    beta_upper: Mapped[float | None] = mapped_column(Float)
    cost_ratio: Mapped[float | None] = mapped_column(Float)
    criticality: Mapped[str | None] = mapped_column(String(20))
    as_of: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    written_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
