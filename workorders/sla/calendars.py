"""Working-time calendars for SLA clocks: round the clock (24×7), or business hours on official
Chinese working days.

Where the official days come from
    Each year's arrangement of holidays and make-up working days (调休) is published by the
    State Council, usually in November of the year before. A `HolidayTable` answers, per day,
    from two sources in order: the site's own `calendar.arrangements` in site.yaml (an operator
    loads a year the day its notice appears), then the `chinesecalendar` package (import name
    `chinese_calendar`, bundled, which ships each year weeks or months later). A year the site
    lists is complete: the package is not consulted for it.

    We also evaluated `holidays` (python-holidays, country CN). It computes holidays for any
    future year from generic rules, with no make-up working days and nothing that tells such a
    guess from an official year, so it is not used: an SLA clock must not guess.

A year nobody knows
    A walk that needs a year neither source holds either raises `UnknownHolidayYear` (when the
    caller passes no `missing` set) or, when the caller passes one, treats that year's weekends
    as off and every weekday as worked, and adds the year to `missing`: the SLA engine then marks
    what it computed *provisional* (see workorders/sla.py) instead of dropping the clock.

The table in force
    The official arrangement is a fact of the country, not of a request, and one process serves
    one site: the composition root `install`s the site's table at start (app, CLI), and every
    business calendar built without an explicit table reads the installed one at each lookup.
    Pure callers (tests, `plantroom sla due`) may pass a table explicitly.

A business calendar walks day by day: a target of a week costs about seven steps, whatever its
length in minutes.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import chinese_calendar
from chinese_calendar import constants as _bundled

DEFAULT_TIMEZONE = "Asia/Shanghai"
#: Chinese government office hours: a morning and an afternoon span.
DEFAULT_HOURS: tuple[str, ...] = ("08:30-12:00", "13:30-17:30")
#: Walking this many days without a single working minute means the calendar is broken.
_MAX_IDLE_DAYS = 366
_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")

Source = Literal["site", "bundled"]


class UnknownHolidayYear(LookupError):
    """Neither the site nor the bundled package holds the official arrangement for this year."""

    def __init__(self, year: int):
        super().__init__(missing_year_reason(year))
        self.year = year


def missing_year_reason(year: int) -> str:
    """What to tell a person about a year nobody has loaded: which, and what to do."""
    version = getattr(chinese_calendar, "__version__", "?")
    return (
        f"no official holiday arrangement for {year} (neither site.yaml's calendar.arrangements "
        f"nor chinesecalendar {version} holds it); working days of {year} are taken as Monday "
        f"to Friday until the State Council's {year} notice is loaded into site.yaml"
    )


def missing_years_reason(years: Iterable[int]) -> str | None:
    """missing_year_reason for each year, or None when there is none."""
    return "; ".join(missing_year_reason(y) for y in years) or None


@dataclass(frozen=True)
class Arrangement:
    """One year's official arrangement: the weekdays off and the weekend days worked."""

    year: int
    source: str
    days_off: frozenset[dt.date] = frozenset()
    workdays: frozenset[dt.date] = frozenset()

    def is_workday(self, day: dt.date) -> bool:
        """Weekends and days off are off; make-up working days are worked."""
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.days_off


def _bundled_years() -> frozenset[int]:
    dates = [*_bundled.holidays, *_bundled.workdays]
    return frozenset(range(min(dates).year, max(dates).year + 1))


BUNDLED_YEARS = _bundled_years()


class HolidayTable:
    """Which days are official working days: the site's arrangements first, then the bundled
    `chinesecalendar` package; None for a year neither holds."""

    def __init__(self, arrangements: Iterable[Arrangement] = ()):
        self.arrangements: Mapping[int, Arrangement] = {a.year: a for a in arrangements}

    def workday(self, day: dt.date) -> bool | None:
        """True on an official working day, False on a day off, None when the year is unknown."""
        own = self.arrangements.get(day.year)
        if own is not None:
            return own.is_workday(day)
        if day.year in BUNDLED_YEARS:
            return _package_workday(day)
        return None

    def source(self, year: int) -> Source | None:
        """Where the year's arrangement comes from, or None when nobody knows it."""
        if year in self.arrangements:
            return "site"
        return "bundled" if year in BUNDLED_YEARS else None

    def years(self) -> list[tuple[int, Source]]:
        """Every year known, with its source, oldest first."""
        known = sorted(set(self.arrangements) | BUNDLED_YEARS)
        return [(y, "site" if y in self.arrangements else "bundled") for y in known]

    @property
    def last_known_year(self) -> int:
        """The last year of the unbroken run of known years from the newest bundled one: the
        calendar is complete up to its 31 December."""
        year = max(BUNDLED_YEARS)
        while year + 1 in self.arrangements:
            year += 1
        return year

    def __repr__(self) -> str:
        return f"HolidayTable(site years {sorted(self.arrangements)})"


@lru_cache(maxsize=8192)
def _package_workday(day: dt.date) -> bool:
    return bool(chinese_calendar.is_workday(day))


#: The bundled package alone.
BUNDLED = HolidayTable()
_installed: HolidayTable = BUNDLED


def install(table: HolidayTable) -> HolidayTable:
    """Make `table` the one every business calendar without its own reads; returns the table
    it replaces (tests put it back)."""
    global _installed
    before, _installed = _installed, table
    return before


def installed() -> HolidayTable:
    """The table in force in this process (the bundled package until the root installs one)."""
    return _installed


class WorkCalendar(Protocol):
    """Answers how much working time lies between two instants, and where an amount of it ends.

    `missing`: pass a set to accept years no holiday table knows (counted Monday to Friday, and
    added to the set); without one such a year raises UnknownHolidayYear.
    """

    def add_working_time(
        self, start: dt.datetime, seconds: float, missing: set[int] | None = None
    ) -> dt.datetime:
        """The earliest instant by which `seconds` of working time have passed since `start`."""
        ...

    def working_seconds(
        self, start: dt.datetime, end: dt.datetime, missing: set[int] | None = None
    ) -> float:
        """Working seconds between `start` and `end` (0 if `end` is not after `start`)."""
        ...


def _utc(value: dt.datetime, name: str) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    return value.astimezone(dt.UTC)


class AlwaysCalendar:
    """24×7: every second counts."""

    kind = "24x7"

    def add_working_time(
        self, start: dt.datetime, seconds: float, missing: set[int] | None = None
    ) -> dt.datetime:
        """`start` plus `seconds`, in UTC."""
        return _utc(start, "start") + dt.timedelta(seconds=max(seconds, 0.0))

    def working_seconds(
        self, start: dt.datetime, end: dt.datetime, missing: set[int] | None = None
    ) -> float:
        """Wall-clock seconds from `start` to `end`."""
        return max((_utc(end, "end") - _utc(start, "start")).total_seconds(), 0.0)

    def __repr__(self) -> str:
        return "AlwaysCalendar()"


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
    """Working hours on working days, in one timezone: official Chinese working days from a
    holiday table (the installed one unless given), or any `is_workday` rule."""

    kind = "business"

    def __init__(
        self,
        hours: Sequence[str] = DEFAULT_HOURS,
        timezone: str = DEFAULT_TIMEZONE,
        is_workday: Callable[[dt.date], bool] | None = None,
        *,
        holidays: HolidayTable | None = None,
    ):
        self.hours = tuple([hours] if isinstance(hours, str) else hours)
        self.timezone = timezone
        self._spans = parse_hours(self.hours)
        self._tz = zone(timezone)
        self._is_workday = is_workday
        self._holidays = holidays

    def _workday(self, day: dt.date, missing: set[int] | None) -> bool:
        if self._is_workday is not None:
            return self._is_workday(day)
        working = (self._holidays or installed()).workday(day)
        if working is not None:
            return working
        if missing is None:
            raise UnknownHolidayYear(day.year)
        missing.add(day.year)
        return day.weekday() < 5

    @property
    def day_seconds(self) -> float:
        """Working seconds in one working day (27,000 for 08:30-12:00 + 13:30-17:30)."""
        return float(sum(hi - lo for lo, hi in self._spans) * 60)

    def _at(self, day: dt.date, minutes: int) -> dt.datetime:
        # Local wall time -> UTC, so the arithmetic below is in real seconds even across DST.
        day = day + dt.timedelta(days=minutes // 1440)
        local = dt.datetime.combine(day, dt.time(minutes % 1440 // 60, minutes % 60))
        return local.replace(tzinfo=self._tz).astimezone(dt.UTC)

    def _spans_on(
        self, day: dt.date, missing: set[int] | None
    ) -> list[tuple[dt.datetime, dt.datetime]]:
        """The day's working spans in UTC; none on a day off."""
        if not self._workday(day, missing):
            return []
        return [(self._at(day, lo), self._at(day, hi)) for lo, hi in self._spans]

    def _local_date(self, instant: dt.datetime) -> dt.date:
        return instant.astimezone(self._tz).date()

    def add_working_time(
        self, start: dt.datetime, seconds: float, missing: set[int] | None = None
    ) -> dt.datetime:
        """Walk working spans from `start` until `seconds` of them are used; returns UTC."""
        t = _utc(start, "start")
        left = dt.timedelta(seconds=seconds)
        if left <= dt.timedelta(0):
            return t
        day, idle = self._local_date(t), 0
        while idle <= _MAX_IDLE_DAYS:
            spans = self._spans_on(day, missing)
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

    def working_seconds(
        self, start: dt.datetime, end: dt.datetime, missing: set[int] | None = None
    ) -> float:
        """Sum the overlap of [start, end) with the working spans, day by day."""
        a, b = _utc(start, "start"), _utc(end, "end")
        total = dt.timedelta(0)
        day = self._local_date(a)
        # Stop at the day `end` falls in: a day past it is never looked up, so a range ending
        # on 31 December does not need next year's arrangement.
        while self._at(day, 0) < b:
            for lo, hi in self._spans_on(day, missing):
                overlap = min(hi, b) - max(lo, a)
                if overlap > dt.timedelta(0):
                    total += overlap
            day += dt.timedelta(days=1)
        return total.total_seconds()

    def __repr__(self) -> str:
        return f"BusinessCalendar(hours={list(self.hours)!r}, timezone={self.timezone!r})"


def make_calendar(
    kind: str,
    *,
    hours: Sequence[str] = DEFAULT_HOURS,
    timezone: str = DEFAULT_TIMEZONE,
    holidays: HolidayTable | None = None,
) -> WorkCalendar:
    """The calendar for an SLA policy: kind '24x7' or 'business' (on `holidays`, else on the
    installed table)."""
    if kind == "24x7":
        return AlwaysCalendar()
    if kind == "business":
        return BusinessCalendar(hours, timezone, holidays=holidays)
    raise ValueError(f"unknown calendar {kind!r}; expected '24x7' or 'business'")
