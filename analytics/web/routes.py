"""The energy pages (issue 16), office roles only: the year's indicators (/ui/energy), the meter
tree with each parent's unmetered remainder and the offline meters' entries and imports
(/ui/energy/meters), and a meter's baseline with its retrofit's savings
(/ui/energy/baselines/{meter}).

Shells their scripts (static/*.js, served under STATIC_URL) fill from the analytics API with the
session, as the office's other pages do. The templates extend the tablet's base.html
(workorders/web/templates), so the header, language switch and catalog are the same.

The scripts are served outside /static/ on purpose: the service worker keeps everything under
/static/ until a deploy changes the tablet's own files (pwa_routes.worker_source hashes those
only), so a changed energy script there could be served stale; under STATIC_URL the browser
revalidates it on every load (no-cache) and the worker leaves it alone.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from fastapi import Path as PathParam
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.types import Scope

from analytics.meters import meter_tree
from analytics.site import AnalyticsSite
from core.auth.models import User
from core.db import CommittingRoute, SessionDep
from workorders.web.i18n import pick_lang
from workorders.web.routes import HERE as WEB_DIR
from workorders.web.routes import OFFICE, not_found, page_user, render

HERE = Path(__file__).resolve().parent
#: Where the pages' scripts and styles are served from (plantroom.app mounts static_files()).
STATIC_URL = "/ui/energy/static"
STATIC_NAME = "energy-static"
#: Ours first, then the tablet's: `{% extends "base.html" %}` finds the app's base.
templates = Jinja2Templates(directory=[HERE / "templates", WEB_DIR / "templates"])
templates.env.policies["json.dumps_kwargs"] = {"ensure_ascii": False, "sort_keys": True}
router = APIRouter(route_class=CommittingRoute, prefix="/ui/energy", include_in_schema=False)
#: What a meter id in a page's path may be (anything else names no meter).
METER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
#: The years the year picker offers: from this many years back up to the current one.
YEARS_BACK = 5


class _Revalidated(StaticFiles):
    """StaticFiles whose answers the browser revalidates on every use (ETag, 304)."""

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        """The file, marked no-cache."""
        resp = super().file_response(full_path, stat_result, scope, status_code)
        resp.headers["Cache-Control"] = "no-cache"
        return resp


def static_files() -> StaticFiles:
    """The pages' scripts and styles, for the root to mount at STATIC_URL as STATIC_NAME."""
    return _Revalidated(directory=HERE / "static")


def _render(request: Request, name: str, ctx: dict[str, Any]) -> Response:
    """A page in the request's language, rendered as the tablet's pages are, from ours."""
    return render(request, name, {"static_name": STATIC_NAME, **ctx}, using=templates)


def _office(request: Request, session: SessionDep) -> tuple[User, str] | Response:
    return page_user(request, session, roles=OFFICE)


def _baseline_meter(site: AnalyticsSite) -> str | None:
    """The meter the baselines tab opens on: the first retrofit's first meter, else the first
    root electricity meter, else the first meter; None for a site without meters."""
    retrofits = site.doc.energy.retrofits
    if retrofits:
        return retrofits[0].meters[0]
    tree = meter_tree(site)
    roots = [m for m in tree.roots() if m.carrier == "electricity"]
    first = roots[0] if roots else next(iter(tree), None)
    return first.id if first is not None else None


def _page_ctx(request: Request, user: User, csrf: str, tab: str) -> dict[str, Any]:
    """What every energy page's template needs: the user, the tab and the baselines tab's meter."""
    site = request.app.state.site
    return {
        "user": user,
        "csrf": csrf,
        "page": "energy",
        "tab": tab,
        "baseline_meter": _baseline_meter(site),
    }


def _names(request: Request) -> dict[str, Any]:
    """The buildings and meters in the page's language, for pickers drawn before the API answers."""
    zh = pick_lang(request) == "zh-CN"
    site = request.app.state.site

    def name(obj: Any) -> str:
        name_zh = getattr(obj, "name_zh", None)
        return str(name_zh if zh and name_zh else obj.name)

    return {
        "buildings": [{"id": b.id, "name": name(b)} for b in site.doc.buildings],
        "meters": [
            {
                "id": m.id,
                "name": name(m),
                "building": m.building,
                "carrier": m.carrier,
                "source": m.source,
            }
            for m in meter_tree(site)
        ],
    }


@router.get("")
def energy_page(request: Request, session: SessionDep) -> Response:
    """The year's filing figures: the compound and each building against the references, by
    carrier and sub-item, month by month, and the factors used; static/energy.js fills it."""
    got = _office(request, session)
    if isinstance(got, Response):
        return got
    user, csrf = got
    ctx = {**_page_ctx(request, user, csrf, "indicators"), "years_back": YEARS_BACK}
    return _render(request, "energy.html", {**ctx, "page_data": _names(request)})


@router.get("/meters")
def meters_page(request: Request, session: SessionDep) -> Response:
    """The meter tree for a month: each parent's remainder and each building's coverage, a
    parent's daily remainder, and the offline meters' entries and imports; static/meters.js."""
    got = _office(request, session)
    if isinstance(got, Response):
        return got
    user, csrf = got
    ctx = {**_page_ctx(request, user, csrf, "meters"), "page_data": _names(request)}
    return _render(request, "energy_meters.html", ctx)


@router.get("/baselines/{meter_id}")
def baseline_page(
    meter_id: Annotated[str, PathParam()], request: Request, session: SessionDep
) -> Response:
    """A meter's baseline: the model, CV(RMSE) and NMBE against Guideline 14's limits, actual
    against predicted, and a retrofit's savings with their uncertainty; static/baseline.js."""
    got = _office(request, session)
    if isinstance(got, Response):
        return got
    user, csrf = got
    tree = meter_tree(request.app.state.site)
    if not METER_ID.fullmatch(meter_id) or meter_id not in tree.meters:
        return not_found(request, user, csrf)
    meter = tree.meters[meter_id]
    retrofits = [
        {"id": r.id, "name": r.name, "name_zh": r.name_zh, "date": r.date.isoformat()}
        for r in request.app.state.site.doc.energy.retrofits
        if meter_id in r.meters
    ]
    ctx = {
        **_page_ctx(request, user, csrf, "baselines"),
        "meter": meter,
        "page_data": {**_names(request), "meter": meter_id, "retrofits": retrofits},
    }
    return _render(request, "energy_baseline.html", ctx)
