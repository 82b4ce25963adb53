"""Fault injection: devices that time out, answer garbage, answer with exceptions, reply late or
drop the connection, beside healthy devices on the same gateways. The healthy ones keep their
schedule and their readings stay good; the faulty ones read 'unavailable', never a number."""

from __future__ import annotations

import asyncio
from collections import defaultdict

import pytest

from collectors.poller import Collector
from collectors.readings import Quality, Reading
from config.site import DeviceRef, SiteConfig, remap_ports
from tests.collectors.faultproxy import FaultProxy
from tests.collectors.sim import port_map, simulator

GATEWAY_A, PUMPS = 15020, 15022
FAULTS_A = {2: "timeout", 3: "garbage", 4: "exception", 5: "late"}  # units on Building A
FAULTS_PUMPS = {2: "drop"}
HEALTHY = ["a-main-meter", "lift-a1-ctrl", "pump-1-drive"]
FAULTY = ["a-lighting-meter", "a-hvac-meter", "a-power-meter", "a-special-meter", "pump-2-drive"]


def tuned(ref: DeviceRef, **kw: object) -> DeviceRef:
    return DeviceRef(ref.device.model_copy(update=kw), ref.asset, ref.profile)


def run_collector(
    site: SiteConfig, seconds: float
) -> tuple[dict[str, list[Reading]], Collector, dict[str, FaultProxy]]:
    async def run() -> tuple[dict[str, list[Reading]], Collector, dict[str, FaultProxy]]:
        mapping = port_map(site)
        sim = simulator(site, mapping)
        await sim.start()
        proxies = {
            "a": FaultProxy(("127.0.0.1", mapping[GATEWAY_A]), FAULTS_A, late_by=0.5),
            "pumps": FaultProxy(("127.0.0.1", mapping[PUMPS]), FAULTS_PUMPS),
        }
        for p in proxies.values():
            await p.start()
        via = {**mapping, GATEWAY_A: proxies["a"].port, PUMPS: proxies["pumps"].port}
        refs = [
            tuned(r, timeout=0.3, poll_interval=1.0, retries=0, quarantine_after=2)
            for r in remap_ports(site.devices(), via)
            if r.device.id in HEALTHY + FAULTY
        ]
        got: dict[str, list[Reading]] = defaultdict(list)

        def publish(readings: list[Reading]) -> None:
            for r in readings:
                got[r.device].append(r)

        col = Collector(site, publish, devices=refs)
        await col.start()
        await asyncio.sleep(seconds)
        await col.stop()
        for p in proxies.values():
            await p.stop()
        await sim.stop()
        return got, col, proxies

    return asyncio.run(run())


Run = tuple[dict[str, list[Reading]], Collector, dict[str, FaultProxy]]


@pytest.fixture(scope="module")
def six_seconds(demo_site: SiteConfig) -> Run:
    """Six seconds of the collector among the faulty devices; the three tests below each check a
    part of what that one run saw (their assertions read it and change nothing)."""
    return run_collector(demo_site, 6.0)


@pytest.mark.slow
def test_faulty_devices_do_not_disturb_healthy_ones_on_the_same_links(six_seconds: Run) -> None:
    got, col, _ = six_seconds
    for dev in HEALTHY:
        st = col.devices[dev]
        assert got[dev] and all(r.quality is Quality.good for r in got[dev]), dev
        assert st.skipped == 0, f"{dev} missed {st.skipped} ticks"
        assert st.polls >= 3 and st.failed_polls == 0
    for dev in FAULTY:
        assert got[dev], dev
        assert all(r.quality is Quality.unavailable and r.value is None for r in got[dev]), dev


@pytest.mark.slow
def test_silent_devices_are_quarantined_but_one_answering_with_exceptions_is_not(
    six_seconds: Run,
) -> None:
    _, col, proxies = six_seconds
    assert col.devices["a-lighting-meter"].quarantined  # times out
    assert col.devices["pump-2-drive"].quarantined  # drops the connection
    assert not col.devices["a-power-meter"].quarantined  # alive, says exception 4
    # Quarantine means the bus is asked less: the timing-out unit far less than the healthy one.
    asked = proxies["a"].requests
    assert asked[2] < asked[1] / 2


@pytest.mark.slow
def test_late_replies_are_not_taken_for_the_next_devices_answer(six_seconds: Run) -> None:
    got, col, _ = six_seconds
    link = col.links[col.devices["a-main-meter"].ref.device.link.key]
    assert link.stats.timeouts > 0  # the late unit timed out...
    voltages = [r.value for r in got["a-main-meter"] if r.point == "voltage_l1"]
    assert voltages and all(200 < v < 260 for v in voltages)  # type: ignore[operator]
    # ...and every value the healthy meter reported is plausible: no reply was misattributed.
    assert all(r.quality is Quality.good for r in got["lift-a1-ctrl"])


def test_busy_device_is_asked_again_after_a_pause(demo_site: SiteConfig) -> None:
    async def run() -> tuple[list[Reading], int]:
        mapping = port_map(demo_site)
        sim = simulator(demo_site, mapping)
        await sim.start()
        proxy = FaultProxy(("127.0.0.1", mapping[GATEWAY_A]), {1: "busy"})
        await proxy.start()
        refs = [
            tuned(r, busy_retries=2, busy_delay=0.01)
            for r in remap_ports(demo_site.devices(), {**mapping, GATEWAY_A: proxy.port})
            if r.device.id == "a-main-meter"
        ]
        col = Collector(demo_site, lambda _r: None, devices=refs)
        readings = await col.poll("a-main-meter")
        await col.stop()
        await proxy.stop()
        await sim.stop()
        return readings, proxy.requests[1]

    readings, asked = asyncio.run(run())
    planned = 3  # the SDM630's reads
    assert asked == planned * 3  # each read: the first try plus two busy retries
    assert all(r.quality is Quality.unavailable for r in readings)
