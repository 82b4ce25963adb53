"""Token buckets for the public report page: one per client address and one for everyone.

In memory, per process: the page runs in the one API process, and a restart forgiving the
counts is harmless. Behind a reverse proxy, run uvicorn with --proxy-headers and
--forwarded-allow-ips so that request.client is the occupant's address, not the proxy's.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RequestLimiter:
    """Allow per_client requests per window from one address and overall requests per window
    from all addresses together; each refills smoothly over the window."""

    def __init__(
        self,
        *,
        per_client: int = 5,
        overall: int = 60,
        window: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = 10_000,
    ):
        if per_client < 1 or overall < 1 or window <= 0:
            raise ValueError("limits must be at least 1 request in a positive window")
        self.per_client = per_client
        self.overall = overall
        self.window = window
        self._clock = clock
        self._max_clients = max_clients
        self._clients: dict[str, _Bucket] = {}
        self._all = _Bucket(float(overall), clock())
        self._lock = threading.Lock()

    def _refill(self, b: _Bucket, capacity: int, now: float) -> None:
        b.tokens = min(float(capacity), b.tokens + (now - b.updated) * capacity / self.window)
        b.updated = now

    def _wait(self, b: _Bucket, capacity: int) -> float:
        return max(0.0, (1.0 - b.tokens) * self.window / capacity)

    def take(self, client: str) -> float:
        """Spend one request for client: 0 when allowed, else the seconds until it would be."""
        with self._lock:
            now = self._clock()
            mine = self._clients.get(client)
            if mine is None:
                self._prune(now)
                mine = self._clients[client] = _Bucket(float(self.per_client), now)
            self._refill(mine, self.per_client, now)
            self._refill(self._all, self.overall, now)
            if mine.tokens >= 1.0 and self._all.tokens >= 1.0:
                mine.tokens -= 1.0
                self._all.tokens -= 1.0
                return 0.0
            return max(self._wait(mine, self.per_client), self._wait(self._all, self.overall))

    def retry_after(self, wait: float) -> int:
        """A Retry-After value in whole seconds, at least 1."""
        return max(1, math.ceil(wait))

    def _prune(self, now: float) -> None:
        if len(self._clients) < self._max_clients:
            return
        # Buckets that have filled up again carry no information: forget them first.
        full = self.window  # seconds after which any bucket is full again
        for key in [k for k, b in self._clients.items() if now - b.updated >= full]:
            del self._clients[key]
        if len(self._clients) >= self._max_clients:
            oldest = sorted(self._clients, key=lambda k: self._clients[k].updated)
            for key in oldest[: len(oldest) - self._max_clients + 1]:
                del self._clients[key]
