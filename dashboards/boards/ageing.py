"""Ageing equipment: age against expected life, failures per month by asset class, the
Crow-AMSAA β per asset with its 90 % bounds, cumulative repair cost against replacement cost,
and the capital plan, from the reporting views over the work-order database (README, "Reporting
views").

Per-asset figures come from the monthly asset-health snapshots: a panel shows the newest
snapshot at or before the end of the dashboard's time range, so moving the range back shows the
evidence as it stood then. Failures per month count what analytics.ageing counts: corrective
work orders on an asset, not cancelled, at their opening.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dash

from analytics.reports.capital import CRITICALITY, REASONS
from dashboards.boards.kit import bars, gauges, listing, series, steps
from dashboards.common import N_, Context, sql_filter

#: An asset's health flags (analytics.ageing) in words: the capital plan's reasons and one more.
FLAGS = {**REASONS, "past_life_rising": N_("Past its expected life and failing more often")}

#: The newest snapshot month at or before the end of the range.
LATEST = (
    "month_start = (SELECT max(month_start) FROM reporting_asset_health "
    "WHERE month_start <= $__timeTo())"
)


def asset_name(ctx: Context) -> str:
    """The SQL for an asset's name in the board's language."""
    return "coalesce(asset_name_zh, asset_name)" if ctx.lang == "zh-CN" else "asset_name"


def build(ctx: Context) -> dash.Dashboard:
    """The ageing-equipment board."""
    _ = ctx._
    name = asset_name(ctx)
    d = ctx.dashboard("ageing", _("Ageing equipment"), refresh="1h").time("now-2y", "now")

    d.with_panel(
        gauges(
            _("Age against expected life"),
            [
                ctx.sql(
                    f"SELECT {name} AS asset, age_ratio * 100 AS age FROM reporting_asset_health "
                    f"WHERE {LATEST} AND age_ratio IS NOT NULL AND {sql_filter()} "
                    "ORDER BY age_ratio DESC"
                )
            ],
            unit="percent",
            thresholds=steps((None, "green"), (80, "orange"), (100, "red")),
            h=10,
            description=_(
                "Years in service as a share of the expected life; past 100 % is overdue."
            ),
        )
    )
    d.with_panel(
        gauges(
            _("Repair cost against replacement cost"),
            [
                ctx.sql(
                    f"SELECT {name} AS asset, cost_ratio * 100 AS cost FROM reporting_asset_health "
                    f"WHERE {LATEST} AND cost_ratio IS NOT NULL AND {sql_filter()} "
                    "ORDER BY cost_ratio DESC"
                )
            ],
            unit="percent",
            thresholds=steps((None, "green"), (50, "orange"), (75, "red")),
            h=10,
            description=_(
                "Corrective spend on the asset against what replacing it costs: 50 % is a "
                "warning, 75 % says replace."
            ),
        )
    )

    failures = series(
        _("Failures per month by asset class"),
        [
            ctx.sql(
                f"SELECT date_trunc('month', opened_at AT TIME ZONE '{ctx.tz}') "
                f"AT TIME ZONE '{ctx.tz}' AS time, {ctx.class_label()} AS metric, "
                "count(*) AS failures "
                "FROM reporting_work_orders WHERE type = 'corrective' AND status <> 'cancelled' "
                f"AND asset_id IS NOT NULL AND $__timeFilter(opened_at) AND {sql_filter()} "
                "GROUP BY 1, 2 ORDER BY 1"
            ).format("time_series")
        ],
        w=24,
        bars=True,
        stack=True,
    )
    d.with_panel(failures)

    beta = series(
        _("Crow-AMSAA β per asset, month by month"),
        [
            ctx.sql(
                f"SELECT month_start AS time, {name} AS metric, beta FROM reporting_asset_health "
                f"WHERE beta IS NOT NULL AND $__timeFilter(month_start) AND {sql_filter()} "
                "ORDER BY 1"
            ).format("time_series")
        ],
        w=12,
        h=10,
        description=_("β above 1: failures come faster as the asset ages."),
    )
    d.with_panel(beta)
    d.with_panel(
        listing(
            _("Failure trend: β with its 90 % bounds"),
            [
                ctx.sql(
                    f"SELECT asset_id, {name} AS asset, n_failures AS failures, "
                    "round(beta::numeric, 2) AS beta, round(beta_lower::numeric, 2) AS lower, "
                    "round(beta_upper::numeric, 2) AS upper, "
                    f"{ctx.codes_label('flags', FLAGS)} AS flags "
                    f"FROM reporting_asset_health WHERE {LATEST} AND beta IS NOT NULL "
                    f"AND {sql_filter()} ORDER BY beta_lower DESC NULLS LAST"
                )
            ],
            labels=ctx.labels("asset_id", "asset", "failures", "beta", "lower", "upper", "flags"),
            w=12,
            h=10,
            links=[ctx.health_link()],
            description=_(
                "Deteriorating when the lower bound is above 1 (Crow's bounds, 90 % two-sided)."
            ),
        )
    )

    d.with_panel(
        listing(
            _("Capital plan: what to replace, and when"),
            [
                ctx.sql(
                    f"SELECT rank, asset_id, {name} AS asset, recommended_year AS year, cost, "
                    "round(age_ratio::numeric, 2) AS age_ratio, round(beta::numeric, 2) AS beta, "
                    "round(beta_lower::numeric, 2) AS beta_lower, "
                    "round(cost_ratio::numeric, 2) AS cost_ratio, "
                    f"{ctx.value_label('criticality', CRITICALITY)} AS criticality, "
                    f"{ctx.codes_label('reasons', REASONS)} AS reasons "
                    "FROM reporting_capital_plan WHERE month_start = (SELECT max(month_start) "
                    "FROM reporting_capital_plan WHERE month_start <= $__timeTo()) "
                    f"AND {sql_filter()} ORDER BY rank"
                )
            ],
            labels=ctx.labels(
                "rank",
                "asset_id",
                "asset",
                "year",
                "cost",
                "age_ratio",
                "beta",
                "beta_lower",
                "cost_ratio",
                "criticality",
                "reasons",
            ),
            w=24,
            h=10,
            links=[ctx.health_link()],
        )
    )
    spend_by_class = bars(
        _("Corrective spend by asset class"),
        [
            ctx.sql(
                f"SELECT {ctx.class_label()} AS asset_class, sum(amount) AS spend "
                "FROM reporting_costs "
                f"WHERE NOT planned AND $__timeFilter(spent_at) AND {sql_filter()} "
                "GROUP BY 1 ORDER BY spend DESC"
            )
        ],
        unit="prefix:¥",
        w=24,
        h=8,
    )
    d.with_panel(spend_by_class)
    return d
