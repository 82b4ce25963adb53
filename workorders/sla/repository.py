"""All SQL of the SLA service, the contractor scorecards and the contractor list."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import and_, false, or_, select, update
from sqlalchemy.orm import Session

from core.auth.models import Organisation
from workorders.contractors.models import ScorecardReport, ScorecardRevision
from workorders.orders.models import OPEN_STATES, Status, WorkOrder, WorkOrderEvent

#: Timeline kinds that move a work order's status (the alert engine's reopen writes one too).
STATUS_KINDS = ("status",)
#: Timeline kinds the SLA service writes.
SLA_KINDS = ("sla_warning", "sla_breach", "sla_withdrawn")
#: How many ids go into one IN (...) list.
_CHUNK = 500


def work_order(session: Session, wo_id: int) -> WorkOrder | None:
    """The work order with this id, or None."""
    return session.get(WorkOrder, wo_id)


def status_events(session: Session, wo_id: int) -> list[WorkOrderEvent]:
    """The status changes of one work order, oldest first (not its other timeline entries)."""
    stmt = (
        select(WorkOrderEvent)
        .where(WorkOrderEvent.workorder_id == wo_id, WorkOrderEvent.kind.in_(STATUS_KINDS))
        .order_by(WorkOrderEvent.ts, WorkOrderEvent.id)
    )
    return list(session.scalars(stmt))


def status_events_of(session: Session, wo_ids: Iterable[int]) -> dict[int, list[WorkOrderEvent]]:
    """The status changes of many work orders, oldest first, by work-order id."""
    out: dict[int, list[WorkOrderEvent]] = defaultdict(list)
    ids = sorted(set(wo_ids))
    for i in range(0, len(ids), _CHUNK):
        stmt = (
            select(WorkOrderEvent)
            .where(
                WorkOrderEvent.workorder_id.in_(ids[i : i + _CHUNK]),
                WorkOrderEvent.kind.in_(STATUS_KINDS),
            )
            .order_by(WorkOrderEvent.ts, WorkOrderEvent.id)
        )
        for ev in session.scalars(stmt):
            out[ev.workorder_id].append(ev)
    return out


def sla_events_of(session: Session, wo_ids: Iterable[int]) -> dict[int, list[WorkOrderEvent]]:
    """The SLA warnings, breaches and withdrawals on the timelines of these work orders."""
    out: dict[int, list[WorkOrderEvent]] = defaultdict(list)
    ids = sorted(set(wo_ids))
    for i in range(0, len(ids), _CHUNK):
        stmt = (
            select(WorkOrderEvent)
            .where(
                WorkOrderEvent.workorder_id.in_(ids[i : i + _CHUNK]),
                WorkOrderEvent.kind.in_(SLA_KINDS),
            )
            .order_by(WorkOrderEvent.id)
        )
        for ev in session.scalars(stmt):
            out[ev.workorder_id].append(ev)
    return out


def update_sla_columns(session: Session, wo_id: int, version: int, values: dict[str, Any]) -> bool:
    """Write a work order's SLA columns without bumping its version; False when the row's
    version is no longer `version` (someone changed the work order meanwhile).

    An ORM-enabled UPDATE statement bypasses the unit of work, so the mapper's version_id_col
    is neither incremented nor checked: the version check is ours, in the WHERE clause.
    """
    stmt = (
        update(WorkOrder)
        .where(WorkOrder.id == wo_id, WorkOrder.version == version)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    result = session.execute(stmt)
    return bool(getattr(result, "rowcount", 0) == 1)


def sweep_candidates(session: Session, horizon_end: dt.datetime) -> list[WorkOrder]:
    """Open work orders with an SLA whose running, unbreached clock falls due by horizon_end,
    and those whose clocks were never computed. On-hold ones are left out: a paused clock
    crosses nothing."""
    running = [s.value for s in OPEN_STATES if s is not Status.on_hold]
    response_running = and_(
        WorkOrder.status.in_([Status.new.value, Status.assigned.value]),
        WorkOrder.response_met_at.is_(None),
        WorkOrder.response_breached.is_(false()),
        WorkOrder.response_due_at.is_not(None),
        WorkOrder.response_due_at <= horizon_end,
    )
    resolution_running = and_(
        WorkOrder.resolution_breached.is_(false()),
        WorkOrder.resolution_due_at.is_not(None),
        WorkOrder.resolution_due_at <= horizon_end,
    )
    never = and_(WorkOrder.response_due_at.is_(None), WorkOrder.resolution_due_at.is_(None))
    stmt = (
        select(WorkOrder)
        .where(
            WorkOrder.status.in_(running),
            WorkOrder.sla_policy.is_not(None),
            or_(response_running, resolution_running, never),
        )
        .order_by(WorkOrder.id)
    )
    return list(session.scalars(stmt))


def recompute_candidates(session: Session, *, everything: bool = False) -> list[int]:
    """Ids of the work orders whose stored clocks are provisional (a holiday year nobody knew),
    or with `everything`, of every work order with an SLA."""
    cond = (
        WorkOrder.sla_policy.is_not(None) if everything else WorkOrder.sla_provisional.is_not(None)
    )
    return list(session.scalars(select(WorkOrder.id).where(cond).order_by(WorkOrder.id)))


def provisional_years(session: Session) -> set[int]:
    """The holiday years the stored provisional clocks are waiting for."""
    rows = session.scalars(
        select(WorkOrder.sla_provisional).where(WorkOrder.sla_provisional.is_not(None))
    )
    return {int(y) for row in rows for years in (row or {}).values() for y in years}


def scorecard_candidates(
    session: Session, contractor_id: int, start: dt.datetime, end: dt.datetime
) -> list[WorkOrder]:
    """The contractor's work orders with an SLA that may have a clock due in [start, end).

    A superset, narrowed exactly by the scorecard. Why it is one: a clock's due instant never
    moves earlier as time passes (only a hold or a reopen moves it, and both move it later),
    and the service stores it after every status change. So a clock due on or after `start`
    as of `end` has a stored due on or after `start`, unless it has sat on hold since it was
    stored, or was never stored, or is provisional (a holiday year nobody knew: the real
    calendar may move it either way); those are taken too. A due instant is never before creation,
    so work orders created at or after `end` are left out.
    """
    stmt = (
        select(WorkOrder)
        .where(
            WorkOrder.contractor_id == contractor_id,
            WorkOrder.sla_policy.is_not(None),
            WorkOrder.created_at < end,
            or_(
                WorkOrder.response_due_at >= start,
                WorkOrder.resolution_due_at >= start,
                WorkOrder.status == Status.on_hold.value,
                # a provisional due time may move either way once its year is known
                WorkOrder.sla_provisional.is_not(None),
                and_(WorkOrder.response_due_at.is_(None), WorkOrder.resolution_due_at.is_(None)),
            ),
        )
        .order_by(WorkOrder.id)
    )
    return list(session.scalars(stmt))


def received_actions(
    session: Session, contractor_id: int, start: dt.datetime, end: dt.datetime
) -> list[tuple[WorkOrderEvent, str]]:
    """The people's status changes on the contractor's work orders that say they happened in
    [start, end), with the arrival time recorded, and each work order's title."""
    stmt = (
        select(WorkOrderEvent, WorkOrder.title)
        .join(WorkOrder, WorkOrder.id == WorkOrderEvent.workorder_id)
        .where(
            WorkOrder.contractor_id == contractor_id,
            WorkOrderEvent.kind.in_(STATUS_KINDS),
            WorkOrderEvent.received_at.is_not(None),
            WorkOrderEvent.ts >= start,
            WorkOrderEvent.ts < end,
        )
        .order_by(WorkOrderEvent.ts, WorkOrderEvent.id)
    )
    return [(ev, title) for ev, title in session.execute(stmt)]


def contractors(session: Session, ids: Sequence[int] | None = None) -> list[Organisation]:
    """Contractor organisations by name; only those with these ids when given."""
    stmt = select(Organisation).where(Organisation.kind == "contractor")
    if ids is not None:
        stmt = stmt.where(Organisation.id.in_(list(ids)))
    return list(session.scalars(stmt.order_by(Organisation.name, Organisation.id)))


def contractor(session: Session, org_id: int) -> Organisation | None:
    """One contractor organisation."""
    org = session.get(Organisation, org_id)
    return org if org is not None and org.kind == "contractor" else None


def organisation(session: Session, org_id: int) -> Organisation | None:
    """One organisation, whatever its kind."""
    return session.get(Organisation, org_id)


def organisation_ids(session: Session, names: Iterable[str]) -> dict[str, int]:
    """Organisation ids by name, for the names that exist."""
    wanted = sorted(set(names))
    if not wanted:
        return {}
    rows = session.execute(
        select(Organisation.name, Organisation.id).where(Organisation.name.in_(wanted))
    )
    return {name: oid for name, oid in rows}


def upsert_contractor(session: Session, *, name: str, monthly_fee: float | None) -> Organisation:
    """The contractor organisation called name with this fee, created when missing."""
    org = session.scalars(select(Organisation).where(Organisation.name == name)).first()
    if org is None:
        org = Organisation(name=name, kind="contractor", monthly_fee=monthly_fee, active=True)
        session.add(org)
    else:
        org.kind = "contractor"
        org.monthly_fee = monthly_fee
    session.flush()
    return org


def scorecard_reports(session: Session) -> list[ScorecardReport]:
    """Every reported month, by contractor and month."""
    stmt = select(ScorecardReport).order_by(ScorecardReport.contractor_id, ScorecardReport.month)
    return list(session.scalars(stmt))


def scorecard_report(session: Session, contractor_id: int, month: str) -> ScorecardReport | None:
    """The figures of one contractor's month as last reported, if they were."""
    return session.get(ScorecardReport, (contractor_id, month))


def scorecard_revisions(
    session: Session, contractor_id: int, month: str
) -> list[ScorecardRevision]:
    """The revisions of one contractor's month, oldest first."""
    stmt = (
        select(ScorecardRevision)
        .where(ScorecardRevision.contractor_id == contractor_id, ScorecardRevision.month == month)
        .order_by(ScorecardRevision.id)
    )
    return list(session.scalars(stmt))
