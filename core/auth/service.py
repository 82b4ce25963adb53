"""Passwords (argon2), API tokens (SHA-256 at rest, scoped) and who a request is.

Scopes: a token holds some of 'read' (GET/HEAD/OPTIONS), 'write' (every other method) and
'admin' (managing users, organisations, everyone's tokens, webhooks). Scopes only narrow what
the user's role allows: only admins may hold 'admin', and an admin endpoint needs role admin
*and* scope admin. Session users and the environment's admin token hold every scope their role
allows.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from core import audit
from core.auth import repository
from core.auth.models import ApiToken, Organisation, Role, User
from core.db import utcnow
from core.errors import AppError, Conflict, Forbidden, Unauthorized

#: One lane: a check uses one core (the default, four, would take every core of a small server
#: for each wrong password). Hashes made with other settings still verify, and are renewed at
#: the next successful sign-in (needs_rehash).
_hasher = PasswordHasher(parallelism=1)
TOKEN_PREFIX = "prt_"
PREFIX_LEN = 12


class Scope(StrEnum):
    """What a token may be used for."""

    read = "read"
    write = "write"
    admin = "admin"
    #: Scrape /metrics on the API's port (Prometheus), and nothing else.
    metrics = "metrics"


ALL_SCOPES: frozenset[str] = frozenset(s.value for s in Scope)
DEFAULT_TOKEN_SCOPES: frozenset[str] = frozenset({Scope.read.value, Scope.write.value})
#: Methods a 'read' scope covers; any other method needs 'write'.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
USERNAME_MAX = 80
DISPLAY_NAME_MAX = 200
TOKEN_NAME_MAX = 100
ORG_NAME_MAX = 200
PASSWORD_MIN = 8
PASSWORD_MAX = 200
ORG_KINDS = ("contractor", "owner")
_USERNAME_RE = re.compile(r"^[^\s\x00-\x1f\x7f]+$")
#: last_used_at is written at most this often per token, not on every request.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)

USER_FIELDS = ("username", "display_name", "role", "organisation_id", "active")
TOKEN_FIELDS = ("user_id", "name", "prefix", "scopes", "expires_at", "revoked_at")
ORG_FIELDS = ("name", "kind", "monthly_fee", "active")


class InvalidAccount(AppError):
    """A user, token or organisation request that cannot be carried out as given."""

    status_code = 422
    error = "invalid_request"


def scopes_for_role(role: Role | str) -> frozenset[str]:
    """The most a token of a user with this role may hold: admins everything, engineers also
    'metrics' (they run the monitoring), everyone else read and write."""
    if Role(role) is Role.admin:
        return ALL_SCOPES
    if Role(role) is Role.engineer:
        return DEFAULT_TOKEN_SCOPES | {Scope.metrics.value}
    return DEFAULT_TOKEN_SCOPES


def parse_scopes(text: str) -> frozenset[str]:
    """The known scopes in a space-separated string (unknown words are ignored)."""
    return frozenset(text.split()) & ALL_SCOPES


def format_scopes(scopes: Iterable[str]) -> str:
    """Scopes as stored: space-separated, in the order read, write, admin."""
    held = set(scopes)
    return " ".join(s.value for s in Scope if s.value in held)


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user, or the environment's admin token, and what it may be used for."""

    username: str
    role: Role
    user_id: int | None = None
    organisation_id: int | None = None
    scopes: frozenset[str] = field(default=ALL_SCOPES)

    @property
    def contractor_scope(self) -> int | None:
        """The organisation a contractor is confined to, or None for everyone else."""
        return self.organisation_id if self.role is Role.contractor else None

    @property
    def is_admin(self) -> bool:
        """Role admin and holding the 'admin' scope: may manage users, tokens and webhooks."""
        return self.role is Role.admin and Scope.admin.value in self.scopes

    def has_scope(self, scope: Scope | str) -> bool:
        """True when the credentials carry scope."""
        return str(scope) in self.scopes


#: The actor of changes made by the system itself (demo seeding, fixtures).
SYSTEM = Principal(username="system", role=Role.admin)


def _check_text(value: str, what: str, max_len: int) -> None:
    """InvalidAccount unless value has 1 to max_len characters and no NUL."""
    if not 1 <= len(value) <= max_len:
        raise InvalidAccount(f"{what} must have 1 to {max_len} characters")
    if "\x00" in value:
        raise InvalidAccount(f"{what} must not contain NUL characters")
    if not _is_utf8(value):
        raise InvalidAccount(f"{what} is not valid text (UTF-8)")


def _is_utf8(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates, e.g. from undecodable command-line bytes
        return False
    return True


# --- passwords and tokens ------------------------------------------------------------------------


def hash_password(password: str) -> str:
    """An argon2id hash."""
    return _hasher.hash(password)


@functools.cache
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def verify_password(hashed: str | None, password: str) -> bool:
    """True when password matches the stored hash."""
    if not hashed:
        return False
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def check_password(password: str) -> None:
    """InvalidAccount unless password is an acceptable new password."""
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise InvalidAccount(
            f"a password must have {PASSWORD_MIN} to {PASSWORD_MAX} characters",
            detail=[{"field": "password", "message": "length"}],
        )
    if "\x00" in password:
        raise InvalidAccount("a password must not contain NUL characters")


def token_hash(token: str) -> str:
    """SHA-256 hex of a token; tokens are random, so no salt is needed."""
    return hashlib.sha256(token.encode()).hexdigest()


# --- users ---------------------------------------------------------------------------------------


def check_username(username: str) -> None:
    """InvalidAccount unless username is 1-80 characters without spaces or control characters."""
    valid = _USERNAME_RE.match(username) and _is_utf8(username)
    if not 1 <= len(username) <= USERNAME_MAX or not valid:
        raise InvalidAccount(
            f"a username must have 1 to {USERNAME_MAX} characters, without spaces or control "
            "characters",
            detail=[{"field": "username", "message": "invalid"}],
        )


def create_user(
    session: Session,
    *,
    username: str,
    password: str | None,
    role: Role | str,
    display_name: str = "",
    organisation: Organisation | None = None,
    actor: Principal = SYSTEM,
) -> User:
    """A new user, recorded in the audit log; usernames are unique, contractors need a firm."""
    check_username(username)
    try:
        role = Role(role)
    except ValueError:
        raise InvalidAccount(
            f"unknown role '{role}'; roles: {', '.join(r.value for r in Role)}"
        ) from None
    if display_name:
        _check_text(display_name, "a display name", DISPLAY_NAME_MAX)
    if role is Role.contractor and (organisation is None or organisation.kind != "contractor"):
        raise InvalidAccount("a contractor user needs a contractor organisation")
    if organisation is not None and not organisation.active:
        raise InvalidAccount(f"organisation '{organisation.name}' is inactive")
    if repository.user_by_username(session, username) is not None:
        raise Conflict(f"user '{username}' already exists")
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=hash_password(password) if password else None,
        role=role.value,
        organisation_id=organisation.id if organisation else None,
        active=True,
    )
    session.add(user)
    session.flush()
    audit.record_by(
        session,
        actor,
        entity="user",
        entity_id=user.id,
        action="create",
        after=audit.snapshot(user, USER_FIELDS),
    )
    return user


def disable_user(session: Session, *, user: User, actor: Principal = SYSTEM) -> User:
    """Disable user, revoke their tokens and end their UI sessions."""
    if actor.user_id is not None and actor.user_id == user.id:
        raise Conflict("you cannot disable your own account")
    if not user.active:
        return user
    before = audit.snapshot(user, USER_FIELDS)
    user.active = False
    session.flush()
    b, a = audit.diff(before, audit.snapshot(user, USER_FIELDS))
    audit.record_by(
        session, actor, entity="user", entity_id=user.id, action="disable", before=b, after=a
    )
    for tok in repository.live_tokens_of(session, user.id):
        revoke_token(session, token=tok, actor=actor)
    repository.end_sessions(session, utcnow(), user_id=user.id)
    return user


def enable_user(session: Session, *, user: User, actor: Principal = SYSTEM) -> User:
    """Enable a disabled user again (their revoked tokens stay revoked); a no-op when active."""
    if user.active:
        return user
    before = audit.snapshot(user, USER_FIELDS)
    user.active = True
    session.flush()
    b, a = audit.diff(before, audit.snapshot(user, USER_FIELDS))
    audit.record_by(
        session, actor, entity="user", entity_id=user.id, action="enable", before=b, after=a
    )
    return user


#: What update_user leaves as it is when not told.
UNCHANGED: Literal["unchanged"] = "unchanged"


def update_user(
    session: Session,
    *,
    user: User,
    role: Role | str | None = None,
    display_name: str | None = None,
    organisation: Organisation | Literal["unchanged"] | None = UNCHANGED,
    actor: Principal = SYSTEM,
) -> User:
    """Change a user's role, display name or organisation, recorded in the audit log. A
    contractor needs an active contractor firm; nobody changes their own role (an admin could
    lock the last admin out). The user's tokens are narrowed to the new role at their next use."""
    new_role = Role(user.role) if role is None else Role(role)
    if role is not None and new_role.value != user.role and actor.user_id == user.id:
        raise Conflict("you cannot change your own role")
    if display_name is not None:
        _check_text(display_name, "a display name", DISPLAY_NAME_MAX)
    org_id = user.organisation_id
    if organisation != UNCHANGED:
        if organisation is not None and not organisation.active:
            raise InvalidAccount(f"organisation '{organisation.name}' is inactive")
        org_id = organisation.id if organisation is not None else None
        org_kind = organisation.kind if organisation is not None else None
    else:
        org = repository.get_organisation(session, org_id) if org_id is not None else None
        org_kind = org.kind if org is not None else None
    if new_role is Role.contractor and org_kind != "contractor":
        raise InvalidAccount("a contractor user needs a contractor organisation")
    before = audit.snapshot(user, USER_FIELDS)
    user.role = new_role.value
    if display_name is not None:
        user.display_name = display_name
    user.organisation_id = org_id
    session.flush()
    b, a = audit.diff(before, audit.snapshot(user, USER_FIELDS))
    if b or a:
        audit.record_by(
            session, actor, entity="user", entity_id=user.id, action="update", before=b, after=a
        )
    return user


class WrongPassword(AppError):
    """The current password given to change one's own password is not the right one."""

    status_code = 403
    error = "wrong_password"


def change_password(
    session: Session,
    *,
    user: User,
    new_password: str,
    actor: Principal = SYSTEM,
    current_password: str | None = None,
) -> int:
    """Set a user's password and end every UI session they have (a stolen cookie stops working
    with the old password); returns how many sessions ended. Changing one's own password needs
    the current one; an admin (or the CLI) sets anyone's without it."""
    check_password(new_password)
    own = actor.user_id is not None and actor.user_id == user.id
    if own and not verify_password(user.password_hash, current_password or ""):
        raise WrongPassword("the current password is wrong")
    user.password_hash = hash_password(new_password)
    session.flush()
    audit.record_by(
        session, actor, entity="user", entity_id=user.id, action="password", after={"changed": True}
    )
    return repository.end_sessions(session, utcnow(), user_id=user.id)


def get_user(session: Session, user_id: int) -> User | None:
    """A user by id."""
    return repository.get_user(session, user_id)


def principal_of(user: User, scopes: frozenset[str] = ALL_SCOPES) -> Principal:
    """A user as a principal, holding scopes as far as the user's role allows them."""
    role = Role(user.role)
    return Principal(
        username=user.username,
        role=role,
        user_id=user.id,
        organisation_id=user.organisation_id,
        scopes=scopes & scopes_for_role(role),
    )


def authenticate_password(session: Session, username: str, password: str) -> User | None:
    """The active user with these credentials, or None."""
    # No username holds NUL, and PostgreSQL refuses to compare text with one.
    user = None if "\x00" in username else repository.user_by_username(session, username)
    if user is None or not user.active or not user.password_hash:
        # Same argon2 work as a real check, so timing does not reveal which usernames exist.
        verify_password(_dummy_hash(), password)
        return None
    if not verify_password(user.password_hash, password):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


# --- tokens --------------------------------------------------------------------------------------


def issue_token(
    session: Session,
    *,
    user: User,
    name: str,
    scopes: Iterable[str] | None = None,
    expires_at: dt.datetime | None = None,
    actor: Principal = SYSTEM,
) -> tuple[ApiToken, str]:
    """A new token row for user and the plain token, which is returned once and never stored."""
    if not user.active:
        raise Conflict(f"user '{user.username}' is disabled")
    _check_text(name, "a token name", TOKEN_NAME_MAX)
    wanted = set(DEFAULT_TOKEN_SCOPES if scopes is None else scopes)
    unknown = wanted - ALL_SCOPES
    if unknown or not wanted:
        raise InvalidAccount(
            f"scopes must be some of: {format_scopes(ALL_SCOPES)}"
            + (f" (unknown: {', '.join(sorted(unknown))})" if unknown else "")
        )
    beyond = wanted - scopes_for_role(user.role)
    if beyond:
        raise Forbidden(
            f"a {user.role} cannot hold the scope(s): {format_scopes(beyond)}",
        )
    if expires_at is not None and expires_at <= utcnow():
        raise InvalidAccount("a token must expire in the future")
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    tok = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=token_hash(plain),
        prefix=plain[:PREFIX_LEN],
        scopes=format_scopes(wanted),
        expires_at=expires_at,
    )
    session.add(tok)
    session.flush()
    audit.record_by(
        session,
        actor,
        entity="token",
        entity_id=tok.id,
        action="create",
        after=audit.snapshot(tok, TOKEN_FIELDS),
    )
    return tok, plain


def create_token(
    session: Session,
    *,
    user: User,
    name: str,
    scopes: Iterable[str] | None = None,
    expires_at: dt.datetime | None = None,
    actor: Principal = SYSTEM,
) -> str:
    """Issue a bearer token for user ('read write' unless told); only the plain token back."""
    return issue_token(
        session, user=user, name=name, scopes=scopes, expires_at=expires_at, actor=actor
    )[1]


def revoke_token(session: Session, *, token: ApiToken, actor: Principal = SYSTEM) -> ApiToken:
    """Revoke token from now on (a no-op when it already is)."""
    if token.revoked_at is not None:
        return token
    token.revoked_at = utcnow()
    session.flush()
    audit.record_by(
        session,
        actor,
        entity="token",
        entity_id=token.id,
        action="revoke",
        before={"revoked_at": None},
        after={"revoked_at": token.revoked_at},
    )
    return token


TokenState = Literal["active", "revoked", "expired"]


def token_state(token: ApiToken, now: dt.datetime | None = None) -> TokenState:
    """'active', 'revoked' or 'expired'."""
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= (now or utcnow()):
        return "expired"
    return "active"


@dataclass(frozen=True)
class TokenCheck:
    """A token found valid: its principal, and until when that answer can be reused."""

    principal: Principal
    #: When the token expires (None: never).
    expires_at: dt.datetime | None
    #: When its last_used_at stamp falls due again (None: the environment's admin token).
    stamp_due: dt.datetime | None


def admin_token_principal(token: str, admin_token: str | None) -> Principal | None:
    """The admin principal when token is the environment's admin token (compared in constant
    time); else None."""
    if admin_token and hmac.compare_digest(token.encode(), admin_token.encode()):
        return Principal(username="admin-token", role=Role.admin)
    return None


def check_token(
    session: Session, token: str, admin_token: str | None, *, now: dt.datetime | None = None
) -> TokenCheck:
    """The principal behind a bearer token, with until when the answer may be reused; or
    Unauthorized (unknown, revoked, expired, or its user disabled). Stamps the token's
    last_used_at at most once a minute."""
    admin = admin_token_principal(token, admin_token)
    if admin is not None:
        return TokenCheck(admin, None, None)
    found = repository.token_and_user_by_hash(session, token_hash(token))
    if found is None:
        raise Unauthorized("invalid token")
    tok, user = found
    now = now or utcnow()
    state = token_state(tok, now)
    if state != "active":
        raise Unauthorized(f"token {state}")
    if not user.active:
        raise Unauthorized("user disabled")
    if tok.last_used_at is None or now - tok.last_used_at >= LAST_USED_RESOLUTION:
        tok.last_used_at = now
    return TokenCheck(
        principal_of(user, parse_scopes(tok.scopes)),
        tok.expires_at,
        tok.last_used_at + LAST_USED_RESOLUTION,
    )


# --- organisations -------------------------------------------------------------------------------


def create_organisation(
    session: Session,
    *,
    name: str,
    kind: str = "contractor",
    monthly_fee: float | None = None,
    actor: Principal = SYSTEM,
) -> Organisation:
    """A new organisation, recorded in the audit log; names are unique."""
    _check_text(name, "an organisation name", ORG_NAME_MAX)
    if kind not in ORG_KINDS:
        raise InvalidAccount(f"kind must be one of: {', '.join(ORG_KINDS)}")
    if repository.organisation_by_name(session, name) is not None:
        raise Conflict(f"organisation '{name}' already exists")
    org = Organisation(name=name, kind=kind, monthly_fee=monthly_fee, active=True)
    session.add(org)
    session.flush()
    audit.record_by(
        session,
        actor,
        entity="organisation",
        entity_id=org.id,
        action="create",
        after=audit.snapshot(org, ORG_FIELDS),
    )
    return org


def update_organisation(
    session: Session,
    *,
    org: Organisation,
    changes: dict[str, object],
    actor: Principal = SYSTEM,
) -> Organisation:
    """Rename an organisation, change its monthly fee or (de)activate it, recorded in the audit
    log; names stay unique (409). An inactive firm keeps its work and people but is given no
    new work (orders.service.assign) and no new users."""
    if "name" in changes:
        name = str(changes["name"])
        _check_text(name, "an organisation name", ORG_NAME_MAX)
        other = repository.organisation_by_name(session, name)
        if other is not None and other.id != org.id:
            raise Conflict(f"organisation '{name}' already exists")
    before = audit.snapshot(org, ORG_FIELDS)
    for key in ("name", "monthly_fee", "active"):
        if key in changes:
            setattr(org, key, changes[key])
    session.flush()
    b, a = audit.diff(before, audit.snapshot(org, ORG_FIELDS))
    if b or a:
        audit.record_by(
            session,
            actor,
            entity="organisation",
            entity_id=org.id,
            action="update",
            before=b,
            after=a,
        )
    return org


def get_or_create_organisation(
    session: Session, name: str, kind: str = "contractor", *, actor: Principal = SYSTEM
) -> Organisation:
    """The organisation called name, created when missing."""
    org = repository.organisation_by_name(session, name)
    if org is None:
        org = create_organisation(session, name=name, kind=kind, actor=actor)
    return org
