"""REST API for alerts, under /api/v1."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from alerts import repository
from plantroom.auth.deps import CurrentPrincipal
from plantroom.auth.models import Role
from plantroom.db import SessionDep
from plantroom.errors import Forbidden

router = APIRouter(prefix="/api/v1", tags=["alerts"])


class AlertOut(BaseModel):
    """An alert instance."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    rule_id: str
    asset_id: str
    state: str
    severity: str
    point: str
    device: str
    unit: str
    started_at: dt.datetime
    fired_at: dt.datetime | None
    resolved_at: dt.datetime | None
    trigger_value: float | None
    last_value: float | None
    workorder_id: int | None


@router.get("/alerts", response_model=list[AlertOut])
def list_alerts(
    session: SessionDep,
    who: CurrentPrincipal,
    active: Annotated[bool, Query(description="only pending and firing")] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[AlertOut]:
    """Alerts, newest first. Contractors and requesters see work orders, not the alert feed."""
    if who.role in (Role.contractor, Role.requester):
        raise Forbidden(f"role {who.role} cannot list alerts")
    rows = repository.live(session) if active else repository.recent(session, limit)
    return [AlertOut.model_validate(a) for a in rows]
