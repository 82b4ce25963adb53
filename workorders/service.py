"""Work-order rules: who may move a work order where, and how alerts open and update them.

Services take a session and never commit; the caller's unit of work does.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from config.site import SiteConfig
from plantroom.auth.models import Role
from plantroom.errors import AppError, Conflict, NotFound
from workorders import repository
from workorders.models import (
    FINAL_STATES,
    Asset,
    Origin,
    Priority,
    Status,
    WorkOrder,
    WorkOrderEvent,
)

S = Status
#: Where each state may go next.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    S.new: frozenset({S.assigned, S.acknowledged, S.in_progress, S.resolved, S.cancelled}),
    S.assigned: frozenset({S.acknowledged, S.in_progress, S.resolved, S.cancelled}),
    S.acknowledged: frozenset({S.in_progress, S.on_hold, S.resolved, S.cancelled}),
    S.in_progress: frozenset({S.on_hold, S.resolved, S.cancelled}),
    S.on_hold: frozenset({S.in_progress, S.resolved, S.cancelled}),
    S.resolved: frozenset({S.verified, S.closed, S.in_progress}),
    S.verified: frozenset({S.closed, S.in_progress}),
    S.closed: frozenset({S.in_progress}),
    S.cancelled: frozenset(),
}
#: Which target states each role may move a work order to.
ROLE_TARGETS: dict[Role, frozenset[Status]] = {
    Role.admin: frozenset(Status),
    Role.engineer: frozenset(Status),
    Role.technician: frozenset({S.acknowledged, S.in_progress, S.on_hold, S.resolved}),
    Role.contractor: frozenset({S.acknowledged, S.in_progress, S.on_hold, S.resolved}),
    Role.requester: frozenset(),
}
#: Two alerts on one asset and rule this close together suggest the first fix did not hold.
RECALL_WINDOW = dt.timedelta(days=30)


class WorkOrderNotFound(NotFound):
    """No such work order (or not visible to the caller)."""

    def __init__(self, wo_id: int):
        super().__init__(f"work order {wo_id} not found")


class TransitionNotAllowed(Conflict):
    """The requested status change is not allowed from here for this role."""

    def __init__(self, wo: WorkOrder, target: str, allowed: list[str]):
        super().__init__(
            f"work order {wo.id} cannot go from {wo.status} to {target}",
            detail={"status": wo.status, "requested": target, "allowed": allowed},
        )


class UnknownAsset(AppError):
    """A work order names an asset that does not exist."""

    status_code = 422
    error = "unknown_asset"


def allowed_targets(status: str, role: str) -> list[str]:
    """The states this role may move a work order in this status to."""
    nxt = TRANSITIONS[Status(status)] & ROLE_TARGETS[Role(role)]
    order = list(Status)
    return [str(s) for s in sorted(nxt, key=order.index)]


def _event(
    wo: WorkOrder,
    kind: str,
    actor: str,
    message: str = "",
    data: dict[str, Any] | None = None,
    ts: dt.datetime | None = None,
) -> WorkOrderEvent:
    ev = WorkOrderEvent(kind=kind, actor=actor, message=message, data=data)
    if ts is not None:
        ev.ts = ts
    ev.workorder = wo
    return ev


def create(
    session: Session,
    *,
    title: str,
    actor: str,
    description: str = "",
    priority: Priority = Priority.P3,
    asset_id: str | None = None,
    origin: Origin = Origin.manual,
    type_: str = "corrective",
    contractor_id: int | None = None,
) -> WorkOrder:
    """A new work order."""
    if asset_id is not None and repository.get_asset(session, asset_id) is None:
        raise UnknownAsset(f"asset '{asset_id}' does not exist")
    wo = WorkOrder(
        title=title,
        description=description,
        priority=priority,
        asset_id=asset_id,
        origin=origin,
        type=type_,
        contractor_id=contractor_id,
        created_by=actor,
        status=Status.new,
    )
    session.add(wo)
    session.add(_event(wo, "created", actor, title))
    session.flush()
    return wo


def change_status(
    session: Session,
    *,
    wo: WorkOrder,
    target: str,
    actor: str,
    role: str,
    note: str = "",
    at: dt.datetime | None = None,
) -> WorkOrder:
    """Move a work order to target, if the role and the current state allow it."""
    allowed = allowed_targets(wo.status, role)
    if target not in allowed:
        raise TransitionNotAllowed(wo, target, allowed)
    now = at or dt.datetime.now(dt.UTC)
    before = wo.status
    wo.status = target
    wo.updated_at = now
    if target == S.acknowledged and wo.acknowledged_at is None:
        wo.acknowledged_at = now
    if target == S.resolved:
        wo.resolved_at = now
    if target in (S.closed, S.cancelled, S.verified):
        wo.closed_at = now
    if target in FINAL_STATES:
        wo.dedup_key = None
    elif before in FINAL_STATES and wo.origin == Origin.alert and wo.rule_id and wo.asset_id:
        if repository.open_for(session, wo.asset_id, wo.rule_id) is not None:
            raise Conflict(f"another work order is already open for {wo.rule_id} on {wo.asset_id}")
        wo.dedup_key = repository.alert_key(wo.rule_id, wo.asset_id)
    if before in (S.resolved, *FINAL_STATES) and target not in FINAL_STATES | {S.resolved}:
        wo.resolved_at = None
        wo.closed_at = None
    session.add(_event(wo, "status", actor, note, {"from": before, "to": target}, ts=now))
    session.flush()
    return wo


def open_from_alert(
    session: Session,
    *,
    asset_id: str,
    rule_id: str,
    title: str,
    priority: str,
    trigger: dict[str, Any],
    at: dt.datetime,
) -> tuple[WorkOrder, bool]:
    """Open the work order for an alert, or add the re-fire to the one already open.

    Returns (work order, created). The unique dedup key makes the database the referee when
    two engines race: the loser re-reads and updates the winner's work order.
    """
    existing = repository.open_for(session, asset_id, rule_id)
    if existing is None:
        recall = repository.last_closed_for(session, asset_id, rule_id)
        wo = WorkOrder(
            title=title,
            priority=priority,
            asset_id=asset_id,
            rule_id=rule_id,
            origin=Origin.alert,
            type="corrective",
            trigger=trigger,
            alert_count=1,
            dedup_key=repository.alert_key(rule_id, asset_id),
            status=Status.new,
            created_at=at,
            updated_at=at,
            created_by="alerts",
        )
        note = ""
        if recall is not None and recall.closed_at and at - recall.closed_at <= RECALL_WINDOW:
            note = f"possible recall: work order {recall.id} closed {recall.closed_at:%Y-%m-%d}"
            wo.description = note
        try:
            with session.begin_nested():
                session.add(wo)
                session.add(
                    _event(
                        wo,
                        "created",
                        "alerts",
                        title,
                        {"trigger": trigger, "recall": bool(note)},
                        ts=at,
                    )
                )
                session.flush()
            return wo, True
        except IntegrityError:
            existing = repository.open_for(session, asset_id, rule_id)
            if existing is None:
                raise
    existing.alert_count += 1
    existing.updated_at = at
    if _rank(priority) < _rank(existing.priority):
        existing.priority = priority
    if existing.status == S.resolved:
        # The fix did not hold: the alert fired again before the work order was verified.
        existing.status = S.in_progress
        existing.resolved_at = None
        session.add(
            _event(
                existing,
                "reopened",
                "alerts",
                "alert fired again after resolve",
                {"trigger": trigger},
                ts=at,
            )
        )
    session.add(_event(existing, "alert_refired", "alerts", title, {"trigger": trigger}, ts=at))
    session.flush()
    return existing, False


def note_alert_cleared(
    session: Session, *, wo_id: int, rule_id: str, value: float | None, at: dt.datetime
) -> None:
    """Add 'the signal is back in range' to an alert's work order."""
    wo = repository.get(session, wo_id)
    if wo is None:
        return
    session.add(
        _event(wo, "alert_cleared", "alerts", f"{rule_id} back in range", {"value": value}, ts=at)
    )


def _rank(priority: str) -> int:
    return list(Priority).index(Priority(priority))


def sync_assets(session: Session, site: SiteConfig) -> int:
    """Mirror the site's assets into the assets table; returns how many."""
    n = 0
    for ref in site.assets():
        a = ref.asset
        repository.upsert_asset(
            session,
            Asset(
                id=a.id,
                name=a.name,
                brick_class=a.brick_class,
                building_id=ref.building.id,
                building_name=ref.building.name,
                location=ref.location,
                install_date=a.install_date,
                expected_life_years=a.expected_life_years,
                replacement_cost=a.replacement_cost,
                criticality=a.criticality,
                parent_meter_id=a.parent_meter,
                sub_item=a.sub_item,
            ),
        )
        n += 1
    return n
