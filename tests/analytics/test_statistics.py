"""The filing's energy statistics (analytics.statistics) against hand-worked figures: the
published public-institution example with the Guangdong references, a floor area that changes
by year, sub-items with their unmetered remainder, what a building counts, and the refusals."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from analytics.factors import NoFactor, factor_for
from analytics.site import AnalyticsSite, AnalyticsSiteFile
from analytics.statistics import BadPeriod, UnknownBuilding, energy_statistics
from analytics.usage import Use
from config.site import load_site
from tests.analytics.conftest import MemoryUsage, local_day

#: Well after the years asked for: every day of 2025 and 2026 has gone by.
NOW = dt.datetime(2027, 2, 1, 12, tzinfo=dt.UTC)

SITE = """
site: {id: test, name: Test compound, name_zh: 测试园区, timezone: Asia/Shanghai}
buildings:
  - id: bldg-a
    name: Building A
    floor_area_m2: 1400
    occupants: 50
    by_year:
      2024: {floor_area_m2: 1000, occupants: 40}
      2026: {floor_area_m2: 1400, occupants: 50}
    assets:
      - {id: a-main, name: A main, class: Electrical_Meter}
      - {id: a-lighting, name: A lighting, class: Electrical_Meter, parent_meter: a-main,
         sub_item: 01A00}
      - {id: a-hvac, name: A HVAC, class: Electrical_Meter, parent_meter: a-main,
         sub_item: 01B00}
      - {id: a-chillers, name: A chillers, class: Electrical_Meter, parent_meter: a-hvac,
         sub_item: 01B10}
      - {id: a-water, name: A water, class: Water_Meter, parent_meter: water-main}
  - id: bldg-b
    name: Building B
    floor_area_m2: 600
    occupants: 30
    assets:
      - {id: b-main, name: B main, class: Electrical_Meter}
      - {id: water-main, name: Compound water main, class: Water_Meter}
      - {id: b-water, name: B water, class: Water_Meter, parent_meter: water-main}
energy:
  factors:
    - {carrier: electricity, kind: kgco2e, value: 0.5306, unit: kWh,
       source: "test: the 2023 national factor for 2024-2026", valid_from: 2024-01-01,
       valid_to: 2027-01-01}
    - {carrier: raw_coal, kind: kgco2e, value: 1.9, unit: kg, source: "test: coal factor"}
    - {carrier: natural_gas, kind: kgco2e, value: 2.1, unit: m3, source: "test: site gas"}
  references:
    - {id: gd-provincial-2021, name: Guangdong provincial offices 2021, source: test, year: 2021,
       kgce_per_m2: 12.49, kgce_per_person: 517.33, water_m3_per_person: 38.53}
    - {id: gd-city-2021, name: Guangdong city offices 2021, source: test, year: 2021,
       kgce_per_m2: 11.02, kgce_per_person: 397.34, water_m3_per_person: 69.99}
  offline_meters:
    - {id: gas, name: Canteen gas, building: bldg-a, carrier: natural_gas, unit: m3}
    - {id: diesel, name: Genset diesel, building: bldg-a, carrier: diesel, unit: L}
    - {id: gasoline, name: Car pool gasoline, building: bldg-a, carrier: gasoline, unit: L}
    - {id: coal, name: Boiler coal, building: bldg-a, carrier: raw_coal, unit: kg}
"""


def make_site(tmp_path: Path, extra: str = "") -> AnalyticsSite:
    """The test compound, with `extra` appended to its energy section."""
    (tmp_path / "site.yaml").write_text(SITE + extra, encoding="utf-8")
    return load_site(tmp_path, AnalyticsSiteFile)


def on(day: dt.date, amount: float) -> dict[dt.date, float | Use | None]:
    return {day: amount}


def ref(indicator: dict[str, Any], ref_id: str) -> dict[str, Any]:
    return next(r for r in indicator["references"] if r["id"] == ref_id)


def worked_example(day: dt.date) -> dict[str, dict[dt.date, float | Use | None]]:
    """DOMAIN.md's published example, all on one day: 12,500 kWh, 2,000 kg coal, 12,340 L
    gasoline, 4,200 L diesel, 6,000 m³ gas; and 3,000 m³ of water."""
    return {
        "a-main": on(day, 12_500),
        "coal": on(day, 2_000),
        "gasoline": on(day, 12_340),
        "diesel": on(day, 4_200),
        "gas": on(day, 6_000),
        "a-water": on(day, 3_000),
        "water-main": on(day, 3_000),
    }


def test_the_published_example_gives_28_49_tce_and_its_ratios_to_the_guangdong_averages(
    tmp_path: Path,
) -> None:
    """Building A in 2026 (1,400 m², 50 people) used DOMAIN.md's published example: 28.49 tce,
    20.4 kgce/m², 569.9 kgce/person, set against Guangdong's 2021 averages for provincial-level
    (12.49 kgce/m², 517.33 kgce/person, 38.53 m³/person) and city-level government offices
    (11.02, 397.34, 69.99)."""
    site = make_site(tmp_path)
    usage = MemoryUsage(worked_example(dt.date(2026, 5, 12)))
    stats = energy_statistics(site, usage, year=2026, building="bldg-a", now=NOW)
    # by hand: 12,500 x 0.1229 + 2,000 x 0.7143 + 12,340 x 0.725 x 1.4714
    #          + 4,200 x 0.83 x 1.4571 + 6,000 x 1.2143 = 28,493.98 kgce
    kgce = 1_536.25 + 1_428.6 + 13_163.880_1 + 5_079.450_6 + 7_285.8
    assert stats["energy"]["kgce"] == pytest.approx(kgce)
    assert round(stats["energy"]["tce"], 2) == 28.49
    assert (stats["floor_area_m2"], stats["occupants"]) == (1_400, 50)
    per_m2 = stats["indicators"]["kgce_per_m2"]
    per_person = stats["indicators"]["kgce_per_person"]
    water = stats["indicators"]["water_m3_per_person"]
    assert round(per_m2["value"], 1) == 20.4
    assert round(per_person["value"], 1) == 569.9
    assert water["value"] == pytest.approx(3_000 / 50)
    assert ref(per_m2, "gd-provincial-2021")["ratio"] == pytest.approx(kgce / 1_400 / 12.49)
    assert ref(per_m2, "gd-city-2021")["ratio"] == pytest.approx(kgce / 1_400 / 11.02)
    assert round(ref(per_m2, "gd-city-2021")["ratio"], 3) == 1.847
    assert round(ref(per_person, "gd-provincial-2021")["ratio"], 3) == 1.102
    assert round(ref(per_person, "gd-city-2021")["ratio"], 3) == 1.434
    assert ref(water, "gd-provincial-2021")["ratio"] == pytest.approx(60 / 38.53)
    assert ref(water, "gd-city-2021")["ratio"] == pytest.approx(60 / 69.99)
    by = {c["carrier"]: c for c in stats["carriers"]}
    assert by["diesel"]["amount"] == 4_200
    assert by["diesel"]["unit"] == "L"
    assert by["diesel"]["kgce"] == pytest.approx(4_200 * 0.83 * 1.4571)
    # carbon: the site's 2026 grid factor, its own gas factor before the shipped one, coal's
    # test factor, and the shipped fuel factors (IPCC defaults on GB/T 2589 heat content)
    kgco2e = (
        12_500 * 0.5306
        + 2_000 * 1.9
        + 12_340 * 0.725 * 2.9884
        + 4_200 * 0.83 * 3.1643
        + 6_000 * 2.1
    )
    assert stats["energy"]["kgco2e"] == pytest.approx(kgco2e)
    assert stats["indicators"]["kgco2e_per_m2"]["value"] == pytest.approx(kgco2e / 1_400)
    sources = {(f["carrier"], f["kind"]): f["source"] for f in stats["factors"]}
    assert sources[("natural_gas", "kgco2e")] == "test: site gas"
    assert sources[("electricity", "kgce")] == "GB/T 2589-2020"
    assert stats["basis"] == "equivalent"


def test_each_year_is_divided_by_its_own_floor_area_and_occupants(tmp_path: Path) -> None:
    """Building A had 1,000 m² and 40 people from 2024 (so in 2025 too), 1,400 m² and 50
    people from 2026: the same 81,367 kWh (10,000 kgce) is 10 kgce/m² and 250 kgce/person in
    2025, 7.14 kgce/m² and 200 kgce/person in 2026."""
    site = make_site(tmp_path)
    kwh = 10_000 / 0.1229
    usage = MemoryUsage({"a-main": {dt.date(2025, 3, 3): kwh, dt.date(2026, 3, 3): kwh}})
    y2025 = energy_statistics(site, usage, year=2025, building="bldg-a", now=NOW)
    y2026 = energy_statistics(site, usage, year=2026, building="bldg-a", now=NOW)
    assert (y2025["floor_area_m2"], y2025["occupants"]) == (1_000, 40)
    assert (y2026["floor_area_m2"], y2026["occupants"]) == (1_400, 50)
    assert y2025["indicators"]["kgce_per_m2"]["value"] == pytest.approx(10.0)
    assert y2026["indicators"]["kgce_per_m2"]["value"] == pytest.approx(10_000 / 1_400)
    assert y2025["indicators"]["kgce_per_person"]["value"] == pytest.approx(250.0)
    assert y2026["indicators"]["kgce_per_person"]["value"] == pytest.approx(200.0)
    # the compound's figures are the sums of its buildings' for that year
    compound = energy_statistics(site, usage, year=2025, now=NOW)
    assert (compound["floor_area_m2"], compound["occupants"]) == (1_600, 70)


def test_sub_meters_break_the_main_down_without_adding_to_it(tmp_path: Path) -> None:
    """A main of 1,000 kWh with lighting 300 and HVAC 400 (whose chillers, 150, are part of
    it): 1,000 kWh in total, 01A00 300, 01B00 400, unmetered 300."""
    site = make_site(tmp_path)
    day = dt.date(2026, 7, 1)
    usage = MemoryUsage(
        {
            "a-main": on(day, 1_000),
            "a-lighting": on(day, 300),
            "a-hvac": on(day, 400),
            "a-chillers": on(day, 150),
        }
    )
    stats = energy_statistics(site, usage, year=2026, month=7, building="bldg-a", now=NOW)
    elec = stats["electricity"]
    assert elec["kwh"] == 1_000
    assert {s["code"]: s["kwh"] for s in elec["sub_items"]} == {
        "01A00": 300,
        "01B00": 400,
        "01C00": 0,
        "01D00": 0,
    }
    assert elec["unmetered"] == {"kwh": 300, "share": 0.3, "estimated_share": 0.0}
    assert stats["energy"]["kgce"] == pytest.approx(1_000 * 0.1229)
    first = stats["days"][0]
    assert (first["day"], first["electricity_kwh"], first["unmetered_kwh"]) == (
        "2026-07-01",
        1_000,
        300,
    )
    assert first["sub_items"]["01B00"] == 400
    assert len(stats["days"]) == 31
    # a month is not compared with a yearly reference
    assert ref(stats["indicators"]["kgce_per_m2"], "gd-city-2021")["ratio"] is None


def test_the_compound_counts_the_water_main_and_each_building_its_own_meter(
    tmp_path: Path,
) -> None:
    """The water main (1,000 m³) feeds A (600) and B (300): the compound counts 1,000 over 80
    people, A 600 over 50, B 300 over 30; the electricity of both mains adds up."""
    site = make_site(tmp_path)
    day = dt.date(2026, 4, 2)
    usage = MemoryUsage(
        {
            "water-main": on(day, 1_000),
            "a-water": on(day, 600),
            "b-water": on(day, 300),
            "a-main": on(day, 2_000),
            "b-main": on(day, 500),
        }
    )
    stats = energy_statistics(site, usage, year=2026, now=NOW)
    assert stats["water"]["m3"] == 1_000
    assert stats["indicators"]["water_m3_per_person"]["value"] == pytest.approx(1_000 / 80)
    assert stats["electricity"]["kwh"] == 2_500
    by = {b["id"]: b for b in stats["buildings"]}
    assert by["bldg-a"]["water"]["m3"] == 600
    assert by["bldg-b"]["water"]["m3"] == 300
    assert by["bldg-b"]["meters"] == ["b-main", "b-water"]
    assert by["bldg-a"]["electricity"]["kwh"] == 2_000
    april = stats["months"][3]
    assert (april["month"], april["electricity_kwh"], april["water_m3"]) == (
        "2026-04",
        2_500,
        1_000,
    )
    assert len(stats["months"]) == 12


def test_a_day_half_missing_shows_as_estimated(tmp_path: Path) -> None:
    """Of 30 meter-days in June (one meter), one day half missing and one day estimated in full
    make (0.5 + 1) / 30 = 5 % of the figure estimated."""
    site = make_site(tmp_path)
    usage = MemoryUsage(
        {
            "a-main": {
                dt.date(2026, 6, 3): Use(*local_day(dt.date(2026, 6, 3)), 100.0, missing_s=43_200),
                dt.date(2026, 6, 4): Use(*local_day(dt.date(2026, 6, 4)), 80.0, estimated_s=86_400),
            }
        }
    )
    stats = energy_statistics(site, usage, year=2026, month=6, building="bldg-a", now=NOW)
    by = {c["carrier"]: c for c in stats["carriers"]}
    assert by["electricity"]["estimated_share"] == pytest.approx(1.5 / 30)


def test_an_unbilled_fuel_weighs_in_the_energy_by_its_standard_coal_not_its_meter_time(
    tmp_path: Path,
) -> None:
    """June: electricity known every day, 1,000 kWh a day (3,687 kgce); diesel billed for one day
    only, 100 L (100 x 0.83 x 1.4571 = 120.94 kgce), the other 29 days not yet billed. The
    energy is (29/30 x 120.94) / 3,807.94 = 3.07 % estimated, not the 29 of 60 meter-days
    (48 %) that would hatch the whole month on the chart."""
    site = make_site(tmp_path)
    june = [dt.date(2026, 6, d) for d in range(1, 31)]
    usage = MemoryUsage(
        {
            "a-main": dict.fromkeys(june, 1000.0),
            "diesel": {d: (100.0 if d.day == 1 else None) for d in june},
        }
    )
    stats = energy_statistics(site, usage, year=2026, month=6, now=NOW)
    by = {c["carrier"]: c for c in stats["carriers"]}
    assert by["diesel"]["estimated_share"] == pytest.approx(29 / 30)
    assert stats["energy"]["estimated_share"] == pytest.approx(29 / 30 * 120.94 / 3807.94, rel=1e-3)


def test_a_month_nobody_measured_is_no_figure_not_a_zero(tmp_path: Path) -> None:
    """Building A's main meter knew nothing all June (the collector was off): its energy, the
    electricity and the indicators are null, said to be 100 % missing, never 0."""
    site = make_site(tmp_path)
    june = [dt.date(2026, 6, d) for d in range(1, 31)]
    usage = MemoryUsage({"a-main": dict.fromkeys(june, None)})
    stats = energy_statistics(site, usage, year=2026, month=6, building="bldg-a", now=NOW)
    elec = next(c for c in stats["carriers"] if c["carrier"] == "electricity")
    assert elec["amount"] is None and elec["kgce"] is None and elec["estimated_share"] == 1.0
    assert stats["electricity"]["kwh"] is None
    # The building's other fuels were known (nothing used): the electricity stays said.
    assert stats["energy"]["estimated_share"] > 0
    fuels = ("a-main", "coal", "gasoline", "diesel", "gas")
    dark = MemoryUsage({m: dict.fromkeys(june, None) for m in fuels})
    alone = energy_statistics(site, dark, year=2026, month=6, building="bldg-a", now=NOW)
    assert alone["energy"]["kgce"] is None and alone["energy"]["estimated_share"] == 1.0
    assert alone["indicators"]["kgce_per_m2"]["value"] is None
    assert all(d["kgce"] is None for d in alone["days"])


def test_the_equal_value_is_used_when_the_site_asks_for_it(tmp_path: Path) -> None:
    site = make_site(
        tmp_path,
        "  electricity_basis: equal\n"
        '  equal_value:\n    2026: {kgce_per_kwh: 0.3, source: "test"}\n',
    )
    usage = MemoryUsage({"a-main": on(dt.date(2026, 2, 2), 1_000)})
    stats = energy_statistics(site, usage, year=2026, building="bldg-a", now=NOW)
    assert stats["basis"] == "equal"
    assert stats["energy"]["kgce"] == pytest.approx(300)
    assert {(f["kind"], f["basis"], f["value"]) for f in stats["factors"]} == {
        ("kgce", "equal", 0.3),
        ("kgco2e", "equivalent", 0.5306),
    }


def test_a_year_the_factors_do_not_cover_is_refused_not_guessed(tmp_path: Path) -> None:
    """2021 has no grid carbon factor, shipped or configured."""
    site = make_site(tmp_path)
    usage = MemoryUsage({"a-main": on(dt.date(2021, 2, 2), 1_000)})
    with pytest.raises(NoFactor, match="kgco2e factor for electricity on 2021-02-02") as exc:
        energy_statistics(site, usage, year=2021, now=NOW)
    assert exc.value.status_code == 422


def test_unknown_building_and_bad_periods_are_refused(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    usage = MemoryUsage({})
    with pytest.raises(UnknownBuilding) as e404:
        energy_statistics(site, usage, year=2026, building="bldg-z", now=NOW)
    assert e404.value.status_code == 404
    for kwargs in ({"year": 1999}, {"year": 2028}, {"year": 2026, "month": 13}):
        with pytest.raises(BadPeriod) as e422:
            energy_statistics(site, usage, now=NOW, **kwargs)  # type: ignore[arg-type]
        assert e422.value.status_code == 422
    with pytest.raises(BadPeriod, match="2027-03 has not begun"):
        energy_statistics(site, usage, year=2027, month=3, now=NOW)


def test_the_current_year_runs_to_today_and_says_it_is_not_complete(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    now = dt.datetime(2026, 3, 10, 2, tzinfo=dt.UTC)  # 10:00 on site
    stats = energy_statistics(site, MemoryUsage({}), year=2026, now=now)
    assert stats["period"] == {
        "from": "2026-01-01",
        "to": "2027-01-01",
        "through": "2026-03-10",
        "complete": False,
        "timezone": "Asia/Shanghai",
    }
    assert [m["month"] for m in stats["months"]] == ["2026-01", "2026-02", "2026-03"]
    assert stats["energy"]["kgce"] == 0
    assert stats["factors"] == []


def test_a_year_still_running_is_not_compared_with_the_yearly_references(tmp_path: Path) -> None:
    """Ten weeks of 2026 against a whole year's average would flatter every building: the
    reference is shown, its ratio is not (it is for 2025, which is over)."""
    site = make_site(tmp_path)
    now = dt.datetime(2026, 3, 10, 2, tzinfo=dt.UTC)
    usage = MemoryUsage({"a-main": worked_example(dt.date(2026, 1, 5))["a-main"]})
    running = energy_statistics(site, usage, year=2026, building="bldg-a", now=now)
    refs = running["indicators"]["kgce_per_m2"]["references"]
    assert refs and all(r["value"] and r["ratio"] is None for r in refs)
    usage = MemoryUsage({"a-main": worked_example(dt.date(2025, 1, 5))["a-main"]})
    over = energy_statistics(site, usage, year=2025, building="bldg-a", now=now)
    assert all(r["ratio"] for r in over["indicators"]["kgce_per_m2"]["references"])


@pytest.mark.parametrize(
    ("carrier", "kgce_per_unit", "kg_co2_per_tj"),
    [
        ("natural_gas", 1.2143, 56_100),
        ("diesel", 1.4571, 74_100),
        ("gasoline", 1.4714, 69_300),
        ("lpg", 1.7143, 63_100),
    ],
)
def test_fuel_carbon_factors_are_their_heat_content_times_the_ipcc_default(
    carrier: str, kgce_per_unit: float, kg_co2_per_tj: float
) -> None:
    """kgCO2 per unit = GB/T 2589-2020 kgce per unit x 29,307 kJ/kgce x IPCC 2006 kgCO2/TJ."""
    shipped = factor_for(carrier, kind="kgco2e", on=dt.date(2026, 1, 1))
    assert shipped.value == round(kgce_per_unit * 29_307e3 * kg_co2_per_tj / 1e12, 4)
    assert "IPCC 2006" in shipped.source and f"{kg_co2_per_tj:,}" in shipped.source


def test_a_sub_meter_that_knew_nothing_is_said_not_hidden_in_the_remainder(
    tmp_path: Path,
) -> None:
    """In June (30 days) lighting knew nothing on one day: 01A00 is 1/30 estimated, and the
    remainder, which that day's lighting falls into, is (0 + 1 + 0) / 90 meter-days: the main,
    lighting and HVAC over 30 days each."""
    site = make_site(tmp_path)
    day = dt.date(2026, 6, 10)
    usage = MemoryUsage({"a-main": {day: 900}, "a-lighting": {day: None}, "a-hvac": {day: 400}})
    stats = energy_statistics(site, usage, year=2026, month=6, building="bldg-a", now=NOW)
    subs = {s["code"]: s for s in stats["electricity"]["sub_items"]}
    assert subs["01A00"]["estimated_share"] == pytest.approx(1 / 30)
    assert subs["01C00"]["estimated_share"] is None  # no power sub-meter in this building
    assert stats["electricity"]["unmetered"]["kwh"] == 500
    assert stats["electricity"]["unmetered"]["estimated_share"] == pytest.approx(1 / 90)
