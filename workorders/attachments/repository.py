"""All SQL of work-order attachments."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from workorders.orders.models import Attachment


def list_for(session: Session, wo_id: int) -> list[Attachment]:
    """A work order's attachments, oldest first."""
    stmt = select(Attachment).where(Attachment.workorder_id == wo_id).order_by(Attachment.id)
    return list(session.scalars(stmt))


def get_for(session: Session, wo_id: int, att_id: int) -> Attachment | None:
    """One attachment of this work order."""
    stmt = select(Attachment).where(Attachment.id == att_id, Attachment.workorder_id == wo_id)
    return session.scalars(stmt).one_or_none()
