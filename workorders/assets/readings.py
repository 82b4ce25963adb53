"""An asset's readings for charts: who may see them, the points an asset has, and the range cut
into buckets that the configured store aggregates (collectors/sinks/buckets.py).

- Times without an offset are wall-clock times of the site's time zone (site.yaml
  site.timezone); bucket starts are answered in that zone, with its offset.
- Buckets are `step` whole seconds counted from `from` (included); the last ends at `to`
  (excluded) and may be shorter. With no step, the range / 300 rounded up to a nice step
  (collectors.sinks.buckets.default_step), so about 150-300 buckets.
- Admins, engineers and technicians read any asset; a contractor only an asset it has (or had)
  a work order on; a requester none.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from collectors.sinks.buckets import (
    MAX_BUCKETS,
    MAX_STEP,
    Agg,
    Bucket,
    BucketReader,
    Grid,
    ReadError,
    default_step,
    micros,
)
from config.profile import Point
from config.site import SiteConfig
from core.auth.models import Role
from core.auth.service import Principal
from core.errors import AppError, Forbidden, NotFound
from workorders.assets import repository
from workorders.assets.service import AssetNotFound

#: A step as the API takes it: whole seconds, minutes, hours or days.
STEP_PATTERN = r"^[1-9][0-9]{0,9}[smhd]$"
_STEP = re.compile(STEP_PATTERN)
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class NoSuchPoint(NotFound):
    """The asset's devices define no such point."""

    def __init__(self, asset_id: str, point: str):
        super().__init__(
            f"no point {point} on asset {asset_id}", detail={"asset": asset_id, "point": point}
        )


class BadRange(AppError):
    """The range, the step or the number of buckets is not one the endpoint answers."""

    status_code = 422
    error = "bad_range"


class StoreUnavailable(AppError):
    """The readings store could not be read."""

    status_code = 503
    error = "store_unavailable"


@dataclass(frozen=True)
class Series:
    """One point of one asset in buckets: each bucket's start (in the site's zone) and
    aggregate."""

    asset: str
    point: str
    unit: str
    step: int
    starts: list[dt.datetime]
    buckets: list[Bucket]


def points_of(site: SiteConfig, asset_id: str) -> list[Point]:
    """The points the asset's devices' profiles define (none for an asset site.yaml lacks)."""
    return site.asset_points.get(asset_id, [])


def parse_step(text: str) -> int:
    """'30s', '5m', '1h', '1d' in seconds; BadRange for anything else."""
    if not _STEP.match(text):
        raise BadRange(
            f"step {text!r} is not a duration such as 30s, 5m, 1h or 1d", detail={"step": text}
        )
    return int(text[:-1]) * _UNIT[text[-1]]


def _in_zone(when: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """An aware time as it is; a naive one read as a wall-clock time of tz."""
    return when.replace(tzinfo=tz) if when.tzinfo is None else when


def _check_reader(session: Session, who: Principal, asset_id: str) -> None:
    if who.role is Role.requester:
        raise Forbidden("a requester cannot read an asset's readings")
    if repository.get_asset(session, asset_id) is None:
        raise AssetNotFound(asset_id)
    scope = who.contractor_scope
    if who.role is Role.contractor and (
        scope is None or not repository.contractor_has_work(session, asset_id, scope)
    ):
        # As for the asset itself: a contractor cannot learn that an asset it has no work on
        # exists (issue 15).
        raise AssetNotFound(asset_id)


def read(
    session: Session,
    *,
    who: Principal,
    site: SiteConfig,
    store: BucketReader,
    asset_id: str,
    point: str,
    start: dt.datetime,
    end: dt.datetime,
    step: str | None = None,
    agg: Agg = "mean",
) -> Series:
    """The point's readings from start (included) to end (excluded) in buckets (see the module
    docstring); 403, 404, 422 or 503 (the store away) with the reason."""
    _check_reader(session, who, asset_id)
    found = next((p for p in points_of(site, asset_id) if p.name == point), None)
    if found is None:
        raise NoSuchPoint(asset_id, point)
    tz = ZoneInfo(site.doc.site.timezone)
    start_us, end_us = micros(_in_zone(start, tz)), micros(_in_zone(end, tz))
    if start_us >= end_us:
        raise BadRange(
            "from must be before to (from is included, to is not)",
            detail={"from": start.isoformat(), "to": end.isoformat()},
        )
    seconds = default_step(start_us, end_us) if step is None else parse_step(step)
    if seconds > MAX_STEP:
        raise BadRange(
            f"step {step} is longer than {MAX_STEP // 86400} days", detail={"step": step}
        )
    grid = Grid(start_us, end_us, seconds)
    if grid.count > MAX_BUCKETS:
        raise BadRange(
            f"{grid.count} buckets of {seconds} s is more than {MAX_BUCKETS}; ask for a longer "
            f"step or a shorter range",
            detail={"buckets": grid.count, "max": MAX_BUCKETS, "step": seconds},
        )
    try:
        buckets = store.buckets(asset=asset_id, point=point, grid=grid, agg=agg)
    except ReadError as exc:
        raise StoreUnavailable(f"the readings store ({store.name}) cannot be read: {exc}") from exc
    return Series(
        asset=asset_id,
        point=point,
        unit=found.unit,
        step=seconds,
        starts=[s.astimezone(tz) for s in grid.starts()],
        buckets=buckets,
    )
