"""`plantroom collect --once --json`: how a user tests a new device's profile."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from collectors.simulator.server import Simulator
from plantroom.cli import main
from plantroom.site import load_site
from tests.collectors.sim import free_port

pytestmark = pytest.mark.slow  # each test runs `plantroom simulate` or `collect` as a process

DEMO = Path(__file__).resolve().parents[2] / "config" / "sites" / "demo" / "site.yaml"


@pytest.fixture
def site_and_simulator(tmp_path: Path) -> Iterator[Path]:
    """A copy of the demo site on free ports, served by `plantroom simulate` in a subprocess."""
    text = DEMO.read_text()
    for port in sorted(set(re.findall(r"port: (150\d\d)", text))):
        text = text.replace(f"port: {port}", f"port: {free_port()}")
    (tmp_path / "site.yaml").write_text(text)
    log = (tmp_path / "sim.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "plantroom.cli", "simulate", "--site", str(tmp_path)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=dict(os.environ),
    )
    deadline = time.monotonic() + 30
    while "water-main-meter" not in (tmp_path / "sim.log").read_text():
        assert time.monotonic() < deadline and proc.poll() is None, "simulator did not start"
        time.sleep(0.1)
    yield tmp_path
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=15)


def test_once_json_prints_one_object_per_reading_and_exits_0(
    site_and_simulator: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = main(
        [
            "collect",
            "--once",
            "--json",
            "--config",
            str(site_and_simulator),
            "--device",
            "water-main-meter",
        ]
    )
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rc == 0
    assert [r["point"] for r in rows] == ["flow", "flow_velocity", "error_bits", "net_total"]
    assert set(rows[0]) == {"device", "point", "value", "unit", "quality", "ts"}
    assert rows[0]["unit"] == "m3/h" and rows[0]["quality"] == "good"
    assert rows[0]["ts"].endswith("Z")


def test_once_exits_non_zero_when_a_device_fails(
    site_and_simulator: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Point the pump drives at a port nobody listens on.
    site = site_and_simulator / "site.yaml"
    text = site.read_text()
    pump_port = re.search(r"pump-1-drive, profile: abb_acx580.*\n.*port: (\d+)", text)
    assert pump_port
    site.write_text(text.replace(f"port: {pump_port.group(1)}", f"port: {free_port()}"))
    rc = main(
        [
            "collect",
            "--once",
            "--json",
            "--config",
            str(site_and_simulator),
            "--device",
            "pump-1-drive",
            "--device",
            "lift-a1-ctrl",
        ]
    )
    captured = capsys.readouterr()
    rows = [json.loads(line) for line in captured.out.splitlines()]
    assert rc == 1
    assert "FAILED pump-1-drive" in captured.err
    pump = [r for r in rows if r["device"] == "pump-1-drive"]
    assert pump and all(r["quality"] == "unavailable" and r["value"] is None for r in pump)
    assert all(r["quality"] == "good" for r in rows if r["device"] == "lift-a1-ctrl")


def test_once_names_an_unknown_device(
    site_and_simulator: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = main(["collect", "--once", "--config", str(site_and_simulator), "--device", "nope"])
    assert rc == 2 and "unknown device(s): nope" in capsys.readouterr().err


COUNTER_PROFILE = """\
profile: counter_meter
description: A water meter with an energy counter in Wh on a 64-bit register
simulator: water_meter
defaults: {register: holding}
points:
  - {name: flow, address: 0, type: float32, unit: m3/h}
  - {name: error_bits, address: 2, type: uint16}
  - {name: energy_wh, address: 3, type: uint64, unit: Wh}
  - {name: net_total, address: 7, type: uint32, scale: 0.001, unit: m3}
"""

COUNTER_SITE = """\
site: {{id: counters, name: Counters, timezone: UTC}}
profile_dirs: [profiles]
buildings:
  - id: plant
    name: Plant
    floor_area_m2: 1
    occupants: 0
    assets:
      - id: water-main
        name: Water main
        class: Water_Meter
        devices:
          - {{id: counter-meter, profile: counter_meter, unit_id: 1, poll_interval: 5s,
             link: {{type: tcp, host: 127.0.0.1, port: {port}}}}}
"""


def test_once_json_prints_unscaled_integer_points_as_exact_ints(tmp_path: Path) -> None:
    """A uint64 energy counter at 2**53 + 1 Wh is printed to the Wh; as a float it would read
    2**53. Scaled and float points stay floats."""
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "counter_meter.yaml").write_text(COUNTER_PROFILE)
    (tmp_path / "site.yaml").write_text(COUNTER_SITE.format(port=free_port()))

    async def collect() -> tuple[int, bytes]:
        sim = Simulator(load_site(tmp_path))
        sim.set_value("counter-meter", "energy_wh", 2**53 + 1)
        await sim.start()
        try:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "plantroom.cli", "collect", "--once", "--json",
                "--config", str(tmp_path),
                stdout=asyncio.subprocess.PIPE,
                cwd=Path(__file__).resolve().parents[2],
            )  # fmt: skip
            out, _ = await asyncio.wait_for(proc.communicate(), 60)
        finally:
            await sim.stop()
        return proc.returncode or 0, out

    rc, out = asyncio.run(collect())
    rows = {r["point"]: r for r in map(json.loads, out.decode().splitlines())}
    assert rc == 0
    assert all(r["quality"] == "good" for r in rows.values())
    energy = re.search(rb'"point": "energy_wh", "value": ([^,]+),', out)
    assert energy and energy.group(1) == b"9007199254740993"
    assert (type(rows["energy_wh"]["value"]), rows["energy_wh"]["value"]) == (int, 2**53 + 1)
    assert type(rows["error_bits"]["value"]) is int
    assert type(rows["net_total"]["value"]) is float
    assert type(rows["flow"]["value"]) is float
