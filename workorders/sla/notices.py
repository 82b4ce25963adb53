"""Site notices: news for the site's notification targets that belongs to no work order (a
holiday year nobody has loaded, a reported scorecard revised). Each is posted once per key,
whatever restarts happen, and queued in the outbox in the same transaction for every target
(workorders.sla.notify), like the SLA warnings and breaches."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, String, Text, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import Base, UTCDateTime, utcnow
from workorders.sla import notify


class SiteNotice(Base):
    """One notice; `key` makes posting it idempotent (e.g. 'calendar_missing:2027')."""

    __tablename__ = "site_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    #: calendar_missing | scorecard_revised
    kind: Mapped[str] = mapped_column(String(40))
    #: As alert severities: critical, major, minor, info.
    severity: Mapped[str] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


def post(
    session: Session,
    *,
    key: str,
    kind: str,
    severity: str,
    message: str,
    data: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> bool:
    """Post a notice unless one with this key exists; True when it is new."""
    if session.scalar(select(SiteNotice.id).where(SiteNotice.key == key)) is not None:
        return False
    notice = SiteNotice(
        key=key,
        kind=kind,
        severity=severity,
        message=message,
        data=data,
        created_at=now or utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(notice)
            session.flush()
            notify.tell_notice(
                session,
                key=key,
                kind=kind,
                severity=severity,
                message=message,
                data=data,
                at=notice.created_at,
            )
    except IntegrityError:  # another process posted it meanwhile
        return False
    return True
