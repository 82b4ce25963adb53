"""The work-order REST API: authentication, listing, creating, status changes, errors."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient

from core.auth import service as auth
from core.auth.models import Role
from core.db import Database
from tests.workorders.accounts import token_for as _token
from workorders import intake


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_api_refuses_calls_without_a_token(client: TestClient) -> None:
    r = client.get("/api/v1/workorders", headers={"Authorization": ""})
    assert r.status_code == 401
    assert r.json()["error"] == "unauthorized"


def test_api_refuses_an_unknown_token(client: TestClient) -> None:
    r = client.get("/api/v1/workorders", headers=_bearer("prt_not-a-real-token"))
    assert r.status_code == 401


def test_admin_token_from_environment_lists_work_orders(client: TestClient) -> None:
    r = client.get("/api/v1/workorders")
    assert r.status_code == 200
    assert r.json() == {"items": [], "next_cursor": None, "total": 0}


def test_created_work_order_is_listed_and_fetched_with_required_fields(client: TestClient) -> None:
    r = client.post(
        "/api/v1/workorders",
        json={"title": "Leaking tap, 3F toilets", "priority": "P3", "asset_id": "pump-1"},
    )
    assert r.status_code == 201, r.text
    wo = r.json()
    assert wo["status"] == "new" and wo["origin"] == "manual" and wo["asset_id"] == "pump-1"
    assert wo["events"][0]["kind"] == "created"
    listed = client.get("/api/v1/workorders").json()["items"]
    assert [w["id"] for w in listed] == [wo["id"]]
    for key in ("id", "status", "priority", "asset_id", "origin"):
        assert key in listed[0]
    assert client.get(f"/api/v1/workorders/{wo['id']}").json()["title"] == "Leaking tap, 3F toilets"


def test_status_change_is_recorded_in_the_timeline(client: TestClient) -> None:
    wo = client.post("/api/v1/workorders", json={"title": "Check pump"}).json()
    r = client.post(
        f"/api/v1/workorders/{wo['id']}/status",
        json={"status": "acknowledged", "note": "on my way"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "acknowledged" and body["acknowledged_at"] is not None
    assert body["events"][-1]["data"] == {"from": "new", "to": "acknowledged"}
    assert body["events"][-1]["message"] == "on my way"


def test_forbidden_transition_answers_409_listing_the_allowed_ones(client: TestClient) -> None:
    wo = client.post("/api/v1/workorders", json={"title": "Check pump"}).json()
    client.post(f"/api/v1/workorders/{wo['id']}/status", json={"status": "cancelled"})
    r = client.post(f"/api/v1/workorders/{wo['id']}/status", json={"status": "resolved"})
    assert r.status_code == 409
    assert r.json()["detail"]["allowed"] == []
    assert r.json()["detail"]["status"] == "cancelled"


def test_technician_may_not_cancel_and_is_told_what_is_allowed(
    client: TestClient, db: Database
) -> None:
    tech = _token(db, "tech1", Role.technician)
    wo = client.post("/api/v1/workorders", json={"title": "Lamp out"}).json()
    r = client.post(
        f"/api/v1/workorders/{wo['id']}/status", json={"status": "cancelled"}, headers=_bearer(tech)
    )
    assert r.status_code == 409
    assert r.json()["detail"]["allowed"] == ["acknowledged", "in_progress", "resolved"]


def test_unknown_work_order_answers_404(client: TestClient) -> None:
    r = client.get("/api/v1/workorders/99999")
    assert r.status_code == 404
    assert "99999" in r.json()["message"]


def test_invalid_body_answers_422_naming_the_field(client: TestClient) -> None:
    r = client.post("/api/v1/workorders", json={"title": "x", "priority": "P9"})
    assert r.status_code == 422
    assert any(d["field"].endswith("priority") for d in r.json()["detail"])


def test_unknown_status_answers_422_not_500(client: TestClient) -> None:
    wo = client.post("/api/v1/workorders", json={"title": "x"}).json()
    r = client.post(f"/api/v1/workorders/{wo['id']}/status", json={"status": "done-ish"})
    assert r.status_code == 422


def test_work_order_for_unknown_asset_answers_422(client: TestClient) -> None:
    r = client.post("/api/v1/workorders", json={"title": "x", "asset_id": "no-such-asset"})
    assert r.status_code == 422
    assert r.json()["error"] == "unknown_asset"


def test_list_pages_with_a_cursor(client: TestClient) -> None:
    ids = [
        client.post("/api/v1/workorders", json={"title": f"job {i}"}).json()["id"] for i in range(5)
    ]
    first = client.get("/api/v1/workorders", params={"limit": 2}).json()
    assert [w["id"] for w in first["items"]] == ids[::-1][:2]
    second = client.get(
        "/api/v1/workorders", params={"limit": 2, "cursor": first["next_cursor"]}
    ).json()
    assert [w["id"] for w in second["items"]] == ids[::-1][2:4]


def test_bad_cursor_answers_400(client: TestClient) -> None:
    assert client.get("/api/v1/workorders", params={"cursor": "abc"}).status_code == 400


def test_contractor_sees_only_own_work_and_others_answer_404(
    client: TestClient, db: Database
) -> None:
    token = _token(db, "evergreen", Role.contractor, org="Evergreen")
    theirs = client.post("/api/v1/workorders", json={"title": "Lift door"}).json()["id"]
    other = client.post("/api/v1/workorders", json={"title": "Boiler"}).json()["id"]
    with db.session() as s:
        org = auth.get_or_create_organisation(s, "Evergreen")
        from workorders.orders import repository

        wo = repository.get(s, theirs)
        assert wo is not None
        wo.contractor_id = org.id
    listed = client.get("/api/v1/workorders", headers=_bearer(token)).json()["items"]
    assert [w["id"] for w in listed] == [theirs]
    assert client.get(f"/api/v1/workorders/{other}", headers=_bearer(token)).status_code == 404
    r = client.post(
        f"/api/v1/workorders/{other}/status",
        json={"status": "acknowledged"},
        headers=_bearer(token),
    )
    assert r.status_code == 404


def test_contractor_cannot_create_work_orders(client: TestClient, db: Database) -> None:
    token = _token(db, "evergreen2", Role.contractor, org="Evergreen")
    r = client.post("/api/v1/workorders", json={"title": "x"}, headers=_bearer(token))
    assert r.status_code == 403


def test_open_filter_lists_only_work_still_owed(client: TestClient) -> None:
    a = client.post("/api/v1/workorders", json={"title": "a"}).json()["id"]
    b = client.post("/api/v1/workorders", json={"title": "b"}).json()["id"]
    client.post(f"/api/v1/workorders/{b}/status", json={"status": "resolved"})
    items = client.get("/api/v1/workorders", params={"open": "true"}).json()["items"]
    assert [w["id"] for w in items] == [a]


def test_alert_work_order_shows_its_trigger_reading(client: TestClient, db: Database) -> None:
    trigger = {
        "point": "motor_current",
        "value": 28.7,
        "unit": "A",
        "device": "pump-1-drive",
        "ts": "2026-01-05T03:00:00+00:00",
    }
    with db.session() as s:
        intake.open_from_alert(
            s,
            asset_id="pump-1",
            rule_id="pump-overcurrent",
            title="Pump",
            priority="P2",
            trigger=trigger,
            at=dt.datetime(2026, 1, 5, 3, tzinfo=dt.UTC),
        )
    wo = client.get("/api/v1/workorders").json()["items"][0]
    assert wo["origin"] == "alert" and wo["trigger"]["value"] == 28.7
    assert wo["asset_name"] == "Domestic water booster pump 1"


def test_openapi_describes_the_work_order_endpoints(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/api/v1/workorders" in spec["paths"]
    assert "/api/v1/workorders/{wo_id}/status" in spec["paths"]


def test_health_needs_no_token(client: TestClient) -> None:
    assert client.get("/health", headers={"Authorization": ""}).json() == {"status": "ok"}


def test_non_ascii_digit_cursor_answers_400_not_500(client: TestClient) -> None:
    # '³' passes str.isdigit() but is no number (found by schemathesis).
    assert client.get("/api/v1/workorders", params={"cursor": "³"}).status_code == 400


def test_cursor_beyond_the_database_integer_answers_400_not_500(client: TestClient) -> None:
    # PostgreSQL's integer overflows at 2**31: the cursor must be refused before the query.
    assert client.get("/api/v1/workorders", params={"cursor": "9999999999"}).status_code == 400


def test_work_order_id_beyond_the_database_integer_answers_422_not_500(
    client: TestClient,
) -> None:
    assert client.get("/api/v1/workorders/4365771936828431212298259922944").status_code == 422


def test_detail_shows_time_remaining_on_each_sla_clock_and_pauses_it_on_hold(
    client: TestClient,
) -> None:
    """The demo site's P2 policy: respond within 1 h, resolve within 24 h, round the clock."""
    wo = client.post(
        "/api/v1/workorders", json={"title": "Booster pump tripped", "priority": "P2"}
    ).json()
    r = client.post(f"/api/v1/workorders/{wo['id']}/status", json={"status": "acknowledged"})
    assert r.status_code == 200, r.text
    clocks = {c["clock"]: c for c in r.json()["sla_clocks"]}
    assert clocks["response"]["state"] == "met" and clocks["response"]["target_seconds"] == 3600
    resolution = clocks["resolution"]
    assert resolution["state"] == "running" and resolution["target_seconds"] == 24 * 3600
    # Opened moments ago (its `created_at` is now): about 24 h remain.
    assert 24 * 3600 - 60 < resolution["remaining_seconds"] <= 24 * 3600

    held = client.post(
        f"/api/v1/workorders/{wo['id']}/status", json={"status": "on_hold", "reason": "parts"}
    ).json()
    resolution = {c["clock"]: c for c in held["sla_clocks"]}["resolution"]
    assert resolution["state"] == "paused"
    got = client.get(f"/api/v1/workorders/{wo['id']}").json()
    assert {c["clock"]: c for c in got["sla_clocks"]}["resolution"]["state"] == "paused"


def test_detail_of_work_without_an_sla_shows_no_clocks(client: TestClient) -> None:
    wo = client.post(
        "/api/v1/workorders", json={"title": "Repaint stairwell", "type": "preventive"}
    ).json()
    assert client.get(f"/api/v1/workorders/{wo['id']}").json()["sla_clocks"] == []
