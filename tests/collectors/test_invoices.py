"""The simulated compound's gas bills and diesel deliveries (collectors.simulator.invoices)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from collectors.simulator.invoices import diesel_deliveries, gas_invoices

TZ = "Asia/Shanghai"


def test_gas_is_billed_for_each_whole_month_inside_the_period_from_local_midnight() -> None:
    bills = gas_invoices(
        "gas-canteen", dt.date(2025, 12, 15), dt.date(2026, 3, 10), timezone=TZ, seed=7
    )
    assert [(b.start.date(), b.end.date()) for b in bills] == [
        (dt.date(2026, 1, 1), dt.date(2026, 2, 1)),
        (dt.date(2026, 2, 1), dt.date(2026, 3, 1)),
    ]
    assert bills[0].start.tzinfo == ZoneInfo(TZ) and bills[0].start.hour == 0
    assert all(b.unit == "m3" and b.meter == "gas-canteen" for b in bills)


def test_winter_takes_more_gas_per_working_day_than_summer() -> None:
    jan, jul = (
        gas_invoices("g", dt.date(2026, m, 1), dt.date(2026, m + 1, 1), timezone=TZ, seed=7)[0]
        for m in (1, 7)
    )
    # January 2026 has 22 working days, July 23; ~52 m³ a day, +25 % in the coldest month.
    per_day_jan, per_day_jul = jan.amount / 22, jul.amount / 23
    assert 55 < per_day_jan < 70 and 36 < per_day_jul < 45


def test_the_same_period_gives_the_same_bills() -> None:
    def once() -> list[float]:
        return [
            b.amount
            for b in gas_invoices(
                "g", dt.date(2025, 6, 1), dt.date(2026, 6, 1), timezone=TZ, seed=7
            )
        ]

    assert once() == once() and len(once()) == 12


def test_diesel_comes_in_calendar_quarters_that_are_over() -> None:
    drops = diesel_deliveries(
        "diesel-genset", dt.date(2025, 6, 1), dt.date(2026, 6, 1), timezone=TZ, seed=7
    )
    assert [b.start.date() for b in drops] == [
        dt.date(2025, 7, 1),
        dt.date(2025, 10, 1),
        dt.date(2026, 1, 1),
    ]
    # Three monthly load tests of ~50 L (±10 %), and at times an outage of 60-180 L.
    assert all(135 <= b.amount <= 165 + 180 and b.unit == "L" for b in drops)
