"""All SQL of the overview: open work orders counted by priority and by building."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workorders.orders.models import OPEN_STATES, Asset, WorkOrder

_OPEN = [str(s) for s in OPEN_STATES]


def open_by_priority(session: Session) -> dict[str, int]:
    """Open work orders per priority."""
    rows = session.execute(
        select(WorkOrder.priority, func.count())
        .where(WorkOrder.status.in_(_OPEN))
        .group_by(WorkOrder.priority)
    )
    return {str(p): int(n) for p, n in rows}


def open_by_building(session: Session) -> dict[str | None, int]:
    """Open work orders per building of their asset (None: no asset, or one in no building)."""
    rows = session.execute(
        select(Asset.building_id, func.count())
        .select_from(WorkOrder)
        .outerjoin(Asset, WorkOrder.asset_id == Asset.id)
        .where(WorkOrder.status.in_(_OPEN))
        .group_by(Asset.building_id)
    )
    out: dict[str | None, int] = {}
    for b, n in rows:
        out[b or None] = out.get(b or None, 0) + int(n)
    return out
