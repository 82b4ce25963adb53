"""SLA warnings and breaches, and site notices, told to the site's notification targets.

The SLA service puts every warning and breach on the work order's timeline (kinds 'sla_warning'
and 'sla_breach'), in the transaction of the change or sweep that found it, and in that same
transaction `tell_sla_event` writes a notice to the outbox (core.outbox); site notices
(workorders.sla.notices: a holiday year nobody has loaded, a reported scorecard revised) are
written the same way by `tell_notice`. The root's outbox dispatcher then:

- fans each notice out to the people on the site's alert notification list
  (`alerting.notifications` in site.yaml: e-mail addresses and webhooks), one message per
  target whose `min_severity` admits it (a breach is told as severity major, a warning as
  minor), in the transaction that marks the notice done;
- sends each target its messages one at a time, oldest first. One that fails is tried again
  with backoff (5 s doubling to 5 min) until the target takes it, and holds back that target's
  later ones meanwhile: a target that was down gets every notice, in order, when it is back.
  One refused for good (a 4xx, an SMTP 5xx) is failed and logged as an error, so it cannot block
  the rest.

A target added to site.yaml gets the notices written after it was added; it is not sent the
history.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from alerts.config import EmailTarget, Notifications, WebhookTarget
from alerts.notify import new_mail, post_json, send_mail, severity_rank, target_keys
from alerts.rules.base import Severity
from core import outbox
from core.db import Database, utcnow
from workorders.orders.models import WorkOrder

#: Outbox kind of a notice for the whole notification list: fanned out to the targets.
NOTICE = "notice"
#: Outbox kind of one notice for one target.
NOTICE_TARGET = "notice.target"
#: The target of a NOTICE message: everyone on the list.
EVERYONE = "*"
#: Timeline events told, and the severity each is told as.
KINDS = {"sla_breach": Severity.major, "sla_warning": Severity.minor}
#: A failed message is tried again after 5 s, doubling up to 5 min, until it is taken.
RETRY_BASE = 5.0
RETRY_CAP = 300.0
#: Document version.
VERSION = 1

Target = WebhookTarget | EmailTarget


# --- writing, in the transaction of the change ---------------------------------------------------


def tell_sla_event(
    session: Session,
    *,
    wo: WorkOrder,
    kind: str,
    message: str,
    data: dict[str, Any],
    at: dt.datetime,
) -> None:
    """Queue a warning or breach just put on wo's timeline for the notification targets."""
    payload = {
        "kind": kind,
        "severity": str(KINDS[kind]),
        "message": message,
        "at": at.isoformat(),
        "clock": data.get("clock"),
        "policy": data.get("policy"),
        "due_at": data.get("due_at"),
        "workorder": {
            "id": wo.id,
            "title": wo.title,
            "priority": str(wo.priority),
            "status": str(wo.status),
            "asset_id": wo.asset_id,
            "contractor_id": wo.contractor_id,
        },
    }
    outbox.enqueue(session, kind=NOTICE, target=EVERYONE, topic=kind, payload=payload)


def tell_notice(
    session: Session,
    *,
    key: str,
    kind: str,
    severity: str,
    message: str,
    data: dict[str, Any] | None,
    at: dt.datetime,
) -> None:
    """Queue a site notice for the notification targets (once per key)."""
    payload = {
        "kind": kind,
        "severity": severity,
        "message": message,
        "at": at.isoformat(),
        "data": data or {},
    }
    outbox.enqueue(
        session, kind=NOTICE, target=EVERYONE, topic=kind, payload=payload, dedup_key=key
    )


# --- sending -------------------------------------------------------------------------------------


class SlaNotifier:
    """The site's notification targets as outbox channels for notices (`channels`, which the
    root's dispatcher serves); `run_once` sends what is due with these channels alone."""

    def __init__(
        self,
        db: Database,
        notifications: Notifications,
        *,
        site_name: str = "",
        public_url: str | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
    ):
        self.db = db
        self.targets: dict[str, Target] = target_keys(
            [*notifications.webhooks, *notifications.email]
        )
        self.public_url = (public_url or "").rstrip("/")
        self.site_name = site_name
        self.clock = clock

    def channels(self) -> list[outbox.Channel]:
        """The fan-out of notices to targets, and the sending to one target."""
        return [
            outbox.Channel(kind=NOTICE, fan_out=self.fan_out),
            outbox.Channel(
                kind=NOTICE_TARGET,
                send=self.send,
                ordered=True,
                base_backoff=RETRY_BASE,
                max_backoff=RETRY_CAP,
                describe=lambda key: key,
            ),
        ]

    def run_once(self, now: dt.datetime | None = None) -> int:
        """Fan out and send every notice due now (default: the clock); returns how many messages
        were tried."""
        return outbox.Dispatcher(self.db, self.channels(), clock=self.clock).deliver_all(now)

    def fan_out(self, m: outbox.Message) -> list[outbox.Envelope]:
        """One message per target whose min_severity admits the notice."""
        rank = severity_rank(str(m.payload.get("severity", "")))
        return [
            outbox.Envelope(NOTICE_TARGET, key, m.payload, topic=m.topic)
            for key, target in self.targets.items()
            if rank <= severity_rank(target.min_severity)
        ]

    def send(self, m: outbox.Message, now: dt.datetime) -> int | None:
        """Deliver one notice to its target."""
        target = self.targets.get(m.target)
        if target is None:
            # Another process (or this one, once its site.yaml names it again) may know it.
            raise outbox.Hold(f"{m.target} is not among alerting.notifications", retry_in=300)
        doc = self.document(m.payload)
        if isinstance(target, WebhookTarget):
            return post_json(target, doc)
        send_mail(target, new_mail(target, _subject(doc), _body(doc), now.timestamp()))
        return None

    def document(self, payload: dict[str, Any]) -> dict[str, Any]:
        """What a webhook receives (and an email says): the notice with the site's name, and a
        link to the work order when there is one."""
        doc = {"version": VERSION, "site": self.site_name, **payload}
        wo = payload.get("workorder")
        if isinstance(wo, dict):
            url = f"{self.public_url}/ui/workorders/{wo['id']}" if self.public_url else None
            doc["workorder"] = {**wo, "url": url}
        return doc


def _subject(m: dict[str, Any]) -> str:
    if "workorder" not in m:  # a site notice
        return f"[{m['kind']}] {m['message']}"[:200]
    wo = m["workorder"]
    what = "SLA BREACH" if m["kind"] == "sla_breach" else "SLA warning"
    return f"[{what}] #{wo['id']} {wo['priority']} {wo['title']}"[:200]


def _body(m: dict[str, Any]) -> str:
    if "workorder" not in m:
        return f"{m['site']}: {m['message']}\n"
    wo = m["workorder"]
    lines = [
        f"{m['site']}: {m['message']}",
        "",
        f"Work order #{wo['id']}: {wo['title']}",
        f"  priority {wo['priority']}, status {wo['status']}, asset {wo['asset_id'] or '-'}",
        f"  {m['clock']} clock, policy {m['policy'] or '-'}, due {m['due_at'] or '-'}",
    ]
    if wo["url"]:
        lines.append(f"  {wo['url']}")
    return "\n".join(lines) + "\n"
