"""An asset's plant facts: its devices and points from site.yaml, its age against its expected
life, and its repairs' cost against its replacement cost. Read like the asset's readings: a
requester may not, a contractor only on an asset it has (or had) work on (404 otherwise, as for
the asset itself)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from config.profile import Point
from config.site import RtuLink, SiteConfig
from core.auth.models import Role
from core.auth.service import Principal
from core.errors import Forbidden
from workorders.assets import service as asset_service
from workorders.orders.models import Asset
from workorders.plant import repository
from workorders.plant.life import (
    ELEVATOR_ASSESSMENT_YEARS,
    LIFE_TABLE,
    MEDIAN_LIFE,
    REPAIR_REPLACE_SHARE,
    REPAIR_WARNING_SHARE,
)

DAYS_PER_YEAR = 365.2425


@dataclass(frozen=True)
class DeviceFacts:
    """A device of the asset with where it is reached and what it reads."""

    id: str
    profile: str
    description: str
    manufacturer: str
    model: str
    link: str
    unit_id: int
    poll_interval: float
    enabled: bool
    points: list[Point]


@dataclass(frozen=True)
class LifeFacts:
    """The asset's age against its expected life."""

    install_date: dt.date | None
    age_years: float | None
    expected_life_years: float | None
    life_source: Literal["asset", "class_median"] | None
    life_basis: str | None
    used_percent: float | None
    remaining_years: float | None
    past_life: bool
    #: An elevator past China's 15-year design life (some provinces require an assessment).
    assessment_due: bool


@dataclass(frozen=True)
class CostFacts:
    """What repairs have cost against what replacing it would."""

    repairs: int
    repair_cost: float
    replacement_cost: float | None
    share_percent: float | None
    flag: Literal["ok", "warning", "replace"] | None


@dataclass
class PlantFacts:
    """Everything the engineer's asset page shows beyond the tablet's."""

    asset: Asset
    devices: list[DeviceFacts] = field(default_factory=list)
    life: LifeFacts | None = None
    costs: CostFacts | None = None


def _visible(session: Session, who: Principal, asset_id: str) -> Asset:
    """The asset if the caller may read it (the one rule of workorders.assets.service); a
    requester may not read plant facts at all."""
    if who.role is Role.requester:
        raise Forbidden("a requester cannot read an asset's plant facts")
    return asset_service.readable_asset(session, who=who, asset_id=asset_id)


def _link_text(link: object) -> str:
    if isinstance(link, RtuLink):
        return f"rtu {link.port} {link.baudrate} {link.parity}"
    kind = getattr(link, "type", "tcp")
    return f"{kind} {getattr(link, 'host', '')}:{getattr(link, 'port', '')}"


def devices_of(site: SiteConfig, asset_id: str) -> list[DeviceFacts]:
    """The asset's devices as site.yaml declares them (none for an asset made in the API)."""
    try:
        ref = site.asset(asset_id)
    except KeyError:
        return []
    out = []
    for d in ref.asset.devices:
        prof = site.profiles[d.profile]
        out.append(
            DeviceFacts(
                id=d.id,
                profile=prof.profile,
                description=prof.description,
                manufacturer=prof.manufacturer,
                model=prof.model,
                link=_link_text(d.link),
                unit_id=d.unit_id,
                poll_interval=d.poll_interval,
                enabled=d.enabled,
                points=list(prof.points),
            )
        )
    return out


def life_of(asset: Asset, today: dt.date) -> LifeFacts:
    """The asset's age against its own expected life, else its class's median."""
    life: float | None = asset.expected_life_years
    source: Literal["asset", "class_median"] | None = "asset" if life else None
    basis = None
    if life is None and asset.brick_class in MEDIAN_LIFE:
        median = MEDIAN_LIFE[asset.brick_class]
        life, source, basis = median.years, "class_median", f"{LIFE_TABLE}: {median.basis}"
    age = None
    if asset.install_date is not None:
        age = round(max(0, (today - asset.install_date).days) / DAYS_PER_YEAR, 1)
    used = round(100 * age / life, 1) if age is not None and life else None
    return LifeFacts(
        install_date=asset.install_date,
        age_years=age,
        expected_life_years=life,
        life_source=source,
        life_basis=basis,
        used_percent=used,
        remaining_years=round(life - age, 1) if age is not None and life else None,
        past_life=bool(age is not None and life and age > life),
        assessment_due=bool(
            asset.brick_class == "Elevator" and age is not None and age > ELEVATOR_ASSESSMENT_YEARS
        ),
    )


def costs_of(session: Session, asset: Asset) -> CostFacts:
    """Repairs so far against the replacement cost, flagged at 50 % and 75 %."""
    count, total = repository.repair_cost(session, asset.id)
    share = None
    flag: Literal["ok", "warning", "replace"] | None = None
    if asset.replacement_cost:
        ratio = total / asset.replacement_cost
        share = round(100 * ratio, 1)
        flag = (
            "replace"
            if ratio >= REPAIR_REPLACE_SHARE
            else "warning"
            if ratio >= REPAIR_WARNING_SHARE
            else "ok"
        )
    return CostFacts(count, round(total, 2), asset.replacement_cost, share, flag)


def plant_facts(
    session: Session, *, who: Principal, site: SiteConfig, asset_id: str, now: dt.datetime
) -> PlantFacts:
    """The asset's devices and points, life and costs; 403 or 404 with the reason."""
    asset = _visible(session, who, asset_id)
    today = now.astimezone(ZoneInfo(site.doc.site.timezone)).date()
    return PlantFacts(
        asset=asset,
        devices=devices_of(site, asset_id),
        life=life_of(asset, today),
        costs=costs_of(session, asset),
    )
