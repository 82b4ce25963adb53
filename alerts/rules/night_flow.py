"""night_flow: the leak detector. An office building's water main should almost stop at night;
a minimum flow above a level, night after night, is water running somewhere."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import Field, field_validator

from alerts.rules.base import (
    Context,
    Evaluator,
    Phrase,
    RuleBase,
    Verdict,
    number,
    point_phrase,
    quantity,
)


class NightFlowRule(RuleBase):
    """Fires after ``nights`` consecutive nights whose minimum flow within ``window`` (local
    time, e.g. '01:00-05:00') stayed above ``above``. A night's verdict is given when its window
    ends; a night with fewer than ``min_samples`` readings says nothing."""

    type: Literal["night_flow"]
    window: str = "01:00-05:00"
    above: float
    nights: int = Field(default=2, ge=1)
    min_samples: int = Field(default=3, ge=1)

    @field_validator("window")
    @classmethod
    def _window(cls, v: str) -> str:
        try:
            a, b = (dt.time.fromisoformat(x.strip()) for x in v.split("-"))
        except ValueError as exc:
            raise ValueError("window must look like 01:00-05:00") from exc
        if a >= b:
            raise ValueError("window must start before it ends, within one night")
        return v

    def bounds(self) -> tuple[dt.time, dt.time]:
        """Start and end of the nightly window."""
        a, b = (dt.time.fromisoformat(x.strip()) for x in self.window.split("-"))
        return a, b

    def evaluator(self, ctx: Context) -> Evaluator:
        return _NightFlow(self, ctx)

    def describe(self) -> str:
        return f"minimum {self.point} {self.window} above {self.above:g} for {self.nights} nights"

    def level(self) -> float | None:
        return self.above

    def phrase(self, unit: str = "") -> Phrase:
        start, end = self.bounds()
        values = {
            "point": point_phrase(self.point),
            "start": f"{start:%H:%M}",
            "end": f"{end:%H:%M}",
            "limit": quantity(self.above, unit),
            "nights": number(self.nights),
        }
        if self.nights == 1:
            return Phrase("lowest {point} between {start} and {end} above {limit}", values)
        return Phrase(
            "lowest {point} between {start} and {end} above {limit}, {nights} nights in a row",
            values,
        )


class _NightFlow(Evaluator):
    def __init__(self, rule: NightFlowRule, ctx: Context):
        self.rule = rule
        self.ctx = ctx
        self.start, self.end = rule.bounds()
        self.night: dt.date | None = None  # the window being watched
        self.minimum = float("inf")
        self.samples = 0
        self.streak = 0
        self.last: Verdict | None = None

    def _close(self) -> Verdict | None:
        """The watched night's window is over: judge it."""
        if self.night is None:
            return None
        night, self.night = self.night, None
        if self.samples < self.rule.min_samples:
            return None
        leak = self.minimum > self.rule.above
        self.streak = self.streak + 1 if leak else 0
        self.last = Verdict(
            self.streak >= self.rule.nights,
            self.minimum,
            f"night of {night}: minimum {self.minimum:.3g}, {self.streak} night(s) in a row",
        )
        return self.last

    def _at(self, ts: float) -> Verdict | None:
        local = self.ctx.local(ts)
        t = local.time()
        verdict = None
        if self.night is not None and (local.date() != self.night or t >= self.end):
            verdict = self._close()
        if self.start <= t < self.end and self.night is None:
            self.night, self.minimum, self.samples = local.date(), float("inf"), 0
        return verdict

    def observe(self, ts: float, value: float, active: bool) -> Verdict | None:
        verdict = self._at(ts)
        if self.night is not None:
            self.minimum = min(self.minimum, value)
            self.samples += 1
        return verdict

    def missing(self, ts: float) -> Verdict | None:
        return self._at(ts)

    def tick(self, now: float) -> Verdict | None:
        return self._at(now)

    def snapshot(self) -> dict[str, Any] | None:
        # The streak spans days: a restart between two leaking nights must not reset it.
        return {"streak": self.streak}

    def restore(self, data: dict[str, Any]) -> None:
        self.streak = int(data.get("streak", 0))
