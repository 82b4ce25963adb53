"""The contractor scorecard page, /ui/scorecard: a contractor sees its own firm's months; the
office (admins and engineers) picks a firm, and admins decide disputes, record complaints and
sign months off. The page is a shell; static/office/scorecard.js fills it from the API."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import Response

from core.db import CommittingRoute, SessionDep, utcnow
from workorders.sla import repository as sla_repository
from workorders.web.routes import OFFICE, not_found, page_user, render

router = APIRouter(route_class=CommittingRoute, prefix="/ui", include_in_schema=False)
_MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")


def _last_month(tz: ZoneInfo) -> str:
    """The month before the one under way, in the site's time zone: the one paid on next."""
    local = utcnow().astimezone(tz)
    before = dt.date(local.year, local.month, 1) - dt.timedelta(days=1)
    return f"{before:%Y-%m}"


@router.get("/scorecard")
def scorecard_page(request: Request, session: SessionDep) -> Response:
    """The monthly scorecard of a firm (?org=, ?month=YYYY-MM; default: last month). Another
    firm's, for a contractor, answers 404 as in the API."""
    got = page_user(request, session, roles=(*OFFICE, "contractor"))
    if isinstance(got, Response):
        return got
    user, csrf = got
    tz = ZoneInfo(request.app.state.site.doc.site.timezone)
    wanted = request.query_params.get("org", "")
    org_id = int(wanted) if wanted.isdigit() and len(wanted) <= 10 else None
    if user.role == "contractor":
        if user.organisation_id is None or (org_id is not None and org_id != user.organisation_id):
            return not_found(request, user, csrf)
        firms = sla_repository.contractors(session, [user.organisation_id])
    else:
        firms = sla_repository.contractors(session)
    if org_id is not None and org_id not in {f.id for f in firms}:
        return not_found(request, user, csrf)
    chosen = org_id if org_id is not None else (firms[0].id if firms else None)
    month = request.query_params.get("month", "")
    ctx = {
        "user": user,
        "csrf": csrf,
        "page": "scorecard",
        "firms": [{"id": f.id, "name": f.name} for f in firms],
        "org_id": chosen,
        "month": month if _MONTH.match(month) else _last_month(tz),
        "this_month": f"{utcnow().astimezone(tz):%Y-%m}",
    }
    return render(request, "scorecard.html", ctx)
