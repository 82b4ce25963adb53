"""Work-order tables: assets, work orders and their timeline."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UTCDateTime, utcnow


class Status(StrEnum):
    """Lifecycle states of a work order."""

    new = "new"
    assigned = "assigned"
    acknowledged = "acknowledged"
    in_progress = "in_progress"
    on_hold = "on_hold"
    resolved = "resolved"
    verified = "verified"
    closed = "closed"
    cancelled = "cancelled"


#: States in which the crew still owes work.
OPEN_STATES = frozenset(
    {Status.new, Status.assigned, Status.acknowledged, Status.in_progress, Status.on_hold}
)
#: States after which a new alert on the same asset and rule starts a new work order.
FINAL_STATES = frozenset({Status.verified, Status.closed, Status.cancelled})


class Priority(StrEnum):
    """P1 emergency .. P4 planned."""

    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"


class WorkOrderType(StrEnum):
    """What kind of job it is."""

    corrective = "corrective"
    preventive = "preventive"
    inspection = "inspection"
    request = "request"


class HoldReason(StrEnum):
    """Why a job waits: the SLA clock pauses, and the reason is on record."""

    parts = "parts"
    access = "access"
    contractor = "contractor"
    other = "other"


class Origin(StrEnum):
    """How a work order came to be."""

    alert = "alert"
    pm = "pm"
    request = "request"
    manual = "manual"


class Location(Base):
    """A place in the hierarchy site > building > floor > room."""

    __tablename__ = "locations"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"), index=True)
    #: site, building, floor or room; a child is always one level below its parent.
    kind: Mapped[str] = mapped_column(String(20))
    #: Stable identifier, unique: the site's or building's id from site.yaml, or one given by hand.
    code: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: The name in Simplified Chinese (site.yaml's name_zh), when given.
    name_zh: Mapped[str | None] = mapped_column(String(200))
    #: 'site' when mirrored from site.yaml (re-synced at start), 'api' when made by a person.
    source: Mapped[str] = mapped_column(String(10), default="api")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class Asset(Base):
    """Equipment: mirrored from the site configuration, or created through the API."""

    __tablename__ = "assets"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    brick_class: Mapped[str] = mapped_column(String(80))
    building_id: Mapped[str] = mapped_column(String(100))
    building_name: Mapped[str] = mapped_column(String(200))
    location: Mapped[str] = mapped_column(String(400), default="")
    #: name, building_name and location in Simplified Chinese (site.yaml's name_zh), when given.
    name_zh: Mapped[str | None] = mapped_column(String(200))
    building_name_zh: Mapped[str | None] = mapped_column(String(200))
    location_zh: Mapped[str | None] = mapped_column(String(400))
    install_date: Mapped[dt.date | None] = mapped_column(Date)
    expected_life_years: Mapped[float | None] = mapped_column(Float)
    replacement_cost: Mapped[float | None] = mapped_column(Float)
    criticality: Mapped[str] = mapped_column(String(20), default="medium")
    parent_meter_id: Mapped[str | None] = mapped_column(String(100))
    sub_item: Mapped[str | None] = mapped_column(String(10))
    #: Where it stands, in the location hierarchy (a floor or room, else its building).
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"), index=True)
    #: 'site' when mirrored from site.yaml, 'api' when made by a person.
    source: Mapped[str] = mapped_column(String(10), default="site")
    #: A retired asset keeps its history but takes no new work orders.
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class WorkOrder(Base):
    """A job for a crew or contractor."""

    __tablename__ = "work_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default=Status.new, index=True)
    priority: Mapped[str] = mapped_column(String(2), default=Priority.P3)
    type: Mapped[str] = mapped_column(String(20), default="corrective")
    origin: Mapped[str] = mapped_column(String(10), default=Origin.manual)
    asset_id: Mapped[str | None] = mapped_column(ForeignKey("assets.id"), index=True)
    rule_id: Mapped[str | None] = mapped_column(String(100))
    #: Indexed by the composite (contractor_id, status, id) and (assignee_id, status, id) below:
    #: single-column indexes on these made SQLite read a technician's whole history to find
    #: the few open ones (it preferred them for their free ORDER BY id).
    contractor_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: Why it is on hold (HoldReason) while status is on_hold, else None.
    hold_reason: Mapped[str | None] = mapped_column(String(20))
    cause_code: Mapped[str | None] = mapped_column(String(50))
    resolution_code: Mapped[str | None] = mapped_column(String(50))
    #: [{"item": str, "done": bool | None, "result": str, "by": str | None, "at": iso | None}]
    checklist: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    #: The SLA policy the clocks run under, copied in when the policy is chosen (at creation,
    #: and again when priority or contractor change), so a later edit of the site's policies
    #: does not rewrite the terms a job was taken on. None: no SLA (preventive work).
    sla_policy: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    response_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    resolution_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)
    response_met_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    response_breached: Mapped[bool] = mapped_column(Boolean, default=False)
    resolution_breached: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Working seconds the resolution clock has spent paused on hold.
    sla_paused_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    #: Clocks whose stored due time is provisional, with the years no holiday table knew:
    #: {"response": [2027], "resolution": [2027]}; NULL when both are exact. Recomputed once
    #: the years are loaded (workorders.sla.service.recompute).
    sla_provisional: Mapped[dict[str, list[int]] | None] = mapped_column(JSON(none_as_null=True))
    #: Sum of labor, parts and other costs, kept by the service for lists and asset history.
    cost_total: Mapped[float] = mapped_column(Float, default=0.0)
    #: How to reach whoever reported it (occupant requests): free text, optional.
    reporter_contact: Mapped[str | None] = mapped_column(String(200))
    #: The reading that opened it: {point, value, unit, ts, device}.
    trigger: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    alert_count: Mapped[int] = mapped_column(Integer, default=0)
    #: 'alert:<rule>:<asset>' while not final; unique, so the database allows one such order.
    dedup_key: Mapped[str | None] = mapped_column(String(250), unique=True)
    #: 'pm:<schedule>:<asset>:<due, UTC ISO>' for a preventive-maintenance occurrence. Unlike
    #: dedup_key it stays set for good, so a closed PM order is never generated again.
    pm_key: Mapped[str | None] = mapped_column(String(250), unique=True)
    #: When the work is due: the PM occurrence a preventive work order stands for.
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)
    created_by: Mapped[str] = mapped_column(String(80), default="system")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    #: Resolved while its alert still fired: the fix is not proven until the alert clears.
    awaiting_proof: Mapped[bool] = mapped_column(Boolean, default=False)
    #: When an unproven fix reopens by itself (the rule's proof_window after the resolve).
    proof_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)

    asset: Mapped[Asset | None] = relationship(lazy="raise")
    events: Mapped[list[WorkOrderEvent]] = relationship(
        lazy="raise", back_populates="workorder", order_by="WorkOrderEvent.id"
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
    __table_args__ = (
        # A technician's "my open work orders", and a contractor's list, newest first.
        Index("ix_work_orders_assignee_status_id", "assignee_id", "status", "id"),
        Index("ix_work_orders_contractor_status_id", "contractor_id", "status", "id"),
    )


class WorkOrderEvent(Base):
    """One entry in a work order's timeline."""

    __tablename__ = "work_order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    workorder_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), index=True)
    #: When it happened: for a person's action, the time their device stated (an offline
    #: tablet syncs later), bounded by what the server knew when it arrived.
    ts: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: When the server received a person's action (NULL for the system's own entries).
    received_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(30))
    actor: Mapped[str] = mapped_column(String(80), default="system")
    message: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    workorder: Mapped[WorkOrder] = relationship(lazy="raise", back_populates="events")


class LaborEntry(Base):
    """Hours someone worked on a job, at a rate."""

    __tablename__ = "work_order_labor"

    id: Mapped[int] = mapped_column(primary_key=True)
    workorder_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), index=True)
    worker: Mapped[str] = mapped_column(String(80))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    hours: Mapped[float] = mapped_column(Float)
    rate: Mapped[float] = mapped_column(Float, default=0.0)
    #: When the work was done (the crew's clock), not when the entry arrived.
    worked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PartLine(Base):
    """Parts and materials used on a job."""

    __tablename__ = "work_order_parts"

    id: Mapped[int] = mapped_column(primary_key=True)
    workorder_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), index=True)
    part: Mapped[str] = mapped_column(String(200))
    part_number: Mapped[str] = mapped_column(String(80), default="")
    quantity: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(20), default="pcs")
    unit_cost: Mapped[float] = mapped_column(Float, default=0.0)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OtherCost(Base):
    """Any other cost of a job: a crane hire, a call-out fee."""

    __tablename__ = "work_order_costs"

    id: Mapped[int] = mapped_column(primary_key=True)
    workorder_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), index=True)
    description: Mapped[str] = mapped_column(String(300))
    amount: Mapped[float] = mapped_column(Float)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Attachment(Base):
    """A photo or document on a job, stored under the data directory."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    workorder_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    #: Relative to <data_dir>/attachments; never taken from the client.
    path: Mapped[str] = mapped_column(String(400))
    uploaded_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
