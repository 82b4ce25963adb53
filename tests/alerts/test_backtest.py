"""`plantroom rules backtest`: stored history replayed through the alert engine reports the
alerts and work orders the rules would have produced, and leaves the real database alone.

The history is two simulated days of the demo buildings at a 5-minute step, with one scripted
fault: pump 1's bearings wear from Tuesday 08:00, pushing its motor current past the demo's
pump-overcurrent limit (26 A) for good.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from alerts.models import Alert
from collectors.simulator.history import Progress, write_history
from collectors.sinks.embedded import EmbeddedStore
from config.settings import Settings
from config.site import SITES_DIR, SiteConfig
from plantroom.app import prepare_database
from plantroom.cli import main
from plantroom.site import load_site
from plantroom.wiring import run_backtest
from workorders.orders.models import WorkOrder

TZ = ZoneInfo("Asia/Shanghai")  # the demo site's
#: Monday 2 March 2026 to Wednesday 4 March, midnight on site.
START = dt.datetime(2026, 3, 2, tzinfo=TZ)
END = dt.datetime(2026, 3, 4, tzinfo=TZ)
FAULT_AT = START + dt.timedelta(days=1, hours=8)
PERIOD = ("--from", "2026-03-02", "--to", "2026-03-04")

#: The demo's pump, lift and supply rules (kept here, so that the demo may gain rules), and the
#: one fault.
RULES_AND_FAULTS = """
rules:
  - id: pump-overcurrent
    type: threshold
    name: Pump motor over-current
    select: {asset_class: [Pump]}
    point: motor_current
    above: 26
    clear: 24
    for: 20s
    severity: major
  - id: pump-overtemperature
    type: threshold
    name: Pump motor over-temperature
    select: {asset_class: [Pump]}
    point: motor_temperature
    above: 95
    clear: 85
    for: 1m
    severity: critical
  - id: lift-out-of-service
    type: threshold
    name: Lift out of service
    select: {asset_class: [Elevator]}
    point: in_service
    below: 1
    for: 1m
    severity: critical
  - id: supply-voltage-low
    type: threshold
    name: Supply voltage low (L1)
    select: {assets: [a-main, b-main]}
    point: voltage_l1
    below: 207
    for: 1m
    severity: major

simulation:
  seed: 7
  faults:
    - {device: pump-1-drive, kind: bearing_wear, start: 32h, duration: 10m, magnitude: 16}
"""


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(site folder, data directory): the demo buildings with four of the demo's rules and only
    the bearing fault, and two days of their simulated history in the data directory."""
    root = tmp_path_factory.mktemp("backtest")
    text = (SITES_DIR / "demo" / "site.yaml").read_text(encoding="utf-8")
    text = text[: text.index("\nrules:")] + "\n" + RULES_AND_FAULTS
    folder = root / "site"
    folder.mkdir()
    (folder / "site.yaml").write_text(text, encoding="utf-8")
    data = root / "data"
    store = EmbeddedStore(data / "readings.sqlite")
    try:
        write_history(load_site(folder), START, END, [store], step=300)
    finally:
        store.close()
    return folder, data


@pytest.fixture(scope="module")
def site(history: tuple[Path, Path]) -> SiteConfig:
    """The fault site."""
    return load_site(history[0])


def backtest(
    history: tuple[Path, Path],
    capsys: pytest.CaptureFixture[str],
    *args: str,
    period: tuple[str, ...] = PERIOD,
) -> tuple[int, str, str]:
    """Run `plantroom rules backtest` on the history; (exit code, stdout, stderr)."""
    folder, data = history
    code = main(
        ["rules", "backtest", "--site", str(folder), "--data-dir", str(data), *period, *args]
    )
    out, err = capsys.readouterr()
    return code, out, err


def test_a_bearing_fault_in_the_history_shows_as_one_work_order_opened_after_it_began(
    history: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = backtest(history, capsys, "--json")
    assert code == 0
    result = json.loads(out)
    orders = [(wo["rule_id"], wo["asset_id"]) for wo in result["work_orders"]]
    assert orders == [("pump-overcurrent", "pump-1")]  # pump 2 and the other rules: nothing
    (wo,) = result["work_orders"]
    opened = dt.datetime.fromisoformat(wo["opened_at"])
    assert FAULT_AT < opened < FAULT_AT + dt.timedelta(hours=1)
    assert opened.utcoffset() == dt.timedelta(hours=8)  # in the site's time
    over = result["rules"]["pump-overcurrent"]
    assert (over["fired"], over["firing_at_end"], over["work_orders"]) == (1, 1, 1)
    assert over["assets"] == 2
    for quiet in ("pump-overtemperature", "lift-out-of-service", "supply-voltage-low"):
        assert result["rules"][quiet]["fired"] == 0
    # Two days of 2 pumps x 2 points, 2 lifts and 2 main meters, every 5 minutes.
    assert result["readings"] == 2 * 288 * 8
    (alert,) = [a for a in result["alerts"] if a["fired_at"]]
    assert alert["workorder_id"] == wo["id"]
    assert alert["trigger_value"] > 26


def test_the_text_report_lists_each_rule_and_the_work_order_in_local_time(
    history: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = backtest(history, capsys)
    assert code == 0
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.startswith("pump-")}
    assert set(rows) == {"pump-overcurrent", "pump-overtemperature"}
    # assets, fired, resolved, firing at end, nodata, error, inhibited, work orders
    assert rows["pump-overcurrent"][3:11] == ["2", "1", "0", "1", "0", "0", "0", "1"]
    (line,) = [ln for ln in out.splitlines() if ln.strip().startswith("#1 ")]
    assert "2026-03-03 08:" in line  # the fault began at 08:00 on site
    assert "pump-1" in line and "Domestic water booster pump 1" in line


def test_the_real_database_is_never_touched(
    history: tuple[Path, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    folder, data = history
    assert backtest(history, capsys)[0] == 0
    assert not (data / "plantroom.db").exists()
    # Not even when PLANTROOM_DATABASE_URL names a real, migrated database.
    settings = Settings(data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    real = prepare_database(settings, load_site(folder))
    monkeypatch.setenv("PLANTROOM_DATABASE_URL", settings.sqlalchemy_url())
    try:
        code, out, _ = backtest(history, capsys)
        assert code == 0 and "#1 " in out
        with real.session() as s:
            assert s.scalar(select(func.count()).select_from(Alert)) == 0
            assert s.scalar(select(func.count()).select_from(WorkOrder)) == 0
    finally:
        real.dispose()


def test_rule_restricts_the_backtest_to_the_named_rules(
    history: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = backtest(
        history, capsys, "--json", "--rule", "supply-voltage-low", "--rule", "lift-out-of-service"
    )
    assert code == 0
    result = json.loads(out)
    assert list(result["rules"]) == ["lift-out-of-service", "supply-voltage-low"]
    assert result["work_orders"] == []  # the pump fault is not theirs
    assert result["readings"] == 2 * 288 * 4  # only their points were read


def test_an_unknown_rule_exits_2_naming_the_known_ones(
    history: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = backtest(history, capsys, "--rule", "pump-overcurrent", "--rule", "pump-ovr")
    assert code == 2
    assert out == ""
    assert "unknown rule(s): pump-ovr" in err
    for known in ("pump-overcurrent", "pump-overtemperature", "supply-voltage-low"):
        assert known in err
    assert "Traceback" not in err


RULES_FILE = """
rules:
  - id: pump-current-busy
    type: threshold
    name: Pump current above 22 A
    select: {asset_class: [Pump]}
    point: motor_current
    above: 22
    clear: 21
    for: 10m
    severity: minor
    enabled: false
"""


def test_a_rules_file_tries_a_rule_that_is_not_in_the_site(
    history: tuple[Path, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Office-hours demand takes both pumps above 22 A each working day; the file's rule is
    replayed instead of the site's, though it is not switched on yet."""
    path = tmp_path / "try.yaml"
    path.write_text(RULES_FILE, encoding="utf-8")
    code, out, _ = backtest(history, capsys, "--json", "--rules-file", str(path))
    assert code == 0
    result = json.loads(out)
    assert list(result["rules"]) == ["pump-current-busy"]
    busy = result["rules"]["pump-current-busy"]
    assert busy["enabled"] is False
    assert busy["fired"] >= 2 and busy["resolved"] >= 1
    assert {wo["asset_id"] for wo in result["work_orders"]} == {"pump-1", "pump-2"}
    for wo in result["work_orders"]:
        opened = dt.datetime.fromisoformat(wo["opened_at"])
        assert dt.time(7) <= opened.time() <= dt.time(19)  # office hours on site


STALE_FILE = """
rules:
  - {id: pump-silent, type: stale, name: No pump current, select: {asset_class: [Pump]},
     point: motor_current, after: 1h}
"""


def test_time_moves_on_through_a_stretch_without_readings(
    history: tuple[Path, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Replayed a day past the end of the stored history, a stale rule fires an hour after the
    last reading, as it would live when the collector stopped."""
    path = tmp_path / "stale.yaml"
    path.write_text(STALE_FILE, encoding="utf-8")
    folder, data = history
    where = ["--site", str(folder), "--data-dir", str(data), "--rules-file", str(path)]
    period = ["--from", "2026-03-02", "--to", "2026-03-05"]  # a day more than is stored
    code = main(["rules", "backtest", *where, *period, "--json"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert {wo["asset_id"] for wo in result["work_orders"]} == {"pump-1", "pump-2"}
    for wo in result["work_orders"]:
        opened = dt.datetime.fromisoformat(wo["opened_at"])
        assert END + dt.timedelta(hours=1) <= opened <= END + dt.timedelta(hours=2)


def test_a_stale_rule_finer_than_the_history_is_flagged(
    history: tuple[Path, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A 1-minute stale rule on 5-minute history fires between readings: the report says so."""
    path = tmp_path / "stale.yaml"
    morning = ("--from", "2026-03-02T00:00", "--to", "2026-03-02T06:00")
    path.write_text(STALE_FILE.replace("after: 1h", "after: 1m"), encoding="utf-8")
    code, out, _ = backtest(history, capsys, "--rules-file", str(path), period=morning)
    assert code == 0
    (line,) = [ln for ln in out.splitlines() if ln.startswith("warning:")]
    assert "pump-silent fires after 60 s" in line and "only every 300 s" in line
    path.write_text(STALE_FILE.replace("after: 1h", "after: 10m"), encoding="utf-8")
    code, out, _ = backtest(history, capsys, "--rules-file", str(path), period=morning)
    assert code == 0 and "warning:" not in out


def test_a_rules_file_with_an_invalid_rule_exits_2_naming_the_field(
    history: tuple[Path, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        RULES_FILE.replace("above: 22", "above: lots").replace(
            "for: 10m", "for: 10m\n    colour: red"
        ),
        encoding="utf-8",
    )
    code, out, err = backtest(history, capsys, "--rules-file", str(path))
    assert code == 2
    assert out == ""
    assert f"{path}:8: rules[0].above:" in err
    assert "rules[0].colour: unknown field" in err
    assert "Traceback" not in err


def test_a_missing_store_exits_2_without_creating_one(
    history: tuple[Path, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder, _ = history
    code = main(
        ["rules", "backtest", "--site", str(folder), "--data-dir", str(tmp_path / "none"), *PERIOD]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "no stored history" in err and "simulate --history" in err
    assert not (tmp_path / "none").exists()


def test_progress_runs_through_the_period_to_one(
    site: SiteConfig, history: tuple[Path, Path]
) -> None:
    seen: list[Progress] = []
    store = EmbeddedStore(history[1] / "readings.sqlite")
    try:
        result = run_backtest(
            site, store, START, END, site.doc.rules, progress=seen.append, chunk=6 * 3600
        )
    finally:
        store.close()
    assert len(seen) == 8  # one per 6-hour window
    fractions = [p.fraction for p in seen]
    assert fractions == sorted(fractions)
    assert fractions[0] == pytest.approx(1 / 8) and fractions[-1] == 1.0
    assert seen[-1].readings == result.readings > 0


def test_iter_range_yields_each_window_in_time_order_with_only_the_asked_series(
    history: tuple[Path, Path],
) -> None:
    """Windows come out even when empty (past the stored period), so time can move on."""
    store = EmbeddedStore(history[1] / "readings.sqlite")
    try:
        windows = list(
            store.iter_range(
                END.timestamp() - 3600,
                END.timestamp() + 3600,
                assets={"pump-1", "a-main"},
                points={"motor_current", "voltage_l1"},
                chunk=1800,
            )
        )
    finally:
        store.close()
    assert [len(w) for w in windows] == [12, 12, 0, 0]  # 6 steps x 2 series, then nothing
    got = [r for w in windows for r in w]
    assert [r.ts for r in got] == sorted(r.ts for r in got)
    assert {(r.asset, r.point) for r in got} == {
        ("pump-1", "motor_current"),
        ("a-main", "voltage_l1"),
    }
    assert all(END.timestamp() - 3600 <= r.ts < END.timestamp() for r in got)
    assert all(isinstance(r.value, float) and r.number == r.value for r in got)
