"""Equipment: pumps (speed, current, run hours), lifts (trips, door faults, availability) and
water (flow, night minimum), from the ``readings`` measurement.

Every query keeps the building and asset-class variables (readings carry both tags), so the
board narrows to one building or one kind of plant. Counters (trips, door faults) are turned
into per-day counts with ``non_negative_difference`` over each day's last value, which survives
a counter reset. The night minimum is the day's lowest 15-minute mean flow: a leak shows as a
night minimum that never returns to zero.
"""

from __future__ import annotations

from typing import TypeVar

from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.cog.builder import Builder
from grafana_foundation_sdk.models.dashboard import Panel

from dashboards.boards.kit import gauges, rename, series, steps
from dashboards.common import INFLUX_FILTER, Context

PUMPS = "Pump|Fire_Pump|Jockey_Pump"
P = TypeVar("P", bound=Builder[Panel])


def _where(point: str, classes: str) -> str:
    return (
        f'"point" = \'{point}\' AND "asset_class" =~ /^({classes})$/ AND {INFLUX_FILTER} '
        "AND \"quality\" = 'good' AND $timeFilter"
    )


def _mean(point: str, classes: str) -> str:
    """One point's mean per $__interval, one series per asset."""
    return (
        f'SELECT mean("value") FROM "readings" WHERE {_where(point, classes)} '
        'GROUP BY time($__interval), "asset" fill(none)'
    )


def _per_day(ctx: Context, point: str, classes: str) -> str:
    """A counter's increase per local day, one series per asset."""
    return (
        f'SELECT non_negative_difference(last("value")) FROM "readings" '
        f"WHERE {_where(point, classes)} "
        f"GROUP BY time(1d), \"asset\" fill(none) tz('{ctx.tz}')"
    )


def _names(ctx: Context, classes: str) -> dict[str, str]:
    """{asset id: name in the board's language} for the assets of the given classes."""
    zh = ctx.lang == "zh-CN"
    wanted = set(classes.split("|"))
    return {
        ref.asset.id: (ref.asset.name_zh if zh and ref.asset.name_zh else ref.asset.name)
        for ref in ctx.site.assets()
        if ref.asset.brick_class in wanted
    }


def build(ctx: Context) -> dash.Dashboard:
    """The equipment board."""
    _ = ctx._
    d = ctx.dashboard("equipment", _("Equipment"), refresh="1m").time("now-7d", "now")

    def named(classes: str, p: P) -> P:
        rename(p, _names(ctx, classes))
        return p

    d.with_row(dash.Row(_("Pumps")))
    d.with_panel(
        named(
            PUMPS,
            series(
                _("Motor speed"),
                [ctx.influx(_mean("motor_speed", PUMPS)).alias("$tag_asset")],
                unit="rotrpm",
                w=8,
            ),
        )
    )
    d.with_panel(
        named(
            PUMPS,
            series(
                _("Motor current"),
                [ctx.influx(_mean("motor_current", PUMPS)).alias("$tag_asset")],
                unit="amp",
                w=8,
            ),
        )
    )
    d.with_panel(
        named(
            PUMPS,
            gauges(
                _("Run hours"),
                [
                    ctx.influx(
                        f'SELECT last("value") FROM "readings" WHERE {_where("run_hours", PUMPS)} '
                        'GROUP BY "asset"'
                    ).alias("$tag_asset")
                ],
                unit="h",
                w=8,
                thresholds=steps((None, "green"), (20000, "orange"), (40000, "red")),
            ),
        )
    )

    d.with_row(dash.Row(_("Lifts")))
    d.with_panel(
        named(
            "Elevator",
            series(
                _("Trips per day"),
                [ctx.influx(_per_day(ctx, "trip_counter", "Elevator")).alias("$tag_asset")],
                w=8,
                bars=True,
            ),
        )
    )
    d.with_panel(
        named(
            "Elevator",
            series(
                _("Door faults per day"),
                [ctx.influx(_per_day(ctx, "door_fault_counter", "Elevator")).alias("$tag_asset")],
                w=8,
                bars=True,
            ),
        )
    )
    d.with_panel(
        named(
            "Elevator",
            gauges(
                _("Availability (in service)"),
                [
                    ctx.influx(
                        'SELECT mean("value") * 100 FROM "readings" '
                        f'WHERE {_where("in_service", "Elevator")} GROUP BY "asset"'
                    ).alias("$tag_asset")
                ],
                unit="percent",
                maximum=100,
                w=8,
                thresholds=steps((None, "red"), (95, "orange"), (99, "green")),
                description=_("The share of the period each lift reported itself in service."),
            ),
        )
    )

    d.with_row(dash.Row(_("Water")))
    d.with_panel(
        named(
            "Water_Meter",
            series(
                _("Flow"),
                [ctx.influx(_mean("flow", "Water_Meter")).alias("$tag_asset")],
                unit="suffix: m³/h",
                w=12,
            ),
        )
    )
    night = series(
        _("Night minimum flow (lowest 15-minute mean each day)"),
        [
            ctx.influx(
                'SELECT min("mean") FROM (SELECT mean("value") FROM "readings" '
                f'WHERE {_where("flow", "Water_Meter")} GROUP BY time(15m), "asset") '
                f"WHERE $timeFilter GROUP BY time(1d), \"asset\" fill(none) tz('{ctx.tz}')"
            ).alias("$tag_asset")
        ],
        unit="suffix: m³/h",
        w=12,
        bars=True,
        description=_("A leak keeps the night minimum above zero."),
    )
    d.with_panel(named("Water_Meter", night))
    return d
