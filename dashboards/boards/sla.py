"""SLA: on-time response and resolution per contractor, month by month, the breaches and the
disputes, from the reporting views ``reporting_sla`` and ``reporting_sla_disputes``.

On-time shares count only decided work orders (a response or resolution that happened, or whose
deadline passed): an open order still inside its time is neither on time nor late yet. Months
are the site's local months, by the work order's opening.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard as dash

from dashboards.boards.kit import big_stat, listing, series, steps
from dashboards.common import Context, sql_filter, sql_literal


def build(ctx: Context) -> dash.Dashboard:
    """The SLA board."""
    _ = ctx._
    tz = ctx.tz
    month = f"date_trunc('month', opened_at AT TIME ZONE '{tz}') AT TIME ZONE '{tz}'"
    contractor = f"coalesce(contractor_name, {sql_literal(_('In-house'))})"
    # Work on no asset (an alert storm's parent) has no building or class: it counts in every
    # selection, as the contractor's scorecard counts it.
    where = f"$__timeFilter(opened_at) AND {sql_filter(site_wide=True)}"
    d = ctx.dashboard("sla", _("SLA compliance"), refresh="15m").time("now-6M", "now")

    def share(column: str) -> str:
        return f"100.0 * count(*) FILTER (WHERE {column}) / NULLIF(count({column}), 0)"

    for title, column in (
        (_("Responses on time"), "response_on_time"),
        (_("Resolutions on time"), "resolution_on_time"),
    ):
        d.with_panel(
            big_stat(
                title,
                [ctx.sql(f"SELECT {share(column)} AS on_time FROM reporting_sla WHERE {where}")],
                unit="percent",
                thresholds=steps((None, "red"), (90, "orange"), (95, "green")),
                decimals=1,
                w=6,
                h=5,
            )
        )
    d.with_panel(
        big_stat(
            _("Breaches in the period"),
            [
                ctx.sql(
                    "SELECT count(*) FILTER (WHERE response_breached) AS response, "
                    "count(*) FILTER (WHERE resolution_breached) AS resolution "
                    f"FROM reporting_sla WHERE {where}"
                )
            ],
            labels=ctx.labels("response", "resolution"),
            thresholds=steps((None, "green"), (1, "red")),
            w=6,
            h=5,
        )
    )
    d.with_panel(
        big_stat(
            _("Disputes open"),
            [
                ctx.sql(
                    "SELECT count(*) AS open FROM reporting_sla_disputes WHERE status = 'open' "
                    f"AND {sql_filter(site_wide=True)}"
                )
            ],
            thresholds=steps((None, "green"), (1, "orange")),
            w=6,
            h=5,
        )
    )
    for title, column in (
        (_("On-time response per contractor, by month"), "response_on_time"),
        (_("On-time resolution per contractor, by month"), "resolution_on_time"),
    ):
        d.with_panel(
            series(
                title,
                [
                    ctx.sql(
                        f"SELECT {month} AS time, {contractor} AS metric, {share(column)} "
                        f"AS on_time FROM reporting_sla WHERE {where} GROUP BY 1, 2 ORDER BY 1"
                    ).format("time_series")
                ],
                unit="percent",
                w=12,
            )
        )
    d.with_panel(
        listing(
            _("Per contractor in the period"),
            [
                ctx.sql(
                    f"SELECT {contractor} AS contractor, count(*) AS work_orders, "
                    f"round(({share('response_on_time')})::numeric, 1) AS response_on_time, "
                    f"round(({share('resolution_on_time')})::numeric, 1) AS resolution_on_time, "
                    "count(*) FILTER (WHERE response_breached OR resolution_breached) AS breached "
                    f"FROM reporting_sla WHERE {where} GROUP BY 1 ORDER BY 1"
                )
            ],
            labels=ctx.labels(
                "contractor", "work_orders", "response_on_time", "resolution_on_time", "breached"
            ),
            w=12,
            h=8,
        )
    )
    d.with_panel(
        listing(
            _("Breaches"),
            [
                ctx.sql(
                    f"SELECT work_order_id AS id, {contractor} AS contractor, priority, opened_at, "
                    "response_due_at, response_met_at, resolution_due_at, resolved_at "
                    f"FROM reporting_sla WHERE (response_breached OR resolution_breached) "
                    f"AND {where} ORDER BY opened_at DESC LIMIT 50"
                )
            ],
            labels=ctx.labels(
                "id",
                "contractor",
                "priority",
                "opened_at",
                "response_due_at",
                "response_met_at",
                "resolution_due_at",
                "resolved_at",
            ),
            w=12,
            h=8,
            links=[ctx.work_order_link()],
        )
    )
    d.with_panel(
        listing(
            _("Disputes"),
            [
                ctx.sql(
                    f"SELECT work_order_id AS id, {contractor} AS contractor, month, clock, "
                    "status, reason, opened_at, decided_at FROM reporting_sla_disputes "
                    f"WHERE {sql_filter(site_wide=True)} "
                    "ORDER BY opened_at DESC LIMIT 50"
                )
            ],
            labels=ctx.labels(
                "id", "contractor", "month", "clock", "status", "reason", "opened_at", "decided_at"
            ),
            w=24,
            h=6,
            links=[ctx.work_order_link()],
        )
    )
    return d
