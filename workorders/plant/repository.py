"""All SQL of the plant facts: what the repairs of an asset have cost."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workorders.orders.models import WorkOrder

#: Work that repairs (not planned maintenance or inspections).
REPAIR_TYPES = ("corrective", "request")


def repair_cost(session: Session, asset_id: str) -> tuple[int, float]:
    """How many repair work orders the asset has had, and their total cost."""
    stmt = select(
        func.count(WorkOrder.id), func.coalesce(func.sum(WorkOrder.cost_total), 0.0)
    ).where(
        WorkOrder.asset_id == asset_id,
        WorkOrder.type.in_(REPAIR_TYPES),
        WorkOrder.status != "cancelled",
    )
    count, total = session.execute(stmt).one()
    return int(count or 0), float(total or 0.0)
