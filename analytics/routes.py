"""REST routes of the energy statistics, under /api/v1/analytics.

Who sees what: the office (admin and engineer); technicians, contractors and requesters get
403, whatever the parameters.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from analytics.schemas import EnergyStatisticsOut
from analytics.site import AnalyticsSite
from analytics.statistics import FIRST_YEAR, energy_statistics
from analytics.store_usage import UsageDep
from core.auth.deps import CurrentPrincipal
from core.auth.models import Role
from core.db import utcnow
from core.errors import Forbidden

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])

OFFICE = frozenset({Role.admin, Role.engineer})
BUILDING_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
#: The last year the schema accepts; a year after the current one is refused by the service.
LAST_YEAR = 2100


def only_office(role: Role, what: str) -> None:
    """Forbidden unless an office role asks."""
    if role not in OFFICE:
        raise Forbidden(f"role {role} cannot see {what}")


@router.get(
    "/energy",
    response_model=EnergyStatisticsOut,
    responses={
        401: {"description": "no valid bearer token or session"},
        403: {"description": "not an admin or engineer"},
        404: {"description": "no such building"},
        422: {
            "description": "year or month out of range, a period not begun, or no conversion "
            "factor for a carrier on a day that used it (error no_factor)"
        },
    },
)
def energy(
    request: Request,
    who: CurrentPrincipal,
    usage: UsageDep,
    year: Annotated[
        int,
        Query(
            ge=FIRST_YEAR,
            le=LAST_YEAR,
            description="the calendar year, in the site's time zone (not after this one)",
        ),
    ],
    month: Annotated[
        int | None, Query(ge=1, le=12, description="one month of the year (not begun: 422)")
    ] = None,
    building: Annotated[
        str | None,
        Query(max_length=100, pattern=BUILDING_PATTERN, description="a building id"),
    ] = None,
) -> dict[str, Any]:
    """The filing's energy statistics of a year (with its months) or a month (with its days),
    of the compound (with each building) or one building: total energy in kgce/tce and by
    carrier, electricity by sub-item with the unmetered remainder, water, carbon, floor area
    and occupants of the year, the indicators (kgce/m², kgce/person, water m³/person,
    kgCO2e/m²) against each configured reference, the estimated share, and every conversion
    factor used with its source."""
    only_office(who.role, "energy statistics")
    site: AnalyticsSite = request.app.state.site
    return energy_statistics(site, usage, year=year, month=month, building=building, now=utcnow())
