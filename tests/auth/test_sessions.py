"""UI sessions: cookie attributes, CSRF refusal and the end of a disabled user's session."""

from __future__ import annotations

from fastapi.testclient import TestClient

from config.settings import Settings
from plantroom.auth.models import Role
from plantroom.db import Database
from tests.auth.accounts import make_user

PASSWORD = "tablet-password"


def _login(client: TestClient, username: str) -> None:
    r = client.post(
        "/ui/login", data={"username": username, "password": PASSWORD}, follow_redirects=False
    )
    assert r.status_code == 303, r.text


def test_login_cookie_is_secure_httponly_and_samesite(
    client: TestClient, db: Database, settings: Settings
) -> None:
    make_user(db, "tech", Role.technician, password=PASSWORD)
    settings.cookie_secure = True

    r = client.post(
        "/ui/login", data={"username": "tech", "password": PASSWORD}, follow_redirects=False
    )

    cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith("plantroom_session="))
    attributes = {a.strip().split("=")[0].lower(): a for a in cookie.split(";")[1:]}
    assert "secure" in attributes and "httponly" in attributes
    assert attributes["samesite"].split("=")[1].strip().lower() in {"lax", "strict"}


def test_ui_post_without_csrf_token_is_refused(client: TestClient, db: Database) -> None:
    make_user(db, "tech", Role.technician, password=PASSWORD)
    wo = client.post("/api/v1/workorders", json={"title": "Pump P-2 noisy"}).json()
    _login(client, "tech")

    r = client.post(
        f"/ui/workorders/{wo['id']}/status",
        data={"status": "acknowledged"},
        follow_redirects=False,
    )

    assert r.status_code == 403
    assert "CSRF" in r.text
    assert client.get(f"/api/v1/workorders/{wo['id']}").json()["status"] == wo["status"]


def test_disabling_a_user_ends_their_session(client: TestClient, db: Database) -> None:
    uid = make_user(db, "leaver", Role.technician, password=PASSWORD)
    _login(client, "leaver")
    assert client.get("/ui/", follow_redirects=False).status_code == 200

    assert client.post(f"/api/v1/users/{uid}/disable").status_code == 200

    r = client.get("/ui/", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/ui/login"
