"""uvicorn inside a process that handles its own signals (the demo, the collector's /metrics)."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

import uvicorn


class EmbeddedServer(uvicorn.Server):
    """uvicorn without its own signal handling: the owner stops it by setting should_exit."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Leave SIGINT and SIGTERM to the owner."""
        yield


def settle_heap() -> None:
    """Call once start-up is done, before serving: collect, then move every object start-up
    built (modules, ORM mappers, pydantic schemas, the app) out of the garbage collector's sight.

    Objects of requests in flight survive young collections and push the collector into full
    ones every second or so under load. Each full collection walked all ~175,000 start-up
    objects and held the event loop for about 100 ms, which was the p99 latency of every
    request (bench/workorders_list). Frozen, they are skipped: full collections took 10-20 ms.
    Frozen objects are never freed, which is right for what lives as long as the server.
    """
    gc.collect()
    gc.freeze()
