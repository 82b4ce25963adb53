"""one outbox for everything that leaves the building (core.outbox): alert notifications, SLA and
site notices and webhook deliveries, with the alert notifications' grouping state

Webhook deliveries move into the outbox as messages of kind 'webhook', keeping their ids (the
X-Plantroom-Delivery receivers dedupe on, and the API's delivery ids), attempts and outcomes.
The SLA notification cursors go: the warnings, breaches and site notices past the cursor of the
target furthest behind become notices in the outbox, so nothing a target was still owed is
lost (a target that was ahead may hear one again: delivery is at least once).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08 10:00:00
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

PENDING = "delivered_at IS NULL AND failed_at IS NULL"
#: Timeline events the SLA notifications told, and the severity each was told as.
SLA_KINDS = {"sla_breach": "major", "sla_warning": "minor"}

outbox = sa.table(
    "outbox",
    sa.column("kind", sa.String),
    sa.column("target", sa.String),
    sa.column("topic", sa.String),
    sa.column("payload", sa.JSON),
    sa.column("dedup_key", sa.String),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("attempts", sa.Integer),
    sa.column("next_attempt_at", sa.DateTime(timezone=True)),
    sa.column("last_error", sa.Text),
)
cursors = sa.table(
    "notification_cursors", sa.column("target", sa.String), sa.column("last_event_id", sa.Integer)
)
events = sa.table(
    "work_order_events",
    sa.column("id", sa.Integer),
    sa.column("workorder_id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("message", sa.Text),
    sa.column("data", sa.JSON),
    sa.column("ts", sa.DateTime(timezone=True)),
)
work_orders = sa.table(
    "work_orders",
    sa.column("id", sa.Integer),
    sa.column("title", sa.String),
    sa.column("priority", sa.String),
    sa.column("status", sa.String),
    sa.column("asset_id", sa.String),
    sa.column("contractor_id", sa.Integer),
)
notices = sa.table(
    "site_notices",
    sa.column("id", sa.Integer),
    sa.column("key", sa.String),
    sa.column("kind", sa.String),
    sa.column("severity", sa.String),
    sa.column("message", sa.Text),
    sa.column("data", sa.JSON),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
DELIVERY_COLUMNS = (
    "id, attempts, next_attempt_at, delivered_at, failed_at, last_status, last_error, "
    "created_at, payload"
)


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _set_sequence(table: str) -> None:
    """On PostgreSQL, move the id sequence past ids copied in by hand."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"COALESCE((SELECT MAX(id) FROM {table}), 1), "
            f"(SELECT MAX(id) FROM {table}) IS NOT NULL)"
        )


def _owed_notices(conn: sa.Connection, now: dt.datetime) -> list[dict[str, Any]]:
    """The warnings, breaches and site notices past the cursor of the target furthest behind,
    as outbox notices (workorders.sla.notify.tell_sla_event and tell_notice write the same)."""
    rows = list(conn.execute(sa.select(cursors.c.target, cursors.c.last_event_id)))
    behind = {
        prefix: min((last for target, last in rows if target.startswith(prefix)), default=None)
        for prefix in ("sla ", "notice ")
    }
    out: list[dict[str, Any]] = []
    if behind["sla "] is not None:
        stmt = (
            sa.select(events, work_orders.c.title, work_orders.c.priority, work_orders.c.status)
            .add_columns(work_orders.c.asset_id, work_orders.c.contractor_id)
            .join(work_orders, work_orders.c.id == events.c.workorder_id)
            .where(events.c.id > behind["sla "], events.c.kind.in_(list(SLA_KINDS)))
            .order_by(events.c.id)
        )
        for ev in conn.execute(stmt).mappings():
            data = ev["data"] or {}
            payload = {
                "kind": ev["kind"],
                "severity": SLA_KINDS[ev["kind"]],
                "message": ev["message"],
                "at": _utc(ev["ts"]).isoformat(),
                "clock": data.get("clock"),
                "policy": data.get("policy"),
                "due_at": data.get("due_at"),
                "workorder": {
                    "id": ev["workorder_id"],
                    "title": ev["title"],
                    "priority": ev["priority"],
                    "status": ev["status"],
                    "asset_id": ev["asset_id"],
                    "contractor_id": ev["contractor_id"],
                },
            }
            out.append(_notice(ev["kind"], payload, None, now))
    if behind["notice "] is not None:
        stmt = sa.select(notices).where(notices.c.id > behind["notice "]).order_by(notices.c.id)
        for n in conn.execute(stmt).mappings():
            payload = {
                "kind": n["kind"],
                "severity": n["severity"],
                "message": n["message"],
                "at": _utc(n["created_at"]).isoformat(),
                "data": n["data"] or {},
            }
            out.append(_notice(n["kind"], payload, n["key"], now))
    return out


def _notice(
    topic: str, payload: dict[str, Any], key: str | None, now: dt.datetime
) -> dict[str, Any]:
    return {
        "kind": "notice",
        "target": "*",
        "topic": topic,
        "payload": payload,
        "dedup_key": key,
        "created_at": now,
        "attempts": 0,
        "next_attempt_at": now,
        "last_error": "",
    }


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("target", sa.String(length=300), nullable=False),
        sa.Column("topic", sa.String(length=100), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("dedup_key", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("leased_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_token", sa.String(length=32), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("kind", "dedup_key", name="uq_outbox_kind_dedup_key"),
    )
    op.create_index("ix_outbox_kind_target", "outbox", ["kind", "target", "id"], unique=False)
    op.create_index(
        "ix_outbox_due",
        "outbox",
        ["next_attempt_at"],
        unique=False,
        sqlite_where=sa.text(PENDING),
        postgresql_where=sa.text(PENDING),
    )
    op.create_table(
        "alert_notification_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_notification_state")),
    )
    now = dt.datetime.now(dt.UTC)
    state = sa.table(
        "alert_notification_state",
        sa.column("id", sa.Integer),
        sa.column("data", sa.JSON),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    op.bulk_insert(state, [{"id": 1, "data": {}, "updated_at": now}])

    # Webhook deliveries become outbox messages of kind 'webhook', ids kept. (A delivery claimed
    # at the time had its lease in next_attempt_at: it is simply due when that lease ends.)
    op.execute(
        "INSERT INTO outbox (id, kind, target, topic, payload, dedup_key, created_at, attempts, "
        "next_attempt_at, leased_until, lease_token, delivered_at, failed_at, last_status, "
        "last_error) "
        "SELECT id, 'webhook', CAST(webhook_id AS VARCHAR(300)), event, payload, NULL, "
        "created_at, attempts, next_attempt_at, NULL, NULL, delivered_at, failed_at, "
        "last_status, last_error FROM webhook_deliveries"
    )
    _set_sequence("outbox")

    owed = _owed_notices(op.get_bind(), now)
    if owed:
        op.bulk_insert(outbox, owed)

    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_deliveries_webhook_id"))
        batch_op.drop_index(batch_op.f("ix_webhook_deliveries_next_attempt_at"))
    op.drop_table("webhook_deliveries")
    op.drop_table("notification_cursors")


def downgrade() -> None:
    # Notices and alert notifications still pending in the outbox are lost: the versions before
    # kept no such queue (a target then starts after the newest SLA event there is).
    op.create_table(
        "notification_cursors",
        sa.Column("target", sa.String(length=300), nullable=False),
        sa.Column("last_event_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("target", name=op.f("pk_notification_cursors")),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("webhook_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=50), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["webhook_id"],
            ["webhooks.id"],
            name=op.f("fk_webhook_deliveries_webhook_id_webhooks"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
    )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webhook_deliveries_next_attempt_at"), ["next_attempt_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_webhook_deliveries_webhook_id"), ["webhook_id"], unique=False
        )
    op.execute(
        f"INSERT INTO webhook_deliveries (webhook_id, event, {DELIVERY_COLUMNS}) "
        f"SELECT CAST(target AS INTEGER), topic, {DELIVERY_COLUMNS} FROM outbox "
        "WHERE kind = 'webhook'"
    )
    _set_sequence("webhook_deliveries")
    op.drop_table("alert_notification_state")
    op.drop_index("ix_outbox_due", table_name="outbox")
    op.drop_index("ix_outbox_kind_target", table_name="outbox")
    op.drop_table("outbox")
