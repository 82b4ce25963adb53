"""Locations (site > building > floor > room) and assets: who may change them, their rules and
the mirror of site.yaml into them (their SQL is in repository.py).

site.yaml owns what it declares. At start-up `sync_assets` (workorders.orders.service) re-copies
each site asset's configuration fields and `sync_locations` here re-creates the site's locations and
places each site asset in its room, floor or building. Edits through the API to those fields
would be silently undone at the next start, so they are refused with 409 and a reason. A site
asset may still be placed by hand in a location made through the API (a room site.yaml does not
list); such a placement survives the re-sync.

Services take a session and never commit.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from config.site import SiteConfig, zh_path
from core import audit
from core.auth.models import Role
from core.auth.service import Principal
from core.concurrency import check_if_match
from core.errors import AppError, Conflict, Forbidden, NotFound
from workorders.assets import repository
from workorders.assets.repository import all_locations, get_asset, get_location, location_by_code
from workorders.orders import service as orders_service
from workorders.orders.models import Asset, Location, WorkOrder

#: Levels of the hierarchy, top first; a child is always exactly one level below its parent.
KINDS = ("site", "building", "floor", "room")
#: Asset fields site.yaml sets; for a site asset they are re-synced at every start.
SITE_OWNED_ASSET_FIELDS = (
    "name",
    "name_zh",
    "brick_class",
    "install_date",
    "expected_life_years",
    "replacement_cost",
    "criticality",
    "parent_meter_id",
    "sub_item",
)
#: Who may create, change and retire locations and assets.
WRITERS = frozenset({Role.admin, Role.engineer})
#: Asset fields an edit may leave out but not set to null.
NOT_NULL = ("name", "brick_class", "location_id", "criticality", "active")
#: Fields the audit log records for an asset.
ASSET_AUDITED = (*SITE_OWNED_ASSET_FIELDS, "building_id", "location", "location_id", "active")
LOCATION_AUDITED = ("parent_id", "kind", "code", "name", "name_zh", "source")


class LocationNotFound(NotFound):
    """No such location."""

    def __init__(self, location_id: int):
        super().__init__(f"location {location_id} not found")


class AssetNotFound(NotFound):
    """No such asset."""

    def __init__(self, asset_id: str):
        super().__init__(f"asset '{asset_id}' not found")


class BadHierarchy(AppError):
    """A location would not sit exactly one level below its parent."""

    status_code = 422
    error = "bad_hierarchy"


class OwnedBySite(Conflict):
    """The change touches something site.yaml declares; it would be undone at the next start."""


class InUse(Conflict):
    """The location still holds other locations or assets."""


# --- the hierarchy ------------------------------------------------------------------------------


def level(kind: str) -> int:
    """0 for a site .. 3 for a room."""
    return KINDS.index(kind)


def ancestry(loc: Location, index: Mapping[int, Location]) -> list[Location]:
    """loc and the locations above it, top first."""
    chain = [loc]
    while chain[0].parent_id is not None and chain[0].parent_id in index:
        chain.insert(0, index[chain[0].parent_id])
    return chain


def path_of(loc: Location, index: Mapping[int, Location]) -> str:
    """'Building / Floor / Room': the names from the building down (the site is implied)."""
    return " / ".join(x.name for x in ancestry(loc, index) if x.kind != "site")


def path_zh_of(loc: Location, index: Mapping[int, Location]) -> str | None:
    """path_of in Simplified Chinese: each name_zh, else the name; None when none has one."""
    return zh_path([(x.name, x.name_zh) for x in ancestry(loc, index) if x.kind != "site"])


def _check_parent(kind: str, parent: Location | None) -> None:
    if kind == "site":
        if parent is not None:
            raise BadHierarchy("a site has no parent location")
        return
    if parent is None:
        raise BadHierarchy(f"a {kind} needs a parent {KINDS[level(kind) - 1]}")
    if level(parent.kind) != level(kind) - 1:
        raise BadHierarchy(
            f"a {kind} must sit directly under a {KINDS[level(kind) - 1]}, "
            f"not under a {parent.kind}",
            detail={"kind": kind, "parent_kind": parent.kind},
        )


def _must_location(session: Session, location_id: int) -> Location:
    loc = get_location(session, location_id)
    if loc is None:
        raise LocationNotFound(location_id)
    return loc


def _must_parent(session: Session, parent_id: int | None) -> Location | None:
    if parent_id is None:
        return None
    parent = get_location(session, parent_id)
    if parent is None:
        raise AppError(f"parent location {parent_id} does not exist", status_code=422, detail=None)
    return parent


def _audit(
    session: Session,
    who: Principal,
    *,
    entity: str,
    entity_id: str | int,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    version: int | None = None,
) -> None:
    b, a = (
        audit.diff(before, after) if before is not None and after is not None else (before, after)
    )
    audit.record_by(
        session,
        who,
        entity=entity,
        entity_id=entity_id,
        action=action,
        before=b,
        after=a,
        version=version,
    )


def _writer(who: Principal) -> None:
    if who.role not in WRITERS:
        raise Forbidden(f"role {who.role} cannot change locations or assets")


def _no_nulls(changes: Mapping[str, Any], fields: Sequence[str]) -> None:
    nulls = [k for k in fields if k in changes and changes[k] is None]
    if nulls:
        raise AppError(f"{', '.join(nulls)} cannot be null", status_code=422)


# --- locations ----------------------------------------------------------------------------------


def list_locations(
    session: Session,
    *,
    parent_id: int | None = None,
    kind: str | None = None,
    after_id: int | None = None,
    limit: int = 100,
) -> list[Location]:
    """Locations by id, filtered by parent and kind."""
    return repository.list_locations(
        session, parent_id=parent_id, kind=kind, after_id=after_id, limit=limit
    )


def location(session: Session, *, location_id: int) -> Location:
    """One location; LocationNotFound (404) when there is none."""
    return _must_location(session, location_id)


def create_location(
    session: Session,
    *,
    who: Principal,
    kind: str,
    name: str,
    parent_id: int | None = None,
    code: str | None = None,
    name_zh: str | None = None,
) -> Location:
    """A new location made by a person (admin, engineer), one level below its parent."""
    _writer(who)
    parent = _must_parent(session, parent_id)
    _check_parent(kind, parent)
    code = code or f"loc-{secrets.token_hex(4)}"
    if location_by_code(session, code) is not None:
        raise Conflict(f"location code '{code}' is already taken")
    loc = Location(
        kind=kind, name=name, name_zh=name_zh, code=code, parent_id=parent_id, source="api"
    )
    repository.add(session, loc)
    _audit(
        session,
        who,
        entity="location",
        entity_id=loc.id,
        action="create",
        before=None,
        after=audit.snapshot(loc, LOCATION_AUDITED),
        version=loc.version,
    )
    return loc


def update_location(
    session: Session,
    *,
    who: Principal,
    location_id: int,
    changes: Mapping[str, Any],
    if_match: str | None = None,
) -> Location:
    """Rename, re-code or move a location made through the API (admin, engineer); site ones
    belong to site.yaml. 412 when `if_match` (the If-Match header) names another version."""
    _writer(who)
    for key in ("name", "code"):
        if key in changes and changes[key] is None:
            raise AppError(f"{key} cannot be null", status_code=422)
    loc = _must_location(session, location_id)
    check_if_match(if_match, loc.version, what="the location")
    if loc.source == "site" and changes:
        raise OwnedBySite(
            f"location '{loc.code}' comes from site.yaml and is re-synced at every start; "
            "change it there",
            detail={"fields": sorted(changes)},
        )
    before = audit.snapshot(loc, LOCATION_AUDITED)
    if "parent_id" in changes and changes["parent_id"] != loc.parent_id:
        parent = _must_parent(session, changes["parent_id"])
        _check_parent(loc.kind, parent)
        loc.parent_id = changes["parent_id"]
    if "code" in changes and changes["code"] != loc.code:
        if location_by_code(session, changes["code"]) is not None:
            raise Conflict(f"location code '{changes['code']}' is already taken")
        loc.code = changes["code"]
    if "name" in changes:
        loc.name = changes["name"]
    if "name_zh" in changes:
        loc.name_zh = changes["name_zh"]
    after = audit.snapshot(loc, LOCATION_AUDITED)
    if after != before:
        session.flush()
        _refresh_asset_paths(session)
        _audit(
            session,
            who,
            entity="location",
            entity_id=loc.id,
            action="update",
            before=before,
            after=after,
            version=loc.version,
        )
    return loc


def delete_location(
    session: Session, *, who: Principal, location_id: int, if_match: str | None = None
) -> None:
    """Remove an empty location made through the API (admin, engineer)."""
    _writer(who)
    loc = _must_location(session, location_id)
    check_if_match(if_match, loc.version, what="the location")
    if loc.source == "site":
        raise OwnedBySite(
            f"location '{loc.code}' comes from site.yaml and would come back at the next start; "
            "remove it there"
        )
    children = repository.count_children(session, loc.id)
    assets = repository.count_assets_in(session, loc.id)
    if children or assets:
        raise InUse(
            f"location '{loc.code}' still holds {children} location(s) and {assets} asset(s)",
            detail={"locations": children, "assets": assets},
        )
    _audit(
        session,
        who,
        entity="location",
        entity_id=loc.id,
        action="delete",
        before=audit.snapshot(loc, LOCATION_AUDITED),
        after=None,
        version=loc.version,
    )
    repository.delete_location(session, loc)


# --- assets -------------------------------------------------------------------------------------


def _place(asset: Asset, loc: Location, index: Mapping[int, Location]) -> None:
    """Derive an asset's building and location text from where it stands."""
    chain = ancestry(loc, index)
    building = next((x for x in chain if x.kind == "building"), None)
    if building is None:
        raise BadHierarchy(
            "an asset stands in a building, floor or room, not directly on the site",
            detail={"location_kind": loc.kind},
        )
    asset.location_id = loc.id
    asset.building_id = building.code
    asset.building_name = building.name
    asset.building_name_zh = building.name_zh
    asset.location = path_of(loc, index)
    asset.location_zh = path_zh_of(loc, index)


def _refresh_asset_paths(session: Session) -> None:
    """Re-derive every placed asset's building and location text (after a location changed)."""
    index = all_locations(session)
    for asset in repository.placed_assets(session):
        loc = index.get(asset.location_id or 0)
        if loc is not None and any(x.kind == "building" for x in ancestry(loc, index)):
            _place(asset, loc, index)


def asset(session: Session, *, asset_id: str) -> Asset:
    """One asset, active or retired; AssetNotFound (404) when there is none."""
    found = get_asset(session, asset_id)
    if found is None:
        raise AssetNotFound(asset_id)
    return found


def may_read(session: Session, *, who: Principal, asset_id: str) -> bool:
    """Whether the caller may read the asset at all: a contractor only one its firm has (or
    had) work on, like its work orders; every other role any asset (one rule, in
    workorders.orders.service)."""
    return orders_service.asset_visible(session, who=who, asset_id=asset_id)


def readable_asset(session: Session, *, who: Principal, asset_id: str) -> Asset:
    """One asset the caller may read; AssetNotFound (404) when there is none or the caller is
    a contractor without work on it (as for work orders: it cannot learn that it exists)."""
    found = get_asset(session, asset_id)
    if found is None or not may_read(session, who=who, asset_id=asset_id):
        raise AssetNotFound(asset_id)
    return found


def readable_asset_ids(session: Session, *, who: Principal) -> set[str] | None:
    """The ids of the assets a contractor may read; None for roles that read every asset."""
    return orders_service.visible_asset_ids(session, who=who)


def create_asset(session: Session, *, who: Principal, fields: Mapping[str, Any]) -> Asset:
    """A new asset made by a person (admin, engineer), standing in a building, floor or room."""
    _writer(who)
    asset_id = fields["id"]
    if get_asset(session, asset_id) is not None:
        raise Conflict(f"asset '{asset_id}' already exists (retired assets keep their id)")
    _check_parent_meter(session, fields.get("parent_meter_id"), asset_id)
    loc = _must_location_422(session, fields["location_id"])
    asset = Asset(
        id=asset_id,
        source="api",
        active=True,
        **{k: fields.get(k) for k in SITE_OWNED_ASSET_FIELDS if k in fields},
    )
    if asset.criticality is None:
        asset.criticality = "medium"
    _place(asset, loc, all_locations(session))
    repository.add(session, asset)
    _audit(
        session,
        who,
        entity="asset",
        entity_id=asset.id,
        action="create",
        before=None,
        after=audit.snapshot(asset, ASSET_AUDITED),
    )
    return asset


def _must_location_422(session: Session, location_id: int) -> Location:
    loc = get_location(session, location_id)
    if loc is None:
        raise AppError(f"location {location_id} does not exist", status_code=422)
    return loc


def _check_parent_meter(session: Session, meter_id: str | None, asset_id: str) -> None:
    if meter_id is None:
        return
    if meter_id == asset_id:
        raise AppError("an asset cannot be its own parent meter", status_code=422)
    if get_asset(session, meter_id) is None:
        raise AppError(f"parent meter '{meter_id}' does not exist", status_code=422)


def update_asset(
    session: Session,
    *,
    who: Principal,
    asset_id: str,
    changes: Mapping[str, Any],
    site: SiteConfig | None = None,
) -> Asset:
    """Edit an asset (admin, engineer). A site asset's configuration fields belong to site.yaml
    (409); it may only be placed in a location made through the API, or back where site.yaml
    puts it."""
    _writer(who)
    _no_nulls(changes, NOT_NULL)
    asset = get_asset(session, asset_id)
    if asset is None:
        raise AssetNotFound(asset_id)
    if asset.source == "site":
        owned = sorted(
            k for k in changes if k in SITE_OWNED_ASSET_FIELDS and changes[k] != getattr(asset, k)
        )
        if owned:
            raise OwnedBySite(
                f"asset '{asset_id}' comes from site.yaml, which owns {', '.join(owned)}; "
                "they are re-synced at every start, so change them in site.yaml",
                detail={"fields": owned},
            )
    before = audit.snapshot(asset, ASSET_AUDITED)
    index = all_locations(session)
    if "location_id" in changes and changes["location_id"] != asset.location_id:
        loc = _must_location_422(session, changes["location_id"])
        if asset.source == "site" and loc.source == "site":
            home = site_places(site).get(asset.id) if site is not None else None
            if loc.code != home:
                raise OwnedBySite(
                    f"site.yaml places asset '{asset_id}' in '{home}'; a site asset can be moved "
                    "only into a location made through the API (or back to its site.yaml place)",
                    detail={"fields": ["location_id"], "site_location": home},
                )
        _place(asset, loc, index)
    if "parent_meter_id" in changes:
        _check_parent_meter(session, changes["parent_meter_id"], asset.id)
    for k in SITE_OWNED_ASSET_FIELDS:
        if k in changes:
            setattr(asset, k, changes[k])
    if "active" in changes:
        asset.active = bool(changes["active"])
    after = audit.snapshot(asset, ASSET_AUDITED)
    if after != before:
        session.flush()
        _audit(
            session,
            who,
            entity="asset",
            entity_id=asset.id,
            action="update",
            before=before,
            after=after,
        )
    return asset


def retire_asset(session: Session, *, who: Principal, asset_id: str) -> Asset:
    """Retire an asset (admin, engineer): it keeps its history and its QR page says so, but
    takes no new work."""
    _writer(who)
    asset = get_asset(session, asset_id)
    if asset is None:
        raise AssetNotFound(asset_id)
    if asset.active:
        asset.active = False
        session.flush()
        _audit(
            session,
            who,
            entity="asset",
            entity_id=asset.id,
            action="retire",
            before={"active": True},
            after={"active": False},
        )
    return asset


# --- asset history ------------------------------------------------------------------------------


@dataclass(frozen=True)
class History:
    """A page of an asset's work orders, newest first, and totals over all of them."""

    asset: Asset
    items: list[WorkOrder]
    next_after: int | None
    totals: dict[str, float | int]


def history(
    session: Session, *, who: Principal, asset_id: str, limit: int = 50, after_id: int | None = None
) -> History:
    """An asset's work orders and what they cost; a contractor sees only its own, and only on
    an asset it has work on (404 otherwise)."""
    asset = readable_asset(session, who=who, asset_id=asset_id)
    scope = who.contractor_scope
    # A requester sees only what they raised, here as in the work-order API.
    mine = who.username if who.role is Role.requester else None
    rows = repository.asset_workorders(
        session, asset_id, contractor_id=scope, created_by=mine, after_id=after_id, limit=limit + 1
    )
    more = len(rows) > limit
    rows = rows[:limit]
    totals = repository.asset_cost_totals(session, asset_id, contractor_id=scope, created_by=mine)
    totals["total"] = round(
        float(totals["labor"]) + float(totals["parts"]) + float(totals["other"]), 2
    )
    return History(
        asset=asset, items=rows, next_after=rows[-1].id if more and rows else None, totals=totals
    )


# --- the site.yaml mirror -----------------------------------------------------------------------


@dataclass(frozen=True)
class _SiteLoc:
    kind: str
    code: str
    name: str
    parent_code: str | None
    name_zh: str | None = None


def _site_locations(site: SiteConfig) -> Iterator[tuple[_SiteLoc, list[str]]]:
    """Each location site.yaml declares, top first, with the ids of the assets standing in it.

    Floors and rooms are coded '<building>/<floor>[/<room>]': site.yaml keeps their ids unique
    only within a building."""
    info = site.doc.site
    yield _SiteLoc("site", info.id, info.name, None, info.name_zh), []
    for b in site.doc.buildings:
        yield _SiteLoc("building", b.id, b.name, info.id, b.name_zh), [a.id for a in b.assets]
        for f in b.floors:
            fcode = f"{b.id}/{f.id}"
            yield _SiteLoc("floor", fcode, f.name, b.id, f.name_zh), [a.id for a in f.assets]
            for r in f.rooms:
                room = _SiteLoc("room", f"{fcode}/{r.id}", r.name, fcode, r.name_zh)
                yield room, [a.id for a in r.assets]


def site_places(site: SiteConfig) -> dict[str, str]:
    """Asset id -> the code of the location site.yaml puts it in."""
    return {aid: sl.code for sl, ids in _site_locations(site) for aid in ids}


def sync_locations(session: Session, site: SiteConfig) -> int:
    """Mirror site.yaml's site, buildings, floors and rooms into locations (source 'site') and
    place each site asset in its room, floor or building; idempotent. Returns how many locations.

    Locations that left site.yaml stay (assets and history may point at them). A site asset that
    someone placed by hand in a location made through the API stays there."""
    by_code: dict[str, Location] = {}
    places: dict[str, str] = {}
    n = 0
    for sl, asset_ids in _site_locations(site):
        parent = by_code.get(sl.parent_code) if sl.parent_code else None
        loc = location_by_code(session, sl.code)
        if loc is None:
            loc = Location(
                kind=sl.kind, code=sl.code, name=sl.name, name_zh=sl.name_zh, source="site"
            )
            loc.parent_id = parent.id if parent else None
            repository.add(session, loc)
        else:
            if loc.kind != sl.kind:
                raise Conflict(
                    f"site.yaml declares {sl.kind} '{sl.code}', but a {loc.kind} made through "
                    "the API already has that code; rename one of them",
                    detail={"code": sl.code},
                )
            parent_id = parent.id if parent else None
            for attr, value in (
                ("name", sl.name),
                ("name_zh", sl.name_zh),
                ("parent_id", parent_id),
                ("source", "site"),
            ):
                if getattr(loc, attr) != value:
                    setattr(loc, attr, value)
        by_code[sl.code] = loc
        for aid in asset_ids:
            places[aid] = sl.code
        n += 1
    session.flush()
    index = all_locations(session)
    for asset in repository.assets_by_id(session, list(places)).values():
        current = index.get(asset.location_id) if asset.location_id is not None else None
        if current is not None and current.source == "api":
            _place(asset, current, index)  # a hand placement wins; sync_assets reset its text
        else:
            _place(asset, by_code[places[asset.id]], index)
    session.flush()
    return n
