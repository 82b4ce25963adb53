"""The collector reads the simulated building over real Modbus TCP and RTU-over-TCP."""

from __future__ import annotations

import asyncio
import time

from collectors.poller import Collector
from collectors.readings import Quality, Reading
from config.site import SiteConfig, remap_ports
from tests.collectors.sim import port_map, simulator


def poll_once(
    site: SiteConfig,
    device_ids: list[str],
    *,
    fault_clock_offset: float = 0.0,
    overrides: dict[str, dict[str, float]] | None = None,
) -> dict[str, list[Reading]]:
    """Start the simulator, poll each device once, stop; readings by device."""

    async def run() -> dict[str, list[Reading]]:
        mapping = port_map(site)
        # Pretend the simulator started fault_clock_offset seconds ago, for scripted faults.
        sim = simulator(site, mapping, started_at=time.time() - fault_clock_offset)
        for dev, points in (overrides or {}).items():
            for point, value in points.items():
                sim.set_value(dev, point, value)
        await sim.start()
        refs = [r for r in remap_ports(site.devices(), mapping) if r.device.id in device_ids]
        col = Collector(site, lambda _r: None, devices=refs)
        try:
            return {d: await col.poll(d) for d in device_ids}
        finally:
            await col.stop()
            await sim.stop()

    return asyncio.run(run())


def by_point(readings: list[Reading]) -> dict[str, Reading]:
    return {r.point: r for r in readings}


def test_energy_meter_voltages_read_over_modbus_tcp_are_mains_voltages(
    demo_site: SiteConfig,
) -> None:
    readings = by_point(poll_once(demo_site, ["a-main-meter"])["a-main-meter"])
    for phase in ("voltage_l1", "voltage_l2", "voltage_l3"):
        assert readings[phase].quality is Quality.good
        assert 220 <= readings[phase].value <= 240  # type: ignore[operator]
    assert 49.5 <= readings["frequency"].value <= 50.5  # type: ignore[operator]
    assert len(readings) == len(demo_site.profiles["sdm630"].points)


def test_main_meter_reads_more_than_the_sum_of_its_sub_meters(demo_site: SiteConfig) -> None:
    ids = ["a-main-meter", "a-lighting-meter", "a-hvac-meter", "a-power-meter", "a-special-meter"]
    got = {d: by_point(r)["total_power"].value for d, r in poll_once(demo_site, ids).items()}
    subs = sum(got[d] for d in ids[1:])  # type: ignore[misc]
    assert got["a-main-meter"] > subs  # type: ignore[operator]  # losses and unmetered loads


def test_water_meter_behind_an_rtu_over_tcp_gateway_is_read(demo_site: SiteConfig) -> None:
    readings = by_point(poll_once(demo_site, ["water-main-meter"])["water-main-meter"])
    assert readings["flow"].quality is Quality.good and readings["flow"].value >= 0  # type: ignore[operator]
    assert readings["net_total"].value > 100_000  # type: ignore[operator]


def test_forced_register_value_arrives_decoded_and_scaled(demo_site: SiteConfig) -> None:
    readings = poll_once(
        demo_site, ["pump-1-drive"], overrides={"pump-1-drive": {"motor_current": 31.25}}
    )
    assert by_point(readings["pump-1-drive"])["motor_current"].value == 31.25


def test_bearing_wear_raises_the_pump_current(demo_site: SiteConfig) -> None:
    healthy = by_point(poll_once(demo_site, ["pump-2-drive"])["pump-2-drive"])
    worn = by_point(poll_once(demo_site, ["pump-1-drive"], fault_clock_offset=120)["pump-1-drive"])
    assert worn["motor_current"].value > healthy["motor_current"].value + 10  # type: ignore[operator]


def test_silent_device_gives_unavailable_readings_never_numbers(demo_site: SiteConfig) -> None:
    # The demo silences b-special-meter from 90 s to 990 s after start.
    readings = poll_once(demo_site, ["b-special-meter", "b-main-meter"], fault_clock_offset=100)
    silent = readings["b-special-meter"]
    assert silent and all(r.quality is Quality.unavailable and r.value is None for r in silent)
    # Its neighbour on the same gateway still answers.
    assert all(r.quality is Quality.good for r in readings["b-main-meter"])


def test_device_that_is_not_listening_is_unavailable(demo_site: SiteConfig) -> None:
    async def run() -> list[Reading]:
        refs = remap_ports(
            [r for r in demo_site.devices() if r.device.id == "pump-1-drive"], {15022: 1}
        )  # nothing listens on port 1
        col = Collector(demo_site, lambda _r: None, devices=refs)
        try:
            return await col.poll("pump-1-drive")
        finally:
            await col.stop()

    readings = asyncio.run(run())
    assert readings and all(r.quality is Quality.unavailable for r in readings)
    assert all(r.value is None for r in readings)
