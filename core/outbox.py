"""One outbox for everything that leaves the building: alert notifications, SLA and site notices,
work-order webhooks.

Writing
    `enqueue` adds a message in the caller's session, so it commits or rolls back with the change
    that caused it: a rolled-back change sends nothing, a committed one is sent at least once.
    Nothing is sent from inside a transaction.

Sending
    Each kind of message has a `Channel`, registered by the composition root (plantroom/): its
    `send` function delivers one message to its target, or its `fan_out` function turns one
    message into messages for several targets (written in the same transaction that marks the
    original done). One `Dispatcher` serves every channel it is given:

    - it claims due messages with a lease (core.outbox_repository.claim_due), so any number of
      dispatchers, threads or processes, may run against one database and none sends a message
      while another holds it;
    - it sends with no transaction open, then records the outcome in a second short one. Should
      the process die in between, the lease runs out and the message is sent again: delivery is
      at least once, and receivers dedupe on the message id where they can see it;
    - a failed attempt is retried after base_backoff × 2^(attempts-1) seconds, at most
      max_backoff. A channel with max_attempts gives up after that many (the message stays,
      failed, for the record and a redelivery); one without keeps trying, so a target that was
      down gets everything when it returns. A `Refused` error (the target said no for good) ends
      a message at once, as failed; a `Hold` hands it back without counting an attempt;
    - an ordered channel sends each target's messages one at a time, oldest first: a message
      waiting for its retry holds back the later ones to the same target.

    State is in the database only: a restart forgets nothing. Rows of kinds a dispatcher has no
    channel for wait for one that has.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from core import outbox_repository as repository
from core.db import Database, utcnow
from core.outbox_models import Message

__all__ = [
    "Channel",
    "DeliveryFailed",
    "Dispatcher",
    "Envelope",
    "Hold",
    "Message",
    "Refused",
    "add_waker",
    "backoff",
    "enqueue",
    "remove_waker",
    "wake_after_commit",
]

log = logging.getLogger(__name__)


# --- what senders raise -------------------------------------------------------------------------


class DeliveryFailed(Exception):
    """The target did not take the message; it may later. `status` is its answer, if any."""

    def __init__(self, reason: str, *, status: int | None = None):
        super().__init__(reason)
        self.status = status


class Refused(DeliveryFailed):
    """The target refused the message in a way retrying will not change (a 4xx, an SMTP 5xx,
    bad credentials): the message ends failed."""


class Hold(Exception):
    """Not now, and not the target's fault (a webhook switched off, a target this process's
    configuration does not name): the message is handed back, due again after `retry_in`
    seconds, without counting an attempt."""

    def __init__(self, reason: str, *, retry_in: float = 60.0):
        super().__init__(reason)
        self.retry_in = retry_in


# --- channels -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Envelope:
    """A message to add: what a fan-out turns one message into."""

    kind: str
    target: str
    payload: dict[str, Any]
    topic: str = ""
    dedup_key: str | None = None


#: Delivers one message at `now`; returns the target's status code, if it gave one.
Send = Callable[[Message, dt.datetime], int | None]
#: The messages one message becomes (one per target, say); may be none.
FanOut = Callable[[Message], Sequence[Envelope]]


@dataclass(frozen=True)
class Channel:
    """How one kind of message is sent: by `send`, or by `fan_out` into other messages."""

    kind: str
    send: Send | None = None
    fan_out: FanOut | None = None
    #: Give up after this many failed attempts (None: keep trying until delivered).
    max_attempts: int | None = None
    base_backoff: float = 5.0
    max_backoff: float = 300.0
    #: Each target gets its messages one at a time, oldest first.
    ordered: bool = False
    #: A target as log lines name it (no credentials); default "<kind> <target>".
    describe: Callable[[str], str] | None = None
    #: Called when the dispatcher stops (closes connections the sender keeps).
    close: Callable[[], None] | None = None

    def __post_init__(self) -> None:
        if (self.send is None) == (self.fan_out is None):
            raise ValueError(f"channel {self.kind!r} needs exactly one of send and fan_out")

    def name(self, target: str) -> str:
        """The target as log lines show it."""
        return self.describe(target) if self.describe is not None else f"{self.kind} {target}"


def backoff(attempts: int, base: float, cap: float) -> dt.timedelta:
    """The wait after the attempts-th failed attempt: base × 2^(attempts-1), at most cap."""
    return dt.timedelta(seconds=min(cap, base * 2 ** max(0, min(attempts - 1, 60))))


# --- writing ------------------------------------------------------------------------------------


def enqueue(
    session: Session,
    *,
    kind: str,
    target: str,
    payload: dict[str, Any],
    topic: str = "",
    dedup_key: str | None = None,
    at: dt.datetime | None = None,
) -> int | None:
    """Add a message in the caller's transaction, due at once (or at `at`); returns its id, or
    None when a message of this kind with this dedup_key exists already."""
    message_id = repository.add(
        session,
        kind=kind,
        target=target,
        payload=payload,
        topic=topic,
        dedup_key=dedup_key,
        at=at or utcnow(),
    )
    if message_id is not None:
        wake_after_commit(session)
    return message_id


#: Called after a commit that added messages: running dispatchers register here to wake up.
_wakers: list[Callable[[], None]] = []


def add_waker(fn: Callable[[], None]) -> None:
    """Have fn() called after any commit that added a message (in this process)."""
    _wakers.append(fn)


def remove_waker(fn: Callable[[], None]) -> None:
    """Undo add_waker."""
    if fn in _wakers:
        _wakers.remove(fn)


def _wake_all(_session: Session) -> None:
    for fn in list(_wakers):
        fn()


def wake_after_commit(session: Session) -> None:
    """Wake the running dispatchers once this session commits."""
    # One listener per session: a spurious wake-up after a later commit costs one empty claim.
    if not session.info.get("outbox_wake"):
        session.info["outbox_wake"] = True
        sa_event.listen(session, "after_commit", _wake_all)


# --- sending ------------------------------------------------------------------------------------


def _reason(exc: BaseException) -> str:
    if isinstance(exc, DeliveryFailed):
        return str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {exc}".rstrip(": ") or type(exc).__name__


class Dispatcher:
    """Sends the outbox's messages of the given channels: `deliver_due` once, or `start()` a
    thread that does it about every `interval` seconds (at once when a commit adds a message)
    until `stop()`.

    `clock` gives now, aware UTC; it stamps attempts and retry times. No target's failure (DNS,
    a refused connection, a timeout, any answer) escapes: it is recorded on the message. The
    lease covers a batch of slow targets: 60 s plus four `send_timeout`s per message.
    """

    def __init__(
        self,
        db: Database,
        channels: Iterable[Channel],
        *,
        clock: Callable[[], dt.datetime] = utcnow,
        batch_size: int = 20,
        interval: float = 1.0,
        send_timeout: float = 10.0,
        name: str = "outbox-dispatcher",
    ):
        self.db = db
        self.channels = {c.kind: c for c in channels}
        self.clock = clock
        self.batch_size = batch_size
        self.interval = interval
        self.send_timeout = send_timeout
        self.name = name
        self.lease = dt.timedelta(seconds=60 + batch_size * 4 * send_timeout)
        self._ordered = [k for k, c in self.channels.items() if c.ordered]
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing = False

    # --- one pass -------------------------------------------------------------------------------

    def deliver_due(self, now: dt.datetime | None = None) -> int:
        """Claim the messages due at now (default: the clock) and try each once; returns how many
        were tried (sent or fanned out, whatever the outcome). At most batch_size per call."""
        if not self.channels:
            return 0
        fixed = now
        now = now or self.clock()
        token = uuid.uuid4().hex
        with self.db.session() as s:
            claimed = repository.claim_due(
                s,
                kinds=list(self.channels),
                ordered=self._ordered,
                now=now,
                lease_until=now + self.lease,
                token=token,
                limit=self.batch_size,
            )
        done = 0
        for i, m in enumerate(claimed):
            if self._stopping.is_set():
                with self.db.session() as s:  # hand the rest back, due as they were
                    repository.release(s, [r.id for r in claimed[i:]], token=token)
                break
            if self._attempt(self.channels[m.kind], m, token, fixed):
                done += 1
        return done

    def deliver_all(self, now: dt.datetime | None = None, *, passes: int = 1000) -> int:
        """Pass after pass until nothing more is due at now (fan-outs make new messages, an
        ordered target takes one at a time); returns how many were tried."""
        total = 0
        for _ in range(passes):
            n = self.deliver_due(now)
            if n == 0:
                break
            total += n
        return total

    def _attempt(self, ch: Channel, m: Message, token: str, fixed: dt.datetime | None) -> bool:
        """Send or fan out one claimed message and record how it went; False if held."""
        at = fixed or self.clock()
        if ch.fan_out is not None:
            return self._fan_out(ch, ch.fan_out, m, token, at)
        assert ch.send is not None
        status: int | None = None
        error: BaseException | None = None
        try:
            status = ch.send(m, at)
        except Hold as held:
            log.debug("%s #%d to %s held: %s", m.kind, m.id, ch.name(m.target), held)
            until = at + dt.timedelta(seconds=held.retry_in)
            self._record(m, repository.hold, token=token, until=until)
            return False
        except Exception as exc:  # any target failure is the message's, never the loop's
            error = exc
        at = fixed or self.clock()
        if error is None:
            self._record(m, repository.mark_delivered, at=at, status=status)
            log.info("%s %s #%d delivered to %s", m.kind, m.topic, m.id, ch.name(m.target))
            return True
        self._failed(ch, m, token, at, error)
        return True

    def _fan_out(
        self,
        ch: Channel,
        fan_out: FanOut,
        m: Message,
        token: str,
        at: dt.datetime,
    ) -> bool:
        try:
            out = list(fan_out(m))
        except Exception as exc:
            self._failed(ch, m, token, at, exc)
            return True
        try:
            with self.db.session() as s:
                # The mark first: it takes the row's lock, so a second dispatcher holding a
                # stale lease finds it done and rolls its copies back.
                if not repository.mark_delivered(s, m.id, at=at, status=None):
                    raise _AlreadyDone
                for e in out:
                    enqueue(
                        s,
                        kind=e.kind,
                        target=e.target,
                        payload=e.payload,
                        topic=e.topic,
                        dedup_key=e.dedup_key,
                        at=at,
                    )
        except _AlreadyDone:
            pass
        except Exception:
            log.exception("%s #%d: could not record its fan-out", m.kind, m.id)
        return True

    def _failed(
        self, ch: Channel, m: Message, token: str, at: dt.datetime, exc: BaseException
    ) -> None:
        attempts = m.attempts + 1
        reason = _reason(exc)
        status = exc.status if isinstance(exc, DeliveryFailed) else None
        retry_at: dt.datetime | None = None
        refused = isinstance(exc, Refused)
        if not refused and (ch.max_attempts is None or attempts < ch.max_attempts):
            retry_at = at + backoff(attempts, ch.base_backoff, ch.max_backoff)
        self._record(
            m,
            repository.mark_failed,
            token=token,
            at=at,
            status=status,
            error=reason,
            retry_at=retry_at,
        )
        where = ch.name(m.target)
        if refused:
            log.error("%s %s #%d to %s refused, skipped: %s", m.kind, m.topic, m.id, where, reason)
        elif retry_at is None:
            log.error(
                "%s %s #%d to %s failed for good after %d attempts: %s",
                m.kind,
                m.topic,
                m.id,
                where,
                attempts,
                reason,
            )
        else:
            log.warning(
                "%s %s #%d to %s failed (attempt %d%s): %s; next at %s",
                m.kind,
                m.topic,
                m.id,
                where,
                attempts,
                "" if ch.max_attempts is None else f" of {ch.max_attempts}",
                reason,
                retry_at.isoformat(),
            )

    def _record(self, m: Message, write: Callable[..., object], **values: Any) -> None:
        """Write an outcome in its own transaction: write(session, m.id, **values)."""
        try:
            with self.db.session() as s:
                write(s, m.id, **values)
        except Exception:
            # The lease runs out and the message is tried again: at least once.
            log.exception("%s #%d: could not record the outcome", m.kind, m.id)

    # --- running --------------------------------------------------------------------------------

    def wake(self) -> None:
        """Have the running thread look for due messages now. Thread-safe."""
        self._wake.set()

    def start(self) -> None:
        """Run deliver_due in a background thread until stop()."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name=self.name)
        add_waker(self.wake)
        self._thread.start()
        log.info("%s running: %s", self.name, ", ".join(sorted(self.channels)) or "no channels")

    def _run(self) -> None:
        while not self._stopping.is_set():
            n = 0
            try:
                n = self.deliver_due()
                if self._failing:
                    log.info("%s: the database answers again", self.name)
                self._failing = False
            except Exception:
                # The database is away (a target's failure never gets here): say so once.
                if not self._failing:
                    log.exception("%s: cannot claim messages; will keep trying", self.name)
                else:
                    log.debug("%s: still cannot claim messages", self.name, exc_info=True)
                self._failing = True
            if n > 0:
                continue  # more may be due: a full batch, a fan-out, a target's next message
            self._wake.wait(self.interval)
            self._wake.clear()

    def stop(self) -> None:
        """Stop the thread, letting a send in flight finish; claimed but unsent messages are
        handed back. Closes the channels' connections."""
        remove_waker(self.wake)
        self._stopping.set()
        self._wake.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=4 * self.send_timeout + 5)
            if thread.is_alive():
                log.warning("%s: a send is hanging; closing its connection", self.name)
                self.close()
                thread.join()
        self._stopping.clear()  # deliver_due may be called directly again
        self.close()

    def close(self) -> None:
        """Close what the channels keep open (they open it again when used)."""
        for ch in self.channels.values():
            if ch.close is not None:
                try:
                    ch.close()
                except Exception:
                    log.exception("%s: closing channel %s failed", self.name, ch.kind)

    def __enter__(self) -> Dispatcher:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _AlreadyDone(Exception):
    """A fan-out another dispatcher recorded first."""
