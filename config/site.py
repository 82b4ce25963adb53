"""The site's topology (site -> buildings -> floors -> rooms -> assets -> devices, with their
links and profiles) and the loader of site.yaml. Every error the loader reports names
file:line:field.

config describes the topology only. Each domain owns its own sections of site.yaml: it extends
the document model to its left with its fields and its cross-section checks (collectors.site:
``simulation``; alerts.config: ``rules`` and ``alerting``; workorders.site: ``sla``,
``contractors``, ``maintenance``, ``calendar``, ``codes`` and ``assignment``), and the root
(plantroom.site) loads the document the whole program knows. A check is a ``site_problems``
classmethod on the model that declares the section; the loader runs every one along the model's
bases, topology first. What only the database can tell (a username) is checked against it later,
and reported at file:line through ``SiteConfig.problem``.

Buildings, floors, rooms and assets (and the site) may carry ``name_zh``, their name in
Simplified Chinese; an asset's ``location_zh`` is built from them as ``location`` is from the
names, in English where a part has none.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from config.profile import Point, Profile
from config.units import Duration
from config.yamlloc import (
    ConfigError,
    LocatedDoc,
    Path_,
    Problem,
    format_path,
    load_located,
    pydantic_problems,
)

PROFILES_DIR = Path(__file__).resolve().parent / "profiles"
SITES_DIR = Path(__file__).resolve().parent / "sites"
ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
#: A name in Simplified Chinese beside the English one (optional; shown by the zh-CN UI).
NameZh = Annotated[str | None, Field(default=None, min_length=1, max_length=200)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class TcpLink(_Strict):
    """Modbus TCP straight to a device or an Ethernet gateway."""

    type: Literal["tcp"]
    host: str
    port: int = Field(default=502, ge=1, le=65535)

    @property
    def key(self) -> str:
        """Identity of the physical link: one request in flight per key."""
        return f"tcp://{self.host}:{self.port}"


class RtuLink(_Strict):
    """Modbus RTU on a local serial port."""

    type: Literal["rtu"]
    port: str
    baudrate: int = Field(default=9600, gt=0)
    parity: Literal["N", "E", "O"] = "N"
    bytesize: Literal[7, 8] = 8
    stopbits: Literal[1, 2] = 1

    @property
    def key(self) -> str:
        """Identity of the physical link: one request in flight per key."""
        return f"rtu://{self.port}"


class RtuOverTcpLink(_Strict):
    """Modbus RTU frames carried over TCP by a serial-to-Ethernet gateway."""

    type: Literal["rtu_over_tcp"]
    host: str
    port: int = Field(ge=1, le=65535)

    @property
    def key(self) -> str:
        """Identity of the physical link: one request in flight per key."""
        return f"rtu+tcp://{self.host}:{self.port}"


Link = Annotated[TcpLink | RtuLink | RtuOverTcpLink, Field(discriminator="type")]


class Device(_Strict):
    """A Modbus device: where it is reached and which register map it speaks."""

    id: str = Field(pattern=ID)
    profile: str
    link: Link
    unit_id: int = Field(default=1, ge=0, le=247)
    poll_interval: Duration = 10.0
    #: How long to wait for each reply.
    timeout: Duration = 1.0
    #: Further tries after a timeout or a lost connection, within one poll.
    retries: int = Field(default=1, ge=0, le=10)
    #: Further tries after exception 6 (device busy), each after busy_delay; separate from retries.
    busy_retries: int = Field(default=2, ge=0, le=20)
    busy_delay: Duration = 0.2
    #: Quiet time after connecting before the first request (slow gateways need it).
    pause_after_connect: Duration = 0.0
    #: Quiet time the link keeps after each of this device's requests.
    pause_between_requests: Duration = 0.0
    #: Close the connection after each poll (gateways that allow few connections).
    close_after_poll: bool = False
    #: Per-device overrides of the profile's request planning.
    max_request_registers: int | None = Field(default=None, ge=1, le=125)
    max_gap: int | None = Field(default=None, ge=0, le=124)
    one_request_per_point: bool | None = None
    #: Failed polls in a row before the device is quarantined (polled with backoff).
    quarantine_after: int = Field(default=3, ge=1, le=100)
    #: Longest wait between polls of a quarantined device.
    max_backoff: Duration = 300.0
    enabled: bool = True


class Asset(_Strict):
    """A piece of equipment (Brick class) with its life and cost facts and its devices."""

    id: str = Field(pattern=ID)
    name: str
    name_zh: NameZh = None
    brick_class: str = Field(alias="class", pattern=r"^[A-Z][A-Za-z_]*$")
    install_date: dt.date | None = None
    expected_life_years: float | None = Field(default=None, gt=0)
    replacement_cost: float | None = Field(default=None, ge=0)
    criticality: Literal["low", "medium", "high", "critical"] = "medium"
    tags: list[str] = Field(default_factory=list)
    #: Meter tree: the meter this one is a sub-meter of (Brick hasSubMeter, inverted).
    parent_meter: str | None = None
    #: MOHURD sub-item code for meters, e.g. 01A00 lighting and sockets.
    sub_item: str | None = Field(default=None, pattern=r"^0[1-5][A-D0]\d0$")
    devices: list[Device] = Field(default_factory=list)


class Room(_Strict):
    """A room, e.g. a plant room or lift machine room."""

    id: str = Field(pattern=ID)
    name: str
    name_zh: NameZh = None
    assets: list[Asset] = Field(default_factory=list)


class Floor(_Strict):
    """A floor of a building."""

    id: str = Field(pattern=ID)
    name: str
    name_zh: NameZh = None
    rooms: list[Room] = Field(default_factory=list)
    assets: list[Asset] = Field(default_factory=list)


class YearFigures(_Strict):
    """A building's floor area and occupants from one year on (either may be left out)."""

    floor_area_m2: float | None = Field(default=None, gt=0)
    occupants: int | None = Field(default=None, ge=0)


class Building(_Strict):
    """A building with the figures energy reports divide by."""

    id: str = Field(pattern=ID)
    name: str
    name_zh: NameZh = None
    #: Floor area and occupants now; `by_year` keeps what they were (an extension built, a
    #: department moved in) so that each year is divided by its own figures.
    floor_area_m2: float = Field(gt=0)
    occupants: int = Field(ge=0)
    by_year: dict[int, YearFigures] = Field(default_factory=dict)
    floors: list[Floor] = Field(default_factory=list)
    assets: list[Asset] = Field(default_factory=list)

    def figures(self, year: int) -> tuple[float, int]:
        """(floor area m², occupants) for `year`: each from the latest `by_year` entry at or
        before the year that gives it (carried forward), else the building's own figure."""
        area, people = self.floor_area_m2, self.occupants
        for y in sorted(y for y in self.by_year if y <= year):
            f = self.by_year[y]
            area = f.floor_area_m2 if f.floor_area_m2 is not None else area
            people = f.occupants if f.occupants is not None else people
        return area, people


class SiteInfo(_Strict):
    """The compound itself."""

    id: str = Field(pattern=ID)
    name: str
    name_zh: NameZh = None
    timezone: str = "Asia/Shanghai"


#: Where a problem is in site.yaml (keys and list indexes from the top), and what it is.
Located = tuple[tuple[Any, ...], str]


class SiteFile(_Strict):
    """The topology part of site.yaml; the domains extend it with their own sections."""

    site: SiteInfo
    buildings: list[Building]
    #: Extra folders with profiles, relative to the site file.
    profile_dirs: list[str] = Field(default_factory=list)

    @classmethod
    def site_problems(cls, site: SiteConfig[Any]) -> list[Located]:
        """Cross-section problems of the sections this class declares (override per domain)."""
        return []


D = TypeVar("D", bound=SiteFile, covariant=True)
S = TypeVar("S", bound=SiteFile)


@dataclass(frozen=True)
class AssetRef:
    """An asset with where it stands."""

    asset: Asset
    building: Building
    location: str
    #: The location in Simplified Chinese: each part's name_zh, else its name; None when no
    #: part has a name_zh.
    location_zh: str | None = None


def zh_path(parts: list[tuple[str, str | None]]) -> str | None:
    """'A / B / C' of (name, name_zh) parts in Chinese, English where a part has no name_zh;
    None when none has one."""
    if not any(zh for _, zh in parts):
        return None
    return " / ".join(zh or name for name, zh in parts)


@dataclass(frozen=True)
class DeviceRef:
    """A device with its asset and profile resolved."""

    device: Device
    asset: AssetRef
    profile: Profile


@dataclass
class SiteConfig(Generic[D]):
    """A validated site: the document plus its profiles and indexes."""

    path: Path
    doc: D
    profiles: dict[str, Profile]
    #: Profiles that exist but failed to load (their own errors are reported already).
    broken_profiles: frozenset[str] = frozenset()
    #: The parsed file with the line of every key, to locate problems found after loading.
    located: LocatedDoc | None = field(default=None, repr=False, compare=False)

    def problem(self, where: Path_, message: str) -> Problem:
        """A problem at file:line:field of site.yaml, found after loading (e.g. against the
        database)."""
        if self.located is not None:
            return self.located.problem(where, message)
        return Problem(str(self.path), 0, format_path(where), message)

    @cached_property
    def asset_ids(self) -> frozenset[str]:
        """The id of every asset."""
        return frozenset(ref.asset.id for ref in self.assets())

    @cached_property
    def device_ids(self) -> frozenset[str]:
        """The id of every device, enabled or not."""
        return frozenset(d.id for ref in self.assets() for d in ref.asset.devices)

    @cached_property
    def asset_classes(self) -> frozenset[str]:
        """Every Brick class an asset has."""
        return frozenset(ref.asset.brick_class for ref in self.assets())

    @cached_property
    def known_points(self) -> frozenset[str]:
        """The points of every device profile that loaded."""
        return frozenset(
            p.name
            for ref in self.assets()
            for d in ref.asset.devices
            if d.profile in self.profiles
            for p in self.profiles[d.profile].points
        )

    @cached_property
    def asset_points(self) -> dict[str, list[Point]]:
        """Each asset's points, by its id: those its devices' profiles define (enabled or not,
        so that past readings stay readable), in profile order; a name two devices share is
        listed once, as the first device defines it."""
        out: dict[str, list[Point]] = {}
        for ref in self.assets():
            points: dict[str, Point] = {}
            for d in ref.asset.devices:
                for p in self.profiles[d.profile].points if d.profile in self.profiles else []:
                    points.setdefault(p.name, p)
            out[ref.asset.id] = list(points.values())
        return out

    def unresolved_assets(self) -> list[AssetRef]:
        """Assets with a device whose profile is missing or broken: their points are unknown."""
        return [
            ref
            for ref in self.assets()
            if any(d.profile not in self.profiles for d in ref.asset.devices)
        ]

    def assets(self) -> Iterator[AssetRef]:
        """Every asset with its building and location path."""
        for b in self.doc.buildings:
            bp = [(b.name, b.name_zh)]
            for a in b.assets:
                yield AssetRef(a, b, b.name, zh_path(bp))
            for f in b.floors:
                fp = [*bp, (f.name, f.name_zh)]
                for a in f.assets:
                    yield AssetRef(a, b, f"{b.name} / {f.name}", zh_path(fp))
                for r in f.rooms:
                    rp = [*fp, (r.name, r.name_zh)]
                    for a in r.assets:
                        yield AssetRef(a, b, f"{b.name} / {f.name} / {r.name}", zh_path(rp))

    def devices(self) -> list[DeviceRef]:
        """Every enabled device, with its asset and profile."""
        return [
            DeviceRef(d, ref, self.profiles[d.profile])
            for ref in self.assets()
            for d in ref.asset.devices
            if d.enabled
        ]

    def asset(self, asset_id: str) -> AssetRef:
        """The asset with this id (KeyError when absent)."""
        for ref in self.assets():
            if ref.asset.id == asset_id:
                return ref
        raise KeyError(asset_id)

    def only_buildings(self, building_ids: Iterable[str]) -> SiteConfig[D]:
        """This site with only these buildings (and so only their assets and devices): what a
        collector that owns part of the site sees. Every other section stays whole. Raises
        UnknownBuildings naming the ids the site lacks, and the known ones."""
        wanted = list(dict.fromkeys(building_ids))
        known = [b.id for b in self.doc.buildings]
        unknown = [b for b in wanted if b not in known]
        if unknown:
            raise UnknownBuildings(unknown, known)
        doc = self.doc.model_copy(
            update={"buildings": [b for b in self.doc.buildings if b.id in wanted]}
        )
        return replace(self, doc=doc)


class UnknownBuildings(ValueError):
    """Building ids a site does not have."""

    def __init__(self, unknown: list[str], known: list[str]):
        self.unknown, self.known = unknown, known
        super().__init__(
            f"unknown building{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(repr(b) for b in unknown)} (known: {', '.join(known) or 'none'})"
        )


def remap_ports(refs: list[DeviceRef], port_map: dict[int, int]) -> list[DeviceRef]:
    """The devices with TCP ports moved per port_map (the demo and tests run the simulator on
    free ports)."""
    out = []
    for ref in refs:
        link = ref.device.link
        if not isinstance(link, RtuLink) and link.port in port_map:
            link = link.model_copy(update={"port": port_map[link.port]})
        out.append(DeviceRef(ref.device.model_copy(update={"link": link}), ref.asset, ref.profile))
    return out


def _validate(doc: LocatedDoc, model: type[BaseModel]) -> tuple[Any, list[Problem]]:
    problems = [doc.problem(p, "duplicate key") for p, _ in doc.duplicate_keys]
    if not isinstance(doc.data, dict):
        return None, [*problems, doc.problem((), "expected a mapping at the top of the file")]
    try:
        return model.model_validate(doc.data), problems
    except ValidationError as exc:
        return None, problems + pydantic_problems(doc, exc)


def _apply_defaults(doc: LocatedDoc) -> None:
    data = doc.data
    if not isinstance(data, dict):
        return
    defaults = data.get("defaults") or {}
    points = data.get("points")
    if isinstance(defaults, dict) and isinstance(points, list):
        data["points"] = [{**defaults, **p} if isinstance(p, dict) else p for p in points]


def load_profile(path: Path) -> Profile:
    """Load and check one profile file; raises ConfigError naming file:line:field."""
    doc = load_located(path)
    _apply_defaults(doc)
    profile, problems = _validate(doc, Profile)
    if profile is not None:
        problems += _profile_checks(doc, profile)
    if problems:
        raise ConfigError(problems)
    return profile


def _profile_checks(doc: LocatedDoc, profile: Profile) -> list[Problem]:
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    spans: dict[str, list[tuple[int, int, int, int | None]]] = defaultdict(list)
    for i, p in enumerate(profile.points):
        if p.name in seen:
            problems.append(
                doc.problem(
                    ("points", i, "name"),
                    f"duplicate point name '{p.name}' (first at points[{seen[p.name]}])",
                )
            )
        seen.setdefault(p.name, i)
        # Bits of one register may be shared by several 'bit' points; anything else may not.
        start, end = p.address, p.address + p.registers - 1
        for j, s, e, bit in spans[p.table]:
            # A 'bit' point is a view of one register and may sit on another point's register.
            shares_bits = (bit is not None or p.bit is not None) and bit != p.bit
            if start <= e and s <= end and not shares_bits:
                problems.append(
                    doc.problem(
                        ("points", i, "address"),
                        f"{p.table} registers {start}-{end} overlap points[{j}] "
                        f"'{profile.points[j].name}' ({s}-{e})",
                    )
                )
                break
        spans[p.table].append((i, start, end, p.bit))
        if p.registers > profile.max_request_registers:
            problems.append(
                doc.problem(("points", i, "length"), "point is wider than max_request_registers")
            )
    if profile.profile != Path(doc.file).stem:
        problems.append(
            doc.problem(
                ("profile",),
                f"profile name '{profile.profile}' must match "
                f"its file name '{Path(doc.file).stem}'",
            )
        )
    return problems


def site_file(path: Path) -> Path:
    """Accept a site folder or its site.yaml."""
    return path / "site.yaml" if path.is_dir() else path


def load_site(path: Path | str, model: type[S] = SiteFile) -> SiteConfig[S]:  # type: ignore[assignment]
    """Load a site with the sections `model` declares (the topology alone by default; the root
    passes the whole document) and its profiles; raises ConfigError listing every problem."""
    path = site_file(Path(path))
    doc = load_located(path)
    site, problems = _validate(doc, model)
    if site is None:
        raise ConfigError(problems)
    dirs = [PROFILES_DIR, *[(path.parent / d).resolve() for d in site.profile_dirs]]
    profiles: dict[str, Profile] = {}
    broken: set[str] = set()
    for d in dirs:
        for f in sorted(d.glob("*.yaml")):
            try:
                profiles[f.stem] = load_profile(f)
            except ConfigError as exc:
                problems += exc.problems
                broken.add(f.stem)
    cfg = SiteConfig(
        path=path, doc=site, profiles=profiles, broken_profiles=frozenset(broken), located=doc
    )
    problems += _site_checks(doc, cfg)
    for klass in reversed(model.__mro__):
        own = klass.__dict__.get("site_problems")
        if own is not None and klass is not SiteFile:
            problems += [doc.problem(where, msg) for where, msg in own.__func__(model, cfg)]
    if problems:
        raise ConfigError(problems)
    return cfg


def _site_checks(doc: LocatedDoc, cfg: SiteConfig[Any]) -> list[Problem]:
    # Broken profiles exist but failed to load; their own errors are already reported.
    problems: list[Problem] = []
    ids: dict[str, str] = {}

    def unique(kind: str, ident: str, where: tuple[Any, ...]) -> None:
        if ident in ids:
            problems.append(
                doc.problem(
                    where, f"duplicate {kind} id '{ident}' (already used by a {ids[ident]})"
                )
            )
        ids.setdefault(ident, kind)

    endpoints: dict[tuple[str, int], str] = {}
    for bi, b in enumerate(cfg.doc.buildings):
        unique("building", b.id, ("buildings", bi, "id"))
        for ai, a, apath in _assets_with_paths(b, ("buildings", bi)):
            unique("asset", a.id, (*apath, "id"))
            for di, d in enumerate(a.devices):
                dpath = (*apath, "devices", di)
                unique("device", d.id, (*dpath, "id"))
                if d.profile not in cfg.profiles and d.profile not in cfg.broken_profiles:
                    known = ", ".join(sorted(cfg.profiles)) or "none"
                    problems.append(
                        doc.problem(
                            (*dpath, "profile"), f"unknown profile '{d.profile}' (known: {known})"
                        )
                    )
                ep = (d.link.key, d.unit_id)
                if ep in endpoints:
                    problems.append(
                        doc.problem(
                            (*dpath, "unit_id"),
                            f"unit {d.unit_id} on {d.link.key} is already device '{endpoints[ep]}'",
                        )
                    )
                endpoints.setdefault(ep, d.id)
            del ai
    for ref in cfg.assets():
        a = ref.asset
        if a.parent_meter and a.parent_meter not in cfg.asset_ids:
            path = asset_path(cfg, a.id)
            problems.append(
                doc.problem((*path, "parent_meter"), f"unknown parent meter '{a.parent_meter}'")
            )
    return problems


def _assets_with_paths(
    b: Building, base: tuple[Any, ...]
) -> Iterator[tuple[int, Asset, tuple[Any, ...]]]:
    for ai, a in enumerate(b.assets):
        yield ai, a, (*base, "assets", ai)
    for fi, f in enumerate(b.floors):
        for ai, a in enumerate(f.assets):
            yield ai, a, (*base, "floors", fi, "assets", ai)
        for ri, r in enumerate(f.rooms):
            for ai, a in enumerate(r.assets):
                yield ai, a, (*base, "floors", fi, "rooms", ri, "assets", ai)


def asset_path(cfg: SiteConfig[Any], asset_id: str) -> tuple[Any, ...]:
    """Where this asset is declared in site.yaml, as keys and indexes from the top."""
    for bi, b in enumerate(cfg.doc.buildings):
        for _, a, path in _assets_with_paths(b, ("buildings", bi)):
            if a.id == asset_id:
                return path
    return ()
