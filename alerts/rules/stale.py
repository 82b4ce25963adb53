"""stale: no good reading for a duration, whether the device went silent or answers without a
usable value."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field

from alerts.rules.base import (
    OK,
    Context,
    Evaluator,
    Phrase,
    RuleBase,
    Verdict,
    duration_phrase,
    point_phrase,
)
from config.units import Duration


class StaleRule(RuleBase):
    """Fires when the point has had no good reading for ``after``."""

    type: Literal["stale"]
    after: Duration = Field(gt=0)

    def evaluator(self, ctx: Context) -> Evaluator:
        return _Stale(self.after)

    def describe(self) -> str:
        return f"no good {self.point} for {self.after:g}s"

    def phrase(self, unit: str = "") -> Phrase:
        return Phrase(
            "no good {point} reading for {duration}",
            {"point": point_phrase(self.point), "duration": duration_phrase(self.after)},
        )


class _Stale(Evaluator):
    # Every good value is quiet while the alert is inactive: only its time matters.
    quiet = (-math.inf, math.inf)
    timed = True

    def __init__(self, after: float):
        self.after = after
        #: The last good reading, or the first sign of the series (so a series is not stale
        #: merely because the engine has just started).
        self.last_good: float | None = None

    def observe(self, ts: float, value: float, active: bool) -> Verdict:
        self.last_good = ts
        return Verdict(False, value) if active else OK

    def missing(self, ts: float) -> Verdict | None:
        return self.tick(ts)

    def tick(self, now: float) -> Verdict | None:
        if self.last_good is None:
            self.last_good = now
            return None
        silent = now - self.last_good
        if silent >= self.after:
            return Verdict(True, None, f"no good reading for {silent:.0f} s")
        return None
