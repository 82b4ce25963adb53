"""Daily energy rollups for dashboards: measurement ``energy_daily`` in the readings stores, one
row per local day, so that Grafana sums days and months without calendar arithmetic (InfluxQL
has no calendar month, and its days are UTC unless a query says ``tz()``).

Rows are collectors' Readings written through the Sinks (the embedded store, InfluxDB), so in
InfluxDB they carry the usual tags and fields:

    energy_daily,asset=<id>,[asset_class=<Brick class>,][building=<id>,]device=<kind>,
        point=<figure>,unit=<unit>
        value=<float>,quality="good"|"unavailable"   <local midnight, UNIX time>

- ``time``: the local midnight (site time zone) that starts the day.
- Per meter: ``asset`` = the meter id (telemetry meters also get the ``building`` and
  ``asset_class`` tags, offline ones do not), ``device`` = ``meter``; ``point``:
    - ``amount``: consumption in the meter's ``unit`` (kWh, m3, L...);
    - ``kwh``: electricity meters only, unit ``kWh``;
    - ``kgce`` (unit ``kgce``) and ``kgco2e`` (unit ``kgCO2e``): energy meters only;
    - ``estimated_share``: the part of the day (0-1) estimated or missing, unit ``1``.
- Per building, and for the compound as a whole (``asset`` = the site id): what the energy
  statistics count (analytics.statistics: the building's top meters, the compound's roots),
  with ``device`` =
    - ``01A00``, ``01B00``, ``01C00``, ``01D00`` (electricity sub-items) and ``unmetered`` (the
      counted meters' kWh minus their sub-items): points ``kwh``, ``kgce``, ``kgco2e`` and
      ``estimated_share`` (a sub-item the building has no meter for: 0 and no share); the
      remainder of a day on which a sub-meter knew nothing is unavailable, since that
      sub-meter's use is not unmetered;
    - ``electricity``: points ``kwh``, ``kgce``, ``kgco2e``, ``estimated_share``;
    - ``energy`` (every carrier but water): points ``kgce``, ``kgco2e``, ``estimated_share``;
    - ``water``: points ``amount`` (unit ``m3``) and ``estimated_share``.

A figure nobody knows (a meter with no reading all day, a day without a conversion factor) is
a row with ``quality="unavailable"`` and no ``value``: never a 0.

E.g. Building A's HVAC kWh per local month:
    SELECT sum("value") FROM "energy_daily" WHERE "asset" = 'bldg-a' AND "device" = '01B00'
    AND "point" = 'kwh' AND $timeFilter GROUP BY time(1d) tz('Asia/Shanghai')
(monthly bars: sum the days in the panel, or query month by month).

Rewriting a day replaces it: InfluxDB overwrites the same series and time, and the embedded
store, which otherwise keeps the first write of a reading, replaces the measurement's rows of
the days written (EmbeddedStore.replace). So a day rolled up before its readings were all in
(a collector catching up from its disk buffer, a history simulated later) comes right at the
next run or backfill.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol, runtime_checkable
from zoneinfo import ZoneInfo

from analytics.energy import Quantity
from analytics.meters import meter_tree
from analytics.site import AnalyticsSite
from analytics.statistics import SUB_ITEMS, Calculator, Figures, counted_meters
from analytics.usage import Usage
from collectors.readings import Quality, Reading
from collectors.sinks import Sink

log = logging.getLogger(__name__)

MEASUREMENT = "energy_daily"
#: Days computed per pass (one read per meter per chunk).
CHUNK_DAYS = 31


@runtime_checkable
class Replacing(Protocol):
    """A sink that keeps the first write of a reading, and can replace a time range instead
    (collectors.sinks.embedded.EmbeddedStore)."""

    def replace(
        self, readings: list[Reading], *, measurement: str, start: float, end: float
    ) -> None:
        """Store `readings` in place of the measurement's rows in [start, end)."""


def _row(ts: float, asset: str, device: str, point: str, value: float | None, unit: str) -> Reading:
    known = value is not None and not math.isnan(value)
    return Reading(
        ts=ts,
        asset=asset,
        device=device,
        point=point,
        value=float(value) if known and value is not None else None,
        unit=unit,
        quality=Quality.good if known else Quality.unavailable,
        measurement=MEASUREMENT,
    )


def _kwh_rows(
    ts: float, asset: str, device: str, kwh: float | None, day: dt.date, calc: Calculator
) -> Iterator[Reading]:
    """kwh, kgce and kgco2e of a part of a day's electricity (None: unknown)."""
    yield _row(ts, asset, device, "kwh", kwh, "kWh")
    for kind, unit in (("kgce", "kgce"), ("kgco2e", "kgCO2e")):
        value = None
        if kwh is not None:
            value = calc.converted(Quantity("electricity", kwh, "kWh", day), kind) if kwh else 0.0
        yield _row(ts, asset, device, kind, value, unit)


def _body_rows(
    ts: float, asset: str, f: Figures, day: dt.date, calc: Calculator
) -> Iterator[Reading]:
    elec = f.carriers.get("electricity")
    if elec is not None:
        for code in SUB_ITEMS:
            sub = f.sub_sums.get(code)
            if sub is None:  # no such sub-meter: nothing used
                yield from _kwh_rows(ts, asset, code, 0.0, day, calc)
                continue
            yield from _kwh_rows(ts, asset, code, None if sub.unknown else sub.amount, day, calc)
            yield _row(ts, asset, code, "estimated_share", sub.estimated_share, "1")
        # a sub-meter unknown all day leaves the remainder unknown: its use is not unmetered
        dark = elec.unknown or f.sub_dark_days > 0
        remainder = None if dark else elec.amount - f.sub_metered_kwh
        yield from _kwh_rows(ts, asset, "unmetered", remainder, day, calc)
        yield _row(ts, asset, "unmetered", "estimated_share", f.unmetered_share(), "1")
        yield _row(ts, asset, "electricity", "kwh", None if elec.unknown else elec.amount, "kWh")
        yield _row(ts, asset, "electricity", "kgce", None if elec.unknown else elec.kgce, "kgce")
        yield _row(
            ts, asset, "electricity", "kgco2e", None if elec.unknown else elec.kgco2e, "kgCO2e"
        )
        yield _row(ts, asset, "electricity", "estimated_share", elec.estimated_share, "1")
    energy = f.energy()
    if energy.span_s > 0:
        yield _row(ts, asset, "energy", "kgce", None if energy.unknown else energy.kgce, "kgce")
        yield _row(
            ts, asset, "energy", "kgco2e", None if energy.unknown else energy.kgco2e, "kgCO2e"
        )
        yield _row(ts, asset, "energy", "estimated_share", energy.estimated_share, "1")
    water = f.carriers.get("water")
    if water is not None:
        yield _row(ts, asset, "water", "amount", None if water.unknown else water.amount, "m3")
        yield _row(ts, asset, "water", "estimated_share", water.estimated_share, "1")


def rollup_readings(
    site: AnalyticsSite, usage: Usage, *, first: dt.date, last: dt.date
) -> list[Reading]:
    """The energy_daily rows of the days from `first` to `last` (both included); see the
    module docstring. A day without a conversion factor gets unavailable kgce/kgco2e rows
    (logged once per pass), not a failure of the whole pass."""
    tz = ZoneInfo(site.doc.site.timezone)
    tree = meter_tree(site)
    calc = Calculator(site, usage, first, last, strict=False)
    midnight = {
        first + dt.timedelta(days=i): dt.datetime.combine(
            first + dt.timedelta(days=i), dt.time(), tz
        ).timestamp()
        for i in range((last - first).days + 1)
    }
    out: list[Reading] = []
    for meter in tree:
        for day, use in calc.days(meter):
            if day not in midnight:
                continue
            ts = midnight[day]
            s = calc.meter_day(meter, day, use, meter.unit)
            unknown = s.unknown
            out.append(
                _row(ts, meter.id, "meter", "amount", None if unknown else s.amount, meter.unit)
            )
            if meter.carrier == "electricity":
                # electricity meters count kWh (analytics.site.DEFAULT_UNITS)
                out.append(_row(ts, meter.id, "meter", "kwh", None if unknown else s.amount, "kWh"))
            if meter.is_energy:
                out.append(_row(ts, meter.id, "meter", "kgce", None if unknown else s.kgce, "kgce"))
                out.append(
                    _row(ts, meter.id, "meter", "kgco2e", None if unknown else s.kgco2e, "kgCO2e")
                )
            out.append(_row(ts, meter.id, "meter", "estimated_share", s.estimated_share, "1"))
    keys = [d.isoformat() for d in midnight]
    bodies: list[tuple[str, str | None]] = [(site.doc.site.id, None)]
    bodies += [(b.id, b.id) for b in site.doc.buildings]
    for asset, building in bodies:
        per = calc.periods(tree, counted_meters(tree, building), keys, dt.date.isoformat)
        for day, ts in midnight.items():
            out.extend(_body_rows(ts, asset, per[day.isoformat()], day, calc))
    for message in sorted(calc.missing):
        log.warning("energy_daily: %s; its kgce/kgCO2e rows are unavailable", message)
    return out


def _midnight(site: AnalyticsSite, day: dt.date) -> float:
    return dt.datetime.combine(day, dt.time(), ZoneInfo(site.doc.site.timezone)).timestamp()


def write_rollup(
    site: AnalyticsSite,
    usage: Usage,
    sinks: Sequence[Sink],
    *,
    first: dt.date,
    last: dt.date,
    progress: Callable[[int, int, int], None] | None = None,
) -> int:
    """Compute and write the energy_daily rows of `first`..`last` to every sink, a chunk of
    days at a time; the number of rows written. `progress(days_done, days, rows_written)`
    after each chunk."""
    total = (last - first).days + 1
    written, done = 0, 0
    start = first
    while start <= last:
        end = min(last, start + dt.timedelta(days=CHUNK_DAYS - 1))
        rows = rollup_readings(site, usage, first=start, last=end)
        t0, t1 = _midnight(site, start), _midnight(site, end + dt.timedelta(days=1))
        for sink in sinks:
            if isinstance(sink, Replacing):
                sink.replace(rows, measurement=MEASUREMENT, start=t0, end=t1)
            else:
                sink.write(rows)
        written += len(rows)
        done += (end - start).days + 1
        if progress is not None:
            progress(done, total, written)
        start = end + dt.timedelta(days=1)
    return written
