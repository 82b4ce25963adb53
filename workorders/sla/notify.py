"""SLA warnings and breaches told to the site's notification targets.

The SLA service puts every warning and breach on the work order's timeline (kinds 'sla_warning'
and 'sla_breach'), in the transaction of the change or sweep that found it, and queues it for
the registered webhooks. This job also tells the people on the site's alert notification list
(`alerting.notifications` in site.yaml: e-mail addresses and webhooks), one message per event:
a breach as severity major, a warning as minor, each target getting what its `min_severity`
admits.

Nothing is lost and nothing is sent twice in normal operation: each target has a cursor in
`notification_cursors`, the id of the last timeline event it was told about, advanced in the
database after each event is delivered. A target that fails is tried again on the next run from
the same event (a crash between sending and advancing sends that one event again). A target
that refuses an event for good (a 4xx, an SMTP 5xx) has it logged as an error and skipped, so
one bad event cannot block the rest. A target added to site.yaml starts from the events after
its first run; it is not sent the history.

Site notices (workorders.sla.notices: a holiday year nobody has loaded, a reported scorecard
revised) go to the same targets with a cursor of their own per target. They are few and each
still matters, so a new target is told the standing ones.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from typing import Any

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import BigInteger, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from alerts.config import EmailTarget, Notifications, WebhookTarget
from alerts.notify import (
    PermanentFailure,
    describe,
    new_mail,
    post_json,
    send_mail,
    severity_rank,
)
from alerts.rules.base import Severity
from config.site import SiteConfig
from core.db import Base, Database
from workorders.orders.models import WorkOrder, WorkOrderEvent
from workorders.sla import notices

log = logging.getLogger(__name__)

JOB_ID = "sla-notify"
EVERY = 30.0
#: Timeline events told, and the severity each is told as.
KINDS = {"sla_breach": Severity.major, "sla_warning": Severity.minor}
#: Events handled per target and run.
BATCH = 200
#: Webhook document version.
VERSION = 1

Target = WebhookTarget | EmailTarget


class NotificationCursor(Base):
    """How far along the timeline a notification target has been told."""

    __tablename__ = "notification_cursors"

    target: Mapped[str] = mapped_column(String(300), primary_key=True)
    last_event_id: Mapped[int] = mapped_column(BigInteger)


class SlaNotifier:
    """Tells the site's notification targets of new SLA warnings and breaches."""

    def __init__(
        self,
        db: Database,
        notifications: Notifications,
        *,
        site_name: str = "",
        public_url: str | None = None,
    ):
        self.db = db
        self.targets: list[Target] = [*notifications.webhooks, *notifications.email]
        self.public_url = (public_url or "").rstrip("/")
        self.site_name = site_name

    def run_once(self) -> None:
        """Tell each target the events and the site notices past its cursors."""
        for target in self.targets:
            self._tell(target)
            self._tell_notices(target)

    def _tell_notices(self, target: Target) -> None:
        name = f"notice {describe(target)}"[:300]
        with self.db.session() as s:
            row = s.get(NotificationCursor, name)
            if row is None:
                s.add(NotificationCursor(target=name, last_event_id=0))
            after = row.last_event_id if row is not None else 0
            pending = [
                (n.id, Severity(n.severity), self._notice(n))
                for n in notices.after(s, after, BATCH)
            ]
        self._send(target, name, pending, "Site notice")

    def _notice(self, n: notices.SiteNotice) -> dict[str, Any]:
        return {
            "version": VERSION,
            "site": self.site_name,
            "kind": n.kind,
            "severity": n.severity,
            "message": n.message,
            "at": n.created_at.isoformat(),
            "data": n.data or {},
        }

    def _tell(self, target: Target) -> None:
        name = f"sla {describe(target)}"[:300]
        with self.db.session() as s:
            after = _cursor(s, name)
            rows = s.execute(
                select(WorkOrderEvent, WorkOrder)
                .join(WorkOrder, WorkOrder.id == WorkOrderEvent.workorder_id)
                .where(WorkOrderEvent.id > after, WorkOrderEvent.kind.in_(list(KINDS)))
                .order_by(WorkOrderEvent.id)
                .limit(BATCH)
            ).all()
            events = [(ev.id, KINDS[ev.kind], self._message(ev, wo)) for ev, wo in rows]
        self._send(target, name, events, "SLA notification")

    def _send(
        self,
        target: Target,
        cursor: str,
        items: list[tuple[int, Severity, dict[str, Any]]],
        what: str,
    ) -> None:
        """Deliver each item the target's min_severity admits, advancing its cursor after
        each; stop at the first failure that may pass (the next run starts from it)."""
        for item_id, severity, message in items:
            if severity_rank(severity) <= severity_rank(target.min_severity):
                try:
                    self._deliver(target, message)
                except PermanentFailure as exc:
                    log.error("%s to %s refused, skipped: %s", what, describe(target), exc)
                except Exception as exc:
                    log.warning(
                        "%s to %s failed, trying again next run: %s", what, describe(target), exc
                    )
                    return
            with self.db.session() as s:
                s.get_one(NotificationCursor, cursor).last_event_id = item_id

    def _deliver(self, target: Target, message: dict[str, Any]) -> None:
        if isinstance(target, WebhookTarget):
            asyncio.run(post_json(target, message))
        else:
            mail = new_mail(target, _subject(message), _body(message), time.time())
            send_mail(target, mail)

    def _message(self, ev: WorkOrderEvent, wo: WorkOrder) -> dict[str, Any]:
        data = ev.data or {}
        return {
            "version": VERSION,
            "site": self.site_name,
            "kind": ev.kind,
            "severity": str(KINDS[ev.kind]),
            "message": ev.message,
            "at": ev.ts.isoformat(),
            "clock": data.get("clock"),
            "policy": data.get("policy"),
            "due_at": data.get("due_at"),
            "workorder": {
                "id": wo.id,
                "title": wo.title,
                "priority": wo.priority,
                "status": wo.status,
                "asset_id": wo.asset_id,
                "contractor_id": wo.contractor_id,
                "url": f"{self.public_url}/ui/workorders/{wo.id}" if self.public_url else None,
            },
        }


def _cursor(s: Session, name: str) -> int:
    """The target's cursor; a new target starts after the newest event there is."""
    row = s.get(NotificationCursor, name)
    if row is None:
        newest = s.scalar(select(func.max(WorkOrderEvent.id))) or 0
        row = NotificationCursor(target=name, last_event_id=newest)
        s.add(row)
        s.flush()
    return row.last_event_id


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


def add_jobs(
    scheduler: BaseScheduler,
    *,
    db: Database,
    site: SiteConfig,
    public_url: str | None = None,
    every: float = EVERY,
) -> SlaNotifier | None:
    """Declare the notification job (every 30 s, and once at start) when the site names any
    notification target."""
    notifier = SlaNotifier(
        db,
        site.doc.alerting.notifications,
        site_name=site.doc.site.name,
        public_url=public_url,
    )
    if not notifier.targets:
        return None
    scheduler.add_job(
        notifier.run_once,
        IntervalTrigger(seconds=every, timezone=dt.UTC),
        id=JOB_ID,
        name="SLA: tell the notification targets",
        next_run_time=dt.datetime.now(dt.UTC),
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
        replace_existing=True,
    )
    return notifier
