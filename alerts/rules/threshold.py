"""threshold: a value above (or below) a limit, with a separate clear level (hysteresis)."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import model_validator

from alerts.rules.base import (
    OK,
    Context,
    Evaluator,
    Phrase,
    RuleBase,
    Verdict,
    duration_phrase,
    point_phrase,
    quantity,
)


class ThresholdRule(RuleBase):
    """Fires when the point stays beyond the limit for ``for``; clears at ``clear``."""

    type: Literal["threshold"]
    above: float | None = None
    below: float | None = None
    #: The level at which an active alert clears; defaults to the limit itself.
    clear: float | None = None

    @model_validator(mode="after")
    def _one_limit(self) -> ThresholdRule:
        if (self.above is None) == (self.below is None):
            raise ValueError("give exactly one of 'above' or 'below'")
        if self.clear is not None:
            if self.above is not None and self.clear > self.above:
                raise ValueError("'clear' must not be above 'above'")
            if self.below is not None and self.clear < self.below:
                raise ValueError("'clear' must not be below 'below'")
        return self

    def breached(self, value: float, active: bool = False) -> bool:
        """Beyond the limit; once active, beyond the clear level."""
        if self.above is not None:
            level = self.clear if active and self.clear is not None else self.above
            return value > level
        assert self.below is not None
        level = self.clear if active and self.clear is not None else self.below
        return value < level

    def evaluator(self, ctx: Context) -> Evaluator:
        return _Threshold(self)

    def describe(self) -> str:
        op, lim = (">", self.above) if self.above is not None else ("<", self.below)
        return f"{self.point} {op} {lim:g} for {self.for_:g}s"

    def phrase(self, unit: str = "") -> Phrase:
        above = self.above is not None
        limit = self.above if self.above is not None else self.below
        assert limit is not None
        values = {
            "point": point_phrase(self.point),
            "limit": quantity(limit, unit),
            "duration": duration_phrase(self.for_),
        }
        if self.for_ <= 0:
            if above:
                return Phrase("{point} above {limit}", values)
            return Phrase("{point} below {limit}", values)
        if above:
            return Phrase("{point} above {limit} for {duration}", values)
        return Phrase("{point} below {limit} for {duration}", values)

    def level(self) -> float | None:
        limit = self.above if self.above is not None else self.below
        assert limit is not None
        return limit


class _Threshold(Evaluator):
    def __init__(self, rule: ThresholdRule):
        self.rule = rule
        limit = rule.above if rule.above is not None else rule.below
        assert limit is not None
        self.rising = rule.above is not None
        self.limit = limit
        self.clear = limit if rule.clear is None else rule.clear
        self.quiet = (-math.inf, limit) if self.rising else (limit, math.inf)

    def observe(self, ts: float, value: float, active: bool) -> Verdict:
        # The rule's breached(), unrolled: this runs for every reading of every series.
        level = self.clear if active else self.limit
        if value > level if self.rising else value < level:
            return Verdict(True, value)
        return Verdict(False, value) if active else OK
