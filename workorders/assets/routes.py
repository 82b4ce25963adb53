"""REST routes for locations, asset changes, QR codes, asset history and readings, under
/api/v1.

GET /api/v1/assets and GET /api/v1/assets/{id} live in workorders/orders/routes.py; the routes
here have more path segments or other methods, so the order the routers are included in does not
matter.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import TYPE_CHECKING, Annotated, Any, Literal, cast
from urllib.parse import quote

import segno
from fastapi import APIRouter, Header, Path, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from collectors.sinks.buckets import MAX_BUCKETS, Agg, BucketQuality, BucketReader
from collectors.sinks.readers import configured_reader
from core.auth.deps import CurrentPrincipal
from core.concurrency import etag
from core.db import MAX_ID, CommittingRoute, SessionDep
from core.isotime import wall_time
from core.jsonbody import JsonBody
from core.pagination import IdCursor, id_cursor, read_id_cursor, split_page
from workorders.assets import readings
from workorders.assets import service as assets
from workorders.orders.models import Asset, Location

router = APIRouter(route_class=CommittingRoute, prefix="/api/v1", tags=["assets"])
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_./-]*$"
#: Names are free text in any language, but with no control characters (PostgreSQL refuses NUL).
NAME_PATTERN = r"^[^\x00-\x1f\x7f]+$"
LocationId = Annotated[int, Path(ge=1, le=MAX_ID, description="location id")]
AssetId = Annotated[
    str, Path(min_length=1, max_length=100, pattern=ID_PATTERN, description="asset id")
]
Kind = Literal["site", "building", "floor", "room"]
if TYPE_CHECKING:
    WallTime = dt.datetime
else:
    #: A readings bound: ISO 8601, with its offset or read in the site's time zone.
    WallTime = wall_time(
        1970, 8999, "ISO 8601; without an offset it is read in the site's time zone"
    )
#: Point names as profiles spell them (config/profile.py).
POINT_PATTERN = r"^[a-z][a-z0-9_]*$"
Criticality = Literal["low", "medium", "high", "critical"]


# --- shapes -------------------------------------------------------------------------------------


class LocationOut(BaseModel):
    """A place in the hierarchy site > building > floor > room."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    parent_id: int | None
    kind: Kind
    code: str
    name: str
    name_zh: str | None = Field(default=None, description="The name in Simplified Chinese")
    source: Literal["site", "api"] = Field(description="'site': mirrored from site.yaml")
    created_at: dt.datetime
    version: int


class LocationPage(BaseModel):
    """A page of locations, by id."""

    items: list[LocationOut]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page")


class LocationCreate(JsonBody):
    """A new location, exactly one level below its parent (a site has none)."""

    model_config = ConfigDict(extra="forbid")

    kind: Kind
    name: str = Field(min_length=1, max_length=200, pattern=NAME_PATTERN)
    name_zh: str | None = Field(default=None, min_length=1, max_length=200, pattern=NAME_PATTERN)
    parent_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    code: str | None = Field(
        default=None,
        max_length=100,
        pattern=CODE_PATTERN,
        description="Unique; generated when left out",
    )


class LocationUpdate(JsonBody):
    """Rename, re-code or move a location made through the API."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200, pattern=NAME_PATTERN)
    name_zh: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        pattern=NAME_PATTERN,
        description="The name in Simplified Chinese; null clears it",
    )
    code: str | None = Field(default=None, max_length=100, pattern=CODE_PATTERN)
    parent_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class AssetDetail(BaseModel):
    """An asset with where it stands and where it came from."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    name_zh: str | None = Field(default=None, description="The name in Simplified Chinese")
    brick_class: str
    building_id: str
    building_name: str
    building_name_zh: str | None = None
    location: str
    location_zh: str | None = Field(
        default=None,
        description="The location in Simplified Chinese (English where a part has no name_zh)",
    )
    location_id: int | None
    install_date: dt.date | None
    expected_life_years: float | None
    replacement_cost: float | None
    criticality: str
    parent_meter_id: str | None
    sub_item: str | None
    source: Literal["site", "api"] = Field(
        description="'site': mirrored from site.yaml, whose fields are re-synced at every start"
    )
    active: bool = Field(description="False once retired: history kept, no new work orders")


class AssetCreate(JsonBody):
    """A new asset, standing in a building, floor or room."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=100, pattern=ID_PATTERN)
    name: str = Field(min_length=1, max_length=200, pattern=NAME_PATTERN)
    name_zh: str | None = Field(default=None, min_length=1, max_length=200, pattern=NAME_PATTERN)
    brick_class: str = Field(max_length=80, pattern=r"^[A-Z][A-Za-z_]*$")
    location_id: int = Field(ge=1, le=MAX_ID)
    install_date: dt.date | None = None
    expected_life_years: float | None = Field(default=None, gt=0, le=1000)
    replacement_cost: float | None = Field(default=None, ge=0, le=1e12)
    criticality: Criticality = "medium"
    parent_meter_id: str | None = Field(default=None, max_length=100, pattern=ID_PATTERN)
    sub_item: str | None = Field(default=None, pattern=r"^0[1-5][A-D0]\d0$")


class AssetUpdate(JsonBody):
    """Change an asset; for a site asset only location_id and active (see SITE_OWNED)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200, pattern=NAME_PATTERN)
    name_zh: str | None = Field(default=None, min_length=1, max_length=200, pattern=NAME_PATTERN)
    brick_class: str | None = Field(default=None, max_length=80, pattern=r"^[A-Z][A-Za-z_]*$")
    location_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    install_date: dt.date | None = None
    expected_life_years: float | None = Field(default=None, gt=0, le=1000)
    replacement_cost: float | None = Field(default=None, ge=0, le=1e12)
    criticality: Criticality | None = None
    parent_meter_id: str | None = Field(default=None, max_length=100, pattern=ID_PATTERN)
    sub_item: str | None = Field(default=None, pattern=r"^0[1-5][A-D0]\d0$")
    active: bool | None = Field(default=None, description="true brings a retired asset back")


class HistoryItem(BaseModel):
    """One work order in an asset's history."""

    id: int
    title: str
    type: str
    status: str
    priority: str
    opened: dt.datetime
    closed: dt.datetime | None
    cost_total: float


class CostTotals(BaseModel):
    """Sums over every work order in the history the caller may see."""

    work_orders: int
    labor: float
    parts: float
    other: float
    total: float


class AssetHistory(BaseModel):
    """An asset's work orders, newest first, and what they cost."""

    asset_id: str
    items: list[HistoryItem]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page")
    totals: CostTotals


def _etag(loc: Location) -> str:
    return etag(loc.version)


# --- locations ----------------------------------------------------------------------------------


@router.get("/locations", response_model=LocationPage, tags=["locations"])
def list_locations(
    session: SessionDep,
    _who: CurrentPrincipal,
    parent_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    kind: Kind | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
    cursor: IdCursor = None,
) -> LocationPage:
    """Locations by id, filtered by parent and kind."""
    rows = assets.list_locations(
        session, parent_id=parent_id, kind=kind, after_id=read_id_cursor(cursor), limit=limit + 1
    )
    page, nxt = split_page(rows, limit, lambda loc: id_cursor(loc.id))
    return LocationPage(items=[LocationOut.model_validate(r) for r in page], next_cursor=nxt)


@router.get("/locations/{location_id}", response_model=LocationOut, tags=["locations"])
def get_location(
    location_id: LocationId, session: SessionDep, _who: CurrentPrincipal, response: Response
) -> LocationOut:
    """One location; its ETag is its version, for If-Match on PATCH and DELETE."""
    loc = assets.location(session, location_id=location_id)
    response.headers["ETag"] = _etag(loc)
    return LocationOut.model_validate(loc)


@router.post(
    "/locations",
    response_model=LocationOut,
    status_code=status.HTTP_201_CREATED,
    tags=["locations"],
)
def create_location(
    body: LocationCreate, session: SessionDep, who: CurrentPrincipal, response: Response
) -> LocationOut:
    """A new location one level below its parent (admin, engineer)."""
    loc = assets.create_location(
        session,
        who=who,
        kind=body.kind,
        name=body.name,
        name_zh=body.name_zh,
        parent_id=body.parent_id,
        code=body.code,
    )
    response.headers["ETag"] = _etag(loc)
    return LocationOut.model_validate(loc)


@router.patch("/locations/{location_id}", response_model=LocationOut, tags=["locations"])
def update_location(
    location_id: LocationId,
    body: LocationUpdate,
    session: SessionDep,
    who: CurrentPrincipal,
    response: Response,
    if_match: Annotated[str | None, Header(max_length=200)] = None,
) -> LocationOut:
    """Rename, re-code or move a location made through the API; site.yaml's answer 409."""
    changes = body.model_dump(exclude_unset=True)
    loc = assets.update_location(
        session, who=who, location_id=location_id, changes=changes, if_match=if_match
    )
    response.headers["ETag"] = _etag(loc)
    return LocationOut.model_validate(loc)


@router.delete(
    "/locations/{location_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["locations"]
)
def delete_location(
    location_id: LocationId,
    session: SessionDep,
    who: CurrentPrincipal,
    if_match: Annotated[str | None, Header(max_length=200)] = None,
) -> Response:
    """Remove an empty location made through the API (409 while it holds anything)."""
    assets.delete_location(session, who=who, location_id=location_id, if_match=if_match)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- assets -------------------------------------------------------------------------------------


def _asset_out(a: Asset) -> AssetDetail:
    return AssetDetail.model_validate(a)


@router.post("/assets", response_model=AssetDetail, status_code=status.HTTP_201_CREATED)
def create_asset(body: AssetCreate, session: SessionDep, who: CurrentPrincipal) -> AssetDetail:
    """A new asset in a building, floor or room (admin, engineer)."""
    return _asset_out(assets.create_asset(session, who=who, fields=body.model_dump()))


@router.patch("/assets/{asset_id}", response_model=AssetDetail)
def update_asset(
    asset_id: AssetId,
    body: AssetUpdate,
    session: SessionDep,
    who: CurrentPrincipal,
    request: Request,
) -> AssetDetail:
    """Change an asset. For a site asset, site.yaml owns its configuration fields (409); it may
    be placed in a location made through the API, and retired or brought back."""
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    site = getattr(request.app.state, "site", None)
    return _asset_out(
        assets.update_asset(session, who=who, asset_id=asset_id, changes=changes, site=site)
    )


@router.delete("/assets/{asset_id}", response_model=AssetDetail)
def retire_asset(asset_id: AssetId, session: SessionDep, who: CurrentPrincipal) -> AssetDetail:
    """Retire an asset (admin, engineer): it is not deleted. It stays readable at GET
    /assets/{asset_id} with `active: false`, keeps its history and its work orders, and takes no
    new work orders; retiring it again answers the same. The answer is the retired asset."""
    return _asset_out(assets.retire_asset(session, who=who, asset_id=asset_id))


@router.get(
    "/assets/{asset_id}/history",
    response_model=AssetHistory,
    responses={404: {"description": "no such asset, or one a contractor has no work order on"}},
)
def asset_history(
    asset_id: AssetId,
    session: SessionDep,
    who: CurrentPrincipal,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: IdCursor = None,
) -> AssetHistory:
    """The asset's work orders, newest first, with labor, parts and other costs summed over all
    of them. A contractor sees only its own work orders, in the items and in the totals."""
    h = assets.history(
        session, who=who, asset_id=asset_id, limit=limit, after_id=read_id_cursor(cursor)
    )
    return AssetHistory(
        asset_id=h.asset.id,
        items=[
            HistoryItem(
                id=w.id,
                title=w.title,
                type=w.type,
                status=w.status,
                priority=w.priority,
                opened=w.created_at,
                closed=w.closed_at,
                cost_total=w.cost_total,
            )
            for w in h.items
        ],
        next_cursor=id_cursor(h.next_after) if h.next_after is not None else None,
        totals=CostTotals.model_validate(h.totals),
    )


# --- readings -----------------------------------------------------------------------------------


class ReadingBucket(BaseModel):
    """One bucket of a point's readings."""

    ts: dt.datetime = Field(description="The bucket's start, in the site's time zone")
    value: int | float | None = Field(
        description="The aggregate of the bucket's good readings; null when it has none"
    )
    quality: BucketQuality = Field(
        description="'good' when the bucket holds any good reading, else the quality of its "
        "last reading, else 'missing' when nothing was stored in it"
    )


class Readings(BaseModel):
    """A point of an asset from `from` to `to`, one entry per bucket, in time order."""

    asset: str
    point: str
    unit: str = Field(description="The point's unit as its profile states it ('' for none)")
    step: int = Field(description="Seconds per bucket (the last may be cut short by `to`)")
    points: list[ReadingBucket]


def _store(request: Request) -> BucketReader:
    """The app's readings store (plantroom/app.py sets it; made from the settings if not)."""
    state = request.app.state
    if getattr(state, "readings", None) is None:
        state.readings = configured_reader(state.settings)
    return cast(BucketReader, state.readings)


@router.get(
    "/assets/{asset_id}/readings",
    response_model=Readings,
    responses={
        403: {"description": "a requester; or a token without the 'read' scope"},
        404: {
            "description": "no such asset, one a contractor has no work order on, or no such "
            "point on it (`no point X on asset Y`)"
        },
        422: {
            "description": f"from is not before to; more than {MAX_BUCKETS:,} buckets; a step "
            "longer than 100 years; or a parameter that does not validate"
        },
        503: {"description": "the readings store (InfluxDB, the embedded file) cannot be read"},
    },
)
def asset_readings(
    asset_id: AssetId,
    session: SessionDep,
    who: CurrentPrincipal,
    request: Request,
    point: Annotated[
        str,
        Query(max_length=100, pattern=POINT_PATTERN, description="A point of the asset's devices"),
    ],
    from_: Annotated[WallTime, Query(alias="from", description="Start, included")],
    to: Annotated[WallTime, Query(description="End, excluded")],
    step: Annotated[
        str | None,
        Query(
            max_length=11,
            pattern=readings.STEP_PATTERN,
            description="Bucket length: 30s, 5m, 1h, 1d... Default: the range / 300, rounded "
            "up to 1, 2, 5, 10, 15 or 30 s, 1, 2, 5, 10, 15 or 30 min, 1, 2, 3, 6 or 12 h, "
            "1, 2 or 7 days, or whole weeks",
        ),
    ] = None,
    agg: Annotated[Agg, Query(description="How a bucket's good readings are combined")] = "mean",
) -> Readings:
    """A point's readings for a chart: one entry per bucket of `step` from `from` (included)
    to `to` (excluded), buckets counted from `from`. Times without an offset are read in the
    site's time zone, and each bucket's `ts` (its start) is given in it, with its offset.
    `value` aggregates the bucket's good readings (null when it has none); `quality` is `good`
    when it has any, else its last reading's quality (`unavailable`, `stale`,
    `out_of_range`), else `missing`. Reads InfluxDB when configured, else the embedded store.
    Admins, engineers and technicians read any asset; a contractor only assets it has work
    orders on; a requester none."""
    series = readings.read(
        session,
        who=who,
        site=request.app.state.site,
        store=_store(request),
        asset_id=asset_id,
        point=point,
        start=from_,
        end=to,
        step=step,
        agg=agg,
    )
    return Readings(
        asset=series.asset,
        point=series.point,
        unit=series.unit,
        step=series.step,
        points=[
            ReadingBucket(ts=ts, value=b.value, quality=b.quality)
            for ts, b in zip(series.starts, series.buckets, strict=True)
        ],
    )


# --- QR codes -----------------------------------------------------------------------------------


def public_page_url(request: Request, asset_id: str) -> str:
    """The absolute URL of an asset's public report page, /r/{asset_id}.

    settings.public_url wins when set (the address occupants' phones reach, behind a proxy);
    otherwise the address this request came in on."""
    base = request.app.state.settings.public_url or str(request.base_url)
    return f"{str(base).rstrip('/')}/r/{quote(asset_id, safe='')}"


def qr_code(url: str) -> segno.QRCode:
    """The QR code for a URL: medium error correction, so a scuffed label still scans."""
    return segno.make_qr(url, error="m")


QR_HEADERS = {"Cache-Control": "private, max-age=3600"}


@router.get(
    "/assets/{asset_id}/qr.svg",
    response_class=Response,
    responses={
        200: {"content": {"image/svg+xml": {}}, "description": "the QR code"},
        404: {"description": "no such asset, or one a contractor has no work order on"},
    },
)
def asset_qr_svg(
    asset_id: AssetId,
    session: SessionDep,
    who: CurrentPrincipal,
    request: Request,
    scale: Annotated[int, Query(ge=1, le=40)] = 8,
) -> Response:
    """A QR code (SVG) for the asset's public report page."""
    a = assets.readable_asset(session, who=who, asset_id=asset_id)
    buf = io.BytesIO()
    qr_code(public_page_url(request, a.id)).save(
        buf, kind="svg", scale=scale, border=4, title=a.name
    )
    return Response(buf.getvalue(), media_type="image/svg+xml", headers=QR_HEADERS)


@router.get(
    "/assets/{asset_id}/qr.png",
    response_class=Response,
    responses={
        200: {"content": {"image/png": {}}, "description": "the QR code"},
        404: {"description": "no such asset, or one a contractor has no work order on"},
    },
)
def asset_qr_png(
    asset_id: AssetId,
    session: SessionDep,
    who: CurrentPrincipal,
    request: Request,
    scale: Annotated[int, Query(ge=1, le=40)] = 8,
) -> Response:
    """A QR code (PNG) for the asset's public report page."""
    a = assets.readable_asset(session, who=who, asset_id=asset_id)
    buf = io.BytesIO()
    qr_code(public_page_url(request, a.id)).save(buf, kind="png", scale=scale, border=4)
    return Response(buf.getvalue(), media_type="image/png", headers=QR_HEADERS)
