"""Request authentication: bearer tokens for the API, signed session cookies for the UI.

API dependencies:
- `CurrentPrincipal`: a valid bearer token or, for a request without an Authorization header,
  the tablet UI's live session (its cookie), as the signed-in user with the scopes read and
  write (and admin for admins). GET/HEAD/OPTIONS need the 'read' scope, every other method
  'write' (403 otherwise). Unknown, revoked and expired tokens, tokens of disabled users and
  ended sessions answer 401. A state-changing request made with the cookie must carry the
  session's CSRF token in the X-CSRF-Token header (403 otherwise): a page elsewhere can make
  the browser send the cookie, but cannot read the token. A bearer token, when present, wins.
- `AdminPrincipal`: as above, and role admin with the 'admin' scope (403 otherwise).
- `require_role(who, *roles)`: 403 unless the caller has one of roles.

UI helpers: `set_session_cookie`, `session_user`, `csrf_ok`, `end_session`. UI sessions are kept
on the server (ui_sessions), so signing out ends one for good, and a password change or
disabling the user ends all of theirs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from core.auth import repository, service
from core.auth.cache import TokenCache
from core.auth.models import Role, UiSession, User
from core.auth.service import READ_METHODS, Principal, Scope, principal_of
from core.db import Database, utcnow
from core.errors import Forbidden, Unauthorized

SESSION_COOKIE = "plantroom_session"
SESSION_MAX_AGE = 12 * 3600
#: Tokens are 'prt_' + 43 characters; anything much longer is not one of ours.
MAX_TOKEN_LENGTH = 512
#: The header a state-changing request made with the session cookie carries the CSRF token in.
CSRF_HEADER = "X-CSRF-Token"
#: What a signed-in session may do on the API: read and write, and admin for admins.
SESSION_SCOPES: frozenset[str] = frozenset({Scope.read.value, Scope.write.value, Scope.admin.value})
_bearer = HTTPBearer(auto_error=False, description="An API token, or PLANTROOM_ADMIN_TOKEN")
_session_cookie = APIKeyCookie(
    name=SESSION_COOKIE,
    scheme_name="SessionCookie",
    description="The tablet UI's signed-in session, used when there is no Authorization "
    f"header. Every request other than GET, HEAD and OPTIONS also needs the {CSRF_HEADER} "
    "header holding the session's CSRF token (the page's csrf-token meta tag): 403 without it.",
    auto_error=False,
)


class CsrfRefused(Forbidden):
    """A state-changing request made with the session cookie without the session's CSRF token."""

    error = "csrf_failed"


def required_scope(method: str) -> Scope:
    """The scope an HTTP method needs: 'read' for GET/HEAD/OPTIONS, else 'write'."""
    return Scope.read if method.upper() in READ_METHODS else Scope.write


async def current_principal(
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    cookie: Annotated[str | None, Depends(_session_cookie)],
) -> Principal:
    """The caller of an API endpoint: the bearer token's, else (no Authorization header) the
    session cookie's; 401 without valid credentials, 403 when their scopes do not cover the
    request's method or a cookie request that changes something lacks the CSRF token. Token
    answers come from the app's TokenCache while they still hold (core.auth.cache), so a
    polling tablet costs no database read here."""
    if "authorization" not in request.headers:
        if cookie is None:
            raise Unauthorized("a bearer token or a signed-in session is required")
        return await session_principal(request)
    if creds is None or creds.scheme.lower() != "bearer" or not creds.credentials:
        raise Unauthorized("a bearer token is required")
    if len(creds.credentials) > MAX_TOKEN_LENGTH:
        raise Unauthorized("invalid token")
    tokens: TokenCache = request.app.state.tokens
    who = await tokens.principal(request, creds.credentials, request.app.state.settings.admin_token)
    needed = required_scope(request.method)
    if not who.has_scope(needed):
        raise Forbidden(f"this token lacks the '{needed}' scope needed for {request.method}")
    return who


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


async def session_principal(request: Request) -> Principal:
    """The user of the request's live session cookie, with SESSION_SCOPES as far as their role
    allows; 401 when it is not a live session, 403 (CsrfRefused) when a request other than
    GET/HEAD/OPTIONS does not carry the session's CSRF token in X-CSRF-Token."""
    who, csrf = await cookie_session(request)
    if who is None:
        raise Unauthorized("the session has ended or is not valid: sign in again")
    if request.method.upper() not in READ_METHODS and not tokens_match(
        csrf, request.headers.get(CSRF_HEADER, "")
    ):
        raise CsrfRefused(
            f"csrf token missing or wrong: send the session's CSRF token in {CSRF_HEADER}"
        )
    return who


async def cookie_session(request: Request) -> tuple[Principal | None, str]:
    """The principal of the request's live session cookie and the session's CSRF token, or
    (None, "") when there is no signed cookie or its session has ended (asks the database)."""
    if read_session(request) is None:
        return None, ""
    db: Database = request.app.state.db

    def look_up() -> tuple[Principal | None, str]:
        with db.session() as s:
            user, csrf = session_user(request, s)
            return (None, "") if user is None else (principal_of(user, SESSION_SCOPES), csrf)

    return await run_in_threadpool(look_up)


def tokens_match(expected: str, given: str) -> bool:
    """True when given is the expected CSRF token, which is not empty (constant-time)."""
    return bool(expected) and hmac.compare_digest(
        expected.encode(), given.encode("utf-8", "surrogatepass")
    )


async def metrics_principal(
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """Who may scrape /metrics on the API's port: an admin, or a token with the 'metrics' scope
    (Prometheus sends it as a bearer token); 401 without a valid token, 403 otherwise. The
    page names devices and their gateways' addresses."""
    if creds is None or creds.scheme.lower() != "bearer" or not creds.credentials:
        raise Unauthorized("a bearer token with the 'metrics' scope is required")
    if len(creds.credentials) > MAX_TOKEN_LENGTH:
        raise Unauthorized("invalid token")
    tokens: TokenCache = request.app.state.tokens
    who = await tokens.principal(request, creds.credentials, request.app.state.settings.admin_token)
    if who.role is not Role.admin and not who.has_scope(Scope.metrics):
        raise Forbidden("reading /metrics needs an admin, or a token with the 'metrics' scope")
    return who


MetricsPrincipal = Annotated[Principal, Depends(metrics_principal)]


def bearer_token(request: Request) -> str | None:
    """The request's bearer token, parsed as current_principal's HTTPBearer parses it; None
    when there is none usable (current_principal then says why)."""
    scheme, token = get_authorization_scheme_param(request.headers.get("authorization"))
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return token


def admin_principal(who: CurrentPrincipal) -> Principal:
    """The caller, who must be an admin holding the 'admin' scope; 403 otherwise."""
    if who.role is not Role.admin:
        raise Forbidden("only admins may do this")
    if not who.has_scope(Scope.admin):
        raise Forbidden("this token lacks the 'admin' scope")
    return who


AdminPrincipal = Annotated[Principal, Depends(admin_principal)]


def role_check(roles: Iterable[Role], what: str) -> Callable[[Principal], Principal]:
    """A dependency for ``Annotated[Principal, Depends(role_check(...))]``: the caller, when
    their role is one of roles; 403 saying what they cannot do otherwise."""
    allowed = frozenset(roles)

    def check(who: CurrentPrincipal) -> Principal:
        if who.role not in allowed:
            raise Forbidden(f"role {who.role} cannot {what}")
        return who

    return check


def require_role(who: Principal, *roles: Role) -> None:
    """403 unless who has one of roles."""
    if who.role not in roles:
        allowed = ", ".join(r.value for r in roles)
        raise Forbidden(f"role {who.role.value} may not do this (allowed: {allowed})")


# --- UI sessions ---------------------------------------------------------------------------------


def _serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.secret_key, salt="plantroom-session")


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def set_session_cookie(request: Request, response: Response, user_id: int, session: Session) -> str:
    """Sign user_id in: record a new server-side session, set its cookie on response and return
    its CSRF token.

    The cookie carries the session's secret (only its SHA-256 is stored), the user id and the
    CSRF token, signed; the session itself lives in ui_sessions, so ending it there (sign-out,
    a password change, disabling the user) ends it for every copy of the cookie.

    The cookie is HttpOnly (scripts cannot read it), Secure unless settings.cookie_secure is off
    (plain-HTTP demos only), and SameSite=Lax. Lax rather than Strict because people reach the
    tablet UI by following links from elsewhere: an asset's QR code, a notification in a chat app
    or an e-mail. With Strict those top-level GETs arrive without the cookie and show the sign-in
    page to someone already signed in. Lax still withholds the cookie from cross-site POSTs and
    from cross-site subresources, GET pages never change anything, and every form that does also
    carries the session's CSRF token (see csrf_ok), so Lax gives up no protection here.
    """
    secret = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    now = utcnow()
    session.add(
        UiSession(
            id=_digest(secret),
            user_id=user_id,
            created_at=now,
            expires_at=now + dt.timedelta(seconds=SESSION_MAX_AGE),
        )
    )
    value = _serializer(request).dumps({"sid": secret, "uid": user_id, "csrf": csrf})
    response.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=SESSION_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.cookie_secure,
        path="/",
    )
    return csrf


def end_session(request: Request, response: Response, session: Session) -> None:
    """Sign out: end the request's server-side session and expire its cookie."""
    data = read_session(request)
    secret = data.get("sid") if data else None
    if isinstance(secret, str):
        repository.end_sessions(session, utcnow(), digest=_digest(secret))
    response.delete_cookie(
        SESSION_COOKIE,
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.cookie_secure,
        path="/",
    )


def read_session(request: Request) -> dict[str, Any] | None:
    """The verified (signed, unexpired) cookie payload, or None. Whether the session is still
    live is session_user's question."""
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    try:
        data = _serializer(request).loads(raw, max_age=SESSION_MAX_AGE)
    except BadSignature:
        return None
    return data if isinstance(data, dict) else None


def session_user(request: Request, session: Session) -> tuple[User | None, str]:
    """The signed-in, still active user and the session's CSRF token, or (None, "").

    The session and the user are looked up on every request, so signing out, a password
    change or disabling the user ends it at once.
    """
    data = read_session(request)
    uid = data.get("uid") if data else None
    secret = data.get("sid") if data else None
    if not isinstance(uid, int) or isinstance(uid, bool) or not isinstance(secret, str):
        return None, ""
    live = repository.live_session(session, _digest(secret), utcnow())
    if live is None or live.user_id != uid:
        return None, ""
    user = service.get_user(session, uid)
    if user is None or not user.active:
        return None, ""
    return user, str(data.get("csrf", "")) if data else ""


def csrf_ok(request: Request, given: str) -> bool:
    """True when given is the CSRF token of the request's valid session (constant-time)."""
    data = read_session(request)
    return tokens_match(str(data.get("csrf", "")) if data else "", given)
