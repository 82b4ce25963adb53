"""Simulated history: how long `plantroom simulate --history` takes for the demo site.

Three measurements in one run, at the history's default step (each point's poll interval, but
no more often than 60 s) unless --step says otherwise:

- *generate*: the readings of N days made and thrown away (models, conversions, Readings);
- *store only* (the baseline): the first simulated day's batches, made beforehand and kept in
  memory, written to a fresh EmbeddedStore: what the store alone costs per reading;
- *history*: ``write_history`` of N days into a fresh embedded store in a temporary data
  directory, as the command does (without the progress bar).

The last line gives the end-to-end figure, its ratio to the store's own write rate, and a year
extrapolated linearly from N days (the store's cost per reading grows a little with its size).

Run: .venv/bin/python bench/history.py [--days N] [--step 5m]
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from collectors.readings import Reading
from collectors.simulator.history import DEFAULT_STEP, generate, write_history
from collectors.sinks.embedded import EmbeddedStore
from config.site import SITES_DIR
from config.units import parse_duration
from plantroom.site import load_site

DAY = 86400.0


def main() -> None:
    """Measure and print."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=float, default=1.0, help="simulated days (default 1)")
    ap.add_argument("--step", default=None, help="e.g. 5m (default: the history's default)")
    args = ap.parse_args()
    step = None if args.step is None else parse_duration(args.step)
    site = load_site(SITES_DIR / "demo")
    start = dt.datetime(2026, 1, 5, tzinfo=ZoneInfo(site.doc.site.timezone)).timestamp()
    end = start + args.days * DAY
    points = sum(len(r.profile.points) for r in site.devices())
    step_text = f"{step:g} s" if step is not None else f"default (>= {DEFAULT_STEP:g} s)"
    print(f"demo site: {len(site.devices())} devices, {points} points; step {step_text}")

    t = time.perf_counter()
    made = sum(len(batch) for batch, _ in generate(site, start, end, step=step))
    gen_s = time.perf_counter() - t
    print(f"generate       {made:>12,} readings in {gen_s:7.2f} s  {made / gen_s:>10,.0f}/s")

    one_day: list[list[Reading]] = [
        batch for batch, _ in generate(site, start, start + DAY, step=step)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        store = EmbeddedStore(Path(tmp) / "readings.sqlite")
        t = time.perf_counter()
        for batch in one_day:
            store.write(batch)
        base_s = time.perf_counter() - t
        store.close()
    base_n = sum(map(len, one_day))
    base_rate = base_n / base_s
    del one_day
    print(f"store only     {base_n:>12,} readings in {base_s:7.2f} s  {base_rate:>10,.0f}/s")

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data" / "readings.sqlite"
        store = EmbeddedStore(path)
        result = write_history(site, start, end, [store], step=step)
        store.close()
        size = path.stat().st_size + sum(
            p.stat().st_size for p in path.parent.glob("readings.sqlite-*")
        )
    rate = result.readings / result.seconds
    print(
        f"history        {result.readings:>12,} readings in {result.seconds:7.2f} s  "
        f"{rate:>10,.0f}/s  ({size / 1e6:,.0f} MB on disk)"
    )
    year = 365 / args.days
    print(
        f"a year: about {result.readings * year / 1e6:,.0f} million readings, "
        f"{size * year / 1e9:,.1f} GB"
    )
    days = f"{args.days:g} simulated day{'s' if args.days != 1 else ''}"
    print(
        f"history: {days} in {result.seconds:.1f} s ({rate:,.0f} readings/s, "
        f"{rate / base_rate:.2f} of the store's own write rate); "
        f"a year extrapolates to {result.seconds * year / 60:.1f} min"
    )


if __name__ == "__main__":
    main()
