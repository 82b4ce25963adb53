"""Work-order lifecycle through the API: holds, codes, checklists, costs, ETags, idempotent
replays, offline action times, the audit log, filters, sorting and exports."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
from typing import Any

import pytest
from fastapi.testclient import TestClient

from core.auth import service as auth
from core.auth.models import Role
from core.db import Database

_n = itertools.count()


def user_token(db: Database, role: Role, org: str | None = None) -> tuple[int, str]:
    """A new user of this role (in org, if given) and a bearer token for them."""
    with db.session() as s:
        organisation = auth.get_or_create_organisation(s, org) if org else None
        user = auth.create_user(
            s,
            username=f"{role}-{next(_n)}",
            password="pw-secret-1",
            role=role,
            organisation=organisation,
        )
        return user.id, auth.create_token(s, user=user, name="t")


def bearer(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


def new_wo(client: TestClient, **body: Any) -> dict[str, Any]:
    r = client.post("/api/v1/workorders", json={"title": "Pump noisy", **body})
    assert r.status_code == 201, r.text
    return r.json()


def move(client: TestClient, wo_id: int, status: str, **body: Any) -> Any:
    return client.post(f"/api/v1/workorders/{wo_id}/status", json={"status": status, **body})


# --- holds, codes, checklist --------------------------------------------------------------------


def test_hold_without_a_reason_answers_422_listing_the_reasons(client: TestClient) -> None:
    wo = new_wo(client)
    move(client, wo["id"], "acknowledged")
    r = move(client, wo["id"], "on_hold")
    assert r.status_code == 422
    assert r.json()["detail"]["allowed"] == ["parts", "access", "contractor", "other"]
    assert client.get(f"/api/v1/workorders/{wo['id']}").json()["status"] == "acknowledged"


def test_hold_records_its_reason_until_work_resumes(client: TestClient) -> None:
    wo = new_wo(client)
    move(client, wo["id"], "acknowledged")
    held = move(client, wo["id"], "on_hold", reason="parts", note="bearing on order").json()
    assert (held["status"], held["hold_reason"]) == ("on_hold", "parts")
    assert held["events"][-1]["data"] == {
        "from": "acknowledged",
        "to": "on_hold",
        "reason": "parts",
    }
    resumed = move(client, wo["id"], "in_progress").json()
    assert (resumed["status"], resumed["hold_reason"]) == ("in_progress", None)


def test_hold_for_other_reasons_needs_a_note(client: TestClient) -> None:
    wo = new_wo(client)
    move(client, wo["id"], "acknowledged")
    assert move(client, wo["id"], "on_hold", reason="other").status_code == 422
    assert move(client, wo["id"], "on_hold", reason="other", note="tenant event").status_code == 200


def test_resolve_records_cause_and_resolution_codes(client: TestClient) -> None:
    wo = new_wo(client)
    # The demo site lists its codes (site.yaml codes:); these are two of them.
    r = move(client, wo["id"], "resolved", cause_code="BEARING", resolution_code="REPLACED")
    assert (r.json()["cause_code"], r.json()["resolution_code"]) == ("BEARING", "REPLACED")


def test_checklist_results_are_recorded_per_item(client: TestClient) -> None:
    wo = new_wo(client, checklist=["Check oil level", "Test alarm"])
    r = client.post(
        f"/api/v1/workorders/{wo['id']}/checklist/1", json={"done": True, "result": "alarm OK"}
    )
    assert r.status_code == 200, r.text
    items = r.json()["checklist"]
    assert [i["done"] for i in items] == [None, True]
    assert items[1]["result"] == "alarm OK" and items[1]["by"] == "admin-token"
    missing = client.post(f"/api/v1/workorders/{wo['id']}/checklist/2", json={"done": True})
    assert missing.status_code == 404


def test_editing_the_checklist_keeps_results_of_items_kept(client: TestClient) -> None:
    wo = new_wo(client, checklist=["Check oil level", "Test alarm"])
    client.post(f"/api/v1/workorders/{wo['id']}/checklist/0", json={"done": True})
    r = client.patch(
        f"/api/v1/workorders/{wo['id']}", json={"checklist": ["Check oil level", "Grease"]}
    )
    assert [(i["item"], i["done"]) for i in r.json()["checklist"]] == [
        ("Check oil level", True),
        ("Grease", None),
    ]


# --- costs --------------------------------------------------------------------------------------


def test_labor_parts_and_other_costs_add_up_on_the_work_order(client: TestClient) -> None:
    wo = new_wo(client)
    base = f"/api/v1/workorders/{wo['id']}"
    assert client.post(f"{base}/labor", json={"hours": 2.5, "rate": 80}).status_code == 201
    part = {"part": "Bearing 6205", "quantity": 2, "unit_cost": 45.5}
    assert client.post(f"{base}/parts", json=part).status_code == 201
    r = client.post(f"{base}/costs", json={"description": "Crane hire", "amount": 300})
    body = r.json()
    # 2.5 h × 80 = 200; 2 × 45.5 = 91; 300 other: 591.
    assert body["cost_totals"] == {"labor": 200.0, "parts": 91.0, "other": 300.0, "total": 591.0}
    assert body["cost_total"] == 591.0
    assert body["labor"][0]["worker"] == "admin-token"
    assert [e["kind"] for e in body["events"]][-3:] == ["labor", "part", "cost"]


def test_costs_refuse_negative_amounts_and_nan(client: TestClient) -> None:
    wo = new_wo(client)
    base = f"/api/v1/workorders/{wo['id']}"
    assert client.post(f"{base}/costs", json={"description": "x", "amount": -5}).status_code == 422
    r = client.post(
        f"{base}/labor",
        content=b'{"hours": NaN}',
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 422


def test_costs_on_a_closed_work_order_answer_409(client: TestClient) -> None:
    wo = new_wo(client)
    move(client, wo["id"], "resolved")
    move(client, wo["id"], "closed")
    r = client.post(f"/api/v1/workorders/{wo['id']}/labor", json={"hours": 1})
    assert r.status_code == 409


# --- ETag / If-Match ----------------------------------------------------------------------------


def test_update_with_a_stale_etag_answers_412_and_changes_nothing(client: TestClient) -> None:
    wo = new_wo(client)
    r = client.get(f"/api/v1/workorders/{wo['id']}")
    stale = r.headers["ETag"]
    ok = client.patch(
        f"/api/v1/workorders/{wo['id']}", json={"description": "v2"}, headers={"If-Match": stale}
    )
    assert ok.status_code == 200 and ok.headers["ETag"] != stale
    late = client.patch(
        f"/api/v1/workorders/{wo['id']}", json={"description": "v3"}, headers={"If-Match": stale}
    )
    assert late.status_code == 412
    # the refusal names the current version; the answer's tag adds the timeline's revision
    current = late.json()["detail"]["current_etag"]
    assert current == f'"{ok.json()["version"]}"' and ok.headers["ETag"].startswith(
        current[:-1] + "."
    )
    assert client.get(f"/api/v1/workorders/{wo['id']}").json()["description"] == "v2"


def test_status_change_with_a_stale_etag_answers_412(client: TestClient) -> None:
    wo = new_wo(client)
    first = client.get(f"/api/v1/workorders/{wo['id']}").headers["ETag"]
    move(client, wo["id"], "acknowledged")
    r = client.post(
        f"/api/v1/workorders/{wo['id']}/status",
        json={"status": "in_progress"},
        headers={"If-Match": first},
    )
    assert r.status_code == 412


def test_an_if_match_longer_than_documented_is_refused_as_malformed(client: TestClient) -> None:
    """The document says If-Match is at most 200 characters: a longer one is a bad request
    (400), not a stale version (412), and changes nothing."""
    wo = new_wo(client)
    tag = client.get(f"/api/v1/workorders/{wo['id']}").headers["ETag"]
    r = client.patch(
        f"/api/v1/workorders/{wo['id']}",
        json={"description": "v2"},
        headers={"If-Match": tag + "," + "0" * 200},
    )
    assert r.status_code == 400 and "If-Match" in r.json()["message"]
    assert client.get(f"/api/v1/workorders/{wo['id']}").json()["description"] != "v2"


def test_get_with_the_current_etag_answers_304(client: TestClient) -> None:
    wo = new_wo(client)
    tag = client.get(f"/api/v1/workorders/{wo['id']}").headers["ETag"]
    r = client.get(f"/api/v1/workorders/{wo['id']}", headers={"If-None-Match": tag})
    assert r.status_code == 304 and r.content == b""


# --- Idempotency-Key ----------------------------------------------------------------------------


def test_replayed_create_with_the_same_key_returns_the_first_work_order(client: TestClient) -> None:
    headers = {"Idempotency-Key": "tablet-7-0001"}
    first = client.post("/api/v1/workorders", json={"title": "Door sticks"}, headers=headers)
    again = client.post("/api/v1/workorders", json={"title": "Door sticks"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["ETag"] == first.headers["ETag"]
    titles = [w["title"] for w in client.get("/api/v1/workorders").json()["items"]]
    assert titles.count("Door sticks") == 1


def test_a_key_reused_for_another_body_answers_422(client: TestClient) -> None:
    headers = {"Idempotency-Key": "tablet-7-0002"}
    client.post("/api/v1/workorders", json={"title": "A"}, headers=headers)
    r = client.post("/api/v1/workorders", json={"title": "B"}, headers=headers)
    assert r.status_code == 422 and r.json()["error"] == "idempotency_key_reused"


def test_keys_are_per_caller(client: TestClient, db: Database) -> None:
    _, tech = user_token(db, Role.technician)
    headers = {"Idempotency-Key": "same-key"}
    a = client.post("/api/v1/workorders", json={"title": "A"}, headers=headers)
    b = client.post("/api/v1/workorders", json={"title": "A"}, headers=bearer(tech, **headers))
    assert a.json()["id"] != b.json()["id"]


def test_replayed_labor_entry_is_booked_once(client: TestClient) -> None:
    wo = new_wo(client)
    url = f"/api/v1/workorders/{wo['id']}/labor"
    for _ in range(3):
        client.post(url, json={"hours": 1, "rate": 50}, headers={"Idempotency-Key": "lab-1"})
    assert client.get(f"/api/v1/workorders/{wo['id']}").json()["cost_total"] == 50.0


# --- offline action times -----------------------------------------------------------------------


def test_a_change_synced_late_is_stamped_when_it_happened(client: TestClient) -> None:
    raised = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=60)
    wo = new_wo(client, at=raised.isoformat())
    happened = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=40)
    r = move(client, wo["id"], "acknowledged", at=happened.isoformat())
    body = r.json()
    assert dt.datetime.fromisoformat(body["acknowledged_at"]) == happened
    assert dt.datetime.fromisoformat(body["events"][-1]["ts"]) == happened


def test_an_action_time_in_the_future_answers_422(client: TestClient) -> None:
    wo = new_wo(client)
    ahead = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    r = move(client, wo["id"], "acknowledged", at=ahead.isoformat())
    assert r.status_code == 422 and "clock" in r.json()["message"]


def test_an_action_time_without_offset_answers_422(client: TestClient) -> None:
    wo = new_wo(client)
    assert move(client, wo["id"], "acknowledged", at="2026-01-01T08:00:00").status_code == 422


# --- audit log ----------------------------------------------------------------------------------


def test_audit_log_records_who_changed_what_before_and_after(client: TestClient) -> None:
    wo = new_wo(client, priority="P3")
    client.patch(f"/api/v1/workorders/{wo['id']}", json={"priority": "P2"})
    move(client, wo["id"], "acknowledged")
    trail = client.get(f"/api/v1/workorders/{wo['id']}/audit").json()
    entries = [e for e in trail if e["actor_role"] != "system"]  # the SLA engine's own
    assert [e["action"] for e in entries] == ["create", "update", "status"]
    update = entries[1]
    assert update["actor"] == "admin-token" and update["actor_role"] == "admin"
    assert update["before"] == {"priority": "P3"} and update["after"] == {"priority": "P2"}
    assert entries[2]["before"]["status"] == "new"
    assert entries[2]["after"]["status"] == "acknowledged"


def test_the_audit_log_cannot_be_rewritten(db: Database, client: TestClient) -> None:
    new_wo(client)
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    with pytest.raises(DBAPIError, match="append-only"), db.session() as s:
        s.execute(text("UPDATE audit_log SET actor = 'someone else'"))
    with pytest.raises(DBAPIError, match="append-only"), db.session() as s:
        s.execute(text("DELETE FROM audit_log"))


# --- lists --------------------------------------------------------------------------------------


def test_sorted_list_pages_through_every_work_order_once(client: TestClient) -> None:
    made = [new_wo(client, title=f"job {i}", priority=f"P{1 + i % 4}")["id"] for i in range(9)]
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"sort": "priority", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/api/v1/workorders", params=params).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(w["id"] for w in seen) == sorted(made)
    keys = [(w["priority"], w["id"]) for w in seen]
    assert keys == sorted(keys)


def test_a_cursor_from_another_sort_answers_400(client: TestClient) -> None:
    for i in range(3):
        new_wo(client, title=f"job {i}")
    cursor = client.get("/api/v1/workorders", params={"limit": 1}).json()["next_cursor"]
    r = client.get("/api/v1/workorders", params={"cursor": cursor, "sort": "priority"})
    assert r.status_code == 400


def test_filters_by_priority_type_and_text(client: TestClient) -> None:
    new_wo(client, title="Leak in plant room", priority="P1")
    new_wo(client, title="Leak at roof", priority="P3", type="inspection")
    new_wo(client, title="Lamp out", priority="P1")
    titles = lambda **p: sorted(  # noqa: E731
        w["title"] for w in client.get("/api/v1/workorders", params=p).json()["items"]
    )
    assert titles(priority="P1") == ["Lamp out", "Leak in plant room"]
    assert titles(q="leak") == ["Leak at roof", "Leak in plant room"]
    assert titles(q="leak", type="inspection") == ["Leak at roof"]
    assert titles(q="100%_") == []


def test_my_open_work_orders_lists_only_the_callers(client: TestClient, db: Database) -> None:
    me, token = user_token(db, Role.technician)
    other, _ = user_token(db, Role.technician)
    mine = new_wo(client, title="mine", assignee_id=me)
    new_wo(client, title="theirs", assignee_id=other)
    done = new_wo(client, title="mine, done", assignee_id=me)
    move(client, done["id"], "resolved")
    r = client.get(
        "/api/v1/workorders", params={"assignee": "me", "open": True}, headers=bearer(token)
    )
    assert [w["id"] for w in r.json()["items"]] == [mine["id"]]


def test_requester_sees_only_requests_they_raised(client: TestClient, db: Database) -> None:
    _, requester = user_token(db, Role.requester)
    new_wo(client, title="staff job")
    r = client.post("/api/v1/workorders", json={"title": "Cold office"}, headers=bearer(requester))
    assert r.status_code == 201 and r.json()["type"] == "request"
    listed = client.get("/api/v1/workorders", headers=bearer(requester)).json()["items"]
    assert [w["title"] for w in listed] == ["Cold office"]


def test_export_is_scoped_to_the_contractor(client: TestClient, db: Database) -> None:
    _, token = user_token(db, Role.contractor, org="Alpha FM")
    with db.session() as s:
        alpha = auth.get_or_create_organisation(s, "Alpha FM").id
        beta = auth.get_or_create_organisation(s, "Beta FM").id
    new_wo(client, title="alpha's job", contractor_id=alpha)
    new_wo(client, title="beta's job", contractor_id=beta)
    r = client.get("/api/v1/workorders/export.csv", headers=bearer(token))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert [row["title"] for row in rows] == ["alpha's job"]
    everything = client.get("/api/v1/workorders/export.csv").content.decode("utf-8-sig")
    assert "beta's job" in everything and "alpha's job" in everything


# --- assignment ---------------------------------------------------------------------------------


def test_assigning_a_new_work_order_moves_it_to_assigned(client: TestClient, db: Database) -> None:
    tech, _ = user_token(db, Role.technician)
    wo = new_wo(client)
    r = client.post(f"/api/v1/workorders/{wo['id']}/assign", json={"assignee_id": tech})
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["assignee_id"]) == ("assigned", tech)


def test_assigning_to_someone_of_another_contractor_answers_422(
    client: TestClient, db: Database
) -> None:
    worker, _ = user_token(db, Role.contractor, org="Alpha FM")
    with db.session() as s:
        beta = auth.get_or_create_organisation(s, "Beta FM").id
    wo = new_wo(client)
    r = client.post(
        f"/api/v1/workorders/{wo['id']}/assign",
        json={"assignee_id": worker, "contractor_id": beta},
    )
    assert r.status_code == 422 and r.json()["error"] == "not_assignable"
