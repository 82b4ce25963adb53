"""baseline_deviation: this hour's mean against the same hour of the week over the last N
weeks, e.g. a building drawing 40 % more than it usually does on a Tuesday at 03:00."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from alerts.rules.base import Context, Evaluator, Phrase, RuleBase, Verdict, number, point_phrase

_WEEK_HOURS = 168


class BaselineDeviationRule(RuleBase):
    """Fires when the mean of the current hour deviates from the baseline by more than
    ``ratio`` (0.3 = 30 %) in the given ``direction``. The baseline is the mean of the same
    local hour of the week over the last ``weeks`` weeks, once ``min_weeks`` of them have data."""

    type: Literal["baseline_deviation"]
    weeks: int = Field(default=4, ge=1, le=52)
    min_weeks: int = Field(default=2, ge=1)
    ratio: float = Field(gt=0)
    direction: Literal["above", "below", "both"] = "above"
    #: Deviation is measured against max(|baseline|, floor), so near-zero baselines do not
    #: turn noise into huge ratios.
    floor: float = Field(default=1.0, gt=0)
    #: Readings the current hour needs before it is judged.
    min_samples: int = Field(default=3, ge=1)

    def evaluator(self, ctx: Context) -> Evaluator:
        return _Baseline(self, ctx)

    def describe(self) -> str:
        return (
            f"hourly mean of {self.point} {self.direction} the {self.weeks}-week baseline "
            f"by more than {self.ratio:.0%}"
        )

    def phrase(self, unit: str = "") -> Phrase:
        values = {
            "point": point_phrase(self.point),
            "ratio": f"{number(round(self.ratio * 100, 4))} %",
            "weeks": number(self.weeks),
        }
        if self.direction == "above":
            return Phrase(
                "hourly mean of {point} over {ratio} above the same hour in the last {weeks} weeks",
                values,
            )
        if self.direction == "below":
            return Phrase(
                "hourly mean of {point} over {ratio} below the same hour in the last {weeks} weeks",
                values,
            )
        return Phrase(
            "hourly mean of {point} over {ratio} away from the same hour in the last {weeks} weeks",
            values,
        )


class _Baseline(Evaluator):
    def __init__(self, rule: BaselineDeviationRule, ctx: Context):
        self.rule = rule
        self.ctx = ctx
        #: (absolute local hour number) -> [sum, count], for the last weeks + 1 weeks.
        self.hours: dict[int, list[float]] = {}

    def _hour(self, ts: float) -> int:
        local = self.ctx.local(ts)
        return int((ts + local.utcoffset().total_seconds()) // 3600)  # type: ignore[union-attr]

    def observe(self, ts: float, value: float, active: bool) -> Verdict | None:
        hour = self._hour(ts)
        cur = self.hours.setdefault(hour, [0.0, 0])
        cur[0] += value
        cur[1] += 1
        oldest = hour - _WEEK_HOURS * self.rule.weeks
        if len(self.hours) > _WEEK_HOURS * (self.rule.weeks + 1):
            for h in [h for h in self.hours if h < oldest]:
                del self.hours[h]
        past = [
            s / n
            for k in range(1, self.rule.weeks + 1)
            if (sn := self.hours.get(hour - k * _WEEK_HOURS))
            and (s := sn[0]) is not None
            and (n := sn[1])
        ]
        if len(past) < self.rule.min_weeks or cur[1] < self.rule.min_samples:
            return None
        baseline = sum(past) / len(past)
        mean = cur[0] / cur[1]
        dev = (mean - baseline) / max(abs(baseline), self.rule.floor)
        d = self.rule.direction
        breach = (d in ("above", "both") and dev > self.rule.ratio) or (
            d in ("below", "both") and dev < -self.rule.ratio
        )
        return Verdict(
            breach, mean, f"hour mean {mean:.4g} vs baseline {baseline:.4g} ({dev:+.0%})"
        )
