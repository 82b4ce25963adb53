"""The meter tree and the balance of a parent meter, under /api/v1/analytics; for the office
(admins and engineers): technicians, contractors and requesters get 403.

- GET /analytics/meters?from=&to=: every meter of the tree, and each building's sub-metering
  coverage over the period;
- GET /analytics/meters/{meter_id}/balance?from=&to=: the parent, its sub-meters and the
  unmetered remainder per day, month and over the period (analytics.balance).

Periods are local days of the site's time zone, `to` excluded; the default is the current
month so far (today included).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from analytics.balance import balance, check_period, coverage, meter_json
from analytics.meters import meter_tree
from analytics.store_usage import UsageDep
from core.auth.deps import role_check
from core.auth.models import Role
from core.auth.service import Principal
from core.db import CommittingRoute, utcnow

router = APIRouter(route_class=CommittingRoute, prefix="/api/v1/analytics", tags=["analytics"])
OFFICE = {Role.admin, Role.engineer}
Office = Annotated[Principal, Depends(role_check(OFFICE, "use the energy analytics"))]
From = Annotated[
    dt.date | None,
    Query(alias="from", description="first local day (YYYY-MM-DD); default the month's first"),
]
To = Annotated[
    dt.date | None,
    Query(alias="to", description="local day after the last (excluded); default tomorrow"),
]
_AUTH: dict[int | str, dict[str, Any]] = {
    401: {"description": "no valid credentials"},
    403: {"description": "not an admin or an engineer"},
}


class MeterOut(BaseModel):
    """One meter of the tree."""

    id: str
    name: str
    name_zh: str | None
    building: str | None = Field(description="null: the compound as a whole")
    carrier: str
    unit: str
    source: Literal["telemetry", "offline"]
    kind: Literal["counter", "quantity"]
    parent: str | None
    sub_item: str | None
    children: list[str]


class BuildingCoverageOut(BaseModel):
    """A building's sub-metering coverage over the period."""

    id: str | None = Field(description="null: meters of the compound outside any building")
    name: str | None
    name_zh: str | None
    coverage_percent: float | None = Field(
        description="percent of its root meters' electricity its sub-meters account for, over "
        "the days every sub-meter is known; null without electricity meters or such a day"
    )


class MetersOut(BaseModel):
    """The meter tree and each building's coverage."""

    model_config = ConfigDict(populate_by_name=True)

    start: dt.date = Field(serialization_alias="from")
    end: dt.date = Field(serialization_alias="to", description="excluded")
    meters: list[MeterOut]
    buildings: list[BuildingCoverageOut]


class AmountOut(BaseModel):
    """A meter's total over the period."""

    amount: float
    estimated_share: float = Field(description="0-1: the part estimated or unknown")


class ChildOut(AmountOut):
    """A sub-meter's total over the period."""

    id: str
    name: str
    name_zh: str | None
    sub_item: str | None
    unit: str


class RemainderOut(BaseModel):
    """The unmetered remainder over the balanced days of the period."""

    amount: float | None = Field(description="parent - sub-meters; null without a balanced day")
    percent: float | None = Field(description="of the parent over the same days")
    children: float | None = Field(description="the sub-meters' sum over the balanced days")
    balanced_days: int = Field(description="days with every sub-meter known")
    unknown_days: int = Field(description="days some sub-meter has no reading at all")


class PeriodFigures(BaseModel):
    """A day's or a month's balance."""

    parent: float
    children: float | None = Field(description="null when a sub-meter has no reading at all")
    remainder: float | None
    percent: float | None
    estimated_share: float


class DayOut(PeriodFigures):
    """One local day's balance."""

    day: dt.date
    unknown: list[str] = Field(description="sub-meters without any reading that day")


class MonthOut(PeriodFigures):
    """One month's balance (children and remainder over its balanced days)."""

    month: str = Field(description="YYYY-MM")
    unknown_days: int


class BalanceOut(BaseModel):
    """A parent meter's balance over [from, to)."""

    model_config = ConfigDict(populate_by_name=True)

    meter: MeterOut
    start: dt.date = Field(serialization_alias="from")
    end: dt.date = Field(serialization_alias="to", description="excluded")
    unit: str
    parent: AmountOut
    children: list[ChildOut]
    remainder: RemainderOut
    estimated_share: float
    days: list[DayOut]
    months: list[MonthOut]


def period(request: Request, start: dt.date | None, end: dt.date | None) -> tuple[dt.date, dt.date]:
    """The asked period, or the current local month so far (today included)."""
    tz = ZoneInfo(request.app.state.site.doc.site.timezone)
    today = utcnow().astimezone(tz).date()
    start = start or today.replace(day=1)
    end = end or max(today + dt.timedelta(days=1), start + dt.timedelta(days=1))
    check_period(start, end)
    return start, end


@router.get(
    "/meters",
    response_model=MetersOut,
    responses={
        **_AUTH,
        422: {"description": "to not after from, or more than 400 days"},
        503: {"description": "the readings store cannot be read"},
    },
)
def meters(
    request: Request, who: Office, usage: UsageDep, start: From = None, end: To = None
) -> MetersOut:
    """Every meter (telemetry and offline) with its building, carrier, unit, parent, sub-item
    code and sub-meters; and each building's sub-metering coverage over [from, to)."""
    site = request.app.state.site
    first, stop = period(request, start, end)
    tree = meter_tree(site)
    cover = coverage(tree, usage, start=first, end=stop)
    names = {b.id: b for b in site.doc.buildings}
    order: list[str | None] = [*names, *(b for b in cover if b not in names)]
    return MetersOut(
        start=first,
        end=stop,
        meters=[MeterOut(**meter_json(m)) for m in tree],
        buildings=[
            BuildingCoverageOut(
                id=b,
                name=names[b].name if b in names else None,
                name_zh=names[b].name_zh if b in names else None,
                coverage_percent=cover.get(b),
            )
            for b in order
        ],
    )


@router.get(
    "/meters/{meter_id}/balance",
    response_model=BalanceOut,
    responses={
        **_AUTH,
        404: {"description": "no meter with that id"},
        422: {"description": "a meter without sub-meters, to not after from, or > 400 days"},
        503: {"description": "the readings store cannot be read"},
    },
)
def meter_balance(
    request: Request,
    who: Office,
    usage: UsageDep,
    meter_id: Annotated[str, Path(min_length=1, max_length=100)],
    start: From = None,
    end: To = None,
) -> BalanceOut:
    """A parent meter's consumption, each sub-meter's, and the unmetered remainder, per local
    day and month and over [from, to); a day on which a sub-meter has no reading has no
    remainder (it is not counted as 0) and is estimated."""
    first, stop = period(request, start, end)
    tree = meter_tree(request.app.state.site)
    b = balance(tree, usage, meter_id=meter_id, start=first, end=stop)
    return BalanceOut(**{**b, "start": b["from"], "end": b["to"]})
