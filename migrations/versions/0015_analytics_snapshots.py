"""analytics: monthly snapshots of asset health and of the maintenance KPIs (issue 17)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 01:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the two tables of analytics.models."""
    op.create_table(
        "analytics_asset_health_monthly",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("asset_id", sa.String(100), nullable=False),
        sa.Column("age_ratio", sa.Float(), nullable=True),
        sa.Column("n_failures", sa.Integer(), nullable=False),
        sa.Column("beta", sa.Float(), nullable=True),
        sa.Column("beta_lower", sa.Float(), nullable=True),
        sa.Column("beta_upper", sa.Float(), nullable=True),
        sa.Column("mtbf_days", sa.Float(), nullable=True),
        sa.Column("mttr_hours", sa.Float(), nullable=True),
        sa.Column("cost_ratio", sa.Float(), nullable=True),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_analytics_asset_health_monthly"),
        sa.UniqueConstraint("month", "asset_id", name="uq_analytics_asset_health_monthly_month"),
    )
    op.create_table(
        "analytics_kpi_monthly",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("key", sa.String(150), nullable=False),
        sa.Column("mttr_hours", sa.Float(), nullable=True),
        sa.Column("mtbf_days", sa.Float(), nullable=True),
        sa.Column("pm_compliance_percent", sa.Float(), nullable=True),
        sa.Column("planned_share_percent", sa.Float(), nullable=True),
        sa.Column("backlog_crew_weeks", sa.Float(), nullable=True),
        sa.Column("recall_rate_percent", sa.Float(), nullable=True),
        sa.Column("spend_total", sa.Float(), nullable=False),
        sa.Column("spend_planned", sa.Float(), nullable=False),
        sa.Column("spend_reactive", sa.Float(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_analytics_kpi_monthly"),
        sa.UniqueConstraint("month", "key", name="uq_analytics_kpi_monthly_month_key"),
    )


def downgrade() -> None:
    """Drop the two tables."""
    op.drop_table("analytics_kpi_monthly")
    op.drop_table("analytics_asset_health_monthly")
