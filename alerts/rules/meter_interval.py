"""meter_interval: a counter (run hours, trips, starts) passing every N units opens a
preventive work order, e.g. pump service every 2,000 run hours or a lift every 50,000 trips."""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field

from alerts.rules.base import (
    Context,
    Evaluator,
    Phrase,
    RuleBase,
    Verdict,
    point_phrase,
    quantity,
)


class MeterIntervalRule(RuleBase):
    """Fires each time the counter passes a multiple of ``every`` (after ``offset``)."""

    type: Literal["meter_interval"]
    every: float = Field(gt=0)
    offset: float = 0.0

    def evaluator(self, ctx: Context) -> Evaluator:
        return _MeterInterval(self)

    def describe(self) -> str:
        return f"{self.point} passes every {self.every:g}"

    def phrase(self, unit: str = "") -> Phrase:
        return Phrase(
            "every {every} of {point}",
            {"point": point_phrase(self.point), "every": quantity(self.every, unit)},
        )


class _MeterInterval(Evaluator):
    instant = True

    def __init__(self, rule: MeterIntervalRule):
        self.rule = rule
        #: Multiples of ``every`` already served; None until the first reading (or restore).
        self.served: int | None = None

    def observe(self, ts: float, value: float, active: bool) -> Verdict | None:
        k = math.floor((value - self.rule.offset) / self.rule.every)
        if self.served is None or k < self.served:  # first sight, or the counter was reset
            self.served = k
            return None
        if k > self.served:
            self.served = k
            due = self.rule.offset + k * self.rule.every
            return Verdict(True, value, f"{self.rule.point} passed {due:g}")
        return Verdict(False, value)

    def snapshot(self) -> dict[str, Any] | None:
        return None if self.served is None else {"served": self.served}

    def restore(self, data: dict[str, Any]) -> None:
        if "served" in data:
            self.served = int(data["served"])
