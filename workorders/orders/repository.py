"""All work-order SQL."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Numeric, Select, and_, case, cast, func, or_, select, update
from sqlalchemy.orm import Session, aliased, contains_eager, selectinload

from core.auth.models import Organisation, User
from core.db import utcnow
from workorders.orders.models import (
    OPEN_STATES,
    Asset,
    Attachment,
    LaborEntry,
    OtherCost,
    PartLine,
    WorkOrder,
    WorkOrderEvent,
)


def get_bare(session: Session, wo_id: int) -> WorkOrder | None:
    """One work order without its timeline: for adding to it, which needs none of it loaded
    (an alert work order's timeline grows with every re-fire)."""
    return session.get(WorkOrder, wo_id)


def get(
    session: Session,
    wo_id: int,
    *,
    contractor_id: int | None = None,
    created_by: str | None = None,
) -> WorkOrder | None:
    """One work order with its asset and timeline; scoped to a contractor or creator if given."""
    stmt = (
        select(WorkOrder)
        .where(WorkOrder.id == wo_id)
        .options(selectinload(WorkOrder.asset), selectinload(WorkOrder.events))
    )
    if contractor_id is not None:
        stmt = stmt.where(WorkOrder.contractor_id == contractor_id)
    if created_by is not None:
        stmt = stmt.where(WorkOrder.created_by == created_by)
    return session.scalars(stmt).one_or_none()


#: Far in the future: work orders without a due time sort after every one with a due time.
NO_DUE = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)
#: When the SLA clock that runs out first is due: the response's while the response is not
#: met, else the resolution's; NULL without an SLA. `next_due` is the same in Python.
URGENCY = case(
    (
        and_(WorkOrder.response_met_at.is_(None), WorkOrder.response_due_at.is_not(None)),
        WorkOrder.response_due_at,
    ),
    else_=WorkOrder.resolution_due_at,
)
#: The orders a list can be sorted in; '-' is descending. Each sorts by (key, id).
SORTS: dict[str, Any] = {
    "id": WorkOrder.id,
    "created_at": WorkOrder.created_at,
    "updated_at": WorkOrder.updated_at,
    "priority": WorkOrder.priority,
    "due": func.coalesce(WorkOrder.resolution_due_at, NO_DUE),
    "urgency": URGENCY,
}
#: Sorts whose key may be NULL: those rows come last in either direction, by id.
NULLS_LAST = frozenset({"urgency"})
_Row = TypeVar("_Row")
#: A search for a work order's number: 123 or #123.
_NUMBER = re.compile(r"#?([1-9][0-9]{0,8})")


def next_due(wo: WorkOrder) -> dt.datetime | None:
    """When the work order's SLA clock that runs out first is due (URGENCY), or None."""
    if wo.response_met_at is None and wo.response_due_at is not None:
        return wo.response_due_at
    return wo.resolution_due_at


@dataclass(frozen=True)
class ListQuery:
    """Filters, order and position of a work-order list."""

    statuses: Sequence[str] | None = None
    priorities: Sequence[str] | None = None
    types: Sequence[str] | None = None
    origins: Sequence[str] | None = None
    asset_id: str | None = None
    contractor_id: int | None = None
    assignee_id: int | None = None
    #: Only work with neither an assignee nor a contractor.
    unassigned: bool = False
    #: The asset's building is one of these.
    buildings: Sequence[str] | None = None
    created_by: str | None = None
    #: In the number (123 or #123, exactly), the asset's id, name or name_zh, the title or the
    #: description (case-insensitive).
    text: str | None = None
    created_from: dt.datetime | None = None
    created_to: dt.datetime | None = None
    #: 'at_risk' or 'breached': open work by its SLA clocks as of sla_at (sla_clause says how).
    sla: str | None = None
    sla_at: dt.datetime | None = None
    sort: str = "-id"
    #: (sort key value, id) of the last row of the previous page.
    after: tuple[Any, int] | None = None


def list_(
    session: Session,
    *,
    statuses: Sequence[str] | None = None,
    asset_id: str | None = None,
    contractor_id: int | None = None,
    assignee_id: int | None = None,
    limit: int = 100,
    after_id: int | None = None,
    query: ListQuery | None = None,
) -> list[WorkOrder]:
    """Work orders with their assets: by a ListQuery, or newest first by the simple filters."""
    q = query or ListQuery(
        statuses=statuses,
        asset_id=asset_id,
        contractor_id=contractor_id,
        assignee_id=assignee_id,
        after=(after_id, after_id) if after_id is not None else None,
    )
    return list(session.scalars(list_statement(q).limit(limit)))


def count(session: Session, query: ListQuery) -> int:
    """How many work orders match the query's filters, wherever its cursor stands."""
    stmt = select(func.count()).select_from(WorkOrder)
    if query.buildings or query.text:
        stmt = stmt.outerjoin(Asset, WorkOrder.asset_id == Asset.id)
    return int(session.scalar(_filtered(stmt, query)) or 0)


def list_statement(q: ListQuery) -> Select[WorkOrder]:
    """The SELECT behind list_."""
    desc = q.sort.startswith("-")
    name = q.sort.lstrip("-")
    key = SORTS[name]
    stmt = (
        select(WorkOrder)
        .outerjoin(Asset, WorkOrder.asset_id == Asset.id)
        .options(contains_eager(WorkOrder.asset))
    )
    stmt = _filtered(stmt, q)
    if q.after is not None:
        value, last_id = q.after
        after_id = WorkOrder.id < last_id if desc else WorkOrder.id > last_id
        if key is WorkOrder.id:
            stmt = stmt.where(after_id)
        elif name in NULLS_LAST and value is None:
            stmt = stmt.where(key.is_(None), after_id)
        else:
            beyond = key < value if desc else key > value
            rest = [key.is_(None)] if name in NULLS_LAST else []
            stmt = stmt.where(or_(beyond, and_(key == value, after_id), *rest))
    if name in NULLS_LAST:
        order = key.desc() if desc else key.asc()
        return stmt.order_by(order.nulls_last(), WorkOrder.id.desc() if desc else WorkOrder.id)
    if desc:
        return stmt.order_by(key.desc(), WorkOrder.id.desc())
    return stmt.order_by(key.asc(), WorkOrder.id.asc())


def _filtered(stmt: Select[_Row], q: ListQuery) -> Select[_Row]:
    """stmt narrowed by the query's filters (not its cursor); Asset must be joined for the
    building and text filters."""
    if q.statuses:
        stmt = stmt.where(WorkOrder.status.in_(list(q.statuses)))
    if q.priorities:
        stmt = stmt.where(WorkOrder.priority.in_(list(q.priorities)))
    if q.types:
        stmt = stmt.where(WorkOrder.type.in_(list(q.types)))
    if q.origins:
        stmt = stmt.where(WorkOrder.origin.in_(list(q.origins)))
    if q.asset_id:
        stmt = stmt.where(WorkOrder.asset_id == q.asset_id)
    if q.contractor_id is not None:
        stmt = stmt.where(WorkOrder.contractor_id == q.contractor_id)
    if q.assignee_id is not None:
        stmt = stmt.where(WorkOrder.assignee_id == q.assignee_id)
    if q.unassigned:
        stmt = stmt.where(WorkOrder.assignee_id.is_(None), WorkOrder.contractor_id.is_(None))
    if q.buildings:
        stmt = stmt.where(Asset.building_id.in_(list(q.buildings)))
    if q.created_by is not None:
        stmt = stmt.where(WorkOrder.created_by == q.created_by)
    if q.text:
        stmt = stmt.where(_search(q.text))
    if q.created_from is not None:
        stmt = stmt.where(WorkOrder.created_at >= q.created_from)
    if q.created_to is not None:
        stmt = stmt.where(WorkOrder.created_at < q.created_to)
    if q.sla is not None:
        stmt = stmt.where(sla_clause(q.sla, q.sla_at or utcnow()))
    return stmt


#: States in which each clock runs: the response clock until someone responds, the resolution
#: clock in every open state but on hold (a paused clock crosses nothing).
_RESPONDING = ("new", "assigned")
_RESOLVING = tuple(str(s) for s in OPEN_STATES if s != "on_hold")


def sla_breached(now: dt.datetime) -> ColumnElement[bool]:
    """Open work with a breached SLA clock: its breach recorded, or a running clock past its
    due time (the sweep records that breach within a minute)."""
    return and_(
        WorkOrder.status.in_([str(s) for s in OPEN_STATES]),
        or_(
            WorkOrder.response_breached.is_(True),
            WorkOrder.resolution_breached.is_(True),
            and_(
                WorkOrder.status.in_(_RESPONDING),
                WorkOrder.response_met_at.is_(None),
                WorkOrder.response_due_at < now,
            ),
            and_(WorkOrder.status.in_(_RESOLVING), WorkOrder.resolution_due_at < now),
        ),
    )


def sla_at_risk(now: dt.datetime) -> ColumnElement[bool]:
    """Open work not breached whose running clock has passed the site's warning point
    (``warn_at`` of its target, working time: the SLA sweep's 'sla_warning' entry on the
    timeline, not withdrawn since)."""
    warning = WorkOrderEvent
    withdrawn = aliased(WorkOrderEvent)
    clock = warning.data["clock"].as_string()
    running = or_(
        and_(
            clock == "response",
            WorkOrder.status.in_(_RESPONDING),
            WorkOrder.response_met_at.is_(None),
        ),
        and_(clock == "resolution", WorkOrder.status.in_(_RESOLVING)),
    )
    taken_back = (
        select(withdrawn.id)
        .where(
            withdrawn.workorder_id == WorkOrder.id,
            withdrawn.kind == "sla_withdrawn",
            withdrawn.id > warning.id,
            withdrawn.data["clock"].as_string() == clock,
            withdrawn.data["kind"].as_string() == "warning",
        )
        .exists()
    )
    warned = (
        select(warning.id)
        .where(
            warning.workorder_id == WorkOrder.id,
            warning.kind == "sla_warning",
            running,
            ~taken_back,
        )
        .exists()
    )
    return and_(WorkOrder.status.in_([str(s) for s in OPEN_STATES]), ~sla_breached(now), warned)


def sla_clause(which: str, now: dt.datetime) -> ColumnElement[bool]:
    """The condition of the list's sla filter: 'at_risk' or 'breached' (see those)."""
    return sla_breached(now) if which == "breached" else sla_at_risk(now)


def _search(text: str) -> ColumnElement[bool]:
    """Matches text as ListQuery.text says."""
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    found: list[ColumnElement[bool]] = [
        column.ilike(pattern, escape="\\")
        for column in (
            WorkOrder.title,
            WorkOrder.description,
            WorkOrder.asset_id,
            Asset.name,
            Asset.name_zh,
        )
    ]
    number = _NUMBER.fullmatch(text.strip())
    if number:
        found.append(WorkOrder.id == int(number.group(1)))
    return or_(*found)


def sort_value(wo: WorkOrder, sort: str) -> Any:
    """The value a work order has for a sort key (for the next page's cursor)."""
    name = sort.lstrip("-")
    if name == "due":
        return wo.resolution_due_at or NO_DUE
    if name == "urgency":
        return next_due(wo)
    return getattr(wo, name)


def display_names(
    session: Session, *, user_ids: set[int], organisation_ids: set[int]
) -> tuple[dict[int, str], dict[int, str]]:
    """The display names of these users and the names of these organisations: one query
    each, for a whole page of work orders."""
    users: dict[int, str] = {}
    orgs: dict[int, str] = {}
    if user_ids:
        rows = session.execute(
            select(User.id, User.display_name, User.username).where(User.id.in_(user_ids))
        )
        users = {uid: display or username for uid, display, username in rows}
    if organisation_ids:
        found = session.execute(
            select(Organisation.id, Organisation.name).where(Organisation.id.in_(organisation_ids))
        )
        orgs = {oid: name for oid, name in found}
    return users, orgs


def open_for(session: Session, asset_id: str, rule_id: str) -> WorkOrder | None:
    """The not-yet-final alert work order of this asset and rule, if any."""
    stmt = select(WorkOrder).where(WorkOrder.dedup_key == alert_key(rule_id, asset_id))
    return session.scalars(stmt).one_or_none()


def last_closed_for(session: Session, asset_id: str, rule_id: str) -> WorkOrder | None:
    """The most recent final work order of this asset and rule."""
    stmt = (
        select(WorkOrder)
        .where(
            WorkOrder.asset_id == asset_id,
            WorkOrder.rule_id == rule_id,
            WorkOrder.dedup_key.is_(None),
            WorkOrder.status.not_in(list(OPEN_STATES)),
        )
        .order_by(WorkOrder.id.desc())
        .limit(1)
    )
    return session.scalars(stmt).one_or_none()


def alert_key(rule_id: str, asset_id: str) -> str:
    """The dedup key of an alert work order."""
    return f"alert:{rule_id}:{asset_id}"


def add_event(session: Session, event: WorkOrderEvent) -> None:
    """Append a timeline entry."""
    session.add(event)


def organisation(session: Session, org_id: int) -> Organisation | None:
    """One organisation (a contractor, or the owner's own)."""
    return session.get(Organisation, org_id)


def user(session: Session, user_id: int) -> User | None:
    """One user account."""
    return session.get(User, user_id)


def assignable(session: Session, *, roles: Sequence[str]) -> tuple[list[User], list[Organisation]]:
    """The active users with these roles, by display name, and the active contractor firms,
    by name: whom the office may give work to."""
    people = session.scalars(
        select(User)
        .where(User.active.is_(True), User.role.in_(list(roles)))
        .order_by(User.display_name, User.id)
    )
    firms = session.scalars(
        select(Organisation)
        .where(Organisation.active.is_(True), Organisation.kind == "contractor")
        .order_by(Organisation.name)
    )
    return list(people), list(firms)


def get_asset(session: Session, asset_id: str) -> Asset | None:
    """One asset."""
    return session.get(Asset, asset_id)


def list_assets(session: Session) -> list[Asset]:
    """Every asset, by id."""
    return list(session.scalars(select(Asset).order_by(Asset.id)))


def contractor_asset_ids(session: Session, contractor_id: int) -> set[str]:
    """The ids of the assets a contractor has (or had) any work order on."""
    stmt = (
        select(WorkOrder.asset_id)
        .where(WorkOrder.contractor_id == contractor_id, WorkOrder.asset_id.is_not(None))
        .distinct()
    )
    return {a for a in session.scalars(stmt) if a is not None}


def contractor_has_asset_work(session: Session, asset_id: str, contractor_id: int) -> bool:
    """Whether a contractor has (or had) any work order on an asset."""
    stmt = (
        select(WorkOrder.id)
        .where(WorkOrder.asset_id == asset_id, WorkOrder.contractor_id == contractor_id)
        .limit(1)
    )
    return session.scalar(stmt) is not None


def upsert_asset(session: Session, asset: Asset) -> None:
    """Insert or update an asset by id."""
    session.merge(asset)


def cost_lines(
    session: Session, wo_id: int
) -> tuple[list[LaborEntry], list[PartLine], list[OtherCost]]:
    """Every labor, part and other-cost line of one work order, oldest first."""
    return (
        list(
            session.scalars(
                select(LaborEntry).where(LaborEntry.workorder_id == wo_id).order_by(LaborEntry.id)
            )
        ),
        list(
            session.scalars(
                select(PartLine).where(PartLine.workorder_id == wo_id).order_by(PartLine.id)
            )
        ),
        list(
            session.scalars(
                select(OtherCost).where(OtherCost.workorder_id == wo_id).order_by(OtherCost.id)
            )
        ),
    )


def add_to_cost_total(session: Session, wo_id: int, amount: float, at: dt.datetime) -> float:
    """Add `amount` to a work order's cost_total and stamp updated_at, atomically and without
    touching its version: booking a cost is an append, which must never conflict with another
    append or make a client's If-Match stale. Returns the new total.

    `cost_total = cost_total + :amount` is evaluated on the row as locked, so two bookings in
    flight at once both count (PostgreSQL re-reads the row after waiting for its lock; SQLite
    has one writer at a time)."""
    stmt = (
        update(WorkOrder)
        .where(WorkOrder.id == wo_id)
        .values(
            cost_total=func.round(cast(WorkOrder.cost_total + amount, Numeric), 2), updated_at=at
        )
        .returning(WorkOrder.cost_total)
        .execution_options(synchronize_session=False)
    )
    return float(session.execute(stmt).scalar_one())


def last_status_at(session: Session, wo_id: int) -> dt.datetime | None:
    """When the work order's latest status change happened (its own stated time)."""
    stmt = select(func.max(WorkOrderEvent.ts)).where(
        WorkOrderEvent.workorder_id == wo_id, WorkOrderEvent.kind == "status"
    )
    return session.scalar(stmt)


# --- a fix waiting for proof (workorders.orders.proof) -----------------------------------------


def proof_due(session: Session, now: dt.datetime) -> list[int]:
    """Work orders awaiting proof whose proof window is over by now, the longest over first."""
    stmt = (
        select(WorkOrder.id)
        .where(WorkOrder.awaiting_proof.is_(True), WorkOrder.proof_until <= now)
        .order_by(WorkOrder.proof_until, WorkOrder.id)
    )
    return list(session.scalars(stmt))


def lock_fresh(session: Session, wo_id: int) -> WorkOrder | None:
    """The work order re-read from the database and locked until the transaction ends (a row
    lock on PostgreSQL; on SQLite the caller's transaction holds the write lock already), so two
    processes deciding about it take turns and the second sees what the first did."""
    stmt = (
        select(WorkOrder)
        .where(WorkOrder.id == wo_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.scalars(stmt).one_or_none()


def attachment_ids_by(session: Session, wo_id: int, uploaded_by: str) -> list[int]:
    """Ids of the attachments one person put on a work order, oldest first (an occupant's
    photo on their request)."""
    stmt = (
        select(Attachment.id)
        .where(Attachment.workorder_id == wo_id, Attachment.uploaded_by == uploaded_by)
        .order_by(Attachment.id)
    )
    return list(session.scalars(stmt))


def last_event_id(session: Session, wo_id: int) -> int:
    """The id of the work order's newest timeline entry; 0 when it has none."""
    stmt = select(func.max(WorkOrderEvent.id)).where(WorkOrderEvent.workorder_id == wo_id)
    return session.scalar(stmt) or 0
