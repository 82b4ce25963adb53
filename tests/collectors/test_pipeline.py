"""The reading pipeline: every consumer gets every reading, and failures are retried."""

from __future__ import annotations

import asyncio
import logging

import pytest

from collectors.pipeline import Pipeline
from collectors.readings import Quality, Reading


def batch(n: int, start: int = 0) -> list[Reading]:
    return [Reading(float(start + i), "a", "d", "p", float(i), "", Quality.good) for i in range(n)]


def test_every_consumer_receives_every_reading_in_order() -> None:
    got: dict[str, list[float]] = {"a": [], "b": []}

    async def run() -> None:
        p = Pipeline()
        p.add("a", lambda rs: got["a"].extend(r.ts for r in rs))
        p.add("b", lambda rs: got["b"].extend(r.ts for r in rs))
        await p.start()
        for k in range(10):
            p.publish(batch(100, k * 100))
        assert await p.flush(timeout=10)
        await p.stop()

    asyncio.run(run())
    assert got["a"] == got["b"] == [float(i) for i in range(1000)]


def test_failing_consumer_retries_the_same_batch_until_it_succeeds() -> None:
    calls: list[int] = []
    stored: list[float] = []

    def flaky(rs: list[Reading]) -> None:
        calls.append(len(rs))
        if len(calls) < 3:
            raise OSError("disk busy")
        stored.extend(r.ts for r in rs)

    async def run() -> None:
        p = Pipeline()
        p.add("flaky", flaky)
        await p.start()
        p.publish(batch(5))
        assert await p.flush(timeout=10)
        await p.stop()

    asyncio.run(run())
    assert stored == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert len(calls) == 3


def test_stopping_with_unhandled_readings_says_how_many(caplog: pytest.LogCaptureFixture) -> None:
    def broken(_rs: list[Reading]) -> None:
        raise OSError("gone")

    async def run() -> bool:
        p = Pipeline()
        p.add("broken", broken)
        await p.start()
        p.publish(batch(7))
        flushed = await p.flush(timeout=0.3)
        await p.stop()
        return flushed

    with caplog.at_level(logging.ERROR, logger="collectors.pipeline"):
        assert asyncio.run(run()) is False
    assert "consumer broken stopped with 7 readings not handled" in caplog.text
