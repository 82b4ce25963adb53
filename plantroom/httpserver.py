"""uvicorn inside a process that handles its own signals (the demo, the collector's /metrics)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import uvicorn


class EmbeddedServer(uvicorn.Server):
    """uvicorn without its own signal handling: the owner stops it by setting should_exit."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Leave SIGINT and SIGTERM to the owner."""
        yield
