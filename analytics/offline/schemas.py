"""Shapes of the offline meters' API (analytics/offline/routes.py) and of meter replacements."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from analytics.offline.importer import ImportResult
from analytics.offline.models import MeterReplacement, OfflineEntry


class EntryIn(BaseModel):
    """A figure of an offline meter: a reading (`at`, `value`) for a counter meter, or a
    quantity (`from`, `to`, `amount`, `unit`) for a quantity meter. Times without a zone are
    the site's local time."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    at: dt.datetime | None = Field(default=None, description="A counter reading's time")
    value: float | None = Field(default=None, ge=0, description="A counter reading")
    start: dt.datetime | None = Field(
        default=None, alias="from", description="A quantity's period start"
    )
    end: dt.datetime | None = Field(
        default=None, alias="to", description="A quantity's period end (excluded)"
    )
    amount: float | None = Field(default=None, ge=0, description="A quantity used")
    unit: str | None = Field(
        default=None,
        max_length=10,
        pattern=r"^[A-Za-z0-9]+$",
        description="The meter's unit (default), or L/kg for diesel and gasoline",
    )
    note: str | None = Field(default=None, max_length=2000, pattern=r"^[^\x00]*$")


class EntryOut(BaseModel):
    """A stored figure of an offline meter."""

    model_config = ConfigDict(populate_by_name=True)

    id: int
    meter: str
    kind: Literal["reading", "quantity"]
    at: dt.datetime | None
    start: dt.datetime | None = Field(serialization_alias="from")
    end: dt.datetime | None = Field(serialization_alias="to")
    value: float = Field(description="The reading or amount in the meter's unit")
    unit: str = Field(description="The meter's unit")
    entered_value: float = Field(description="What was typed or imported")
    entered_unit: str
    source: str = Field(description="manual, import or simulated")
    note: str | None
    recorded_by: str
    recorded_at: dt.datetime

    @classmethod
    def of(cls, e: OfflineEntry, unit: str) -> EntryOut:
        """From a row."""
        return cls(
            id=e.id,
            meter=e.meter,
            kind="reading" if e.kind == "reading" else "quantity",
            at=e.at,
            start=e.start,
            end=e.end,
            value=e.value,
            unit=unit,
            entered_value=e.entered_value,
            entered_unit=e.entered_unit,
            source=e.source,
            note=e.note,
            recorded_by=e.recorded_by,
            recorded_at=e.recorded_at,
        )


class EntriesOut(BaseModel):
    """An offline meter's figures in time order."""

    meter: str
    kind: Literal["counter", "quantity"]
    unit: str
    items: list[EntryOut]


class ImportOut(BaseModel):
    """What an imported file held and what was stored (nothing on a dry run)."""

    kind: Literal["reading", "quantity"]
    rows: int
    dry_run: bool
    stored: int = Field(description="Entries stored: 0 on a dry run")
    meters: dict[str, int] = Field(description="Rows per meter")

    @classmethod
    def of(cls, r: ImportResult) -> ImportOut:
        """From the importer's result."""
        return cls(
            kind="reading" if r.kind == "reading" else "quantity",
            rows=r.rows,
            dry_run=r.dry_run,
            stored=0 if r.dry_run else r.rows,
            meters=r.meters,
        )


class ReplacementIn(BaseModel):
    """A counter meter swapped: when, the old meter's final reading and the new one's first.
    A time without a zone is the site's local time."""

    model_config = ConfigDict(extra="forbid")

    at: dt.datetime
    old_final: float = Field(ge=0)
    new_initial: float = Field(ge=0)
    note: str | None = Field(default=None, max_length=2000, pattern=r"^[^\x00]*$")


class ReplacementOut(BaseModel):
    """A recorded meter replacement."""

    id: int
    meter: str
    at: dt.datetime
    old_final: float
    new_initial: float
    note: str | None
    recorded_by: str
    recorded_at: dt.datetime

    @classmethod
    def of(cls, r: MeterReplacement) -> ReplacementOut:
        """From a row."""
        return cls(
            id=r.id,
            meter=r.meter,
            at=r.at,
            old_final=r.old_final,
            new_initial=r.new_initial,
            note=r.note,
            recorded_by=r.recorded_by,
            recorded_at=r.recorded_at,
        )


class ReplacementsOut(BaseModel):
    """A counter meter's recorded replacements in time order."""

    meter: str
    items: list[ReplacementOut]
