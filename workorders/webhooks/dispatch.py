"""The webhook channel of the outbox: POSTs a delivery, signed, to its webhook.

Deliveries are outbox messages of kind 'webhook' (core.outbox); the one dispatcher the root runs
claims them with a lease, calls `WebhookSender.send`, and records the outcome, retrying with
backoff until `max_attempts` (then the delivery is failed; the API can redeliver it). Delivery is
at least once, and receivers dedupe on X-Plantroom-Delivery. A delivery for a webhook that is
switched off waits, unsent, until it is switched on again. See workorders/webhooks/service.py
for what a receiver gets and how it verifies it.

`WebhookDispatcher` is a dispatcher with this channel alone, for tests and tools.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from core import outbox
from core.db import Database, utcnow
from workorders.webhooks import repository
from workorders.webhooks import service as webhooks
from workorders.webhooks.models import KIND

#: Documents sent carry this version; bump it when their shape changes.
DOCUMENT_VERSION = 1
#: While a webhook is switched off, its deliveries are looked at again this often.
INACTIVE_RECHECK = 60.0


@dataclass(frozen=True)
class Target:
    """Where and how to send a webhook's deliveries."""

    url: str
    secret: str
    active: bool


def document(m: outbox.Message) -> bytes:
    """The JSON body a receiver gets, as the exact bytes that are signed."""
    doc = {
        "version": DOCUMENT_VERSION,
        "id": m.id,
        "event": m.topic,
        "created_at": m.created_at.isoformat(),
        "data": m.payload,
    }
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


def safe_url(url: str) -> str:
    """A URL as logs show it: no query, fragment or credentials (they may hold secrets)."""
    try:
        u = httpx.URL(url)
    except httpx.InvalidURL:
        return "<invalid url>"
    return str(u.copy_with(query=None, fragment=None, username=None, password=None))


class WebhookSender:
    """Sends one delivery to its webhook (looked up at send time: URL and secret may change)."""

    def __init__(
        self, db: Database, *, http_client: httpx.Client | None = None, timeout: float = 5.0
    ):
        self.db = db
        self.timeout = timeout
        self._client = http_client
        self._own_client = http_client is None
        #: Webhook id -> URL as last sent to, for log lines.
        self._urls: dict[str, str] = {}

    @property
    def client(self) -> httpx.Client:
        """The HTTP client requests go through (made on first use unless one was given)."""
        if self._client is None:
            self._client = httpx.Client(
                timeout=self.timeout,
                follow_redirects=False,
                headers={"User-Agent": "Plantroom-Webhooks/1"},
            )
        return self._client

    def target(self, webhook_id: str) -> Target | None:
        """The webhook's URL, secret and state."""
        with self.db.session() as s:
            hook = repository.hook(s, int(webhook_id))
            return None if hook is None else Target(hook.url, hook.secret, hook.active)

    def describe(self, webhook_id: str) -> str:
        """A webhook as log lines name it: its id and URL (without secrets)."""
        url = self._urls.get(webhook_id)
        return f"webhook {webhook_id}" + (f" ({safe_url(url)})" if url else "")

    def send(self, m: outbox.Message, now: dt.datetime) -> int:
        """POST the delivery, signed at now; the receiver's status on a 2xx."""
        hook = self.target(m.target)
        if hook is None:
            raise outbox.Refused(f"webhook {m.target} does not exist")
        if not hook.active:
            raise outbox.Hold(f"webhook {m.target} is switched off", retry_in=INACTIVE_RECHECK)
        self._urls[m.target] = hook.url
        body = document(m)
        ts = int(now.timestamp())
        headers = {
            "Content-Type": "application/json",
            "X-Plantroom-Event": m.topic,
            "X-Plantroom-Delivery": str(m.id),
            "X-Plantroom-Timestamp": str(ts),
            "X-Plantroom-Signature": webhooks.sign(hook.secret, ts, body),
        }
        # Streamed and not read: a receiver's answer is its status, whatever it sends.
        with self.client.stream("POST", hook.url, content=body, headers=headers) as r:
            if not r.is_success:
                reason = f"HTTP {r.status_code} {r.reason_phrase}".strip()
                raise outbox.DeliveryFailed(reason, status=r.status_code)
            return r.status_code

    def close(self) -> None:
        """Close the HTTP client this sender made (a new one is made if it sends again)."""
        if self._own_client and self._client is not None:
            self._client.close()
            self._client = None


def channel(
    db: Database,
    *,
    http_client: httpx.Client | None = None,
    max_attempts: int = 8,
    base_backoff: float = 5.0,
    max_backoff: float = 3600.0,
    timeout: float = 5.0,
) -> outbox.Channel:
    """The outbox channel for webhook deliveries: any failure (no answer, any non-2xx) is retried
    after base_backoff × 2^(attempts-1) seconds, at most max_backoff; after max_attempts failures
    the delivery is failed."""
    sender = WebhookSender(db, http_client=http_client, timeout=timeout)
    return outbox.Channel(
        kind=KIND,
        send=sender.send,
        max_attempts=max_attempts,
        base_backoff=base_backoff,
        max_backoff=max_backoff,
        describe=sender.describe,
        close=sender.close,
    )


class WebhookDispatcher(outbox.Dispatcher):
    """A dispatcher for webhook deliveries alone (the root's dispatcher sends every kind)."""

    def __init__(
        self,
        db: Database,
        *,
        clock: Callable[[], dt.datetime] = utcnow,
        http_client: httpx.Client | None = None,
        max_attempts: int = 8,
        base_backoff: float = 5.0,
        max_backoff: float = 3600.0,
        timeout: float = 5.0,
        batch_size: int = 20,
        interval: float = 1.0,
    ):
        webhook_channel = channel(
            db,
            http_client=http_client,
            max_attempts=max_attempts,
            base_backoff=base_backoff,
            max_backoff=max_backoff,
            timeout=timeout,
        )
        super().__init__(
            db,
            [webhook_channel],
            clock=clock,
            batch_size=batch_size,
            interval=interval,
            send_timeout=timeout,
            name="webhook-dispatcher",
        )
