#!/usr/bin/env bash
# Start InfluxDB 1.x and PostgreSQL on loopback with throw-away data directories, for the tests.
# Usage: source .ci/services.sh   (exports PLANTROOM_TEST_INFLUX_URL and PLANTROOM_TEST_DATABASE_URL)
# Needs Debian's influxdb and postgresql packages (see .ci/run). Safe to run twice: a server that
# already answers on its port is used as it is. The servers keep running after the script; the
# work is done by scripts/services.py, which `python3 run.py test` also uses.
set -euo pipefail

SERVICES_DIR="${SERVICES_DIR:-/tmp/plantroom-services}"
INFLUX_PORT="${INFLUX_PORT:-18086}"
PG_PORT="${PG_PORT:-55432}"

exports=$(python3 "$(dirname "${BASH_SOURCE[0]}")/../scripts/services.py" start \
  --dir "$SERVICES_DIR" --influx-port "$INFLUX_PORT" --pg-port "$PG_PORT")
eval "$exports"
