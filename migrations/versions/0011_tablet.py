"""the crew's tablet: names in Simplified Chinese for locations and assets, and fixes awaiting
proof (resolved while their alert still fired)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the columns: plain ADD COLUMN, no batch copy, which on SQLite would drop the change
    counter triggers of assets and work_orders (migration 0005)."""
    op.add_column("locations", sa.Column("name_zh", sa.String(200), nullable=True))
    op.add_column("assets", sa.Column("name_zh", sa.String(200), nullable=True))
    op.add_column("assets", sa.Column("building_name_zh", sa.String(200), nullable=True))
    op.add_column("assets", sa.Column("location_zh", sa.String(400), nullable=True))
    op.add_column(
        "work_orders",
        sa.Column("awaiting_proof", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "work_orders", sa.Column("proof_until", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_index("ix_work_orders_proof_until", "work_orders", ["proof_until"])


def downgrade() -> None:
    """Drop them, again without a batch copy (SQLite 3.35+ drops a column in place), so the
    change counter triggers stay."""
    op.drop_index("ix_work_orders_proof_until", table_name="work_orders")
    op.drop_column("work_orders", "proof_until")
    op.drop_column("work_orders", "awaiting_proof")
    op.drop_column("assets", "location_zh")
    op.drop_column("assets", "building_name_zh")
    op.drop_column("assets", "name_zh")
    op.drop_column("locations", "name_zh")
