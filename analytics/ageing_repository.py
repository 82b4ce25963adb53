"""All SQL of the ageing analytics (analytics.ageing): reads of the work-order tables."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workorders.orders.models import Asset, Status, WorkOrder


def records_start(session: Session) -> dt.datetime | None:
    """When the maintenance records begin: the first work order's opening, on any asset."""
    return session.scalar(select(func.min(WorkOrder.created_at)))


def asset_work(session: Session, asset_id: str, *, until: dt.datetime) -> list[WorkOrder]:
    """The asset's work orders opened up to `until`, not cancelled, oldest first."""
    stmt = (
        select(WorkOrder)
        .where(
            WorkOrder.asset_id == asset_id,
            WorkOrder.created_at <= until,
            WorkOrder.status != Status.cancelled,
        )
        .order_by(WorkOrder.created_at, WorkOrder.id)
    )
    return list(session.scalars(stmt))


def replaceable_assets(session: Session) -> list[Asset]:
    """Active assets with a replacement cost, by id."""
    stmt = (
        select(Asset)
        .where(Asset.active.is_(True), Asset.replacement_cost.is_not(None))
        .order_by(Asset.id)
    )
    return list(session.scalars(stmt))
