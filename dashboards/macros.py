"""Grafana 11.6's expansion of panel queries, re-implemented so that tests can run a panel's
queries against the real servers exactly as Grafana would send them.

A panel query goes through two stages in Grafana, and so it does here:

1. **The browser** (dashboard scenes, ``@grafana/scenes`` sceneInterpolator and formatRegistry;
   ``public/app/features/templating/template_srv.ts`` before scenes) replaces template
   variables (``$var``, ``${var}``, ``[[var]]``, ``${var:format}``) and the scoped variables
   ``$__interval``, ``$__interval_ms``, ``$__from``, ``$__to``. A variable written without a
   format is formatted by the data source's own function: ``interpolateQueryExpr`` of the
   InfluxDB plugin (``public/app/plugins/datasource/influxdb/datasource.ts``) or
   ``interpolateVariable`` of the SQL plugins (``packages/grafana-sql``, ``SqlDatasource.ts``).
   The InfluxDB plugin in InfluxQL mode leaves ``$__interval`` and ``$__interval_ms`` to its
   backend (``applyTemplateVariables`` sets them to their own names).
2. **The backend plugin** expands its macros: InfluxQL's ``$timeFilter``, ``$interval``,
   ``$__interval_ms``, ``$__interval`` (``pkg/tsdb/influxdb/models/query.go``, ``Build``);
   SQL's global ``$__interval_ms``, ``$__interval``, ``$__unixEpochFrom()``,
   ``$__unixEpochTo()`` (``sqleng.Interpolate``) and then PostgreSQL's ``$__name(args)`` macros
   (``pkg/tsdb/grafana-postgresql-datasource/macros.go``).

The interval both stages use is the browser's: ``rangeutil.calculateInterval`` (the time range
over the panel's max data points, rounded by ``roundInterval``, never under the min interval);
the backend formats it with the plugin SDK's ``gtime.FormatInterval``.

Not mirrored: ad hoc filters, query variables (their values come from a server: pass them in
``chosen``), ``${var.field}`` paths, the ``date`` format beyond ``ms``/``seconds``/``iso``,
TimescaleDB's ``time_bucket`` form of ``$__timeGroup``, and the double-quote escaping of
``sqlstring`` found in later ``@grafana/scenes`` releases (values here carry no quotes).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from config.units import go_duration

#: The value of an "All" choice (``ALL_VARIABLE_VALUE``).
ALL_VALUE = "$__all"
#: Its text (``ALL_VARIABLE_TEXT``).
ALL_TEXT = "All"

Value = str | int | float | list[str]
#: A data source's format function: (value, variable) -> text.
FormatFn = Callable[[Value, "Variable"], str]


class MacroError(ValueError):
    """A query Grafana would refuse to expand (the message is Grafana's where it has one)."""


# --- interval ---------------------------------------------------------------------------------

#: ``rangeutil.roundInterval``: (below this many ms, round to this many ms), in order.
_LADDER: tuple[tuple[int, int], ...] = (
    (10, 1),
    (15, 10),
    (35, 20),
    (75, 50),
    (150, 100),
    (350, 200),
    (750, 500),
    (1_500, 1_000),
    (3_500, 2_000),
    (7_500, 5_000),
    (12_500, 10_000),
    (17_500, 15_000),
    (25_000, 20_000),
    (45_000, 30_000),
    (90_000, 60_000),
    (210_000, 120_000),
    (450_000, 300_000),
    (750_000, 600_000),
    (1_050_000, 900_000),
    (1_500_000, 1_200_000),
    (2_700_000, 1_800_000),
    (5_400_000, 3_600_000),
    (9_000_000, 7_200_000),
    (16_200_000, 10_800_000),
    (32_400_000, 21_600_000),
    (86_400_000, 43_200_000),
    (604_800_000, 86_400_000),
    (1_814_400_000, 604_800_000),
    (3_628_800_000, 2_592_000_000),
)
_YEAR_MS = 31_536_000_000

_UNIT_SECONDS = {
    "y": 31_536_000,
    "M": 2_592_000,
    "w": 604_800,
    "d": 86_400,
    "h": 3_600,
    "m": 60,
    "s": 1,
    "ms": 0.001,
}
_INTERVAL_RE = re.compile(r"^(-?\d+(?:\.\d+)?)(ms|[Mwdhmsy])")


def round_interval(ms: float) -> int:
    """``rangeutil.roundInterval``: an interval in ms rounded down the ladder (…30s, 1m, 2m,
    5m…): 85 s -> 1 m, 90 s -> 2 m."""
    for below, rounded in _LADDER:
        if ms < below:
            return rounded
    return _YEAR_MS


def interval_to_ms(text: str) -> float:
    """``rangeutil.intervalToMs``: "10s" -> 10000, "1m" -> 60000, a bare number is seconds."""
    try:
        number = float(text)
    except ValueError:
        number = 0.0
    if number:
        return int(number) * 1000.0
    m = _INTERVAL_RE.match(text)
    if not m:
        raise MacroError(
            "Invalid interval string, has to be either unit-less or end with one of the "
            f'following units: "{", ".join(_UNIT_SECONDS)}"'
        )
    return _UNIT_SECONDS[m.group(2)] * 1000 * int(float(m.group(1)))


def seconds_to_hms(seconds: float) -> str:
    """``rangeutil.secondsToHms``: the largest whole unit, truncated (90 s -> "1m")."""
    years = math.floor(seconds / 31_536_000)
    if years:
        return f"{years}y"
    days = math.floor((seconds % 31_536_000) / 86_400)
    if days:
        return f"{days}d"
    hours = math.floor((seconds % 31_536_000 % 86_400) / 3_600)
    if hours:
        return f"{hours}h"
    minutes = math.floor((seconds % 31_536_000 % 86_400 % 3_600) / 60)
    if minutes:
        return f"{minutes}m"
    secs = math.floor(seconds % 31_536_000 % 86_400 % 3_600 % 60)
    if secs:
        return f"{secs}s"
    millis = math.floor(seconds * 1000.0)
    if millis:
        return f"{millis}ms"
    return "less than a millisecond"


def format_interval(ms: int) -> str:
    """The plugin SDK's ``gtime.FormatInterval`` (what the backends put for ``$__interval``):
    the largest whole unit, truncated; "1ms" under a millisecond."""
    for unit_ms, unit in (
        (_YEAR_MS, "y"),
        (86_400_000, "d"),
        (3_600_000, "h"),
        (60_000, "m"),
        (1_000, "s"),
        (1, "ms"),
    ):
        if ms >= unit_ms:
            return f"{ms // unit_ms}{unit}"
    return "1ms"


@dataclass(frozen=True)
class Interval:
    """A panel request's interval: ``intervalMs`` and its text (``$__interval``)."""

    ms: int
    text: str


def calculate_interval(
    start: dt.datetime, end: dt.datetime, max_data_points: int, min_interval: str | None = None
) -> Interval:
    """``rangeutil.calculateInterval``: (end - start) / max data points, rounded by
    round_interval, raised to `min_interval` (the panel's "Min interval", else the data
    source's "Min time interval") when under it."""
    low = interval_to_ms(min_interval) if min_interval else 1
    span_ms = (_epoch_ms(end) - _epoch_ms(start)) / max_data_points
    ms = round_interval(span_ms)
    if low > ms:
        ms = int(low)
    return Interval(ms, seconds_to_hms(ms / 1000))


def _epoch_ms(t: dt.datetime) -> int:
    if t.tzinfo is None:
        raise MacroError(f"time {t.isoformat()} has no time zone")
    return int((t - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(milliseconds=1))


# --- dashboard variables ----------------------------------------------------------------------


@dataclass(frozen=True)
class Variable:
    """A dashboard variable with its current value (a list for a multi-value choice, ALL_VALUE
    for "All")."""

    name: str
    type: str
    current: str | list[str]
    multi: bool = False
    include_all: bool = False
    all_value: str | None = None
    options: tuple[str, ...] = ()
    texts: Mapping[str, str] = field(default_factory=dict)

    def is_all(self) -> bool:
        """Whether "All" is chosen (``isAllValue``)."""
        c = self.current
        return c == ALL_VALUE or (isinstance(c, list) and bool(c) and c[0] == ALL_VALUE)

    def value(self) -> Value:
        """What formats see (``getAllValue`` for "All" without a custom all value)."""
        if self.is_all():
            if self.all_value:
                return self.all_value
            return list(self.options)
        return self.current

    def text(self) -> str:
        """The ``text`` format: option texts joined with " + " (ALL_TEXT for All)."""
        if self.is_all():
            return ALL_TEXT
        values = self.current if isinstance(self.current, list) else [self.current]
        return " + ".join(self.texts.get(v, v) for v in values)


_CUSTOM_OPTION = re.compile(r"^\s*(.+)\s:\s(.+)$", re.DOTALL)
_CUSTOM_SPLIT = re.compile(r"(?:\\,|[^,])+")


def custom_options(query: str) -> list[tuple[str, str]]:
    """A custom variable's (text, value) options from its query, as Grafana parses it: comma
    separated (``\\,`` escapes a comma), each either ``value`` or ``text : value``."""
    out = []
    for part in _CUSTOM_SPLIT.findall(query):
        part = part.replace("\\,", ",")
        m = _CUSTOM_OPTION.match(part)
        if m:
            out.append((m.group(1).strip(), m.group(2).strip()))
        else:
            out.append((part.strip(), part.strip()))
    return out


def dashboard_variables(
    dashboard: Mapping[str, Any], chosen: Mapping[str, str | Sequence[str]] | None = None
) -> dict[str, Variable]:
    """The value map of a dashboard's variables (``templating.list``): `chosen` values where
    given (a value, a list of values, or ALL_VALUE), else "All" for a variable that includes
    it, else the saved current value if it is an option, else the first option. Custom
    options come from the query, as Grafana recomputes them; constants and text boxes take
    their query. Other types (query, data source...) need a chosen value."""
    chosen = chosen or {}
    out: dict[str, Variable] = {}
    for v in dashboard.get("templating", {}).get("list", []):
        name, kind = v["name"], v.get("type", "")
        pick = chosen.get(name)
        multi, include_all = bool(v.get("multi")), bool(v.get("includeAll"))
        all_value = v.get("allValue") or None
        if kind == "custom":
            pairs = custom_options(v.get("query", ""))
            values = tuple(value for _, value in pairs)
            texts = {value: text for text, value in pairs}
            current: str | list[str]
            if pick is not None:
                current = pick if isinstance(pick, str) else list(pick)
            elif include_all:
                current = [ALL_VALUE] if multi else ALL_VALUE
            else:
                saved = (v.get("current") or {}).get("value")
                saved_list = saved if isinstance(saved, list) else [saved]
                if saved is not None and all(s in values for s in saved_list):
                    current = saved
                elif values:
                    current = [values[0]] if multi else values[0]
                else:
                    current = ""
            out[name] = Variable(name, kind, current, multi, include_all, all_value, values, texts)
        elif kind in ("constant", "textbox"):
            value = v.get("query", "") if pick is None else pick
            out[name] = Variable(name, kind, value if isinstance(value, str) else list(value))
        else:
            if pick is None:
                raise MacroError(
                    f"variable {name!r} is a {kind!r} variable: its values come from a server; "
                    "give them in `chosen`"
                )
            out[name] = Variable(
                name,
                kind,
                pick if isinstance(pick, str) else list(pick),
                multi,
                include_all,
                all_value,
            )
    return out


# --- the browser's interpolation --------------------------------------------------------------

#: ``VARIABLE_REGEX`` of @grafana/scenes (``variableRegex`` of Grafana before it).
VARIABLE_REGEX = re.compile(
    r"\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^\}]+))?(?::([^\}]+))?\}", re.ASCII
)
_REGEX_SPECIAL = re.compile(r"[\\^$*+?.()|\[\]{}/]")


def escape_regex(value: str) -> str:
    """``escapeRegex`` of @grafana/data: backslash before ``\\^$*+?.()|[]{}/``."""
    return _REGEX_SPECIAL.sub(lambda m: "\\" + m.group(0), value)


def _js_string(value: Value) -> str:
    """``String(value)`` in JavaScript (arrays join with commas)."""
    if isinstance(value, list):
        return ",".join(_js_string(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _percent_encode(value: str) -> str:
    """``encodeURIComponent`` plus the sub-delims ``!'()*`` (encodeURIComponentStrict)."""
    return urllib.parse.quote(value, safe="-_.~")


def _fmt_regex(value: Value, args: list[str], var: Variable) -> str:
    if isinstance(value, list):
        escaped = [escape_regex(_js_string(v)) for v in value]
        return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"
    return escape_regex(_js_string(value))


def _fmt_sqlstring(value: Value, args: list[str], var: Variable) -> str:
    def quote(v: Value) -> str:
        return "'" + _js_string(v).replace("'", "''") + "'"

    if isinstance(value, list):
        return ",".join(quote(v) for v in value)
    return quote(value)


def _fmt_glob(value: Value, args: list[str], var: Variable) -> str:
    if isinstance(value, list) and len(value) > 1:
        return "{" + ",".join(value) + "}"
    return _js_string(value)


def _fmt_join(sep: str) -> Callable[[Value, list[str], Variable], str]:
    def fmt(value: Value, args: list[str], var: Variable) -> str:
        return sep.join(value) if isinstance(value, list) else _js_string(value)

    return fmt


def _fmt_quote(q: str) -> Callable[[Value, list[str], Variable], str]:
    def one(v: Value) -> str:
        return q + _js_string(v).replace(q, "\\" + q) + q

    def fmt(value: Value, args: list[str], var: Variable) -> str:
        if isinstance(value, list):
            return ",".join(one(v) for v in value)
        return one(value)

    return fmt


def _fmt_distributed(value: Value, args: list[str], var: Variable) -> str:
    if isinstance(value, list):
        return ",".join(v if i == 0 else f"{var.name}={v}" for i, v in enumerate(value))
    return _js_string(value)


def _fmt_json(value: Value, args: list[str], var: Variable) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _fmt_percentencode(value: Value, args: list[str], var: Variable) -> str:
    if isinstance(value, list):
        return _percent_encode("{" + ",".join(value) + "}")
    return _percent_encode(_js_string(value))


def _fmt_queryparam(value: Value, args: list[str], var: Variable) -> str:
    values = value if isinstance(value, list) else [value]
    return "&".join(f"var-{var.name}={_percent_encode(_js_string(v))}" for v in values)


def _fmt_text(value: Value, args: list[str], var: Variable) -> str:
    return var.text() if var.type else _js_string(value)


def _fmt_date(value: Value, args: list[str], var: Variable) -> str:
    try:
        ms = int(_js_string(value))
    except ValueError:
        return "NaN"
    arg = args[0] if args else "iso"
    if arg == "ms":
        return _js_string(value)
    if arg == "seconds":
        return str(round(ms / 1000))
    if arg == "iso":
        t = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(milliseconds=ms)
        return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"
    raise MacroError(f"date format {':'.join(args)!r} is not mirrored here")


#: formatRegistry of @grafana/scenes: the ``${var:format}`` formats.
FORMATS: dict[str, Callable[[Value, list[str], Variable], str]] = {
    "raw": lambda value, args, var: _js_string(value),
    "regex": _fmt_regex,
    "pipe": _fmt_join("|"),
    "distributed": _fmt_distributed,
    "csv": _fmt_join(","),
    "json": _fmt_json,
    "percentencode": _fmt_percentencode,
    "singlequote": _fmt_quote("'"),
    "doublequote": _fmt_quote('"'),
    "sqlstring": _fmt_sqlstring,
    "date": _fmt_date,
    "glob": _fmt_glob,
    "text": _fmt_text,
    "queryparam": _fmt_queryparam,
}


def _format(var: Variable, fmt: str | FormatFn | None) -> str:
    """sceneInterpolator's formatValue for one variable."""
    if var.is_all() and var.all_value:
        # CustomAllValue: inserted as it is, but for the text and URL formats
        if fmt == "text":
            return ALL_TEXT
        if fmt == "percentencode":
            return _fmt_percentencode(var.all_value, [], var)
        if fmt == "queryparam":
            return _fmt_queryparam(ALL_TEXT, [], var)
        return var.all_value
    value = var.value()
    if callable(fmt):
        return fmt(value, var)
    name, args = "glob", []
    if fmt:
        name, *args = fmt.split(":")
    formatter = FORMATS.get(name, _fmt_glob)  # an unknown format falls back to glob
    return formatter(value, args, var)


def interpolate(
    text: str,
    variables: Mapping[str, Variable],
    *,
    fmt: str | FormatFn | None = None,
    scoped: Mapping[str, Variable] | None = None,
) -> str:
    """``templateSrv.replace`` (sceneInterpolator): every ``$var``, ``${var}``,
    ``${var:format}`` and ``[[var]]`` of a known variable replaced, scoped variables first;
    unknown ones left as they are. `fmt` formats variables written without a format."""
    scoped = scoped or {}

    def replace(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2) or m.group(4)
        own = m.group(3) or m.group(6)
        var = scoped.get(name) or variables.get(name)
        if var is None:
            return m.group(0)
        return _format(var, own or fmt)

    return VARIABLE_REGEX.sub(replace, text)


def _scoped(name: str, value: str | int) -> Variable:
    """A scoped variable (``__interval`` and friends), which no data source sees as multi."""
    return Variable(name, "", str(value) if isinstance(value, int) else value)


def time_scoped(start: dt.datetime, end: dt.datetime) -> dict[str, Variable]:
    """The ``__from`` and ``__to`` macros: epoch milliseconds (``${__from:date:iso}`` ...)."""
    return {"__from": _scoped("__from", _epoch_ms(start)), "__to": _scoped("__to", _epoch_ms(end))}


_JS_FLOAT = re.compile(
    r"^\s*[+-]?(?:Infinity|\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)", re.ASCII
)
_INFLUX_REGEX_LITERAL = re.compile(
    r"(\s*(=|!)~\s*)\/((?![*+?])(?:[^\r\n\[/\\]|\\.|\[(?:[^\r\n\]\\]|\\.)*\])+)\/"
    r"((?:g(?:im?|mi?)?|i(?:gm?|mg?)?|m(?:gi?|ig?)?)?)"
)


def influx_query_expr(query: str) -> FormatFn:
    """The InfluxDB plugin's ``interpolateQueryExpr`` for `query`: a number as it is; a
    multi-value variable regex-escaped, several values as ``(v1|v2)``; a single-value one
    regex-escaped only where the query uses it inside ``=~ /…/`` or ``!~ /…/``."""

    def escaped(value: Value) -> str:
        if isinstance(value, list):
            return "(" + "|".join(escape_regex(v) for v in value) + ")"
        return escape_regex(_js_string(value))

    def fmt(value: Value, var: Variable) -> str:
        if isinstance(value, str) and _JS_FLOAT.match(value):
            return value
        if var.multi:
            return escaped(value)
        inside = re.compile(r"\/(?:\^)?(.*)(\$" + var.name + r")(.*)(?:\$)?\/")
        for literal in _INFLUX_REGEX_LITERAL.finditer(query):
            if inside.search(literal.group(0)):
                return escaped(value)
        return _js_string(value)

    return fmt


def sql_interpolate_variable(value: Value, var: Variable) -> str:
    """The SQL plugins' ``interpolateVariable``: a multi-value or include-All variable's
    values quoted (``'a','b'``, quotes doubled); a single value's quotes doubled, unquoted."""
    if isinstance(value, str):
        if var.multi or var.include_all:
            return "'" + value.replace("'", "''") + "'"
        return value.replace("'", "''")
    if isinstance(value, int | float):
        return _js_string(value)
    return ",".join("'" + _js_string(v).replace("'", "''") + "'" for v in value)


# --- InfluxQL ---------------------------------------------------------------------------------


def influxql_backend(query: str, *, start: dt.datetime, end: dt.datetime, interval_ms: int) -> str:
    """The InfluxDB backend's ``Build`` for a raw query: ``$timeFilter`` -> ``time >= {from}ms
    and time <= {to}ms``, then ``$interval``, ``$__interval_ms`` and ``$__interval`` (the
    interval is at least 1 ms)."""
    ms = max(interval_ms, 1)
    text = format_interval(ms)
    query = query.replace(
        "$timeFilter", f"time >= {_epoch_ms(start)}ms and time <= {_epoch_ms(end)}ms"
    )
    query = query.replace("$interval", text)
    query = query.replace("$__interval_ms", str(ms))
    return query.replace("$__interval", text)


def expand_influxql(
    query: str,
    *,
    variables: Mapping[str, Variable],
    start: dt.datetime,
    end: dt.datetime,
    interval: Interval,
) -> str:
    """A raw InfluxQL target as Grafana 11.6 sends it to InfluxDB: the browser's variables
    (influx_query_expr for those without a format), then the backend's macros."""
    scoped = {
        "__interval": _scoped("__interval", "$__interval"),
        "__interval_ms": _scoped("__interval_ms", "$__interval_ms"),
        **time_scoped(start, end),
    }
    browser = interpolate(query, variables, fmt=influx_query_expr(query), scoped=scoped)
    return influxql_backend(browser, start=start, end=end, interval_ms=interval.ms)


# --- SQL (grafana-postgresql-datasource) ------------------------------------------------------

_MACRO = re.compile(r"\$([_a-zA-Z0-9]+)\(([^\)]*)\)")
_DATE_UNIT = re.compile(r"^(\d+)([dwMy])$")


def _add_months(t: dt.datetime, months: int) -> dt.datetime:
    """Go's ``AddDate(0, months, 0)``: the day overflows into the next month (Jan 31 + 1 month
    is Mar 3), as Go normalises dates."""
    y, m = divmod(t.month - 1 + months, 12)
    first = t.replace(year=t.year + y, month=m + 1, day=1)
    return first + dt.timedelta(days=t.day - 1)


def parse_interval(text: str, *, now: dt.datetime | None = None) -> float:
    """The plugin SDK's ``gtime.ParseInterval``, in seconds: a Go duration ("5m", "1h30m",
    "500ms") or N d/w/M/y measured from now (UTC), as Grafana does."""
    m = _DATE_UNIT.match(text)
    if m:
        n, unit = int(m.group(1)), m.group(2)
        t = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
        if unit == "d":
            later = t + dt.timedelta(days=n)
        elif unit == "w":
            later = t + dt.timedelta(days=7 * n)
        elif unit == "M":
            later = _add_months(t, n)
        else:
            later = _add_months(t, 12 * n)
        return (later - t).total_seconds()
    if text in ("0", "+0", "-0"):
        return 0.0
    body = text.lstrip("+-")
    sign = -1.0 if text.startswith("-") else 1.0
    total = go_duration(body)
    if total is None:
        raise MacroError(f'time: invalid duration "{text}"')
    return sign * total


def go_float(v: float) -> str:
    """Go's ``%v`` of a float64: the shortest digits, in exponent form from 1e+06 (and under
    1e-04): 300 -> "300", 2592000 -> "2.592e+06"."""
    if v == 0:
        return "0"
    d = Decimal(repr(v))
    sign, digits, exponent = d.as_tuple()
    assert isinstance(exponent, int)
    ds = "".join(map(str, digits)).rstrip("0") or "0"
    exp = len(digits) + exponent - 1
    prefix = "-" if sign else ""
    if exp < -4 or exp >= 6:
        mantissa = ds[0] + ("." + ds[1:] if len(ds) > 1 else "")
        return f"{prefix}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if exp < 0:
        return f"{prefix}0.{'0' * (-exp - 1)}{ds}"
    if len(ds) <= exp + 1:
        return prefix + ds + "0" * (exp + 1 - len(ds))
    return f"{prefix}{ds[: exp + 1]}.{ds[exp + 1 :]}"


def rfc3339_nano(t: dt.datetime) -> str:
    """Go's ``t.UTC().Format(time.RFC3339Nano)``: no fraction when whole seconds, trailing
    zeros dropped otherwise."""
    u = t.astimezone(dt.UTC)
    out = u.strftime("%Y-%m-%dT%H:%M:%S")
    if u.microsecond:
        out += "." + f"{u.microsecond:06d}".rstrip("0")
    return out + "Z"


@dataclass(frozen=True)
class Fill:
    """A ``$__timeGroup`` fill argument: the backend fills missing buckets of a time series."""

    interval_seconds: float
    mode: Literal["null", "previous", "value"]
    value: float = 0.0


@dataclass(frozen=True)
class ExpandedSQL:
    """SQL as the PostgreSQL backend sends it, and the fill its macros asked for."""

    sql: str
    fill: Fill | None = None


def _fill(interval: float, arg: str) -> Fill:
    if arg == "NULL":
        return Fill(interval, "null")
    if arg == "previous":
        return Fill(interval, "previous")
    try:
        return Fill(interval, "value", float(arg))
    except ValueError:
        raise MacroError(f"error parsing fill value {arg}") from None


def sql_backend(
    sql: str,
    *,
    start: dt.datetime,
    end: dt.datetime,
    interval_ms: int,
    now: dt.datetime | None = None,
) -> ExpandedSQL:
    """``sqleng.Interpolate`` then the PostgreSQL macro engine (``$__time``,
    ``$__timeEpoch``, ``$__timeFilter``, ``$__timeFrom``, ``$__timeTo``, ``$__timeGroup``,
    ``$__timeGroupAlias``, ``$__unixEpochFilter``, ``$__unixEpochNanoFilter``,
    ``$__unixEpochNanoFrom``, ``$__unixEpochNanoTo``, ``$__unixEpochGroup``,
    ``$__unixEpochGroupAlias``); an unknown macro is an error, as in Grafana."""
    sql = sql.replace("$__interval_ms", str(interval_ms))
    sql = sql.replace("$__interval", format_interval(interval_ms))
    from_s, to_s = _epoch_ms(start) // 1000, _epoch_ms(end) // 1000
    sql = sql.replace("$__unixEpochFrom()", str(from_s))
    sql = sql.replace("$__unixEpochTo()", str(to_s))
    original = sql
    fills: list[Fill] = []
    from_ns = _epoch_ms(start) * 1_000_000 + start.microsecond % 1000 * 1000
    to_ns = _epoch_ms(end) * 1_000_000 + end.microsecond % 1000 * 1000

    def group(args: list[str], name: str) -> float:
        if len(args) < 2:
            raise MacroError(f"macro {name} needs time column and interval and optional fill value")
        try:
            seconds = parse_interval(args[1].strip("'"), now=now)
        except MacroError:
            raise MacroError(f"error parsing interval {args[1]}") from None
        if len(args) == 3:
            fills.append(_fill(seconds, args[2]))
        return seconds

    def evaluate(name: str, args: list[str]) -> str:
        col = args[0] if args else ""
        needs_col = name in (
            "__time",
            "__timeEpoch",
            "__timeFilter",
            "__unixEpochFilter",
            "__unixEpochNanoFilter",
        )
        if needs_col and not args:
            raise MacroError(f"missing time column argument for macro {name}")
        if name == "__time":
            return f'{col} AS "time"'
        if name == "__timeEpoch":
            return f'extract(epoch from {col}) as "time"'
        if name == "__timeFilter":
            return f"{col} BETWEEN '{rfc3339_nano(start)}' AND '{rfc3339_nano(end)}'"
        if name == "__timeFrom":
            return f"'{rfc3339_nano(start)}'"
        if name == "__timeTo":
            return f"'{rfc3339_nano(end)}'"
        if name == "__timeGroup":
            s = go_float(group(args, name))
            return f"floor(extract(epoch from {col})/{s})*{s}"
        if name == "__timeGroupAlias":
            return evaluate("__timeGroup", args) + ' AS "time"'
        if name == "__unixEpochFilter":
            return f"{col} >= {from_s} AND {col} <= {to_s}"
        if name == "__unixEpochNanoFilter":
            return f"{col} >= {from_ns} AND {col} <= {to_ns}"
        if name == "__unixEpochNanoFrom":
            return str(from_ns)
        if name == "__unixEpochNanoTo":
            return str(to_ns)
        if name == "__unixEpochGroup":
            s = go_float(group(args, name))
            return f"floor(({col})/{s})*{s}"
        if name == "__unixEpochGroupAlias":
            return evaluate("__unixEpochGroup", args) + ' AS "time"'
        raise MacroError(f'unknown macro "{name}"')

    def replace(m: re.Match[str]) -> str:
        name = m.group(1)
        if name == "__timeGroup":
            # before Grafana 5.3 $__timeGroup added AS "time": a comma right after the macro
            # (its first occurrence in the query) still means that
            at = original.find(m.group(0))
            if at >= 0 and original[at + len(m.group(0)) : at + len(m.group(0)) + 1] == ",":
                name = "__timeGroupAlias"
        args = [a.strip(" ") for a in m.group(2).split(",")]
        return evaluate(name, args)

    expanded = _MACRO.sub(replace, sql)
    return ExpandedSQL(expanded, fills[-1] if fills else None)


def expand_sql(
    raw_sql: str,
    *,
    variables: Mapping[str, Variable],
    start: dt.datetime,
    end: dt.datetime,
    interval: Interval,
    now: dt.datetime | None = None,
) -> ExpandedSQL:
    """A raw SQL target as Grafana 11.6 sends it to PostgreSQL: the browser's variables
    (sql_interpolate_variable for those without a format, ``$__interval`` as the browser
    writes it), then the backend's macros."""
    scoped = {
        "__interval": _scoped("__interval", interval.text),
        "__interval_ms": _scoped("__interval_ms", interval.ms),
        **time_scoped(start, end),
    }
    browser = interpolate(raw_sql, variables, fmt=sql_interpolate_variable, scoped=scoped)
    return sql_backend(browser, start=start, end=end, interval_ms=interval.ms, now=now)
