"""The office's API of issue 15: bulk assignment with one outcome per work order, the reopen of
finished work (a cancel too, with its SLA clocks running again), whom work may go to, and the
admin's user additions (role change, enable, a token issued for another user)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from core.auth import service as auth
from core.auth.models import Role
from core.db import Database
from tests.workorders.accounts import token_for


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _new(client: TestClient, title: str = "Office job", **body: Any) -> dict[str, Any]:
    r = client.post("/api/v1/workorders", json={"title": title, "priority": "P2", **body})
    assert r.status_code == 201, r.text
    return dict(r.json())


def _user(db: Database, username: str, role: Role, org: str | None = None) -> tuple[int, str]:
    token = token_for(db, username, role, org)
    with db.session() as s:
        user = auth.repository.user_by_username(s, username)
        assert user is not None
        return user.id, token


def _firm(db: Database, name: str) -> int:
    with db.session() as s:
        return auth.get_or_create_organisation(s, name).id


# --- bulk assignment ----------------------------------------------------------------------------


def test_bulk_assign_gives_each_work_order_to_the_technician_and_reports_each(
    client: TestClient, db: Database
) -> None:
    tech_id, _ = _user(db, "bulk-tech", Role.technician)
    a, b = _new(client, "Leak A"), _new(client, "Leak B")

    r = client.post(
        "/api/v1/workorders/bulk-assign", json={"ids": [a["id"], b["id"]], "assignee_id": tech_id}
    )

    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["assigned"], body["failed"]) == (2, 0)
    assert [i["id"] for i in body["items"]] == [a["id"], b["id"]]
    for wo_id in (a["id"], b["id"]):
        wo = client.get(f"/api/v1/workorders/{wo_id}").json()
        assert wo["assignee_id"] == tech_id and wo["status"] == "assigned"


def test_bulk_assign_refuses_one_with_its_reason_and_keeps_the_others(
    client: TestClient, db: Database
) -> None:
    firm = _firm(db, "Bulk Firm")
    ok, done = _new(client, "Lamp out"), _new(client, "Closed already")
    client.post(f"/api/v1/workorders/{done['id']}/status", json={"status": "cancelled"})

    r = client.post(
        "/api/v1/workorders/bulk-assign",
        json={"ids": [ok["id"], done["id"], 999_999, ok["id"]], "contractor_id": firm},
    )

    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["assigned"], body["failed"]) == (1, 2)
    items = {i["id"]: i for i in body["items"]}
    assert len(body["items"]) == 3  # the repeated id once
    assert items[ok["id"]]["ok"] and items[ok["id"]]["version"] > ok["version"]
    assert items[done["id"]]["status_code"] == 409
    assert "reopen it first" in items[done["id"]]["message"]
    assert items[999_999] | {"message": None} == {
        "id": 999_999,
        "ok": False,
        "status_code": 404,
        "error": "not_found",
        "message": None,
        "version": None,
    }
    cancelled = client.get(f"/api/v1/workorders/{done['id']}").json()
    assert cancelled["contractor_id"] is None and cancelled["status"] == "cancelled"


def test_bulk_assign_of_someone_who_cannot_take_work_fails_every_item_with_422(
    client: TestClient, db: Database
) -> None:
    req_id, _ = _user(db, "bulk-requester", Role.requester)
    wo = _new(client)
    r = client.post(
        "/api/v1/workorders/bulk-assign", json={"ids": [wo["id"]], "assignee_id": req_id}
    )
    assert r.status_code == 200
    item = r.json()["items"][0]
    assert (item["ok"], item["status_code"], item["error"]) == (False, 422, "not_assignable")


def test_bulk_assign_is_for_the_office_only(client: TestClient, db: Database) -> None:
    _, tech = _user(db, "bulk-tech2", Role.technician)
    wo = _new(client)
    r = client.post(
        "/api/v1/workorders/bulk-assign",
        json={"ids": [wo["id"]], "assignee_id": None},
        headers=_bearer(tech),
    )
    assert r.status_code == 403


def test_bulk_assign_refuses_an_empty_or_oversized_list(client: TestClient) -> None:
    assert client.post("/api/v1/workorders/bulk-assign", json={"ids": []}).status_code == 422
    many = list(range(1, 202))
    assert client.post("/api/v1/workorders/bulk-assign", json={"ids": many}).status_code == 422
    assert client.post("/api/v1/workorders/bulk-assign", json={"ids": [0]}).status_code == 422


# --- reopen -------------------------------------------------------------------------------------


def test_a_cancelled_work_order_reopens_to_new_with_its_sla_clocks_running(
    client: TestClient,
) -> None:
    wo = _new(client, "Cancelled by mistake")
    client.post(f"/api/v1/workorders/{wo['id']}/status", json={"status": "cancelled"})
    stopped = client.get(f"/api/v1/workorders/{wo['id']}").json()
    assert {c["state"] for c in stopped["sla_clocks"]} <= {"cancelled"}

    r = client.post(f"/api/v1/workorders/{wo['id']}/reopen", json={"note": "not a duplicate"})

    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "new" and body["closed_at"] is None
    assert body["events"][-1]["data"] == {"from": "cancelled", "to": "new"}
    assert body["events"][-1]["message"] == "not a duplicate"
    if body["sla_clocks"]:
        assert {c["state"] for c in body["sla_clocks"]} == {"running"}
    audit = client.get(f"/api/v1/workorders/{wo['id']}/audit").json()
    moves = [
        (e["before"]["status"], e["after"]["status"]) for e in audit if e["action"] == "status"
    ]
    assert moves == [("new", "cancelled"), ("cancelled", "new")]


def test_a_cancelled_work_order_with_a_firm_reopens_to_assigned(
    client: TestClient, db: Database
) -> None:
    wo = _new(client, "Firm job", contractor_id=_firm(db, "Reopen Firm"))
    client.post(f"/api/v1/workorders/{wo['id']}/status", json={"status": "cancelled"})
    r = client.post(f"/api/v1/workorders/{wo['id']}/reopen")
    assert r.status_code == 200 and r.json()["status"] == "assigned"


def test_a_closed_work_order_reopens_to_in_progress(client: TestClient) -> None:
    wo = _new(client)
    for target in ("resolved", "closed"):
        client.post(f"/api/v1/workorders/{wo['id']}/status", json={"status": target})
    r = client.post(f"/api/v1/workorders/{wo['id']}/reopen", json={})
    assert r.status_code == 200 and r.json()["status"] == "in_progress"
    assert r.json()["resolved_at"] is None


def test_an_open_work_order_does_not_reopen(client: TestClient) -> None:
    wo = _new(client)
    r = client.post(f"/api/v1/workorders/{wo['id']}/reopen")
    assert r.status_code == 409 and r.json()["error"] == "not_reopenable"


def test_only_the_office_reopens_and_if_match_guards_it(client: TestClient, db: Database) -> None:
    _, tech = _user(db, "reopen-tech", Role.technician)
    wo = _new(client)
    cancelled = client.post(
        f"/api/v1/workorders/{wo['id']}/status", json={"status": "cancelled"}
    ).json()
    url = f"/api/v1/workorders/{wo['id']}/reopen"
    assert client.post(url, headers=_bearer(tech)).status_code == 403
    assert client.post(url, headers={"If-Match": f'"{wo["version"]}"'}).status_code == 412
    assert client.post(url, headers={"If-Match": f'"{cancelled["version"]}"'}).status_code == 200
    assert client.post("/api/v1/workorders/999999/reopen").status_code == 404


# --- whom to assign to --------------------------------------------------------------------------


def test_assignees_lists_people_who_take_work_and_active_firms(
    client: TestClient, db: Database
) -> None:
    tech_id, tech = _user(db, "who-tech", Role.technician)
    req_id, _ = _user(db, "who-requester", Role.requester)
    firm = _firm(db, "Who Firm")

    r = client.get("/api/v1/assignees")

    assert r.status_code == 200
    people = {p["id"]: p for p in r.json()["people"]}
    assert tech_id in people and req_id not in people
    assert people[tech_id]["role"] == "technician"
    assert firm in {f["id"] for f in r.json()["contractors"]}
    assert client.get("/api/v1/assignees", headers=_bearer(tech)).status_code == 403


# --- users: role change, enable, a token for someone else -----------------------------------------


def test_an_admin_changes_a_users_role_and_firm(client: TestClient, db: Database) -> None:
    uid, _ = _user(db, "promote-me", Role.technician)
    firm = _firm(db, "Role Firm")

    assert client.patch(f"/api/v1/users/{uid}", json={"role": "contractor"}).status_code == 422
    r = client.patch(
        f"/api/v1/users/{uid}",
        json={"role": "contractor", "organisation_id": firm, "display_name": "Wang"},
    )

    assert r.status_code == 200, r.text
    assert (r.json()["role"], r.json()["organisation_id"], r.json()["display_name"]) == (
        "contractor",
        firm,
        "Wang",
    )
    back = client.patch(
        f"/api/v1/users/{uid}", json={"role": "technician", "organisation_id": None}
    )
    assert back.json()["role"] == "technician" and back.json()["organisation_id"] is None
    assert client.patch("/api/v1/users/999999", json={"role": "technician"}).status_code == 404


def test_an_admin_cannot_change_their_own_role(client: TestClient, db: Database) -> None:
    uid, _ = _user(db, "self-admin", Role.admin)
    with db.session() as s:
        admin = auth.repository.get_user(s, uid)
        assert admin is not None
        token = auth.create_token(s, user=admin, name="all", scopes=["read", "write", "admin"])
    r = client.patch(f"/api/v1/users/{uid}", json={"role": "technician"}, headers=_bearer(token))
    assert r.status_code == 409


def test_a_disabled_user_is_enabled_again(client: TestClient, db: Database) -> None:
    uid, token = _user(db, "come-back", Role.technician)
    assert client.post(f"/api/v1/users/{uid}/disable").json()["active"] is False
    r = client.post(f"/api/v1/users/{uid}/enable")
    assert r.status_code == 200 and r.json()["active"] is True
    # Their old token stays revoked.
    assert client.get("/api/v1/me", headers=_bearer(token)).status_code == 401


def test_an_admin_issues_a_read_only_token_for_a_contractor_that_cannot_write(
    client: TestClient, db: Database
) -> None:
    firm = _firm(db, "Token Firm")
    user = client.post(
        "/api/v1/users",
        json={"username": "firm-api", "role": "contractor", "organisation_id": firm},
    ).json()

    r = client.post(f"/api/v1/users/{user['id']}/tokens", json={"name": "erp", "scopes": ["read"]})

    assert r.status_code == 201, r.text
    created = r.json()
    assert created["user_id"] == user["id"] and created["scopes"] == ["read"]
    token = created["token"]
    assert client.get("/api/v1/workorders", headers=_bearer(token)).status_code == 200
    write = client.post("/api/v1/tokens", json={"name": "x"}, headers=_bearer(token))
    assert write.status_code == 403
    listed = client.get("/api/v1/tokens", params={"user_id": user["id"]}).json()["items"]
    assert [t["id"] for t in listed] == [created["id"]]
    assert "token" not in listed[0]


def test_a_token_for_someone_else_holds_no_scope_their_role_lacks(
    client: TestClient, db: Database
) -> None:
    uid, _ = _user(db, "tok-tech", Role.technician)
    r = client.post(f"/api/v1/users/{uid}/tokens", json={"name": "x", "scopes": ["admin"]})
    assert r.status_code == 403
    client.post(f"/api/v1/users/{uid}/disable")
    r = client.post(f"/api/v1/users/{uid}/tokens", json={"name": "x", "scopes": ["read"]})
    assert r.status_code == 409


def test_only_admins_issue_tokens_for_others(client: TestClient, db: Database) -> None:
    uid, eng = _user(db, "tok-eng", Role.engineer)
    r = client.post(
        f"/api/v1/users/{uid}/tokens", json={"name": "x", "scopes": ["read"]}, headers=_bearer(eng)
    )
    assert r.status_code == 403


# --- contractor firms ---------------------------------------------------------------------------


def test_an_admin_renames_a_firm_changes_its_fee_and_deactivates_it(
    client: TestClient, db: Database
) -> None:
    firm = _firm(db, "Old Name Ltd")
    _firm(db, "Taken Name Ltd")
    url = f"/api/v1/organisations/{firm}"

    r = client.patch(url, json={"name": "New Name Ltd", "monthly_fee": 52000})
    assert r.status_code == 200, r.text
    assert (r.json()["name"], r.json()["monthly_fee"], r.json()["active"]) == (
        "New Name Ltd",
        52000,
        True,
    )
    assert client.patch(url, json={"name": "Taken Name Ltd"}).status_code == 409
    assert client.patch(url, json={"name": None}).status_code == 422
    assert client.patch("/api/v1/organisations/999999", json={}).status_code == 404

    assert client.patch(url, json={"active": False}).json()["active"] is False
    # An inactive firm is given no new work and leaves the assign menus.
    wo = _new(client)
    r = client.post(f"/api/v1/workorders/{wo['id']}/assign", json={"contractor_id": firm})
    assert r.status_code == 422 and r.json()["error"] == "not_assignable"
    assert firm not in {f["id"] for f in client.get("/api/v1/assignees").json()["contractors"]}
    assert client.patch(url, json={"monthly_fee": None}).json()["monthly_fee"] is None


def test_only_admins_change_firms(client: TestClient, db: Database) -> None:
    _, eng = _user(db, "firm-eng", Role.engineer)
    firm = _firm(db, "Admin Only Ltd")
    r = client.patch(f"/api/v1/organisations/{firm}", json={"active": False}, headers=_bearer(eng))
    assert r.status_code == 403
