"""Preventive maintenance: calendar schedules open each work order once, on time, across restarts,
downtime and racing generators; statutory templates; config errors; monthly compliance; the
scheduled job. Time is a parameter throughout: nothing sleeps."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args
from zoneinfo import ZoneInfo

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.schedulers.background import BackgroundScheduler
from pydantic import ValidationError
from sqlalchemy import select

from config.site import SITES_DIR, SiteConfig
from config.yamlloc import ConfigError
from core.db import Database
from plantroom.site import load_site
from workorders.orders import service
from workorders.orders.models import WorkOrder
from workorders.pm import service as pm
from workorders.pm.models import TEMPLATES, Maintenance, Schedule, TemplateName

TZ = ZoneInfo("Asia/Shanghai")  # the demo site's timezone

#: Passenger lift A1, statutory 15-day maintenance (lead time 2 days) from 1 January 2026.
LIFT_15D: dict[str, Any] = {
    "id": "lift-15d",
    "template": "elevator_15d",
    "select": {"assets": ["lift-a1"]},
    "dtstart": "2026-01-01",
}


def at(text: str) -> dt.datetime:
    """A time on the site's clock."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=TZ)


def steps(start: str, end: str, every: dt.timedelta) -> Iterator[dt.datetime]:
    """Simulated clock readings from start to end inclusive."""
    t, stop = at(start), at(end)
    while t <= stop:
        yield t
        t += every


def site_with(demo: SiteConfig, *schedules: dict[str, Any]) -> SiteConfig:
    """The demo site with these maintenance schedules."""
    maintenance = Maintenance.model_validate({"schedules": list(schedules)})
    doc = demo.doc.model_copy(update={"maintenance": maintenance})
    return SiteConfig(path=demo.path, doc=doc, profiles=demo.profiles)


def pm_orders(db: Database) -> list[tuple[str, str, str]]:
    """(asset, due date, opened at) of every PM work order, by due date."""
    with db.session() as s:
        rows = s.scalars(
            select(WorkOrder)
            .where(WorkOrder.pm_key.is_not(None))
            .order_by(WorkOrder.due_at, WorkOrder.asset_id)
        )
        return [
            (
                str(wo.asset_id),
                f"{wo.due_at.astimezone(TZ):%Y-%m-%d}" if wo.due_at else "",
                f"{wo.created_at.astimezone(TZ):%Y-%m-%d %H:%M}",
            )
            for wo in rows
        ]


def dues(db: Database) -> list[str]:
    """The due dates of every PM work order."""
    return [due for _, due, _ in pm_orders(db)]


def pm_order(db: Database, due: str) -> WorkOrder:
    with db.session() as s:
        return s.scalars(
            select(WorkOrder).where(WorkOrder.due_at == at(due)).order_by(WorkOrder.id)
        ).one()


def set_status(db: Database, wo_id: int, *targets: tuple[str, str]) -> None:
    """Move a work order through (status, local time) steps, as the site engineer."""
    with db.session() as s:
        wo = s.get(WorkOrder, wo_id)
        assert wo is not None
        for target, when in targets:
            service.change_status(
                s, wo=wo, target=target, actor="eng", role="engineer", at=at(when), now=at(when)
            )


# --- generation ---------------------------------------------------------------------------------

#: By hand: due every 15 days from 1 Jan; each opened 2 days ahead, at midnight site time.
#: 2 March (opened 28 Feb) lies beyond the 60 days simulated.
LIFT_15D_FIRST_60_DAYS = [
    ("lift-a1", "2026-01-01", "2025-12-30 00:00"),
    ("lift-a1", "2026-01-16", "2026-01-14 00:00"),
    ("lift-a1", "2026-01-31", "2026-01-29 00:00"),
    ("lift-a1", "2026-02-15", "2026-02-13 00:00"),
]


def test_elevator_15_day_schedule_opens_each_work_order_its_lead_time_ahead(
    db: Database, demo_site: SiteConfig
) -> None:
    site = site_with(demo_site, LIFT_15D)
    for now in steps("2025-12-29", "2026-02-27", dt.timedelta(hours=6)):
        pm.run_once(db, site, now=now)
    assert pm_orders(db) == LIFT_15D_FIRST_60_DAYS
    wo = pm_order(db, "2026-01-16")
    # The demo site gives its lifts' work to the lift contractor (site.yaml assignment:).
    assert (wo.type, wo.origin, wo.priority, wo.status) == ("preventive", "pm", "P4", "assigned")
    assert wo.contractor_id is not None and wo.assignee_id is None
    assert wo.pm_key == "pm:lift-15d:lift-a1:2026-01-15T16:00:00Z"
    assert wo.title == "Elevator half-monthly maintenance: Passenger lift A1, due 2026-01-16"
    assert "- [ ] Levelling accuracy within spec (轿厢平层准确度)" in wo.description
    assert "TSG T5002-2017" in wo.description


def test_schedule_selecting_an_asset_class_opens_one_work_order_per_asset(
    db: Database, demo_site: SiteConfig
) -> None:
    site = site_with(demo_site, {**LIFT_15D, "select": {"asset_class": ["Elevator"]}})
    pm.run_once(db, site, now=at("2025-12-30"))
    assert [(a, d) for a, d, _ in pm_orders(db)] == [
        ("lift-a1", "2026-01-01"),
        ("lift-b1", "2026-01-01"),
    ]


def test_restart_mid_period_opens_no_duplicate(db: Database, demo_site: SiteConfig) -> None:
    site = site_with(demo_site, LIFT_15D)
    assert len(pm.run_once(db, site, now=at("2025-12-30"))) == 1
    assert len(pm.run_once(db, site, now=at("2026-01-14 12:00"))) == 1
    # Restart: new engine, new configuration objects, same db; same clock, then later.
    again = Database(db.url)
    site = site_with(demo_site, LIFT_15D)
    try:
        assert pm.run_once(again, site, now=at("2026-01-14 12:00")) == []
        assert pm.run_once(again, site, now=at("2026-01-15")) == []
        assert len(pm.run_once(again, site, now=at("2026-01-29"))) == 1
        assert pm.run_once(again, site, now=at("2026-01-29")) == []
    finally:
        again.dispose()
    assert dues(db) == ["2026-01-01", "2026-01-16", "2026-01-31"]


def test_a_week_of_downtime_opens_the_missed_occurrence_once_then_the_next_on_time(
    db: Database, demo_site: SiteConfig
) -> None:
    site = site_with(demo_site, LIFT_15D)
    for now in steps("2025-12-29", "2026-01-11", dt.timedelta(hours=1)):  # up to day 10
        pm.run_once(db, site, now=now)
    assert dues(db) == ["2026-01-01"]
    # Down from day 10 to day 17: the 16 January order should have opened on the 14th.
    opened = pm.run_once(db, site, now=at("2026-01-18"))
    assert len(opened) == 1
    later = {
        now: pm.run_once(db, site, now=now)
        for now in steps("2026-01-18", "2026-02-01", dt.timedelta(hours=1))
    }
    assert [now for now, ids in later.items() if ids] == [at("2026-01-29")]
    assert pm_orders(db) == [
        ("lift-a1", "2026-01-01", "2025-12-30 00:00"),
        ("lift-a1", "2026-01-16", "2026-01-18 00:00"),
        ("lift-a1", "2026-01-31", "2026-01-29 00:00"),
    ]
    assert "Opened after its due date" in pm_order(db, "2026-01-16").description


@pytest.mark.parametrize(
    ("catch_up", "expected"),
    [
        (1, ["2026-01-01", "2026-02-15"]),
        (3, ["2026-01-01", "2026-01-16", "2026-01-31", "2026-02-15"]),
    ],
)
def test_a_long_outage_opens_only_the_latest_missed_occurrences(
    db: Database, demo_site: SiteConfig, catch_up: int, expected: list[str]
) -> None:
    site = site_with(demo_site, {**LIFT_15D, "catch_up": catch_up})
    pm.run_once(db, site, now=at("2025-12-30"))
    pm.run_once(db, site, now=at("2026-02-20"))  # down since 30 December
    pm.run_once(db, site, now=at("2026-02-20"))
    assert dues(db) == expected
    if catch_up == 1:
        note = pm_order(db, "2026-02-15").description
        assert "missed while Plantroom was down, not opened: 2026-01-16, 2026-01-31" in note


def test_a_new_schedule_starting_in_the_past_opens_only_the_latest_occurrence(
    db: Database, demo_site: SiteConfig
) -> None:
    site = site_with(demo_site, LIFT_15D)
    pm.run_once(db, site, now=at("2026-02-01"))
    assert dues(db) == ["2026-01-31"]


def test_a_closed_pm_work_order_keeps_its_key_and_is_never_opened_again(
    db: Database, demo_site: SiteConfig
) -> None:
    site = site_with(demo_site, LIFT_15D)
    [wo_id] = pm.run_once(db, site, now=at("2025-12-30"))
    set_status(db, wo_id, ("resolved", "2026-01-01 10:00"), ("closed", "2026-01-01 11:00"))
    assert pm.run_once(db, site, now=at("2025-12-30")) == []
    wo = pm_order(db, "2026-01-01")
    assert (wo.status, wo.dedup_key, wo.pm_key) == (
        "closed",
        None,
        "pm:lift-15d:lift-a1:2025-12-31T16:00:00Z",
    )


def test_racing_generators_open_each_occurrence_once(db: Database, demo_site: SiteConfig) -> None:
    """Both plan before either writes, as two processes would; the unique key decides."""
    site = site_with(demo_site, {**LIFT_15D, "select": {"asset_class": ["Elevator"]}})
    now = at("2025-12-30")
    with db.sessions() as a, db.sessions() as b:
        plan_a = pm.plan_due(a, site=site, now=now)
        plan_b = pm.plan_due(b, site=site, now=now)
        assert [d.key for d in plan_a] == [d.key for d in plan_b] and len(plan_a) == 2
        assert len(pm.create_due(a, plan_a, tz=TZ, now=now)) == 2
        a.commit()
        assert pm.create_due(b, plan_b, tz=TZ, now=now) == []
        b.commit()
    assert dues(db) == ["2026-01-01", "2026-01-01"]


def test_concurrent_generators_open_each_occurrence_once(
    db: Database, demo_site: SiteConfig
) -> None:
    database = db
    site = site_with(demo_site, {**LIFT_15D, "select": {"asset_class": ["Elevator"]}})
    pm.run_once(database, site, now=at("2025-12-30"))
    start = threading.Barrier(4)
    opened: list[list[int]] = []

    def generate() -> None:
        start.wait(timeout=10)
        opened.append(pm.run_once(database, site, now=at("2026-01-14")))

    workers = [threading.Thread(target=generate, name=f"pm-race-{i}") for i in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=30)
    assert sum(len(ids) for ids in opened) == 2 and len(opened) == 4
    assert dues(database) == ["2026-01-01", "2026-01-01", "2026-01-16", "2026-01-16"]


def test_floating_schedule_counts_the_next_due_date_from_completion(
    db: Database, demo_site: SiteConfig
) -> None:
    site = site_with(demo_site, {**LIFT_15D, "id": "lift-floating", "mode": "floating"})
    [first] = pm.run_once(db, site, now=at("2025-12-30"))
    # While the 1 January order is open nothing more opens, though a fixed schedule would have
    # opened 16 January on the 14th.
    for now in steps("2026-01-01", "2026-01-20", dt.timedelta(hours=6)):
        assert pm.run_once(db, site, now=now) == []
    # Done on the 20th, 19 days late, and verified the next day: the next is due 15 days after
    # the work was done (4 February), not on the calendar (31 January) nor after the verification.
    set_status(db, first, ("resolved", "2026-01-20 15:30"), ("verified", "2026-01-21 09:00"))
    assert pm.run_once(db, site, now=at("2026-02-01 23:00")) == []
    [second] = pm.run_once(db, site, now=at("2026-02-02"))
    assert dues(db) == ["2026-01-01", "2026-02-04"]
    # Done early this time (on the 2nd, the day it opened, two days before it was due): the
    # next moves earlier too, to 15 days after the 2nd. (A job cannot be done before its work
    # order exists: a stated time before the creation is refused.)
    set_status(db, second, ("resolved", "2026-02-02 10:00"), ("closed", "2026-02-02 11:00"))
    pm.run_once(db, site, now=at("2026-02-15"))
    assert dues(db) == ["2026-01-01", "2026-02-04", "2026-02-17"]


def test_floating_schedule_counts_from_the_due_date_of_a_cancelled_occurrence(
    db: Database, demo_site: SiteConfig
) -> None:
    site = site_with(demo_site, {**LIFT_15D, "mode": "floating"})
    [first] = pm.run_once(db, site, now=at("2025-12-30"))
    set_status(db, first, ("cancelled", "2026-01-10"))
    pm.run_once(db, site, now=at("2026-01-14"))
    assert dues(db) == ["2026-01-01", "2026-01-16"]


# --- templates and configuration ----------------------------------------------------------------


def _gaps(template: str, dtstart: str = "2026-01-01") -> list[str]:
    """The first three gaps between occurrences of a template's rule, in days or months."""
    sched = Schedule.model_validate(
        {"id": "t", "template": template, "select": {"assets": ["x"]}, "dtstart": dtstart}
    )
    occ = list(sched.rule(TZ)[:4])
    out = []
    for a, b in itertools.pairwise(occ):
        months = (b.year - a.year) * 12 + b.month - a.month
        out.append(f"{months}mo" if b.day == a.day and months else f"{(b - a).days}d")
    return out


@pytest.mark.parametrize(
    ("template", "gaps"),
    [
        ("elevator_15d", ["15d", "15d", "15d"]),  # TSG T5002-2017: at least every 15 days
        ("elevator_quarterly", ["3mo", "3mo", "3mo"]),
        ("elevator_half_yearly", ["6mo", "6mo", "6mo"]),
        ("elevator_yearly", ["12mo", "12mo", "12mo"]),
        ("elevator_rescue_drill", ["6mo", "6mo", "6mo"]),  # a rescue drill every half year
        ("fire_pump_weekly", ["7d", "7d", "7d"]),  # GB 50974: simulated automatic start
        ("fire_pump_monthly", ["1mo", "1mo", "1mo"]),  # GB 50974: manual start
        ("jockey_pump_daily", ["1d", "1d", "1d"]),
        ("fire_pump_quarterly", ["3mo", "3mo", "3mo"]),  # flow and pressure test
        ("fire_system_yearly", ["12mo", "12mo", "12mo"]),  # GB 25201: full test
    ],
)
def test_templates_expand_to_the_statutory_intervals(template: str, gaps: list[str]) -> None:
    assert _gaps(template) == gaps
    assert TEMPLATES[template].checklist


def test_every_template_is_a_valid_template_name_and_fields_given_override_it() -> None:
    assert set(get_args(TemplateName)) == set(TEMPLATES)
    sched = Schedule.model_validate(
        {**LIFT_15D, "checklist": ["Our contract's own list"], "lead_time": "5d"}
    )
    assert (sched.rrule, sched.name) == ("FREQ=DAILY;INTERVAL=15", TEMPLATES["elevator_15d"].name)
    assert (sched.checklist, sched.lead_time) == (["Our contract's own list"], 5 * 86400)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"rrule": "FREQ=FORTNIGHTLY"}, "FREQ=FORTNIGHTLY is not allowed"),
        ({"rrule": "FREQ=HOURLY"}, "FREQ=HOURLY is not allowed"),
        ({"rrule": "INTERVAL=2"}, "FREQ is missing"),
        ({"rrule": "FREQ=DAILY;INTERVAL=0"}, "INTERVAL must be a whole number"),
        ({"rrule": "FREQ=WEEKLY;BYDAY=XX"}, "not a valid RFC 5545 RRULE"),
        ({"rrule": "FREQ=DAILY;UNTIL=20261231"}, "write UNTIL in UTC"),
        ({"rrule": "FREQ=MONTHLY", "dtstart": "2026-01-31"}, "skip shorter months"),
        ({"rrule": "FREQ=DAILY;UNTIL=20251231T000000Z"}, "never occurs on or after dtstart"),
        ({"select": {}}, "an empty select would schedule every asset"),
        ({"template": "lift_weekly"}, "Input should be 'elevator_15d'"),
        ({"every": 2000, "point": "run_hours"}, "meter_interval rule under rules:"),
    ],
)
def test_bad_schedules_are_refused_with_a_clear_message(
    change: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        Schedule.model_validate({**LIFT_15D, **change})


def test_duplicate_schedule_ids_are_refused() -> None:
    with pytest.raises(ValidationError, match="duplicate schedule id 'lift-15d'"):
        Maintenance.model_validate({"schedules": [LIFT_15D, LIFT_15D]})


def demo_without_maintenance() -> str:
    """The demo's site.yaml with its own maintenance: section taken out."""
    lines = (SITES_DIR / "demo" / "site.yaml").read_text(encoding="utf-8").splitlines(True)
    start = lines.index("maintenance:\n")
    end = start + 1
    while end < len(lines) and (lines[end].startswith((" ", "#")) or not lines[end].strip()):
        end += 1
    return "".join(lines[:start] + lines[end:])


def test_bad_rrule_in_site_yaml_names_file_line_and_field(tmp_path: Path) -> None:
    text = demo_without_maintenance()
    text += (
        "\nmaintenance:\n"
        "  schedules:\n"
        "    - id: lift-15d\n"
        "      template: elevator_15d\n"
        "      select: {asset_class: [Elevator]}\n"
        "      dtstart: 2026-01-01\n"
        "    - id: chiller-filters\n"
        "      select: {assets: [pump-1]}\n"
        "      dtstart: 2026-01-01\n"
        "      rrule: FREQ=DAYLY;INTERVAL=15\n"
    )
    path = tmp_path / "site.yaml"
    path.write_text(text, encoding="utf-8")
    line = text.splitlines().index("      rrule: FREQ=DAYLY;INTERVAL=15") + 1
    with pytest.raises(ConfigError) as err:
        load_site(path)
    [problem] = err.value.problems
    assert str(problem).startswith(f"{path}:{line}: maintenance.schedules[1].rrule: ")
    assert "FREQ=DAYLY is not allowed: use one of YEARLY, MONTHLY, WEEKLY, DAILY" in str(problem)


def test_maintenance_section_in_site_yaml_loads(tmp_path: Path) -> None:
    text = demo_without_maintenance()
    text += (
        "\nmaintenance:\n"
        "  check_every: 5m\n"
        "  schedules:\n"
        "    - {id: lift-15d, template: elevator_15d, select: {asset_class: [Elevator]},\n"
        "       dtstart: 2026-01-01}\n"
    )
    path = tmp_path / "site.yaml"
    path.write_text(text, encoding="utf-8")
    maintenance = load_site(path).doc.maintenance
    assert maintenance.check_every == 300
    assert maintenance.schedules[0].lead_time == 2 * 86400


# --- compliance ---------------------------------------------------------------------------------


def test_compliance_for_a_month_with_one_on_time_one_late_and_one_not_done(
    db: Database, demo_site: SiteConfig
) -> None:
    every_10d = {
        "id": "pump-10d",
        "name": "Pump check",
        "select": {"assets": ["pump-1"]},
        "rrule": "FREQ=DAILY;INTERVAL=10",
        "dtstart": "2026-03-05",
        "lead_time": "1d",
    }
    site = site_with(demo_site, every_10d, LIFT_15D)
    for now in steps("2026-03-01", "2026-03-26", dt.timedelta(days=1)):
        pm.run_once(db, site, now=now)
    assert [d for a, d, _ in pm_orders(db) if a == "pump-1"] == [
        "2026-03-05",
        "2026-03-15",
        "2026-03-25",
    ]
    set_status(db, pm_order(db, "2026-03-05").id, ("resolved", "2026-03-05 16:00"))
    set_status(db, pm_order(db, "2026-03-05").id, ("closed", "2026-03-09 10:00"))
    set_status(db, pm_order(db, "2026-03-15").id, ("resolved", "2026-03-17 10:00"))
    set_status(db, pm_order(db, "2026-03-15").id, ("verified", "2026-03-17 12:00"))
    for visit in ("2026-03-02", "2026-03-17"):  # the lift's March visits, both on the day
        set_status(
            db, pm_order(db, visit).id, ("resolved", f"{visit} 11:00"), ("closed", f"{visit} 12:00")
        )

    with db.session() as s:
        report = pm.pm_compliance(s, site=site, month="2026-03", now=at("2026-04-02"))
        mid_month = pm.pm_compliance(s, site=site, month="2026-03", now=at("2026-03-25 12:00"))
        smrp = pm.pm_compliance(
            s, site=site, month=dt.date(2026, 3, 1), now=at("2026-04-02"), grace="smrp"
        )
    pump = report.schedules[1]
    assert (pump.schedule_id, pump.due, pump.on_time, pump.late, pump.not_done) == (
        "pump-10d",
        3,
        1,
        1,
        1,
    )
    assert pump.percent == pytest.approx(100 / 3)
    lift = report.schedules[0]
    assert (lift.schedule_id, lift.due, lift.on_time, lift.percent) == ("lift-15d", 2, 2, 100.0)
    assert (report.month, report.overall.due, report.overall.on_time) == ("2026-03", 5, 3)
    assert report.overall.percent == pytest.approx(60.0)
    # On the 25th the last pump check is not late yet.
    assert (mid_month.schedules[1].pending, mid_month.schedules[1].not_done) == (1, 0)
    # SMRP grace: 20 % of a 10-day interval is 2 days, so done on the 17th counts as on time.
    assert (smrp.schedules[1].on_time, smrp.schedules[1].late) == (2, 0)


# --- the scheduler ------------------------------------------------------------------------------


def test_pm_job_runs_at_start_then_every_check_every_and_stops_without_leaving_threads(
    db: Database, demo_site: SiteConfig
) -> None:
    site = site_with(demo_site, LIFT_15D)
    maintenance = site.doc.maintenance.model_copy(update={"check_every": 3600.0})
    doc = site.doc.model_copy(update={"maintenance": maintenance})
    site = SiteConfig(path=site.path, doc=doc, profiles=site.profiles)
    before = set(threading.enumerate())
    ran = threading.Event()
    outcomes: list[JobExecutionEvent] = []

    def listen(event: JobExecutionEvent) -> None:
        outcomes.append(event)
        ran.set()

    # The job as plantroom.scheduler declares it, on a scheduler of the same kind.
    scheduler = BackgroundScheduler(timezone=dt.UTC)
    pm.add_jobs(scheduler, db=db, site=site, clock=lambda: at("2025-12-30"))
    job = scheduler.get_job(pm.JOB_ID)
    assert job is not None and job.trigger.interval == dt.timedelta(hours=1)
    scheduler.add_listener(listen, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    scheduler.start()
    try:
        assert ran.wait(timeout=10), "the first pass did not run"
    finally:
        scheduler.shutdown(wait=True)
    assert outcomes[0].exception is None and len(outcomes[0].retval) == 1
    assert dues(db) == ["2026-01-01"]
    left = [t.name for t in threading.enumerate() if t not in before and t.is_alive()]
    assert left == []
