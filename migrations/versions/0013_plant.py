"""plant facts for the asset pages and the PM calendar (issue 15)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 22:00:00
"""

from __future__ import annotations

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing yet."""


def downgrade() -> None:
    """Nothing yet."""
