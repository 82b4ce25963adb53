"""A value that should move but stays frozen is flagged 'stale' (a gateway serving a cache)."""

from __future__ import annotations

import asyncio

from collectors.poller import Collector
from collectors.readings import Quality
from config.site import SiteConfig, remap_ports
from tests.collectors.sim import port_map, simulator


def qualities_over_time(
    site: SiteConfig, minutes: list[float], frozen: list[float | None]
) -> list[Quality]:
    """Poll a-main-meter at the given minutes with voltage_l1 frozen at the given values."""

    async def run() -> list[Quality]:
        mapping = port_map(site)
        sim = simulator(site, mapping)
        await sim.start()
        now = [1_790_000_000.0]
        refs = [r for r in remap_ports(site.devices(), mapping) if r.device.id == "a-main-meter"]
        col = Collector(site, lambda _r: None, devices=refs, clock=lambda: now[0])
        out = []
        try:
            for minute, value in zip(minutes, frozen, strict=True):
                now[0] = 1_790_000_000.0 + minute * 60
                sim.set_value("a-main-meter", "voltage_l1", value)
                readings = await col.poll("a-main-meter")
                out.append(next(r.quality for r in readings if r.point == "voltage_l1"))
        finally:
            await col.stop()
            await sim.stop()
        return out

    return asyncio.run(run())


def test_voltage_frozen_longer_than_stale_after_is_flagged_stale(demo_site: SiteConfig) -> None:
    # The SDM630 profile gives voltages stale_after: 15m.
    got = qualities_over_time(demo_site, [0, 10, 16], [231.0, 231.0, 231.0])
    assert got == [Quality.good, Quality.good, Quality.stale]


def test_a_changing_value_is_never_stale(demo_site: SiteConfig) -> None:
    got = qualities_over_time(demo_site, [0, 10, 16, 40], [231.0, 231.5, 230.9, 231.2])
    assert got == [Quality.good] * 4


def test_a_stale_value_is_good_again_once_it_moves(demo_site: SiteConfig) -> None:
    got = qualities_over_time(demo_site, [0, 20, 21], [231.0, 231.0, 229.0])
    assert got == [Quality.good, Quality.stale, Quality.good]
