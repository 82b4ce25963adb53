"""Pictures of Plantroom's Grafana dashboards for the README, drawn from real query results.

No Grafana can run on the machine these are made on, so this is NOT a Grafana screenshot: each
board is laid out on Grafana's 24-column grid as its JSON says, every panel's queries are run
against a real InfluxDB and PostgreSQL with the macros expanded the way Grafana expands them
(dashboards.runner), and matplotlib draws what came back in a Grafana-like dark theme. Every
picture says so in its header.

    .venv/bin/python scripts/dashboard_pictures.py [--days 365] [--step 15m] [--lang en]
        [--out docs/screenshots/dashboards] [--reuse]

The data is the demo site's simulated past (`plantroom.dashboard_data.load`): readings and
daily energy rollups in a throw-away InfluxDB database, the maintenance history and its monthly
snapshots in a throw-away PostgreSQL database, from the servers the tests use
(PLANTROOM_TEST_INFLUX_URL, PLANTROOM_TEST_DATABASE_URL; `source .ci/services.sh` starts them).
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import sys
import textwrap
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402

from dashboards.runner import Frame, InfluxTarget, PanelQueryError, panels, run_panel  # noqa: E402

BG = "#111217"
PANEL = "#181b1f"
BORDER = "#2c3235"
TEXT = "#ccccdc"
MUTED = "#8e8e8e"
PALETTE = [
    "#73bf69",
    "#f2cc0c",
    "#5794f2",
    "#ff9830",
    "#f2495c",
    "#b877d9",
    "#8ab8ff",
    "#ff780a",
    "#96d98d",
    "#ffcb7d",
    "#ca95e5",
    "#fade2a",
]
COLORS = {
    "green": "#73bf69",
    "red": "#f2495c",
    "orange": "#ff9830",
    "blue": "#5794f2",
    "yellow": "#fade2a",
    "purple": "#b877d9",
    "text": TEXT,
}
#: Grafana's grid: 24 columns; a row unit is 30 px high.
COL_PX, ROW_PX = 80, 30
#: How far back each board looks by default (its JSON's time.from), as a timedelta.
UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "M": 30 * 86400, "y": 365 * 86400}


def _font() -> None:
    """A font with Chinese glyphs, so the zh-CN boards draw their titles."""
    for name in ("WenQuanYi Micro Hei", "Noto Sans CJK SC", "Noto Serif CJK SC"):
        if any(f.name == name for f in font_manager.fontManager.ttflist):
            plt.rcParams["font.family"] = [name, "DejaVu Sans"]
            return


def since(board: Mapping[str, Any], now: dt.datetime) -> dt.datetime:
    """The start of a board's default range (time.from like now-30d)."""
    text = board.get("time", {}).get("from", "now-7d").removeprefix("now-")
    return now - dt.timedelta(seconds=int(text[:-1]) * UNITS[text[-1]])


def _color(name: str | None) -> str:
    return COLORS.get(name or "", name or TEXT)


def _threshold_color(panel: Mapping[str, Any], value: float | None, name: str = "") -> str:
    steps = panel.get("fieldConfig", {}).get("defaults", {}).get("thresholds", {}).get("steps", [])
    for o in panel.get("fieldConfig", {}).get("overrides", []):
        if o.get("matcher", {}).get("id") == "byName" and o["matcher"].get("options") == name:
            for prop in o.get("properties", []):
                if prop.get("id") == "thresholds":
                    steps = prop["value"]["steps"]
    color = "blue"
    for step in steps:
        if step.get("value") is None or (value is not None and value >= step["value"]):
            color = step.get("color", color)
    return _color(color)


def _unit_text(panel: Mapping[str, Any], value: float | None) -> str:
    if value is None:
        return "No data"
    unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit", "")
    decimals = panel.get("fieldConfig", {}).get("defaults", {}).get("decimals")
    if decimals is not None:
        digits = decimals
    else:
        digits = 0 if abs(value) >= 100 or float(value).is_integer() else 1
    number = f"{value:,.{digits}f}"
    if unit == "percent":
        return f"{number} %"
    if unit == "kwatth":
        return f"{number} kWh"
    if unit.startswith("prefix:"):
        return unit.removeprefix("prefix:") + number
    if unit.startswith("suffix:"):
        return f"{number} {unit.removeprefix('suffix:').strip()}"
    if unit in ("h", "amp", "rotrpm"):
        return f"{number} {dict(h='h', amp='A', rotrpm='rpm')[unit]}"
    return number


def _renames(panel: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for o in panel.get("fieldConfig", {}).get("overrides", []):
        if o.get("matcher", {}).get("id") == "byName":
            for prop in o.get("properties", []):
                if prop.get("id") == "displayName":
                    out[o["matcher"]["options"]] = prop["value"]
    return out


def _numbers(frame: Frame) -> list[tuple[str, float | None]]:
    """(label, value) per numeric cell of a one-row table, or per row of a label/value table."""
    cols = list(frame.columns)
    out: list[tuple[str, float | None]] = []
    text_cols = [
        i
        for i, c in enumerate(cols)
        if c != "time" and frame.rows and isinstance(frame.rows[0][i], str)
    ]
    num_cols = [i for i, c in enumerate(cols) if c != "time" and i not in text_cols]
    if text_cols and num_cols:
        for row in frame.rows:
            label = str(row[text_cols[0]])
            for i in num_cols:
                out.append((label if len(num_cols) == 1 else f"{label} {cols[i]}", _f(row[i])))
    else:
        for i in num_cols:
            last = next((r[i] for r in reversed(frame.rows) if r[i] is not None), None)
            named = frame.name not in ("", frame.ref_id) and len(num_cols) == 1
            out.append((frame.name if named else cols[i], _f(last)))
    return out


def _f(v: Any) -> float | None:
    try:
        return None if v is None else float(v)
    except (TypeError, ValueError):
        return None


def draw_stat(ax: Any, panel: Mapping[str, Any], frames: Sequence[Frame]) -> None:
    """Big numbers, background coloured by threshold."""
    ax.axis("off")
    values = [v for f in frames for v in _numbers(f)]
    if not values:
        values = [("", None)]
    renames = _renames(panel)
    values = [(renames.get(label, label), v) for label, v in values]
    n = len(values)
    for i, (label, value) in enumerate(values):
        x0 = i / n
        ax.add_patch(
            plt.Rectangle(
                (x0 + 0.01, 0.02),
                1 / n - 0.02,
                0.96,
                color=_threshold_color(panel, value, label),
                transform=ax.transAxes,
            )
        )
        ax.text(
            x0 + 0.5 / n,
            0.5,
            _unit_text(panel, value),
            ha="center",
            va="center",
            fontsize=22 if n == 1 else 16,
            color="white",
            weight="bold",
            transform=ax.transAxes,
        )
        if n > 1:
            ax.text(
                x0 + 0.5 / n,
                0.16,
                label,
                ha="center",
                va="center",
                fontsize=8,
                color="white",
                transform=ax.transAxes,
            )


def draw_gauges(ax: Any, panel: Mapping[str, Any], frames: Sequence[Frame]) -> None:
    """Horizontal bars, one per row or series."""
    renames = _renames(panel)
    items = [(renames.get(label, label), v) for f in frames for label, v in _numbers(f)]
    items = [(label, v) for label, v in items if v is not None][:14]
    if not items:
        return
    top = max(v for _, v in items) or 1.0
    maximum = panel.get("fieldConfig", {}).get("defaults", {}).get("max") or top
    for i, (label, value) in enumerate(reversed(items)):
        ax.barh(i, value, color=_threshold_color(panel, value), height=0.7)
        ax.text(maximum * 0.005, i, " " + label, fontsize=6.5, color="white", va="center")
        ax.text(  # after the bar, or after the name when the bar is too short to hold it
            max(min(value, maximum), maximum * 0.3),
            i,
            " " + _unit_text(panel, value),
            fontsize=7,
            color=TEXT,
            va="center",
        )
    ax.set_xlim(0, maximum * 1.25)
    ax.set_ylim(-0.6, len(items) - 0.4)
    ax.axis("off")


def draw_series(ax: Any, panel: Mapping[str, Any], frames: Sequence[Frame]) -> None:
    """Lines, or bars per bucket (stacked when the panel stacks)."""
    custom = panel.get("fieldConfig", {}).get("defaults", {}).get("custom", {})
    bars = custom.get("drawStyle") == "bars"
    stacked = custom.get("stacking", {}).get("mode") == "normal"
    renames = _renames(panel)
    series: dict[str, dict[dt.datetime, float]] = defaultdict(dict)
    for f in frames:
        if "time" not in f.columns:
            continue
        ti = f.columns.index("time")
        value_cols = [i for i, c in enumerate(f.columns) if i != ti]
        metric = f.columns.index("metric") if "metric" in f.columns else None
        for row in f.rows:
            for i in value_cols:
                if i == metric:
                    continue
                v = _f(row[i])
                if v is None:
                    continue
                name = str(row[metric]) if metric is not None else (f.name or f.columns[i])
                series[renames.get(name, name)][row[ti]] = v
    if not series:
        return
    times = sorted({t for s in series.values() for t in s})
    bottom = [0.0] * len(times)
    width = (mdates.date2num(times[1]) - mdates.date2num(times[0])) * 0.8 if len(times) > 1 else 1
    n = len(series)
    for k, (name, points) in enumerate(sorted(series.items())):
        color = PALETTE[k % len(PALETTE)]
        ys = [points.get(t, 0.0 if stacked else math.nan) for t in times]
        if bars:
            xs = mdates.date2num(times)
            if not stacked:  # side by side in each bucket, as Grafana draws unstacked bars
                xs = xs + (k - (n - 1) / 2) * width / n
            ax.bar(
                xs,
                ys,
                width=width if stacked else width / n,
                bottom=bottom if stacked else None,
                color=color,
                label=name,
                alpha=0.85,
            )
            if stacked:
                bottom = [
                    b + (y if not math.isnan(y) else 0) for b, y in zip(bottom, ys, strict=True)
                ]
        else:
            ax.plot(times, ys, color=color, label=name, linewidth=1.2)
    ax.xaxis_date()
    locator = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.tick_params(colors=MUTED, labelsize=7)
    ax.grid(color=BORDER, linewidth=0.5)
    for s in ax.spines.values():
        s.set_visible(False)
    if len(series) <= 12:
        ax.legend(
            fontsize=6.5, loc="upper left", ncol=min(4, len(series)), frameon=False, labelcolor=TEXT
        )


def draw_barchart(ax: Any, panel: Mapping[str, Any], frames: Sequence[Frame]) -> None:
    """Categories on x, one bar per numeric column (stacked when the panel stacks)."""
    frame = next((f for f in frames if f.rows), None)
    if frame is None:
        return
    stacked = panel.get("options", {}).get("stacking") == "normal"
    labels = [str(r[0]) for r in frame.rows]
    bottom = [0.0] * len(labels)
    cols = list(frame.columns)[1:]
    width = 0.7 if stacked else 0.7 / max(1, len(cols))
    for k, col in enumerate(cols):
        ys = [_f(r[k + 1]) or 0.0 for r in frame.rows]
        xs = [i + (0 if stacked else (k - (len(cols) - 1) / 2) * width) for i in range(len(labels))]
        ax.bar(
            xs,
            ys,
            width=width,
            bottom=bottom if stacked else None,
            color=PALETTE[k % len(PALETTE)],
            label=col,
        )
        if stacked:
            bottom = [b + y for b, y in zip(bottom, ys, strict=True)]
    ax.set_xticks(range(len(labels)), labels, fontsize=7, color=TEXT)
    ax.tick_params(colors=MUTED, labelsize=7)
    ax.grid(axis="y", color=BORDER, linewidth=0.5)
    for s in ax.spines.values():
        s.set_visible(False)
    if len(cols) > 1:
        ax.legend(fontsize=6.5, frameon=False, labelcolor=TEXT)


def _cell(v: Any) -> str:
    if isinstance(v, dt.datetime):
        return v.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%d %H:%M")
    if isinstance(v, float):
        return f"{v:,.2f}" if abs(v) < 1e6 else f"{v:,.0f}"
    return "" if v is None else str(v)


def _merged(frames: Sequence[Frame]) -> Frame | None:
    """InfluxQL series in table format are one table in Grafana, each series' tags as columns."""
    with_rows = [f for f in frames if f.rows]
    if not with_rows:
        return None
    first = with_rows[0]
    if not first.tags:
        return first
    keys = list(first.tags)
    columns = tuple(["time", *keys, *[c for c in first.columns if c != "time"]])
    rows = []
    for f in with_rows:
        for r in f.rows:
            cells = dict(zip(f.columns, r, strict=True))
            rows.append(
                tuple(
                    [
                        cells.get("time"),
                        *[f.tags.get(k) for k in keys],
                        *[cells.get(c) for c in columns[1 + len(keys) :]],
                    ]
                )
            )
    return Frame(first.ref_id, first.name, columns, tuple(rows), first.query)


def draw_table(ax: Any, panel: Mapping[str, Any], frames: Sequence[Frame]) -> None:
    """The first rows of the table, as text."""
    frame = _merged(frames)
    ax.axis("off")
    if frame is None:
        return
    unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit", "")
    renames = _renames(panel)
    cols = [renames.get(c, c) for c in frame.columns]
    source = list(frame.rows)
    for sort in panel.get("options", {}).get("sortBy", [])[:1]:
        if sort.get("displayName") in cols:
            i = cols.index(sort["displayName"])
            source.sort(key=lambda r: (r[i] is None, r[i]), reverse=bool(sort.get("desc")))
    rows = []
    for r in source[: int(panel["gridPos"]["h"] * 1.2)]:
        cells = []
        for c, v in zip(cols, r, strict=True):
            if unit == "dateTimeFromNow" and isinstance(v, int | float) and c != "time":
                v = dt.datetime.fromtimestamp(v / 1000, dt.UTC)
            cells.append(textwrap.shorten(_cell(v), 34, placeholder="…"))
        rows.append(cells)
    table = ax.table(
        cellText=rows,
        colLabels=cols,
        loc="upper left",
        cellLoc="left",
        colLoc="left",
        edges="horizontal",
    )
    table.auto_set_font_size(False)
    table.set_fontsize(6.5)
    for (row, _col), cell in table.get_celld().items():
        cell.set_edgecolor(BORDER)
        cell.set_facecolor(PANEL)
        cell.get_text().set_color(MUTED if row == 0 else TEXT)
    table.scale(1, 1.05)


DRAW = {
    "stat": draw_stat,
    "bargauge": draw_gauges,
    "timeseries": draw_series,
    "barchart": draw_barchart,
    "table": draw_table,
}


def draw_board(
    board: Mapping[str, Any],
    results: Mapping[int, Sequence[Frame] | str],
    *,
    out: Path,
    note: str,
) -> None:
    """One board as a PNG: panels at their gridPos, each drawn from its frames (or its error)."""
    laid = [p for p in panels(board)]
    height = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in laid)
    width_px, height_px = 24 * COL_PX, height * ROW_PX + 70
    fig = plt.figure(figsize=(width_px / 100, height_px / 100), dpi=100, facecolor=BG)
    fig.text(
        0.01, 1 - 18 / height_px, board["title"], fontsize=14, color=TEXT, weight="bold", va="top"
    )
    fig.text(0.01, 1 - 42 / height_px, note, fontsize=8, color=MUTED, va="top")
    for index, p in enumerate(laid):
        g = p["gridPos"]
        left, top = g["x"] * COL_PX / width_px, (g["y"] * ROW_PX + 60) / height_px
        w, h = g["w"] * COL_PX / width_px, g["h"] * ROW_PX / height_px
        if p["type"] == "row":
            fig.text(
                left + 0.005,
                1 - top - h / 2,
                p["title"],
                fontsize=11,
                color=TEXT,
                weight="bold",
                va="center",
            )
            continue
        frame_ax = fig.add_axes((left + 0.002, 1 - top - h + 0.004, w - 0.004, h - 0.008))
        frame_ax.set_facecolor(PANEL)
        frame_ax.set_xticks([])
        frame_ax.set_yticks([])
        for s in frame_ax.spines.values():
            s.set_color(BORDER)
        frame_ax.text(
            0.01,
            0.985,
            p.get("title", ""),
            fontsize=8.5,
            color=TEXT,
            va="top",
            transform=frame_ax.transAxes,
            weight="bold",
        )
        title_h = 22 / height_px
        ax = fig.add_axes((left + 0.012, 1 - top - h + 0.012, w - 0.02, h - title_h - 0.02))
        ax.set_facecolor(PANEL)
        result = results.get(index, [])
        if isinstance(result, str):
            ax.axis("off")
            ax.text(
                0.5,
                0.5,
                textwrap.fill(result, 60),
                ha="center",
                va="center",
                fontsize=7,
                color=COLORS["red"],
                transform=ax.transAxes,
            )
            continue
        if not any(f.rows for f in result):
            ax.axis("off")
            ax.text(
                0.5,
                0.5,
                "No data",
                ha="center",
                va="center",
                fontsize=10,
                color=MUTED,
                transform=ax.transAxes,
            )
            continue
        DRAW.get(p["type"], draw_table)(ax, p, result)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, facecolor=BG)
    plt.close(fig)


def run_board(
    board: Mapping[str, Any],
    *,
    end: dt.datetime,
    influx: InfluxTarget,
    sql_url: str,
) -> tuple[dict[int, Sequence[Frame] | str], int]:
    """Every panel of a board run over its default range ending at `end`: {panel index: frames
    or the error Grafana would show}, and the number of panels that came back empty."""
    from dashboards.macros import dashboard_variables

    variables = dashboard_variables(board)
    start = since(board, end)
    results: dict[int, Sequence[Frame] | str] = {}
    empty = 0
    for index, p in enumerate(panels(board)):
        if p["type"] == "row":
            continue
        try:
            frames = run_panel(
                p, start=start, end=end, variables=variables, influx=influx, sql_url=sql_url
            )
        except PanelQueryError as exc:
            results[index] = exc.message
            empty += 1
            continue
        results[index] = frames
        if not any(f.has_value() for f in frames):
            empty += 1
    return results, empty


def main(argv: list[str] | None = None) -> int:
    """Load the simulated data (unless --reuse), run every panel, draw every board."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--step", default="15m")
    ap.add_argument("--lang", action="append", help="en and/or zh-CN (default: both)")
    ap.add_argument("--out", default=str(ROOT / "docs" / "screenshots" / "dashboards"))
    ap.add_argument("--reuse", action="store_true", help="draw from the databases already loaded")
    args = ap.parse_args(argv)
    _font()

    from config.units import parse_duration
    from dashboards.build import build_all
    from plantroom.dashboard_data import load, throwaway_databases
    from plantroom.site import load_site

    site = load_site(ROOT / "config" / "sites" / "demo")
    end = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
    start = end - dt.timedelta(days=args.days)
    influx, sql_url = throwaway_databases(
        os.environ.get("PLANTROOM_TEST_INFLUX_URL", "http://127.0.0.1:18086"),
        os.environ.get(
            "PLANTROOM_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:55432/postgres"
        ),
        name="plantroom_pictures",
        fresh=not args.reuse,
    )
    if not args.reuse:
        started = time.monotonic()
        load(
            site,
            influx=influx,
            sql_url=sql_url,
            start=start,
            end=end,
            step_s=parse_duration(args.step),
            progress=True,
        )
        print(
            f"Loaded {args.days} days at {args.step} in {time.monotonic() - started:.0f} s",
            flush=True,
        )
    boards = build_all(site)
    langs = args.lang or ["en", "zh-CN"]
    note = (
        f"Not a Grafana screenshot: drawn by scripts/dashboard_pictures.py from real query results "
        f"(InfluxDB 1.6.7, PostgreSQL) over a simulated year of the demo site at {args.step} "
        f"steps, {start:%Y-%m-%d} to {end:%Y-%m-%d}, with Grafana's macros expanded as Grafana "
        "expands them."
    )
    for rel, board in boards.items():
        lang = rel.split("/")[0]
        if lang not in langs:
            continue
        started = time.monotonic()
        results, empty = run_board(board, end=end, influx=influx, sql_url=sql_url)
        out = Path(args.out) / rel.replace("/", "-").replace(".json", ".png")
        draw_board(board, results, out=out, note=note)
        print(
            f"{out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}: "
            f"{len(results)} panels, {empty} empty, {time.monotonic() - started:.1f} s",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
