"""The outbox table: every message that leaves the building, from the transaction of the change
that caused it until a target has it (core.outbox)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow

#: Rows still to be sent: the dispatcher's claims and the per-target order look only at these.
PENDING = "delivered_at IS NULL AND failed_at IS NULL"


class OutboxMessage(Base):
    """One message for one target.

    ``kind`` names the channel that sends it (each domain registers its channels at the root);
    ``target`` says where it goes, in that channel's terms (a webhook id, a configured address).
    A kind may map a subclass of its own (single-table inheritance: webhook deliveries do), which
    then sees only its kind's rows. Read other rows through core.outbox_repository, by column:
    a row whose kind has no subclass cannot be loaded as an OutboxMessage object.
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(300))
    #: What the message is about, for people and filters: a webhook event, an alert status.
    topic: Mapped[str] = mapped_column(String(100), default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: Makes enqueueing idempotent per kind where the caller has a natural key.
    dedup_key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Tries made so far (a hold while a target is switched off is not one).
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: When it is due (again).
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: While a dispatcher sends it: no other claims it until then.
    leased_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: Which claim holds the lease, so a dispatcher whose lease ran out records nothing.
    lease_token: Mapped[str | None] = mapped_column(String(32))
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: Set when the target refused it for good, or its channel's attempts ran out.
    failed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: The target's answer to the last attempt (an HTTP status), if it gave one.
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str] = mapped_column(Text, default="")

    __mapper_args__ = {"polymorphic_on": "kind"}  # noqa: RUF012  (read once, by the mapper)
    __table_args__ = (
        UniqueConstraint("kind", "dedup_key", name="uq_outbox_kind_dedup_key"),
        Index("ix_outbox_kind_target", "kind", "target", "id"),
        Index(
            "ix_outbox_due",
            "next_attempt_at",
            sqlite_where=text(PENDING),
            postgresql_where=text(PENDING),
        ),
    )


@dataclass(frozen=True)
class Message:
    """An outbox row as senders and tools see it."""

    id: int
    kind: str
    target: str
    topic: str
    payload: dict[str, Any]
    attempts: int
    created_at: dt.datetime
    next_attempt_at: dt.datetime
    delivered_at: dt.datetime | None = None
    failed_at: dt.datetime | None = None
    last_status: int | None = None
    last_error: str = ""
