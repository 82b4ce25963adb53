"""The collectors' section of site.yaml: ``simulation`` (the simulator's seed, scripted
faults and retrofits), added to the topology that config describes."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from config.site import Located, SiteConfig, SiteFile
from config.units import Duration


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Fault(_Strict):
    """A scripted fault for the simulator."""

    device: str
    kind: Literal["bearing_wear", "leak", "door_fault", "silent"]
    #: Seconds after the simulator starts.
    start: Duration = 0.0
    #: How long the fault takes to reach full strength (bearing_wear) or lasts (silent).
    duration: Duration = 60.0
    #: Size of the fault: extra amps (bearing_wear), extra m³/h (leak),
    #: faults per hour (door_fault).
    magnitude: float = 1.0


class Retrofit(_Strict):
    """An energy-saving measure the simulator puts in: from `at` on, the device's load (a
    meter's own load; a main meter's whole reading) is `saving` (a fraction) lower. Unlike a
    fault it is a fixed moment, not timed from the start: a history shows it on its date."""

    device: str
    #: When it takes effect; a date means local midnight in the site's time zone.
    at: dt.datetime | dt.date
    saving: float = Field(gt=0, lt=1)


class Simulation(_Strict):
    """Simulator settings for this site."""

    faults: list[Fault] = Field(default_factory=list)
    retrofits: list[Retrofit] = Field(default_factory=list)
    seed: int = 7


class CollectorsSiteFile(SiteFile):
    """site.yaml with the collectors' section."""

    simulation: Simulation = Field(default_factory=Simulation)

    @classmethod
    def site_problems(cls, site: SiteConfig[Any]) -> list[Located]:
        """Each scripted fault and retrofit names a device the site has."""
        sim = site.doc.simulation
        return [
            (("simulation", "faults", i, "device"), f"unknown device '{f.device}'")
            for i, f in enumerate(sim.faults)
            if f.device not in site.device_ids
        ] + [
            (("simulation", "retrofits", i, "device"), f"unknown device '{r.device}'")
            for i, r in enumerate(sim.retrofits)
            if r.device not in site.device_ids
        ]


#: A site as the collectors and the simulator see it.
CollectorsSite = SiteConfig[CollectorsSiteFile]
