"""Fixtures of the analytics tests: `MemoryUsage`, a Usage held in memory, for tests of what
sits above the stores (the balance, statistics, baselines, reports).

It is a stand-in on purpose: those tests check arithmetic on known daily figures, and
tests/analytics/test_store_usage.py checks the real StoreUsage against the embedded store and
InfluxDB.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from analytics.meters import Meter
from analytics.usage import Use
from core.auth.models import Role
from core.db import Database
from tests.core.auth.accounts import make_user, sign_in

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local_day(day: dt.date, tz: ZoneInfo = SHANGHAI) -> tuple[dt.datetime, dt.datetime]:
    """A local day's [start, end) as aware datetimes."""
    start = dt.datetime.combine(day, dt.time(), tz)
    return start, dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tz)


class MemoryUsage:
    """A Usage from figures given per meter and day (and per hour), for tests.

    ``days[meter_id][date]`` is the amount, or None for a day with nothing known (all of it
    missing), or a Use as it should be answered. A day not given is 0 and fully known; an hour
    not given is 0. ``temps`` holds daily mean temperatures, ``hourly_temps`` the hours' from
    a start.
    """

    def __init__(
        self,
        days: dict[str, dict[dt.date, float | Use | None]] | None = None,
        *,
        hours: dict[str, dict[dt.datetime, float]] | None = None,
        temps: dict[dt.date, float | None] | None = None,
        tz: ZoneInfo = SHANGHAI,
    ):
        self.days = days or {}
        self.hours = hours or {}
        self.temps = temps or {}
        self.tz = tz

    def daily(self, meter: Meter, first: dt.date, last: dt.date) -> list[Use]:
        """One Use per local day from `first` to `last`."""
        out: list[Use] = []
        day = first
        while day <= last:
            start, end = local_day(day, self.tz)
            v = self.days.get(meter.id, {}).get(day, 0.0)
            if isinstance(v, Use):
                out.append(v)
            elif v is None:
                out.append(Use(start, end, 0.0, 0.0, (end - start).total_seconds()))
            else:
                out.append(Use(start, end, float(v)))
            day += dt.timedelta(days=1)
        return out

    def hourly(self, meter: Meter, start: dt.datetime, end: dt.datetime) -> list[Use]:
        """One Use per hour of [start, end)."""
        out: list[Use] = []
        t = start
        while t < end:
            nxt = t + dt.timedelta(hours=1)
            out.append(Use(t, nxt, self.hours.get(meter.id, {}).get(t, 0.0)))
            t = nxt
        return out

    def temperature_daily(self, first: dt.date, last: dt.date) -> dict[dt.date, float | None]:
        """The given daily temperatures within [first, last]."""
        return {d: v for d, v in self.temps.items() if first <= d <= last}

    def temperature_hourly(self, start: dt.datetime, end: dt.datetime) -> list[float | None]:
        """None for every hour (no hourly temperatures in memory)."""
        return [None] * int((end - start) / dt.timedelta(hours=1))


@pytest.fixture
def memory_usage() -> type[MemoryUsage]:
    """The MemoryUsage class (build one with the figures a test needs)."""
    return MemoryUsage


def signed_in_browser(
    client: TestClient,
    db: Database,
    username: str,
    role: Role,
    *,
    password: str,
    org: str | None = None,
) -> TestClient:
    """A new user of `role` (of firm `org`) and a browser signed in as them, with the session
    cookie and no bearer token, as the analytics pages are opened."""
    make_user(db, username, role, password=password, org=org)
    ui = TestClient(client.app)
    assert sign_in(ui, username, password, follow_redirects=False).status_code == 303
    return ui
