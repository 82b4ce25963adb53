"""Detection latency in the running demo: from the simulator changing a register to the work
order change being committed, against the bound of one poll interval plus 0.5 s.

The demo's own pieces run in this process, as `plantroom demo` runs them: the simulated
building on Modbus TCP, and Monitoring (collector, disk buffers, alert engine, work orders) on
a temporary data directory. Each trial waits a random part of a poll interval, sets building
A's or B's main-meter voltage to 0 V in the simulator (the demo rule main-power-loss: below
50 V, no `for`), and times until the work order's timeline has the firing committed in the
database; then gives the voltage back and waits for the alert to resolve.

Run: .venv/bin/python -m bench.detection_latency [--trials N]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from alerts.models import Alert
from collectors.simulator.server import Simulator
from config.settings import Settings
from plantroom.app import prepare_database
from plantroom.demo import pick_sim_ports
from plantroom.runtime import Monitoring
from plantroom.site import load_site
from workorders.orders.models import WorkOrder, WorkOrderEvent

RULE = "main-power-loss"
MAINS = {"a-main": "a-main-meter", "b-main": "b-main-meter"}
SLACK = 0.5


async def trial(sim: Simulator, mon: Monitoring, asset: str, device: str) -> float:
    """Seconds from the register change to the committed work-order event."""
    db = mon.engine.db

    def last_event() -> int:
        with db.session() as s:
            q = (
                select(func.max(WorkOrderEvent.id))
                .join(WorkOrder, WorkOrder.id == WorkOrderEvent.workorder_id)
                .where(WorkOrder.rule_id == RULE, WorkOrder.asset_id == asset)
                .where(WorkOrderEvent.kind.in_(["created", "alert_refired"]))
            )
            return int(s.scalar(q) or 0)

    before = await asyncio.to_thread(last_event)
    t0 = time.monotonic()
    sim.set_value(device, "voltage_l1", 0.0)
    while await asyncio.to_thread(last_event) == before:
        await asyncio.sleep(0.01)
    latency = time.monotonic() - t0
    sim.set_value(device, "voltage_l1", None)

    def live() -> int:
        with db.session() as s:
            q = select(func.count()).where(
                Alert.rule_id == RULE, Alert.asset_id == asset, Alert.active_key.is_not(None)
            )
            return int(s.scalar(q) or 0)

    while await asyncio.to_thread(live):
        await asyncio.sleep(0.05)
    return latency


async def run(trials: int, folder: Path) -> tuple[list[float], float]:
    settings = Settings(data_dir=folder / "data", _env_file=None)  # type: ignore[call-arg]
    site = load_site(settings.site)
    interval = max(r.device.poll_interval for r in site.devices() if r.asset.asset.id in MAINS)
    db = prepare_database(settings, site)
    ports = pick_sim_ports(site, 0)
    sim = Simulator(site, port_map=ports)
    await sim.start()
    mon = Monitoring(settings, site, db, port_map=ports)
    await mon.start()
    rng = random.Random(7)
    out: list[float] = []
    try:
        await asyncio.sleep(interval * 2)  # every device polled, the engine has its baselines
        for i in range(trials):
            await asyncio.sleep(rng.uniform(0, interval))  # any phase of the poll schedule
            asset = "a-main" if i % 2 == 0 else "b-main"
            out.append(await trial(sim, mon, asset, MAINS[asset]))
            print(f"trial {i + 1:>3}: {asset} {out[-1]:.3f} s", flush=True)
    finally:
        await mon.stop()
        await sim.stop()
        db.dispose()
    return out, interval


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=40)
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="plantroom-latency-") as tmp:
        lat, interval = asyncio.run(run(args.trials, Path(tmp)))
    lat.sort()
    p99 = lat[min(len(lat) - 1, round(0.99 * (len(lat) - 1)))]
    bound = interval + SLACK
    print(
        f"{len(lat)} trials; median {statistics.median(lat):.3f} s, "
        f"p90 {lat[round(0.9 * (len(lat) - 1))]:.3f} s, max {lat[-1]:.3f} s; "
        f"poll interval {interval:g} s"
    )
    print(
        f"detection latency: p99 {p99:.3f} s, bound {bound:g} s (poll interval + {SLACK:g} s), "
        f"ratio {p99 / bound:.2f} ({'met' if p99 <= bound else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
