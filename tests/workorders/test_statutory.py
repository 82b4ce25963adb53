"""Statutory intervals are hard limits (issue 15): a lift job completed more than 15 days after the
previous one is late whatever grace the PM-compliance KPI allows ordinary work, even on its own
due date; and the lifts' annual periodic inspection by an inspection body (TSG T7001) is a duty
of its own, not the maintenance of TSG T5002."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from config.site import SITES_DIR, SiteConfig
from core.db import Database
from plantroom.site import load_site
from tests.workorders.test_pm import at, pm_orders, set_status, site_with, steps
from workorders.orders.models import WorkOrder
from workorders.pm import service as pm
from workorders.pm.models import TEMPLATES, Schedule
from workorders.pm.service import DoneHistory, judge

#: Both lifts, the statutory 15-day maintenance from 1 January 2026 (lead time 2 days).
LIFTS_15D: dict[str, Any] = {
    "id": "lift-15d",
    "template": "elevator_15d",
    "select": {"asset_class": ["Elevator"]},
    "dtstart": "2026-01-01",
}
#: An ordinary 15-day check with the same dates: no hard limit, so the KPI's grace applies.
PUMP_15D: dict[str, Any] = {
    "id": "pump-15d",
    "name": "Booster pump check",
    "select": {"assets": ["pump-1"]},
    "rrule": "FREQ=DAILY;INTERVAL=15",
    "dtstart": "2026-01-01",
    "lead_time": "2d",
}
T7001: dict[str, Any] = {
    "id": "lift-inspection",
    "template": "elevator_periodic_inspection",
    "select": {"asset_class": ["Elevator"]},
    "dtstart": "2026-01-20",
}


def order(db: Database, asset: str, due: str, schedule: str = "lift-15d") -> int:
    """The id of the PM work order of that schedule on that asset due that day."""
    with db.session() as s:
        return s.scalars(
            select(WorkOrder.id).where(
                WorkOrder.asset_id == asset,
                WorkOrder.due_at == at(due),
                WorkOrder.pm_key.startswith(f"pm:{schedule}:"),
            )
        ).one()


def done(db: Database, asset: str, due: str, when: str, schedule: str = "lift-15d") -> None:
    """The job due that day was done at `when` (resolved, then closed the same day)."""
    set_status(db, order(db, asset, due, schedule), ("resolved", when), ("closed", when))


def verdict(db: Database, site: SiteConfig, asset: str, due: str, now: str, **kw: Any) -> Any:
    """How the job stands as of `now`."""
    sid = kw.pop("schedule", "lift-15d")
    sched = {s.id: s for s in site.doc.maintenance.schedules}[sid]
    with db.session() as s:
        wo = s.get_one(WorkOrder, order(db, asset, due, sid))
        return judge(
            wo,
            sched=sched,
            tz=at("2026-01-01").tzinfo,  # type: ignore[arg-type]
            grace=kw.get("grace", "due_date"),
            now=at(now),
            history=DoneHistory(s),
        )


@pytest.fixture
def lifts(db: Database, demo_site: SiteConfig) -> SiteConfig:
    """Lifts and pump 1 on 15-day schedules, generated from late December to mid-February."""
    site = site_with(demo_site, LIFTS_15D, PUMP_15D)
    for now in steps("2025-12-29", "2026-02-14", dt.timedelta(hours=6)):
        pm.run_once(db, site, now=now)
    assert {d for a, d, _ in pm_orders(db) if a == "lift-a1"} == {
        "2026-01-01",
        "2026-01-16",
        "2026-01-31",
        "2026-02-15",
    }
    return site


def test_a_16_day_gap_makes_the_later_lift_job_late_whatever_the_kpi_grace(
    db: Database, lifts: SiteConfig
) -> None:
    done(db, "lift-a1", "2026-01-01", "2026-01-01 10:00")
    done(db, "lift-a1", "2026-01-16", "2026-01-17 10:00")  # 16 days after the previous one
    done(db, "pump-1", "2026-01-01", "2026-01-01 10:00", "pump-15d")
    done(db, "pump-1", "2026-01-16", "2026-01-17 10:00", "pump-15d")  # the same dates

    lift = verdict(db, lifts, "lift-a1", "2026-01-16", "2026-02-10", grace="smrp")
    assert (lift.outcome, lift.late_reason, lift.gap_days, lift.max_gap_days) == (
        "late",
        "gap",
        16,
        15,
    )
    pump = verdict(
        db, lifts, "pump-1", "2026-01-16", "2026-02-10", grace="smrp", schedule="pump-15d"
    )
    assert pump.outcome == "on_time"  # SMRP grace: 20 % of 15 days = 3 days
    with db.session() as s:
        report = pm.pm_compliance(
            s, site=lifts, month="2026-01", now=at("2026-02-10"), grace="smrp"
        )
    by_id = {r.schedule_id: r for r in report.schedules}
    assert (by_id["pump-15d"].on_time, by_id["pump-15d"].late) == (2, 0)
    assert by_id["lift-15d"].late == 1
    assert by_id["lift-15d"].on_time == 1


def test_an_18_day_gap_is_late_and_so_is_the_job_not_done_when_the_limit_runs_out(
    db: Database, lifts: SiteConfig
) -> None:
    done(db, "lift-a1", "2026-01-16", "2026-01-16 10:00")
    done(db, "lift-a1", "2026-01-31", "2026-02-03 10:00")  # 18 days after the previous one
    late = verdict(db, lifts, "lift-a1", "2026-01-31", "2026-02-10")
    assert (late.outcome, late.late_reason, late.gap_days) == ("late", "gap", 18)
    assert late.previous_done_at == at("2026-01-16 10:00")

    # The next one, due 15 February, is measured from 3 February: overdue from the 19th.
    before = verdict(db, lifts, "lift-a1", "2026-02-15", "2026-02-14 12:00")
    assert before.outcome == "pending"
    assert verdict(db, lifts, "lift-a1", "2026-02-15", "2026-02-18 23:00").outcome == "not_done"


def test_done_on_its_due_date_is_still_late_when_the_previous_visit_was_early(
    db: Database, lifts: SiteConfig
) -> None:
    done(db, "lift-b1", "2026-01-01", "2025-12-30 15:00")  # two days early
    done(db, "lift-b1", "2026-01-16", "2026-01-16 10:00")  # on its due date: 17 days later
    done(db, "lift-b1", "2026-01-31", "2026-01-31 10:00")  # exactly 15 days: on time
    early = verdict(db, lifts, "lift-b1", "2026-01-16", "2026-02-10")
    assert (early.outcome, early.late_reason, early.gap_days) == ("late", "gap", 17)
    exact = verdict(db, lifts, "lift-b1", "2026-01-31", "2026-02-10")
    assert (exact.outcome, exact.late_reason, exact.gap_days) == ("on_time", None, 15)


def test_statutory_work_gets_no_kpi_grace_on_its_due_date(db: Database, lifts: SiteConfig) -> None:
    """No previous visit to measure a gap from: the due date alone, and SMRP grace does not
    stretch it for a statutory job."""
    done(db, "lift-b1", "2026-01-01", "2026-01-02 10:00")
    lift = verdict(db, lifts, "lift-b1", "2026-01-01", "2026-02-10", grace="smrp")
    assert (lift.outcome, lift.late_reason, lift.gap_days) == ("late", "due", None)


# --- TSG T7001: a separate duty ----------------------------------------------------------------


def test_the_periodic_inspection_is_its_own_template_not_the_maintenance() -> None:
    inspection = TEMPLATES["elevator_periodic_inspection"]
    assert inspection.type == "inspection"
    assert "TSG T7001" in inspection.source and "T5002" not in inspection.source
    assert "inspection body" in inspection.name.lower()
    assert inspection.rrule == "FREQ=YEARLY" and inspection.max_gap_days is None
    for key in ("elevator_15d", "elevator_quarterly", "elevator_half_yearly", "elevator_yearly"):
        maintenance = TEMPLATES[key]
        assert maintenance.type == "preventive"
        assert "T5002" in maintenance.source and "T7001" not in maintenance.source
        assert "inspection" not in maintenance.name.lower()
        assert not set(maintenance.checklist) & set(inspection.checklist)
    sched = Schedule.model_validate(T7001)
    assert (sched.type, sched.statutory, sched.lead_time) == ("inspection", True, 45 * 86400)


def test_the_inspection_opens_inspection_work_and_does_not_reset_the_15_day_clock(
    db: Database, demo_site: SiteConfig
) -> None:
    site = site_with(demo_site, LIFTS_15D, T7001)
    for now in steps("2025-12-29", "2026-02-03", dt.timedelta(hours=6)):
        pm.run_once(db, site, now=now)
    with db.session() as s:
        inspections = s.scalars(
            select(WorkOrder).where(WorkOrder.pm_key.startswith("pm:lift-inspection:"))
        ).all()
        assert {(w.asset_id, w.type) for w in inspections} == {
            ("lift-a1", "inspection"),
            ("lift-b1", "inspection"),
        }
        assert all("inspection body" in w.title for w in inspections)
        assert all("TSG T7001" in w.description for w in inspections)
        maintenance = s.scalars(
            select(WorkOrder).where(WorkOrder.pm_key.startswith("pm:lift-15d:"))
        ).all()
        assert {w.type for w in maintenance} == {"preventive"}
    done(db, "lift-a1", "2026-01-01", "2026-01-01 10:00")
    done(db, "lift-a1", "2026-01-20", "2026-01-20 10:00", "lift-inspection")
    done(db, "lift-a1", "2026-01-16", "2026-01-21 10:00")  # 20 days after the last maintenance
    late = verdict(db, site, "lift-a1", "2026-01-16", "2026-02-03")
    assert (late.outcome, late.late_reason, late.gap_days) == ("late", "gap", 20)


def test_the_demo_site_keeps_both_lift_duties_apart() -> None:
    site = load_site(SITES_DIR / "demo")
    by_template = {s.template: s for s in site.doc.maintenance.schedules}
    maintenance, inspection = (
        by_template["elevator_15d"],
        by_template["elevator_periodic_inspection"],
    )
    assert maintenance.id != inspection.id
    assert (maintenance.type, maintenance.max_gap_days) == ("preventive", 15)
    assert (inspection.type, inspection.max_gap_days) == ("inspection", None)


def test_a_scheduled_inspection_given_to_the_lift_contractor_runs_on_no_sla_clock(
    db: Database, demo_site: SiteConfig
) -> None:
    """PM work follows its schedule, not an SLA (DOMAIN.md): the inspection a schedule opens is
    handed to the lift firm by the site's default assignment, and that must not put it under
    the firm's repair SLA, which would count a statutory visit as a breach on the scorecard."""
    site = site_with(demo_site, T7001)
    for now in steps("2026-01-01", "2026-01-03", dt.timedelta(hours=6)):
        pm.run_once(db, site, now=now)
    with db.session() as s:
        inspections = s.scalars(
            select(WorkOrder).where(WorkOrder.pm_key.startswith("pm:lift-inspection:"))
        ).all()
        assert inspections and all(w.contractor_id is not None for w in inspections)
        terms = [(w.sla_policy, w.response_due_at, w.resolution_due_at) for w in inspections]
    assert terms == [(None, None, None)] * len(inspections)
