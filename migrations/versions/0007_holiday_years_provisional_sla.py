"""provisional SLA clocks (a holiday year nobody knew), reported scorecards and their revisions,
site notices (workorders.sla_service, workorders.scorecard, workorders.notices)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 14:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("work_orders") as batch:
        batch.add_column(sa.Column("sla_provisional", sa.JSON(none_as_null=True), nullable=True))
    op.create_table(
        "scorecard_reports",
        sa.Column("contractor_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("provisional", sa.Boolean(), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contractor_id"],
            ["organisations.id"],
            name=op.f("fk_scorecard_reports_contractor_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("contractor_id", "month", name=op.f("pk_scorecard_reports")),
    )
    op.create_table(
        "scorecard_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contractor_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column("after", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contractor_id"],
            ["organisations.id"],
            name=op.f("fk_scorecard_revisions_contractor_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scorecard_revisions")),
    )
    op.create_index(
        "ix_scorecard_revisions_month", "scorecard_revisions", ["contractor_id", "month"]
    )
    op.create_table(
        "site_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("severity", sa.String(length=20), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_notices")),
        sa.UniqueConstraint("key", name=op.f("uq_site_notices_key")),
    )


def downgrade() -> None:
    op.drop_table("site_notices")
    op.drop_index("ix_scorecard_revisions_month", table_name="scorecard_revisions")
    op.drop_table("scorecard_revisions")
    op.drop_table("scorecard_reports")
    with op.batch_alter_table("work_orders") as batch:
        batch.drop_column("sla_provisional")
