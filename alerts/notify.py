"""Alert notifications by webhook (JSON) and email (SMTP), grouped the way Alertmanager groups.

Each target (a webhook or an email address list) keeps one group per building:

- the first event of a group waits ``group_wait`` so that events arriving together go out in
  one notification;
- after a group's first notification, a change (a new alert, a state change, a resolution)
  waits until ``group_interval`` has passed since the last one, and at least ``group_wait``;
- a group with alerts still firing is sent again every ``repeat_interval``;
- a resolution is told only to the targets that were told the alert fired; a group whose
  alerts have all resolved sends that once and is then forgotten.

`Notifier` is the grouping, pure logic on an injectable clock: ``submit`` records events,
``due(now)`` says what is to be sent (what backtests and tests drive). `AlertNotifications` is
the live path, with nothing in memory:

- the alert engine calls ``record`` with its batch's session, so the events join the grouping
  state (one row, alerts.models.NotificationState) in the transaction of the alert change, and
  notifications already due go into the outbox (core.outbox) in that same transaction;
- ``flush`` (the monitoring clock, every second) puts notifications that fell due since into
  the outbox, in the transaction that records them as told;
- the one outbox dispatcher sends them through ``channel()``: each target gets its
  notifications in order, and one that fails is retried with backoff (5 s doubling to 5 min)
  until the target takes it, whatever restarts happen meanwhile. A target that refuses for good
  (a 4xx other than 408, 425 and 429, an SMTP 5xx, bad credentials) has that notification
  failed and logged at ERROR; its later ones still go.

Webhook document (version 1)::

    {"version": 1, "group": "<building id>", "status": "firing" | "resolved",
     "alerts": [AlertEvent.as_dict(), ...], "sent_at": "<ISO 8601, UTC>"}

``status`` is ``firing`` while any alert of the group is a problem (firing, nodata or error);
``alerts`` lists the problems, worst first, then the alerts resolved since the last notification.
"""

from __future__ import annotations

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
from typing import Any, Literal
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy.orm import Session

from alerts import repository
from alerts.config import EmailTarget, Notifications, WebhookTarget
from alerts.events import AlertEvent
from alerts.models import NotificationState
from alerts.rules.base import Severity
from core import outbox
from core.db import Database

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
#: The outbox kind of alert notifications: one message per notification and target.
KIND = "alert.notification"
#: A failed notification is tried again after 5 s, doubling up to 5 min, until it is taken.
RETRY_BASE = 5.0
RETRY_CAP = 300.0
#: Grouping state document version.
STATE_VERSION = 1

_RANK = {Severity.critical: 0, Severity.major: 1, Severity.minor: 2, Severity.info: 3}
_AlertKey = tuple[str, str]  # (rule_id, asset_id)


def severity_rank(severity: str) -> int:
    """0 for critical ... 3 for info; an unknown severity ranks as critical."""
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


def target_keys(targets: Iterable[Target]) -> dict[str, Target]:
    """Each target under a stable key, in the order given: its description (no credentials,
    so it may be stored), numbered from the second on when two describe alike."""
    out: dict[str, Target] = {}
    for target in targets:
        base = describe(target)[:280]
        key, n = base, 1
        while key in out:
            n += 1
            key = f"{base} #{n}"
        out[key] = target
    return out


def may_notify(e: AlertEvent) -> bool:
    """Whether an event can change what anyone is told: a problem, or the end of one (pending
    and inactive events of an alert that was no problem change nothing)."""
    return e.state in PROBLEM_STATES or e.previous in PROBLEM_STATES


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
    #: The targets' keys (target_keys), in the order of `targets`.
    keys: tuple[str, ...] = ()

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

    target: str
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

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "building": self.building,
            "alerts": [e.as_dict() for e in self.alerts.values()],
            "told": [[rule, asset, state] for (rule, asset), state in self.told.items()],
            "last_sent": self.last_sent,
            "changed_at": self.changed_at,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> _Group:
        events = [AlertEvent.from_dict(e) for e in d.get("alerts", [])]
        return cls(
            target=d["target"],
            building=d["building"],
            alerts={_key(e): e for e in events},
            told={(rule, asset): state for rule, asset, state in d.get("told", [])},
            last_sent=d.get("last_sent"),
            changed_at=d.get("changed_at"),
        )


class Notifier:
    """Groups alert events per target and building and says which notifications are due, and
    renders them for webhooks and email.

    ``clock`` gives the time in UNIX seconds (the engine's clock: readings' timestamps in a
    backtest). ``building_names`` and ``timezone`` make email subjects and bodies readable.
    """

    def __init__(
        self,
        config: Notifications,
        *,
        clock: Callable[[], float] = time.time,
        building_names: Mapping[str, str] | None = None,
        timezone: str = "UTC",
    ):
        self.config = config
        self.clock = clock
        self.building_names = dict(building_names or {})
        self.tz = ZoneInfo(timezone)
        self.targets: dict[str, Target] = target_keys([*config.webhooks, *config.email])
        self._order = {key: i for i, key in enumerate(self.targets)}
        self._groups: dict[tuple[str, str], _Group] = {}
        self._lock = threading.Lock()

    # --- recording --------------------------------------------------------------------------

    def submit(self, events: Iterable[AlertEvent]) -> None:
        """Record alert events for notification. Thread-safe; never blocks on I/O, never raises.

        Only firing, nodata, error and resolved events are told; silenced or inhibited events
        notify nobody (and an alert that becomes silenced stops being repeated).
        """
        try:
            self.add(events)
        except Exception:
            log.exception("notifier: could not record alert events")

    def add(self, events: Iterable[AlertEvent]) -> bool:
        """Record alert events at the clock's now (as submit, but raising); True when anything
        changed."""
        now = self.clock()
        changed = False
        with self._lock:
            for e in events:
                changed |= self._record(e, now)
        return changed

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

    # --- the state, for keeping it in the database -------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """Everything the notifier remembers, as JSON-ready data (restore() takes it back)."""
        with self._lock:
            groups = [g.as_dict() for g in self._groups.values()]
        return {"version": STATE_VERSION, "groups": groups}

    def restore(self, data: Mapping[str, Any]) -> None:
        """Take back what snapshot() gave; groups of targets no longer configured are dropped."""
        groups: dict[tuple[str, str], _Group] = {}
        for d in data.get("groups", []):
            g = _Group.from_dict(d)
            if g.target in self.targets:
                groups[(g.target, g.building)] = g
        with self._lock:
            self._groups = groups

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
            for gkey in sorted(self._groups, key=lambda k: (k[1], self._order.get(k[0], 0))):
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
                        m.group, m.status, m.events, m.targets + n.targets, now, m.keys + n.keys
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
            g.building,
            status,
            (*problems, *resolved),
            (self.targets[g.target],),
            now,
            (g.target,),
        )

    # --- rendering --------------------------------------------------------------------------

    def webhook_payload(self, n: Notification, *, sent_at: float | None = None) -> dict[str, Any]:
        """The JSON document a webhook receives (see the module docstring), sent at sent_at
        (default: the clock's now)."""
        when = self.clock() if sent_at is None else sent_at
        return {
            "version": WEBHOOK_VERSION,
            "group": n.group,
            "status": n.status,
            "alerts": [e.as_dict() for e in n.events],
            "sent_at": dt.datetime.fromtimestamp(when, dt.UTC).isoformat(),
        }

    def email_message(
        self, n: Notification, target: EmailTarget, *, when: float | None = None
    ) -> EmailMessage:
        """The plain-text email for a notification, dated when (default: the clock's now)."""
        return new_mail(
            target, self.subject(n), self.body(n), self.clock() if when is None else when
        )

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

    def _building(self, building_id: str) -> str:
        return self.building_names.get(building_id, building_id)

    def _time(self, ts: float) -> str:
        return dt.datetime.fromtimestamp(ts, self.tz).strftime("%Y-%m-%d %H:%M:%S %Z")


# --- the live path: grouping state in the database, notifications through the outbox -----------


def _utc(ts: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, dt.UTC)


class AlertNotifications:
    """Alert notifications with nothing in memory: `record` (in the alert engine's
    transaction) and `flush` put due notifications into the outbox; `channel` sends them."""

    def __init__(
        self,
        config: Notifications,
        *,
        clock: Callable[[], float] = time.time,
        building_names: Mapping[str, str] | None = None,
        timezone: str = "UTC",
    ):
        self.config = config
        self.clock = clock
        self.building_names = dict(building_names or {})
        self.timezone = timezone
        self.render = self._notifier()
        self.targets = self.render.targets

    def _notifier(self, state: NotificationState | None = None) -> Notifier:
        n = Notifier(
            self.config,
            clock=self.clock,
            building_names=self.building_names,
            timezone=self.timezone,
        )
        if state is not None:
            n.restore(state.data or {})
        return n

    def record(self, session: Session, events: Sequence[AlertEvent]) -> None:
        """Feed the alert engine's events into the grouping state, and put the notifications due
        now into the outbox, in the session of the alert change (they commit with it).

        A failure here is logged and leaves the state as it was (a savepoint): the alert change
        still commits, since alerting must not stop for want of a notification.
        """
        news = [e for e in events if may_notify(e)]
        if not news or not self.targets:
            return
        try:
            with session.begin_nested():
                now = self.clock()
                state = repository.lock_notification_state(session, at=_utc(now))
                n = self._notifier(state)
                n.add(news)
                self.enqueue(session, n.due(now))
                self._save(state, n)
        except Exception:
            log.exception("alert notifications: could not record %d events", len(news))

    def flush(self, db: Database, now: float | None = None) -> int:
        """Put the notifications that have fallen due by now into the outbox, in the
        transaction that records them as told; returns how many."""
        now = self.clock() if now is None else now
        with db.session() as s:
            due_at = repository.notification_due_at(s)
        if due_at is None or due_at > _utc(now):
            return 0
        with db.session() as s:
            state = repository.lock_notification_state(s, at=_utc(now))
            n = self._notifier(state)
            out = n.due(now)
            self.enqueue(s, out)
            self._save(state, n)
        return len(out)

    @staticmethod
    def enqueue(session: Session, notifications: Sequence[Notification]) -> list[list[int]]:
        """Put notifications into the outbox, one message per target, due when they fell due;
        returns each one's message ids."""
        ids: list[list[int]] = []
        for n in notifications:
            payload = {
                "group": n.group,
                "status": n.status,
                "events": [e.as_dict() for e in n.events],
                "at": n.at,
            }
            mine: list[int] = []
            for key in n.keys:
                message_id = outbox.enqueue(
                    session, kind=KIND, target=key, topic=n.status, payload=payload, at=_utc(n.at)
                )
                if message_id is not None:
                    mine.append(message_id)
            ids.append(mine)
        return ids

    @staticmethod
    def _save(state: NotificationState, n: Notifier) -> None:
        state.data = n.snapshot()
        nxt = n.next_due()
        state.next_due_at = None if nxt is None else _utc(nxt)

    # --- sending ----------------------------------------------------------------------------

    def channel(self) -> outbox.Channel:
        """The outbox channel that sends alert notifications: in order per target, retried until
        taken."""
        return outbox.Channel(
            kind=KIND,
            send=self.send,
            ordered=True,
            base_backoff=RETRY_BASE,
            max_backoff=RETRY_CAP,
            describe=lambda key: key,
        )

    def send(self, m: outbox.Message, now: dt.datetime) -> int | None:
        """Deliver one notification to its target, rendered at now."""
        target = self.targets.get(m.target)
        if target is None:
            # Another process (or this one, once its site.yaml names it again) may know it.
            raise outbox.Hold(f"{m.target} is not among alerting.notifications", retry_in=300)
        p = m.payload
        n = Notification(
            p["group"],
            p["status"],
            tuple(AlertEvent.from_dict(e) for e in p["events"]),
            (target,),
            float(p["at"]),
            (m.target,),
        )
        if isinstance(target, WebhookTarget):
            return post_json(target, self.render.webhook_payload(n, sent_at=now.timestamp()))
        send_mail(target, self.render.email_message(n, target, when=now.timestamp()))
        return None


# --- sending, for every kind of notification -----------------------------------------------------


def post_json(target: WebhookTarget, document: Mapping[str, object]) -> int:
    """POST document to a webhook target; returns the status of a 2xx. Raises outbox.Refused
    when the target refuses for good (a 4xx other than 408, 425 and 429), another exception when
    it may recover."""
    with httpx.Client(timeout=target.timeout) as client:
        r = client.post(target.url, json=document, headers=target.headers)
    if r.is_success:
        return r.status_code
    msg = f"HTTP {r.status_code} {r.reason_phrase}"
    # A rejected request stays rejected; a busy or failing receiver may recover.
    if 400 <= r.status_code < 500 and r.status_code not in (408, 425, 429):
        raise outbox.Refused(msg, status=r.status_code)
    raise outbox.DeliveryFailed(msg, status=r.status_code)


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
    """Send msg through the target's SMTP server (blocking); outbox.Refused when the server
    refuses for good (a 5xx, bad credentials, no STARTTLS), another exception otherwise."""
    with smtplib.SMTP(target.host, target.port, timeout=target.timeout) as smtp:
        try:
            if target.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if target.username:
                smtp.login(target.username, target.password or "")
            smtp.send_message(msg)
        except (smtplib.SMTPNotSupportedError, smtplib.SMTPAuthenticationError) as exc:
            raise outbox.Refused(str(exc)) from exc
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code >= 500:  # 5xx: the server will say no again
                raise outbox.Refused(f"{exc.smtp_code} {exc.smtp_error!r}") from exc
            raise
        except smtplib.SMTPRecipientsRefused as exc:
            raise outbox.Refused(f"recipients refused: {exc.recipients}") from exc
