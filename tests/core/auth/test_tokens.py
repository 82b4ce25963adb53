"""API tokens: scopes, revocation, expiry, disabled users, and storage only as hashes."""

from __future__ import annotations

import datetime as dt
import hashlib

from fastapi.testclient import TestClient
from sqlalchemy import select, update

import plantroom.models as models
from core.auth.models import ApiToken, Role
from core.db import Database
from tests.core.auth.accounts import bearer, make_token, make_user


def test_read_only_token_may_read_but_not_change(client: TestClient, db: Database) -> None:
    uid = make_user(db, "reader", Role.engineer)
    token = make_token(db, uid, "read")

    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    r = client.post("/api/v1/tokens", headers=bearer(token), json={"name": "more"})

    assert r.status_code == 403
    assert "'write' scope" in r.json()["message"]


def test_admin_token_without_admin_scope_cannot_manage_users(
    client: TestClient, db: Database
) -> None:
    uid = make_user(db, "boss", Role.admin)
    plain = make_token(db, uid, "read write")
    full = make_token(db, uid, "read write admin")
    body = {"username": "newbie", "role": "technician"}

    assert client.get("/api/v1/users", headers=bearer(plain)).status_code == 403
    assert client.post("/api/v1/users", headers=bearer(plain), json=body).status_code == 403
    assert client.post("/api/v1/users", headers=bearer(full), json=body).status_code == 201


def test_a_token_never_grants_more_than_the_role(client: TestClient, db: Database) -> None:
    uid = make_user(db, "tech", Role.technician)
    token = make_token(db, uid)
    asked = client.post(
        "/api/v1/tokens",
        headers=bearer(token),
        json={"name": "sneaky", "scopes": ["read", "write", "admin"]},
    )
    # Even a row that says 'admin' (written behind the API's back) does not make it an admin.
    with db.session() as s:
        s.execute(update(ApiToken).where(ApiToken.user_id == uid).values(scopes="read admin"))
    me = client.get("/api/v1/me", headers=bearer(token)).json()

    assert asked.status_code == 403
    assert me["scopes"] == ["read"]


def test_revoked_token_answers_401_from_the_next_call(client: TestClient, db: Database) -> None:
    uid = make_user(db, "tech", Role.technician)
    first = make_token(db, uid)
    created = client.post("/api/v1/tokens", headers=bearer(first), json={"name": "tablet"})
    token, token_id = created.json()["token"], created.json()["id"]
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200

    r = client.post(f"/api/v1/tokens/{token_id}/revoke", headers=bearer(first))

    assert r.status_code == 200 and r.json()["state"] == "revoked"
    after = client.get("/api/v1/me", headers=bearer(token))
    assert after.status_code == 401
    assert after.json()["message"] == "token revoked"


def test_expired_token_answers_401(client: TestClient, db: Database) -> None:
    uid = make_user(db, "tech", Role.technician)
    first = make_token(db, uid)
    created = client.post(
        "/api/v1/tokens", headers=bearer(first), json={"name": "day pass", "expires_in_days": 1}
    ).json()
    assert client.get("/api/v1/me", headers=bearer(created["token"])).status_code == 200

    # A day passes: move the expiry into the past rather than wait.
    with db.session() as s:
        s.execute(
            update(ApiToken)
            .where(ApiToken.id == created["id"])
            .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
    r = client.get("/api/v1/me", headers=bearer(created["token"]))

    assert r.status_code == 401
    assert r.json()["message"] == "token expired"


def test_disabling_a_user_stops_their_tokens(client: TestClient, db: Database) -> None:
    uid = make_user(db, "leaver", Role.technician)
    token = make_token(db, uid)
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200

    assert client.post(f"/api/v1/users/{uid}/disable").status_code == 200

    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401
    states = {t["state"] for t in client.get(f"/api/v1/tokens?user_id={uid}").json()["items"]}
    assert states == {"revoked"}


def test_tokens_are_stored_only_as_hashes(client: TestClient, db: Database) -> None:
    uid = make_user(db, "tech", Role.technician)
    first = make_token(db, uid)
    token = client.post("/api/v1/tokens", headers=bearer(first), json={"name": "x"}).json()["token"]

    with db.session() as s:
        everything = "\n".join(
            repr(tuple(row))
            for t in models.Base.metadata.sorted_tables
            for row in s.execute(select(t))
        )
        hashes = set(s.scalars(select(ApiToken.token_hash)))

    assert token not in everything
    assert hashlib.sha256(token.encode()).hexdigest() in hashes


def test_others_tokens_answer_404_but_admins_may_revoke_them(
    client: TestClient, db: Database
) -> None:
    alice = make_user(db, "alice", Role.technician)
    bob = make_user(db, "bob", Role.technician)
    alice_token = make_token(db, alice)
    bob_token = make_token(db, bob)
    bob_id = client.get("/api/v1/tokens", headers=bearer(bob_token)).json()["items"][0]["id"]

    seen_by_alice = client.get("/api/v1/tokens", headers=bearer(alice_token)).json()["items"]
    by_alice = client.post(f"/api/v1/tokens/{bob_id}/revoke", headers=bearer(alice_token))
    assert {t["username"] for t in seen_by_alice} == {"alice"}
    assert by_alice.status_code == 404
    assert client.get("/api/v1/me", headers=bearer(bob_token)).status_code == 200

    assert client.post(f"/api/v1/tokens/{bob_id}/revoke").status_code == 200  # the admin token
    assert client.get("/api/v1/me", headers=bearer(bob_token)).status_code == 401
