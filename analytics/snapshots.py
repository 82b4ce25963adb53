"""Monthly snapshots for the reporting views: each asset's health (analytics.ageing), the
maintenance KPIs (analytics.kpis) of the site, each building, contractor firm and asset class,
and the capital plan (analytics.ageing.capital_plan), in the analytics' own tables
(analytics.models).

A month's rows are as of its end, or, for the month under way, as of the run. Writing a month
again replaces its rows (one row per (month, asset) and per (month, key); the capital plan's
rows of the month are deleted and written anew, since assets enter and leave it), so a run
repeated, or two runs of the same month, store nothing twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from analytics import kpi_repository as repo
from analytics.ageing import asset_health, capital_plan
from analytics.kpis import IN_HOUSE, kpis, month_bounds
from analytics.models import AssetHealthMonthly, CapitalPlanMonthly, KpiMonthly
from core.errors import AppError
from workorders.site import WorkordersSite

log = logging.getLogger(__name__)

#: The KPI block's fields kept in columns of their own (the whole block is in `data`).
KPI_COLUMNS = (
    "mttr_hours",
    "mtbf_days",
    "pm_compliance_percent",
    "planned_share_percent",
    "backlog_crew_weeks",
    "recall_rate_percent",
)
BREAKDOWNS = ("by_building", "by_contractor", "by_class")


@dataclass(frozen=True)
class Written:
    """What one month's snapshot wrote."""

    month: str
    assets: int
    kpis: int
    #: Assets in the month's capital plan.
    capital_plan: int = 0


def kpi_key(row: dict[str, Any]) -> str:
    """The scope key of a by_building, by_contractor or by_class row."""
    if "building" in row:
        return f"building:{row['building']}"
    if "contractor" in row:
        firm = row["contractor"]
        return f"contractor:{firm if firm not in (None, IN_HOUSE) else 'in-house'}"
    return f"class:{row['class']}"


def kpi_rows(figures: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The KPI blocks of a kpis() answer by scope key: 'site' and one per breakdown row."""
    site = {k: v for k, v in figures.items() if k not in BREAKDOWNS}
    rows = {"site": site}
    for name in BREAKDOWNS:
        for row in figures[name]:
            rows[kpi_key(row)] = row
    return rows


def _store_kpis(
    session: Session, month: str, key: str, block: dict[str, Any], as_of: dt.datetime
) -> None:
    row = repo.kpi_snapshot(session, month, key)
    if row is None:
        row = KpiMonthly(month=month, key=key)
        repo.add(session, row)
    for name in KPI_COLUMNS:
        setattr(row, name, block[name])
    row.spend_total = block["spend"]["total"]
    row.spend_planned = block["spend"]["planned"]
    row.spend_reactive = block["spend"]["reactive"]
    row.data = block
    row.as_of = as_of
    row.written_at = dt.datetime.now(dt.UTC)


def _store_health(
    session: Session, month: str, asset_id: str, health: dict[str, Any], as_of: dt.datetime
) -> None:
    row = repo.health_snapshot(session, month, asset_id)
    if row is None:
        row = AssetHealthMonthly(month=month, asset_id=asset_id)
        repo.add(session, row)
    growth = health.get("growth") or {}
    row.age_ratio = (health.get("age") or {}).get("ratio")
    row.n_failures = int(health.get("n_failures") or 0)
    row.beta = growth.get("beta")
    row.beta_lower = growth.get("beta_lower")
    row.beta_upper = growth.get("beta_upper")
    row.mtbf_days = health.get("mtbf_days")
    row.mttr_hours = health.get("mttr_hours")
    row.cost_ratio = (health.get("cost") or {}).get("ratio")
    row.flags = list(health.get("flags") or [])
    row.data = health
    row.as_of = as_of
    row.written_at = dt.datetime.now(dt.UTC)


def _store_capital_plan(
    session: Session, month: str, site: WorkordersSite, as_of: dt.datetime
) -> int:
    """Replace the month's capital-plan rows with the plan as of `as_of`; how many."""
    plan = capital_plan(session, site, now=as_of)
    repo.clear_capital_plan(session, month)
    for item in plan["items"]:
        evidence = item["evidence"]
        repo.add(
            session,
            CapitalPlanMonthly(
                month=month,
                rank=item["rank"],
                asset_id=item["asset"]["id"],
                recommended_year=item["recommended_year"],
                cost=item["cost"],
                score=item["score"],
                reasons=list(item["reasons"]),
                age_ratio=evidence["age_ratio"],
                beta=evidence["beta"],
                beta_lower=evidence["beta_lower"],
                beta_upper=evidence["beta_upper"],
                cost_ratio=evidence["cost_ratio"],
                criticality=evidence["criticality"],
                as_of=as_of,
                written_at=dt.datetime.now(dt.UTC),
            ),
        )
    return len(plan["items"])


def write_month(session: Session, site: WorkordersSite, *, month: str, now: dt.datetime) -> Written:
    """(Re)write a month's snapshot rows: every asset's health, every scope's KPIs and the
    capital plan, as of the month's end (or now, within it)."""
    _start, end = month_bounds(month, ZoneInfo(site.doc.site.timezone))
    as_of = min(end, now)
    rows = kpi_rows(kpis(session, site, month=month, now=now))
    for key, block in rows.items():
        _store_kpis(session, month, key, block, as_of)
    assets = 0
    for asset_id in repo.asset_ids(session):
        try:
            health = asset_health(session, site, asset_id=asset_id, now=as_of)
        except AppError as exc:  # an asset the ageing analytics cannot judge: skip it
            log.info("no health snapshot of %s for %s: %s", asset_id, month, exc)
            continue
        _store_health(session, month, asset_id, health, as_of)
        assets += 1
    planned = _store_capital_plan(session, month, site, as_of)
    session.flush()
    return Written(month, assets, len(rows), planned)


def months_to_write(site: WorkordersSite, *, now: dt.datetime) -> list[str]:
    """The months a run at `now` writes: the last one (complete) and the one under way."""
    today = now.astimezone(ZoneInfo(site.doc.site.timezone)).date()
    last = today.replace(day=1) - dt.timedelta(days=1)
    return [f"{last:%Y-%m}", f"{today:%Y-%m}"]


def months_since(session: Session, site: WorkordersSite, *, now: dt.datetime) -> list[str]:
    """Every month from the first work order's (the start of the maintenance records) to the
    one under way at `now`, oldest first; none when there is no work order."""
    from analytics.ageing_repository import records_start

    start = records_start(session)
    if start is None:
        return []
    tz = ZoneInfo(site.doc.site.timezone)
    return month_range(start.astimezone(tz).date(), now.astimezone(tz).date())


def month_range(first: dt.date, last: dt.date) -> list[str]:
    """'YYYY-MM' of every month from first's to last's, oldest first."""
    month, end = first.replace(day=1), last.replace(day=1)
    months: list[str] = []
    while month <= end:
        months.append(f"{month:%Y-%m}")
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return months


def stored_months(session: Session) -> set[str]:
    """The months that already have snapshots."""
    return repo.snapshot_months(session)


def health_rows(session: Session, month: str) -> list[AssetHealthMonthly]:
    """The stored asset-health snapshot of a month, by asset."""
    return repo.health_snapshots(session, month)


def kpi_snapshot_rows(session: Session, month: str) -> list[KpiMonthly]:
    """The stored KPI snapshot of a month, by scope key."""
    return repo.kpi_snapshots(session, month)


def capital_plan_rows(session: Session, month: str) -> list[CapitalPlanMonthly]:
    """The stored capital plan of a month, by rank."""
    return repo.capital_plan_snapshots(session, month)
