"""`plantroom simulate --history` bills the demo's offline gas meter for each month it covers,
through the offline meters' service; running it again replaces its own figures."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from analytics.meters import meter_tree
from analytics.offline import service as offline
from collectors.simulator.invoices import gas_invoices
from config.site import SITES_DIR
from core.db import Database
from plantroom.cli import main
from plantroom.site import load_site


def test_history_writes_the_months_gas_bill_once_however_often_it_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    for var in ("PLANTROOM_INFLUX_V1_URL", "PLANTROOM_INFLUX_V2_URL", "PLANTROOM_DATABASE_URL"):
        monkeypatch.delenv(var, raising=False)
    argv = ["simulate", "--history", "--from", "2026-01-01", "--to", "2026-02-01", "--step", "6h"]
    argv += ["--site", str(SITES_DIR / "demo"), "--data-dir", str(tmp_path / "data")]

    assert main(argv) == 0
    assert main(argv) == 0

    assert "wrote 1 simulated invoices" in capsys.readouterr().out
    site = load_site(SITES_DIR / "demo")
    tree = meter_tree(site)
    db = Database(f"sqlite:///{tmp_path / 'data' / 'plantroom.db'}")
    with db.session() as s:
        gas = offline.list_entries(s, meter=tree.get("gas-canteen"))
        diesel = offline.list_entries(s, meter=tree.get("diesel-genset"))
    db.engine.dispose()
    (bill,) = gas_invoices(
        "gas-canteen", dt.date(2026, 1, 1), dt.date(2026, 2, 1), timezone="Asia/Shanghai", seed=7
    )
    assert [(e.value, e.source) for e in gas] == [(bill.amount, "simulated")]
    tz = ZoneInfo("Asia/Shanghai")
    assert gas[0].start is not None
    assert gas[0].start.replace(tzinfo=dt.UTC).astimezone(tz) == dt.datetime(2026, 1, 1, tzinfo=tz)
    assert diesel == []  # the first quarter is not over
