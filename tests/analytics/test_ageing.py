"""Asset health and the capital plan (analytics.ageing) on the demo's generated maintenance
history (plantroom.maintenance_history), and on small hand-worked histories.

Hand-worked figures follow DOMAIN.md's "Ageing equipment": beta_hat = n / sum ln(T/t_i) for a
time-terminated record over (0, T]; repair cost against replacement cost flagged at 50 % and 75 %.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest

from analytics.ageing import asset_health, capital_plan
from collectors.readings import Quality, Reading
from collectors.sinks.embedded import EmbeddedReader, EmbeddedStore
from config.site import SiteConfig
from core.db import Database
from plantroom.demo import ensure_demo_users
from plantroom.maintenance_history import generate
from workorders.assets.service import AssetNotFound
from workorders.orders import costs
from workorders.orders import repository as orders_repo
from workorders.orders import service as orders
from workorders.orders.models import LaborEntry, Status

#: The demo's "now" in these tests: 2 December 2026, 02:00 UTC.
NOW = dt.datetime(2026, 12, 2, 2, tzinfo=dt.UTC)
DETERIORATING = ("lift-a1", "lift-b1", "pump-1")
STEADY = ("pump-2", "fire-pump-1", "jockey-pump", "water-main")


@pytest.fixture
def history(db: Database, demo_site: SiteConfig) -> Database:
    """The demo database with its generated maintenance history up to NOW."""
    ensure_demo_users(db, demo_site, first_job=False)
    generate(db, demo_site, now=NOW)
    return db


def test_generated_history_deteriorating_assets_have_beta_above_one_with_lower_bound_above_one(
    history: Database, demo_site: SiteConfig
) -> None:
    with history.session() as s:
        for asset in DETERIORATING:
            g = asset_health(s, demo_site, asset_id=asset, now=NOW)["growth"]
            assert g is not None and g["beta"] > 1 and g["beta_lower"] > 1, (asset, g)
            assert g["trend"] == "worsening"
        for asset in STEADY:
            g = asset_health(s, demo_site, asset_id=asset, now=NOW)["growth"]
            assert g is not None and g["beta_lower"] <= 1, (asset, g)


def test_capital_plan_ranks_the_deteriorating_assets_first(
    history: Database, demo_site: SiteConfig
) -> None:
    with history.session() as s:
        plan = capital_plan(s, demo_site, now=NOW)
    ids = [item["asset"]["id"] for item in plan["items"]]
    assert set(ids[: len(DETERIORATING)]) == set(DETERIORATING)
    assert plan["horizon"] == [2027, 2028, 2029, 2030, 2031]
    first = plan["items"][0]
    assert first["rank"] == 1 and "rising_failures" in first["reasons"]
    assert first["evidence"]["beta_lower"] > 1
    assert sum(plan["total_by_year"].values()) == sum(i["cost"] for i in plan["items"])


def test_running_the_generator_twice_stores_nothing_twice(
    history: Database, demo_site: SiteConfig
) -> None:
    again = generate(history, demo_site, now=NOW)
    assert again.corrective == 0 and again.preventive == 0 and again.skipped > 400
    # A month later only that month's work is added.
    later = generate(history, demo_site, now=NOW + dt.timedelta(days=31))
    assert 0 < later.corrective + later.preventive < 30


def test_generated_costs_carry_their_historic_times(
    history: Database, demo_site: SiteConfig
) -> None:
    with history.session() as s:
        h = asset_health(s, demo_site, asset_id="pump-1", now=NOW)
        first = h["failures"][0]
        labor, parts, other = orders_repo.cost_lines(s, first["work_order"])
    assert first["at"] < "2022" and labor and all(x.worked_at.year < 2022 for x in labor)
    assert first["cost"] == pytest.approx(costs.totals(labor, parts, other)["total"])


def test_health_of_a_hand_worked_history(db: Database, demo_site: SiteConfig) -> None:
    """Three repairs on the jockey pump at 100, 200 and 300 days after the records begin (a
    preventive job on day 0), observed to day 400: beta = 3 / (ln 4 + ln 2 + ln(4/3)),
    MTBF 400 / 3 days, MTTR 4 h, repair cost 3 x 1200 = 3600 of 12500 (28.8 %, no flag)."""
    start = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    now = start + dt.timedelta(days=400)
    with db.session() as s:
        orders.create(
            s,
            title="PM",
            actor="t",
            role="admin",
            asset_id="jockey-pump",
            type_="preventive",
            at=start,
            now=start,
        )
        for day in (100, 200, 300):
            at = start + dt.timedelta(days=day)
            wo = orders.create(
                s,
                title=f"repair {day}",
                actor="t",
                role="admin",
                asset_id="jockey-pump",
                at=at,
                now=at,
            )
            done = at + dt.timedelta(hours=4)
            s.add(
                LaborEntry(
                    workorder_id=wo.id, worker="t", hours=10, rate=120, worked_at=at, created_by="t"
                )
            )
            wo.cost_total = 1200.0
            orders.change_status(
                s, wo=wo, target=Status.resolved, actor="t", role="admin", at=done, now=done
            )
    with db.session() as s:
        h = asset_health(s, demo_site, asset_id="jockey-pump", now=now)
    g = h["growth"]
    assert g["origin"] == "2020-01-01" and g["unit"] == "days"
    assert g["beta"] == pytest.approx(3 / (math.log(4) + math.log(2) + math.log(4 / 3)))
    assert h["n_failures"] == 3 and h["mtbf_days"] == pytest.approx(400 / 3, abs=0.01)
    assert h["mttr_hours"] == pytest.approx(4.0)
    assert h["cost"]["repair_total"] == 3600.0 and h["cost"]["flag"] is None
    assert h["cost"]["ratio"] == pytest.approx(3600 / 12500, abs=1e-4)
    assert len(h["intensity_curve"]) == 48
    # Installed 2014-08-20 with a 10-year life: 6.5 years old on day 400 (2021-02-04).
    assert h["age"]["ratio"] == pytest.approx(
        ((now.date() - dt.date(2014, 8, 20)).days / 365.25) / 10, abs=1e-3
    )
    assert "past_life" not in h["flags"]


def test_cost_ratio_flags_at_fifty_and_seventy_five_percent(
    db: Database, demo_site: SiteConfig
) -> None:
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    flags = []
    with db.session() as s:
        at = now - dt.timedelta(days=30)
        wo = orders.create(
            s, title="seal", actor="t", role="admin", asset_id="jockey-pump", at=at, now=at
        )
        for total in (6249.0, 6250.0, 9375.0):  # 12500 x 50 % = 6250, x 75 % = 9375
            wo.cost_total = total
            s.flush()
            flags.append(
                asset_health(s, demo_site, asset_id="jockey-pump", now=now)["cost"]["flag"]
            )
    assert flags == [None, "warning", "replace"]


def test_fewer_than_three_failures_have_no_growth_model(
    history: Database, demo_site: SiteConfig
) -> None:
    with history.session() as s:
        h = asset_health(s, demo_site, asset_id="a-main", now=NOW)
    assert h["n_failures"] < 3 and h["growth"] is None and h["intensity_curve"] == []


def test_unknown_asset_is_not_found(db: Database, demo_site: SiteConfig) -> None:
    with db.session() as s, pytest.raises(AssetNotFound):
        asset_health(s, demo_site, asset_id="no-such-asset", now=NOW)


def test_generated_history_on_both_databases_keeps_the_trends_and_stores_nothing_twice(
    db_both: Database, demo_site: SiteConfig
) -> None:
    ensure_demo_users(db_both, demo_site, first_job=False)
    first = generate(db_both, demo_site, now=NOW)
    again = generate(db_both, demo_site, now=NOW)
    assert again.corrective + again.preventive == 0
    assert again.skipped == first.corrective + first.preventive
    with db_both.session() as s:
        plan = capital_plan(s, demo_site, now=NOW)
    ids = [item["asset"]["id"] for item in plan["items"]]
    assert set(ids[: len(DETERIORATING)]) == set(DETERIORATING)


def test_availability_is_the_share_of_readings_in_service(
    tmp_path: Path, db: Database, demo_site: SiteConfig
) -> None:
    """Lift A1 read hourly over the last 10 days, out of service 6 hours a day (in_service 0):
    available 18 / 24 = 75 % of the time. The pumps have no in-service point: null."""
    now = dt.datetime(2026, 12, 2, tzinfo=dt.UTC)
    start = now - dt.timedelta(days=10)
    store = EmbeddedStore(tmp_path / "readings.sqlite")
    readings = [
        Reading(
            (start + dt.timedelta(hours=h)).timestamp(),
            "lift-a1",
            "lift-a1-ctl",
            "in_service",
            0 if h % 24 < 6 else 1,
            "",
            Quality.good,
        )
        for h in range(10 * 24)
    ]
    store.write(readings)
    store.close()
    reader = EmbeddedReader(tmp_path / "readings.sqlite")
    try:
        with db.session() as s:
            lift = asset_health(
                s, demo_site, asset_id="lift-a1", now=now, availability_reader=reader
            )
            pump = asset_health(
                s, demo_site, asset_id="pump-1", now=now, availability_reader=reader
            )
    finally:
        reader.close()
    assert lift["availability"]["percent"] == pytest.approx(75.0)
    assert lift["availability"]["point"] == "in_service"
    assert lift["availability"]["from"] == start.isoformat()
    assert pump["availability"] is None
