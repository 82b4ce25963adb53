"""Work-order tables: assets, work orders and their timeline."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Date, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from plantroom.db import Base, UTCDateTime, utcnow


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


class Origin(StrEnum):
    """How a work order came to be."""

    alert = "alert"
    pm = "pm"
    request = "request"
    manual = "manual"


class Asset(Base):
    """Equipment, mirrored from the site configuration."""

    __tablename__ = "assets"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    brick_class: Mapped[str] = mapped_column(String(80))
    building_id: Mapped[str] = mapped_column(String(100))
    building_name: Mapped[str] = mapped_column(String(200))
    location: Mapped[str] = mapped_column(String(400), default="")
    install_date: Mapped[dt.date | None] = mapped_column(Date)
    expected_life_years: Mapped[float | None] = mapped_column(Float)
    replacement_cost: Mapped[float | None] = mapped_column(Float)
    criticality: Mapped[str] = mapped_column(String(20), default="medium")
    parent_meter_id: Mapped[str | None] = mapped_column(String(100))
    sub_item: Mapped[str | None] = mapped_column(String(10))


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
    contractor_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
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
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)

    asset: Mapped[Asset | None] = relationship(lazy="raise")
    events: Mapped[list[WorkOrderEvent]] = relationship(
        lazy="raise", back_populates="workorder", order_by="WorkOrderEvent.id"
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class WorkOrderEvent(Base):
    """One entry in a work order's timeline."""

    __tablename__ = "work_order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    workorder_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), index=True)
    ts: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    kind: Mapped[str] = mapped_column(String(30))
    actor: Mapped[str] = mapped_column(String(80), default="system")
    message: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    workorder: Mapped[WorkOrder] = relationship(lazy="raise", back_populates="events")
