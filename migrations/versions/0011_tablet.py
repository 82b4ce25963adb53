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
    """Add the columns."""
    with op.batch_alter_table("locations") as batch:
        batch.add_column(sa.Column("name_zh", sa.String(200), nullable=True))
    with op.batch_alter_table("assets") as batch:
        batch.add_column(sa.Column("name_zh", sa.String(200), nullable=True))
        batch.add_column(sa.Column("building_name_zh", sa.String(200), nullable=True))
        batch.add_column(sa.Column("location_zh", sa.String(400), nullable=True))
    with op.batch_alter_table("work_orders") as batch:
        batch.add_column(
            sa.Column("awaiting_proof", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("proof_until", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_work_orders_proof_until", ["proof_until"])


def downgrade() -> None:
    """Drop them."""
    with op.batch_alter_table("work_orders") as batch:
        batch.drop_index("ix_work_orders_proof_until")
        batch.drop_column("proof_until")
        batch.drop_column("awaiting_proof")
    with op.batch_alter_table("assets") as batch:
        batch.drop_column("location_zh")
        batch.drop_column("building_name_zh")
        batch.drop_column("name_zh")
    with op.batch_alter_table("locations") as batch:
        batch.drop_column("name_zh")
