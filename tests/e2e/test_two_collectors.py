"""Several collectors, one per building, against one InfluxDB and one PostgreSQL: each polls and
evaluates only its own building, every reading is stored once, each fault opens one work order,
and a collector that would share devices with a running one is refused, naming both."""

from __future__ import annotations

import itertools
import os
import re
import signal
import sqlite3
import subprocess
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from collectors.health import point_intervals
from collectors.readings import Quality, Reading
from config.site import SITES_DIR, SiteConfig
from core.db import Database
from plantroom.cli import main
from plantroom.site import load_site
from plantroom.wiring import alert_engine
from tests.collectors.sim import free_offset
from tests.e2e.processes import start_plantroom

DEMO_PORTS = (15020, 15021, 15022, 15023)
#: One fault per building, early: lift A1's doors (Building A) fault every few seconds, so the
#: lift-door-faults rule (3 within an hour) fires at once; pump 1's bearings (Building B, the
#: pump house) wear from 5 s in, and its motor current stays over the limit past the rule's 20 s.
FAULTS = """simulation:
  seed: 7
  faults:
    - {device: lift-a1-ctrl, kind: door_fault, start: 5s, magnitude: 1800}
    - {device: pump-1-drive, kind: bearing_wear, start: 5s, duration: 20s, magnitude: 16}
"""
EXPECTED = {("lift-a1", "lift-door-faults"), ("pump-1", "pump-overcurrent")}


def test_unknown_building_is_refused_naming_it_and_the_known_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["collect", "--building", "bldg-a", "--building", "bldg-z"]) == 2
    err = capsys.readouterr().err
    assert "'bldg-z'" in err and "known: bldg-a, bldg-b" in err


def test_a_collector_of_one_building_evaluates_only_its_assets(
    demo_site: SiteConfig, db: Database
) -> None:
    """Meters of the other building never reach this collector: their silence is not its
    business, while its own meter falling silent is."""
    engine = alert_engine(demo_site.only_buildings(["bldg-a"]), db)
    t0 = time.time()
    for asset, device in (("a-main", "a-main-meter"), ("b-main", "b-main-meter")):
        engine.process([Reading(t0, asset, device, "voltage_l1", 230.0, "V", Quality.good)])
    events = engine.tick(t0 + 3600)
    firing = {(e.asset_id, e.rule_id) for e in events if e.state == "firing"}
    assert ("a-main", "meter-silent") in firing
    assert {a for a, _ in firing} <= {
        r.asset.id for r in demo_site.only_buildings(["bldg-a"]).assets()
    }


def _test_site(folder: Path, offset: int) -> Path:
    """The demo site on ports moved by offset, with FAULTS as its simulation."""
    text_ = (SITES_DIR / "demo" / "site.yaml").read_text()
    for port in DEMO_PORTS:
        text_ = re.sub(rf"\bport: {port}\b", f"port: {port + offset}", text_)
    head, rest = text_.split("\nsimulation:\n", 1)
    # The simulation section ends where the next top-level key starts.
    tail = rest[re.search(r"^\S", rest, re.M).start() :]  # type: ignore[union-attr]
    folder.mkdir()
    (folder / "site.yaml").write_text(f"{head}\n{FAULTS}\n{tail}")
    return folder


def _wait_for(what: str, log: Path, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while what not in log.read_text(errors="replace"):
        assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(0.2)


def _stop(proc: subprocess.Popen[bytes]) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return -9


def _influxql(url: str, db: str, q: str) -> list[dict[str, Any]]:
    r = httpx.get(f"{url}/query", params={"db": db, "q": q, "epoch": "ns"}, timeout=30)
    r.raise_for_status()
    series: list[dict[str, Any]] = r.json()["results"][0].get("series") or []
    return series


def _stored(data_dir: Path) -> Counter[tuple[str, str, str]]:
    """(asset, device, point) -> readings in a collector's own embedded store."""
    with sqlite3.connect(data_dir / "readings.sqlite") as conn:
        rows = conn.execute(
            "SELECT s.asset, s.device, s.point, count(*) FROM series s "
            "JOIN samples x ON x.series = s.id WHERE s.measurement = 'readings' "
            "GROUP BY s.asset, s.device, s.point"
        ).fetchall()
    return Counter({(a, d, p): n for a, d, p, n in rows})


@pytest.mark.slow
def test_two_collectors_store_each_reading_once_and_open_one_work_order_per_fault(
    tmp_path: Path, pg_demo_url: str, influx_url: str, influx_db: str
) -> None:
    offset = free_offset()
    site_dir = _test_site(tmp_path / "site", offset)
    site = load_site(site_dir)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PLANTROOM_")},
        "PLANTROOM_SITE": str(site_dir),
        "PLANTROOM_DATABASE_URL": pg_demo_url,
        "PLANTROOM_INFLUX_V1_URL": influx_url,
        "PLANTROOM_INFLUX_DATABASE": influx_db,
    }
    sim_log = tmp_path / "sim.log"
    sim = start_plantroom(["simulate", "--site", str(site_dir)], env, sim_log)
    procs: dict[str, subprocess.Popen[bytes]] = {}
    logs = {b: tmp_path / f"collect-{b}.log" for b in ("bldg-a", "bldg-b", "again")}
    data = {b: tmp_path / f"data-{b}" for b in ("bldg-a", "bldg-b", "again")}

    def collect(building: str, name: str) -> subprocess.Popen[bytes]:
        argv = ["collect", "--building", building, "--metrics-port", "0"]
        return start_plantroom([*argv, "--data-dir", str(data[name])], env, logs[name])

    engine = create_engine(pg_demo_url)
    try:
        _wait_for("Simulating", sim_log, sim)
        # One after the other: each start migrates and mirrors the site's assets first.
        for b in ("bldg-a", "bldg-b"):
            procs[b] = collect(b, b)
            _wait_for("Collecting from", logs[b], procs[b])

        # A second collector for Building A while the first runs: refused, both named.
        again = collect("bldg-a", "again")
        assert again.wait(timeout=60) == 2
        refusal = logs["again"].read_text()
        assert f"pid {procs['bldg-a'].pid} " in refusal and f"pid {again.pid} " in refusal
        assert "lift-a1-ctrl" in refusal and "pump-1-drive" not in refusal

        # Until each fault has opened its work order, then a few more polls.
        deadline = time.monotonic() + 90
        opened: list[tuple[str, str]] = []
        while time.monotonic() < deadline and not set(opened) >= EXPECTED:
            with engine.connect() as c:
                opened = [
                    (a, r)
                    for a, r in c.execute(
                        text("SELECT asset_id, rule_id FROM work_orders WHERE origin = 'alert'")
                    )
                ]
            time.sleep(1)
        time.sleep(6)
        for b in ("bldg-a", "bldg-b"):
            assert _stop(procs[b]) == 0, logs[b].read_text()[-3000:]
    finally:
        for p in procs.values():
            _stop(p)
        _stop(sim)
    for b in ("bldg-a", "bldg-b"):
        out = logs[b].read_text()
        assert "Traceback" not in out, out[-3000:]

    with engine.connect() as c:
        orders = Counter(
            (a, r)
            for a, r in c.execute(
                text("SELECT asset_id, rule_id FROM work_orders WHERE origin = 'alert'")
            )
        )
        leases = c.execute(text("SELECT count(*) FROM collector_leases")).scalar_one()
    engine.dispose()
    # Each fault opened exactly one work order; nothing else raised one twice.
    assert set(orders) >= EXPECTED, orders
    assert all(n == 1 for n in orders.values()), orders
    assert leases == 0  # both stopped cleanly and released their leases

    # Every reading once: each series in InfluxDB comes from one collector, under one tag set,
    # as many times as that collector stored it itself, never closer than its poll interval.
    building = {ref.asset.id: ref.building.id for ref in site.assets()}
    klass = {ref.asset.id: ref.asset.brick_class for ref in site.assets()}
    stored = {b: _stored(data[b]) for b in ("bldg-a", "bldg-b")}
    for b, series in stored.items():
        assert series and {building[a] for a, _, _ in series} == {b}
    every = point_intervals(site)
    tagsets: dict[tuple[str, str, str], list[dict[str, str]]] = defaultdict(list)
    for s in _influxql(influx_url, influx_db, 'SELECT "quality" FROM "readings" GROUP BY *'):
        tags: dict[str, str] = s["tags"]
        key = (tags["asset"], tags["device"], tags["point"])
        tagsets[key].append(tags)
        times = [row[0] for row in s["values"]]
        owner = building[key[0]]
        assert len(times) == stored[owner][key], key
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert min(gaps, default=1e18) >= 0.5 * every[(key[0], key[2])][1] * 1e9, key
        assert tags["building"] == owner and tags["asset_class"] == klass[key[0]]
    assert set(tagsets) == set(stored["bldg-a"]) | set(stored["bldg-b"])
    assert all(len(t) == 1 for t in tagsets.values())

    # The two collectors' health records do not overwrite one another.
    health = _influxql(
        influx_url, influx_db, 'SHOW TAG VALUES FROM "collector_health" WITH KEY = "asset"'
    )
    assert [v for _, v in health[0]["values"]] == ["_collector:bldg-a", "_collector:bldg-b"]
