"""Run a Grafana panel's queries against the real servers, expanded the way Grafana 11.6
expands them (dashboards.macros), and return what came back as frames.

- ``influxdb`` targets (raw InfluxQL) go to InfluxDB's 1.x ``/query`` API, as Grafana's
  InfluxQL backend sends them (``db``, ``q``, ``epoch=ms``); each series is a frame.
- ``grafana-postgresql-datasource`` targets (raw SQL) run in a read-only transaction, one frame
  per target, with the checks Grafana's SQL backend makes on a time-series result (a ``time``
  column; numeric value columns; a long frame sorted by time), so a panel Grafana would show
  as an error fails here too.

The interval is Grafana's (macros.calculate_interval): the time range over the panel's
``maxDataPoints`` (Grafana otherwise uses the panel's width in pixels: ``max_data_points``
stands in for it), never under the panel's "Min interval" (``interval``), else the data
source's (the panel's, else its first query's: the SQL data sources default to 1m, InfluxDB
has none).
"""

from __future__ import annotations

import datetime as dt
import decimal
import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg

from dashboards.macros import (
    ExpandedSQL,
    Interval,
    MacroError,
    Variable,
    calculate_interval,
    expand_influxql,
    expand_sql,
)

INFLUXDB = "influxdb"
POSTGRESQL = ("grafana-postgresql-datasource", "postgres")
#: The data source uid Grafana stores on a panel whose targets use several data sources.
MIXED = "-- Mixed --"
#: Grafana's SQL data sources' min time interval when their settings give none.
SQL_MIN_INTERVAL = "1m"
#: Stands in for the panel's width in pixels, which Grafana uses when maxDataPoints is unset.
DEFAULT_MAX_DATA_POINTS = 1000
#: Panels that run no query.
NO_QUERY_TYPES = ("row", "text", "news", "dashlist", "welcome")


@dataclass(frozen=True)
class InfluxTarget:
    """An InfluxDB to run influxdb targets on: its 1.x /query API and database."""

    url: str
    database: str
    username: str | None = None
    password: str | None = None
    timeout: float = 60.0


@dataclass(frozen=True)
class Frame:
    """One result of one target: column names and rows (time as aware UTC datetimes)."""

    ref_id: str
    name: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    query: str
    tags: Mapping[str, str] = field(default_factory=dict)

    def values(self) -> Iterator[Any]:
        """Every cell but the time column's."""
        keep = [i for i, c in enumerate(self.columns) if c != "time"]
        for row in self.rows:
            for i in keep:
                yield row[i]

    def has_value(self) -> bool:
        """Whether some row has a non-null value outside the time column."""
        return any(v is not None for v in self.values())


class PanelQueryError(RuntimeError):
    """A target Grafana would show as an error: the server's (or Grafana's) message, with the
    panel's title and the query as sent."""

    def __init__(self, panel: str, ref_id: str, query: str, message: str):
        super().__init__(f"panel {panel!r}, target {ref_id}: {message}\n--- query ---\n{query}")
        self.panel = panel
        self.ref_id = ref_id
        self.query = query
        self.message = message


def panels(dashboard: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel of a dashboard in order, rows included, with the panels a collapsed row
    holds right after it."""
    for p in dashboard.get("panels", []):
        yield p
        if p.get("type") == "row":
            yield from p.get("panels", [])


def runs_queries(panel: Mapping[str, Any]) -> bool:
    """Whether Grafana runs queries for the panel (rows, text and the like run none)."""
    return panel.get("type") not in NO_QUERY_TYPES and bool(panel.get("targets"))


def _datasource(panel: Mapping[str, Any], target: Mapping[str, Any]) -> Mapping[str, Any]:
    own = target.get("datasource")
    if isinstance(own, Mapping) and own.get("uid") not in (None, MIXED):
        return own
    return panel.get("datasource") or {}


def panel_interval(
    panel: Mapping[str, Any],
    *,
    start: dt.datetime,
    end: dt.datetime,
    max_data_points: int | None = None,
) -> Interval:
    """The interval of the panel's request (see the module docstring)."""
    points = panel.get("maxDataPoints") or max_data_points or DEFAULT_MAX_DATA_POINTS
    min_interval = panel.get("interval") or None
    if min_interval is None:
        # the panel's data source, else its first query's (SceneQueryRunner's
        # findFirstDatasource) gives the min interval
        ds = panel.get("datasource") or {}
        if not ds.get("type") or ds.get("uid") == MIXED:
            first: Mapping[str, Any] = next(iter(panel.get("targets") or []), {})
            ds = first.get("datasource") or {}
        if ds.get("type") in POSTGRESQL:
            min_interval = SQL_MIN_INTERVAL
    return calculate_interval(start, end, int(points), min_interval)


def run_panel(
    panel: Mapping[str, Any],
    *,
    start: dt.datetime,
    end: dt.datetime,
    variables: Mapping[str, Variable] | None,
    influx: InfluxTarget | None,
    sql_url: str | None,
    max_data_points: int | None = None,
) -> list[Frame]:
    """Every visible target of the panel expanded (dashboards.macros), run, and its frames
    (an InfluxDB answer without series is one empty frame: it still says what was sent);
    raises PanelQueryError for a target that Grafana would show as an error."""
    start, end = _ms(start), _ms(end)
    title = panel.get("title", "")
    interval = panel_interval(panel, start=start, end=end, max_data_points=max_data_points)
    variables = variables or {}
    frames: list[Frame] = []
    if not runs_queries(panel):
        return frames
    for target in panel["targets"]:
        if target.get("hide"):
            continue
        ref = target.get("refId", "A")
        kind = _datasource(panel, target).get("type")
        if kind == INFLUXDB:
            query = target.get("query", "")
            try:
                expanded = expand_influxql(
                    query, variables=variables, start=start, end=end, interval=interval
                )
            except MacroError as exc:
                raise PanelQueryError(title, ref, query, str(exc)) from exc
            if influx is None:
                raise PanelQueryError(title, ref, expanded, "no InfluxDB given")
            frames += _run_influx(influx, title, ref, expanded, target.get("alias"))
        elif kind in POSTGRESQL:
            raw = target.get("rawSql", "")
            try:
                sql = expand_sql(raw, variables=variables, start=start, end=end, interval=interval)
            except MacroError as exc:
                raise PanelQueryError(title, ref, raw, str(exc)) from exc
            if sql_url is None:
                raise PanelQueryError(title, ref, sql.sql, "no PostgreSQL given")
            frames.append(_run_sql(sql_url, title, ref, sql, target.get("format", "time_series")))
        else:
            raise PanelQueryError(
                title, ref, str(target), f"data source type {kind!r} is not run here"
            )
    return frames


def _ms(t: dt.datetime) -> dt.datetime:
    """Grafana sends the range in epoch milliseconds."""
    return t.replace(microsecond=t.microsecond // 1000 * 1000)


# --- InfluxDB ---------------------------------------------------------------------------------


def _alias(alias: str, measurement: str, column: str, tags: Mapping[str, str]) -> str:
    """Grafana's InfluxQL alias patterns: $m, $measurement, $col, $tag_X and [[...]] forms."""
    out = alias
    for key, value in tags.items():
        out = out.replace(f"[[tag_{key}]]", value).replace(f"$tag_{key}", value)
    for name, value in (("measurement", measurement), ("m", measurement), ("col", column)):
        out = out.replace(f"[[{name}]]", value).replace(f"${name}", value)
    return out


def _run_influx(
    target: InfluxTarget, title: str, ref: str, query: str, alias: str | None
) -> list[Frame]:
    params = {"db": target.database, "q": query, "epoch": "ms"}
    if target.username:
        params |= {"u": target.username, "p": target.password or ""}
    try:
        r = httpx.get(f"{target.url.rstrip('/')}/query", params=params, timeout=target.timeout)
    except httpx.HTTPError as exc:
        raise PanelQueryError(title, ref, query, f"InfluxDB unreachable: {exc}") from exc
    try:
        body = r.json()
    except ValueError:
        raise PanelQueryError(title, ref, query, f"InfluxDB {r.status_code}: {r.text}") from None
    if r.status_code >= 400 or body.get("error"):
        raise PanelQueryError(title, ref, query, f"InfluxDB: {body.get('error', r.text)}")
    frames = []
    for result in body.get("results", []):
        if result.get("error"):
            raise PanelQueryError(title, ref, query, f"InfluxDB: {result['error']}")
        for series in result.get("series", []):
            columns = tuple(series["columns"])
            tags = dict(series.get("tags") or {})
            rows = tuple(
                tuple(
                    dt.datetime.fromtimestamp(v / 1000, dt.UTC) if c == "time" and v else v
                    for c, v in zip(columns, row, strict=True)
                )
                for row in series.get("values", [])
            )
            value_cols = [c for c in columns if c != "time"]
            name = series["name"]
            if alias:
                name = _alias(alias, series["name"], value_cols[0] if value_cols else "", tags)
            elif tags:
                name += " {" + ", ".join(f"{k}: {v}" for k, v in tags.items()) + "}"
            frames.append(Frame(ref, name, columns, rows, query, tags))
    # no series: an empty frame, which still says what was asked
    return frames or [Frame(ref, ref, (), (), query)]


# --- PostgreSQL -------------------------------------------------------------------------------


def _run_sql(url: str, title: str, ref: str, sql: ExpandedSQL, fmt: str) -> Frame:
    dsn = url.replace("postgresql+psycopg://", "postgresql://", 1)
    try:
        with psycopg.connect(dsn, connect_timeout=10) as conn:
            conn.read_only = True
            with conn.cursor() as cur:
                cur.execute(sql.sql.encode())
                columns = tuple(d.name for d in cur.description or ())
                rows = tuple(tuple(r) for r in cur.fetchall()) if cur.description else ()
    except psycopg.Error as exc:
        raise PanelQueryError(title, ref, sql.sql, f"db query error: {exc}") from exc
    if fmt == "time_series" and rows:
        _check_time_series(title, ref, sql.sql, columns, rows)
    return Frame(ref, ref, columns, rows, sql.sql)


def _numeric(v: Any) -> bool:
    return isinstance(v, int | float | decimal.Decimal)


def _epoch(v: Any) -> float | None:
    if v is None:
        return None
    if isinstance(v, dt.datetime):
        return v.timestamp()
    if isinstance(v, dt.date):
        return dt.datetime.combine(v, dt.time(), dt.UTC).timestamp()
    return float(v)


def _check_time_series(
    title: str, ref: str, sql: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """What Grafana's SQL backend refuses in a time-series result (sqleng processFrame and
    the plugin SDK's LongToWide), with its messages."""
    if "time" not in columns:
        raise PanelQueryError(
            title,
            ref,
            sql,
            "db has no time column: time column is missing; make sure your data includes a "
            "time column for time series format or switch to a table format that doesn't "
            "require it",
        )
    ti = columns.index("time")
    strings = set()
    for i, _ in enumerate(columns):
        if i == ti:
            continue
        kinds = {type(r[i]) for r in rows if r[i] is not None}
        if kinds and all(k is str for k in kinds):
            strings.add(i)
        elif any(not _numeric(r[i]) for r in rows if r[i] is not None):
            bad = next(r[i] for r in rows if r[i] is not None and not _numeric(r[i]))
            raise PanelQueryError(
                title,
                ref,
                sql,
                f"convert value to float failed: column {columns[i]!r} holds {bad!r}",
            )
    for r in rows:
        v = r[ti]
        if v is not None and not (_numeric(v) or isinstance(v, dt.date)):
            raise PanelQueryError(
                title, ref, sql, "converting time columns failed: unable to convert data to a time"
            )
    times = [_epoch(r[ti]) for r in rows]
    if strings:
        if any(t is None for t in times):
            raise PanelQueryError(title, ref, sql, "long series with null time values")
        known = [t for t in times if t is not None]
        if any(b < a for a, b in itertools.pairwise(known)):
            raise PanelQueryError(
                title,
                ref,
                sql,
                "failed to convert long to wide series when converting from dataframe: long "
                "series must be sorted ascending by time to be converted",
            )
