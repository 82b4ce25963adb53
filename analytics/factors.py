"""Conversion factors with their validity: standard coal (kgce) and carbon (kgCO2e) per unit of
each energy carrier.

Every factor names its source and the dates it is valid for, and every figure computed with one
records which it used (`Factor.ref`), so a report can say what it was based on and a later
factor never changes a figure already filed in silence.

Standard coal (GB/T 2589-2020, its appendix of reference factors):
    electricity, equivalent value (当量值): 0.1229 kgce/kWh, the heat the kWh holds; natural gas
    1.2143 kgce/m³; diesel 1.4571 kgce/kg; gasoline 1.4714 kgce/kg; LPG 1.7143 kgce/kg; raw coal
    0.7143 kgce/kg; heat 0.03412 kgce/MJ. The equal value (等价值) of electricity, about
    0.3 kgce/kWh, is the coal burnt to generate it: it depends on the year's coal rate of power
    generation, so it is a site setting per year (`equal_value`), never a constant here.

Carbon (kgCO2 per kWh of electricity):
    the national grid average factors of the Ministry of Ecology and Environment and the
    National Bureau of Statistics: 0.5366 for 2022 and 0.5306 for 2023 (their announcement of
    the 2023 factors). A year without a published factor has none: the caller says which factor
    to use rather than getting a neighbour's (a site adds one in ``energy.factors``).

Carbon of fuels burnt on site (kgCO2 per unit; CO2 only, carbon fully oxidised): the heat a unit
holds by its GB/T 2589-2020 standard-coal factor (1 kgce = 29,307 kJ, the standard's definition
of standard coal) times the IPCC 2006 Guidelines' default CO2 emission factor for stationary
combustion (Vol. 2, ch. 1, table 1.4: natural gas 56,100, gas/diesel oil 74,100, motor gasoline
69,300, LPG 63,100 kgCO2/TJ):
    natural gas 1.2143 x 29.307 MJ x 56.1 g/MJ = 1.9965 kgCO2/m³; diesel 1.4571 x 29.307 x 74.1
    = 3.1643 kgCO2/kg; gasoline 1.4714 x 29.307 x 69.3 = 2.9884 kgCO2/kg; LPG 1.7143 x 29.307 x
    63.1 = 3.1702 kgCO2/kg.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from analytics.site import EnergySection
from core.errors import AppError

Kind = Literal["kgce", "kgco2e"]
Basis = Literal["equivalent", "equal"]


class NoFactor(AppError):
    """No factor is valid for this carrier, kind and date: the figure cannot be computed."""

    status_code = 422
    error = "no_factor"


@dataclass(frozen=True)
class Factor:
    """One conversion factor: `value` `kind` per `unit` of `carrier`, valid on
    [valid_from, valid_to) (None: open-ended), from `source`."""

    carrier: str
    unit: str
    kind: Kind
    value: float
    source: str
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    basis: Basis = "equivalent"

    def valid_on(self, day: dt.date) -> bool:
        """Whether the factor applies to consumption on `day`."""
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day < self.valid_to
        )

    @property
    def ref(self) -> dict[str, object]:
        """What a figure records of the factor it used."""
        return {
            "carrier": self.carrier,
            "unit": self.unit,
            "kind": self.kind,
            "basis": self.basis,
            "value": self.value,
            "source": self.source,
            "valid_from": self.valid_from.isoformat() if self.valid_from else None,
            "valid_to": self.valid_to.isoformat() if self.valid_to else None,
        }


GB_T_2589 = "GB/T 2589-2020"
MEE_GRID = "MEE/NBS national grid average CO2 emission factor"
IPCC_FUEL = (
    "GB/T 2589-2020 heat content (1 kgce = 29,307 kJ) x IPCC 2006 GL vol. 2 table 1.4 default "
    "CO2 factor"
)

#: The factors Plantroom ships. A site adds its own (a province's grid factor, the year's
#: equal value of electricity) in front of these.
FACTORS: tuple[Factor, ...] = (
    Factor("electricity", "kWh", "kgce", 0.1229, GB_T_2589),
    Factor("natural_gas", "m3", "kgce", 1.2143, GB_T_2589),
    Factor("diesel", "kg", "kgce", 1.4571, GB_T_2589),
    Factor("gasoline", "kg", "kgce", 1.4714, GB_T_2589),
    Factor("lpg", "kg", "kgce", 1.7143, GB_T_2589),
    Factor("raw_coal", "kg", "kgce", 0.7143, GB_T_2589),
    Factor("heat", "MJ", "kgce", 0.03412, GB_T_2589),
    Factor(
        "electricity",
        "kWh",
        "kgco2e",
        0.5366,
        f"{MEE_GRID}, 2022",
        dt.date(2022, 1, 1),
        dt.date(2023, 1, 1),
    ),
    Factor(
        "electricity",
        "kWh",
        "kgco2e",
        0.5306,
        f"{MEE_GRID}, 2023",
        dt.date(2023, 1, 1),
        dt.date(2024, 1, 1),
    ),
    Factor("natural_gas", "m3", "kgco2e", 1.9965, f"{IPCC_FUEL} (56,100 kgCO2/TJ)"),
    Factor("diesel", "kg", "kgco2e", 3.1643, f"{IPCC_FUEL} (74,100 kgCO2/TJ)"),
    Factor("gasoline", "kg", "kgco2e", 2.9884, f"{IPCC_FUEL} (69,300 kgCO2/TJ)"),
    Factor("lpg", "kg", "kgco2e", 3.1702, f"{IPCC_FUEL} (63,100 kgCO2/TJ)"),
)


def equal_value(year: int, kgce_per_kwh: float, source: str) -> Factor:
    """The equal value (等价值) of electricity for one year, as the site sets it."""
    if not 0.2 <= kgce_per_kwh <= 0.5:
        raise AppError(
            f"equal value of electricity {kgce_per_kwh} kgce/kWh for {year}: expected about "
            "0.3 (the year's coal rate of power generation)",
            status_code=422,
        )
    return Factor(
        "electricity",
        "kWh",
        "kgce",
        kgce_per_kwh,
        source,
        dt.date(year, 1, 1),
        dt.date(year + 1, 1, 1),
        basis="equal",
    )


def factor_for(
    carrier: str,
    *,
    kind: Kind,
    on: dt.date,
    basis: Basis = "equivalent",
    table: Iterable[Factor] = FACTORS,
) -> Factor:
    """The first factor of `table` for carrier, kind and basis valid on `on`; NoFactor names
    what is missing. The equal value applies to electricity only: other carriers have one
    value."""
    want = basis if carrier == "electricity" and kind == "kgce" else "equivalent"
    for f in table:
        if f.carrier == carrier and f.kind == kind and f.basis == want and f.valid_on(on):
            return f
    what = f"{kind} factor ({want} value)" if want == "equal" else f"{kind} factor"
    raise NoFactor(
        f"no {what} for {carrier} on {on.isoformat()}: add one to the site's factors",
        detail={"carrier": carrier, "kind": kind, "basis": want, "on": on.isoformat()},
    )


#: Litres to kilograms for liquid fuels bought by volume (the densities of the published
#: public-institution worked example in DOMAIN.md).
DENSITY_KG_PER_L: Mapping[str, float] = {"gasoline": 0.725, "diesel": 0.83}


def site_table(energy: EnergySection) -> tuple[Factor, ...]:
    """The factor table a site computes with: its own factors (``energy.factors``, valid on
    [valid_from, valid_to) like every Factor) first, then its equal value of electricity per
    year (``energy.equal_value``), then the factors Plantroom ships (FACTORS)."""
    own = tuple(
        Factor(f.carrier, f.unit, f.kind, f.value, f.source, f.valid_from, f.valid_to)
        for f in energy.factors
    )
    equal = tuple(
        equal_value(year, ev.kgce_per_kwh, ev.source)
        for year, ev in sorted(energy.equal_value.items())
    )
    return (*own, *equal, *FACTORS)
