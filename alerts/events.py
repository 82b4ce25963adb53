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
