"""Recording what the offline meters say: a counter's readings, an invoice's quantity, and the
replacement of any counter meter; each validated before it is stored.

- A meter must be an offline meter of the right kind (a reading for a ``counter``, a quantity
  for a ``quantity``); a replacement may be recorded for any counter meter (telemetry too).
- No time beyond the server's now: figures are recorded after the fact.
- The unit must be the meter's; diesel and gasoline may be given in L for a meter in kg (or the
  other way), converted with analytics.factors.DENSITY_KG_PER_L.
- A counter reading below the reading before it, or above the reading after it, is refused
  (``counter_backwards``) naming that reading, unless a recorded replacement lies between
  them.
- A quantity whose period overlaps another quantity of the meter is refused: it would be
  counted twice. The demo's simulated invoices (source ``simulated``) replace their own earlier
  figure for the same period instead, so generating the history again changes nothing.

Services take a session and never commit; meters come from analytics.meters.meter_tree.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Literal

from sqlalchemy.orm import Session

from analytics.factors import DENSITY_KG_PER_L
from analytics.meters import Meter
from analytics.offline import repository
from analytics.offline.models import MeterReplacement, OfflineEntry
from core.db import utcnow
from core.errors import AppError

Source = Literal["manual", "import", "simulated"]
SOURCES: tuple[str, ...] = ("manual", "import", "simulated")


class OfflineRefused(AppError):
    """A figure that cannot be stored as given (422)."""

    status_code = 422
    error = "offline_refused"


class NotOffline(OfflineRefused):
    """The meter is read by telemetry, or is of the other kind."""

    error = "wrong_meter_kind"


class InTheFuture(OfflineRefused):
    """A time beyond the server's now."""

    error = "in_the_future"


class WrongUnit(OfflineRefused):
    """A unit the meter is not counted in and cannot be converted to."""

    error = "wrong_unit"


class CounterBackwards(OfflineRefused):
    """A counter reading that goes back against its neighbour, with no replacement between."""

    error = "counter_backwards"


class DuplicateReading(OfflineRefused):
    """A second reading of a counter at the same time."""

    error = "duplicate_reading"


class OverlappingQuantity(OfflineRefused):
    """A quantity over a period another quantity of the meter already covers."""

    error = "overlapping_quantity"


class BadFigure(OfflineRefused):
    """A negative amount or reading, or a period that ends before it starts."""

    error = "bad_figure"


class UnknownEntry(AppError):
    """No entry with that id for the meter."""

    status_code = 404
    error = "unknown_entry"


def _fmt(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _num(v: float) -> str:
    return f"{v:g}"


def to_meter_unit(meter: Meter, value: float, unit: str | None) -> float:
    """The value in the meter's unit: as given when the unit is the meter's (or not given),
    L <-> kg for diesel and gasoline by their density (DENSITY_KG_PER_L, the published
    worked example's), else WrongUnit."""
    if unit is None or unit == meter.unit:
        return value
    density = DENSITY_KG_PER_L.get(meter.carrier)
    if density is not None and (unit, meter.unit) == ("L", "kg"):
        return value * density
    if density is not None and (unit, meter.unit) == ("kg", "L"):
        return value / density
    allowed = meter.unit + (" or " + ("L" if meter.unit == "kg" else "kg") if density else "")
    raise WrongUnit(
        f"meter '{meter.id}' counts in {meter.unit}, not {unit} (give {allowed})",
        detail={"meter": meter.id, "unit": unit, "allowed": allowed},
    )


def _not_future(t: dt.datetime, now: dt.datetime, what: str) -> None:
    if t > now:
        raise InTheFuture(
            f"{what} {_fmt(t)} is after now ({_fmt(now)})", detail={"at": t.isoformat()}
        )


def _need(meter: Meter, kind: str) -> None:
    if meter.source != "offline":
        raise NotOffline(
            f"meter '{meter.id}' is read by telemetry: its figures come from the readings store",
            detail={"meter": meter.id},
        )
    if meter.kind != kind:
        what = "readings of a counter" if kind == "counter" else "quantities over a period"
        raise NotOffline(
            f"meter '{meter.id}' is a {meter.kind} meter: it does not take {what}",
            detail={"meter": meter.id, "kind": meter.kind},
        )


def _utc(t: dt.datetime, what: str) -> dt.datetime:
    """The time in UTC; BadFigure for one without a zone or whose UTC instant leaves the
    calendar (year 1 or 9999 in a far zone)."""
    if t.tzinfo is None:
        raise BadFigure(f"{what} has no time zone")
    try:
        return t.astimezone(dt.UTC)
    except OverflowError:
        raise BadFigure(f"{what} ({t.isoformat()}) is out of range") from None


def _finite(*values: float) -> None:
    if not all(math.isfinite(v) for v in values):
        raise BadFigure("a figure must be a finite number")


def _text(value: str | None, what: str) -> None:
    if value is not None and "\x00" in value:
        raise BadFigure(f"{what} must not contain NUL characters")


def record_reading(
    session: Session,
    *,
    meter: Meter,
    at: dt.datetime,
    value: float,
    by: str,
    note: str | None = None,
    unit: str | None = None,
    source: Source = "manual",
    now: dt.datetime | None = None,
) -> OfflineEntry:
    """Store a reading of an offline counter meter (see the module docstring for what is
    refused)."""
    _need(meter, "counter")
    at = _utc(at, "the reading's time")
    _text(note, "a note")
    _not_future(at, now or utcnow(), "the reading's time")
    _finite(value)
    v = to_meter_unit(meter, value, unit)
    if v < 0:
        raise BadFigure(f"a counter reading cannot be negative ({_num(value)})")
    before, same, after = repository.neighbours(session, meter.id, at)
    if same is not None:
        raise DuplicateReading(
            f"meter '{meter.id}' already has a reading at {_fmt(at)}: entry {same.id} "
            f"({_num(same.value)} {meter.unit})",
            detail={"entry": same.id},
        )
    for near, later in ((before, False), (after, True)):
        if near is None or near.at is None:
            continue
        lo, hi = (at, near.at) if later else (near.at, at)
        goes_back = near.value < v if later else v < near.value
        if goes_back and not repository.replacements_between(session, meter.id, lo, hi):
            side = "the next" if later else "the previous"
            raise CounterBackwards(
                f"{_num(v)} {meter.unit} at {_fmt(at)} goes backwards against {side} reading, "
                f"entry {near.id}: {_num(near.value)} {meter.unit} at {_fmt(near.at)} "
                "(record the meter's replacement first if it was swapped)",
                detail={"entry": near.id, "at": near.at.isoformat(), "value": near.value},
            )
    row = OfflineEntry(
        meter=meter.id,
        kind="reading",
        at=at,
        value=v,
        entered_value=value,
        entered_unit=unit or meter.unit,
        source=source,
        note=note,
        recorded_by=by,
    )
    repository.add(session, row)
    return row


def record_quantity(
    session: Session,
    *,
    meter: Meter,
    start: dt.datetime,
    end: dt.datetime,
    amount: float,
    unit: str | None,
    by: str,
    source: Source = "manual",
    note: str | None = None,
    now: dt.datetime | None = None,
) -> OfflineEntry:
    """Store a quantity an offline quantity meter used over [start, end) (an invoice, a
    delivery); a simulated figure for a period it already has replaces it (idempotent)."""
    _need(meter, "quantity")
    start, end = _utc(start, "the period's start"), _utc(end, "the period's end")
    _text(note, "a note")
    if end <= start:
        raise BadFigure(f"the period ends ({_fmt(end)}) before it starts ({_fmt(start)})")
    _not_future(end, now or utcnow(), "the period's end")
    _finite(amount)
    v = to_meter_unit(meter, amount, unit)
    if v < 0:
        raise BadFigure(f"an amount cannot be negative ({_num(amount)})")
    clashes = repository.overlapping_quantities(session, meter.id, start, end)
    if source == "simulated":
        for old in clashes:
            if old.source == "simulated" and (old.start, old.end) == (start, end):
                old.value, old.entered_value = v, amount
                old.entered_unit, old.note = unit or meter.unit, note
                session.flush()
                return old
    if clashes:
        c = clashes[0]
        assert c.start is not None and c.end is not None
        raise OverlappingQuantity(
            f"meter '{meter.id}' already has {_num(c.value)} {meter.unit} for {_fmt(c.start)} "
            f"to {_fmt(c.end)} (entry {c.id}), which overlaps this period",
            detail={"entry": c.id},
        )
    row = OfflineEntry(
        meter=meter.id,
        kind="quantity",
        start=start,
        end=end,
        value=v,
        entered_value=amount,
        entered_unit=unit or meter.unit,
        source=source,
        note=note,
        recorded_by=by,
    )
    repository.add(session, row)
    return row


def record_replacement(
    session: Session,
    *,
    meter: Meter,
    at: dt.datetime,
    old_final: float,
    new_initial: float,
    by: str,
    note: str | None = None,
    now: dt.datetime | None = None,
) -> MeterReplacement:
    """Record that a counter meter (telemetry or offline) was swapped at `at`: the old meter's
    final reading and the new one's first. For an offline counter the old final may not be
    below the reading before, nor the new initial above the reading after."""
    if meter.kind != "counter":
        raise NotOffline(
            f"meter '{meter.id}' is a quantity meter: it has no counter to replace",
            detail={"meter": meter.id},
        )
    at = _utc(at, "the replacement's time")
    _text(note, "a note")
    _not_future(at, now or utcnow(), "the replacement's time")
    _finite(old_final, new_initial)
    if old_final < 0 or new_initial < 0:
        raise BadFigure("a counter reading cannot be negative")
    if any(r.at == at for r in repository.replacements(session, meter.id)):
        raise DuplicateReading(f"meter '{meter.id}' already has a replacement at {_fmt(at)}")
    if meter.source == "offline":
        before, _same, after = repository.neighbours(session, meter.id, at)
        if before is not None and before.at is not None and old_final < before.value:
            raise CounterBackwards(
                f"the old meter's final {_num(old_final)} is below its reading at "
                f"{_fmt(before.at)}, entry {before.id}: {_num(before.value)}",
                detail={"entry": before.id},
            )
        if after is not None and after.at is not None and new_initial > after.value:
            raise CounterBackwards(
                f"the new meter's first {_num(new_initial)} is above its reading at "
                f"{_fmt(after.at)}, entry {after.id}: {_num(after.value)}",
                detail={"entry": after.id},
            )
    row = MeterReplacement(
        meter=meter.id,
        at=at,
        old_final=old_final,
        new_initial=new_initial,
        note=note,
        recorded_by=by,
    )
    repository.add(session, row)
    return row


def list_entries(
    session: Session,
    *,
    meter: Meter,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> Sequence[OfflineEntry]:
    """A meter's entries in time order, those touching [start, end) when given."""
    return repository.entries(session, meter.id, start=start, end=end)


def delete_entry(session: Session, *, meter: Meter, entry_id: int) -> None:
    """Delete one entry of a meter (404 when it has none with that id)."""
    row = repository.entry(session, meter.id, entry_id)
    if row is None:
        raise UnknownEntry(
            f"meter '{meter.id}' has no entry {entry_id}",
            detail={"meter": meter.id, "entry": entry_id},
        )
    repository.delete(session, row)


def list_replacements(session: Session, *, meter: Meter) -> Sequence[MeterReplacement]:
    """A meter's recorded replacements in time order."""
    return repository.replacements(session, meter.id)
