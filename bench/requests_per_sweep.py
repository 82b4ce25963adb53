"""Modbus requests per sweep: the planner's merged reads against one request per point.

For every profile it prints the planned count and the one-per-point baseline. Then it checks both
figures on the wire: it serves the demo site with the real simulator on free loopback ports, polls
one demo device per profile once with the real Collector, planned and then one-per-point, and
prints the requests the simulator received. The last line is the SDM630 figure.

Run: .venv/bin/python bench/requests_per_sweep.py
"""

from __future__ import annotations

import asyncio
import logging
import socket

from collectors.planner import plan, plan_profile
from collectors.poller import Collector
from collectors.simulator.server import Simulator
from config.profile import Profile
from config.site import SITES_DIR, DeviceRef, RtuLink, SiteConfig, remap_ports
from plantroom.site import load_site

TARGET = 5.0


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def planned_counts(profile: Profile) -> tuple[int, int]:
    """Requests per sweep: planned, and one per point."""
    return len(plan_profile(profile)), len(plan(profile.points, one_per_point=True))


def one_per_point(ref: DeviceRef) -> DeviceRef:
    """The same device with a profile that asks one request per point (the baseline)."""
    profile = ref.profile.model_copy(update={"one_request_per_point": True})
    return DeviceRef(ref.device, ref.asset, profile)


async def counted_on_the_wire(site: SiteConfig) -> dict[str, tuple[str, int, int]]:
    """Per profile: a demo device, and the requests the simulator got for one poll of it,
    planned and one per point."""
    ports = {d.device.link.port for d in site.devices() if not isinstance(d.device.link, RtuLink)}
    mapping = {p: free_port() for p in sorted(ports)}
    sim = Simulator(site, port_map=mapping)
    await sim.start()
    out: dict[str, tuple[str, int, int]] = {}
    try:
        refs = remap_ports(site.devices(), mapping)
        # a-main-meter first, so the SDM630 figure is the main meter's.
        refs.sort(key=lambda r: r.device.id != "a-main-meter")
        for ref in refs:
            name = ref.profile.profile
            if name in out:
                continue
            counts = []
            for variant in (ref, one_per_point(ref)):
                before = sim.requests[ref.device.id]
                col = Collector(site, lambda _r: None, devices=[variant])
                try:
                    await col.poll(ref.device.id)
                finally:
                    await col.stop()
                counts.append(sim.requests[ref.device.id] - before)
            out[name] = (ref.device.id, counts[0], counts[1])
    finally:
        await sim.stop()
    return out


def main() -> None:
    """Print the table and the SDM630 line."""
    logging.basicConfig(level=logging.WARNING)
    site = load_site(SITES_DIR / "demo")
    wire = asyncio.run(counted_on_the_wire(site))
    header = (
        f"{'profile':<20} {'points':>6} {'planned':>7} {'1/point':>7} {'ratio':>6}   "
        f"{'simulator, one poll of':<22} {'planned':>7} {'1/point':>7}"
    )
    print(header)
    print("-" * len(header))
    for name, profile in sorted(site.profiles.items()):
        planned, single = planned_counts(profile)
        device, got, got_single = wire.get(name, ("(not in demo)", 0, 0))
        seen = f"{got:>7} {got_single:>7}" if name in wire else f"{'-':>7} {'-':>7}"
        print(
            f"{name:<20} {len(profile.points):>6} {planned:>7} {single:>7} "
            f"{single / planned:>5.1f}x   {device:<22} {seen}"
        )
    planned, single = planned_counts(site.profiles["sdm630"])
    print(
        f"sdm630 requests per sweep: {planned} vs {single} one-per-point, "
        f"ratio {single / planned:.1f}x fewer (target >= {TARGET:g}x)"
    )


if __name__ == "__main__":
    main()
