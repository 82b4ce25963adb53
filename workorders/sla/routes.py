"""GET /api/v1/calendar: which years of official holiday arrangements the SLA clocks know, and
where each comes from (site.yaml's calendar.arrangements, or the bundled package)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from config.site import SiteConfig
from core.auth.deps import CurrentPrincipal

router = APIRouter(prefix="/api/v1", tags=["calendar"])


class CalendarYear(BaseModel):
    """One year whose official arrangement is known."""

    year: int
    source: Literal["site", "bundled"] = Field(
        description="site: loaded from site.yaml's calendar.arrangements; bundled: from the "
        "chinesecalendar package"
    )


class CalendarOut(BaseModel):
    """The holiday calendar business-hours SLA clocks run on."""

    last_known_year: int = Field(
        description="Due times after 31 December of this year are provisional until the next "
        "year's arrangement is loaded"
    )
    years: list[CalendarYear] = Field(description="Every year known, oldest first")


@router.get("/calendar", response_model=CalendarOut)
def get_calendar(request: Request, who: CurrentPrincipal) -> CalendarOut:
    """The years of official holiday arrangements known (any signed-in user)."""
    site: SiteConfig = request.app.state.site
    table = site.doc.calendar.holidays
    return CalendarOut(
        last_known_year=table.last_known_year,
        years=[CalendarYear(year=y, source=src) for y, src in table.years()],
    )
