"""Run Alembic migrations from code (the app and `plantroom migrate` both use this)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, create_engine, make_url, pool, text

ROOT = Path(__file__).resolve().parent.parent

#: The read-only role Grafana connects as (the deployment creates it: deploy/).
GRAFANA_ROLE = "plantroom_grafana"

#: Grants the role, when it exists, USAGE on the schema and SELECT on every reporting_* view in
#: it: the views are found in the catalog, so a view a later migration adds is granted too. Only
#: what is missing is granted, under a lock: every process that starts migrates, and two GRANTs
#: on one object at once fail ("tuple concurrently updated").
GRANT_SQL = """
DO $grant$
DECLARE
    v record;
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN
        PERFORM pg_advisory_xact_lock(7318024916);
        IF NOT has_schema_privilege('{role}', current_schema(), 'USAGE') THEN
            EXECUTE format('GRANT USAGE ON SCHEMA %I TO {role}', current_schema());
        END IF;
        FOR v IN
            SELECT c.oid, c.relname FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = current_schema() AND c.relkind = 'v'
              AND c.relname LIKE 'reporting\\_%'
        LOOP
            IF NOT has_table_privilege('{role}', v.oid, 'SELECT') THEN
                EXECUTE format('GRANT SELECT ON %I.%I TO {role}', current_schema(), v.relname);
            END IF;
        END LOOP;
    END IF;
END
$grant$
"""


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at this checkout's migrations and the given database."""
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def grant_reporting(connection: Connection) -> None:
    """On PostgreSQL, grant the read-only role (if it exists) SELECT on the reporting views."""
    if connection.dialect.name == "postgresql":
        connection.execute(text(GRANT_SQL.format(role=GRAFANA_ROLE)))


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at url up to revision, then grant the reporting views again (to a
    read-only role created since the views were)."""
    command.upgrade(alembic_config(url), revision)
    if make_url(url).get_backend_name() == "postgresql":
        engine = create_engine(url, poolclass=pool.NullPool)
        try:
            with engine.begin() as conn:
                grant_reporting(conn)
        finally:
            engine.dispose()
