"""Every account test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.db import Database


@pytest.fixture
def db(db_both: Database) -> Iterator[Database]:
    """The database under test: SQLite, then PostgreSQL (see tests/conftest.py:db_both)."""
    yield db_both
