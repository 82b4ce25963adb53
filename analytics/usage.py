"""What each meter used, by local day or by hour, from wherever its figures are: the readings
store for telemetry meters (the counter's difference, analytics.counters), the database for
offline meters (analytics.offline). Everything above (the balance, the indicators, baselines,
rollups, reports) asks a `Usage` and never a store.

Days are cut at local midnight in the site's time zone; periods are [start, end).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from analytics.meters import Meter
from core.errors import AppError


class BadPeriod(AppError):
    """A period the analytics cannot answer for: reversed, empty, too long, or not begun."""

    status_code = 422
    error = "bad_period"


@dataclass(frozen=True)
class Use:
    """What one meter used over [start, end) (aware datetimes), in the meter's unit, and how
    many seconds of the period were estimated (a gap bridged) or missing (nothing known)."""

    start: dt.datetime
    end: dt.datetime
    amount: float
    estimated_s: float = 0.0
    missing_s: float = 0.0

    @property
    def estimated_share(self) -> float:
        """The part of the period (0-1) whose consumption is estimated or unknown."""
        span = (self.end - self.start).total_seconds()
        return 0.0 if span <= 0 else min(1.0, (self.estimated_s + self.missing_s) / span)


class Usage(Protocol):
    """The read side the analytics use."""

    def daily(self, meter: Meter, first: dt.date, last: dt.date) -> list[Use]:
        """One Use per local day from `first` to `last` (both included), in order."""

    def hourly(self, meter: Meter, start: dt.datetime, end: dt.datetime) -> list[Use]:
        """One Use per hour of [start, end) (whole hours, aware), in order."""

    def temperature_daily(self, first: dt.date, last: dt.date) -> dict[dt.date, float | None]:
        """The outdoor temperature's daily mean (°C) per local day; None for a day without a
        good reading. Empty when the site has no outdoor-temperature point."""

    def temperature_hourly(self, start: dt.datetime, end: dt.datetime) -> list[float | None]:
        """The outdoor temperature's hourly mean per hour of [start, end)."""
