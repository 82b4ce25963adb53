"""action times: when the server received a person's timeline entry, and the time the client
stated beside the recording time in the audit log (workorders.service.action_time)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 15:00:00

Plain ADD COLUMN on both tables (no batch copy): audit_log carries triggers that refuse
UPDATE and DELETE, and a batch copy on SQLite would drop them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "work_order_events", sa.Column("received_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("audit_log", sa.Column("action_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("work_order_events") as batch:
        batch.drop_column("received_at")
    # audit_log is append-only; its column stays (dropping it would rebuild the table on SQLite
    # without its triggers).
