"""GET /api/v1/assets/{asset_id}/plant: what the engineer's asset page shows beyond the
tablet's (workorders/plant/service.py)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field

from core.auth.deps import CurrentPrincipal
from core.db import CommittingRoute, SessionDep, utcnow
from workorders.plant import service

router = APIRouter(route_class=CommittingRoute, prefix="/api/v1", tags=["assets"])
AssetId = Annotated[
    str,
    Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"),
]


class PointOut(BaseModel):
    """A point a device reads (its profile's definition)."""

    name: str
    unit: str
    description: str
    table: str = Field(description="holding, input, coil or discrete")
    address: int
    type: str


class DeviceOut(BaseModel):
    """A device of the asset (site.yaml) and the points its profile reads."""

    id: str
    profile: str
    description: str
    manufacturer: str
    model: str
    link: str = Field(description="How it is reached, e.g. 'tcp 10.0.0.5:502'")
    unit_id: int
    poll_interval: float = Field(description="Seconds between polls")
    enabled: bool
    points: list[PointOut]


class LifeOut(BaseModel):
    """The asset's age against its expected life."""

    install_date: dt.date | None
    age_years: float | None
    expected_life_years: float | None
    life_source: Literal["asset", "class_median"] | None = Field(
        description="'asset': its own figure; 'class_median': the median life of its class"
    )
    life_basis: str | None = Field(description="The table and entry a class median came from")
    used_percent: float | None
    remaining_years: float | None = Field(description="Negative once past its expected life")
    past_life: bool
    assessment_due: bool = Field(
        description="An elevator older than China's 15-year design life: some provinces "
        "require a safety assessment"
    )


class CostOut(BaseModel):
    """Repairs (corrective work and requests, not cancelled) against the replacement cost."""

    repairs: int
    repair_cost: float
    replacement_cost: float | None
    share_percent: float | None
    flag: Literal["ok", "warning", "replace"] | None = Field(
        description="warning from 50 % of the replacement cost, replace from 75 %; null "
        "without a replacement cost"
    )


class PlantOut(BaseModel):
    """An asset's devices and points, life and repair costs."""

    asset_id: str
    devices: list[DeviceOut]
    life: LifeOut
    costs: CostOut


@router.get(
    "/assets/{asset_id}/plant",
    response_model=PlantOut,
    responses={
        401: {"description": "no valid bearer token or session"},
        403: {"description": "a requester"},
        404: {"description": "no such asset, or a contractor's asset it has no work on"},
        422: {"description": "asset_id is not an asset id"},
        503: {"description": "the database is busy; retry after Retry-After"},
    },
)
def asset_plant(
    asset_id: AssetId, request: Request, session: SessionDep, who: CurrentPrincipal
) -> PlantOut:
    """The asset's devices with the points they read, its age against its expected life (its
    own, else its class's median service life), and its repairs' cost against its replacement
    cost (a warning from 50 %, replace from 75 %)."""
    facts = service.plant_facts(
        session, who=who, site=request.app.state.site, asset_id=asset_id, now=utcnow()
    )
    assert facts.life is not None and facts.costs is not None
    return PlantOut(
        asset_id=facts.asset.id,
        devices=[
            DeviceOut(
                id=d.id,
                profile=d.profile,
                description=d.description,
                manufacturer=d.manufacturer,
                model=d.model,
                link=d.link,
                unit_id=d.unit_id,
                poll_interval=d.poll_interval,
                enabled=d.enabled,
                points=[
                    PointOut(
                        name=p.name,
                        unit=p.unit,
                        description=p.description,
                        table=str(p.table),
                        address=p.address,
                        type=str(p.type),
                    )
                    for p in d.points
                ],
            )
            for d in facts.devices
        ],
        life=LifeOut(**vars(facts.life)),
        costs=CostOut(**vars(facts.costs)),
    )
