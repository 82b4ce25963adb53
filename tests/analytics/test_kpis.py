"""Maintenance KPIs of a month (analytics.kpis), on SQLite and PostgreSQL: a hand-made March 2026
of work orders, labor and parts made through the work-order services, with every figure worked
out by hand below.

Definitions: DOMAIN.md "KPI definitions" (MTTR IEEE 493, MTBF SMRP 3.5.1, PM compliance with the
due date as deadline, planned hours / all hours, backlog SMRP 5.4.9, possible recall in 30 days).

The world (Asia/Shanghai; the demo's 20 assets, all installed before 2026; Huaxia does lifts):

  corrective
    W1 lift-a1 Huaxia  opened 02-20 10:00, resolved 02-20 14:00 (February), 2 h labor (Feb)
    W7 lift-a1 Huaxia  opened 02-25 10:00, resolved 03-02 10:00: 120 h repair, ended in March
    W2 lift-a1 Huaxia  opened 03-05 09:00, resolved 03-05 15:00: 6 h; recall (W7 ended 3 d
                       before); 4 h × 100 labor, 300 call-out fee
    W3 lift-b1 Huaxia  opened 03-10 08:00, resolved 03-11 10:00: 26 h; 6 h × 100, part 1 × 1500
    W4 pump-1 in-house opened 03-12 10:00, resolved 03-12 12:00: 2 h; 2 h × 80, parts 2 × 50
    W5 pump-1 in-house opened 03-20 10:00, in progress at the month's end; recall (W4 ended
                       8 days before)
    W6 pump-2 in-house opened 03-25 09:00, cancelled 10:00: no failure, no repair
    W11 no asset       opened 03-15 09:00, still new (a job on the grounds): not a failure
  preventive (PM keys of a schedule the site does not have: no grace, no hard limit)
    W8 pump-1 due 03-10 09:00, resolved 11:00, closed 12:00: on time; 3 h × 80
    W9 pump-2 due 03-15 09:00, resolved 03-17 10:00, closed: late; 5 h × 80
    W10 lift-b1 Huaxia due 03-20 09:00, never done: not done, open at the month's end

  crew: technicians t1, t2 active, t3 disabled (2); Huaxia accounts hx1 active, hx2 disabled (1)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from analytics.kpis import UnknownFilter, kpis
from config.site import SiteConfig
from core.auth import service as auth
from core.auth.models import Role
from core.db import Database
from workorders.contractors.scorecard import BadMonth
from workorders.orders import costs, service
from workorders.orders.models import WorkOrder

SH = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 4, 2, 12, 0, tzinfo=SH)


def at(text: str) -> dt.datetime:
    """A time on the site's clock."""
    return dt.datetime.fromisoformat(f"2026-{text}").replace(tzinfo=SH)


@dataclass
class March:
    """The firms' ids and the work orders by name."""

    huaxia: int
    evergreen: int
    ids: dict[str, int]


def build_march(db: Database) -> March:
    """The month above, through the work-order services. The services stamp labor at most 7
    days back and parts and other costs with the clock, so the lines are then dated by hand."""
    with db.session() as s:
        huaxia = auth.get_or_create_organisation(s, "Huaxia Property Services")
        evergreen = auth.get_or_create_organisation(s, "Evergreen Facilities")
        for name, role, org, active in [
            ("t1", Role.technician, None, True),
            ("t2", Role.technician, None, True),
            ("t3", Role.technician, None, False),
            ("hx1", Role.contractor, huaxia, True),
            ("hx2", Role.contractor, huaxia, False),
        ]:
            user = auth.create_user(s, username=name, password=None, role=role, organisation=org)
            user.active = active
        ids: dict[str, int] = {}

        def make(
            key: str,
            asset: str | None,
            opened: str,
            *,
            firm: int | None = None,
            type_: str = "corrective",
        ) -> WorkOrder:
            wo = service.create(
                s,
                title=f"job {key}",
                actor="duty",
                asset_id=asset,
                type_=type_,
                contractor_id=firm,
                at=at(opened),
                now=at(opened),
            )
            s.flush()
            ids[key] = wo.id
            return wo

        def pm(key: str, asset: str, due: str, *, firm: int | None = None) -> WorkOrder:
            wo = make(key, asset, due, firm=firm, type_="preventive")
            wo.pm_key = f"pm:kpi-test:{asset}:{at(due).astimezone(dt.UTC).isoformat()}"
            wo.due_at = at(due)
            return wo

        def move(wo: WorkOrder, *steps: tuple[str, str]) -> None:
            for target, when in steps:
                service.change_status(
                    s, wo=wo, target=target, actor="crew", role="admin", at=at(when), now=at(when)
                )

        def labor(wo: WorkOrder, hours: float, rate: float, worked: str) -> None:
            line = costs.add_labor(
                s, wo=wo, worker="crew", hours=hours, rate=rate, actor="crew", role="admin"
            )
            line.worked_at = at(worked)

        def part(wo: WorkOrder, qty: float, unit_cost: float, booked: str) -> None:
            line = costs.add_part(
                s, wo=wo, part="part", quantity=qty, unit_cost=unit_cost, actor="crew", role="admin"
            )
            line.created_at = at(booked)

        def fee(wo: WorkOrder, amount: float, booked: str) -> None:
            line = costs.add_cost(
                s, wo=wo, description="call-out", amount=amount, actor="crew", role="admin"
            )
            line.created_at = at(booked)

        hx = huaxia.id
        w1 = make("W1", "lift-a1", "02-20 10:00", firm=hx)
        labor(w1, 2, 100, "02-20 12:00")
        move(w1, ("resolved", "02-20 14:00"))
        w7 = make("W7", "lift-a1", "02-25 10:00", firm=hx)
        move(w7, ("resolved", "03-02 10:00"))
        w2 = make("W2", "lift-a1", "03-05 09:00", firm=hx)
        labor(w2, 4, 100, "03-05 12:00")
        fee(w2, 300, "03-05 12:00")
        move(w2, ("resolved", "03-05 15:00"))
        w3 = make("W3", "lift-b1", "03-10 08:00", firm=hx)
        labor(w3, 6, 100, "03-10 12:00")
        part(w3, 1, 1500, "03-11 09:00")
        move(w3, ("resolved", "03-11 10:00"))
        w4 = make("W4", "pump-1", "03-12 10:00")
        labor(w4, 2, 80, "03-12 11:00")
        part(w4, 2, 50, "03-12 11:00")
        move(w4, ("resolved", "03-12 12:00"))
        w5 = make("W5", "pump-1", "03-20 10:00")
        move(w5, ("in_progress", "03-20 11:00"))
        w6 = make("W6", "pump-2", "03-25 09:00")
        move(w6, ("cancelled", "03-25 10:00"))
        make("W11", None, "03-15 09:00")
        w8 = pm("W8", "pump-1", "03-10 09:00")
        labor(w8, 3, 80, "03-10 10:00")
        move(w8, ("resolved", "03-10 11:00"), ("closed", "03-10 12:00"))
        w9 = pm("W9", "pump-2", "03-15 09:00")
        labor(w9, 5, 80, "03-17 09:00")
        move(w9, ("resolved", "03-17 10:00"), ("closed", "03-17 11:00"))
        pm("W10", "lift-b1", "03-20 09:00", firm=hx)
        return March(hx, evergreen.id, ids)


@pytest.fixture
def march(db_both: Database) -> March:
    """The month, in a fresh database."""
    return build_march(db_both)


def figures(db: Database, site: SiteConfig, **filters: Any) -> dict[str, Any]:
    """The KPIs of March 2026 as of 2 April."""
    with db.session() as s:
        return kpis(s, site, month="2026-03", now=NOW, **filters)


def test_the_sites_march_worked_by_hand(
    db_both: Database, demo_site: SiteConfig, march: March
) -> None:
    k = figures(db_both, demo_site)
    # MTTR: W7 120 h, W2 6 h, W3 26 h, W4 2 h ended in March: 154 / 4.
    assert k["mttr_hours"] == 38.5
    assert k["counts"]["repairs"] == 4
    # MTBF: 20 assets × 31 days = 620 asset-days over W2, W3, W4, W5.
    assert k["counts"]["asset_days"] == 620.0
    assert k["counts"]["failures"] == 4
    assert k["mtbf_days"] == 155.0
    # PM: W8 on time, W9 late, W10 not done.
    assert (k["counts"]["pm_due"], k["counts"]["pm_on_time"]) == (3, 1)
    assert (k["counts"]["pm_late"], k["counts"]["pm_not_done"]) == (1, 1)
    assert k["pm_compliance_percent"] == 33.3
    # Planned share: W8 3 h + W9 5 h of 4 + 6 + 2 + 3 + 5 = 20 h.
    assert (k["counts"]["planned_hours"], k["counts"]["labor_hours"]) == (8.0, 20.0)
    assert k["planned_share_percent"] == 40.0
    # Recalls: W2 and W5 of the four failures.
    assert (k["counts"]["recalls"], k["counts"]["recall_base"]) == (2, 4)
    assert k["recall_rate_percent"] == 50.0
    # Spend: labor 400 + 600 + 160 + 240 + 400; parts 1500 + 100; other 300.
    assert k["spend"] == {
        "labor": 1800.0,
        "parts": 1600.0,
        "other": 300.0,
        "total": 3700.0,
        "planned": 640.0,
        "reactive": 3060.0,
    }
    # W6 cancelled and W11 on no asset were opened but are no failures.
    assert k["counts"]["corrective_opened"] == 6


def test_backlog_in_crew_weeks_estimates_each_open_job_from_the_years_jobs_of_its_type(
    db_both: Database, demo_site: SiteConfig, march: March
) -> None:
    k = figures(db_both, demo_site)
    # Open on 1 April 00:00: W5 and W11 (corrective), W10 (preventive). Jobs ended in the year
    # before with labor: corrective W1 2, W2 4, W3 6, W4 2 h (mean 3.5); preventive W8 3, W9 5
    # (mean 4). 3.5 + 3.5 + 4 = 11 h over 2 active technicians × 40 h.
    assert k["counts"]["backlog_open"] == 3
    assert k["counts"]["backlog_hours"] == 11.0
    assert k["counts"]["crew_size"] == 2
    assert k["backlog_crew_weeks"] == round(11 / 80, 2)


def test_per_building_class_and_firm(
    db_both: Database, demo_site: SiteConfig, march: March
) -> None:
    k = figures(db_both, demo_site)
    b = {row["building"]: row for row in k["by_building"]}
    assert set(b) == {"bldg-a", "bldg-b"}
    # Building B: W3 26 h and W4 2 h repaired; 13 assets × 31 days over W3, W4, W5.
    assert b["bldg-b"]["name"] == "Building B (Services Hall)"
    assert b["bldg-b"]["mttr_hours"] == 14.0
    assert b["bldg-b"]["mtbf_days"] == round(403 / 3, 2)
    assert b["bldg-b"]["pm_compliance_percent"] == 33.3
    assert b["bldg-b"]["recall_rate_percent"] == 33.3
    c = {row["class"]: row for row in k["by_class"]}
    assert set(c) == {"Elevator", "Pump"}
    pump = c["Pump"]
    # Pumps: W4 2 h; 2 × 31 asset-days over W4, W5; PM W8 on time of W8, W9; W5 a recall;
    # 10 h worked of which 8 planned; spend 160 + 240 + 400 labor and 100 parts.
    assert (pump["mttr_hours"], pump["mtbf_days"]) == (2.0, 31.0)
    assert (pump["pm_compliance_percent"], pump["recall_rate_percent"]) == (50.0, 50.0)
    assert pump["planned_share_percent"] == 80.0
    assert pump["spend"]["total"] == 900.0
    assert (pump["spend"]["planned"], pump["spend"]["reactive"]) == (640.0, 260.0)
    firms = {row["contractor"]: row for row in k["by_contractor"]}
    assert set(firms) == {None, march.huaxia}
    assert firms[None]["name"] is None
    assert firms[march.huaxia]["name"] == "Huaxia Property Services"
    assert firms[None]["spend"]["total"] == 900.0  # the in-house work is the pumps'


def test_a_contractor_scope_counts_only_its_firms_work_assets_and_crew(
    db_both: Database, demo_site: SiteConfig, march: March
) -> None:
    k = figures(db_both, demo_site, contractor_id=march.huaxia)
    assert k["filters"] == {"building": None, "contractor": march.huaxia, "class": None}
    # Repairs W7 120, W2 6, W3 26 h; failures W2, W3 over lift-a1 and lift-b1's 62 asset-days.
    assert k["mttr_hours"] == round(152 / 3, 2)
    assert (k["counts"]["asset_days"], k["mtbf_days"]) == (62.0, 31.0)
    assert k["recall_rate_percent"] == 50.0  # W2
    assert k["pm_compliance_percent"] == 0.0  # W10
    assert k["planned_share_percent"] == 0.0
    assert k["spend"] == {
        "labor": 1000.0,
        "parts": 1500.0,
        "other": 300.0,
        "total": 2800.0,
        "planned": 0.0,
        "reactive": 2800.0,
    }
    # W10 open, 4 h, over the firm's one active account.
    assert (k["counts"]["backlog_hours"], k["counts"]["crew_size"]) == (4.0, 1)
    assert k["backlog_crew_weeks"] == 0.1
    assert [row["contractor"] for row in k["by_contractor"]] == [march.huaxia]
    assert {row["class"] for row in k["by_class"]} == {"Elevator"}


def test_a_firm_without_work_has_nothing_to_measure(
    db_both: Database, demo_site: SiteConfig, march: March
) -> None:
    k = figures(db_both, demo_site, contractor_id=march.evergreen)
    assert k["mttr_hours"] is None
    assert k["mtbf_days"] is None
    assert k["pm_compliance_percent"] is None
    assert k["recall_rate_percent"] is None
    assert k["spend"]["total"] == 0.0
    assert k["backlog_crew_weeks"] is None  # no active account: no crew
    assert k["by_building"] == k["by_contractor"] == k["by_class"] == []


def test_a_month_under_way_counts_up_to_now(
    db_both: Database, demo_site: SiteConfig, march: March
) -> None:
    with db_both.session() as s:
        k = kpis(s, demo_site, month="2026-03", now=at("03-12 11:30"))
    # By 12 March 11:30: W7, W2 and W3 repaired; W4 open; 20 assets × 11.4792 days.
    assert k["period"]["complete"] is False
    assert k["counts"]["repairs"] == 3
    assert k["counts"]["asset_days"] == round(20 * (11 + 11.5 / 24), 2)
    assert k["spend"]["labor"] == 400 + 600 + 240 + 160  # W4's labor at 11:00 counts


@pytest.mark.parametrize(
    ("filters", "error"),
    [
        ({"month": "2026-13"}, BadMonth),
        ({"month": "2026-05"}, BadMonth),  # not begun on 2 April
        ({"month": "2026-03", "building": "bldg-z"}, UnknownFilter),
        ({"month": "2026-03", "asset_class": "Boiler"}, UnknownFilter),
        ({"month": "2026-03", "contractor_id": 999}, UnknownFilter),
    ],
)
def test_bad_questions_get_a_reason(
    db: Database, demo_site: SiteConfig, filters: dict[str, Any], error: type[Exception]
) -> None:
    with db.session() as s, pytest.raises(error):
        kpis(s, demo_site, now=NOW, **filters)
