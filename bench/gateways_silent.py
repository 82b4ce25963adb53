"""Healthy devices' sweep time with 10% of the devices silent, against all devices healthy.

The site of ``bench.gateways`` (200 SDM630 meters behind 10 gateways, replies delayed 20 ms),
polled by the real Collector's own loops (``Collector.start()``), every device on the same
interval, so each tick is one sweep. Two runs, one after the other in this process:

1. all 200 devices healthy;
2. 2 devices per gateway (units 7 and 14, 20 in all) silent: their gateway answers exception 11
   after its 0.25 s timeout, as a serial gateway does for a dead slave.

- healthy sweep of a tick: from the first poll of the tick to the end of the last poll of the
  180 devices that are healthy in run 2 (the same 180 in both runs).
- steady state: the ticks after every silent device has failed ``quarantine_after`` polls in a
  row and been quarantined. From then on a silent device is asked only when its backoff runs out
  (2, 4, 8 ... intervals, up to max_backoff); in between its points are reported unavailable
  without touching the bus. The figure is the median over the steady ticks; the table shows the
  ticks before quarantine and those with a probe too.

Run: .venv/bin/python -m bench.gateways_silent
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench._site import BenchSite, Simulators, device_id, devices, port_map
from collectors.poller import Collector
from collectors.readings import Reading
from config.site import DeviceRef, SiteConfig

TARGET = 0.10
REPLY_DELAY = 0.02
INTERVAL = 3.0
SILENT_UNITS = (7, 14)
#: Ticks per run; the first tick of each run (connecting) is left out.
HEALTHY_TICKS = 6
SILENT_TICKS = 16


class TimedCollector(Collector):
    """The real Collector, noting when each poll starts and ends (monotonic seconds)."""

    def __init__(
        self, site: SiteConfig, publish: Callable[[list[Reading]], None], refs: list[DeviceRef]
    ):
        super().__init__(site, publish, devices=refs)
        self.polls: list[tuple[str, float, float]] = []

    async def poll(self, device_id: str, group: str | None = None) -> list[Reading]:
        """Collector.poll, timed."""
        t0 = time.monotonic()
        readings = await super().poll(device_id, group)
        self.polls.append((device_id, t0, time.monotonic()))
        return readings


@dataclass
class Run:
    """What one run saw."""

    #: Healthy sweep per complete tick.
    sweeps: dict[int, float] = field(default_factory=dict)
    #: Ticks in which a silent device was asked.
    probed: set[int] = field(default_factory=set)
    #: First steady tick (every silent device quarantined); 0 when none is silent.
    steady_from: int = 0
    qualities: Counter[str] = field(default_factory=Counter)
    batches: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    ticks: int = 0


async def one_run(bench: BenchSite, folder: Path, ticks: int, healthy: set[str]) -> Run:
    """Poll the site with the Collector's loops for ``ticks`` intervals."""
    site = bench.write(folder / "site")
    mapping = port_map(site)
    run = Run(ticks=ticks)

    def publish(readings: list[Reading]) -> None:
        run.batches[readings[0].device] += 1
        run.qualities.update(str(r.quality) for r in readings)

    col = TimedCollector(site, publish, devices(site, mapping))
    with Simulators(bench, folder, mapping, reply_delay=REPLY_DELAY) as sims:
        before = sims.requests()
        t_start = time.monotonic()
        await col.start()
        try:
            # Stop well inside the last tick's interval, after its sweep has ended.
            await asyncio.sleep((ticks - 1) * INTERVAL + 0.9 * INTERVAL)
        finally:
            await col.stop()
        run.requests = sims.requests() - before

    by_tick: dict[int, list[tuple[str, float, float]]] = defaultdict(list)
    for dev, t0, t1 in col.polls:
        by_tick[round((t0 - t_start) / INTERVAL)].append((dev, t0, t1))
    for k, polls in by_tick.items():
        if any(dev not in healthy for dev, _, _ in polls):
            run.probed.add(k)
        done = [t1 for dev, _, t1 in polls if dev in healthy]
        if len(done) == len(healthy):  # a complete sweep of the healthy devices
            run.sweeps[k] = max(done) - min(t0 for _, t0, _ in polls)
    silent = set(col.devices) - healthy
    if silent:
        quarantine_after = max(col.devices[d].ref.device.quarantine_after for d in silent)
        run.steady_from = quarantine_after
        for d in silent:
            ticks_asked = sorted(k for k, polls in by_tick.items() if d in {p[0] for p in polls})
            if len(ticks_asked) >= quarantine_after:
                run.steady_from = max(run.steady_from, ticks_asked[quarantine_after - 1] + 1)
        # The ticks before quarantine are counted apart, not as probes.
        run.probed = {k for k in run.probed if k >= run.steady_from}
    return run


def _kind(run: Run, k: int) -> str:
    if k == 0:
        return "warm-up (connect)" + (", before quarantine" if run.steady_from else "")
    if k < run.steady_from:
        return "before quarantine"
    if k in run.probed:
        return "probe of silent devices"
    return ""


def main() -> None:
    """Run both, print the table and the figure."""
    logging.basicConfig(level=logging.ERROR)  # the quarantine warnings are expected here
    silent = frozenset(device_id(g, u) for g in range(BenchSite().gateways) for u in SILENT_UNITS)
    all_devices = {
        device_id(g, u)
        for g in range(BenchSite().gateways)
        for u in range(1, BenchSite().per_gateway + 1)
    }
    healthy = all_devices - silent
    with tempfile.TemporaryDirectory(prefix="plantroom-bench-") as tmp:
        base = asyncio.run(
            one_run(BenchSite(poll_interval=INTERVAL), Path(tmp) / "a", HEALTHY_TICKS, healthy)
        )
        hurt = asyncio.run(
            one_run(
                BenchSite(poll_interval=INTERVAL, silent=silent),
                Path(tmp) / "b",
                SILENT_TICKS,
                healthy,
            )
        )

    header = f"{'tick':>4}  {'all healthy':>11}  {'10% silent':>10}  silent run"
    print(header)
    print("-" * 60)
    for k in range(max(HEALTHY_TICKS, SILENT_TICKS)):
        a = f"{base.sweeps[k]:>11.3f}" if k in base.sweeps else f"{'-':>11}"
        b = f"{hurt.sweeps[k]:>10.3f}" if k in hurt.sweeps else f"{'-':>10}"
        print(f"{k:>4}  {a}  {b}  {_kind(hurt, k) if k < SILENT_TICKS else ''}")
    print()
    ref = statistics.median(base.sweeps[k] for k in base.sweeps if k > 0)
    steady = [s for k, s in hurt.sweeps.items() if k >= hurt.steady_from]
    quiet = [s for k, s in hurt.sweeps.items() if k >= hurt.steady_from and k not in hurt.probed]
    before = [s for k, s in hurt.sweeps.items() if 0 < k < hurt.steady_from]
    probes = [s for k, s in hurt.sweeps.items() if k in hurt.probed]
    got = statistics.median(steady)
    print(
        f"healthy sweep = first poll of a tick to the end of the last poll of the "
        f"{len(healthy)} healthy devices; interval {INTERVAL:g} s, reply delay "
        f"{REPLY_DELAY * 1000:g} ms"
    )
    print(f"all healthy, ticks 1-{HEALTHY_TICKS - 1}: median {ref:.3f} s")
    if before:
        print(
            f"10% silent, before quarantine (ticks 1-{hurt.steady_from - 1}): "
            f"median {statistics.median(before):.3f} s"
        )
    print(
        f"10% silent, steady state (ticks {hurt.steady_from}-{SILENT_TICKS - 1}): median "
        f"{got:.3f} s, mean {statistics.mean(steady):.3f} s; without a probe "
        f"{statistics.median(quiet):.3f} s"
        + (
            f"; {len(probes)} ticks with a probe, median {statistics.median(probes):.3f} s"
            if probes
            else ""
        )
    )
    # Every meter has the same plan, so the healthy devices' share of the bus is their count's.
    print(
        f"if the silent devices took no bus time at all: {len(healthy)}/{len(all_devices)} of "
        f"the all-healthy sweep, {ref * len(healthy) / len(all_devices):.3f} s"
    )
    for name, run in (("all healthy", base), ("10% silent", hurt)):
        per_tick = run.requests / run.ticks
        lost = sum(max(0, run.ticks - run.batches[d]) for d in all_devices)
        print(
            f"{name}: {per_tick:.0f} requests on the wire per tick; readings "
            + ", ".join(f"{q} {n}" for q, n in sorted(run.qualities.items()))
            + f"; devices missing a batch in a tick: {lost}"
        )
    print(
        f"silent 10%: healthy sweep {got:.2f} s vs {ref:.2f} s all healthy, "
        f"growth {(got / ref - 1) * 100:.1f}% (target <= {TARGET * 100:g}%)"
    )


if __name__ == "__main__":
    main()
