"""The API takes the tablet UI's session cookie as well as bearer tokens (issue 14, item 1):
the signed-in user's role and scopes, and the session's CSRF token in X-CSRF-Token on every
request that changes something."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from itsdangerous import URLSafeTimedSerializer

from core.auth.deps import SESSION_COOKIE
from core.auth.models import Role
from core.db import Database
from tests.core.auth.accounts import bearer, make_token, make_user, sign_in

PASSWORD = "tablet-password"


def _tablet(client: TestClient, username: str, role: Role = Role.technician) -> TestClient:
    """A browser signed in to the tablet UI as a new user: no Authorization header, only the
    session cookie."""
    db: Database = client.app.state.db  # type: ignore[attr-defined]
    make_user(db, username, role, password=PASSWORD)
    tablet = TestClient(client.app, follow_redirects=False)
    assert sign_in(tablet, username, PASSWORD).status_code == 303
    return tablet


def _csrf(tablet: TestClient) -> str:
    """The session's CSRF token, as the page's csrf-token meta tag carries it (read here from
    the signed cookie itself, so the test does not depend on the page's markup)."""
    serializer = URLSafeTimedSerializer(tablet.app.state.secret_key, salt="plantroom-session")  # type: ignore[attr-defined]
    return str(serializer.loads(tablet.cookies[SESSION_COOKIE])["csrf"])


def _new_wo(client: TestClient, title: str = "Pump P-2 noisy") -> dict[str, Any]:
    r = client.post("/api/v1/workorders", json={"title": title})
    assert r.status_code == 201, r.text
    return dict(r.json())


def _status(client: TestClient, wo_id: int) -> str:
    return str(client.get(f"/api/v1/workorders/{wo_id}").json()["status"])


def test_a_signed_in_tablet_reads_the_api_as_its_user(client: TestClient) -> None:
    tablet = _tablet(client, "tech")

    me = tablet.get("/api/v1/me")
    listed = tablet.get("/api/v1/workorders")

    assert me.status_code == 200, me.text
    assert me.json()["username"] == "tech" and me.json()["role"] == "technician"
    assert sorted(me.json()["scopes"]) == ["read", "write"]
    assert listed.status_code == 200 and "items" in listed.json()


def test_an_admins_session_holds_the_admin_scope_and_a_technicians_does_not(
    client: TestClient,
) -> None:
    admin = _tablet(client, "boss", Role.admin)
    tech = _tablet(client, "tech")

    assert sorted(admin.get("/api/v1/me").json()["scopes"]) == ["admin", "read", "write"]
    assert admin.get("/api/v1/users").status_code == 200
    assert tech.get("/api/v1/users").status_code == 403


@pytest.mark.parametrize(
    ("headers", "expected"),
    [({}, 403), ({"X-CSRF-Token": "not-the-token"}, 403), (None, 200)],
    ids=["no-token", "wrong-token", "right-token"],
)
def test_a_change_made_with_the_cookie_needs_the_sessions_csrf_token(
    client: TestClient, headers: dict[str, str] | None, expected: int
) -> None:
    wo = _new_wo(client)
    tablet = _tablet(client, "tech")
    sent = {"X-CSRF-Token": _csrf(tablet)} if headers is None else headers

    r = tablet.post(
        f"/api/v1/workorders/{wo['id']}/status", json={"status": "acknowledged"}, headers=sent
    )

    assert r.status_code == expected, r.text
    if expected == 403:
        assert r.json()["error"] == "csrf_failed"
        assert "csrf token missing or wrong" in r.json()["message"]
        assert _status(client, wo["id"]) == "new"
    else:
        assert r.json()["status"] == "acknowledged"
        assert r.json()["events"][-1]["actor"] == "tech"


def test_a_signed_out_session_is_refused_with_401(client: TestClient) -> None:
    tablet = _tablet(client, "tech")
    saved, csrf = tablet.cookies[SESSION_COOKIE], _csrf(tablet)
    assert tablet.get("/api/v1/me").status_code == 200

    assert tablet.post("/ui/logout", data={"csrf": csrf}).status_code == 303
    thief = TestClient(client.app, cookies={SESSION_COOKIE: saved})

    assert thief.get("/api/v1/me").status_code == 401
    r = thief.post("/api/v1/workorders", json={"title": "x"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 401 and r.json()["error"] == "unauthorized"


def test_a_forged_cookie_is_refused_with_401(client: TestClient) -> None:
    forged = TestClient(client.app, cookies={SESSION_COOKIE: "eyJ1aWQiOjF9.forged.sig"})

    assert forged.get("/api/v1/workorders").status_code == 401


def test_a_bearer_token_still_works_and_wins_over_the_cookie(
    client: TestClient, db: Database
) -> None:
    tablet = _tablet(client, "tech")
    other = make_user(db, "eng", Role.engineer)
    token = make_token(db, other)

    as_token = tablet.get("/api/v1/me", headers=bearer(token))
    made = tablet.post("/api/v1/workorders", json={"title": "Valve stuck"}, headers=bearer(token))
    bad_token = tablet.get("/api/v1/me", headers=bearer("prt_not-a-real-token"))

    assert as_token.json()["username"] == "eng"
    assert made.status_code == 201 and made.json()["created_by"] == "eng"
    assert bad_token.status_code == 401  # no falling back to the cookie


def test_a_cross_site_form_post_changes_nothing(client: TestClient) -> None:
    """A page elsewhere can make the browser post a form with the cookie (were SameSite not
    there), as form fields or as text/plain shaped like JSON, but cannot add the header."""
    wo = _new_wo(client)
    tablet = _tablet(client, "tech")
    evil = {"Origin": "https://evil.example", "Referer": "https://evil.example/page"}

    form = tablet.post(
        f"/api/v1/workorders/{wo['id']}/status",
        data={"status": "acknowledged", "csrf": ""},
        headers=evil,
    )
    plain = tablet.post(
        f"/api/v1/workorders/{wo['id']}/status",
        content=b'{"status": "acknowledged"}',
        headers={**evil, "Content-Type": "text/plain"},
    )
    created = tablet.post(
        "/api/v1/workorders",
        data={"title": "forged"},
        headers={**evil, "Idempotency-Key": "forged-1"},
    )

    assert [form.status_code, plain.status_code, created.status_code] == [403, 403, 403]
    assert _status(client, wo["id"]) == "new"
    titles = [w["title"] for w in client.get("/api/v1/workorders").json()["items"]]
    assert "forged" not in titles


def test_metrics_stay_bearer_only(client: TestClient) -> None:
    admin = _tablet(client, "boss", Role.admin)

    assert admin.get("/metrics").status_code == 401


# --- idempotency keys of session requests -------------------------------------------------------


def test_a_refusal_for_a_missing_csrf_token_is_not_kept_for_the_key(client: TestClient) -> None:
    """A queued action replayed with a stale token is refused; its retry with the session's
    token under the same key runs, and a repeat of that gets the same answer back."""
    wo = _new_wo(client)
    tablet = _tablet(client, "tech")
    url = f"/api/v1/workorders/{wo['id']}/comments"
    key = {"Idempotency-Key": "tablet-comment-1"}

    stale = tablet.post(url, json={"text": "on site"}, headers={**key, "X-CSRF-Token": "old"})
    first = tablet.post(
        url, json={"text": "on site"}, headers={**key, "X-CSRF-Token": _csrf(tablet)}
    )
    again = tablet.post(
        url, json={"text": "on site"}, headers={**key, "X-CSRF-Token": _csrf(tablet)}
    )

    assert stale.status_code == 403 and "Idempotent-Replayed" not in stale.headers
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    events = client.get(f"/api/v1/workorders/{wo['id']}").json()["events"]
    assert [e["message"] for e in events if e["kind"] == "comment"] == ["on site"]


def test_the_api_takes_the_token_in_its_header_not_in_a_form_field(client: TestClient) -> None:
    """A form field carries the token only to the UI's own forms: on the API it is refused and
    the refusal is not kept for the key."""
    wo = _new_wo(client)
    tablet = _tablet(client, "tech")
    url = f"/api/v1/workorders/{wo['id']}/comments"
    key = {"Idempotency-Key": "tablet-comment-3"}

    in_field = tablet.post(url, data={"text": "on site", "csrf": _csrf(tablet)}, headers=key)
    in_header = tablet.post(
        url, json={"text": "on site"}, headers={**key, "X-CSRF-Token": _csrf(tablet)}
    )

    assert in_field.status_code == 403
    assert in_header.status_code == 201, in_header.text


def test_session_requests_are_keyed_by_the_sessions_user(client: TestClient, db: Database) -> None:
    """The same person's key is the same request whether it came with the cookie or their own
    token; a signed-out cookie gets no stored answer."""
    wo = _new_wo(client)
    tablet = _tablet(client, "tech")
    csrf = _csrf(tablet)
    url = f"/api/v1/workorders/{wo['id']}/comments"
    key = {"Idempotency-Key": "tablet-comment-2"}
    first = tablet.post(url, json={"text": "parts ordered"}, headers={**key, "X-CSRF-Token": csrf})
    token = make_token(db, tablet.get("/api/v1/me").json()["user_id"])

    by_token = tablet.post(url, json={"text": "parts ordered"}, headers={**key, **bearer(token)})
    saved = tablet.cookies[SESSION_COOKIE]
    tablet.post("/ui/logout", data={"csrf": csrf})
    ended = TestClient(client.app, cookies={SESSION_COOKIE: saved}).post(
        url, json={"text": "parts ordered"}, headers={**key, "X-CSRF-Token": csrf}
    )

    assert first.status_code == 201
    assert by_token.status_code == 201 and by_token.headers["Idempotent-Replayed"] == "true"
    assert ended.status_code == 401 and "Idempotent-Replayed" not in ended.headers


# --- the document says so -----------------------------------------------------------------------


def test_the_openapi_document_offers_the_cookie_as_an_alternative_to_the_token(
    client: TestClient,
) -> None:
    doc = client.get("/openapi.json").json()
    schemes = doc["components"]["securitySchemes"]
    take = doc["paths"]["/api/v1/workorders/{wo_id}/status"]["post"]
    listing = doc["paths"]["/api/v1/workorders"]["get"]
    metrics = doc["paths"].get("/metrics", {}).get("get")

    assert schemes["SessionCookie"] == {
        "type": "apiKey",
        "in": "cookie",
        "name": SESSION_COOKIE,
        "description": schemes["SessionCookie"]["description"],
    }
    assert take["security"] == [{"HTTPBearer": []}, {"SessionCookie": []}]
    assert listing["security"] == [{"HTTPBearer": []}, {"SessionCookie": []}]
    assert "X-CSRF-Token" in [p["name"] for p in take["parameters"]]
    assert "X-CSRF-Token" not in [p["name"] for p in listing["parameters"]]
    assert metrics is None or metrics["security"] == [{"HTTPBearer": []}]
