"""The issue's done-when on baselines: on a simulated year and a half of the demo site (the
simulator's models stepped hourly, no store), the baseline meets ASHRAE Guideline 14's monthly
limits and the LED retrofit's measured savings come within 10 % of what the simulator put in
(the truth: the same models stepped again without the retrofit)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from analytics.baselines import baseline_report
from analytics.meters import meter_tree
from plantroom.site import load_site
from tests.analytics.simulated import SimulatedUsage

TZ = ZoneInfo("Asia/Shanghai")
START, END = dt.datetime(2025, 6, 1, tzinfo=TZ), dt.datetime(2026, 12, 1, tzinfo=TZ)
#: The demo's retrofit a-led-2026: Building A's lighting 30 % lower from 2026-06-01.
RETROFIT, DATE = "a-led-2026", dt.date(2026, 6, 1)
TODAY = dt.date(2026, 12, 1)


@pytest.fixture(scope="module")
def year() -> tuple[Any, SimulatedUsage, SimulatedUsage]:
    """The demo site, its simulated usage, and the same without the retrofit."""
    site = load_site("config/sites/demo")
    return (
        site,
        SimulatedUsage(site, START, END),
        SimulatedUsage(site, START, END, retrofits=False),
    )


def _truth(site: Any, usage: SimulatedUsage, without: SimulatedUsage, meter_id: str) -> float:
    meter = meter_tree(site).get(meter_id)
    last = TODAY - dt.timedelta(days=1)
    return sum(u.amount for u in without.daily(meter, DATE, last)) - sum(
        u.amount for u in usage.daily(meter, DATE, last)
    )


@pytest.mark.parametrize("meter_id", ["a-main", "a-lighting"])
def test_degree_day_baseline_meets_the_monthly_limits_and_measures_the_retrofit(
    year: tuple[Any, SimulatedUsage, SimulatedUsage], meter_id: str
) -> None:
    site, usage, without = year
    report = baseline_report(site, usage, meter_id=meter_id, retrofit=RETROFIT, today=TODAY)
    truth = _truth(site, usage, without, meter_id)

    assert report["model"]["type"] == "degree_day"
    assert report["baseline"] == {"from": "2025-06-01", "to": "2026-06-01"}
    assert report["monthly"]["n"] == 12 and report["monthly"]["meets"], report["monthly"]
    assert report["fit"]["resolution"] == "daily" and report["fit"]["meets"]
    saved = report["savings"]
    assert saved["amount"] == pytest.approx(truth, rel=0.10)
    assert 0 < saved["uncertainty"] < saved["amount"]  # a saving told apart from the noise
    assert [m["month"] for m in saved["months"]] == [f"2026-{m:02d}" for m in range(6, 12)]


def test_hour_of_week_baseline_measures_the_retrofit_where_no_temperature_is_read(
    year: tuple[Any, SimulatedUsage, SimulatedUsage],
) -> None:
    site, usage, without = year
    energy = site.doc.energy.model_copy(update={"outdoor_temperature": None})
    no_weather = dataclasses.replace(site, doc=site.doc.model_copy(update={"energy": energy}))
    report = baseline_report(
        no_weather, usage, meter_id="a-lighting", retrofit=RETROFIT, today=TODAY
    )
    truth = _truth(site, usage, without, "a-lighting")

    assert report["model"]["type"] == "hour_of_week" and report["model"]["p"] == 168
    assert report["fit"]["resolution"] == "hourly" and report["fit"]["meets"]
    assert report["monthly"]["meets"]
    assert report["savings"]["amount"] == pytest.approx(truth, rel=0.10)
