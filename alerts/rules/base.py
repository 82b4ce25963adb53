"""What every rule type shares, and the evaluator interface each type implements.

A rule says *what* is wrong; the engine (alerts/engine.py) says *when* that becomes an alert:
pending for ``for``, firing, held for ``keep_firing_for`` after it clears, nodata, error.
Evaluators are small in-memory objects, one per (rule, asset), fed every reading of the rule's
point in time order; they never touch the database.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from config.units import Duration
from core.i18n import LANGS, translate

#: How long a work order resolved while its alert still fires waits for the alert to clear
#: before it reopens by itself (a rule's ``proof_window`` unless it sets one).
DEFAULT_PROOF_WINDOW = 15 * 60.0


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
    #: The name in Simplified Chinese (optional; shown by the zh-CN UI).
    name_zh: str | None = Field(default=None, min_length=1, max_length=200)
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
    #: A work order resolved while this alert still fires reopens by itself unless the alert
    #: clears within this long of the resolve (a fix that did not hold resolved nothing).
    proof_window: Duration = Field(default=DEFAULT_PROOF_WINDOW, gt=0)

    def evaluator(self, ctx: Context) -> Evaluator:  # pragma: no cover - every type overrides
        """A fresh evaluator for one asset."""
        raise NotImplementedError

    def describe(self) -> str:
        """Human summary of the condition."""
        return self.name

    def phrase(self, unit: str = "") -> Phrase:
        """The condition as a phrase to translate; `unit` is the point's unit, when known."""
        return Phrase("{name}", {"name": self.name})

    def level(self) -> float | None:
        """The level a chart of the point draws as the rule's limit; None when the rule has no
        such level (rates, counters, stale points)."""
        return None

    def words(self, unit: str = "") -> dict[str, str]:
        """The condition in plain words in every language, e.g. {"en": "motor current above
        26 A for 20 s", "zh-CN": "电机电流高于 26 A，持续 20 秒"}."""
        phrase = self.phrase(unit)
        return {lang: phrase.say(lang) for lang in LANGS}


# --- rules in words -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Phrase:
    """Words to translate: an English message id with {placeholders} (its Chinese is in
    core/locale/zh_CN/LC_MESSAGES/rules.po) and the values, which may be phrases themselves."""

    msgid: str
    values: Mapping[str, object] = field(default_factory=dict)

    def say(self, lang: str) -> str:
        """The phrase in lang (one of core.i18n.LANGS)."""
        values = {k: v.say(lang) if isinstance(v, Phrase) else v for k, v in self.values.items()}
        return translate(lang, self.msgid).format(**values)


#: Point-name words written in capitals when a name is turned into words.
_CAPITALS = frozenset({"dc", "ac", "l1", "l2", "l3", "n", "co2", "pm2", "pm10"})
#: Units as written for people.
_UNIT_SYMBOLS = {"degC": "°C", "degF": "°F", "m3/h": "m³/h", "m3": "m³", "m3/s": "m³/s"}


def point_phrase(point: str) -> Phrase:
    """A point name in words: 'motor_current' is 'motor current' (its Chinese from the rules
    catalog), 'voltage_l1' is 'voltage L1'."""
    parts = [p.upper() if p in _CAPITALS else p for p in re.split(r"[_\s]+", point) if p]
    words = " ".join(parts) or point
    return Phrase(words)


def number(value: float) -> str:
    """A number as people write it: 26, 0.8, 1.25, 50,000 (never 5e+04)."""
    if math.isfinite(value) and abs(value) < 1e15 and value == int(value):
        return f"{int(value):,}" if abs(value) >= 10_000 else str(int(value))
    text = f"{value:.6g}"
    if "e" in text:
        text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text


def quantity(value: float, unit: str = "") -> str:
    """A number with its unit: '26 A', '95 °C', '0.8'."""
    symbol = _UNIT_SYMBOLS.get(unit, unit)
    return f"{number(value)} {symbol}" if symbol else number(value)


def duration_phrase(seconds: float) -> Phrase:
    """A duration in the largest unit that divides it: 20 s, 3 min, 2 h, 1 d."""
    for size, msgid in ((86400.0, "{n} d"), (3600.0, "{n} h"), (60.0, "{n} min")):
        if seconds >= size and seconds % size == 0:
            return Phrase(msgid, {"n": number(seconds / size)})
    return Phrase("{n} s", {"n": number(seconds)})


def per_phrase(seconds: float) -> Phrase:
    """What a rate is per: 'hour' for 1 h, else the duration ('10 min')."""
    if seconds == 1:
        return Phrase("second")
    if seconds == 60:
        return Phrase("minute")
    if seconds == 3600:
        return Phrase("hour")
    if seconds == 86400:
        return Phrase("day")
    return duration_phrase(seconds)
