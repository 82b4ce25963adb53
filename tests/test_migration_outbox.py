"""Migration 0010 moves webhook deliveries into the outbox with their ids and outcomes, turns what
the SLA notification cursors still owed into outbox notices, and goes back again; on SQLite and
PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from core import outbox, outbox_repository
from core.db import Database
from plantroom import migrate
from workorders.orders.models import WorkOrderEvent
from workorders.sla import notices
from workorders.sla.notify import NOTICE
from workorders.webhooks.models import KIND, WebhookDelivery

pytestmark = pytest.mark.migrations

T = dt.datetime(2026, 11, 21, 2, tzinfo=dt.UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a SQLite file, then PostgreSQL."""
    if request.param == "postgresql":
        pg: str = request.getfixturevalue("pg_url")
        return pg
    return f"sqlite:///{tmp_path / 'm.db'}"


def _before(db: Database) -> list[int]:
    """What a 0009 database holds: a webhook with a delivered and a pending delivery, three SLA
    events, a site notice, and two SLA targets' cursors (one behind the other)."""
    with db.engine.begin() as c:
        # Raw SQL: the ORM's WorkOrder has columns later migrations add.
        wo_id = c.execute(
            text(
                "INSERT INTO work_orders (title, description, status, priority, type, origin, "
                "response_breached, resolution_breached, sla_paused_seconds, cost_total, "
                "alert_count, created_by, created_at, updated_at, version) VALUES "
                "('Booster pump tripped', '', 'new', 'P2', 'corrective', 'manual', false, false, "
                "0, 0, 0, 't', :t, :t, 1) RETURNING id"
            ),
            {"t": T},
        ).scalar_one()
    with db.session() as s:
        events = [
            WorkOrderEvent(
                workorder_id=wo_id,
                kind=kind,
                actor="sla",
                message=f"{kind} {i}",
                data={"clock": "response", "policy": "P2 urgent", "due_at": None},
                ts=T,
            )
            for i, kind in enumerate(["sla_warning", "sla_breach", "sla_breach"])
        ]
        s.add_all(events)
        s.flush()
        event_ids = [e.id for e in events]
    with db.engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO webhooks (id, url, secret, events, active, created_by, created_at) "
                "VALUES (3, 'http://127.0.0.1:9/h', 's', '[\"*\"]', true, 't', :t)"
            ),
            {"t": T},
        )
        for delivery_id, delivered in ((5, T), (7, None)):
            c.execute(
                text(
                    "INSERT INTO webhook_deliveries (id, webhook_id, event, payload, attempts, "
                    "next_attempt_at, delivered_at, failed_at, last_status, last_error, "
                    "created_at) VALUES (:id, 3, 'workorder.status', '{\"n\": 1}', :attempts, "
                    ":t, :delivered, NULL, :status, :error, :t)"
                ),
                {
                    "id": delivery_id,
                    "t": T,
                    "delivered": delivered,
                    "attempts": 1 if delivered else 2,
                    "status": 200 if delivered else 503,
                    "error": "" if delivered else "HTTP 503",
                },
            )
        c.execute(
            text(
                "INSERT INTO site_notices (key, kind, severity, message, data, created_at) "
                "VALUES ('calendar_missing:2027', 'calendar_missing', 'major', 'no 2027', "
                "'{\"year\": 2027}', :t)"
            ),
            {"t": T},
        )
        for target, last in (
            ("sla webhook http://127.0.0.1:9/a", event_ids[0]),  # behind: owed events 2 and 3
            ("sla email duty@example.org", event_ids[1]),
            ("notice webhook http://127.0.0.1:9/a", 0),  # owed the site notice
        ):
            c.execute(
                text("INSERT INTO notification_cursors VALUES (:target, :last)"),
                {"target": target, "last": last},
            )
    return event_ids


def test_upgrade_moves_deliveries_and_owed_notices_into_the_outbox_and_back(url: str) -> None:
    migrate.upgrade(url, "0009")
    db = Database(url)
    try:
        _before(db)
        migrate.upgrade(url, "0010")
        with db.session() as s:
            hooks = outbox_repository.messages(s, kind=KIND)
            owed = outbox_repository.messages(s, kind=NOTICE)
            pending = s.get(WebhookDelivery, 7)
            assert pending is not None and pending.webhook_id == 3 and pending.attempts == 2
            assert (pending.event, pending.payload, pending.last_status) == (
                "workorder.status",
                {"n": 1},
                503,
            )
        assert [(m.id, m.target, m.delivered_at is not None) for m in hooks] == [
            (5, "3", True),
            (7, "3", False),
        ]
        assert [(m.topic, m.payload["message"]) for m in owed] == [
            ("sla_breach", "sla_breach 1"),
            ("sla_breach", "sla_breach 2"),
            ("calendar_missing", "no 2027"),
        ]
        assert owed[0].payload["workorder"]["title"] == "Booster pump tripped"
        assert owed[0].payload["severity"] == "major"
        with db.session() as s:  # new messages get new ids, past the ones moved in
            new = outbox.enqueue(s, kind="test", target="x", payload={})
            assert new is not None and new > 7
            # the notice is there once: posting it again adds nothing
            assert not notices.post(
                s, key="calendar_missing:2027", kind="calendar_missing", severity="major",
                message="no 2027",
            )  # fmt: skip

        command.downgrade(migrate.alembic_config(url), "0009")
        with db.engine.connect() as c:
            rows = c.execute(
                text("SELECT id, webhook_id, attempts FROM webhook_deliveries ORDER BY id")
            ).all()
        assert [tuple(r) for r in rows] == [(5, 3, 1), (7, 3, 2)]
    finally:
        db.dispose()
