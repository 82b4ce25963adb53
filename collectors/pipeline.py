"""Fan readings out to their consumers, each with its own queue so a slow one delays no other.

A consumer that fails keeps its batch and tries again with backoff: readings are not dropped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from collectors.readings import Reading

log = logging.getLogger(__name__)


@dataclass
class _Consumer:
    name: str
    fn: Callable[[list[Reading]], object]
    queue: asyncio.Queue[list[Reading]] = field(default_factory=asyncio.Queue)
    task: asyncio.Task[None] | None = None
    delivered: int = 0
    failures: int = 0
    queued: int = 0
    busy: int = 0


class Pipeline:
    """publish() from the event loop; each consumer runs its batches in a worker thread."""

    def __init__(self) -> None:
        self.consumers: list[_Consumer] = []

    def add(self, name: str, fn: Callable[[list[Reading]], object]) -> None:
        """Register a consumer (sync function called in a thread)."""
        self.consumers.append(_Consumer(name, fn))

    def publish(self, readings: list[Reading]) -> None:
        """Queue a batch for every consumer."""
        if readings:
            for c in self.consumers:
                c.queue.put_nowait(readings)
                c.queued += len(readings)

    async def _run(self, c: _Consumer) -> None:
        while True:
            batch = await c.queue.get()
            while not c.queue.empty() and len(batch) < 20_000:
                batch = batch + c.queue.get_nowait()
            c.queued -= len(batch)
            c.busy = len(batch)
            # Until it succeeds or the pipeline stops (stop() reports what was left): a consumer
            # is never given up on, so no reading is dropped silently.
            backoff, tries = 0.5, 0
            while True:
                try:
                    await asyncio.to_thread(c.fn, batch)
                    c.delivered += len(batch)
                    break
                except Exception:
                    c.failures += 1
                    tries += 1
                    log.exception(
                        "consumer %s failed on %d readings (try %d)", c.name, len(batch), tries
                    )
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 30.0)
            c.busy = 0

    async def start(self) -> None:
        """Start one worker per consumer."""
        for c in self.consumers:
            c.task = asyncio.create_task(self._run(c), name=f"consumer:{c.name}")

    def pending(self, c: _Consumer) -> int:
        """Readings queued for or being handled by consumer c."""
        return c.queued + c.busy

    async def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every consumer has handled what was published (or timeout)."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while any(self.pending(c) for c in self.consumers):
            if loop.time() >= end:
                return False
            await asyncio.sleep(0.02)
        return True

    async def stop(self) -> None:
        """Stop the workers; readings they could not handle are reported, not dropped silently."""
        for c in self.consumers:
            left = self.pending(c)
            if left:
                log.error("consumer %s stopped with %d readings not handled", c.name, left)
            if c.task:
                c.task.cancel()
        await asyncio.gather(*(c.task for c in self.consumers if c.task), return_exceptions=True)
