"""A fix that did not hold: an alert work order resolved while its alert still fired.

Such a resolve leaves the work order resolved with ``awaiting_proof`` set and ``proof_until``
the resolve's own time plus the rule's ``proof_window`` (``service.await_proof``). Then:

- The alert clears (``cleared``, from workorders.intake when the engine resolves the alert) by
  ``proof_until``: the fix held. The wait ends (timeline ``proof_held``) and the work order goes
  on as any resolved one: it may be verified once the signal has stayed back for ``verify_for``.
- It is still firing at ``proof_until``: the fix did not hold. The work order reopens to
  in_progress (timeline ``reopened`` saying why, and a ``status`` entry whose reason is
  ``FIX_NOT_HELD``), stamped at ``proof_until`` whenever it is noticed: by the proof job
  (``sweep``, every ``EVERY`` seconds and once at start), or by the alert clearing too late.
  The resolution clock then counts the time since the resolve as if it had never happened
  (workorders.sla.clock.FIX_NOT_HELD), and a breach that fell in it is recorded.

Everything lives in the work order's row, so a restart resumes where it stopped. The job takes
each work order in its own transaction, re-reads it under a lock (a row lock on PostgreSQL, the
write lock on SQLite) and acts only if it is still waiting and due: two processes running the
job at once take turns, and the second finds nothing left to do.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from alerts import repository as alerts_repo
from core import audit, jobs
from core.db import Database, begin_writing, utcnow
from workorders.orders import repository
from workorders.orders.models import Status, WorkOrder
from workorders.orders.service import (
    proof_window,
    recorded,
    snapshot,
    span,
    summary,
    timeline_event,
    unproven_alert,
)
from workorders.sla.clock import FIX_NOT_HELD
from workorders.webhooks import service as webhooks

log = logging.getLogger(__name__)

#: Who the timeline names for what the proof decides: the alert's signal decided it.
ACTOR = "alerts"
JOB_ID = "workorders.proof"
#: How often the job looks for proof windows that are over (seconds).
EVERY = 15.0


def cleared(session: Session, wo_id: int, *, at: dt.datetime) -> None:
    """The work order's alert cleared at `at`: within the proof window the fix held; after it,
    the fix did not hold (the job had not got to it yet) and the work order reopens."""
    first = repository.get_bare(session, wo_id)
    if first is None or not first.awaiting_proof:
        return
    wo = repository.lock_fresh(session, wo_id)
    if wo is None or not wo.awaiting_proof or wo.status != Status.resolved:
        return
    if wo.proof_until is None or at <= wo.proof_until:
        held(session, wo, at=at)
    else:
        reopen(session, wo, now=at, cleared_at=at)


def held(session: Session, wo: WorkOrder, *, at: dt.datetime) -> None:
    """The fix held: the alert cleared at `at`, within the proof window. The work order stays
    resolved and no longer waits."""
    until = wo.proof_until
    after = (at - wo.resolved_at).total_seconds() if wo.resolved_at else None
    wo.awaiting_proof, wo.proof_until = False, None
    wo.updated_at = max(wo.updated_at, at)
    words = f" {span(max(after, 0.0))} after the resolve" if after is not None else ""
    session.add(
        timeline_event(
            wo,
            "proof_held",
            ACTOR,
            f"fix held: {wo.rule_id} back in range{words}",
            {"rule": wo.rule_id, "cleared_at": at.isoformat(), "after_seconds": after},
            ts=at,
        )
    )
    session.flush()
    audit.record(
        session,
        actor=ACTOR,
        actor_role="system",
        entity="work_order",
        entity_id=wo.id,
        action="proof",
        before={"awaiting_proof": True, "proof_until": until.isoformat() if until else None},
        after={"awaiting_proof": False, "proof_until": None},
        version=wo.version,
    )
    webhooks.enqueue(
        session,
        event="workorder.updated",
        payload={"workorder": summary(wo), "change": {"awaiting_proof": False, "held": True}},
    )


def reopen(
    session: Session,
    wo: WorkOrder,
    *,
    now: dt.datetime,
    alert_state: str = "firing",
    cleared_at: dt.datetime | None = None,
) -> None:
    """The fix did not hold: the alert was still `alert_state` when the proof window ended.
    Back to in_progress, stamped at proof_until, with the resolve taken back for the
    resolution clock; `cleared_at` when the alert cleared after the window."""
    assert wo.proof_until is not None
    until = wo.proof_until
    window = proof_window(wo)
    resolved_at = wo.resolved_at
    snap = snapshot(wo)
    wo.status = Status.in_progress
    wo.resolved_at = None
    wo.awaiting_proof, wo.proof_until = False, None
    wo.updated_at = max(wo.updated_at, now)
    waited = (until - resolved_at).total_seconds() if resolved_at else window
    why = f"the alert was still {alert_state} {span(waited)} after the resolve"
    if cleared_at is not None and resolved_at is not None:
        why += f" (it cleared only {span((cleared_at - resolved_at).total_seconds())} after)"
    why += ", so the fix did not hold"
    data = {
        "reason": FIX_NOT_HELD,
        "rule": wo.rule_id,
        "alert_state": alert_state,
        "proof_window": window,
        "resolved_at": resolved_at.isoformat() if resolved_at else None,
        "cleared_at": cleared_at.isoformat() if cleared_at else None,
    }
    session.add(timeline_event(wo, "reopened", ACTOR, why, data, ts=until))
    change = {"from": str(Status.resolved), "to": str(Status.in_progress), "reason": FIX_NOT_HELD}
    session.add(timeline_event(wo, "status", ACTOR, "the fix did not hold", change, ts=until))
    recorded(
        session,
        wo,
        action="status",
        actor=ACTOR,
        role="system",
        before=snap,
        event="workorder.status",
        change={**change, "at": until.isoformat()},
        now=now,
    )


def decide(session: Session, wo: WorkOrder, *, now: dt.datetime) -> str | None:
    """Settle one work order whose proof window is over by now: 'reopened' or 'held' (the
    alert cleared in time without the work order being told), None when nothing was due."""
    if not wo.awaiting_proof or wo.status != Status.resolved or wo.proof_until is None:
        return None
    if wo.proof_until > now:
        return None
    alert = unproven_alert(session, wo)
    if alert is not None:
        reopen(session, wo, now=now, alert_state=alert.state)
        return "reopened"
    # Not live now: when did the signal last clear? (A pending alert that closed, or a firing
    # one the work order was not linked to, ends without telling the intake.)
    last = None
    if wo.rule_id and wo.asset_id:
        newest = alerts_repo.list_(session, rule_id=wo.rule_id, asset_id=wo.asset_id, limit=1)
        last = newest[0].resolved_at if newest else None
    if last is not None and last > wo.proof_until:
        reopen(session, wo, now=now, cleared_at=last)
        return "reopened"
    at = wo.proof_until if last is None else max(last, wo.resolved_at or last)
    held(session, wo, at=at)
    return "held"


def sweep(db: Database, *, now: dt.datetime | None = None) -> dict[int, str]:
    """The job: settle every work order whose proof window is over, each in its own unit of
    work; returns what it did, by work-order id."""
    now = now or utcnow()
    with db.session() as s:
        due = repository.proof_due(s, now)
    done: dict[int, str] = {}
    for wo_id in due:
        try:
            with db.session() as s:
                begin_writing(s)
                wo = repository.lock_fresh(s, wo_id)
                outcome = decide(s, wo, now=now) if wo is not None else None
        except StaleDataError:
            log.info("proof: work order %s changed meanwhile; left for the next run", wo_id)
            continue
        except Exception:
            log.exception("proof: work order %s could not be settled", wo_id)
            continue
        if outcome is not None:
            log.info("proof: work order %s %s", wo_id, outcome)
            done[wo_id] = outcome
    return done


def add_jobs(
    scheduler: BaseScheduler,
    *,
    db: Database,
    clock: Callable[[], dt.datetime] = utcnow,
) -> None:
    """Declare the proof job on an APScheduler scheduler: every EVERY seconds and once at start;
    missed runs coalesce into one (each run settles everything that is due)."""
    jobs.every(
        scheduler,
        lambda: sweep(db, now=clock()),
        seconds=EVERY,
        job_id=JOB_ID,
        name="Work orders: reopen fixes that did not hold",
    )
