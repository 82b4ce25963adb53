"""Threshold rule: a value above (or below) a limit for a duration."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from alerts.rules.base import RuleBase
from config.units import Duration


class ThresholdRule(RuleBase):
    """Fires when the point stays beyond the limit for ``for``; clears at ``clear`` (hysteresis)."""

    type: Literal["threshold"]
    above: float | None = None
    below: float | None = None
    for_: Duration = Field(default=0.0, alias="for")
    #: The level at which a firing alert clears; defaults to the limit itself.
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

    def breached(self, value: float) -> bool:
        """True when value is beyond the limit."""
        if self.above is not None:
            return value > self.above
        assert self.below is not None
        return value < self.below

    def cleared(self, value: float) -> bool:
        """True when value is back on the good side of the clear level."""
        if self.above is not None:
            level = self.above if self.clear is None else self.clear
            return value <= level
        assert self.below is not None
        level = self.below if self.clear is None else self.clear
        return value >= level

    def describe(self) -> str:
        """Human summary, e.g. 'motor_current > 28 for 30s'."""
        op, lim = (">", self.above) if self.above is not None else ("<", self.below)
        return f"{self.point} {op} {lim:g} for {self.for_:g}s"
