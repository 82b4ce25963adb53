"""All alert SQL."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.models import Alert


def live(session: Session) -> list[Alert]:
    """Pending and firing alerts."""
    return list(session.scalars(select(Alert).where(Alert.active_key.is_not(None))))


def live_for(session: Session, rule_id: str, asset_id: str) -> Alert | None:
    """The pending or firing alert of this rule on this asset."""
    stmt = select(Alert).where(Alert.active_key == active_key(rule_id, asset_id))
    return session.scalars(stmt).one_or_none()


def get(session: Session, alert_id: int) -> Alert | None:
    """One alert."""
    return session.get(Alert, alert_id)


def recent(session: Session, limit: int = 100) -> list[Alert]:
    """Newest alerts first."""
    return list(session.scalars(select(Alert).order_by(Alert.id.desc()).limit(limit)))


def active_key(rule_id: str, asset_id: str) -> str:
    """The unique key of a live alert."""
    return f"{rule_id}:{asset_id}"
