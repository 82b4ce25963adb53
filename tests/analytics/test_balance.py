"""The balance of a parent meter and the sub-metering coverage (issue 16, item 1), worked by
hand: through the API over the embedded store for the issue's done-when case, and on figures
held in memory for the rules."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from analytics.balance import BadPeriod, NoSubMeters, balance, coverage
from analytics.meters import UnknownMeter, meter_tree
from analytics.offline import service
from collectors.readings import Quality, Reading
from collectors.sinks.embedded import FILE_NAME, EmbeddedStore
from config.settings import Settings
from config.site import SiteConfig
from core.auth.models import Role
from core.db import Database
from tests.analytics.conftest import SHANGHAI, MemoryUsage
from tests.workorders.accounts import token_for

MARCH = dt.datetime(2026, 3, 1, tzinfo=SHANGHAI)
HOURS = 31 * 24


def at(hours: float) -> dt.datetime:
    """March 1st, 00:00 in Shanghai, plus that many hours."""
    return MARCH + dt.timedelta(hours=hours)


def write_counter(
    store: EmbeddedStore, asset: str, value: Callable[[int], float | None], hours: int = HOURS
) -> None:
    """One reading on each hour from March 1st 00:00 to April 1st 00:00 (included) of the
    meter's counter; `value(h)` None: no reading stored that hour."""
    rows = []
    for h in range(hours + 1):
        v = value(h)
        if v is not None:
            ts = at(h).timestamp()
            rows.append(Reading(ts, asset, f"{asset}-dev", "import_energy", v, "kWh", Quality.good))
    store.write(rows)


RESET_H = 9 * 24 + 11  # March 10th, 11:00: the lighting meter's counter restarts from 0
SWAP_H = 14 * 24 + 12.5  # March 15th, 12:30: the HVAC meter is replaced
DEAD_H = 19 * 24  # March 20th, 00:00: the special-loads meter's last reading


def test_the_remainder_with_a_missing_sub_meter_a_reset_and_a_replacement(
    client: TestClient, settings: Settings, db: Database, demo_site: SiteConfig[Any]
) -> None:
    """Building A in March: the main meter takes 5 kWh an hour (120 a day); lighting 1, HVAC 2,
    power 1 and special loads 0.5 kWh an hour (108 a day): 12 kWh a day, 10 %, unmetered.

    Lighting's counter restarts from 0 on the 10th, the HVAC meter is replaced on the 15th
    (old meter's final 2 x 348.5 = 697, new meter's first 5), and the special-loads meter
    sends nothing after the 20th, 00:00. Every day up to the 19th still balances at 12 kWh;
    from the 20th the sub-meters' sum is unknown, never taken as 108 - 12."""
    store = EmbeddedStore(settings.data_dir / FILE_NAME)
    write_counter(store, "a-main", lambda h: 50_000 + 5 * h)
    write_counter(store, "a-lighting", lambda h: 800 + h if h <= RESET_H else h - RESET_H)
    write_counter(store, "a-hvac", lambda h: 2 * h if h < SWAP_H else 5 + 2 * (h - SWAP_H))
    write_counter(store, "a-power", lambda h: 3_000 + h)
    write_counter(store, "a-special", lambda h: 0.5 * h if h <= DEAD_H else None)
    store.close()
    with db.session() as s:
        service.record_replacement(
            s,
            meter=meter_tree(demo_site).get("a-hvac"),
            at=at(SWAP_H),
            old_final=2 * SWAP_H,
            new_initial=5,
            by="test",
        )

    r = client.get("/api/v1/analytics/meters/a-main/balance?from=2026-03-01&to=2026-04-01")
    assert r.status_code == 200, r.text
    b = r.json()
    assert (b["from"], b["to"], b["unit"]) == ("2026-03-01", "2026-04-01", "kWh")
    assert b["parent"] == {"amount": pytest.approx(31 * 120), "estimated_share": 0}
    kids = {k["id"]: k for k in b["children"]}
    assert kids["a-lighting"]["amount"] == pytest.approx(31 * 24)  # the reset counted
    assert kids["a-hvac"]["amount"] == pytest.approx(31 * 48)  # both meters counted
    assert kids["a-special"]["amount"] == pytest.approx(19 * 12)
    assert kids["a-special"]["estimated_share"] == pytest.approx(12 / 31)
    assert b["remainder"] == {
        "amount": pytest.approx(19 * 12),
        "percent": pytest.approx(10),
        "children": pytest.approx(19 * 108),
        "balanced_days": 19,
        "unknown_days": 12,
    }
    days = {d["day"]: d for d in b["days"]}
    for day in ("2026-03-10", "2026-03-15", "2026-03-19"):
        assert (days[day]["remainder"], days[day]["estimated_share"]) == (pytest.approx(12), 0)
    missing = days["2026-03-20"]
    assert (missing["parent"], missing["children"], missing["remainder"]) == (
        pytest.approx(120),
        None,
        None,
    )
    assert (missing["unknown"], missing["estimated_share"]) == (["a-special"], 1)
    (month,) = b["months"]
    assert (month["month"], month["remainder"], month["percent"], month["unknown_days"]) == (
        "2026-03",
        pytest.approx(228),
        pytest.approx(10),
        12,
    )

    tree = client.get("/api/v1/analytics/meters?from=2026-03-01&to=2026-03-20").json()
    cover = {x["id"]: x["coverage_percent"] for x in tree["buildings"]}
    assert cover["bldg-a"] == pytest.approx(90)


# --- the rules, on figures in memory --------------------------------------------------------------


@pytest.fixture
def tree(demo_site: SiteConfig[Any]) -> Any:
    """The demo's meter tree."""
    return meter_tree(demo_site)


D1, D2, D3 = dt.date(2026, 5, 1), dt.date(2026, 5, 2), dt.date(2026, 5, 3)


def test_a_day_with_a_sub_meter_unknown_is_not_balanced_but_later_days_are(tree: Any) -> None:
    usage = MemoryUsage(
        {
            "b-main": {D1: 100, D2: 100},
            "b-lighting": {D1: 30, D2: None},
            "b-hvac": {D1: 40, D2: 40},
        }
    )
    b = balance(tree, usage, meter_id="b-main", start=D1, end=D3)
    assert [d["remainder"] for d in b["days"]] == [30, None]
    assert b["remainder"]["amount"] == 30 and b["remainder"]["percent"] == 30
    assert b["parent"]["amount"] == 200
    lighting = next(k for k in b["children"] if k["id"] == "b-lighting")
    assert (lighting["amount"], lighting["estimated_share"]) == (30, 0.5)


def test_a_period_must_end_after_it_starts_and_be_at_most_400_days(tree: Any) -> None:
    usage = MemoryUsage()
    with pytest.raises(BadPeriod):
        balance(tree, usage, meter_id="a-main", start=D2, end=D2)
    with pytest.raises(BadPeriod):
        balance(tree, usage, meter_id="a-main", start=D1, end=D1 + dt.timedelta(days=401))
    with pytest.raises(NoSubMeters):
        balance(tree, usage, meter_id="a-hvac", start=D1, end=D2)
    with pytest.raises(UnknownMeter):
        balance(tree, usage, meter_id="nope", start=D1, end=D2)


def test_coverage_is_the_sub_metered_share_of_each_buildings_electricity(tree: Any) -> None:
    usage = MemoryUsage(
        {
            "a-main": {D1: 200},
            "a-lighting": {D1: 50},
            "a-hvac": {D1: 100},
            "b-main": {D1: 100},
            "b-lighting": {D1: 80},
        }
    )
    cover = coverage(tree, usage, start=D1, end=D2)
    assert (cover["bldg-a"], cover["bldg-b"]) == (pytest.approx(75), pytest.approx(80))


def test_the_api_answers_422_404_and_403_with_a_reason(client: TestClient, db: Database) -> None:
    base = "/api/v1/analytics/meters"
    bad = client.get(f"{base}/a-main/balance?from=2026-03-02&to=2026-03-01")
    assert (bad.status_code, bad.json()["error"]) == (422, "bad_period")
    leaf = client.get(f"{base}/a-hvac/balance?from=2026-03-01&to=2026-03-02")
    assert (leaf.status_code, leaf.json()["error"]) == (422, "no_sub_meters")
    nope = client.get(f"{base}/nope/balance")
    assert (nope.status_code, nope.json()["error"]) == (404, "unknown_meter")
    listed = client.get(base).json()
    assert {m["id"] for m in listed["meters"]} >= {"a-main", "gas-canteen"}
    assert listed["from"].endswith("-01")
    token = token_for(db, "tech1", Role.technician)
    who = {"Authorization": f"Bearer {token}"}
    assert client.get(base, headers=who).status_code == 403
    assert client.get(f"{base}/a-main/balance", headers=who).status_code == 403
