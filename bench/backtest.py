"""Backtests: how fast `plantroom rules backtest` replays stored history through the engine.

A simulated period of the demo site (default 30 days at a 5-minute step) is written into a
temporary embedded store first, as `plantroom simulate --history` does. Then, on that store:

- *read only* (the baseline): ``EmbeddedStore.iter_range`` over the period, for the points of
  the rule set, without the engine: what reading the history alone costs per reading;
- *backtest*: ``run_backtest`` of the same rules and period, with the throwaway database.

Three rule sets: a heavy set of twelve rules of every evaluator type over all ten SDM630
meters; the demo site's own rules with every ``stale`` rule's ``after`` raised to twice the
history's step; and the demo site's rules as they are. The demo's ``meter-silent`` rule
(``after: 1m``) is finer than a 5-minute history: it fires at the end of every replayed hour on
each of the ten meters and clears at the next reading (the report warns about it), and every
fire and clear is database work. The last line gives the demo rules' figure and its ratio to
the read-only rate.

Run: .venv/bin/python bench/backtest.py [--days N] [--step 5m]
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import TypeAdapter

from alerts.backtest import BacktestResult
from alerts.rules import RuleConfig, StaleRule
from collectors.simulator.history import write_history
from collectors.sinks.embedded import EmbeddedStore
from config.site import SITES_DIR, SiteConfig
from config.units import parse_duration
from plantroom.site import load_site
from plantroom.wiring import run_backtest

DAY = 86400.0
#: Seven thresholds over every SDM630 meter: (point, above).
THRESHOLDS = (
    ("voltage_l1", 245.0),
    ("voltage_l2", 245.0),
    ("voltage_l3", 245.0),
    ("current_l1", 300.0),
    ("current_l2", 300.0),
    ("current_l3", 300.0),
    ("reactive_power", 1e6),
)
#: And one rule of each of the other evaluator types (and a falling threshold).
OTHERS: list[dict[str, object]] = [
    {"id": "pf-low", "type": "threshold", "point": "power_factor", "below": 0.8, "for": "15m"},
    {"id": "freq-jump", "type": "rate_of_change", "point": "frequency", "above": 5},
    {"id": "power-baseline", "type": "baseline_deviation", "point": "total_power", "ratio": 0.5},
    {"id": "energy-burst", "type": "counter_increase", "point": "import_energy"}
    | {"increase": 5000, "within": "1h"},
    {"id": "demand-stale", "type": "stale", "point": "demand", "after": "30m"},
]


def heavy_rules() -> list[RuleConfig]:
    """Twelve rules over every meter, validated like a rules file."""
    raw: list[dict[str, object]] = [
        {"id": f"{p}-high", "type": "threshold", "point": p, "above": above, "for": "5m"}
        for p, above in THRESHOLDS
    ]
    return TypeAdapter(list[RuleConfig]).validate_python(
        [
            {"name": r["id"], "select": {"asset_class": ["Electrical_Meter"]}, **r}
            for r in raw + OTHERS
        ]
    )


def measure(
    label: str,
    site: SiteConfig,
    store: EmbeddedStore,
    start: float,
    end: float,
    rules: list[RuleConfig],
) -> tuple[float, BacktestResult]:
    """Print the read-only and backtest figures of one rule set; (read rate, result)."""
    points = {r.point for r in rules}
    t = time.perf_counter()
    read = sum(len(w) for w in store.iter_range(start, end, points=points))
    read_s = time.perf_counter() - t
    result = run_backtest(site, store, start, end, rules)
    print(f"{label}: {len(rules)} rules, points {', '.join(sorted(points))}")
    print(f"  read only  {read:>12,} readings in {read_s:7.2f} s  {read / read_s:>10,.0f}/s")
    print(
        f"  backtest   {result.readings:>12,} readings in {result.replay_seconds:7.2f} s  "
        f"{result.rate:>10,.0f}/s  ({result.seconds:.2f} s with the throwaway database; "
        f"{len(result.work_orders)} work orders)"
    )
    for w in result.warnings:
        print(f"  warning: {w}")
    return read / read_s, result


def main() -> None:
    """Measure and print."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=float, default=30.0, help="simulated days (default 30)")
    ap.add_argument("--step", default="5m", help="history step (default 5m)")
    args = ap.parse_args()
    logging.getLogger("alerts.engine").setLevel(logging.CRITICAL)
    step = parse_duration(args.step)
    site = load_site(SITES_DIR / "demo")
    start = dt.datetime(2026, 3, 1, tzinfo=ZoneInfo(site.doc.site.timezone)).timestamp()
    end = start + args.days * DAY
    with tempfile.TemporaryDirectory() as tmp:
        store = EmbeddedStore(Path(tmp) / "readings.sqlite")
        try:
            made = write_history(site, start, end, [store], step=step)
            print(
                f"history: {made.readings:,} readings of the demo site, {args.days:g} days at "
                f"{step:g} s, written in {made.seconds:.1f} s"
            )
            measure("heavy rules", site, store, start, end, heavy_rules())
            at_step = [
                r.model_copy(update={"after": max(r.after, 2 * step)})
                if isinstance(r, StaleRule)
                else r
                for r in site.doc.rules
            ]
            measure("demo rules, stale after 2 x step", site, store, start, end, at_step)
            base, result = measure("demo rules", site, store, start, end, list(site.doc.rules))
        finally:
            store.close()
    print(
        f"backtest: {args.days:g} simulated days of the demo rules in {result.seconds:.2f} s "
        f"({result.rate:,.0f} readings/s replayed, {result.rate / base:.2f} of the store's "
        "read-only rate)"
    )


if __name__ == "__main__":
    main()
