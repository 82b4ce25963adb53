"""change counters: triggers bump counters on every change, so caches of work-order lists and
of token lookups know exactly when they are stale (plantroom.changes)

SQLite drops a table's triggers when Alembic's batch mode rebuilds the table. A later migration
that alters work_orders, assets, users or api_tokens in batch mode must create the triggers of
that table again (tests/workorders/test_list_cache.py fails otherwise).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 09:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

#: Which counters a change bumps (see plantroom.changes for what they cover).
PG_FUNCTIONS = """
CREATE FUNCTION plantroom_bump(counter text) RETURNS void AS $$
DECLARE
    flag text := 'plantroom.bumped_' || md5(counter);
BEGIN
    -- Once per transaction and counter: the triggers are deferred to commit, and fire per row.
    IF current_setting(flag, true) IS DISTINCT FROM txid_current()::text THEN
        PERFORM set_config(flag, txid_current()::text, true);
        INSERT INTO change_counters (name, version) VALUES (counter, 1)
            ON CONFLICT (name) DO UPDATE SET version = change_counters.version + 1;
    END IF;
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION plantroom_work_orders_changed() RETURNS trigger AS $$
BEGIN
    PERFORM plantroom_bump('workorders');
    IF TG_OP <> 'INSERT' THEN
        IF OLD.assignee_id IS NOT NULL THEN
            PERFORM plantroom_bump('workorders.assignee.' || OLD.assignee_id);
        END IF;
        IF OLD.contractor_id IS NOT NULL THEN
            PERFORM plantroom_bump('workorders.contractor.' || OLD.contractor_id);
        END IF;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        IF NEW.assignee_id IS NOT NULL THEN
            PERFORM plantroom_bump('workorders.assignee.' || NEW.assignee_id);
        END IF;
        IF NEW.contractor_id IS NOT NULL THEN
            PERFORM plantroom_bump('workorders.contractor.' || NEW.contractor_id);
        END IF;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION plantroom_changed() RETURNS trigger AS $$
BEGIN
    PERFORM plantroom_bump(TG_ARGV[0]);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""

#: (trigger, table, events, function) on PostgreSQL: deferred constraint triggers.
PG_TRIGGERS = (
    (
        "work_orders_changed",
        "work_orders",
        "INSERT OR UPDATE OR DELETE",
        "plantroom_work_orders_changed()",
    ),
    ("assets_changed", "assets", "INSERT OR UPDATE OR DELETE", "plantroom_changed('assets')"),
    (
        "users_changed",
        "users",
        "DELETE OR UPDATE OF username, role, organisation_id, active",
        "plantroom_changed('access')",
    ),
    (
        "api_tokens_changed",
        "api_tokens",
        "DELETE OR UPDATE OF token_hash, user_id, scopes, expires_at, revoked_at",
        "plantroom_changed('access')",
    ),
)


def _sqlite_bump(counter_sql: str, when: str = "") -> str:
    """A statement adding one to the counter named by counter_sql, creating it at 1."""
    return (
        f"INSERT INTO change_counters (name, version) SELECT {counter_sql}, 1 "
        f"WHERE {when or 'true'} ON CONFLICT (name) DO UPDATE SET version = version + 1;"
    )


def _sqlite_work_orders(row: str) -> list[str]:
    return [
        _sqlite_bump(
            f"'workorders.assignee.' || {row}.assignee_id", f"{row}.assignee_id IS NOT NULL"
        ),
        _sqlite_bump(
            f"'workorders.contractor.' || {row}.contractor_id", f"{row}.contractor_id IS NOT NULL"
        ),
    ]


#: (trigger, event and table, statements) on SQLite.
SQLITE_TRIGGERS = (
    (
        "work_orders_changed_insert",
        "INSERT ON work_orders",
        [_sqlite_bump("'workorders'"), *_sqlite_work_orders("NEW")],
    ),
    (
        "work_orders_changed_update",
        "UPDATE ON work_orders",
        [_sqlite_bump("'workorders'"), *_sqlite_work_orders("OLD"), *_sqlite_work_orders("NEW")],
    ),
    (
        "work_orders_changed_delete",
        "DELETE ON work_orders",
        [_sqlite_bump("'workorders'"), *_sqlite_work_orders("OLD")],
    ),
    ("assets_changed_insert", "INSERT ON assets", [_sqlite_bump("'assets'")]),
    ("assets_changed_update", "UPDATE ON assets", [_sqlite_bump("'assets'")]),
    ("assets_changed_delete", "DELETE ON assets", [_sqlite_bump("'assets'")]),
    ("users_changed_delete", "DELETE ON users", [_sqlite_bump("'access'")]),
    (
        "users_changed_update",
        "UPDATE OF username, role, organisation_id, active ON users",
        [_sqlite_bump("'access'")],
    ),
    ("api_tokens_changed_delete", "DELETE ON api_tokens", [_sqlite_bump("'access'")]),
    (
        "api_tokens_changed_update",
        "UPDATE OF token_hash, user_id, scopes, expires_at, revoked_at ON api_tokens",
        [_sqlite_bump("'access'")],
    ),
)


def upgrade() -> None:
    op.create_table(
        "change_counters",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_change_counters")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTIONS)
        for name, table, events, function in PG_TRIGGERS:
            op.execute(
                f"CREATE CONSTRAINT TRIGGER {name} AFTER {events} ON {table} "
                f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {function}"
            )
    else:
        for name, event, statements in SQLITE_TRIGGERS:
            op.execute(f"CREATE TRIGGER {name} AFTER {event} BEGIN {' '.join(statements)} END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, table, _, _ in PG_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        op.execute("DROP FUNCTION IF EXISTS plantroom_changed()")
        op.execute("DROP FUNCTION IF EXISTS plantroom_work_orders_changed()")
        op.execute("DROP FUNCTION IF EXISTS plantroom_bump(text)")
    else:
        for name, _, _ in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("change_counters")
