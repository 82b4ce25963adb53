"""Webhooks on work-order events: deliveries written to the outbox in the caller's transaction.

`enqueue` only adds outbox messages of kind 'webhook' (core.outbox); the dispatcher sends them
after the commit with the webhook channel (workorders/webhooks/dispatch.py), so a rolled-back
change never fires a webhook and a committed one always does, at least once.

What a receiver gets: a POST whose JSON body is ::

    {"id": <delivery id>, "event": "workorder.status", "created_at": "<ISO 8601, UTC>",
     "data": {"workorder": {...}, "change": {...}}}

with the headers ``X-Plantroom-Event`` (the event), ``X-Plantroom-Delivery`` (the delivery id:
the same on every retry, so a receiver dedupes on it), ``X-Plantroom-Timestamp`` (UNIX seconds
when this attempt was signed) and ``X-Plantroom-Signature: sha256=<hex>``, the HMAC-SHA256 with
the webhook's secret of ``f"{timestamp}.{body}"`` (the raw body bytes, as received).

How a receiver verifies a request (``verify`` below does exactly this)::

    expected = "sha256=" + hmac.new(secret.encode(), f"{ts}.".encode() + raw_body,
                                    hashlib.sha256).hexdigest()
    ok = hmac.compare_digest(expected, request.headers["X-Plantroom-Signature"])
         and abs(time.time() - int(ts)) <= 300   # refuse replays of old requests

Answer any 2xx once the event is stored; anything else (or no answer within the timeout) is
retried with exponential backoff, so the same delivery may arrive more than once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from typing import Any

from fastapi.encoders import jsonable_encoder
from sqlalchemy.orm import Session

from core import audit, outbox, outbox_repository
from core.auth.service import Principal
from core.db import utcnow
from core.errors import Conflict, NotFound
from workorders.webhooks import repository
from workorders.webhooks.models import KIND, Webhook, WebhookDelivery
from workorders.webhooks.repository import DeliveryStatus

#: Every event a webhook can subscribe to.
EVENTS = (
    "workorder.created",
    "workorder.updated",
    "workorder.status",
    "workorder.assigned",
    "workorder.comment",
    "workorder.sla_warning",
    "workorder.sla_breach",
    "contractor.scorecard_revised",
)
#: Sent only by POST /webhooks/{id}/test, whatever the webhook subscribes to.
TEST_EVENT = "webhook.test"
#: Webhook columns the audit log records; never the secret.
AUDITED = ("url", "events", "active")


class WebhookNotFound(NotFound):
    """No such webhook."""

    def __init__(self, hook_id: int):
        super().__init__(f"webhook {hook_id} not found")


class DeliveryNotFound(NotFound):
    """No such delivery for this webhook."""

    def __init__(self, hook_id: int, delivery_id: int):
        super().__init__(f"delivery {delivery_id} of webhook {hook_id} not found")


# --- signing ------------------------------------------------------------------------------------


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The X-Plantroom-Signature value for a body sent at timestamp (UNIX seconds)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(
    secret: str, timestamp: str, body: bytes, signature: str, *, now: float, tolerance: float = 300
) -> bool:
    """Whether a received request is genuine and fresh: what a receiver in Python calls."""
    if not (timestamp.isascii() and timestamp.isdigit()):
        return False
    if abs(now - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, int(timestamp), body), signature)


def new_secret() -> str:
    """A random signing secret."""
    return "whsec_" + secrets.token_urlsafe(32)


# --- queueing -----------------------------------------------------------------------------------


def enqueue(session: Session, *, event: str, payload: dict[str, Any]) -> int:
    """Queue event for every active webhook that wants it; returns how many deliveries."""
    data = jsonable_encoder(payload)
    n = 0
    for hook in repository.active_hooks(session):
        if "*" in hook.events or event in hook.events:
            outbox.enqueue(session, kind=KIND, target=str(hook.id), topic=event, payload=data)
            n += 1
    return n


# --- queries ------------------------------------------------------------------------------------


def active_hooks(session: Session) -> list[Webhook]:
    """Every active webhook."""
    return repository.active_hooks(session)


def all_hooks(session: Session) -> list[Webhook]:
    """Every webhook, active or not, oldest first."""
    return repository.all_hooks(session)


def get_hook(session: Session, hook_id: int) -> Webhook:
    """One webhook, or 404."""
    hook = repository.hook(session, hook_id)
    if hook is None:
        raise WebhookNotFound(hook_id)
    return hook


def get_delivery(session: Session, hook_id: int, delivery_id: int) -> WebhookDelivery:
    """One delivery of one webhook, or 404."""
    d = repository.delivery(session, delivery_id)
    if d is None or d.webhook_id != hook_id:
        raise DeliveryNotFound(hook_id, delivery_id)
    return d


def deliveries(
    session: Session,
    hook_id: int,
    *,
    status: DeliveryStatus | None = None,
    limit: int = 100,
    after_id: int | None = None,
) -> list[WebhookDelivery]:
    """A webhook's deliveries, newest first; after_id continues a previous page."""
    return repository.deliveries(session, hook_id, status=status, limit=limit, after_id=after_id)


def status_of(d: WebhookDelivery) -> DeliveryStatus:
    """Where a delivery stands."""
    if d.delivered_at is not None:
        return "delivered"
    return "failed" if d.failed_at is not None else "pending"


# --- managing -----------------------------------------------------------------------------------


def _audit(
    session: Session,
    who: Principal,
    hook: Webhook,
    action: str,
    before: dict[str, Any] | None,
) -> None:
    after = audit.snapshot(hook, AUDITED)
    b, a = audit.diff(before, after) if before is not None else (None, after)
    audit.record_by(
        session,
        who,
        entity="webhook",
        entity_id=hook.id,
        action=action,
        before=b,
        after=a,
    )


def create_hook(
    session: Session, *, who: Principal, url: str, events: Sequence[str], secret: str | None
) -> Webhook:
    """A new active webhook; a secret is generated when none is given."""
    hook = Webhook(
        url=url,
        events=list(events),
        secret=secret or new_secret(),
        active=True,
        created_by=who.username,
    )
    session.add(hook)
    session.flush()
    _audit(session, who, hook, "create", None)
    return hook


def update_hook(
    session: Session,
    hook: Webhook,
    *,
    who: Principal,
    url: str | None = None,
    events: Sequence[str] | None = None,
    active: bool | None = None,
) -> Webhook:
    """Change a webhook's URL, events or active flag; audited when anything changed."""
    before = audit.snapshot(hook, AUDITED)
    if url is not None:
        hook.url = url
    if events is not None:
        hook.events = list(events)
    if active is not None:
        hook.active = active
    if audit.snapshot(hook, AUDITED) != before:
        session.flush()
        _audit(session, who, hook, "update", before)
        if hook.active and not before["active"]:
            # Its pending deliveries waited while it was off: send them now.
            outbox_repository.due_now(session, kind=KIND, target=str(hook.id), at=utcnow())
            outbox.wake_after_commit(session)
    return hook


def deactivate_hook(session: Session, hook: Webhook, *, who: Principal) -> None:
    """Switch a webhook off (the API's DELETE); its deliveries stay for the record, and its
    pending ones wait, unsent, until it is switched on again."""
    if not hook.active:
        return
    before = audit.snapshot(hook, AUDITED)
    hook.active = False
    session.flush()
    _audit(session, who, hook, "delete", before)


def _require_active(hook: Webhook) -> None:
    if not hook.active:
        raise Conflict(f"webhook {hook.id} is inactive; activate it first")


def redeliver(session: Session, hook: Webhook, original: WebhookDelivery) -> WebhookDelivery:
    """Queue a finished delivery again, as a new delivery (a new id, so receivers that
    dedupe on X-Plantroom-Delivery take it); a pending one is already being retried."""
    _require_active(hook)
    if status_of(original) == "pending":
        raise Conflict(
            f"delivery {original.id} is still pending; it is retried by itself",
            detail={"next_attempt_at": original.next_attempt_at.isoformat()},
        )
    copy = WebhookDelivery(webhook_id=hook.id, event=original.event, payload=original.payload)
    session.add(copy)
    session.flush()
    outbox.wake_after_commit(session)
    return copy


def send_test(session: Session, hook: Webhook, *, who: Principal) -> WebhookDelivery:
    """Queue a webhook.test event for this webhook alone."""
    _require_active(hook)
    d = WebhookDelivery(
        webhook_id=hook.id,
        event=TEST_EVENT,
        payload={"webhook_id": hook.id, "requested_by": who.username},
    )
    session.add(d)
    session.flush()
    outbox.wake_after_commit(session)
    return d


def backoff(attempts: int, base: float, cap: float) -> dt.timedelta:
    """The wait after the attempts-th failed attempt: base × 2^(attempts-1), at most cap."""
    return outbox.backoff(attempts, base, cap)
