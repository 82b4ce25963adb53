"""REST API for work orders and assets, under /api/v1."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status
from sqlalchemy.orm import Session

from plantroom.auth.deps import CurrentPrincipal
from plantroom.auth.models import Role
from plantroom.auth.service import Principal
from plantroom.db import SessionDep
from plantroom.errors import AppError, Forbidden, NotFound
from workorders import repository, service
from workorders.models import OPEN_STATES, Origin, Priority, Status, WorkOrder
from workorders.schemas import (
    AssetOut,
    EventOut,
    StatusChange,
    WorkOrderCreate,
    WorkOrderDetail,
    WorkOrderList,
    WorkOrderOut,
)

router = APIRouter(prefix="/api/v1", tags=["work orders"])
CREATORS = {Role.admin, Role.engineer, Role.technician, Role.requester}
#: Work-order ids are 32-bit database integers on PostgreSQL.
WorkOrderId = Annotated[int, Path(ge=1, le=2_147_483_647, description="work order id")]


class BadCursor(AppError):
    """The cursor is not one this API handed out."""

    status_code = 400
    error = "bad_cursor"


def to_out(wo: WorkOrder, who: Principal) -> WorkOrderOut:
    """API shape of a work order, with the caller's allowed transitions."""
    return WorkOrderOut(
        id=wo.id,
        title=wo.title,
        description=wo.description,
        status=Status(wo.status),
        priority=Priority(wo.priority),
        type=wo.type,
        origin=Origin(wo.origin),
        asset_id=wo.asset_id,
        asset_name=wo.asset.name if wo.asset else None,
        rule_id=wo.rule_id,
        trigger=wo.trigger,
        alert_count=wo.alert_count,
        contractor_id=wo.contractor_id,
        created_by=wo.created_by,
        created_at=wo.created_at,
        updated_at=wo.updated_at,
        acknowledged_at=wo.acknowledged_at,
        resolved_at=wo.resolved_at,
        closed_at=wo.closed_at,
        allowed_transitions=service.allowed_targets(wo.status, who.role),
    )


def load_visible(session: Session, wo_id: int, who: Principal) -> WorkOrder:
    """The work order if the caller may see it; else 404, whether or not it exists."""
    wo = repository.get(session, wo_id, contractor_id=who.contractor_scope)
    if wo is None:
        raise service.WorkOrderNotFound(wo_id)
    return wo


def _detail(wo: WorkOrder, who: Principal) -> WorkOrderDetail:
    return WorkOrderDetail(
        **to_out(wo, who).model_dump(), events=[EventOut.model_validate(e) for e in wo.events]
    )


@router.get("/workorders", response_model=WorkOrderList)
def list_workorders(
    session: SessionDep,
    who: CurrentPrincipal,
    status_: Annotated[list[Status] | None, Query(alias="status")] = None,
    open_: Annotated[bool, Query(alias="open", description="only work still owed")] = False,
    asset_id: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=20)] = None,
) -> WorkOrderList:
    """Work orders visible to the caller, newest first."""
    after: int | None = None
    if cursor is not None:
        if not (cursor.isascii() and cursor.isdigit() and int(cursor) <= 2**31 - 1):
            raise BadCursor("cursor must be a value from next_cursor")
        after = int(cursor)
    statuses = [str(s) for s in status_] if status_ else None
    if open_:
        statuses = [s for s in (statuses or [str(x) for x in OPEN_STATES]) if s in OPEN_STATES]
    rows = repository.list_(
        session,
        statuses=statuses,
        asset_id=asset_id,
        contractor_id=who.contractor_scope,
        limit=limit + 1,
        after_id=after,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return WorkOrderList(
        items=[to_out(w, who) for w in rows],
        next_cursor=str(rows[-1].id) if more and rows else None,
    )


@router.get("/workorders/{wo_id}", response_model=WorkOrderDetail)
def get_workorder(
    wo_id: WorkOrderId, session: SessionDep, who: CurrentPrincipal
) -> WorkOrderDetail:
    """One work order with its timeline."""
    return _detail(load_visible(session, wo_id, who), who)


@router.post("/workorders", response_model=WorkOrderDetail, status_code=status.HTTP_201_CREATED)
def create_workorder(
    body: WorkOrderCreate, session: SessionDep, who: CurrentPrincipal
) -> WorkOrderDetail:
    """Raise a work order by hand (or, for requesters, a request)."""
    if who.role not in CREATORS:
        raise Forbidden(f"role {who.role} cannot create work orders")
    origin = Origin.request if who.role is Role.requester else Origin(body.origin)
    wo = service.create(
        session,
        title=body.title,
        description=body.description,
        priority=body.priority,
        asset_id=body.asset_id,
        origin=origin,
        type_=body.type,
        actor=who.username,
    )
    return _detail(load_visible(session, wo.id, who), who)


@router.post("/workorders/{wo_id}/status", response_model=WorkOrderDetail)
def change_status(
    wo_id: WorkOrderId, body: StatusChange, session: SessionDep, who: CurrentPrincipal
) -> WorkOrderDetail:
    """Move a work order to another state; 409 lists the allowed ones when it may not go there."""
    wo = load_visible(session, wo_id, who)
    service.change_status(
        session, wo=wo, target=body.status, actor=who.username, role=who.role, note=body.note
    )
    session.expire(wo)
    return _detail(load_visible(session, wo_id, who), who)


@router.get("/assets", response_model=list[AssetOut], tags=["assets"])
def list_assets(session: SessionDep, _who: CurrentPrincipal) -> list[AssetOut]:
    """Every asset."""
    return [AssetOut.model_validate(a) for a in repository.list_assets(session)]


@router.get("/assets/{asset_id}", response_model=AssetOut, tags=["assets"])
def get_asset(asset_id: str, session: SessionDep, _who: CurrentPrincipal) -> AssetOut:
    """One asset."""
    a = repository.get_asset(session, asset_id)
    if a is None:
        raise NotFound(f"asset '{asset_id}' not found")
    return AssetOut.model_validate(a)
