"""Alembic migrations and the SQLAlchemy models describe the same schema."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from core.db import Database
from plantroom import migrate
from plantroom.models import Base

pytestmark = pytest.mark.migrations


def _drift(url: str) -> list[object]:
    migrate.upgrade(url)
    db = Database(url)
    with db.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    db.dispose()
    return list(diffs)


def test_migrations_match_the_models_on_sqlite(tmp_path: Path) -> None:
    assert _drift(f"sqlite:///{tmp_path / 'm.db'}") == []


def test_migrations_match_the_models_on_postgres(pg_url: str) -> None:
    assert _drift(pg_url) == []
