"""counter_increase: a counter rises by at least N within a window, e.g. door faults +3 in 1 h."""

from __future__ import annotations

from collections import deque
from typing import Literal

from pydantic import Field

from alerts.rules.base import (
    Context,
    Evaluator,
    Phrase,
    RuleBase,
    Verdict,
    duration_phrase,
    point_phrase,
    quantity,
)
from config.units import Duration


class CounterIncreaseRule(RuleBase):
    """Fires when the counter rose by ``increase`` or more within ``within``. A counter that
    goes down (a device reset) starts counting afresh."""

    type: Literal["counter_increase"]
    increase: float = Field(gt=0)
    within: Duration = Field(gt=0)

    def evaluator(self, ctx: Context) -> Evaluator:
        return _Increase(self)

    def describe(self) -> str:
        return f"{self.point} +{self.increase:g} within {self.within:g}s"

    def phrase(self, unit: str = "") -> Phrase:
        return Phrase(
            "{point} up by {increase} or more within {duration}",
            {
                "point": point_phrase(self.point),
                "increase": quantity(self.increase, unit),
                "duration": duration_phrase(self.within),
            },
        )


class _Increase(Evaluator):
    def __init__(self, rule: CounterIncreaseRule):
        self.rule = rule
        self.points: deque[tuple[float, float]] = deque()

    def observe(self, ts: float, value: float, active: bool) -> Verdict:
        pts = self.points
        if pts and value < pts[-1][1]:
            pts.clear()  # reset or rollover
        pts.append((ts, value))
        while pts[0][0] < ts - self.rule.within:
            pts.popleft()
        rise = value - pts[0][1]  # a counter only rises between resets
        return Verdict(rise >= self.rule.increase, rise, f"+{rise:g} in {self.rule.within:g}s")
