"""Comprehensive energy (综合能耗) and the public-institution indicators: quantities of each
carrier turned into standard coal with the factors valid for them, per floor area and per
person.

Water is not energy: it is reported on its own, per person (m³/person). A figure keeps the
factors it was computed with (`Energy.factors`), so a report states them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from analytics.factors import DENSITY_KG_PER_L, FACTORS, Basis, Factor, factor_for
from core.errors import AppError


class BadQuantity(AppError):
    """A quantity that cannot be converted: a unit its carrier is not measured in, or a
    negative amount."""

    status_code = 422
    error = "bad_quantity"


@dataclass(frozen=True)
class Quantity:
    """`amount` `unit` of `carrier` consumed on `on` (the day that picks the factor)."""

    carrier: str
    amount: float
    unit: str
    on: dt.date


@dataclass
class Energy:
    """Standard coal of a set of quantities: in total, by carrier, and the factors used."""

    kgce: float = 0.0
    by_carrier: dict[str, float] = field(default_factory=dict)
    factors: list[Factor] = field(default_factory=list)

    @property
    def tce(self) -> float:
        """The total in tonnes of standard coal."""
        return self.kgce / 1000.0

    def per(self, divisor: float | None) -> float | None:
        """kgce per unit of `divisor` (floor area in m², people); None without one."""
        return None if not divisor else self.kgce / divisor


def _in_factor_unit(q: Quantity, factor: Factor) -> float:
    if q.amount < 0:
        raise BadQuantity(f"{q.carrier}: a negative amount ({q.amount} {q.unit})")
    if q.unit == factor.unit:
        return q.amount
    if q.unit == "L" and factor.unit == "kg" and q.carrier in DENSITY_KG_PER_L:
        return q.amount * DENSITY_KG_PER_L[q.carrier]
    if q.unit == "t" and factor.unit == "kg":
        return q.amount * 1000.0
    if q.unit == "MWh" and factor.unit == "kWh":
        return q.amount * 1000.0
    if q.unit == "GJ" and factor.unit == "MJ":
        return q.amount * 1000.0
    raise BadQuantity(
        f"{q.carrier} in {q.unit}: its factor is per {factor.unit}",
        detail={"carrier": q.carrier, "unit": q.unit, "factor_unit": factor.unit},
    )


def standard_coal(
    quantities: Iterable[Quantity],
    *,
    basis: Basis = "equivalent",
    table: Iterable[Factor] = FACTORS,
) -> Energy:
    """The standard coal of the quantities, each with the factor valid on its day (water and
    other carriers without energy are refused: report them on their own)."""
    rows = list(table)
    out = Energy()
    for q in quantities:
        factor = factor_for(q.carrier, kind="kgce", on=q.on, basis=basis, table=rows)
        kgce = _in_factor_unit(q, factor) * factor.value
        out.kgce += kgce
        out.by_carrier[q.carrier] = out.by_carrier.get(q.carrier, 0.0) + kgce
        if factor not in out.factors:
            out.factors.append(factor)
    return out


def carbon(
    quantities: Iterable[Quantity], *, table: Iterable[Factor] = FACTORS
) -> tuple[float, list[Factor]]:
    """kgCO2e of the quantities and the factors used; NoFactor for a carrier or year without
    one."""
    rows = list(table)
    total, used = 0.0, []
    for q in quantities:
        factor = factor_for(q.carrier, kind="kgco2e", on=q.on, table=rows)
        total += _in_factor_unit(q, factor) * factor.value
        if factor not in used:
            used.append(factor)
    return total, used


@dataclass(frozen=True)
class Indicators:
    """The filing's indicators for one body over one period."""

    tce: float
    kgce_per_m2: float | None
    kgce_per_person: float | None
    water_m3_per_person: float | None
    factors: tuple[dict[str, object], ...]


def indicators(
    energy: Energy,
    *,
    floor_area_m2: float | None,
    people: float | None,
    water_m3: float | None = None,
) -> Indicators:
    """Total energy, energy per floor area and per person, and water per person."""
    water = None if water_m3 is None or not people else water_m3 / people
    return Indicators(
        tce=energy.tce,
        kgce_per_m2=energy.per(floor_area_m2),
        kgce_per_person=energy.per(people),
        water_m3_per_person=water,
        factors=tuple(f.ref for f in energy.factors),
    )


def by_carrier(energy: Energy) -> Mapping[str, float]:
    """kgce per carrier, largest first."""
    return dict(sorted(energy.by_carrier.items(), key=lambda kv: -kv[1]))
