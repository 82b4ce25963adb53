#!/usr/bin/env bash
# Start InfluxDB 1.x and PostgreSQL on loopback with throw-away data directories, for the tests.
# Usage: source .ci/services.sh   (exports PLANTROOM_TEST_INFLUX_URL and PLANTROOM_TEST_DATABASE_URL)
# Needs Debian's influxdb and postgresql packages (see .ci/run). Safe to run twice.
set -euo pipefail

SERVICES_DIR="${SERVICES_DIR:-/tmp/plantroom-services}"
INFLUX_PORT="${INFLUX_PORT:-18086}"
PG_PORT="${PG_PORT:-55432}"
mkdir -p "$SERVICES_DIR"

wait_for() {  # wait_for NAME SECONDS COMMAND...
  local name=$1 secs=$2; shift 2
  for _ in $(seq 1 $((secs * 5))); do
    if "$@" >/dev/null 2>&1; then echo "$name is up"; return 0; fi
    sleep 0.2
  done
  echo "$name did not come up in ${secs}s" >&2; return 1
}

# --- InfluxDB 1.x -----------------------------------------------------------------------------
if ! curl -sf "http://127.0.0.1:${INFLUX_PORT}/ping" >/dev/null 2>&1; then
  INFLUX_DIR="$SERVICES_DIR/influxdb"
  rm -rf "$INFLUX_DIR"; mkdir -p "$INFLUX_DIR"
  cat > "$INFLUX_DIR/influxdb.conf" <<CONF
reporting-disabled = true
bind-address = "127.0.0.1:$((INFLUX_PORT + 2))"
[meta]
  dir = "$INFLUX_DIR/meta"
[data]
  dir = "$INFLUX_DIR/data"
  wal-dir = "$INFLUX_DIR/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:${INFLUX_PORT}"
  log-enabled = false
[monitor]
  store-enabled = false
CONF
  nohup influxd -config "$INFLUX_DIR/influxdb.conf" > "$INFLUX_DIR/influxd.log" 2>&1 &
  wait_for InfluxDB 60 curl -sf "http://127.0.0.1:${INFLUX_PORT}/ping"
fi
export PLANTROOM_TEST_INFLUX_URL="http://127.0.0.1:${INFLUX_PORT}"

# --- PostgreSQL -------------------------------------------------------------------------------
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if ! "$PG_BIN/pg_isready" -h 127.0.0.1 -p "$PG_PORT" >/dev/null 2>&1; then
  PG_DIR="$SERVICES_DIR/postgres"
  rm -rf "$PG_DIR"; mkdir -p "$PG_DIR"
  RUN_AS=()
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$PG_DIR"; RUN_AS=(runuser -u postgres --); fi
  "${RUN_AS[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U postgres >/dev/null
  "${RUN_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w \
    -o "-h 127.0.0.1 -p ${PG_PORT} -k $PG_DIR -c fsync=off -c max_connections=200" start >/dev/null
  wait_for PostgreSQL 60 "$PG_BIN/pg_isready" -h 127.0.0.1 -p "$PG_PORT"
fi
export PLANTROOM_TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:${PG_PORT}/postgres"
