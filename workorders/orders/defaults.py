"""The ``assignment:`` section of site.yaml: who gets a work order the system opens (an alert's,
a storm's, a preventive one) when it opens, by building and asset class::

    assignment:
      - {building: bldg-a, class: Pump, user: tech}     # building and class both optional
      - {class: Elevator, contractor: Huaxia Property Services}

Each entry names exactly one of ``user`` (a username) or ``contractor`` (a firm of the
``contractors:`` section). The most specific entry that matches wins: building and class, then
class, then building, then an entry with neither (the site's default for everything).

The loader checks what the file alone can say (buildings, classes, firms); a username can only
be checked against the database, which `unknown_users` does when the app starts and
`apply_default` again when a work order opens: a user who is not there (or disabled, or does
not take work orders) leaves the work order unassigned, with a warning in the log.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from config.site import Located, SiteConfig
from config.yamlloc import Problem
from core.auth import repository as auth_repository
from core.auth.models import Role, User
from workorders.orders import repository as orders_repository
from workorders.orders.models import Status, WorkOrder
from workorders.orders.service import timeline_event
from workorders.sla import service as sla_service

log = logging.getLogger(__name__)

#: Roles a default may name: the people who take work orders.
TAKERS = frozenset({Role.technician, Role.engineer, Role.contractor})


class DefaultAssignee(BaseModel):
    """One entry of ``assignment:``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    building: str | None = Field(default=None, min_length=1)
    asset_class: str | None = Field(default=None, alias="class", min_length=1)
    user: str | None = Field(default=None, min_length=1, max_length=80)
    contractor: str | None = Field(default=None, min_length=1, max_length=200)

    @property
    def rank(self) -> int:
        """How specific it is: 3 building and class, 2 class, 1 building, 0 neither."""
        return (2 if self.asset_class else 0) + (1 if self.building else 0)

    def scope(self) -> str:
        """What it covers, in words: 'Pump in bldg-a', 'Pump', 'building bldg-a', 'everything'."""
        if self.asset_class and self.building:
            return f"{self.asset_class} in {self.building}"
        if self.asset_class:
            return self.asset_class
        if self.building:
            return f"building {self.building}"
        return "everything"


def assignment_problems(site: SiteConfig[Any]) -> list[Located]:
    """(path, message) for each entry naming an unknown building, class or contractor firm,
    naming both or neither of user and contractor, or repeating an earlier entry's scope."""
    entries: list[DefaultAssignee] = site.doc.assignment
    buildings = [b.id for b in site.doc.buildings]
    firms = [c.name for c in site.doc.contractors]
    out: list[Located] = []
    seen: dict[tuple[str | None, str | None], int] = {}
    for i, e in enumerate(entries):
        where = ("assignment", i)
        if e.building is not None and e.building not in buildings:
            known = ", ".join(buildings) or "none"
            out.append(((*where, "building"), f"unknown building '{e.building}' (known: {known})"))
        if e.asset_class is not None and e.asset_class not in site.asset_classes:
            out.append(((*where, "class"), f"no asset has class '{e.asset_class}'"))
        if e.user is not None and e.contractor is not None:
            out.append(((*where, "contractor"), "name either a user or a contractor, not both"))
        elif e.user is None and e.contractor is None:
            out.append((where, "name a user (a username) or a contractor (a firm's name)"))
        if e.contractor is not None and e.contractor not in firms:
            known = ", ".join(f"'{f}'" for f in firms) or "none in contractors:"
            out.append(
                ((*where, "contractor"), f"unknown contractor '{e.contractor}' (known: {known})")
            )
        key = (e.building, e.asset_class)
        if key in seen:
            out.append((where, f"covers the same building and class as assignment[{seen[key]}]"))
        seen.setdefault(key, i)
    return out


def choose(
    entries: Sequence[DefaultAssignee], *, building_id: str | None, asset_class: str | None
) -> tuple[int, DefaultAssignee] | None:
    """The most specific entry covering a work order in this building on an asset of this
    class (either may be unknown: only entries that leave it out match), with its index."""
    best: tuple[int, DefaultAssignee] | None = None
    for i, e in enumerate(entries):
        if e.building is not None and e.building != building_id:
            continue
        if e.asset_class is not None and e.asset_class != asset_class:
            continue
        if best is None or e.rank > best[1].rank:
            best = (i, e)
    return best


def _unfit(user: User | None, name: str) -> str | None:
    """Why this user cannot be a default assignee, or None when they can."""
    if user is None:
        return f"there is no user '{name}'"
    if not user.active:
        return f"user '{name}' is disabled"
    if user.role not in TAKERS:
        return f"user '{name}' ({user.role}) does not take work orders"
    if user.role == Role.contractor and user.organisation_id is None:
        return f"user '{name}' is a contractor's but belongs to no firm"
    return None


def unknown_users(session: Session, site: SiteConfig[Any]) -> list[Problem]:
    """The entries whose user is missing, disabled or takes no work orders, at file:line:field
    (checked when the app starts: the loader cannot see the database)."""
    out = []
    for i, e in enumerate(site.doc.assignment):
        if e.user is None:
            continue
        why = _unfit(auth_repository.user_by_username(session, e.user), e.user)
        if why is not None:
            out.append(site.problem(("assignment", i, "user"), f"{why}: left unassigned"))
    return out


def apply_asset_default(
    session: Session, wo: WorkOrder, *, site: SiteConfig[Any], actor: str, at: dt.datetime
) -> bool:
    """apply_default by the building and class of the work order's asset (none: any entry
    that names neither)."""
    asset = orders_repository.get_asset(session, wo.asset_id) if wo.asset_id else None
    return apply_default(
        session,
        wo,
        site=site,
        building_id=asset.building_id if asset else None,
        asset_class=asset.brick_class if asset else None,
        actor=actor,
        at=at,
    )


def apply_default(
    session: Session,
    wo: WorkOrder,
    *,
    site: SiteConfig[Any],
    building_id: str | None,
    asset_class: str | None,
    actor: str,
    at: dt.datetime,
    sla: bool = True,
) -> bool:
    """Assign a work order the system just opened (status new, not yet recorded) by the site's
    default for its building and asset class: its assignee or contractor, status assigned, and
    a timeline entry naming the entry. With `sla`, the SLA policy is chosen again for the
    contractor (its own policy wins over the general one).
    False, leaving it unassigned, when no entry covers it or the one that does names someone
    who cannot take it (logged)."""
    found = choose(site.doc.assignment, building_id=building_id, asset_class=asset_class)
    if found is None:
        return False
    index, entry = found
    where = f"{site.path}: assignment[{index}]"
    assignee_id: int | None = None
    contractor_id: int | None = None
    if entry.user is not None:
        user = auth_repository.user_by_username(session, entry.user)
        why = _unfit(user, entry.user)
        if why is not None or user is None:
            log.warning("%s: %s; work order %s left unassigned", where, why, wo.id)
            return False
        assignee_id = user.id
        if user.role == Role.contractor:
            contractor_id = user.organisation_id
        who = f"user {entry.user}"
    else:
        name = entry.contractor or ""
        org = auth_repository.organisation_by_name(session, name)
        if org is None or org.kind != "contractor" or not org.active:
            log.warning(
                "%s: '%s' is not an active contractor; work order %s left unassigned",
                where,
                name,
                wo.id,
            )
            return False
        contractor_id = org.id
        who = f"contractor {name}"
    wo.assignee_id = assignee_id
    wo.contractor_id = contractor_id
    if sla and contractor_id is not None:
        wo.sla_policy = sla_service.choose_policy(
            site,
            priority=wo.priority,
            contractor_id=contractor_id,
            type_=wo.type,
            session=session,
            origin=wo.origin,
        )
    before = wo.status
    wo.status = Status.assigned
    data = {
        "assignee_id": assignee_id,
        "contractor_id": contractor_id,
        "default": {
            "index": index,
            "building": entry.building,
            "class": entry.asset_class,
            "user": entry.user,
            "contractor": entry.contractor,
        },
    }
    message = f"assigned to {who} by the site's default for {entry.scope()}"
    session.add(timeline_event(wo, "assigned", actor, message, data, ts=at))
    moved = {"from": str(before), "to": str(Status.assigned)}
    session.add(timeline_event(wo, "status", actor, "", moved, ts=at))
    return True
