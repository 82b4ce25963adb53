"""API shapes of the overview."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from workorders.orders.models import Priority


class Figure(BaseModel):
    """One figure and the list behind it."""

    count: int
    url: str = Field(description="The API request that lists what the figure counts")
    page: str = Field(description="The UI page that lists it")


class PriorityFigure(Figure):
    """Open work orders of one priority."""

    priority: Priority


class BuildingFigure(Figure):
    """Open work orders on the assets of one building (building_id null: no building)."""

    building_id: str | None
    name: str | None
    name_zh: str | None


class WorkOrderFigures(BaseModel):
    """Open work orders: all of them, by priority (P1..P4) and by building (site order)."""

    open: Figure
    by_priority: list[PriorityFigure]
    by_building: list[BuildingFigure]


class SlaFigures(BaseModel):
    """Open work by its SLA clocks (the work-order list's `sla` filter says how)."""

    at_risk: Figure
    breached: Figure


class AlertFigures(BaseModel):
    """Live alerts."""

    firing: Figure
    pending: Figure
    unacknowledged: Figure = Field(description="Firing and not acknowledged by anyone")


class PmFigures(BaseModel):
    """Preventive maintenance due this month (the site's time zone), as the PM calendar
    (GET /api/v1/pm/calendar) judges it, statutory limits included."""

    month: str = Field(description="YYYY-MM")
    due: Figure = Field(description="PM jobs due this month, cancelled ones left out")
    done: Figure = Field(description="Of those, done (on time or late)")
    overdue: Figure = Field(
        description="Of those, not done past their deadline, or never opened (missed)"
    )


class CollectorFigures(BaseModel):
    """The collectors' health as their own records in the readings store say."""

    reporting: bool = Field(description="The newest heartbeat is recent (a few intervals)")
    stopped: bool = Field(description="The collector stopped cleanly at reported_at")
    reported_at: dt.datetime | None
    devices: int
    devices_quarantined: Figure
    devices_unavailable: Figure = Field(description="Failing, not quarantined yet")
    links: int
    links_down: Figure
    points: int
    stale_points: Figure = Field(
        description="Points whose newest good reading is older than three poll intervals"
    )
    buffer_depth: Figure = Field(description="Readings waiting in the sinks' disk buffers")
    dropped: int = Field(description="Readings the buffers dropped because they were full")


class OverviewOut(BaseModel):
    """Everything an engineer looks at first, each figure with the list behind it."""

    generated_at: dt.datetime
    workorders: WorkOrderFigures
    sla: SlaFigures
    alerts: AlertFigures
    pm: PmFigures
    collectors: CollectorFigures | None = Field(
        description="null when the readings store cannot be read (collectors_error says why)"
    )
    collectors_error: str | None = None


DeviceState = Literal["ok", "quarantined", "unavailable", "pending", "unknown"]


class DeviceHealthOut(BaseModel):
    """A device of the site as its collector last reported it (unknown: no record)."""

    id: str
    asset_id: str
    link: str
    state: DeviceState
    last_good_at: dt.datetime | None = Field(description="Its last answered poll")
    reported_at: dt.datetime | None


class LinkHealthOut(BaseModel):
    """A link (TCP gateway, serial port) of the site."""

    key: str
    up: bool | None = Field(description="Some device behind it answers; null: no record")
    reconnects: int
    errors: int
    reported_at: dt.datetime | None


class SinkHealthOut(BaseModel):
    """A store the collector forwards readings to, behind its disk buffer."""

    name: str
    buffer_depth: int
    dropped: int
    reported_at: dt.datetime | None


class StalePointOut(BaseModel):
    """A point whose readings have gone stale."""

    asset_id: str
    point: str
    device: str
    interval_seconds: float = Field(description="Its poll interval")
    last_good_at: dt.datetime | None = Field(description="null: none within the last day")


class CollectorHealthOut(BaseModel):
    """The lists behind the collector figures."""

    reporting: bool
    stopped: bool = Field(description="The collector stopped cleanly at reported_at")
    reported_at: dt.datetime | None
    interval_seconds: float | None = Field(description="Seconds between health records")
    devices: list[DeviceHealthOut]
    links: list[LinkHealthOut]
    sinks: list[SinkHealthOut]
    stale: list[StalePointOut]
    points: int = Field(description="Points the site polls")
