"""A fix that did not hold (issue 14, item 5), on SQLite and PostgreSQL: an alert work order
resolved while its alert still fires waits for proof; the alert clearing within the rule's
proof_window proves the fix; otherwise the proof job (or the alert clearing too late) reopens it,
and the resolution clock counts the time since the resolve as if the resolve never happened.

The demo's pump-overcurrent rule: above 26 A for 20 s, clears at 24 A, P2 (resolution 24 h round
the clock), verify_for 10 min, proof_window 3 min. Times are T0 + seconds; nothing reads the
clock.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from pydantic import TypeAdapter
from sqlalchemy import select

from alerts.engine import AlertEngine
from alerts.rules import RuleConfig
from alerts.rules.base import DEFAULT_PROOF_WINDOW
from collectors.readings import Quality, Reading
from config.site import SiteConfig
from core.db import Database
from plantroom.scheduler import WorkOrderServices
from plantroom.wiring import alert_engine
from workorders.orders import proof, repository, service
from workorders.orders.models import Priority, WorkOrder, WorkOrderEvent
from workorders.sla import service as sla_service
from workorders.sla.clock import FIX_NOT_HELD, SlaPolicy, StatusChange, compute_sla

#: Monday 2 March 2026, 09:00 in Shanghai.
T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
H = 3600.0


def t(seconds: float) -> dt.datetime:
    """T0 + seconds."""
    return T0 + dt.timedelta(seconds=seconds)


def amps(seconds: float, value: float) -> Reading:
    """A motor-current reading of pump 1 at T0 + seconds."""
    return Reading(t(seconds).timestamp(), "pump-1", "pump-1-drive", "motor_current", value, "A",
                   Quality.good)  # fmt: skip


def overcurrent(site: SiteConfig) -> list[RuleConfig]:
    """The demo's pump-overcurrent rule alone."""
    return [r for r in site.doc.rules if r.id == "pump-overcurrent"]


@pytest.fixture
def engine(demo_site: SiteConfig, db: Database) -> AlertEngine:
    return alert_engine(demo_site, db, overcurrent(demo_site))


def fired(engine: AlertEngine, db: Database) -> int:
    """Pump 1 over the limit from T0, firing at T0 + 20 s: the id of the work order it opens."""
    engine.process([amps(0, 30), amps(20, 31)])
    (wo,) = work_orders(db)
    return wo.id


def move(db: Database, wo_id: int, target: str, seconds: float, role: str = "technician") -> None:
    """A status change made (and received) at T0 + seconds."""
    with db.session() as s:
        wo = repository.get(s, wo_id)
        assert wo is not None
        service.change_status(
            s, wo=wo, target=target, actor="li", role=role, at=t(seconds), now=t(seconds)
        )


def work_orders(db: Database) -> list[WorkOrder]:
    with db.session() as s:
        return list(s.scalars(select(WorkOrder).order_by(WorkOrder.id)))


def one(db: Database, wo_id: int) -> WorkOrder:
    with db.session() as s:
        wo = s.get(WorkOrder, wo_id)
        assert wo is not None
        return wo


def events(db: Database, wo_id: int, *kinds: str) -> list[WorkOrderEvent]:
    with db.session() as s:
        stmt = (
            select(WorkOrderEvent)
            .where(WorkOrderEvent.workorder_id == wo_id, WorkOrderEvent.kind.in_(kinds))
            .order_by(WorkOrderEvent.ts, WorkOrderEvent.id)
        )
        return list(s.scalars(stmt))


def resolution(db: Database, wo_id: int, seconds: float) -> Any:
    """The resolution clock as of T0 + seconds."""
    with db.session() as s:
        wo = s.get(WorkOrder, wo_id)
        assert wo is not None
        st = sla_service.state(s, wo, now=t(seconds))
        assert st is not None and st.resolution is not None
        return st.resolution


# --- the resolve ----------------------------------------------------------------------------------


def test_resolving_while_the_alert_fires_waits_for_proof(engine: AlertEngine, db: Database) -> None:
    wo_id = fired(engine, db)
    move(db, wo_id, "resolved", 60)
    wo = one(db, wo_id)
    assert (wo.status, wo.awaiting_proof, wo.proof_until) == ("resolved", True, t(60 + 180))
    assert wo.trigger is not None and wo.trigger["proof_window"] == 180.0
    (waiting,) = events(db, wo_id, "awaiting_proof")
    assert waiting.ts == t(60)
    assert waiting.data is not None and waiting.data["alert_state"] == "firing"
    assert waiting.data["proof_window"] == 180.0
    assert "if it is still firing 3 min after the resolve" in waiting.message


def test_resolving_after_the_alert_cleared_does_not_wait(engine: AlertEngine, db: Database) -> None:
    wo_id = fired(engine, db)
    engine.process([amps(40, 20)])  # back under 24 A
    move(db, wo_id, "resolved", 60)
    wo = one(db, wo_id)
    assert (wo.status, wo.awaiting_proof, wo.proof_until) == ("resolved", False, None)
    assert events(db, wo_id, "awaiting_proof") == []
    assert proof.sweep(db, now=t(10_000)) == {}


def test_a_rule_without_proof_window_waits_fifteen_minutes(
    engine: AlertEngine, db: Database
) -> None:
    wo_id = fired(engine, db)
    with db.session() as s:  # opened before the rule had the field: its trigger lacks it
        wo = s.get(WorkOrder, wo_id)
        assert wo is not None and wo.trigger is not None
        wo.trigger = {k: v for k, v in wo.trigger.items() if k != "proof_window"}
    move(db, wo_id, "resolved", 60)
    assert DEFAULT_PROOF_WINDOW == 900.0
    assert one(db, wo_id).proof_until == t(60 + 900)


# --- the fix held ---------------------------------------------------------------------------------


def test_the_alert_clearing_within_the_window_proves_the_fix_and_verify_for_still_applies(
    engine: AlertEngine, db: Database
) -> None:
    wo_id = fired(engine, db)
    move(db, wo_id, "resolved", 60)
    with pytest.raises(service.FixNotProven, match="firing"):
        move(db, wo_id, "verified", 90, role="admin")  # the alert still fires
    engine.process([amps(100, 20)])  # clears 40 s after the resolve, inside the 3 min
    wo = one(db, wo_id)
    assert (wo.status, wo.awaiting_proof, wo.proof_until) == ("resolved", False, None)
    (held,) = events(db, wo_id, "proof_held")
    assert held.ts == t(100)
    assert held.message == "fix held: pump-overcurrent back in range 40 s after the resolve"
    assert proof.sweep(db, now=t(5000)) == {}  # nothing left for the job
    assert one(db, wo_id).status == "resolved"
    # verify_for keeps its meaning: 10 min back in range before the work order is verified.
    with pytest.raises(service.FixNotProven, match="back in range for 550 s of the 600 s"):
        move(db, wo_id, "verified", 650, role="admin")
    move(db, wo_id, "verified", 700, role="admin")
    assert one(db, wo_id).status == "verified"


def test_a_person_closing_it_meanwhile_ends_the_wait(engine: AlertEngine, db: Database) -> None:
    wo_id = fired(engine, db)
    move(db, wo_id, "resolved", 60)
    move(db, wo_id, "closed", 120, role="admin")
    wo = one(db, wo_id)
    assert (wo.status, wo.awaiting_proof, wo.proof_until) == ("closed", False, None)
    assert proof.sweep(db, now=t(10_000)) == {}
    assert one(db, wo_id).status == "closed"


# --- the fix did not hold -------------------------------------------------------------------------


def test_still_firing_after_the_window_reopens_it_and_the_clock_counts_the_gap(
    engine: AlertEngine, db: Database
) -> None:
    wo_id = fired(engine, db)  # opened at T0 + 20 s: P2, resolution 24 h round the clock
    move(db, wo_id, "resolved", 20 + H)  # an hour later, with the pump still over the limit
    engine.process([amps(20 + H + 100, 31)])  # still firing
    assert proof.sweep(db, now=t(20 + H + 179)) == {}  # the window is not over yet
    assert proof.sweep(db, now=t(20 + H + 200)) == {wo_id: "reopened"}
    wo = one(db, wo_id)
    assert (wo.status, wo.resolved_at, wo.awaiting_proof, wo.proof_until) == (
        "in_progress",
        None,
        False,
        None,
    )
    (why,) = events(db, wo_id, "reopened")
    assert why.ts == t(20 + H + 180)  # stamped when the window ended, not when the job ran
    assert why.actor == "alerts"
    assert (
        why.message == "the alert was still firing 3 min after the resolve, so the fix did not hold"
    )
    assert why.data is not None and why.data["reason"] == FIX_NOT_HELD
    last = events(db, wo_id, "status")[-1]
    assert last.ts == t(20 + H + 180)
    assert last.data == {"from": "resolved", "to": "in_progress", "reason": FIX_NOT_HELD}
    # By hand: created at +20 s, now +2 h 20 s. Nothing paused, and the resolve taken back,
    # so the clock has run all 2 h (a reopen by a person would show 2 h - 3 min = 7,020 s).
    clock = resolution(db, wo_id, 20 + 2 * H)
    assert (clock.state, clock.elapsed_seconds) == ("running", 2 * H)
    assert clock.due_at == t(20 + 24 * H)
    assert one(db, wo_id).resolution_due_at == t(20 + 24 * H)
    assert proof.sweep(db, now=t(20 + 2 * H)) == {}  # done once


def test_a_breach_inside_the_unproven_time_is_recorded_at_its_instant(
    demo_site: SiteConfig, db: Database
) -> None:
    rule = TypeAdapter(RuleConfig).validate_python(
        {"id": "amps-critical", "name": "Pump current critical", "type": "threshold",
         "point": "motor_current", "above": 26, "severity": "critical", "proof_window": "5m",
         "select": {"assets": ["pump-1"]}}
    )  # fmt: skip
    engine = alert_engine(demo_site, db, [rule])
    engine.process([amps(0, 30)])  # fires at once: P1, resolution 4 h from T0
    (wo,) = work_orders(db)
    move(db, wo.id, "acknowledged", 600)
    move(db, wo.id, "resolved", 4 * H - 100)  # 100 s before the resolution is due
    assert one(db, wo.id).resolution_breached is False
    assert proof.sweep(db, now=t(4 * H + 300)) == {wo.id: "reopened"}  # proof until 4 h + 200 s
    after = one(db, wo.id)
    assert after.resolution_breached is True
    breaches = [
        e for e in events(db, wo.id, "sla_breach") if e.data and e.data["clock"] == "resolution"
    ]
    assert [e.ts for e in breaches] == [t(4 * H)]


def test_the_alert_clearing_only_after_the_window_reopens_it(
    engine: AlertEngine, db: Database
) -> None:
    wo_id = fired(engine, db)
    move(db, wo_id, "resolved", 60)  # proof until +240 s
    engine.process([amps(270, 20)])  # cleared 3.5 min after the resolve; the job had not run
    wo = one(db, wo_id)
    assert (wo.status, wo.awaiting_proof) == ("in_progress", False)
    (why,) = events(db, wo_id, "reopened")
    assert why.ts == t(240)
    assert why.message == (
        "the alert was still firing 3 min after the resolve (it cleared only 3 min 30 s after), "
        "so the fix did not hold"
    )
    assert proof.sweep(db, now=t(1000)) == {}


def test_a_refire_after_the_fix_held_follows_the_usual_reopen(
    engine: AlertEngine, db: Database
) -> None:
    wo_id = fired(engine, db)
    move(db, wo_id, "resolved", 60)
    engine.process([amps(100, 20)])  # held
    engine.process([amps(200, 30), amps(220, 30)])  # fires again later
    wo = one(db, wo_id)
    assert (wo.status, wo.awaiting_proof) == ("in_progress", False)
    (why,) = events(db, wo_id, "reopened")
    assert why.message == "alert fired again after resolve"
    assert (events(db, wo_id, "status")[-1].data or {}).get("reason") is None
    # The usual reopen: the time between the resolve (+60) and the re-fire (+220) does not count.
    assert resolution(db, wo_id, 1000).elapsed_seconds == (60 - 20) + (1000 - 220)


def test_a_pending_alert_firing_while_the_fix_awaits_proof_takes_the_resolve_back(
    engine: AlertEngine, db: Database
) -> None:
    wo_id = fired(engine, db)
    engine.process([amps(40, 20), amps(55, 30)])  # cleared, over again: pending from +55
    move(db, wo_id, "resolved", 60)
    waiting = events(db, wo_id, "awaiting_proof")
    assert [(e.data or {}).get("alert_state") for e in waiting] == ["pending"]
    engine.process([amps(75, 30)])  # fires again, inside the window
    wo = one(db, wo_id)
    assert (wo.status, wo.awaiting_proof) == ("in_progress", False)
    (why,) = events(db, wo_id, "reopened")
    assert "while the fix awaited proof, so the fix did not hold" in why.message
    assert (events(db, wo_id, "status")[-1].data or {}).get("reason") == FIX_NOT_HELD
    assert resolution(db, wo_id, 1000).elapsed_seconds == 1000 - 20


def test_a_pending_alert_that_closes_unseen_is_settled_as_held_by_the_job(
    engine: AlertEngine, db: Database
) -> None:
    wo_id = fired(engine, db)
    engine.process([amps(40, 20), amps(55, 30)])  # pending from +55
    move(db, wo_id, "resolved", 60)
    engine.process([amps(65, 20)])  # the pending alert closes without firing: nobody is told
    assert one(db, wo_id).awaiting_proof is True
    assert proof.sweep(db, now=t(300)) == {wo_id: "held"}
    wo = one(db, wo_id)
    assert (wo.status, wo.awaiting_proof) == ("resolved", False)
    assert [e.ts for e in events(db, wo_id, "proof_held")] == [t(65)]


# --- restarts and two processes -------------------------------------------------------------------


def test_the_wait_survives_a_restart_of_the_engine_and_of_the_job(
    demo_site: SiteConfig, engine: AlertEngine, db: Database
) -> None:
    wo_id = fired(engine, db)
    move(db, wo_id, "resolved", 60)
    again = Database(db.url)  # another process, after a restart
    try:
        restarted = alert_engine(demo_site, again, overcurrent(demo_site))
        restarted.process([amps(120, 20)])  # the restored firing alert clears in time
        assert one(db, wo_id).awaiting_proof is False
        assert [e.ts for e in events(db, wo_id, "proof_held")] == [t(120)]
    finally:
        again.dispose()


def test_the_job_after_a_restart_reopens_what_fell_due_while_it_was_down(
    engine: AlertEngine, db: Database
) -> None:
    wo_id = fired(engine, db)
    move(db, wo_id, "resolved", 60)
    again = Database(db.url)
    try:  # down for an hour; the pump never recovered
        assert proof.sweep(again, now=t(60 + H)) == {wo_id: "reopened"}
    finally:
        again.dispose()
    assert [e.ts for e in events(db, wo_id, "reopened")] == [t(240)]


def test_two_processes_running_the_job_at_once_reopen_it_once(
    engine: AlertEngine, db: Database
) -> None:
    wo_id = fired(engine, db)
    move(db, wo_id, "resolved", 60)
    dbs = [Database(db.url), Database(db.url)]
    results: list[dict[int, str]] = []
    start = threading.Barrier(2)

    def run(d: Database) -> None:
        start.wait()
        results.append(proof.sweep(d, now=t(1000)))

    threads = [threading.Thread(target=run, args=(d,)) for d in dbs]
    try:
        for th in threads:
            th.start()
        for th in threads:
            th.join(timeout=30)
    finally:
        for d in dbs:
            d.dispose()
    assert sorted(results, key=len) == [{}, {wo_id: "reopened"}]
    assert len(events(db, wo_id, "reopened")) == 1
    assert [(e.data or {}).get("to") for e in events(db, wo_id, "status")][-1] == "in_progress"


def test_the_proof_job_is_collected_with_the_other_jobs(
    demo_site: SiteConfig, db: Database
) -> None:
    services = WorkOrderServices(db, demo_site)
    job = services.scheduler.get_job(proof.JOB_ID)
    assert job is not None and job.trigger.interval.total_seconds() == proof.EVERY


# --- the clock alone ------------------------------------------------------------------------------


P1 = SlaPolicy(name="P1", priority=Priority.P1, response=1800, resolution=4 * H)


def _clock(*changes: tuple[float, str, str, str | None]) -> Any:
    st = compute_sla(
        created_at=T0,
        policy=P1,
        changes=[StatusChange(t(s), a, b, r) for s, a, b, r in changes],
        now=t(2 * H),
    )
    return st.response, st.resolution


def test_the_clock_takes_back_only_a_resolve_followed_by_a_fix_not_held_reopen() -> None:
    person = _clock((600, "new", "resolved", None), (900, "resolved", "in_progress", None))
    proofless = _clock(
        (600, "new", "resolved", None), (900, "resolved", "in_progress", FIX_NOT_HELD)
    )
    assert person[1].elapsed_seconds == 2 * H - 300
    assert proofless[1].elapsed_seconds == 2 * H
    assert proofless[1].due_at == t(4 * H)
    # The crew did respond: the response clock keeps its met.
    assert proofless[0].state == "met" and proofless[0].met_at == t(600)


def test_a_resolve_from_hold_taken_back_counts_the_gap_as_working_time() -> None:
    _, res = _clock(
        (300, "new", "acknowledged", None),
        (600, "acknowledged", "on_hold", "parts"),
        (1200, "on_hold", "resolved", None),
        (1500, "resolved", "in_progress", FIX_NOT_HELD),
    )
    assert res.paused_seconds == 600  # the hold itself, not the time awaiting proof
    assert res.elapsed_seconds == 2 * H - 600
