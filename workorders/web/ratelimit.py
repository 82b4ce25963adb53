"""Token buckets for the public report page: one per client address and one per asset.

There is deliberately no bucket for everyone together: a global budget lets a handful of
addresses lock every occupant of the compound out. Per client, a real occupant (or a building
behind one NAT address) gets `per_client` reports per window; per asset, a flood aimed at one
asset's QR code fills that asset's bucket and leaves every other asset's page working.

A request spends its tokens only once it has passed its CSRF check (`take`); before reading an
upload the route asks `wait` whether the buckets have any left at all, which spends nothing.

In memory, per process: the page runs in the one API process, and a restart forgiving the
counts is harmless. The client address comes from core.clientaddr, which believes
X-Forwarded-For only from PLANTROOM_TRUSTED_PROXIES.
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


class _Buckets:
    """Buckets of one capacity by key, refilling over the window; the oldest forgotten first."""

    def __init__(self, capacity: int, window: float, max_keys: int):
        self.capacity = capacity
        self.window = window
        self.max_keys = max_keys
        self._items: dict[str, _Bucket] = {}

    def get(self, key: str, now: float) -> _Bucket:
        b = self._items.get(key)
        if b is None:
            self._prune(now)
            b = self._items[key] = _Bucket(float(self.capacity), now)
        b.tokens = min(
            float(self.capacity), b.tokens + (now - b.updated) * self.capacity / self.window
        )
        b.updated = now
        return b

    def wait(self, b: _Bucket) -> float:
        return max(0.0, (1.0 - b.tokens) * self.window / self.capacity)

    def _prune(self, now: float) -> None:
        if len(self._items) < self.max_keys:
            return
        # Buckets that have filled up again carry no information: forget them first.
        for key in [k for k, b in self._items.items() if now - b.updated >= self.window]:
            del self._items[key]
        if len(self._items) >= self.max_keys:
            oldest = sorted(self._items, key=lambda k: self._items[k].updated)
            for key in oldest[: len(oldest) - self.max_keys + 1]:
                del self._items[key]


class RequestLimiter:
    """Allow per_client reports per window from one address and per_asset reports per window
    about one asset; each bucket refills smoothly over the window."""

    def __init__(
        self,
        *,
        per_client: int = 20,
        per_asset: int = 10,
        window: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 10_000,
    ):
        if per_client < 1 or per_asset < 1 or window <= 0:
            raise ValueError("limits must be at least 1 request in a positive window")
        self.window = window
        self._clock = clock
        self._clients = _Buckets(per_client, window, max_keys)
        self._assets = _Buckets(per_asset, window, max_keys)
        self._lock = threading.Lock()

    def wait(self, client: str, asset: str) -> float:
        """Seconds until a report from client about asset would be allowed (0: now); spends
        nothing."""
        with self._lock:
            now = self._clock()
            mine, its = self._clients.get(client, now), self._assets.get(asset, now)
            return max(self._clients.wait(mine), self._assets.wait(its))

    def take(self, client: str, asset: str) -> float:
        """Spend one report for client and asset: 0 when allowed, else the seconds until it
        would be (nothing spent then)."""
        with self._lock:
            now = self._clock()
            mine, its = self._clients.get(client, now), self._assets.get(asset, now)
            if mine.tokens >= 1.0 and its.tokens >= 1.0:
                mine.tokens -= 1.0
                its.tokens -= 1.0
                return 0.0
            return max(self._clients.wait(mine), self._assets.wait(its))

    def retry_after(self, wait: float) -> int:
        """A Retry-After value in whole seconds, at least 1."""
        return max(1, math.ceil(wait))
