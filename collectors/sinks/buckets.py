"""The read side of the stores: one point's readings over a time range, in equal buckets.

A chart asks for a range [start, end) cut into buckets of `step` whole seconds, counted from
`start` (the last bucket ends at `end`, so it may be shorter). Each bucket answers:

- ``value``: the aggregate (mean, min, max, or the last by time) of the bucket's *good* numeric
  readings, or None when it has none: an unavailable, stale or out-of-range reading carries no
  usable number, and a failed read was never stored as 0 (collectors/readings.py);
- ``quality``: ``good`` when the bucket holds any good reading, else the quality of its last
  reading, else ``missing`` when nothing at all was stored in it (the collector was not
  running, or the point was not polled).

Each store aggregates in itself (the embedded store in SQL, InfluxDB in InfluxQL), so a week
of a point polled every 5 s (121,000 readings) never reaches Python row by row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal, Protocol, cast, get_args

from collectors.readings import Quality

Agg = Literal["mean", "min", "max", "last"]
AGGS: tuple[str, ...] = get_args(Agg)
#: The quality of a bucket in which nothing was stored.
MISSING = "missing"
#: Every quality a bucket can have: a reading's (collectors.readings.Quality) or MISSING.
BucketQuality = Literal["good", "unavailable", "out_of_range", "stale", "missing"]
QUALITIES: tuple[str, ...] = get_args(BucketQuality)
_READING_QUALITIES = frozenset(str(q) for q in Quality)
#: Most buckets one read may ask for.
MAX_BUCKETS = 5000
#: The longest step: 100 years of 365 days (InfluxDB's durations end at about 292 years).
MAX_STEP = 36500 * 86400
#: About how many buckets a range is cut into when no step is given.
DEFAULT_BUCKETS = 300
#: Steps a default step is rounded up to (seconds); past the last, whole weeks.
NICE_STEPS = (
    *(1, 2, 5, 10, 15, 30),
    *(60, 120, 300, 600, 900, 1800),
    *(3600, 7200, 10800, 21600, 43200),
    *(86400, 2 * 86400, 7 * 86400),
)
WEEK = 7 * 86400
_US = 1_000_000
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class ReadError(Exception):
    """The store could not be read (a server away, a file locked); nothing was answered."""


def micros(when: dt.datetime) -> int:
    """An aware datetime as whole microseconds since 1970 (exact, any year)."""
    return (when - _EPOCH) // dt.timedelta(microseconds=1)


def default_step(start_us: int, end_us: int) -> int:
    """The step for a range with none given: the range / DEFAULT_BUCKETS rounded up to the
    next of NICE_STEPS (then to whole weeks), so a range never gets more than DEFAULT_BUCKETS
    buckets: a day gets 5 min (288), a week 1 h (168), an hour 15 s (240)."""
    wanted = -(-(end_us - start_us) // (DEFAULT_BUCKETS * _US))  # whole seconds, rounded up
    for nice in NICE_STEPS:
        if nice >= wanted:
            return nice
    return -(-wanted // WEEK) * WEEK


@dataclass(frozen=True)
class Grid:
    """Buckets of `step` seconds from start_us (included) to end_us (excluded), in
    microseconds since 1970."""

    start_us: int
    end_us: int
    step: int

    def __post_init__(self) -> None:
        if self.end_us <= self.start_us or self.step < 1:
            raise ValueError("a grid needs start < end and a step of at least 1 s")

    @property
    def step_us(self) -> int:
        """The step in microseconds."""
        return self.step * _US

    @property
    def count(self) -> int:
        """How many buckets: the last one may be cut short by the end."""
        return -(-(self.end_us - self.start_us) // self.step_us)

    @property
    def start(self) -> float:
        """The start in UNIX seconds, as the embedded store keeps time."""
        return self.start_us / _US

    @property
    def end(self) -> float:
        """The end in UNIX seconds."""
        return self.end_us / _US

    def starts(self) -> list[dt.datetime]:
        """Each bucket's start, in UTC."""
        first = _EPOCH + dt.timedelta(microseconds=self.start_us)
        step = dt.timedelta(seconds=self.step)
        return [first + k * step for k in range(self.count)]


@dataclass(frozen=True)
class Bucket:
    """One bucket's aggregate of good readings (None without any) and its quality."""

    value: float | int | None
    quality: BucketQuality


EMPTY = Bucket(None, "missing")


def bucket(value: float | int | None, good: bool, last_quality: str | None) -> Bucket:
    """A bucket by the rules of the module docstring: good with any good reading, else the last
    reading's quality (unavailable for one no Quality names), else missing."""
    if good:
        return Bucket(value, "good")
    if last_quality is None:
        return EMPTY
    if last_quality not in _READING_QUALITIES:
        last_quality = str(Quality.unavailable)
    return Bucket(None, cast(BucketQuality, last_quality))


class BucketReader(Protocol):
    """A store's read side: one point of one asset, all its devices together, in buckets."""

    name: str

    def buckets(self, *, asset: str, point: str, grid: Grid, agg: Agg) -> list[Bucket]:
        """One Bucket per bucket of the grid, in time order; ReadError when the store cannot be
        read."""

    def close(self) -> None:
        """Release connections."""
