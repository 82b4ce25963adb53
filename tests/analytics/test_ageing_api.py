"""GET /api/v1/analytics/assets/{id}/health and GET /api/v1/analytics/capital-plan over the
demo's generated maintenance history (who may call them: tests/workorders/
test_authorization_matrix.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient

from collectors.readings import Quality, Reading
from collectors.sinks.embedded import FILE_NAME, EmbeddedStore
from config.settings import Settings
from config.site import SiteConfig
from core.db import Database
from plantroom.demo import ensure_demo_users
from plantroom.maintenance_history import generate


def _history(db: Database, site: SiteConfig) -> None:
    ensure_demo_users(db, site, first_job=False)
    generate(db, site, now=dt.datetime.now(dt.UTC))


def test_health_answers_the_trend_of_a_deteriorating_lift(
    client: TestClient, db: Database, demo_site: SiteConfig
) -> None:
    _history(db, demo_site)
    r = client.get("/api/v1/analytics/assets/lift-a1/health")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["asset"]["class"] == "Elevator" and body["asset"]["criticality"] == "critical"
    g = body["growth"]
    assert g["beta_lower"] > 1 and g["trend"] == "worsening" and "lambda" in g
    assert g["unit"] == "days" and g["origin"] == "2020-01-03"  # the first (preventive) record
    assert body["n_failures"] == len(body["failures"]) >= 3
    assert "rising_failures" in body["flags"]
    assert body["availability"] is None  # the test app has no in-service readings stored


def test_health_of_an_unknown_asset_is_404(client: TestClient) -> None:
    r = client.get("/api/v1/analytics/assets/nope/health")
    assert r.status_code == 404 and r.json()["error"]


def test_capital_plan_lists_ranked_items_with_their_evidence(
    client: TestClient, db: Database, demo_site: SiteConfig
) -> None:
    _history(db, demo_site)
    r = client.get("/api/v1/analytics/capital-plan", params={"years": 3})
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["horizon"]) == 3 and set(body["total_by_year"]) == {
        str(y) for y in body["horizon"]
    }
    assert [i["rank"] for i in body["items"]] == list(range(1, len(body["items"]) + 1))
    scores = [i["score"] for i in body["items"]]
    assert scores == sorted(scores, reverse=True)
    assert all(i["recommended_year"] in body["horizon"] for i in body["items"])


def test_capital_plan_refuses_a_horizon_out_of_range(client: TestClient) -> None:
    assert client.get("/api/v1/analytics/capital-plan", params={"years": 0}).status_code == 422


def test_health_reads_a_lifts_availability_from_the_readings_store(
    client: TestClient, settings: Settings
) -> None:
    """Lift B1 in service for 3 of the 4 readings stored in the last hours: 75 %."""
    now = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
    store = EmbeddedStore(settings.data_dir / FILE_NAME)
    store.write(
        [
            Reading(
                (now - dt.timedelta(hours=h)).timestamp(),
                "lift-b1",
                "lift-b1-ctl",
                "in_service",
                0 if h == 2 else 1,
                "",
                Quality.good,
            )
            for h in (1, 2, 3, 4)
        ]
    )
    store.close()
    r = client.get("/api/v1/analytics/assets/lift-b1/health")
    assert r.status_code == 200, r.text
    availability = r.json()["availability"]
    assert availability is not None and availability["point"] == "in_service"
    assert availability["percent"] == pytest.approx(75.0)
