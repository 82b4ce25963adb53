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

import datetime as dt
import itertools
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


def _used(a: Reading, b: Reading, replacements: Sequence[Replacement], out: Consumption) -> float:
    assert a.value is not None and b.value is not None
    swaps = [r for r in replacements if a.t < r.at <= b.t]
    if swaps:
        r = swaps[0]
        out.replacements.append(r.at)
        return max(r.old_final - a.value, 0.0) + max(b.value - r.new_initial, 0.0)
    if b.value < a.value:
        out.resets.append(b.t)
        return b.value
    return b.value - a.value


def consumption(
    readings: Iterable[Reading],
    start: dt.datetime,
    end: dt.datetime,
    *,
    max_gap: dt.timedelta = dt.timedelta(minutes=15),
    replacements: Sequence[Replacement] = (),
) -> Consumption:
    """What was used over [start, end) by the counter's readings (sorted by time or not)."""
    ordered = sorted(readings, key=lambda r: r.t)
    out = Consumption()
    good = [r for r in ordered if r.value is not None]
    period = (end - start).total_seconds()
    if not good:
        out.missing_seconds = max(period, 0.0)
        return out
    times_unavailable = [r.t for r in ordered if r.value is None]
    first, last = good[0].t, good[-1].t
    out.missing_seconds += max((min(first, end) - start).total_seconds(), 0.0)
    out.missing_seconds += max((end - max(last, start)).total_seconds(), 0.0)
    for a, b in itertools.pairwise(good):
        lo, hi = max(a.t, start), min(b.t, end)
        if hi <= lo:
            continue
        width = (b.t - a.t).total_seconds()
        share = (hi - lo).total_seconds() / width
        out.amount += _used(a, b, replacements, out) * share
        gap = b.t - a.t > max_gap or any(a.t < t < b.t for t in times_unavailable)
        if gap:
            out.estimated_seconds += (hi - lo).total_seconds()
    return out
