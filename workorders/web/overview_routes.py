"""The office's overview pages (issue 15): the overview's figures as tiles (/ui/overview), the
alerts with their rules, charts and silences (/ui/alerts) and the collectors' health
(/ui/collectors). Admins and engineers only; shells that static/office/overview.js and
alerts.js fill from the API with the session."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from core.db import CommittingRoute, SessionDep
from workorders.web.routes import OFFICE, page_user, render

router = APIRouter(route_class=CommittingRoute, prefix="/ui", include_in_schema=False)


def _page(request: Request, session: SessionDep, template: str, page: str) -> Response:
    got = page_user(request, session, roles=OFFICE)
    if isinstance(got, Response):
        return got
    user, csrf = got
    return render(request, template, {"user": user, "csrf": csrf, "page": page})


@router.get("/overview")
def overview_page(request: Request, session: SessionDep) -> Response:
    """The whole compound at once: open work, SLA clocks, alerts, PM and the collectors, each
    figure a tile linking to the list behind it."""
    return _page(request, session, "overview.html", "overview")


@router.get("/alerts")
def alerts_page(request: Request, session: SessionDep) -> Response:
    """Firing, pending and recent alerts with their rule in words and a chart of the point;
    acknowledge, silence by asset or by rule, and the silences in force."""
    return _page(request, session, "alerts.html", "alerts")


@router.get("/collectors")
def collectors_page(request: Request, session: SessionDep) -> Response:
    """The collectors' health from their own records: devices, links, sinks, stale points."""
    return _page(request, session, "collectors.html", "overview")
