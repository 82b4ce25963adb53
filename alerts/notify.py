"""Alert notifications by webhook (JSON) and email (SMTP), grouped the way Alertmanager groups.

Each target (a webhook or an email address list) keeps one group per building:

- the first event of a group waits ``group_wait`` so that events arriving together go out in
  one notification;
- after a group's first notification, a change (a new alert, a state change, a resolution)
  waits until ``group_interval`` has passed since the last one, and at least ``group_wait``;
- a group with alerts still firing is sent again every ``repeat_interval``;
- a resolution is told only to the targets that were told the alert fired; a group whose
  alerts have all resolved sends that once and is then forgotten.

``submit`` only records events; ``due(now)`` decides, on an injectable clock, what is to be sent
(pure logic, what backtests and tests drive); ``deliver`` sends one notification with retries;
``run`` ties them together for a live process.

Webhook document (version 1)::

    {"version": 1, "group": "<building id>", "status": "firing" | "resolved",
     "alerts": [AlertEvent.as_dict(), ...], "sent_at": "<ISO 8601, UTC>"}

``status`` is ``firing`` while any alert of the group is a problem (firing, nodata or error);
``alerts`` lists the problems, worst first, then the alerts resolved since the last notification.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import smtplib
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Literal
from zoneinfo import ZoneInfo

import httpx

from alerts.config import EmailTarget, Notifications, WebhookTarget
from alerts.events import AlertEvent
from alerts.rules.base import Severity

log = logging.getLogger(__name__)

Target = WebhookTarget | EmailTarget
Status = Literal["firing", "resolved"]

#: States that are a problem someone should hear about.
PROBLEM_STATES = frozenset({"firing", "nodata", "error"})
#: The state that ends a problem. (An alert told as a problem that goes back to inactive or
#: pending, e.g. after nodata, has ended too, and is told like a resolution.)
RESOLVED = "resolved"
#: Webhook document version; bump it when the shape changes.
WEBHOOK_VERSION = 1
#: Delays before the second, third and fourth try of a failed delivery.
DEFAULT_RETRY_DELAYS: tuple[float, ...] = (1.0, 5.0, 30.0)
#: The longest run() sleeps before looking at the clock again.
MAX_IDLE = 60.0

_RANK = {Severity.critical: 0, Severity.major: 1, Severity.minor: 2, Severity.info: 3}
_AlertKey = tuple[str, str]  # (rule_id, asset_id)
_TargetKey = int  # position among the webhooks, then the email targets, as configured


def severity_rank(severity: str) -> int:
    try:
        return _RANK[Severity(severity)]
    except ValueError:
        return 0  # an unknown severity is told to everyone rather than to no one


def _key(e: AlertEvent) -> _AlertKey:
    return (e.rule_id, e.asset_id)


def describe(target: Target) -> str:
    """A target as log lines name it: the webhook URL without query or credentials, or the
    email recipients."""
    if isinstance(target, WebhookTarget):
        url = httpx.URL(target.url)
        return f"webhook {url.copy_with(query=None, fragment=None, username=None, password=None)}"
    return f"email {', '.join(target.to)}"


@dataclass(frozen=True)
class Notification:
    """One message about one group (a building), for one or more targets that get the same
    alerts."""

    group: str
    status: Status
    events: tuple[AlertEvent, ...]
    targets: tuple[Target, ...]
    #: When it became due, on the notifier's clock.
    at: float

    @property
    def problems(self) -> list[AlertEvent]:
        """The alerts still firing (or without data, or failing to evaluate)."""
        return [e for e in self.events if e.state in PROBLEM_STATES]

    @property
    def resolved(self) -> list[AlertEvent]:
        """The alerts resolved since the group's last notification."""
        return [e for e in self.events if e.state not in PROBLEM_STATES]


@dataclass
class _Group:
    """One target's view of one building."""

    target: _TargetKey
    building: str
    #: Latest notifiable event of each alert: a problem, or a resolution not yet told.
    alerts: dict[_AlertKey, AlertEvent] = field(default_factory=dict)
    #: What the last notification said was a problem: alert -> state.
    told: dict[_AlertKey, str] = field(default_factory=dict)
    last_sent: float | None = None
    #: When the first change not yet told arrived (None: nothing new since the last send).
    changed_at: float | None = None

    def problems(self) -> dict[_AlertKey, str]:
        return {k: e.state for k, e in self.alerts.items() if e.state in PROBLEM_STATES}

    def news(self) -> bool:
        """Whether the group differs from what the target was last told."""
        if self.problems() != self.told:
            return True
        return any(e.state not in PROBLEM_STATES and k in self.told for k, e in self.alerts.items())

    def next_due(self, cfg: Notifications) -> float | None:
        if self.last_sent is None:
            return None if self.changed_at is None else self.changed_at + cfg.group_wait
        due: float | None = None
        if self.changed_at is not None:
            due = max(self.last_sent + cfg.group_interval, self.changed_at + cfg.group_wait)
        if self.told:
            repeat = self.last_sent + cfg.repeat_interval
            due = repeat if due is None else min(due, repeat)
        return due


class PermanentFailure(Exception):
    """A target refused a delivery in a way that retrying will not change (a 4xx, an SMTP 5xx,
    bad credentials)."""


class Notifier:
    """Groups alert events per target and building, and sends them by webhook and email.

    ``clock`` gives the time in UNIX seconds (the engine's clock: readings' timestamps in a
    backtest). ``retry_delays`` are the waits before each new try of a failed delivery.
    ``building_names`` and ``timezone`` make email subjects and bodies readable.
    """

    def __init__(
        self,
        config: Notifications,
        *,
        clock: Callable[[], float] = time.time,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        building_names: Mapping[str, str] | None = None,
        timezone: str = "UTC",
    ):
        self.config = config
        self.clock = clock
        self.retry_delays = tuple(retry_delays)
        self.building_names = dict(building_names or {})
        self.tz = ZoneInfo(timezone)
        self.targets: dict[_TargetKey, Target] = dict(enumerate([*config.webhooks, *config.email]))
        self._groups: dict[tuple[_TargetKey, str], _Group] = {}
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._stopping = False
        self._sending: set[asyncio.Task[bool]] = set()

    # --- recording --------------------------------------------------------------------------

    def submit(self, events: Iterable[AlertEvent]) -> None:
        """Record alert events for notification. Thread-safe; never blocks on I/O, never raises.

        Only firing, nodata, error and resolved events are told; silenced or inhibited events
        notify nobody (and an alert that becomes silenced stops being repeated).
        """
        try:
            now = self.clock()
            changed = False
            with self._lock:
                for e in events:
                    changed |= self._record(e, now)
            if changed:
                self._poke()
        except Exception:
            log.exception("notifier: could not record alert events")

    def _record(self, e: AlertEvent, now: float) -> bool:
        key = _key(e)
        muted = e.silenced or e.inhibited
        if e.state in PROBLEM_STATES and not muted:
            changed = False
            for tkey, target in self.targets.items():
                if severity_rank(e.severity) > severity_rank(target.min_severity):
                    continue
                g = self._groups.setdefault((tkey, e.building_id), _Group(tkey, e.building_id))
                g.alerts[key] = e
                changed |= self._touch(g, now)
            return changed
        # The end of a problem (or a silence): only groups holding the alert as a problem hear
        # of it, so a resolution goes where its firing went. Pending or inactive events of an
        # alert no one was told about notify nobody.
        changed = False
        for g in [g for g in self._groups.values() if g.building == e.building_id]:
            held = g.alerts.get(key)
            if held is None or held.state not in PROBLEM_STATES:
                continue
            if muted or key not in g.told:
                # Forget it without a word: a silenced alert must cause no message, and a
                # target that never heard an alert fire need not hear it end.
                del g.alerts[key]
                g.told.pop(key, None)
            else:
                g.alerts[key] = e
            changed |= self._touch(g, now)
            if not g.alerts:
                del self._groups[(g.target, g.building)]
        if muted:
            log.debug("notifier: %s on %s is silenced or inhibited", e.rule_id, e.asset_id)
        return changed

    @staticmethod
    def _touch(g: _Group, now: float) -> bool:
        if g.news():
            if g.changed_at is None:
                g.changed_at = now
            return True
        g.changed_at = None  # e.g. firing -> nodata -> firing before anything was sent
        return False

    # --- deciding ---------------------------------------------------------------------------

    def next_due(self) -> float | None:
        """When the next notification falls due (None: nothing is waiting)."""
        with self._lock:
            times = [t for g in self._groups.values() if (t := g.next_due(self.config)) is not None]
        return min(times, default=None)

    def due(self, now: float) -> list[Notification]:
        """The notifications whose time has come, marked as sent. Deterministic: groups and
        alerts come out in a stable order, and targets that get identical content share one
        notification."""
        out: list[Notification] = []
        with self._lock:
            for gkey in sorted(self._groups, key=lambda k: (k[1], k[0])):
                g = self._groups[gkey]
                t = g.next_due(self.config)
                if t is None or t > now:
                    continue
                n = self._flush(g, now)
                if n is not None:
                    out.append(n)
        merged: list[Notification] = []
        for n in out:
            for i, m in enumerate(merged):
                if (m.group, m.status, m.events) == (n.group, n.status, n.events):
                    merged[i] = Notification(
                        m.group, m.status, m.events, m.targets + n.targets, now
                    )
                    break
            else:
                merged.append(n)
        for n in merged:
            log.info(
                "notification due: %s %s, %d firing, %d resolved, to %s",
                n.group,
                n.status,
                len(n.problems),
                len(n.resolved),
                "; ".join(describe(t) for t in n.targets),
            )
        return merged

    def _flush(self, g: _Group, now: float) -> Notification | None:
        problems = sorted(
            (e for e in g.alerts.values() if e.state in PROBLEM_STATES),
            key=lambda e: (severity_rank(e.severity), e.ts, e.asset_name, e.rule_id),
        )
        resolved = sorted(
            (e for k, e in g.alerts.items() if e.state not in PROBLEM_STATES and k in g.told),
            key=lambda e: (e.ts, e.asset_name, e.rule_id),
        )
        # Resolutions are told once; ones the target never heard fire are not told at all.
        for k in [k for k, e in g.alerts.items() if e.state not in PROBLEM_STATES]:
            del g.alerts[k]
        g.told = {_key(e): e.state for e in problems}
        g.last_sent = now
        g.changed_at = None
        if not g.alerts:
            del self._groups[(g.target, g.building)]
        if not problems and not resolved:
            return None
        status: Status = "firing" if problems else "resolved"
        return Notification(
            g.building, status, (*problems, *resolved), (self.targets[g.target],), now
        )

    # --- sending ----------------------------------------------------------------------------

    async def deliver(self, n: Notification) -> bool:
        """Send a notification to each of its targets, retrying failures with backoff.

        Never raises (except cancellation): a target that still fails after the last try is
        logged at ERROR and skipped. Returns whether every target got it.
        """
        results = await asyncio.gather(
            *(self._deliver_one(n, t) for t in n.targets), return_exceptions=True
        )
        for target, r in zip(n.targets, results, strict=True):
            if isinstance(r, asyncio.CancelledError):
                raise r
            if isinstance(r, BaseException):
                log.error(
                    "dropped %s notification for group %s to %s: %r",
                    n.status,
                    n.group,
                    describe(target),
                    r,
                )
        return all(r is True for r in results)

    async def _deliver_one(self, n: Notification, target: Target) -> bool:
        tries = len(self.retry_delays) + 1
        for attempt in range(1, tries + 1):
            try:
                if isinstance(target, WebhookTarget):
                    await self._post(n, target)
                else:
                    await asyncio.to_thread(self._send_mail, n, target)
            except Exception as exc:
                reason = f"{type(exc).__name__}: {exc}"
                if isinstance(exc, PermanentFailure) or attempt == tries:
                    log.error(
                        "dropped %s notification for group %s to %s after %d %s: %s",
                        n.status,
                        n.group,
                        describe(target),
                        attempt,
                        "try" if attempt == 1 else "tries",
                        reason,
                    )
                    return False
                delay = self.retry_delays[attempt - 1]
                log.warning(
                    "%s notification for group %s to %s failed (try %d of %d): %s; "
                    "trying again in %gs",
                    n.status,
                    n.group,
                    describe(target),
                    attempt,
                    tries,
                    reason,
                    delay,
                )
                await asyncio.sleep(delay)
            else:
                log.info(
                    "sent %s notification for group %s (%d alerts) to %s",
                    n.status,
                    n.group,
                    len(n.events),
                    describe(target),
                )
                return True
        return False  # not reached: the loop returns on its last try

    def webhook_payload(self, n: Notification) -> dict[str, object]:
        """The JSON document a webhook receives (see the module docstring)."""
        return {
            "version": WEBHOOK_VERSION,
            "group": n.group,
            "status": n.status,
            "alerts": [e.as_dict() for e in n.events],
            "sent_at": dt.datetime.fromtimestamp(self.clock(), dt.UTC).isoformat(),
        }

    async def _post(self, n: Notification, target: WebhookTarget) -> None:
        await post_json(target, self.webhook_payload(n))

    def email_message(self, n: Notification, target: EmailTarget) -> EmailMessage:
        """The plain-text email for a notification."""
        return new_mail(target, self.subject(n), self.body(n), self.clock())

    def subject(self, n: Notification) -> str:
        """E.g. ``[FIRING:3] Building A: Pump motor over-current on Pump 1, ...``."""
        counts = []
        if n.problems:
            counts.append(f"FIRING:{len(n.problems)}")
        if n.resolved:
            counts.append(f"RESOLVED:{len(n.resolved)}")
        head = f"[{', '.join(counts)}] {self._building(n.group)}: "
        items = [f"{e.rule_name} on {e.asset_name}" for e in (n.problems or n.resolved)]
        text = head + items[0]
        for item in items[1:]:
            if len(text) + len(item) > 110:
                return text + ", ..."
            text += ", " + item
        return text

    def body(self, n: Notification) -> str:
        """One paragraph per alert: asset, rule, value, since when, work order."""
        name = self._building(n.group)
        lines = [f"{name} ({n.group}): {len(n.problems)} firing, {len(n.resolved)} resolved."]
        for title, events in (("FIRING", n.problems), ("RESOLVED", n.resolved)):
            if not events:
                continue
            lines += ["", title]
            for e in events:
                state = "" if e.state in ("firing", RESOLVED) else f" [{e.state}]"
                lines.append(f"- {e.asset_name}: {e.rule_name} ({e.severity}){state}")
                lines.append(f"  asset: {e.asset_id}   rule: {e.rule_id}")
                value = "-" if e.value is None else f"{e.value:g} {e.unit}".strip()
                point = f"{e.point} = " if e.point else ""
                since = "since" if e.state in PROBLEM_STATES else "resolved at"
                lines.append(f"  {point}{value}   {since} {self._time(e.ts)}")
                if e.workorder_id is not None:
                    lines.append(f"  work order: #{e.workorder_id}")
        return "\n".join(lines) + "\n"

    def _send_mail(self, n: Notification, target: EmailTarget) -> None:
        send_mail(target, self.email_message(n, target))

    def _building(self, building_id: str) -> str:
        return self.building_names.get(building_id, building_id)

    def _time(self, ts: float) -> str:
        return dt.datetime.fromtimestamp(ts, self.tz).strftime("%Y-%m-%d %H:%M:%S %Z")

    # --- running ----------------------------------------------------------------------------

    async def run(self) -> None:
        """Send notifications as they fall due until stop() (or cancellation).

        Sleeps until the next due time or until submit() brings something new. Deliveries run
        as their own tasks, so a target being retried holds up no other. On stop, deliveries in
        flight get a few seconds to finish; on cancellation they are cancelled.
        """
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        log.info("notifier running: %d targets", len(self.targets))
        try:
            while not self._stopping:
                for n in self.due(self.clock()):
                    task = asyncio.create_task(self.deliver(n), name=f"notify:{n.group}")
                    self._sending.add(task)
                    task.add_done_callback(self._sending.discard)
                nxt = self.next_due()
                wait = MAX_IDLE if nxt is None else min(MAX_IDLE, max(0.0, nxt - self.clock()))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=wait)
                self._wake.clear()
            if self._sending:
                await asyncio.wait(set(self._sending), timeout=5.0)
        finally:
            if self._sending:
                log.warning("notifier: cancelling %d deliveries in flight", len(self._sending))
            for task in list(self._sending):
                task.cancel()
            await asyncio.gather(*self._sending, return_exceptions=True)
            self._loop = None
            self._wake = None
            self._stopping = False
            log.info("notifier stopped")

    def stop(self) -> None:
        """Make run() return. Thread-safe."""
        self._stopping = True
        self._poke()

    def _poke(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is None or wake is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(wake.set)


# --- sending, for every kind of notification -----------------------------------------------------


async def post_json(target: WebhookTarget, document: Mapping[str, object]) -> None:
    """POST document to a webhook target; PermanentFailure when it refuses for good (a 4xx other
    than 408, 425 and 429), another exception when it may recover."""
    async with httpx.AsyncClient(timeout=target.timeout) as client:
        r = await client.post(target.url, json=document, headers=target.headers)
    if r.is_success:
        return
    msg = f"HTTP {r.status_code} {r.reason_phrase}"
    # A rejected request stays rejected; a busy or failing receiver may recover.
    if 400 <= r.status_code < 500 and r.status_code not in (408, 425, 429):
        raise PermanentFailure(msg)
    raise RuntimeError(msg)


def new_mail(target: EmailTarget, subject: str, body: str, when: float) -> EmailMessage:
    """A plain-text email to the target's recipients, dated when (a POSIX time)."""
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = target.sender
    msg["To"] = ", ".join(target.to)
    msg["Date"] = formatdate(when, localtime=False, usegmt=True)
    msg["Message-ID"] = make_msgid(domain=target.sender.rpartition("@")[2] or None)
    msg.set_content(body)
    return msg


def send_mail(target: EmailTarget, msg: EmailMessage) -> None:
    """Send msg through the target's SMTP server (blocking); PermanentFailure when the server
    refuses for good (a 5xx, bad credentials, no STARTTLS), another exception otherwise."""
    with smtplib.SMTP(target.host, target.port, timeout=target.timeout) as smtp:
        try:
            if target.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if target.username:
                smtp.login(target.username, target.password or "")
            smtp.send_message(msg)
        except (smtplib.SMTPNotSupportedError, smtplib.SMTPAuthenticationError) as exc:
            raise PermanentFailure(str(exc)) from exc
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code >= 500:  # 5xx: the server will say no again
                raise PermanentFailure(f"{exc.smtp_code} {exc.smtp_error!r}") from exc
            raise
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentFailure(f"recipients refused: {exc.recipients}") from exc
