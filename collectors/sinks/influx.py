"""InfluxDB sinks: the v1 /write API (InfluxDB 1.x) and influxdb-client's v2 API (2.x, 3.x).

Both write measurement ``readings`` with tags asset, building, device, point, unit and fields
``value`` (float, only when there is a number) and ``quality`` (always). An unavailable reading
is therefore a row with a quality and no value, never a 0.

``value`` is a float field for every number: InfluxDB keeps one type per field, and dashboards
and stored data rely on it. A float holds integers exactly only up to 2**53, so a reading of
an integer point (an int: Point.integral) also carries ``value_int``, an integer field with
the exact value, e.g. ``value=123.0,value_int=123i``. InfluxDB integers are signed 64-bit; a
uint64 value above 2**63 - 1 has no ``value_int`` (its ``value`` is still written): ``u``
integers would need a second field type, and InfluxDB 1.x as shipped refuses them, and with
them the whole batch.
"""

from __future__ import annotations

import httpx

from collectors.readings import INT64_MAX, INT64_MIN, Reading


class SinkError(Exception):
    """The server refused or could not be reached; the batch was not stored."""


def _tag(value: str) -> str:
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=").replace(" ", "\\ ")


def _str_field(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def line(r: Reading, building: str | None = None) -> str:
    """One reading in InfluxDB line protocol, nanosecond timestamp."""
    tags = f"{_tag(r.measurement)},asset={_tag(r.asset)}"
    if building:
        tags += f",building={_tag(building)}"
    tags += f",device={_tag(r.device)},point={_tag(r.point)}"
    if r.unit:
        tags += f",unit={_tag(r.unit)}"
    fields = [f"quality={_str_field(str(r.quality))}"]
    if isinstance(r.value, str):
        fields.append(f"text={_str_field(r.value)}")
    elif r.value is not None:
        fields.append(f"value={float(r.value)!r}")
        if isinstance(r.value, int) and INT64_MIN <= r.value <= INT64_MAX:
            fields.append(f"value_int={r.value}i")
    return f"{tags} {','.join(fields)} {round(r.ts * 1e9)}"


def lines(readings: list[Reading], buildings: dict[str, str]) -> str:
    """A batch in line protocol."""
    return "\n".join(line(r, buildings.get(r.asset)) for r in readings)


class InfluxV1Sink:
    """InfluxDB 1.x through its /write endpoint (line protocol)."""

    name = "influx-v1"
    linger = 0.5

    def __init__(
        self,
        url: str,
        database: str,
        *,
        username: str | None = None,
        password: str | None = None,
        buildings: dict[str, str] | None = None,
        timeout: float = 10.0,
    ):
        self.url = url.rstrip("/")
        self.database = database
        self.auth = {"u": username, "p": password} if username else {}
        self.buildings = buildings or {}
        self.http = httpx.Client(timeout=timeout)

    def ensure_database(self) -> None:
        """CREATE DATABASE (a no-op when it exists)."""
        self.query(f'CREATE DATABASE "{self.database}"', method="POST")

    def query(self, q: str, *, method: str = "GET") -> dict[str, object]:
        """Run InfluxQL; returns the JSON answer or raises SinkError."""
        params = {"q": q, "db": self.database, **self.auth}
        try:
            resp = self.http.request(method, f"{self.url}/query", params=params)
        except httpx.HTTPError as exc:
            raise SinkError(f"{self.url}: {exc}") from exc
        if resp.status_code != 200:
            raise SinkError(f"{self.url}/query answered {resp.status_code}: {resp.text[:200]}")
        body: dict[str, object] = resp.json()
        return body

    def write(self, readings: list[Reading]) -> None:
        """Write a batch; raises SinkError unless InfluxDB accepted all of it."""
        if not readings:
            return
        params = {"db": self.database, "precision": "ns", **self.auth}
        try:
            resp = self.http.post(
                f"{self.url}/write", params=params, content=lines(readings, self.buildings).encode()
            )
        except httpx.HTTPError as exc:
            raise SinkError(f"{self.url}: {exc}") from exc
        if resp.status_code != 204:
            raise SinkError(f"{self.url}/write answered {resp.status_code}: {resp.text[:200]}")

    def close(self) -> None:
        """Close the HTTP client."""
        self.http.close()


class InfluxV2Sink:
    """InfluxDB 2.x and 3.x through influxdb-client's synchronous write API.

    Writes are synchronous so a failure reaches our disk buffer at once; influxdb-client's own
    batching retries for three minutes and then drops the batch.
    """

    name = "influx-v2"
    linger = 0.5

    def __init__(
        self,
        url: str,
        *,
        org: str,
        bucket: str,
        token: str,
        buildings: dict[str, str] | None = None,
        timeout_ms: int = 10_000,
    ):
        from influxdb_client import InfluxDBClient
        from influxdb_client.client.write_api import SYNCHRONOUS

        self.bucket = bucket
        self.org = org
        self.buildings = buildings or {}
        self.client = InfluxDBClient(url=url, token=token, org=org, timeout=timeout_ms)
        self.api = self.client.write_api(write_options=SYNCHRONOUS)

    def write(self, readings: list[Reading]) -> None:
        """Write a batch; raises SinkError unless the server accepted it."""
        if not readings:
            return
        from influxdb_client import WritePrecision

        try:
            self.api.write(
                bucket=self.bucket,
                org=self.org,
                record=lines(readings, self.buildings),
                write_precision=WritePrecision.NS,  # type: ignore[arg-type]  # str constants
            )
        except Exception as exc:  # influxdb-client raises ApiException, urllib3 and OS errors
            raise SinkError(f"InfluxDB v2 write failed: {exc}") from exc

    def close(self) -> None:
        """Close the client."""
        self.client.close()
