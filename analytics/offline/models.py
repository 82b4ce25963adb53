"""Tables of the offline meters: their entries (a counter's readings, an invoice's quantity) and
the recorded replacements of any counter meter (telemetry or offline)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow


class OfflineEntry(Base):
    """One figure of an offline meter: a counter reading at `at`, or a quantity used over
    [start, end). `value` is in the meter's unit; what was typed is kept beside it."""

    __tablename__ = "energy_offline_entries"
    __table_args__ = (
        Index("ix_energy_offline_entries_meter_at", "meter", "at"),
        Index("ix_energy_offline_entries_meter_start", "meter", "start"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meter: Mapped[str] = mapped_column(String(100))
    #: "reading" (a counter meter's) or "quantity" (a quantity meter's)
    kind: Mapped[str] = mapped_column(String(10))
    at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    start: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    end: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    value: Mapped[float] = mapped_column(Float)
    entered_value: Mapped[float] = mapped_column(Float)
    entered_unit: Mapped[str] = mapped_column(String(10))
    #: "manual", "import" or "simulated" (the demo's history generator)
    source: Mapped[str] = mapped_column(String(20), default="manual")
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MeterReplacement(Base):
    """A counter meter swapped at `at`: the old meter's final reading and the new one's first
    (analytics.counters.Replacement)."""

    __tablename__ = "energy_meter_replacements"
    __table_args__ = (Index("ix_energy_meter_replacements_meter_at", "meter", "at", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meter: Mapped[str] = mapped_column(String(100))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    old_final: Mapped[float] = mapped_column(Float)
    new_initial: Mapped[float] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
