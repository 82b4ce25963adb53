"""What the alert engine tells the rest of the system: one event per state change."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class AlertEvent:
    """A (rule, asset) changed state.

    state / previous: inactive, pending, firing, resolved, nodata or error. ``silenced`` and
    ``inhibited`` events are recorded but open no work order and notify nobody.
    """

    rule_id: str
    rule_name: str
    severity: str
    asset_id: str
    asset_name: str
    building_id: str
    state: str
    previous: str
    ts: float
    point: str = ""
    value: float | None = None
    unit: str = ""
    alert_id: int | None = None
    workorder_id: int | None = None
    silenced: bool = False
    inhibited: bool = False
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (webhooks, logs)."""
        return {
            "rule_id": self.rule_id,
            "rule_name": self.rule_name,
            "severity": self.severity,
            "asset_id": self.asset_id,
            "asset_name": self.asset_name,
            "building_id": self.building_id,
            "state": self.state,
            "previous": self.previous,
            "ts": self.ts,
            "point": self.point,
            "value": self.value,
            "unit": self.unit,
            "alert_id": self.alert_id,
            "workorder_id": self.workorder_id,
            "silenced": self.silenced,
            "inhibited": self.inhibited,
            "detail": self.detail,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AlertEvent:
        """The event as_dict() wrote (notifications stored in the outbox)."""
        return cls(
            rule_id=d["rule_id"],
            rule_name=d["rule_name"],
            severity=d["severity"],
            asset_id=d["asset_id"],
            asset_name=d["asset_name"],
            building_id=d["building_id"],
            state=d["state"],
            previous=d["previous"],
            ts=float(d["ts"]),
            point=d.get("point", ""),
            value=d.get("value"),
            unit=d.get("unit", ""),
            alert_id=d.get("alert_id"),
            workorder_id=d.get("workorder_id"),
            silenced=bool(d.get("silenced", False)),
            inhibited=bool(d.get("inhibited", False)),
            detail=dict(d.get("detail") or {}),
        )
