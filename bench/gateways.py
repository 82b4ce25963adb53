"""Sweep time of 200 meters behind 10 gateways, each reply delayed 20 ms, against the bound the
links allow.

A gateway carries one request at a time, so its devices' requests go one after another; separate
gateways work in parallel. The bound is therefore the busiest gateway's request count times the
time one request takes, and that per-request time is measured in this run: a bare pymodbus
client sends one gateway's requests one after another (the 20 ms plus the real round trip).

- sweep: every device polled once. All 200 ``Collector.poll`` calls start together
  (``asyncio.gather``); the sweep ends when the last returns. Median of several sweeps.
- bound: max over gateways of (requests per sweep on that gateway x per-request time).

The simulator serves each gateway from its own child process, as each real gateway is its own
hardware. The table also shows the testbed's floor: the same bare client on all 10 gateways at
once. Whatever that costs over the bound is the testbed's (one machine plays 10 gateways and the
collector), not the collector's.

Run: .venv/bin/python -m bench.gateways
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from bench._bare import bare_clients, bare_requests, gateway_work
from bench._site import BenchSite, Simulators, devices, port_map
from collectors.poller import Collector
from collectors.readings import Quality

TARGET = 1.15
REPLY_DELAY = 0.02
SWEEPS = 5


async def collector_sweep(col: Collector) -> tuple[float, dict[str, float], int]:
    """Poll every device once, all at once: the sweep time, each gateway's finishing time,
    and how many readings came back unavailable."""
    t0 = time.perf_counter()
    finished: dict[str, float] = defaultdict(float)
    bad = 0

    async def one(device_id: str) -> None:
        nonlocal bad
        readings = await col.poll(device_id)
        key = col.devices[device_id].ref.device.link.key
        finished[key] = max(finished[key], time.perf_counter() - t0)
        bad += sum(r.quality is Quality.unavailable for r in readings)

    await asyncio.gather(*(one(d) for d in col.devices))
    return time.perf_counter() - t0, dict(finished), bad


async def measure(col: Collector, sim: Simulators) -> None:
    """Alternate the baseline and the collector; print the table and the figure."""
    work = gateway_work(col)
    keys = sorted(work)
    clients = await bare_clients(col)
    try:
        # Warm up: connect the collector's links, touch every device once.
        await collector_sweep(col)
        await asyncio.gather(*(bare_requests(clients[k], work[k]) for k in keys))

        per_request: list[float] = []
        sweeps: list[float] = []
        by_gateway: dict[str, list[float]] = defaultdict(list)
        floor: list[float] = []
        on_wire: list[int] = []
        errors = unavailable = 0
        collector_cpu = 0.0
        cpu0, served0 = sim.cpu_seconds(), sim.requests()
        for i in range(SWEEPS):
            key = keys[i % len(keys)]  # the baseline visits a different gateway each time
            t0 = time.perf_counter()
            errors += await bare_requests(clients[key], work[key])
            per_request.append((time.perf_counter() - t0) / len(work[key]))

            before, cpu_before = sim.requests(), time.process_time()
            total, finished, bad = await collector_sweep(col)
            collector_cpu += time.process_time() - cpu_before
            on_wire.append(sim.requests() - before)
            sweeps.append(total)
            unavailable += bad
            for k, t in finished.items():
                by_gateway[k].append(t)

            t0 = time.perf_counter()
            errs = await asyncio.gather(*(bare_requests(clients[k], work[k]) for k in keys))
            floor.append(time.perf_counter() - t0)
            errors += sum(errs)
        cpu, served = sim.cpu_seconds() - cpu0, sim.requests() - served0
    finally:
        for c in clients.values():
            c.close()

    t_req = statistics.median(per_request)
    bounds = {k: len(work[k]) * t_req for k in keys}
    bound = max(bounds.values())
    sweep = statistics.median(sweeps)
    header = (
        f"{'gateway':<28} {'devices':>7} {'requests':>8} {'sweep s':>8} {'bound s':>8} {'ratio':>6}"
    )
    print(header)
    print("-" * len(header))
    for k in keys:
        n_dev = len({unit for unit, _ in work[k]})
        t = statistics.median(by_gateway[k])
        print(
            f"{k:<28} {n_dev:>7} {len(work[k]):>8} {t:>8.3f} {bounds[k]:>8.3f} "
            f"{t / bounds[k]:>6.2f}"
        )
    n_req = sum(len(w) for w in work.values())
    print("-" * len(header))
    print(
        f"{'all (sweep = last device done)':<28} {len(col.devices):>7} {n_req:>8} "
        f"{sweep:>8.3f} {bound:>8.3f} {sweep / bound:>6.2f}"
    )
    print()
    print(f"reply delay {REPLY_DELAY * 1000:g} ms; {SWEEPS} sweeps, medians")
    print(
        f"per-request time (bare pymodbus, one gateway, requests one after another): "
        f"{t_req * 1000:.2f} ms  [min {min(per_request) * 1000:.2f}, "
        f"max {max(per_request) * 1000:.2f}]"
    )
    print(f"bound = max over gateways of requests x per-request time = {bound:.3f} s")
    print(
        f"collector sweeps: {', '.join(f'{s:.3f}' for s in sweeps)} s; requests on the wire "
        f"per sweep {', '.join(map(str, on_wire))} (planned {n_req}); "
        f"unavailable readings {unavailable}; baseline error replies {errors}"
    )
    testbed = statistics.median(floor)
    print(
        f"testbed floor: bare pymodbus on all {len(keys)} gateways at once {testbed:.3f} s, "
        f"ratio {testbed / bound:.2f}"
    )
    print(
        f"CPU per request: collector {collector_cpu / sum(on_wire) * 1000:.2f} ms, "
        f"simulator {cpu / served * 1000:.2f} ms (its {len(keys)} processes together)"
    )
    print(
        f"gateways: sweep {sweep:.2f} s, bound {bound:.2f} s, ratio {sweep / bound:.2f} "
        f"(target <= {TARGET:g})"
    )


async def run(folder: Path) -> None:
    """Serve the site from child processes and measure against it."""
    bench = BenchSite()
    site = bench.write(folder / "site")
    mapping = port_map(site)
    col = Collector(site, lambda _r: None, devices=devices(site, mapping))
    with Simulators(bench, folder, mapping, reply_delay=REPLY_DELAY) as sim:
        try:
            await measure(col, sim)
        finally:
            await col.stop()


def main() -> None:
    """Print the table and the figure."""
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="plantroom-bench-") as tmp:
        asyncio.run(run(Path(tmp)))


if __name__ == "__main__":
    main()
