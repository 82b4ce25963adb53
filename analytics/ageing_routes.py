"""REST routes of the ageing analytics, under /api/v1/analytics: an asset's health and the
capital plan (analytics.ageing).

The office (admin and engineer) only; technicians, contractors and requesters get 403.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from analytics.ageing import asset_health, capital_plan
from analytics.routes import only_office
from core.auth.deps import CurrentPrincipal
from core.db import SessionDep, utcnow

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


class _Out(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


class AgeingAssetOut(_Out):
    """The asset: identity, place, criticality and what its replacement is planned on."""

    id: str
    name: str
    name_zh: str | None
    class_: str = Field(alias="class")
    building: str
    criticality: str
    install_date: dt.date | None
    expected_life_years: float | None
    replacement_cost: float | None


class AgeOut(_Out):
    """Age in years and against the expected life (1.0 = at the end of it); null unknown."""

    years: float | None
    ratio: float | None


class FailureOut(_Out):
    """One failure: a corrective work order at its opening, with its cost."""

    work_order: int
    at: dt.datetime
    title: str
    cost: float


class GrowthOut(_Out):
    """The Crow-AMSAA fit (time-terminated at now), in days from `origin`: the keys of
    `plantroom analytics growth --json`, with the time unit and origin."""

    n: int
    beta: float
    beta_unbiased: float
    lambda_: float = Field(alias="lambda")
    mtbf_instantaneous: float
    mtbf_cumulative: float
    intensity_cumulative: float
    intensity_cumulative_lower: float | None
    intensity_cumulative_upper: float | None
    beta_lower: float
    beta_upper: float
    laplace_u: float
    trend: Literal["worsening", "improving", "no trend"]
    unit: Literal["days"]
    origin: dt.date
    end: float
    terminated: Literal["failure", "time"]


class CurvePointOut(_Out):
    """The fitted instantaneous failure intensity at a time, in failures per year."""

    at: dt.datetime
    intensity_per_year: float


class AvailabilityOut(_Out):
    """Share of the time in service over [from, to], from the in-service point's readings."""

    percent: float
    from_: dt.datetime = Field(alias="from")
    to: dt.datetime
    point: str


class CostOut(_Out):
    """Corrective repair cost over the rolling window against the replacement cost: flag
    'warning' from 50 %, 'replace' from 75 %."""

    repair_total: float
    replacement_cost: float | None
    ratio: float | None
    flag: Literal["warning", "replace"] | None
    window_years: int


class HealthOut(_Out):
    """An asset's health: age, failures, MTBF (days) and MTTR (hours), the failure trend with
    its fitted intensity curve (null with fewer than 3 failures), availability, repair cost,
    and flags (past_life, rising_failures, past_life_rising, repair_cost_50, repair_cost_75)."""

    asset: AgeingAssetOut
    age: AgeOut
    failures: list[FailureOut]
    n_failures: int
    mtbf_days: float | None
    mttr_hours: float | None
    growth: GrowthOut | None
    intensity_curve: list[CurvePointOut]
    availability: AvailabilityOut | None
    cost: CostOut
    flags: list[str]


class EvidenceOut(_Out):
    """What a capital-plan item rests on."""

    age_ratio: float | None
    beta: float | None
    beta_lower: float | None
    beta_upper: float | None
    cost_ratio: float | None
    criticality: str


class PlanItemOut(_Out):
    """One asset to replace: its rank, the recommended year, cost, score, reasons (past_life,
    rising_failures, repair_cost_75, repair_cost_50, critical) and evidence."""

    asset: AgeingAssetOut
    rank: int
    recommended_year: int
    cost: float | None
    score: float
    reasons: list[str]
    evidence: EvidenceOut


class CapitalPlanOut(_Out):
    """The assets to replace in the horizon's years, ranked, and the cost per year."""

    generated_at: dt.datetime
    horizon: list[int]
    items: list[PlanItemOut]
    total_by_year: dict[str, float]


_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "no valid bearer token or session"},
    403: {"description": "not an admin or engineer"},
}


@router.get(
    "/assets/{asset_id}/health",
    response_model=HealthOut,
    responses={**_RESPONSES, 404: {"description": "no such asset"}},
)
def health(
    request: Request,
    session: SessionDep,
    who: CurrentPrincipal,
    asset_id: Annotated[str, Path(max_length=100, pattern=ID_PATTERN)],
) -> dict[str, Any]:
    """An asset's health: age against expected life, failures (corrective work orders), MTBF
    and MTTR, the Crow-AMSAA trend with Fisher-matrix and Crow bounds and the Laplace verdict,
    availability where it has an in-service point, and repair cost against replacement cost."""
    only_office(who.role, "asset health")
    return asset_health(
        session,
        request.app.state.site,
        asset_id=asset_id,
        now=utcnow(),
        availability_reader=getattr(request.app.state, "readings", None),
    )


@router.get(
    "/capital-plan",
    response_model=CapitalPlanOut,
    responses={**_RESPONSES, 422: {"description": "years outside 1..20"}},
)
def plan(
    request: Request,
    session: SessionDep,
    who: CurrentPrincipal,
    years: Annotated[int, Query(ge=1, le=20, description="the horizon in years")] = 5,
) -> dict[str, Any]:
    """The capital plan: assets past their life, with rising failures or repair cost past 50 %
    of their replacement, ranked by score, each with the year it recommends and the evidence."""
    only_office(who.role, "the capital plan")
    return capital_plan(session, request.app.state.site, now=utcnow(), years=years)
