"""Request authentication: bearer tokens for the API, signed session cookies for the UI."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from itsdangerous import BadSignature, URLSafeTimedSerializer

from plantroom.auth import service
from plantroom.auth.service import Principal
from plantroom.db import SessionDep
from plantroom.errors import Unauthorized

SESSION_COOKIE = "plantroom_session"
SESSION_MAX_AGE = 12 * 3600
_bearer = HTTPBearer(auto_error=False, description="An API token, or PLANTROOM_ADMIN_TOKEN")


def current_principal(
    request: Request,
    session: SessionDep,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller of an API endpoint; 401 without a valid bearer token."""
    if creds is None or creds.scheme.lower() != "bearer" or not creds.credentials:
        raise Unauthorized("a bearer token is required")
    return service.authenticate_token(
        session, creds.credentials, request.app.state.settings.admin_token
    )


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def _serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.secret_key, salt="plantroom-session")


def make_session_cookie(request: Request, user_id: int) -> tuple[str, str]:
    """A signed cookie value for user_id and its CSRF token."""
    csrf = secrets.token_urlsafe(24)
    return _serializer(request).dumps({"uid": user_id, "csrf": csrf}), csrf


def read_session(request: Request) -> dict[str, Any] | None:
    """The verified session payload, or None."""
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    try:
        data: dict[str, Any] = _serializer(request).loads(raw, max_age=SESSION_MAX_AGE)
    except BadSignature:
        return None
    return data
