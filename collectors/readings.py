"""The reading: what every part past the Modbus link sees."""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple


class Quality(StrEnum):
    """How far a reading can be trusted. Anything but good carries no usable number."""

    good = "good"
    unavailable = "unavailable"
    out_of_range = "out_of_range"
    stale = "stale"


class Reading(NamedTuple):
    """One point of one device at one instant (ts in UNIX seconds, UTC).

    A named tuple: immutable, and built several times faster than a frozen dataclass, which
    matters at tens of thousands of readings a second.
    """

    ts: float
    asset: str
    device: str
    point: str
    value: float | str | None
    unit: str
    quality: Quality
    #: 'readings' for device values; 'collector' for the collector's own health figures.
    measurement: str = "readings"

    @property
    def number(self) -> float | None:
        """The value as a number when the reading is good and numeric, else None."""
        if self.quality is Quality.good and isinstance(self.value, int | float):
            return float(self.value)
        return None

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "ts": self.ts,
            "asset": self.asset,
            "device": self.device,
            "point": self.point,
            "value": self.value,
            "unit": self.unit,
            "quality": str(self.quality),
            "measurement": self.measurement,
        }
