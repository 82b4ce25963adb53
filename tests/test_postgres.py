"""PostgreSQL, the production database: migrations from empty, and the work-order API on it."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError

from config.settings import Settings
from config.site import SiteConfig
from core.db import Database
from plantroom import migrate
from plantroom.app import create_app, prepare_database
from tests.conftest import ADMIN_TOKEN
from workorders import intake
from workorders.orders import repository
from workorders.orders.models import WorkOrder


@pytest.mark.migrations
def test_migrations_build_the_schema_on_an_empty_postgres(pg_url: str) -> None:
    migrate.upgrade(pg_url)
    db = Database(pg_url)
    tables = set(inspect(db.engine).get_table_names())
    db.dispose()
    assert {
        "work_orders",
        "work_order_events",
        "assets",
        "alerts",
        "users",
        "api_tokens",
        "organisations",
        "alembic_version",
    } <= tables


def test_work_order_created_and_listed_through_the_api_on_postgres(
    pg_demo_url: str, settings: Settings, demo_site: SiteConfig
) -> None:
    settings.database_url = pg_demo_url
    db = prepare_database(settings, demo_site)
    app = create_app(settings, site=demo_site, db=db)
    with TestClient(app, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as c:
        created = c.post(
            "/api/v1/workorders",
            json={"title": "Replace lamp", "asset_id": "lift-a1", "priority": "P4"},
        )
        assert created.status_code == 201, created.text
        listed = c.get("/api/v1/workorders").json()["items"]
        changed = c.post(
            f"/api/v1/workorders/{created.json()['id']}/status", json={"status": "acknowledged"}
        )
    db.dispose()
    assert [w["title"] for w in listed] == ["Replace lamp"]
    assert listed[0]["created_at"].endswith(("Z", "+00:00"))
    assert changed.json()["status"] == "acknowledged"


def test_postgres_enforces_one_open_alert_work_order(
    pg_demo_url: str, settings: Settings, demo_site: SiteConfig
) -> None:
    settings.database_url = pg_demo_url
    db = prepare_database(settings, demo_site)
    at = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
    with db.session() as s:
        _, created = intake.open_from_alert(
            s, asset_id="pump-1", rule_id="r", title="t", priority="P2", trigger={}, at=at
        )
        _, again = intake.open_from_alert(
            s, asset_id="pump-1", rule_id="r", title="t", priority="P2", trigger={}, at=at
        )
    with pytest.raises(IntegrityError), db.session() as s:
        s.add(
            WorkOrder(
                title="dup",
                origin="alert",
                asset_id="pump-1",
                dedup_key=repository.alert_key("r", "pump-1"),
            )
        )
        s.flush()
    db.dispose()
    assert (created, again) == (True, False)


def test_processes_starting_together_on_a_fresh_database_all_mirror_the_site(
    pg_url: str, demo_site: SiteConfig, tmp_path: Path
) -> None:
    """docker-compose starts the api and a collector per building together after `migrate`:
    each mirrors the same site's assets, and none may die on another's insert."""
    migrate.upgrade(pg_url)
    script = (
        "import sys, time\n"
        "from config.settings import Settings\n"
        "from plantroom.app import prepare_database\n"
        "from plantroom.site import load_site\n"
        "site = load_site(sys.argv[1])\n"
        "settings = Settings(database_url=sys.argv[2], data_dir=sys.argv[3])\n"
        "time.sleep(max(0.0, float(sys.argv[4]) - time.time()))\n"
        "prepare_database(settings, site).dispose()\n"
    )
    at = time.time() + 4  # all three past their imports, then at once
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                script,
                str(demo_site.path),
                pg_url,
                str(tmp_path / str(i)),
                str(at),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for i in range(3)
    ]
    outputs = [p.communicate(timeout=120)[0].decode(errors="replace") for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], "\n".join(outputs)[-3000:]
    check = Database(pg_url)
    with check.session() as s:
        mirrored = {a.id for a in repository.list_assets(s)}
    check.dispose()
    assert {ref.asset.id for ref in demo_site.assets()} <= mirrored
