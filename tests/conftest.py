"""Shared fixtures. Server-backed fixtures skip locally with a message saying what to start, and
fail under CI (CI is set), where .ci/run starts the servers."""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from config.settings import Settings
from config.site import SITES_DIR, SiteConfig
from core.db import Database
from plantroom import migrate
from plantroom.app import create_app
from plantroom.site import load_site
from tests.databases import PostgresTemplates, SqliteTemplates
from tests.notify_servers import receiver, smtp  # noqa: F401  (fixtures shared by test modules)
from workorders.sla import calendars

ROOT = Path(__file__).resolve().parent.parent
ADMIN_TOKEN = "test-admin-token-" + "x" * 16
#: Alembic's upgrade itself; tests see a stand-in that copies first (_alembic_once_per_session).
ALEMBIC_UPGRADE = migrate.upgrade


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In a pytest-xdist worker (run.py runs the tests that way), the `slow` tests come first,
    in their usual order: one of them started last would keep its worker busy long after the
    others ran out of tests. Every worker sorts alike, as xdist requires."""
    if hasattr(config, "workerinput"):
        items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def need(what: str, how: str) -> None:
    """A server the test needs is missing: fail under CI, skip locally with instructions."""
    msg = f"{what} is not available. {how}"
    if os.environ.get("CI"):
        pytest.fail(f"CI: {msg}")
    pytest.skip(msg)


@pytest.fixture(autouse=True)
def _no_leftover_threads() -> Iterator[None]:
    """A test must not leave a thread running behind it (they leak sockets and state)."""
    before = set(threading.enumerate())
    yield
    leftovers = [
        t
        for t in threading.enumerate()
        if t not in before
        and t.is_alive()
        and not t.daemon
        and not t.name.startswith(("asyncio_", "AnyIO", "ThreadPoolExecutor"))
    ]
    for t in leftovers:
        t.join(timeout=2)
    leftovers = [t for t in leftovers if t.is_alive()]
    assert not leftovers, f"threads left running: {[t.name for t in leftovers]}"


@pytest.fixture(autouse=True)
def _holiday_table_restored() -> Iterator[None]:
    """The holiday table a test installs (create_app installs its site's) is put back after it."""
    before = calendars.installed()
    yield
    calendars.install(before)


@pytest.fixture(scope="session")
def demo_site() -> SiteConfig:
    """The demo building's configuration."""
    return load_site(SITES_DIR / "demo")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Embedded-default settings in a temporary data directory."""
    return Settings(
        data_dir=tmp_path / "data", admin_token=ADMIN_TOKEN, cookie_secure=False, _env_file=None
    )  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def sqlite_templates(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> SqliteTemplates:
    """The session's migrated SQLite files, which tests get copies of (tests/databases.py)."""
    return SqliteTemplates(
        tmp_path_factory.mktemp("templates"),
        lambda: request.getfixturevalue("demo_site"),
        ALEMBIC_UPGRADE,
    )


@pytest.fixture(autouse=True)
def _alembic_once_per_session(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Code under test that migrates a new SQLite file (prepare_database, the CLI, a backtest)
    finds it a copy of the session's migrated one, at head; Alembic then has nothing to do.

    Tests marked `migrations` run Alembic from empty: migrating is what they check.
    """
    if request.node.get_closest_marker("migrations"):
        return
    templates: SqliteTemplates = request.getfixturevalue("sqlite_templates")

    def upgrade(url: str, revision: str = "head") -> None:
        if revision == "head":
            templates.seed(url)
        ALEMBIC_UPGRADE(url, revision)

    monkeypatch.setattr(migrate, "upgrade", upgrade)


@pytest.fixture
def db(settings: Settings, sqlite_templates: SqliteTemplates) -> Iterator[Database]:
    """A migrated SQLite database holding the demo's assets (a copy of the session's)."""
    url = settings.sqlalchemy_url()
    sqlite_templates.copy("demo", url)
    database = Database(url)
    yield database
    database.dispose()


@pytest.fixture
def client(settings: Settings, demo_site: SiteConfig, db: Database) -> Iterator[TestClient]:
    """The app over SQLite, with the admin token preset."""
    app = create_app(settings, site=demo_site, db=db)
    with TestClient(app, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as c:
        yield c


@pytest.fixture(params=["sqlite", "postgresql"])
def db_both(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Database]:
    """A migrated database holding the demo's assets: SQLite, then PostgreSQL.

    Work-order tests use this as their `db` (tests/workorders/conftest.py), so every one of them
    runs on both databases. The PostgreSQL run skips locally, and fails under CI, without a server.
    """
    if request.param == "postgresql":
        settings.database_url = request.getfixturevalue("pg_demo_url")
    else:
        request.getfixturevalue("sqlite_templates").copy("demo", settings.sqlalchemy_url())
    database = Database(settings.sqlalchemy_url())
    yield database
    database.dispose()


# --- PostgreSQL ---------------------------------------------------------------------------------


def _pg_admin_url() -> str:
    return os.environ.get(
        "PLANTROOM_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:55432/postgres"
    )


@pytest.fixture(scope="session")
def pg_templates(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PostgresTemplates]:
    """The session's migrated PostgreSQL databases, which tests get copies of (tests/databases.py).

    Skips locally, and fails under CI, when no server answers."""
    import psycopg

    admin = _pg_admin_url()
    try:
        psycopg.connect(
            admin.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=3
        ).close()
    except psycopg.OperationalError as exc:
        need(
            "PostgreSQL",
            f"Install it (apt-get install postgresql) and run the tests with `python3 run.py "
            f"test`, or start one with `source .ci/services.sh`, or set "
            f"PLANTROOM_TEST_DATABASE_URL ({exc.__class__.__name__}).",
        )
    templates = PostgresTemplates(
        admin,
        tmp_path_factory.mktemp("pg-templates"),
        lambda: request.getfixturevalue("demo_site"),
        ALEMBIC_UPGRADE,
    )
    yield templates
    templates.close()


@pytest.fixture
def pg_url(pg_templates: PostgresTemplates) -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped afterwards (for tests of the migrations)."""
    url = pg_templates.empty()
    yield url
    pg_templates.drop(url)


@pytest.fixture
def pg_demo_url(pg_templates: PostgresTemplates) -> Iterator[str]:
    """A migrated PostgreSQL database holding the demo's assets (a copy of the session's),
    dropped afterwards."""
    url = pg_templates.copy("demo")
    yield url
    pg_templates.drop(url)


# --- InfluxDB 1.x -------------------------------------------------------------------------------


@pytest.fixture
def influx_url() -> str:
    """A reachable InfluxDB 1.x server."""
    url = os.environ.get("PLANTROOM_TEST_INFLUX_URL", "http://127.0.0.1:18086")
    try:
        httpx.get(f"{url}/ping", timeout=3).raise_for_status()
    except httpx.HTTPError as exc:
        need(
            "InfluxDB 1.x",
            f"Install it (apt-get install influxdb) and run the tests with `python3 run.py test`, "
            f"or start one with `source .ci/services.sh`, or set PLANTROOM_TEST_INFLUX_URL "
            f"({exc.__class__.__name__}).",
        )
    return url


@pytest.fixture
def influx_db(influx_url: str) -> Iterator[str]:
    """A fresh InfluxDB database name, dropped afterwards."""
    name = "plantroom_test_" + secrets.token_hex(4)
    yield name
    httpx.post(f"{influx_url}/query", params={"q": f'DROP DATABASE "{name}"'}, timeout=10)
