"""REST API for work orders and assets, under /api/v1."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import StringConstraints
from sqlalchemy.orm import Session

from core import audit, changes, pagination
from core.auth.deps import CurrentPrincipal
from core.auth.service import Principal
from core.concurrency import etag, none_match
from core.db import MAX_ID, CommittingRoute, Database, SessionDep, utcnow
from core.errors import AppError, NotFound
from core.isotime import instant
from core.pagination import Cursor
from core.response_cache import CachedRoute, ResponseCache
from workorders.orders import context, costs, repository, service
from workorders.orders.models import (
    OPEN_STATES,
    Origin,
    Priority,
    Status,
    WorkOrder,
    WorkOrderType,
)
from workorders.orders.repository import SORTS, ListQuery
from workorders.orders.schemas import (
    AssetOut,
    AssetPoint,
    AssetWithPoints,
    Assignment,
    AuditOut,
    ChecklistItem,
    ChecklistResult,
    CodeOut,
    CodesOut,
    CommentIn,
    CostIn,
    CostOut,
    CostTotals,
    EventOut,
    LaborIn,
    LaborOut,
    PartIn,
    PartOut,
    Sla,
    SlaClock,
    StatusChange,
    TakeIn,
    WorkOrderCreate,
    WorkOrderDetail,
    WorkOrderList,
    WorkOrderOut,
    WorkOrderPatch,
)
from workorders.sla import service as sla_service

router = APIRouter(route_class=CommittingRoute, prefix="/api/v1", tags=["work orders"])
#: Work-order ids are 32-bit database integers on PostgreSQL.
WorkOrderId = Annotated[int, Path(ge=1, le=MAX_ID, description="work order id")]
#: Most rows one export returns; narrow the filters for more.
EXPORT_LIMIT = 50_000
#: Printable characters only: PostgreSQL refuses NUL in text, which must be a 422, not a 500.
ASSET_ID = r"^[^\x00-\x1f\x7f]+$"
#: A building's id, as a list filter takes it (repeatable).
BuildingId = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=ASSET_ID)]
#: The display names of a page's assignees and contractors (repository.display_names).
Names = tuple[dict[int, str], dict[int, str]]
_SORT_PATTERN = "^-?(" + "|".join(SORTS) + ")$"
#: Headers of a list answer that is built afresh every time.
NO_STORE = {"Cache-Control": "private, no-cache"}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such work order, or not visible to the caller"},
}
if TYPE_CHECKING:
    CreatedTime = dt.datetime
else:
    #: A creation-time filter: ISO 8601 with its offset.
    CreatedTime = instant(1970, 8999, "ISO 8601 with its UTC offset")
#: Changes guarded by If-Match (appends are not: they never conflict).
_CONCURRENCY: dict[int | str, dict[str, Any]] = {
    412: {"description": "If-Match named a version that is no longer current"},
    **_NOT_FOUND,
}


def names_of(session: Session, rows: list[WorkOrder]) -> Names:
    """The names to_out shows for these work orders' assignees and contractors, in two queries
    whatever their number."""
    return repository.display_names(
        session,
        user_ids={w.assignee_id for w in rows if w.assignee_id is not None},
        organisation_ids={w.contractor_id for w in rows if w.contractor_id is not None},
    )


def to_out(wo: WorkOrder, who: Principal, *, names: Names) -> WorkOrderOut:
    """API shape of a work order, with the caller's allowed transitions; `names` holds its
    assignee's and contractor's (names_of)."""
    users, orgs = names
    asset = wo.asset
    return WorkOrderOut(
        id=wo.id,
        version=wo.version,
        title=wo.title,
        description=wo.description,
        status=Status(wo.status),
        priority=Priority(wo.priority),
        type=WorkOrderType(wo.type),
        origin=Origin(wo.origin),
        asset_id=wo.asset_id,
        asset_name=asset.name if asset else None,
        asset_name_zh=asset.name_zh if asset else None,
        building_id=asset.building_id if asset else None,
        building_name=asset.building_name if asset else None,
        building_name_zh=asset.building_name_zh if asset else None,
        location=asset.location if asset else None,
        location_zh=asset.location_zh if asset else None,
        rule_id=wo.rule_id,
        trigger=wo.trigger,
        alert_count=wo.alert_count,
        contractor_id=wo.contractor_id,
        contractor_name=orgs.get(wo.contractor_id) if wo.contractor_id is not None else None,
        assignee_id=wo.assignee_id,
        assignee_name=users.get(wo.assignee_id) if wo.assignee_id is not None else None,
        hold_reason=wo.hold_reason,  # type: ignore[arg-type]
        cause_code=wo.cause_code,
        resolution_code=wo.resolution_code,
        checklist=[ChecklistItem.model_validate(i) for i in wo.checklist or []],
        cost_total=wo.cost_total,
        due_at=wo.due_at,
        next_due_at=repository.next_due(wo),
        sla=Sla(
            policy=(wo.sla_policy or {}).get("name"),
            response_due_at=wo.response_due_at,
            resolution_due_at=wo.resolution_due_at,
            response_met_at=wo.response_met_at,
            response_breached=wo.response_breached,
            resolution_breached=wo.resolution_breached,
            paused_seconds=wo.sla_paused_seconds,
            provisional=wo.sla_provisional is not None,
            provisional_reason=sla_service.provisional_reason(wo.sla_provisional),
        ),
        created_by=wo.created_by,
        created_at=wo.created_at,
        updated_at=wo.updated_at,
        acknowledged_at=wo.acknowledged_at,
        resolved_at=wo.resolved_at,
        awaiting_proof=wo.awaiting_proof,
        proof_until=wo.proof_until,
        closed_at=wo.closed_at,
        allowed_transitions=service.allowed_targets(wo.status, who.role),
    )


def _detail(
    session: Session, wo: WorkOrder, who: Principal, response: Response, request: Request
) -> WorkOrderDetail:
    labor, parts, other = repository.cost_lines(session, wo.id)
    response.headers["ETag"] = _etag(session, wo, max((e.id for e in wo.events), default=0))
    rules = getattr(request.app.state.site.doc, "rules", ())
    return WorkOrderDetail(
        **to_out(wo, who, names=names_of(session, [wo])).model_dump(),
        events=[EventOut.model_validate(e) for e in wo.events],
        labor=[LaborOut.model_validate(x) for x in labor],
        parts=[PartOut.model_validate(x) for x in parts],
        costs=[CostOut.model_validate(x) for x in other],
        cost_totals=CostTotals(**costs.totals(labor, parts, other)),
        sla_clocks=_clocks(session, wo),
        alert=context.alert(session, wo, rules),
        request=context.request(session, wo),
        statutory=context.statutory(wo),
    )


def _etag(session: Session, wo: WorkOrder, last_event_id: int) -> str:
    """The work order's ETag: `"<version>.<last timeline entry>[a<alert><state>[s]]"`. Only the
    version counts for If-Match; the rest makes If-None-Match see appends and the alert's state."""
    return etag(wo.version, f"{last_event_id}{context.alert_tag(session, wo)}")


def _clocks(session: Session, wo: WorkOrder) -> list[SlaClock]:
    """The work order's SLA clocks as of now."""
    st = sla_service.state(session, wo, now=utcnow())
    if st is None:
        return []
    return [
        SlaClock(
            clock=c.which,
            state=c.state,
            target_seconds=c.target_seconds,
            elapsed_seconds=c.elapsed_seconds,
            paused_seconds=c.paused_seconds,
            remaining_seconds=c.remaining_seconds,
            due_at=c.due_at,
            met_at=c.met_at,
            warned=c.warned,
            breached=c.breached,
            provisional=c.provisional,
            reason=c.reason,
        )
        for c in (st.response, st.resolution)
        if c is not None
    ]


def _reload(
    session: Session, wo_id: int, who: Principal, response: Response, request: Request
) -> WorkOrderDetail:
    session.expire_all()
    wo = service.get_visible(session, who=who, wo_id=wo_id)
    return _detail(session, wo, who, response, request)


def _if_match(request: Request) -> str | None:
    return request.headers.get("if-match")


# --- lists and exports --------------------------------------------------------------------------


def _encode_cursor(sort: str, value: Any, wo_id: int) -> str:
    raw = value.isoformat() if isinstance(value, dt.datetime) else value
    return pagination.encode([sort, raw, wo_id])


def _decode_cursor(cursor: str, sort: str) -> tuple[Any, int]:
    def read(values: Any) -> tuple[Any, int]:
        got_sort, raw, wo_id = values
        if got_sort != sort or type(wo_id) is not int or not 1 <= wo_id <= pagination.MAX_ID:
            raise ValueError(sort)
        name = sort.lstrip("-")
        if name in repository.NULLS_LAST and raw is None:
            value: Any = None
        elif name in ("created_at", "updated_at", "due", "urgency"):
            value = dt.datetime.fromisoformat(raw)
            if value.tzinfo is None:
                raise ValueError(raw)
            value = value.astimezone(dt.UTC)  # OverflowError at the ends of the calendar
        elif name == "priority":
            value = Priority(raw).value
        else:
            value = wo_id
        return value, wo_id

    return pagination.decode(
        cursor, read, message="cursor must be a next_cursor value from a list with the same sort"
    )


async def list_query(  # async: no I/O, so no hop to a worker thread
    who: CurrentPrincipal,
    status_: Annotated[list[Status] | None, Query(alias="status")] = None,
    open_: Annotated[bool, Query(alias="open", description="only work still owed")] = False,
    priority: Annotated[list[Priority] | None, Query()] = None,
    type_: Annotated[list[WorkOrderType] | None, Query(alias="type")] = None,
    origin: Annotated[list[Origin] | None, Query()] = None,
    asset_id: Annotated[str | None, Query(max_length=100, pattern=ASSET_ID)] = None,
    assignee: Annotated[
        str | None,
        Query(
            max_length=10,
            pattern=r"^(me|none|[1-9]\d{0,8})$",
            description="'me', a user id, or 'none': neither an assignee nor a contractor",
        ),
    ] = None,
    contractor_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    building: Annotated[
        list[BuildingId] | None,
        Query(max_length=50, description="the asset's building (repeatable: any of them)"),
    ] = None,
    q: Annotated[
        str | None,
        Query(
            max_length=100,
            pattern=r"^[^\x00]*$",
            description="the number (123 or #123), or text in the asset's id or name (either "
            "language), the title or the description",
        ),
    ] = None,
    created_from: Annotated[CreatedTime | None, Query()] = None,
    created_to: Annotated[CreatedTime | None, Query()] = None,
    sla: Annotated[
        Literal["at_risk", "breached"] | None,
        Query(
            description="open work by its SLA clocks: 'breached': a clock breached (recorded, "
            "or running past its due time); 'at_risk': not breached, but a running clock has "
            "used the policy's warn_at share of its target (the SLA warning on its timeline)"
        ),
    ] = None,
    sort: Annotated[
        str,
        Query(
            pattern=_SORT_PATTERN,
            description="id, created_at, updated_at, priority, due, or urgency (next_due_at: "
            "the SLA clock that runs out first, work without an SLA last); '-' for descending",
        ),
    ] = "-id",
    cursor: Cursor = None,
) -> ListQuery:
    """The filters of a work-order list, narrowed to what the caller may see."""
    statuses = [str(s) for s in status_] if status_ else None
    if open_:
        statuses = [s for s in (statuses or [str(x) for x in OPEN_STATES]) if s in OPEN_STATES]
        if not statuses:
            statuses = ["-"]  # open and only closed states: nothing
    assignee_id: int | None = None
    if assignee == "me":
        assignee_id = who.user_id if who.user_id is not None else 0
    elif assignee is not None and assignee != "none":
        assignee_id = int(assignee)
    for name, value in (("created_from", created_from), ("created_to", created_to)):
        if value is not None and value.tzinfo is None:
            raise AppError(f"{name} needs a timezone offset, e.g. 2026-01-01T00:00:00+08:00")
        try:
            if value is not None:
                value.astimezone(dt.UTC)
        except OverflowError:
            raise AppError(f"{name} is out of range", status_code=422) from None
    query = ListQuery(
        statuses=statuses,
        priorities=[str(p) for p in priority] if priority else None,
        types=[str(t) for t in type_] if type_ else None,
        origins=[str(o) for o in origin] if origin else None,
        asset_id=asset_id,
        contractor_id=contractor_id,
        assignee_id=assignee_id,
        unassigned=assignee == "none",
        buildings=building or None,
        text=q,
        created_from=created_from,
        created_to=created_to,
        sla=sla,
        sla_at=utcnow() if sla else None,
        sort=sort,
        after=_decode_cursor(cursor, sort) if cursor else None,
    )
    return service.visible_query(who, query)


ListQueryDep = Annotated[ListQuery, Depends(list_query)]


def list_counters(query: ListQuery) -> tuple[str, ...]:
    """The change counters a list's answer depends on (core.changes): its assets (names,
    buildings, locations: shown, searched and filtered by), and the work orders of the one
    assignee or contractor it is confined to, else all of them (so the unassigned list too).
    Assignees' and contractors' names need none: nothing changes a display name or a firm's
    name once made."""
    if query.assignee_id is not None:
        rows = changes.assignee_counter(query.assignee_id)
    elif query.contractor_id is not None:
        rows = changes.contractor_counter(query.contractor_id)
    else:
        rows = changes.WORKORDERS
    return (rows, changes.ASSETS)


async def list_workorders(
    request: Request,
    who: CurrentPrincipal,
    query: ListQueryDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Any:
    """Work orders visible to the caller: filtered, sorted (default newest first), paged;
    `total` counts every work order the filters match.

    The answer carries an ETag; If-None-Match with it answers 304 while the list is unchanged.
    Answers are kept and reused until a work order or asset changes (core.response_cache),
    so polling costs no query while nothing changes.
    """
    db: Database = request.app.state.db

    def build() -> bytes:
        with db.session() as session:
            rows = repository.list_(session, query=query, limit=limit + 1)
            more = len(rows) > limit
            rows = rows[:limit]
            nxt = None
            if more and rows:
                last = rows[-1]
                nxt = _encode_cursor(query.sort, repository.sort_value(last, query.sort), last.id)
            total = len(rows) if query.after is None and not more else None
            if total is None:
                total = repository.count(session, query)
            names = names_of(session, rows)
            page = WorkOrderList(
                items=[to_out(w, who, names=names) for w in rows], next_cursor=nxt, total=total
            )
        return page.model_dump_json().encode()

    if query.sla is not None:
        # Time alone moves a clock past its due time: an answer by SLA is never kept.
        body = await run_in_threadpool(build)
        return Response(body, media_type="application/json", headers=NO_STORE)
    cache: ResponseCache = request.app.state.list_cache
    return await cache.answer(request, who, list_counters(query), build)


# Declared here rather than by decorator, to be the route that answers from the list cache.
router.add_api_route(
    "/workorders",
    list_workorders,
    methods=["GET"],
    response_model=WorkOrderList,
    responses={304: {"description": "If-None-Match named the list as it stands"}},
    route_class_override=CachedRoute,
)


EXPORT_COLUMNS = (
    "id",
    "title",
    "status",
    "priority",
    "type",
    "origin",
    "asset_id",
    "contractor_id",
    "assignee_id",
    "hold_reason",
    "cause_code",
    "resolution_code",
    "cost_total",
    "created_at",
    "acknowledged_at",
    "resolved_at",
    "closed_at",
    "response_due_at",
    "resolution_due_at",
    "response_breached",
    "resolution_breached",
)


@router.get(
    "/workorders/export.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "UTF-8 CSV with a BOM"}},
)
def export_workorders(session: SessionDep, who: CurrentPrincipal, query: ListQueryDep) -> Any:
    """The caller's visible work orders as CSV, with the same filters as the list."""
    rows = repository.list_(session, query=query, limit=EXPORT_LIMIT)

    def lines() -> Iterator[str]:
        buf = io.StringIO()
        writer = csv.writer(buf)
        yield "\ufeff"
        writer.writerow(EXPORT_COLUMNS)
        for wo in rows:
            values = audit.snapshot(wo, EXPORT_COLUMNS)
            writer.writerow(["" if values[c] is None else values[c] for c in EXPORT_COLUMNS])
            if buf.tell() > 64_000:
                yield buf.getvalue()
                buf.seek(0)
                buf.truncate()
        yield buf.getvalue()

    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="workorders.csv"'},
    )


# --- one work order -----------------------------------------------------------------------------


@router.get(
    "/workorders/{wo_id}",
    response_model=WorkOrderDetail,
    responses={304: {"description": "If-None-Match named the current version"}, **_NOT_FOUND},
)
def get_workorder(
    wo_id: WorkOrderId,
    request: Request,
    response: Response,
    session: SessionDep,
    who: CurrentPrincipal,
) -> Any:
    """One work order with its timeline and costs. Its ETag (`_etag`) moves with the version,
    the timeline and the alert's state, so a poll with If-None-Match also sees comments, labor,
    parts, photos and the alert clearing; If-Match on an update compares the version only."""
    wo = service.get_visible(session, who=who, wo_id=wo_id)
    tag = _etag(session, wo, repository.last_event_id(session, wo.id))
    if none_match(request, tag):
        return Response(status_code=304, headers={"ETag": tag})
    return _detail(session, wo, who, response, request)


@router.post("/workorders", response_model=WorkOrderDetail, status_code=status.HTTP_201_CREATED)
def create_workorder(
    body: WorkOrderCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    who: CurrentPrincipal,
) -> WorkOrderDetail:
    """Raise a work order by hand (requesters raise requests). Send an Idempotency-Key when a
    retry might repeat it."""
    wo = service.raise_by_hand(
        session,
        who=who,
        site=request.app.state.site,
        title=body.title,
        description=body.description,
        priority=body.priority,
        asset_id=body.asset_id,
        origin=body.origin,
        type_=body.type,
        checklist=body.checklist,
        assignee_id=body.assignee_id,
        contractor_id=body.contractor_id,
        at=body.at,
    )
    response.headers["Location"] = f"/api/v1/workorders/{wo.id}"
    return _reload(session, wo.id, who, response, request)


@router.patch("/workorders/{wo_id}", response_model=WorkOrderDetail, responses=_CONCURRENCY)
def update_workorder(
    wo_id: WorkOrderId,
    body: WorkOrderPatch,
    request: Request,
    response: Response,
    session: SessionDep,
    who: CurrentPrincipal,
) -> WorkOrderDetail:
    """Change fields. Send If-Match with the ETag you loaded: 412 if it changed since."""
    changes = body.model_dump(exclude_unset=True)
    changes = {k: (str(v) if k in ("priority", "type") else v) for k, v in changes.items()}
    service.edit(
        session,
        who=who,
        wo_id=wo_id,
        changes=changes,
        if_match=_if_match(request),
        site=request.app.state.site,
        codes=request.app.state.site.doc.codes,
    )
    return _reload(session, wo_id, who, response, request)


@router.post("/workorders/{wo_id}/status", response_model=WorkOrderDetail, responses=_CONCURRENCY)
def change_status(
    wo_id: WorkOrderId,
    body: StatusChange,
    request: Request,
    response: Response,
    session: SessionDep,
    who: CurrentPrincipal,
) -> WorkOrderDetail:
    """Move a work order to another state; 409 lists the allowed ones when it may not go there.
    on_hold needs a reason. `at` records when it happened, for changes synced late."""
    service.move(
        session,
        who=who,
        wo_id=wo_id,
        if_match=_if_match(request),
        target=body.status,
        note=body.note,
        reason=body.reason,
        at=body.at,
        cause_code=body.cause_code,
        resolution_code=body.resolution_code,
        codes=request.app.state.site.doc.codes,
    )
    return _reload(session, wo_id, who, response, request)


@router.post("/workorders/{wo_id}/assign", response_model=WorkOrderDetail, responses=_CONCURRENCY)
def assign_workorder(
    wo_id: WorkOrderId,
    body: Assignment,
    request: Request,
    response: Response,
    session: SessionDep,
    who: CurrentPrincipal,
) -> WorkOrderDetail:
    """Give the work order to a person and/or a contractor."""
    service.hand_over(
        session,
        who=who,
        wo_id=wo_id,
        if_match=_if_match(request),
        assignee_id=body.assignee_id,
        contractor_id=body.contractor_id,
        at=body.at,
        site=request.app.state.site,
    )
    return _reload(session, wo_id, who, response, request)


@router.post(
    "/workorders/{wo_id}/take",
    response_model=WorkOrderDetail,
    responses={
        409: {"description": "not open (not_open), or already assigned (already_assigned)"},
        **_CONCURRENCY,
    },
)
def take_workorder(
    wo_id: WorkOrderId,
    request: Request,
    response: Response,
    session: SessionDep,
    who: CurrentPrincipal,
    body: TakeIn | None = None,
) -> WorkOrderDetail:
    """Take an open work order that has neither an assignee nor a contractor: it becomes the
    caller's (technicians, engineers and admins), and a new one moves to assigned. The body
    may be left out, or state `at` (when it was taken, for changes synced late)."""
    service.take(
        session,
        who=who,
        wo_id=wo_id,
        if_match=_if_match(request),
        at=body.at if body is not None else None,
    )
    return _reload(session, wo_id, who, response, request)


@router.post(
    "/workorders/{wo_id}/comments",
    response_model=WorkOrderDetail,
    status_code=status.HTTP_201_CREATED,
    responses=_NOT_FOUND,
)
def add_comment(
    wo_id: WorkOrderId,
    body: CommentIn,
    request: Request,
    response: Response,
    session: SessionDep,
    who: CurrentPrincipal,
) -> WorkOrderDetail:
    """Add a comment to the timeline (no If-Match: comments never conflict)."""
    service.add_comment(session, who=who, wo_id=wo_id, text=body.text, at=body.at)
    return _reload(session, wo_id, who, response, request)


@router.post(
    "/workorders/{wo_id}/checklist/{index}",
    response_model=WorkOrderDetail,
    responses=_CONCURRENCY,
)
def record_check(
    wo_id: WorkOrderId,
    index: Annotated[int, Path(ge=0, le=99)],
    body: ChecklistResult,
    request: Request,
    response: Response,
    session: SessionDep,
    who: CurrentPrincipal,
) -> WorkOrderDetail:
    """Record the result of checklist item `index` (from 0)."""
    service.record_check(
        session,
        who=who,
        wo_id=wo_id,
        if_match=_if_match(request),
        index=index,
        done=body.done,
        result=body.result,
        at=body.at,
    )
    return _reload(session, wo_id, who, response, request)


@router.post(
    "/workorders/{wo_id}/labor",
    response_model=WorkOrderDetail,
    status_code=status.HTTP_201_CREATED,
    responses=_NOT_FOUND,
)
def add_labor(
    wo_id: WorkOrderId,
    body: LaborIn,
    request: Request,
    response: Response,
    session: SessionDep,
    who: CurrentPrincipal,
) -> WorkOrderDetail:
    """Book hours worked, at a rate."""
    costs.book_labor(
        session,
        who=who,
        wo_id=wo_id,
        worker=body.worker,
        hours=body.hours,
        rate=body.rate,
        worked_at=body.worked_at,
        note=body.note,
    )
    return _reload(session, wo_id, who, response, request)


@router.post(
    "/workorders/{wo_id}/parts",
    response_model=WorkOrderDetail,
    status_code=status.HTTP_201_CREATED,
    responses=_NOT_FOUND,
)
def add_part(
    wo_id: WorkOrderId,
    body: PartIn,
    request: Request,
    response: Response,
    session: SessionDep,
    who: CurrentPrincipal,
) -> WorkOrderDetail:
    """Book parts or materials used."""
    costs.book_part(
        session,
        who=who,
        wo_id=wo_id,
        part=body.part,
        part_number=body.part_number,
        quantity=body.quantity,
        unit=body.unit,
        unit_cost=body.unit_cost,
    )
    return _reload(session, wo_id, who, response, request)


@router.post(
    "/workorders/{wo_id}/costs",
    response_model=WorkOrderDetail,
    status_code=status.HTTP_201_CREATED,
    responses=_NOT_FOUND,
)
def add_cost(
    wo_id: WorkOrderId,
    body: CostIn,
    request: Request,
    response: Response,
    session: SessionDep,
    who: CurrentPrincipal,
) -> WorkOrderDetail:
    """Book another cost."""
    costs.book_cost(session, who=who, wo_id=wo_id, description=body.description, amount=body.amount)
    return _reload(session, wo_id, who, response, request)


@router.get("/workorders/{wo_id}/audit", response_model=list[AuditOut], responses=_NOT_FOUND)
def workorder_audit(
    wo_id: WorkOrderId,
    session: SessionDep,
    who: CurrentPrincipal,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> list[AuditOut]:
    """Who changed what and when, with the values before and after, oldest first."""
    rows = service.audit_trail(session, who=who, wo_id=wo_id, limit=limit)
    return [AuditOut.model_validate(r) for r in rows]


# --- assets -------------------------------------------------------------------------------------


@router.get("/assets", response_model=list[AssetOut], tags=["assets"])
def list_assets(session: SessionDep, who: CurrentPrincipal) -> list[AssetOut]:
    """Every asset; a contractor only those its firm has (or had) work on."""
    mine = service.visible_asset_ids(session, who=who)
    return [
        AssetOut.model_validate(a)
        for a in repository.list_assets(session)
        if mine is None or a.id in mine
    ]


@router.get(
    "/assets/{asset_id}",
    response_model=AssetWithPoints,
    tags=["assets"],
    responses={404: {"description": "no such asset, or one a contractor has no work order on"}},
)
def get_asset(
    asset_id: Annotated[str, Path(max_length=100, pattern=ASSET_ID)],
    session: SessionDep,
    who: CurrentPrincipal,
    request: Request,
) -> AssetWithPoints:
    """One asset, with the points its devices read (GET /assets/{asset_id}/readings charts
    them). A contractor reads only an asset its firm has (or had) work on: 404 otherwise."""
    a = repository.get_asset(session, asset_id)
    if a is None or not service.asset_visible(session, who=who, asset_id=asset_id):
        raise NotFound(f"asset '{asset_id}' not found")
    site = request.app.state.site
    points = [
        AssetPoint(name=p.name, unit=p.unit, label=p.description or None)
        for p in site.asset_points.get(a.id, [])
    ]
    return AssetWithPoints.model_validate(
        {**AssetOut.model_validate(a).model_dump(), "points": points}
    )


# --- codes --------------------------------------------------------------------------------------


@router.get("/codes", response_model=CodesOut, tags=["work orders"])
def list_codes(request: Request, _who: CurrentPrincipal) -> CodesOut:
    """The site's cause and resolution codes (site.yaml ``codes:``) for closing work orders,
    each with its name in English and Simplified Chinese; empty lists when the site has none."""
    codes = request.app.state.site.doc.codes
    return CodesOut(
        cause=[CodeOut.model_validate(c) for c in codes.cause],
        resolution=[CodeOut.model_validate(c) for c in codes.resolution],
    )
