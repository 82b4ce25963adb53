"""rate_of_change: the point moves faster than a limit, e.g. a tank level falling 20 %/h or a
bearing temperature climbing 10 degrees per hour."""

from __future__ import annotations

import math
from collections import deque
from typing import Literal

from pydantic import Field, model_validator

from alerts.rules.base import (
    OK,
    Context,
    Evaluator,
    Phrase,
    RuleBase,
    Verdict,
    duration_phrase,
    per_phrase,
    point_phrase,
    quantity,
)
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

    def phrase(self, unit: str = "") -> Phrase:
        limit = self.above if self.above is not None else self.below
        assert limit is not None
        values = {
            "point": point_phrase(self.point),
            "rate": quantity(abs(limit), unit),
            "per": per_phrase(self.per),
            "window": duration_phrase(self.window),
        }
        if self.above is not None:
            if self.above >= 0:
                return Phrase("{point} rising by more than {rate} per {per}, over {window}", values)
            return Phrase("{point} falling by less than {rate} per {per}, over {window}", values)
        if limit <= 0:
            return Phrase("{point} falling by more than {rate} per {per}, over {window}", values)
        return Phrase("{point} rising by less than {rate} per {per}, over {window}", values)


class _Rate(Evaluator):
    """Keeps one point per twentieth of the window: the rate is measured from the oldest kept
    point, at most a twentieth of a window younger than the window itself."""

    def __init__(self, rule: RateOfChangeRule):
        self.rule = rule
        self.points: deque[tuple[float, float]] = deque()
        self.window, self.half, self.per = rule.window, rule.window / 2, rule.per
        self.step = rule.window / 20
        self.next_keep = -math.inf
        self.rising = rule.above is not None
        limit = rule.above if rule.above is not None else rule.below
        assert limit is not None
        self.limit = limit

    def observe(self, ts: float, value: float, active: bool) -> Verdict | None:
        pts = self.points
        if ts >= self.next_keep:
            pts.append((ts, value))
            self.next_keep = ts + self.step
            start = ts - self.window
            while pts[0][0] < start:
                pts.popleft()
        t0, v0 = pts[0]
        if ts - t0 < self.half:  # too short a span to call it a rate
            return None
        rate = (value - v0) / (ts - t0) * self.per
        breach = rate > self.limit if self.rising else rate < self.limit
        if not breach and not active:
            return OK
        return Verdict(breach, rate, f"{rate:+.3g} per {self.per:g}s")
