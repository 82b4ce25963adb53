"""SLA upkeep for work orders: choosing a work order's policy, recomputing its clocks from its
status history, recording warnings and breaches, and the periodic sweep that finds clocks
crossing a threshold while nobody touches the work order.

The clocks themselves are the pure `workorders.sla.clock.compute_sla`. This module stores its result
in the work order's SLA columns and turns newly crossed thresholds into timeline entries
(kind 'sla_warning' or 'sla_breach', data {'clock': 'response' | 'resolution', ...}, stamped at
the instant the threshold was crossed), notices for the site's notification targets
(workorders.sla.notify) and webhook deliveries ('workorder.sla_warning', 'workorder.sla_breach'),
all in the transaction that found them.

Versions
    WorkOrder.version is the mapper's version_id_col, used for ETag/If-Match. A flush of a
    changed WorkOrder object always increments it, so setting the SLA columns as attributes
    would make a technician's If-Match stale every time the sweep touched the work order.
    `refresh` therefore writes them with one ORM-enabled UPDATE statement, which bypasses the
    unit of work and so neither bumps nor checks the version (checked: SQLAlchemy 2.1 emits
    ``UPDATE work_orders SET ... WHERE id = ? AND version = ?`` with no version in SET). The
    version check is in our WHERE clause: if someone changed the work order after we read it,
    the statement matches no row and `refresh` raises StaleDataError (409 in a request; the
    sweep skips that work order, whose own change has refreshed it). The in-memory object is
    then given the new values as committed state, so nothing is flushed twice. A refresh
    inside a status change flushes the change first (one version bump, for the change itself).

Provisional clocks
    A clock that needs a holiday year nobody has loaded is computed with that year's weekdays as
    working days and stored with the year in `sla_provisional`: its due time shows (marked
    provisional) and sorts, but no warning or breach is recorded from it. Once the year is
    loaded, `recompute` (at start, or `plantroom sla recompute`) recomputes those work orders
    and records each threshold the real calendar says was crossed, at its true instant.

Withdrawn events
    Offline changes count when they happened, so a change synced late can show that a
    threshold already recorded was never crossed (the crew acknowledged on time, offline).
    The recorded entry stays on the timeline (a webhook went out for it) and an 'sla_withdrawn'
    entry is added; the stored breach flags follow the recomputed clocks.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from config.site import SiteConfig
from core import audit, jobs
from core.db import Database, utcnow
from workorders.orders.models import OPEN_STATES, Status, WorkOrder, WorkOrderEvent, WorkOrderType
from workorders.sla import notify as sla_notify
from workorders.sla import repository as sla_repository
from workorders.sla.clock import (
    ClockName,
    NoSlaPolicy,
    SlaEvent,
    SlaPolicy,
    SlaState,
    StatusChange,
    compute_sla,
    policy_for,
)
from workorders.sla.config import SlaPolicyConfig, SlaSection, resolve_policies
from workorders.webhooks import service as webhooks

log = logging.getLogger(__name__)

ACTOR = "sla"
JOB_ID = "sla.sweep"
#: How often the sweep runs.
SWEEP_EVERY = 60.0
#: The sweep reads open work orders whose stored due time is at most this far ahead. A warning
#: comes (1 - warn_at) of the target before the due time; 45 days of wall time covers that for
#: any target up to several weeks, even across the Spring Festival. A longer one is warned late,
#: never lost: the next status change or the breach itself records it.
SWEEP_HORIZON = dt.timedelta(days=45)
#: Columns `refresh` keeps.
SLA_COLUMNS = (
    "response_due_at",
    "resolution_due_at",
    "response_met_at",
    "response_breached",
    "resolution_breached",
    "sla_paused_seconds",
    "sla_provisional",
)
Policies = SiteConfig | SlaSection | Sequence[SlaPolicy]
_Key = tuple[str, str]  # (kind, clock)


# --- choosing a policy --------------------------------------------------------------------------


def _configured(source: Policies) -> Sequence[SlaPolicy]:
    if isinstance(source, SiteConfig):
        return source.doc.sla.policies
    if isinstance(source, SlaSection):
        return source.policies
    return source


def choose_policy(
    site_or_policies: Policies,
    *,
    priority: str,
    contractor_id: int | None,
    type_: str,
    session: Session | None = None,
    origin: str | None = None,
) -> dict[str, Any] | None:
    """The SLA policy snapshot (JSON-safe) to store in a work order's sla_policy, or None.

    None for preventive work and for anything a PM schedule opened (origin "pm": a statutory
    inspection too follows its schedule, not an SLA), when no policy covers
    the priority, and for a policy with neither target. The contractor's own policy for the
    priority wins over the general one. Policies in site.yaml name their contractor; `session`
    is needed to turn the name into the organisation id when a contractor is given.

    Call it at creation and again when the priority or the contractor changes, then `refresh`:
    the clocks always run from the work order's creation, under the terms stored last.
    """
    if type_ == WorkOrderType.preventive or origin == "pm":
        return None
    configured = [p for p in _configured(site_or_policies) if p.priority == priority]
    names = {p.contractor for p in configured if isinstance(p, SlaPolicyConfig) and p.contractor}
    ids: dict[str, int] = {}
    if names and contractor_id is not None:
        if session is None:
            raise ValueError("choose_policy needs a session to look up contractors by name")
        ids = sla_repository.organisation_ids(session, names)
    policy = _pick(configured, ids, priority=priority, contractor_id=contractor_id)
    return None if policy is None else policy.model_dump(mode="json")


def _pick(
    configured: Sequence[SlaPolicy],
    ids: dict[str, int],
    *,
    priority: str,
    contractor_id: int | None,
) -> SlaPolicy | None:
    """The policy for this priority and contractor among the configured ones (contractors'
    names resolved through ids); None when none covers it or it sets neither target."""
    try:
        policy = policy_for(resolve_policies(configured, ids), priority, contractor_id)
    except NoSlaPolicy:
        return None
    if policy.response is None and policy.resolution is None:
        return None
    return policy


class UnknownContractor(LookupError):
    """A contractor name the site's ``contractors:`` section does not list."""


def policy_for_names(
    site: SiteConfig, *, priority: str, contractor: str | None = None
) -> SlaPolicy | None:
    """The policy `choose_policy` would pick for corrective work of this priority and contractor
    (by name, as site.yaml writes it), without a database; None when none covers it."""
    names = sorted({c.name for c in site.doc.contractors})
    if contractor is not None and contractor not in names:
        known = ", ".join(names) or "none"
        raise UnknownContractor(f"unknown contractor {contractor!r} (site.yaml lists: {known})")
    ids = {name: i for i, name in enumerate(names, 1)}
    configured = [p for p in site.doc.sla.policies if p.priority == priority]
    return _pick(configured, ids, priority=priority, contractor_id=ids.get(contractor or ""))


def due_times(
    site: SiteConfig, *, opened: dt.datetime, priority: str, contractor: str | None = None
) -> tuple[SlaPolicy | None, SlaState | None]:
    """The policy and both clocks of a work order opened at `opened` and not touched since, on
    the site's holiday table: what the service stores as its due times."""
    policy = policy_for_names(site, priority=priority, contractor=contractor)
    if policy is None:
        return None, None
    st = compute_sla(
        created_at=opened,
        policy=policy,
        changes=[],
        now=opened,
        holidays=site.doc.calendar.holidays,
    )
    return policy, st


def sync_contractors(session: Session, site: SiteConfig) -> int:
    """Mirror the site's ``contractors:`` into organisations (kind 'contractor', monthly fee);
    returns how many. Organisations the file does not name (made with the CLI) are left alone."""
    for c in site.doc.contractors:
        sla_repository.upsert_contractor(session, name=c.name, monthly_fee=c.monthly_fee)
    return len(site.doc.contractors)


# --- recomputing --------------------------------------------------------------------------------


def status_changes(events: Iterable[WorkOrderEvent]) -> list[StatusChange]:
    """The engine's status changes from status timeline entries (see sla_repository)."""
    out = []
    for ev in events:
        data = ev.data or {}
        if data.get("to"):
            out.append(StatusChange(ev.ts, data.get("from", ""), data["to"], data.get("reason")))
    return out


def policy_of(wo: WorkOrder) -> SlaPolicy | None:
    """The policy stored on a work order, or None when it has no SLA."""
    return SlaPolicy.model_validate(wo.sla_policy) if wo.sla_policy else None


def state(session: Session, wo: WorkOrder, *, now: dt.datetime) -> SlaState | None:
    """Both clocks of a work order as of now (None without a policy); reads only its status
    changes. A clock that needs a holiday year nobody knows comes back provisional."""
    policy = policy_of(wo)
    if policy is None:
        return None
    changes = status_changes(sla_repository.status_events(session, wo.id))
    return compute_sla(created_at=wo.created_at, policy=policy, changes=changes, now=now)


def provisional_reason(stored: dict[str, list[int]] | None) -> str | None:
    """Words for a stored `sla_provisional`: which clock waits for which holiday year."""
    if not stored:
        return None
    parts = [
        f"{which} due time provisional until the {', '.join(map(str, years))} holiday "
        "arrangement is loaded"
        for which, years in sorted(stored.items(), key=lambda kv: kv[0] != "response")
    ]
    return "; ".join(parts)


def _columns(st: SlaState | None) -> dict[str, Any]:
    if st is None:
        return {
            "response_due_at": None,
            "resolution_due_at": None,
            "response_met_at": None,
            "response_breached": False,
            "resolution_breached": False,
            "sla_paused_seconds": 0.0,
            "sla_provisional": None,
        }
    res, rsp = st.resolution, st.response
    provisional = {c.which: list(c.missing_years) for c in (rsp, res) if c and c.provisional}
    exact = {(e.kind, e.which) for e in st.events if not e.provisional}
    return {
        "response_due_at": rsp.due_at if rsp else None,
        "resolution_due_at": res.due_at if res else None,
        "response_met_at": rsp.met_at if rsp else None,
        # stored only once certain: a breach at a provisional instant is not recorded
        "response_breached": ("breach", "response") in exact,
        "resolution_breached": ("breach", "resolution") in exact,
        "sla_paused_seconds": res.paused_seconds if res else 0.0,
        "sla_provisional": provisional or None,
    }


def recorded(events: Iterable[WorkOrderEvent]) -> dict[_Key, dt.datetime]:
    """The warnings and breaches on a timeline that still stand (not withdrawn since), with
    the instants they were stamped at."""
    out: dict[_Key, dt.datetime] = {}
    for ev in events:
        data = ev.data or {}
        clock = str(data.get("clock", ""))
        if ev.kind in ("sla_warning", "sla_breach"):
            out[(ev.kind.removeprefix("sla_"), clock)] = ev.ts
        elif ev.kind == "sla_withdrawn":
            out.pop((str(data.get("kind", "")), clock), None)
    return out


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in values.items()}


def _label(which: ClockName, policy: SlaPolicy) -> str:
    target = policy.response if which == "response" else policy.resolution
    hours = (target or 0) / 3600
    span = f"{hours * 60:g} min" if hours < 1 else f"{hours:g} h"
    return f"{which} target {span} ({policy.name}, {policy.calendar})"


def _message(e: SlaEvent, policy: SlaPolicy, due: dt.datetime | None) -> str:
    label = _label(e.which, policy)
    tz = ZoneInfo(policy.timezone)
    if e.kind == "warning":
        when = f"; due {due.astimezone(tz):%Y-%m-%d %H:%M}" if due else ""
        return f"SLA warning: {policy.warn_at:.0%} of the {label} used{when}"
    return f"SLA breach: the {label} was missed at {e.at.astimezone(tz):%Y-%m-%d %H:%M}"


def refresh(session: Session, wo: WorkOrder, *, now: dt.datetime) -> list[SlaEvent]:
    """Recompute a work order's clocks from its status history as of now, store them, and record
    each warning or breach not yet on its timeline; returns the new ones.

    Call it after every status change (with the real time, not the action's own `at`) and after
    choose_policy. Writes the SLA columns without bumping the version; raises StaleDataError if
    the work order changed underneath. A clock that needs a holiday year nobody knows is stored
    provisional, and a threshold whose instant rests on such a year is not recorded yet.
    """
    session.flush()  # a pending change of the caller first: its status event, its version bump
    policy = policy_of(wo)
    st = state(session, wo, now=now)
    values = _columns(st)
    before = {k: getattr(wo, k) for k in SLA_COLUMNS}
    if values != before:
        if not sla_repository.update_sla_columns(session, wo.id, wo.version, values):
            raise StaleDataError(f"work order {wo.id} changed while its SLA was recomputed")
        for key, value in values.items():
            set_committed_value(wo, key, value)
        old, new = audit.diff(_plain(before), _plain(values))
        audit.record(
            session,
            actor=ACTOR,
            actor_role="system",
            entity="work_order",
            entity_id=wo.id,
            action="sla",
            before=old,
            after=new,
            version=wo.version,
        )
    standing = recorded(sla_repository.sla_events_of(session, [wo.id]).get(wo.id, []))
    crossed = {(e.kind, e.which): e for e in st.events} if st is not None else {}
    fresh = [e for key, e in crossed.items() if key not in standing and not e.provisional]
    for e in fresh:
        if policy is not None:
            _record(session, wo, policy, e, values[f"{e.which}_due_at"])
    for (kind, clock), ts in standing.items():
        # Only what `now` can judge: an entry stamped after it is beyond this computation.
        if (kind, clock) not in crossed and ts <= now:
            session.add(
                _timeline(
                    wo,
                    "sla_withdrawn",
                    f"SLA {clock} {kind} withdrawn: recomputed from the status history (changes "
                    "synced late, or new terms), the threshold was not crossed",
                    {"clock": clock, "kind": kind},
                    now,
                )
            )
    return sorted(fresh, key=lambda e: (e.at, e.which != "response", e.kind != "warning"))


def _timeline(
    wo: WorkOrder, kind: str, message: str, data: dict[str, Any], at: dt.datetime
) -> WorkOrderEvent:
    return WorkOrderEvent(
        workorder_id=wo.id, kind=kind, actor=ACTOR, message=message, data=data, ts=at
    )


def _record(
    session: Session, wo: WorkOrder, policy: SlaPolicy, e: SlaEvent, due: dt.datetime | None
) -> None:
    data = {
        "clock": e.which,
        "policy": policy.name,
        "due_at": due.isoformat() if due else None,
    }
    message = _message(e, policy, due)
    session.add(_timeline(wo, f"sla_{e.kind}", message, data, e.at))
    sla_notify.tell_sla_event(
        session, wo=wo, kind=f"sla_{e.kind}", message=message, data=data, at=e.at
    )
    webhooks.enqueue(
        session,
        event=f"workorder.sla_{e.kind}",
        payload={
            "workorder_id": wo.id,
            "title": wo.title,
            "priority": wo.priority,
            "contractor_id": wo.contractor_id,
            "clock": e.which,
            "at": e.at.isoformat(),
            **data,
        },
    )


# --- a holiday year becomes known -----------------------------------------------------------------


@dataclass
class Recomputed:
    """What `recompute` did."""

    #: Work orders recomputed.
    work_orders: int = 0
    #: Warnings and breaches recorded, by work order, each at its true instant.
    events: list[tuple[int, SlaEvent]] = field(default_factory=list)
    #: Work orders still provisional afterwards (their year is still unknown).
    still_provisional: int = 0
    #: (contractor id, YYYY-MM) of every month a stored due time moved out of or into.
    months: set[tuple[int, str]] = field(default_factory=set)


def recompute(
    db: Database,
    *,
    now: dt.datetime,
    timezone: str,
    everything: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Recomputed:
    """Recompute the stored clocks of the provisional work orders (with `everything`, of every
    work order with an SLA) on the installed holiday table, each in its own unit of work:
    due times follow the real calendar, thresholds it says were crossed are recorded at their
    true instants, and ones it says were not are withdrawn."""
    tz = ZoneInfo(timezone)
    with db.session() as s:
        ids = sla_repository.recompute_candidates(s, everything=everything)
    out = Recomputed()
    for i, wo_id in enumerate(ids, 1):
        try:
            with db.session() as s:
                wo = sla_repository.work_order(s, wo_id)
                if wo is None:
                    continue
                before = (wo.response_due_at, wo.resolution_due_at)
                fresh = refresh(s, wo, now=now)
                after = (wo.response_due_at, wo.resolution_due_at)
                out.work_orders += 1
                out.events += [(wo_id, e) for e in fresh]
                out.still_provisional += wo.sla_provisional is not None
                if wo.contractor_id is not None and before != after:
                    out.months |= {
                        (wo.contractor_id, f"{t.astimezone(tz):%Y-%m}")
                        for t in (*before, *after)
                        if t is not None
                    }
        except StaleDataError:
            log.info(
                "SLA recompute: work order %s changed meanwhile; its change refreshed it", wo_id
            )
        if progress is not None:
            progress(i, len(ids))
    return out


# --- the sweep ----------------------------------------------------------------------------------


def _crossed_by_now(wo: WorkOrder, now: dt.datetime) -> set[_Key] | None:
    """The thresholds the stored clocks say are crossed by now; None: never computed."""
    if wo.response_due_at is None and wo.resolution_due_at is None:
        return None
    policy = policy_of(wo)
    if policy is None:
        return set()
    out: set[_Key] = set()
    clocks: list[tuple[ClockName, float | None, dt.datetime | None, bool]] = [
        (
            "response",
            policy.response,
            wo.response_due_at,
            wo.status in (Status.new, Status.assigned)
            and wo.response_met_at is None
            and not wo.response_breached,
        ),
        (
            "resolution",
            policy.resolution,
            wo.resolution_due_at,
            wo.status in OPEN_STATES and wo.status != Status.on_hold and not wo.resolution_breached,
        ),
    ]
    provisional = wo.sla_provisional or {}
    for which, target, due, running in clocks:
        if not running or target is None or due is None or which in provisional:
            continue  # a provisional clock records nothing until its year is loaded
        if due < now:
            out |= {("warning", which), ("breach", which)}
            continue
        gap = target - round(target * policy.warn_at, 6)
        # 1 s of slack for rounding: a refresh too early is a no-op, one too late is a late
        # warning.
        if policy.work_calendar.working_seconds(now, due, set()) <= gap + 1:
            out.add(("warning", which))
    return out


def sweep(db: Database, *, now: dt.datetime | None = None) -> int:
    """The periodic job: refresh each open work order whose stored clocks have crossed a
    threshold not yet on its timeline, each in its own unit of work. Returns how many warnings
    and breaches it recorded (workorders.sla.notify tells the site's targets about them)."""
    now = now or utcnow()
    with db.session() as s:
        todo: list[int] = []
        candidates = sla_repository.sweep_candidates(s, now + SWEEP_HORIZON)
        due: dict[int, set[_Key] | None] = {}
        for wo in candidates:
            try:
                due[wo.id] = _crossed_by_now(wo, now)
            except Exception:  # a broken snapshot
                log.exception("SLA sweep: cannot read the clocks of work order %s", wo.id)
        ids = [i for i, keys in due.items() if keys is None or keys]
        standing = sla_repository.sla_events_of(s, ids)
        for wo_id in ids:
            keys = due[wo_id]
            if keys is None or keys - set(recorded(standing.get(wo_id, []))):
                todo.append(wo_id)
    n = 0
    for wo_id in todo:
        try:
            with db.session() as s:
                found = sla_repository.work_order(s, wo_id)
                if found is None:
                    continue
                fresh = refresh(s, found, now=now)
        except StaleDataError:
            log.info("SLA sweep: work order %s changed meanwhile; its change refreshed it", wo_id)
            continue
        except Exception:
            log.exception("SLA sweep: work order %s could not be refreshed", wo_id)
            continue
        n += len(fresh)
    return n


def add_jobs(
    scheduler: BaseScheduler,
    *,
    db: Database,
    clock: Callable[[], dt.datetime] = utcnow,
) -> None:
    """Declare the SLA sweep on an APScheduler scheduler: every SWEEP_EVERY seconds and once
    at start; missed runs coalesce into one (a sweep catches up by itself)."""
    jobs.every(
        scheduler,
        lambda: sweep(db, now=clock()),
        seconds=SWEEP_EVERY,
        job_id=JOB_ID,
        name="SLA: record warnings and breaches",
    )
