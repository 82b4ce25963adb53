"""Every query of the offline meters' tables."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from analytics.offline.models import MeterReplacement, OfflineEntry


def entries(
    session: Session,
    meter: str,
    *,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> Sequence[OfflineEntry]:
    """A meter's entries in time order (a reading by its time, a quantity by its start), those
    touching [start, end) when given (a quantity overlapping it counts)."""
    q = select(OfflineEntry).where(OfflineEntry.meter == meter)
    if start is not None:
        q = q.where((OfflineEntry.at >= start) | (OfflineEntry.end > start))
    if end is not None:
        q = q.where((OfflineEntry.at < end) | (OfflineEntry.start < end))
    q = q.order_by(OfflineEntry.at, OfflineEntry.start, OfflineEntry.id)
    return session.scalars(q).all()


def readings_window(
    session: Session, meter: str, start: dt.datetime, end: dt.datetime
) -> Sequence[OfflineEntry]:
    """A counter meter's readings in [start, end) and the nearest one on each side of it, in
    time order (consumption over the window needs the readings around it)."""
    base = select(OfflineEntry).where(OfflineEntry.meter == meter, OfflineEntry.kind == "reading")
    before = session.scalars(
        base.where(OfflineEntry.at < start).order_by(OfflineEntry.at.desc()).limit(1)
    ).all()
    inside = session.scalars(
        base.where(OfflineEntry.at >= start, OfflineEntry.at < end).order_by(OfflineEntry.at)
    ).all()
    after = session.scalars(
        base.where(OfflineEntry.at >= end).order_by(OfflineEntry.at).limit(1)
    ).all()
    return [*before, *inside, *after]


def neighbours(
    session: Session, meter: str, at: dt.datetime
) -> tuple[OfflineEntry | None, OfflineEntry | None, OfflineEntry | None]:
    """A counter meter's reading before `at`, at `at`, and after it."""
    base = select(OfflineEntry).where(OfflineEntry.meter == meter, OfflineEntry.kind == "reading")
    before = session.scalars(
        base.where(OfflineEntry.at < at).order_by(OfflineEntry.at.desc()).limit(1)
    ).first()
    same = session.scalars(base.where(OfflineEntry.at == at).limit(1)).first()
    after = session.scalars(
        base.where(OfflineEntry.at > at).order_by(OfflineEntry.at).limit(1)
    ).first()
    return before, same, after


def overlapping_quantities(
    session: Session, meter: str, start: dt.datetime, end: dt.datetime
) -> Sequence[OfflineEntry]:
    """A quantity meter's entries whose period overlaps [start, end)."""
    return session.scalars(
        select(OfflineEntry)
        .where(
            OfflineEntry.meter == meter,
            OfflineEntry.kind == "quantity",
            OfflineEntry.start < end,
            OfflineEntry.end > start,
        )
        .order_by(OfflineEntry.start)
    ).all()


def entry(session: Session, meter: str, entry_id: int) -> OfflineEntry | None:
    """One entry of a meter."""
    return session.scalars(
        select(OfflineEntry).where(OfflineEntry.id == entry_id, OfflineEntry.meter == meter)
    ).first()


def replacements(session: Session, meter: str) -> Sequence[MeterReplacement]:
    """A meter's recorded replacements in time order."""
    return session.scalars(
        select(MeterReplacement)
        .where(MeterReplacement.meter == meter)
        .order_by(MeterReplacement.at)
    ).all()


def replacements_between(
    session: Session, meter: str, after: dt.datetime | None, upto: dt.datetime | None
) -> Sequence[MeterReplacement]:
    """A meter's replacements in (after, upto] (open ends when None)."""
    q = select(MeterReplacement).where(MeterReplacement.meter == meter)
    if after is not None:
        q = q.where(MeterReplacement.at > after)
    if upto is not None:
        q = q.where(MeterReplacement.at <= upto)
    return session.scalars(q.order_by(MeterReplacement.at)).all()


def add(session: Session, row: OfflineEntry | MeterReplacement) -> None:
    """Stage a new row and give it its id."""
    session.add(row)
    session.flush()


def delete(session: Session, row: OfflineEntry) -> None:
    """Delete an entry."""
    session.delete(row)
    session.flush()
