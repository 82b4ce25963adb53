"""StoreUsage: what a meter used per local day and per hour, read from the embedded store and
from a real InfluxDB 1.x, with offline meters and recorded replacements from the database; and
the one-pass consumption_by_period it is built on. Figures are worked by hand."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from analytics.counters import Reading, Replacement, consumption, consumption_by_period
from analytics.meters import Meter
from analytics.offline.models import MeterReplacement, OfflineEntry
from analytics.site import PointRef
from analytics.store_usage import StoreUnavailable, StoreUsage
from collectors.readings import Quality
from collectors.readings import Reading as StoreReading
from collectors.sinks.buckets import BucketReader
from collectors.sinks.embedded import EmbeddedReader, EmbeddedStore
from collectors.sinks.influx import InfluxQLReader, InfluxV1Sink
from config.site import SiteConfig
from core.db import Database
from tests.analytics.conftest import SHANGHAI

DAY1 = dt.date(2026, 3, 10)
DAY2 = dt.date(2026, 3, 11)
MIDNIGHT1 = dt.datetime.combine(DAY1, dt.time(), SHANGHAI)


def meter(
    id: str = "a-main", *, source: str = "telemetry", kind: str = "counter", unit: str = "kWh"
) -> Meter:
    """A meter of the kind a test needs."""
    return Meter(
        id=id,
        name=id,
        name_zh=None,
        building="bldg-a",
        carrier="electricity" if unit == "kWh" else "natural_gas",
        unit=unit,
        source=source,  # type: ignore[arg-type]
        kind=kind,  # type: ignore[arg-type]
        point="import_energy" if source == "telemetry" else None,
        parent=None,
        sub_item=None,
    )


# --- consumption_by_period ----------------------------------------------------------------------


def h(hours: float) -> dt.datetime:
    """MIDNIGHT1 plus that many hours."""
    return MIDNIGHT1 + dt.timedelta(hours=hours)


def test_per_period_consumption_matches_the_counter_read_once_per_period() -> None:
    readings = [Reading(h(i), v) for i, v in enumerate([0, 10, None, None, 50, 3, 13, 20])]
    swap = Replacement(h(6.5), old_final=16, new_initial=1)
    edges = [h(-1), h(1.5), h(3), h(5.5), h(9)]
    gap = dt.timedelta(hours=2)
    by_period = consumption_by_period(readings, edges, max_gap=gap, replacements=[swap])
    one_by_one = [
        consumption(readings, a, b, max_gap=gap, replacements=[swap])
        for a, b in itertools.pairwise(edges)
    ]
    assert [c.amount for c in by_period] == pytest.approx([c.amount for c in one_by_one])
    # 1..4 used 40 over 3 h, bridged across the unavailable readings; 4..5 is a reset (3);
    # 6..7 spans the swap: (16 - 13) + (20 - 1) = 22.
    assert [c.amount for c in by_period] == pytest.approx(
        [10 + 40 / 6, 20, 40 / 3 + 3 + 10 / 2, 10 / 2 + 22]
    )
    assert [c.estimated_seconds for c in by_period] == [1800, 5400, 3600, 0]
    assert [c.missing_seconds for c in by_period] == [3600, 0, 0, 7200]
    assert by_period[2].resets == [h(5)] and by_period[3].replacements == [h(6.5)]


# --- the stores ---------------------------------------------------------------------------------

Write = Callable[[list[StoreReading]], None]


@pytest.fixture(params=["embedded", "influx"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Write, BucketReader]]:
    """A way to write readings and the reader of the same store: the embedded file, then a real
    InfluxDB 1.x (skips locally without one)."""
    if request.param == "embedded":
        st = EmbeddedStore(tmp_path / "readings.sqlite")
        reader: BucketReader = EmbeddedReader(tmp_path / "readings.sqlite")
        yield st.write, reader
        st.close()
        return
    url, name = request.getfixturevalue("influx_url"), request.getfixturevalue("influx_db")
    sink = InfluxV1Sink(url, name)
    sink.ensure_database()
    reader = InfluxQLReader(url, name)
    yield sink.write, reader
    sink.close()
    reader.close()


def counter(
    asset: str, start: dt.datetime, values: Sequence[float | None], *, every_min: int = 15
) -> list[StoreReading]:
    """Readings of the import_energy counter from start, one every `every_min` minutes; None is
    an unavailable reading."""
    out = []
    for i, v in enumerate(values):
        ts = (start + dt.timedelta(minutes=every_min * i)).timestamp()
        q = Quality.good if v is not None else Quality.unavailable
        out.append(StoreReading(ts, asset, "meter-1", "import_energy", v, "kWh", q))
    return out


def ramp(start: float, per_hour: float, hours: int, every_min: int = 15) -> list[float]:
    """A counter rising steadily."""
    steps = hours * 60 // every_min
    return [start + per_hour * k * every_min / 60 for k in range(steps)]


def usage(site: SiteConfig[Any], reader: BucketReader, db: Database) -> StoreUsage:
    """The StoreUsage under test."""
    return StoreUsage(site, reader, db)


def test_days_are_cut_at_local_midnight(
    store: tuple[Write, BucketReader], demo_site: SiteConfig[Any], db: Database
) -> None:
    """10 kWh an hour on 10 March (Shanghai), 20 kWh an hour on the 11th: 240 and 480, not the
    mix a UTC day would give."""
    write, reader = store
    values = ramp(1000, 10, 24) + ramp(1240, 20, 24) + [1720.0]
    write(counter("a-main", MIDNIGHT1, values))
    days = usage(demo_site, reader, db).daily(meter(), DAY1, DAY2)
    assert [d.amount for d in days] == pytest.approx([240, 480])
    assert [d.start for d in days] == [MIDNIGHT1, MIDNIGHT1 + dt.timedelta(days=1)]
    assert [d.estimated_share for d in days] == [0, 0]


def test_hours_without_a_good_reading_are_bridged_and_said_to_be_estimated(
    store: tuple[Write, BucketReader], demo_site: SiteConfig[Any], db: Database
) -> None:
    """Unavailable from 03:00 to 06:00: the day still used 240 kWh (the counter kept counting),
    and the three hours it could not see are estimated: 3/24 of the day."""
    write, reader = store
    values: list[float | None] = [*ramp(0, 10, 24), 240.0]
    for i in range(12, 24):  # 03:00 .. 05:45
        values[i] = None
    write(counter("a-main", MIDNIGHT1, values))
    (day,) = usage(demo_site, reader, db).daily(meter(), DAY1, DAY1)
    assert day.amount == pytest.approx(240)
    assert day.estimated_s == 3 * 3600
    assert day.estimated_share == pytest.approx(3 / 24)


def test_a_reset_and_a_recorded_replacement_count_what_was_used(
    store: tuple[Write, BucketReader], demo_site: SiteConfig[Any], db: Database
) -> None:
    """Hourly readings on the hour. At 05:00 the counter restarts from 0 (a reset); at 12:30
    the meter is replaced (old meter's final 180, new meter starts at 2): every hour used 10."""
    write, reader = store
    values = [100 + 10 * k for k in range(5)]  # 00:00 .. 04:00: 100 .. 140
    values += [10 * (k - 4) for k in range(5, 13)]  # 05:00 .. 12:00: 10 .. 80 (reset)
    values += [2 + 5 + 10 * (k - 13) for k in range(13, 25)]  # 13:00 ..: 7, 17 ..
    write(counter("a-main", MIDNIGHT1, [float(v) for v in values], every_min=60))
    with db.session() as s:
        s.add(
            MeterReplacement(
                meter="a-main",
                at=h(12.5),
                old_final=85.0,
                new_initial=2.0,
                recorded_by="test",
            )
        )
    (day,) = usage(demo_site, reader, db).daily(meter(), DAY1, DAY1)
    assert day.amount == pytest.approx(240)
    hours = usage(demo_site, reader, db).hourly(meter(), h(11), h(14))
    assert [u.amount for u in hours] == pytest.approx([10, 10, 10])


def test_time_before_the_first_reading_is_missing(
    store: tuple[Write, BucketReader], demo_site: SiteConfig[Any], db: Database
) -> None:
    """A meter installed at noon: the morning is missing (not 0 and not guessed)."""
    write, reader = store
    write(counter("a-main", h(12), [*ramp(0, 10, 12), 120.0]))
    (day,) = usage(demo_site, reader, db).daily(meter(), DAY1, DAY1)
    assert (day.amount, day.missing_s, day.estimated_share) == (
        pytest.approx(120),
        12 * 3600,
        0.5,
    )


def test_a_long_range_is_read_in_chunks(
    store: tuple[Write, BucketReader], demo_site: SiteConfig[Any], db: Database
) -> None:
    """300 days are 7,200 hourly buckets, more than one read may ask for: still one answer per
    day, and the readings on the first and last day give the total."""
    write, reader = store
    last = DAY1 + dt.timedelta(days=299)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), SHANGHAI)
    write(counter("a-main", MIDNIGHT1, [0.0]) + counter("a-main", end, [7200.0]))
    days = usage(demo_site, reader, db).daily(meter(), DAY1, last)
    assert len(days) == 300
    assert sum(d.amount for d in days) == pytest.approx(7200)
    assert days[150].amount == pytest.approx(24)
    assert days[150].estimated_share == 1


def with_outdoor(site: SiteConfig[Any], asset: str, point: str) -> SiteConfig[Any]:
    """A copy of the site whose outdoor temperature is that point."""
    energy = site.doc.energy.model_copy(
        update={"outdoor_temperature": PointRef(asset=asset, point=point)}
    )
    return dataclasses.replace(site, doc=site.doc.model_copy(update={"energy": energy}))


def test_the_daily_temperature_is_the_mean_of_its_hours(
    store: tuple[Write, BucketReader], demo_site: SiteConfig[Any], db: Database
) -> None:
    """Readings at half past each hour of 10 March, 0 °C to 23 °C: hourly means 0 .. 23, the
    day's mean 11.5; the 11th has no reading: None."""
    write, reader = store
    site = with_outdoor(demo_site, "ws-test", "outdoor_temperature")
    write(
        [
            StoreReading(
                h(k + 0.5).timestamp(),
                "ws-test",
                "ws",
                "outdoor_temperature",
                float(k),
                "C",
                Quality.good,
            )
            for k in range(24)
        ]
    )
    got = usage(site, reader, db).temperature_daily(DAY1, DAY2)
    assert got == {DAY1: pytest.approx(11.5), DAY2: None}
    assert usage(site, reader, db).temperature_hourly(h(2), h(4)) == [2.0, 3.0]


# --- offline meters -----------------------------------------------------------------------------


def test_an_invoice_is_spread_over_the_days_it_covers(
    tmp_path: Path, demo_site: SiteConfig[Any], db: Database
) -> None:
    """310 m³ for March (31 days) is 10 m³ a day; 1 April has no invoice: missing."""
    with db.session() as s:
        s.add(
            OfflineEntry(
                meter="gas",
                kind="quantity",
                start=dt.datetime(2026, 3, 1, tzinfo=SHANGHAI),
                end=dt.datetime(2026, 4, 1, tzinfo=SHANGHAI),
                value=310.0,
                entered_value=310.0,
                entered_unit="m3",
                recorded_by="test",
            )
        )
    gas = meter("gas", source="offline", kind="quantity", unit="m3")
    u = usage(demo_site, EmbeddedReader(tmp_path / "none.sqlite"), db)
    days = u.daily(gas, dt.date(2026, 3, 31), dt.date(2026, 4, 1))
    assert [d.amount for d in days] == pytest.approx([10, 0])
    assert [d.estimated_share for d in days] == [0, 1]
    noon = dt.datetime(2026, 3, 31, 12, tzinfo=SHANGHAI)
    hours = u.hourly(gas, noon, noon + dt.timedelta(hours=2))
    assert [x.amount for x in hours] == pytest.approx([310 / 744, 310 / 744])


def test_an_offline_counter_spreads_its_difference_and_keeps_its_replacement(
    tmp_path: Path, demo_site: SiteConfig[Any], db: Database
) -> None:
    """Dial read on the 1st (500) and the 11th (40, after a swap on the 6th: the old dial
    ended at 550, the new one began at 0): 50 + 40 = 90 over 10 days, 9 a day."""

    def reading(day: int, v: float) -> OfflineEntry:
        at = dt.datetime(2026, 3, day, tzinfo=SHANGHAI)
        return OfflineEntry(
            meter="dial",
            kind="reading",
            at=at,
            value=v,
            entered_value=v,
            entered_unit="m3",
            recorded_by="t",
        )

    with db.session() as s:
        s.add_all([reading(1, 500), reading(11, 40)])
        s.add(
            MeterReplacement(
                meter="dial",
                at=dt.datetime(2026, 3, 6, tzinfo=SHANGHAI),
                old_final=550,
                new_initial=0,
                recorded_by="t",
            )
        )
    dial = meter("dial", source="offline", kind="counter", unit="m3")
    u = usage(demo_site, EmbeddedReader(tmp_path / "none.sqlite"), db)
    days = u.daily(dial, dt.date(2026, 3, 1), dt.date(2026, 3, 11))
    assert sum(d.amount for d in days) == pytest.approx(90)
    assert days[0].amount == pytest.approx(9)
    assert (days[0].estimated_share, days[-1].estimated_share) == (0, 1)


def test_a_store_that_cannot_be_read_says_so_instead_of_answering_nothing(
    demo_site: SiteConfig[Any], db: Database
) -> None:
    """An InfluxDB nobody answers at: 503 store_unavailable, never a day of 0 kWh."""
    reader = InfluxQLReader("http://127.0.0.1:9", "nowhere", timeout=1)
    try:
        with pytest.raises(StoreUnavailable) as err:
            usage(demo_site, reader, db).daily(meter(), DAY1, DAY1)
    finally:
        reader.close()
    assert (err.value.status_code, err.value.error) == (503, "store_unavailable")
