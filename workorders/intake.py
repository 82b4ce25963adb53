"""The one door through which alerts raise, link and clear work orders.

The alert engine declares what it needs (alerts.intake.WorkOrderIntake); `Intake` implements
it here, choosing each new work order's SLA policy, and the root hands it to the engine. The
functions below it are the same operations for callers that hold a session of their own.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from alerts.intake import Raised
from workorders.orders import proof, repository
from workorders.orders.defaults import apply_asset_default, apply_default
from workorders.orders.models import OPEN_STATES, Origin, Status, WorkOrder
from workorders.orders.service import (
    RECALL_WINDOW,
    priority_rank,
    recorded,
    snapshot,
    timeline_event,
)
from workorders.site import WorkordersSite
from workorders.sla import service as sla_service
from workorders.sla.clock import FIX_NOT_HELD

S = Status


class Intake:
    """alerts.intake.WorkOrderIntake over the work-order tables, for one site's SLA policies
    and default assignees (`assign=False`: opened unassigned, e.g. in a backtest's scratch
    database, which has no users)."""

    def __init__(self, site: WorkordersSite, *, assign: bool = True):
        self.site = site
        self.assign = assign

    def raise_for_alert(
        self,
        session: Session,
        *,
        asset_id: str,
        rule_id: str,
        title: str,
        priority: str,
        trigger: dict[str, Any],
        at: dt.datetime,
        type_: str = "corrective",
    ) -> Raised:
        """Open the one work order of (asset, rule) under the site's SLA, or count a re-fire."""
        policy = sla_service.choose_policy(
            self.site, priority=priority, contractor_id=None, type_=type_
        )
        wo, created = open_from_alert(
            session,
            asset_id=asset_id,
            rule_id=rule_id,
            title=title,
            priority=priority,
            trigger=trigger,
            at=at,
            type_=type_,
            sla_policy=policy,
            site=self.site if self.assign else None,
        )
        return Raised(wo.id, created)

    def open_storm_parent(
        self,
        session: Session,
        *,
        title: str,
        priority: str,
        trigger: dict[str, Any],
        at: dt.datetime,
    ) -> int:
        """Open a parent work order for an alert storm; its id."""
        site = self.site if self.assign else None
        return open_parent(
            session, title=title, priority=priority, trigger=trigger, at=at, site=site
        ).id

    def link_to_parent(
        self,
        session: Session,
        parent_id: int,
        *,
        title: str,
        priority: str,
        data: dict[str, Any],
        at: dt.datetime,
    ) -> bool:
        """Count one more alert against the parent; False when it no longer exists."""
        parent = repository.get_bare(session, parent_id)
        if parent is None:
            return False
        link_alert(session, parent, title=title, priority=priority, data=data, at=at)
        return True

    def is_open(self, session: Session, work_order_id: int) -> bool:
        """Whether the work order exists and is open."""
        wo = repository.get_bare(session, work_order_id)
        return wo is not None and wo.status in OPEN_STATES

    def note_cleared(
        self,
        session: Session,
        *,
        work_order_id: int,
        rule_id: str,
        value: float | None,
        at: dt.datetime,
    ) -> None:
        """Note on the work order that its signal is back in range."""
        note_alert_cleared(session, wo_id=work_order_id, rule_id=rule_id, value=value, at=at)


def open_parent(
    session: Session,
    *,
    title: str,
    priority: str,
    trigger: dict[str, Any],
    at: dt.datetime,
    site: WorkordersSite | None = None,
) -> WorkOrder:
    """A parent work order standing for many alerts at once (an alert storm); with `site`,
    assigned by its default for the storm's building (trigger["building"])."""
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
    session.add(timeline_event(wo, "created", "alerts", title, {"trigger": trigger}, ts=at))
    session.flush()
    if site is not None:
        building = trigger.get("building")
        assigned = apply_default(
            session,
            wo,
            site=site,
            building_id=building if isinstance(building, str) else None,
            asset_class=None,
            actor="alerts",
            at=at,
            sla=False,  # a storm's parent runs no SLA clock of its own
        )
        if assigned:
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
    if priority_rank(priority) < priority_rank(wo.priority):
        wo.priority = priority
    session.add(timeline_event(wo, "alert_linked", "alerts", title, data, ts=at))


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
    sla_policy: dict[str, Any] | None = None,
    site: WorkordersSite | None = None,
) -> tuple[WorkOrder, bool]:
    """Open the work order for an alert, or add the re-fire to the one already open.

    Returns (work order, created). The unique dedup key makes the database the referee when
    two engines race: the loser re-reads and updates the winner's work order. With `site`, a
    new work order is assigned by the site's default for its asset's building and class.
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
            sla_policy=sla_policy,
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
                    timeline_event(
                        wo,
                        "created",
                        "alerts",
                        title,
                        {"trigger": trigger, "recall": bool(note)},
                        ts=at,
                    )
                )
                session.flush()
            if site is not None:
                apply_asset_default(session, wo, site=site, actor="alerts", at=at)
            recorded(
                session,
                wo,
                action="create",
                actor="alerts",
                before=None,
                event="workorder.created",
                now=at,
            )
            return wo, True
        except IntegrityError:
            existing = repository.open_for(session, asset_id, rule_id)
            if existing is None:
                raise
    existing.alert_count += 1
    existing.updated_at = at
    if priority_rank(priority) < priority_rank(existing.priority):
        existing.priority = priority
    reopened = existing.status == S.resolved
    snap = snapshot(existing) if reopened else None
    # Resolved while the alert was pending (or firing) and it fires now, inside the proof
    # window: the resolve is taken back for the SLA, as when the proof job reopens it.
    unproven = reopened and existing.awaiting_proof
    if reopened:
        # The fix did not hold: the alert fired again before the work order was verified.
        existing.status = S.in_progress
        existing.resolved_at = None
        existing.awaiting_proof, existing.proof_until = False, None
        session.add(
            timeline_event(
                existing,
                "reopened",
                "alerts",
                "the alert fired again while the fix awaited proof, so the fix did not hold"
                if unproven
                else "alert fired again after resolve",
                {"trigger": trigger, "reason": FIX_NOT_HELD} if unproven else {"trigger": trigger},
                ts=at,
            )
        )
    session.add(
        timeline_event(existing, "alert_refired", "alerts", title, {"trigger": trigger}, ts=at)
    )
    if reopened:
        # The reopen is a status change: the SLA's resolution clock runs again from here.
        data = {"from": str(S.resolved), "to": str(S.in_progress)}
        if unproven:
            data["reason"] = FIX_NOT_HELD
        session.add(timeline_event(existing, "status", "alerts", "alert fired again", data, ts=at))
        recorded(
            session,
            existing,
            action="status",
            actor="alerts",
            before=snap,
            event="workorder.status",
            change=data,
            now=at,
        )
    else:
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
        timeline_event(
            wo, "alert_cleared", "alerts", f"{rule_id} back in range", {"value": value}, ts=at
        )
    )
    proof.cleared(session, wo_id, at=at)
