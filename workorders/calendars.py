"""Working-time calendars for SLA clocks: round the clock (24×7), or business hours on official
Chinese working days.

The official holiday and make-up working day (调休) list comes from the `chinesecalendar` package
(import name `chinese_calendar`). We also evaluated `holidays` (python-holidays, country CN). Both
know the holidays and the moved working weekend days for 2024-2026, and they agree on every day of
those three years. We chose `chinesecalendar` because it raises for a year whose arrangement it
does not hold. `holidays` instead computes holidays for any future year from generic rules, with no
make-up working days. It returned a 2027 and a 2030 calendar, although the State Council had not
published either. An SLA clock must not guess, so a year the package does not know raises
`UnknownHolidayYear`, which names the year.

The State Council publishes each year's arrangement around November, and `chinesecalendar` ships it
as a new minor release. That is why pyproject pins it as `~=1.11` (any 1.x from 1.11 on) and not to
a patch series.

A business calendar walks day by day: a target of a week costs about seven steps, whatever its
length in minutes.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import chinese_calendar

DEFAULT_TIMEZONE = "Asia/Shanghai"
#: Chinese government office hours: a morning and an afternoon span.
DEFAULT_HOURS: tuple[str, ...] = ("08:30-12:00", "13:30-17:30")
#: Walking this many days without a single working minute means the calendar is broken.
_MAX_IDLE_DAYS = 366
_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


class UnknownHolidayYear(LookupError):
    """The holiday package has no official arrangement for this year; upgrading it may help."""

    def __init__(self, year: int, cause: str = ""):
        version = getattr(chinese_calendar, "__version__", "?")
        super().__init__(
            f"no official Chinese holiday arrangement for {year} "
            f"(chinesecalendar {version}{': ' + cause if cause else ''}); "
            f"upgrade chinesecalendar once the State Council has published the {year} arrangement"
        )
        self.year = year


class WorkCalendar(Protocol):
    """Answers how much working time lies between two instants, and where an amount of it ends."""

    def add_working_time(self, start: dt.datetime, seconds: float) -> dt.datetime:
        """The earliest instant by which `seconds` of working time have passed since `start`."""
        ...

    def working_seconds(self, start: dt.datetime, end: dt.datetime) -> float:
        """Working seconds between `start` and `end` (0 if `end` is not after `start`)."""
        ...


def _utc(value: dt.datetime, name: str) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    return value.astimezone(dt.UTC)


class AlwaysCalendar:
    """24×7: every second counts."""

    kind = "24x7"

    def add_working_time(self, start: dt.datetime, seconds: float) -> dt.datetime:
        """`start` plus `seconds`, in UTC."""
        return _utc(start, "start") + dt.timedelta(seconds=max(seconds, 0.0))

    def working_seconds(self, start: dt.datetime, end: dt.datetime) -> float:
        """Wall-clock seconds from `start` to `end`."""
        return max((_utc(end, "end") - _utc(start, "start")).total_seconds(), 0.0)

    def __repr__(self) -> str:
        return "AlwaysCalendar()"


@lru_cache(maxsize=4096)
def official_workday(day: dt.date) -> bool:
    """True on a Chinese working day: Mon-Fri except public holidays, plus make-up weekend days."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError as exc:
        raise UnknownHolidayYear(day.year, str(exc)) from exc


def parse_hours(spans: Sequence[str]) -> tuple[tuple[int, int], ...]:
    """Parse ['08:30-12:00', '13:30-17:30'] into minute offsets; spans must be ordered and apart."""
    if isinstance(spans, str):
        spans = [spans]
    if not isinstance(spans, Sequence) or not spans:
        raise ValueError("business hours need at least one span such as 09:00-18:00")
    parsed: list[tuple[int, int]] = []
    for text in spans:
        m = _SPAN.match(text) if isinstance(text, str) else None
        if not m:
            raise ValueError(f"business hours span {text!r} is not like 08:30-12:00")
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2):
            raise ValueError(f"business hours span {text!r} has an impossible time")
        lo, hi = h1 * 60 + m1, h2 * 60 + m2
        if hi <= lo:
            raise ValueError(f"business hours span {text!r} ends before it starts")
        if parsed and lo < parsed[-1][1]:
            raise ValueError(f"business hours span {text!r} overlaps or precedes the one before")
        parsed.append((lo, hi))
    return tuple(parsed)


def zone(name: str) -> ZoneInfo:
    """The IANA timezone `name`, or a ValueError naming it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown timezone {name!r}") from exc


class BusinessCalendar:
    """Working hours on working days, in one timezone; by default official Chinese working days."""

    kind = "business"

    def __init__(
        self,
        hours: Sequence[str] = DEFAULT_HOURS,
        timezone: str = DEFAULT_TIMEZONE,
        is_workday: Callable[[dt.date], bool] = official_workday,
    ):
        self.hours = tuple([hours] if isinstance(hours, str) else hours)
        self.timezone = timezone
        self._spans = parse_hours(self.hours)
        self._tz = zone(timezone)
        self._is_workday = is_workday

    @property
    def day_seconds(self) -> float:
        """Working seconds in one working day (27,000 for 08:30-12:00 + 13:30-17:30)."""
        return float(sum(hi - lo for lo, hi in self._spans) * 60)

    def _at(self, day: dt.date, minutes: int) -> dt.datetime:
        # Local wall time -> UTC, so the arithmetic below is in real seconds even across DST.
        day = day + dt.timedelta(days=minutes // 1440)
        local = dt.datetime.combine(day, dt.time(minutes % 1440 // 60, minutes % 60))
        return local.replace(tzinfo=self._tz).astimezone(dt.UTC)

    def _spans_on(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """The day's working spans in UTC; none on a day off."""
        if not self._is_workday(day):
            return []
        return [(self._at(day, lo), self._at(day, hi)) for lo, hi in self._spans]

    def _local_date(self, instant: dt.datetime) -> dt.date:
        return instant.astimezone(self._tz).date()

    def add_working_time(self, start: dt.datetime, seconds: float) -> dt.datetime:
        """Walk working spans from `start` until `seconds` of them are used; returns UTC."""
        t = _utc(start, "start")
        left = dt.timedelta(seconds=seconds)
        if left <= dt.timedelta(0):
            return t
        day, idle = self._local_date(t), 0
        while idle <= _MAX_IDLE_DAYS:
            spans = self._spans_on(day)
            idle = 0 if spans else idle + 1
            for lo, hi in spans:
                if hi <= t:
                    continue
                begin = max(lo, t)
                if hi - begin >= left:
                    return begin + left
                left -= hi - begin
            day += dt.timedelta(days=1)
        raise ValueError(f"{self!r} has no working day in the year before {day.isoformat()}")

    def working_seconds(self, start: dt.datetime, end: dt.datetime) -> float:
        """Sum the overlap of [start, end) with the working spans, day by day."""
        a, b = _utc(start, "start"), _utc(end, "end")
        total = dt.timedelta(0)
        day = self._local_date(a)
        # Stop at the day `end` falls in: a day past it is never looked up, so a range ending
        # on 31 December does not need next year's arrangement.
        while self._at(day, 0) < b:
            for lo, hi in self._spans_on(day):
                overlap = min(hi, b) - max(lo, a)
                if overlap > dt.timedelta(0):
                    total += overlap
            day += dt.timedelta(days=1)
        return total.total_seconds()

    def __repr__(self) -> str:
        return f"BusinessCalendar(hours={list(self.hours)!r}, timezone={self.timezone!r})"


def make_calendar(
    kind: str, *, hours: Sequence[str] = DEFAULT_HOURS, timezone: str = DEFAULT_TIMEZONE
) -> WorkCalendar:
    """The calendar for an SLA policy: kind '24x7' or 'business'."""
    if kind == "24x7":
        return AlwaysCalendar()
    if kind == "business":
        return BusinessCalendar(hours, timezone)
    raise ValueError(f"unknown calendar {kind!r}; expected '24x7' or 'business'")
