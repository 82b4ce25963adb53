"""A period of the simulated building's readings, timestamped in the past, written to sinks.

The models are the live simulator's (``build_models``), stepped at the readings' own
timestamps, with t0 at the start of the period: a scripted fault ``start: 15d`` begins 15 days
into the history. Each value goes through the same arithmetic as a live poll (the register's
rounding, scale and offset, the point's sentinels and valid range), so a stored history looks
like what the collector would have stored: a 'bit' point is 1.0 or 0.0, an integer register
is quantised (and stays an exact int when it has no scale or offset: Point.integral), and a
device under a 'silent' fault yields 'unavailable' readings with no value.

Speed matters: a year of the demo site at one reading a minute is 122 million readings. Per
device and instant, the plain float registers (most of a meter's map) are fetched from the
model's values with one ``itemgetter`` and rounded with one struct pack and unpack; per reading
the loop then builds one ``Reading`` (a named tuple). The sinks get ~50,000 readings per write.
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
import operator
import struct
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TextIO, cast
from zoneinfo import ZoneInfo

from collectors.readings import Quality, Reading
from collectors.simulator.models import MODELS, DeviceModel, build_models
from collectors.sinks import Sink
from collectors.sinks.embedded import EmbeddedStore
from config.profile import Point, PointType
from config.site import DeviceRef, SiteConfig

#: Readings handed to the sinks per write: one transaction of the embedded store, one HTTP
#: request to InfluxDB. Larger batches amortise the store's page writes per series.
BATCH = 50_000
#: Default step of a history, in seconds, unless each point's poll interval is longer. The
#: demo polls every 5 s; at that rate a year is 1.5 billion readings (hours to generate and
#: about 40 GB of SQLite), while one reading a minute per point keeps a year of the demo
#: site to minutes and still shows every daily curve and scripted fault.
DEFAULT_STEP = 60.0

Value = float | int | str | None
Instant = float | dt.datetime
_GOOD = Quality.good
_UNAVAILABLE = Quality.unavailable
_OUT_OF_RANGE = Quality.out_of_range
_F32 = struct.Struct(">f")
_INT_BITS = {
    PointType.int16: (16, True),
    PointType.uint16: (16, False),
    PointType.int32: (32, True),
    PointType.uint32: (32, False),
    PointType.int64: (64, True),
    PointType.uint64: (64, False),
}


@dataclass(frozen=True)
class Progress:
    """How far a history has got, reported after every batch written and once at the end."""

    #: 0..1 of the simulated period done.
    fraction: float
    #: Readings written so far.
    readings: int
    #: Wall-clock seconds since the start.
    elapsed: float


@dataclass(frozen=True)
class HistoryResult:
    """What a finished history wrote."""

    readings: int
    start: float
    end: float
    seconds: float


# --- one point: the live poll's arithmetic ---------------------------------------------------

#: Engineering value from the model -> (stored value, quality) as a live poll would decode it.
Convert = Callable[[float | str | bool], tuple[Value, Quality]]
#: Bounds that let every finite value through but stop infinities.
_FINITE = (-sys.float_info.max, sys.float_info.max)


def _raw_number(point: Point) -> Callable[[float], float | int]:
    """The register's raw value for an engineering value, rounded as the register holds it."""
    scale, offset = point.scale, point.offset
    if point.type in _INT_BITS:
        bits, signed = _INT_BITS[point.type]
        lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
        if not scale:
            return lambda v: 0
        if point.integral:  # an int from the model stays exact: no trip through a float
            return lambda v: min(max(v if isinstance(v, int) else round(v), lo), hi)
        return lambda v: min(max(round((v - offset) / scale), lo), hi)
    if not scale:
        return lambda v: 0.0
    if point.type is PointType.float32:
        pack, unpack = _F32.pack, _F32.unpack
        return lambda v: unpack(pack((v - offset) / scale))[0]
    return lambda v: (v - offset) / scale


def converter(point: Point) -> Convert:
    """What the collector stores for a model value of this point (simulator encode, decode)."""
    if point.type in (PointType.bool, PointType.bit):
        return lambda v: (1.0 if v else 0.0, _GOOD)
    if point.type is PointType.string:
        width = 2 * (point.length or 1)
        return lambda v: (str(v)[:width].split("\0", 1)[0].strip(), _GOOD)
    raw_of = _raw_number(point)
    scale, offset = point.scale, point.offset
    integral = point.integral
    sentinels = set(point.sentinels)
    lo = -math.inf if point.min is None else point.min
    hi = math.inf if point.max is None else point.max

    def convert(v: float | str | bool) -> tuple[Value, Quality]:
        try:
            raw = raw_of(v)  # type: ignore[arg-type]  # a str fails here, as in the encoder
        except (TypeError, ValueError, OverflowError, struct.error):
            return None, _UNAVAILABLE
        if raw in sentinels or not math.isfinite(raw):
            return None, _UNAVAILABLE
        value = raw if integral else raw * scale + offset
        return value, (_GOOD if lo <= value <= hi else _OUT_OF_RANGE)

    return convert


def _packed(point: Point) -> bool:
    """A float register read as is: a whole device's worth converts in one struct round trip."""
    return (
        point.type in (PointType.float32, PointType.float64)
        and point.scale == 1.0
        and point.offset == 0.0
        and not point.sentinels
    )


# --- the schedule ----------------------------------------------------------------------------


@dataclass
class _Feed:
    """Points of one device read together at one interval (a poll group, or every point)."""

    device: str
    asset: str
    model: DeviceModel
    interval: float
    #: Whether the device has a scripted 'silent' fault at all (most have none).
    may_fall_silent: bool
    #: Plain float points: their values from the model's dict in one call, rounded to the
    #: register's width by one struct pack and unpack, then checked against (lo, hi).
    packed_get: Callable[[dict[str, float | str | bool]], tuple[float | str | bool, ...]]
    packed_struct: struct.Struct
    packed: list[tuple[str, str, float, float]]
    #: Every other point, one by one: (name, unit, convert).
    each: list[tuple[str, str, Convert]]
    #: Every point, for the slow path and for unavailable readings.
    every: list[tuple[str, str, Convert]]


def _getter(
    names: list[str],
) -> Callable[[dict[str, float | str | bool]], tuple[float | str | bool, ...]]:
    """values -> tuple of values[name] (KeyError when one is missing), for any number of names."""
    if len(names) == 1:
        name = names[0]
        return lambda values: (values[name],)
    if not names:
        return lambda values: ()
    return cast(
        Callable[[dict[str, float | str | bool]], tuple[float | str | bool, ...]],
        operator.itemgetter(*names),
    )


def _feeds(
    refs: Sequence[DeviceRef], models: dict[str, DeviceModel], step: float | None
) -> list[_Feed]:
    """One feed per device and poll interval."""
    feeds: list[_Feed] = []
    for ref in refs:
        d, profile = ref.device, ref.profile
        by_interval: dict[float, list[Point]] = {}
        for p in profile.points:
            if step is not None:
                interval = step
            else:
                # As the collector: 'default' is the device's interval, other groups the profile's.
                polled = (
                    d.poll_interval
                    if p.group == "default"
                    else profile.groups.get(p.group, d.poll_interval)
                )
                interval = max(polled, DEFAULT_STEP)
            by_interval.setdefault(interval, []).append(p)
        model = models[d.id]
        silent = any(f.kind == "silent" for f in model.faults.faults)
        for interval, points in by_interval.items():
            packed = [p for p in points if _packed(p)]
            fmt = ">" + "".join("f" if p.type is PointType.float32 else "d" for p in packed)
            feeds.append(
                _Feed(
                    device=d.id,
                    asset=ref.asset.asset.id,
                    model=model,
                    interval=interval,
                    may_fall_silent=silent,
                    packed_get=_getter([p.name for p in packed]),
                    packed_struct=struct.Struct(fmt),
                    packed=[
                        (
                            p.name,
                            p.unit,
                            _FINITE[0] if p.min is None else p.min,
                            _FINITE[1] if p.max is None else p.max,
                        )
                        for p in packed
                    ],
                    each=[(p.name, p.unit, converter(p)) for p in points if not _packed(p)],
                    every=[(p.name, p.unit, converter(p)) for p in points],
                )
            )
    return feeds


def parse_instant(text: str, timezone: str) -> dt.datetime:
    """'2026-01-01' (midnight) or an ISO datetime; without an offset it is in ``timezone``."""
    text = text.strip()
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(
            f"{text!r} is not a date ({exc}); use e.g. 2026-01-01 or 2026-01-01T08:00"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo(timezone))
    return when


def _seconds(t: Instant) -> float:
    if isinstance(t, dt.datetime):
        if t.tzinfo is None:
            raise ValueError("a naive datetime is ambiguous; give it a time zone")
        return t.timestamp()
    return float(t)


def generate(
    site: SiteConfig,
    start: Instant,
    end: Instant,
    *,
    step: float | None = None,
    batch: int = BATCH,
    counters: Mapping[str, Mapping[str, float]] | None = None,
    health_every: float | None = None,
) -> Iterator[tuple[list[Reading], float]]:
    """Readings of every device from start (inclusive) to end (exclusive), in time order.

    Yields (batch of about ``batch`` readings, simulated time reached). Each point is read every
    ``step`` seconds, or by default at its poll interval but no more often than DEFAULT_STEP;
    timestamps are start + k * interval. Scripted faults are timed from start. `counters`
    (device -> point -> value) carries the devices' counters on from a history stored before.
    ``health_every``: also the collector's own health records (measurement collector_health,
    as collectors.health writes them live) every so many seconds: each device's state (ok, or
    unavailable while a 'silent' fault holds) and the time of its last answered poll.
    """
    t_start, t_end = _seconds(start), _seconds(end)
    if not t_end > t_start:
        raise ValueError("the end of a history must come after its start")
    if step is not None and not step > 0:
        raise ValueError("the step must be longer than 0 s")
    models = build_models(site, t_start, counters=counters)
    feeds = _feeds(site.devices(), models, step)
    # A heap of (next tick, feed index, tick number): readings come out in time order, and
    # start + k * interval rather than a running sum keeps the grid exact over a year.
    heap = [(t_start, i, 0) for i in range(len(feeds))]
    heapq.heapify(heap)
    out: list[Reading] = []
    append = out.append
    next_health = t_start + health_every if health_every else math.inf
    answered: dict[str, bool] = {}
    last_good: dict[str, float] = {}
    # Reading(...) without the named tuple's keyword handling: a third cheaper per reading.
    new, reading = tuple.__new__, Reading
    good, out_of_range, measurement = _GOOD, _OUT_OF_RANGE, "readings"
    while heap:
        t, i, k = heap[0]
        if t >= t_end:
            break
        while next_health <= t:
            out += health_records(next_health, answered, last_good, health_every or 0.0)
            append = out.append
            next_health += health_every or math.inf
        f = feeds[i]
        heapq.heapreplace(heap, (t_start + (k + 1) * f.interval, i, k + 1))
        dev, asset = f.device, f.asset
        silent = f.may_fall_silent and f.model.faults.silent(t)
        answered[dev] = not silent
        if not silent:
            last_good[dev] = t
        if silent:
            # As live: the device does not answer, its model is not asked, and the collector
            # stores every point as unavailable.
            for name, unit, _ in f.every:
                append(new(reading, (t, asset, dev, name, None, unit, _UNAVAILABLE, measurement)))
        else:
            values = f.model.step(t)
            try:
                st = f.packed_struct
                nums = st.unpack(st.pack(*f.packed_get(values)))
            except (KeyError, TypeError, OverflowError, struct.error):
                # A point the model does not give (the register reads 0), a text value or an
                # overflow: every point of this tick the slow, exact way.
                for name, unit, conv in f.every:
                    value, q = conv(values.get(name, 0))
                    append(new(reading, (t, asset, dev, name, value, unit, q, measurement)))
            else:
                for (name, unit, lo, hi), v in zip(f.packed, nums, strict=True):
                    if lo <= v <= hi:
                        append(new(reading, (t, asset, dev, name, v, unit, good, measurement)))
                    else:
                        value, q = (v, out_of_range) if math.isfinite(v) else (None, _UNAVAILABLE)
                        append(new(reading, (t, asset, dev, name, value, unit, q, measurement)))
                for name, unit, conv in f.each:
                    value, q = conv(values.get(name, 0))
                    append(new(reading, (t, asset, dev, name, value, unit, q, measurement)))
        if len(out) >= batch:
            yield out, t
            out = []
            append = out.append
    if out:
        yield out, t_end


def health_records(
    ts: float, answered: Mapping[str, bool], last_good: Mapping[str, float], interval: float
) -> list[Reading]:
    """The health records a collector polling the simulated devices would have written at ts
    (collectors.health.records: heartbeat, device_state, device_last_good)."""
    from collectors.health import ASSET, COLLECTOR, MEASUREMENT

    def rec(subject: str, point: str, value: float | str) -> Reading:
        return Reading(ts, ASSET, subject, point, value, "", _GOOD, MEASUREMENT)

    out = [rec(COLLECTOR, "heartbeat", float(interval))]
    for dev, ok in answered.items():
        out.append(rec(dev, "device_state", "ok" if ok else "unavailable"))
        if dev in last_good:
            out.append(rec(dev, "device_last_good", last_good[dev]))
    return out


def write_history(
    site: SiteConfig,
    start: Instant,
    end: Instant,
    sinks: Sequence[Sink],
    *,
    step: float | None = None,
    batch: int = BATCH,
    progress: Callable[[Progress], None] | None = None,
    counters: Mapping[str, Mapping[str, float]] | None = None,
    health_every: float | None = None,
) -> HistoryResult:
    """Generate the period's readings and write each batch to every sink; report progress."""
    t_start, t_end = _seconds(start), _seconds(end)
    clock = time.monotonic
    began = clock()
    written = 0
    fraction = 0.0
    for readings, reached in generate(
        site, t_start, t_end, step=step, batch=batch, counters=counters, health_every=health_every
    ):
        for sink in sinks:
            sink.write(readings)
        written += len(readings)
        fraction = min((reached - t_start) / (t_end - t_start), 1.0)
        if progress is not None:
            progress(Progress(fraction, written, clock() - began))
    if progress is not None and fraction < 1.0:
        progress(Progress(1.0, written, clock() - began))  # the last batch was exactly full
    return HistoryResult(written, t_start, t_end, clock() - began)


# --- the progress bar ------------------------------------------------------------------------


def _clock_text(seconds: float) -> str:
    s = int(seconds + 0.5)
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s}s"


class ProgressBar:
    """Progress on a stream: a bar redrawn in place on a terminal, a line every 10% otherwise.

    Call it with each Progress; call ``close()`` at the end to finish the line.
    """

    WIDTH = 24

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        tty: bool | None = None,
        min_interval: float = 0.1,
        unit: str = "readings",
    ):
        self.stream = sys.stderr if stream is None else stream
        #: What the count counts: readings, work orders, months.
        self.unit = unit
        self.tty = self.stream.isatty() if tty is None else tty
        self.min_interval = min_interval
        self._last_draw = -math.inf
        self._next_tenth = 1
        self._drawn = False

    def line(self, p: Progress) -> str:
        """'42.0%  1,234,567 readings  512,345/s  ETA 1m05s' (readings: the bar's unit)."""
        rate = p.readings / p.elapsed if p.elapsed > 0 else 0.0
        if p.fraction >= 1.0:
            eta = "done"
        elif p.fraction > 0 and p.elapsed > 0:
            eta = "ETA " + _clock_text(p.elapsed * (1 - p.fraction) / p.fraction)
        else:
            eta = "ETA -"
        return f"{p.fraction:6.1%}  {p.readings:,} {self.unit}  {rate:,.0f}/s  {eta}"

    def __call__(self, p: Progress) -> None:
        if not self.tty:
            if p.fraction * 10 + 1e-9 >= self._next_tenth:
                self._next_tenth = int(p.fraction * 10 + 1e-9) + 1
                print(self.line(p), file=self.stream, flush=True)
            return
        now = time.monotonic()
        if p.fraction < 1.0 and now - self._last_draw < self.min_interval:
            return
        self._last_draw = now
        filled = int(self.WIDTH * p.fraction)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        self.stream.write(f"\r[{bar}] {self.line(p)}\x1b[K")
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        """End the bar's line, so that what follows starts on a new one."""
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False


# --- carrying on from a stored history -------------------------------------------------------


def stored_registers(
    site: SiteConfig, store: EmbeddedStore
) -> tuple[dict[str, dict[str, float]], float | None]:
    """Each simulated device's counters as last stored (device -> point -> value), for
    `build_models(counters=...)`: what a real meter shows after a restart; and when the newest
    of those readings was taken (UNIX seconds), None when the store holds none."""
    counters: dict[str, dict[str, float]] = {}
    newest: float | None = None
    for ref in site.devices():
        model = MODELS.get(ref.profile.simulator or "")
        for point in getattr(model, "COUNTERS", {}):
            r = store.latest(ref.asset.asset.id, point)
            if r is None:
                continue
            if newest is None or r.ts > newest:
                newest = r.ts
            if r.number is not None:
                counters.setdefault(ref.device.id, {})[point] = float(r.number)
    return counters, newest


def stored_counters(site: SiteConfig, store: EmbeddedStore) -> dict[str, dict[str, float]]:
    """Each simulated device's counters as last stored (stored_registers)."""
    return stored_registers(site, store)[0]


def last_stored(site: SiteConfig, store: EmbeddedStore) -> float | None:
    """When the newest stored counter reading was taken (stored_registers)."""
    return stored_registers(site, store)[1]
