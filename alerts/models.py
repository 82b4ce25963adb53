"""Alert table: one row per alert instance (pending -> firing -> resolved)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from plantroom.db import Base, UTCDateTime


class Alert(Base):
    """An alert of one rule on one asset. Pending and firing alerts survive restarts."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(100), index=True)
    asset_id: Mapped[str] = mapped_column(String(100), index=True)
    state: Mapped[str] = mapped_column(String(12))
    #: 'rule:asset' while pending or firing; unique, so there is one live alert per pair.
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
