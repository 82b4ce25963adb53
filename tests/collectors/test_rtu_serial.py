"""The collector reads devices over real Modbus RTU on a serial line: a socat pseudo-terminal pair,
the simulator on one end (the devices' side), the collector's serial client on the other."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from collectors.planner import plan_profile
from collectors.poller import Collector
from collectors.readings import Quality, Reading
from collectors.simulator.server import Simulator
from config.site import DeviceRef, SiteConfig
from plantroom.site import load_site
from tests.conftest import need

pytestmark = pytest.mark.slow  # each test starts socat for its serial line

SITE_YAML = """\
site: {{id: serial-test, name: Serial line test}}
buildings:
  - id: plant
    name: Plant building
    floor_area_m2: 1000
    occupants: 10
    assets:
      - id: main-meter
        name: Main meter
        class: Electrical_Meter
        devices:
          - {{id: main-meter-1, profile: sdm630, unit_id: 1, timeout: 0.5s, {link}}}
      - id: water-main
        name: Water main
        class: Water_Meter
        devices:
          - {{id: water-meter-1, profile: tuf2000m, unit_id: 2, timeout: 0.5s, {link}}}
"""


@dataclass
class SerialLine:
    """A linked pty pair: the devices listen on one end, the collector opens the other."""

    device_end: Path
    collector_end: Path


@pytest.fixture
def serial_line(tmp_path: Path) -> Iterator[SerialLine]:
    """A socat pty pair in tmp_path, killed at teardown."""
    if shutil.which("socat") is None:
        need("socat", "apt-get install socat")
    line = SerialLine(tmp_path / "device", tmp_path / "collector")
    log = tmp_path / "socat.log"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [
                "socat",
                "-d",
                "-d",
                f"pty,raw,echo=0,link={line.device_end}",
                f"pty,raw,echo=0,link={line.collector_end}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:
        deadline = time.monotonic() + 5
        while not (line.device_end.exists() and line.collector_end.exists()):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"socat did not create the pty pair: {log.read_text()}")
            time.sleep(0.02)
        yield line
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def serial_site(tmp_path: Path, serial_line: SerialLine) -> SiteConfig:
    """Two meters, units 1 and 2, on the collector's end of the one serial line."""
    link = f"link: {{type: rtu, port: '{serial_line.collector_end}', baudrate: 9600, parity: N}}"
    (tmp_path / "site.yaml").write_text(SITE_YAML.format(link=link))
    return load_site(tmp_path)


def ghost(site: SiteConfig, unit_id: int) -> DeviceRef:
    """A device configured on the line at a unit id the simulator does not serve."""
    ref = next(r for r in site.devices() if r.device.id == "main-meter-1")
    device = ref.device.model_copy(
        update={"id": "ghost-meter", "unit_id": unit_id, "timeout": 0.3, "retries": 0}
    )
    return DeviceRef(device, ref.asset, ref.profile)


def poll_rounds(
    site: SiteConfig,
    line: SerialLine,
    *,
    rounds: int = 1,
    extra: list[DeviceRef] | None = None,
) -> tuple[list[dict[str, list[Reading]]], Counter[str]]:
    """Serve the site on the device end; poll every device concurrently, ``rounds`` times.

    Returns the readings by device for each round and the requests each device received."""

    async def run() -> tuple[list[dict[str, list[Reading]]], Counter[str]]:
        sim = Simulator(site, serial_map={str(line.collector_end): str(line.device_end)})
        await sim.start()
        refs = [*site.devices(), *(extra or [])]
        col = Collector(site, lambda _r: None, devices=refs)
        ids = [r.device.id for r in refs]
        try:
            out = []
            for _ in range(rounds):
                got = await asyncio.gather(*(col.poll(d) for d in ids))
                out.append(dict(zip(ids, got, strict=True)))
            return out, sim.requests
        finally:
            await col.stop()
            await sim.stop()

    return asyncio.run(run())


def by_point(readings: list[Reading]) -> dict[str, Reading]:
    return {r.point: r for r in readings}


def test_two_devices_on_one_serial_line_read_good_values(
    serial_site: SiteConfig, serial_line: SerialLine
) -> None:
    [got], _ = poll_rounds(serial_site, serial_line)
    meter = by_point(got["main-meter-1"])
    for phase in ("voltage_l1", "voltage_l2", "voltage_l3"):
        assert meter[phase].quality is Quality.good
        assert 220 <= meter[phase].value <= 240  # type: ignore[operator]
    assert len(meter) == len(serial_site.profiles["sdm630"].points)
    water = by_point(got["water-meter-1"])
    assert water["flow"].quality is Quality.good and water["flow"].value >= 0  # type: ignore[operator]


def test_concurrent_polls_take_turns_on_the_shared_line(
    serial_site: SiteConfig, serial_line: SerialLine
) -> None:
    # Two requests on the wire at once would collide and time out; taking turns, every request
    # is answered first time, so each device received exactly its planned requests per round.
    rounds = 5
    polls, requests = poll_rounds(serial_site, serial_line, rounds=rounds)
    for got in polls:
        for device, readings in got.items():
            bad = [r.point for r in readings if r.quality is not Quality.good]
            assert readings and not bad, f"{device}: {bad}"
    planned = {r.device.id: len(plan_profile(r.profile)) * rounds for r in serial_site.devices()}
    assert requests == planned


def test_unit_that_does_not_answer_is_unavailable_and_its_neighbours_stay_good(
    serial_site: SiteConfig, serial_line: SerialLine
) -> None:
    [got], _ = poll_rounds(serial_site, serial_line, extra=[ghost(serial_site, 3)])
    silent = got["ghost-meter"]
    assert silent and all(r.quality is Quality.unavailable and r.value is None for r in silent)
    for device in ("main-meter-1", "water-meter-1"):
        assert got[device] and all(r.quality is Quality.good for r in got[device]), device
