"""What every rule type shares: an id, a selector of assets, a point and a severity."""

from __future__ import annotations

from enum import StrEnum

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
    #: How long the signal must stay back in range before an alert work order may be verified.
    verify_for: Duration = 0.0
