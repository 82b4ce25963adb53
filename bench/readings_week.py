"""A week of one point for a chart: GET /api/v1/assets/{id}/readings on the embedded store.

A temporary embedded store gets a week of pump-1's motor current at the demo's 5 s poll
(120,960 readings; one in a hundred unavailable, with no number, as a failed read is stored),
and, with --others N, the same week of N other series beside it. The app is the real one
(``create_app`` over a migrated SQLite database holding the demo site), called in-process
through Starlette's TestClient with the admin token, so the figure includes routing,
authentication, the asset and point checks, the store's aggregation and the JSON answer.

- *raw rows* (the baseline): the same week's rows of the same series read from the same file
  with a fresh read-only connection and ``fetchall``, with no bucketing at all: the least any
  bucketing in Python would have to do before it started;
- *endpoint*: the week at the default step (1 h, 168 buckets), at ``step=5m`` (2,016 buckets)
  and with ``agg=last`` at 5 min (a second query in the store).

Before timing, each answer is compared with buckets computed in Python from the raw rows, so
the figure is of a right answer. Each figure is the median of --rounds runs after one warm-up.
The last line gives the endpoint's time at the default step and its ratio to the baseline
(below 1: the chart costs less than fetching the week's rows would).

Run: .venv/bin/python bench/readings_week.py [--rounds 30] [--others 0]
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import math
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from collectors.readings import Quality, Reading
from collectors.sinks.embedded import FILE_NAME, EmbeddedStore
from config.settings import Settings
from config.site import SITES_DIR
from plantroom.app import create_app
from plantroom.site import load_site

TOKEN = "bench-admin-token-" + "x" * 16
ASSET, DEVICE, POINT = "pump-1", "pump-1-drive", "motor_current"
POLL = 5.0
WEEK = 7 * 86400


def week_of_readings(start: float, asset: str, point: str) -> list[Reading]:
    """A week of a point at POLL: a daily swing around 20 A, one read in 100 failed."""
    out = []
    for i in range(int(WEEK / POLL)):
        ts = start + i * POLL
        if i % 100 == 99:
            out.append(Reading(ts, asset, DEVICE, point, None, "A", Quality.unavailable))
        else:
            value = 20.0 + 4.0 * math.sin(2 * math.pi * (ts % 86400) / 86400) + (i % 7) * 0.1
            out.append(Reading(ts, asset, DEVICE, point, value, "A", Quality.good))
    return out


def raw_rows(path: Path, start: float, end: float) -> list[tuple[Any, ...]]:
    """The baseline: the series' rows in the range, unbucketed, in the key's own order (no
    sort), from a fresh read-only connection, as the endpoint opens one."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        (series,) = conn.execute(
            "SELECT id FROM series WHERE measurement = 'readings' AND asset = ? AND point = ?",
            (ASSET, POINT),
        ).fetchone()
        return conn.execute(
            "SELECT ts, value, quality FROM samples WHERE series = ? AND ts >= ? AND ts < ?",
            (series, start, end),
        ).fetchall()
    finally:
        conn.close()


def python_buckets(
    rows: list[tuple[Any, ...]], start: float, step: int, n: int, agg: str
) -> list[tuple[float | None, str]]:
    """The same buckets computed in Python, to check the endpoint's answer."""
    good: list[list[float]] = [[] for _ in range(n)]
    last_q: list[str | None] = [None] * n
    for ts, value, quality in rows:
        b = min(n - 1, int((ts - start) // step))
        last_q[b] = quality
        if quality == "good" and value is not None:
            good[b].append(value)
    pick: dict[str, Callable[[list[float]], float]] = {
        "mean": statistics.fmean,
        "min": min,
        "max": max,
        "last": lambda v: v[-1],
    }
    return [
        (pick[agg](g), "good") if g else (None, q or "missing")
        for g, q in zip(good, last_q, strict=True)
    ]


def median_ms(fn: Callable[[], object], rounds: int) -> float:
    """The median wall time of fn over rounds runs, after one warm-up, in milliseconds."""
    fn()
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> None:
    """Measure and print."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=30, help="timed runs per figure (default 30)")
    ap.add_argument("--others", type=int, default=0, help="other series in the store (default 0)")
    args = ap.parse_args()
    logging.disable(logging.WARNING)  # the demo site's config warnings are not the subject
    site = load_site(SITES_DIR / "demo")
    tz = ZoneInfo(site.doc.site.timezone)
    first = dt.datetime(2026, 1, 5, tzinfo=tz)
    start = first.timestamp()
    end = start + WEEK
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            data_dir=Path(tmp) / "data",
            admin_token=TOKEN,
            cookie_secure=False,
            _env_file=None,  # type: ignore[call-arg]
        )
        store = EmbeddedStore(settings.data_dir / FILE_NAME)
        t = time.perf_counter()
        readings = week_of_readings(start, ASSET, POINT)
        store.write(readings)
        for k in range(args.others):
            store.write(week_of_readings(start, ASSET, f"other_{k}"))
        store.close()
        print(
            f"store: {len(readings):,} readings of {ASSET}.{POINT} at {POLL:g} s "
            f"(+{args.others} other series), written in {time.perf_counter() - t:.1f} s"
        )
        path = settings.data_dir / FILE_NAME
        app = create_app(settings, site=site)
        week = {
            "point": POINT,
            "from": first.isoformat(),
            "to": (first + dt.timedelta(7)).isoformat(),
        }
        url = f"/api/v1/assets/{ASSET}/readings"
        cases = [("default step", {}), ("step=5m", {"step": "5m"})]
        cases.append(("step=5m agg=last", {"step": "5m", "agg": "last"}))
        with TestClient(app, headers={"Authorization": f"Bearer {TOKEN}"}) as http:
            rows = raw_rows(path, start, end)
            assert len(rows) == len(readings)
            for label, extra in cases:
                body = http.get(url, params={**week, **extra}).json()
                want = python_buckets(
                    rows, start, body["step"], len(body["points"]), extra.get("agg", "mean")
                )
                got = [(p["value"], p["quality"]) for p in body["points"]]
                assert len(got) == len(want) and all(
                    q == wq and (v == wv or (v is not None and math.isclose(v, wv or 0.0)))
                    for (v, q), (wv, wq) in zip(got, want, strict=True)
                ), f"{label}: the endpoint's buckets differ from Python's"
            base = median_ms(lambda: raw_rows(path, start, end), args.rounds)
            print(f"raw rows (baseline)   {base:8.1f} ms  ({len(rows):,} rows, no bucketing)")
            figures = {}
            for label, extra in cases:
                params = {**week, **extra}
                figures[label] = ms = median_ms(
                    lambda p=params: http.get(url, params=p), args.rounds
                )
                n = len(http.get(url, params=params).json()["points"])
                share = ms / base
                print(
                    f"endpoint {label:<17} {ms:8.1f} ms  ({n:,} buckets, {share:.2f} of baseline)"
                )
    ms = figures["default step"]
    print(
        f"readings endpoint: a week of one point at {POLL:g} s ({len(readings):,} readings, "
        f"embedded store) in {ms:.1f} ms at the default step, {ms / base:.2f} of reading its raw "
        f"rows ({base:.1f} ms)"
    )


if __name__ == "__main__":
    main()
