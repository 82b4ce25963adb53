"""Which store the API reads readings from: the one the settings configure.

The collector always writes the embedded store and, when configured, InfluxDB as well
(plantroom/runtime.py). The API may run apart from the collector, with a data directory of its
own (docker-compose.yml): InfluxDB, when configured, is the store both share, so it is read
first: InfluxDB 1.x (PLANTROOM_INFLUX_V1_URL), else 2.x (PLANTROOM_INFLUX_V2_URL, through its
InfluxQL endpoint), else the embedded store under the data directory.
"""

from __future__ import annotations

from collectors.sinks.buckets import BucketReader
from collectors.sinks.embedded import FILE_NAME, EmbeddedReader
from collectors.sinks.influx import InfluxQLReader
from config.settings import Settings


def configured_reader(settings: Settings) -> BucketReader:
    """The read side of the store the settings configure (see the module docstring)."""
    if settings.influx_v1_url:
        return InfluxQLReader(
            settings.influx_v1_url,
            settings.influx_database,
            username=settings.influx_username,
            password=settings.influx_password,
        )
    if settings.influx_v2_url:
        return InfluxQLReader(
            settings.influx_v2_url, settings.influx_bucket, token=settings.influx_token
        )
    return EmbeddedReader(settings.data_dir / FILE_NAME)
