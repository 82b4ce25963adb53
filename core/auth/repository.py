"""Queries for users, organisations and API tokens."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.auth.models import ApiToken, Organisation, UiSession, User


def get_user(session: Session, user_id: int) -> User | None:
    """A user by id."""
    return session.get(User, user_id)


def user_by_username(session: Session, username: str) -> User | None:
    """A user by username."""
    return session.scalars(select(User).where(User.username == username)).first()


def list_users(
    session: Session,
    *,
    role: str | None = None,
    active: bool | None = None,
    organisation_id: int | None = None,
    after_id: int | None = None,
    limit: int = 100,
) -> list[User]:
    """Users in id order, filtered, starting after after_id."""
    stmt = select(User).order_by(User.id).limit(limit)
    if role is not None:
        stmt = stmt.where(User.role == role)
    if active is not None:
        stmt = stmt.where(User.active.is_(active))
    if organisation_id is not None:
        stmt = stmt.where(User.organisation_id == organisation_id)
    if after_id is not None:
        stmt = stmt.where(User.id > after_id)
    return list(session.scalars(stmt))


def get_organisation(session: Session, org_id: int) -> Organisation | None:
    """An organisation by id."""
    return session.get(Organisation, org_id)


def organisation_by_name(session: Session, name: str) -> Organisation | None:
    """An organisation by its (unique) name."""
    return session.scalars(select(Organisation).where(Organisation.name == name)).first()


def organisation_names(session: Session, ids: set[int]) -> dict[int, str]:
    """Names of the organisations with these ids."""
    if not ids:
        return {}
    rows = session.execute(
        select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids))
    )
    return {row[0]: row[1] for row in rows}


def list_organisations(session: Session) -> list[Organisation]:
    """Every organisation, by name."""
    return list(session.scalars(select(Organisation).order_by(Organisation.name)))


def token_and_user_by_hash(session: Session, digest: str) -> tuple[ApiToken, User] | None:
    """The token with this SHA-256 and its user."""
    row = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == digest)
    ).first()
    return None if row is None else (row[0], row[1])


def get_token(session: Session, token_id: int) -> ApiToken | None:
    """A token row by id."""
    return session.get(ApiToken, token_id)


def tokens_with_prefix(session: Session, prefix: str) -> list[ApiToken]:
    """Tokens whose stored prefix starts with prefix."""
    pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    stmt = select(ApiToken).where(ApiToken.prefix.like(pattern, escape="\\")).order_by(ApiToken.id)
    return list(session.scalars(stmt))


def list_tokens(
    session: Session,
    *,
    user_id: int | None = None,
    after_id: int | None = None,
    limit: int = 100,
) -> list[tuple[ApiToken, str]]:
    """Tokens in id order with their user's username, optionally of one user only."""
    stmt = (
        select(ApiToken, User.username)
        .join(User, User.id == ApiToken.user_id)
        .order_by(ApiToken.id)
        .limit(limit)
    )
    if user_id is not None:
        stmt = stmt.where(ApiToken.user_id == user_id)
    if after_id is not None:
        stmt = stmt.where(ApiToken.id > after_id)
    return [(row[0], row[1]) for row in session.execute(stmt)]


def live_tokens_of(session: Session, user_id: int) -> list[ApiToken]:
    """A user's tokens that are not revoked."""
    stmt = (
        select(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.id)
    )
    return list(session.scalars(stmt))


def live_session(session: Session, digest: str, now: dt.datetime) -> UiSession | None:
    """The UI session with this secret's SHA-256, if not ended and not expired."""
    stmt = select(UiSession).where(
        UiSession.id == digest, UiSession.ended_at.is_(None), UiSession.expires_at > now
    )
    return session.scalars(stmt).one_or_none()


def end_sessions(
    session: Session, now: dt.datetime, *, user_id: int | None = None, digest: str | None = None
) -> int:
    """End a user's live UI sessions, or the one with this digest; returns how many."""
    stmt = update(UiSession).where(UiSession.ended_at.is_(None)).values(ended_at=now)
    if user_id is not None:
        stmt = stmt.where(UiSession.user_id == user_id)
    if digest is not None:
        stmt = stmt.where(UiSession.id == digest)
    return int(getattr(session.execute(stmt), "rowcount", 0) or 0)
