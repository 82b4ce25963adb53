"""InfluxDB sinks: the v1 /write API (InfluxDB 1.x) and influxdb-client's v2 API (2.x, 3.x).

Both write measurement ``readings`` with tags asset, asset_class (the asset's Brick class),
building, device, point, unit (asset_class and building where the site knows the asset) and fields
``value`` (float, only when there is a number) and ``quality`` (always). An unavailable reading
is therefore a row with a quality and no value, never a 0.

``value`` is a float field for every number: InfluxDB keeps one type per field, and dashboards
and stored data rely on it. A float holds integers exactly only up to 2**53, so a reading of
an integer point (an int: Point.integral) also carries ``value_int``, an integer field with
the exact value, e.g. ``value=123.0,value_int=123i``. InfluxDB integers are signed 64-bit; a
uint64 value above 2**63 - 1 has no ``value_int`` (its ``value`` is still written): ``u``
integers would need a second field type, and InfluxDB 1.x as shipped refuses them, and with
them the whole batch.

``InfluxQLReader`` is the read side the API uses: one point in buckets, aggregated by InfluxDB
(InfluxQL, against 1.x, or 2.x through its v1-compatible /query with a token).
"""

from __future__ import annotations

from typing import Any

import httpx

from collectors.readings import INT64_MAX, INT64_MIN, Reading
from collectors.sinks.buckets import EMPTY, Agg, Bucket, Grid, ReadError, bucket


class SinkError(Exception):
    """The server refused or could not be reached; the batch was not stored."""


def _tag(value: str) -> str:
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=").replace(" ", "\\ ")


def _str_field(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def asset_tags(building: str | None = None, asset_class: str | None = None) -> str:
    """The tags an asset's readings carry beside asset: ',asset_class=..,building=..'."""
    out = ""
    if asset_class:
        out += f",asset_class={_tag(asset_class)}"
    if building:
        out += f",building={_tag(building)}"
    return out


def line(r: Reading, building: str | None = None, asset_class: str | None = None) -> str:
    """One reading in InfluxDB line protocol, nanosecond timestamp."""
    return _line(r, asset_tags(building, asset_class))


def _line(r: Reading, extra: str) -> str:
    # Tags in key order (InfluxDB's own), the asset's own tags right after asset.
    tags = f"{_tag(r.measurement)},asset={_tag(r.asset)}{extra}"
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


def tag_map(
    buildings: dict[str, str] | None = None, asset_classes: dict[str, str] | None = None
) -> dict[str, str]:
    """asset id -> the tags its readings carry beside asset (see asset_tags)."""
    buildings, asset_classes = buildings or {}, asset_classes or {}
    return {
        a: asset_tags(buildings.get(a), asset_classes.get(a))
        for a in buildings.keys() | asset_classes.keys()
    }


def lines(
    readings: list[Reading],
    buildings: dict[str, str],
    asset_classes: dict[str, str] | None = None,
) -> str:
    """A batch in line protocol."""
    return _lines(readings, tag_map(buildings, asset_classes))


def _lines(readings: list[Reading], tags: dict[str, str]) -> str:
    return "\n".join(_line(r, tags.get(r.asset, "")) for r in readings)


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
        asset_classes: dict[str, str] | None = None,
        timeout: float = 10.0,
    ):
        self.url = url.rstrip("/")
        self.database = database
        self.auth = {"u": username, "p": password} if username else {}
        #: asset id -> its tags beside asset (building, asset_class).
        self.tags = tag_map(buildings, asset_classes)
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
                f"{self.url}/write", params=params, content=_lines(readings, self.tags).encode()
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
        asset_classes: dict[str, str] | None = None,
        timeout_ms: int = 10_000,
    ):
        from influxdb_client import InfluxDBClient
        from influxdb_client.client.write_api import SYNCHRONOUS

        self.bucket = bucket
        self.org = org
        #: asset id -> its tags beside asset (building, asset_class).
        self.tags = tag_map(buildings, asset_classes)
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
                record=_lines(readings, self.tags),
                write_precision=WritePrecision.NS,  # type: ignore[arg-type]  # str constants
            )
        except Exception as exc:  # influxdb-client raises ApiException, urllib3 and OS errors
            raise SinkError(f"InfluxDB v2 write failed: {exc}") from exc

    def close(self) -> None:
        """Close the client."""
        self.client.close()


# --- the read side: one point in buckets ------------------------------------------------------

#: InfluxDB keeps time as int64 nanoseconds: what lies outside has no readings.
_INFLUX_MIN_US = -9_223_372_036_854_775_806 // 1000 + 1
_INFLUX_MAX_US = 9_223_372_036_854_775_806 // 1000
_FUNCTIONS = {"mean": "mean", "min": "min", "max": "max", "last": "last"}


def _literal(value: str) -> str:
    """An InfluxQL string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class InfluxQLReader:
    """Reads one point in buckets from InfluxDB with InfluxQL: two statements in one request,
    grouped by time in the server, so only the buckets travel.

    InfluxDB 1.x takes a user and password (u, p); 2.x serves the same /query for its
    database/retention-policy mapping (the bucket's name, as the Grafana data source uses it)
    and takes its API token in an ``Authorization: Token`` header.
    """

    name = "influxql"

    def __init__(
        self,
        url: str,
        database: str,
        *,
        username: str | None = None,
        password: str | None = None,
        token: str | None = None,
        timeout: float = 10.0,
    ):
        self.url = url.rstrip("/")
        self.database = database
        self.auth = {"u": username, "p": password or ""} if username else {}
        self.headers = {"Authorization": f"Token {token}"} if token else {}
        self.timeout = timeout
        self._http: httpx.Client | None = None

    def _client(self) -> httpx.Client:
        if self._http is None:
            self._http = httpx.Client(timeout=self.timeout, headers=self.headers)
        return self._http

    def statements(self, *, asset: str, point: str, grid: Grid, agg: Agg) -> str | None:
        """The InfluxQL for a grid (None when it lies wholly outside InfluxDB's time range):
        the good numbers' aggregate, then every reading's last quality, per bucket."""
        lo, hi = max(grid.start_us, _INFLUX_MIN_US), min(grid.end_us, _INFLUX_MAX_US)
        if lo >= hi:
            return None
        # GROUP BY time(step, offset) counts buckets from 1970 + offset: the grid's start.
        group = f"GROUP BY time({grid.step}s, {grid.start_us % grid.step_us}u) fill(none)"
        where = (
            f'"asset" = {_literal(asset)} AND "point" = {_literal(point)} '
            f"AND time >= {lo * 1000} AND time < {hi * 1000}"
        )
        fn = _FUNCTIONS[agg]
        # value_int is the exact integer beside value (see the module docstring); a mean is a
        # float anyway.
        exact = "" if agg == "mean" else f', {fn}("value_int") AS "vi"'
        # count(quality): a good reading without a number (a text point) still makes the
        # bucket good.
        return (
            f'SELECT count("quality") AS "n", {fn}("value") AS "v"{exact} FROM "readings" '
            f"WHERE {where} AND \"quality\" = 'good' {group}; "
            f'SELECT last("quality") AS "q" FROM "readings" WHERE {where} {group}'
        )

    def query(self, q: str) -> list[dict[str, Any]]:
        """Run InfluxQL (times in microseconds); each statement's result, or ReadError."""
        params = {"q": q, "db": self.database, "epoch": "u", **self.auth}
        try:
            resp = self._client().get(f"{self.url}/query", params=params)
        except httpx.HTTPError as exc:
            raise ReadError(f"{self.url}: {exc}") from exc
        if resp.status_code != 200:
            raise ReadError(f"{self.url}/query answered {resp.status_code}: {resp.text[:200]}")
        try:
            results: list[dict[str, Any]] = resp.json()["results"]
        except (ValueError, KeyError, TypeError) as exc:
            raise ReadError(f"{self.url}/query answered no results: {resp.text[:200]}") from exc
        for r in results:
            if "error" in r:
                raise ReadError(f"{self.url}/query: {r['error']}")
        return results

    def buckets(self, *, asset: str, point: str, grid: Grid, agg: Agg) -> list[Bucket]:
        """One Bucket per bucket of the grid (see collectors/sinks/buckets.py)."""
        out = [EMPTY] * grid.count
        q = self.statements(asset=asset, point=point, grid=grid, agg=agg)
        if q is None:
            return out
        numbers, qualities = self.query(q)
        values: dict[int, float | int | None] = {}
        for row in _rows(numbers):
            v, vi = row[2], row[3] if len(row) > 3 else None
            # value_int where it is the same reading's exact value (a uint64 beyond int64 has
            # none, so a max over a mix may come from two readings).
            values[_index(row[0], grid)] = vi if vi is not None and float(vi) == v else v
        for t, q_last in _rows(qualities):
            b = _index(t, grid)
            out[b] = bucket(values.get(b), b in values, str(q_last))
        for b, v in values.items():  # a good reading seen by the first statement only
            if out[b] is EMPTY:
                out[b] = bucket(v, True, None)
        return out

    def close(self) -> None:
        """Close the HTTP client."""
        if self._http is not None:
            self._http.close()
            self._http = None


def _rows(result: dict[str, Any]) -> list[list[Any]]:
    series = result.get("series") or []
    return series[0]["values"] if series else []


def _index(t: int, grid: Grid) -> int:
    return max(0, min(grid.count - 1, (int(t) - grid.start_us) // grid.step_us))
