"""The webhooks' SQL: subscriptions, and their deliveries among the outbox's messages."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from workorders.webhooks.models import Webhook, WebhookDelivery

DeliveryStatus = Literal["pending", "delivered", "failed"]


def active_hooks(session: Session) -> list[Webhook]:
    """Every active webhook."""
    return list(session.scalars(select(Webhook).where(Webhook.active.is_(True))))


def all_hooks(session: Session) -> list[Webhook]:
    """Every webhook, active or not, oldest first."""
    return list(session.scalars(select(Webhook).order_by(Webhook.id)))


def hook(session: Session, hook_id: int) -> Webhook | None:
    """One webhook, if there is one."""
    return session.get(Webhook, hook_id)


def delivery(session: Session, delivery_id: int) -> WebhookDelivery | None:
    """One delivery (an outbox message of another kind is none)."""
    return session.get(WebhookDelivery, delivery_id)


def deliveries(
    session: Session,
    hook_id: int,
    *,
    status: DeliveryStatus | None = None,
    limit: int = 100,
    after_id: int | None = None,
) -> list[WebhookDelivery]:
    """A webhook's deliveries, newest first; after_id continues a previous page."""
    D = WebhookDelivery
    stmt = select(D).where(D.target == str(hook_id)).order_by(D.id.desc()).limit(limit)
    if status == "pending":
        stmt = stmt.where(D.delivered_at.is_(None), D.failed_at.is_(None))
    elif status == "delivered":
        stmt = stmt.where(D.delivered_at.is_not(None))
    elif status == "failed":
        stmt = stmt.where(D.failed_at.is_not(None))
    if after_id is not None:
        stmt = stmt.where(D.id < after_id)
    return list(session.scalars(stmt))
