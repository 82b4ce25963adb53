"""An asset's plant facts for the engineer's asset page (issue 15): its devices and points from
site.yaml, its age against its expected life (its own, else its class's median service life),
and its repairs' cost against its replacement cost."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient

from core.db import Database
from workorders.orders import service
from workorders.orders.models import Asset, Origin, Priority, WorkOrder
from workorders.plant.life import MEDIAN_LIFE
from workorders.plant.service import life_of


def test_the_jockey_pump_shows_its_controller_points_and_that_it_is_past_its_life(
    client: TestClient,
) -> None:
    r = client.get("/api/v1/assets/jockey-pump/plant")
    assert r.status_code == 200, r.text
    body = r.json()
    [device] = body["devices"]
    assert (device["id"], device["profile"], device["unit_id"]) == (
        "jockey-pump-ctrl",
        "plantroom_jockey_pump",
        4,
    )
    assert device["link"].startswith("tcp ") and device["link"].endswith(":15022")
    assert [p["name"] for p in device["points"]][:3] == [
        "running",
        "system_pressure",
        "start_pressure",
    ]
    pressure = device["points"][1]
    assert (pressure["unit"], pressure["table"], pressure["address"]) == ("MPa", "holding", 1)
    life = body["life"]
    assert life["install_date"] == "2014-08-20" and life["expected_life_years"] == 10
    assert life["life_source"] == "asset" and life["past_life"] is True
    assert life["remaining_years"] < 0 and life["used_percent"] > 100
    assert body["costs"]["replacement_cost"] == 12500 and body["costs"]["flag"] == "ok"


def test_an_old_lift_is_flagged_for_a_safety_assessment(client: TestClient) -> None:
    life = client.get("/api/v1/assets/lift-a1/plant").json()["life"]
    assert life["assessment_due"] is True  # installed 2007: past the 15-year design life


def test_repairs_over_half_the_replacement_cost_warn_and_over_three_quarters_say_replace(
    client: TestClient, db: Database
) -> None:
    with db.session() as s:
        wo = service.create(
            s,
            title="Pump 1 bearing replaced",
            priority=Priority.P2,
            asset_id="pump-1",
            origin=Origin.manual,
            actor="admin",
        )
        s.get_one(WorkOrder, wo.id).cost_total = 34_000.0  # of 62,000
        planned = service.create(
            s, title="Pump 1 service", asset_id="pump-1", origin=Origin.manual, actor="admin"
        )
        row = s.get_one(WorkOrder, planned.id)
        row.type, row.cost_total = "preventive", 20_000.0  # maintenance is not a repair
    costs = client.get("/api/v1/assets/pump-1/plant").json()["costs"]
    assert (costs["repairs"], costs["repair_cost"], costs["flag"]) == (1, 34000.0, "warning")
    assert costs["share_percent"] == 54.8
    with db.session() as s:
        s.get_one(WorkOrder, wo.id).cost_total = 47_000.0
    assert client.get("/api/v1/assets/pump-1/plant").json()["costs"]["flag"] == "replace"


def test_without_its_own_expected_life_an_asset_is_measured_against_its_class_median() -> None:
    pump = Asset(
        id="p",
        name="Inline pump",
        brick_class="Jockey_Pump",
        building_id="b",
        building_name="B",
        install_date=dt.date(2020, 1, 1),
        expected_life_years=None,
    )
    life = life_of(pump, dt.date(2026, 1, 1))
    assert (life.expected_life_years, life.life_source) == (10, "class_median")
    assert life.life_basis is not None and "inline pump" in life.life_basis
    assert life.age_years == 6.0 and life.used_percent == 60.0 and not life.past_life
    meter = Asset(
        id="m", name="M", brick_class="Electrical_Meter", building_id="b", building_name="B"
    )
    unknown = life_of(meter, dt.date(2026, 1, 1))
    assert (unknown.age_years, unknown.expected_life_years, unknown.life_source) == (
        None,
        None,
        None,
    )
    assert MEDIAN_LIFE["Pump"].years == 20 and MEDIAN_LIFE["Elevator"].years == 20


def test_no_such_asset_is_404(client: TestClient) -> None:
    assert client.get("/api/v1/assets/no-such/plant").status_code == 404
    assert client.get("/api/v1/assets/bad id/plant").status_code in (404, 422)
