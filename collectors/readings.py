"""The reading: what every part past the Modbus link sees."""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple

#: A signed 64-bit integer's range: the widest integer SQLite and InfluxDB store. A uint64
#: point's value can be larger (up to 2**64 - 1).
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


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
    #: An int for an integer point read without scale or offset (exact, even above 2**53),
    #: a float for every other number, a str for text, None when there is no value.
    value: float | int | str | None
    unit: str
    quality: Quality
    #: 'readings' for device values; 'collector' for the collector's own health figures.
    measurement: str = "readings"

    @property
    def number(self) -> float | int | None:
        """The value when the reading is good and numeric (an int stays an int), else None."""
        if self.quality is Quality.good and isinstance(self.value, int | float):
            return self.value
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
