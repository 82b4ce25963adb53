"""GET /api/v1/analytics/baselines/{meter_id}: a meter's baseline model, its ASHRAE Guideline 14
fit and, for a retrofit, the savings it measures with their uncertainty (analytics.baselines).

The office (admin and engineer) only; technicians, contractors and requesters get 403.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from analytics.baselines import baseline_report
from analytics.routes import only_office
from analytics.site import AnalyticsSite
from analytics.store_usage import UsageDep
from core.auth.deps import CurrentPrincipal
from core.db import utcnow

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


class _Out(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


class BaselineMeterOut(_Out):
    """The meter the baseline is of."""

    id: str
    name: str
    name_zh: str | None
    building: str | None
    carrier: str
    unit: str


class ModelOut(_Out):
    """The model fitted on the baseline period: its type, parameters, points and parameter
    count (degree_day: per kind of day, workday and day_off, the intercept, balance points °C
    and slopes per degree-day; hour_of_week: the 168 hourly means, Monday 00:00 first)."""

    type: Literal["degree_day", "hour_of_week"]
    params: dict[str, Any]
    n: int
    p: int


class PeriodOut(_Out):
    """Local days [from, to)."""

    from_: dt.date = Field(alias="from")
    to: dt.date


class LimitsOut(_Out):
    """Guideline 14's limits: CV(RMSE) at most, |NMBE| at most (%)."""

    cv_rmse: float
    nmbe: float


class FitOut(_Out):
    """CV(RMSE) and NMBE (%) of the baseline fit against the Guideline 14 limits."""

    resolution: Literal["daily", "hourly"] | None = None
    cv_rmse: float
    nmbe: float
    limits: LimitsOut
    meets: bool
    n: int


class RetrofitOut(_Out):
    """The retrofit measured, and its reporting period (null before its date)."""

    id: str
    name: str
    name_zh: str | None
    date: dt.date
    baseline_days: int
    reporting: PeriodOut | None


class SavingsMonthOut(_Out):
    """One month of the reporting period."""

    month: str
    predicted: float
    actual: float
    saved: float


class SavingsOut(_Out):
    """Savings = baseline prediction - actual over the reporting period, with their
    uncertainty (±, the meter's unit) at `confidence`."""

    amount: float
    unit: str
    percent: float | None
    uncertainty: float
    uncertainty_percent: float | None
    confidence: float
    predicted: float
    actual: float
    n: int
    autocorrelation: float
    months: list[SavingsMonthOut]


class SeriesDayOut(_Out):
    """One local day: actual and predicted use, and the day's mean outdoor temperature."""

    day: dt.date
    actual: float
    predicted: float
    temperature: float | None


class BaselineOut(_Out):
    """A meter's baseline, its fit by its own resolution and by month, and the savings."""

    meter: BaselineMeterOut
    model: ModelOut
    baseline: PeriodOut
    fit: FitOut
    monthly: FitOut | None
    retrofit: RetrofitOut | None
    savings: SavingsOut | None
    series: list[SeriesDayOut]


@router.get(
    "/baselines/{meter_id}",
    response_model=BaselineOut,
    responses={
        401: {"description": "no valid bearer token or session"},
        403: {"description": "not an admin or engineer"},
        404: {"description": "no such meter (unknown_meter) or retrofit (unknown_retrofit)"},
        422: {
            "description": "too few days of figures in the baseline (not_enough_data, with "
            "how many it has and needs), a period reversed or too long (bad_period), or a "
            "retrofit not measured on this meter (retrofit_meter)"
        },
    },
)
def baseline(
    request: Request,
    who: CurrentPrincipal,
    usage: UsageDep,
    meter_id: Annotated[str, Path(max_length=100, pattern=ID_PATTERN)],
    retrofit: Annotated[
        str | None,
        Query(max_length=100, pattern=ID_PATTERN, description="a retrofit of energy.retrofits"),
    ] = None,
    start: Annotated[
        dt.date | None,
        Query(
            alias="from",
            description="without a retrofit: the baseline's first day (default: 365 days "
            "before `to`); with one: the reporting period's first day if after its date",
        ),
    ] = None,
    end: Annotated[
        dt.date | None,
        Query(alias="to", description="the day after the last one (default and at most today)"),
    ] = None,
) -> dict[str, Any]:
    """A meter's baseline: a degree-day change-point model (CalTRACK daily, on workdays and
    days off) where the site reads an outdoor temperature, else an hour-of-week model; its
    CV(RMSE) and NMBE against ASHRAE Guideline 14's limits at its own resolution and by
    month; with `retrofit`, the savings since the retrofit's date (prediction - actual) with
    their uncertainty at 90 % confidence; and the daily series of actual and predicted use."""
    only_office(who.role, "baselines")
    site: AnalyticsSite = request.app.state.site
    today = utcnow().astimezone(ZoneInfo(site.doc.site.timezone)).date()
    return baseline_report(
        site, usage, meter_id=meter_id, retrofit=retrofit, start=start, end=end, today=today
    )
