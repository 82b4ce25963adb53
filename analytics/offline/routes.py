"""The offline meters' API and meter replacements, under /api/v1/analytics; for the office
(admins and engineers): technicians, contractors and requesters get 403.

- GET/POST /analytics/offline/{meter_id}/entries, DELETE .../entries/{entry_id}
- POST /analytics/offline/import (multipart `file`, CSV or XLSX; `?dry_run=true` checks only)
- GET/POST /analytics/meters/{meter_id}/replacements
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, File, Path, Query, Request, UploadFile, status

from analytics.meters import MeterTree, meter_tree
from analytics.offline import importer, service
from analytics.offline.schemas import (
    EntriesOut,
    EntryIn,
    EntryOut,
    ImportOut,
    ReplacementIn,
    ReplacementOut,
    ReplacementsOut,
)
from core.auth.deps import role_check
from core.auth.models import Role
from core.auth.service import Principal
from core.db import CommittingRoute, SessionDep, begin_writing
from core.errors import AppError

router = APIRouter(route_class=CommittingRoute, prefix="/api/v1/analytics", tags=["analytics"])
OFFICE = {Role.admin, Role.engineer}
Office = Annotated[Principal, Depends(role_check(OFFICE, "use the energy analytics"))]
MeterId = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][\w.-]*$")]
_AUTH: dict[int | str, dict[str, Any]] = {
    401: {"description": "no valid credentials"},
    403: {"description": "not an admin or an engineer"},
}
_METER: dict[int | str, dict[str, Any]] = {404: {"description": "no meter with that id"}}


class MissingField(AppError):
    """An entry without a figure its meter's kind needs."""

    status_code = 422
    error = "missing_field"


def tree_of(request: Request) -> MeterTree:
    """The site's meter tree."""
    return meter_tree(request.app.state.site)


def site_tz(request: Request) -> ZoneInfo:
    """The site's time zone."""
    return ZoneInfo(request.app.state.site.doc.site.timezone)


def _local(t: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    return t.replace(tzinfo=tz) if t.tzinfo is None else t


@router.get(
    "/offline/{meter_id}/entries",
    response_model=EntriesOut,
    responses={**_AUTH, **_METER, 422: {"description": "a telemetry meter"}},
)
def list_entries(
    request: Request, session: SessionDep, who: Office, meter_id: MeterId
) -> EntriesOut:
    """An offline meter's readings or quantities, in time order."""
    meter = tree_of(request).get(meter_id)
    if meter.source != "offline":
        raise service.NotOffline(
            f"meter '{meter.id}' is read by telemetry: it has no entries",
            detail={"meter": meter.id},
        )
    rows = service.list_entries(session, meter=meter)
    return EntriesOut(
        meter=meter.id,
        kind=meter.kind,
        unit=meter.unit,
        items=[EntryOut.of(r, meter.unit) for r in rows],
    )


@router.post(
    "/offline/{meter_id}/entries",
    response_model=EntryOut,
    status_code=status.HTTP_201_CREATED,
    responses={
        **_AUTH,
        **_METER,
        422: {
            "description": "a telemetry meter or the other kind, a missing figure, a time in "
            "the future, a unit the meter does not take, a reading that goes backwards "
            "(counter_backwards, naming the entry), or a quantity overlapping another"
        },
    },
)
def add_entry(
    request: Request, session: SessionDep, who: Office, meter_id: MeterId, body: EntryIn
) -> EntryOut:
    """Record a reading of an offline counter meter (`at`, `value`) or a quantity of an
    offline quantity meter (`from`, `to`, `amount`, `unit`)."""
    meter = tree_of(request).get(meter_id)
    tz = site_tz(request)
    if meter.source != "offline":
        raise service.NotOffline(
            f"meter '{meter.id}' is read by telemetry: its figures come from the readings store",
            detail={"meter": meter.id},
        )
    if meter.kind == "counter":
        if body.at is None or body.value is None:
            raise MissingField(f"meter '{meter.id}' is a counter: a reading needs at and value")
        row = service.record_reading(
            session,
            meter=meter,
            at=_local(body.at, tz),
            value=body.value,
            unit=body.unit,
            by=who.username,
            note=body.note,
        )
    else:
        if body.start is None or body.end is None or body.amount is None or body.unit is None:
            raise MissingField(
                f"meter '{meter.id}' counts quantities: an entry needs from, to, amount and unit"
            )
        row = service.record_quantity(
            session,
            meter=meter,
            start=_local(body.start, tz),
            end=_local(body.end, tz),
            amount=body.amount,
            unit=body.unit,
            by=who.username,
            note=body.note,
        )
    return EntryOut.of(row, meter.unit)


@router.delete(
    "/offline/{meter_id}/entries/{entry_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_model=None,
    responses={**_AUTH, 404: {"description": "no such meter, or no such entry of it"}},
)
def delete_entry(
    request: Request,
    session: SessionDep,
    who: Office,
    meter_id: MeterId,
    entry_id: Annotated[int, Path(ge=1, le=2_147_483_647)],
) -> None:
    """Delete one figure of an offline meter."""
    service.delete_entry(session, meter=tree_of(request).get(meter_id), entry_id=entry_id)


@router.post(
    "/offline/import",
    response_model=ImportOut,
    responses={
        **_AUTH,
        422: {
            "description": "a file that is not CSV or XLSX, a header naming neither kind of "
            "entry, or bad rows: detail.errors lists every one as 'row N: reason', and "
            "nothing was stored"
        },
    },
)
def import_entries(
    request: Request,
    session: SessionDep,
    who: Office,
    file: Annotated[UploadFile, File(description="CSV or XLSX with a header row")],
    dry_run: Annotated[bool, Query(description="check every row and store nothing")] = False,
) -> ImportOut:
    """Import offline meters' readings (columns meter,time,value[,unit][,note]) or quantities
    (meter,from,to,amount,unit[,note]; `to` excluded) from CSV or XLSX, all or nothing."""
    data = file.file.read(importer.MAX_BYTES + 1)
    begin_writing(session)
    result = importer.import_file(
        session,
        tree=tree_of(request),
        tz=site_tz(request),
        data=data,
        filename=file.filename,
        by=who.username,
        dry_run=dry_run,
    )
    return ImportOut.of(result)


@router.get(
    "/meters/{meter_id}/replacements",
    response_model=ReplacementsOut,
    responses={**_AUTH, **_METER},
)
def list_replacements(
    request: Request, session: SessionDep, who: Office, meter_id: MeterId
) -> ReplacementsOut:
    """A counter meter's recorded replacements, in time order."""
    meter = tree_of(request).get(meter_id)
    rows = service.list_replacements(session, meter=meter)
    return ReplacementsOut(meter=meter.id, items=[ReplacementOut.of(r) for r in rows])


@router.post(
    "/meters/{meter_id}/replacements",
    response_model=ReplacementOut,
    status_code=status.HTTP_201_CREATED,
    responses={
        **_AUTH,
        **_METER,
        422: {
            "description": "a quantity meter, a time in the future, a replacement already "
            "recorded at that time, or figures that go backwards against the meter's readings"
        },
    },
)
def add_replacement(
    request: Request, session: SessionDep, who: Office, meter_id: MeterId, body: ReplacementIn
) -> ReplacementOut:
    """Record that a counter meter was swapped: its consumption then counts the old meter up
    to its final reading and the new one from its first."""
    meter = tree_of(request).get(meter_id)
    row = service.record_replacement(
        session,
        meter=meter,
        at=_local(body.at, site_tz(request)),
        old_final=body.old_final,
        new_initial=body.new_initial,
        by=who.username,
        note=body.note,
    )
    return ReplacementOut.of(row)
