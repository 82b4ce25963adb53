"""The few panel shapes the boards repeat, on top of grafana-foundation-sdk's builders."""

from __future__ import annotations

from collections.abc import Sequence

from grafana_foundation_sdk.builders import barchart, bargauge, stat, table, timeseries
from grafana_foundation_sdk.builders import common as cb
from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.models import common as cm
from grafana_foundation_sdk.models import dashboard as model

Target = cogbuilder.Builder[cogvariants.Dataquery]


def steps(*pairs: tuple[float | None, str]) -> dash.ThresholdsConfig:
    """Absolute thresholds: (None, base colour), (value, colour from there up), ..."""
    return (
        dash.ThresholdsConfig()
        .mode(model.ThresholdsMode.ABSOLUTE)
        .steps([model.Threshold(value=v, color=c) for v, c in pairs])
    )


def _reduce(calcs: Sequence[str], *, values: bool = False) -> cb.ReduceDataOptions:
    return cb.ReduceDataOptions().calcs(list(calcs)).values(values)


def big_stat(
    title: str,
    targets: Sequence[Target],
    *,
    unit: str = "short",
    thresholds: dash.ThresholdsConfig | None = None,
    calc: str = "lastNotNull",
    values: bool = False,
    w: int = 6,
    h: int = 6,
    decimals: int | None = None,
    description: str = "",
    labels: dict[str, str] | None = None,
) -> stat.Panel:
    """A number readable from across a room: background colour by threshold, no sparkline."""
    p = (
        stat.Panel()
        .title(title)
        .targets(list(targets))
        .unit(unit)
        .color_mode(cm.BigValueColorMode.BACKGROUND)
        .graph_mode(cm.BigValueGraphMode.NONE)
        .text_mode(cm.BigValueTextMode.VALUE_AND_NAME if values else cm.BigValueTextMode.AUTO)
        .reduce_options(_reduce([calc], values=values))
        .thresholds(thresholds or steps((None, "green")))
        .span(w)
        .height(h)
    )
    if decimals is not None:
        p.decimals(decimals)
    if description:
        p.description(description)
    if labels:
        rename(p, labels)
    return p


def series(
    title: str,
    targets: Sequence[Target],
    *,
    unit: str = "short",
    w: int = 12,
    h: int = 8,
    bars: bool = False,
    stack: bool = False,
    description: str = "",
) -> timeseries.Panel:
    """A time series: lines, or bars per bucket (daily energy), optionally stacked."""
    p = (
        timeseries.Panel()
        .title(title)
        .targets(list(targets))
        .unit(unit)
        .span(w)
        .height(h)
        .legend(
            cb.VizLegendOptions()
            .show_legend(True)
            .display_mode(cm.LegendDisplayMode.TABLE)
            .placement(cm.LegendPlacement.BOTTOM)
            .calcs(["mean", "max"] if not bars else ["sum"])
        )
        .tooltip(
            cb.VizTooltipOptions().mode(cm.TooltipDisplayMode.MULTI).sort(cm.SortOrder.DESCENDING)
        )
    )
    if bars:
        p.draw_style(cm.GraphDrawStyle.BARS).fill_opacity(80).line_width(1)
    else:
        p.line_width(2).fill_opacity(10).span_nulls(False)
    if stack:
        p.stacking(cb.StackingConfig().mode(cm.StackingMode.NORMAL))
    if description:
        p.description(description)
    return p


def bars(
    title: str,
    targets: Sequence[Target],
    *,
    unit: str = "short",
    w: int = 12,
    h: int = 8,
    stack: bool = False,
    x_field: str | None = None,
    description: str = "",
) -> barchart.Panel:
    """Categorical bars (months, buildings, contractors), from a table result."""
    p = (
        barchart.Panel()
        .title(title)
        .targets(list(targets))
        .unit(unit)
        .span(w)
        .height(h)
        .show_value(cm.VisibilityMode.AUTO)
        .x_tick_label_rotation(0)
        .legend(
            cb.VizLegendOptions()
            .show_legend(True)
            .display_mode(cm.LegendDisplayMode.LIST)
            .placement(cm.LegendPlacement.BOTTOM)
        )
    )
    if stack:
        p.stacking(cm.StackingMode.NORMAL)
    if x_field:
        p.x_field(x_field)
    if description:
        p.description(description)
    return p


def gauges(
    title: str,
    targets: Sequence[Target],
    *,
    unit: str = "short",
    thresholds: dash.ThresholdsConfig | None = None,
    w: int = 12,
    h: int = 8,
    maximum: float | None = None,
    description: str = "",
) -> bargauge.Panel:
    """One horizontal bar per row of a table result (per asset, per building)."""
    p = (
        bargauge.Panel()
        .title(title)
        .targets(list(targets))
        .unit(unit)
        .span(w)
        .height(h)
        .orientation(cm.VizOrientation.HORIZONTAL)
        .display_mode(cm.BarGaugeDisplayMode.GRADIENT)
        .reduce_options(_reduce(["lastNotNull"], values=True))
        .thresholds(thresholds or steps((None, "green")))
        .min(0)
    )
    if maximum is not None:
        p.max(maximum)
    if description:
        p.description(description)
    return p


def listing(
    title: str,
    targets: Sequence[Target],
    *,
    w: int = 24,
    h: int = 8,
    links: Sequence[dash.DashboardLink] = (),
    description: str = "",
    labels: dict[str, str] | None = None,
) -> table.Panel:
    """A table of rows, with data links into the app; labels: column headers by column."""
    p = table.Panel().title(title).targets(list(targets)).span(w).height(h)
    if links:
        p.data_links(list(links))
    if description:
        p.description(description)
    if labels:
        rename(p, labels)
    return p


def rename(panel: cogbuilder.Builder[model.Panel], names: dict[str, str]) -> None:
    """Display names for series or fields by their name (sub-item codes, states)."""
    for name, shown in names.items():
        panel.override_by_name(  # type: ignore[attr-defined]
            name, [model.DynamicConfigValue(id_val="displayName", value=shown)]
        )
