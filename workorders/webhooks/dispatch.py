"""Sends queued webhook deliveries: claims the due ones, POSTs them signed, records the outcome.

Several dispatchers (threads or processes: `plantroom serve` and `plantroom collect`, say) may
run against one database; each delivery is then still sent by one of them at a time. A claim
is one ``UPDATE ... RETURNING`` that moves the due deliveries' ``next_attempt_at`` to a lease
time, which takes them out of every other dispatcher's view, and commits at once:

- on PostgreSQL the ids come from a ``SELECT ... FOR UPDATE SKIP LOCKED`` subquery, so two
  dispatchers claiming together pass over each other's rows instead of queueing on them;
- on SQLite there is one writer at a time, and the claim is the first statement of its
  transaction, so it reads the newest data: a second claim waits (busy timeout) for the first to
  commit and then no longer sees its rows. (SQLite renders no FOR UPDATE; none is needed.)

The request is sent after the claim has committed, with no transaction open, and the outcome is
written in a second short transaction. Should the process die in between, the lease runs out and
another pass sends the delivery again: delivery is at least once, and receivers dedupe on
X-Plantroom-Delivery. See workorders/webhooks.py for what a receiver gets and how it verifies it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.db import Database, utcnow
from workorders.webhooks import service as webhooks
from workorders.webhooks.models import Webhook, WebhookDelivery

log = logging.getLogger(__name__)

D = WebhookDelivery
#: Documents sent carry this version; bump it when their shape changes.
DOCUMENT_VERSION = 1
_NO_SYNC = {"synchronize_session": False}


@dataclass(frozen=True)
class Claimed:
    """A delivery this dispatcher holds until its lease runs out."""

    id: int
    webhook_id: int
    event: str
    payload: dict[str, Any]
    attempts: int
    created_at: dt.datetime


@dataclass(frozen=True)
class Target:
    """Where and how to send a webhook's deliveries."""

    url: str
    secret: str
    active: bool


# --- queries ------------------------------------------------------------------------------------


def claim_due(
    session: Session, *, now: dt.datetime, lease_until: dt.datetime, limit: int
) -> list[Claimed]:
    """Take up to limit deliveries due at now (of active webhooks) until lease_until."""
    active = select(Webhook.id).where(Webhook.active.is_(True))
    due = (
        select(D.id)
        .where(
            D.delivered_at.is_(None),
            D.failed_at.is_(None),
            D.next_attempt_at <= now,
            D.webhook_id.in_(active),
        )
        .order_by(D.next_attempt_at, D.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    stmt = (
        update(D)
        .where(D.id.in_(due))
        .values(next_attempt_at=lease_until)
        .returning(D.id, D.webhook_id, D.event, D.payload, D.attempts, D.created_at)
    )
    rows = session.execute(stmt, execution_options=_NO_SYNC).all()
    return sorted((Claimed(*row) for row in rows), key=lambda c: c.id)


def targets(session: Session, ids: Iterable[int]) -> dict[int, Target]:
    """The URL, secret and state of the given webhooks."""
    rows = session.scalars(select(Webhook).where(Webhook.id.in_(set(ids))))
    return {h.id: Target(h.url, h.secret, h.active) for h in rows}


def mark_delivered(session: Session, c: Claimed, *, at: dt.datetime, status: int) -> None:
    """Record a 2xx answer (even if the lease ran out meanwhile: it did arrive)."""
    session.execute(
        update(D)
        .where(D.id == c.id, D.delivered_at.is_(None))
        .values(attempts=D.attempts + 1, delivered_at=at, last_status=status, last_error=""),
        execution_options=_NO_SYNC,
    )


def mark_failed(
    session: Session,
    c: Claimed,
    *,
    lease_until: dt.datetime,
    status: int | None,
    error: str,
    retry_at: dt.datetime | None,
    at: dt.datetime,
) -> None:
    """Record a failed attempt: due again at retry_at, or failed for good when that is None."""
    values: dict[str, Any] = {
        "attempts": D.attempts + 1,
        "last_status": status,
        "last_error": error[:1000],
    }
    if retry_at is None:
        values.update(failed_at=at, next_attempt_at=at)
    else:
        values.update(next_attempt_at=retry_at)
    session.execute(
        update(D)
        .where(
            D.id == c.id,
            D.delivered_at.is_(None),
            D.failed_at.is_(None),
            D.next_attempt_at == lease_until,  # still ours: the lease has not been re-claimed
        )
        .values(values),
        execution_options=_NO_SYNC,
    )


def release(
    session: Session, ids: Iterable[int], *, lease_until: dt.datetime, at: dt.datetime
) -> None:
    """Hand claimed, unsent deliveries back, due at `at`."""
    session.execute(
        update(D)
        .where(D.id.in_(list(ids)), D.next_attempt_at == lease_until, D.delivered_at.is_(None))
        .values(next_attempt_at=at),
        execution_options=_NO_SYNC,
    )


# --- sending ------------------------------------------------------------------------------------


def document(c: Claimed) -> bytes:
    """The JSON body a receiver gets, as the exact bytes that are signed."""
    doc = {
        "version": DOCUMENT_VERSION,
        "id": c.id,
        "event": c.event,
        "created_at": c.created_at.isoformat(),
        "data": c.payload,
    }
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


def safe_url(url: str) -> str:
    """A URL as logs show it: no query, fragment or credentials (they may hold secrets)."""
    try:
        u = httpx.URL(url)
    except httpx.InvalidURL:
        return "<invalid url>"
    return str(u.copy_with(query=None, fragment=None, username=None, password=None))


class WebhookDispatcher:
    """Delivers the webhook outbox: `deliver_due` once, or `start()` a thread that does it
    about every `interval` seconds (sooner when a commit queues a delivery) until `stop()`.

    `clock` gives now, aware UTC; it stamps attempts, signatures and retry times. A failed
    attempt is retried after base_backoff × 2^(attempts-1) seconds, at most max_backoff; after
    max_attempts failures the delivery is marked failed. No receiver's failure (DNS, refused
    connection, timeout, any status) ever escapes: it is recorded on the delivery.
    """

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
        self.db = db
        self.clock = clock
        self.max_attempts = max_attempts
        self.base_backoff = base_backoff
        self.max_backoff = max_backoff
        self.timeout = timeout
        self.batch_size = batch_size
        self.interval = interval
        # httpx's timeout bounds each phase (connect, write, read), not the whole request;
        # the lease covers a batch of slow receivers with room to spare.
        self.lease = dt.timedelta(seconds=60 + batch_size * 4 * timeout)
        self._client = http_client
        self._own_client = http_client is None
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing = False

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

    # --- one pass -------------------------------------------------------------------------------

    def deliver_due(self, now: dt.datetime | None = None) -> int:
        """Claim the deliveries due at now (default: the clock) and send each once; returns how
        many were attempted. At most batch_size per call."""
        fixed = now
        now = now or self.clock()
        lease_until = now + self.lease
        with self.db.session() as s:
            claimed = claim_due(s, now=now, lease_until=lease_until, limit=self.batch_size)
        if not claimed:
            return 0
        with self.db.session() as s:
            hooks = targets(s, {c.webhook_id for c in claimed})
        done = 0
        for i, c in enumerate(claimed):
            hook = hooks.get(c.webhook_id)
            if self._stopping.is_set() or hook is None or not hook.active:
                # Stopping, or switched off since the claim: hand it back, due now.
                rest = claimed[i:] if self._stopping.is_set() else [c]
                with self.db.session() as s:
                    release(s, [r.id for r in rest], lease_until=lease_until, at=now)
                if self._stopping.is_set():
                    break
                continue
            self._attempt(c, hook, lease_until=lease_until, fixed=fixed)
            done += 1
        return done

    def _attempt(
        self, c: Claimed, hook: Target, *, lease_until: dt.datetime, fixed: dt.datetime | None
    ) -> None:
        at = fixed or self.clock()
        body = document(c)
        ts = int(at.timestamp())
        headers = {
            "Content-Type": "application/json",
            "X-Plantroom-Event": c.event,
            "X-Plantroom-Delivery": str(c.id),
            "X-Plantroom-Timestamp": str(ts),
            "X-Plantroom-Signature": webhooks.sign(hook.secret, ts, body),
        }
        status: int | None = None
        error = ""
        try:
            # Streamed and not read: a receiver's answer is its status, whatever it sends.
            with self.client.stream("POST", hook.url, content=body, headers=headers) as r:
                status = r.status_code
                if not r.is_success:
                    error = f"HTTP {r.status_code} {r.reason_phrase}".strip()
        except Exception as exc:  # any receiver failure is the delivery's, never the loop's
            error = f"{type(exc).__name__}: {exc}".rstrip(": ") or type(exc).__name__
        at = fixed or self.clock()
        try:
            with self.db.session() as s:
                if not error and status is not None:
                    mark_delivered(s, c, at=at, status=status)
                else:
                    self._failed(s, c, hook, lease_until, status, error, at)
            if not error:
                log.info("webhook %s delivered #%d to %s", c.event, c.id, safe_url(hook.url))
        except Exception:
            log.exception("webhook delivery #%d: could not record the outcome", c.id)

    def _failed(
        self,
        s: Session,
        c: Claimed,
        hook: Target,
        lease_until: dt.datetime,
        status: int | None,
        error: str,
        at: dt.datetime,
    ) -> None:
        attempts = c.attempts + 1
        retry_at: dt.datetime | None = None
        if attempts < self.max_attempts:
            retry_at = at + webhooks.backoff(attempts, self.base_backoff, self.max_backoff)
        mark_failed(
            s, c, lease_until=lease_until, status=status, error=error, retry_at=retry_at, at=at
        )
        if retry_at is None:
            log.error(
                "webhook %s #%d to %s failed for good after %d attempts: %s",
                c.event,
                c.id,
                safe_url(hook.url),
                attempts,
                error,
            )
        else:
            log.warning(
                "webhook %s #%d to %s failed (attempt %d of %d): %s; next at %s",
                c.event,
                c.id,
                safe_url(hook.url),
                attempts,
                self.max_attempts,
                error,
                retry_at.isoformat(),
            )

    # --- running --------------------------------------------------------------------------------

    def wake(self) -> None:
        """Have the running thread look for due deliveries now. Thread-safe."""
        self._wake.set()

    def start(self) -> None:
        """Run deliver_due in a background thread until stop()."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="webhook-dispatcher")
        webhooks.add_waker(self.wake)
        self._thread.start()
        log.info("webhook dispatcher running")

    def _run(self) -> None:
        while not self._stopping.is_set():
            n = 0
            try:
                n = self.deliver_due()
                if self._failing:
                    log.info("webhook dispatcher: the database answers again")
                self._failing = False
            except Exception:
                # The database is away (a receiver's failure never gets here): say so once.
                if not self._failing:
                    log.exception("webhook dispatcher: cannot claim deliveries; will keep trying")
                else:
                    log.debug("webhook dispatcher: still cannot claim deliveries", exc_info=True)
                self._failing = True
            if n >= self.batch_size:
                continue  # a full batch: more may be due
            self._wake.wait(self.interval)
            self._wake.clear()

    def stop(self) -> None:
        """Stop the thread, letting a request in flight finish; claimed but unsent deliveries
        are handed back. Closes the HTTP client unless it was given."""
        webhooks.remove_waker(self.wake)
        self._stopping.set()
        self._wake.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=4 * self.timeout + 5)
            if thread.is_alive():
                log.warning("webhook dispatcher: a request is hanging; closing its connection")
                self.close()
                thread.join()
        self._stopping.clear()  # deliver_due may be called directly again
        self.close()

    def close(self) -> None:
        """Close the HTTP client this dispatcher made (deliver_due makes a new one if called)."""
        if self._own_client and self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> WebhookDispatcher:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
