"""Store-and-forward: a disk-backed FIFO of readings in front of a remote sink.

Readings are committed to SQLite before they are forwarded, so they survive the database being
down and the collector being killed. Replay is oldest first. When the buffer is full, the oldest
readings are dropped and counted; nothing is dropped before that.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from collectors.readings import Quality, Reading
from collectors.sinks import Sink
from collectors.sqlvalues import from_sql, to_sql

log = logging.getLogger(__name__)

#: Readings a forwarder sends to its sink in one write.
FORWARD_BATCH = 5000
#: Longest wait between a forwarder's tries while its sink is down.
MAX_BACKOFF = 30.0
#: Shortest spacing between two of the durable publisher's commits (see DurablePublisher).
MIN_COMMIT_INTERVAL = 0.05


class DiskBuffer:
    """A bounded FIFO of readings in one SQLite file."""

    def __init__(self, path: Path, max_readings: int):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.max_readings = max_readings
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL: a commit survives the process being killed (it is in the WAL, in the OS
        # cache); only an OS crash or power cut can lose the last moments. FULL would fsync on
        # every append, on the event loop, and cost the collector most of its throughput.
        self._db.execute("PRAGMA synchronous=NORMAL")
        # value has no type, so no affinity: floats stay REAL and ints exact INTEGERs
        # (collectors/sqlvalues.py), and text stays text.
        self._db.executescript(
            "CREATE TABLE IF NOT EXISTS buf (id INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL, "
            "asset TEXT, device TEXT, point TEXT, value, unit TEXT, quality TEXT, "
            "measurement TEXT NOT NULL DEFAULT 'readings');"
            "CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v INTEGER);"
            "INSERT OR IGNORE INTO meta VALUES ('dropped', 0);"
        )
        cols = {row[1] for row in self._db.execute("PRAGMA table_info(buf)")}
        if "measurement" not in cols:  # files written before measurements existed
            self._db.execute(
                "ALTER TABLE buf ADD COLUMN measurement TEXT NOT NULL DEFAULT 'readings'"
            )
        self._db.commit()
        #: Readings waiting, kept as a counter: count(*) on every append scans the whole table,
        #: and the table is largest exactly when the sink is down.
        self._count = int(self._db.execute("SELECT count(*) FROM buf").fetchone()[0])

    def append(self, readings: list[Reading]) -> None:
        """Add readings; if that overfills the buffer, drop (and count) the oldest."""
        rows = [
            (
                r.ts,
                r.asset,
                r.device,
                r.point,
                to_sql(r.value),
                r.unit,
                str(r.quality),
                r.measurement,
            )
            for r in readings
        ]
        with self._lock:
            with self._db:  # one transaction; the counter changes only once it commits
                self._db.executemany(
                    "INSERT INTO buf (ts, asset, device, point, value, unit, quality, "
                    "measurement) VALUES (?,?,?,?,?,?,?,?)",
                    rows,
                )
                count = self._count + len(rows)
                over = count - self.max_readings
                if over > 0:
                    self._db.execute(
                        "DELETE FROM buf WHERE id IN (SELECT id FROM buf ORDER BY id LIMIT ?)",
                        (over,),
                    )
                    self._db.execute("UPDATE meta SET v = v + ? WHERE k = 'dropped'", (over,))
                    count -= over
            self._count = count
        if over > 0:
            log.error("buffer %s full: dropped the %d oldest readings", self.path.name, over)

    def peek(self, n: int) -> tuple[int, list[Reading]]:
        """The oldest n readings and the id to ack them with (0 when empty)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, ts, asset, device, point, value, unit, quality, measurement FROM buf "
                "ORDER BY id LIMIT ?",
                (n,),
            ).fetchall()
        if not rows:
            return 0, []
        return rows[-1][0], [
            Reading(ts, a, d, p, from_sql(v), u, Quality(q), m)
            for _, ts, a, d, p, v, u, q, m in rows
        ]

    def peek_ids(self, n: int) -> tuple[int, int]:
        """The id to ack the oldest n readings with, and how many they are (0, 0 when empty)."""
        with self._lock:
            row = self._db.execute(
                "SELECT max(id), count(*) FROM (SELECT id FROM buf ORDER BY id LIMIT ?)", (n,)
            ).fetchone()
        return (int(row[0]), int(row[1])) if row and row[1] else (0, 0)

    def ack(self, upto: int) -> None:
        """Forget readings up to and including id upto: they are stored downstream."""
        with self._lock:
            with self._db:
                gone = self._db.execute("DELETE FROM buf WHERE id <= ?", (upto,)).rowcount
            self._count -= gone

    def depth(self) -> int:
        """Readings waiting."""
        with self._lock:
            return self._count

    def dropped(self) -> int:
        """Readings dropped because the buffer was full, over its whole life."""
        with self._lock:
            return int(self._db.execute("SELECT v FROM meta WHERE k='dropped'").fetchone()[0])

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self._db.close()


class Forwarder:
    """Drains a DiskBuffer into a sink, retrying with backoff while the sink is down."""

    def __init__(self, buffer: DiskBuffer, sink: Sink):
        self.buffer = buffer
        self.sink = sink
        #: After a partial batch, wait this long so the next write carries many polls' readings:
        #: one write per device poll would cost more than the polling itself.
        self.linger = sink.linger
        self.forwarded = 0
        self.failures = 0
        self._wake = asyncio.Event()
        self._stopping = False
        self._stopped = asyncio.Event()

    def wake(self) -> None:
        """New readings are waiting."""
        self._wake.set()

    async def _forward_once(self) -> int:
        """Send the oldest batch to the sink and forget it; how many (0: empty). Raises when the
        sink refuses, and then nothing is forgotten."""
        # A sink that takes rows straight from the buffer file (the embedded store, also
        # SQLite) skips turning them into Reading objects and back.
        copy = getattr(self.sink, "copy_from_buffer", None)
        if copy is not None:
            upto, n = await asyncio.to_thread(self.buffer.peek_ids, FORWARD_BATCH)
            if n:
                await asyncio.to_thread(copy, self.buffer.path, upto)
        else:
            upto, readings = await asyncio.to_thread(self.buffer.peek, FORWARD_BATCH)
            n = len(readings)
            if n:
                await asyncio.to_thread(self.sink.write, readings)
        if n:
            await asyncio.to_thread(self.buffer.ack, upto)
            self.forwarded += n
        return n

    async def run(self) -> None:
        """Forward until stop() (between batches, so no batch is sent twice)."""
        backoff = 0.5
        down = False
        while not self._stopping:
            try:
                n = await self._forward_once()
            except Exception as exc:
                self.failures += 1
                if not down:
                    log.warning("%s unreachable, buffering on disk: %s", self.sink.name, exc)
                down = True
                self._wake.clear()
                with contextlib.suppress(TimeoutError):  # stop() cuts the backoff short
                    await asyncio.wait_for(self._wake.wait(), backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
                continue
            if down:
                log.info("%s reachable again; replaying the buffer", self.sink.name)
            down, backoff = False, 0.5
            if n == 0:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), 1.0)
            elif n < FORWARD_BATCH:
                with contextlib.suppress(TimeoutError):  # only stop() cuts the wait short
                    await asyncio.wait_for(self._stopped.wait(), self.linger)

    def stop(self) -> None:
        """Ask run() to return after the batch in hand."""
        self._stopping = True
        self._stopped.set()
        self._wake.set()

    async def drain(self, timeout: float) -> bool:
        """Forward what is buffered now, for up to timeout seconds; True when empty."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while loop.time() < end:
            try:
                if await self._forward_once() == 0:
                    return True
            except Exception:
                return False
        return False


class DurablePublisher:
    """Commits published readings to every forwarder's disk buffer, then hands them on.

    - Commits run one at a time on a writer thread of their own, oldest first, so the event
      loop keeps polling while SQLite writes: a commit on the loop would stall every link.
    - A commit costs about as much as storing a hundred readings, so commits are spaced at least
      MIN_COMMIT_INTERVAL apart; readings published meanwhile wait in memory and go in the next
      one. When readings come slower than that, each batch is committed straight away.
    - Readings reach the buffers before anything else sees them (``then`` runs after the
      commit), and are counted as published only once on disk.

    Call ``close()`` at shutdown: it commits whatever is still pending.
    """

    def __init__(
        self,
        forwarders: list[Forwarder],
        then: Callable[[list[Reading]], None] | None = None,
    ):
        self.forwarders = forwarders
        self.then = then
        self.published = 0
        self._pending: list[Reading] = []
        self._scheduled = False
        self._writing: asyncio.Future[list[bool]] | None = None
        self._in_flight = 0
        self._last_commit = float("-inf")
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="buffer-writer")

    @property
    def pending(self) -> int:
        """Readings published but not yet committed (waiting, or being written)."""
        return len(self._pending) + self._in_flight

    def publish(self, readings: list[Reading]) -> None:
        """Queue readings for the next commit."""
        if not readings:
            return
        self._pending.extend(readings)
        self._schedule()

    def _schedule(self) -> None:
        if self._scheduled or self._writing is not None or not self._pending:
            return
        self._scheduled = True
        loop = asyncio.get_running_loop()
        wait = self._last_commit + MIN_COMMIT_INTERVAL - loop.time()
        if wait > 0:
            loop.call_later(wait, self._start_commit)
        else:
            loop.call_soon(self._start_commit)

    def _start_commit(self) -> None:
        self._scheduled = False
        if self._writing is not None or not self._pending:
            return
        batch, self._pending = self._pending, []
        loop = asyncio.get_running_loop()
        self._last_commit = loop.time()
        self._in_flight = len(batch)
        self._writing = loop.run_in_executor(self._writer, self._commit, batch)
        self._writing.add_done_callback(lambda fut: self._committed(batch, fut))

    def _commit(self, batch: list[Reading]) -> list[bool]:
        """Append to every buffer (writer thread); which buffers took the batch."""
        took = []
        for f in self.forwarders:
            try:
                f.buffer.append(batch)
            except Exception:
                log.exception("could not buffer %d readings for %s", len(batch), f.sink.name)
                took.append(False)
            else:
                took.append(True)
        return took

    def _committed(self, batch: list[Reading], fut: asyncio.Future[list[bool]]) -> None:
        self._writing = None
        self._in_flight = 0
        took = fut.result() if not fut.cancelled() and fut.exception() is None else []
        for f, ok in zip(self.forwarders, took, strict=False):
            if ok:
                f.wake()
        self.published += len(batch)
        if self.then is not None:
            self.then(batch)
        self._schedule()

    async def flush(self) -> None:
        """Commit everything published so far, and wait for it."""
        while self._writing is not None or self._pending:
            if self._writing is not None:
                await asyncio.shield(self._writing)
                await asyncio.sleep(0)  # let the done callback run
            elif self._pending:
                self._start_commit()

    async def close(self) -> None:
        """Commit what is pending and stop the writer thread."""
        await self.flush()
        self._writer.shutdown(wait=True)
