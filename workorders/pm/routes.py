"""REST routes of the PM calendar, under /api/v1/pm.

Who sees what
    - the month's calendar: admin and engineer (the office plans the preventive work);
    - an asset's schedules: admin, engineer and technician (the crew does the work);
    - anyone else: 403, whatever the parameters.
"""

from __future__ import annotations

from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request

from config.site import SiteConfig
from core.auth.deps import CurrentPrincipal
from core.auth.models import Role
from core.auth.service import Principal
from core.db import CommittingRoute, SessionDep, utcnow
from core.errors import Forbidden, NotFound
from workorders.pm import calendar, repository
from workorders.pm.schemas import AssetScheduleOut, AssetSchedulesOut, CalendarOut

router = APIRouter(route_class=CommittingRoute, prefix="/api/v1/pm", tags=["pm"])

#: DOMAIN.md: PM compliance target, >= 90 %.
PM_TARGET_PERCENT = 90.0
_OFFICE = frozenset({Role.admin, Role.engineer})
_CREW = _OFFICE | {Role.technician}
MONTH_PATTERN = r"^(19|20|21)[0-9]{2}-(0[1-9]|1[0-2])$"
ASSET_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


class AssetNotFound(NotFound):
    """No asset with that id."""

    def __init__(self, asset_id: str):
        super().__init__(f"asset '{asset_id}' not found", detail={"asset_id": asset_id})


def _site(request: Request) -> SiteConfig:
    site: SiteConfig = request.app.state.site
    return site


def _only(who: Principal, roles: frozenset[Role], what: str) -> None:
    if who.role not in roles:
        raise Forbidden(f"role {who.role} cannot see {what}")


@router.get(
    "/calendar",
    response_model=CalendarOut,
    responses={
        401: {"description": "no valid bearer token or session"},
        403: {"description": "not an admin or engineer (technicians, contractors, requesters)"},
        422: {"description": "month is not YYYY-MM, or grace is not due_date or smrp"},
        503: {"description": "the database is busy; retry after Retry-After"},
    },
)
def pm_calendar(
    request: Request,
    session: SessionDep,
    who: CurrentPrincipal,
    month: Annotated[
        str | None,
        Query(pattern=MONTH_PATTERN, description="YYYY-MM in the site's time zone; default now"),
    ] = None,
    grace: Annotated[
        Literal["due_date", "smrp"],
        Query(
            description="Grace for ordinary work: due_date, or SMRP 5.4.11 (due + 20% of the "
            "interval, at most 28 d). Statutory jobs never get grace."
        ),
    ] = "due_date",
) -> CalendarOut:
    """The month's preventive work: every job due in it, scheduled (still to be opened), open,
    done, late or overdue, each with its work order, and the month's figures and PM
    compliance. Statutory jobs are judged on their due date with no grace, and a lift's
    15-day maintenance also on the gap since the previous one: more than 15 days is late
    (or overdue, while not done), even on its due date."""
    _only(who, _OFFICE, "the PM calendar")
    site = _site(request)
    tz = ZoneInfo(site.doc.site.timezone)
    now = utcnow()
    label = month or f"{now.astimezone(tz):%Y-%m}"
    cal = calendar.month_calendar(session, site=site, month=label, now=now, grace=grace)
    return CalendarOut.of(
        cal,
        tz=tz,
        tz_name=tz.key,
        as_of=now,
        grace=grace,
        schedules=[s for s in site.doc.maintenance.schedules if s.enabled],
        target=PM_TARGET_PERCENT,
    )


@router.get(
    "/schedules",
    response_model=AssetSchedulesOut,
    responses={
        401: {"description": "no valid bearer token or session"},
        403: {"description": "a contractor or a requester"},
        404: {"description": "no such asset"},
        422: {"description": "asset_id is missing or not an asset id"},
        503: {"description": "the database is busy; retry after Retry-After"},
    },
)
def asset_pm_schedules(
    request: Request,
    session: SessionDep,
    who: CurrentPrincipal,
    asset_id: Annotated[str, Query(min_length=1, max_length=100, pattern=ASSET_PATTERN)],
) -> AssetSchedulesOut:
    """The maintenance schedules that select an asset, each with its last completed job, the
    job open now (and whether it is late), and the next due date still to be opened."""
    _only(who, _CREW, "maintenance schedules")
    if not repository.assets_by_id(session, {asset_id}):
        raise AssetNotFound(asset_id)
    now = utcnow()
    rows = calendar.asset_schedules(session, site=_site(request), asset_id=asset_id, now=now)
    return AssetSchedulesOut(
        asset_id=asset_id, as_of=now, items=[AssetScheduleOut.of_asset(r) for r in rows]
    )
