#!/bin/bash
# InfluxQL on InfluxDB 2.x: map database `plantroom`, retention policy `autogen`, to the bucket.
#
# Mounted into /docker-entrypoint-initdb.d of the influxdb:2.7 image (docker-compose.yml). The
# image's entrypoint runs every executable *.sh there once, on the first start of an empty data
# volume, right after its own setup (DOCKER_INFLUXDB_INIT_MODE=setup) has created the org, the
# bucket and the admin token: the influx CLI is then configured (host and token) and the new
# bucket's id is in DOCKER_INFLUXDB_INIT_BUCKET_ID. A failing script fails the initialisation,
# and the image then deletes what it had set up, so a retry starts clean.
#
# InfluxDB 2.7 also answers a bucket with no mapping through a read-only "virtual" mapping
# (bucket name -> database, autogen); this explicit one is listed by `influx v1 dbrp list`,
# survives a renamed bucket and is the default retention policy of the database, so the
# queries of the Grafana data source, of the api's energy_daily rollup job and of the reader
# (`SELECT ... FROM readings`, `FROM energy_daily`, both in the one bucket) resolve to it.
set -eo pipefail

bucket="${DOCKER_INFLUXDB_INIT_BUCKET:?the image sets it from docker-compose.yml}"
bucket_id="${DOCKER_INFLUXDB_INIT_BUCKET_ID:?the image exports it after setup}"

influx v1 dbrp create \
    --org "${DOCKER_INFLUXDB_INIT_ORG}" \
    --db "${bucket}" \
    --rp autogen \
    --bucket-id "${bucket_id}" \
    --default
influx v1 dbrp list --org "${DOCKER_INFLUXDB_INIT_ORG}" --db "${bucket}"
