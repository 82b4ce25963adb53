"""The office's work-order API (issue 15), under /api/v1: bulk assignment from the list, the
reopen of finished work, and whom work may be given to."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from core.auth.deps import CurrentPrincipal
from core.auth.models import Role
from core.db import CommittingRoute, SessionDep
from core.errors import Forbidden
from workorders.orders import repository, service
from workorders.orders.routes import WorkOrderId, _reload
from workorders.orders.schemas import (
    AssigneeOut,
    AssigneesOut,
    BulkAssign,
    BulkItem,
    BulkResult,
    FirmOut,
    ReopenIn,
    WorkOrderDetail,
)

router = APIRouter(route_class=CommittingRoute, prefix="/api/v1", tags=["work orders"])
#: The roles that take work orders (orders.service.assign).
TAKERS = (Role.technician.value, Role.contractor.value, Role.engineer.value)
_OFFICE_ONLY: dict[int | str, dict[str, Any]] = {
    401: {"description": "no valid credentials"},
    403: {"description": "not an admin or an engineer, or a token without the scope needed"},
}


@router.post(
    "/workorders/bulk-assign",
    response_model=BulkResult,
    responses={
        200: {"description": "each work order's outcome; a refused one says why, the rest stand"},
        **_OFFICE_ONLY,
        422: {"description": "the body does not validate (no ids, over 200, out of range)"},
    },
)
def bulk_assign(
    body: BulkAssign, request: Request, session: SessionDep, who: CurrentPrincipal
) -> BulkResult:
    """Give many work orders to one person and/or contractor firm (admins and engineers).
    Each is assigned as POST /workorders/{id}/assign would, without If-Match; one refused
    (not found or not visible: 404, finished: 409, someone who cannot take it: 422) changes
    nothing of its own and is reported with its reason, the others are assigned."""
    outcomes = service.assign_many(
        session,
        who=who,
        wo_ids=body.ids,
        assignee_id=body.assignee_id,
        contractor_id=body.contractor_id,
        site=request.app.state.site,
    )
    items = [BulkItem.model_validate(o) for o in outcomes]
    done = sum(1 for i in items if i.ok)
    return BulkResult(assigned=done, failed=len(items) - done, items=items)


@router.post(
    "/workorders/{wo_id}/reopen",
    response_model=WorkOrderDetail,
    responses={
        200: {"description": "reopened: the work order as it is now"},
        **_OFFICE_ONLY,
        404: {"description": "No such work order, or not visible to the caller"},
        409: {
            "description": "not closed, verified or cancelled (not_reopenable), or another "
            "work order is already open for its alert"
        },
        412: {"description": "If-Match named a version that is no longer current"},
        422: {"description": "the body does not validate, or `at` is refused"},
    },
)
def reopen_workorder(
    wo_id: WorkOrderId,
    request: Request,
    response: Response,
    session: SessionDep,
    who: CurrentPrincipal,
    body: ReopenIn | None = None,
) -> WorkOrderDetail:
    """Reopen a closed, verified or cancelled work order (admins and engineers): after a close
    or a verify it goes back to in_progress; after a cancel to assigned when someone still has
    it, else to new, and its SLA clocks run on from the reopen. The note goes on the timeline."""
    service.reopen(
        session,
        who=who,
        wo_id=wo_id,
        if_match=request.headers.get("if-match"),
        note=body.note if body else "",
        at=body.at if body else None,
    )
    return _reload(session, wo_id, who, response, request)


@router.get(
    "/assignees",
    response_model=AssigneesOut,
    responses={200: {"description": "whom work may be given to"}, **_OFFICE_ONLY},
)
def list_assignees(session: SessionDep, who: CurrentPrincipal) -> AssigneesOut:
    """The active people who take work orders (technicians, engineers, contractors' people)
    and the active contractor firms, for the office's assign menus (admins and engineers)."""
    if who.role not in service.OFFICE_ROLES:
        raise Forbidden(f"role {who.role} cannot assign work orders")
    people, firms = repository.assignable(session, roles=TAKERS)
    return AssigneesOut(
        people=[AssigneeOut.model_validate(p) for p in people],
        contractors=[FirmOut.model_validate(f) for f in firms],
    )
