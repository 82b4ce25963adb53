"""The filing's energy statistics for a year or a month, of the compound or one building: the
JSON of ``GET /api/v1/analytics/energy`` (and what the report and the screens are built from).

What counts
    - The compound: every root meter of the tree (a meter with no parent), whatever building
      it serves; sub-meters are a breakdown and are never added to a total.
    - A building: its top meters, i.e. the highest meters serving it whose whole subtree serves
      it too. A compound main whose sub-meters serve several buildings (the incoming water
      main) therefore counts for the compound only, and each building counts its own
      sub-meter under it. The compound's figure can exceed the sum of its buildings by what
      no building meter sees (the common parts, the losses).

Figures
    - Each carrier (electricity, natural gas, diesel...): amount in its meters' unit, standard
      coal (kgce) and carbon (kgCO2e), each day with the factor valid on that day from the
      site's table (analytics.factors.site_table: the site's own factors first, the equal value
      of electricity per year when ``electricity_basis`` is ``equal``, then GB/T 2589-2020 and
      the MEE/NBS grid factors). Water (m³) is counted apart: it is not energy.
    - Electricity by sub-item (MOHURD 2008 guideline codes 01A00 lighting and sockets, 01B00
      HVAC, 01C00 power, 01D00 special; a finer code such as 01B10 counts in its class 01B00):
      the highest sub-metered meter of each branch under a counted meter, and the unmetered
      remainder = the counted meters' kWh minus their sub-items' kWh.
    - Indicators (DOMAIN.md, the yearly public-institution filing): kgce/m², kgce/person,
      water m³/person and kgCO2e/m², with floor area and occupants of the year
      (config.site.Building.figures; the compound's are the sums over its buildings), each
      against every reference the site configures (``energy.references``): value and ratio
      (figure / reference; only for a whole year that is over, since the references are
      yearly figures: eleven months against a year would flatter every building).
    - ``estimated_share``: the part (0-1) of the meter-time behind a figure that is estimated
      (a gap bridged) or missing: the seconds estimated or missing over all the counted meters'
      days, divided by those days' seconds; for energy across carriers, each carrier's share
      weighed by its standard coal.

Days run to ``through``: the end of the period or the site's local today, whichever comes
first (today counts as far as it has gone).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from analytics.energy import BadQuantity, Quantity
from analytics.factors import (
    DENSITY_KG_PER_L,
    Basis,
    Factor,
    NoFactor,
    factor_for,
    site_table,
)
from analytics.meters import Meter, MeterTree, meter_tree
from analytics.site import AnalyticsSite
from analytics.usage import BadPeriod, Usage, Use
from core.errors import NotFound

#: The years the statistics answer for (before 2000 no site has readings in Plantroom).
FIRST_YEAR = 2000

#: Carriers in the order the filing lists them, with their names.
CARRIERS: dict[str, tuple[str, str]] = {
    "electricity": ("Electricity", "电力"),
    "natural_gas": ("Natural gas", "天然气"),
    "diesel": ("Diesel", "柴油"),
    "gasoline": ("Gasoline", "汽油"),
    "lpg": ("LPG", "液化石油气"),
    "raw_coal": ("Raw coal", "原煤"),
    "heat": ("District heat", "热力"),
}
#: Electricity sub-item classes (MOHURD 2008 guideline for energy monitoring in office
#: buildings), with their names.
SUB_ITEMS: dict[str, tuple[str, str]] = {
    "01A00": ("Lighting and sockets", "照明插座用电"),
    "01B00": ("HVAC", "空调用电"),
    "01C00": ("Power", "动力用电"),
    "01D00": ("Special", "特殊用电"),
}
UNMETERED = ("Unmetered remainder", "未分项计量（余量）")

#: The indicators and the Reference field each is compared with.
INDICATORS: dict[str, tuple[str, str | None]] = {
    "kgce_per_m2": ("kgce/m2", "kgce_per_m2"),
    "kgce_per_person": ("kgce/person", "kgce_per_person"),
    "water_m3_per_person": ("m3/person", "water_m3_per_person"),
    "kgco2e_per_m2": ("kgCO2e/m2", None),
}


class UnknownBuilding(NotFound):
    """No building has this id."""

    error = "unknown_building"


def _sub_item_class(code: str) -> str:
    return code[:3] + "00"


def _convert(amount: float, unit: str, to: str, carrier: str) -> float:
    """`amount` `unit` of `carrier` in `to`."""
    if unit == to:
        return amount
    density = DENSITY_KG_PER_L.get(carrier)
    if unit == "L" and to == "kg" and density:
        return amount * density
    if unit == "kg" and to == "L" and density:
        return amount / density
    if unit == "GJ" and to == "MJ":
        return amount * 1000.0
    if unit == "MJ" and to == "GJ":
        return amount / 1000.0
    raise BadQuantity(
        f"{carrier} in {unit} cannot be added to {carrier} in {to}",
        detail={"carrier": carrier, "unit": unit, "to": to},
    )


def counted_meters(tree: MeterTree, building: str | None) -> list[Meter]:
    """The meters whose sum is the compound's (building None: the roots) or one building's
    consumption (its top meters; see the module docstring)."""
    if building is None:
        return tree.roots()

    def only_here(m: Meter) -> bool:
        return m.building == building and all(only_here(c) for c in tree.children(m.id))

    return [
        m for m in tree if only_here(m) and (m.parent is None or not only_here(tree.get(m.parent)))
    ]


def sub_item_meters(tree: MeterTree, meter: Meter) -> list[tuple[str, Meter]]:
    """(sub-item class, meter) for the highest sub-metered meters under `meter` (the meter
    itself when it has a sub-item code)."""
    if meter.sub_item:
        return [(_sub_item_class(meter.sub_item), meter)]
    out: list[tuple[str, Meter]] = []
    for child in tree.children(meter.id):
        if child.carrier == meter.carrier:
            out.extend(sub_item_meters(tree, child))
    return out


@dataclass
class Sum:
    """Figures added up over days and meters."""

    amount: float = 0.0
    kgce: float = 0.0
    kgco2e: float = 0.0
    #: Seconds estimated or missing, of which missing (nothing known), of span_s.
    unknown_s: float = 0.0
    missing_s: float = 0.0
    span_s: float = 0.0

    def add(self, other: Sum) -> None:
        """Add another's figures to these."""
        self.amount += other.amount
        self.kgce += other.kgce
        self.kgco2e += other.kgco2e
        self.unknown_s += other.unknown_s
        self.missing_s += other.missing_s
        self.span_s += other.span_s

    @property
    def unknown(self) -> bool:
        """Nothing is known of any of it: its amount is no figure (never a 0)."""
        return self.span_s > 0 and self.missing_s >= self.span_s

    @property
    def estimated_share(self) -> float | None:
        """The part (0-1) of the meter-time estimated or missing; None without any."""
        return None if self.span_s <= 0 else min(1.0, self.unknown_s / self.span_s)


@dataclass
class Figures:
    """What one body (compound or building) used over a set of days, by carrier."""

    carriers: dict[str, Sum] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    #: kWh by sub-item class, with how much of its meters' time is estimated.
    sub_sums: dict[str, Sum] = field(default_factory=dict)
    sub_metered_kwh: float = 0.0
    #: Days of a sub-meter with nothing known: the unmetered remainder of such a day is unknown.
    sub_dark_days: int = 0

    @property
    def sub_items(self) -> dict[str, float]:
        """kWh by sub-item class."""
        return {code: s.amount for code, s in self.sub_sums.items()}

    def unmetered_share(self) -> float | None:
        """The part (0-1) of the remainder's meter-time (the counted electricity meters and
        their sub-meters) that is estimated or missing."""
        both = Sum()
        for s in (self.carriers.get("electricity"), *self.sub_sums.values()):
            if s is not None:
                both.add(s)
        return both.estimated_share

    def energy(self) -> Sum:
        """Every carrier but water, added up. Its estimated share weighs each carrier's by the
        carrier's standard coal: diesel billed for one day of the month (0.3 % of the energy)
        must not mark the month as half unknown, as counting meter-time would."""
        out = Sum()
        weighted = 0.0
        dark = False
        for carrier, s in self.carriers.items():
            if carrier != "water":
                out.add(s)
                dark = dark or s.unknown
                share = s.estimated_share
                if share is not None and not math.isnan(s.kgce):
                    weighted += share * s.kgce
        # A carrier nothing is known of has no standard coal to weigh it by: then the share
        # stays the meter-time one, which does not hide it.
        if not dark and out.span_s > 0 and out.kgce > 0 and not math.isnan(out.kgce):
            out.unknown_s = out.span_s * min(1.0, weighted / out.kgce)
        return out


class Calculator:
    """Per-meter daily figures, read once per call and converted with the site's factors."""

    def __init__(
        self,
        site: AnalyticsSite,
        usage: Usage,
        first: dt.date,
        last: dt.date,
        *,
        strict: bool = True,
    ):
        #: strict: NoFactor is raised; else a figure without a factor is NaN (unknown) and the
        #: missing factors are collected in `missing`.
        self.strict = strict
        self.missing: set[str] = set()
        self.tz = ZoneInfo(site.doc.site.timezone)
        self.usage = usage
        self.first, self.last = first, last
        self.table = site_table(site.doc.energy)
        self.basis: Basis = site.doc.energy.electricity_basis
        self.used: list[Factor] = []
        self._days: dict[str, list[tuple[dt.date, Use]]] = {}
        self._factors: dict[tuple[str, str, dt.date], Factor] = {}

    def days(self, meter: Meter) -> list[tuple[dt.date, Use]]:
        """(local day, Use) of the meter for every day of the period."""
        if meter.id not in self._days:
            uses = self.usage.daily(meter, self.first, self.last)
            self._days[meter.id] = [(u.start.astimezone(self.tz).date(), u) for u in uses]
        return self._days[meter.id]

    def factor(self, carrier: str, kind: str, day: dt.date) -> Factor:
        """The site's factor for carrier and kind ('kgce', 'kgco2e') on day; NoFactor."""
        key = (carrier, kind, day)
        if key not in self._factors:
            f = factor_for(
                carrier,
                kind="kgce" if kind == "kgce" else "kgco2e",
                on=day,
                basis=self.basis,
                table=self.table,
            )
            self._factors[key] = f
            if f not in self.used:
                self.used.append(f)
        return self._factors[key]

    def convert(self, q: Quantity, factor: Factor) -> float:
        """The quantity times the factor, in the factor's unit."""
        return _convert(q.amount, q.unit, factor.unit, q.carrier) * factor.value

    def meter_day(self, meter: Meter, day: dt.date, use: Use, unit: str) -> Sum:
        """One meter's figures for one day, its amount in `unit`."""
        span = (use.end - use.start).total_seconds()
        out = Sum(
            amount=_convert(use.amount, meter.unit, unit, meter.carrier),
            unknown_s=min(span, use.estimated_s + use.missing_s),
            missing_s=min(span, use.missing_s),
            span_s=span,
        )
        if meter.carrier != "water" and use.amount:
            q = Quantity(meter.carrier, use.amount, meter.unit, day)
            out.kgce = self.converted(q, "kgce")
            out.kgco2e = self.converted(q, "kgco2e")
        return out

    def converted(self, q: Quantity, kind: str) -> float:
        """kgce or kgCO2e of a quantity on its day; NaN without a factor unless strict."""
        try:
            return self.convert(q, self.factor(q.carrier, kind, q.on))
        except NoFactor as exc:
            if self.strict:
                raise
            self.missing.add(exc.message)
            return math.nan

    def periods(
        self,
        tree: MeterTree,
        meters: Iterable[Meter],
        keys: list[str],
        key_of: Callable[[dt.date], str],
    ) -> dict[str, Figures]:
        """The figures of `meters` per period key (key_of(day) -> key)."""
        out = {k: Figures() for k in keys}
        for meter in meters:
            for period in out.values():
                period.units.setdefault(meter.carrier, meter.unit)
            for day, use in self.days(meter):
                p = out.get(key_of(day))
                if p is None:
                    continue
                unit = p.units[meter.carrier]
                p.carriers.setdefault(meter.carrier, Sum()).add(
                    self.meter_day(meter, day, use, unit)
                )
            if meter.carrier == "electricity":
                for code, sub in sub_item_meters(tree, meter):
                    for day, use in self.days(sub):
                        p = out.get(key_of(day))
                        if p is None:
                            continue
                        kwh = _convert(use.amount, sub.unit, "kWh", sub.carrier)
                        span = (use.end - use.start).total_seconds()
                        unknown = min(span, use.estimated_s + use.missing_s)
                        day_sum = Sum(
                            amount=kwh,
                            unknown_s=unknown,
                            missing_s=min(span, use.missing_s),
                            span_s=span,
                        )
                        p.sub_sums.setdefault(code, Sum()).add(day_sum)
                        p.sub_metered_kwh += kwh
                        if day_sum.unknown:
                            p.sub_dark_days += 1
        return out


def _ratio(value: float | None, ref: float | None) -> float | None:
    return None if value is None or not ref else value / ref


def _per(value: float | None, divisor: float | None) -> float | None:
    return None if value is None or not divisor else value / divisor


def _known(s: Sum | None, value: float) -> float | None:
    """The value, or None when nothing at all is known of the figure (every meter missing all
    the period): an unknown is no figure, never a 0."""
    return None if s is not None and s.unknown else value


def _figures(
    p: Figures,
    *,
    area: float,
    people: int,
    site: AnalyticsSite,
    yearly: bool,
) -> dict[str, Any]:
    """The JSON figures of one period of one body."""
    energy = p.energy()
    water = p.carriers.get("water")
    elec = p.carriers.get("electricity")
    kwh = _known(elec, elec.amount) if elec else 0.0
    kgce = _known(energy, energy.kgce)
    carriers = []
    for carrier, (name, name_zh) in CARRIERS.items():
        s = p.carriers.get(carrier)
        if s is None:
            continue
        carriers.append(
            {
                "carrier": carrier,
                "name": name,
                "name_zh": name_zh,
                "amount": _known(s, s.amount),
                "unit": p.units[carrier],
                "kgce": _known(s, s.kgce),
                "tce": _known(s, s.kgce / 1000.0),
                "kgco2e": _known(s, s.kgco2e),
                "share": _per(_known(s, s.kgce), kgce),
                "estimated_share": s.estimated_share,
            }
        )
    sub_items = [
        {
            "code": code,
            "name": name,
            "name_zh": name_zh,
            "kwh": _known(p.sub_sums.get(code), p.sub_items.get(code, 0.0)),
            "share": _per(_known(p.sub_sums.get(code), p.sub_items.get(code, 0.0)), kwh),
            "estimated_share": p.sub_sums[code].estimated_share if code in p.sub_sums else None,
        }
        for code, (name, name_zh) in SUB_ITEMS.items()
    ]
    remainder = None if kwh is None else kwh - p.sub_metered_kwh
    water_m3 = _known(water, water.amount) if water else None
    values: dict[str, float | None] = {
        "kgce_per_m2": _per(kgce, area),
        "kgce_per_person": _per(kgce, people),
        "water_m3_per_person": _per(water_m3, people),
        "kgco2e_per_m2": _per(_known(energy, energy.kgco2e), area),
    }
    indicators = {}
    for key, (unit, ref_field) in INDICATORS.items():
        refs = []
        if ref_field is not None:
            for r in site.doc.energy.references:
                ref_value = getattr(r, ref_field)
                if ref_value is None:
                    continue
                refs.append(
                    {
                        "id": r.id,
                        "value": ref_value,
                        "ratio": _ratio(values[key], ref_value) if yearly else None,
                    }
                )
        indicators[key] = {"value": values[key], "unit": unit, "references": refs}
    return {
        "energy": {
            "kgce": kgce,
            "tce": None if kgce is None else kgce / 1000.0,
            "kgco2e": _known(energy, energy.kgco2e),
            "estimated_share": energy.estimated_share,
        },
        "carriers": carriers,
        "electricity": {
            "kwh": kwh,
            "sub_items": sub_items,
            "unmetered": {
                "kwh": remainder,
                "share": _per(remainder, kwh),
                "estimated_share": p.unmetered_share(),
            },
            "estimated_share": elec.estimated_share if elec else None,
        },
        "water": {
            "m3": water_m3,
            "estimated_share": water.estimated_share if water else None,
        },
        "indicators": indicators,
    }


def _compact(p: Figures, *, area: float) -> dict[str, Any]:
    """A month's or a day's figures, flat, for tables and charts."""
    energy = p.energy()
    water = p.carriers.get("water")
    elec = p.carriers.get("electricity")
    kwh = _known(elec, elec.amount) if elec else 0.0
    kgce = _known(energy, energy.kgce)
    return {
        "kgce": kgce,
        "tce": None if kgce is None else kgce / 1000.0,
        "kgco2e": _known(energy, energy.kgco2e),
        "carriers": {
            c: {
                "amount": _known(s, s.amount),
                "unit": p.units[c],
                "kgce": _known(s, s.kgce),
                "kgco2e": _known(s, s.kgco2e),
            }
            for c, s in p.carriers.items()
            if c != "water"
        },
        "electricity_kwh": kwh,
        "sub_items": {
            code: _known(p.sub_sums.get(code), p.sub_items.get(code, 0.0)) for code in SUB_ITEMS
        },
        "unmetered_kwh": None if kwh is None else kwh - p.sub_metered_kwh,
        "water_m3": _known(water, water.amount) if water else None,
        "kgce_per_m2": _per(kgce, area),
        "estimated_share": energy.estimated_share,
    }


def _figures_of(site: AnalyticsSite, year: int, building: str | None) -> tuple[float, int]:
    if building is not None:
        b = next(b for b in site.doc.buildings if b.id == building)
        return b.figures(year)
    area, people = 0.0, 0
    for b in site.doc.buildings:
        a, n = b.figures(year)
        area += a
        people += n
    return area, people


def _period(
    year: int, month: int | None, now: dt.datetime, tz: ZoneInfo
) -> tuple[dt.date, dt.date, dt.date]:
    """(first day, end day excluded, last day counted) of the period, or BadPeriod."""
    today = now.astimezone(tz).date()
    if not FIRST_YEAR <= year <= today.year:
        raise BadPeriod(
            f"year {year} is out of range ({FIRST_YEAR}-{today.year})",
            detail={"year": year, "min": FIRST_YEAR, "max": today.year},
        )
    if month is not None and not 1 <= month <= 12:
        raise BadPeriod(f"month {month} is not 1-12", detail={"month": month})
    if month is None:
        first, end = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
    else:
        first = dt.date(year, month, 1)
        end = dt.date(year + (month == 12), month % 12 + 1, 1)
    if first > today:
        raise BadPeriod(
            f"{first:%Y-%m} has not begun (today is {today.isoformat()})",
            detail={"from": first.isoformat(), "today": today.isoformat()},
        )
    return first, end, min(end - dt.timedelta(days=1), today)


def energy_statistics(
    site: AnalyticsSite,
    usage: Usage,
    *,
    year: int,
    month: int | None = None,
    building: str | None = None,
    now: dt.datetime,
) -> dict[str, Any]:
    """The energy statistics of a year (with its months) or a month (with its days) for the
    compound (with its buildings) or one building; see the module docstring. UnknownBuilding
    (404), BadPeriod (422), NoFactor (422) for a day without a factor."""
    tz = ZoneInfo(site.doc.site.timezone)
    buildings = {b.id: b for b in site.doc.buildings}
    if building is not None and building not in buildings:
        raise UnknownBuilding(f"no building '{building}'", detail={"building": building})
    first, end, last = _period(year, month, now, tz)
    tree = meter_tree(site)
    calc = Calculator(site, usage, first, last)
    yearly = month is None
    complete = last == end - dt.timedelta(days=1) and now.astimezone(tz).date() > last
    # The references are whole years: a year still running is not compared with them.
    compare = yearly and complete

    def body(scope: str | None) -> dict[str, Any]:
        meters = counted_meters(tree, scope)
        area, people = _figures_of(site, year, scope)
        total = calc.periods(tree, meters, ["all"], lambda _day: "all")["all"]
        return {
            "floor_area_m2": area,
            "occupants": people,
            "meters": [m.id for m in meters],
            **_figures(total, area=area, people=people, site=site, yearly=compare),
        }

    out: dict[str, Any] = {
        "site": {
            "id": site.doc.site.id,
            "name": site.doc.site.name,
            "name_zh": site.doc.site.name_zh,
        },
        "scope": (
            {"kind": "compound", "id": site.doc.site.id}
            if building is None
            else {"kind": "building", "id": building}
        ),
        "year": year,
        "month": month,
        "period": {
            "from": first.isoformat(),
            "to": end.isoformat(),
            "through": last.isoformat(),
            "complete": complete,
            "timezone": tz.key,
        },
        "basis": calc.basis,
        "months": None,
        "days": None,
        "buildings": None,
    }
    main = body(building)
    out.update(main)
    scope_meters = counted_meters(tree, building)
    area = main["floor_area_m2"]
    if yearly:
        months = [f"{year}-{m:02d}" for m in range(1, last.month + 1)]
        per = calc.periods(tree, scope_meters, months, lambda d: f"{d:%Y-%m}")
        out["months"] = [{"month": k, **_compact(per[k], area=area)} for k in months]
    else:
        days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
        per = calc.periods(tree, scope_meters, [d.isoformat() for d in days], dt.date.isoformat)
        out["days"] = [
            {"day": d.isoformat(), **_compact(per[d.isoformat()], area=area)} for d in days
        ]
    if building is None:
        out["buildings"] = [
            {"id": b.id, "name": b.name, "name_zh": b.name_zh, **body(b.id)}
            for b in site.doc.buildings
        ]
    out["references"] = [
        {
            "id": r.id,
            "name": r.name,
            "name_zh": r.name_zh,
            "source": r.source,
            "year": r.year,
            "kgce_per_m2": r.kgce_per_m2,
            "kgce_per_person": r.kgce_per_person,
            "water_m3_per_person": r.water_m3_per_person,
        }
        for r in site.doc.energy.references
    ]
    out["factors"] = [f.ref for f in calc.used]
    return out
