"""Webhook subscriptions and their deliveries (outbox messages of kind 'webhook')."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, String
from sqlalchemy.orm import Mapped, mapped_column, synonym

from core.db import Base, UTCDateTime, utcnow
from core.outbox_models import OutboxMessage

#: The outbox kind of webhook deliveries.
KIND = "webhook"


class Webhook(Base):
    """An HTTP endpoint that wants work-order events."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(1000))
    #: HMAC-SHA256 key for the X-Plantroom-Signature header.
    secret: Mapped[str] = mapped_column(String(200))
    #: Event names it wants, e.g. ["workorder.created", "workorder.status"]; ["*"] for all.
    events: Mapped[list[str]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class WebhookDelivery(OutboxMessage):
    """One event for one webhook: an outbox message of kind 'webhook' (core.outbox), written in
    the same transaction as the change, then sent and retried with backoff until delivered or
    out of attempts. Its target is the webhook's id, its topic the event."""

    __mapper_args__ = {"polymorphic_identity": KIND}  # noqa: RUF012  (read once, by the mapper)

    #: The event, e.g. 'workorder.status' (stored as the message's topic).
    event: Mapped[str] = synonym("topic")

    def __init__(
        self,
        *,
        webhook_id: int,
        event: str,
        payload: dict[str, Any],
        next_attempt_at: dt.datetime | None = None,
    ):
        super().__init__(
            target=str(webhook_id),
            topic=event,
            payload=payload,
            next_attempt_at=next_attempt_at or utcnow(),
        )

    @property
    def webhook_id(self) -> int:
        """The webhook it goes to."""
        return int(self.target)
