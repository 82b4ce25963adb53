"""Alert tables: alert instances, per-(rule, asset) evaluator state, silences, and the state of
the alert notifications."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow


class Alert(Base):
    """An alert of one rule on one asset: pending -> firing -> resolved, or nodata / error.

    While an alert is live (pending, firing, nodata or error) its active_key is 'rule:asset'
    and unique, so there is one live alert per pair whatever the number of engines. Live
    alerts survive restarts.
    """

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(100), index=True)
    asset_id: Mapped[str] = mapped_column(String(100), index=True)
    state: Mapped[str] = mapped_column(String(12))
    #: 'rule:asset' while pending, firing, nodata or error; NULL once over.
    active_key: Mapped[str | None] = mapped_column(String(250), unique=True)
    severity: Mapped[str] = mapped_column(String(10))
    point: Mapped[str] = mapped_column(String(100))
    device: Mapped[str] = mapped_column(String(100))
    unit: Mapped[str] = mapped_column(String(20), default="")
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    fired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    trigger_value: Mapped[float | None] = mapped_column(Float)
    last_value: Mapped[float | None] = mapped_column(Float)
    last_ts: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    workorder_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id"))
    fire_count: Mapped[int] = mapped_column(Integer, default=0)
    #: The silence that kept this alert from opening a work order, if any.
    silence_id: Mapped[int | None] = mapped_column(ForeignKey("silences.id"))
    #: 'rule:asset' of the firing alert that inhibited this one, if any.
    inhibited_by: Mapped[str | None] = mapped_column(String(250))
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by: Mapped[str | None] = mapped_column(String(80))
    #: Why the alert is in nodata or error, or what the rule saw (human text).
    detail: Mapped[str] = mapped_column(Text, default="")


class RuleState(Base):
    """Evaluator memory that must survive a restart (for example the counter value at which a
    meter_interval rule last opened a work order). One row per (rule, asset) that needs it."""

    __tablename__ = "rule_states"

    rule_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    asset_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Silence(Base):
    """A silence or maintenance window: matching alerts are recorded but open no work order
    and notify nobody, from starts_at until ends_at (or until expired early)."""

    __tablename__ = "silences"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Which alerts: a selector (asset_class, building, tags, assets lists) and optional rules.
    selector: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    rule_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    #: 'silence' (someone muting a known problem) or 'maintenance' (planned work).
    kind: Mapped[str] = mapped_column(String(20), default="silence")
    comment: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    expired_by: Mapped[str | None] = mapped_column(String(80))


class NotificationState(Base):
    """Where the alert notifications stand (alerts.notify): per target and building, the alerts
    waiting to be told and what was told last. One row, changed in the transaction of the alert
    change that fed it, or of the flush that put the due notifications into the outbox."""

    __tablename__ = "alert_notification_state"

    #: Always 1.
    id: Mapped[int] = mapped_column(primary_key=True)
    #: alerts.notify.Notifier.snapshot()
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: When the next notification falls due (None: nothing is waiting).
    next_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
