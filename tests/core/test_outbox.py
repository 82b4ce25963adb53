"""The outbox (core.outbox) on SQLite and PostgreSQL: leases that run out, holds, fan-outs,
per-target order and dedup keys, with a channel that POSTs to a real local HTTP receiver."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import httpx
import pytest

from core import outbox, outbox_repository
from core.db import Database, utcnow
from tests.notify_servers import Receiver

T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)


@pytest.fixture
def db(db_both: Database) -> Iterator[Database]:
    """SQLite, then PostgreSQL."""
    yield db_both


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def posting(receiver: Receiver, kind: str = "test", **options: object) -> outbox.Channel:
    """A channel that POSTs each message's payload to receiver.url + '/' + its target."""

    def send(m: outbox.Message, now: dt.datetime) -> int:
        r = httpx.post(f"{receiver.url}/{m.target}", json=m.payload, timeout=5)
        if not r.is_success:
            raise outbox.DeliveryFailed(f"HTTP {r.status_code}", status=r.status_code)
        return r.status_code

    return outbox.Channel(kind=kind, send=send, **options)  # type: ignore[arg-type]


def add(db: Database, target: str, n: int, *, kind: str = "test", when: float = 0) -> list[int]:
    with db.session() as s:
        ids = [
            outbox.enqueue(s, kind=kind, target=target, payload={"n": i}, at=at(when))
            for i in range(n)
        ]
    return [i for i in ids if i is not None]


def messages(db: Database, kind: str | None = None) -> list[outbox.Message]:
    with db.session() as s:
        return outbox_repository.messages(s, kind=kind)


def test_a_message_whose_sender_died_is_sent_again_when_its_lease_runs_out(
    db: Database, receiver: Receiver
) -> None:
    add(db, "a", 1)
    with db.session() as s:  # a dispatcher claims it, then its process dies before sending
        (claimed,) = outbox_repository.claim_due(
            s, kinds=["test"], ordered=[], now=at(1), lease_until=at(61), token="dead", limit=5
        )
    d = outbox.Dispatcher(db, [posting(receiver)])
    assert d.deliver_due(at(60)) == 0  # still leased
    assert d.deliver_due(at(61)) == 1
    assert receiver.bodies("/a") == [{"n": 0}]
    (m,) = messages(db)
    assert m.id == claimed.id and m.delivered_at == at(61) and m.attempts == 1


def test_a_hold_hands_the_message_back_without_counting_an_attempt(db: Database) -> None:
    add(db, "paused", 1)

    def send(m: outbox.Message, now: dt.datetime) -> int:
        raise outbox.Hold("switched off", retry_in=60)

    d = outbox.Dispatcher(db, [outbox.Channel(kind="test", send=send)])
    assert d.deliver_due(at(1)) == 0
    (m,) = messages(db)
    assert (m.attempts, m.next_attempt_at, m.delivered_at, m.failed_at) == (0, at(61), None, None)
    assert d.deliver_due(at(60)) == 0 and d.deliver_due(at(61)) == 0  # looked at again, held


def test_a_fan_out_writes_a_message_per_target_and_is_done_once(
    db: Database, receiver: Receiver
) -> None:
    add(db, "*", 1, kind="news")

    def fan_out(m: outbox.Message) -> list[outbox.Envelope]:
        return [outbox.Envelope("test", t, m.payload, topic="news") for t in ("a", "b")]

    channels = [outbox.Channel(kind="news", fan_out=fan_out), posting(receiver)]
    d = outbox.Dispatcher(db, channels)
    assert d.deliver_all(at(1)) == 3  # the fan-out, then a message each
    assert d.deliver_all(at(1000)) == 0
    assert sorted(p for p, _, _ in receiver.posts) == ["/a", "/b"]
    (news,) = messages(db, "news")
    assert news.delivered_at is not None
    assert [(m.target, m.topic) for m in messages(db, "test")] == [("a", "news"), ("b", "news")]


def test_an_ordered_target_gets_its_messages_one_at_a_time_in_order(
    db: Database, receiver: Receiver
) -> None:
    add(db, "a", 3)
    add(db, "b", 1)
    receiver.statuses = [503]  # the first message to a fails once
    d = outbox.Dispatcher(db, [posting(receiver, ordered=True, base_backoff=10)])
    d.deliver_all(at(1))
    # b is not held back by a; a's later messages wait for its first one
    assert [p for p, _, _ in receiver.posts] == ["/a", "/b"]
    assert d.deliver_all(at(10)) == 0
    d.deliver_all(at(11))
    assert [b["n"] for b in receiver.bodies("/a")] == [0, 0, 1, 2]


def test_a_channel_with_max_attempts_fails_the_message_and_keeps_it(
    db: Database, receiver: Receiver
) -> None:
    add(db, "a", 1)
    receiver.statuses = [500, 500]
    d = outbox.Dispatcher(db, [posting(receiver, max_attempts=2, base_backoff=1)])
    assert d.deliver_due(at(1)) == 1 and d.deliver_due(at(2)) == 1
    assert d.deliver_due(at(1000)) == 0
    (m,) = messages(db)
    assert (m.attempts, m.failed_at, m.last_status, m.last_error) == (2, at(2), 500, "HTTP 500")


def test_messages_of_a_kind_without_a_channel_wait_for_a_dispatcher_that_has_one(
    db: Database, receiver: Receiver
) -> None:
    add(db, "a", 1, kind="other")
    assert outbox.Dispatcher(db, [posting(receiver)]).deliver_all(at(1)) == 0
    assert outbox.Dispatcher(db, [posting(receiver, kind="other")]).deliver_all(at(1)) == 1
    assert receiver.bodies("/a") == [{"n": 0}]


def test_a_dedup_key_adds_a_message_once(db: Database) -> None:
    with db.session() as s:
        first = outbox.enqueue(s, kind="test", target="a", payload={}, dedup_key="k")
        again = outbox.enqueue(s, kind="test", target="a", payload={}, dedup_key="k")
        other = outbox.enqueue(s, kind="other", target="a", payload={}, dedup_key="k")
    assert first is not None and again is None and other is not None
    with db.session() as s:
        assert outbox.enqueue(s, kind="test", target="b", payload={}, dedup_key="k") is None
    assert len(messages(db)) == 2


def test_a_rolled_back_change_leaves_no_message(db: Database) -> None:
    with pytest.raises(RuntimeError), db.session() as s:
        outbox.enqueue(s, kind="test", target="a", payload={}, at=utcnow())
        raise RuntimeError("the change failed")
    assert messages(db) == []
