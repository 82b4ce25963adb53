"""The simulated compound's energy truth: a weather station with a Shanghai-like year, HVAC load
that follows the outdoor air, a retrofit that takes its share off from its date, and a water
meter per building under the compound's main."""

from __future__ import annotations

import datetime as dt
import statistics
from zoneinfo import ZoneInfo

import pytest

from collectors.readings import Quality
from collectors.simulator.models import EnergyMeter, WaterMeter, Weather, build_models
from config.site import SiteConfig
from tests.collectors.test_collect_simulator import by_point, poll_once

TZ = ZoneInfo("Asia/Shanghai")


def _month_mean(weather: Weather, year: int, month: int) -> float:
    start = dt.datetime(year, month, 1, tzinfo=TZ).timestamp()
    return statistics.mean(weather.temperature(start + h * 3600) for h in range(24 * 28))


def test_the_weather_is_cold_in_january_and_hot_in_july() -> None:
    weather = Weather("Asia/Shanghai", 7)
    assert 2 < _month_mean(weather, 2026, 1) < 7
    assert 26 < _month_mean(weather, 2026, 7) < 31
    afternoon = dt.datetime(2026, 7, 15, 15, tzinfo=TZ).timestamp()
    assert weather.temperature(afternoon) > weather.temperature(afternoon - 12 * 3600)


def test_the_weather_station_answers_the_outdoor_air_over_modbus(demo_site: SiteConfig) -> None:
    readings = by_point(poll_once(demo_site, ["weather-station-sensor"])["weather-station-sensor"])
    now = Weather("Asia/Shanghai", demo_site.doc.simulation.seed).temperature(
        dt.datetime.now(dt.UTC).timestamp()
    )
    temp = readings["outdoor_temperature"]
    assert temp.quality is Quality.good and temp.unit == "degC"
    assert abs(temp.value - now) < 0.3  # type: ignore[operator]  # 0.1 °C register, 5 s apart
    assert 0 <= readings["relative_humidity"].value <= 100  # type: ignore[operator]


def test_the_water_main_reads_more_than_the_buildings_meters(demo_site: SiteConfig) -> None:
    got = poll_once(demo_site, ["water-main-meter", "a-water-meter", "b-water-meter"])
    flow = {d: by_point(r)["flow"].value for d, r in got.items()}
    # The demo's scripted leak on the main (1.8 m³/h from 60 s in) is not running yet.
    assert flow["water-main-meter"] > flow["a-water-meter"] + flow["b-water-meter"]  # type: ignore[operator]


def test_hvac_draws_more_on_a_hot_afternoon_than_a_mild_one(demo_site: SiteConfig) -> None:
    models = build_models(demo_site, 0.0)
    hvac = models["a-hvac-meter"]
    assert isinstance(hvac, EnergyMeter)
    mild = hvac.power_kw(dt.datetime(2026, 4, 22, 15, tzinfo=TZ).timestamp())  # a Wednesday
    hot = hvac.power_kw(dt.datetime(2026, 7, 22, 15, tzinfo=TZ).timestamp())  # a Wednesday
    assert hot > 2 * mild


def test_the_retrofit_takes_its_saving_off_from_its_date(demo_site: SiteConfig) -> None:
    """The demo's a-lighting-meter retrofit saves 30 % from 2026-06-01 on, local midnight."""
    with_it = build_models(demo_site, 0.0)
    without = build_models(demo_site, 0.0)
    for m in without.values():
        m.retrofits = []
    at = dt.datetime(2026, 6, 1, tzinfo=TZ).timestamp()
    lit, base = with_it["a-lighting-meter"], without["a-lighting-meter"]
    main, main_base = with_it["a-main-meter"], without["a-main-meter"]
    assert isinstance(lit, EnergyMeter) and isinstance(base, EnergyMeter)
    assert isinstance(main, EnergyMeter) and isinstance(main_base, EnergyMeter)
    assert lit.power_kw(at - 1) == base.power_kw(at - 1)
    assert lit.power_kw(at + 3600) == pytest.approx(0.7 * base.power_kw(at + 3600))
    # The main meter falls by the lighting's saving, with its 7 % unmetered share.
    saved = base.power_kw(at + 3600) - lit.power_kw(at + 3600)
    assert main_base.power_kw(at + 3600) - main.power_kw(at + 3600) == pytest.approx(saved * 1.07)


def test_each_building_meter_takes_its_share_of_the_main_by_occupants(
    demo_site: SiteConfig,
) -> None:
    models = build_models(demo_site, 0.0)
    a, b = models["a-water-meter"], models["b-water-meter"]
    assert isinstance(a, WaterMeter) and isinstance(b, WaterMeter)
    assert (a.share, b.share) == (460 / 770, 310 / 770)
