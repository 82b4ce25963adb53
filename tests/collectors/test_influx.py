"""InfluxDB sinks: the v1 API against a real InfluxDB 1.x, the v2 API's requests, and the disk
buffer that holds readings while a server is down."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from collectors.buffer import DiskBuffer, Forwarder
from collectors.poller import Collector
from collectors.readings import Quality, Reading
from collectors.sinks.influx import InfluxV1Sink, InfluxV2Sink, SinkError, line
from config.site import SiteConfig, remap_ports
from tests.collectors.sim import port_map, simulator

T = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def reading(i: int = 0, value: float | None = 230.5, quality: Quality = Quality.good) -> Reading:
    return Reading(T + i, "a-main", "a-main-meter", "voltage_l1", value, "V", quality)


def influxql(sink: InfluxV1Sink, q: str) -> list[list[object]]:
    body = sink.query(q)
    series = body["results"][0].get("series", [])  # type: ignore[index]
    return series[0]["values"] if series else []  # type: ignore[no-any-return]


def test_line_protocol_escapes_tags_and_omits_value_when_unavailable() -> None:
    r = Reading(T, "pump 1", "d,1", "motor=current", None, "", Quality.unavailable)
    assert line(r, "bldg a") == (
        "readings,asset=pump\\ 1,building=bldg\\ a,device=d\\,1,point=motor\\=current "
        'quality="unavailable" 1767225600000000000'
    )


def counter(i: int, value: float | int) -> Reading:
    """An energy counter's reading (Wh, an unscaled uint64 register: an int)."""
    return Reading(T + i, "a-main", "a-main-meter", "energy_total", value, "Wh", Quality.good)


def test_line_protocol_adds_an_exact_integer_field_for_an_int() -> None:
    assert line(counter(0, 2**53 + 1)) == (
        "readings,asset=a-main,device=a-main-meter,point=energy_total,unit=Wh "
        'quality="good",value=9007199254740992.0,value_int=9007199254740993i '
        "1767225600000000000"
    )
    assert "value_int" not in line(counter(0, 123.0))  # a float point: value only
    assert line(counter(0, -(2**63))).count(f"value_int={-(2**63)}i") == 1
    # Beyond a signed 64-bit integer InfluxDB has no integer field for it; value still goes.
    beyond = line(counter(0, 2**64 - 1))
    assert "value_int" not in beyond and "value=1.8446744073709552e+19" in beyond


def test_an_int_round_trips_exactly_in_value_int_through_the_buffer(
    tmp_path: Path, influx_url: str, influx_db: str
) -> None:
    """Store-and-forward, as the collector runs it: disk buffer, forwarder, InfluxDB 1.x."""
    buf = DiskBuffer(tmp_path / "buf.sqlite", max_readings=100)
    buf.append([counter(0, 2**53 + 1), counter(1, 2**63 - 1), counter(2, 2**64 - 1)])
    buf.append([reading(3, 230.5)])
    sink = InfluxV1Sink(influx_url, influx_db)
    sink.ensure_database()
    assert asyncio.run(Forwarder(buf, sink).drain(timeout=10)) is True
    rows = influxql(sink, "SELECT value, value_int FROM readings ORDER BY time")
    fields = influxql(sink, "SHOW FIELD KEYS FROM readings")
    sink.close()
    buf.close()
    # (InfluxDB's JSON writes a large float without an exponent: float() reads it back.)
    assert [[float(r[1]), r[2]] for r in rows] == [
        [float(2**53), 2**53 + 1],
        [float(2**63), 2**63 - 1],
        [float(2**64), None],  # no signed 64-bit field can hold it
        [230.5, None],
    ]
    assert type(rows[0][2]) is int
    assert sorted(fields) == [["quality", "string"], ["value", "float"], ["value_int", "integer"]]


def test_buffer_keeps_ints_exact_and_floats_floats(tmp_path: Path) -> None:
    buf = DiskBuffer(tmp_path / "buf.sqlite", max_readings=100)
    values: list[float | int] = [2**53 + 1, 2**64 - 1, -(2**63), 7, 7.0, 0.1]
    buf.append([counter(i, v) for i, v in enumerate(values)])
    buf.close()
    again = DiskBuffer(tmp_path / "buf.sqlite", max_readings=100)
    _, readings = again.peek(100)
    again.close()
    assert [(type(r.value), r.value) for r in readings] == [(type(v), v) for v in values]


def test_collector_reading_is_read_back_through_influxql(
    demo_site: SiteConfig, influx_url: str, influx_db: str
) -> None:
    async def collect() -> list[Reading]:
        mapping = port_map(demo_site)
        sim = simulator(demo_site, mapping)
        await sim.start()
        refs = [
            r for r in remap_ports(demo_site.devices(), mapping) if r.device.id == "a-main-meter"
        ]
        col = Collector(demo_site, lambda _r: None, devices=refs)
        try:
            return await col.poll("a-main-meter")
        finally:
            await col.stop()
            await sim.stop()

    readings = asyncio.run(collect())
    sink = InfluxV1Sink(influx_url, influx_db, buildings={"a-main": "bldg-a"})
    sink.ensure_database()
    sink.write(readings)
    v1 = next(r for r in readings if r.point == "voltage_l1")
    rows = influxql(
        sink,
        "SELECT value, quality FROM readings WHERE asset='a-main' "
        "AND point='voltage_l1' AND building='bldg-a'",
    )
    sink.close()
    assert len(rows) == 1
    assert rows[0][1] == pytest.approx(v1.value) and rows[0][2] == "good"


def test_readings_carry_their_assets_brick_class_as_a_tag(
    demo_site: SiteConfig, influx_url: str, influx_db: str
) -> None:
    """What the dashboards' asset-class variable filters on, written as the collector writes."""
    from config.settings import Settings
    from plantroom.runtime import remote_sinks

    settings = Settings(influx_v1_url=influx_url, influx_database=influx_db, _env_file=None)  # type: ignore[call-arg]
    (sink,) = remote_sinks(settings, demo_site)
    sink.write(
        [
            Reading(T, "pump-1", "pump-1-drive", "motor_current", 12.5, "A", Quality.good),
            Reading(T, "lift-a1", "lift-a1-ctrl", "in_service", 1, "", Quality.good),
        ]
    )
    assert isinstance(sink, InfluxV1Sink)
    classes = influxql(sink, 'SHOW TAG VALUES FROM readings WITH KEY = "asset_class"')
    pump = influxql(
        sink, "SELECT value FROM readings WHERE asset_class = 'Pump' AND building = 'bldg-b'"
    )
    sink.close()
    assert [v for _, v in classes] == ["Elevator", "Pump"]
    assert [r[1] for r in pump] == [12.5]


def test_unavailable_reading_is_stored_with_its_quality_and_no_number(
    influx_url: str, influx_db: str
) -> None:
    sink = InfluxV1Sink(influx_url, influx_db)
    sink.ensure_database()
    sink.write([reading(0, None, Quality.unavailable), reading(1, 231.0)])
    rows = influxql(sink, "SELECT value, quality FROM readings ORDER BY time")
    sink.close()
    assert rows[0][1:] == [None, "unavailable"]
    assert rows[1][1:] == [231.0, "good"]


def test_v1_sink_reports_a_refused_write(influx_url: str) -> None:
    sink = InfluxV1Sink(influx_url, "no_such_database_here")
    with pytest.raises(SinkError, match=r"404|database not found"):
        sink.write([reading()])
    sink.close()


def test_v1_sink_reports_an_unreachable_server() -> None:
    sink = InfluxV1Sink("http://127.0.0.1:1", "x", timeout=1)
    with pytest.raises(SinkError):
        sink.write([reading()])
    sink.close()


def test_buffer_replays_oldest_first_after_the_server_comes_back(
    tmp_path: Path, influx_url: str, influx_db: str
) -> None:
    buf = DiskBuffer(tmp_path / "buf.sqlite", max_readings=10_000)
    down = InfluxV1Sink("http://127.0.0.1:1", influx_db, timeout=0.5)
    buf.append([reading(i, 200.0 + i) for i in range(50)])
    assert asyncio.run(Forwarder(buf, down).drain(timeout=2)) is False
    assert buf.depth() == 50  # nothing lost while the server was unreachable
    up = InfluxV1Sink(influx_url, influx_db)
    up.ensure_database()
    assert asyncio.run(Forwarder(buf, up).drain(timeout=10)) is True
    rows = influxql(up, "SELECT value FROM readings ORDER BY time")
    for s in (down, up):
        s.close()
    buf.close()
    assert [r[1] for r in rows] == [200.0 + i for i in range(50)]


def test_buffered_readings_survive_reopening_the_file(tmp_path: Path) -> None:
    buf = DiskBuffer(tmp_path / "buf.sqlite", max_readings=100)
    buf.append([reading(i) for i in range(10)])
    buf.close()  # as after a crash: what was appended is committed
    again = DiskBuffer(tmp_path / "buf.sqlite", max_readings=100)
    _, readings = again.peek(100)
    again.close()
    assert [r.ts for r in readings] == [T + i for i in range(10)]


def test_full_buffer_drops_the_oldest_and_counts_them(tmp_path: Path) -> None:
    buf = DiskBuffer(tmp_path / "buf.sqlite", max_readings=100)
    buf.append([reading(i) for i in range(130)])
    _, readings = buf.peek(1000)
    dropped = buf.dropped()
    buf.close()
    assert dropped == 30
    assert readings[0].ts == T + 30 and len(readings) == 100


class _FakeInflux2(BaseHTTPRequestHandler):
    """A stand-in for InfluxDB 2.x's /api/v2/write, because InfluxDB 2.x cannot be installed on
    this machine (Debian ships 1.6.7 only). It records what influxdb-client sends."""

    received: ClassVar[list[dict[str, object]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Encoding") == "gzip":
            import gzip

            body = gzip.decompress(body)
        self.received.append(
            {"path": self.path, "auth": self.headers.get("Authorization"), "body": body.decode()}
        )
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake_influx2() -> Iterator[str]:
    _FakeInflux2.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeInflux2)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_v2_sink_writes_line_protocol_to_the_bucket_with_the_token(fake_influx2: str) -> None:
    sink = InfluxV2Sink(fake_influx2, org="plantroom", bucket="plant", token="tok-123")
    sink.write([reading(0), reading(1, None, Quality.unavailable)])
    sink.close()
    (req,) = _FakeInflux2.received
    assert req["auth"] == "Token tok-123"
    assert "/api/v2/write" in str(req["path"]) and "bucket=plant" in str(req["path"])
    assert "org=plantroom" in str(req["path"]) and "precision=ns" in str(req["path"])
    assert str(req["body"]).splitlines() == [
        line(reading(0)),
        line(reading(1, None, Quality.unavailable)),
    ]


def test_v2_sink_writes_an_exact_integer_field_for_an_int(fake_influx2: str) -> None:
    sink = InfluxV2Sink(fake_influx2, org="plantroom", bucket="plant", token="tok-123")
    sink.write([counter(0, 2**53 + 1), reading(1)])
    sink.close()
    (req,) = _FakeInflux2.received
    energy, volts = str(req["body"]).splitlines()
    assert ",value=9007199254740992.0,value_int=9007199254740993i " in energy
    assert "value_int" not in volts and ",value=230.5 " in volts


def test_v2_sink_raises_when_the_server_is_unreachable() -> None:
    sink = InfluxV2Sink("http://127.0.0.1:1", org="o", bucket="b", token="t", timeout_ms=500)
    with pytest.raises(SinkError):
        sink.write([reading()])
    sink.close()
