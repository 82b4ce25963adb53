"""All work-order SQL."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from workorders.models import OPEN_STATES, Asset, WorkOrder, WorkOrderEvent


def get_bare(session: Session, wo_id: int) -> WorkOrder | None:
    """One work order without its timeline: for adding to it, which needs none of it loaded
    (an alert work order's timeline grows with every re-fire)."""
    return session.get(WorkOrder, wo_id)


def get(session: Session, wo_id: int, *, contractor_id: int | None = None) -> WorkOrder | None:
    """One work order with its asset and timeline; scoped to a contractor when given."""
    stmt = (
        select(WorkOrder)
        .where(WorkOrder.id == wo_id)
        .options(selectinload(WorkOrder.asset), selectinload(WorkOrder.events))
    )
    if contractor_id is not None:
        stmt = stmt.where(WorkOrder.contractor_id == contractor_id)
    return session.scalars(stmt).one_or_none()


def list_(
    session: Session,
    *,
    statuses: Sequence[str] | None = None,
    asset_id: str | None = None,
    contractor_id: int | None = None,
    limit: int = 100,
    after_id: int | None = None,
) -> list[WorkOrder]:
    """Work orders, newest first, with their assets."""
    stmt = select(WorkOrder).options(selectinload(WorkOrder.asset)).order_by(WorkOrder.id.desc())
    if statuses:
        stmt = stmt.where(WorkOrder.status.in_(list(statuses)))
    if asset_id:
        stmt = stmt.where(WorkOrder.asset_id == asset_id)
    if contractor_id is not None:
        stmt = stmt.where(WorkOrder.contractor_id == contractor_id)
    if after_id is not None:
        stmt = stmt.where(WorkOrder.id < after_id)
    return list(session.scalars(stmt.limit(limit)))


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


def get_asset(session: Session, asset_id: str) -> Asset | None:
    """One asset."""
    return session.get(Asset, asset_id)


def list_assets(session: Session) -> list[Asset]:
    """Every asset, by id."""
    return list(session.scalars(select(Asset).order_by(Asset.id)))


def upsert_asset(session: Session, asset: Asset) -> None:
    """Insert or update an asset by id."""
    session.merge(asset)
