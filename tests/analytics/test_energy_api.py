"""GET /api/v1/analytics/energy on the demo site: the office sees the year's figures with the
factors and references the site configures; the crew and contractors get 403; bad questions
get a 4xx with a reason."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from analytics.store_usage import app_usage
from core.auth.models import Role
from core.db import Database
from tests.analytics.conftest import MemoryUsage
from tests.workorders.accounts import token_for

#: 2025 on the demo site: A's main 1,000 kWh on 3 March, of which lighting 400; B's main 500;
#: the water main 90 m³ (A 50, B 30); 100 L of diesel for A's generator.
DAY = dt.date(2025, 3, 3)
USAGE = MemoryUsage(
    {
        "a-main": {DAY: 1_000},
        "a-lighting": {DAY: 400},
        "b-main": {DAY: 500},
        "water-main": {DAY: 90},
        "a-water": {DAY: 50},
        "b-water": {DAY: 30},
        "diesel-genset": {DAY: 100},
    }
)


@pytest.fixture
def api(client: TestClient) -> Iterator[TestClient]:
    """The app with its Usage replaced by the figures above."""
    app = client.app
    app.dependency_overrides[app_usage] = lambda: USAGE  # type: ignore[attr-defined]
    yield client
    app.dependency_overrides.clear()  # type: ignore[attr-defined]


def test_the_office_gets_the_years_figures_with_factors_and_references(api: TestClient) -> None:
    """1,500 kWh x 0.1229 + 100 L x 0.83 kg/L x 1.4571 = 305.29 kgce over the compound's
    24,000 m² and 770 people; carbon with the site's factor for 2025 (0.5306)."""
    r = api.get("/api/v1/analytics/energy", params={"year": 2025})
    assert r.status_code == 200, r.text
    body = r.json()
    kgce = 1_500 * 0.1229 + 100 * 0.83 * 1.4571
    assert body["energy"]["kgce"] == pytest.approx(kgce)
    assert body["energy"]["kgco2e"] == pytest.approx(1_500 * 0.5306 + 100 * 0.83 * 3.1643)
    assert (body["floor_area_m2"], body["occupants"]) == (24_000, 770)
    assert body["indicators"]["kgce_per_m2"]["value"] == pytest.approx(kgce / 24_000)
    assert body["water"]["m3"] == 90
    assert body["electricity"]["unmetered"]["kwh"] == 1_100  # 1,500 - A's lighting 400
    assert body["period"]["from"] == "2025-01-01"
    refs = {r["id"] for r in body["references"]}
    assert refs == {"gd-provincial-2021", "gd-city-2021"}
    ratio = body["indicators"]["kgce_per_person"]["references"]
    assert {x["id"]: x["ratio"] for x in ratio}["gd-city-2021"] == pytest.approx(
        kgce / 770 / 397.34
    )
    grid = [f for f in body["factors"] if f["carrier"] == "electricity" and f["kind"] == "kgco2e"]
    assert grid[0]["value"] == 0.5306
    assert "latest published national factor" in grid[0]["source"]
    assert [b["id"] for b in body["buildings"]] == ["bldg-a", "bldg-b"]
    assert len(body["months"]) == 12


def test_one_building_and_one_month(api: TestClient, db: Database) -> None:
    engineer = token_for(db, "eng", Role.engineer)
    r = api.get(
        "/api/v1/analytics/energy",
        params={"year": 2025, "month": 3, "building": "bldg-a"},
        headers={"Authorization": f"Bearer {engineer}"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["scope"] == {"kind": "building", "id": "bldg-a"}
    assert body["meters"] == ["a-main", "a-water", "diesel-genset"]
    assert body["water"]["m3"] == 50
    assert body["buildings"] is None
    assert len(body["days"]) == 31
    assert body["days"][2]["electricity_kwh"] == 1_000


@pytest.mark.parametrize("role", [Role.technician, Role.contractor, Role.requester])
def test_the_crew_and_contractors_may_not_see_it(api: TestClient, db: Database, role: Role) -> None:
    token = token_for(db, f"u-{role}", role, org="Acme FM" if role == Role.contractor else None)
    r = api.get(
        "/api/v1/analytics/energy",
        params={"year": 2025},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 403
    assert r.json()["error"] == "forbidden"


@pytest.mark.parametrize(
    ("params", "status", "error"),
    [
        ({"year": 2025, "building": "bldg-z"}, 404, "unknown_building"),
        ({"year": 2025, "month": 13}, 422, "invalid_request"),
        ({"year": 1999}, 422, "invalid_request"),
        ({"year": 2099}, 422, "bad_period"),
        ({"year": "last"}, 422, "invalid_request"),
        ({}, 422, "invalid_request"),
        # 2021: no grid carbon factor, shipped or configured, for the day that used power
        ({"year": 2021}, 422, "no_factor"),
    ],
)
def test_bad_questions_get_a_reason(
    api: TestClient, params: dict[str, object], status: int, error: str
) -> None:
    if params.get("year") == 2021:
        api.app.dependency_overrides[app_usage] = lambda: MemoryUsage(  # type: ignore[attr-defined]
            {"a-main": {dt.date(2021, 5, 5): 10}}
        )
    r = api.get("/api/v1/analytics/energy", params=params)
    assert r.status_code == status, r.text
    assert r.json()["error"] == error
    assert r.json()["message"]


def test_openapi_describes_the_response(api: TestClient) -> None:
    spec = api.get("/openapi.json").json()
    op = spec["paths"]["/api/v1/analytics/energy"]["get"]
    schema = op["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("/EnergyStatisticsOut")
    assert {"403", "404", "422"} <= set(op["responses"])
