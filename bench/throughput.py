"""Collector throughput against a bare pymodbus loop, on the same simulator in the same run.

20 SDM630 meters behind 2 gateways, replies not delayed, so both sides go as fast as the round
trips and their own CPU allow. Each side runs the same number of sweeps; a sweep asks every
device once, one request at a time per gateway, gateways in parallel.

- baseline: one bare AsyncModbusTcpClient per gateway sending exactly the requests the planner
  plans, one after another; it decodes nothing and stores nothing. Its readings are the points
  its replies carry.
- collector: what plantroom.runtime.Monitoring runs: ``Collector.poll`` per device (plan, read
  through the link, decode), one device after another per link as the collector's link tasks
  poll them, each batch handed to the DurablePublisher (committed to a DiskBuffer), and a
  Forwarder task draining the buffer into the EmbeddedStore. The clock stops when the last
  reading is in the store.

The two alternate a few times; the figure is the median of the per-pair ratios.

Run: .venv/bin/python -m bench.throughput
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from pymodbus.client import AsyncModbusTcpClient

from bench._bare import Work, bare_clients, bare_requests, gateway_work
from bench._site import BenchSite, Simulators, devices, port_map
from collectors.buffer import DiskBuffer, DurablePublisher, Forwarder
from collectors.poller import Collector
from collectors.readings import Reading
from collectors.sinks.embedded import EmbeddedStore
from config.settings import Settings
from config.site import SiteConfig

TARGET = 0.7
GATEWAYS = 2
PER_GATEWAY = 10
SWEEPS = 300
PAIRS = 7


async def bare_run(clients: dict[str, AsyncModbusTcpClient], work: dict[str, Work]) -> float:
    """SWEEPS sweeps of the bare loop: readings per second."""
    per_sweep = sum(len(req.points) for w in work.values() for _, req in w)
    t0 = time.perf_counter()
    for _ in range(SWEEPS):
        errors = await asyncio.gather(*(bare_requests(clients[k], w) for k, w in work.items()))
        if any(errors):
            raise RuntimeError(f"the baseline got {sum(errors)} error replies")
    return SWEEPS * per_sweep / (time.perf_counter() - t0)


class CollectorPath:
    """Collector -> DiskBuffer -> Forwarder -> EmbeddedStore, wired as Monitoring wires them."""

    def __init__(self, site: SiteConfig, data: Path, mapping: dict[int, int]):
        self.store = EmbeddedStore(data / "readings.sqlite")
        max_readings = Settings.model_fields["buffer_max_readings"].default
        self.forwarder = Forwarder(
            DiskBuffer(data / "buffer-embedded.sqlite", max_readings), self.store
        )
        # The same durable publish step Monitoring uses: on disk first, then on.
        self.publisher = DurablePublisher([self.forwarder])
        self.collector = Collector(site, self.publisher.publish, devices=devices(site, mapping))
        self.by_link = list(self.collector.by_link().values())

    @property
    def published(self) -> int:
        """Readings handed to the publisher so far (committed, or waiting for the next commit)."""
        return self.publisher.published + self.publisher.pending

    def publish(self, readings: list[Reading]) -> None:
        """Hand a poll's readings to the durable publisher."""
        self.publisher.publish(readings)

    async def sweep(self) -> None:
        """Every device polled once, as the collector's link tasks poll them: one device after
        another per link, links in parallel; each batch published as it is read."""

        async def link(devices: list[str]) -> None:
            for device_id in devices:
                self.publish(await self.collector.poll(device_id))

        await asyncio.gather(*(link(d) for d in self.by_link))

    async def run(self) -> tuple[float, float, float]:
        """SWEEPS sweeps, until stored: readings per second, seconds polling, seconds draining."""
        start_count = self.forwarder.forwarded
        start_published = self.published
        t0 = time.perf_counter()
        for _ in range(SWEEPS):
            await self.sweep()
        polled = time.perf_counter()
        n = self.published - start_published
        while self.forwarder.forwarded - start_count < n:
            await asyncio.sleep(0.002)
        t1 = time.perf_counter()
        return n / (t1 - t0), polled - t0, t1 - polled


@dataclass
class Pair:
    """One bare run and the collector run after it; CPU seconds of this process and of the
    simulator processes during each."""

    bare: float
    bare_cpu: float
    bare_sim_cpu: float
    rate: float
    cpu: float
    sim_cpu: float
    polling: float
    draining: float

    @property
    def ratio(self) -> float:
        """Collector readings/s over bare readings/s."""
        return self.rate / self.bare


async def measure(folder: Path) -> None:
    """Alternate both sides; print the table and the figure."""
    bench = BenchSite(gateways=GATEWAYS, per_gateway=PER_GATEWAY)
    site = bench.write(folder / "site")
    mapping = port_map(site)
    path = CollectorPath(site, folder / "data", mapping)
    col = path.collector
    work = gateway_work(col)
    forwarding = asyncio.create_task(path.forwarder.run(), name="forward:embedded")
    pairs: list[Pair] = []
    with Simulators(bench, folder, mapping, reply_delay=0.0) as sims:
        clients = await bare_clients(col)
        try:
            await path.sweep()  # warm up: connect, create the files' pages
            await bare_run(clients, work)
            for _ in range(PAIRS):
                cpu0, sim0 = time.process_time(), sims.cpu_seconds()
                bare = await bare_run(clients, work)
                cpu1, sim1 = time.process_time(), sims.cpu_seconds()
                rate, polling, draining = await path.run()
                cpu2, sim2 = time.process_time(), sims.cpu_seconds()
                pairs.append(
                    Pair(
                        bare=bare,
                        bare_cpu=cpu1 - cpu0,
                        bare_sim_cpu=sim1 - sim0,
                        rate=rate,
                        cpu=cpu2 - cpu1,
                        sim_cpu=sim2 - sim1,
                        polling=polling,
                        draining=draining,
                    )
                )
        finally:
            for c in clients.values():
                c.close()
            await path.publisher.close()
            path.forwarder.stop()
            await forwarding
            await col.stop()
            path.store.close()
            path.forwarder.buffer.close()

    per_sweep = sum(len(req.points) for w in work.values() for _, req in w)
    n_req = sum(len(w) for w in work.values())
    readings = SWEEPS * per_sweep
    header = (
        f"{'pair':>4} | {'bare rd/s':>9} {'CPU s':>5} {'sim s':>5} | {'collector rd/s':>14} "
        f"{'CPU s':>5} {'sim s':>5} {'polling s':>9} {'draining s':>10} | {'ratio':>5}"
    )
    print(header)
    print("-" * len(header))
    for i, p in enumerate(pairs, 1):
        print(
            f"{i:>4} | {p.bare:>9.0f} {p.bare_cpu:>5.2f} {p.bare_sim_cpu:>5.2f} | "
            f"{p.rate:>14.0f} {p.cpu:>5.2f} {p.sim_cpu:>5.2f} {p.polling:>9.3f} "
            f"{p.draining:>10.3f} | {p.ratio:>5.2f}"
        )
    print()
    print(
        f"{len(col.devices)} SDM630 behind {len(work)} gateways, no reply delay; each run "
        f"{SWEEPS} sweeps = {SWEEPS * n_req} requests, {readings} readings; forwarded to the "
        f"embedded store in all: {path.forwarder.forwarded}"
    )
    print(
        "CPU s = this process, threads included; sim s = the simulator processes; draining = "
        "after the last poll until the last reading was in the store"
    )
    print(
        f"CPU per reading: collector {statistics.mean(p.cpu for p in pairs) / readings * 1e6:.0f}"
        f" us, bare {statistics.mean(p.bare_cpu for p in pairs) / readings * 1e6:.0f} us"
    )
    mid = sorted(pairs, key=lambda p: p.ratio)[len(pairs) // 2]
    print(
        f"throughput: collector {mid.rate:.0f} readings/s vs bare pymodbus {mid.bare:.0f}, "
        f"ratio {mid.ratio:.2f} (target >= {TARGET:g})"
    )


def main() -> None:
    """Print the table and the figure."""
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="plantroom-bench-") as tmp:
        asyncio.run(measure(Path(tmp)))


if __name__ == "__main__":
    main()
