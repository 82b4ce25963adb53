"""The overview API, under /api/v1: for the office (admins and engineers; a read-only token of
theirs may read it too)."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request

from collectors import health as collector_health
from collectors.sinks.buckets import ReadError
from core.auth.deps import role_check
from core.auth.models import Role
from core.auth.service import Principal
from core.db import CommittingRoute, SessionDep, utcnow
from core.errors import AppError
from workorders.overview import service
from workorders.overview.schemas import CollectorHealthOut, OverviewOut

router = APIRouter(route_class=CommittingRoute, prefix="/api/v1", tags=["overview"])
OFFICE = {Role.admin, Role.engineer}
ReadOverview = Annotated[Principal, Depends(role_check(OFFICE, "read the overview"))]
_AUTH: dict[int | str, dict[str, Any]] = {
    401: {"description": "no valid credentials"},
    403: {"description": "not an admin or an engineer"},
}


class StoreUnavailable(AppError):
    """The readings store that holds the collectors' health records cannot be read."""

    status_code = 503
    error = "store_unavailable"


def _health(request: Request) -> collector_health.Health:
    reader: collector_health.HealthReader = request.app.state.health
    try:
        return collector_health.read_health(reader, request.app.state.site, now=time.time())
    except ReadError as exc:
        raise StoreUnavailable(f"the readings store cannot be read: {exc}") from exc


@router.get("/overview", response_model=OverviewOut, responses=_AUTH)
def overview(request: Request, session: SessionDep, who: ReadOverview) -> OverviewOut:
    """Open work by priority and building, SLA clocks at risk and breached, live alerts, PM
    due and overdue this month, and the collectors' health from their own records in the
    readings store; each figure carries `url` (the API list behind it) and `page` (the UI's).
    A store that cannot be read leaves `collectors` null and says why, the rest stands."""
    site = request.app.state.site
    now = utcnow()
    collectors, error = None, None
    try:
        collectors = service.collector_figures(_health(request))
    except StoreUnavailable as exc:
        error = exc.message
    return OverviewOut(
        generated_at=now,
        workorders=service.workorder_figures(session, site=site),
        sla=service.sla_figures(session, now=now),
        alerts=service.alert_figures(session),
        pm=service.pm_figures(session, site=site, now=now),
        collectors=collectors,
        collectors_error=error,
    )


Show = Literal["quarantined", "unavailable", "links", "stale", "sinks"]


@router.get(
    "/overview/collectors",
    response_model=CollectorHealthOut,
    responses={**_AUTH, 503: {"description": "the readings store cannot be read"}},
)
def collectors(
    request: Request,
    who: ReadOverview,
    show: Annotated[
        Show | None,
        Query(
            description="only what one figure counts: quarantined or unavailable devices, "
            "links that are down, stale points, or sinks with readings waiting"
        ),
    ] = None,
) -> CollectorHealthOut:
    """Every device, link and sink of the site as the collectors last reported them, and the
    points whose readings have gone stale (newest good reading older than three poll
    intervals, or none within a day)."""
    out = service.collector_lists(_health(request))
    if show in ("quarantined", "unavailable"):
        out.devices = [d for d in out.devices if d.state == show]
    elif show == "links":
        out.links = [lk for lk in out.links if lk.up is False]
    elif show == "sinks":
        out.sinks = [s for s in out.sinks if s.buffer_depth > 0]
    return out
