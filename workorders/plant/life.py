"""Expected service lives and the repair-or-replace thresholds, as versioned tables.

An asset's own ``expected_life_years`` (site.yaml or the API) wins; without one, the median
service life of its Brick class from the table below stands in, and the answer says so.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Life:
    """A median service life and what it is the life of."""

    years: float
    basis: str


#: Which table this is, named in every answer that uses it.
LIFE_TABLE = "ASHRAE median service life (DOMAIN.md 'Ageing equipment', 2026-12)"

#: Median service life in years by Brick class (ASHRAE, DOMAIN.md). A jockey pump is a small
#: inline pump; a fire pump a base-mounted one.
MEDIAN_LIFE: dict[str, Life] = {
    "Pump": Life(20, "base-mounted pump"),
    "Fire_Pump": Life(20, "base-mounted pump"),
    "Jockey_Pump": Life(10, "inline pump"),
    "Chiller": Life(23, "centrifugal chiller"),
    "Boiler": Life(25, "fire-tube boiler"),
    "Cooling_Tower": Life(20, "cooling tower"),
    "Fan": Life(25, "fans"),
    "Motor": Life(18, "motors"),
    "Transformer": Life(30, "transformers"),
    "Air_Handling_Unit": Life(30, "AHU"),
    "Switchgear": Life(30, "switchgear"),
    "Water_Heater": Life(10, "water heater"),
    "Elevator": Life(20, "elevator: modernise at 20-25 years"),
}

#: China designs elevators for 15 years; some provinces require a safety assessment after it.
ELEVATOR_ASSESSMENT_YEARS = 15.0

#: Repair or replace (DOMAIN.md): cumulative repair cost over the asset's life as a share of
#: its replacement cost: a warning from 50 %, replace from 75 %.
REPAIR_WARNING_SHARE = 0.50
REPAIR_REPLACE_SHARE = 0.75
