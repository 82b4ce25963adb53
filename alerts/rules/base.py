"""What every rule type shares, and the evaluator interface each type implements.

A rule says *what* is wrong; the engine (alerts/engine.py) says *when* that becomes an alert:
pending for ``for``, firing, held for ``keep_firing_for`` after it clears, nodata, error.
Evaluators are small in-memory objects, one per (rule, asset), fed every reading of the rule's
point in time order; they never touch the database.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from config.units import Duration


class Severity(StrEnum):
    """Alert severity; maps to a work-order priority."""

    critical = "critical"
    major = "major"
    minor = "minor"
    info = "info"


#: Severity -> work-order priority (P1 emergency ... P4 planned).
SEVERITY_PRIORITY: dict[Severity, str] = {
    Severity.critical: "P1",
    Severity.major: "P2",
    Severity.minor: "P3",
    Severity.info: "P4",
}


class Selector(BaseModel):
    """Which assets a rule applies to. Every given criterion must match; none given matches all."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    asset_class: list[str] = Field(default_factory=list)
    building: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    assets: list[str] = Field(default_factory=list)

    def matches(self, asset_id: str, brick_class: str, tags: list[str], building_id: str) -> bool:
        """True when the asset meets every criterion given. Tags match when the asset has any
        of them; the other lists name allowed values."""
        return (
            (not self.asset_class or brick_class in self.asset_class)
            and (not self.building or building_id in self.building)
            and (not self.tags or bool(set(self.tags) & set(tags)))
            and (not self.assets or asset_id in self.assets)
        )


@dataclass(frozen=True)
class Verdict:
    """What an evaluator concluded: the condition holds (breach) or not, and what it saw."""

    breach: bool
    value: float | None = None
    detail: str = ""


#: The verdict of a quiet reading: no breach, nothing to record. Evaluators return this shared
#: one when the alert is inactive and stays so, which is nearly always: no allocation per reading.
OK = Verdict(False)


@dataclass(frozen=True)
class Context:
    """What evaluators may need to know about the site."""

    tz: ZoneInfo

    def local(self, ts: float) -> dt.datetime:
        """The site's local time at UNIX time ts."""
        return dt.datetime.fromtimestamp(ts, self.tz)


class Evaluator:
    """Per (rule, asset) memory and logic. Subclasses override what they need."""

    #: True for rules whose breach is an event rather than a condition (meter_interval): the
    #: engine fires and resolves it at once, and the work order is preventive.
    instant = False
    #: Values in this closed range change nothing while the alert is inactive, and need no
    #: call at all: an evaluator without memory (threshold) declares it, so the engine skips
    #: the call for nearly every reading. The default, an empty range, means always call.
    quiet: tuple[float, float] = (math.inf, -math.inf)
    #: For an evaluator that only needs to know when the last good reading came (stale): the
    #: engine writes a quiet reading's time to ``last_good`` instead of calling observe().
    timed = False
    last_good: float | None = None

    def observe(self, ts: float, value: float, active: bool) -> Verdict | None:
        """A good reading. ``active``: the alert is pending or firing (for hysteresis).
        None means no conclusion yet (not enough data)."""
        return None

    def missing(self, ts: float) -> Verdict | None:
        """A reading that carried no usable value (unavailable, out of range, stale)."""
        return None

    def tick(self, now: float) -> Verdict | None:
        """Time passed with no reading (only time-driven rules answer)."""
        return None

    def snapshot(self) -> dict[str, Any] | None:
        """State that must survive a restart, or None when there is none."""
        return None

    def restore(self, data: dict[str, Any]) -> None:
        """Take back what snapshot() returned before a restart."""


class RuleBase(BaseModel):
    """Fields common to all rule types."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    name: str
    description: str = ""
    select: Selector = Field(default_factory=Selector)
    point: str
    severity: Severity = Severity.minor
    enabled: bool = True
    #: How long the condition must hold before the alert fires (pending meanwhile).
    for_: Duration = Field(default=0.0, alias="for")
    #: After the condition clears, keep firing this long; a relapse meanwhile is the same alert.
    keep_firing_for: Duration = 0.0
    #: No usable reading for this long puts the alert in 'nodata' (unset: never).
    nodata_after: Duration | None = None
    #: How long the signal must stay back in range before an alert work order may be verified.
    verify_for: Duration = 0.0

    def evaluator(self, ctx: Context) -> Evaluator:  # pragma: no cover - every type overrides
        """A fresh evaluator for one asset."""
        raise NotImplementedError

    def describe(self) -> str:
        """Human summary of the condition."""
        return self.name
