"""A Usage read straight off the simulator's models, stepped hourly.

A stand-in for the readings stores (analytics.store_usage reads those): no store is involved, so
a simulated year and a half of the demo site takes a couple of seconds, and the truth of what the
simulator put in (a retrofit's saving) is known by stepping the same models without it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

from analytics.meters import Meter
from analytics.usage import Use
from collectors.simulator.models import build_models

HOUR = 3600


class SimulatedUsage:
    """Hourly consumption of every meter and the weather station's hourly temperature, from
    `start` to `end` (aware datetimes on whole hours). Each hour's amount is the meter's counter
    difference over it; its temperature the mean of the station's two readings at its ends."""

    def __init__(
        self, site: Any, start: dt.datetime, end: dt.datetime, *, retrofits: bool = True
    ) -> None:
        self.tz = ZoneInfo(site.doc.site.timezone)
        t0 = start.timestamp()
        hours = int((end.timestamp() - t0) // HOUR)
        models = build_models(site, t0)
        if not retrofits:
            for m in models.values():
                m.retrofits = []
        counters = {
            ref.asset.asset.id: (ref.device.id, point)
            for ref in site.devices()
            for point in ("import_energy", "net_total")
            if point in {p.name for p in ref.profile.points}
        }
        temp = site.doc.energy.outdoor_temperature
        station = next(
            (r.device.id for r in site.devices() if temp and r.asset.asset.id == temp.asset), None
        )
        wanted = {d for d, _ in counters.values()} | ({station} if station else set())
        self.start = start
        self.amounts: dict[str, list[float]] = defaultdict(list)
        self.temps: list[float] = []
        prev = {d: models[d].step(t0) for d in wanted}
        for k in range(hours):
            now = {d: models[d].step(t0 + (k + 1) * HOUR) for d in wanted}
            for asset, (dev, point) in counters.items():
                self.amounts[asset].append(float(now[dev][point]) - float(prev[dev][point]))
            if station and temp:
                a, b = prev[station][temp.point], now[station][temp.point]
                self.temps.append((float(a) + float(b)) / 2)
            prev = now

    def _hour_start(self, k: int) -> dt.datetime:
        return (self.start + dt.timedelta(hours=k)).astimezone(self.tz)

    def hourly(self, meter: Meter, start: dt.datetime, end: dt.datetime) -> list[Use]:
        """One Use per hour of [start, end) that the simulation covers."""
        out = []
        for k, amount in enumerate(self.amounts[meter.id]):
            s = self._hour_start(k)
            if start <= s < end:
                out.append(Use(s, s + dt.timedelta(hours=1), amount))
        return out

    def daily(self, meter: Meter, first: dt.date, last: dt.date) -> list[Use]:
        """One Use per local day the simulation covers wholly."""
        by_day: dict[dt.date, float] = defaultdict(float)
        count: dict[dt.date, int] = defaultdict(int)
        for k, amount in enumerate(self.amounts[meter.id]):
            d = self._hour_start(k).date()
            if first <= d <= last:
                by_day[d] += amount
                count[d] += 1
        return [
            Use(
                dt.datetime.combine(d, dt.time(), self.tz),
                dt.datetime.combine(d + dt.timedelta(days=1), dt.time(), self.tz),
                by_day[d],
            )
            for d in sorted(by_day)
            if count[d] >= 23  # a whole day (23 or 25 hours where the clocks change)
        ]

    def temperature_daily(self, first: dt.date, last: dt.date) -> dict[dt.date, float | None]:
        """The hourly temperatures' mean per local day."""
        sums: dict[dt.date, list[float]] = defaultdict(list)
        for k, t in enumerate(self.temps):
            d = self._hour_start(k).date()
            if first <= d <= last:
                sums[d].append(t)
        return {d: sum(v) / len(v) for d, v in sorted(sums.items())}

    def temperature_hourly(self, start: dt.datetime, end: dt.datetime) -> list[float | None]:
        """The temperature of each hour of [start, end)."""
        out: list[float | None] = []
        for k, t in enumerate(self.temps):
            if start <= self._hour_start(k) < end:
                out.append(t)
        return out
