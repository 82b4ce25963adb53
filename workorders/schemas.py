"""API shapes for work orders and assets."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from workorders.models import Origin, Priority, Status


class EventOut(BaseModel):
    """A timeline entry."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    ts: dt.datetime
    kind: str
    actor: str
    message: str
    data: dict[str, Any] | None


class WorkOrderOut(BaseModel):
    """A work order as the API shows it."""

    id: int
    title: str
    description: str
    status: Status
    priority: Priority
    type: str
    origin: Origin
    asset_id: str | None
    asset_name: str | None
    rule_id: str | None
    trigger: dict[str, Any] | None
    alert_count: int
    contractor_id: int | None
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime
    acknowledged_at: dt.datetime | None
    resolved_at: dt.datetime | None
    closed_at: dt.datetime | None
    allowed_transitions: list[str] = Field(description="States the caller may move it to")


class WorkOrderDetail(WorkOrderOut):
    """A work order with its timeline."""

    events: list[EventOut]


class WorkOrderList(BaseModel):
    """A page of work orders, newest first."""

    items: list[WorkOrderOut]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page")


class WorkOrderCreate(BaseModel):
    """A work order raised by a person."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=300)
    description: str = Field(default="", max_length=10_000)
    priority: Priority = Priority.P3
    type: Literal["corrective", "preventive", "inspection", "request"] = "corrective"
    asset_id: str | None = Field(default=None, max_length=100)
    origin: Literal["manual", "request"] = "manual"


class StatusChange(BaseModel):
    """Move a work order to another state."""

    model_config = ConfigDict(extra="forbid")

    status: Status
    note: str = Field(default="", max_length=5_000)


class AssetOut(BaseModel):
    """An asset."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    brick_class: str
    building_id: str
    building_name: str
    location: str
    install_date: dt.date | None
    expected_life_years: float | None
    replacement_cost: float | None
    criticality: str
    parent_meter_id: str | None
    sub_item: str | None
