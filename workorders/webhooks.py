"""Webhooks on work-order events: an outbox written in the caller's transaction.

`enqueue` only adds rows; a dispatcher sends them after the commit, so a rolled-back change
never fires a webhook and a committed one always does (at least once).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workorders.webhook_models import Webhook, WebhookDelivery

#: Every event a webhook can subscribe to.
EVENTS = (
    "workorder.created",
    "workorder.updated",
    "workorder.status",
    "workorder.assigned",
    "workorder.comment",
    "workorder.sla_warning",
    "workorder.sla_breach",
)


def enqueue(session: Session, *, event: str, payload: dict[str, Any]) -> int:
    """Queue event for every active webhook that wants it; returns how many deliveries."""
    hooks = session.scalars(select(Webhook).where(Webhook.active.is_(True))).all()
    n = 0
    for hook in hooks:
        if "*" in hook.events or event in hook.events:
            session.add(
                WebhookDelivery(
                    webhook_id=hook.id, event=event, payload={"event": event, **payload}
                )
            )
            n += 1
    return n
