"""SLA upkeep on real work orders, on SQLite and PostgreSQL: choosing the policy, due times kept
after each status change, warnings and breaches recorded once at the instant they happened
(timeline, webhook, notification), holds, late-synced offline changes, the alert engine's
reopen, the version left alone for If-Match, and the 60-second sweep job.

The demo site's policies (config/sites/demo/site.yaml): P1 30 min / 4 h and P2 1 h / 24 h round
the clock; P3 1 / 5 working days and P4 - / 10 working days on business hours. Time is always
a parameter: nothing here reads the clock.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from config.site import SiteConfig
from core.audit import AuditEntry
from core.auth.models import Organisation
from core.db import Database
from workorders import intake
from workorders.orders import service
from workorders.orders.models import Priority, WorkOrder, WorkOrderEvent
from workorders.sla import service as sla_service
from workorders.sla.clock import SlaEvent
from workorders.sla.config import SlaSection
from workorders.webhooks.models import Webhook, WebhookDelivery

SH = ZoneInfo("Asia/Shanghai")
H = 3600.0


def at(text: str) -> dt.datetime:
    """A time on the site's clock."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=SH)


def open_wo(
    db: Database,
    site: SiteConfig,
    created: str,
    *,
    priority: str = "P1",
    type_: str = "corrective",
    contractor_id: int | None = None,
) -> int:
    """A work order created at `created` through the service, its policy chosen and its clocks
    computed as of that instant."""
    with db.session() as s:
        wo = service.create(
            s,
            title=f"{priority} job",
            actor="tester",
            priority=Priority(priority),
            type_=type_,
            contractor_id=contractor_id,
            at=at(created),
            now=at(created),
        )
        wo.sla_policy = sla_service.choose_policy(
            site, priority=priority, contractor_id=contractor_id, type_=type_, session=s
        )
        sla_service.refresh(s, wo, now=at(created))
        return wo.id


def move(
    db: Database, wo_id: int, target: str, when: str, *, synced: str | None = None
) -> list[SlaEvent]:
    """A status change made at `when` and arriving at `synced` (default: at once).

    service.change_status refreshes the clocks as of the server's real time, and these tests
    replay a past day with sweeps at chosen instants; so this writes the timeline entry the
    service writes (kind 'status', data from/to/reason, ts = the action time) and refreshes
    as of the replayed arrival time. test_the_service_* below go through the service itself.
    """
    with db.session() as s:
        wo = s.get(WorkOrder, wo_id)
        assert wo is not None
        data: dict[str, Any] = {"from": wo.status, "to": target}
        if target == "on_hold":
            data["reason"] = "parts"
        wo.status = target
        s.add(
            WorkOrderEvent(workorder_id=wo_id, kind="status", actor="tech", data=data, ts=at(when))
        )
        return sla_service.refresh(s, wo, now=at(synced or when))


def sweep(db: Database, when: str) -> int:
    """One sweep at this time."""
    return sla_service.sweep(db, now=at(when))


def load(db: Database, wo_id: int) -> WorkOrder:
    """A fresh copy of a work order."""
    with db.session() as s:
        wo = s.get(WorkOrder, wo_id)
        assert wo is not None
        return wo


def timeline(db: Database, wo_id: int, *kinds: str) -> list[tuple[str, dict[str, Any], str]]:
    """(kind, data, local time) of the SLA entries on a work order's timeline, in order."""
    with db.session() as s:
        rows = s.scalars(
            select(WorkOrderEvent)
            .where(WorkOrderEvent.workorder_id == wo_id, WorkOrderEvent.kind.in_(kinds))
            .order_by(WorkOrderEvent.id)
        )
        return [(e.kind, e.data or {}, f"{e.ts.astimezone(SH):%H:%M}") for e in rows]


SLA_KINDS = ("sla_warning", "sla_breach", "sla_withdrawn")


# --- choosing the policy ------------------------------------------------------------------------


def test_preventive_work_gets_no_sla(demo_site: SiteConfig) -> None:
    for priority in ("P1", "P2", "P3", "P4"):
        chosen = sla_service.choose_policy(
            demo_site, priority=priority, contractor_id=None, type_="preventive"
        )
        assert chosen is None


def test_chosen_policy_is_a_json_safe_snapshot_of_the_priority_policy(
    demo_site: SiteConfig,
) -> None:
    snap = sla_service.choose_policy(demo_site, priority="P3", contractor_id=None, type_="request")
    assert snap is not None
    assert json.loads(json.dumps(snap)) == snap
    assert (snap["name"], snap["priority"], snap["calendar"]) == ("P3 routine", "P3", "business")
    assert (snap["response"], snap["resolution"]) == (7.5 * H, 5 * 7.5 * H)


def test_a_priority_no_policy_covers_gets_no_sla() -> None:
    section = SlaSection.model_validate(
        {"policies": [{"name": "P1", "priority": "P1", "resolution": "4h"}]}
    )
    assert (
        sla_service.choose_policy(section, priority="P2", contractor_id=None, type_="corrective")
        is None
    )


def test_the_contractors_own_policy_wins_over_the_general_one(db: Database) -> None:
    section = SlaSection.model_validate(
        {
            "policies": [
                {"name": "general P1", "priority": "P1", "response": "30m", "resolution": "4h"},
                {
                    "name": "Huaxia P1",
                    "priority": "P1",
                    "contractor": "Huaxia Property Services",
                    "response": "20m",
                    "resolution": "3h",
                },
            ]
        }
    )
    with db.session() as s:
        # The demo site lists Huaxia under contractors:, so it is already an organisation.
        huaxia = s.scalars(
            select(Organisation).where(Organisation.name == "Huaxia Property Services")
        ).one()
        other = Organisation(name="Evergreen", kind="contractor")
        s.add(other)
        s.flush()
        own = sla_service.choose_policy(
            section, priority="P1", contractor_id=huaxia.id, type_="corrective", session=s
        )
        theirs = sla_service.choose_policy(
            section, priority="P1", contractor_id=other.id, type_="corrective", session=s
        )
    assert own is not None and (own["name"], own["contractor_id"]) == ("Huaxia P1", huaxia.id)
    assert theirs is not None and theirs["name"] == "general P1"


# --- due times and events -----------------------------------------------------------------------


def test_new_work_order_gets_its_due_times_without_a_version_bump(
    db: Database, demo_site: SiteConfig
) -> None:
    wo_id = open_wo(db, demo_site, "2026-03-03 09:00")
    wo = load(db, wo_id)
    assert wo.response_due_at == at("2026-03-03 09:30")
    assert wo.resolution_due_at == at("2026-03-03 13:00")
    version = wo.version
    with db.session() as s:
        fresh = s.get(WorkOrder, wo_id)
        assert fresh is not None
        assert sla_service.refresh(s, fresh, now=at("2026-03-03 09:05")) == []
    assert load(db, wo_id).version == version


def test_sweep_records_warning_and_breach_once_at_the_instants_they_happened(
    db: Database, demo_site: SiteConfig
) -> None:
    with db.session() as s:
        s.add(Webhook(url="http://127.0.0.1:9/hook", secret="s", events=["*"], created_by="t"))
    wo_id = open_wo(db, demo_site, "2026-03-03 09:00")
    version = load(db, wo_id).version
    assert sweep(db, "2026-03-03 09:20") == 0  # 80% of 30 min is 09:24
    assert sweep(db, "2026-03-03 09:25") == 1
    assert sweep(db, "2026-03-03 09:26") == 0  # already on the timeline
    assert sweep(db, "2026-03-03 09:31") == 1
    assert sweep(db, "2026-03-03 09:45") == 0
    assert [(k, d["clock"], t) for k, d, t in timeline(db, wo_id, *SLA_KINDS)] == [
        ("sla_warning", "response", "09:24"),
        ("sla_breach", "response", "09:30"),
    ]
    wo = load(db, wo_id)
    assert wo.response_breached and not wo.resolution_breached
    assert wo.version == version  # an If-Match taken before the sweep still holds
    with db.session() as s:
        sent = s.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.event.like("workorder.sla_%"))
            .order_by(WebhookDelivery.id)
        ).all()
        assert [(d.event, d.payload["workorder_id"], d.payload["clock"]) for d in sent] == [
            ("workorder.sla_warning", wo_id, "response"),
            ("workorder.sla_breach", wo_id, "response"),
        ]


def test_a_status_change_that_reveals_a_breach_records_it(
    db: Database, demo_site: SiteConfig
) -> None:
    wo_id = open_wo(db, demo_site, "2026-03-03 09:00")
    fresh = move(db, wo_id, "acknowledged", "2026-03-03 09:40")
    assert [(e.kind, e.which, e.at) for e in fresh] == [
        ("warning", "response", at("2026-03-03 09:24")),
        ("breach", "response", at("2026-03-03 09:30")),
    ]
    wo = load(db, wo_id)
    assert wo.response_met_at == at("2026-03-03 09:40") and wo.response_breached


def test_hold_pauses_the_resolution_clock_and_the_sweep_leaves_it_alone(
    db: Database, demo_site: SiteConfig
) -> None:
    wo_id = open_wo(db, demo_site, "2026-03-03 09:00")
    move(db, wo_id, "acknowledged", "2026-03-03 09:10")
    move(db, wo_id, "on_hold", "2026-03-03 10:00")
    # 13:00 would be the breach without the hold.
    assert sweep(db, "2026-03-03 14:00") == 0
    move(db, wo_id, "in_progress", "2026-03-03 14:30")
    wo = load(db, wo_id)
    # ran 09:00-10:00 (1 h of 4 h), held 10:00-14:30: due 14:30 + 3 h
    assert wo.resolution_due_at == at("2026-03-03 17:30")
    assert wo.sla_paused_seconds == 4.5 * H
    assert sweep(db, "2026-03-03 17:00") == 1  # the warning, at 80% = 3 h 12 min used
    assert sweep(db, "2026-03-03 17:31") == 1  # the breach
    assert [(k, t) for k, _, t in timeline(db, wo_id, *SLA_KINDS)] == [
        ("sla_warning", "16:42"),  # 14:30 + 2 h 12 min
        ("sla_breach", "17:30"),
    ]


def test_late_synced_acknowledgement_counts_when_it_happened(
    db: Database, demo_site: SiteConfig
) -> None:
    wo_id = open_wo(db, demo_site, "2026-03-03 09:00")
    # Nothing heard from the lift machine room by 09:40: the server records a breach ...
    assert sweep(db, "2026-03-03 09:40") == 2
    assert load(db, wo_id).response_breached
    # ... then the tablet syncs: the crew had acknowledged at 09:20, offline.
    fresh = move(db, wo_id, "acknowledged", "2026-03-03 09:20", synced="2026-03-03 09:45")
    assert fresh == []
    wo = load(db, wo_id)
    assert wo.response_met_at == at("2026-03-03 09:20")
    assert not wo.response_breached
    assert [(k, d.get("kind"), t) for k, d, t in timeline(db, wo_id, *SLA_KINDS)] == [
        ("sla_warning", None, "09:24"),
        ("sla_breach", None, "09:30"),
        ("sla_withdrawn", "warning", "09:45"),
        ("sla_withdrawn", "breach", "09:45"),
    ]
    assert sweep(db, "2026-03-03 09:50") == 0


def test_late_synced_hold_moves_the_due_time_back(db: Database, demo_site: SiteConfig) -> None:
    wo_id = open_wo(db, demo_site, "2026-03-03 09:00")
    move(db, wo_id, "acknowledged", "2026-03-03 09:10")
    # Put on hold at 10:00 on a tablet without network; synced at 12:00.
    move(db, wo_id, "on_hold", "2026-03-03 10:00", synced="2026-03-03 12:00")
    wo = load(db, wo_id)
    assert wo.sla_paused_seconds == 2 * H  # 10:00 -> 12:00 on hold
    assert wo.resolution_due_at == at("2026-03-03 15:00")  # 12:00 + the 3 h left


def test_alert_reopen_restarts_the_resolution_clock_without_the_resolved_time(
    db: Database, demo_site: SiteConfig
) -> None:
    trigger = {"point": "motor_current", "value": 30.0}
    with db.session() as s:
        wo, _ = intake.open_from_alert(
            s,
            asset_id="pump-1",
            rule_id="pump-overcurrent",
            title="Pump 1 over current",
            priority="P1",
            trigger=trigger,
            at=at("2026-03-03 09:00"),
        )
        wo.sla_policy = sla_service.choose_policy(
            demo_site, priority="P1", contractor_id=None, type_=wo.type
        )
        sla_service.refresh(s, wo, now=at("2026-03-03 09:00"))
        wo_id = wo.id
    move(db, wo_id, "in_progress", "2026-03-03 09:10")
    move(db, wo_id, "resolved", "2026-03-03 10:00")
    with db.session() as s:  # the fix did not hold: the alert fires again
        intake.open_from_alert(
            s,
            asset_id="pump-1",
            rule_id="pump-overcurrent",
            title="Pump 1 over current",
            priority="P1",
            trigger=trigger,
            at=at("2026-03-03 11:00"),
        )
        reopened = s.get(WorkOrder, wo_id)
        assert reopened is not None and reopened.status == "in_progress"
        sla_service.refresh(s, reopened, now=at("2026-03-03 11:30"))
    # 1 h used before the resolve; the hour resolved does not count: 11:00 + 3 h.
    assert load(db, wo_id).resolution_due_at == at("2026-03-03 14:00")


def test_refresh_refuses_to_overwrite_a_work_order_changed_meanwhile(
    db: Database, demo_site: SiteConfig
) -> None:
    wo_id = open_wo(db, demo_site, "2026-03-03 09:00")
    with db.session() as a:
        stale = a.get(WorkOrder, wo_id)
        assert stale is not None
        a.commit()  # end a's read; `stale` keeps the version it read
        move(db, wo_id, "acknowledged", "2026-03-03 09:10")
        with pytest.raises(StaleDataError):
            sla_service.refresh(a, stale, now=at("2026-03-03 09:40"))
        a.rollback()
    assert not load(db, wo_id).response_breached


def test_sweep_leaves_work_orders_with_nothing_due_alone(
    db: Database, demo_site: SiteConfig
) -> None:
    wo_id = open_wo(db, demo_site, "2026-03-02 09:00", priority="P3")
    with db.session() as s:
        audits = len(s.scalars(select(AuditEntry).where(AuditEntry.entity_id == str(wo_id))).all())
    assert sweep(db, "2026-03-02 10:00") == 0
    with db.session() as s:
        after = s.scalars(select(AuditEntry).where(AuditEntry.entity_id == str(wo_id))).all()
    assert len(after) == audits
    assert timeline(db, wo_id, *SLA_KINDS) == []


def test_sweep_computes_clocks_of_a_work_order_never_computed(
    db: Database, demo_site: SiteConfig
) -> None:
    with db.session() as s:
        wo = service.create(
            s,
            title="Lift stuck",
            actor="t",
            priority=Priority.P1,
            at=at("2026-03-03 09:00"),
            now=at("2026-03-03 09:00"),
        )
        wo.sla_policy = sla_service.choose_policy(
            demo_site, priority="P1", contractor_id=None, type_="corrective"
        )
        wo_id = wo.id
    assert sweep(db, "2026-03-03 09:05") == 0
    assert load(db, wo_id).response_due_at == at("2026-03-03 09:30")


def test_the_service_keeps_the_clocks_and_counts_a_late_synced_action_at_its_time(
    db: Database, demo_site: SiteConfig
) -> None:
    policy = sla_service.choose_policy(
        demo_site, priority="P1", contractor_id=None, type_="corrective"
    )
    with db.session() as s:
        wo = service.create(
            s,
            title="Lift entrapment, block B",
            actor="duty",
            priority=Priority.P1,
            at=at("2026-03-03 09:00"),
            now=at("2026-03-03 09:45"),  # entered from the duty log 45 min later
            sla_policy=policy,
        )
        wo_id = wo.id
    # By the time anyone looks (the server's clock is past 09:30), nobody has responded.
    created = load(db, wo_id)
    assert created.response_due_at == at("2026-03-03 09:30") and created.response_breached
    version = created.version
    with db.session() as s:
        found = s.get(WorkOrder, wo_id)
        assert found is not None
        # The crew had acknowledged at 09:20 in the lift machine room, with no network.
        service.change_status(
            s,
            wo=found,
            target="acknowledged",
            actor="tech",
            role="technician",
            at=at("2026-03-03 09:20"),
            now=at("2026-03-03 10:00"),  # synced when the tablet came back up
        )
    wo = load(db, wo_id)
    assert wo.response_met_at == at("2026-03-03 09:20") and not wo.response_breached
    assert wo.version == version + 1  # the status change, and nothing more for the SLA
    kinds = [(k, d.get("clock"), d.get("kind")) for k, d, _ in timeline(db, wo_id, *SLA_KINDS)]
    assert ("sla_withdrawn", "response", "breach") in kinds


def test_the_service_pauses_the_clock_for_a_hold_with_a_reason(
    db: Database, demo_site: SiteConfig
) -> None:
    policy = sla_service.choose_policy(
        demo_site, priority="P2", contractor_id=None, type_="corrective"
    )
    with db.session() as s:
        wo = service.create(
            s,
            title="Leak, 3F",
            actor="duty",
            priority=Priority.P2,
            at=at("2026-03-03 09:00"),
            now=at("2026-03-03 09:00"),
            sla_policy=policy,
        )
        for target, when in (("acknowledged", "09:30"), ("on_hold", "10:00")):
            service.change_status(
                s,
                wo=wo,
                target=target,
                actor="tech",
                role="technician",
                at=at(f"2026-03-03 {when}"),
                now=at(f"2026-03-03 {when}"),
                reason="parts" if target == "on_hold" else None,
            )
        service.change_status(
            s,
            wo=wo,
            target="in_progress",
            actor="tech",
            role="technician",
            at=at("2026-03-04 10:00"),
            now=at("2026-03-04 10:00"),
        )
        wo_id = wo.id
    wo = load(db, wo_id)
    assert wo.sla_paused_seconds == 24 * H  # on hold 10:00 to 10:00 the next day
    assert wo.resolution_due_at == at("2026-03-05 09:00")  # 24 h target + 24 h on hold


# --- contractors --------------------------------------------------------------------------------


def test_sync_contractors_mirrors_the_site_into_organisations(
    db: Database, demo_site: SiteConfig
) -> None:
    for _ in range(2):  # a restart must not duplicate them
        with db.session() as s:
            assert sla_service.sync_contractors(s, demo_site) == 1
    with db.session() as s:
        orgs = s.scalars(select(Organisation).where(Organisation.kind == "contractor")).all()
        assert [(o.name, o.monthly_fee) for o in orgs] == [
            (c.name, c.monthly_fee) for c in demo_site.doc.contractors
        ]


# --- the job ------------------------------------------------------------------------------------


def test_sweep_job_runs_every_minute_from_start_and_stops_cleanly(
    db: Database, demo_site: SiteConfig
) -> None:
    wo_id = open_wo(db, demo_site, "2026-03-03 09:00")
    ran = threading.Event()
    outcomes: list[JobExecutionEvent] = []

    def listen(event: JobExecutionEvent) -> None:
        outcomes.append(event)
        ran.set()

    scheduler = BackgroundScheduler(timezone=dt.UTC)
    sla_service.add_jobs(scheduler, db=db, clock=lambda: at("2026-03-03 09:40"))
    job = scheduler.get_job(sla_service.JOB_ID)
    assert job is not None and job.trigger.interval == dt.timedelta(seconds=60)
    scheduler.add_listener(listen, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    scheduler.start()
    try:
        assert ran.wait(timeout=10), "the first sweep did not run"
    finally:
        scheduler.shutdown(wait=True)
    assert outcomes[0].exception is None and outcomes[0].retval == 2
    assert load(db, wo_id).response_breached
