"""The plant pages of issue 15: the site tree of assets (/ui/assets) and the PM calendar
(/ui/pm), office roles only. Shells their scripts fill from the API (static/office/assets.js,
pm.js); the asset page itself (/ui/assets/{id}) is workorders/web/routes.py's, grown by
static/js/asset.js for the office."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from core.db import CommittingRoute, SessionDep
from workorders.web.routes import OFFICE, page_user, render

router = APIRouter(route_class=CommittingRoute, prefix="/ui", include_in_schema=False)


@router.get("/assets")
def assets_page(request: Request, session: SessionDep) -> Response:
    """The site tree: building, floor, room and asset, with each asset's age and life."""
    got = page_user(request, session, roles=OFFICE)
    if isinstance(got, Response):
        return got
    user, csrf = got
    return render(request, "assets.html", {"user": user, "csrf": csrf, "page": "assets"})


@router.get("/pm")
def pm_page(request: Request, session: SessionDep) -> Response:
    """The PM calendar: a month of preventive work, statutory jobs marked, late ones flagged."""
    got = page_user(request, session, roles=OFFICE)
    if isinstance(got, Response):
        return got
    user, csrf = got
    return render(request, "pm.html", {"user": user, "csrf": csrf, "page": "pm"})
