"""Alert-engine throughput: 1,000 rules over 10,000 series, against a loop that only stores each
reading in a dict by series key, on the same readings in the same run.

The site is 560 SDM630 meters (18 points each: 10,080 series) in one building. Rule i watches
point i mod 18 on ten meters, so the 1,000 rules cover 10,000 series once each: 80% threshold
rules, 10% rate_of_change, 10% stale. The readings are 50 sweeps of every series with values in
their normal range, so the figure is the cost of evaluation itself: no alert changes state and
the database is not touched (state changes are rare, and each costs a transaction).

Run: .venv/bin/python -m bench.alert_engine
"""

from __future__ import annotations

import logging
import math
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from alerts.rules import RuleConfig
from bench._site import BenchSite
from collectors.readings import Quality, Reading
from config.settings import Settings
from plantroom.app import prepare_database
from plantroom.wiring import alert_engine

TARGET = 0.2
SWEEPS = 50
ROUNDS = 7
POINTS = [
    "voltage_l1", "voltage_l2", "voltage_l3", "current_l1", "current_l2", "current_l3",
    "power_l1", "power_l2", "power_l3", "total_power", "apparent_power", "reactive_power",
    "power_factor", "frequency", "import_energy", "export_energy", "demand", "total_energy",
]  # fmt: skip


def rules(assets: list[str]) -> list[RuleConfig]:
    """1,000 rules, each on one point of ten meters."""
    out: list[dict[str, Any]] = []
    for i in range(1000):
        point = POINTS[i % 18]
        group = assets[(i // 18) * 10 : (i // 18) * 10 + 10]
        base = {"id": f"r{i:04d}", "name": f"rule {i}", "point": point, "select": {"assets": group}}
        if i % 10 == 0:
            out.append({**base, "type": "rate_of_change", "window": "10m", "above": 1e9})
        elif i % 10 == 1:
            out.append({**base, "type": "stale", "after": "15m"})
        else:
            out.append({**base, "type": "threshold", "above": 1e9, "for": "1m", "clear": 1e8})
    return TypeAdapter(list[RuleConfig]).validate_python(out)


def readings(site_assets: list[tuple[str, str]], t0: float) -> list[Reading]:
    """SWEEPS sweeps of every series, one second apart, values in range."""
    out = []
    for k in range(SWEEPS):
        ts = t0 + k
        for j, (asset, device) in enumerate(site_assets):
            for p, point in enumerate(POINTS):
                value = 100.0 + p + 5 * math.sin(ts / 60 + j)
                out.append(Reading(ts, asset, device, point, value, "", Quality.good))
    return out


def dict_loop(batch: list[Reading]) -> float:
    """Readings per second of storing each reading by series key."""
    store: dict[tuple[str, str], Reading] = {}
    t = time.perf_counter()
    for r in batch:
        store[(r.asset, r.point)] = r
    return len(batch) / (time.perf_counter() - t)


def main() -> None:
    """Print the table and the figure."""
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="plantroom-bench-") as tmp:
        folder = Path(tmp)
        site = BenchSite(gateways=10, per_gateway=56).write(folder / "site")
        refs = [(a.asset.id, a.asset.devices[0].id) for a in site.assets()]
        settings = Settings(data_dir=folder / "data", _env_file=None)  # type: ignore[call-arg]
        db = prepare_database(settings, site)
        rs = rules([a for a, _ in refs])
        engine = alert_engine(site, db, rs)
        series = sum(len(v) for v in engine.index.values())
        t0 = 1.76e9
        engine.process(readings(refs, t0 - 100))  # warm up: every evaluator created
        rows = []
        for i in range(ROUNDS):
            batch = readings(refs, t0 + i * 100)
            base = dict_loop(batch)
            t = time.perf_counter()
            events = engine.process(batch)
            rate = len(batch) / (time.perf_counter() - t)
            rows.append((base, rate, len(events)))
        db.dispose()
    print(f"{'round':>5} | {'dict loop rd/s':>14} | {'engine rd/s':>11} | {'events':>6} | ratio")
    for i, (base, rate, n) in enumerate(rows, 1):
        print(f"{i:>5} | {base:>14,.0f} | {rate:>11,.0f} | {n:>6} | {rate / base:.3f}")
    print(
        f"{len(rs)} rules over {len(refs) * len(POINTS):,} series ({series:,} rule-series pairs); "
        f"{SWEEPS} sweeps = {SWEEPS * len(refs) * len(POINTS):,} readings per round"
    )
    ratio = statistics.median(r / b for b, r, _ in rows)
    print(
        f"alert engine: {statistics.median(r for _, r, _ in rows):,.0f} readings/s vs dict loop "
        f"{statistics.median(b for b, _, _ in rows):,.0f}, ratio {ratio:.3f} (target >= {TARGET:g})"
    )


if __name__ == "__main__":
    main()
