"""The data the Grafana dashboards are checked and pictured against: a simulated period of the
demo site in InfluxDB and its maintenance history in the work-order database.

- InfluxDB: the simulator's readings of the period at one step, without the scripted faults
  (as the demo writes its own past) (collectors.simulator.history,
  through the collectors' InfluxV1Sink with the building and asset-class tags a live collector
  writes), the collector's own health records as a live collector would have written them, and
  the energy_daily rollups of the period's days (analytics.rollup over those readings);
- the work-order database: the demo's maintenance history up to the period's end
  (plantroom.maintenance_history) and the monthly snapshots of every month since its records
  began (analytics.jobs.backfill_snapshots).

Used by tests/dashboards/test_panels_return_data.py (a month at 5-minute steps) and by
scripts/dashboard_pictures.py (a year at 15-minute steps). Lives in the composition root: it
uses every domain.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Callable
from zoneinfo import ZoneInfo

import httpx
import psycopg

from analytics.jobs import backfill_snapshots
from analytics.rollup import write_rollup
from analytics.store_usage import StoreUsage
from collectors.simulator.history import ProgressBar, write_history
from collectors.sinks.influx import InfluxQLReader, InfluxV1Sink
from config.settings import Settings
from config.site import SiteConfig
from dashboards.runner import InfluxTarget
from plantroom.app import prepare_database
from plantroom.demo import ensure_demo_users, without_faults
from plantroom.maintenance_history import generate

Say = Callable[[str], None]


def load(
    site: SiteConfig,
    *,
    influx: InfluxTarget,
    sql_url: str,
    start: dt.datetime,
    end: dt.datetime,
    step_s: float,
    progress: bool = False,
    say: Say | None = None,
) -> dict[str, float]:
    """Fill InfluxDB and the work-order database (see the module docstring); returns how long
    each part took, in seconds. progress: a progress bar on stderr for the readings."""
    timings: dict[str, float] = {}
    assets = list(site.assets())
    sink = InfluxV1Sink(
        influx.url,
        influx.database,
        username=influx.username,
        password=influx.password,
        buildings={r.asset.id: r.building.id for r in assets},
        asset_classes={r.asset.id: r.asset.brick_class for r in assets},
        timeout=influx.timeout,
    )
    reader = InfluxQLReader(
        influx.url,
        influx.database,
        username=influx.username,
        password=influx.password,
        timeout=influx.timeout,
    )
    db = prepare_database(Settings(database_url=sql_url), site)
    bar = ProgressBar(sys.stderr) if progress else None
    try:
        t0 = time.monotonic()
        sink.ensure_database()
        written = write_history(
            without_faults(site),  # as the demo's own past: the scripted faults are its story
            start,
            end,
            [sink],
            step=step_s,
            progress=bar,
            health_every=max(step_s, 300.0),
        )
        if bar is not None:
            bar.close()
        timings["readings"] = time.monotonic() - t0
        if say:
            say(f"{written.readings:,} readings in {timings['readings']:.1f} s")
        t1 = time.monotonic()
        tz = ZoneInfo(site.doc.site.timezone)
        first = start.astimezone(tz).date()
        last = (end.astimezone(tz) - dt.timedelta(days=1)).date()
        rows = write_rollup(site, StoreUsage(site, reader, db), [sink], first=first, last=last)
        timings["rollups"] = time.monotonic() - t1
        if say:
            say(f"{rows:,} energy_daily rows in {timings['rollups']:.1f} s")
        t2 = time.monotonic()
        ensure_demo_users(db, site)  # the default assignees, and the demo contractor's open job
        orders = generate(db, site, now=end.astimezone(dt.UTC))
        timings["history"] = time.monotonic() - t2
        if say:
            say(
                f"{orders.corrective + orders.preventive:,} work orders in "
                f"{timings['history']:.1f} s"
            )
        t3 = time.monotonic()
        months = backfill_snapshots(db, site, now=end - dt.timedelta(minutes=1))
        timings["snapshots"] = time.monotonic() - t3
        if say:
            say(f"snapshots of {len(months)} months in {timings['snapshots']:.1f} s")
    finally:
        sink.close()
        reader.close()
        db.dispose()
    return timings


def throwaway_databases(
    influx_url: str, pg_admin_url: str, *, name: str, fresh: bool = True
) -> tuple[InfluxTarget, str]:
    """An InfluxDB database and a PostgreSQL database called name on the given servers (dropped
    and created again when fresh): the InfluxDB target and the PostgreSQL URL."""
    if fresh:
        for q in (f'DROP DATABASE "{name}"', f'CREATE DATABASE "{name}"'):
            httpx.post(f"{influx_url}/query", params={"q": q}, timeout=60).raise_for_status()
    admin = pg_admin_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if fresh and exists:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        if fresh or not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    base = pg_admin_url.rsplit("/", 1)[0]
    return InfluxTarget(influx_url, name, timeout=120), f"{base}/{name}"
