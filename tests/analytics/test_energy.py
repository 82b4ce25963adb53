"""Standard coal, carbon and the filing's indicators against hand-worked values (issue 16)."""

from __future__ import annotations

import datetime as dt

import pytest

from analytics.energy import BadQuantity, Quantity, carbon, indicators, standard_coal
from analytics.factors import FACTORS, NoFactor, equal_value

DAY = dt.date(2025, 6, 30)


def test_the_published_public_institution_example_comes_to_28_49_tce() -> None:
    """DOMAIN.md's worked example: 12,500 kWh, 2,000 kg coal, 12,340 L gasoline, 4,200 L diesel
    and 6,000 m³ gas over 1,400 m² and 50 people: 28.49 tce, 20.4 kgce/m², 569.9 kgce/person."""
    energy = standard_coal(
        [
            Quantity("electricity", 12_500, "kWh", DAY),
            Quantity("raw_coal", 2_000, "kg", DAY),
            Quantity("gasoline", 12_340, "L", DAY),
            Quantity("diesel", 4_200, "L", DAY),
            Quantity("natural_gas", 6_000, "m3", DAY),
        ]
    )
    figures = indicators(energy, floor_area_m2=1_400, people=50)
    assert round(figures.tce, 2) == 28.49
    assert round(figures.kgce_per_m2 or 0, 1) == 20.4
    assert round(figures.kgce_per_person or 0, 1) == 569.9
    # each carrier by hand: 12,340 L x 0.725 kg/L x 1.4714 kgce/kg = 13,163.9 kgce
    assert energy.by_carrier["gasoline"] == pytest.approx(12_340 * 0.725 * 1.4714)
    assert energy.by_carrier["electricity"] == pytest.approx(1_536.25)


def test_every_figure_names_the_factors_it_used() -> None:
    energy = standard_coal([Quantity("electricity", 1_000, "kWh", DAY)])
    refs = indicators(energy, floor_area_m2=100, people=2).factors
    assert refs == (
        {
            "carrier": "electricity",
            "unit": "kWh",
            "kind": "kgce",
            "basis": "equivalent",
            "value": 0.1229,
            "source": "GB/T 2589-2020",
            "valid_from": None,
            "valid_to": None,
        },
    )


def test_the_equal_value_of_electricity_is_the_years_setting_not_a_constant() -> None:
    kwh = [Quantity("electricity", 10_000, "kWh", dt.date(2024, 3, 1))]
    with pytest.raises(NoFactor, match="equal value"):
        standard_coal(kwh, basis="equal")
    table = (equal_value(2024, 0.302, "site setting: 2024 coal rate"), *FACTORS)
    assert standard_coal(kwh, basis="equal", table=table).kgce == pytest.approx(3_020)
    # other carriers have one value whichever basis is asked for
    gas = [Quantity("natural_gas", 100, "m3", dt.date(2024, 3, 1))]
    assert standard_coal(gas, basis="equal", table=table).kgce == pytest.approx(121.43)


def test_carbon_uses_the_grid_factor_of_the_year_consumed_and_refuses_a_year_without() -> None:
    kwh_2022 = Quantity("electricity", 1_000, "kWh", dt.date(2022, 12, 31))
    kwh_2023 = Quantity("electricity", 1_000, "kWh", dt.date(2023, 1, 1))
    total, used = carbon([kwh_2022, kwh_2023])
    assert total == pytest.approx(536.6 + 530.6)
    assert [f.source for f in used] == [
        "MEE/NBS national grid average CO2 emission factor, 2022",
        "MEE/NBS national grid average CO2 emission factor, 2023",
    ]
    with pytest.raises(NoFactor, match="electricity on 2026-01-01"):
        carbon([Quantity("electricity", 1, "kWh", dt.date(2026, 1, 1))])


def test_a_quantity_in_a_unit_its_factor_cannot_take_is_refused_by_name() -> None:
    with pytest.raises(BadQuantity, match="natural_gas in kg: its factor is per m3"):
        standard_coal([Quantity("natural_gas", 5, "kg", DAY)])
    with pytest.raises(BadQuantity, match="negative"):
        standard_coal([Quantity("diesel", -1, "kg", DAY)])
    assert standard_coal([Quantity("diesel", 1, "t", DAY)]).kgce == pytest.approx(1_457.1)


def test_water_is_reported_per_person_and_not_counted_as_energy() -> None:
    energy = standard_coal([Quantity("electricity", 1_000, "kWh", DAY)])
    figures = indicators(energy, floor_area_m2=None, people=40, water_m3=2_800)
    assert figures.water_m3_per_person == pytest.approx(70.0)
    assert figures.kgce_per_m2 is None
    with pytest.raises(NoFactor):
        standard_coal([Quantity("water", 10, "m3", DAY)])
