"""The office's pages (issue 15): every work order with filters, bulk assignment and create
(/ui/workorders, admins and engineers), and people and access: users, contractor firms and
API tokens (/ui/people, admins). Shells only: static/office/office_list.js and people.js fill them
from the API with the session."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from core.db import CommittingRoute, SessionDep
from workorders.web.i18n import pick_lang
from workorders.web.routes import OFFICE, page_user, render

router = APIRouter(route_class=CommittingRoute, prefix="/ui", include_in_schema=False)


def _buildings(request: Request) -> list[dict[str, str]]:
    """The site's buildings for the list's filter, named in the page's language."""
    zh = pick_lang(request) == "zh-CN"
    out = []
    for b in request.app.state.site.doc.buildings:
        name_zh = getattr(b, "name_zh", None)
        out.append({"id": b.id, "name": name_zh if zh and name_zh else b.name})
    return out


@router.get("/workorders")
def workorders_page(request: Request, session: SessionDep) -> Response:
    """Every work order for the office: filters kept in the address, search, sort, checkboxes
    with bulk assignment, and a new work order; static/office/office_list.js fills it."""
    got = page_user(request, session, roles=OFFICE)
    if isinstance(got, Response):
        return got
    user, csrf = got
    ctx = {"user": user, "csrf": csrf, "page": "workorders", "buildings": _buildings(request)}
    return render(request, "workorders_admin.html", ctx)


@router.get("/people")
def people_page(request: Request, session: SessionDep) -> Response:
    """People and access (admins): users, contractor firms and API tokens; static/office/people.js
    fills it."""
    got = page_user(request, session, roles=("admin",))
    if isinstance(got, Response):
        return got
    user, csrf = got
    return render(request, "people.html", {"user": user, "csrf": csrf, "page": "people"})
