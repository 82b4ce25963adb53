"""The outbox's SQL: adding messages, claiming due ones under a lease, recording outcomes.

Statements go through the table, by column, so rows of every kind read alike (see
core.outbox_models.OutboxMessage). Each outcome is recorded only by the claim that holds the
message (its lease token), except a delivery: a target that answered has the message, whoever's
lease it was.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from typing import Any, cast

from sqlalchemy import Table, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.outbox_models import Message, OutboxMessage

T = cast(Table, OutboxMessage.__table__)
_MESSAGE = (
    T.c.id,
    T.c.kind,
    T.c.target,
    T.c.topic,
    T.c.payload,
    T.c.attempts,
    T.c.created_at,
    T.c.next_attempt_at,
    T.c.delivered_at,
    T.c.failed_at,
    T.c.last_status,
    T.c.last_error,
)
_PENDING = (T.c.delivered_at.is_(None), T.c.failed_at.is_(None))


def _message(row: Any) -> Message:
    return Message(*row)


def add(
    session: Session,
    *,
    kind: str,
    target: str,
    payload: dict[str, Any],
    topic: str = "",
    dedup_key: str | None = None,
    at: dt.datetime,
) -> int | None:
    """Insert one message due at `at`; returns its id, or None when (kind, dedup_key) exists."""
    stmt = (
        insert(T)
        .values(
            kind=kind,
            target=target,
            topic=topic,
            payload=payload,
            dedup_key=dedup_key,
            created_at=at,
            next_attempt_at=at,
        )
        .returning(T.c.id)
    )
    if dedup_key is None:
        return int(session.execute(stmt).scalar_one())
    if exists(session, kind=kind, dedup_key=dedup_key):
        return None
    try:
        with session.begin_nested():
            return int(session.execute(stmt).scalar_one())
    except IntegrityError:  # another transaction added it meanwhile
        return None


def exists(session: Session, *, kind: str, dedup_key: str) -> bool:
    """Whether a message of this kind with this dedup key was ever added."""
    found = session.scalar(select(T.c.id).where(T.c.kind == kind, T.c.dedup_key == dedup_key))
    return found is not None


def claim_due(
    session: Session,
    *,
    kinds: Collection[str],
    ordered: Collection[str],
    now: dt.datetime,
    lease_until: dt.datetime,
    token: str,
    limit: int,
) -> list[Message]:
    """Lease up to `limit` messages of these kinds due at now, oldest first, to `token`.

    Of an ordered kind, only the oldest pending message of each target is due: a message that
    waits for a retry (or is being sent) holds back the later ones to the same target.

    One UPDATE ... RETURNING: on PostgreSQL its ids come from a SELECT ... FOR UPDATE SKIP LOCKED,
    so two dispatchers claiming together pass over each other's rows; on SQLite there is one
    writer at a time, and the claim, the first statement of its transaction, reads the newest
    data. Commit at once: the lease is what keeps other dispatchers away.
    """
    due = select(T.c.id).where(
        *_PENDING,
        T.c.kind.in_(list(kinds)),
        T.c.next_attempt_at <= now,
        or_(T.c.leased_until.is_(None), T.c.leased_until <= now),
    )
    if ordered:
        earlier = T.alias("earlier")
        ahead = (
            select(earlier.c.id)
            .where(
                earlier.c.kind == T.c.kind,
                earlier.c.target == T.c.target,
                earlier.c.id < T.c.id,
                earlier.c.delivered_at.is_(None),
                earlier.c.failed_at.is_(None),
            )
            .exists()
        )
        due = due.where(or_(T.c.kind.not_in(list(ordered)), ~ahead))
    due = due.order_by(T.c.next_attempt_at, T.c.id).limit(limit).with_for_update(skip_locked=True)
    stmt = (
        update(T)
        .where(T.c.id.in_(due))
        .values(leased_until=lease_until, lease_token=token)
        .returning(*_MESSAGE)
    )
    return sorted((_message(row) for row in session.execute(stmt)), key=lambda m: m.id)


def mark_delivered(
    session: Session, message_id: int, *, at: dt.datetime, status: int | None
) -> bool:
    """Record that the target has it (even if the lease ran out meanwhile: it did arrive);
    False when it was recorded delivered already."""
    result = session.execute(
        update(T)
        .where(T.c.id == message_id, T.c.delivered_at.is_(None))
        .values(
            attempts=T.c.attempts + 1,
            delivered_at=at,
            last_status=status,
            last_error="",
            leased_until=None,
            lease_token=None,
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def mark_failed(
    session: Session,
    message_id: int,
    *,
    token: str,
    at: dt.datetime,
    status: int | None,
    error: str,
    retry_at: dt.datetime | None,
) -> bool:
    """Record a failed attempt: due again at retry_at, or failed for good when that is None.
    False when the lease was lost (another claim holds it now)."""
    values: dict[str, Any] = {
        "attempts": T.c.attempts + 1,
        "last_status": status,
        "last_error": error[:1000],
        "leased_until": None,
        "lease_token": None,
    }
    if retry_at is None:
        values.update(failed_at=at, next_attempt_at=at)
    else:
        values.update(next_attempt_at=retry_at)
    result = session.execute(
        update(T).where(T.c.id == message_id, T.c.lease_token == token, *_PENDING).values(values)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def hold(session: Session, message_id: int, *, token: str, until: dt.datetime) -> None:
    """Hand a claimed message back unsent, due at `until`, without counting an attempt."""
    session.execute(
        update(T)
        .where(T.c.id == message_id, T.c.lease_token == token, *_PENDING)
        .values(next_attempt_at=until, leased_until=None, lease_token=None)
    )


def release(session: Session, ids: Iterable[int], *, token: str) -> None:
    """Hand claimed, unsent messages back, due as they were."""
    session.execute(
        update(T)
        .where(T.c.id.in_(list(ids)), T.c.lease_token == token, *_PENDING)
        .values(leased_until=None, lease_token=None)
    )


def due_now(session: Session, *, kind: str, target: str, at: dt.datetime) -> int:
    """Make a target's pending messages of a kind due at `at` (e.g. it was switched on again);
    returns how many moved."""
    result = session.execute(
        update(T)
        .where(T.c.kind == kind, T.c.target == target, T.c.next_attempt_at > at, *_PENDING)
        .values(next_attempt_at=at)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def messages(
    session: Session, *, kind: str | None = None, target: str | None = None
) -> list[Message]:
    """Messages, oldest first, optionally of one kind and target."""
    stmt = select(*_MESSAGE).order_by(T.c.id)
    if kind is not None:
        stmt = stmt.where(T.c.kind == kind)
    if target is not None:
        stmt = stmt.where(T.c.target == target)
    return [_message(row) for row in session.execute(stmt)]
