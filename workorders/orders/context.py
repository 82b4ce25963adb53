"""What a work order is about, for the work-order page: the alert behind it (the rule in words and
the alert's state now), the occupant's report behind a request, and the statutory items of an
inspection. Read-only: nothing here changes a work order.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from sqlalchemy.orm import Session

from alerts import repository as alerts_repo
from alerts.models import Alert
from alerts.rules.base import RuleBase
from workorders.orders import repository
from workorders.orders.models import FINAL_STATES, Origin, WorkOrder, WorkOrderType
from workorders.orders.schemas import AlertContext, RequestContext, StatutoryItem
from workorders.pm.models import TEMPLATES

#: Alert states shown as they are; any other state of an alert that is over (a pending alert
#: that cleared before firing is stored 'inactive') shows as 'resolved': the signal is back.
_SHOWN = frozenset({"pending", "firing", "nodata", "error", "resolved"})


def alert(session: Session, wo: WorkOrder, rules: Iterable[RuleBase]) -> AlertContext | None:
    """The alert block of an alert work order (None for others, and for a storm's parent, which
    stands for many rules). `rules` are the site's: the rule gives the name, words and level."""
    if wo.origin != Origin.alert or not wo.rule_id or not wo.asset_id:
        return None
    row = _alert_row(session, wo)
    rule = next((r for r in rules if r.id == wo.rule_id), None)
    trigger = wo.trigger or {}
    unit = (row.unit if row is not None and row.unit else None) or str(trigger.get("unit") or "")
    point = (row.point if row is not None else None) or str(trigger.get("point") or "")
    if rule is not None:
        name, name_zh = rule.name, rule.name_zh
        words, level = rule.words(unit), rule.level()
        point = point or rule.point
    else:  # the rule has left site.yaml since: what the trigger recorded
        said = str(trigger.get("rule") or wo.rule_id)
        name, name_zh, words, level = wo.rule_id, None, {"en": said, "zh-CN": said}, None
    state = None
    if row is not None:
        state = row.state if row.state in _SHOWN else "resolved"
    return AlertContext(
        id=row.id if row is not None else None,
        rule_id=wo.rule_id,
        rule_name=name,
        rule_name_zh=name_zh,
        words=words,
        state=state,
        silenced=row is not None and row.active_key is not None and row.silence_id is not None,
        point=point,
        unit=unit,
        threshold=level,
        started_at=row.started_at if row is not None else None,
        cleared_at=row.resolved_at if row is not None else None,
    )


def alert_tag(session: Session, wo: WorkOrder) -> str:
    """What the alert block shows, in a few characters for the work order's ETag: an alert's
    state can move (firing to nodata, a silence) without a timeline entry, and a tablet polling
    with If-None-Match must still see it. Empty for a work order with no alert block."""
    if wo.origin != Origin.alert or not wo.rule_id or not wo.asset_id:
        return ""
    row = _alert_row(session, wo)
    if row is None:
        return "a"
    silenced = "s" if row.active_key is not None and row.silence_id is not None else ""
    return f"a{row.id}{row.state}{silenced}"


def _alert_row(session: Session, wo: WorkOrder) -> Alert | None:
    """The alert whose state the work order shows: while the work order is the one its rule and
    asset raise (not final), the live alert of the pair if there is one, since it is what
    decides whether the fix holds; else the newest alert that raised or updated it."""
    assert wo.rule_id is not None and wo.asset_id is not None
    if wo.status not in FINAL_STATES:
        live = alerts_repo.live_for(session, wo.rule_id, wo.asset_id)
        if live is not None:
            return live
    return alerts_repo.latest_for_workorder(session, wo.rule_id, wo.asset_id, wo.id)


def request(session: Session, wo: WorkOrder) -> RequestContext | None:
    """The occupant's report behind a request: their text, who they are, how to reach them and
    the photos they added (the attachments they uploaded themselves)."""
    if wo.origin != Origin.request and wo.type != WorkOrderType.request:
        return None
    return RequestContext(
        text=wo.description,
        reporter=wo.created_by,
        contact=wo.reporter_contact,
        photos=repository.attachment_ids_by(session, wo.id, wo.created_by),
    )


@functools.cache
def _statutory_basis() -> dict[str, str]:
    """Every checklist item of a statutory template, with its source (first template wins)."""
    out: dict[str, str] = {}
    for template in TEMPLATES.values():
        for item in template.checklist:
            out.setdefault(item, template.source)
    return out


def statutory(wo: WorkOrder) -> list[StatutoryItem] | None:
    """The statutory items of an inspection or preventive job: those of its checklist lines that
    come from a statutory template (workorders.pm.models.TEMPLATES), each with its basis; None
    when it has none."""
    if wo.type not in (WorkOrderType.inspection, WorkOrderType.preventive):
        return None
    basis = _statutory_basis()
    items = [
        StatutoryItem(item=text, basis=basis[text])
        for line in wo.checklist or []
        if (text := str(line.get("item", ""))) in basis
    ]
    return items or None
