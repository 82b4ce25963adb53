"""GET /api/v1/analytics/baselines/{meter_id}: the office gets the model, its Guideline 14 fit
and the retrofit's savings; the crew and contractors get 403; bad questions get a 4xx with a
reason."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from analytics.store_usage import app_usage
from core.auth.models import Role
from core.db import Database
from plantroom.site import load_site
from tests.analytics.simulated import SimulatedUsage
from tests.workorders.accounts import token_for

TZ = ZoneInfo("Asia/Shanghai")
URL = "/api/v1/analytics/baselines"


@pytest.fixture(scope="module")
def spring() -> SimulatedUsage:
    """The demo site simulated hourly over April and May 2026."""
    site = load_site("config/sites/demo")
    return SimulatedUsage(
        site, dt.datetime(2026, 4, 1, tzinfo=TZ), dt.datetime(2026, 6, 1, tzinfo=TZ)
    )


@pytest.fixture
def api(client: TestClient, spring: SimulatedUsage) -> Iterator[TestClient]:
    """The app with its Usage replaced by the simulated spring."""
    app = client.app
    app.dependency_overrides[app_usage] = lambda: spring  # type: ignore[attr-defined]
    yield client
    app.dependency_overrides.clear()  # type: ignore[attr-defined]


def test_the_office_gets_the_model_its_fit_and_the_daily_series(api: TestClient) -> None:
    r = api.get(f"{URL}/a-main", params={"from": "2026-04-01", "to": "2026-06-01"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["meter"]["id"] == "a-main" and body["meter"]["unit"] == "kWh"
    assert body["model"]["type"] == "degree_day" and body["model"]["n"] == 61
    assert body["baseline"] == {"from": "2026-04-01", "to": "2026-06-01"}
    assert body["fit"]["resolution"] == "daily"
    assert body["fit"]["limits"] == {"cv_rmse": 30.0, "nmbe": 10.0} and body["fit"]["meets"]
    assert body["monthly"]["limits"] == {"cv_rmse": 15.0, "nmbe": 5.0}
    assert body["monthly"]["n"] == 2
    assert body["retrofit"] is None and body["savings"] is None
    assert [d["day"] for d in body["series"][:2]] == ["2026-04-01", "2026-04-02"]
    assert body["series"][0]["temperature"] is not None


def test_a_retrofit_without_a_years_baseline_is_422_with_the_days_it_has(
    api: TestClient,
) -> None:
    r = api.get(f"{URL}/a-lighting", params={"retrofit": "a-led-2026"})
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["error"] == "not_enough_data"
    assert body["detail"] == {"has_days": 61, "needs_days": 329, "baseline_days": 365}


@pytest.mark.parametrize("role", [Role.technician, Role.contractor, Role.requester])
def test_the_crew_and_contractors_may_not_see_it(api: TestClient, db: Database, role: Role) -> None:
    token = token_for(db, f"u-{role}", role, org="Acme FM" if role == Role.contractor else None)
    r = api.get(
        f"{URL}/a-main",
        params={"from": "2026-04-01", "to": "2026-06-01"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 403


@pytest.mark.parametrize(
    ("path", "params", "status", "error"),
    [
        ("nope", {}, 404, "unknown_meter"),
        ("a-main", {"retrofit": "nope"}, 404, "unknown_retrofit"),
        ("b-main", {"retrofit": "a-led-2026"}, 422, "retrofit_meter"),
        ("a-main", {"from": "2026-05-01", "to": "2026-04-01"}, 422, "bad_period"),
    ],
)
def test_bad_questions_get_a_reason(
    api: TestClient, path: str, params: dict[str, str], status: int, error: str
) -> None:
    r = api.get(f"{URL}/{path}", params=params)
    assert r.status_code == status, r.text
    assert r.json()["error"] == error


def test_openapi_describes_the_response(api: TestClient) -> None:
    op = api.get("/openapi.json").json()["paths"][URL + "/{meter_id}"]["get"]
    assert {"403", "404", "422"} <= set(op["responses"])
    assert op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "BaselineOut"
    )
