"""The stores' read side (collectors/sinks/buckets.py): the grid, the default step, which store
the settings choose, and the InfluxQL reader's requests. What each store answers, bucket by
bucket, is tested through the endpoint in tests/workorders/test_readings_endpoint.py."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import httpx
import pytest

from collectors.readings import Quality, Reading
from collectors.sinks.buckets import EMPTY, Bucket, Grid, bucket, default_step
from collectors.sinks.embedded import FILE_NAME, EmbeddedReader
from collectors.sinks.influx import InfluxQLReader, InfluxV1Sink
from collectors.sinks.readers import configured_reader
from config.settings import Settings

S = 1_000_000  # microseconds
T = 1_767_225_600  # 2026-01-01T00:00:00Z


@pytest.mark.parametrize(
    ("seconds", "step"),
    [
        (1, 1),
        (300, 1),
        (301, 2),
        (3600, 15),
        (86400, 300),
        (7 * 86400, 3600),
        (30 * 86400, 3 * 3600),
        (365 * 86400, 2 * 86400),
        (10 * 365 * 86400, 14 * 86400),
    ],
)
def test_the_default_step_rounds_the_range_over_300_up_to_a_nice_step(
    seconds: int, step: int
) -> None:
    assert default_step(T * S, (T + seconds) * S) == step
    assert Grid(T * S, (T + seconds) * S, step).count <= 300


def test_a_grid_counts_a_last_bucket_cut_short_and_starts_each_at_whole_steps() -> None:
    grid = Grid(T * S + 500_000, (T + 150) * S, 60)
    assert grid.count == 3
    assert [s.timestamp() for s in grid.starts()] == [T + 0.5, T + 60.5, T + 120.5]
    with pytest.raises(ValueError):
        Grid(T * S, T * S, 60)


def test_a_bucket_is_good_with_any_good_reading_else_its_last_quality_else_missing() -> None:
    assert bucket(3.0, True, "unavailable") == Bucket(3.0, "good")
    assert bucket(None, False, "stale") == Bucket(None, "stale")
    assert bucket(None, False, "something new") == Bucket(None, "unavailable")
    assert bucket(None, False, None) == EMPTY == Bucket(None, "missing")


def test_settings_choose_influxdb_1_then_2_then_the_embedded_store(tmp_path: Path) -> None:
    base = Settings(data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    embedded = configured_reader(base)
    assert isinstance(embedded, EmbeddedReader) and embedded.path == tmp_path / FILE_NAME
    v2 = configured_reader(
        base.model_copy(update={"influx_v2_url": "http://v2:8086", "influx_token": "tok"})
    )
    assert isinstance(v2, InfluxQLReader) and v2.database == "plantroom"
    assert v2.headers == {"Authorization": "Token tok"} and v2.auth == {}
    both = base.model_copy(
        update={
            "influx_v1_url": "http://v1:8086",
            "influx_username": "u",
            "influx_password": "p",
            "influx_v2_url": "http://v2:8086",
        }
    )
    v1 = configured_reader(both)
    assert isinstance(v1, InfluxQLReader) and v1.url == "http://v1:8086"
    assert v1.auth == {"u": "u", "p": "p"} and v1.headers == {}


def test_an_embedded_file_without_readings_tables_has_no_readings(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    sqlite3.connect(path).close()  # an empty file: no collector wrote it yet
    grid = Grid(T * S, (T + 120) * S, 60)
    assert EmbeddedReader(path).buckets(asset="a", point="p", grid=grid, agg="mean") == [
        EMPTY,
        EMPTY,
    ]
    assert EmbeddedReader(tmp_path / "absent.sqlite").buckets(
        asset="a", point="p", grid=grid, agg="last"
    ) == [EMPTY, EMPTY]


def test_influxql_quotes_the_asset_and_point_and_reads_nothing_outside_influxdb_time(
    influx_url: str, influx_db: str
) -> None:
    sink = InfluxV1Sink(influx_url, influx_db)
    sink.ensure_database()
    sink.write([Reading(T, "a'b", "d", "p'x", 1.0, "", Quality.good)])
    sink.close()
    reader = InfluxQLReader(influx_url, influx_db)
    grid = Grid(T * S, (T + 60) * S, 60)
    assert reader.buckets(asset="a'b", point="p'x", grid=grid, agg="mean") == [Bucket(1.0, "good")]
    assert reader.buckets(asset="a' OR 'x'='x", point="p", grid=grid, agg="mean") == [EMPTY]
    # Past 2262 (int64 nanoseconds): nothing to ask InfluxDB.
    late = Grid(9000 * 365 * 86400 * S, (9000 * 365 * 86400 + 60) * S, 60)
    assert reader.statements(asset="a", point="p", grid=late, agg="mean") is None
    assert reader.buckets(asset="a", point="p", grid=late, agg="mean") == [EMPTY]
    reader.close()


class _Influx2Compat(BaseHTTPRequestHandler):
    """A stand-in for InfluxDB 2.x's v1-compatible /query, because InfluxDB 2.x cannot be
    installed on this machine (Debian ships 1.6.7 only): it records the request and forwards it
    to the real InfluxDB 1.x, which answers InfluxQL the same way."""

    upstream: ClassVar[str] = ""
    received: ClassVar[list[dict[str, str | None]]] = []

    def do_GET(self) -> None:
        self.received.append({"path": self.path, "auth": self.headers.get("Authorization")})
        r = httpx.get(f"{self.upstream}{self.path}", timeout=10)
        self.send_response(r.status_code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(r.content)))
        self.end_headers()
        self.wfile.write(r.content)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def influx2_compat(influx_url: str) -> Iterator[str]:
    _Influx2Compat.upstream = influx_url
    _Influx2Compat.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Influx2Compat)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_influxdb_2_is_read_with_influxql_the_bucket_as_database_and_the_token(
    tmp_path: Path, influx_url: str, influx_db: str, influx2_compat: str
) -> None:
    sink = InfluxV1Sink(influx_url, influx_db)
    sink.ensure_database()
    sink.write([Reading(T + 5, "pump-1", "d", "motor_current", 12.5, "A", Quality.good)])
    sink.close()
    settings = Settings(
        data_dir=tmp_path,
        influx_v2_url=influx2_compat,
        influx_bucket=influx_db,
        influx_token="tok-123",
        _env_file=None,  # type: ignore[call-arg]
    )
    reader = configured_reader(settings)
    grid = Grid(T * S, (T + 60) * S, 60)
    assert reader.buckets(asset="pump-1", point="motor_current", grid=grid, agg="max") == [
        Bucket(12.5, "good")
    ]
    reader.close()
    (req,) = _Influx2Compat.received
    assert req["auth"] == "Token tok-123"
    assert str(req["path"]).startswith("/query?") and f"db={influx_db}" in str(req["path"])
