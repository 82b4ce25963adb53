"""The collector writes its own health records into the readings store, and whoever reads that
store (the API under `plantroom serve`) gets them back: the embedded store and a real InfluxDB."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from collectors import health
from collectors.buffer import DiskBuffer, Forwarder
from collectors.poller import Collector
from collectors.readings import Quality, Reading
from collectors.sinks.embedded import FILE_NAME, EmbeddedStore
from collectors.sinks.influx import InfluxQLReader, InfluxV1Sink
from config.settings import Settings
from config.site import SiteConfig
from core.db import Database
from plantroom.runtime import Monitoring
from tests.collectors.sim import port_map, simulator

Write = Callable[[list[Reading]], None]


def _collector_in_a_known_state(site: SiteConfig, now: float) -> Collector:
    """A collector that polled nothing, its counters set as if it had: a-main-meter answers,
    b-special-meter is quarantined, and every device behind the lift's link is failing.
    (Its links' Modbus clients need an event loop to be made; they are never used.)"""

    async def make() -> Collector:
        return Collector(site, lambda _r: None)

    c = asyncio.run(make())
    for st in c.devices.values():
        st.polls, st.last_good = 10, now - 5
    c.devices["b-special-meter"].quarantined = True
    c.devices["b-special-meter"].consecutive_failures = 6
    c.devices["b-special-meter"].last_good = now - 3600
    lift_link = c.devices["lift-b1-ctrl"].ref.device.link.key
    for st in c.devices.values():
        if st.ref.device.link.key == lift_link:
            st.consecutive_failures = 1
    c.links[lift_link].stats.reconnects = 4
    return c


def _readings(site: SiteConfig, now: float) -> list[Reading]:
    """A good reading of every point just now, except voltage_l1 of a-main (an hour old)."""
    out = []
    for (asset, point), (device, _every) in health.point_intervals(site).items():
        ts = now - 3600 if (asset, point) == ("a-main", "voltage_l1") else now - 1
        out.append(Reading(ts, asset, device, point, 1.0, "", Quality.good))
    return out


@pytest.fixture(params=["embedded", "influxdb"])
def store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Write, health.HealthReader]]:
    """A store to write to and its health reader: the embedded file, or a real InfluxDB 1.x."""
    if request.param == "embedded":
        st = EmbeddedStore(tmp_path / FILE_NAME)
        yield st.write, health.EmbeddedHealthReader(tmp_path / FILE_NAME)
        st.close()
        return
    url = request.getfixturevalue("influx_url")
    name = request.getfixturevalue("influx_db")
    sink = InfluxV1Sink(url, name)
    sink.ensure_database()
    reader = health.InfluxHealthReader(InfluxQLReader(url, name))
    yield sink.write, reader
    reader.close()
    sink.close()


def test_health_records_read_back_from_the_store(
    store: tuple[Write, health.HealthReader], demo_site: SiteConfig, tmp_path: Path
) -> None:
    write, reader = store
    now = time.time()
    c = _collector_in_a_known_state(demo_site, now)
    buf = DiskBuffer(tmp_path / "buffer.sqlite", 10)
    buf.append(_readings(demo_site, now)[:14])  # four dropped: the buffer holds ten
    fwd = Forwarder(buf, EmbeddedStore(tmp_path / "other.sqlite"))
    # An older record first: the reader must take the newest of each figure.
    c.devices["a-main-meter"].quarantined = True
    write(health.records(c, [fwd], now - 30, 60.0))
    c.devices["a-main-meter"].quarantined = False
    write(health.records(c, [fwd], now - 2, 60.0))
    write(_readings(demo_site, now))
    fwd.sink.close()
    buf.close()

    h = health.read_health(reader, demo_site, now=now)

    assert h.reporting and h.interval == 60.0 and h.reported_at == pytest.approx(now - 2, abs=0.01)
    devices = {d.id: d for d in h.devices}
    assert devices["a-main-meter"].state == "ok"
    assert devices["a-main-meter"].last_good == pytest.approx(now - 5, abs=0.01)
    assert devices["b-special-meter"].state == "quarantined"
    assert devices["lift-b1-ctrl"].state == "unavailable"
    lift_link = devices["lift-b1-ctrl"].link
    links = {lk.key: lk for lk in h.links}
    assert links[lift_link].up is False and links[lift_link].reconnects == 4
    assert links[devices["a-main-meter"].link].up is True
    assert [(s.name, s.buffer_depth, s.dropped) for s in h.sinks] == [("embedded", 10, 4)]
    assert [(s.asset, s.point) for s in h.stale] == [("a-main", "voltage_l1")]
    assert h.stale[0].last_good == pytest.approx(now - 3600, abs=0.01)
    assert h.points == len(health.point_intervals(demo_site))


def test_a_collector_gone_silent_shows_as_not_reporting(
    store: tuple[Write, health.HealthReader], demo_site: SiteConfig
) -> None:
    write, reader = store
    now = time.time()
    c = _collector_in_a_known_state(demo_site, now)
    write(health.records(c, [], now - 600, 60.0))  # ten minutes ago, every minute: silent
    h = health.read_health(reader, demo_site, now=now)
    assert not h.reporting and h.reported_at == pytest.approx(now - 600, abs=0.01)
    # No readings at all: every point is stale, never read within the look-back.
    assert len(h.stale) == h.points and all(s.last_good is None for s in h.stale)


def test_a_collector_that_stopped_cleanly_shows_as_stopped(
    store: tuple[Write, health.HealthReader], demo_site: SiteConfig
) -> None:
    write, reader = store
    now = time.time()
    c = _collector_in_a_known_state(demo_site, now)
    write(health.records(c, [], now - 60, 60.0))
    write(health.records(c, [], now - 30, 60.0, stopping=True))
    h = health.read_health(reader, demo_site, now=now)
    assert h.stopped and not h.reporting and h.reported_at == pytest.approx(now - 30, abs=0.01)
    write(health.records(c, [], now - 1, 60.0))  # started again
    h = health.read_health(reader, demo_site, now=now)
    assert h.reporting and not h.stopped


def test_one_of_two_collectors_gone_silent_shows_and_their_buffers_stay_apart(
    store: tuple[Write, health.HealthReader], demo_site: SiteConfig, tmp_path: Path
) -> None:
    """Two named collectors (one per building) write to one store: neither's heartbeat or
    buffer figures overwrite the other's, and the one that fell silent is noticed."""
    write, reader = store
    now = time.time()
    c = _collector_in_a_known_state(demo_site, now)
    bufs = {n: DiskBuffer(tmp_path / f"{n}.sqlite", 100) for n in ("bldg-a", "bldg-b")}
    bufs["bldg-a"].append(_readings(demo_site, now)[:3])
    fwds = {n: Forwarder(b, EmbeddedStore(tmp_path / f"{n}-x.sqlite")) for n, b in bufs.items()}
    write(health.records(c, [fwds["bldg-a"]], now - 600, 60.0, name="bldg-a"))  # silent since
    write(health.records(c, [fwds["bldg-b"]], now - 2, 60.0, name="bldg-b"))
    h = health.read_health(reader, demo_site, now=now)
    assert not h.reporting and h.reported_at == pytest.approx(now - 600, abs=0.01)
    assert [(s.name, s.reporting) for s in h.collectors] == [("bldg-a", False), ("bldg-b", True)]
    assert [(s.name, s.buffer_depth) for s in h.sinks] == [
        ("embedded @ bldg-a", 3),
        ("embedded @ bldg-b", 0),
    ]
    write(health.records(c, [fwds["bldg-a"]], now - 1, 60.0, name="bldg-a"))  # back
    assert health.read_health(reader, demo_site, now=now).reporting
    for f in fwds.values():
        f.sink.close()
        f.buffer.close()


def test_an_empty_store_has_no_records(tmp_path: Path, demo_site: SiteConfig) -> None:
    h = health.read_health(
        health.EmbeddedHealthReader(tmp_path / "absent.sqlite"), demo_site, now=time.time()
    )
    assert not h.reporting and h.reported_at is None
    assert {d.state for d in h.devices} == {"unknown"}
    assert {lk.up for lk in h.links} == {None}


def test_the_running_collector_writes_health_records_the_api_reads_back(
    settings: Settings, demo_site: SiteConfig, db: Database
) -> None:
    settings.metrics_interval = 0.5

    async def run() -> None:
        mapping = port_map(demo_site)
        # b-special-meter silent from now on (the simulator's scripted fault, 90-990 s).
        sim = simulator(demo_site, mapping, started_at=time.time() - 100)
        await sim.start()
        mon = Monitoring(settings, demo_site, db, port_map=mapping)
        await mon.start()
        await asyncio.sleep(2.5)
        await mon.stop()
        await sim.stop()

    asyncio.run(run())
    reader = health.configured_health_reader(settings)
    h = health.read_health(reader, demo_site, now=time.time())
    devices = {d.id: d for d in h.devices}
    # Its last records, as it stopped, say so.
    assert h.stopped and not h.reporting and h.interval == 0.5
    assert devices["a-main-meter"].state == "ok" and devices["a-main-meter"].last_good
    assert devices["b-special-meter"].state in ("unavailable", "quarantined")
    assert devices["b-special-meter"].last_good is None
    assert "embedded" in {s.name for s in h.sinks}
    stale = {(s.asset, s.point) for s in h.stale}
    assert ("b-special", "energy_total") in stale or any(a == "b-special" for a, _ in stale)
    assert not any(a == "a-main" for a, _ in stale)
