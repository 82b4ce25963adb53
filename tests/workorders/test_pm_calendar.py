"""The PM calendar (issue 15): a month's preventive work as scheduled, open, done, late, overdue and
never opened, with the month's figures and compliance; an asset's schedules; and the demo site
with its fire pump, jockey pump and real maintenance schedule."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from config.settings import Settings
from config.site import SITES_DIR, SiteConfig
from core.db import Database
from plantroom.app import create_app
from plantroom.site import load_site
from tests.conftest import ADMIN_TOKEN
from tests.workorders.test_pm import at, set_status, site_with, steps
from tests.workorders.test_statutory import LIFTS_15D, done, order
from workorders.pm import calendar
from workorders.pm import service as pm

#: The fire pump's weekly automatic start, Mondays 09:00 from 5 January 2026 (lead time 1 day).
FIRE_WEEKLY: dict[str, Any] = {
    "id": "fire-pump-weekly",
    "template": "fire_pump_weekly",
    "select": {"assets": ["fire-pump-1"]},
    "dtstart": "2026-01-05T09:00",
}
LIFT_A1 = {**LIFTS_15D, "select": {"assets": ["lift-a1"]}}


@pytest.fixture
def january(db: Database, demo_site: SiteConfig) -> SiteConfig:
    """Lift A1's 15-day maintenance and the fire pump's weekly start, generated until 20 January
    noon; done: the lift on 1 and (16 days later) 17 January, the fire pump on 5 January and,
    two days late, the 12th; the fire pump's 19 January run not done."""
    site = site_with(demo_site, LIFT_A1, FIRE_WEEKLY)
    for now in steps("2025-12-29", "2026-01-20 12:00", dt.timedelta(hours=6)):
        pm.run_once(db, site, now=now)
    done(db, "lift-a1", "2026-01-01", "2026-01-01 10:00")
    done(db, "lift-a1", "2026-01-16", "2026-01-17 10:00")
    done(db, "fire-pump-1", "2026-01-05 09:00", "2026-01-05 09:30", "fire-pump-weekly")
    done(db, "fire-pump-1", "2026-01-12 09:00", "2026-01-14 09:30", "fire-pump-weekly")
    return site


def test_the_month_shows_done_late_overdue_and_scheduled_work_with_its_figures(
    db: Database, january: SiteConfig
) -> None:
    with db.session() as s:
        cal = calendar.month_calendar(s, site=january, month="2026-01", now=at("2026-01-20 12:00"))
        got = [
            (e.schedule_id, f"{e.due_at.astimezone(at('2026-01-01').tzinfo):%m-%d}", e.state)
            for e in cal.entries
        ]
    assert got == [
        ("lift-15d", "01-01", "done"),
        ("fire-pump-weekly", "01-05", "done"),
        ("fire-pump-weekly", "01-12", "late"),
        ("lift-15d", "01-16", "late"),
        ("fire-pump-weekly", "01-19", "overdue"),
        ("fire-pump-weekly", "01-26", "scheduled"),
        ("lift-15d", "01-31", "scheduled"),
    ]
    f = cal.figures
    assert (f.scheduled, f.open, f.done, f.late, f.overdue, f.missed) == (2, 0, 2, 2, 1, 0)
    assert f.statutory_late == 1  # the lift's 16-day gap; the fire pump was late by its date
    c = cal.compliance
    assert (c.due, c.on_time, c.late, c.not_done, c.pending) == (5, 2, 2, 1, 0)
    assert c.percent == pytest.approx(40.0)
    lift = next(e for e in cal.entries if e.state == "late" and e.schedule_id == "lift-15d")
    assert lift.verdict is not None
    assert (lift.verdict.late_reason, lift.verdict.gap_days) == ("gap", 16)


def test_a_past_occurrence_never_opened_after_an_outage_is_shown_as_missed(
    db: Database, demo_site: SiteConfig
) -> None:
    site = site_with(demo_site, FIRE_WEEKLY)
    for now in steps("2026-01-04", "2026-01-06", dt.timedelta(hours=6)):
        pm.run_once(db, site, now=now)
    pm.run_once(db, site, now=at("2026-01-27 12:00"))  # down from the 6th to the 27th
    with db.session() as s:
        cal = calendar.month_calendar(s, site=site, month="2026-01", now=at("2026-01-27 13:00"))
    states = [(f"{e.due_at.astimezone(at('2026-01-01').tzinfo):%d}", e.state) for e in cal.entries]
    # catch_up 1 opened the 26th (late); the 12th and the 19th were never opened.
    assert states == [("05", "overdue"), ("12", "missed"), ("19", "missed"), ("26", "overdue")]
    assert cal.figures.missed == 2


@pytest.fixture
def api(settings: Settings, db: Database, january: SiteConfig) -> Iterator[TestClient]:
    """The app over the January world, as the admin."""
    app = create_app(settings, site=january, db=db)
    with TestClient(app, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as c:
        yield c


def test_the_calendar_api_answers_the_month_with_its_figures_and_links(api: TestClient) -> None:
    r = api.get("/api/v1/pm/calendar", params={"month": "2026-01"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["month"], body["timezone"], body["grace"]) == (
        "2026-01",
        "Asia/Shanghai",
        "due_date",
    )
    # Today is long after January: nothing there is still to come.
    states = Counter(i["state"] for i in body["items"])
    assert states == Counter({"done": 2, "late": 2, "overdue": 1})
    f = body["figures"]
    assert (f["total"], f["done"], f["late"], f["overdue"], f["statutory_late"]) == (5, 2, 2, 1, 1)
    assert body["compliance"]["percent"] == 40.0 and body["compliance"]["target_percent"] == 90.0
    lift = next(
        i
        for i in body["items"]
        if i["state"] == "late" and i["statutory"] and i["late"]["reason"] == "gap"
    )
    assert (
        lift["asset_id"],
        lift["date"],
        lift["late"]["gap_days"],
        lift["late"]["max_gap_days"],
    ) == (
        "lift-a1",
        "2026-01-16",
        16,
        15,
    )
    assert lift["workorder_id"] and lift["schedule_name"] == "Elevator half-monthly maintenance"
    assert lift["asset_name_zh"] == "A1号客梯"
    assert (lift["building_id"], lift["building_name_zh"]) == ("bldg-a", "A座（行政楼）")
    assert {s["id"] for s in body["schedules"]} == {"lift-15d", "fire-pump-weekly"}


def test_the_calendar_api_refuses_a_month_that_is_not_one(api: TestClient) -> None:
    for bad in ("2026-13", "2026-1", "January", "2026-01-01"):
        assert api.get("/api/v1/pm/calendar", params={"month": bad}).status_code == 422
    assert api.get("/api/v1/pm/calendar", params={"grace": "lenient"}).status_code == 422
    assert api.get("/api/v1/pm/calendar", params={"month": "2027-03"}).status_code == 200


def test_an_assets_schedules_say_when_it_was_last_done_and_is_next_due(
    api: TestClient, db: Database
) -> None:
    r = api.get("/api/v1/pm/schedules", params={"asset_id": "lift-a1"})
    assert r.status_code == 200, r.text
    [lift] = r.json()["items"]
    assert (lift["id"], lift["statutory"], lift["max_gap_days"]) == ("lift-15d", True, 15)
    assert "TSG T5002" in lift["source"]
    last = lift["last_done"]
    assert last["workorder_id"] == order(db, "lift-a1", "2026-01-16")
    assert (last["outcome"], last["late"]["reason"], last["late"]["gap_days"]) == (
        "late",
        "gap",
        16,
    )
    assert lift["open"] is None  # the 31 January one was never generated here
    assert lift["next_due_at"] is not None
    assert api.get("/api/v1/pm/schedules", params={"asset_id": "pump-1"}).json()["items"] == []
    assert api.get("/api/v1/pm/schedules", params={"asset_id": "no-such"}).status_code == 404


def test_an_open_job_shows_on_the_asset_and_in_the_month(db: Database, january: SiteConfig) -> None:
    wo = order(db, "fire-pump-1", "2026-01-19 09:00", "fire-pump-weekly")
    with db.session() as s:
        [row] = calendar.asset_schedules(
            s, site=january, asset_id="fire-pump-1", now=at("2026-01-19 10:00")
        )
    assert row.open is not None and row.open.id == wo
    assert row.open_verdict is not None and row.open_verdict.outcome == "pending"
    assert row.next_due == at("2026-01-26 09:00")
    set_status(db, wo, ("cancelled", "2026-01-19 11:00"))
    with db.session() as s:
        cal = calendar.month_calendar(s, site=january, month="2026-01", now=at("2026-01-20 12:00"))
    assert cal.figures.cancelled == 1 and cal.figures.overdue == 0


# --- the demo site ------------------------------------------------------------------------------


def test_the_demo_site_loads_with_its_fire_pump_jockey_pump_and_schedule() -> None:
    site = load_site(SITES_DIR / "demo")
    house = {ref.asset.id: ref for ref in site.assets() if ref.location.endswith("Pump house")}
    assert {"fire-pump-1", "jockey-pump"} <= set(house)
    assert house["fire-pump-1"].asset.brick_class == "Fire_Pump"
    assert house["jockey-pump"].asset.brick_class == "Jockey_Pump"
    points = {a: {p.name for p in site.asset_points[a]} for a in ("fire-pump-1", "jockey-pump")}
    assert {"running", "outlet_pressure", "motor_current", "start_counter"} <= points["fire-pump-1"]
    assert {"system_pressure", "start_pressure", "stop_pressure", "start_counter"} <= points[
        "jockey-pump"
    ]
    schedules = {s.id: s for s in site.doc.maintenance.schedules}
    templates = {s.template for s in schedules.values()}
    assert {
        "elevator_15d",
        "elevator_quarterly",
        "elevator_half_yearly",
        "elevator_yearly",
        "elevator_periodic_inspection",
        "fire_pump_weekly",
        "fire_pump_monthly",
        "fire_pump_quarterly",
        "jockey_pump_daily",
    } <= templates
    selected = {sid: calendar.matched_assets(site, s) for sid, s in schedules.items()}
    assert selected["lift-15d"] == ["lift-a1", "lift-b1"]
    assert selected["lift-inspection"] == ["lift-a1", "lift-b1"]
    assert selected["fire-pump-weekly"] == ["fire-pump-1"]
    assert selected["jockey-daily"] == ["jockey-pump"]
    assert all(s.statutory for s in schedules.values())


def test_the_demo_schedule_opens_its_first_work_orders_assigned_by_the_sites_rules(
    db: Database, demo_site: SiteConfig
) -> None:
    opened = pm.run_once(db, demo_site, now=at("2026-12-07 08:00"))
    assert len(opened) >= 11
    with db.session() as s:
        cal = calendar.month_calendar(
            s, site=demo_site, month="2026-12", now=at("2026-12-07 08:00")
        )
    by_asset = Counter(e.asset_id for e in cal.entries)
    # One check a day from the first work order on: the 6th (opened late, at start), then the
    # 7th to the 31st still to come; the days before the schedule's first order are not shown.
    assert by_asset["jockey-pump"] == 26
    assert by_asset["fire-pump-1"] >= 5  # four or five weekly runs and the monthly start
    assert {e.schedule_id for e in cal.entries if e.asset_id == "lift-a1"} >= {"lift-15d"}
