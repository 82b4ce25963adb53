"""The invoices of the simulated compound's fuels nobody wired: the canteen's natural gas, billed
monthly, and the standby generator's diesel, delivered each quarter. `plantroom simulate
--history` hands them to the analytics' offline meters (source "simulated").

Plain figures, deterministic in the seed and the period, so a re-run writes the same ones. Only
periods that lie wholly inside [start, end) are billed: an invoice comes once its period is over.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from collectors.simulator.models import Weather

#: The canteen's gas per working day (m³; cooking for a compound of ~770 people) and how much
#: more it takes in the coldest month for hot water (+25 %), less in the warmest.
GAS_M3_PER_WORKDAY, GAS_WINTER_EXTRA = 52.0, 0.25
#: The standby generator's diesel per quarter (L): its monthly load test (about 45 min at half
#: load, ~50 L), and now and then an outage of a few hours.
DIESEL_L_PER_TEST, OUTAGE_CHANCE, OUTAGE_L = 50.0, 0.3, 120.0


@dataclass(frozen=True)
class Invoice:
    """An amount an offline meter used over [start, end) (aware, local midnights)."""

    meter: str
    start: dt.datetime
    end: dt.datetime
    amount: float
    unit: str
    note: str


def _months(first: dt.date, last: dt.date, step: int) -> list[tuple[dt.date, dt.date]]:
    """Periods of `step` calendar months (aligned to January) wholly inside [first, last)."""
    out: list[tuple[dt.date, dt.date]] = []
    m0 = (first.month - 1) // step * step + 1
    d = dt.date(first.year, m0, 1)
    while True:
        y, m = divmod(d.month - 1 + step, 12)
        nxt = dt.date(d.year + y, m + 1, 1)
        if nxt > last:
            return out
        if d >= first:
            out.append((d, nxt))
        d = nxt


def gas_invoices(
    meter: str, start: dt.date, end: dt.date, *, timezone: str, seed: int
) -> list[Invoice]:
    """Monthly natural-gas bills (m³) of the canteen for the months inside [start, end)."""
    tz = ZoneInfo(timezone)
    weather = Weather(timezone, seed)
    out = []
    for a, b in _months(start, end, 1):
        workdays = sum(1 for i in range((b - a).days) if (a + dt.timedelta(days=i)).weekday() < 5)
        mid = dt.datetime.combine(a + dt.timedelta(days=14), dt.time(12), tz).timestamp()
        winter = 1 - GAS_WINTER_EXTRA * weather.season(mid)
        rng = random.Random(f"{seed}:{meter}:{a.isoformat()}")
        amount = round(workdays * GAS_M3_PER_WORKDAY * winter * rng.uniform(0.94, 1.06))
        out.append(
            Invoice(
                meter,
                dt.datetime.combine(a, dt.time(), tz),
                dt.datetime.combine(b, dt.time(), tz),
                float(amount),
                "m3",
                f"simulated gas bill {a:%Y-%m}",
            )
        )
    return out


def diesel_deliveries(
    meter: str, start: dt.date, end: dt.date, *, timezone: str, seed: int
) -> list[Invoice]:
    """Quarterly diesel deliveries (L) to the standby generator, each replacing what the
    quarter's load tests and outages burnt, for the quarters inside [start, end)."""
    tz = ZoneInfo(timezone)
    out = []
    for a, b in _months(start, end, 3):
        rng = random.Random(f"{seed}:{meter}:{a.isoformat()}")
        litres = 3 * DIESEL_L_PER_TEST * rng.uniform(0.9, 1.1)
        if rng.random() < OUTAGE_CHANCE:
            litres += OUTAGE_L * rng.uniform(0.5, 1.5)
        out.append(
            Invoice(
                meter,
                dt.datetime.combine(a, dt.time(), tz),
                dt.datetime.combine(b, dt.time(), tz),
                float(round(litres)),
                "L",
                f"simulated diesel delivery {a.year} Q{(a.month - 1) // 3 + 1}",
            )
        )
    return out
