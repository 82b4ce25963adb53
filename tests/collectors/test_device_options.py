"""Per-device options a controls engineer sets for fussy devices and gateways."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

from collectors.poller import Collector, plan_device
from collectors.readings import Quality, Reading
from config.site import DeviceRef, SiteConfig, remap_ports
from plantroom.site import load_site
from tests.collectors.sim import port_map, simulator


def device(site: SiteConfig, device_id: str, **options: object) -> DeviceRef:
    ref = next(r for r in site.devices() if r.device.id == device_id)
    return DeviceRef(ref.device.model_copy(update=options), ref.asset, ref.profile)


def test_device_limit_on_request_size_overrides_the_profile(demo_site: SiteConfig) -> None:
    plans = plan_device(device(demo_site, "a-main-meter", max_request_registers=4))
    assert plans and all(r.count <= 4 for r in plans)
    assert len(plans) > 3  # the profile alone plans 3 reads


def test_one_request_per_point_for_a_fussy_device(demo_site: SiteConfig) -> None:
    plans = plan_device(device(demo_site, "a-main-meter", one_request_per_point=True))
    assert len(plans) == len(demo_site.profiles["sdm630"].points)


def test_close_after_poll_leaves_no_connection_open(demo_site: SiteConfig) -> None:
    async def run() -> tuple[bool, bool, list[Reading]]:
        mapping = port_map(demo_site)
        sim = simulator(demo_site, mapping)
        await sim.start()
        refs = remap_ports(
            [
                device(demo_site, "pump-1-drive", close_after_poll=True),
                device(demo_site, "pump-2-drive"),
            ],
            mapping,
        )
        col = Collector(demo_site, lambda _r: None, devices=refs)
        link = col.links[refs[0].device.link.key]
        kept = bool(await col.poll("pump-2-drive")) and link.client.connected
        readings = await col.poll("pump-1-drive")
        closed = not link.client.connected
        await col.stop()
        await sim.stop()
        return kept, closed, readings

    kept, closed, readings = asyncio.run(run())
    assert kept and closed
    assert all(r.quality is Quality.good for r in readings)


def test_poll_groups_are_read_at_their_own_rates(tmp_path: Path, demo_site: SiteConfig) -> None:
    # A pump drive whose counters are read on a slow schedule beside fast live values.
    profile = (
        Path("config/profiles/abb_acx580.yaml")
        .read_text()
        .replace("profile: abb_acx580", "profile: drive_grouped")
        .replace("max_gap: 10", "max_gap: 10\ngroups: {slow: 1h}")
        .replace(
            "{name: run_hours, address: 1281,", "{name: run_hours, group: slow, address: 1281,"
        )
    )
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "drive_grouped.yaml").write_text(profile)
    site_text = (
        Path("config/sites/demo/site.yaml")
        .read_text()
        .replace(
            "profile: abb_acx580, unit_id: 1, poll_interval: 5s",
            "profile: drive_grouped, unit_id: 1, poll_interval: 0.1s",
        )
    )
    (tmp_path / "site.yaml").write_text(site_text + "\nprofile_dirs: [profiles]\n")
    site = load_site(tmp_path)
    seen: Counter[str] = Counter()

    async def run() -> None:
        mapping = port_map(site)
        sim = simulator(site, mapping)
        await sim.start()
        refs = [r for r in remap_ports(site.devices(), mapping) if r.device.id == "pump-1-drive"]
        col = Collector(site, lambda rs: seen.update(r.point for r in rs), devices=refs)
        await col.start()
        await asyncio.sleep(1.0)
        await col.stop()
        await sim.stop()

    asyncio.run(run())
    assert seen["run_hours"] == 1  # the slow group: once, at start
    assert seen["motor_current"] >= 3  # the default group: every 0.1 s
