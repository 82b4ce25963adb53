"""PostgreSQL, the production database: migrations from empty, and the work-order API on it."""

from __future__ import annotations

import datetime as dt

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
