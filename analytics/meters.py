"""The meter tree: every meter of the site (telemetry meters from the topology, offline meters
from the ``energy`` section) with its carrier, unit, parent, sub-item code and children.

A telemetry meter is an asset whose class has a counter (analytics.site.COUNTERS_BY_CLASS) or
that ``energy.meters`` names; its parent is the topology's ``parent_meter``. An offline meter's
figures are typed in or imported (analytics.offline).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from analytics.site import COUNTERS_BY_CLASS, DEFAULT_UNITS
from config.site import SiteConfig
from core.errors import AppError


class UnknownMeter(AppError):
    """No meter has this id."""

    status_code = 404
    error = "unknown_meter"


@dataclass(frozen=True)
class Meter:
    """One meter of the tree."""

    id: str
    name: str
    name_zh: str | None
    #: The building it serves; None for the compound as a whole (a meter outside any building).
    building: str | None
    carrier: str
    unit: str
    source: Literal["telemetry", "offline"]
    #: counter: consumption is the difference of readings; quantity: amounts over periods.
    kind: Literal["counter", "quantity"]
    #: The counter point of a telemetry meter.
    point: str | None
    parent: str | None
    sub_item: str | None
    children: tuple[str, ...] = ()

    @property
    def is_energy(self) -> bool:
        """Whether it counts energy (water is counted but is not energy)."""
        return self.carrier != "water"


@dataclass(frozen=True)
class MeterTree:
    """Every meter by id, in site order."""

    meters: dict[str, Meter]

    def get(self, meter_id: str) -> Meter:
        """The meter with this id, or UnknownMeter (404)."""
        try:
            return self.meters[meter_id]
        except KeyError:
            raise UnknownMeter(f"no meter '{meter_id}'", detail={"meter": meter_id}) from None

    def __iter__(self) -> Iterator[Meter]:
        return iter(self.meters.values())

    def roots(self) -> list[Meter]:
        """The meters with no parent: what each building (or the compound) takes in."""
        return [m for m in self if m.parent is None]

    def children(self, meter_id: str) -> list[Meter]:
        """The direct sub-meters of a meter."""
        return [self.meters[c] for c in self.get(meter_id).children]

    def of_building(self, building: str | None) -> list[Meter]:
        """The meters serving a building (None: the compound-level ones)."""
        return [m for m in self if m.building == building]


def meter_tree(site: SiteConfig[Any]) -> MeterTree:
    """The site's meter tree (the site has the analytics' ``energy`` section)."""
    overrides = {m.asset: m for m in site.doc.energy.meters}
    found: list[Meter] = []
    for ref in site.assets():
        a = ref.asset
        if a.id in overrides:
            point, carrier = overrides[a.id].point, overrides[a.id].carrier
        elif a.brick_class in COUNTERS_BY_CLASS:
            point, carrier = COUNTERS_BY_CLASS[a.brick_class]
        else:
            continue
        unit = next((p.unit for p in site.asset_points.get(a.id, []) if p.name == point), None)
        found.append(
            Meter(
                id=a.id,
                name=a.name,
                name_zh=a.name_zh,
                building=ref.building.id,
                carrier=carrier,
                unit=unit or DEFAULT_UNITS[carrier],
                source="telemetry",
                kind="counter",
                point=point,
                parent=a.parent_meter,
                sub_item=a.sub_item,
            )
        )
    for o in site.doc.energy.offline_meters:
        found.append(
            Meter(
                id=o.id,
                name=o.name,
                name_zh=o.name_zh,
                building=o.building,
                carrier=o.carrier,
                unit=o.unit,
                source="offline",
                kind=o.kind,
                point=None,
                parent=o.parent_meter,
                sub_item=o.sub_item,
            )
        )
    ids = {m.id for m in found}
    kids: dict[str, list[str]] = {}
    for m in found:
        if m.parent in ids:
            kids.setdefault(m.parent, []).append(m.id)
    return MeterTree(
        {
            m.id: Meter(**{**m.__dict__, "children": tuple(kids.get(m.id, ()))})
            if m.id in kids
            else m
            for m in found
        }
    )
