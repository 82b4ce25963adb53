"""dashboards.runner against real servers: InfluxDB 1.x (influx_url, influx_db) and PostgreSQL
(pg_demo_url), with hand-built panels in the JSON shape the dashboards package writes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import psycopg
import pytest

from dashboards import macros
from dashboards.runner import InfluxTarget, PanelQueryError, panels, run_panel

UTC = dt.UTC
START = dt.datetime(2026, 3, 1, tzinfo=UTC)
END = dt.datetime(2026, 3, 2, tzinfo=UTC)
INFLUX_DS = {"type": "influxdb", "uid": "any-influx"}
PG_DS = {"type": "grafana-postgresql-datasource", "uid": "any-pg"}

BOARD: dict[str, Any] = {
    "templating": {
        "list": [
            {
                "name": "building",
                "type": "custom",
                "multi": True,
                "includeAll": True,
                "query": "A : bldg-a,B : bldg-b,C : bldg.c",
            }
        ]
    }
}


def influx_panel(query: str, **extra: Any) -> dict[str, Any]:
    target = {"refId": "A", "datasource": INFLUX_DS, "query": query, "rawQuery": True,
              "resultFormat": "time_series"}  # fmt: skip
    return {"type": "timeseries", "title": "Readings", "datasource": INFLUX_DS,
            "targets": [target], **extra}  # fmt: skip


def sql_panel(raw: str, fmt: str = "table") -> dict[str, Any]:
    target = {"refId": "A", "datasource": PG_DS, "rawSql": raw, "format": fmt,
              "rawQuery": True, "editorMode": "code"}  # fmt: skip
    return {"type": "table", "title": "Orders", "datasource": PG_DS, "targets": [target]}


@pytest.fixture
def influx(influx_url: str, influx_db: str) -> InfluxTarget:
    """A database holding a reading per hour of START's day for three buildings (two values
    on bldg.c, whose dot a regex must escape) and one of the day before."""
    httpx.post(f"{influx_url}/query", params={"q": f'CREATE DATABASE "{influx_db}"'})
    lines = []
    for h in range(24):
        ns = int((START + dt.timedelta(hours=h)).timestamp()) * 10**9
        lines += [
            f"readings,building=bldg-a value={h} {ns}",
            f"readings,building=bldgxc value=-1 {ns}",
            f"readings,building=bldg.c value={100 + h} {ns}",
        ]
    before = int((START - dt.timedelta(hours=1)).timestamp()) * 10**9
    lines.append(f"readings,building=bldg-a value=999 {before}")
    r = httpx.post(f"{influx_url}/write", params={"db": influx_db}, content="\n".join(lines))
    r.raise_for_status()
    return InfluxTarget(influx_url, influx_db)


def test_an_influx_panel_reads_only_the_time_range_and_the_chosen_buildings(
    influx: InfluxTarget,
) -> None:
    panel = influx_panel(
        'SELECT sum("value") FROM "readings" WHERE "building" =~ /^${building:regex}$/ '
        'AND $timeFilter GROUP BY "building"'
    )
    variables = macros.dashboard_variables(BOARD, {"building": ["bldg-a", "bldg.c"]})
    frames = run_panel(
        panel, start=START, end=END, variables=variables, influx=influx, sql_url=None
    )
    sums = {f.tags["building"]: f.rows[0][1] for f in frames}
    # bldgxc would match an unescaped "bldg.c"; the hour before START is outside $timeFilter
    assert sums == {"bldg-a": sum(range(24)), "bldg.c": sum(range(100, 124))}
    assert "/^(bldg-a|bldg\\.c)$/" in frames[0].query


def test_an_influx_panel_groups_by_grafanas_interval(influx: InfluxTarget) -> None:
    # one day over 24 points: 3,600,000 ms, which the ladder keeps at 1h
    panel = influx_panel(
        'SELECT mean("value") FROM "readings" WHERE "building" = \'bldg-a\' AND $timeFilter '
        "GROUP BY time($__interval) fill(none)",
        maxDataPoints=24,
    )
    [frame] = run_panel(panel, start=START, end=END, variables={}, influx=influx, sql_url=None)
    assert "GROUP BY time(1h)" in frame.query
    assert len(frame.rows) == 24
    assert frame.rows[0][0] == START


def test_an_influx_query_without_series_still_says_what_was_sent(influx: InfluxTarget) -> None:
    panel = influx_panel('SELECT last("value") FROM "nothing" WHERE $timeFilter')
    [frame] = run_panel(panel, start=START, end=END, variables={}, influx=influx, sql_url=None)
    assert not frame.has_value()
    assert frame.query.startswith('SELECT last("value") FROM "nothing" WHERE time >= ')


def test_an_influx_error_names_the_panel_and_the_query(influx: InfluxTarget) -> None:
    panel = influx_panel("SELEKT nothing FROM readings WHERE $timeFilter")
    with pytest.raises(PanelQueryError) as err:
        run_panel(panel, start=START, end=END, variables={}, influx=influx, sql_url=None)
    assert err.value.panel == "Readings"
    assert err.value.query.startswith("SELEKT nothing FROM readings WHERE time >= ")
    assert "error parsing query" in str(err.value)


@pytest.fixture
def pg(pg_demo_url: str) -> str:
    """The demo database with a table of dated rows per building."""
    with psycopg.connect(pg_demo_url.replace("+psycopg", "")) as conn:
        conn.execute("CREATE TABLE t (at timestamptz, building text, amount numeric)")
        for b, day, amount in [("bldg-a", 1, 5), ("bldg-b", 1, 7), ("it's", 1, 11),
                               ("bldg-a", 2, 1), ("bldg-a", 20, 100)]:  # fmt: skip
            conn.execute(
                "INSERT INTO t VALUES (%s, %s, %s)",
                (dt.datetime(2026, 3, day, 12, tzinfo=UTC), b, amount),
            )
    return pg_demo_url


def test_a_sql_panel_filters_by_time_and_quoted_variables(pg: str) -> None:
    panel = sql_panel(
        "SELECT $__timeGroupAlias(at, $__interval), building, sum(amount) AS amount FROM t "
        "WHERE $__timeFilter(at) AND building IN (${building:sqlstring}) "
        "GROUP BY 1, 2 ORDER BY 1, 2",
        fmt="time_series",
    )
    variables = macros.dashboard_variables(BOARD, {"building": ["bldg-a", "it's"]})
    start, end = dt.datetime(2026, 3, 1, tzinfo=UTC), dt.datetime(2026, 3, 3, tzinfo=UTC)
    [frame] = run_panel(panel, start=start, end=end, variables=variables, influx=None, sql_url=pg)
    assert "IN ('bldg-a','it''s')" in frame.query
    assert "BETWEEN '2026-03-01T00:00:00Z' AND '2026-03-03T00:00:00Z'" in frame.query
    day = start.timestamp() + 12 * 3600
    assert [(float(r[0]), r[1], float(r[2])) for r in frame.rows] == [
        (day, "bldg-a", 5.0),
        (day, "it's", 11.0),
        (day + 86400, "bldg-a", 1.0),
    ]


def test_a_time_series_sql_panel_without_a_time_column_fails_as_in_grafana(pg: str) -> None:
    panel = sql_panel("SELECT building, sum(amount) FROM t GROUP BY 1", fmt="time_series")
    with pytest.raises(PanelQueryError, match="time column is missing"):
        run_panel(panel, start=START, end=END, variables={}, influx=None, sql_url=pg)


def test_a_long_time_series_out_of_time_order_fails_as_in_grafana(pg: str) -> None:
    panel = sql_panel(
        "SELECT at AS time, building, amount FROM t ORDER BY at DESC", fmt="time_series"
    )
    with pytest.raises(PanelQueryError, match="sorted ascending by time"):
        run_panel(panel, start=START, end=END, variables={}, influx=None, sql_url=pg)


def test_sql_errors_name_the_panel_and_the_expanded_query(pg: str) -> None:
    panel = sql_panel("SELECT nope FROM t WHERE $__timeFilter(at)")
    with pytest.raises(PanelQueryError) as err:
        run_panel(panel, start=START, end=END, variables={}, influx=None, sql_url=pg)
    assert err.value.panel == "Orders"
    assert "BETWEEN '2026-03-01T00:00:00Z'" in err.value.query
    assert "nope" in err.value.message


def test_sql_panels_cannot_write(pg: str) -> None:
    panel = sql_panel("DELETE FROM t RETURNING building")
    with pytest.raises(PanelQueryError, match="read-only"):
        run_panel(panel, start=START, end=END, variables={}, influx=None, sql_url=pg)


def test_panels_include_those_of_collapsed_rows() -> None:
    board = {
        "panels": [
            {"type": "stat", "title": "a"},
            {"type": "row", "title": "r", "collapsed": True,
             "panels": [{"type": "table", "title": "b"}]},
            {"type": "row", "title": "open", "collapsed": False, "panels": []},
            {"type": "timeseries", "title": "c"},
        ]
    }  # fmt: skip
    assert [p["title"] for p in panels(board)] == ["a", "r", "b", "open", "c"]
