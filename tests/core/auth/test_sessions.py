"""UI sessions: cookie attributes, CSRF refusal and the end of a disabled user's session."""

from __future__ import annotations

from fastapi.testclient import TestClient

from config.settings import Settings
from core.auth.models import Role
from core.db import Database
from tests.core.auth.accounts import bearer, make_token, make_user, sign_in

PASSWORD = "tablet-password"


def _login(client: TestClient, username: str) -> None:
    r = sign_in(client, username, PASSWORD, follow_redirects=False)
    assert r.status_code == 303, r.text


def test_login_cookie_is_secure_httponly_and_samesite(
    client: TestClient, db: Database, settings: Settings
) -> None:
    make_user(db, "tech", Role.technician, password=PASSWORD)
    settings.cookie_secure = True
    browser = TestClient(client.app, base_url="https://testserver")  # Secure cookies need HTTPS

    r = sign_in(browser, "tech", PASSWORD, follow_redirects=False)

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


# --- sessions end for good (issue 12, item 7) ---------------------------------------------------


def _csrf(client: TestClient) -> str:
    page = client.get("/ui/").text
    return page.split('name="csrf" value="', 1)[1].split('"', 1)[0]


def _ack(cookie: str, client: TestClient, wo_id: int, csrf: str) -> int:
    """A form post from a browser that kept a copy of the session cookie."""
    thief = TestClient(client.app, cookies={"plantroom_session": cookie}, follow_redirects=False)
    r = thief.post(f"/ui/workorders/{wo_id}/status", data={"status": "acknowledged", "csrf": csrf})
    return r.status_code


def test_signing_out_ends_the_session_for_every_copy_of_its_cookie(
    client: TestClient, db: Database
) -> None:
    make_user(db, "tech", Role.technician, password=PASSWORD)
    wo = client.post("/api/v1/workorders", json={"title": "Fan belt squeal"}).json()
    tablet = TestClient(client.app, follow_redirects=False)
    sign_in(tablet, "tech", PASSWORD)
    saved, csrf = tablet.cookies["plantroom_session"], _csrf(tablet)

    assert tablet.post("/ui/logout", data={"csrf": csrf}).status_code == 303

    assert _ack(saved, client, wo["id"], csrf) in (303, 403)
    assert client.get(f"/api/v1/workorders/{wo['id']}").json()["status"] == "new"
    thief = TestClient(client.app, cookies={"plantroom_session": saved}, follow_redirects=False)
    assert thief.get("/ui/").headers["location"] == "/ui/login"


def test_a_password_change_ends_every_session_of_the_user(client: TestClient, db: Database) -> None:
    uid = make_user(db, "tech", Role.technician, password=PASSWORD)
    tablets = [TestClient(client.app, follow_redirects=False) for _ in range(2)]
    for t in tablets:
        sign_in(t, "tech", PASSWORD)
        assert t.get("/ui/").status_code == 200

    r = client.post(f"/api/v1/users/{uid}/password", json={"new_password": "a-new-password-2"})

    assert r.status_code == 200 and r.json() == {"sessions_ended": 2}
    assert [t.get("/ui/").status_code for t in tablets] == [303, 303]
    assert sign_in(tablets[0], "tech", PASSWORD).status_code == 401
    assert sign_in(tablets[0], "tech", "a-new-password-2").status_code == 303


def test_changing_your_own_password_needs_the_current_one(client: TestClient, db: Database) -> None:
    uid = make_user(db, "tech", Role.technician, password=PASSWORD)
    mine = bearer(make_token(db, uid))
    url = f"/api/v1/users/{uid}/password"
    wrong = client.post(
        url, json={"current_password": "nope", "new_password": "x" * 12}, headers=mine
    )
    assert wrong.status_code == 403 and wrong.json()["error"] == "wrong_password"
    right = client.post(
        url, json={"current_password": PASSWORD, "new_password": "x" * 12}, headers=mine
    )
    assert right.status_code == 200
    other = make_user(db, "other", Role.technician, password=PASSWORD)
    r = client.post(
        f"/api/v1/users/{other}/password", json={"new_password": "y" * 12}, headers=mine
    )
    assert r.status_code == 404


# --- security headers and the sign-in form (issue 12, item 8) ----------------------------------


def test_the_ui_pages_send_security_headers(client: TestClient, db: Database) -> None:
    make_user(db, "tech", Role.technician, password=PASSWORD)
    tablet = TestClient(client.app, follow_redirects=False)
    login_page = tablet.get("/ui/login")
    sign_in(tablet, "tech", PASSWORD)
    for r in (login_page, tablet.get("/ui/")):
        csp = r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
        assert "default-src 'self'" in csp and "unsafe-inline" not in csp
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["x-content-type-options"] == "nosniff"
    assert client.get("/api/v1/me").headers["x-content-type-options"] == "nosniff"
    # the occupant page keeps its own, stricter policy (it runs no script at all)
    occupant = TestClient(client.app).get("/r/pump-1")
    assert occupant.headers["content-security-policy"].startswith("default-src 'none'")


def test_the_sign_in_form_needs_its_csrf_token(client: TestClient, db: Database) -> None:
    make_user(db, "tech", Role.technician, password=PASSWORD)
    forged = TestClient(client.app, follow_redirects=False).post(
        "/ui/login", data={"username": "tech", "password": PASSWORD}
    )
    assert forged.status_code == 403
    assert "plantroom_session" not in forged.headers.get("set-cookie", "")
    # a token from another browser's form does not match this browser's cookie
    other = TestClient(client.app).get("/ui/login").text
    token = other.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    mine = TestClient(client.app, follow_redirects=False)
    mine.get("/ui/login")
    r = mine.post("/ui/login", data={"username": "tech", "password": PASSWORD, "csrf": token})
    assert r.status_code == 403
    assert sign_in(mine, "tech", PASSWORD).status_code == 303


def test_a_background_fetch_of_the_sign_in_page_does_not_expire_the_form_shown(
    client: TestClient, db: Database
) -> None:
    make_user(db, "tech", Role.technician, password=PASSWORD)
    tablet = TestClient(client.app, follow_redirects=False)
    shown = tablet.get("/ui/login").text
    token = shown.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    # the service worker refreshes a page while signed out: it lands on the sign-in form again
    tablet.get("/ui/login")
    r = tablet.post("/ui/login", data={"username": "tech", "password": PASSWORD, "csrf": token})
    assert r.status_code == 303, r.text
