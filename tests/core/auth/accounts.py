"""Account helpers for the tests in tests/core/auth."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from httpx import Response

from core.auth import service as auth
from core.auth.models import Role
from core.db import Database


def make_user(
    db: Database,
    username: str,
    role: Role,
    *,
    org: str | None = None,
    password: str | None = None,
) -> int:
    """A user created through the service; its id."""
    with db.session() as s:
        organisation = auth.get_or_create_organisation(s, org) if org else None
        user = auth.create_user(
            s, username=username, password=password, role=role, organisation=organisation
        )
        return user.id


def make_token(db: Database, user_id: int, scopes: str = "read write") -> str:
    """A bearer token for the user with these scopes."""
    with db.session() as s:
        user = auth.get_user(s, user_id)
        assert user is not None
        return auth.create_token(s, user=user, name="test", scopes=scopes.split())


def bearer(token: str) -> dict[str, str]:
    """Request headers authenticating with token."""
    return {"Authorization": f"Bearer {token}"}


def sign_in(client: TestClient, username: str, password: str, **kw: Any) -> Response:
    """Post the tablet's sign-in form as a browser does: load it first (its CSRF token comes
    with the page and a cookie), then send it back with the username and password."""
    page = client.get("/ui/login")
    token = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    return client.post(
        "/ui/login", data={"username": username, "password": password, "csrf": token}, **kw
    )
