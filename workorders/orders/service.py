"""Work-order rules: who may move a work order where, and how alerts open and update them.

Services take a session and never commit; the caller's unit of work does.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import functools
from typing import Any, Final, Literal

from sqlalchemy.orm import Session

from alerts import repository as alerts_repo
from alerts.models import Alert
from alerts.rules.base import DEFAULT_PROOF_WINDOW
from config.site import SiteConfig
from core import audit
from core.audit import AuditEntry
from core.auth.models import Role
from core.auth.service import Principal
from core.concurrency import check_if_match
from core.errors import AppError, Conflict, Forbidden, NotFound
from workorders.orders import repository
from workorders.orders.codes import Codes, check_codes
from workorders.orders.models import (
    FINAL_STATES,
    OPEN_STATES,
    Asset,
    HoldReason,
    Origin,
    Priority,
    Status,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderType,
)
from workorders.sla import service as sla_service
from workorders.webhooks import service as webhooks

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
#: Who may raise a work order by hand (a requester raises requests).
CREATORS = frozenset({Role.admin, Role.engineer, Role.technician, Role.requester})


class _Keep(enum.Enum):
    """The type of KEEP: one member, so that type checkers tell it from a policy."""

    KEEP = "keep"


#: An edit or an assignment that leaves the work order's SLA policy as it is.
KEEP: Final = _Keep.KEEP
#: A new SLA policy snapshot (sla.service.choose_policy), None for none, or KEEP.
PolicyChange = dict[str, Any] | None | Literal[_Keep.KEEP]


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


class HoldWithoutReason(AppError):
    """A move to on_hold names no reason; the SLA clock pauses only for a recorded one."""

    status_code = 422
    error = "hold_reason_required"


class ActionTimeRefused(AppError):
    """A stated action time (`at`) the server knows cannot be true: refused rather than trusted,
    since a time in the past or the future moves SLA clocks and so a contractor's pay."""

    status_code = 422
    error = "action_time_refused"


class ActionInFuture(ActionTimeRefused):
    """An action time later than its arrival, beyond the clock skew allowed."""

    error = "action_in_future"


#: How far ahead of the server's clock a tablet's clock may run before its times are refused.
CLOCK_SKEW = dt.timedelta(minutes=2)
#: How long an action may wait on a device before it is synced: older stated times are refused.
MAX_OFFLINE = dt.timedelta(days=7)
#: An action synced this long after it says it happened is listed as synced late (scorecard).
SYNCED_LATE = dt.timedelta(hours=1)
#: Columns the audit log records for a work order, before and after each change.
AUDITED = (
    "title",
    "description",
    "status",
    "priority",
    "type",
    "asset_id",
    "contractor_id",
    "assignee_id",
    "hold_reason",
    "cause_code",
    "resolution_code",
    "checklist",
    "cost_total",
    "due_at",
)


class UnknownAsset(AppError):
    """A work order names an asset that does not exist."""

    status_code = 422
    error = "unknown_asset"


def allowed_targets(status: str, role: str) -> list[str]:
    """The states this role may move a work order in this status to."""
    return list(_allowed(str(status), str(role)))


@functools.lru_cache(maxsize=64)
def _allowed(status: str, role: str) -> tuple[str, ...]:
    nxt = TRANSITIONS[Status(status)] & ROLE_TARGETS[Role(role)]
    order = list(Status)
    return tuple(str(s) for s in sorted(nxt, key=order.index))


def timeline_event(
    wo: WorkOrder,
    kind: str,
    actor: str,
    message: str = "",
    data: dict[str, Any] | None = None,
    ts: dt.datetime | None = None,
    received_at: dt.datetime | None = None,
) -> WorkOrderEvent:
    """A timeline entry on the work order (added to the session by the caller)."""
    ev = WorkOrderEvent(kind=kind, actor=actor, message=message, data=data)
    if ts is not None:
        ev.ts = ts
    ev.received_at = received_at
    ev.workorder = wo
    return ev


def action_time(
    at: dt.datetime | None,
    now: dt.datetime | None = None,
    *,
    not_before: dt.datetime | None = None,
    since: str = "",
) -> dt.datetime:
    """When an action happened: the client's own time (offline tablets sync later), else now.

    A stated time is bounded by what the server knows when it arrives (`now`): no later than
    now + CLOCK_SKEW, no earlier than now - MAX_OFFLINE, and not before `not_before` (what it
    follows: the work order's creation, the status change before it; `since` says which).
    Anything else answers 422 ActionTimeRefused, saying which bound. It may still be earlier
    than other entries that happened meanwhile (an alert re-firing, another person's comment):
    that is what syncing late means. A naive time is refused by the API's schema.
    """
    now = now or dt.datetime.now(dt.UTC)
    if at is None:
        return now
    if at.tzinfo is None:
        raise ActionInFuture("the action time needs a timezone offset")
    if at - now > CLOCK_SKEW:
        raise ActionInFuture(
            f"the action time {at.isoformat()} is ahead of the server's clock "
            f"({now.isoformat(timespec='seconds')}); check the device's clock"
        )
    if now - at > MAX_OFFLINE:
        raise ActionTimeRefused(
            f"the action time {at.isoformat()} is more than {MAX_OFFLINE.days} days before it "
            f"reached the server ({now.isoformat(timespec='seconds')}); an action kept offline "
            "that long is not accepted with its own time",
            detail={"at": at.isoformat(), "received_at": now.isoformat(), "bound": "max_offline"},
        )
    if not_before is not None and at < not_before:
        raise ActionTimeRefused(
            f"the action time {at.isoformat()} is before {since or 'what it follows'} "
            f"({not_before.isoformat()})",
            detail={"at": at.isoformat(), "not_before": not_before.isoformat(), "bound": since},
        )
    return at.astimezone(dt.UTC)


def status_action_time(
    session: Session, wo: WorkOrder, *, at: dt.datetime | None, now: dt.datetime
) -> dt.datetime:
    """action_time for a change that follows the work order's last status change (or its
    creation): never before it."""
    last = repository.last_status_at(session, wo.id)
    return action_time(
        at,
        now,
        not_before=max(wo.created_at, last) if last else wo.created_at,
        since="the status change it follows"
        if last and last > wo.created_at
        else "the work order was created",
    )


def snapshot(wo: WorkOrder) -> dict[str, Any]:
    """The audited columns of a work order, JSON-safe: take one before changing it."""
    return audit.snapshot(wo, AUDITED)


def summary(wo: WorkOrder) -> dict[str, Any]:
    """A work order as webhook payloads and notifications carry it."""
    return {
        "id": wo.id,
        "version": wo.version,
        **audit.snapshot(wo, ("title", "status", "priority", "type", "origin", "asset_id")),
        **audit.snapshot(wo, ("contractor_id", "assignee_id", "hold_reason")),
        **audit.snapshot(wo, ("response_due_at", "resolution_due_at", "updated_at")),
    }


def recorded(
    session: Session,
    wo: WorkOrder,
    *,
    action: str,
    actor: str,
    role: str = "",
    organisation_id: int | None = None,
    before: dict[str, Any] | None,
    event: str | None = None,
    change: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
    action_at: dt.datetime | None = None,
) -> None:
    """After a change to wo: flush (bumping its version), refresh its SLA clocks, append the
    audit entry (with the time the client stated, `action_at`, beside the time it arrived) and
    queue the webhook event, all in the caller's transaction."""
    session.flush()
    after = snapshot(wo)
    b, a = audit.diff(before, after) if before is not None else (None, after)
    audit.record(
        session,
        actor=actor,
        actor_role=str(role),
        organisation_id=organisation_id,
        entity="work_order",
        entity_id=wo.id,
        action=action,
        before=b,
        after=a,
        version=wo.version,
        action_at=action_at,
    )
    if wo.sla_policy or wo.response_due_at or wo.resolution_due_at:  # set, or just cleared
        sla_service.refresh(session, wo, now=now or dt.datetime.now(dt.UTC))
    if event:
        webhooks.enqueue(
            session, event=event, payload={"workorder": summary(wo), "change": change or {}}
        )


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
    assignee_id: int | None = None,
    checklist: list[str] | None = None,
    sla_policy: dict[str, Any] | None = None,
    reporter_contact: str | None = None,
    role: str = "",
    organisation_id: int | None = None,
    at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> WorkOrder:
    """A new work order, on the timeline, in the audit log and to webhooks; `at` is when it was
    raised (bounded by action_time), `now` when the server received it (default: the clock)."""
    if asset_id is not None:
        asset = repository.get_asset(session, asset_id)
        if asset is None or not asset.active:
            raise UnknownAsset(f"asset '{asset_id}' does not exist or is retired")
    WorkOrderType(type_)
    now = now or dt.datetime.now(dt.UTC)
    when = action_time(at, now)
    wo = WorkOrder(
        title=title,
        description=description,
        priority=priority,
        asset_id=asset_id,
        origin=origin,
        type=type_,
        contractor_id=contractor_id,
        assignee_id=assignee_id,
        checklist=[checklist_item(i) for i in checklist] if checklist else None,
        sla_policy=sla_policy,
        reporter_contact=reporter_contact,
        created_by=actor,
        created_at=when,
        updated_at=when,
        status=Status.assigned if (assignee_id or contractor_id) else Status.new,
    )
    session.add(wo)
    session.add(timeline_event(wo, "created", actor, title, ts=when, received_at=now))
    if wo.status == Status.assigned:
        data = {"from": str(Status.new), "to": str(Status.assigned)}
        session.add(timeline_event(wo, "status", actor, "", data, ts=when, received_at=now))
    recorded(
        session,
        wo,
        action="create",
        actor=actor,
        role=role,
        organisation_id=organisation_id,
        before=None,
        event="workorder.created",
        now=now,
        action_at=at and when,
    )
    return wo


def checklist_item(text: str) -> dict[str, Any]:
    """A checklist line not yet done."""
    return {"item": text, "done": None, "result": "", "by": None, "at": None}


def change_status(
    session: Session,
    *,
    wo: WorkOrder,
    target: str,
    actor: str,
    role: str,
    note: str = "",
    at: dt.datetime | None = None,
    reason: str | None = None,
    resolution_code: str | None = None,
    cause_code: str | None = None,
    organisation_id: int | None = None,
    now: dt.datetime | None = None,
    reopen: bool = False,
) -> WorkOrder:
    """Move a work order to target, if the role and the current state allow it (`reopen`: the
    office's reopen, which `reopen` checks itself, takes a final state back to an open one).

    `at` is when it happened (a tablet syncing later sends its own time); the SLA clocks count
    from it, within the bounds of action_time. `now` is when the server received it (default:
    the clock; a replay of history passes its own). A hold needs a reason (HoldReason), which
    stays on the work order while it waits.
    """
    allowed = [target] if reopen else allowed_targets(wo.status, role)
    if target not in allowed:
        raise TransitionNotAllowed(wo, target, allowed)
    clock = now or dt.datetime.now(dt.UTC)
    when = status_action_time(session, wo, at=at, now=clock)
    if target == S.on_hold:
        if not reason:
            raise HoldWithoutReason(
                "a hold needs a reason: " + ", ".join(r.value for r in HoldReason),
                detail={"allowed": [r.value for r in HoldReason]},
            )
        HoldReason(reason)
        if reason == HoldReason.other and not note.strip():
            raise HoldWithoutReason("a hold for 'other' reasons needs a note saying what")
    if target == S.verified:
        _check_fix_held(session, wo, when)
    snap = snapshot(wo)
    before = wo.status
    wo.hold_reason = reason if target == S.on_hold else None
    if resolution_code is not None:
        wo.resolution_code = resolution_code
    if cause_code is not None:
        wo.cause_code = cause_code
    wo.status = target
    wo.updated_at = clock
    if target == S.acknowledged and wo.acknowledged_at is None:
        wo.acknowledged_at = when
    if target == S.resolved:
        wo.resolved_at = when
    if target in (S.closed, S.cancelled, S.verified):
        wo.closed_at = when
    if target in FINAL_STATES:
        wo.dedup_key = None
    elif before in FINAL_STATES and wo.origin == Origin.alert and wo.rule_id and wo.asset_id:
        if repository.open_for(session, wo.asset_id, wo.rule_id) is not None:
            raise Conflict(f"another work order is already open for {wo.rule_id} on {wo.asset_id}")
        wo.dedup_key = repository.alert_key(wo.rule_id, wo.asset_id)
    if before in (S.resolved, *FINAL_STATES) and target not in FINAL_STATES | {S.resolved}:
        wo.resolved_at = None
        wo.closed_at = None
    data: dict[str, Any] = {"from": before, "to": target}
    if target == S.on_hold:
        data["reason"] = reason
    session.add(timeline_event(wo, "status", actor, note, data, ts=when, received_at=clock))
    if target == S.resolved:
        await_proof(session, wo, at=when, received_at=clock)
    else:  # whoever moves it on from resolved has decided about the fix
        wo.awaiting_proof, wo.proof_until = False, None
    recorded(
        session,
        wo,
        action="status",
        actor=actor,
        role=role,
        organisation_id=organisation_id,
        before=snap,
        event="workorder.status",
        change={"from": before, "to": target, "at": when.isoformat(), "reason": wo.hold_reason},
        now=clock,
        action_at=at and when,
    )
    return wo


class NotAssignable(AppError):
    """An assignee or contractor that cannot take this work order."""

    status_code = 422
    error = "not_assignable"


#: Fields an edit may change, and who may change them.
EDITABLE: dict[str, frozenset[Role]] = {
    "title": frozenset({Role.admin, Role.engineer}),
    "description": frozenset({Role.admin, Role.engineer, Role.technician, Role.contractor}),
    "priority": frozenset({Role.admin, Role.engineer}),
    "type": frozenset({Role.admin, Role.engineer}),
    "asset_id": frozenset({Role.admin, Role.engineer}),
    "cause_code": frozenset({Role.admin, Role.engineer, Role.technician, Role.contractor}),
    "resolution_code": frozenset({Role.admin, Role.engineer, Role.technician, Role.contractor}),
    "checklist": frozenset({Role.admin, Role.engineer}),
}


def update(
    session: Session,
    *,
    wo: WorkOrder,
    changes: dict[str, Any],
    actor: str,
    role: str,
    organisation_id: int | None = None,
    sla_policy: PolicyChange = KEEP,
) -> WorkOrder:
    """Edit a work order's fields; each field has roles allowed to change it (403 otherwise).

    `checklist` is a list of item texts: items kept by text keep their results. A new
    `sla_policy` (see `edit`: chosen again when the priority or the type changes) replaces the
    old one; KEEP leaves it.
    """
    who = Role(role)
    refused = sorted(k for k in changes if who not in EDITABLE.get(k, frozenset()))
    if refused:
        raise Forbidden(f"role {who} may not change {', '.join(refused)}")
    if not changes:
        return wo
    if "asset_id" in changes and changes["asset_id"] is not None:
        asset = repository.get_asset(session, changes["asset_id"])
        if asset is None or not asset.active:
            raise UnknownAsset(f"asset '{changes['asset_id']}' does not exist or is retired")
    if "type" in changes:
        WorkOrderType(changes["type"])
    snap = snapshot(wo)
    for key, value in changes.items():
        if key == "checklist":
            old = {i["item"]: i for i in (wo.checklist or [])}
            value = [old.get(text, checklist_item(text)) for text in value] if value else None
        setattr(wo, key, value)
    if sla_policy is not KEEP:
        wo.sla_policy = sla_policy
    wo.updated_at = dt.datetime.now(dt.UTC)
    session.add(timeline_event(wo, "edited", actor, "", {"fields": sorted(changes)}))
    recorded(
        session,
        wo,
        action="update",
        actor=actor,
        role=role,
        organisation_id=organisation_id,
        before=snap,
        event="workorder.updated",
        change={"fields": sorted(changes)},
    )
    return wo


def assign(
    session: Session,
    *,
    wo: WorkOrder,
    assignee_id: int | None,
    contractor_id: int | None,
    actor: str,
    role: str,
    organisation_id: int | None = None,
    sla_policy: PolicyChange = KEEP,
    at: dt.datetime | None = None,
) -> WorkOrder:
    """Give a work order to a person and/or a contractor; a new one moves to assigned.

    A contractor may only hand its own work to its own people.
    """
    who = Role(role)
    if who not in (Role.admin, Role.engineer, Role.contractor):
        raise Forbidden(f"role {who} cannot assign work orders")
    if wo.status in FINAL_STATES:
        raise Conflict(f"work order {wo.id} is {wo.status}; reopen it first")
    if who is Role.contractor and contractor_id != organisation_id:
        raise Forbidden("a contractor assigns only within its own organisation")
    if contractor_id is not None:
        org = repository.organisation(session, contractor_id)
        if org is None or org.kind != "contractor" or not org.active:
            raise NotAssignable(f"organisation {contractor_id} is not an active contractor")
    if assignee_id is not None:
        user = repository.user(session, assignee_id)
        # A contractor learns nothing of people outside its own firm: they answer as missing.
        if who is Role.contractor and user is not None and user.organisation_id != organisation_id:
            user = None
        if user is None or not user.active:
            raise NotAssignable(f"user {assignee_id} does not exist or is disabled")
        if user.role not in (Role.technician, Role.contractor, Role.engineer):
            raise NotAssignable(f"user {user.username} ({user.role}) does not take work orders")
        if contractor_id is not None and user.organisation_id != contractor_id:
            raise NotAssignable(
                f"user {user.username} does not work for contractor {contractor_id}"
            )
        if contractor_id is None and user.role == Role.contractor:
            raise NotAssignable(f"user {user.username} is a contractor's: name the contractor too")
    clock = dt.datetime.now(dt.UTC)
    when = action_time(at, clock, not_before=wo.created_at, since="the work order was created")
    snap = snapshot(wo)
    wo.assignee_id = assignee_id
    wo.contractor_id = contractor_id
    if sla_policy is not KEEP:
        wo.sla_policy = sla_policy
    wo.updated_at = clock
    data = {"assignee_id": assignee_id, "contractor_id": contractor_id}
    session.add(timeline_event(wo, "assigned", actor, "", data, ts=when, received_at=clock))
    if wo.status == S.new and (assignee_id or contractor_id):
        wo.status = S.assigned
        moved = {"from": "new", "to": "assigned"}
        session.add(timeline_event(wo, "status", actor, "", moved, ts=when, received_at=clock))
    recorded(
        session,
        wo,
        action="assign",
        actor=actor,
        role=role,
        organisation_id=organisation_id,
        before=snap,
        event="workorder.assigned",
        change=data,
        now=clock,
        action_at=at and when,
    )
    return wo


def comment(
    session: Session,
    *,
    wo: WorkOrder,
    text: str,
    actor: str,
    role: str,
    organisation_id: int | None = None,
    at: dt.datetime | None = None,
) -> WorkOrderEvent:
    """Add a comment to the timeline."""
    clock = dt.datetime.now(dt.UTC)
    when = action_time(at, clock, not_before=wo.created_at, since="the work order was created")
    ev = timeline_event(wo, "comment", actor, text, ts=when, received_at=clock)
    session.add(ev)
    session.flush()
    audit.record(
        session,
        actor=actor,
        actor_role=str(role),
        organisation_id=organisation_id,
        entity="work_order",
        entity_id=wo.id,
        action="comment",
        after={"event_id": ev.id, "text": text},
        version=wo.version,
        action_at=at and when,
    )
    webhooks.enqueue(
        session,
        event="workorder.comment",
        payload={"workorder": summary(wo), "change": {"text": text, "actor": actor}},
    )
    return ev


def check_item(
    session: Session,
    *,
    wo: WorkOrder,
    index: int,
    done: bool | None,
    result: str,
    actor: str,
    role: str,
    organisation_id: int | None = None,
    at: dt.datetime | None = None,
) -> WorkOrder:
    """Record the result of one checklist item."""
    items = list(wo.checklist or [])
    if not 0 <= index < len(items):
        raise NotFound(f"work order {wo.id} has no checklist item {index}")
    if wo.status in FINAL_STATES:
        raise Conflict(f"work order {wo.id} is {wo.status}; its checklist is closed")
    clock = dt.datetime.now(dt.UTC)
    when = action_time(at, clock, not_before=wo.created_at, since="the work order was created")
    snap = snapshot(wo)
    items[index] = {
        **items[index],
        "done": done,
        "result": result,
        "by": actor,
        "at": when.isoformat(),
    }
    wo.checklist = items  # a new list, so the JSON column is seen as changed
    wo.updated_at = clock
    recorded(
        session,
        wo,
        action="checklist",
        actor=actor,
        role=role,
        organisation_id=organisation_id,
        before=snap,
        event="workorder.updated",
        change={"checklist_item": index},
        action_at=at and when,
    )
    return wo


# --- on behalf of a caller of the API -----------------------------------------------------------


def visible_scope(who: Principal) -> dict[str, Any]:
    """What a caller may see: a contractor its own organisation's work, a requester its own."""
    return {
        "contractor_id": who.contractor_scope,
        "created_by": who.username if who.role is Role.requester else None,
    }


def asset_visible(session: Session, *, who: Principal, asset_id: str) -> bool:
    """Whether the caller may read an asset at all: a contractor only one its firm has (or had)
    work on, like its work orders (issue 15); every other role any asset."""
    if who.role is not Role.contractor:
        return True
    scope = who.contractor_scope
    return scope is not None and repository.contractor_has_asset_work(session, asset_id, scope)


def visible_asset_ids(session: Session, *, who: Principal) -> set[str] | None:
    """The ids of the assets a contractor may read; None for roles that read every asset."""
    if who.role is not Role.contractor:
        return None
    scope = who.contractor_scope
    return repository.contractor_asset_ids(session, scope) if scope is not None else set()


def visible_query(who: Principal, query: repository.ListQuery) -> repository.ListQuery:
    """A list's filters narrowed to what the caller may see: a contractor asking for another
    contractor's work gets an empty list, a requester only what they raised."""
    scope = visible_scope(who)
    contractor_id = query.contractor_id
    if scope["contractor_id"] is not None:
        if contractor_id is not None and contractor_id != scope["contractor_id"]:
            contractor_id = -1  # another contractor's list is simply empty
        else:
            contractor_id = scope["contractor_id"]
    return dataclasses.replace(query, contractor_id=contractor_id, created_by=scope["created_by"])


def get_visible(session: Session, *, who: Principal, wo_id: int) -> WorkOrder:
    """The work order if the caller may see it; else 404, whether or not it exists."""
    wo = repository.get(session, wo_id, **visible_scope(who))
    if wo is None:
        raise WorkOrderNotFound(wo_id)
    return wo


def refuse_requester(who: Principal) -> None:
    """403 for a requester, who may raise and comment on work but change none of it."""
    if who.role is Role.requester:
        raise Forbidden("a requester cannot change a work order; add a comment instead")


def acting(who: Principal) -> dict[str, Any]:
    """The actor, role and organisation the services record a caller's changes under."""
    return {"actor": who.username, "role": who.role, "organisation_id": who.organisation_id}


def sla_terms(
    session: Session,
    site: sla_service.Policies,
    *,
    priority: str,
    contractor_id: int | None,
    type_: str,
    origin: str | None = None,
) -> dict[str, Any] | None:
    """The SLA policy snapshot a work order of this priority, contractor, type and origin is
    held to under the site's policies: the one place work orders choose it
    (sla.service.choose_policy)."""
    return sla_service.choose_policy(
        site,
        priority=priority,
        contractor_id=contractor_id,
        type_=type_,
        session=session,
        origin=origin,
    )


def raise_by_hand(
    session: Session,
    *,
    who: Principal,
    site: sla_service.Policies,
    title: str,
    description: str = "",
    priority: Priority = Priority.P3,
    asset_id: str | None = None,
    origin: Origin = Origin.manual,
    type_: str = "corrective",
    checklist: list[str] | None = None,
    assignee_id: int | None = None,
    contractor_id: int | None = None,
    at: dt.datetime | None = None,
) -> WorkOrder:
    """A work order raised through the API, under the site's SLA terms, and assigned when it
    names someone. A requester raises a request, and may neither assign it nor set a checklist;
    only admins and engineers assign."""
    if who.role not in CREATORS:
        raise Forbidden(f"role {who.role} cannot create work orders")
    requester = who.role is Role.requester
    if requester and (assignee_id or contractor_id or checklist):
        raise Forbidden("a requester cannot assign work or set a checklist")
    if (assignee_id or contractor_id) and who.role not in (Role.admin, Role.engineer):
        raise Forbidden(f"role {who.role} cannot assign work orders")
    origin = Origin.request if requester else Origin(origin)
    type_ = WorkOrderType.request if requester else type_
    wo = create(
        session,
        title=title,
        description=description,
        priority=priority,
        asset_id=asset_id,
        origin=origin,
        type_=type_,
        checklist=checklist,
        sla_policy=sla_terms(
            session, site, priority=priority, contractor_id=contractor_id, type_=type_
        ),
        at=at,
        **acting(who),
    )
    if assignee_id or contractor_id:
        assign(
            session,
            wo=wo,
            assignee_id=assignee_id,
            contractor_id=contractor_id,
            at=at,
            **acting(who),
        )
    return wo


def report(
    session: Session,
    *,
    site: sla_service.Policies,
    title: str,
    description: str,
    asset_id: str,
    reporter_contact: str | None,
    actor: str,
) -> WorkOrder:
    """A problem reported by someone with no account (the public report page): a P3 request
    under the site's SLA terms for requests."""
    return create(
        session,
        title=title,
        actor=actor,
        description=description,
        priority=Priority.P3,
        asset_id=asset_id,
        origin=Origin.request,
        type_="request",
        reporter_contact=reporter_contact,
        role=actor,
        sla_policy=sla_terms(
            session, site, priority=Priority.P3, contractor_id=None, type_="request"
        ),
    )


def edit(
    session: Session,
    *,
    who: Principal,
    wo_id: int,
    changes: dict[str, Any],
    if_match: str | None,
    site: sla_service.Policies,
    codes: Codes | None = None,
) -> WorkOrder:
    """`update` on behalf of a caller who may see the work order, guarded by If-Match (412);
    a new priority or type puts it under the site's SLA terms for them. A cause or resolution
    code must be one of the site's `codes` when it lists any (422)."""
    wo = get_visible(session, who=who, wo_id=wo_id)
    check_codes(codes, changes)
    check_if_match(if_match, wo.version)
    policy: PolicyChange = KEEP
    if "priority" in changes or "type" in changes:
        policy = sla_terms(
            session,
            site,
            priority=changes.get("priority", wo.priority),
            contractor_id=wo.contractor_id,
            type_=changes.get("type", wo.type),
            origin=wo.origin,
        )
    return update(session, wo=wo, changes=changes, sla_policy=policy, **acting(who))


def move(
    session: Session,
    *,
    who: Principal,
    wo_id: int,
    if_match: str | None,
    target: str,
    note: str = "",
    reason: str | None = None,
    at: dt.datetime | None = None,
    cause_code: str | None = None,
    resolution_code: str | None = None,
    codes: Codes | None = None,
) -> WorkOrder:
    """`change_status` on behalf of a caller who may see the work order, guarded by If-Match;
    a cause or resolution code must be one of the site's `codes` when it lists any (422)."""
    wo = get_visible(session, who=who, wo_id=wo_id)
    check_codes(codes, {"cause_code": cause_code, "resolution_code": resolution_code})
    check_if_match(if_match, wo.version)
    return change_status(
        session,
        wo=wo,
        target=target,
        note=note,
        reason=reason,
        at=at,
        cause_code=cause_code,
        resolution_code=resolution_code,
        **acting(who),
    )


#: Who may take an open, unassigned work order for themselves.
TAKERS = frozenset({Role.technician, Role.engineer, Role.admin})


class AlreadyAssigned(Conflict):
    """Taking a work order that someone (a person or a contractor) already has."""

    error = "already_assigned"


class NotOpen(Conflict):
    """Taking a work order nobody owes work on any more."""

    error = "not_open"


def take(
    session: Session, *, who: Principal, wo_id: int, if_match: str | None, at: dt.datetime | None
) -> WorkOrder:
    """The caller takes an open work order that has neither an assignee nor a contractor: it
    becomes theirs, and moves from new to assigned. Technicians, engineers and admins only
    (403); 409 when it is not open or already someone's; guarded by If-Match; `at` is when it
    happened, bounded like a status change's (action_time)."""
    if who.role not in TAKERS or who.user_id is None:
        raise Forbidden(
            f"role {who.role} cannot take work orders"
            if who.user_id is not None
            else "only a person's account can take a work order"
        )
    wo = get_visible(session, who=who, wo_id=wo_id)
    check_if_match(if_match, wo.version)
    if wo.status not in OPEN_STATES:
        raise NotOpen(f"work order {wo.id} is {wo.status}: only open work can be taken")
    if wo.assignee_id is not None or wo.contractor_id is not None:
        raise AlreadyAssigned(
            f"work order {wo.id} is already assigned",
            detail={"assignee_id": wo.assignee_id, "contractor_id": wo.contractor_id},
        )
    clock = dt.datetime.now(dt.UTC)
    when = status_action_time(session, wo, at=at, now=clock)
    snap = snapshot(wo)
    wo.assignee_id = who.user_id
    wo.updated_at = clock
    data = {"assignee_id": who.user_id}
    session.add(timeline_event(wo, "taken", who.username, "", data, ts=when, received_at=clock))
    if wo.status == S.new:
        wo.status = S.assigned
        moved = {"from": "new", "to": "assigned"}
        session.add(
            timeline_event(wo, "status", who.username, "", moved, ts=when, received_at=clock)
        )
    recorded(
        session,
        wo,
        action="take",
        before=snap,
        event="workorder.assigned",
        change=data,
        now=clock,
        action_at=at and when,
        **acting(who),
    )
    return wo


def hand_over(
    session: Session,
    *,
    who: Principal,
    wo_id: int,
    if_match: str | None,
    assignee_id: int | None,
    contractor_id: int | None,
    at: dt.datetime | None,
    site: sla_service.Policies,
) -> WorkOrder:
    """`assign` on behalf of a caller who may see the work order, guarded by If-Match; a new
    contractor puts it under the site's SLA terms for that contractor."""
    wo = get_visible(session, who=who, wo_id=wo_id)
    check_if_match(if_match, wo.version)
    policy: PolicyChange = KEEP
    if contractor_id != wo.contractor_id:
        policy = sla_terms(
            session,
            site,
            priority=wo.priority,
            contractor_id=contractor_id,
            type_=wo.type,
            origin=wo.origin,
        )
    return assign(
        session,
        wo=wo,
        assignee_id=assignee_id,
        contractor_id=contractor_id,
        sla_policy=policy,
        at=at,
        **acting(who),
    )


#: The office: who reopens finished work and assigns many work orders at once.
OFFICE_ROLES = frozenset({Role.admin, Role.engineer})


class NotReopenable(Conflict):
    """Reopening a work order that is not finished (closed, verified or cancelled)."""

    error = "not_reopenable"


def reopen_target(wo: WorkOrder) -> Status:
    """Where a reopen takes a finished work order: back to work (in_progress) after a close or
    a verify; after a cancel, to assigned when someone still has it, else to new."""
    if wo.status != S.cancelled:
        return S.in_progress
    return S.assigned if (wo.assignee_id or wo.contractor_id) else S.new


def reopen(
    session: Session,
    *,
    who: Principal,
    wo_id: int,
    if_match: str | None,
    note: str = "",
    at: dt.datetime | None = None,
) -> WorkOrder:
    """The office reopens a closed, verified or cancelled work order (reopen_target says
    where to); 403 for other roles, 409 when it is not finished, guarded by If-Match."""
    if who.role not in OFFICE_ROLES:
        raise Forbidden(f"role {who.role} cannot reopen work orders")
    wo = get_visible(session, who=who, wo_id=wo_id)
    check_if_match(if_match, wo.version)
    if wo.status not in FINAL_STATES:
        raise NotReopenable(
            f"work order {wo.id} is {wo.status}: only closed, verified or cancelled work reopens",
            detail={"status": wo.status},
        )
    return change_status(
        session, wo=wo, target=reopen_target(wo), note=note, at=at, reopen=True, **acting(who)
    )


@dataclasses.dataclass(frozen=True)
class BulkOutcome:
    """What became of one work order of a bulk assignment: done, or refused and why."""

    id: int
    ok: bool
    status_code: int = 200
    error: str | None = None
    message: str | None = None
    version: int | None = None


#: The most work orders one bulk assignment takes.
BULK_MAX = 200


def assign_many(
    session: Session,
    *,
    who: Principal,
    wo_ids: list[int],
    assignee_id: int | None,
    contractor_id: int | None,
    site: sla_service.Policies,
) -> list[BulkOutcome]:
    """`hand_over` each work order in turn, each in a savepoint of its own: one refused (not
    visible, finished, an assignee who cannot take it) is rolled back and reported with its
    reason, the others stand. Office roles only (403)."""
    if who.role not in OFFICE_ROLES:
        raise Forbidden(f"role {who.role} cannot assign work orders in bulk")
    out: list[BulkOutcome] = []
    for wo_id in dict.fromkeys(wo_ids):  # once each, in the order given
        try:
            with session.begin_nested():
                wo = hand_over(
                    session,
                    who=who,
                    wo_id=wo_id,
                    if_match=None,
                    assignee_id=assignee_id,
                    contractor_id=contractor_id,
                    at=None,
                    site=site,
                )
                out.append(BulkOutcome(id=wo_id, ok=True, version=wo.version))
        except AppError as exc:
            out.append(
                BulkOutcome(
                    id=wo_id,
                    ok=False,
                    status_code=exc.status_code,
                    error=exc.error,
                    message=exc.message,
                )
            )
    return out


def add_comment(
    session: Session, *, who: Principal, wo_id: int, text: str, at: dt.datetime | None
) -> WorkOrderEvent:
    """`comment` on behalf of a caller who may see the work order (no If-Match: comments never
    conflict)."""
    wo = get_visible(session, who=who, wo_id=wo_id)
    return comment(session, wo=wo, text=text, at=at, **acting(who))


def record_check(
    session: Session,
    *,
    who: Principal,
    wo_id: int,
    if_match: str | None,
    index: int,
    done: bool | None,
    result: str,
    at: dt.datetime | None,
) -> WorkOrder:
    """`check_item` on behalf of a caller who may see the work order, guarded by If-Match;
    requesters are refused before the work order is looked at."""
    refuse_requester(who)
    wo = get_visible(session, who=who, wo_id=wo_id)
    check_if_match(if_match, wo.version)
    return check_item(session, wo=wo, index=index, done=done, result=result, at=at, **acting(who))


def audit_trail(session: Session, *, who: Principal, wo_id: int, limit: int) -> list[AuditEntry]:
    """Who changed what on a work order the caller may see, oldest first; not for requesters."""
    if who.role is Role.requester:
        raise Forbidden("requesters cannot read the audit log")
    get_visible(session, who=who, wo_id=wo_id)
    return audit.entries(session, entity="work_order", entity_id=wo_id, limit=limit)


#: Alert states in which a fix is not proven: the condition is back, or nothing says it is gone.
UNPROVEN = frozenset({"pending", "firing", "nodata", "error"})


def unproven_alert(session: Session, wo: WorkOrder) -> Alert | None:
    """The live alert of an alert work order's rule and asset that keeps its fix from being
    proven (pending, firing, nodata or error); None when there is none."""
    if wo.origin != Origin.alert or not wo.rule_id or not wo.asset_id:
        return None
    live = alerts_repo.live_for(session, wo.rule_id, wo.asset_id)
    return live if live is not None and live.state in UNPROVEN else None


def proof_window(wo: WorkOrder) -> float:
    """Seconds a resolve of this alert work order waits for its alert to clear: the rule's
    proof_window, recorded in the trigger when the work order was opened."""
    value = (wo.trigger or {}).get("proof_window")
    return float(value) if value else DEFAULT_PROOF_WINDOW


def span(seconds: float) -> str:
    """A duration in words for a timeline entry: '45 s', '3 min', '1 h 30 min'."""
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        m, rest = divmod(s, 60)
        return f"{m} min" if rest == 0 or m >= 10 else f"{m} min {rest} s"
    h, rest = divmod(round(s / 60), 60)
    return f"{h} h {rest} min" if rest else f"{h} h"


def await_proof(
    session: Session, wo: WorkOrder, *, at: dt.datetime, received_at: dt.datetime | None = None
) -> None:
    """A resolve at `at` while the work order's alert still fires: the work order waits, resolved,
    for proof that the fix held. The alert clearing within the rule's proof_window ends the wait
    (workorders.orders.proof); otherwise the proof job reopens it."""
    alert = unproven_alert(session, wo)
    if alert is None:
        wo.awaiting_proof, wo.proof_until = False, None
        return
    window = proof_window(wo)
    wo.awaiting_proof = True
    wo.proof_until = at + dt.timedelta(seconds=window)
    message = (
        f"resolved while the alert {wo.rule_id} is still {alert.state}: the fix is proven when "
        f"it clears; if it is still {alert.state} {span(window)} after the resolve, the work "
        "order reopens"
    )
    data = {
        "alert_id": alert.id,
        "alert_state": alert.state,
        "proof_window": window,
        "proof_until": wo.proof_until.isoformat(),
    }
    session.add(
        timeline_event(
            wo, "awaiting_proof", "alerts", message, data, ts=at, received_at=received_at
        )
    )


class FixNotProven(Conflict):
    """Verifying an alert's work order before the signal has stayed back in range long enough."""


def _check_fix_held(session: Session, wo: WorkOrder, now: dt.datetime) -> None:
    """An alert work order is verified only once its signal has been back in range for the
    rule's verify_for (recorded in the trigger when the work order was opened)."""
    if wo.origin != Origin.alert or not wo.rule_id or not wo.asset_id:
        return
    verify_for = float((wo.trigger or {}).get("verify_for") or 0)
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


def priority_rank(priority: str) -> int:
    """0 for P1, the most urgent, and up."""
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
                name_zh=a.name_zh,
                brick_class=a.brick_class,
                building_id=ref.building.id,
                building_name=ref.building.name,
                building_name_zh=ref.building.name_zh,
                location=ref.location,
                location_zh=ref.location_zh,
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
