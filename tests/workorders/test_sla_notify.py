"""SLA warnings and breaches reach the site's notification targets (e-mail and webhooks) once
each, through the outbox, and none is lost when a target is down (workorders.sla.notify).
Delivery is to a real local HTTP server and a real local SMTP server."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from alerts.config import EmailTarget, Notifications, WebhookTarget
from core import outbox_repository
from core.db import Database, utcnow
from tests.notify_servers import Inbox, Receiver, mail_target
from workorders.orders import service
from workorders.orders.models import Priority, WorkOrder, WorkOrderEvent
from workorders.sla import notify
from workorders.sla.notify import SlaNotifier


class Clock:
    """The real time, which the test moves on by hand (past a retry's backoff)."""

    def __init__(self) -> None:
        self.ahead = dt.timedelta()

    def __call__(self) -> dt.datetime:
        return utcnow() + self.ahead

    def advance(self, seconds: float) -> None:
        self.ahead += dt.timedelta(seconds=seconds)


def _work_order(db: Database, title: str = "Booster pump tripped") -> int:
    with db.session() as s:
        return service.create(s, title=title, actor="test", priority=Priority.P2).id


def _sla_event(
    db: Database,
    wo_id: int,
    kind: str = "sla_breach",
    clock: str = "response",
    *,
    rolled_back: bool = False,
) -> None:
    """A warning or breach on the timeline and in the outbox, as workorders.sla.service records
    it (in one transaction: rolled back, when asked, as a failed change would be)."""
    what = "SLA breach: the response target 1 h (P2 urgent, 24x7) was missed at 2026-11-21 10:00"
    if kind == "sla_warning":
        what = "SLA warning: 80% of the response target 1 h (P2 urgent, 24x7) used"
    data = {"clock": clock, "policy": "P2 urgent", "due_at": "2026-11-21T02:00:00+00:00"}
    at = dt.datetime(2026, 11, 21, 2, tzinfo=dt.UTC)
    with db.session() as s:
        s.add(
            WorkOrderEvent(
                workorder_id=wo_id, kind=kind, actor="sla", message=what, data=data, ts=at
            )
        )
        wo = s.get(WorkOrder, wo_id)
        assert wo is not None
        notify.tell_sla_event(s, wo=wo, kind=kind, message=what, data=data, at=at)
        if rolled_back:
            s.rollback()


def _notifier(
    db: Database, *targets: WebhookTarget | EmailTarget, clock: Clock | None = None
) -> SlaNotifier:
    notifications = Notifications(
        webhooks=[t for t in targets if isinstance(t, WebhookTarget)],
        email=[t for t in targets if isinstance(t, EmailTarget)],
    )
    notifier = SlaNotifier(
        db,
        notifications,
        site_name="Demo centre",
        public_url="https://plantroom.example.org",
        clock=clock or utcnow,
    )
    notifier.run_once()  # what was queued before these targets existed goes to no one
    return notifier


def test_breach_is_mailed_and_posted_once(
    db: Database, receiver: Receiver, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    notifier = _notifier(db, WebhookTarget(url=receiver.url + "/sla"), mail_target(port))
    wo = _work_order(db)
    _sla_event(db, wo)
    notifier.run_once()
    notifier.run_once()

    (doc,) = receiver.bodies("/sla")
    assert doc["kind"] == "sla_breach" and doc["severity"] == "major"
    assert doc["clock"] == "response" and doc["policy"] == "P2 urgent"
    assert doc["workorder"]["id"] == wo and doc["workorder"]["priority"] == "P2"
    assert doc["workorder"]["url"] == f"https://plantroom.example.org/ui/workorders/{wo}"
    (envelope,) = inbox.envelopes
    assert envelope.rcpt_tos == ["facilities@example.org", "duty@example.org"]
    msg = inbox.message()
    assert msg["Subject"] == f"[SLA BREACH] #{wo} P2 Booster pump tripped"
    assert "the response target 1 h (P2 urgent, 24x7) was missed" in msg.get_content()


def test_new_target_is_not_sent_the_history(db: Database, receiver: Receiver) -> None:
    _notifier(db)  # the site had no target yet
    _sla_event(db, _work_order(db, "Old breach"))
    _notifier(db).run_once()  # told to the targets of the time: nobody
    notifier = _notifier(db, WebhookTarget(url=receiver.url))
    _sla_event(db, _work_order(db, "New breach"))
    notifier.run_once()
    assert [d["workorder"]["title"] for d in receiver.bodies()] == ["New breach"]


def test_target_that_is_down_gets_every_event_when_it_is_back(
    db: Database, receiver: Receiver
) -> None:
    clock = Clock()
    notifier = _notifier(db, WebhookTarget(url=receiver.url), clock=clock)
    first, second = _work_order(db, "First"), _work_order(db, "Second")
    _sla_event(db, first)
    _sla_event(db, second)
    receiver.statuses = [503]  # down for the first try
    notifier.run_once()
    assert [d["workorder"]["title"] for d in receiver.bodies()] == ["First"]
    notifier.run_once()  # the first one's retry is not due yet, and the second waits behind it
    assert len(receiver.bodies()) == 1
    clock.advance(5)  # the first retry: 5 s after the failure
    notifier.run_once()
    titles = [d["workorder"]["title"] for d in receiver.bodies()]
    assert titles == ["First", "First", "Second"]  # the failed one again, then the rest


def test_event_refused_for_good_is_logged_and_the_rest_still_go(
    db: Database, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    notifier = _notifier(db, WebhookTarget(url=receiver.url))
    _sla_event(db, _work_order(db, "Refused"))
    _sla_event(db, _work_order(db, "Accepted"))
    receiver.statuses = [400]
    with caplog.at_level(logging.ERROR, logger="workorders.sla.notify"):
        notifier.run_once()
    assert "refused, skipped: HTTP 400" in caplog.text
    notifier.run_once()
    assert [d["workorder"]["title"] for d in receiver.bodies()] == ["Refused", "Accepted"]


def test_target_for_major_and_worse_gets_breaches_not_warnings(
    db: Database, receiver: Receiver
) -> None:
    notifier = _notifier(db, WebhookTarget(url=receiver.url, min_severity="major"))
    wo = _work_order(db)
    _sla_event(db, wo, "sla_warning")
    _sla_event(db, wo, "sla_breach")
    notifier.run_once()
    assert [d["kind"] for d in receiver.bodies()] == ["sla_breach"]


def test_a_rolled_back_change_tells_no_one(db: Database, receiver: Receiver) -> None:
    notifier = _notifier(db, WebhookTarget(url=receiver.url))
    _sla_event(db, _work_order(db, "Never happened"), rolled_back=True)
    notifier.run_once()
    assert receiver.posts == []
    with db.session() as s:
        assert outbox_repository.messages(s, kind=notify.NOTICE) == []


def test_a_target_down_for_long_gets_every_event_when_back_without_anything_dropped(
    db: Database, receiver: Receiver
) -> None:
    clock = Clock()
    notifier = _notifier(db, WebhookTarget(url=receiver.url), clock=clock)
    titles = [f"Breach {i}" for i in range(3)]
    for title in titles:
        _sla_event(db, _work_order(db, title))
    receiver.statuses = [503] * 10  # ten tries fail: minutes of backoff, nothing given up
    for _ in range(10):
        notifier.run_once()
        clock.advance(300)  # the longest wait between two tries
    notifier.run_once()
    got = [d["workorder"]["title"] for d in receiver.bodies()]
    assert got == ["Breach 0"] * 11 + titles[1:]  # the first tried again and again, then the rest
    with db.session() as s:
        sent = outbox_repository.messages(s, kind=notify.NOTICE_TARGET)
    assert [m.delivered_at is not None for m in sent] == [True, True, True]
    assert sent[0].attempts == 11 and sent[0].failed_at is None
