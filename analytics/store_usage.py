"""The Usage the app and the jobs use: telemetry meters from the readings store, offline meters
from the database (analytics.offline).

Telemetry counters are read as hourly buckets of the counter point (agg ``last``), so a year
costs 8,760 numbers per meter, never every reading. Each bucket is taken as the counter's value
at the END of its hour: the buckets are shifted by a millisecond, (t - 1 h, t], so a reading
made exactly on the hour (the simulator's history) is the value at that hour, and a collector
polling every few seconds is off by those seconds only. A bucket whose readings were all
unavailable (or stale, or out of range) is an unavailable reading: the hours around it are
bridged and said to be estimated (analytics.counters); a bucket with nothing stored is skipped,
and the interval it leaves (over MAX_GAP) is estimated as well.

Offline counters are their typed readings, with no gap limit: a dial read once a month spreads
its difference over the month by time, which is what such a meter can say. Offline quantities
(an invoice over [start, end)) are spread by time over the hours and days they cover; time no
entry covers is missing. Recorded meter replacements (energy_meter_replacements) apply to
telemetry and offline counters alike.

Temperature: hourly means of the outdoor-temperature point; a day's mean is the mean of its
hours that have one (days of 23 or 25 hours with daylight saving time are still whole days).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, Request

from analytics.counters import Consumption, Reading, Replacement, consumption_by_period
from analytics.meters import Meter
from analytics.offline import repository
from analytics.usage import Usage, Use
from collectors.sinks.buckets import MAX_BUCKETS, Bucket, BucketReader, Grid, ReadError, micros
from config.site import SiteConfig
from core.db import Database
from core.errors import AppError

HOUR = dt.timedelta(hours=1)
#: Hourly values further apart than this (one bucket with nothing stored) bridge a gap.
MAX_GAP = dt.timedelta(hours=1, minutes=30)
#: The shift that makes a bucket (t - 1 h, t] instead of [t - 1 h, t).
_SHIFT_US = 1000
#: An offline counter's readings are never a gap, however far apart.
_NO_GAP = dt.timedelta(days=100 * 366)


class StoreUnavailable(AppError):
    """The readings store cannot be read (a server away): nothing can be said (503)."""

    status_code = 503
    error = "store_unavailable"


def _floor_hour(t: dt.datetime) -> dt.datetime:
    t = t.astimezone(dt.UTC)
    return t.replace(minute=0, second=0, microsecond=0)


def _ceil_hour(t: dt.datetime) -> dt.datetime:
    f = _floor_hour(t)
    return f if f == t else f + HOUR


def day_edges(tz: ZoneInfo, first: dt.date, last: dt.date) -> list[dt.datetime]:
    """Local midnights from `first` to the day after `last`, in UTC (one more than the days)."""
    days = (last - first).days + 1
    return [
        dt.datetime.combine(first + dt.timedelta(days=k), dt.time(), tz).astimezone(dt.UTC)
        for k in range(max(days, 0) + 1)
    ]


class StoreUsage:
    """Usage from the readings store (telemetry) and the database (offline meters and
    replacements); see the module docstring."""

    def __init__(self, site: SiteConfig[Any], reader: BucketReader, db: Database):
        self.site = site
        self.reader = reader
        self.db = db
        self.tz = ZoneInfo(site.doc.site.timezone)

    # --- the Usage protocol ---------------------------------------------------------------

    def daily(self, meter: Meter, first: dt.date, last: dt.date) -> list[Use]:
        """One Use per local day from `first` to `last` (both included), in order."""
        if last < first:
            return []
        return self._uses(meter, day_edges(self.tz, first, last))

    def hourly(self, meter: Meter, start: dt.datetime, end: dt.datetime) -> list[Use]:
        """One Use per hour of [start, end) (whole hours, aware), in order."""
        lo, hi = _floor_hour(start), _ceil_hour(end)
        if hi <= lo:
            return []
        n = int((hi - lo) / HOUR)
        return self._uses(meter, [lo + k * HOUR for k in range(n + 1)])

    def temperature_daily(self, first: dt.date, last: dt.date) -> dict[dt.date, float | None]:
        """The outdoor temperature's daily mean (°C) per local day; None for a day without a
        good reading. Empty when the site has no outdoor-temperature point."""
        if self.site.doc.energy.outdoor_temperature is None or last < first:
            return {}
        edges = day_edges(self.tz, first, last)
        hours = self.temperature_hourly(edges[0], edges[-1])
        out: dict[dt.date, float | None] = {}
        for k in range(len(edges) - 1):
            i0 = int((edges[k] - edges[0]) / HOUR)
            i1 = int((edges[k + 1] - edges[0]) / HOUR)
            good = [v for v in hours[i0:i1] if v is not None]
            out[first + dt.timedelta(days=k)] = sum(good) / len(good) if good else None
        return out

    def temperature_hourly(self, start: dt.datetime, end: dt.datetime) -> list[float | None]:
        """The outdoor temperature's hourly mean per hour of [start, end)."""
        ref = self.site.doc.energy.outdoor_temperature
        lo, hi = _floor_hour(start), _ceil_hour(end)
        if hi <= lo:
            return []
        if ref is None:
            return [None] * int((hi - lo) / HOUR)
        out: list[float | None] = []
        for b in self._buckets(ref.asset, ref.point, micros(lo), micros(hi), "mean"):
            out.append(None if b.value is None else float(b.value))
        return out

    # --- the parts -----------------------------------------------------------------------

    def _uses(self, meter: Meter, edges: list[dt.datetime]) -> list[Use]:
        if meter.kind == "quantity":
            with self.db.session() as s:
                spans = [
                    (e.start, e.end, e.value)
                    for e in repository.entries(s, meter.id, start=edges[0], end=edges[-1])
                    if e.kind == "quantity" and e.start is not None and e.end is not None
                ]
            return spread(spans, edges)
        readings: list[Reading] = []
        gap = MAX_GAP
        with self.db.session() as s:
            swaps = [
                Replacement(r.at, r.old_final, r.new_initial)
                for r in repository.replacements(s, meter.id)
            ]
            if meter.source == "offline":
                gap = _NO_GAP
                readings = [
                    Reading(e.at, e.value)
                    for e in repository.readings_window(s, meter.id, edges[0], edges[-1])
                    if e.at is not None
                ]
        if meter.source == "telemetry":
            readings = list(self._counter(meter, edges[0], edges[-1]))
        used = consumption_by_period(readings, edges, max_gap=gap, replacements=swaps)
        return [_use(edges[i], edges[i + 1], c) for i, c in enumerate(used)]

    def _counter(self, meter: Meter, start: dt.datetime, end: dt.datetime) -> Iterator[Reading]:
        """The counter's value at each whole hour from the one at or before `start` to the one
        at or after `end` (see the module docstring); None where it was unavailable."""
        assert meter.point is not None
        lo, hi = _floor_hour(start), _ceil_hour(end)
        # Bucket k is (lo + (k-1) h, lo + k h] and says the value at lo + k h.
        first_us = micros(lo - HOUR) + _SHIFT_US
        last_us = micros(hi) + _SHIFT_US
        buckets = self._buckets(meter.id, meter.point, first_us, last_us, "last")
        for k, b in enumerate(buckets):
            if b.quality == "missing":
                continue
            t = lo + k * HOUR
            yield Reading(t, None if b.value is None else float(b.value))

    def _buckets(
        self, asset: str, point: str, start_us: int, end_us: int, agg: Any
    ) -> list[Bucket]:
        """Hourly buckets of [start_us, end_us), read in chunks of at most MAX_BUCKETS."""
        step = 3600
        out: list[Bucket] = []
        chunk = MAX_BUCKETS * step * 1_000_000
        lo = start_us
        while lo < end_us:
            hi = min(lo + chunk, end_us)
            try:
                out.extend(
                    self.reader.buckets(asset=asset, point=point, grid=Grid(lo, hi, step), agg=agg)
                )
            except ReadError as exc:
                raise StoreUnavailable(f"the readings store cannot be read: {exc}") from exc
            lo = hi
        return out


def _use(start: dt.datetime, end: dt.datetime, c: Consumption) -> Use:
    return Use(start, end, c.amount, c.estimated_seconds, c.missing_seconds)


def spread(
    spans: Sequence[tuple[dt.datetime, dt.datetime, float]], edges: Sequence[dt.datetime]
) -> list[Use]:
    """Quantities over [start, end) spread by time over the periods between edges; the time
    of a period no quantity covers is missing."""
    out: list[Use] = []
    for i in range(len(edges) - 1):
        lo, hi = edges[i], edges[i + 1]
        amount, covered = 0.0, []
        for s, e, v in spans:
            a, b = max(s, lo), min(e, hi)
            if b > a and e > s:
                amount += v * (b - a) / (e - s)
                covered.append((a, b))
        out.append(Use(lo, hi, amount, 0.0, (hi - lo).total_seconds() - _union(covered)))
    return out


def _union(parts: list[tuple[dt.datetime, dt.datetime]]) -> float:
    total, end = 0.0, None
    for a, b in sorted(parts):
        if end is not None and a < end:
            if b > end:
                total += (b - end).total_seconds()
                end = b
        else:
            total += (b - a).total_seconds()
            end = b
    return total


def app_usage(request: Request) -> Usage:
    """FastAPI dependency: the app's Usage, over its readings store and database."""
    return StoreUsage(request.app.state.site, request.app.state.readings, request.app.state.db)


#: The app's Usage in a route: ``usage: UsageDep``.
UsageDep = Annotated[Usage, Depends(app_usage)]
