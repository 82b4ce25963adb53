"""Alert notifications: grouping and timing on a fake clock; delivery through the outbox (on
SQLite and PostgreSQL) to a real local HTTP server and a real local SMTP server (aiosmtpd),
surviving restarts and targets that are down, and written in the alert change's transaction."""

from __future__ import annotations

import datetime as dt
import logging
import ssl
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from sqlalchemy import select

from alerts.config import EmailTarget, Notifications, WebhookTarget
from alerts.events import AlertEvent
from alerts.models import Alert, NotificationState
from alerts.notify import KIND, RETRY_CAP, AlertNotifications, Notification, Notifier
from collectors.readings import Quality, Reading
from config.site import SiteConfig
from core import outbox, outbox_repository
from core.db import Database
from plantroom.wiring import alert_engine
from tests.notify_servers import Inbox, Receiver, free_port, mail_target, serve_receiver

T0 = 1_772_413_200.0  # 2026-03-02 01:00:00 UTC


class FakeClock:
    """A clock the test moves by hand, standing in for the readings' timestamps."""

    def __init__(self, t: float = T0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def event(
    rule: str = "pump-overcurrent",
    asset: str = "pump-1",
    building: str = "bldg-a",
    state: str = "firing",
    severity: str = "major",
    **kw: Any,
) -> AlertEvent:
    names = {"pump-overcurrent": "Pump motor over-current", "lift-down": "Lift out of service"}
    fields: dict[str, Any] = {
        "rule_name": names.get(rule, rule),
        "asset_name": asset.replace("-", " ").title(),
        "previous": "pending" if state == "firing" else "firing",
        "ts": T0,
        "point": "motor_current",
        "value": 32.0,
        "unit": "A",
    }
    fields.update(kw)
    return AlertEvent(
        rule, severity=severity, asset_id=asset, building_id=building, state=state, **fields
    )


# --- a real HTTP receiver -----------------------------------------------------------------------


def notifier(*targets: WebhookTarget | EmailTarget, clock: FakeClock, **cfg: Any) -> Notifier:
    config = Notifications(
        group_wait=30,
        group_interval=300,
        repeat_interval=3600,
        webhooks=[t for t in targets if isinstance(t, WebhookTarget)],
        email=[t for t in targets if isinstance(t, EmailTarget)],
        **cfg,
    )
    return Notifier(
        config, clock=clock, building_names={"bldg-a": "Building A", "bldg-b": "Building B"}
    )


def _utc(ts: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, dt.UTC)


def live(n: Notifier) -> AlertNotifications:
    """The live path for a notifier's targets (the outbox channel renders and sends)."""
    return AlertNotifications(
        n.config, clock=n.clock, building_names=n.building_names, timezone=str(n.tz)
    )


def sent(db: Database) -> dict[int, outbox.Message]:
    """The outbox's alert notifications by id."""
    with db.session() as s:
        return {m.id: m for m in outbox_repository.messages(s, kind=KIND)}


def send(
    db: Database, n: Notifier, notifications: list[Notification], *, rounds: int = 3
) -> list[bool]:
    """Put notifications into the outbox and let the dispatcher send them when they are due (at
    the notifier's now, if later), then again `rounds - 1` times, each the longest retry wait
    later; whether each reached all of its targets."""
    path = live(n)
    with db.session() as s:
        ids = path.enqueue(s, notifications)
    dispatcher = outbox.Dispatcher(db, [path.channel()])
    start = max([n.clock(), *(x.at for x in notifications)])
    for i in range(rounds):
        dispatcher.deliver_all(_utc(start + i * RETRY_CAP))
    messages = sent(db)
    return [all(messages[i].delivered_at is not None for i in group) for group in ids]


# --- grouping and timing ------------------------------------------------------------------------


def test_alerts_firing_together_in_a_building_go_out_in_one_webhook_post(
    db: Database,
    receiver: Receiver,
) -> None:
    clock = FakeClock()
    n = notifier(WebhookTarget(url=receiver.url + "/hook"), clock=clock)
    n.submit([event("pump-overcurrent", "pump-1")])
    clock.t += 10
    n.submit([event("pump-overcurrent", "pump-2"), event("lift-down", "lift-a1", severity="info")])

    assert n.due(T0 + 29.9) == []
    clock.t = T0 + 30
    assert send(db, n, n.due(T0 + 30)) == [True]

    (body,) = receiver.bodies("/hook")
    assert (body["version"], body["group"], body["status"]) == (1, "bldg-a", "firing")
    assert [(a["rule_id"], a["asset_id"]) for a in body["alerts"]] == [
        ("pump-overcurrent", "pump-1"),
        ("pump-overcurrent", "pump-2"),
        ("lift-down", "lift-a1"),
    ]
    assert body["alerts"][0] == event("pump-overcurrent", "pump-1").as_dict()
    assert body["sent_at"] == "2026-03-02T01:00:30+00:00"


def test_webhook_sends_its_configured_headers(db: Database, receiver: Receiver) -> None:
    clock = FakeClock()
    target = WebhookTarget(url=receiver.url, headers={"Authorization": "Bearer s3cret"})
    n = notifier(target, clock=clock)
    n.submit([event()])
    send(db, n, n.due(T0 + 30))
    ((_, headers, _),) = receiver.posts
    assert headers["Authorization"] == "Bearer s3cret"
    assert headers["Content-Type"] == "application/json"


def test_events_in_two_buildings_give_two_notifications(db: Database, receiver: Receiver) -> None:
    clock = FakeClock()
    n = notifier(WebhookTarget(url=receiver.url), clock=clock)
    n.submit([event(asset="pump-1", building="bldg-a"), event(asset="pump-9", building="bldg-b")])
    send(db, n, n.due(T0 + 30))
    groups = {b["group"]: [a["asset_id"] for a in b["alerts"]] for b in receiver.bodies()}
    assert groups == {"bldg-a": ["pump-1"], "bldg-b": ["pump-9"]}


def test_a_new_alert_after_the_first_notification_waits_for_group_interval() -> None:
    clock = FakeClock()
    n = notifier(WebhookTarget(url="http://127.0.0.1:9/"), clock=clock)
    n.submit([event(asset="pump-1")])
    assert len(n.due(T0 + 30)) == 1
    clock.t = T0 + 60
    n.submit([event(asset="pump-2", ts=T0 + 60)])
    assert n.due(T0 + 329) == []
    (again,) = n.due(T0 + 330)
    assert [e.asset_id for e in again.events] == ["pump-1", "pump-2"]


def test_still_firing_is_sent_again_after_repeat_interval_and_not_before() -> None:
    clock = FakeClock()
    n = notifier(WebhookTarget(url="http://127.0.0.1:9/"), clock=clock)
    n.submit([event()])
    assert len(n.due(T0 + 30)) == 1
    # The engine re-submitting the same state (a retried batch) is no news.
    n.submit([event()])
    assert n.due(T0 + 30 + 3599) == []
    (repeat,) = n.due(T0 + 30 + 3600)
    assert (repeat.status, [e.asset_id for e in repeat.events]) == ("firing", ["pump-1"])
    assert n.due(T0 + 30 + 3600 + 3599) == []
    assert len(n.due(T0 + 30 + 7200)) == 1


def test_a_resolution_is_sent_once_then_the_group_is_forgotten() -> None:
    clock = FakeClock()
    n = notifier(WebhookTarget(url="http://127.0.0.1:9/"), clock=clock)
    n.submit([event()])
    n.due(T0 + 30)
    clock.t = T0 + 100
    n.submit([event(state="resolved", ts=T0 + 100)])
    (resolution,) = n.due(T0 + 330)
    assert resolution.status == "resolved"
    assert [(e.asset_id, e.state) for e in resolution.events] == [("pump-1", "resolved")]
    assert n.next_due() is None
    assert n.due(T0 + 30 * 86400) == []


def test_a_partial_resolution_is_told_beside_the_alerts_still_firing() -> None:
    clock = FakeClock()
    n = notifier(WebhookTarget(url="http://127.0.0.1:9/"), clock=clock)
    n.submit([event(asset="pump-1"), event(asset="pump-2")])
    n.due(T0 + 30)
    n.submit([event(asset="pump-2", state="resolved")])
    (update,) = n.due(T0 + 330)
    assert update.status == "firing"
    assert [(e.asset_id, e.state) for e in update.events] == [
        ("pump-1", "firing"),
        ("pump-2", "resolved"),
    ]
    (repeat,) = n.due(T0 + 330 + 3600)
    assert [e.asset_id for e in repeat.events] == ["pump-1"]


def test_an_alert_without_data_that_goes_back_to_inactive_is_told_as_ended() -> None:
    clock = FakeClock()
    n = notifier(WebhookTarget(url="http://127.0.0.1:9/"), clock=clock)
    n.submit([event(state="nodata", previous="firing")])
    (first,) = n.due(T0 + 30)
    assert first.status == "firing"
    n.submit([event(state="inactive", previous="nodata")])
    (ended,) = n.due(T0 + 330)
    assert (ended.status, [e.state for e in ended.resolved]) == ("resolved", ["inactive"])
    assert n.next_due() is None


def test_an_alert_that_fires_and_resolves_before_anything_was_sent_notifies_nobody() -> None:
    clock = FakeClock()
    n = notifier(WebhookTarget(url="http://127.0.0.1:9/"), clock=clock)
    n.submit([event()])
    n.submit([event(state="resolved")])
    assert n.due(T0 + 86400) == []
    assert n.next_due() is None


@pytest.mark.parametrize(
    "quiet",
    [
        {"silenced": True},
        {"inhibited": True},
        {"state": "pending"},
        {"state": "inactive"},
    ],
    ids=["silenced", "inhibited", "pending", "inactive"],
)
def test_events_not_worth_telling_notify_nobody(quiet: dict[str, Any]) -> None:
    clock = FakeClock()
    n = notifier(WebhookTarget(url="http://127.0.0.1:9/"), clock=clock)
    n.submit([event(**quiet)])
    assert n.due(T0 + 86400) == []


def test_silencing_a_firing_alert_stops_its_repeats_without_a_message() -> None:
    clock = FakeClock()
    n = notifier(WebhookTarget(url="http://127.0.0.1:9/"), clock=clock)
    n.submit([event(asset="pump-1"), event(asset="pump-2")])
    n.due(T0 + 30)
    n.submit([event(asset="pump-1", silenced=True)])
    assert n.due(T0 + 30 + 3599) == []
    (repeat,) = n.due(T0 + 30 + 3600)
    assert [e.asset_id for e in repeat.events] == ["pump-2"]
    n.submit([event(asset="pump-1", state="resolved", silenced=True)])
    assert n.due(T0 + 30 + 3600 + 3599) == []


def test_min_severity_keeps_minor_alerts_from_a_target(db: Database, receiver: Receiver) -> None:
    clock = FakeClock()
    everything = WebhookTarget(url=receiver.url + "/all")
    serious = WebhookTarget(url=receiver.url + "/serious", min_severity="major")  # type: ignore[arg-type]
    n = notifier(everything, serious, clock=clock)
    n.submit([event(asset="pump-1", severity="minor"), event(asset="pump-2", severity="critical")])
    send(db, n, n.due(T0 + 30))
    assert [a["asset_id"] for a in receiver.bodies("/all")[0]["alerts"]] == ["pump-2", "pump-1"]
    assert [a["asset_id"] for a in receiver.bodies("/serious")[0]["alerts"]] == ["pump-2"]
    # The minor alert's resolution goes only where its firing went.
    n.submit([event(asset="pump-1", severity="minor", state="resolved")])
    (update,) = n.due(T0 + 330)
    assert update.targets == (everything,)


def test_targets_that_get_the_same_alerts_share_one_notification() -> None:
    clock = FakeClock()
    hook = WebhookTarget(url="http://127.0.0.1:9/")
    mail = EmailTarget.model_validate({"host": "127.0.0.1", "from": "p@x.org", "to": ["f@x.org"]})
    n = notifier(hook, mail, clock=clock)
    n.submit([event()])
    (both,) = n.due(T0 + 30)
    assert both.targets == (hook, mail)


# --- delivery failures --------------------------------------------------------------------------


def test_an_unreachable_webhook_is_retried_until_it_is_back_and_others_still_get_theirs(
    db: Database, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="core.outbox")
    port = free_port()
    dead_url = f"http://127.0.0.1:{port}/hook"
    clock = FakeClock()
    n = notifier(
        WebhookTarget(url=dead_url, min_severity="critical"),  # type: ignore[arg-type]
        WebhookTarget(url=receiver.url),
        clock=clock,
    )
    n.submit([event(asset="pump-1", severity="critical")])
    # Both targets get the same alerts, so one notification goes to both; it failed for one.
    assert send(db, n, n.due(T0 + 30)) == [False]

    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(warnings) == 3  # three tries so far, each to be tried again: nothing dropped
    assert all(f"webhook http://127.0.0.1:{port}/hook" in w.getMessage() for w in warnings)
    assert errors == []
    assert [b["alerts"][0]["asset_id"] for b in receiver.bodies()] == ["pump-1"]

    clock.t = T0 + 40
    n.submit([event(asset="pump-9", building="bldg-b", severity="major")])
    assert send(db, n, n.due(T0 + 70)) == [True]  # not held back by the other target
    assert [b["group"] for b in receiver.bodies()] == ["bldg-a", "bldg-b"]

    with serve_receiver(port) as back:  # the dead target returns
        outbox.Dispatcher(db, [live(n).channel()]).deliver_all(_utc(T0 + 30 + 3 * RETRY_CAP))
    assert [(p, b["group"]) for p, _, b in back.posts] == [("/hook", "bldg-a")]
    assert all(m.delivered_at is not None for m in sent(db).values())


def test_a_webhook_that_fails_once_gets_the_notification_on_the_next_try(
    db: Database,
    receiver: Receiver,
) -> None:
    receiver.statuses = [503]
    clock = FakeClock()
    n = notifier(WebhookTarget(url=receiver.url), clock=clock)
    n.submit([event()])
    assert send(db, n, n.due(T0 + 30)) == [True]
    assert len(receiver.posts) == 2


def test_a_webhook_that_rejects_the_request_is_not_retried(
    db: Database, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.statuses = [400]
    clock = FakeClock()
    n = notifier(WebhookTarget(url=receiver.url), clock=clock)
    n.submit([event()])
    assert send(db, n, n.due(T0 + 30)) == [False]
    assert len(receiver.posts) == 1
    assert "HTTP 400" in caplog.text


# --- email over a real SMTP server --------------------------------------------------------------


def test_email_lists_the_alerts_of_a_building(db: Database, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    clock = FakeClock()
    n = notifier(mail_target(port), clock=clock)
    n.submit(
        [
            event("pump-overcurrent", "pump-1", workorder_id=17),
            event(
                "lift-down",
                "lift-a1",
                severity="critical",
                point="in_service",
                value=0.0,
                unit="",
                ts=T0 - 120,
            ),
        ]
    )
    assert send(db, n, n.due(T0 + 30)) == [True]

    (envelope,) = inbox.envelopes
    assert envelope.mail_from == "plantroom@example.org"
    assert envelope.rcpt_tos == ["facilities@example.org", "duty@example.org"]
    msg = inbox.message()
    assert msg["Subject"] == (
        "[FIRING:2] Building A: Lift out of service on Lift A1, Pump motor over-current on Pump 1"
    )
    assert msg["To"] == "facilities@example.org, duty@example.org"
    body = msg.get_content()
    assert "Building A (bldg-a): 2 firing, 0 resolved." in body
    assert "- Pump 1: Pump motor over-current (major)" in body
    assert "motor_current = 32 A   since 2026-03-02 01:00:00 UTC" in body
    assert "work order: #17" in body
    assert "in_service = 0   since 2026-03-02 00:58:00 UTC" in body


def test_email_resolution_says_resolved(db: Database, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    clock = FakeClock()
    n = notifier(mail_target(port), clock=clock)
    n.submit([event()])
    n.due(T0 + 30)
    n.submit([event(state="resolved", ts=T0 + 200)])
    send(db, n, n.due(T0 + 330))
    msg = inbox.message()
    assert msg["Subject"] == "[RESOLVED:1] Building A: Pump motor over-current on Pump 1"
    assert "resolved at 2026-03-02 01:03:20 UTC" in msg.get_content()


@pytest.fixture
def tls_cert(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, trusted through SSL_CERT_FILE as an operator
    would trust a private CA."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    return cert, key


def test_email_uses_starttls_and_login_when_configured(
    db: Database, tls_cert: tuple[Path, Path]
) -> None:
    cert, key = tls_cert
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    logins: list[tuple[bytes, bytes, bool]] = []

    def authenticator(
        server: SMTPServer, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        logins.append((data.login, data.password, session.ssl is not None))
        return AuthResult(success=data.password == b"pw")

    inbox = Inbox()
    port = free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
    )
    controller.start()
    try:
        clock = FakeClock()
        good = mail_target(port, starttls=True, username="plantroom", password="pw")
        n = notifier(good, clock=clock)
        n.submit([event()])
        assert send(db, n, n.due(T0 + 30)) == [True]
    finally:
        controller.stop()
    assert logins == [(b"plantroom", b"pw", True)]
    assert len(inbox.envelopes) == 1


def test_email_with_starttls_is_not_sent_in_clear_to_a_server_without_it(
    db: Database, smtp: tuple[Inbox, int], caplog: pytest.LogCaptureFixture
) -> None:
    inbox, port = smtp
    clock = FakeClock()
    n = notifier(mail_target(port, starttls=True), clock=clock)
    n.submit([event()])
    assert send(db, n, n.due(T0 + 30)) == [False]
    assert inbox.envelopes == []
    assert "STARTTLS" in caplog.text and "email facilities@example.org" in caplog.text


# --- the live path: the alert engine's transaction, the outbox, restarts ------------------------


def pump_rules(site: SiteConfig) -> list[Any]:
    """The demo's pump over-current rule: above 26 A for 20 s, clears at 24 A."""
    return [r for r in site.doc.rules if r.id == "pump-overcurrent"]


def amps(t: float, value: float) -> Reading:
    """A pump 1 motor-current reading at T0 + t."""
    return Reading(T0 + t, "pump-1", "pump-1-drive", "motor_current", value, "A", Quality.good)


def outbox_messages(db: Database) -> list[outbox.Message]:
    """Every outbox message, oldest first."""
    with db.session() as s:
        return outbox_repository.messages(s)


def test_an_alert_notification_survives_restarts_and_reaches_the_target_when_it_returns(
    db_both: Database, demo_site: SiteConfig
) -> None:
    db = db_both
    port = free_port()
    config = Notifications(
        group_wait=30, group_interval=300, webhooks=[WebhookTarget(url=f"http://127.0.0.1:{port}/")]
    )
    clock = FakeClock(T0 + 20)
    notifications = AlertNotifications(config, clock=clock)
    engine = alert_engine(demo_site, db, pump_rules(demo_site))
    engine.recorders.append(notifications.record)
    engine.process([amps(0, 30), amps(10, 31), amps(20, 32)])  # fires at T0 + 20
    assert notifications.flush(db, T0 + 49) == 0  # group_wait: nothing due yet
    # The process stops. What it was about to tell is in the database alone.

    restarted = Database(db.url)
    try:
        after_restart = AlertNotifications(config, clock=clock)
        assert after_restart.flush(restarted, T0 + 50) == 1
        outbox.Dispatcher(restarted, [after_restart.channel()]).deliver_all(_utc(T0 + 50))
    finally:
        restarted.dispose()
    (message,) = outbox_messages(db)
    assert (message.kind, message.topic, message.attempts) == (KIND, "firing", 1)
    assert message.delivered_at is None and "ConnectError" in message.last_error  # down

    # Another restart, and the target is back: it gets what it missed, and later news.
    again = Database(db.url)
    try:
        with serve_receiver(port) as target:
            third = AlertNotifications(config, clock=clock)
            dispatcher = outbox.Dispatcher(again, [third.channel()])
            dispatcher.deliver_all(_utc(T0 + 55))
            engine = alert_engine(demo_site, again, pump_rules(demo_site))
            engine.recorders.append(third.record)
            clock.t = T0 + 100
            engine.process([amps(100, 10)])  # resolved
            assert third.flush(again, T0 + 349) == 0  # group_interval after the last send
            assert third.flush(again, T0 + 350) == 1
            dispatcher.deliver_all(_utc(T0 + 350))
    finally:
        again.dispose()
    told = [
        (b["status"], [(a["asset_id"], a["state"]) for a in b["alerts"]]) for b in target.bodies()
    ]
    assert told == [("firing", [("pump-1", "firing")]), ("resolved", [("pump-1", "resolved")])]
    assert [m.delivered_at is not None for m in outbox_messages(db)] == [True, True]


def test_a_notification_is_written_in_the_alert_changes_transaction(
    db_both: Database, demo_site: SiteConfig
) -> None:
    db = db_both
    config = Notifications(group_wait=0, webhooks=[WebhookTarget(url="http://127.0.0.1:9/")])
    notifications = AlertNotifications(config, clock=FakeClock(T0 + 20))
    engine = alert_engine(demo_site, db, pump_rules(demo_site))
    engine.recorders.append(notifications.record)

    def the_change_fails(session: Any, events: Any) -> None:
        raise RuntimeError("the alert change failed after its notification was written")

    engine.recorders.append(the_change_fails)
    with pytest.raises(RuntimeError):
        engine.process([amps(0, 30), amps(10, 31), amps(20, 32)])
    with db.session() as s:
        assert s.scalars(select(Alert)).all() == []
        state = s.get(NotificationState, 1)
        assert state is not None and state.data.get("groups", []) == []
    assert outbox_messages(db) == []  # rolled back with the change

    engine.recorders.remove(the_change_fails)
    engine.process([amps(30, 30), amps(40, 31), amps(50, 32)])
    (message,) = outbox_messages(db)  # committed with the change, before any flush
    assert (message.kind, message.topic) == (KIND, "firing")
    assert message.payload["events"][0]["asset_id"] == "pump-1"


def test_two_dispatchers_never_send_one_notification_twice_at_the_same_time(
    db_both: Database, receiver: Receiver
) -> None:
    db = db_both
    config = Notifications(
        webhooks=[WebhookTarget(url=f"{receiver.url}/{path}") for path in ("a", "b", "c")]
    )
    notifications = AlertNotifications(config)
    now = time.time()
    batch = [
        Notification(
            "bldg-a",
            "firing",
            (event(asset=f"pump-{i}"),),
            (target,),
            now,
            (key,),
        )
        for i in range(10)
        for key, target in notifications.targets.items()
    ]
    with db.session() as s:
        notifications.enqueue(s, batch)
    other_process = Database(db.url)  # its own engine and connections
    pair = [
        outbox.Dispatcher(db, [notifications.channel()], batch_size=2),
        outbox.Dispatcher(other_process, [AlertNotifications(config).channel()], batch_size=2),
    ]
    start = threading.Barrier(2)

    def run(d: outbox.Dispatcher) -> None:
        start.wait()
        for _ in range(200):
            d.deliver_all()
            if all(m.delivered_at is not None for m in outbox_messages(db)):
                return
            time.sleep(0.005)

    threads = [threading.Thread(target=run, args=(d,)) for d in pair]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        other_process.dispose()
    for path in ("a", "b", "c"):
        got = [b["alerts"][0]["asset_id"] for b in receiver.bodies(f"/{path}")]
        assert got == [f"pump-{i}" for i in range(10)]  # each once, and in order
    assert all(m.delivered_at is not None and m.attempts == 1 for m in outbox_messages(db))
