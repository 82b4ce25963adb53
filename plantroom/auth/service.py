"""Passwords (argon2), API tokens (SHA-256 at rest) and who a request is."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from plantroom.auth.models import ApiToken, Organisation, Role, User
from plantroom.errors import Conflict, Unauthorized

_hasher = PasswordHasher()
TOKEN_PREFIX = "prt_"


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user, or the environment's admin token."""

    username: str
    role: Role
    user_id: int | None = None
    organisation_id: int | None = None

    @property
    def contractor_scope(self) -> int | None:
        """The organisation a contractor is confined to, or None for everyone else."""
        return self.organisation_id if self.role is Role.contractor else None


def hash_password(password: str) -> str:
    """An argon2id hash."""
    return _hasher.hash(password)


def verify_password(hashed: str | None, password: str) -> bool:
    """True when password matches the stored hash."""
    if not hashed:
        return False
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def token_hash(token: str) -> str:
    """SHA-256 hex of a token; tokens are random, so no salt is needed."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(
    session: Session,
    *,
    username: str,
    password: str | None,
    role: Role,
    display_name: str = "",
    organisation: Organisation | None = None,
) -> User:
    """A new user; usernames are unique."""
    if session.scalars(select(User).where(User.username == username)).first():
        raise Conflict(f"user '{username}' already exists")
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=hash_password(password) if password else None,
        role=role,
        organisation_id=organisation.id if organisation else None,
    )
    session.add(user)
    session.flush()
    return user


def create_token(session: Session, *, user: User, name: str) -> str:
    """Issue a bearer token for user; the plain token is returned once and never stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiToken(user_id=user.id, name=name, token_hash=token_hash(token), prefix=token[:12])
    )
    session.flush()
    return token


def get_or_create_organisation(
    session: Session, name: str, kind: str = "contractor"
) -> Organisation:
    """The organisation called name, created when missing."""
    org = session.scalars(select(Organisation).where(Organisation.name == name)).first()
    if org is None:
        org = Organisation(name=name, kind=kind)
        session.add(org)
        session.flush()
    return org


def authenticate_token(session: Session, token: str, admin_token: str | None) -> Principal:
    """The principal behind a bearer token, or Unauthorized."""
    if admin_token and hmac.compare_digest(token.encode(), admin_token.encode()):
        return Principal(username="admin-token", role=Role.admin)
    row = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == token_hash(token))
    ).first()
    if row is None:
        raise Unauthorized("invalid token")
    tok, user = row
    if tok.revoked_at is not None or not user.active:
        raise Unauthorized("token revoked or user disabled")
    tok.last_used_at = dt.datetime.now(dt.UTC)
    return principal_of(user)


def principal_of(user: User) -> Principal:
    """A user as a principal."""
    return Principal(
        username=user.username,
        role=Role(user.role),
        user_id=user.id,
        organisation_id=user.organisation_id,
    )


def authenticate_password(session: Session, username: str, password: str) -> User | None:
    """The active user with these credentials, or None."""
    user = session.scalars(select(User).where(User.username == username)).first()
    if user is None or not user.active:
        verify_password(None, password)
        return None
    return user if verify_password(user.password_hash, password) else None


def get_user(session: Session, user_id: int) -> User | None:
    """A user by id."""
    return session.get(User, user_id)
