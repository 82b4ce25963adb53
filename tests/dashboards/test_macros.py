"""dashboards.macros against the examples Grafana documents and tests itself, string for
string. Sources (grafana/grafana unless said):

- [rangeutil] packages/grafana-data/src/datetime/rangeutil.ts (roundInterval, secondsToHms)
- [gtime] grafana/grafana-plugin-sdk-go backend/gtime/gtime_test.go (TestRoundInterval,
  TestFormatInterval, TestParseInterval)
- [pgmacros] pkg/tsdb/grafana-postgresql-datasource/macros_test.go (TestMacroEngine)
- [influxds] public/app/plugins/datasource/influxdb/datasource.test.ts (interpolateQueryExpr)
- [scenes] grafana/scenes packages/scenes/src/variables/interpolation/formatRegistry.test.ts
- [docs-pg] Grafana docs, "PostgreSQL data source / Macros" and "Variable syntax" pages
- [domain] /work/shared/DOMAIN.md "Grafana, as it expands InfluxQL panel queries"
"""

from __future__ import annotations

import datetime as dt

import pytest

from dashboards import macros
from dashboards.macros import ALL_VALUE, Interval, MacroError, Variable

UTC = dt.UTC
# [pgmacros] "Given a time range between 2018-04-12 00:00 and 2018-04-12 00:05"
FROM = dt.datetime(2018, 4, 12, 18, 0, tzinfo=UTC)
TO = FROM + dt.timedelta(minutes=5)


def sql(text: str, *, interval_ms: int = 60_000) -> str:
    return macros.sql_backend(text, start=FROM, end=TO, interval_ms=interval_ms).sql


# --- interval ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ms", "rounded"),
    [
        # [gtime] TestRoundInterval, the same ladder as [rangeutil] roundInterval
        (9, 1),
        (14, 10),
        (34, 20),
        (74, 50),
        (140, 100),
        (320, 200),
        (740, 500),
        (1_400, 1_000),
        (3_200, 2_000),
        (7_400, 5_000),
        (12_400, 10_000),
        (17_250, 15_000),
        (23_000, 20_000),
        (42_000, 30_000),
        (85_000, 60_000),
        (200_000, 120_000),
        (420_000, 300_000),
        (720_000, 600_000),
        (1_000_000, 900_000),
        (1_250_000, 1_200_000),
        (2_500_000, 1_800_000),
        (5_200_000, 3_600_000),
        (8_500_000, 7_200_000),
        (15_000_000, 10_800_000),
        (30_000_000, 21_600_000),
        (85_000_000, 43_200_000),
        (150_000_000, 86_400_000),
        (600_000_000, 86_400_000),
        (1_500_000_000, 604_800_000),
        (3_500_000_000, 2_592_000_000),
        (40_000_000_000, 31_536_000_000),
    ],
)
def test_intervals_round_down_grafanas_ladder(ms: int, rounded: int) -> None:
    assert macros.round_interval(ms) == rounded


@pytest.mark.parametrize(
    ("ms", "text"),
    # [gtime] TestFormatInterval: 61s -> 1m, 30ms, 23h, 24h -> 1d, 367d -> 1y; [domain] 90 s -> 1m
    [(61_000, "1m"), (30, "30ms"), (23 * 3_600_000, "23h"), (86_400_000, "1d"),
     (367 * 86_400_000, "1y"), (90_000, "1m")],
)  # fmt: skip
def test_interval_text_is_the_largest_whole_unit(ms: int, text: str) -> None:
    assert macros.format_interval(ms) == text
    assert macros.seconds_to_hms(ms / 1000) == text


def test_a_month_over_1000_points_is_a_30_minute_interval() -> None:
    # 31 days / 1000 = 2,678,400 ms, under 2,700,000: [rangeutil] rounds it to 30m
    start = dt.datetime(2026, 1, 1, tzinfo=UTC)
    got = macros.calculate_interval(start, start + dt.timedelta(days=31), 1000)
    assert got == Interval(1_800_000, "30m")


def test_the_min_interval_raises_a_shorter_interval() -> None:
    got = macros.calculate_interval(FROM, TO, 1000, "1m")
    assert got == Interval(60_000, "1m")


# --- SQL macros: [pgmacros] TestMacroEngine and the [docs-pg] macro table -------------------


@pytest.mark.parametrize(
    ("query", "expanded"),
    [
        ("select $__time(time_column)", 'select time_column AS "time"'),
        ("select min($__time(time_column))", 'select min(time_column AS "time")'),
        (
            "WHERE $__timeFilter(time_column)",
            "WHERE time_column BETWEEN '2018-04-12T18:00:00Z' AND '2018-04-12T18:05:00Z'",
        ),
        ("select $__timeFrom()", "select '2018-04-12T18:00:00Z'"),
        ("select $__timeTo()", "select '2018-04-12T18:05:00Z'"),
        (
            "SELECT $__timeGroup(time_column,'5m'), value",
            'SELECT floor(extract(epoch from time_column)/300)*300 AS "time", value',
        ),
        (
            "SELECT $__timeGroup(time_column,'5m') as time, value",
            "SELECT floor(extract(epoch from time_column)/300)*300 as time, value",
        ),
        (
            "SELECT $__timeGroup(time_column,'5m')",
            "SELECT floor(extract(epoch from time_column)/300)*300",
        ),
        (
            "SELECT $__timeGroupAlias(time_column,'5m')",
            'SELECT floor(extract(epoch from time_column)/300)*300 AS "time"',
        ),
        ("$__timeGroup(time_column , '5m')", "floor(extract(epoch from time_column)/300)*300"),
        ("select $__unixEpochFilter(time)", "select time >= 1523556000 AND time <= 1523556300"),
        (
            "select $__unixEpochNanoFilter(time)",
            "select time >= 1523556000000000000 AND time <= 1523556300000000000",
        ),
        ("select $__unixEpochNanoFrom()", "select 1523556000000000000"),
        (
            "SELECT $__unixEpochGroupAlias(time_column+time_adjustment,'5m')",
            'SELECT floor((time_column+time_adjustment)/300)*300 AS "time"',
        ),
        ("select $__timeEpoch(t)", 'select extract(epoch from t) as "time"'),
    ],
)  # fmt: skip
def test_sql_macros_expand_like_grafanas_postgres_backend(query: str, expanded: str) -> None:
    assert sql(query) == expanded


def test_sql_time_filter_keeps_fractions_of_a_second_as_go_prints_them() -> None:
    # [pgmacros] "1960-02-01T07:00:00.5Z": RFC3339Nano drops trailing zeros
    start = dt.datetime(1960, 2, 1, 7, 0, 0, 500_000, tzinfo=UTC)
    end = dt.datetime(1980, 2, 3, 8, 0, 0, 500_000, tzinfo=UTC)
    got = macros.sql_backend("WHERE $__timeFilter(c)", start=start, end=end, interval_ms=1)
    assert got.sql == "WHERE c BETWEEN '1960-02-01T07:00:00.5Z' AND '1980-02-03T08:00:00.5Z'"


def test_sql_interval_macros_are_the_request_interval() -> None:
    # [pgmacros] TestInterpolateSQLCommenter: Interval 10m -> "SELECT 10m"
    assert sql("SELECT $__interval, $__interval_ms", interval_ms=600_000) == "SELECT 10m, 600000"


def test_sql_group_by_the_interval_uses_the_browsers_interval_text() -> None:
    variables: dict[str, Variable] = {}
    got = macros.expand_sql(
        "SELECT $__timeGroupAlias(opened_at, $__interval), count(*)",
        variables=variables,
        start=FROM,
        end=TO,
        interval=Interval(86_400_000, "1d"),
    )
    assert got.sql == 'SELECT floor(extract(epoch from opened_at)/86400)*86400 AS "time", count(*)'


def test_a_fill_argument_asks_the_backend_to_fill_missing_buckets() -> None:
    got = macros.sql_backend("$__timeGroup(t, '1h', 0)", start=FROM, end=TO, interval_ms=1)
    assert got.fill == macros.Fill(3600.0, "value", 0.0)
    with pytest.raises(MacroError, match="error parsing fill value zero"):
        macros.sql_backend("$__timeGroup(t, '1h', zero)", start=FROM, end=TO, interval_ms=1)


def test_an_unknown_sql_macro_is_an_error_as_in_grafana() -> None:
    with pytest.raises(MacroError, match='unknown macro "__timeFilterr"'):
        sql("WHERE $__timeFilterr(t)")


def test_go_prints_large_seconds_in_exponent_form() -> None:
    # fmt %v of a float64: 30 days in seconds is 2.592e+06, which PostgreSQL reads as a number
    assert macros.go_float(2_592_000.0) == "2.592e+06"
    assert macros.go_float(604_800.0) == "604800"
    assert macros.go_float(0.02) == "0.02"


def test_calendar_intervals_are_measured_from_now_like_gtime() -> None:
    # [gtime] TestParseInterval: 1d is 24 h, 1w 168 h, 1M the days of the month from now
    now = dt.datetime(2026, 2, 10, tzinfo=UTC)
    assert macros.parse_interval("1d", now=now) == 86_400
    assert macros.parse_interval("2w", now=now) == 2 * 168 * 3600
    assert macros.parse_interval("1M", now=now) == 28 * 86_400
    assert macros.parse_interval("1h30m") == 5_400


# --- InfluxQL ---------------------------------------------------------------------------------


def test_influxql_time_filter_and_intervals_expand_like_grafanas_influx_backend() -> None:
    # [domain]: $timeFilter -> time >= {from}ms and time <= {to}ms; 90 s -> 1m
    got = macros.influxql_backend(
        "SELECT mean(value) FROM r WHERE $timeFilter GROUP BY time($__interval) -- $__interval_ms",
        start=FROM,
        end=TO,
        interval_ms=90_000,
    )
    assert got == (
        "SELECT mean(value) FROM r WHERE time >= 1523556000000ms and time <= 1523556300000ms "
        "GROUP BY time(1m) -- 90000"
    )


BUILDING = Variable(
    "building",
    "custom",
    [ALL_VALUE],
    multi=True,
    include_all=True,
    options=("bldg-a", "bldg.b"),
)


def test_all_of_a_multi_value_variable_becomes_an_escaped_alternation_in_a_regex() -> None:
    # [domain] a multi-value variable inside =~ /…/ becomes (v1|v2), regex characters escaped
    query = 'SELECT v FROM r WHERE "building" =~ /^$building$/ AND $timeFilter'
    got = macros.expand_influxql(
        query, variables={"building": BUILDING}, start=FROM, end=TO, interval=Interval(1, "1ms")
    )
    assert '"building" =~ /^(bldg-a|bldg\\.b)$/' in got


def test_one_chosen_value_keeps_its_parentheses_only_without_an_explicit_format() -> None:
    # interpolateQueryExpr wraps any array of a multi-value variable; the regex format does not
    var = Variable("building", "custom", ["bldg-a"], multi=True, include_all=True)
    query = "WHERE building =~ /^$building$/ OR building =~ /^${building:regex}$/"
    got = macros.interpolate(query, {"building": var}, fmt=macros.influx_query_expr(query))
    assert got == "WHERE building =~ /^(bldg-a)$/ OR building =~ /^bldg-a$/"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # [influxds] interpolateQueryExpr tests
        ("my query $tempVar", "normalValue"),
        ("select atan(z/sqrt(3.14)), that where path =~ /$tempVar/", "\\/special\\/path"),
        ("select atan(z/sqrt(3.14)), that where path !~ /^$tempVar$/", "\\/special\\/path"),
    ],
)
def test_a_single_value_is_escaped_only_where_the_query_uses_it_in_a_regex(
    query: str, expected: str
) -> None:
    var = Variable("tempVar", "custom", "normalValue" if "my query" in query else "/special/path")
    assert macros.influx_query_expr(query)(var.value(), var) == expected


def test_a_number_is_never_escaped_by_the_influx_plugin() -> None:
    var = Variable("n", "custom", "10.5", multi=True)
    assert macros.influx_query_expr("x =~ /$n/")(var.value(), var) == "10.5"


@pytest.mark.parametrize(
    ("fmt", "value", "expected"),
    [
        # [scenes] formatRegistry.test.ts
        ("regex", "test.", "test\\."),
        ("regex", ["test."], "test\\."),
        ("regex", ["test.", "test2"], "(test\\.|test2)"),
        ("sqlstring", "test'value", "'test''value'"),
        ("sqlstring", ["test", "test'value2"], "'test','test''value2'"),
        ("csv", ["test", "test2"], "test,test2"),
        ("raw", '#Æ³ ̇¹"Ä1"#!"#!½', '#Æ³ ̇¹"Ä1"#!"#!½'),
        ("pipe", ["test", "test2"], "test|test2"),
        ("glob", ["AA", "BB", "C.*"], "{AA,BB,C.*}"),
        ("distributed", ["test", "test2"], "test,server=test2"),
        ("singlequote", ["test", "test'2"], "'test','test\\'2'"),
        ("doublequote", ["test", 'test"2'], '"test","test\\"2"'),
        ("percentencode", ["foo()bar BAZ", "test2"], "%7Bfoo%28%29bar%20BAZ%2Ctest2%7D"),
        ("queryparam", "helloAZ%=", "var-server=helloAZ%25%3D"),
        ("date:seconds", "1594671549254", "1594671549"),
        ("date:iso", "1594671549254", "2020-07-13T20:19:09.254Z"),
    ],
)
def test_explicit_formats_follow_grafanas_format_registry(
    fmt: str, value: str | list[str], expected: str
) -> None:
    var = Variable("server", "custom", value, multi=isinstance(value, list))
    assert macros.interpolate("${server:" + fmt + "}", {"server": var}) == expected


def test_every_variable_syntax_is_replaced() -> None:
    # [docs] Variable syntax: $varname, ${var_name}, ${var_name:format}, [[varname]]
    var = Variable("building", "custom", "bldg-a")
    text = "$building ${building} [[building]] ${building:csv}"
    got = macros.interpolate(text, {"building": var})
    assert got == "bldg-a bldg-a bldg-a bldg-a"


def test_unknown_variables_are_left_alone() -> None:
    assert macros.interpolate("$timeFilter and ${nope}", {}) == "$timeFilter and ${nope}"


def test_a_custom_all_value_is_inserted_raw() -> None:
    # [domain] a custom "All" value is inserted raw, whatever the format
    var = Variable("b", "custom", ALL_VALUE, multi=True, include_all=True, all_value=".*",
                   options=("x",))  # fmt: skip
    assert macros.interpolate("/^${b:regex}$/ $b", {"b": var}) == "/^.*$/ .*"


def test_sql_default_format_quotes_multi_value_variables() -> None:
    var = Variable("b", "custom", ["a", "o'b"], multi=True)
    got = macros.interpolate("IN ($b)", {"b": var}, fmt=macros.sql_interpolate_variable)
    assert got == "IN ('a','o''b')"
    single = Variable("s", "custom", "it's")
    assert macros.interpolate("'$s'", {"s": single}, fmt=macros.sql_interpolate_variable) == (
        "'it''s'"
    )


# --- dashboard variables ----------------------------------------------------------------------

DASHBOARD = {
    "templating": {
        "list": [
            {
                "name": "building",
                "type": "custom",
                "multi": True,
                "includeAll": True,
                "query": "Building A : bldg-a,Building B : bldg-b",
            },
            {"name": "one", "type": "custom", "query": "x,y\\,z", "current": {"value": "y,z"}},
            {"name": "plantroom_url", "type": "constant", "query": "http://app:8080"},
        ]
    }
}


def test_variables_default_to_all_their_options_and_constants_to_their_value() -> None:
    v = macros.dashboard_variables(DASHBOARD)
    assert v["building"].value() == ["bldg-a", "bldg-b"]
    assert v["one"].value() == "y,z"
    got = macros.interpolate("${plantroom_url}/ui ${building:sqlstring} ${building:text}", v)
    assert got == "http://app:8080/ui 'bldg-a','bldg-b' All"


def test_chosen_values_replace_the_defaults() -> None:
    v = macros.dashboard_variables(DASHBOARD, {"building": ["bldg-b"]})
    assert macros.interpolate("${building:regex} ${building:text}", v) == "bldg-b Building B"
