"""Change counters: how a process learns, cheaply and exactly, that data it has cached is stale.

The database keeps counters in `change_counters`. Triggers that migration 0005 installs bump
them in the same transaction as any insert, update or delete of the tables they cover, whichever
process or tool makes the change (the API, `plantroom collect` opening a work order from an
alert, the CLI revoking a token, someone at a SQL prompt):

- WORKORDERS: any work order.
- `assignee_counter(u)`: work orders assigned to user u, before or after the change (so a
  reassignment bumps both people's); `contractor_counter(c)` likewise for a contractor. A list
  confined to one assignee or one contractor depends only on theirs, and is not made stale by
  everybody else's work.
- ASSETS: assets (lists show each work order's asset name).
- ACCESS: users (username, role, organisation, active) and api_tokens (the hash, owner, scopes,
  expiry, revocation; not the last-used stamp).

A counter without a row has never moved: it reads as 0.

The bump commits with the change, so a counter read sees exactly the changes committed before it.
On PostgreSQL the triggers are deferred constraint triggers that bump each counter once per
transaction, at commit: the counter row is the last lock a writer takes, so writers touching work
orders in different orders cannot deadlock on it, and a bulk load bumps it once, not per row.

`ChangeWatch.current()` answers the counters for a request. Reads are shared: a call waits for
a read that *starts after the call*, so it sees every change committed before the request
arrived, and all calls arriving while one read is running share the next one. Under load one
short SELECT serves a whole batch of requests.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from fastapi import Request
from sqlalchemy import BigInteger, String, text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, Database

log = logging.getLogger(__name__)

WORKORDERS = "workorders"
ASSETS = "assets"
ACCESS = "access"


def assignee_counter(user_id: int) -> str:
    """The counter of the work orders assigned to a user."""
    return f"{WORKORDERS}.assignee.{user_id}"


def contractor_counter(organisation_id: int) -> str:
    """The counter of the work orders of a contractor."""
    return f"{WORKORDERS}.contractor.{organisation_id}"


Versions = Mapping[str, int]


class ChangeCounter(Base):
    """A counter the database's triggers bump whenever its tables change."""

    __tablename__ = "change_counters"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


class ChangeWatch:
    """The database's change counters, read once per batch of concurrent requests."""

    def __init__(self, db: Database):
        self.db = db
        self._loop: asyncio.AbstractEventLoop | None = None
        self._next: asyncio.Future[Versions | None] | None = None
        self._reader: asyncio.Task[None] | None = None

    def read(self) -> Versions:
        """The counters now (blocking)."""
        with self.db.engine.connect() as conn:
            rows = conn.execute(text("SELECT name, version FROM change_counters")).all()
        return {str(name): int(version) for name, version in rows}

    async def current(self) -> Versions | None:
        """The counters as of a read that began after this call; None when they cannot be read
        (callers then do without their caches: the database is the authority)."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a new event loop (tests run several): start afresh
            self._loop, self._next, self._reader = loop, None, None
        if self._next is None:
            self._next = loop.create_future()
            if self._reader is None or self._reader.done():
                self._reader = loop.create_task(self._read_batches())
        return await asyncio.shield(self._next)

    async def _read_batches(self) -> None:
        """Serve waiting batches one read each until nobody waits. A batch's read starts only
        after the previous read has finished, so it begins after every call in the batch."""
        loop = asyncio.get_running_loop()
        while self._next is not None:
            batch, self._next = self._next, None
            value: Versions | None
            try:
                value = await loop.run_in_executor(None, self.read)
            except Exception as exc:  # the database is down or not migrated
                log.warning("cannot read change counters, caches bypassed: %s", exc)
                value = None
            if not batch.done():
                batch.set_result(value)


async def request_versions(request: Request) -> Versions | None:
    """The counters for this request: read once, whoever asks first (authentication or the
    endpoint), then remembered on request.state."""
    state = request.state
    if not hasattr(state, "change_versions"):
        state.change_versions = await request.app.state.changes.current()
    versions: Versions | None = state.change_versions
    return versions
