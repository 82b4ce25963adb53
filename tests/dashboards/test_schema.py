"""The dashboards hold to Grafana's own published types (@grafana/schema at the pinned version,
checked by `tsc --noEmit`), and the committed ones are what the build produces.

The type checks need Node.js and npm (`apt-get install nodejs npm`); `npm ci` installs the pinned
packages into dashboards/schema/node_modules once and reuses them while the lock is unchanged.
Without node/npm the checks skip locally and fail under CI.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from grafana_foundation_sdk.builders import (
    bargauge,
    common,
    dashboard,
    piechart,
    stat,
    table,
    text,
    timeseries,
)
from grafana_foundation_sdk.cog.builder import Builder
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common as common_models
from grafana_foundation_sdk.models import dashboard as dashboard_models
from grafana_foundation_sdk.models import piechart as piechart_models

from config.site import SiteConfig
from dashboards import schema_check
from dashboards.schema_check import GENERATED_DIR, Problem
from tests.conftest import need


@pytest.fixture(scope="module")
def node_modules() -> Path:
    """The pinned @grafana/schema and TypeScript, installed by `npm ci` when the lock changed."""
    try:
        return schema_check.ensure_installed()
    except schema_check.ToolMissing as exc:
        need("Node.js and npm", f"{exc}; the tests then run `npm ci` in dashboards/schema.")
    except RuntimeError as exc:  # npm ci could not reach the registry
        need("npm ci (the npm registry)", str(exc))
    raise AssertionError("unreachable")


def _query(ref: str) -> dict[str, Any]:
    return {
        "refId": ref,
        "datasource": {"type": "influxdb", "uid": "plantroom-influx"},
        "query": 'SELECT mean("value") FROM "readings" WHERE $timeFilter GROUP BY time(1h)',
        "rawQuery": True,
        "resultFormat": "time_series",
    }


class _Query(Builder[Any]):
    """A raw target for the SDK's panels (the tests need no typed query class of their own)."""

    def __init__(self, ref: str) -> None:
        self._query = _query(ref)

    def build(self) -> dict[str, Any]:
        return self._query


def _sdk_dashboard() -> dict[str, Any]:
    """A dashboard of the panel kinds the boards use, built with grafana-foundation-sdk."""
    green_red = (
        dashboard.ThresholdsConfig()
        .mode(dashboard_models.ThresholdsMode.ABSOLUTE)
        .steps(
            [
                dashboard_models.Threshold(value=None, color="green"),
                dashboard_models.Threshold(value=80, color="red"),
            ]
        )
    )
    link = dashboard.DashboardLink("Work order").url(
        "${plantroom_url}/ui/workorders/${__value.raw}"
    )
    board = (
        dashboard.Dashboard("Plantroom · Test")
        .uid("plantroom-test-en")
        .tags(["plantroom"])
        .time("now-7d", "now")
        .refresh("1m")
        .with_row(dashboard.Row("Now"))
        .with_panel(
            stat.Panel()
            .title("Alerts firing")
            .with_target(_Query("A"))
            .grid_pos(dashboard_models.GridPos(h=6, w=6, x=0, y=1))
            .thresholds(green_red)
            .color_mode(common_models.BigValueColorMode.BACKGROUND)
            .mappings(
                [
                    dashboard_models.SpecialValueMap(
                        options=dashboard_models.DashboardSpecialValueMapOptions(
                            match=dashboard_models.SpecialValueMatch.NULL,
                            result=dashboard_models.ValueMappingResult(text="0"),
                        )
                    )
                ]
            )
        )
        .with_panel(
            timeseries.Panel()
            .title("Supply temperature")
            .with_target(_Query("A"))
            .grid_pos(dashboard_models.GridPos(h=8, w=18, x=6, y=1))
            .unit("celsius")
            .line_width(2)
            .fill_opacity(10)
            .draw_style(common_models.GraphDrawStyle.LINE)
            .legend(
                common.VizLegendOptions()
                .display_mode(common_models.LegendDisplayMode.TABLE)
                .placement(common_models.LegendPlacement.RIGHT)
                .show_legend(True)
                .calcs(["mean", "max"])
            )
            .tooltip(common.VizTooltipOptions().mode(common_models.TooltipDisplayMode.MULTI))
            .override_by_name(
                "setpoint",
                [dashboard_models.DynamicConfigValue(id_val="custom.lineWidth", value=1)],
            )
        )
        .with_panel(
            table.Panel()
            .title("Open work orders")
            .with_target(_Query("B"))
            .grid_pos(dashboard_models.GridPos(h=8, w=12, x=0, y=9))
            .filterable(True)
            .align(common_models.FieldTextAlignment.AUTO)
            .cell_options(common_models.TableAutoCellOptions())
            .data_links([link])
            .override_by_name(
                "priority",
                [
                    dashboard_models.DynamicConfigValue(
                        id_val="custom.cellOptions",
                        value=common_models.TableColoredBackgroundCellOptions(),
                    ),
                    dashboard_models.DynamicConfigValue(id_val="unit", value="none"),
                ],
            )
        )
        .with_panel(
            piechart.Panel()
            .title("Spend by contractor")
            .with_target(_Query("C"))
            .grid_pos(dashboard_models.GridPos(h=8, w=6, x=12, y=9))
            .pie_type(piechart_models.PieChartType.DONUT)
            .display_labels([piechart_models.PieChartLabels.PERCENT])
            .unit("currencyCNY")
        )
        .with_panel(
            bargauge.Panel()
            .title("Age against expected life")
            .with_target(_Query("D"))
            .grid_pos(dashboard_models.GridPos(h=8, w=6, x=18, y=9))
            .unit("percentunit")
            .display_mode(common_models.BarGaugeDisplayMode.LCD)
        )
        .with_panel(text.Panel().title("About").content("Drawn from the demo site."))
    )
    return json.loads(json.dumps(board.build(), cls=JSONEncoder))


# --- the committed dashboards -------------------------------------------------------------------


def test_committed_dashboards_hold_to_grafanas_published_types(
    node_modules: Path, tmp_path: Path
) -> None:
    """Every dashboard under dashboards/generated type-checks against @grafana/schema."""
    dashboards = schema_check.load(GENERATED_DIR)
    assert dashboards, (
        f"no dashboards are committed under {GENERATED_DIR}: run `plantroom dashboards build`"
    )
    problems = schema_check.check(dashboards, tmp_path)
    assert not problems, "\n".join(map(str, problems))


def test_committed_dashboards_are_what_the_build_produces(
    demo_site: SiteConfig, tmp_path: Path
) -> None:
    """A committed dashboard that differs from the build's output (or is missing, or left over)
    fails, named, with the command that brings it up to date."""
    from dashboards import build

    build.write(demo_site, tmp_path)
    built = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.json")}
    committed = {p.relative_to(GENERATED_DIR).as_posix() for p in GENERATED_DIR.rglob("*.json")}
    hint = "run `plantroom dashboards build` and commit dashboards/generated"
    assert built, f"the build wrote no dashboards into {tmp_path}"
    assert built == committed, (
        f"missing from dashboards/generated: {sorted(built - committed)}; "
        f"not produced by the build: {sorted(committed - built)}; {hint}"
    )
    stale = [
        name
        for name in sorted(built)
        if (tmp_path / name).read_bytes() != (GENERATED_DIR / name).read_bytes()
    ]
    assert not stale, f"dashboards/generated differs from the build in {stale}: {hint}"


# --- the check itself ---------------------------------------------------------------------------


def test_a_dashboard_built_with_the_sdk_passes(node_modules: Path, tmp_path: Path) -> None:
    """The foundation SDK's stat, time series, table, pie chart, bar gauge and text panels,
    with thresholds, mappings, links and overrides, hold to Grafana's types."""
    problems = schema_check.check({"en/test.json": _sdk_dashboard()}, tmp_path)
    assert problems == []


def _panel(board: dict[str, Any], type_: str) -> dict[str, Any]:
    return next(p for p in board["panels"] if p["type"] == type_)


def _grid_x_text(board: dict[str, Any]) -> None:
    _panel(board, "stat")["gridPos"]["x"] = "a"


def _legend_mode_unknown(board: dict[str, Any]) -> None:
    _panel(board, "timeseries")["options"]["legend"]["displayMode"] = "grid"


def _custom_misspelt(board: dict[str, Any]) -> None:
    _panel(board, "timeseries")["fieldConfig"]["defaults"]["custom"]["lineWidht"] = 2


def _override_wrong_type(board: dict[str, Any]) -> None:
    _panel(board, "timeseries")["fieldConfig"]["overrides"][0]["properties"][0]["value"] = "thick"


def _threshold_mode_unknown(board: dict[str, Any]) -> None:
    _panel(board, "stat")["fieldConfig"]["defaults"]["thresholds"]["mode"] = "relative"


def _target_without_ref(board: dict[str, Any]) -> None:
    del _panel(board, "table")["targets"][0]["refId"]


def _custom_on_stat(board: dict[str, Any]) -> None:
    _panel(board, "stat")["fieldConfig"]["defaults"]["custom"] = {"width": 100}


def _refresh_number(board: dict[str, Any]) -> None:
    board["refresh"] = 60


#: file name -> (what breaks it, the JSON path tsc names, what its message says)
BREAKAGES = {
    "grid-x-text.json": (
        _grid_x_text,
        "panels[1].gridPos.x",
        "TS2322 Type 'string' is not assignable to type 'number'",
    ),
    "legend-mode.json": (
        _legend_mode_unknown,
        "panels[2].options.legend.displayMode",
        """TS2322 Type '"grid"' is not assignable to type '"hidden" | "list" | "table"'""",
    ),
    "custom-misspelt.json": (
        _custom_misspelt,
        "panels[2].fieldConfig.defaults.custom.lineWidht",
        """TS2353 Object literal may only specify known properties, and '"lineWidht"' does not""",
    ),
    "override-type.json": (
        _override_wrong_type,
        "panels[2].fieldConfig.overrides[0].properties[0].lineWidth",
        "TS2322 Type 'string' is not assignable to type 'number'",
    ),
    "threshold-mode.json": (
        _threshold_mode_unknown,
        "panels[1].fieldConfig.defaults.thresholds.mode",
        """TS2322 Type '"relative"' is not assignable to type '"absolute" | "percentage"'""",
    ),
    "target-ref.json": (_target_without_ref, "panels[3].targets[0]", "Property 'refId' is missing"),
    "custom-on-stat.json": (
        _custom_on_stat,
        "panels[1].fieldConfig.defaults.custom.width",
        "TS2322 Type 'number' is not assignable to type 'never'",
    ),
    "refresh-number.json": (
        _refresh_number,
        "refresh",
        "TS2322 Type 'number' is not assignable to type 'string'",
    ),
}


@pytest.fixture(scope="module")
def broken_problems(node_modules: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Problem]:
    """One tsc run over a copy of the SDK dashboard per breakage in BREAKAGES."""
    good = _sdk_dashboard()
    boards = {}
    for name, (breakage, _, _) in BREAKAGES.items():
        boards[name] = copy.deepcopy(good)
        breakage(boards[name])
    return schema_check.check(boards, tmp_path_factory.mktemp("broken"))


@pytest.mark.parametrize("name", sorted(BREAKAGES))
def test_a_broken_dashboard_fails_naming_the_file_and_field(
    broken_problems: list[Problem], name: str
) -> None:
    """tsc rejects the dashboard, and the problem names its file and the JSON path at fault."""
    _, where, says = BREAKAGES[name]
    found = [p for p in broken_problems if p.file == name]
    assert [p.where for p in found] == [where], "\n".join(map(str, broken_problems))
    assert says in found[0].message, found[0]


def test_a_panel_type_without_published_types_is_named(node_modules: Path, tmp_path: Path) -> None:
    """A panel whose plugin @grafana/schema does not publish is a problem, not skipped."""
    board = _sdk_dashboard()
    _panel(board, "text")["type"] = "marcusolsson-calendar-panel"
    problems = schema_check.check({"en/test.json": board}, tmp_path)
    assert [str(p) for p in problems] == [
        f'en/test.json: panels[6] ("About", marcusolsson-calendar-panel): panel type '
        f"'marcusolsson-calendar-panel' has no published types in @grafana/schema (known: "
        f"{', '.join(sorted(schema_check.PANEL_TYPES))})"
    ]
