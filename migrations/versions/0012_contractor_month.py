"""contractor disputes, month sign-off and complaints (issue 15)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 22:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the three tables (new tables only: no batch copy of a table with triggers)."""
    op.create_table(
        "scorecard_disputes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "contractor_id",
            sa.Integer(),
            sa.ForeignKey(
                "organisations.id",
                ondelete="CASCADE",
                name="fk_scorecard_disputes_contractor_id_organisations",
            ),
            nullable=False,
        ),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column(
            "workorder_id",
            sa.Integer(),
            sa.ForeignKey(
                "work_orders.id",
                ondelete="CASCADE",
                name="fk_scorecard_disputes_workorder_id_work_orders",
            ),
            nullable=False,
        ),
        sa.Column("clock", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("raised_by", sa.String(200), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("decided_by", sa.String(200), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_scorecard_disputes"),
        sa.UniqueConstraint(
            "contractor_id", "month", "workorder_id", "clock", name="uq_scorecard_disputes_breach"
        ),
    )
    op.create_index("ix_scorecard_disputes_month", "scorecard_disputes", ["contractor_id", "month"])
    op.create_table(
        "scorecard_signoffs",
        sa.Column(
            "contractor_id",
            sa.Integer(),
            sa.ForeignKey(
                "organisations.id",
                ondelete="CASCADE",
                name="fk_scorecard_signoffs_contractor_id_organisations",
            ),
            nullable=False,
        ),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("signed_by", sa.String(200), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("contractor_id", "month", name="pk_scorecard_signoffs"),
    )
    op.create_table(
        "contractor_complaints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "contractor_id",
            sa.Integer(),
            sa.ForeignKey(
                "organisations.id",
                ondelete="CASCADE",
                name="fk_contractor_complaints_contractor_id_organisations",
            ),
            nullable=False,
        ),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column(
            "workorder_id",
            sa.Integer(),
            sa.ForeignKey(
                "work_orders.id",
                ondelete="SET NULL",
                name="fk_contractor_complaints_workorder_id_work_orders",
            ),
            nullable=True,
        ),
        sa.Column(
            "request_id",
            sa.Integer(),
            sa.ForeignKey(
                "work_orders.id",
                ondelete="SET NULL",
                name="fk_contractor_complaints_request_id_work_orders",
            ),
            nullable=True,
        ),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_by", sa.String(200), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_contractor_complaints"),
        sa.UniqueConstraint("request_id", name="uq_contractor_complaints_request_id"),
    )
    op.create_index(
        "ix_contractor_complaints_made", "contractor_complaints", ["contractor_id", "made_at"]
    )


def downgrade() -> None:
    """Drop the three tables."""
    op.drop_index("ix_contractor_complaints_made", table_name="contractor_complaints")
    op.drop_table("contractor_complaints")
    op.drop_table("scorecard_signoffs")
    op.drop_index("ix_scorecard_disputes_month", table_name="scorecard_disputes")
    op.drop_table("scorecard_disputes")
