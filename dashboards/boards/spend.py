"""Maintenance spend: by month, building, asset class and contractor, planned against reactive,
from the cost lines of the work orders (reporting view ``reporting_costs``: one row per labour,
part or other cost line, at the time it was spent).

Planned is preventive and other scheduled work; reactive is corrective work. Months are the
site's local months.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dash

from dashboards.boards.kit import bars, big_stat, gauges, series, steps
from dashboards.common import Context, sql_filter, sql_literal

CNY = "prefix:¥"


def build(ctx: Context) -> dash.Dashboard:
    """The maintenance-spend board."""
    _ = ctx._
    tz = ctx.tz
    month = f"date_trunc('month', spent_at AT TIME ZONE '{tz}') AT TIME ZONE '{tz}'"
    # Work on no asset (an alert storm's parent, a job for the whole compound) has no building
    # or class: it counts in every selection, as the KPIs count it.
    where = f"$__timeFilter(spent_at) AND {sql_filter(site_wide=True)}"
    kind = (
        f"CASE WHEN planned THEN {sql_literal(_('Planned'))} ELSE {sql_literal(_('Reactive'))} END"
    )
    d = ctx.dashboard("spend", _("Maintenance spend"), refresh="1h").time("now-1y", "now")

    d.with_panel(
        big_stat(
            _("Spend in the period"),
            [ctx.sql(f"SELECT sum(amount) AS spend FROM reporting_costs WHERE {where}")],
            unit=CNY,
            thresholds=steps((None, "blue")),
            decimals=0,
            w=8,
            h=5,
        )
    )
    d.with_panel(
        big_stat(
            _("Planned share of spend"),
            [
                ctx.sql(
                    "SELECT 100.0 * sum(amount) FILTER (WHERE planned) / NULLIF(sum(amount), 0) "
                    f"AS planned FROM reporting_costs WHERE {where}"
                )
            ],
            unit="percent",
            thresholds=steps((None, "red"), (50, "orange"), (70, "green")),
            decimals=0,
            w=8,
            h=5,
            description=_("Maintenance best practice aims for most spend to be planned."),
        )
    )
    d.with_panel(
        big_stat(
            _("Labour, parts and other"),
            [
                ctx.sql(
                    "SELECT sum(amount) FILTER (WHERE kind = 'labor') AS labour, "
                    "sum(amount) FILTER (WHERE kind = 'parts') AS parts, "
                    "sum(amount) FILTER (WHERE kind = 'other') AS other "
                    f"FROM reporting_costs WHERE {where}"
                )
            ],
            labels=ctx.labels("labour", "parts", "other"),
            unit=CNY,
            values=False,
            thresholds=steps((None, "blue")),
            decimals=0,
            w=8,
            h=5,
        )
    )
    d.with_panel(
        series(
            _("Spend per month: planned against reactive"),
            [
                ctx.sql(
                    f"SELECT {month} AS time, {kind} AS metric, sum(amount) AS spend "
                    f"FROM reporting_costs WHERE {where} GROUP BY 1, 2 ORDER BY 1"
                ).format("time_series")
            ],
            unit=CNY,
            w=24,
            bars=True,
            stack=True,
        )
    )
    labels = {
        "labor": _("Labour"),
        "parts": _("Parts"),
        "other": _("Other"),
    }
    kind_label = " ".join(f"WHEN {sql_literal(k)} THEN {sql_literal(v)}" for k, v in labels.items())
    d.with_panel(
        series(
            _("Spend per month: labour, parts and other"),
            [
                ctx.sql(
                    f"SELECT {month} AS time, CASE kind {kind_label} ELSE kind END AS metric, "
                    f"sum(amount) AS spend FROM reporting_costs WHERE {where} "
                    "GROUP BY 1, 2 ORDER BY 1"
                ).format("time_series")
            ],
            unit=CNY,
            w=12,
            bars=True,
            stack=True,
        )
    )
    site_wide = _("Site-wide")
    by = (
        (
            _("Spend by building"),
            f"coalesce({ctx.building_name('building_id')}, {sql_literal(site_wide)})",
            "building",
        ),
        (_("Spend by asset class"), ctx.class_label(), "asset_class"),
    )
    for title, label, name in by:
        d.with_panel(
            bars(
                title,
                [
                    ctx.sql(
                        f"SELECT {label} AS {name}, "
                        f"sum(amount) FILTER (WHERE planned) AS {_q(_('Planned'))}, "
                        f"sum(amount) FILTER (WHERE NOT planned) AS {_q(_('Reactive'))} "
                        f"FROM reporting_costs WHERE {where} GROUP BY 1 ORDER BY 1"
                    )
                ],
                unit=CNY,
                w=12,
                stack=True,
            )
        )
    d.with_panel(
        gauges(
            _("Spend by contractor"),
            [
                ctx.sql(
                    f"SELECT coalesce(contractor_name, {sql_literal(_('In-house'))}) "
                    "AS contractor, "
                    f"sum(amount) AS spend FROM reporting_costs WHERE {where} "
                    "GROUP BY 1 ORDER BY spend DESC"
                )
            ],
            unit=CNY,
            w=12,
            thresholds=steps((None, "blue")),
        )
    )
    return d


def _q(name: str) -> str:
    """A SQL identifier (a column alias shown as a series name)."""
    return '"' + name.replace('"', '""') + '"'
