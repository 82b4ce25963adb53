"""Maintenance KPIs of a month (GET /api/v1/analytics/kpis), for the site and per building,
contractor firm and asset class.

Definitions (DOMAIN.md, "KPI definitions"; the month is the site's local calendar month, and
for the month under way everything counts up to now):

- MTTR, hours (IEEE 493: total repair time / repairs): the mean of (work ended - opened) over
  the corrective work orders whose work ended in the month (resolved, else closed; cancelled
  ones repaired nothing).
- MTBF, days (SMRP 3.5.1: operating time / failures): the asset-days of the month (each asset
  counts from its install date; a firm's assets are those it has had work on) over the failures
  opened in it (corrective work orders on an asset, not cancelled: a false alarm or a duplicate
  is no failure). None when nothing failed.
- PM compliance, % (DOMAIN.md; SMRP 5.4.11 with the due date as the deadline): PM work orders
  due in the month done by their due date (a statutory schedule's hard limit as well) / due,
  judged by workorders.pm.service.judge like the PM calendar.
- Planned share, % (DOMAIN.md: planned hours / total maintenance hours): labor hours worked
  in the month on preventive and inspection work / all labor hours worked in it.
- Backlog, crew-weeks (SMRP 5.4.9: ready work / crew hours per week): the work orders open at
  the month's end (now, for the month under way), each estimated at the mean labor hours of the
  jobs of its type that ended in the year before, over crew × 40 h. The crew is the active
  technicians, or for a firm its active contractor accounts. Work orders carry no estimate of
  their own, hence the estimate from history.
- Possible-recall rate, % (DOMAIN.md: the same asset again within 30 days): failures opened in
  the month within 30 days after earlier corrective work on the same asset ended (whichever firm
  did it) / failures opened in the month. The problem itself is not compared: a cause code is
  known only once the job is resolved.
- Spend: labor (hours × rate, by when worked), parts and other costs (by when booked), planned
  (preventive and inspection work) against reactive (corrective work and requests).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from analytics import kpi_repository as repo
from analytics.kpi_repository import CostRow, Scope
from core.errors import NotFound
from workorders.contractors.scorecard import month_bounds as scorecard_month_bounds
from workorders.contractors.scorecard import parse_month
from workorders.orders.models import Asset, Status, WorkOrder
from workorders.pm.service import Compliance, DoneHistory, judge, schedule_of
from workorders.site import WorkordersSite

#: DOMAIN.md: the same asset again within 30 days is a possible recall.
RECALL_WINDOW = dt.timedelta(days=30)
#: How far back the jobs that estimate the backlog's hours go.
ESTIMATE_HISTORY = dt.timedelta(days=365)
#: A crew member's hours in a week (SMRP 5.4.9's crew-week).
CREW_WEEK_HOURS = 40.0
#: Work orders that are planned maintenance; the other types are reactive.
PLANNED_TYPES = frozenset({"preventive", "inspection"})
#: The contractor key of work no firm holds (the in-house crew's).
IN_HOUSE = 0


class UnknownFilter(NotFound):
    """A building, contractor or asset class the database does not know."""


def month_bounds(
    month: str, tz: ZoneInfo, now: dt.datetime | None = None
) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of a YYYY-MM month in the time zone, as aware datetimes in UTC; BadMonth
    (422) as the scorecard says it (not YYYY-MM, no such month, or not begun by `now`)."""
    start, end = scorecard_month_bounds(parse_month(month, tz, now), tz)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


@dataclass(frozen=True)
class Group:
    """One row's filter within what was loaded: a building, a firm (IN_HOUSE: no firm), a class;
    None matches anything."""

    building: str | None = None
    firm: int | None = None
    asset_class: str | None = None

    def matches(self, building: str | None, firm: int | None, asset_class: str | None) -> bool:
        """Whether a work order or cost line with these attributes belongs to the group."""
        if self.building is not None and building != self.building:
            return False
        if self.asset_class is not None and asset_class != self.asset_class:
            return False
        return self.firm is None or (firm or IN_HOUSE) == self.firm


@dataclass
class Facts:
    """Everything the month's KPIs are computed from, read once."""

    start: dt.datetime
    end: dt.datetime
    #: The end of what counts: the month's end, or now within the month under way.
    through: dt.datetime
    work_orders: list[WorkOrder]
    #: The PM outcome (on_time, late, not_done, pending) of each PM work order due in the month.
    pm_outcomes: dict[int, str]
    costs: list[CostRow]
    assets: list[Asset]
    #: (asset id, firm id) of every firm's work on an asset before the month's end.
    firm_assets: set[tuple[str, int]]
    #: When earlier corrective work on each failed asset ended (within the recall window).
    previous_ends: dict[str, list[dt.datetime]]
    #: Mean labor hours of a job, by type, and over all types ("*").
    estimate: dict[str, float]
    technicians: int
    firm_crews: dict[int, int]
    names: dict[int, str] = field(default_factory=dict)
    #: The firm the request is scoped to, if any.
    firm: int | None = None


def _utc(t: dt.datetime) -> dt.datetime:
    """An aware UTC time (SQLite hands back what was stored; be sure)."""
    return t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t.astimezone(dt.UTC)


def _ended(wo: WorkOrder) -> dt.datetime | None:
    """When the work order's work ended: resolved, else closed or cancelled; None while open."""
    t = wo.resolved_at or wo.closed_at
    return _utc(t) if t is not None else None


def _attrs(wo: WorkOrder) -> tuple[str | None, int | None, str | None]:
    a = wo.asset
    return (a.building_id if a else None, wo.contractor_id, a.brick_class if a else None)


def _round(x: float | None, digits: int = 2) -> float | None:
    return None if x is None else round(x, digits)


def _estimates(rows: Iterable[tuple[str, float]]) -> dict[str, float]:
    by_type: dict[str, list[float]] = {}
    for t, h in rows:
        by_type.setdefault(t, []).append(h)
        by_type.setdefault("*", []).append(h)
    return {t: statistics.fmean(hs) for t, hs in by_type.items()}


def load_facts(
    session: Session, site: WorkordersSite, *, month: str, scope: Scope, now: dt.datetime
) -> Facts:
    """Read what the month's KPIs need, within the scope."""
    tz = ZoneInfo(site.doc.site.timezone)
    start, end = month_bounds(month, tz, now)
    through = min(end, now)
    wos = repo.month_work_orders(session, scope=scope, start=start, end=end, lookback=RECALL_WINDOW)
    schedules = {s.id: s for s in site.doc.maintenance.schedules}
    history = DoneHistory(session)
    outcomes: dict[int, str] = {}
    for wo in wos:
        if wo.pm_key is None or wo.due_at is None or not (start <= _utc(wo.due_at) < end):
            continue
        sid = schedule_of(wo)
        verdict = judge(
            wo,
            sched=schedules.get(sid or ""),
            tz=tz,
            grace="due_date",
            now=now,
            history=history,
        )
        outcomes[wo.id] = verdict.outcome
    failed = {
        wo.asset_id
        for wo in wos
        if wo.type == "corrective" and wo.asset_id and start <= _utc(wo.created_at) < through
    }
    return Facts(
        start=start,
        end=end,
        through=through,
        work_orders=wos,
        pm_outcomes=outcomes,
        costs=repo.cost_rows(session, scope=scope, start=start, end=through),
        assets=repo.assets(session, scope=scope),
        firm_assets=repo.firm_assets(session, through),
        previous_ends={
            k: [_utc(t) for t in v]
            for k, v in repo.corrective_ends(
                session, failed, start - RECALL_WINDOW, through
            ).items()
        },
        estimate=_estimates(
            repo.labor_hours_of_ended(session, through - ESTIMATE_HISTORY, through)
        ),
        technicians=repo.active_technicians(session),
        firm_crews=repo.firm_crews(session),
        names=repo.organisation_names(session),
        firm=scope.contractor_id,
    )


def _asset_days(
    assets: Iterable[Asset], start: dt.datetime, through: dt.datetime, tz: ZoneInfo
) -> float:
    """Operating time of the assets in [start, through), in days: each from its install date."""
    total = 0.0
    for a in assets:
        begin = start
        if a.install_date is not None:
            begin = max(
                begin, dt.datetime.combine(a.install_date, dt.time(), tz).astimezone(dt.UTC)
            )
        if begin < through:
            total += (through - begin).total_seconds() / 86400
    return total


def block(facts: Facts, group: Group, tz: ZoneInfo) -> dict[str, Any]:
    """The KPIs of one group of what was loaded."""
    start, through = facts.start, facts.through
    wos = [wo for wo in facts.work_orders if group.matches(*_attrs(wo))]
    corrective = [wo for wo in wos if wo.type == "corrective"]

    # MTTR: corrective work that ended in the month (a cancelled job repaired nothing).
    repairs: list[float] = []
    for wo in corrective:
        ended = _ended(wo)
        if wo.status != Status.cancelled and ended is not None and start <= ended < through:
            repairs.append((ended - _utc(wo.created_at)).total_seconds() / 3600)
    mttr = statistics.fmean(repairs) if repairs else None

    # MTBF: asset-days over failures opened in the month.
    opened = [wo for wo in corrective if start <= _utc(wo.created_at) < through]
    # A cancelled job (a false alarm, a duplicate) was no failure.
    failures = [wo for wo in opened if wo.asset_id is not None and wo.status != Status.cancelled]
    # A firm's own figures (a row of by_contractor, or a request scoped to it) count its
    # assets and its crew; every other group the site's.
    firm = group.firm if group.firm is not None else facts.firm
    where = Group(building=group.building, asset_class=group.asset_class)
    population = [
        a
        for a in facts.assets
        if where.matches(a.building_id, None, a.brick_class)
        and (firm in (None, IN_HOUSE) or (a.id, firm) in facts.firm_assets)
    ]
    ids = {a.id for a in population}
    counted = [wo for wo in failures if wo.asset_id in ids]
    asset_days = _asset_days(population, start, through, tz)
    mtbf = asset_days / len(counted) if counted else None

    # PM compliance.
    pm = Compliance(None)
    for wo in wos:
        outcome = facts.pm_outcomes.get(wo.id)
        if outcome is not None:
            pm.add(outcome)

    # Labor hours and spend.
    costs = [c for c in facts.costs if group.matches(c.building_id, c.contractor_id, c.asset_class)]
    hours = float(sum(c.hours for c in costs if c.kind == "labor"))
    planned_hours = float(
        sum(c.hours for c in costs if c.kind == "labor" and c.type in PLANNED_TYPES)
    )
    spend = {
        k: float(sum(c.amount for c in costs if c.kind == k)) for k in ("labor", "parts", "other")
    }
    spend["total"] = sum(spend.values())
    spend["planned"] = float(sum(c.amount for c in costs if c.type in PLANNED_TYPES))
    spend["reactive"] = spend["total"] - spend["planned"]

    # Backlog at the end of what counts.
    backlog = [
        wo
        for wo in wos
        if _utc(wo.created_at) < through and ((e := _ended(wo)) is None or e >= through)
    ]
    est = facts.estimate
    backlog_hours: float | None = None
    if not backlog:
        backlog_hours = 0.0
    elif est:
        backlog_hours = sum(est.get(wo.type, est["*"]) for wo in backlog)
    crew = facts.firm_crews.get(firm, 0) if firm not in (None, IN_HOUSE) else facts.technicians
    weeks = backlog_hours / (crew * CREW_WEEK_HOURS) if crew and backlog_hours is not None else None

    # Possible recalls.
    recalls = 0
    for wo in failures:
        opened_at = _utc(wo.created_at)
        ends = facts.previous_ends.get(wo.asset_id or "", [])
        if any(opened_at - RECALL_WINDOW <= e < opened_at for e in ends):
            recalls += 1

    return {
        "mttr_hours": _round(mttr),
        "mtbf_days": _round(mtbf),
        "pm_compliance_percent": _round(pm.percent, 1),
        "planned_share_percent": _round(100 * planned_hours / hours if hours else None, 1),
        "backlog_crew_weeks": _round(weeks),
        "recall_rate_percent": _round(100 * recalls / len(failures) if failures else None, 1),
        "spend": {k: round(v, 2) for k, v in spend.items()},
        "counts": {
            "corrective_opened": len(opened),
            "failures": len(counted),
            "repairs": len(repairs),
            "asset_days": round(asset_days, 2),
            "pm_due": pm.due,
            "pm_on_time": pm.on_time,
            "pm_late": pm.late,
            "pm_not_done": pm.not_done,
            "pm_pending": pm.pending,
            "labor_hours": round(hours, 2),
            "planned_hours": round(planned_hours, 2),
            "backlog_open": len(backlog),
            "backlog_hours": _round(backlog_hours),
            "crew_size": crew,
            "recalls": recalls,
            "recall_base": len(failures),
        },
    }


def _groups(facts: Facts, key: Callable[[str | None, int | None, str | None], Any]) -> list[Any]:
    """The distinct values of key over what was loaded (work orders and cost lines)."""
    seen = {key(*_attrs(wo)) for wo in facts.work_orders}
    seen |= {key(c.building_id, c.contractor_id, c.asset_class) for c in facts.costs}
    seen.discard(None)
    return sorted(seen)


def _check(session: Session, scope: Scope) -> None:
    if scope.building is not None and not repo.building_exists(session, scope.building):
        raise UnknownFilter(f"no building '{scope.building}'")
    if scope.asset_class is not None and not repo.class_exists(session, scope.asset_class):
        raise UnknownFilter(f"no asset of class '{scope.asset_class}'")
    if scope.contractor_id is not None and repo.organisation(session, scope.contractor_id) is None:
        raise UnknownFilter(f"no contractor {scope.contractor_id}")


def kpis(
    session: Session,
    site: WorkordersSite,
    *,
    month: str,
    building: str | None = None,
    contractor_id: int | None = None,
    asset_class: str | None = None,
    now: dt.datetime,
) -> dict[str, Any]:
    """The maintenance KPIs of a month, for the filters given, with the same figures per
    building, contractor firm and asset class within them."""
    scope = Scope(building=building, contractor_id=contractor_id, asset_class=asset_class)
    _check(session, scope)
    tz = ZoneInfo(site.doc.site.timezone)
    facts = load_facts(session, site, month=month, scope=scope, now=now)
    buildings = {a.building_id: a.building_name for a in facts.assets}
    return {
        "month": month,
        "filters": {"building": building, "contractor": contractor_id, "class": asset_class},
        "period": {
            "from": facts.start.isoformat(),
            "to": facts.end.isoformat(),
            "through": facts.through.isoformat(),
            "complete": facts.through >= facts.end,
            "timezone": site.doc.site.timezone,
        },
        **block(facts, Group(), tz),
        "by_building": [
            {"building": b, "name": buildings.get(b, b), **block(facts, Group(building=b), tz)}
            for b in _groups(facts, lambda b, _f, _c: b)
        ],
        "by_contractor": [
            {
                "contractor": f or None,
                "name": facts.names.get(f) if f else None,
                **block(facts, Group(firm=f), tz),
            }
            for f in _groups(facts, lambda _b, f, _c: f or IN_HOUSE)
        ],
        "by_class": [
            {"class": c, **block(facts, Group(asset_class=c), tz)}
            for c in _groups(facts, lambda _b, _f, c: c)
        ],
    }
