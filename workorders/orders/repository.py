"""All work-order SQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Numeric, Select, and_, cast, func, or_, select, update
from sqlalchemy.orm import Session, joinedload, selectinload

from core.auth.models import Organisation, User
from workorders.orders.models import (
    OPEN_STATES,
    Asset,
    LaborEntry,
    OtherCost,
    PartLine,
    WorkOrder,
    WorkOrderEvent,
)


def get_bare(session: Session, wo_id: int) -> WorkOrder | None:
    """One work order without its timeline: for adding to it, which needs none of it loaded
    (an alert work order's timeline grows with every re-fire)."""
    return session.get(WorkOrder, wo_id)


def get(
    session: Session,
    wo_id: int,
    *,
    contractor_id: int | None = None,
    created_by: str | None = None,
) -> WorkOrder | None:
    """One work order with its asset and timeline; scoped to a contractor or creator if given."""
    stmt = (
        select(WorkOrder)
        .where(WorkOrder.id == wo_id)
        .options(selectinload(WorkOrder.asset), selectinload(WorkOrder.events))
    )
    if contractor_id is not None:
        stmt = stmt.where(WorkOrder.contractor_id == contractor_id)
    if created_by is not None:
        stmt = stmt.where(WorkOrder.created_by == created_by)
    return session.scalars(stmt).one_or_none()


#: Far in the future: work orders without a due time sort after every one with a due time.
NO_DUE = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)
#: The orders a list can be sorted in; '-' is descending. Each sorts by (key, id).
SORTS: dict[str, Any] = {
    "id": WorkOrder.id,
    "created_at": WorkOrder.created_at,
    "updated_at": WorkOrder.updated_at,
    "priority": WorkOrder.priority,
    "due": func.coalesce(WorkOrder.resolution_due_at, NO_DUE),
}


@dataclass(frozen=True)
class ListQuery:
    """Filters, order and position of a work-order list."""

    statuses: Sequence[str] | None = None
    priorities: Sequence[str] | None = None
    types: Sequence[str] | None = None
    origins: Sequence[str] | None = None
    asset_id: str | None = None
    contractor_id: int | None = None
    assignee_id: int | None = None
    created_by: str | None = None
    text: str | None = None
    created_from: dt.datetime | None = None
    created_to: dt.datetime | None = None
    sort: str = "-id"
    #: (sort key value, id) of the last row of the previous page.
    after: tuple[Any, int] | None = None


def list_(
    session: Session,
    *,
    statuses: Sequence[str] | None = None,
    asset_id: str | None = None,
    contractor_id: int | None = None,
    assignee_id: int | None = None,
    limit: int = 100,
    after_id: int | None = None,
    query: ListQuery | None = None,
) -> list[WorkOrder]:
    """Work orders with their assets: by a ListQuery, or newest first by the simple filters."""
    q = query or ListQuery(
        statuses=statuses,
        asset_id=asset_id,
        contractor_id=contractor_id,
        assignee_id=assignee_id,
        after=(after_id, after_id) if after_id is not None else None,
    )
    return list(session.scalars(list_statement(q).limit(limit)))


def list_statement(q: ListQuery) -> Select[WorkOrder]:
    """The SELECT behind list_."""
    desc = q.sort.startswith("-")
    key = SORTS[q.sort.lstrip("-")]
    stmt = select(WorkOrder).options(joinedload(WorkOrder.asset))
    if q.statuses:
        stmt = stmt.where(WorkOrder.status.in_(list(q.statuses)))
    if q.priorities:
        stmt = stmt.where(WorkOrder.priority.in_(list(q.priorities)))
    if q.types:
        stmt = stmt.where(WorkOrder.type.in_(list(q.types)))
    if q.origins:
        stmt = stmt.where(WorkOrder.origin.in_(list(q.origins)))
    if q.asset_id:
        stmt = stmt.where(WorkOrder.asset_id == q.asset_id)
    if q.contractor_id is not None:
        stmt = stmt.where(WorkOrder.contractor_id == q.contractor_id)
    if q.assignee_id is not None:
        stmt = stmt.where(WorkOrder.assignee_id == q.assignee_id)
    if q.created_by is not None:
        stmt = stmt.where(WorkOrder.created_by == q.created_by)
    if q.text:
        pattern = "%" + q.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(WorkOrder.title.ilike(pattern, escape="\\"))
    if q.created_from is not None:
        stmt = stmt.where(WorkOrder.created_at >= q.created_from)
    if q.created_to is not None:
        stmt = stmt.where(WorkOrder.created_at < q.created_to)
    if q.after is not None:
        value, last_id = q.after
        if key is WorkOrder.id:
            stmt = stmt.where(WorkOrder.id < last_id if desc else WorkOrder.id > last_id)
        elif desc:
            stmt = stmt.where(or_(key < value, and_(key == value, WorkOrder.id < last_id)))
        else:
            stmt = stmt.where(or_(key > value, and_(key == value, WorkOrder.id > last_id)))
    if desc:
        return stmt.order_by(key.desc(), WorkOrder.id.desc())
    return stmt.order_by(key.asc(), WorkOrder.id.asc())


def sort_value(wo: WorkOrder, sort: str) -> Any:
    """The value a work order has for a sort key (for the next page's cursor)."""
    name = sort.lstrip("-")
    if name == "due":
        return wo.resolution_due_at or NO_DUE
    return getattr(wo, name)


def open_for(session: Session, asset_id: str, rule_id: str) -> WorkOrder | None:
    """The not-yet-final alert work order of this asset and rule, if any."""
    stmt = select(WorkOrder).where(WorkOrder.dedup_key == alert_key(rule_id, asset_id))
    return session.scalars(stmt).one_or_none()


def last_closed_for(session: Session, asset_id: str, rule_id: str) -> WorkOrder | None:
    """The most recent final work order of this asset and rule."""
    stmt = (
        select(WorkOrder)
        .where(
            WorkOrder.asset_id == asset_id,
            WorkOrder.rule_id == rule_id,
            WorkOrder.dedup_key.is_(None),
            WorkOrder.status.not_in(list(OPEN_STATES)),
        )
        .order_by(WorkOrder.id.desc())
        .limit(1)
    )
    return session.scalars(stmt).one_or_none()


def alert_key(rule_id: str, asset_id: str) -> str:
    """The dedup key of an alert work order."""
    return f"alert:{rule_id}:{asset_id}"


def add_event(session: Session, event: WorkOrderEvent) -> None:
    """Append a timeline entry."""
    session.add(event)


def organisation(session: Session, org_id: int) -> Organisation | None:
    """One organisation (a contractor, or the owner's own)."""
    return session.get(Organisation, org_id)


def user(session: Session, user_id: int) -> User | None:
    """One user account."""
    return session.get(User, user_id)


def get_asset(session: Session, asset_id: str) -> Asset | None:
    """One asset."""
    return session.get(Asset, asset_id)


def list_assets(session: Session) -> list[Asset]:
    """Every asset, by id."""
    return list(session.scalars(select(Asset).order_by(Asset.id)))


def upsert_asset(session: Session, asset: Asset) -> None:
    """Insert or update an asset by id."""
    session.merge(asset)


def cost_lines(
    session: Session, wo_id: int
) -> tuple[list[LaborEntry], list[PartLine], list[OtherCost]]:
    """Every labor, part and other-cost line of one work order, oldest first."""
    return (
        list(
            session.scalars(
                select(LaborEntry).where(LaborEntry.workorder_id == wo_id).order_by(LaborEntry.id)
            )
        ),
        list(
            session.scalars(
                select(PartLine).where(PartLine.workorder_id == wo_id).order_by(PartLine.id)
            )
        ),
        list(
            session.scalars(
                select(OtherCost).where(OtherCost.workorder_id == wo_id).order_by(OtherCost.id)
            )
        ),
    )


def add_to_cost_total(session: Session, wo_id: int, amount: float, at: dt.datetime) -> float:
    """Add `amount` to a work order's cost_total and stamp updated_at, atomically and without
    touching its version: booking a cost is an append, which must never conflict with another
    append or make a client's If-Match stale. Returns the new total.

    `cost_total = cost_total + :amount` is evaluated on the row as locked, so two bookings in
    flight at once both count (PostgreSQL re-reads the row after waiting for its lock; SQLite
    has one writer at a time)."""
    stmt = (
        update(WorkOrder)
        .where(WorkOrder.id == wo_id)
        .values(
            cost_total=func.round(cast(WorkOrder.cost_total + amount, Numeric), 2), updated_at=at
        )
        .returning(WorkOrder.cost_total)
        .execution_options(synchronize_session=False)
    )
    return float(session.execute(stmt).scalar_one())


def last_status_at(session: Session, wo_id: int) -> dt.datetime | None:
    """When the work order's latest status change happened (its own stated time)."""
    stmt = select(func.max(WorkOrderEvent.ts)).where(
        WorkOrderEvent.workorder_id == wo_id, WorkOrderEvent.kind == "status"
    )
    return session.scalar(stmt)
