"""All SQL of locations and assets."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workorders.orders.models import Asset, LaborEntry, Location, OtherCost, PartLine, WorkOrder


def get_location(session: Session, location_id: int) -> Location | None:
    """One location."""
    return session.get(Location, location_id)


def location_by_code(session: Session, code: str) -> Location | None:
    """The location with this code."""
    return session.scalars(select(Location).where(Location.code == code)).one_or_none()


def list_locations(
    session: Session,
    *,
    parent_id: int | None = None,
    kind: str | None = None,
    after_id: int | None = None,
    limit: int = 100,
) -> list[Location]:
    """Locations by id, filtered by parent and kind."""
    stmt = select(Location).order_by(Location.id)
    if parent_id is not None:
        stmt = stmt.where(Location.parent_id == parent_id)
    if kind is not None:
        stmt = stmt.where(Location.kind == kind)
    if after_id is not None:
        stmt = stmt.where(Location.id > after_id)
    return list(session.scalars(stmt.limit(limit)))


def all_locations(session: Session) -> dict[int, Location]:
    """Every location by id (the hierarchy is small: a compound's buildings, floors and rooms)."""
    return {loc.id: loc for loc in session.scalars(select(Location))}


def count_children(session: Session, location_id: int) -> int:
    """How many locations sit directly below this one."""
    stmt = select(func.count()).select_from(Location).where(Location.parent_id == location_id)
    return int(session.scalar(stmt) or 0)


def count_assets_in(session: Session, location_id: int) -> int:
    """How many assets (active or retired) stand in this location."""
    stmt = select(func.count()).select_from(Asset).where(Asset.location_id == location_id)
    return int(session.scalar(stmt) or 0)


def add(session: Session, row: Location | Asset) -> None:
    """Insert a new location or asset; flushed, so it has its id and version."""
    session.add(row)
    session.flush()


def delete_location(session: Session, loc: Location) -> None:
    """Delete a location."""
    session.delete(loc)
    session.flush()


def get_asset(session: Session, asset_id: str) -> Asset | None:
    """One asset, active or retired."""
    return session.get(Asset, asset_id)


def assets_by_id(session: Session, ids: Sequence[str]) -> dict[str, Asset]:
    """The assets with these ids."""
    if not ids:
        return {}
    return {a.id: a for a in session.scalars(select(Asset).where(Asset.id.in_(list(ids))))}


def placed_assets(session: Session) -> list[Asset]:
    """Every asset standing in a location."""
    return list(session.scalars(select(Asset).where(Asset.location_id.is_not(None))))


def asset_workorders(
    session: Session,
    asset_id: str,
    *,
    contractor_id: int | None,
    after_id: int | None,
    limit: int,
    created_by: str | None = None,
) -> list[WorkOrder]:
    """An asset's work orders, newest first; only a contractor's own when contractor_id is set,
    only those raised by created_by when that is."""
    stmt = select(WorkOrder).where(WorkOrder.asset_id == asset_id).order_by(WorkOrder.id.desc())
    if contractor_id is not None:
        stmt = stmt.where(WorkOrder.contractor_id == contractor_id)
    if created_by is not None:
        stmt = stmt.where(WorkOrder.created_by == created_by)
    if after_id is not None:
        stmt = stmt.where(WorkOrder.id < after_id)
    return list(session.scalars(stmt.limit(limit)))


def asset_cost_totals(
    session: Session, asset_id: str, *, contractor_id: int | None, created_by: str | None = None
) -> dict[str, float | int]:
    """Work-order count and labor, parts and other costs summed over an asset's work orders."""
    scope = [WorkOrder.asset_id == asset_id]
    if contractor_id is not None:
        scope.append(WorkOrder.contractor_id == contractor_id)
    if created_by is not None:
        scope.append(WorkOrder.created_by == created_by)
    count = session.scalar(select(func.count()).select_from(WorkOrder).where(*scope))
    labor = session.scalar(
        select(func.coalesce(func.sum(LaborEntry.hours * LaborEntry.rate), 0.0))
        .join(WorkOrder, WorkOrder.id == LaborEntry.workorder_id)
        .where(*scope)
    )
    parts = session.scalar(
        select(func.coalesce(func.sum(PartLine.quantity * PartLine.unit_cost), 0.0))
        .join(WorkOrder, WorkOrder.id == PartLine.workorder_id)
        .where(*scope)
    )
    other = session.scalar(
        select(func.coalesce(func.sum(OtherCost.amount), 0.0))
        .join(WorkOrder, WorkOrder.id == OtherCost.workorder_id)
        .where(*scope)
    )
    return {
        "work_orders": int(count or 0),
        "labor": float(labor or 0.0),
        "parts": float(parts or 0.0),
        "other": float(other or 0.0),
    }


def contractor_has_work(session: Session, asset_id: str, contractor_id: int) -> bool:
    """Whether the contractor has (or had) any work order on the asset."""
    stmt = (
        select(WorkOrder.id)
        .where(WorkOrder.asset_id == asset_id, WorkOrder.contractor_id == contractor_id)
        .limit(1)
    )
    return session.scalar(stmt) is not None
