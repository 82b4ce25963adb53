"""Labor, parts and other costs on a work order; the order's cost_total follows them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from core.auth.models import Role
from core.auth.service import Principal
from core.errors import Conflict, Forbidden
from workorders.orders import repository, service
from workorders.orders.models import LaborEntry, OtherCost, PartLine, Status, WorkOrder

#: Who may book costs against a work order.
BOOKERS = frozenset({Role.admin, Role.engineer, Role.technician, Role.contractor})


def totals(
    labor: Iterable[LaborEntry], parts: Iterable[PartLine], other: Iterable[OtherCost]
) -> dict[str, float]:
    """Labor (hours × rate), parts (quantity × unit cost), other costs, and their total."""
    t = {
        "labor": float(sum(x.hours * x.rate for x in labor)),
        "parts": float(sum(x.quantity * x.unit_cost for x in parts)),
        "other": float(sum(x.amount for x in other)),
    }
    t["total"] = round(t["labor"] + t["parts"] + t["other"], 2)
    return t


def _guard(wo: WorkOrder, role: str) -> None:
    if Role(role) not in BOOKERS:
        raise Forbidden(f"role {role} cannot book costs")
    if wo.status in (Status.closed, Status.cancelled):
        raise Conflict(f"work order {wo.id} is {wo.status}; costs are closed")


def _booked(
    session: Session,
    wo: WorkOrder,
    line: Any,
    *,
    kind: str,
    amount: float,
    actor: str,
    role: str,
    organisation_id: int | None,
) -> None:
    """Append a cost line: the total follows by an atomic increment, and the work order's version
    stays as it is (an append never conflicts with another, nor stales a client's If-Match)."""
    snap = service.snapshot(wo)
    session.add(line)
    session.flush()
    now = dt.datetime.now(dt.UTC)
    total = repository.add_to_cost_total(session, wo.id, amount, now)
    set_committed_value(wo, "cost_total", total)
    set_committed_value(wo, "updated_at", now)
    session.add(
        service.timeline_event(
            wo,
            kind,
            actor,
            "",
            {"id": line.id, "amount": round(amount, 2)},
            ts=now,
            received_at=now,
        )
    )
    service.recorded(
        session,
        wo,
        action=kind,
        actor=actor,
        role=role,
        organisation_id=organisation_id,
        before=snap,
        event="workorder.updated",
        change={kind: line.id, "amount": round(amount, 2)},
    )


def add_labor(
    session: Session,
    *,
    wo: WorkOrder,
    worker: str,
    hours: float,
    rate: float,
    actor: str,
    role: str,
    user_id: int | None = None,
    worked_at: dt.datetime | None = None,
    note: str = "",
    organisation_id: int | None = None,
) -> LaborEntry:
    """Book hours of work at a rate."""
    _guard(wo, role)
    line = LaborEntry(
        workorder_id=wo.id,
        worker=worker,
        user_id=user_id,
        hours=hours,
        rate=rate,
        worked_at=service.action_time(
            worked_at, not_before=wo.created_at, since="the work order was created"
        ),
        note=note,
        created_by=actor,
    )
    _booked(
        session,
        wo,
        line,
        kind="labor",
        amount=hours * rate,
        actor=actor,
        role=role,
        organisation_id=organisation_id,
    )
    return line


def add_part(
    session: Session,
    *,
    wo: WorkOrder,
    part: str,
    quantity: float,
    unit_cost: float,
    actor: str,
    role: str,
    part_number: str = "",
    unit: str = "pcs",
    organisation_id: int | None = None,
) -> PartLine:
    """Book parts or materials used."""
    _guard(wo, role)
    line = PartLine(
        workorder_id=wo.id,
        part=part,
        part_number=part_number,
        quantity=quantity,
        unit=unit,
        unit_cost=unit_cost,
        created_by=actor,
    )
    _booked(
        session,
        wo,
        line,
        kind="part",
        amount=quantity * unit_cost,
        actor=actor,
        role=role,
        organisation_id=organisation_id,
    )
    return line


def add_cost(
    session: Session,
    *,
    wo: WorkOrder,
    description: str,
    amount: float,
    actor: str,
    role: str,
    organisation_id: int | None = None,
) -> OtherCost:
    """Book any other cost."""
    _guard(wo, role)
    line = OtherCost(workorder_id=wo.id, description=description, amount=amount, created_by=actor)
    _booked(
        session,
        wo,
        line,
        kind="cost",
        amount=amount,
        actor=actor,
        role=role,
        organisation_id=organisation_id,
    )
    return line


# --- on behalf of a caller of the API -----------------------------------------------------------


def _bookable(session: Session, who: Principal, wo_id: int) -> WorkOrder:
    """The work order a caller books against: requesters are refused before it is looked at."""
    service.refuse_requester(who)
    return service.get_visible(session, who=who, wo_id=wo_id)


def book_labor(
    session: Session,
    *,
    who: Principal,
    wo_id: int,
    hours: float,
    rate: float,
    worker: str | None = None,
    worked_at: dt.datetime | None = None,
    note: str = "",
) -> LaborEntry:
    """`add_labor` on behalf of a caller who may see the work order: hours worked by `worker`,
    the caller unless named (then linked to the caller's account)."""
    wo = _bookable(session, who, wo_id)
    return add_labor(
        session,
        wo=wo,
        worker=worker or who.username,
        user_id=who.user_id if worker in (None, who.username) else None,
        hours=hours,
        rate=rate,
        worked_at=worked_at,
        note=note,
        **service.acting(who),
    )


def book_part(
    session: Session,
    *,
    who: Principal,
    wo_id: int,
    part: str,
    quantity: float,
    unit_cost: float,
    part_number: str = "",
    unit: str = "pcs",
) -> PartLine:
    """`add_part` on behalf of a caller who may see the work order."""
    wo = _bookable(session, who, wo_id)
    return add_part(
        session,
        wo=wo,
        part=part,
        part_number=part_number,
        quantity=quantity,
        unit=unit,
        unit_cost=unit_cost,
        **service.acting(who),
    )


def book_cost(
    session: Session, *, who: Principal, wo_id: int, description: str, amount: float
) -> OtherCost:
    """`add_cost` on behalf of a caller who may see the work order."""
    wo = _bookable(session, who, wo_id)
    return add_cost(session, wo=wo, description=description, amount=amount, **service.acting(who))
