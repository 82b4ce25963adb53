"""Webhooks: signed deliveries to a real HTTP receiver, retries with backoff, the outbox's
transactional behaviour, concurrent dispatchers, and the admin-only REST API."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from core.audit import AuditEntry
from core.auth import service as auth
from core.auth.models import Role
from core.auth.service import Principal
from core.db import Database, utcnow
from workorders.webhooks import service as webhooks
from workorders.webhooks.dispatch import WebhookDispatcher
from workorders.webhooks.models import Webhook, WebhookDelivery

ADMIN = Principal(username="alice", role=Role.admin)
SECRET = "s3cret-for-the-tests-0123456789"


# --- a real receiver ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    """One request as the receiver saw it."""

    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def doc(self) -> dict[str, Any]:
        """The JSON body."""
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


class Receiver:
    """An HTTP server on 127.0.0.1 that records every POST and answers with the next status
    from `answers` (then 200)."""

    def __init__(self, answers: list[int] | None = None):
        self.answers = list(answers or [])
        self.got: list[Received] = []
        self._cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver._cond:
                    receiver.got.append(
                        Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                    )
                    code = receiver.answers.pop(0) if receiver.answers else 200
                    receiver._cond.notify_all()
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, name="test-receiver")
        self.thread.start()

    def url(self, path: str = "/hook") -> str:
        """Where the receiver listens."""
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def wait_for(self, n: int, timeout: float = 15.0) -> bool:
        """Wait until n requests have arrived."""
        with self._cond:
            return self._cond.wait_for(lambda: len(self.got) >= n, timeout=timeout)

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A running receiver that answers 200."""
    r = Receiver()
    yield r
    r.stop()


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> dt.datetime:
        """Move on and return the new time."""
        self.now += dt.timedelta(seconds=seconds)
        return self.now


@pytest.fixture
def dispatchers() -> Iterator[list[WebhookDispatcher]]:
    """Dispatchers made by a test, closed after it."""
    made: list[WebhookDispatcher] = []
    yield made
    for d in made:
        d.stop()


def _dispatcher(
    made: list[WebhookDispatcher], db: Database, clock: Clock | None = None, **kw: Any
) -> WebhookDispatcher:
    d = WebhookDispatcher(db, clock=clock or utcnow, **kw)
    made.append(d)
    return d


def _hook(db: Database, url: str, events: list[str] | None = None) -> int:
    with db.session() as s:
        return webhooks.create_hook(s, who=ADMIN, url=url, events=events or ["*"], secret=SECRET).id


def _enqueue(db: Database, event: str = "workorder.created", **payload: Any) -> None:
    with db.session() as s:
        webhooks.enqueue(s, event=event, payload=payload or {"workorder": {"id": 1}})


def _delivery(db: Database, delivery_id: int) -> WebhookDelivery:
    with db.session() as s:
        d = s.get(WebhookDelivery, delivery_id)
        assert d is not None
        return d


def _deliveries(db: Database) -> list[WebhookDelivery]:
    with db.session() as s:
        return list(s.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- the dispatcher -----------------------------------------------------------------------------


def test_delivery_arrives_with_a_signature_the_receiver_verifies(
    db: Database, receiver: Receiver, dispatchers: list[WebhookDispatcher]
) -> None:
    _hook(db, receiver.url())
    _enqueue(db, "workorder.status", workorder={"id": 7, "status": "acknowledged"})
    clock = Clock()
    assert _dispatcher(dispatchers, db, clock).deliver_due() == 1

    [got] = receiver.got
    ts, sig = got.headers["x-plantroom-timestamp"], got.headers["x-plantroom-signature"]
    # The receiver's side, as documented: HMAC-SHA256 of f"{timestamp}.{raw body}".
    expected = hmac.new(SECRET.encode(), f"{ts}.".encode() + got.body, hashlib.sha256)
    assert hmac.compare_digest(sig, "sha256=" + expected.hexdigest())
    assert int(ts) == int(clock.now.timestamp())
    assert not webhooks.verify(SECRET, ts, got.body + b" ", sig, now=clock.now.timestamp())
    [d] = _deliveries(db)
    assert got.headers["x-plantroom-event"] == "workorder.status"
    assert got.headers["x-plantroom-delivery"] == str(d.id)
    assert got.doc["event"] == "workorder.status" and got.doc["id"] == d.id
    assert got.doc["data"] == {"workorder": {"id": 7, "status": "acknowledged"}}
    assert d.delivered_at == clock.now and d.attempts == 1 and d.last_status == 200


def test_receiver_failing_twice_gets_the_event_on_the_third_attempt_after_backoff(
    db: Database, dispatchers: list[WebhookDispatcher]
) -> None:
    flaky = Receiver(answers=[500, 500])
    try:
        _hook(db, flaky.url())
        _enqueue(db)
        clock = Clock()
        t0 = clock.now
        d = _dispatcher(dispatchers, db, clock, base_backoff=5.0)
        assert d.deliver_due() == 1
        [row] = _deliveries(db)
        assert (row.attempts, row.last_status) == (1, 500)
        assert row.next_attempt_at == t0 + dt.timedelta(seconds=5)  # 5 × 2^0
        assert d.deliver_due(clock.advance(4.9)) == 0  # not due yet
        assert d.deliver_due(t0 + dt.timedelta(seconds=5)) == 1
        row = _delivery(db, row.id)
        assert row.attempts == 2 and row.last_error == "HTTP 500 Internal Server Error"
        assert row.next_attempt_at == t0 + dt.timedelta(seconds=5 + 10)  # 5 × 2^1 later
        assert d.deliver_due(t0 + dt.timedelta(seconds=14.9)) == 0
        assert d.deliver_due(t0 + dt.timedelta(seconds=15)) == 1

        assert len(flaky.got) == 3
        assert {r.headers["x-plantroom-delivery"] for r in flaky.got} == {str(row.id)}
        row = _delivery(db, row.id)
        assert row.delivered_at == t0 + dt.timedelta(seconds=15)
        assert (row.attempts, row.last_status, row.failed_at) == (3, 200, None)
    finally:
        flaky.stop()


def test_backoff_doubles_up_to_its_cap() -> None:
    waits = [webhooks.backoff(n, 5.0, 3600.0).total_seconds() for n in (1, 2, 3, 4, 10, 11, 500)]
    assert waits == [5, 10, 20, 40, 2560, 3600, 3600]


def test_dead_url_ends_failed_after_max_attempts_without_stopping_other_deliveries(
    db: Database, receiver: Receiver, dispatchers: list[WebhookDispatcher]
) -> None:
    dead = _hook(db, f"http://127.0.0.1:{_free_port()}/nobody-listens")
    _hook(db, receiver.url())
    _enqueue(db)
    clock = Clock()
    d = _dispatcher(dispatchers, db, clock, max_attempts=3)
    attempted = [d.deliver_due()] + [d.deliver_due(clock.advance(3600)) for _ in range(3)]

    assert attempted == [2, 1, 1, 0]  # both, then the dead one twice more, then nothing
    [bad] = [x for x in _deliveries(db) if x.webhook_id == dead]
    assert bad.attempts == 3 and bad.failed_at is not None and bad.delivered_at is None
    assert bad.last_status is None and "ConnectError" in bad.last_error
    assert len(receiver.got) == 1


def test_receiver_that_never_answers_times_out_and_is_retried_later(
    db: Database, dispatchers: list[WebhookDispatcher]
) -> None:
    with socket.socket() as silent:  # accepts connections (backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        _hook(db, f"http://127.0.0.1:{silent.getsockname()[1]}/slow")
        _enqueue(db)
        clock = Clock()
        assert _dispatcher(dispatchers, db, clock, timeout=0.3).deliver_due() == 1
    [row] = _deliveries(db)
    assert row.delivered_at is None and row.failed_at is None and row.attempts == 1
    assert "Timeout" in row.last_error
    assert row.next_attempt_at == clock.now + dt.timedelta(seconds=5)


def test_rolled_back_change_sends_nothing(
    db: Database, receiver: Receiver, dispatchers: list[WebhookDispatcher]
) -> None:
    _hook(db, receiver.url())
    with pytest.raises(RuntimeError), db.session() as s:
        assert webhooks.enqueue(s, event="workorder.created", payload={"workorder": {}}) == 1
        s.flush()
        raise RuntimeError("the change failed")
    assert _dispatcher(dispatchers, db).deliver_due() == 0
    assert _deliveries(db) == [] and receiver.got == []


def test_webhook_gets_only_the_events_it_subscribed_to(
    db: Database, receiver: Receiver, dispatchers: list[WebhookDispatcher]
) -> None:
    _hook(db, receiver.url("/status-only"), ["workorder.status"])
    _hook(db, receiver.url("/all"), ["*"])
    _enqueue(db, "workorder.created")
    _enqueue(db, "workorder.status")
    _dispatcher(dispatchers, db).deliver_due()

    got = sorted((r.path, r.headers["x-plantroom-event"]) for r in receiver.got)
    assert got == [
        ("/all", "workorder.created"),
        ("/all", "workorder.status"),
        ("/status-only", "workorder.status"),
    ]


def test_two_dispatchers_running_at_once_deliver_each_delivery_once(
    db: Database, receiver: Receiver, dispatchers: list[WebhookDispatcher]
) -> None:
    _hook(db, receiver.url())
    for i in range(30):
        _enqueue(db, workorder={"id": i})
    other_process = Database(db.url)  # its own engine and connections, like another process
    clock = Clock()
    pair = [
        _dispatcher(dispatchers, db, clock, batch_size=3),
        _dispatcher(dispatchers, other_process, clock, batch_size=3),
    ]
    start = threading.Barrier(2)
    counts = [0, 0]

    def run(i: int) -> None:
        start.wait()
        while (n := pair[i].deliver_due()) > 0:
            counts[i] += n

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        other_process.dispose()

    ids = [r.headers["x-plantroom-delivery"] for r in receiver.got]
    assert sorted(ids) == sorted(str(d.id) for d in _deliveries(db))  # each exactly once
    assert len(ids) == 30 == sum(counts)
    assert all(d.delivered_at is not None and d.attempts == 1 for d in _deliveries(db))


def test_background_thread_delivers_a_committed_event_and_stops_cleanly(
    db: Database, receiver: Receiver
) -> None:
    _hook(db, receiver.url())
    d = WebhookDispatcher(db)
    d.start()
    try:
        _enqueue(db)
        assert receiver.wait_for(1)
    finally:
        d.stop()
    assert not [t for t in threading.enumerate() if t.name == "webhook-dispatcher"]
    assert _deliveries(db)[0].delivered_at is not None


def test_deactivated_webhook_gets_no_new_events(
    db: Database, receiver: Receiver, dispatchers: list[WebhookDispatcher]
) -> None:
    hook_id = _hook(db, receiver.url())
    with db.session() as s:
        hook = s.get(Webhook, hook_id)
        assert hook is not None
        webhooks.deactivate_hook(s, hook, who=ADMIN)
    _enqueue(db)
    assert _dispatcher(dispatchers, db).deliver_due() == 0
    assert _deliveries(db) == [] and receiver.got == []


def test_deliveries_wait_while_a_webhook_is_off_and_go_when_it_is_on_again(
    db: Database, receiver: Receiver, dispatchers: list[WebhookDispatcher]
) -> None:
    hook_id = _hook(db, receiver.url())
    _enqueue(db)
    with db.session() as s:
        hook = s.get(Webhook, hook_id)
        assert hook is not None
        webhooks.deactivate_hook(s, hook, who=ADMIN)
    clock = Clock()
    d = _dispatcher(dispatchers, db, clock)
    assert d.deliver_due() == 0 and d.deliver_due(clock.advance(3600)) == 0
    [row] = _deliveries(db)
    assert row.attempts == 0 and row.delivered_at is None and row.failed_at is None
    assert receiver.got == []
    with db.session() as s:
        hook = s.get(Webhook, hook_id)
        assert hook is not None
        webhooks.update_hook(s, hook, who=ADMIN, active=True)
    assert d.deliver_due(utcnow()) == 1  # due at once, not at the next look
    assert [r.headers["x-plantroom-delivery"] for r in receiver.got] == [str(row.id)]


# --- the API ------------------------------------------------------------------------------------


def _bearer(
    db: Database,
    username: str,
    role: Role,
    org: str | None = None,
    scopes: tuple[str, ...] = ("read", "write"),
) -> dict[str, str]:
    with db.session() as s:
        organisation = auth.get_or_create_organisation(s, org) if org else None
        user = auth.create_user(
            s, username=username, password="pw-" + username, role=role, organisation=organisation
        )
        token = auth.create_token(s, user=user, name="test", scopes=scopes)
        return {"Authorization": f"Bearer {token}"}


def _create(client: TestClient, url: str, **body: Any) -> dict[str, Any]:
    r = client.post("/api/v1/webhooks", json={"url": url, **body})
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


def test_only_admins_manage_webhooks(client: TestClient, db: Database) -> None:
    hook = _create(client, "http://127.0.0.1:9/hook")
    calls = [
        ("GET", "/api/v1/webhooks", None),
        ("POST", "/api/v1/webhooks", {"url": "http://127.0.0.1:9/x"}),
        ("GET", f"/api/v1/webhooks/{hook['id']}", None),
        ("PATCH", f"/api/v1/webhooks/{hook['id']}", {"active": False}),
        ("DELETE", f"/api/v1/webhooks/{hook['id']}", None),
        ("GET", f"/api/v1/webhooks/{hook['id']}/deliveries", None),
        ("POST", f"/api/v1/webhooks/{hook['id']}/test", None),
        ("POST", f"/api/v1/webhooks/{hook['id']}/deliveries/1/redeliver", None),
    ]
    everyone_else = [
        _bearer(db, "eng", Role.engineer),
        _bearer(db, "tech", Role.technician),
        _bearer(db, "lifts", Role.contractor, "Lift Co"),
        _bearer(db, "admin-without-admin-scope", Role.admin),
    ]
    for headers in everyone_else:
        for method, path, body in calls:
            r = client.request(method, path, json=body, headers=headers)
            assert r.status_code == 403, (headers, method, path, r.text)
    assert client.get(f"/api/v1/webhooks/{hook['id']}").json()["active"] is True
    assert len(client.get("/api/v1/webhooks").json()["items"]) == 1
    admin = _bearer(db, "root", Role.admin, scopes=("read", "write", "admin"))
    assert client.get("/api/v1/webhooks", headers=admin).status_code == 200


def test_webhook_api_needs_a_token(client: TestClient) -> None:
    assert client.get("/api/v1/webhooks", headers={"Authorization": ""}).status_code == 401


BAD_CREATES: list[tuple[dict[str, Any], str]] = [
    ({"url": "ftp://example.org/hook"}, "url"),
    ({"url": "javascript:alert(1)"}, "url"),
    ({"url": "not a url"}, "url"),
    ({"url": "http://"}, "url"),
    ({"url": "http://host:99999/"}, "url"),
    ({"url": "http://ex\x00ample.org/"}, "url"),
    ({"url": "http://example.org/" + "x" * 1000}, "url"),
    ({"events": ["*"]}, "url"),
    ({"url": "http://example.org/", "events": ["workorder.deleted"]}, "events"),
    ({"url": "http://example.org/", "events": ["*", "workorder.created"]}, "events"),
    ({"url": "http://example.org/", "events": []}, "events"),
    ({"url": "http://example.org/", "secret": "short"}, "secret"),
    ({"url": "http://example.org/", "secret": "has spaces in it, sixteen+"}, "secret"),
    ({"url": "http://example.org/", "surprise": 1}, "surprise"),
]


def test_create_refuses_bad_input_with_422_naming_the_field(client: TestClient) -> None:
    for body, field in BAD_CREATES:
        r = client.post("/api/v1/webhooks", json=body)
        assert r.status_code == 422, (body, r.text)
        assert any(d["field"].endswith(field) for d in r.json()["detail"]), (body, r.json())
    assert client.get("/api/v1/webhooks").json()["items"] == []


def test_patch_refuses_bad_url_and_events_with_422(client: TestClient) -> None:
    hook = _create(client, "https://example.org/hook")
    path = f"/api/v1/webhooks/{hook['id']}"
    assert client.patch(path, json={"url": "gopher://x"}).status_code == 422
    assert client.patch(path, json={"events": ["nope"]}).status_code == 422
    assert client.patch(path, json={"secret": "new-secret-0123456789"}).status_code == 422
    assert client.get(path).json()["url"] == "https://example.org/hook"


def test_new_webhook_shows_a_generated_secret_once(client: TestClient) -> None:
    hook = _create(client, "https://example.org/hook", events=["workorder.status"])
    assert hook["secret"].startswith("whsec_") and len(hook["secret"]) > 30
    assert hook["events"] == ["workorder.status"] and hook["active"] is True
    assert hook["created_by"] == "admin-token"
    shown = [client.get(f"/api/v1/webhooks/{hook['id']}").json()]
    shown += client.get("/api/v1/webhooks").json()["items"]
    assert all("secret" not in h for h in shown)
    assert hook["secret"] not in client.get("/api/v1/webhooks").text


def test_given_secret_is_used_to_sign(
    client: TestClient, db: Database, receiver: Receiver, dispatchers: list[WebhookDispatcher]
) -> None:
    hook = _create(client, receiver.url(), secret=SECRET)
    assert hook["secret"] == SECRET
    assert client.post(f"/api/v1/webhooks/{hook['id']}/test").status_code == 202
    clock = Clock()
    _dispatcher(dispatchers, db, clock).deliver_due()
    [got] = receiver.got
    ts = got.headers["x-plantroom-timestamp"]
    sig = got.headers["x-plantroom-signature"]
    assert webhooks.verify(SECRET, ts, got.body, sig, now=clock.now.timestamp())
    assert got.doc["event"] == "webhook.test" and got.doc["data"]["webhook_id"] == hook["id"]


def test_update_and_delete_keep_the_webhook_and_its_deliveries(
    client: TestClient, db: Database
) -> None:
    hook = _create(client, "https://example.org/hook")
    path = f"/api/v1/webhooks/{hook['id']}"
    r = client.patch(path, json={"url": "http://example.org/v2", "events": ["workorder.comment"]})
    assert r.status_code == 200, r.text
    assert (r.json()["url"], r.json()["events"]) == ("http://example.org/v2", ["workorder.comment"])
    assert client.post(f"{path}/test").status_code == 202
    assert client.delete(path).status_code == 204
    assert client.get(path).json()["active"] is False
    assert len(client.get(f"{path}/deliveries").json()["items"]) == 1
    assert client.post(f"{path}/test").status_code == 409  # switched off
    assert client.patch(path, json={"active": True}).json()["active"] is True


def test_changes_are_audited_without_the_secret(client: TestClient, db: Database) -> None:
    hook = _create(client, "https://example.org/hook")
    path = f"/api/v1/webhooks/{hook['id']}"
    client.patch(path, json={"events": ["workorder.status"]})
    client.patch(path, json={"events": ["workorder.status"]})  # no change, no entry
    client.delete(path)
    client.delete(path)  # already off, no entry
    with db.session() as s:
        trail = list(
            s.scalars(
                select(AuditEntry)
                .where(AuditEntry.entity == "webhook", AuditEntry.entity_id == str(hook["id"]))
                .order_by(AuditEntry.id)
            )
        )
    assert [e.action for e in trail] == ["create", "update", "delete"]
    assert trail[0].after == {"url": "https://example.org/hook", "events": ["*"], "active": True}
    assert (trail[1].before, trail[1].after) == (
        {"events": ["*"]},
        {"events": ["workorder.status"]},
    )
    assert (trail[2].before, trail[2].after) == ({"active": True}, {"active": False})
    assert all(e.actor == "admin-token" for e in trail)
    assert hook["secret"] not in json.dumps([(e.before, e.after) for e in trail])


def test_unknown_webhook_or_delivery_answers_404_and_odd_ids_422(client: TestClient) -> None:
    hook = _create(client, "https://example.org/hook")
    for method, path in [
        ("GET", "/api/v1/webhooks/999"),
        ("PATCH", "/api/v1/webhooks/999"),
        ("DELETE", "/api/v1/webhooks/999"),
        ("GET", "/api/v1/webhooks/999/deliveries"),
        ("POST", "/api/v1/webhooks/999/test"),
        ("POST", f"/api/v1/webhooks/{hook['id']}/deliveries/999/redeliver"),
    ]:
        r = client.request(method, path, json={} if method == "PATCH" else None)
        assert r.status_code == 404, (method, path, r.text)
    assert client.get("/api/v1/webhooks/99999999999").status_code == 422
    assert client.get("/api/v1/webhooks/0").status_code == 422
    bad = client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", params={"cursor": "x"})
    assert bad.status_code == 400
    bad = client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", params={"status": "lost"})
    assert bad.status_code == 422


def test_delivery_of_another_webhook_is_not_found_under_this_one(client: TestClient) -> None:
    a = _create(client, "https://example.org/a")
    b = _create(client, "https://example.org/b")
    d = client.post(f"/api/v1/webhooks/{a['id']}/test").json()
    r = client.post(f"/api/v1/webhooks/{b['id']}/deliveries/{d['id']}/redeliver")
    assert r.status_code == 404


def test_deliveries_filter_by_status_and_page_with_a_cursor(
    client: TestClient, db: Database, dispatchers: list[WebhookDispatcher]
) -> None:
    flaky = Receiver(answers=[200, 500])
    try:
        hook = _create(client, flaky.url())
        path = f"/api/v1/webhooks/{hook['id']}"
        ids = [client.post(f"{path}/test").json()["id"] for _ in range(3)]
        clock = Clock()
        d = _dispatcher(dispatchers, db, clock, max_attempts=1, batch_size=2)
        assert d.deliver_due() == 2  # the first two: one delivered, one failed; one pending
    finally:
        flaky.stop()

    def listed(**params: Any) -> list[int]:
        r = client.get(f"{path}/deliveries", params=params)
        assert r.status_code == 200, r.text
        return [x["id"] for x in r.json()["items"]]

    assert listed(status="delivered") == [ids[0]]
    assert listed(status="failed") == [ids[1]]
    assert listed(status="pending") == [ids[2]]
    assert listed() == ids[::-1]
    page = client.get(f"{path}/deliveries", params={"limit": 2}).json()
    rest = client.get(f"{path}/deliveries", params={"limit": 2, "cursor": page["next_cursor"]})
    assert [x["id"] for x in page["items"]] + [x["id"] for x in rest.json()["items"]] == ids[::-1]
    assert rest.json()["next_cursor"] is None
    failed = client.get(f"{path}/deliveries", params={"status": "failed"}).json()["items"][0]
    assert failed["last_status"] == 500 and failed["failed_at"] is not None
    assert failed["next_attempt_at"] is None and failed["attempts"] == 1


def test_redeliver_sends_a_finished_delivery_again_as_a_new_delivery(
    client: TestClient, db: Database, receiver: Receiver, dispatchers: list[WebhookDispatcher]
) -> None:
    hook = _create(client, receiver.url())
    path = f"/api/v1/webhooks/{hook['id']}"
    first = client.post(f"{path}/test").json()
    r = client.post(f"{path}/deliveries/{first['id']}/redeliver")
    assert r.status_code == 409  # still pending: the dispatcher retries it by itself
    d = _dispatcher(dispatchers, db)
    d.deliver_due()
    r = client.post(f"{path}/deliveries/{first['id']}/redeliver")
    assert r.status_code == 202, r.text
    again = r.json()
    assert again["id"] != first["id"] and again["status"] == "pending"
    d.deliver_due()
    assert [g.headers["x-plantroom-delivery"] for g in receiver.got] == [
        str(first["id"]),
        str(again["id"]),
    ]
    assert receiver.got[0].doc["data"] == receiver.got[1].doc["data"]


def test_work_order_created_through_the_api_is_delivered(
    client: TestClient, db: Database, receiver: Receiver, dispatchers: list[WebhookDispatcher]
) -> None:
    _create(client, receiver.url(), events=["workorder.created"], secret=SECRET)
    r = client.post("/api/v1/workorders", json={"title": "Pump 2 vibrating", "priority": "P2"})
    assert r.status_code == 201, r.text
    assert _dispatcher(dispatchers, db).deliver_due() == 1
    [got] = receiver.got
    assert got.headers["x-plantroom-event"] == "workorder.created"
    assert got.doc["data"]["workorder"]["id"] == r.json()["id"]
    assert got.doc["data"]["workorder"]["title"] == "Pump 2 vibrating"
