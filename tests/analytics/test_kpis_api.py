"""GET /api/v1/analytics/kpis over the hand-made March of tests/analytics/test_kpis.py: the office
sees any scope, a contractor its own firm's work only (forced to it, 403 for another firm), the
crew and requesters 403; bad questions get a 4xx with a reason."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from core.auth.models import Role
from core.db import Database
from tests.analytics.test_kpis import March, build_march
from tests.workorders.accounts import token_for

URL = "/api/v1/analytics/kpis"


@pytest.fixture
def march(client: TestClient, db: Database) -> March:
    """The month in the app's database."""
    return build_march(db)


def bearer(token: str) -> dict[str, str]:
    """Headers authenticating with the token."""
    return {"Authorization": f"Bearer {token}"}


def test_the_office_gets_the_months_kpis(client: TestClient, march: March) -> None:
    r = client.get(URL, params={"month": "2026-03"})
    assert r.status_code == 200, r.text
    k = r.json()
    assert (k["mttr_hours"], k["mtbf_days"], k["recall_rate_percent"]) == (38.5, 155.0, 50.0)
    assert k["filters"] == {"building": None, "contractor": None, "class": None}
    assert {row["class"] for row in k["by_class"]} == {"Elevator", "Pump"}
    one = client.get(URL, params={"month": "2026-03", "class": "Pump", "building": "bldg-b"})
    assert one.status_code == 200, one.text
    assert one.json()["filters"]["class"] == "Pump"
    assert one.json()["spend"]["total"] == 900.0


def test_a_contractor_sees_its_own_firm_only(
    client: TestClient, db: Database, march: March
) -> None:
    token = token_for(db, "hx-api", Role.contractor, org="Huaxia Property Services")
    mine = client.get(URL, params={"month": "2026-03"}, headers=bearer(token))
    assert mine.status_code == 200, mine.text
    assert mine.json()["filters"]["contractor"] == march.huaxia
    assert mine.json()["spend"]["total"] == 2800.0
    named = client.get(
        URL, params={"month": "2026-03", "contractor": march.huaxia}, headers=bearer(token)
    )
    assert named.json() == mine.json()
    other = client.get(
        URL, params={"month": "2026-03", "contractor": march.evergreen}, headers=bearer(token)
    )
    assert other.status_code == 403
    assert "own firm" in other.text


@pytest.mark.parametrize("role", [Role.technician, Role.requester])
def test_the_crew_and_requesters_may_not_see_them(
    client: TestClient, db: Database, role: Role
) -> None:
    token = token_for(db, f"u-{role}", role)
    r = client.get(URL, params={"month": "2026-03"}, headers=bearer(token))
    assert r.status_code == 403


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({}, 422),
        ({"month": "March"}, 422),
        ({"month": "2026-13"}, 422),
        ({"month": "0000-01"}, 422),
        ({"month": "9999-12"}, 422),
        ({"month": "2999-01"}, 422),
        ({"month": "2026-03", "building": "bldg-z"}, 404),
        ({"month": "2026-03", "class": "Boiler"}, 404),
        ({"month": "2026-03", "contractor": "999"}, 404),
        ({"month": "2026-03", "contractor": "0"}, 422),
    ],
)
def test_bad_questions_get_a_reason(
    client: TestClient, params: dict[str, str], status: int
) -> None:
    r = client.get(URL, params=params)
    assert r.status_code == status, r.text
    assert r.text


def test_openapi_describes_the_response(client: TestClient) -> None:
    op = client.get("/openapi.json").json()["paths"][URL]["get"]
    schema = op["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("/KpisOut")
    assert {p["name"] for p in op["parameters"]} == {"month", "building", "contractor", "class"}
