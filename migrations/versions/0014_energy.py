"""energy: offline meters' entries and meter replacements (issue 16)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 00:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the two tables of analytics.offline.models."""
    op.create_table(
        "energy_offline_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meter", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("entered_value", sa.Float(), nullable=False),
        sa.Column("entered_unit", sa.String(10), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_energy_offline_entries"),
    )
    op.create_index("ix_energy_offline_entries_meter_at", "energy_offline_entries", ["meter", "at"])
    op.create_index(
        "ix_energy_offline_entries_meter_start", "energy_offline_entries", ["meter", "start"]
    )
    op.create_table(
        "energy_meter_replacements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meter", sa.String(100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("old_final", sa.Float(), nullable=False),
        sa.Column("new_initial", sa.Float(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_energy_meter_replacements"),
    )
    op.create_index(
        "ix_energy_meter_replacements_meter_at",
        "energy_meter_replacements",
        ["meter", "at"],
        unique=True,
    )


def downgrade() -> None:
    """Drop the two tables."""
    op.drop_index("ix_energy_meter_replacements_meter_at", "energy_meter_replacements")
    op.drop_table("energy_meter_replacements")
    op.drop_index("ix_energy_offline_entries_meter_start", "energy_offline_entries")
    op.drop_index("ix_energy_offline_entries_meter_at", "energy_offline_entries")
    op.drop_table("energy_offline_entries")
