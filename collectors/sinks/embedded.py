"""The embedded time-series store: one SQLite file under the data directory, no server.

Layout, chosen so that storing a reading costs one small B-tree insert:
- ``series``: one row per (measurement, asset, point, device, unit), with an integer id;
- ``samples``: (series, ts) -> value, text, quality, as a WITHOUT ROWID table, so the primary
  key is the table itself: no second index to maintain, and a series' readings sit together
  in time order, which is how they are read.

The key also makes storing idempotent: a batch replayed after a crash (copied, but killed
before the buffer forgot it) is ignored the second time.

``samples.value`` has no declared type, so no affinity: a float is stored as REAL and an int as
an exact INTEGER (a REAL column would turn a 64-bit counter into a float and round it to 53
bits), and each comes back as it was written; see collectors/sqlvalues.py for ints beyond
SQLite's 64 bits.

``EmbeddedReader`` is the read side the API uses: one point in buckets, aggregated in SQL.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

from collectors.readings import Quality, Reading
from collectors.sinks.buckets import EMPTY, Agg, Bucket, Grid, ReadError, bucket
from collectors.sqlvalues import from_sql, to_sql

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS series (
    id INTEGER PRIMARY KEY,
    measurement TEXT NOT NULL,
    asset TEXT NOT NULL,
    point TEXT NOT NULL,
    device TEXT NOT NULL,
    unit TEXT NOT NULL,
    UNIQUE (measurement, asset, point, device, unit)
);
CREATE TABLE IF NOT EXISTS samples (
    series INTEGER NOT NULL REFERENCES series (id),
    ts REAL NOT NULL,
    value,
    text TEXT,
    quality TEXT NOT NULL,
    PRIMARY KEY (series, ts)
) WITHOUT ROWID;
"""

#: Files written before values kept their type declared ``value REAL``, which stores every int
#: as a float. SQLite cannot change a column's type in place: copy the table into one without
#: it (REAL values stay REAL) and swap them.
_MIGRATE_REAL_VALUES = (
    """CREATE TABLE samples_typed (
        series INTEGER NOT NULL REFERENCES series (id),
        ts REAL NOT NULL,
        value,
        text TEXT,
        quality TEXT NOT NULL,
        PRIMARY KEY (series, ts)
    ) WITHOUT ROWID""",
    "INSERT INTO samples_typed (series, ts, value, text, quality) "
    "SELECT series, ts, value, text, quality FROM samples",
    "DROP TABLE samples",
    "ALTER TABLE samples_typed RENAME TO samples",
)

#: Files written before the series/samples layout kept every reading in one wide table.
_MIGRATE_WIDE_TABLE = """
INSERT OR IGNORE INTO series (measurement, asset, point, device, unit)
    SELECT DISTINCT measurement, asset, point, device, unit FROM readings;
INSERT OR IGNORE INTO samples (series, ts, value, text, quality)
    SELECT s.id, r.ts, r.value, r.text, r.quality FROM readings r JOIN series s
    ON s.measurement = r.measurement AND s.asset = r.asset AND s.point = r.point
    AND s.device = r.device AND s.unit = r.unit;
DROP TABLE readings;
"""

#: Buffer rows to samples, in SQL. The buffer keeps a value column of any type: numbers (and
#: the BLOBs that hold ints beyond 64 bits) go to value, text to text.
_COPY_SERIES = """
INSERT OR IGNORE INTO series (measurement, asset, point, device, unit)
    SELECT DISTINCT measurement, asset, point, device, unit FROM src.buf WHERE id <= ?
"""
_COPY_SAMPLES = """
INSERT OR IGNORE INTO samples (series, ts, value, text, quality)
    SELECT s.id, b.ts,
        CASE WHEN typeof(b.value) IN ('integer', 'real', 'blob') THEN b.value END,
        CASE WHEN typeof(b.value) = 'text' THEN b.value END,
        b.quality
    FROM src.buf b JOIN series s
    ON s.measurement = b.measurement AND s.asset = b.asset AND s.point = b.point
    AND s.device = b.device AND s.unit = b.unit
    WHERE b.id <= ? ORDER BY b.id
"""

_SELECT = (
    "SELECT x.ts, s.asset, s.device, s.point, x.value, x.text, s.unit, x.quality, "
    "s.measurement FROM samples x JOIN series s ON s.id = x.series"
)

SeriesKey = tuple[str, str, str, str, str]

#: The file under the data directory that holds the embedded store.
FILE_NAME = "readings.sqlite"


class EmbeddedStore:
    """Readings in SQLite; safe to share between threads."""

    name = "embedded"
    #: Each batch costs a page write per series it touches, so fewer, larger batches are
    #: cheaper; a quarter second keeps the store close behind the collector.
    linger = 0.25

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(path, check_same_thread=False, timeout=30)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        # A 32 MB page cache and checkpoints every 10,000 pages (40 MB of WAL): each batch
        # touches the newest page of every series, and these keep those pages from being
        # read back and rewritten over and over.
        self._conn.execute("PRAGMA cache_size=-32000")
        self._conn.execute("PRAGMA wal_autocheckpoint=10000")
        with self._conn:
            self._conn.executescript(_SCHEMA)
            if self._has_table("readings"):
                self._migrate_wide_table()
        if self._value_type() == "REAL":
            self._migrate_real_values()
        #: Series ids by key, for writes from Python.
        self._series: dict[SeriesKey, int] = {}
        self._attached: Path | None = None

    def _has_table(self, name: str) -> bool:
        row = self._conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
        ).fetchone()
        return row is not None

    def _value_type(self) -> str:
        """The declared type of samples.value ('' when it has none)."""
        for row in self._conn.execute("PRAGMA table_info(samples)"):
            if row[1] == "value":
                return str(row[2]).upper()
        return ""

    def _migrate_real_values(self) -> None:
        # IMMEDIATE, and the type checked again inside: the API and the collector may open the
        # same file at once, and only one of them should copy the table.
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            if self._value_type() == "REAL":
                log.info("%s: converting samples.value to keep integers exact", self.path.name)
                for statement in _MIGRATE_REAL_VALUES:
                    self._conn.execute(statement)
            self._conn.commit()
        except BaseException:
            self._conn.rollback()
            raise

    def _migrate_wide_table(self) -> None:
        cols = {row[1] for row in self._conn.execute("PRAGMA table_info(readings)")}
        if "measurement" not in cols:
            self._conn.execute(
                "ALTER TABLE readings ADD COLUMN measurement TEXT NOT NULL DEFAULT 'readings'"
            )
        self._conn.executescript("BEGIN;" + _MIGRATE_WIDE_TABLE + "COMMIT;")

    def _series_ids(self, keys: Iterable[SeriesKey]) -> None:
        """Make sure every key has a series row and a cached id (inside a transaction)."""
        missing = {k for k in keys if k not in self._series}
        if not missing:
            return
        self._conn.executemany(
            "INSERT OR IGNORE INTO series (measurement, asset, point, device, unit) "
            "VALUES (?,?,?,?,?)",
            missing,
        )
        for k in missing:
            row = self._conn.execute(
                "SELECT id FROM series WHERE measurement = ? AND asset = ? AND point = ? "
                "AND device = ? AND unit = ?",
                k,
            ).fetchone()
            self._series[k] = int(row[0])

    def write(self, readings: list[Reading]) -> None:
        """Store readings in one transaction (a reading already stored is ignored)."""
        with self._lock, self._conn:
            self._insert(readings)

    def replace(
        self, readings: list[Reading], *, measurement: str, start: float, end: float
    ) -> None:
        """Store the figures of a measurement that is recomputed (the analytics' daily
        rollups) in place of all it holds for [start, end), in one transaction: unlike
        `write`, a new figure for a series and time replaces the stored one."""
        with self._lock, self._conn:
            self._conn.execute(
                "DELETE FROM samples WHERE ts >= ? AND ts < ? AND series IN "
                "(SELECT id FROM series WHERE measurement = ?)",
                (start, end, measurement),
            )
            self._insert(readings)

    def _insert(self, readings: list[Reading]) -> None:
        """INSERT OR IGNORE the readings (inside the caller's lock and transaction)."""
        self._series_ids((r.measurement, r.asset, r.point, r.device, r.unit) for r in readings)
        ids = self._series
        self._conn.executemany(
            "INSERT OR IGNORE INTO samples (series, ts, value, text, quality) VALUES (?,?,?,?,?)",
            [
                (
                    ids[(r.measurement, r.asset, r.point, r.device, r.unit)],
                    r.ts,
                    None if isinstance(r.value, str) else to_sql(r.value),
                    r.value if isinstance(r.value, str) else None,
                    str(r.quality),
                )
                for r in readings
            ],
        )

    def copy_from_buffer(self, buffer_path: Path, upto: int) -> None:
        """Copy readings up to id upto from a DiskBuffer file, in SQL, without Python objects."""
        with self._lock:
            if self._attached != buffer_path:
                if self._attached is not None:
                    self._conn.execute("DETACH DATABASE src")
                self._conn.execute("ATTACH DATABASE ? AS src", (str(buffer_path),))
                self._attached = buffer_path
            with self._conn:
                self._conn.execute(_COPY_SERIES, (upto,))
                self._conn.execute(_COPY_SAMPLES, (upto,))

    def query(
        self,
        *,
        asset: str | None = None,
        point: str | None = None,
        device: str | None = None,
        measurement: str = "readings",
        start: float | None = None,
        end: float | None = None,
    ) -> list[Reading]:
        """Readings matching every given filter, oldest first."""
        where: list[str] = ["s.measurement = ?"]
        args: list[str | float] = [measurement]
        for col, val in (("asset", asset), ("point", point), ("device", device)):
            if val is not None:
                where.append(f"s.{col} = ?")
                args.append(val)
        if start is not None:
            where.append("x.ts >= ?")
            args.append(start)
        if end is not None:
            where.append("x.ts < ?")
            args.append(end)
        sql = f"{_SELECT} WHERE {' AND '.join(where)} ORDER BY x.ts"
        with self._lock:
            rows = self._conn.execute(sql, args).fetchall()
        return [_reading(row) for row in rows]

    def iter_range(
        self,
        start: float,
        end: float,
        *,
        assets: set[str] | None = None,
        points: set[str] | None = None,
        chunk: float = 3600.0,
    ) -> Iterator[list[Reading]]:
        """Device readings from start (inclusive) to end (exclusive), one time window at a time.

        Yields one list per window of ``chunk`` seconds (start + k * chunk), in time order and
        possibly empty, so that the caller knows how far time has got even across a gap in
        the data. Only the given assets and points are read, when given.
        """
        if not chunk > 0:
            raise ValueError("the chunk must be longer than 0 s")
        where = ["measurement = 'readings'"]
        args: list[str] = []
        for col, values in (("asset", assets), ("point", points)):
            if values is not None:
                where.append(f"{col} IN ({','.join('?' * len(values))})")
                args.extend(sorted(values))
        series_sql = (
            f"SELECT id, asset, device, point, unit FROM series WHERE {' AND '.join(where)}"
        )
        quality = {str(q): q for q in Quality}
        new, reading = tuple.__new__, Reading
        k = 0
        while (lo := start + k * chunk) < end:
            hi = min(start + (k + 1) * chunk, end)
            k += 1
            with self._lock:
                # The series are looked up again per window: a collector writing to this store
                # meanwhile may add some. Then one range scan of the primary key per series.
                series = {
                    row[0]: row[1:] for row in self._conn.execute(series_sql, args).fetchall()
                }
                rows = (
                    self._conn.execute(
                        "SELECT series, ts, value, text, quality FROM samples "
                        f"WHERE series IN ({','.join(map(str, series))}) AND ts >= ? AND ts < ? "
                        "ORDER BY ts, series",
                        (lo, hi),
                    ).fetchall()
                    if series
                    else []
                )
            out: list[Reading] = []
            append = out.append
            for sid, ts, value, text, q in rows:
                asset, device, point, unit = series[sid]
                if value.__class__ is bytes:  # an int beyond 64 bits (collectors/sqlvalues.py)
                    value = from_sql(value)
                append(
                    new(
                        reading,
                        (
                            ts,
                            asset,
                            device,
                            point,
                            value if text is None else text,
                            unit,
                            quality[q],
                            "readings",
                        ),
                    )
                )
            yield out

    def latest(self, asset: str, point: str) -> Reading | None:
        """The newest reading of one series (of any of its devices)."""
        with self._lock:
            row = self._conn.execute(
                f"{_SELECT} WHERE s.measurement = 'readings' AND s.asset = ? AND s.point = ? "
                "ORDER BY x.ts DESC LIMIT 1",
                (asset, point),
            ).fetchone()
        return None if row is None else _reading(row)

    def count(self) -> int:
        """How many readings are stored."""
        with self._lock:
            return int(self._conn.execute("SELECT count(*) FROM samples").fetchone()[0])

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self._conn.close()


def _reading(
    row: tuple[float, str, str, str, float | int | bytes | None, str | None, str, str, str],
) -> Reading:
    ts, asset, device, point, value, text, unit, quality, measurement = row
    return Reading(
        ts,
        asset,
        device,
        point,
        from_sql(value) if text is None else text,
        unit,
        Quality(quality),
        measurement,
    )


# --- the read side: one point in buckets ------------------------------------------------------

#: A good reading's number, or NULL, for min and max: an int beyond 64 bits, kept as a BLOB of
#: its digits, is compared as a float (SQLite sorts a BLOB above every number).
_GOOD_NUMBER = (
    "CASE WHEN quality = 'good' THEN CASE typeof(value) WHEN 'integer' THEN value "
    "WHEN 'real' THEN value WHEN 'blob' THEN CAST(value AS REAL) END END"
)
_NUMERIC = "typeof(value) IN ('integer', 'real', 'blob')"
_AGGREGATES = {
    # avg() reads a BLOB of digits as its number, and text readings keep value NULL, so the
    # mean needs no typeof() per reading (the most common chart: the cheapest expression).
    "mean": "avg(CASE WHEN quality = 'good' THEN value END)",
    "min": f"min({_GOOD_NUMBER})",
    "max": f"max({_GOOD_NUMBER})",
}
#: The grid's buckets as rows (i, lo, hi) in UNIX seconds, from exact integer microseconds:
#: parameters count, start_us, step_us, start_us, step_us, end_us.
_GRID = (
    "WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i + 1 < ?) "
    "SELECT i, (? + i * ?) / 1000000.0 AS lo, min(? + (i + 1) * ?, ?) / 1000000.0 AS hi FROM k"
)


class EmbeddedReader:
    """Reads one point in buckets from the embedded store's file, with a read-only connection
    per call (the collector may be writing it in another process); an absent file has no
    readings."""

    name = "embedded"

    def __init__(self, path: Path):
        self.path = path

    def buckets(self, *, asset: str, point: str, grid: Grid, agg: Agg) -> list[Bucket]:
        """One Bucket per bucket of the grid (see collectors/sinks/buckets.py)."""
        if not self.path.is_file():
            return [EMPTY] * grid.count
        try:
            conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, timeout=10)
        except sqlite3.Error as exc:
            raise ReadError(f"{self.path}: {exc}") from exc
        try:
            return _buckets(conn, asset=asset, point=point, grid=grid, agg=agg)
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):  # a file no collector has written yet
                return [EMPTY] * grid.count
            raise ReadError(f"{self.path}: {exc}") from exc
        except sqlite3.Error as exc:
            raise ReadError(f"{self.path}: {exc}") from exc
        finally:
            conn.close()

    def close(self) -> None:
        """Nothing stays open between calls."""


def _buckets(
    conn: sqlite3.Connection, *, asset: str, point: str, grid: Grid, agg: Agg
) -> list[Bucket]:
    """The grid's buckets of every series of (asset, point).

    Each bucket is its own range scan of the primary key (series, ts), in correlated
    subqueries: SQLite would sort every reading to GROUP BY an expression of ts, which costs
    several times more than the scans. A bucket's last reading (its quality, or its value for
    `last`) is one step down the key from the bucket's end.
    """
    ids = [
        int(row[0])
        for row in conn.execute(
            "SELECT id FROM series WHERE measurement = 'readings' AND asset = ? AND point = ?",
            (asset, point),
        )
    ]
    out = [EMPTY] * grid.count
    if not ids:
        return out
    series = f"FROM samples WHERE series IN ({','.join(map(str, ids))})"
    scope = f"{series} AND ts >= lo AND ts < hi"
    if agg == "last":
        value = f"SELECT value {scope} AND quality = 'good' AND {_NUMERIC} ORDER BY ts DESC LIMIT 1"
    else:
        value = f"SELECT {_AGGREGATES[agg]} {scope}"
    last_quality = f"SELECT quality {scope} ORDER BY ts DESC LIMIT 1"
    grid_args = (grid.count, grid.start_us, grid.step_us, grid.start_us, grid.step_us, grid.end_us)
    rows = conn.execute(
        f"SELECT i, lo, hi, ({value}), ({last_quality}) FROM ({_GRID})", grid_args
    ).fetchall()
    for i, lo, hi, v, q in rows:
        if q is None:
            continue  # nothing stored in the bucket
        good = v is not None or q == "good"
        if not good:
            # Bad readings only, or a good one without a number (a text point) before them.
            good = conn.execute(
                f"SELECT EXISTS (SELECT 1 {series} AND ts >= ? AND ts < ? AND quality = 'good')",
                (lo, hi),
            ).fetchone()[0]
        if v.__class__ is bytes:  # an int beyond 64 bits (collectors/sqlvalues.py)
            v = int(v)
        out[i] = bucket(v, good, q)
    return out
