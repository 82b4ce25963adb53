"""rate_of_change: the point moves faster than a limit, e.g. a tank level falling 20 %/h or a
bearing temperature climbing 10 degrees per hour."""

from __future__ import annotations

from collections import deque
from typing import Literal

from pydantic import Field, model_validator

from alerts.rules.base import Context, Evaluator, RuleBase, Verdict
from config.units import Duration


class RateOfChangeRule(RuleBase):
    """Fires when the change over ``window``, scaled to ``per``, is above ``above`` (rising) or
    below ``below`` (falling: a negative number)."""

    type: Literal["rate_of_change"]
    window: Duration = Field(default=600.0, gt=0)
    per: Duration = Field(default=3600.0, gt=0)
    above: float | None = None
    below: float | None = None

    @model_validator(mode="after")
    def _one_limit(self) -> RateOfChangeRule:
        if (self.above is None) == (self.below is None):
            raise ValueError("give exactly one of 'above' or 'below'")
        return self

    def evaluator(self, ctx: Context) -> Evaluator:
        return _Rate(self)

    def describe(self) -> str:
        op, lim = (">", self.above) if self.above is not None else ("<", self.below)
        return f"change of {self.point} {op} {lim:g} per {self.per:g}s over {self.window:g}s"


class _Rate(Evaluator):
    def __init__(self, rule: RateOfChangeRule):
        self.rule = rule
        self.points: deque[tuple[float, float]] = deque()

    def observe(self, ts: float, value: float, active: bool) -> Verdict | None:
        pts = self.points
        pts.append((ts, value))
        while pts and pts[0][0] < ts - self.rule.window:
            pts.popleft()
        t0, v0 = pts[0]
        if ts - t0 < self.rule.window / 2:  # too short a span to call it a rate
            return None
        rate = (value - v0) / (ts - t0) * self.rule.per
        if self.rule.above is not None:
            return Verdict(rate > self.rule.above, rate, f"{rate:+.3g} per {self.rule.per:g}s")
        assert self.rule.below is not None
        return Verdict(rate < self.rule.below, rate, f"{rate:+.3g} per {self.rule.per:g}s")
