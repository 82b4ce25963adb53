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
    if target == S.verified:
        _check_fix_held(session, wo, now)
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


class FixNotProven(Conflict):
    """Verifying an alert's work order before the signal has stayed back in range long enough."""


def _check_fix_held(session: Session, wo: WorkOrder, now: dt.datetime) -> None:
    """An alert work order is verified only once its signal has been back in range for the
    rule's verify_for (recorded in the trigger when the work order was opened)."""
    if wo.origin != Origin.alert or not wo.rule_id or not wo.asset_id:
        return
    verify_for = float((wo.trigger or {}).get("verify_for") or 0)
    from alerts import repository as alerts_repo  # alerts import this module, not the reverse

    live = alerts_repo.live_for(session, wo.rule_id, wo.asset_id)
    if live is not None and live.state in ("pending", "firing", "nodata", "error"):
        raise FixNotProven(
            f"the alert {wo.rule_id} on {wo.asset_id} is {live.state}: the fix has not held"
        )
    last = alerts_repo.last_resolved(session, wo.rule_id, wo.asset_id)
    if verify_for <= 0:
        return
    if last is None or last.resolved_at is None:
        raise FixNotProven(f"{wo.rule_id} has not been back in range yet")
    held = (now - last.resolved_at).total_seconds()
    if held < verify_for:
        raise FixNotProven(
            f"{wo.rule_id} has been back in range for {held:.0f} s of the {verify_for:.0f} s "
            "needed before this work order can be verified"
        )


def open_parent(
    session: Session, *, title: str, priority: str, trigger: dict[str, Any], at: dt.datetime
) -> WorkOrder:
    """A parent work order standing for many alerts at once (an alert storm)."""
    wo = WorkOrder(
        title=title,
        priority=priority,
        origin=Origin.alert,
        type="corrective",
        trigger=trigger,
        alert_count=0,
        status=Status.new,
        created_at=at,
        updated_at=at,
        created_by="alerts",
    )
    session.add(wo)
    session.add(_event(wo, "created", "alerts", title, {"trigger": trigger}, ts=at))
    session.flush()
    return wo


def link_alert(
    session: Session,
    wo: WorkOrder,
    *,
    title: str,
    priority: str,
    data: dict[str, Any],
    at: dt.datetime,
) -> None:
    """Count one more alert against a parent work order, on its timeline."""
    wo.alert_count += 1
    wo.updated_at = at
    if _rank(priority) < _rank(wo.priority):
        wo.priority = priority
    session.add(_event(wo, "alert_linked", "alerts", title, data, ts=at))


def open_from_alert(
    session: Session,
    *,
    asset_id: str,
    rule_id: str,
    title: str,
    priority: str,
    trigger: dict[str, Any],
    at: dt.datetime,
    type_: str = "corrective",
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
            type=type_,
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
    wo = repository.get_bare(session, wo_id)
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
