"""REST route of the maintenance KPIs, under /api/v1/analytics.

Who sees what: the office (admin and engineer) any scope; a contractor only its own firm's
work (forced to it when it names none, 403 when it names another); technicians and requesters
get 403.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from analytics.kpi_schemas import KpisOut
from analytics.kpis import kpis
from core.auth.deps import CurrentPrincipal
from core.auth.models import Role
from core.auth.service import Principal
from core.db import MAX_ID, SessionDep, utcnow
from core.errors import Forbidden

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])

OFFICE = frozenset({Role.admin, Role.engineer})
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


def firm_of(who: Principal, contractor: int | None) -> int | None:
    """The firm the figures are of: whatever the office asks; a contractor's own, always."""
    if who.role in OFFICE:
        return contractor
    if who.role is not Role.contractor or who.organisation_id is None:
        raise Forbidden(f"role {who.role} cannot see maintenance KPIs")
    if contractor is not None and contractor != who.organisation_id:
        raise Forbidden("a contractor sees the KPIs of its own firm's work only")
    return who.organisation_id


@router.get(
    "/kpis",
    response_model=KpisOut,
    response_model_by_alias=True,
    responses={
        401: {"description": "no valid bearer token or session"},
        403: {"description": "not the office, or a contractor asking about another firm"},
        404: {"description": "no such building, contractor or asset class"},
        422: {"description": "month not YYYY-MM, or not begun"},
    },
)
def maintenance_kpis(
    request: Request,
    who: CurrentPrincipal,
    session: SessionDep,
    month: Annotated[
        str, Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM, in the site's time zone")
    ],
    building: Annotated[
        str | None, Query(max_length=100, pattern=NAME_PATTERN, description="a building id")
    ] = None,
    contractor: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="a contractor firm's id")
    ] = None,
    asset_class: Annotated[
        str | None,
        Query(alias="class", max_length=80, pattern=NAME_PATTERN, description="a Brick class"),
    ] = None,
) -> dict[str, Any]:
    """The maintenance KPIs of a month: MTTR, MTBF, PM compliance, planned share, backlog in
    crew-weeks, possible-recall rate and spend (labor, parts, other; planned against
    reactive), for the filters given and per building, contractor firm and asset class."""
    firm = firm_of(who, contractor)
    return kpis(
        session,
        request.app.state.site,
        month=month,
        building=building,
        contractor_id=firm,
        asset_class=asset_class,
        now=utcnow(),
    )
