"""`plantroom simulate --history`: a past period of the simulated building, written to the store
as the live collector would have written it, with its scripted faults at their times."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import statistics
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from collectors.poller import Collector
from collectors.readings import Quality, Reading
from collectors.simulator.history import (
    Progress,
    ProgressBar,
    converter,
    generate,
    write_history,
)
from collectors.sinks.embedded import EmbeddedStore
from config.profile import Point
from config.site import SITES_DIR, SiteConfig, remap_ports
from plantroom.cli import main
from plantroom.site import load_site
from tests.collectors.sim import port_map, simulator

TZ = ZoneInfo("Asia/Shanghai")  # the demo site's
#: Monday 5 January 2026, midnight on site.
MONDAY = dt.datetime(2026, 1, 5, tzinfo=TZ)
DAY = 86400.0


@pytest.fixture
def faulty_site(tmp_path: Path) -> SiteConfig:
    """The demo site with a leak from the second day and meter b-special silent 06:00-08:00."""
    text = (SITES_DIR / "demo" / "site.yaml").read_text()
    text = text[: text.index("\nsimulation:")] + (
        "\nsimulation:\n"
        "  seed: 7\n"
        "  faults:\n"
        "    - {device: water-main-meter, kind: leak, start: 1d, magnitude: 1.8}\n"
        "    - {device: b-special-meter, kind: silent, start: 6h, duration: 2h}\n"
    )
    (tmp_path / "site.yaml").write_text(text)
    return load_site(tmp_path)


def test_a_day_of_the_demo_site_lands_in_the_store_on_the_step_grid(
    demo_site: SiteConfig, tmp_path: Path
) -> None:
    store = EmbeddedStore(tmp_path / "readings.sqlite")
    start = MONDAY.timestamp()
    result = write_history(demo_site, MONDAY, MONDAY + dt.timedelta(days=1), [store], step=900)
    stored = store.query()
    store.close()

    expected = {(r.device.id, p.name) for r in demo_site.devices() for p in r.profile.points}
    assert {(r.device, r.point) for r in stored} == expected
    assert result.readings == len(stored) == 96 * len(expected)
    assert {r.ts for r in stored} == {start + 900 * k for k in range(96)}
    # (The demo's b-special-meter is silent for its first quarter of an hour: unavailable.)
    volts = [r.value for r in stored if r.point.startswith("voltage_l") and r.quality == "good"]
    assert len(volts) >= 0.99 * sum(r.point.startswith("voltage_l") for r in stored)
    assert all(200 <= v <= 250 for v in volts)  # type: ignore[operator]
    units = {(r.device, r.point): r.unit for r in stored}
    assert units["a-main-meter", "total_power"] == "W"
    assert units["pump-1-drive", "motor_current"] == "A"


def test_values_are_what_the_collector_reads_from_the_live_simulator(
    demo_site: SiteConfig,
) -> None:
    """Three sweeps a minute apart, polled over Modbus from the simulator on a frozen clock,
    against the first three minutes of history from the same instant: equal to the bit, the
    scripted faults (wear, a leak, door faults, a silent meter at 90-210 s) included."""
    t0 = MONDAY.timestamp() + 10 * 3600  # office hours: lifts and pumps busy
    now = [t0]

    def clock() -> float:
        return now[0]

    async def poll_live() -> list[Reading]:
        mapping = port_map(demo_site)
        sim = simulator(demo_site, mapping, clock=clock, started_at=t0, gateway_timeout=0.0)
        await sim.start()
        col = Collector(
            demo_site,
            lambda _r: None,
            devices=remap_ports(demo_site.devices(), mapping),
            clock=clock,
        )
        out: list[Reading] = []
        try:
            for k in range(3):
                now[0] = t0 + 60 * k
                out += await col.sweep()
        finally:
            await col.stop()
            await sim.stop()
        return out

    live = asyncio.run(poll_live())
    history = [r for batch, _ in generate(demo_site, t0, t0 + 180, step=60) for r in batch]

    def key(r: Reading) -> tuple[float, str, str]:
        return (r.ts, r.device, r.point)

    assert sorted(history, key=key) == sorted(live, key=key)
    assert Counter(r.quality for r in history)[Quality.unavailable] == 18  # b-special at 120 s


def test_unscaled_integer_points_are_written_as_exact_ints(demo_site: SiteConfig) -> None:
    """As the live collector reads them (Point.integral): counters are ints, not floats."""
    t0 = MONDAY.timestamp() + 10 * 3600
    history = [r for batch, _ in generate(demo_site, t0, t0 + 120, step=60) for r in batch]
    integral = {
        (ref.device.id, p.name)
        for ref in demo_site.devices()
        for p in ref.profile.points
        if p.integral
    }
    assert {("lift-a1-ctrl", "trip_counter"), ("water-main-meter", "net_total")} <= integral
    good = [r for r in history if r.quality is Quality.good and not isinstance(r.value, str)]
    kinds = {((r.device, r.point) in integral, type(r.value)) for r in good}
    assert kinds == {(True, int), (False, float)}
    # A 64-bit counter beyond 2**53 goes through the register's arithmetic unrounded.
    energy = Point.model_validate(
        {"name": "energy", "register": "holding", "address": 0, "type": "uint64"}
    )
    assert converter(energy)(2**53 + 1) == (2**53 + 1, Quality.good)


def test_a_scripted_leak_raises_the_night_flow_from_its_start(faulty_site: SiteConfig) -> None:
    flows = [
        (r.ts, r.number)
        for batch, _ in generate(faulty_site, MONDAY, MONDAY + dt.timedelta(days=2), step=600)
        for r in batch
        if r.point == "flow" and r.device == "water-main-meter"
    ]

    def night(day: int) -> float:
        """Mean flow 00:00-05:00 on site, on day 0 or 1 of the history."""
        lo = MONDAY.timestamp() + day * DAY
        return statistics.mean(v for ts, v in flows if v is not None and lo <= ts < lo + 5 * 3600)

    before, after = night(0), night(1)
    assert before < 1.0
    assert after == pytest.approx(before + 1.8, abs=0.3)


def test_a_silent_device_is_stored_unavailable_while_it_is_silent(
    faulty_site: SiteConfig,
) -> None:
    start = MONDAY.timestamp()
    special = [
        r
        for batch, _ in generate(faulty_site, MONDAY, MONDAY + dt.timedelta(days=1), step=1800)
        for r in batch
        if r.device == "b-special-meter"
    ]
    silent = {r.ts for r in special if r.quality is Quality.unavailable}
    assert silent == {start + 6 * 3600 + 1800 * k for k in range(4)}  # 06:00 to 07:30
    assert all(r.value is None for r in special if r.ts in silent)
    assert all(r.quality is Quality.good for r in special if r.ts not in silent)


def test_the_history_can_carry_the_collectors_health_records_with_the_silent_spell(
    faulty_site: SiteConfig,
) -> None:
    start = MONDAY.timestamp()
    health = [
        r
        for batch, _ in generate(
            faulty_site, MONDAY, MONDAY + dt.timedelta(hours=9), step=1800, health_every=3600
        )
        for r in batch
        if r.measurement == "collector_health"
    ]
    assert {r.ts for r in health} == {start + 3600 * h for h in range(1, 9)}
    state = {
        r.ts: r.value for r in health if r.device == "b-special-meter" and r.point == "device_state"
    }
    # Silent 06:00-08:00: the collector's records at 07:00 and 08:00 saw the 06:30 and 07:30
    # polls fail; at 09:00 it answers again.
    assert [state[start + 3600 * h] for h in range(1, 9)] == ["ok"] * 6 + ["unavailable"] * 2
    last_good = {
        r.ts: r.value
        for r in health
        if r.device == "b-special-meter" and r.point == "device_last_good"
    }
    assert last_good[start + 8 * 3600] == start + 5.5 * 3600  # the 05:30 poll
    assert {r.asset for r in health} == {"_collector"}
    assert all(r.quality is Quality.good for r in health)


def test_running_the_same_period_twice_stores_each_reading_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    for var in ("PLANTROOM_INFLUX_V1_URL", "PLANTROOM_INFLUX_V2_URL"):
        monkeypatch.delenv(var, raising=False)
    data = tmp_path / "data"
    argv = ["simulate", "--history", "--from", "2026-01-05", "--to", "2026-01-05T06:00"]
    argv += ["--step", "15m", "--site", str(SITES_DIR / "demo"), "--data-dir", str(data)]

    assert main(argv) == 0
    first = EmbeddedStore(data / "readings.sqlite")
    once = first.count()
    first.close()
    assert main(argv) == 0
    again = EmbeddedStore(data / "readings.sqlite")
    twice = again.count()
    stored = again.query(device="a-main-meter", point="voltage_l1")
    again.close()

    assert once == twice == 24 * 260  # 24 quarter hours, 260 points on the demo site
    assert stored[0].ts == MONDAY.timestamp()  # a bare date: midnight on site
    assert "wrote 6,240 readings of 20 devices" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("dates", "message"),
    [
        (["--from", "2026-02-01", "--to", "2026-01-01"], "must be after --from"),
        (["--from", "2026-01-01", "--to", "2026-01-01"], "must be after --from"),
        (["--from", "2026-01-32", "--to", "2026-02-01"], "--from: '2026-01-32' is not a date"),
    ],
)
def test_the_cli_rejects_a_period_that_is_not_one(
    dates: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    code = main(["simulate", "--history", *dates, "--site", str(SITES_DIR / "demo"),
                 "--data-dir", str(data)])  # fmt: skip
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (data / "readings.sqlite").exists()


def test_progress_rises_batch_by_batch_to_one(demo_site: SiteConfig) -> None:
    seen: list[Progress] = []
    result = write_history(
        demo_site, MONDAY, MONDAY + dt.timedelta(hours=6), [], step=300, batch=2000,
        progress=seen.append,
    )  # fmt: skip
    fractions = [p.fraction for p in seen]
    assert len(seen) > 5
    assert fractions == sorted(set(fractions))  # strictly increasing
    assert fractions[-1] == 1.0
    assert seen[-1].readings == result.readings == 72 * 260


def test_the_progress_bar_prints_a_line_per_tenth_when_not_on_a_terminal() -> None:
    out = io.StringIO()
    bar = ProgressBar(out)
    for i in range(1, 101):
        bar(Progress(i / 100, i * 1000, i / 10))
    bar.close()
    lines = out.getvalue().splitlines()
    assert len(lines) == 10
    assert lines[0].startswith(" 10.0%  10,000 readings  10,000/s  ETA 9s")
    assert lines[-1].startswith("100.0%  100,000 readings")


def test_the_progress_bar_redraws_one_line_on_a_terminal() -> None:
    out = io.StringIO()
    bar = ProgressBar(out, tty=True, min_interval=0)
    bar(Progress(0.5, 5000, 1.0))
    bar(Progress(1.0, 10000, 2.0))
    bar.close()
    text = out.getvalue()
    assert text.count("\r") == 2 and text.endswith("\n") and text.count("\n") == 1
    assert "[############------------]  50.0%  5,000 readings  5,000/s  ETA 1s" in text
