"""All alert SQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from alerts.models import Alert, NotificationState, Silence


def live(session: Session) -> list[Alert]:
    """Pending and firing alerts."""
    return list(session.scalars(select(Alert).where(Alert.active_key.is_not(None))))


def live_for(session: Session, rule_id: str, asset_id: str) -> Alert | None:
    """The pending or firing alert of this rule on this asset."""
    stmt = select(Alert).where(Alert.active_key == active_key(rule_id, asset_id))
    return session.scalars(stmt).one_or_none()


def last_resolved(session: Session, rule_id: str, asset_id: str) -> Alert | None:
    """The most recently resolved alert of this rule on this asset."""
    stmt = (
        select(Alert)
        .where(Alert.rule_id == rule_id, Alert.asset_id == asset_id, Alert.state == "resolved")
        .order_by(Alert.resolved_at.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()


def get(session: Session, alert_id: int) -> Alert | None:
    """One alert."""
    return session.get(Alert, alert_id)


def latest_for_workorder(
    session: Session, rule_id: str, asset_id: str, workorder_id: int
) -> Alert | None:
    """The newest alert of this rule on this asset that raised or updated this work order (found
    through the indexed rule and asset: alerts.workorder_id has no index of its own)."""
    stmt = (
        select(Alert)
        .where(
            Alert.rule_id == rule_id,
            Alert.asset_id == asset_id,
            Alert.workorder_id == workorder_id,
        )
        .order_by(Alert.id.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()


def recent(session: Session, limit: int = 100) -> list[Alert]:
    """Newest alerts first."""
    return list(session.scalars(select(Alert).order_by(Alert.id.desc()).limit(limit)))


def active_key(rule_id: str, asset_id: str) -> str:
    """The unique key of a live alert."""
    return f"{rule_id}:{asset_id}"


def list_(
    session: Session,
    *,
    states: Sequence[str] | None = None,
    rule_id: str | None = None,
    asset_id: str | None = None,
    live: bool | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> list[Alert]:
    """Alerts newest first, filtered; live=True keeps live ones, live=False those that are over."""
    stmt = select(Alert).order_by(Alert.id.desc())
    if states:
        stmt = stmt.where(Alert.state.in_(list(states)))
    if rule_id is not None:
        stmt = stmt.where(Alert.rule_id == rule_id)
    if asset_id is not None:
        stmt = stmt.where(Alert.asset_id == asset_id)
    if live is True:
        stmt = stmt.where(Alert.active_key.is_not(None))
    elif live is False:
        stmt = stmt.where(Alert.active_key.is_(None))
    if since is not None:
        stmt = stmt.where(Alert.started_at >= since)
    if until is not None:
        stmt = stmt.where(Alert.started_at < until)
    if before_id is not None:
        stmt = stmt.where(Alert.id < before_id)
    return list(session.scalars(stmt.limit(limit)))


def acknowledge(session: Session, alert_id: int, *, by: str, at: dt.datetime) -> bool:
    """Mark a live, not yet acknowledged alert acknowledged; False when it was not (any more)."""
    stmt = (
        update(Alert)
        .where(
            Alert.id == alert_id,
            Alert.active_key.is_not(None),
            Alert.acknowledged_at.is_(None),
        )
        .values(acknowledged_at=at, acknowledged_by=by)
        .execution_options(synchronize_session="fetch")
    )
    return session.execute(stmt).rowcount == 1  # type: ignore[attr-defined]


# --- silences -----------------------------------------------------------------------------------


def add_silence(session: Session, silence: Silence) -> Silence:
    """Store a new silence and give it its id."""
    session.add(silence)
    session.flush()
    return silence


def get_silence(session: Session, silence_id: int) -> Silence | None:
    """One silence."""
    return session.get(Silence, silence_id)


def list_silences(
    session: Session,
    *,
    current_at: dt.datetime | None = None,
    over_at: dt.datetime | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> list[Silence]:
    """Silences newest first. current_at keeps those not over at that time (running or to come);
    over_at keeps those over by then (ended or expired)."""
    stmt = select(Silence).order_by(Silence.id.desc())
    if current_at is not None:
        stmt = stmt.where(_in_force_after(current_at))
    if over_at is not None:
        stmt = stmt.where(or_(Silence.ends_at <= over_at, Silence.expired_at <= over_at))
    if before_id is not None:
        stmt = stmt.where(Silence.id < before_id)
    return list(session.scalars(stmt.limit(limit)))


def silences_not_over(session: Session, at: dt.datetime) -> list[Silence]:
    """Silences still running or still to come at `at`, oldest first."""
    stmt = select(Silence).where(_in_force_after(at)).order_by(Silence.id)
    return list(session.scalars(stmt))


def silences_version(session: Session) -> tuple[object, ...]:
    """A cheap fingerprint of the silences table that changes when one is added or expired."""
    stmt = select(
        func.count(Silence.id),
        func.max(Silence.id),
        func.count(Silence.expired_at),
        func.max(Silence.expired_at),
    )
    return tuple(session.execute(stmt).one())


def expire_silence(session: Session, silence_id: int, *, by: str, at: dt.datetime) -> bool:
    """End a silence that is not over yet; False when it already was."""
    stmt = (
        update(Silence)
        .where(Silence.id == silence_id, _in_force_after(at))
        .values(expired_at=at, expired_by=by)
        .execution_options(synchronize_session="fetch")
    )
    return session.execute(stmt).rowcount == 1  # type: ignore[attr-defined]


def _in_force_after(at: dt.datetime) -> ColumnElement[bool]:
    """Not over at `at`: neither ended nor expired by then."""
    return and_(Silence.ends_at > at, or_(Silence.expired_at.is_(None), Silence.expired_at > at))


# --- notification state ---------------------------------------------------------------------------

_STATE_ID = 1


def lock_notification_state(session: Session, *, at: dt.datetime) -> NotificationState:
    """The notification state, locked until the transaction ends (made when missing).

    An UPDATE first: it takes the row's lock on PostgreSQL and the write lock on SQLite before
    anything is read, so two engines or flushes take turns instead of reading the same state.
    """
    touch = (
        update(NotificationState)
        .where(NotificationState.id == _STATE_ID)
        .values(updated_at=at)
        .execution_options(synchronize_session=False)
    )
    if session.execute(touch).rowcount == 0:  # type: ignore[attr-defined]
        try:
            with session.begin_nested():
                session.add(NotificationState(id=_STATE_ID, data={}, updated_at=at))
        except IntegrityError:  # made meanwhile by another transaction: wait for its lock
            session.execute(touch)
    state = session.get(NotificationState, _STATE_ID, populate_existing=True)
    assert state is not None
    return state


def notification_due_at(session: Session) -> dt.datetime | None:
    """When the next alert notification falls due (None: nothing is waiting)."""
    return session.scalar(
        select(NotificationState.next_due_at).where(NotificationState.id == _STATE_ID)
    )
