"""Consumption from energy and volume counters: the difference of the counter, never an integral
of power (DOMAIN.md), with counter resets, meter replacements and gaps handled and said.

Between two good readings a and b the meter used b - a, spread evenly over (a.t, b.t]: a period
that cuts the interval gets its share by time. When the counter went backwards, it restarted
from zero (a reset, or a meter replaced without a record): the interval used b. A recorded
replacement at r between them used (the old meter's final reading - a) + (b - the new meter's
first reading). An interval longer than `max_gap`, or with unavailable readings inside it, is a
gap: its share is an estimate, and the result says how many seconds of the period were
estimated. Before the first and after the last good reading nothing is known: those seconds are
`missing`, and their consumption is not guessed.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Reading:
    """A counter reading at `t`; None when the device could not be read (unavailable)."""

    t: dt.datetime
    value: float | None


@dataclass(frozen=True)
class Replacement:
    """A meter swapped at `at`: the old one's last reading and the new one's first."""

    at: dt.datetime
    old_final: float
    new_initial: float


@dataclass
class Consumption:
    """What a counter says was used over a period, and how much of it is known."""

    amount: float = 0.0
    estimated_seconds: float = 0.0
    missing_seconds: float = 0.0
    resets: list[dt.datetime] = field(default_factory=list)
    replacements: list[dt.datetime] = field(default_factory=list)

    def estimated_share(self, start: dt.datetime, end: dt.datetime) -> float:
        """The part of the period (0-1) whose consumption is estimated or unknown."""
        span = (end - start).total_seconds()
        return 0.0 if span <= 0 else (self.estimated_seconds + self.missing_seconds) / span


def _used(
    a: Reading, b: Reading, replacements: Sequence[Replacement]
) -> tuple[float, str | None, dt.datetime | None]:
    """What the counter used from a to b, and the event between them: ("replacement", its
    time), ("reset", b's time) or (None, None)."""
    assert a.value is not None and b.value is not None
    swaps = [r for r in replacements if a.t < r.at <= b.t]
    if swaps:
        r = swaps[0]
        used = max(r.old_final - a.value, 0.0) + max(b.value - r.new_initial, 0.0)
        return used, "replacement", r.at
    if b.value < a.value:
        return b.value, "reset", b.t
    return b.value - a.value, None, None


def consumption_by_period(
    readings: Iterable[Reading],
    edges: Sequence[dt.datetime],
    *,
    max_gap: dt.timedelta = dt.timedelta(minutes=15),
    replacements: Sequence[Replacement] = (),
) -> list[Consumption]:
    """What was used in each period [edges[i], edges[i+1]) (edges increasing), in one pass
    over the readings (sorted by time or not): the same figures as `consumption` per period,
    without reading the counter once per period. A reset or replacement is told by the period
    it happened in."""
    periods = len(edges) - 1
    out = [Consumption() for _ in range(max(periods, 0))]
    if periods < 1:
        return out
    ordered = sorted(readings, key=lambda r: r.t)
    good = [r for r in ordered if r.value is not None]
    if not good:
        for i, c in enumerate(out):
            c.missing_seconds = max((edges[i + 1] - edges[i]).total_seconds(), 0.0)
        return out
    first, last = good[0].t, good[-1].t
    for i, c in enumerate(out):
        lo, hi = edges[i], edges[i + 1]
        c.missing_seconds += max((min(first, hi) - lo).total_seconds(), 0.0)
        c.missing_seconds += max((hi - max(last, lo)).total_seconds(), 0.0)
    prev: Reading | None = None
    unavailable_since_prev = False
    for b in ordered:
        if b.value is None:
            unavailable_since_prev = prev is not None
            continue
        a, prev, bridged = prev, b, unavailable_since_prev
        unavailable_since_prev = False
        if a is None or b.t <= edges[0] or a.t >= edges[-1] or b.t <= a.t:
            continue
        gap = bridged or b.t - a.t > max_gap
        width = (b.t - a.t).total_seconds()
        used, event, at = _used(a, b, replacements)
        i = max(bisect.bisect_right(edges, a.t) - 1, 0)
        touched: list[int] = []
        while i < periods and edges[i] < b.t:
            lo, hi = max(a.t, edges[i]), min(b.t, edges[i + 1])
            if hi > lo:
                seconds = (hi - lo).total_seconds()
                out[i].amount += used * seconds / width
                if gap:
                    out[i].estimated_seconds += seconds
                touched.append(i)
            i += 1
        if event is not None and at is not None and touched:
            k = min(max(bisect.bisect_right(edges, at) - 1, touched[0]), touched[-1])
            (out[k].resets if event == "reset" else out[k].replacements).append(at)
    return out


def consumption(
    readings: Iterable[Reading],
    start: dt.datetime,
    end: dt.datetime,
    *,
    max_gap: dt.timedelta = dt.timedelta(minutes=15),
    replacements: Sequence[Replacement] = (),
) -> Consumption:
    """What was used over [start, end) by the counter's readings (sorted by time or not)."""
    if end <= start:
        return Consumption()
    return consumption_by_period(
        readings, [start, end], max_gap=max_gap, replacements=replacements
    )[0]
