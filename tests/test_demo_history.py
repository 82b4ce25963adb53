"""The demo's past: on its first start the demo writes simulated history (hourly, without the
live demo's scripted faults), bills the offline meters and rolls the days up; a later start
fills only the gap; and the meters carry their counters on, so the energy statistics never see a
counter go back at the seam (a reset would count the whole register as used)."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

from analytics.meters import meter_tree
from analytics.store_usage import StoreUsage
from collectors.simulator.history import last_stored, stored_counters
from collectors.simulator.models import build_models
from collectors.sinks.embedded import FILE_NAME, EmbeddedReader, EmbeddedStore
from config.settings import Settings
from config.site import SiteConfig
from core.db import Database
from plantroom.demo import HISTORY_STEP, backfill_history
from plantroom.site import Site

TZ = ZoneInfo("Asia/Shanghai")
#: Wednesday 2 December 2026, 10:00 on site: the demo's "now" in these tests.
NOW = dt.datetime(2026, 12, 2, 10, tzinfo=TZ).timestamp()


def test_first_start_writes_the_past_and_a_later_start_only_the_gap(
    settings: Settings, demo_site: Site, db: Database
) -> None:
    out = io.StringIO()
    backfill_history(settings, demo_site, db, days=3, now=NOW, out=out)
    assert "100.0%" in out.getvalue() and "Rolling up energy_daily" in out.getvalue()
    store = EmbeddedStore(settings.data_dir / FILE_NAME)
    try:
        first_end = last_stored(demo_site, store)
        assert first_end is not None and NOW - HISTORY_STEP <= first_end < NOW
        # Five hours later: the five hourly instants since, each as full as the last one before.
        backfill_history(settings, demo_site, db, days=3, now=NOW + 5 * 3600, out=io.StringIO())
        later = last_stored(demo_site, store)
        assert later == first_end + 5 * HISTORY_STEP
        one_instant = len(store.query(start=first_end, end=first_end + 1))
        added = store.query(start=first_end + 1)
        assert one_instant > 200 and len(added) == 5 * one_instant
    finally:
        store.close()


def test_the_past_has_none_of_the_live_demos_scripted_faults(
    settings: Settings, demo_site: Site, db: Database
) -> None:
    backfill_history(settings, demo_site, db, days=2, now=NOW, out=io.StringIO())
    store = EmbeddedStore(settings.data_dir / FILE_NAME)
    try:
        rows = store.query(asset="pump-1", point="motor_current")
        # The live demo wears pump 1's bearings 10 s after start (up to +16 A): its past does not.
        assert rows and max(r.value for r in rows if isinstance(r.value, float)) < 26
    finally:
        store.close()


def test_the_live_meters_carry_on_from_the_stored_counters(
    settings: Settings, demo_site: Site, db: Database
) -> None:
    counters = backfill_history(settings, demo_site, db, days=2, now=NOW, out=io.StringIO())
    stored = counters["a-main-meter"]["import_energy"]
    live = build_models(demo_site, NOW, counters=counters)["a-main-meter"].step(NOW)
    fresh = build_models(demo_site, NOW)["a-main-meter"].step(NOW)
    assert stored <= live["import_energy"] < stored + 1
    # Without them the meter would start from its factory value, far below: a "reset".
    assert fresh["import_energy"] < stored


def test_no_reset_is_seen_where_the_past_meets_the_present(
    settings: Settings, demo_site: Site, db: Database
) -> None:
    backfill_history(settings, demo_site, db, days=2, now=NOW, out=io.StringIO())
    backfill_history(settings, demo_site, db, days=2, now=NOW + 6 * 3600, out=io.StringIO())
    site: SiteConfig = demo_site
    usage = StoreUsage(site, EmbeddedReader(settings.data_dir / FILE_NAME), db)
    meter = meter_tree(site).get("a-main")
    start = dt.datetime.fromtimestamp(NOW - 6 * 3600, TZ)
    hours = usage.hourly(meter, start, start + dt.timedelta(hours=12))
    # Building A draws 100-500 kW: no hour may hold the whole register (millions of kWh).
    assert all(h.amount < 1000 for h in hours)
    assert stored_counters(site, EmbeddedStore(settings.data_dir / FILE_NAME))
