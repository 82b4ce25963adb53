"""Stored answers to POSTs that carried an Idempotency-Key, so a replay gets the same answer."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow


class IdempotencyRecord(Base):
    """One (caller, key) pair and the response it got."""

    __tablename__ = "idempotency_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: SHA-256 of the caller's identity (the user behind the token or session), so keys never
    #: collide between callers.
    caller: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(400))
    #: SHA-256 of the request body: the same key with another body is refused.
    body_hash: Mapped[str] = mapped_column(String(64))
    #: 0 while the first request is still being handled.
    status_code: Mapped[int] = mapped_column(Integer, default=0)
    content_type: Mapped[str] = mapped_column(String(100), default="")
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: Response headers worth replaying: ETag and Location.
    headers: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    __table_args__ = (UniqueConstraint("caller", "key", name="uq_idempotency_keys_caller_key"),)
