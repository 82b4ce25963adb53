"""Where readings go: the embedded store, InfluxDB 1.x (v1 API) and 2.x/3.x (v2 API)."""

from __future__ import annotations

from typing import Protocol

from collectors.readings import Reading


class Sink(Protocol):
    """Writes a batch of readings or raises; never drops part of a batch silently."""

    name: str
    #: Seconds the forwarder waits after a partial batch, so that the next write carries many
    #: polls' readings: short for a local file, longer where each write is a network round trip.
    linger: float

    def write(self, readings: list[Reading]) -> None:
        """Store every reading of the batch, or raise."""

    def close(self) -> None:
        """Release connections."""
