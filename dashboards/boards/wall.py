"""The wall: what the engineers' screen shows across the room, made for Grafana's kiosk mode.

Big numbers first (alerts firing, open work orders by priority, SLA at risk), then what needs a
name (the work orders at risk, the alerts), then whether the monitoring itself can be trusted
(collectors' devices, readings going stale).
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import common
from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.models import dashboard as model

from dashboards.boards.kit import big_stat, gauges, listing, rename, steps
from dashboards.common import Context, sql_filter

#: Open work orders due within this many hours count as at risk.
AT_RISK_HOURS = 4


def build(ctx: Context) -> dash.Dashboard:
    """The wall board."""
    _ = ctx._
    d = ctx.dashboard("wall", _("Wall"), refresh="30s").time("now-24h", "now")

    d.with_panel(
        big_stat(
            _("Alerts firing"),
            [
                ctx.sql(
                    "SELECT count(*) AS firing FROM reporting_alerts "
                    f"WHERE state = 'firing' AND {sql_filter()}"
                )
            ],
            thresholds=steps((None, "green"), (1, "red")),
            description=_("Alerts firing now in the selected buildings and asset classes."),
        )
    )
    by_priority = gauges(
        _("Open work orders by priority"),
        [
            ctx.sql(
                "SELECT p.priority, count(w.id) AS open "
                "FROM (VALUES ('P1'), ('P2'), ('P3'), ('P4')) AS p(priority) "
                "LEFT JOIN reporting_work_orders w ON w.priority = p.priority AND w.is_open "
                f"AND {sql_filter('w.', site_wide=True)} "
                "GROUP BY p.priority ORDER BY p.priority"
            )
        ],
        thresholds=steps((None, "green"), (1, "orange")),
        w=6,
        h=6,
    )
    d.with_panel(by_priority)
    d.with_panel(
        big_stat(
            _("SLA at risk"),
            [
                ctx.sql(
                    "SELECT count(*) FILTER (WHERE resolution_due_at < now()) AS breached, "
                    "count(*) FILTER (WHERE resolution_due_at >= now() AND resolution_due_at < "
                    f"now() + interval '{AT_RISK_HOURS} hours') AS due_soon "
                    "FROM reporting_work_orders "
                    "WHERE is_open AND resolution_due_at IS NOT NULL "
                    f"AND {sql_filter(site_wide=True)}"
                )
            ],
            labels=ctx.labels("breached", "due_soon"),
            values=True,
            thresholds=steps((None, "green"), (1, "red")),
            description=_(
                "Open work orders past their resolution time, and due within {hours} hours."
            ).format(hours=AT_RISK_HOURS),
        )
    )
    states = (
        'SELECT count("last") FROM (SELECT last("text") FROM "collector_health" '
        'WHERE "point" = \'device_state\' AND $timeFilter GROUP BY "device") '
        "WHERE \"last\" {op} 'ok'"
    )
    not_answering, answering = _("Not answering"), _("Answering")
    stale = big_stat(
        _("Devices"),
        [
            ctx.influx(states.format(op="!=")).alias(not_answering),
            ctx.influx(states.format(op="="), ref="B").alias(answering),
        ],
        thresholds=steps((None, "green"), (1, "red")),
        description=_(
            "Devices by the state their collector last reported: not answering (unavailable, "
            "quarantined, pending) and answering."
        ),
    )
    # InfluxQL counts nothing when no device is failing: show that as 0, not as no data.
    stale.no_value("0")
    stale.override_by_name(
        answering,
        [
            model.DynamicConfigValue(
                id_val="thresholds",
                value={"mode": "absolute", "steps": [{"color": "blue", "value": None}]},
            )
        ],
    )
    d.with_panel(stale)

    at_risk = listing(
        _("Open work orders, most urgent first"),
        [
            ctx.sql(
                "SELECT id, priority, title, building_name AS building, asset_name AS asset, "
                "contractor_name AS contractor, status, resolution_due_at AS due "
                f"FROM reporting_work_orders WHERE is_open AND {sql_filter(site_wide=True)} "
                "ORDER BY resolution_due_at NULLS LAST, priority LIMIT 25"
            )
        ],
        labels=ctx.labels(
            "id", "priority", "title", "building", "asset", "contractor", "status", "due"
        ),
        w=14,
        h=10,
        links=[ctx.work_order_link()],
    )
    d.with_panel(at_risk)
    d.with_panel(
        listing(
            _("Alerts"),
            [
                ctx.sql(
                    "SELECT started_at AS started, severity, rule_id AS rule, asset_id, state, "
                    "work_order_id FROM reporting_alerts "
                    f"WHERE ($__timeFilter(started_at) OR ended_at IS NULL) AND {sql_filter()} "
                    "ORDER BY ended_at IS NULL DESC, started_at DESC LIMIT 25"
                )
            ],
            labels=ctx.labels("started", "severity", "rule", "asset_id", "state", "work_order_id"),
            w=10,
            h=10,
            links=[ctx.asset_link()],
        )
    )

    d.with_row(dash.Row(_("Monitoring")))
    devices = listing(
        _("Collector: device states"),
        [
            ctx.influx(
                'SELECT last("text") AS "state" FROM "collector_health" '
                'WHERE "point" = \'device_state\' AND $timeFilter GROUP BY "device"'
            ).result_format("table")
        ],
        labels=ctx.labels("time", "device", "state"),
        w=12,
        h=10,
    )
    devices.mappings(
        [
            model.ValueMap(
                options={
                    "ok": model.ValueMappingResult(text=_("ok"), color="green", index=0),
                    "unavailable": model.ValueMappingResult(
                        text=_("unavailable"), color="red", index=1
                    ),
                    "quarantined": model.ValueMappingResult(
                        text=_("quarantined"), color="orange", index=2
                    ),
                    "pending": model.ValueMappingResult(text=_("pending"), color="blue", index=3),
                }
            )
        ]
    )
    d.with_panel(devices)
    last_good = listing(
        _("Readings going stale: last good poll per device"),
        [
            ctx.influx(
                'SELECT last("value") * 1000 AS "last_good" FROM "collector_health" '
                'WHERE "point" = \'device_last_good\' AND $timeFilter GROUP BY "device"'
            ).result_format("table")
        ],
        labels=ctx.labels("time", "device"),
        w=12,
        h=10,
        description=_("The oldest first: a device that has not answered for long is at the top."),
    )
    last_good.unit("dateTimeFromNow")
    last_good.sort_by(
        [common.TableSortByFieldState().display_name(_("Last good poll")).desc(False)]
    )
    rename(last_good, {"last_good": _("Last good poll")})
    d.with_panel(last_good)
    return d
