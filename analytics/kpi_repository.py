"""All SQL of the maintenance KPIs (analytics.kpis) and of the monthly snapshots
(analytics.snapshots): reads of the work-order tables, and the analytics' own snapshot tables."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TypeVarTuple

from sqlalchemy import ColumnElement, Select, and_, delete, func, literal, or_, select
from sqlalchemy.orm import Session, contains_eager

from analytics.models import AssetHealthMonthly, CapitalPlanMonthly, KpiMonthly
from core.auth.models import Organisation, Role, User
from workorders.orders.models import Asset, LaborEntry, OtherCost, PartLine, WorkOrder

_Ts = TypeVarTuple("_Ts")


@dataclass(frozen=True)
class Scope:
    """The filters of a KPI request: one building, one contractor firm, one asset class."""

    building: str | None = None
    contractor_id: int | None = None
    asset_class: str | None = None


@dataclass(frozen=True)
class CostRow:
    """One cost line in a month, with what the KPIs group it by."""

    wo_id: int
    type: str
    building_id: str | None
    asset_class: str | None
    contractor_id: int | None
    kind: str  # labor, parts or other
    hours: float
    amount: float


def _ended() -> ColumnElement[dt.datetime]:
    """When a work order's work ended: resolved, else closed or cancelled (NULL while open)."""
    return func.coalesce(WorkOrder.resolved_at, WorkOrder.closed_at)


def _scoped(stmt: Select[*_Ts], scope: Scope) -> Select[*_Ts]:
    """stmt narrowed to the scope (Asset must be outer-joined on the work order's asset)."""
    if scope.building is not None:
        stmt = stmt.where(Asset.building_id == scope.building)
    if scope.asset_class is not None:
        stmt = stmt.where(Asset.brick_class == scope.asset_class)
    if scope.contractor_id is not None:
        stmt = stmt.where(WorkOrder.contractor_id == scope.contractor_id)
    return stmt


def month_work_orders(
    session: Session, *, scope: Scope, start: dt.datetime, end: dt.datetime, lookback: dt.timedelta
) -> list[WorkOrder]:
    """Work orders in scope that matter to the month [start, end), with their assets: opened
    before its end and still open, or ended since `lookback` before its start, or PM due in it."""
    stmt = (
        select(WorkOrder)
        .outerjoin(Asset, WorkOrder.asset_id == Asset.id)
        .options(contains_eager(WorkOrder.asset))
        .where(
            WorkOrder.created_at < end,
            or_(
                _ended().is_(None),
                _ended() >= start - lookback,
                and_(WorkOrder.pm_key.is_not(None), WorkOrder.due_at >= start),
            ),
        )
        .order_by(WorkOrder.id)
    )
    return list(session.scalars(_scoped(stmt, scope)).unique())


def corrective_ends(
    session: Session, asset_ids: set[str], start: dt.datetime, end: dt.datetime
) -> dict[str, list[dt.datetime]]:
    """When the corrective work on each of these assets ended (resolved or closed, not
    cancelled) within [start, end), by whichever firm; oldest first."""
    if not asset_ids:
        return {}
    stmt = (
        select(WorkOrder.asset_id, _ended())
        .where(
            WorkOrder.asset_id.in_(sorted(asset_ids)),
            WorkOrder.type == "corrective",
            WorkOrder.status != "cancelled",
            _ended() >= start,
            _ended() < end,
        )
        .order_by(_ended())
    )
    out: dict[str, list[dt.datetime]] = {}
    for asset_id, ended in session.execute(stmt):
        if asset_id is not None:
            out.setdefault(asset_id, []).append(ended)
    return out


def cost_rows(
    session: Session, *, scope: Scope, start: dt.datetime, end: dt.datetime
) -> list[CostRow]:
    """Labor worked, and parts and other costs booked, in [start, end) on work orders in scope."""
    cols = (
        WorkOrder.id,
        WorkOrder.type,
        Asset.building_id,
        Asset.brick_class,
        WorkOrder.contractor_id,
    )
    rows: list[CostRow] = []
    labor = _scoped(
        select(*cols, LaborEntry.hours, LaborEntry.hours * LaborEntry.rate)
        .join(WorkOrder, LaborEntry.workorder_id == WorkOrder.id)
        .outerjoin(Asset, WorkOrder.asset_id == Asset.id)
        .where(LaborEntry.worked_at >= start, LaborEntry.worked_at < end),
        scope,
    )
    parts = _scoped(
        select(*cols, literal(0.0), PartLine.quantity * PartLine.unit_cost)
        .join(WorkOrder, PartLine.workorder_id == WorkOrder.id)
        .outerjoin(Asset, WorkOrder.asset_id == Asset.id)
        .where(PartLine.created_at >= start, PartLine.created_at < end),
        scope,
    )
    other = _scoped(
        select(*cols, literal(0.0), OtherCost.amount)
        .join(WorkOrder, OtherCost.workorder_id == WorkOrder.id)
        .outerjoin(Asset, WorkOrder.asset_id == Asset.id)
        .where(OtherCost.created_at >= start, OtherCost.created_at < end),
        scope,
    )
    for kind, stmt in (("labor", labor), ("parts", parts), ("other", other)):
        for wo_id, type_, building, cls, firm, hours, amount in session.execute(stmt):
            rows.append(
                CostRow(wo_id, type_, building, cls, firm, kind, float(hours), float(amount))
            )
    return rows


def labor_hours_of_ended(
    session: Session, start: dt.datetime, end: dt.datetime
) -> list[tuple[str, float]]:
    """(type, labor hours) of every work order whose work ended in [start, end) with labor
    booked (not cancelled): what a job of each type takes, for estimating the backlog."""
    stmt = (
        select(WorkOrder.type, func.sum(LaborEntry.hours))
        .join(LaborEntry, LaborEntry.workorder_id == WorkOrder.id)
        .where(WorkOrder.status != "cancelled", _ended() >= start, _ended() < end)
        .group_by(WorkOrder.id, WorkOrder.type)
    )
    return [(t, float(h)) for t, h in session.execute(stmt)]


def assets(session: Session, *, scope: Scope) -> list[Asset]:
    """The assets of the scope's building and class (every firm's: see firm_assets)."""
    stmt = select(Asset).order_by(Asset.id)
    if scope.building is not None:
        stmt = stmt.where(Asset.building_id == scope.building)
    if scope.asset_class is not None:
        stmt = stmt.where(Asset.brick_class == scope.asset_class)
    return list(session.scalars(stmt))


def firm_assets(session: Session, before: dt.datetime) -> set[tuple[str, int]]:
    """(asset id, contractor id) of every firm's work on an asset opened before `before`."""
    stmt = (
        select(WorkOrder.asset_id, WorkOrder.contractor_id)
        .where(
            WorkOrder.asset_id.is_not(None),
            WorkOrder.contractor_id.is_not(None),
            WorkOrder.created_at < before,
        )
        .distinct()
    )
    return {(a, c) for a, c in session.execute(stmt) if a is not None and c is not None}


def active_technicians(session: Session) -> int:
    """How many active technician accounts there are: the in-house crew."""
    stmt = (
        select(func.count())
        .select_from(User)
        .where(User.role == Role.technician.value, User.active.is_(True))
    )
    return int(session.scalar(stmt) or 0)


def firm_crews(session: Session) -> dict[int, int]:
    """Active contractor accounts by organisation: each firm's crew."""
    stmt = (
        select(User.organisation_id, func.count())
        .where(
            User.role == Role.contractor.value,
            User.active.is_(True),
            User.organisation_id.is_not(None),
        )
        .group_by(User.organisation_id)
    )
    return {int(o): int(n) for o, n in session.execute(stmt) if o is not None}


def organisation_names(session: Session) -> dict[int, str]:
    """Every organisation's name by id."""
    return {i: n for i, n in session.execute(select(Organisation.id, Organisation.name))}


def organisation(session: Session, org_id: int) -> Organisation | None:
    """One organisation."""
    return session.get(Organisation, org_id)


def building_exists(session: Session, building: str) -> bool:
    """Whether any asset stands in the building."""
    stmt = select(Asset.id).where(Asset.building_id == building).limit(1)
    return session.scalar(stmt) is not None


def class_exists(session: Session, asset_class: str) -> bool:
    """Whether any asset has the class."""
    stmt = select(Asset.id).where(Asset.brick_class == asset_class).limit(1)
    return session.scalar(stmt) is not None


def asset_ids(session: Session) -> list[str]:
    """Every asset's id, in order."""
    return list(session.scalars(select(Asset.id).order_by(Asset.id)))


# --- snapshots ----------------------------------------------------------------------------------


def kpi_snapshot(session: Session, month: str, key: str) -> KpiMonthly | None:
    """The stored KPIs of a month and scope key."""
    stmt = select(KpiMonthly).where(KpiMonthly.month == month, KpiMonthly.key == key)
    return session.scalars(stmt).one_or_none()


def kpi_snapshots(session: Session, month: str) -> list[KpiMonthly]:
    """Every stored KPI row of a month, by key."""
    stmt = select(KpiMonthly).where(KpiMonthly.month == month).order_by(KpiMonthly.key)
    return list(session.scalars(stmt))


def health_snapshot(session: Session, month: str, asset_id: str) -> AssetHealthMonthly | None:
    """The stored health of an asset in a month."""
    stmt = select(AssetHealthMonthly).where(
        AssetHealthMonthly.month == month, AssetHealthMonthly.asset_id == asset_id
    )
    return session.scalars(stmt).one_or_none()


def health_snapshots(session: Session, month: str) -> list[AssetHealthMonthly]:
    """Every stored asset-health row of a month, by asset."""
    stmt = (
        select(AssetHealthMonthly)
        .where(AssetHealthMonthly.month == month)
        .order_by(AssetHealthMonthly.asset_id)
    )
    return list(session.scalars(stmt))


def snapshot_months(session: Session) -> set[str]:
    """The months that have a stored asset-health snapshot."""
    return set(session.scalars(select(AssetHealthMonthly.month).distinct()))


def capital_plan_snapshots(session: Session, month: str) -> list[CapitalPlanMonthly]:
    """Every stored capital-plan row of a month, by rank."""
    stmt = (
        select(CapitalPlanMonthly)
        .where(CapitalPlanMonthly.month == month)
        .order_by(CapitalPlanMonthly.rank)
    )
    return list(session.scalars(stmt))


def clear_capital_plan(session: Session, month: str) -> None:
    """Delete a month's capital-plan rows now (before its new ones are added)."""
    session.execute(delete(CapitalPlanMonthly).where(CapitalPlanMonthly.month == month))


def add(session: Session, row: KpiMonthly | AssetHealthMonthly | CapitalPlanMonthly) -> None:
    """Add a new snapshot row."""
    session.add(row)
