"""Where readings go: the embedded store, InfluxDB 1.x (v1 API) and 2.x/3.x (v2 API)."""

from __future__ import annotations

from typing import Protocol

from collectors.readings import Reading


class Sink(Protocol):
    """Writes a batch of readings or raises; never drops part of a batch silently."""

    name: str

    def write(self, readings: list[Reading]) -> None:
        """Store every reading of the batch, or raise."""

    def close(self) -> None:
        """Release connections."""
