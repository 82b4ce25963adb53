"""collectors: leases on devices and assets, one collector each (issue 18)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 03:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create collectors.leases' table."""
    op.create_table(
        "collector_leases",
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("item_id", sa.String(100), nullable=False),
        sa.Column("collector", sa.String(200), nullable=False),
        sa.Column("instance", sa.String(200), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("renewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kind", "item_id", name="pk_collector_leases"),
    )
    op.create_index("ix_collector_leases_instance", "collector_leases", ["instance"])


def downgrade() -> None:
    """Drop it."""
    op.drop_index("ix_collector_leases_instance", table_name="collector_leases")
    op.drop_table("collector_leases")
