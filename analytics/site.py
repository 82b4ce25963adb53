"""The analytics' section of site.yaml: ``energy`` (how each meter counts, the meters nobody
wired, the site's conversion factors and reference values, the outdoor-temperature point and the
retrofits whose savings are measured), with its checks against the topology.

What a meter is comes from the topology (config.site.Asset: ``parent_meter``, ``sub_item``);
this section only says what the topology cannot: which point of a meter is its counter (by
class, unless an entry in ``meters`` says otherwise), which energy carrier it counts, and the
rest of what the filing needs.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from config.site import ID, Located, NameZh, SiteConfig, asset_path
from workorders.site import WorkordersSiteFile


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


#: The carriers Plantroom converts (analytics.factors), and water, which is counted but is not
#: energy.
Carrier = Literal[
    "electricity", "natural_gas", "diesel", "gasoline", "lpg", "raw_coal", "heat", "water"
]
#: The unit each carrier is counted in when nothing else is said; fuels bought by volume may be
#: counted in L (converted with analytics.factors.DENSITY_KG_PER_L).
DEFAULT_UNITS: dict[str, str] = {
    "electricity": "kWh",
    "natural_gas": "m3",
    "diesel": "kg",
    "gasoline": "kg",
    "lpg": "kg",
    "raw_coal": "kg",
    "heat": "MJ",
    "water": "m3",
}
Unit = Literal["kWh", "m3", "kg", "L", "MJ", "GJ"]
#: Which counter a telemetry meter is read by, by Brick class, when `meters` says nothing.
COUNTERS_BY_CLASS: dict[str, tuple[str, str]] = {
    "Electrical_Meter": ("import_energy", "electricity"),
    "Water_Meter": ("net_total", "water"),
}
SubItem = Annotated[str, Field(pattern=r"^0[1-5][A-D0]\d0$")]


class MeterCounter(_Strict):
    """A telemetry meter's counter point and carrier, where its class's default is not right."""

    asset: str
    point: str
    carrier: Carrier


class OfflineMeter(_Strict):
    """A meter nobody wired: its figures are typed in or imported (analytics.offline).

    ``counter``: readings of a dial or register that only goes up (consumption is the
    difference, like telemetry); ``quantity``: amounts over a period (an invoice, a delivery).
    """

    id: str = Field(pattern=ID)
    name: str
    name_zh: NameZh = None
    #: The building it serves; None for the compound as a whole.
    building: str | None = None
    carrier: Carrier
    unit: Unit
    kind: Literal["counter", "quantity"] = "quantity"
    #: A meter of the tree it is a sub-meter of (telemetry or offline).
    parent_meter: str | None = None
    sub_item: SubItem | None = None


class SiteFactor(_Strict):
    """A conversion factor the site uses (a province's grid factor, a newer national one), with
    the dates it is valid for; it comes before the factors Plantroom ships."""

    carrier: Carrier
    kind: Literal["kgce", "kgco2e"]
    value: float = Field(gt=0)
    #: Per this unit of the carrier.
    unit: Unit
    source: str = Field(min_length=1)
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None


class EqualValue(_Strict):
    """The equal value (等价值) of electricity for one year: kgce per kWh by that year's coal
    rate of power generation, with where the figure comes from."""

    kgce_per_kwh: float = Field(ge=0.2, le=0.5)
    source: str = Field(min_length=1)


class Reference(_Strict):
    """Reference values the indicators are shown against (e.g. a province's published averages
    for its government offices)."""

    id: str = Field(pattern=ID)
    name: str
    name_zh: NameZh = None
    source: str = Field(min_length=1)
    #: The year the values are for (shown; they are compared with every year).
    year: int | None = None
    kgce_per_m2: float | None = Field(default=None, gt=0)
    kgce_per_person: float | None = Field(default=None, gt=0)
    water_m3_per_person: float | None = Field(default=None, gt=0)


class PointRef(_Strict):
    """One point of one asset."""

    asset: str
    point: str


class Retrofit(_Strict):
    """An energy-saving measure with the date it took effect; its savings are measured on each
    of `meters` against a baseline fitted on the year before it."""

    id: str = Field(pattern=ID)
    name: str
    name_zh: NameZh = None
    date: dt.date
    meters: list[str] = Field(min_length=1)
    #: Days of baseline before the date (a year by default, for every season).
    baseline_days: int = Field(default=365, ge=28, le=3 * 366)


class EnergySection(_Strict):
    """The ``energy`` section."""

    #: Electricity in standard coal: the equivalent value (当量值, 0.1229 kgce/kWh) or the equal
    #: value (等价值), which needs `equal_value` for each year reported.
    electricity_basis: Literal["equivalent", "equal"] = "equivalent"
    equal_value: dict[int, EqualValue] = Field(default_factory=dict)
    factors: list[SiteFactor] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list)
    meters: list[MeterCounter] = Field(default_factory=list)
    offline_meters: list[OfflineMeter] = Field(default_factory=list)
    #: The outdoor air temperature (°C); without it baselines use the hour-of-week model.
    outdoor_temperature: PointRef | None = None
    retrofits: list[Retrofit] = Field(default_factory=list)


def energy_problems(site: SiteConfig[Any]) -> list[Located]:
    """Every asset, point, building and meter the section names exists; offline meter ids do
    not clash with assets; a meter's parent is a meter of the same carrier."""
    sec: EnergySection = site.doc.energy
    out: list[Located] = []
    buildings = {b.id for b in site.doc.buildings}
    offline = {m.id: m for m in sec.offline_meters}
    carriers: dict[str, str] = {}
    for ref in site.assets():
        a = ref.asset
        counter = COUNTERS_BY_CLASS.get(a.brick_class)
        if counter:
            carriers[a.id] = counter[1]
    for i, mc in enumerate(sec.meters):
        where = ("energy", "meters", i)
        if mc.asset not in site.asset_ids:
            out.append(((*where, "asset"), f"unknown asset '{mc.asset}'"))
            continue
        points = {p.name for p in site.asset_points.get(mc.asset, [])}
        if points and mc.point not in points:
            known = ", ".join(sorted(points))
            out.append(
                ((*where, "point"), f"asset '{mc.asset}' has no point '{mc.point}' ({known})")
            )
        carriers[mc.asset] = mc.carrier
    for i, o in enumerate(sec.offline_meters):
        where = ("energy", "offline_meters", i)
        if o.id in site.asset_ids:
            out.append(((*where, "id"), f"'{o.id}' is already an asset's id"))
        if o.building is not None and o.building not in buildings:
            out.append(((*where, "building"), f"unknown building '{o.building}'"))
        carriers.setdefault(o.id, o.carrier)
    for i, o in enumerate(sec.offline_meters):
        if o.parent_meter is not None and o.parent_meter not in carriers:
            out.append(
                (
                    ("energy", "offline_meters", i, "parent_meter"),
                    f"unknown meter '{o.parent_meter}'",
                )
            )
    if len(offline) != len(sec.offline_meters):
        seen: set[str] = set()
        for i, o in enumerate(sec.offline_meters):
            if o.id in seen:
                out.append((("energy", "offline_meters", i, "id"), f"duplicate meter id '{o.id}'"))
            seen.add(o.id)
    for ref in site.assets():
        a = ref.asset
        parent = a.parent_meter
        if (
            parent
            and a.id in carriers
            and parent in carriers
            and carriers[parent] != carriers[a.id]
        ):
            out.append(
                (
                    (*asset_path(site, a.id), "parent_meter"),
                    f"'{a.id}' counts {carriers[a.id]} but its parent '{parent}' counts "
                    f"{carriers[parent]}",
                )
            )
    if sec.electricity_basis == "equal" and not sec.equal_value:
        out.append(
            (("energy", "equal_value"), "electricity_basis 'equal' needs the equal value per year")
        )
    t = sec.outdoor_temperature
    if t is not None:
        if t.asset not in site.asset_ids:
            out.append((("energy", "outdoor_temperature", "asset"), f"unknown asset '{t.asset}'"))
        elif t.point not in {p.name for p in site.asset_points.get(t.asset, [])}:
            out.append(
                (
                    ("energy", "outdoor_temperature", "point"),
                    f"asset '{t.asset}' has no point '{t.point}'",
                )
            )
    for i, r in enumerate(sec.retrofits):
        for j, m in enumerate(r.meters):
            if m not in carriers:
                out.append((("energy", "retrofits", i, "meters", j), f"unknown meter '{m}'"))
    ids = [r.id for r in sec.references]
    for i, rv in enumerate(sec.references):
        if ids.index(rv.id) != i:
            out.append((("energy", "references", i, "id"), f"duplicate reference id '{rv.id}'"))
    return out


class AnalyticsSiteFile(WorkordersSiteFile):
    """site.yaml with the analytics' section."""

    energy: EnergySection = Field(default_factory=EnergySection)

    @classmethod
    def site_problems(cls, site: SiteConfig[Any]) -> list[Located]:
        """The energy section names what exists (energy_problems)."""
        return energy_problems(site)


#: A site as the analytics see it.
AnalyticsSite = SiteConfig[AnalyticsSiteFile]
