#!/bin/bash
# The read-only role Grafana connects as: plantroom_grafana, password from GRAFANA_DB_PASSWORD.
#
# Mounted into /docker-entrypoint-initdb.d of the postgres image (docker-compose.yml), which
# runs it once, on an empty data volume, before the server takes connections, so the role exists
# before the `migrate` service runs. The Alembic migration of the reporting views grants SELECT
# on each view to this role when it exists, and `plantroom migrate` grants it again: a role
# created later (by running this script by hand, see "Deployment" in the README) gets its grants
# from the next `docker compose run --rm migrate`.
#
# Safe to run again: it creates the role when missing and otherwise sets its password (a way
# to change it):
#   docker compose exec -T postgres bash /docker-entrypoint-initdb.d/10-grafana-role.sh
#
# No `set -u`: when the file is not executable the image sources it into its own entrypoint.
set -eo pipefail

if [ -z "${GRAFANA_DB_PASSWORD}" ]; then
    echo "10-grafana-role.sh: GRAFANA_DB_PASSWORD is empty; set it in .env" >&2
    exit 1
fi

# The password reaches SQL as a psql variable, quoted by psql (:'name'), never pasted into the
# statement text, and is not echoed.
psql --no-psqlrc -v ON_ERROR_STOP=1 \
    --username "${POSTGRES_USER:-postgres}" \
    --dbname "${POSTGRES_DB:-${POSTGRES_USER:-postgres}}" \
    --set=role_password="${GRAFANA_DB_PASSWORD}" \
    --set=dbname="${POSTGRES_DB:-${POSTGRES_USER:-postgres}}" <<'SQL'
SELECT 'CREATE ROLE plantroom_grafana'
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'plantroom_grafana') \gexec

ALTER ROLE plantroom_grafana
    WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    PASSWORD :'role_password';
-- Belt and braces: even a table granted by mistake cannot be written through this role, and a
-- runaway dashboard query is stopped.
ALTER ROLE plantroom_grafana SET default_transaction_read_only = on;
ALTER ROLE plantroom_grafana SET statement_timeout = '60s';

GRANT CONNECT ON DATABASE :"dbname" TO plantroom_grafana;
GRANT USAGE ON SCHEMA public TO plantroom_grafana;
SQL
