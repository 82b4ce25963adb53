"""All SQL of breach disputes, month sign-offs and complaints (the scorecard's own tables;
the reported figures and revisions are read in workorders.sla.repository)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from workorders.contractors.models import BreachDispute, Complaint, MonthSignoff, ScorecardReport
from workorders.orders.models import WorkOrder


def disputes(session: Session, contractor_id: int, month: str) -> list[BreachDispute]:
    """The disputes of one contractor's month, oldest first."""
    stmt = (
        select(BreachDispute)
        .where(BreachDispute.contractor_id == contractor_id, BreachDispute.month == month)
        .order_by(BreachDispute.id)
    )
    return list(session.scalars(stmt))


def dispute(session: Session, dispute_id: int) -> BreachDispute | None:
    """One dispute by id."""
    return session.get(BreachDispute, dispute_id)


def dispute_of(
    session: Session, contractor_id: int, month: str, workorder_id: int, clock: str
) -> BreachDispute | None:
    """The dispute of one breached clock in a month, if there is one."""
    stmt = select(BreachDispute).where(
        BreachDispute.contractor_id == contractor_id,
        BreachDispute.month == month,
        BreachDispute.workorder_id == workorder_id,
        BreachDispute.clock == clock,
    )
    return session.scalars(stmt).first()


def signoff(session: Session, contractor_id: int, month: str) -> MonthSignoff | None:
    """The sign-off of one contractor's month, if it was signed off."""
    return session.get(MonthSignoff, (contractor_id, month))


def complaints(
    session: Session,
    contractor_id: int,
    start: dt.datetime,
    end: dt.datetime,
    *,
    withdrawn: bool = True,
) -> list[Complaint]:
    """The complaints against a contractor made in [start, end), oldest first; without the
    withdrawn ones unless asked."""
    stmt = select(Complaint).where(
        Complaint.contractor_id == contractor_id,
        Complaint.made_at >= start,
        Complaint.made_at < end,
    )
    if not withdrawn:
        stmt = stmt.where(Complaint.withdrawn_at.is_(None))
    return list(session.scalars(stmt.order_by(Complaint.made_at, Complaint.id)))


def complaint(session: Session, complaint_id: int) -> Complaint | None:
    """One complaint by id."""
    return session.get(Complaint, complaint_id)


def complaint_for_request(session: Session, request_id: int) -> Complaint | None:
    """The complaint an occupant request was marked as, if it was."""
    stmt = select(Complaint).where(Complaint.request_id == request_id)
    return session.scalars(stmt).first()


def work_order(session: Session, wo_id: int) -> WorkOrder | None:
    """One work order by id."""
    return session.get(WorkOrder, wo_id)


def add(session: Session, row: BreachDispute | Complaint | MonthSignoff) -> None:
    """Add a row and flush, so that it has its id."""
    session.add(row)
    session.flush()


def latest_firm_work(
    session: Session, asset_id: str, since: dt.datetime, *, other_than: int
) -> WorkOrder | None:
    """The latest work order a contractor firm holds on an asset, open or closed since
    `since`, other than the given one: the firm an occupant's complaint there is about."""
    stmt = (
        select(WorkOrder)
        .where(
            WorkOrder.asset_id == asset_id,
            WorkOrder.contractor_id.is_not(None),
            WorkOrder.id != other_than,
            or_(WorkOrder.closed_at.is_(None), WorkOrder.closed_at >= since),
        )
        .order_by(WorkOrder.id.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()


def add_report_once(
    session: Session,
    *,
    contractor_id: int,
    month: str,
    figures: dict[str, object],
    provisional: bool,
    reported_at: dt.datetime,
) -> None:
    """Keep a month's first report, unless another request kept one a moment ago (two
    downloads at once): INSERT ... ON CONFLICT DO NOTHING, on SQLite and PostgreSQL."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = (
        insert(ScorecardReport)
        .values(
            contractor_id=contractor_id,
            month=month,
            figures=figures,
            provisional=provisional,
            reported_at=reported_at,
        )
        .on_conflict_do_nothing(index_elements=["contractor_id", "month"])
    )
    session.execute(stmt)
