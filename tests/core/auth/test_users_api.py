"""The users, organisations and /me API, its audit trail, and its answers to bad input."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from core import audit
from core.auth.models import Role, User
from core.db import Database
from tests.core.auth.accounts import bearer, make_token, make_user


def test_admin_creates_a_user_with_an_argon2id_password(client: TestClient, db: Database) -> None:
    r = client.post(
        "/api/v1/users",
        json={"username": "li.wei", "role": "technician", "password": "correct horse battery"},
    )

    assert r.status_code == 201
    assert r.json()["username"] == "li.wei" and "password" not in r.text
    with db.session() as s:
        stored = s.scalars(select(User.password_hash).where(User.username == "li.wei")).one()
    assert stored is not None and stored.startswith("$argon2id$")
    assert "correct horse battery" not in stored


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"username": "x" * 81, "role": "technician"}, 422),
        ({"username": "two words", "role": "technician"}, 422),
        ({"username": "nul\u0000", "role": "technician"}, 422),
        ({"username": "ok", "role": "wizard"}, 422),
        ({"username": "ok", "role": "technician", "password": "short"}, 422),
        ({"username": "ok", "role": "technician", "is_admin": True}, 422),
        ({"username": "ok", "role": "contractor"}, 422),
        ({"username": "ok", "role": "technician", "organisation_id": 999}, 422),
        ({"username": "ok", "role": "technician", "organisation_id": 2**40}, 422),
        ({"username": "taken", "role": "technician"}, 409),
    ],
    ids=[
        "too-long",
        "space",
        "nul",
        "unknown-role",
        "short-password",
        "extra-field",
        "contractor-without-firm",
        "unknown-org",
        "huge-org-id",
        "duplicate",
    ],
)
def test_bad_user_input_answers_4xx_with_a_reason(
    client: TestClient, db: Database, body: dict[str, Any], status: int
) -> None:
    make_user(db, "taken", Role.technician)

    r = client.post("/api/v1/users", json=body)

    assert r.status_code == status
    assert r.json()["message"]


@pytest.mark.parametrize(("path", "status"), [("/0", 422), ("/abc", 422), ("/99999", 404)])
def test_bad_user_ids_answer_404_or_422(client: TestClient, path: str, status: int) -> None:
    assert client.get(f"/api/v1/users{path}").status_code == status
    assert client.post(f"/api/v1/users{path}/disable").status_code == status


def test_users_see_themselves_but_not_others(client: TestClient, db: Database) -> None:
    me = make_user(db, "tech", Role.technician)
    other = make_user(db, "other", Role.technician)
    token = make_token(db, me)

    assert client.get(f"/api/v1/users/{me}", headers=bearer(token)).json()["username"] == "tech"
    assert client.get(f"/api/v1/users/{other}", headers=bearer(token)).status_code == 404
    assert client.get("/api/v1/users", headers=bearer(token)).status_code == 403


def test_user_list_filters_and_pages(client: TestClient, db: Database) -> None:
    for i in range(3):
        make_user(db, f"tech{i}", Role.technician)
    make_user(db, "eng", Role.engineer)

    first = client.get("/api/v1/users?role=technician&limit=2").json()
    rest = client.get(f"/api/v1/users?role=technician&limit=2&cursor={first['next_cursor']}")

    names = [u["username"] for u in first["items"] + rest.json()["items"]]
    assert names == ["tech0", "tech1", "tech2"]
    assert rest.json()["next_cursor"] is None


def test_contractor_sees_own_organisation_in_me_only(client: TestClient, db: Database) -> None:
    uid = make_user(db, "evergreen", Role.contractor, org="Evergreen Property Services")
    token = make_token(db, uid)

    me = client.get("/api/v1/me", headers=bearer(token)).json()

    assert me["role"] == "contractor"
    assert me["organisation"]["name"] == "Evergreen Property Services"
    assert me["scopes"] == ["read", "write"]
    assert client.get("/api/v1/organisations", headers=bearer(token)).status_code == 403


def test_admin_creates_organisations_with_unique_names(client: TestClient) -> None:
    body = {"name": "Harbour FM", "kind": "contractor", "monthly_fee": 120000}

    created = client.post("/api/v1/organisations", json=body)
    again = client.post("/api/v1/organisations", json=body)

    assert created.status_code == 201
    assert again.status_code == 409
    listed = client.get("/api/v1/organisations").json()
    harbour = [(o["name"], o["monthly_fee"]) for o in listed if o["name"] == "Harbour FM"]
    assert harbour == [("Harbour FM", 120000)]


def test_account_changes_are_audited_without_secrets(client: TestClient, db: Database) -> None:
    admin = make_user(db, "boss", Role.admin)
    admin_token = make_token(db, admin, "read write admin")
    org = client.post(
        "/api/v1/organisations", headers=bearer(admin_token), json={"name": "Evergreen"}
    ).json()
    user = client.post(
        "/api/v1/users",
        headers=bearer(admin_token),
        json={
            "username": "ann",
            "role": "contractor",
            "password": "s3cret-password",
            "organisation_id": org["id"],
        },
    ).json()
    ann_token = make_token(db, user["id"])
    tok = client.post("/api/v1/tokens", headers=bearer(ann_token), json={"name": "tab"}).json()
    client.post(f"/api/v1/tokens/{tok['id']}/revoke", headers=bearer(ann_token))
    client.post(f"/api/v1/users/{user['id']}/disable", headers=bearer(admin_token))

    with db.session() as s:
        org_log = audit.entries(s, entity="organisation", entity_id=org["id"])
        user_log = audit.entries(s, entity="user", entity_id=user["id"])
        tok_log = audit.entries(s, entity="token", entity_id=tok["id"])
        pw_hash = s.get(User, user["id"]).password_hash  # type: ignore[union-attr]
    assert [(e.action, e.actor) for e in org_log] == [("create", "boss")]
    assert [(e.action, e.actor) for e in user_log] == [("create", "boss"), ("disable", "boss")]
    assert user_log[1].before == {"active": True} and user_log[1].after == {"active": False}
    assert [(e.action, e.actor) for e in tok_log] == [("create", "ann"), ("revoke", "ann")]
    values = repr([(e.before, e.after) for e in org_log + user_log + tok_log])
    assert "s3cret-password" not in values and str(pw_hash) not in values
    assert tok["token"] not in values


def test_admins_cannot_disable_themselves(client: TestClient, db: Database) -> None:
    admin = make_user(db, "boss", Role.admin)
    token = make_token(db, admin, "read write admin")

    r = client.post(f"/api/v1/users/{admin}/disable", headers=bearer(token))

    assert r.status_code == 409
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
