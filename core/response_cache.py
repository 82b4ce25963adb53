"""Serialized answers of a read endpoint, reused while the data behind them is unchanged.

Tablets poll their work-order lists all day, and most polls find nothing new. Building a list
means a query, ORM rows, pydantic models and JSON: milliseconds of CPU each time. A
ResponseCache keeps the JSON bytes of recent answers, keyed by everything the answer depends on
(the caller's role and visibility, and the query), each stamped with the change counter that
covers its tables (core.changes). A request reads the counter (shared with every request
arriving meanwhile, and with its own authentication) and reuses the bytes only if the counters
have not moved since they were made. Any committed change, from any process, moves them.

The counter is read before the answer is built, so an answer is never stamped newer than the
data it was built from; at worst a change that lands during the build costs one extra rebuild.

Each answer carries a strong ETag (a hash of its bytes); If-None-Match with it answers 304, so
a tablet whose list is unchanged downloads nothing even after unrelated changes moved the
counter.

`CachedRoute` answers a kept answer before FastAPI resolves the route's dependencies at all:
for a request whose bearer token the TokenCache knows (still valid, same scopes) and whose
caller and query string have a current answer, it checks the token's scope and sends the bytes.
Every other request (a new token, a query not seen, a changed counter, anything unusual in the
Authorization header) goes through the route as usual, and its answer is kept for next time. The
key is the caller (user, name, role, organisation: all an answer depends on besides the query)
and the raw query string, whose validation the first request did; an invalid one is answered
4xx by the full route and never kept. A route using it must depend on nothing besides the
caller and the query string, since its other dependencies do not run for kept answers.

Memory is bounded by entries and by bytes, least recently used dropped first.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Hashable
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response
from fastapi.concurrency import run_in_threadpool

from core.auth.cache import TokenCache
from core.auth.deps import bearer_token, required_scope
from core.auth.service import Principal
from core.changes import Versions, request_versions
from core.concurrency import none_match
from core.db import CommittingRoute

MAX_ENTRIES = 4096
MAX_BYTES = 64 * 2**20


@dataclass(frozen=True)
class _Entry:
    #: The counters the answer depends on, and their values when it was made.
    counters: tuple[str, ...]
    stamps: tuple[int, ...]
    body: bytes
    etag: str


def _stamps(counters: tuple[str, ...], versions: Versions) -> tuple[int, ...]:
    return tuple(versions.get(name, 0) for name in counters)


class ResponseCache:
    """JSON answers keyed by caller and query, valid while their change counters stand still."""

    def __init__(self, *, max_entries: int = MAX_ENTRIES):
        self.max_entries = max_entries
        self.hits = 0
        self.builds = 0
        self._bytes = 0
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    @staticmethod
    def key(request: Request, who: Principal) -> Hashable:
        """What an answer depends on besides the data: who asks, at which path, with which
        query string."""
        caller = (who.user_id, who.username, who.role.value, who.organisation_id)
        return (caller, request.scope["path"], request.scope["query_string"])

    def kept(self, key: Hashable, versions: Versions | None) -> _Entry | None:
        """The kept answer for key if it is still current."""
        entry = self._entries.get(key)
        if entry is None or versions is None or _stamps(entry.counters, versions) != entry.stamps:
            return None
        self.hits += 1
        self._entries.move_to_end(key)
        return entry

    async def answer(
        self,
        request: Request,
        who: Principal,
        counters: tuple[str, ...],
        build: Callable[[], bytes],
    ) -> Response:
        """The answer to request: the kept bytes if still current, else build() (run in a
        worker thread, returning JSON bytes), kept for next time, valid while the change
        counters named stand still; 304 when If-None-Match names it."""
        versions = await request_versions(request)
        key = self.key(request, who)
        entry = self.kept(key, versions)
        if entry is None:
            # The counter was read before building: the answer is never stamped newer than
            # the data it was made from.
            body = await run_in_threadpool(build)
            self.builds += 1
            tag = hashlib.blake2b(body, digest_size=12).hexdigest()
            stamps = _stamps(counters, versions or {})
            entry = _Entry(counters, stamps, body, f'"{tag}"')
            if versions is not None:
                self._keep(key, entry)
        return self.respond(request, entry)

    @staticmethod
    def respond(request: Request, entry: _Entry) -> Response:
        """The HTTP answer for an entry: 304 if the client has it, else the JSON."""
        headers = {"ETag": entry.etag, "Cache-Control": "private, no-cache"}
        if none_match(request, entry.etag):
            return Response(status_code=304, headers=headers)
        return Response(entry.body, media_type="application/json", headers=headers)

    def _keep(self, key: Hashable, entry: _Entry) -> None:
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= len(old.body)
        if len(entry.body) > MAX_BYTES:
            return
        self._entries[key] = entry
        self._bytes += len(entry.body)
        while len(self._entries) > self.max_entries or self._bytes > MAX_BYTES:
            _, dropped = self._entries.popitem(last=False)
            self._bytes -= len(dropped.body)


async def kept_answer(request: Request, cache: ResponseCache) -> Response | None:
    """A current kept answer for request if its token and answer are known; else None."""
    token = bearer_token(request)
    if token is None:
        return None
    versions = await request_versions(request)
    tokens: TokenCache = request.app.state.tokens
    who = tokens.cached(token, versions, request.app.state.settings.admin_token)
    if who is None or not who.has_scope(required_scope(request.method)):
        return None
    entry = cache.kept(cache.key(request, who), versions)
    return None if entry is None else cache.respond(request, entry)


class CachedRoute(CommittingRoute):
    """A GET route answering from the app's `list_cache` before resolving its dependencies
    (see the module's docstring); the endpoint builds through `ResponseCache.answer`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The route's handler, preceded by the look-up."""
        full = super().get_route_handler()

        async def handler(request: Request) -> Response:
            kept = await kept_answer(request, request.app.state.list_cache)
            return kept if kept is not None else await full(request)

        return handler
