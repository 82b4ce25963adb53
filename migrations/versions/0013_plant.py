"""plant facts for the asset pages and the PM calendar (issue 15)

Nothing to add: assets have carried install_date, expected_life_years and replacement_cost
since 0001, and the PM calendar reads the work orders' pm_key, due_at, status and done times.
The revision stays so that the chain 0012 -> 0013 is the one the plan reserved.

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
    """Nothing: the columns the plant pages need exist (see the module docstring)."""


def downgrade() -> None:
    """Nothing to undo."""
