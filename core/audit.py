"""The append-only audit log: who changed what, when, with the values before and after.

Rows are only ever inserted. The migration adds database triggers that refuse UPDATE and DELETE
on both SQLite and PostgreSQL, so not even a bug in this code can rewrite history.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import Base, UTCDateTime, utcnow


class AuditEntry(Base):
    """One recorded change."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: When the server recorded the change.
    ts: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: When the change happened as the client stated it (an offline action synced later);
    #: NULL when the client stated no time.
    action_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(80))
    actor_role: Mapped[str] = mapped_column(String(20), default="")
    #: The contractor organisation the actor belongs to, if any.
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    #: 'work_order', 'asset', 'location', 'user', 'token', 'webhook', ...
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(100))
    #: 'create', 'update', 'status', 'delete', 'revoke', ...
    action: Mapped[str] = mapped_column(String(40))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: The version the entity had after this change, where it has one.
    version: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id", "id"),)


def _plain(value: Any) -> Any:
    """A JSON-safe copy of a column value."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def snapshot(obj: Any, fields: Sequence[str]) -> dict[str, Any]:
    """The named attributes of obj, JSON-safe: take one before a change and one after."""
    return {f: _plain(getattr(obj, f)) for f in fields}


def diff(
    before: Mapping[str, Any], after: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields that changed, as (before, after)."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def record(
    session: Session,
    *,
    actor: str,
    entity: str,
    entity_id: str | int,
    action: str,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    actor_role: str = "",
    organisation_id: int | None = None,
    version: int | None = None,
    at: dt.datetime | None = None,
    action_at: dt.datetime | None = None,
) -> AuditEntry:
    """Append one entry to the audit log, in the caller's transaction: `at` is when it was
    recorded (default now), `action_at` when the client says it happened."""
    entry = AuditEntry(
        actor=actor,
        actor_role=str(actor_role),
        organisation_id=organisation_id,
        entity=entity,
        entity_id=str(entity_id),
        action=action,
        before=_plain(dict(before)) if before is not None else None,
        after=_plain(dict(after)) if after is not None else None,
        version=version,
        action_at=action_at,
    )
    if at is not None:
        entry.ts = at
    session.add(entry)
    return entry


class Actor(Protocol):
    """Who acts, as core.auth.service.Principal describes a caller."""

    @property
    def username(self) -> str: ...

    @property
    def role(self) -> Any: ...

    @property
    def organisation_id(self) -> int | None: ...


def record_by(
    session: Session,
    who: Actor,
    *,
    entity: str,
    entity_id: str | int,
    action: str,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    version: int | None = None,
) -> AuditEntry:
    """record(), naming the caller who acted: their name, role and organisation."""
    return record(
        session,
        actor=who.username,
        actor_role=str(who.role),
        organisation_id=who.organisation_id,
        entity=entity,
        entity_id=entity_id,
        action=action,
        before=before,
        after=after,
        version=version,
    )


def entries(
    session: Session, *, entity: str, entity_id: str | int, limit: int = 1000
) -> list[AuditEntry]:
    """The audit trail of one entity, oldest first."""
    stmt = (
        select(AuditEntry)
        .where(AuditEntry.entity == entity, AuditEntry.entity_id == str(entity_id))
        .order_by(AuditEntry.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))
