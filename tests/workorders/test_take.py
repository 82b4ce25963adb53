"""A technician takes an open, unassigned work order with one tap (issue 14, item 2):
POST /api/v1/workorders/{id}/take."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient

from core.auth.models import Role
from core.db import Database
from tests.core.auth.accounts import bearer, make_token, make_user
from tests.workorders.accounts import token_for

CONTRACTOR = "Huaxia Property Services"


def _new(client: TestClient, **body: Any) -> dict[str, Any]:
    r = client.post("/api/v1/workorders", json={"title": "Pump P-2 over current", **body})
    assert r.status_code == 201, r.text
    return dict(r.json())


def _take(client: TestClient, wo_id: int, token: str, **kw: Any) -> Any:
    headers = {**bearer(token), **kw.pop("headers", {})}
    return client.post(f"/api/v1/workorders/{wo_id}/take", headers=headers, **kw)


def _user(db: Database, username: str, role: Role, **kw: Any) -> tuple[int, str]:
    uid = make_user(db, username, role, **kw)
    return uid, make_token(db, uid)


def test_a_technician_takes_a_new_work_order_and_it_becomes_theirs(
    client: TestClient, db: Database
) -> None:
    wo = _new(client)
    uid, tok = _user(db, "li.wei", Role.technician)

    r = _take(client, wo["id"], tok, json={})

    assert r.status_code == 200, r.text
    body = r.json()
    assert body["assignee_id"] == uid and body["assignee_name"] == "li.wei"
    assert body["contractor_id"] is None and body["status"] == "assigned"
    assert r.headers["ETag"] == f'"{body["version"]}.{max(e["id"] for e in body["events"])}"'
    kinds = [(e["kind"], e["actor"], e["data"]) for e in body["events"]]
    assert ("taken", "li.wei", {"assignee_id": uid}) in kinds
    assert ("status", "li.wei", {"from": "new", "to": "assigned"}) in kinds


def test_the_body_may_be_left_out(client: TestClient, db: Database) -> None:
    wo = _new(client)
    _, tok = _user(db, "li.wei", Role.technician)

    r = _take(client, wo["id"], tok)

    assert r.status_code == 200, r.text
    assert r.json()["status"] == "assigned"


def test_taking_acknowledged_work_keeps_its_status(client: TestClient, db: Database) -> None:
    wo = _new(client)
    client.post(f"/api/v1/workorders/{wo['id']}/status", json={"status": "acknowledged"})
    uid, tok = _user(db, "li.wei", Role.technician)

    r = _take(client, wo["id"], tok, json={})

    assert r.status_code == 200, r.text
    assert r.json()["status"] == "acknowledged" and r.json()["assignee_id"] == uid
    assert [e["kind"] for e in r.json()["events"]][-1] == "taken"


@pytest.mark.parametrize("role", [Role.engineer, Role.admin])
def test_engineers_and_admins_may_take_work_too(
    client: TestClient, db: Database, role: Role
) -> None:
    wo = _new(client)
    uid, tok = _user(db, "someone", role)

    r = _take(client, wo["id"], tok, json={})

    assert r.status_code == 200, r.text
    assert r.json()["assignee_id"] == uid


@pytest.mark.parametrize("role", [Role.requester, Role.contractor])
def test_requesters_and_contractors_may_not_take_work(
    client: TestClient, db: Database, role: Role
) -> None:
    wo = _new(client)
    org = CONTRACTOR if role is Role.contractor else None
    _, tok = _user(db, "someone", role, org=org)

    r = _take(client, wo["id"], tok, json={})

    assert r.status_code in (403, 404), r.text  # a contractor does not even see it
    assert client.get(f"/api/v1/workorders/{wo['id']}").json()["assignee_id"] is None


def test_the_environments_admin_token_is_no_person_to_take_work(client: TestClient) -> None:
    wo = _new(client)

    r = client.post(f"/api/v1/workorders/{wo['id']}/take", json={})

    assert r.status_code == 403
    assert client.get(f"/api/v1/workorders/{wo['id']}").json()["assignee_id"] is None


def test_work_someone_has_is_refused_with_409(client: TestClient, db: Database) -> None:
    first_id, first = _user(db, "li.wei", Role.technician)
    _, second = _user(db, "wang.fang", Role.technician)
    wo = _new(client)
    assert _take(client, wo["id"], first, json={}).status_code == 200

    r = _take(client, wo["id"], second, json={})

    assert r.status_code == 409
    assert r.json()["error"] == "already_assigned"
    assert client.get(f"/api/v1/workorders/{wo['id']}").json()["assignee_id"] == first_id


def test_work_a_contractor_has_is_refused_with_409(client: TestClient, db: Database) -> None:
    contractor = client.get("/api/v1/organisations").json()
    org = next(o["id"] for o in contractor if o["name"] == CONTRACTOR)
    wo = _new(client, contractor_id=org)
    _, tok = _user(db, "li.wei", Role.technician)

    r = _take(client, wo["id"], tok, json={})

    assert r.status_code == 409 and r.json()["error"] == "already_assigned"


@pytest.mark.parametrize("status", ["resolved", "cancelled"])
def test_work_no_longer_open_is_refused_with_409(
    client: TestClient, db: Database, status: str
) -> None:
    wo = _new(client)
    client.post(f"/api/v1/workorders/{wo['id']}/status", json={"status": status})
    _, tok = _user(db, "li.wei", Role.technician)

    r = _take(client, wo["id"], tok, json={})

    assert r.status_code == 409 and r.json()["error"] == "not_open"


def test_if_match_with_an_old_version_is_refused_with_412(client: TestClient, db: Database) -> None:
    wo = _new(client)
    client.patch(f"/api/v1/workorders/{wo['id']}", json={"description": "noisy at night"})
    _, tok = _user(db, "li.wei", Role.technician)

    stale = _take(client, wo["id"], tok, json={}, headers={"If-Match": f'"{wo["version"]}"'})
    current = client.get(f"/api/v1/workorders/{wo['id']}").headers["ETag"]
    fresh = _take(client, wo["id"], tok, json={}, headers={"If-Match": current})

    assert stale.status_code == 412
    assert fresh.status_code == 200, fresh.text


def test_the_stated_time_is_when_it_was_taken(client: TestClient, db: Database) -> None:
    earlier = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    wo = _new(client, at=(earlier - dt.timedelta(minutes=5)).isoformat())
    _, tok = _user(db, "li.wei", Role.technician)

    r = _take(client, wo["id"], tok, json={"at": earlier.isoformat()})

    assert r.status_code == 200, r.text
    taken = next(e for e in r.json()["events"] if e["kind"] == "taken")
    assert dt.datetime.fromisoformat(taken["ts"]) == earlier
    assert taken["received_at"] is not None


@pytest.mark.parametrize(
    "shift", [dt.timedelta(minutes=-10), dt.timedelta(minutes=10)], ids=["before", "future"]
)
def test_a_time_before_its_creation_or_in_the_future_is_refused(
    client: TestClient, db: Database, shift: dt.timedelta
) -> None:
    wo = _new(client)
    created = dt.datetime.fromisoformat(wo["created_at"])
    at = created + shift if shift < dt.timedelta(0) else dt.datetime.now(dt.UTC) + shift
    _, tok = _user(db, "li.wei", Role.technician)

    r = _take(client, wo["id"], tok, json={"at": at.isoformat()})

    assert r.status_code == 422, r.text
    assert client.get(f"/api/v1/workorders/{wo['id']}").json()["assignee_id"] is None


def test_a_time_before_the_status_change_it_follows_is_refused(
    client: TestClient, db: Database
) -> None:
    start = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    wo = _new(client, at=start.isoformat())
    acked = start + dt.timedelta(hours=1)
    moved = client.post(
        f"/api/v1/workorders/{wo['id']}/status",
        json={"status": "acknowledged", "at": acked.isoformat()},
    )
    assert moved.status_code == 200, moved.text
    _, tok = _user(db, "li.wei", Role.technician)

    r = _take(client, wo["id"], tok, json={"at": (acked - dt.timedelta(minutes=5)).isoformat()})

    assert r.status_code == 422, r.text
    assert r.json()["detail"]["bound"] == "the status change it follows"


def test_a_replay_under_the_same_idempotency_key_takes_it_once(
    client: TestClient, db: Database
) -> None:
    wo = _new(client)
    _, tok = _user(db, "li.wei", Role.technician)
    key = {"Idempotency-Key": "take-1"}

    first = _take(client, wo["id"], tok, json={}, headers=key)
    again = _take(client, wo["id"], tok, json={}, headers=key)

    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true" and again.json() == first.json()
    events = client.get(f"/api/v1/workorders/{wo['id']}").json()["events"]
    assert [e["kind"] for e in events].count("taken") == 1


def test_kept_lists_see_the_take(client: TestClient, db: Database) -> None:
    """The unassigned list and the taker's own list, both served from the list cache, change
    at once (the change counters move)."""
    wo = _new(client)
    tok = token_for(db, "li.wei", Role.technician)
    cache = client.app.state.list_cache  # type: ignore[attr-defined]
    mine, unassigned = "/api/v1/workorders?assignee=me", "/api/v1/workorders?assignee=none"

    def ids(url: str) -> list[int]:
        r = client.get(url, headers=bearer(tok))
        assert r.status_code == 200, r.text
        return [w["id"] for w in r.json()["items"]]

    assert (ids(mine), ids(unassigned)) == ([], [wo["id"]])
    hits = cache.hits
    assert (ids(mine), ids(unassigned)) == ([], [wo["id"]])
    assert cache.hits == hits + 2, "the lists were not served from the cache"

    assert _take(client, wo["id"], tok, json={}).status_code == 200

    assert (ids(mine), ids(unassigned)) == ([wo["id"]], [])
