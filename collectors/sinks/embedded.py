"""The embedded time-series store: one SQLite file under the data directory, no server."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from collectors.readings import Quality, Reading

_SCHEMA = """
CREATE TABLE IF NOT EXISTS readings (
    ts REAL NOT NULL,
    asset TEXT NOT NULL,
    device TEXT NOT NULL,
    point TEXT NOT NULL,
    value REAL,
    text TEXT,
    unit TEXT NOT NULL,
    quality TEXT NOT NULL,
    measurement TEXT NOT NULL DEFAULT 'readings'
);
"""
_INDEXES = """
-- One index serves both: queries by asset, point and time, and ignoring the second copy of a
-- batch replayed after a crash (a device belongs to one asset, so this key is the reading's).
CREATE UNIQUE INDEX IF NOT EXISTS readings_key ON readings (asset, point, ts, measurement, device);
DROP INDEX IF EXISTS readings_series;
DROP INDEX IF EXISTS readings_once;
DROP INDEX IF EXISTS readings_ts;
"""


class EmbeddedStore:
    """Readings in SQLite; safe to share between threads."""

    name = "embedded"

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(path, check_same_thread=False, timeout=30)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)
        cols = {row[1] for row in self._conn.execute("PRAGMA table_info(readings)")}
        if "measurement" not in cols:  # files written before measurements existed
            self._conn.execute(
                "ALTER TABLE readings ADD COLUMN measurement TEXT NOT NULL DEFAULT 'readings'"
            )
        self._conn.executescript(_INDEXES)
        self._attached: Path | None = None

    def write(self, readings: list[Reading]) -> None:
        """Append readings in one transaction."""
        rows = [
            (
                r.ts,
                r.asset,
                r.device,
                r.point,
                r.value if isinstance(r.value, int | float) and r.value is not None else None,
                r.value if isinstance(r.value, str) else None,
                r.unit,
                str(r.quality),
                r.measurement,
            )
            for r in readings
        ]
        with self._lock, self._conn:
            self._conn.executemany(
                "INSERT OR IGNORE INTO readings (ts, asset, device, point, value, text, unit, "
                "quality, measurement) VALUES (?,?,?,?,?,?,?,?,?)",
                rows,
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
                self._conn.execute(
                    "INSERT OR IGNORE INTO readings (ts, asset, device, point, value, text, unit, "
                    "quality, measurement) SELECT ts, asset, device, point, "
                    "CASE WHEN typeof(value) IN ('integer', 'real') THEN value END, "
                    "CASE WHEN typeof(value) = 'text' THEN value END, unit, quality, measurement "
                    "FROM src.buf WHERE id <= ? ORDER BY id",
                    (upto,),
                )

    def query(
        self,
        *,
        asset: str | None = None,
        point: str | None = None,
        device: str | None = None,
        measurement: str = "readings",
        start: float | None = None,
        end: float | None = None,
        limit: int | None = None,
    ) -> list[Reading]:
        """Readings matching every given filter, oldest first."""
        where: list[str] = ["measurement = ?"]
        args: list[str | float] = [measurement]
        for col, val in (("asset", asset), ("point", point), ("device", device)):
            if val is not None:
                where.append(f"{col} = ?")
                args.append(val)
        if start is not None:
            where.append("ts >= ?")
            args.append(start)
        if end is not None:
            where.append("ts < ?")
            args.append(end)
        sql = "SELECT ts, asset, device, point, value, text, unit, quality FROM readings"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY ts"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self._lock:
            rows = self._conn.execute(sql, args).fetchall()
        return [
            Reading(ts, a, d, p, v if t is None else t, u, Quality(q), measurement)
            for ts, a, d, p, v, t, u, q in rows
        ]

    def latest(self, asset: str, point: str) -> Reading | None:
        """The newest reading of one series."""
        with self._lock:
            row = self._conn.execute(
                "SELECT ts, asset, device, point, value, text, unit, quality FROM readings "
                "WHERE asset = ? AND point = ? ORDER BY ts DESC LIMIT 1",
                (asset, point),
            ).fetchone()
        if row is None:
            return None
        ts, a, d, p, v, t, u, q = row
        return Reading(ts, a, d, p, v if t is None else t, u, Quality(q))

    def count(self) -> int:
        """How many readings are stored."""
        with self._lock:
            return int(self._conn.execute("SELECT count(*) FROM readings").fetchone()[0])

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self._conn.close()
