"""The engineer's ageing and maintenance screens (issue 17): an asset's health
(/ui/assets/{id}/health: its failures on a time line with the fitted Crow-AMSAA intensity, MTBF
and MTTR, β with its bounds and the Laplace verdict, repair cost against replacement cost,
availability), the capital plan (/ui/capital-plan) and the maintenance KPIs (/ui/kpis; a
contractor sees its own firm's only).

Shells as the energy pages (routes.py): their scripts (static/ageing/*.js, with
static/energy_common.js) fill them from the analytics API with the session. Their templates and
scripts sit in ageing/ subfolders of the energy pages' own, served by the same mount.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from fastapi import Path as PathParam

from analytics.web.routes import _render
from core.auth.models import User
from core.db import CommittingRoute, SessionDep
from workorders.assets import repository as asset_repository
from workorders.sla import repository as sla_repository
from workorders.web.i18n import pick_lang
from workorders.web.routes import ASSET_ID, OFFICE, not_found, page_user

router = APIRouter(route_class=CommittingRoute, prefix="/ui", include_in_schema=False)


def _ctx(
    request: Request, user: User, csrf: str, tab: str, page_data: dict[str, Any]
) -> dict[str, Any]:
    """What every ageing page's template needs: the page data with the buildings by name in
    the page's language (the API names a building by its id)."""
    zh = pick_lang(request) == "zh-CN"
    buildings = [
        {"id": b.id, "name": (b.name_zh if zh and b.name_zh else b.name)}
        for b in request.app.state.site.doc.buildings
    ]
    data = {"buildings": buildings, **page_data}
    return {"user": user, "csrf": csrf, "page": "ageing", "tab": tab, "page_data": data}


def _filters(request: Request, session: SessionDep, firm: int | None) -> dict[str, Any]:
    """The KPI page's other pickers: asset classes and contractors (only `firm` when given: a
    contractor's own)."""
    classes = sorted({ref.asset.brick_class for ref in request.app.state.site.assets()})
    firms = sla_repository.contractors(session, None if firm is None else [firm])
    return {"classes": classes, "contractors": [{"id": f.id, "name": f.name} for f in firms]}


@router.get("/assets/{asset_id}/health")
def health_page(
    asset_id: Annotated[str, PathParam()], request: Request, session: SessionDep
) -> Response:
    """An asset's health from GET /api/v1/analytics/assets/{id}/health; static/ageing/health.js."""
    got = page_user(request, session, roles=OFFICE)
    if isinstance(got, Response):
        return got
    user, csrf = got
    if not ASSET_ID.fullmatch(asset_id) or asset_repository.get_asset(session, asset_id) is None:
        return not_found(request, user, csrf)
    zh = pick_lang(request) == "zh-CN"
    assets = [
        {
            "id": ref.asset.id,
            "name": (ref.asset.name_zh if zh and ref.asset.name_zh else ref.asset.name),
        }
        for ref in request.app.state.site.assets()
    ]
    data = {"asset": asset_id, "assets": assets}
    return _render(request, "ageing/health.html", _ctx(request, user, csrf, "health", data))


@router.get("/capital-plan")
def capital_plan_page(request: Request, session: SessionDep) -> Response:
    """The assets to replace in the next five years, ranked, with reasons and evidence, and the
    cost by year; static/ageing/capital.js."""
    got = page_user(request, session, roles=OFFICE)
    if isinstance(got, Response):
        return got
    user, csrf = got
    return _render(request, "ageing/capital.html", _ctx(request, user, csrf, "capital", {}))


@router.get("/kpis")
def kpis_page(request: Request, session: SessionDep) -> Response:
    """A month's maintenance KPIs (?month=, ?building=, ?contractor=, ?class=); a contractor
    sees its own firm's only, and another firm's answers 404 as the scorecard does."""
    got = page_user(request, session, roles=(*OFFICE, "contractor"))
    if isinstance(got, Response):
        return got
    user, csrf = got
    wanted = request.query_params.get("contractor", "")
    firm = int(wanted) if wanted.isdigit() and len(wanted) <= 10 else None
    own: int | None = None
    if user.role == "contractor":
        own = user.organisation_id
        if own is None or (firm is not None and firm != own):
            return not_found(request, user, csrf)
    data = {**_filters(request, session, own), "own_firm": own}
    if firm is not None and firm not in {f["id"] for f in data["contractors"]}:
        return not_found(request, user, csrf)
    return _render(request, "ageing/kpis.html", _ctx(request, user, csrf, "kpis", data))
