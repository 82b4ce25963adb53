"""The energy_daily rollup: rows per meter and per building sub-item at local midnight, written
to the embedded store and to a real InfluxDB, where a tz('Asia/Shanghai') day query finds each
day's figure on its own day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from analytics.jobs import JOB_ID, days_to_roll, run_rollup
from analytics.rollup import MEASUREMENT, rollup_readings, write_rollup
from analytics.site import AnalyticsSite
from analytics.statistics import energy_statistics
from analytics.store_usage import StoreUsage
from analytics.usage import Usage
from collectors.readings import Quality, Reading
from collectors.sinks import Sink
from collectors.sinks.embedded import EmbeddedReader, EmbeddedStore
from collectors.sinks.influx import InfluxV1Sink, SinkError
from config.settings import Settings
from config.site import SITES_DIR
from core.db import Database
from plantroom import cli
from plantroom.scheduler import WorkOrderServices
from plantroom.site import load_site
from tests.analytics.conftest import MemoryUsage

TZ = ZoneInfo("Asia/Shanghai")
D1, D2 = dt.date(2026, 3, 1), dt.date(2026, 3, 2)
#: Local midnight of 1 March 2026 in Shanghai: 2026-02-28T16:00Z.
MIDNIGHT_D1 = dt.datetime(2026, 2, 28, 16, tzinfo=dt.UTC).timestamp()

#: Building A: main 1,000 kWh on 1 March (lighting 300, HVAC 400, power 100, special 50),
#: 1,200 kWh on 2 March with lighting unknown all day; 10 L of diesel on 2 March.
USAGE = MemoryUsage(
    {
        "a-main": {D1: 1_000, D2: 1_200},
        "a-lighting": {D1: 300, D2: None},
        "a-hvac": {D1: 400, D2: 500},
        "a-power": {D1: 100, D2: 100},
        "a-special": {D1: 50, D2: 50},
        "diesel-genset": {D2: 10},
    }
)


def rows_of(rows: list[Reading], asset: str, device: str, ts: float) -> dict[str, Reading]:
    return {r.point: r for r in rows if (r.asset, r.device, r.ts) == (asset, device, ts)}


def test_rows_per_meter_and_per_sub_item_at_local_midnight(demo_site: AnalyticsSite) -> None:
    rows = rollup_readings(demo_site, USAGE, first=D1, last=D2)
    assert {r.measurement for r in rows} == {MEASUREMENT}
    assert {r.ts for r in rows} == {MIDNIGHT_D1, MIDNIGHT_D1 + 86_400}
    main = rows_of(rows, "a-main", "meter", MIDNIGHT_D1)
    assert main["amount"].value == 1_000 and main["amount"].unit == "kWh"
    assert main["kwh"].value == 1_000
    assert main["kgce"].value == pytest.approx(122.9)
    assert main["kgco2e"].value == pytest.approx(530.6)  # the site's 2026 factor, 0.5306
    assert main["estimated_share"].value == 0
    sub = {
        device: rows_of(rows, "bldg-a", device, MIDNIGHT_D1)["kwh"].value
        for device in ("01A00", "01B00", "01C00", "01D00", "unmetered")
    }
    assert sub == {"01A00": 300, "01B00": 400, "01C00": 100, "01D00": 50, "unmetered": 150}
    hvac = rows_of(rows, "bldg-a", "01B00", MIDNIGHT_D1)
    assert hvac["kgce"].value == pytest.approx(400 * 0.1229)
    assert hvac["kgco2e"].value == pytest.approx(400 * 0.5306)
    assert rows_of(rows, "bldg-a", "unmetered", MIDNIGHT_D1)["kgce"].value == pytest.approx(
        150 * 0.1229
    )
    # the compound: both mains (B used nothing) and the diesel
    energy_d2 = rows_of(rows, "demo", "energy", MIDNIGHT_D1 + 86_400)
    assert energy_d2["kgce"].value == pytest.approx(1_200 * 0.1229 + 10 * 0.83 * 1.4571)
    diesel = rows_of(rows, "diesel-genset", "meter", MIDNIGHT_D1 + 86_400)
    assert (diesel["amount"].value, diesel["amount"].unit) == (10, "L")
    assert "kwh" not in diesel


def test_a_meter_unknown_all_day_is_unavailable_never_zero(demo_site: AnalyticsSite) -> None:
    rows = rollup_readings(demo_site, USAGE, first=D2, last=D2)
    lighting = rows_of(rows, "a-lighting", "meter", MIDNIGHT_D1 + 86_400)
    assert lighting["amount"].value is None
    assert lighting["amount"].quality is Quality.unavailable
    assert lighting["kwh"].quality is Quality.unavailable
    assert lighting["estimated_share"].value == 1.0


def test_a_day_without_a_carbon_factor_still_rolls_up_its_kwh(demo_site: AnalyticsSite) -> None:
    """2021 has no grid carbon factor: kWh and kgce are written, kgCO2e is unavailable."""
    day = dt.date(2021, 5, 5)
    rows = rollup_readings(demo_site, MemoryUsage({"a-main": {day: 100}}), first=day, last=day)
    midnight = dt.datetime.combine(day, dt.time(), TZ).timestamp()
    main = rows_of(rows, "a-main", "meter", midnight)
    assert main["kwh"].value == 100
    assert main["kgce"].value == pytest.approx(12.29)
    assert main["kgco2e"].value is None and main["kgco2e"].quality is Quality.unavailable


def test_the_embedded_store_holds_each_day_once_with_its_latest_figures(
    demo_site: AnalyticsSite, tmp_path: Path
) -> None:
    """A day rolled up again after more readings came in (lighting's 2 March now known, 250
    kWh) gets the new figures in place of the old: never two rows, never the stale one; the
    days outside the range written are left alone."""
    store = EmbeddedStore(tmp_path / "readings.sqlite")
    counter = Reading(
        MIDNIGHT_D1 + 86_400, "a-main", "a-main-meter", "kwh", 1.5, "kWh", Quality.good
    )
    try:
        store.write([counter])  # a device's reading at the same time, with a point named alike
        seen: list[tuple[int, int, int]] = []
        n = write_rollup(
            demo_site, USAGE, [store], first=D1, last=D2, progress=lambda *a: seen.append(a)
        )
        assert seen == [(2, 2, n)]
        back = store.query(asset="a-main", point="kwh", measurement=MEASUREMENT)
        assert [(r.ts, r.value) for r in back] == [
            (MIDNIGHT_D1, 1_000),
            (MIDNIGHT_D1 + 86_400, 1_200),
        ]
        # lighting knew nothing on 2 March: that day's remainder is unknown, not 550
        unmetered = store.query(
            asset="bldg-a", device="unmetered", point="kwh", measurement=MEASUREMENT
        )
        assert [(r.value, r.quality) for r in unmetered] == [
            (150, Quality.good),
            (None, Quality.unavailable),
        ]
        later = MemoryUsage({**USAGE.days, "a-lighting": {D1: 0, D2: 250}})
        assert write_rollup(demo_site, later, [store], first=D2, last=D2) == n // 2
        assert len(store.query(measurement=MEASUREMENT)) == n
        lighting = store.query(asset="a-lighting", point="amount", measurement=MEASUREMENT)
        # 1 March kept its first figure (300): only 2 March was rolled up again
        assert [(r.value, r.quality) for r in lighting] == [
            (300, Quality.good),
            (250, Quality.good),
        ]
        unmetered = store.query(
            asset="bldg-a", device="unmetered", point="kwh", measurement=MEASUREMENT
        )
        assert [r.value for r in unmetered] == [150, 1_200 - 250 - 500 - 100 - 50]
        # the readings of the devices are never touched
        assert store.query(measurement="readings") == [counter]
    finally:
        store.close()


def test_influxdb_days_in_the_site_time_zone_hold_each_days_figure(
    demo_site: AnalyticsSite, influx_url: str, influx_db: str
) -> None:
    """Queried back with InfluxQL GROUP BY time(1d) tz('Asia/Shanghai'), as Grafana will: one
    bucket per local day with that day's HVAC kWh; a rewrite overwrites, never adds."""
    buildings = {ref.asset.id: ref.building.id for ref in demo_site.assets()}
    sink = InfluxV1Sink(influx_url, influx_db, buildings=buildings)
    try:
        sink.ensure_database()
        write_rollup(demo_site, USAGE, [sink], first=D1, last=D2)
        write_rollup(demo_site, USAGE, [sink], first=D1, last=D2)
        q = (
            f'SELECT sum("value") FROM "{MEASUREMENT}" WHERE "asset" = \'bldg-a\' '
            "AND \"device\" = '01B00' AND \"point\" = 'kwh' "
            "AND time >= '2026-02-28T16:00:00Z' AND time < '2026-03-02T16:00:00Z' "
            "GROUP BY time(1d) tz('Asia/Shanghai')"
        )
        values = sink.query(q)["results"][0]["series"][0]["values"]  # type: ignore[index]
        assert values == [["2026-03-01T00:00:00+08:00", 400], ["2026-03-02T00:00:00+08:00", 500]]
        tagged = sink.query(
            f'SHOW TAG VALUES FROM "{MEASUREMENT}" WITH KEY = "building" WHERE "asset" = \'a-main\''
        )
        assert tagged["results"][0]["series"][0]["values"] == [["building", "bldg-a"]]  # type: ignore[index]
        unknown = sink.query(
            f'SELECT "quality", "value" FROM "{MEASUREMENT}" WHERE "asset" = \'a-lighting\' '
            "AND \"point\" = 'amount' AND time = '2026-03-01T16:00:00Z'"
        )
        assert unknown["results"][0]["series"][0]["values"] == [  # type: ignore[index]
            ["2026-03-01T16:00:00Z", "unavailable", None]
        ]
    finally:
        sink.close()


def test_a_run_rewrites_the_week_before_today_in_local_days(
    demo_site: AnalyticsSite, tmp_path: Path
) -> None:
    """At 00:30 on 3 March in Shanghai (16:30 UTC the day before) the run rolls up 24 February
    to 2 March: today is not over."""
    now = dt.datetime(2026, 3, 2, 16, 30, tzinfo=dt.UTC)
    assert days_to_roll(demo_site, now=now) == (dt.date(2026, 2, 24), D2)
    store = EmbeddedStore(tmp_path / "readings.sqlite")

    @contextmanager
    def target() -> Iterator[tuple[Usage, Sequence[Sink]]]:
        yield USAGE, [store]

    try:
        assert run_rollup(demo_site, target, now=now) > 0
        days = {r.ts for r in store.query(asset="a-main", point="kwh", measurement=MEASUREMENT)}
        assert min(days) == dt.datetime(2026, 2, 24, tzinfo=TZ).timestamp()
        assert max(days) == MIDNIGHT_D1 + 86_400
        assert len(days) == 7
    finally:
        store.close()


def test_a_failed_run_is_logged_and_the_next_one_retries(
    demo_site: AnalyticsSite, caplog: pytest.LogCaptureFixture
) -> None:
    @contextmanager
    def down() -> Iterator[tuple[Usage, Sequence[Sink]]]:
        raise SinkError("http://influx:8086: connection refused")
        yield  # pragma: no cover

    now = dt.datetime(2026, 3, 2, 16, 30, tzinfo=dt.UTC)
    assert run_rollup(demo_site, down, now=now) == 0
    assert "the next run retries" in caplog.text
    assert "connection refused" in caplog.text


def test_the_rollup_runs_daily_at_half_past_midnight_and_at_start(
    demo_site: AnalyticsSite, db: Database, settings: Settings
) -> None:
    services = WorkOrderServices(db, demo_site, settings=settings)
    job = services.scheduler.get_job(JOB_ID)
    assert job is not None
    fields = {f.name: str(f) for f in job.trigger.fields}
    assert (fields["hour"], fields["minute"]) == ("0", "30")
    assert str(job.trigger.timezone) == "Asia/Shanghai"
    assert job.next_run_time is not None  # once at start, too
    # without the settings (no readings store to write) there is no rollup job
    assert WorkOrderServices(db, demo_site).scheduler.get_job(JOB_ID) is None


def test_backfill_from_the_cli_matches_the_counters_of_a_simulated_history(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`plantroom simulate --history` then `plantroom energy rollup`: each local day's kWh of
    A's main is its counter at the next local midnight minus at this one, and the statistics
    of the month over the same store say the same."""
    data = tmp_path / "data"
    common = ["--data-dir", str(data)]
    assert (
        cli.main(
            [
                "simulate",
                "--history",
                "--from",
                "2026-03-01",
                "--to",
                "2026-03-03T01:00",  # the midnight reading that ends 2 March too
                "--step",
                "15m",
                *common,
            ]
        )
        == 0
    )
    assert (
        cli.main(["energy", "rollup", "--from", "2026-03-01", "--to", "2026-03-03", *common]) == 0
    )
    out = capsys.readouterr()
    assert "100.0%" in out.err and "done" in out.err
    assert "for 2 days" in out.out
    store = EmbeddedStore(data / "readings.sqlite")
    try:
        counter = {
            r.ts: r.value
            for r in store.query(asset="a-main", point="import_energy")
            if r.ts in (MIDNIGHT_D1, MIDNIGHT_D1 + 86_400, MIDNIGHT_D1 + 2 * 86_400)
        }
        rolled = store.query(asset="a-main", point="kwh", measurement=MEASUREMENT)
    finally:
        store.close()
    assert len(counter) == 3 and len(rolled) == 2
    by_hand = [
        counter[MIDNIGHT_D1 + 86_400] - counter[MIDNIGHT_D1],  # type: ignore[operator]
        counter[MIDNIGHT_D1 + 2 * 86_400] - counter[MIDNIGHT_D1 + 86_400],  # type: ignore[operator]
    ]
    assert [r.value for r in rolled] == pytest.approx(by_hand)
    assert all(kwh > 500 for kwh in by_hand)  # an office building's main: a real day's use
    site = load_site(SITES_DIR / "demo")
    reader = EmbeddedReader(data / "readings.sqlite")
    db = Database(Settings(data_dir=data, _env_file=None).sqlalchemy_url())  # type: ignore[call-arg]
    try:
        now = dt.datetime(2026, 3, 3, 12, tzinfo=dt.UTC)
        stats = energy_statistics(
            site, StoreUsage(site, reader, db), year=2026, month=3, building="bldg-a", now=now
        )
    finally:
        reader.close()
        db.dispose()
    assert [d["electricity_kwh"] for d in stats["days"][:2]] == pytest.approx(by_hand)
    # the simulator's main draws its sub-meters' sum plus 7 %: the remainder is 7/107 of it
    assert stats["electricity"]["unmetered"]["share"] == pytest.approx(0.07 / 1.07, rel=0.01)


@pytest.mark.parametrize(
    ("dates", "says"),
    [
        (["--from", "2026-13-01"], "is not a date"),
        (["--from", "2026-03-02", "--to", "2026-03-01"], "must be after --from"),
        (["--from", "2026-03-02", "--to", "2999-01-01"], "a day is rolled up once it is over"),
    ],
)
def test_the_backfill_refuses_dates_it_cannot_use(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], dates: list[str], says: str
) -> None:
    assert cli.main(["energy", "rollup", *dates, "--data-dir", str(tmp_path)]) == 2
    assert says in capsys.readouterr().err
