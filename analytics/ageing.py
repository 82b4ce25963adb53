"""Ageing equipment: one asset's health (age, failures, MTBF and MTTR, the Crow-AMSAA failure
trend, availability, repair cost against replacement cost) and the capital plan that ranks the
assets to replace in the next years (DOMAIN.md, "Ageing equipment").

Definitions
    A failure is a corrective work order on the asset, not cancelled, at its opening
    (created_at). An alert storm opens one parent work order with no asset and counts its
    alerts on it (workorders.intake.open_parent / link_alert): there are no child work orders,
    so a storm counts once, and on no asset's record.
    Failure times are days from the asset's observation origin: the later of its install date
    and the start of the maintenance records (the first work order on any asset), so an asset
    installed long before the records began is not credited with failure-free years nobody
    recorded. The fit is time-terminated at `now`.
    MTBF = observed days / failures (SMRP 3.5.1, operating span); MTTR = mean of resolved_at -
    created_at over the resolved corrective work (IEEE 493).
    Repair cost = the corrective work orders' cost_total opened within the last COST_WINDOW_YEARS,
    against replacement_cost: 50 % a warning, 75 % replace (DOMAIN.md).
    Rising failures: Crow's 90 % lower bound on beta above 1 (deteriorating with 95 % one-sided
    confidence).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from analytics import ageing_repository as repo
from analytics.reliability import Growth, InvalidFailureTimes, TooFewFailures, crow_amsaa
from collectors.sinks.buckets import BucketReader, Grid, ReadError, micros
from config.site import SiteConfig
from core.errors import AppError
from workorders.assets import service as assets
from workorders.orders.models import Asset, WorkOrder

#: Rolling window of the repair cost ratio, in years.
COST_WINDOW_YEARS = 5
COST_WARNING = 0.5
COST_REPLACE = 0.75
#: Points of the fitted intensity curve.
CURVE_POINTS = 48
#: How far back availability is read, and its bucket.
AVAILABILITY_DAYS = 365
AVAILABILITY_POINT = "in_service"
YEAR_DAYS = 365.25
DAY_S = 86400.0

#: Capital-plan score points (the weights of the evidence; the most a reason can add).
POINTS_RISING = 40.0  # plus up to 10 more as beta's lower bound reaches 2
POINTS_RISING_EXTRA = 10.0
POINTS_AGE = 15.0  # in proportion to the age ratio, capped at 1.5
POINTS_PAST_LIFE = 10.0
POINTS_COST_75 = 25.0
POINTS_COST_50 = 12.0
POINTS_CRITICALITY = {"critical": 10.0, "high": 5.0}


class NoAgeingData(AppError):
    """A request the ageing analytics cannot answer as asked."""

    status_code = 422
    error = "ageing_request_invalid"


@dataclass(frozen=True)
class Health:
    """An asset's health: the JSON and the fitted model behind it."""

    json: dict[str, Any]
    growth: Growth | None
    age_ratio: float | None
    cost_ratio: float | None
    past_life: bool
    rising: bool


def _iso(d: dt.datetime | dt.date | None) -> str | None:
    return d.isoformat() if d is not None else None


def _utc(d: dt.datetime) -> dt.datetime:
    return d.replace(tzinfo=dt.UTC) if d.tzinfo is None else d.astimezone(dt.UTC)


def asset_json(a: Asset) -> dict[str, Any]:
    """The asset block of the health and capital-plan JSON."""
    return {
        "id": a.id,
        "name": a.name,
        "name_zh": a.name_zh,
        "class": a.brick_class,
        "building": a.building_id,
        "criticality": a.criticality,
        "install_date": _iso(a.install_date),
        "expected_life_years": a.expected_life_years,
        "replacement_cost": a.replacement_cost,
    }


def _origin(a: Asset, records: dt.datetime | None, first: dt.datetime | None) -> dt.datetime:
    """The observation origin: the later of the install date and the records' start (midnight
    UTC of their days); the asset's first work order when neither is known."""
    days = []
    if a.install_date is not None:
        days.append(a.install_date)
    if records is not None:
        days.append(_utc(records).date())
    if not days and first is not None:
        days.append(_utc(first).date())
    if not days:
        return dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return dt.datetime.combine(max(days), dt.time(), dt.UTC)


def _availability(
    site: SiteConfig, reader: BucketReader | None, asset_id: str, now: dt.datetime
) -> dict[str, Any] | None:
    """Share of the last year the asset's in-service flag read 1, from its daily mean buckets;
    None without such a point, a reader, or any good reading."""
    if reader is None:
        return None
    if AVAILABILITY_POINT not in {p.name for p in site.asset_points.get(asset_id, [])}:
        return None
    start = now - dt.timedelta(days=AVAILABILITY_DAYS)
    grid = Grid(micros(start), micros(now), 86400)
    try:
        buckets = reader.buckets(asset=asset_id, point=AVAILABILITY_POINT, grid=grid, agg="mean")
    except ReadError:
        return None
    starts = grid.starts()
    good = [
        (s, float(b.value)) for s, b in zip(starts, buckets, strict=False) if b.value is not None
    ]
    if not good:
        return None
    return {
        "percent": round(100.0 * sum(v for _, v in good) / len(good), 2),
        "from": good[0][0].isoformat(),
        "to": now.isoformat(),
        "point": AVAILABILITY_POINT,
    }


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _health(
    session: Session,
    site: SiteConfig,
    a: Asset,
    *,
    now: dt.datetime,
    records: dt.datetime | None,
    reader: BucketReader | None,
) -> Health:
    now = _utc(now)
    work = repo.asset_work(session, a.id, until=now)
    corrective = [w for w in work if w.type == "corrective"]
    origin = _origin(a, records, work[0].created_at if work else None)
    span_days = max((now - origin).total_seconds() / DAY_S, 0.0)
    times = [
        max((_utc(w.created_at) - origin).total_seconds() / DAY_S, 1.0 / 1440.0)
        for w in corrective
        if _utc(w.created_at) >= origin
    ]
    growth: Growth | None
    try:
        growth = crow_amsaa(times, end=span_days) if span_days > 0 else None
    except (TooFewFailures, InvalidFailureTimes):  # too few, or no time between them
        growth = None
    growth_json = None
    curve: list[dict[str, Any]] = []
    if growth is not None:
        growth_json = {
            **{k: _finite(v) if isinstance(v, float) else v for k, v in growth.as_json().items()},
            "unit": "days",
            "origin": origin.date().isoformat(),
            "end": growth.end,
            "terminated": growth.terminated,
        }
        for k in range(1, CURVE_POINTS + 1):
            t = span_days * k / CURVE_POINTS
            curve.append(
                {
                    "at": (origin + dt.timedelta(days=t)).isoformat(),
                    "intensity_per_year": growth.intensity(t) * YEAR_DAYS,
                }
            )
    repairs = [
        (_utc(w.resolved_at) - _utc(w.created_at)).total_seconds() / 3600.0
        for w in corrective
        if w.resolved_at is not None and _utc(w.resolved_at) <= now
    ]
    window_start = now - dt.timedelta(days=COST_WINDOW_YEARS * YEAR_DAYS)
    repair_total = round(
        sum(w.cost_total for w in corrective if _utc(w.created_at) >= window_start), 2
    )
    cost_ratio = repair_total / a.replacement_cost if a.replacement_cost else None
    cost_flag = None
    if cost_ratio is not None:
        cost_flag = (
            "replace"
            if cost_ratio >= COST_REPLACE
            else "warning"
            if cost_ratio >= COST_WARNING
            else None
        )
    age_years = (now.date() - a.install_date).days / YEAR_DAYS if a.install_date else None
    age_ratio = (
        age_years / a.expected_life_years
        if age_years is not None and a.expected_life_years
        else None
    )
    past_life = age_ratio is not None and age_ratio >= 1.0
    rising = growth is not None and growth.beta_lower > 1.0
    flags = []
    if past_life:
        flags.append("past_life")
    if rising:
        flags.append("rising_failures")
    if past_life and rising:
        flags.append("past_life_rising")
    if cost_flag == "replace":
        flags.append("repair_cost_75")
    elif cost_flag == "warning":
        flags.append("repair_cost_50")
    body = {
        "asset": asset_json(a),
        "age": {
            "years": round(age_years, 2) if age_years is not None else None,
            "ratio": round(age_ratio, 3) if age_ratio is not None else None,
        },
        "failures": [_failure(w) for w in corrective],
        "n_failures": len(corrective),
        "mtbf_days": round(span_days / len(times), 2) if times else None,
        "mttr_hours": round(sum(repairs) / len(repairs), 2) if repairs else None,
        "growth": growth_json,
        "intensity_curve": curve,
        "availability": _availability(site, reader, a.id, now),
        "cost": {
            "repair_total": repair_total,
            "replacement_cost": a.replacement_cost,
            "ratio": round(cost_ratio, 4) if cost_ratio is not None else None,
            "flag": cost_flag,
            "window_years": COST_WINDOW_YEARS,
        },
        "flags": flags,
    }
    return Health(body, growth, age_ratio, cost_ratio, past_life, rising)


def _failure(w: WorkOrder) -> dict[str, Any]:
    return {
        "work_order": w.id,
        "at": _utc(w.created_at).isoformat(),
        "title": w.title,
        "cost": w.cost_total,
    }


def asset_health(
    session: Session,
    site: SiteConfig,
    *,
    asset_id: str,
    now: dt.datetime,
    availability_reader: BucketReader | None = None,
) -> dict[str, Any]:
    """The JSON of GET /api/v1/analytics/assets/{id}/health (404 for an unknown asset)."""
    a = assets.asset(session, asset_id=asset_id)
    return _health(
        session,
        site,
        a,
        now=now,
        records=repo.records_start(session),
        reader=availability_reader,
    ).json


def _score(h: Health, a: Asset) -> tuple[float, list[str]]:
    """Score (points, see POINTS_*) and reason codes of one asset's case for replacement."""
    score = 0.0
    reasons: list[str] = []
    if h.past_life:
        score += POINTS_PAST_LIFE
        reasons.append("past_life")
    if h.rising and h.growth is not None:
        score += POINTS_RISING + POINTS_RISING_EXTRA * min(h.growth.beta_lower - 1.0, 1.0)
        reasons.append("rising_failures")
    if h.cost_ratio is not None and h.cost_ratio >= COST_REPLACE:
        score += POINTS_COST_75
        reasons.append("repair_cost_75")
    elif h.cost_ratio is not None and h.cost_ratio >= COST_WARNING:
        score += POINTS_COST_50
        reasons.append("repair_cost_50")
    if h.age_ratio is not None:
        score += POINTS_AGE * min(h.age_ratio, 1.5) / 1.5
    score += POINTS_CRITICALITY.get(a.criticality, 0.0)
    if a.criticality == "critical" and reasons:
        reasons.append("critical")
    return round(score, 2), reasons


def _year(h: Health, a: Asset, reasons: list[str], horizon: list[int]) -> int:
    """The recommended year: the first for rising failures with age or cost behind them, or
    for repair cost past 75 %; the second for rising failures alone; else the year its life
    ends, within the horizon (the middle of it when already past)."""
    if "rising_failures" in reasons and ("past_life" in reasons or "repair_cost_75" in reasons):
        return horizon[0]
    if "repair_cost_75" in reasons:
        return horizon[0]
    if "rising_failures" in reasons:
        return horizon[min(1, len(horizon) - 1)]
    if a.install_date is not None and a.expected_life_years:
        end = a.install_date.year + math.ceil(a.expected_life_years)
        if end > horizon[0]:
            return min(end, horizon[-1])
    return horizon[len(horizon) // 2]


def capital_plan(
    session: Session,
    site: SiteConfig,
    *,
    now: dt.datetime,
    years: int = 5,
) -> dict[str, Any]:
    """The JSON of GET /api/v1/analytics/capital-plan: the assets with a case for replacement
    (past life, rising failures, repair cost past 50 %), ranked by score, each with its
    recommended year in the next `years` years, cost, reasons and evidence."""
    if not 1 <= years <= 20:
        raise NoAgeingData(f"years must be between 1 and 20, not {years}")
    now = _utc(now)
    horizon = [now.year + k for k in range(1, years + 1)]
    records = repo.records_start(session)
    rows: list[dict[str, Any]] = []
    for a in repo.replaceable_assets(session):
        h = _health(session, site, a, now=now, records=records, reader=None)
        score, reasons = _score(h, a)
        if not [r for r in reasons if r != "critical"]:
            continue
        g = h.growth
        rows.append(
            {
                "asset": asset_json(a),
                "recommended_year": _year(h, a, reasons, horizon),
                "cost": a.replacement_cost,
                "score": score,
                "reasons": reasons,
                "evidence": {
                    "age_ratio": round(h.age_ratio, 3) if h.age_ratio is not None else None,
                    "beta": g.beta if g else None,
                    "beta_lower": g.beta_lower if g else None,
                    "beta_upper": g.beta_upper if g else None,
                    "cost_ratio": round(h.cost_ratio, 4) if h.cost_ratio is not None else None,
                    "criticality": a.criticality,
                },
            }
        )
    rows.sort(key=lambda r: (-r["score"], r["asset"]["id"]))
    total: dict[str, float] = {str(y): 0.0 for y in horizon}
    for rank, r in enumerate(rows, start=1):
        r["rank"] = rank
        total[str(r["recommended_year"])] += float(r["cost"] or 0.0)
    return {
        "generated_at": now.isoformat(),
        "horizon": horizon,
        "items": rows,
        "total_by_year": total,
    }
