"""Energy: by building and sub-item, in kWh, kgce and kgCO2e, per m² and per person, with the
unmetered remainder, from the analytics job's daily rollups (measurement ``energy_daily``, see
analytics/rollup.py; a building's rows have ``asset`` = the building id).

Days are local days (the rollup stores each at its local midnight) and are bucketed with the
site's ``tz()``, so a bar is the building's day, not a UTC day. The per-m² and per-person figures
divide by the floor area and occupants the site configuration gives, one target per building.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dash

from analytics.statistics import SUB_ITEMS, UNMETERED
from dashboards.boards.kit import big_stat, gauges, rename, series, steps
from dashboards.common import Context

BUILDING = '"asset" =~ /^${building:regex}$/'


def _daily(ctx: Context, device: str, point: str, *, by: str) -> str:
    """Daily sums of one rollup figure for the selected buildings, one series per `by` tag."""
    return (
        f'SELECT sum("value") FROM "energy_daily" WHERE {BUILDING} AND "device" = \'{device}\' '
        f"AND \"point\" = '{point}' AND $timeFilter "
        f"GROUP BY time(1d), \"{by}\" fill(none) tz('{ctx.tz}')"
    )


def _total(device: str, point: str) -> str:
    """The period's sum of one rollup figure over the selected buildings."""
    return (
        f'SELECT sum("value") FROM "energy_daily" WHERE {BUILDING} AND "device" = \'{device}\' '
        f"AND \"point\" = '{point}' AND $timeFilter"
    )


def build(ctx: Context) -> dash.Dashboard:
    """The energy board."""
    _ = ctx._
    zh = ctx.lang == "zh-CN"
    d = ctx.dashboard("energy", _("Energy"), refresh="15m").time("now-30d", "now")
    names = ctx.building_names()

    totals = [
        (_("Electricity"), "electricity", "kwh", "kwatth"),
        (_("Energy (standard coal)"), "energy", "kgce", "kgce"),
        (_("Emissions"), "energy", "kgco2e", "kgCO2e"),
        (_("Water"), "water", "amount", "m³"),
    ]
    for title, device, point, unit in totals:
        p = big_stat(
            title,
            [ctx.influx(_total(device, point)).result_format("table")],
            unit=unit if unit == "kwatth" else f"suffix: {unit}",
            thresholds=steps((None, "blue")),
            decimals=0,
        )
        d.with_panel(p)

    areas = {b.id: b for b in ctx.site.doc.buildings}
    for title, field, unit in (
        (_("kgce per m²"), "floor_area_m2", "kgce/m²"),
        (_("kgce per person"), "occupants", "kgce/person"),
    ):
        targets = []
        for ref, (bid, b) in zip("ABCDEFGHIJKLMNOP", areas.items(), strict=False):
            size = getattr(b, field, None)
            if not size:
                continue
            targets.append(
                ctx.influx(
                    f'SELECT sum("value") / {size:g} FROM "energy_daily" WHERE "asset" = '
                    f"'{bid}' AND {BUILDING} AND \"device\" = 'energy' AND \"point\" = 'kgce' "
                    "AND $timeFilter",
                    ref=ref,
                ).alias(names[bid])
            )
        d.with_panel(
            gauges(
                title, targets, unit=f"suffix: {unit}", w=12, h=6, thresholds=steps((None, "blue"))
            )
        )

    codes = "|".join([*SUB_ITEMS, "unmetered"])
    sub_items_query = (
        f'SELECT sum("value") FROM "energy_daily" WHERE {BUILDING} AND "device" =~ /^({codes})$/ '
        f"AND \"point\" = 'kwh' AND $timeFilter "
        f"GROUP BY time(1d), \"device\" fill(none) tz('{ctx.tz}')"
    )
    sub_items = series(
        _("Electricity by sub-item, per day"),
        [ctx.influx(sub_items_query).alias("$tag_device")],
        unit="kwatth",
        w=24,
        bars=True,
        stack=True,
    )
    rename(
        sub_items,
        {
            code: (zh_name if zh else name)
            for code, (name, zh_name) in {**SUB_ITEMS, "unmetered": UNMETERED}.items()
        },
    )
    d.with_panel(sub_items)

    for title, device, point, unit in (
        (_("Energy per building, per day"), "energy", "kgce", "suffix: kgce"),
        (_("Emissions per building, per day"), "energy", "kgco2e", "suffix: kgCO2e"),
        (_("Unmetered remainder per building, per day"), "unmetered", "kwh", "kwatth"),
        (_("Water per building, per day"), "water", "amount", "suffix: m³"),
    ):
        daily = series(
            title,
            [ctx.influx(_daily(ctx, device, point, by="asset")).alias("$tag_asset")],
            unit=unit,
            w=12,
            bars=True,
        )
        rename(daily, {bid: name for bid, name in names.items()})
        d.with_panel(daily)

    d.with_panel(
        big_stat(
            _("Estimated or missing share of electricity"),
            [
                ctx.influx(
                    'SELECT mean("value") * 100 FROM "energy_daily" WHERE '
                    f"{BUILDING} AND \"device\" = 'electricity' AND \"point\" = 'estimated_share' "
                    "AND $timeFilter"
                ).result_format("table")
            ],
            unit="percent",
            thresholds=steps((None, "green"), (5, "orange"), (20, "red")),
            decimals=1,
            w=8,
            h=4,
            description=_("The part of the period's days whose figures were estimated or missing."),
        )
    )
    return d
