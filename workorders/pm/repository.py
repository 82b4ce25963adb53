"""All SQL of preventive maintenance: the PM work orders of a schedule on an asset."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from workorders.orders.models import FINAL_STATES, Asset, WorkOrder


def _prefix(schedule_id: str, asset_id: str) -> str:
    """What every pm_key of this schedule and asset starts with (service.pm_key)."""
    return f"pm:{schedule_id}:{asset_id}:"


def latest(session: Session, schedule_id: str, asset_id: str) -> WorkOrder | None:
    """The PM work order of this schedule and asset with the latest due date."""
    stmt = (
        select(WorkOrder)
        .where(WorkOrder.pm_key.startswith(_prefix(schedule_id, asset_id), autoescape=True))
        .order_by(WorkOrder.due_at.desc(), WorkOrder.id.desc())
        .limit(1)
    )
    return session.scalars(stmt).one_or_none()


def open_one(session: Session, schedule_id: str, asset_id: str) -> WorkOrder | None:
    """A PM work order of this schedule and asset that is not final yet, if any."""
    stmt = (
        select(WorkOrder)
        .where(
            WorkOrder.pm_key.startswith(_prefix(schedule_id, asset_id), autoescape=True),
            WorkOrder.status.not_in([str(s) for s in FINAL_STATES]),
        )
        .limit(1)
    )
    return session.scalars(stmt).first()


def exists(session: Session, key: str) -> bool:
    """True when a work order carries this pm_key."""
    return session.scalars(select(WorkOrder.id).where(WorkOrder.pm_key == key)).first() is not None


def due_between(session: Session, start: dt.datetime, end: dt.datetime) -> list[WorkOrder]:
    """The PM work orders due in [start, end), by due date."""
    stmt = (
        select(WorkOrder)
        .where(WorkOrder.pm_key.is_not(None), WorkOrder.due_at >= start, WorkOrder.due_at < end)
        .order_by(WorkOrder.due_at, WorkOrder.id)
    )
    return list(session.scalars(stmt))


def asset_ids(session: Session) -> set[str]:
    """The ids of every asset in the database."""
    return set(session.scalars(select(Asset.id)))


def completed(session: Session, schedule_id: str, asset_id: str) -> list[WorkOrder]:
    """The verified or closed PM work orders of this schedule and asset."""
    stmt = select(WorkOrder).where(
        WorkOrder.pm_key.startswith(_prefix(schedule_id, asset_id), autoescape=True),
        WorkOrder.status.in_(["verified", "closed"]),
    )
    return list(session.scalars(stmt))


def assets_by_id(session: Session, ids: set[str]) -> dict[str, Asset]:
    """The assets with these ids."""
    if not ids:
        return {}
    return {a.id: a for a in session.scalars(select(Asset).where(Asset.id.in_(sorted(ids))))}


def for_asset(session: Session, asset_id: str) -> list[WorkOrder]:
    """Every PM work order on the asset, by due date."""
    stmt = (
        select(WorkOrder)
        .where(WorkOrder.pm_key.is_not(None), WorkOrder.asset_id == asset_id)
        .order_by(WorkOrder.due_at, WorkOrder.id)
    )
    return list(session.scalars(stmt))


def first(session: Session, schedule_id: str, asset_id: str) -> WorkOrder | None:
    """The PM work order of this schedule and asset with the earliest due date."""
    stmt = (
        select(WorkOrder)
        .where(WorkOrder.pm_key.startswith(_prefix(schedule_id, asset_id), autoescape=True))
        .order_by(WorkOrder.due_at, WorkOrder.id)
        .limit(1)
    )
    return session.scalars(stmt).one_or_none()
