"""reporting views for Grafana, and the monthly capital-plan snapshot (issue 18)

The views are the contract Grafana's maintenance panels read (README, "Reporting views (the
contract)"); the tables behind them may change, the views' columns may not. PostgreSQL is the
contract (times timestamptz, month_start a date); SQLite gets the same names and columns.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 03:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from plantroom.migrate import grant_reporting

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

#: The KPIs' planned work (analytics.kpis.PLANNED_TYPES), so the views' planned spend is theirs.
PLANNED = "('preventive', 'inspection')"
#: workorders.orders.models.OPEN_STATES
OPEN = "('new', 'assigned', 'acknowledged', 'in_progress', 'on_hold')"


class Dialect:
    """The few expressions PostgreSQL and SQLite write differently. (Not a dataclass: Alembic
    loads a revision without registering its module, which dataclasses need.)"""

    def __init__(self, pg: bool):
        self.pg = pg

    def month_start(self, col: str) -> str:
        """The first day of a 'YYYY-MM' month, as a date."""
        return f"CAST({col} || '-01' AS date)" if self.pg else f"date({col} || '-01')"

    def number(self, col: str, *path: str) -> str:
        """A number inside a JSON column."""
        if self.pg:
            inner = "".join(f" -> '{p}'" for p in path[:-1])
            return f"CAST({col}{inner} ->> '{path[-1]}' AS double precision)"
        return f"CAST(json_extract({col}, '$.{'.'.join(path)}') AS REAL)"

    def string(self, col: str, key: str) -> str:
        """A string member of a JSON object column."""
        return f"{col} ->> '{key}'" if self.pg else f"json_extract({col}, '$.{key}')"

    def joined(self, col: str) -> str:
        """A JSON array of strings as one comma-separated text ('' when empty)."""
        if self.pg:
            return f"array_to_string(ARRAY(SELECT json_array_elements_text({col})), ',')"
        return f"COALESCE((SELECT group_concat(value, ',') FROM json_each({col})), '')"


def _work_orders(d: Dialect) -> str:
    return f"""
SELECT w.id, w.title, w.type, w.type IN {PLANNED} AS planned, w.status,
       w.status IN {OPEN} AS is_open, w.priority, w.origin, w.rule_id, w.asset_id,
       a.name AS asset_name, a.name_zh AS asset_name_zh, a.brick_class AS asset_class,
       a.building_id, a.building_name, a.building_name_zh, w.contractor_id,
       o.name AS contractor_name, w.created_at AS opened_at, w.acknowledged_at, w.resolved_at,
       w.closed_at, w.due_at, w.response_due_at, w.resolution_due_at, w.response_met_at,
       w.response_breached, w.resolution_breached, w.cost_total
FROM work_orders w
LEFT JOIN assets a ON a.id = w.asset_id
LEFT JOIN organisations o ON o.id = w.contractor_id
"""


def _costs(d: Dialect) -> str:
    def part(kind: str, table: str, amount: str, hours: str, spent: str) -> str:
        return f"""
SELECT x.workorder_id AS work_order_id, '{kind}' AS kind, {amount} AS amount, {hours} AS hours,
       {spent} AS spent_at, w.type IN {PLANNED} AS planned, w.type AS work_order_type,
       a.building_id, a.building_name, w.asset_id, a.brick_class AS asset_class,
       w.contractor_id, o.name AS contractor_name
FROM {table} x
JOIN work_orders w ON w.id = x.workorder_id
LEFT JOIN assets a ON a.id = w.asset_id
LEFT JOIN organisations o ON o.id = w.contractor_id"""

    zero = "CAST(0 AS double precision)" if d.pg else "0.0"
    return "\nUNION ALL".join(
        [
            part("labor", "work_order_labor", "x.hours * x.rate", "x.hours", "x.worked_at"),
            part("parts", "work_order_parts", "x.quantity * x.unit_cost", zero, "x.created_at"),
            part("other", "work_order_costs", "x.amount", zero, "x.created_at"),
        ]
    )


def _sla(d: Dialect) -> str:
    return f"""
SELECT w.id AS work_order_id, w.title, w.contractor_id, o.name AS contractor_name,
       a.building_id, w.asset_id, a.brick_class AS asset_class, w.priority, w.status,
       w.created_at AS opened_at,
       w.response_due_at, w.response_met_at,
       CASE WHEN w.response_due_at IS NULL THEN NULL
            WHEN w.response_breached THEN FALSE
            WHEN w.response_met_at IS NOT NULL THEN w.response_met_at <= w.response_due_at
       END AS response_on_time,
       w.resolution_due_at, w.resolved_at,
       CASE WHEN w.resolution_due_at IS NULL THEN NULL
            WHEN w.resolution_breached THEN FALSE
            WHEN w.status = 'cancelled' THEN NULL
            WHEN w.resolved_at IS NOT NULL THEN w.resolved_at <= w.resolution_due_at
       END AS resolution_on_time,
       w.response_breached, w.resolution_breached, w.status IN {OPEN} AS is_open
FROM work_orders w
LEFT JOIN assets a ON a.id = w.asset_id
LEFT JOIN organisations o ON o.id = w.contractor_id
WHERE w.response_due_at IS NOT NULL OR w.resolution_due_at IS NOT NULL
"""


def _sla_disputes(d: Dialect) -> str:
    return f"""
SELECT s.id AS dispute_id, s.contractor_id, o.name AS contractor_name,
       {d.month_start("s.month")} AS month_start, s.month, s.workorder_id AS work_order_id,
       s.clock, s.status, s.reason, s.raised_by, s.raised_at AS opened_at, s.decided_by,
       s.decided_at, a.building_id, w.asset_id, a.brick_class AS asset_class
FROM scorecard_disputes s
JOIN organisations o ON o.id = s.contractor_id
JOIN work_orders w ON w.id = s.workorder_id
LEFT JOIN assets a ON a.id = w.asset_id
"""


def _alerts(d: Dialect) -> str:
    return """
SELECT al.id AS alert_id, al.rule_id, al.asset_id, a.name AS asset_name,
       a.brick_class AS asset_class, a.building_id, al.severity, al.state, al.started_at,
       al.fired_at, al.resolved_at AS ended_at, al.workorder_id AS work_order_id
FROM alerts al
LEFT JOIN assets a ON a.id = al.asset_id
"""


def _asset_health(d: Dialect) -> str:
    return f"""
SELECT {d.month_start("h.month")} AS month_start, h.month, h.asset_id, a.name AS asset_name,
       a.name_zh AS asset_name_zh, a.brick_class AS asset_class, a.building_id,
       a.building_name, h.age_ratio, h.n_failures, h.beta, h.beta_lower, h.beta_upper,
       h.mtbf_days, h.mttr_hours, h.cost_ratio,
       {d.number("h.data", "cost", "repair_total")} AS cumulative_repair_cost,
       {d.number("h.data", "cost", "replacement_cost")} AS replacement_cost,
       {d.joined("h.flags")} AS flags, h.as_of
FROM analytics_asset_health_monthly h
LEFT JOIN assets a ON a.id = h.asset_id
"""


def _kpis(d: Dialect) -> str:
    firm = "CAST(substr(k.key, 12) AS INTEGER)"
    spend = ", ".join(
        f"{d.number('k.data', 'spend', kind)} AS spend_{kind}"
        for kind in ("labor", "parts", "other")
    )
    return f"""
SELECT {d.month_start("k.month")} AS month_start, k.month, k.key,
       CASE WHEN k.key LIKE 'building:%' THEN 'building'
            WHEN k.key LIKE 'contractor:%' THEN 'contractor'
            WHEN k.key LIKE 'class:%' THEN 'class'
            ELSE k.key END AS scope,
       CASE WHEN k.key LIKE 'building:%' THEN substr(k.key, 10) END AS building_id,
       CASE WHEN k.key LIKE 'building:%' THEN {d.string("k.data", "name")} END AS building_name,
       CASE WHEN k.key LIKE 'contractor:%' AND k.key <> 'contractor:in-house' THEN {firm}
       END AS contractor_id,
       CASE WHEN k.key LIKE 'contractor:%' THEN {d.string("k.data", "name")} END
           AS contractor_name,
       CASE WHEN k.key LIKE 'class:%' THEN substr(k.key, 7) END AS asset_class,
       k.mttr_hours, k.mtbf_days, k.pm_compliance_percent, k.planned_share_percent,
       k.backlog_crew_weeks, k.recall_rate_percent, k.spend_total, k.spend_planned,
       k.spend_reactive, {spend}, k.as_of
FROM analytics_kpi_monthly k
"""


def _capital_plan(d: Dialect) -> str:
    return f"""
SELECT {d.month_start("c.month")} AS month_start, c.month, c.rank, c.asset_id,
       a.name AS asset_name, a.name_zh AS asset_name_zh, a.brick_class AS asset_class,
       a.building_id, a.building_name, c.recommended_year, c.cost, c.score,
       {d.joined("c.reasons")} AS reasons, c.age_ratio, c.beta, c.beta_lower, c.beta_upper,
       c.cost_ratio, c.criticality, c.as_of
FROM analytics_capital_plan_monthly c
LEFT JOIN assets a ON a.id = c.asset_id
"""


VIEWS = {
    "reporting_work_orders": _work_orders,
    "reporting_costs": _costs,
    "reporting_sla": _sla,
    "reporting_sla_disputes": _sla_disputes,
    "reporting_alerts": _alerts,
    "reporting_asset_health": _asset_health,
    "reporting_kpis": _kpis,
    "reporting_capital_plan": _capital_plan,
}


def upgrade() -> None:
    """Create the capital-plan snapshot table and the reporting views; grant them to the
    read-only role if it exists (PostgreSQL)."""
    op.create_table(
        "analytics_capital_plan_monthly",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.String(100), nullable=False),
        sa.Column("recommended_year", sa.Integer(), nullable=False),
        sa.Column("cost", sa.Float(), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("age_ratio", sa.Float(), nullable=True),
        sa.Column("beta", sa.Float(), nullable=True),
        sa.Column("beta_lower", sa.Float(), nullable=True),
        sa.Column("beta_upper", sa.Float(), nullable=True),
        sa.Column("cost_ratio", sa.Float(), nullable=True),
        sa.Column("criticality", sa.String(20), nullable=True),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_analytics_capital_plan_monthly"),
        sa.UniqueConstraint("month", "asset_id", name="uq_analytics_capital_plan_monthly_month"),
    )
    bind = op.get_bind()
    d = Dialect(pg=bind.dialect.name == "postgresql")
    for name, sql in VIEWS.items():
        op.execute(f"CREATE VIEW {name} AS {sql(d)}")
    grant_reporting(bind)


def downgrade() -> None:
    """Drop the views and the capital-plan table."""
    for name in reversed(VIEWS):
        op.execute(f"DROP VIEW IF EXISTS {name}")
    op.drop_table("analytics_capital_plan_monthly")
