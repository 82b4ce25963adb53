"""Preventive maintenance: calendar schedules open work orders ahead of their due dates, each
occurrence exactly once, and PM compliance per month.

Schedules are configured in site.yaml under ``maintenance:`` (shapes and the statutory templates
in workorders/pm/models.py). Every ``maintenance.check_every`` (15 min by default) and once at
start, ``generate_due`` looks at each (schedule, asset) pair and opens a preventive work order
for every occurrence whose generation time, due minus ``lead_time``, has come.

Exactly once
    Each PM work order carries ``pm_key = pm:<schedule>:<asset>:<due, UTC ISO>``, unique in
    the database and never cleared (the alert ``dedup_key`` is cleared when a work order is
    closed, so it could not stop a closed occurrence from being opened again). A restart finds
    what is already there; two generators racing both try the insert and the database lets one
    win, the other skips it.

Catch-up after an outage
    Only occurrences after the schedule's latest work order on that asset are considered, so a
    restart never looks further back than that. Of those already past due (the service was down
    when they should have been opened), only the latest ``catch_up`` (default 1) are opened,
    late; older ones are logged and named in the description of the one that is opened, so a
    month of downtime does not bury the crew in stale orders. A schedule with no work order
    yet is treated the same way from its ``dtstart``.

Fixed and floating
    fixed: due dates follow the RRULE from dtstart, whatever happened to the previous one.
    floating: the next due date is counted from the day the previous occurrence was done (its
    ``resolved_at``, kept through verify and close; a cancelled one counts from its own due
    date), at dtstart's time of day, and nothing is opened while the previous is still open
    (resolved but not yet verified or closed counts as open).

Meter schedules
    Counter-based maintenance (a pump every 2,000 run hours, a lift every 50,000 trips) is a
    ``meter_interval`` rule under ``rules:`` (alerts/rules/meter_interval.py). The alert engine
    sees the counters live and opens a preventive work order each time one passes a multiple;
    its restart state is kept in the rule_states table. Those work orders have no due date and
    do not count in ``pm_compliance``.

Compliance
    ``pm_compliance`` counts the PM work orders due in a month (site time): done on time, done
    late, not done, and still open before their deadline. Compliance % = on time / due
    (DOMAIN.md, target >= 90 %). Grace is the due date by default, or SMRP 5.4.11's due date +
    20 % of the interval capped at 28 days.

Statutory hard limits
    A statutory schedule (every template's) gets no grace: its deadline is the end of its due
    date whatever ``grace`` says. One with ``max_gap_days`` (the lifts' 15 days) is also judged
    on the gap: a job completed more than that many days (site calendar days) after the
    previous completed job of the same schedule on the same asset is late, even on its due
    date; one not done yet is overdue from the day the gap runs out, even before its due date.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal
from zoneinfo import ZoneInfo

from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from config.site import SiteConfig
from core import jobs
from core.db import Database, utcnow
from workorders.orders import service
from workorders.orders.defaults import apply_asset_default
from workorders.orders.models import Origin, Status, WorkOrder, WorkOrderEvent
from workorders.pm import repository
from workorders.pm.models import TEMPLATES, Schedule

log = logging.getLogger(__name__)

ACTOR = "pm"
JOB_ID = "pm.generate"
#: SMRP 5.4.11 grace: 20 % of the interval, at most 28 days.
SMRP_GRACE_SHARE = 0.2
SMRP_GRACE_CAP = dt.timedelta(days=28)
Grace = Literal["due_date", "smrp"]


def pm_key(schedule_id: str, asset_id: str, due: dt.datetime) -> str:
    """The unique key of one occurrence of a schedule on an asset."""
    return f"pm:{schedule_id}:{asset_id}:{due.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%SZ}"


def _schedule_of(key: str) -> str:
    return key.split(":", 2)[1]


@dataclass(frozen=True)
class Due:
    """One occurrence of a schedule on an asset that needs its work order now."""

    schedule: Schedule
    asset_id: str
    asset_name: str
    due: dt.datetime
    #: Earlier occurrences passed over by the catch-up bound.
    missed: tuple[dt.datetime, ...] = ()

    @property
    def key(self) -> str:
        """Its pm_key."""
        return pm_key(self.schedule.id, self.asset_id, self.due)


# --- generation ---------------------------------------------------------------------------------


def _site_tz(site: SiteConfig) -> ZoneInfo:
    return ZoneInfo(site.doc.site.timezone)


def _done_at(wo: WorkOrder) -> dt.datetime | None:
    """When the work of a verified or closed work order was done."""
    if wo.status not in (Status.verified, Status.closed):
        return None
    return wo.resolved_at or wo.closed_at


def _calendar(
    sched: Schedule, tz: ZoneInfo, after: dt.datetime | None, now: dt.datetime
) -> tuple[list[dt.datetime], list[dt.datetime]]:
    """Occurrences after ``after`` (or from dtstart) whose generation time has come, split into
    those already past due and those still ahead."""
    lead = dt.timedelta(seconds=sched.lead_time)
    start = sched.start(tz)
    found = sched.rule(tz).between(after or start, now + lead, inc=True)
    found = [d for d in found if after is None or d > after]
    return [d for d in found if d < now], [d for d in found if d >= now]


def _fixed(
    session: Session, sched: Schedule, tz: ZoneInfo, asset_id: str, now: dt.datetime
) -> tuple[list[dt.datetime], list[dt.datetime]]:
    latest = repository.latest(session, sched.id, asset_id)
    after = latest.due_at if latest is not None else None
    past, ahead = _calendar(sched, tz, after, now)
    keep = past[-sched.catch_up :]
    skipped = past[: -sched.catch_up] if after is not None else []
    return keep + ahead, skipped


def _floating(
    session: Session, sched: Schedule, tz: ZoneInfo, asset_id: str, now: dt.datetime
) -> tuple[list[dt.datetime], list[dt.datetime]]:
    if repository.open_one(session, sched.id, asset_id) is not None:
        return [], []
    latest = repository.latest(session, sched.id, asset_id)
    if latest is None or latest.due_at is None:
        past, ahead = _calendar(sched, tz, None, now)
        return (past[-1:] or ahead[:1]), []
    base = _done_at(latest) or latest.due_at
    anchor = dt.datetime.combine(base.astimezone(tz).date(), sched.start(tz).timetz())
    rule = sched.rule(tz, anchor)
    due = rule.after(anchor)
    while due is not None and due <= latest.due_at:
        due = rule.after(due)
    if due is None or due - dt.timedelta(seconds=sched.lead_time) > now:
        return [], []
    return [due], []


def plan_due(
    session: Session,
    *,
    site: SiteConfig,
    now: dt.datetime,
) -> list[Due]:
    """The occurrences whose work orders should exist by ``now`` and do not yet."""
    tz = _site_tz(site)
    known = repository.asset_ids(session)
    out: list[Due] = []
    for sched in site.doc.maintenance.schedules:
        if not sched.enabled:
            continue
        refs = [
            ref
            for ref in site.assets()
            if sched.select.matches(
                ref.asset.id, ref.asset.brick_class, ref.asset.tags, ref.building.id
            )
        ]
        if not refs:
            log.warning("maintenance schedule %s selects no asset", sched.id)
        for ref in refs:
            if ref.asset.id not in known:
                log.warning(
                    "asset %s is not in the database yet; skipping %s", ref.asset.id, sched.id
                )
                continue
            plan = _floating if sched.mode == "floating" else _fixed
            dues, skipped = plan(session, sched, tz, ref.asset.id, now)
            if skipped:
                log.warning(
                    "%s on %s: %d overdue occurrence(s) not opened (catch_up %d): %s",
                    sched.id,
                    ref.asset.id,
                    len(skipped),
                    sched.catch_up,
                    ", ".join(f"{d:%Y-%m-%d}" for d in skipped),
                )
            for i, due in enumerate(dues):
                missed = tuple(skipped) if i == 0 else ()
                out.append(Due(sched, ref.asset.id, ref.asset.name, due, missed))
    return out


def _description(d: Due, tz: ZoneInfo, now: dt.datetime) -> str:
    s = d.schedule
    lines = [f"Preventive maintenance due {d.due.astimezone(tz):%Y-%m-%d %H:%M} ({tz.key})."]
    if d.due < now:
        lines.append(
            "Opened after its due date: Plantroom was not running when it should have been "
            "opened, or the schedule starts in the past."
        )
    lines.append(f"Schedule {s.id}: {s.rrule}, {s.mode}.")
    if s.template:
        lines.append(f"Source: {TEMPLATES[s.template].source}.")
    if s.description:
        lines += ["", s.description]
    if s.checklist:
        lines += ["", "Checklist:", *(f"- [ ] {item}" for item in s.checklist)]
    if d.missed:
        missed = ", ".join(f"{m.astimezone(tz):%Y-%m-%d}" for m in d.missed)
        lines += ["", f"Earlier occurrences missed while Plantroom was down, not opened: {missed}."]
    return "\n".join(lines)


def create_due(
    session: Session,
    dues: Iterable[Due],
    *,
    tz: ZoneInfo,
    now: dt.datetime,
    site: SiteConfig | None = None,
) -> list[WorkOrder]:
    """Open the work orders for these occurrences; one another process opened first is skipped.
    With `site`, each is assigned by the site's default for its asset's building and class."""
    created: list[WorkOrder] = []
    for d in dues:
        title = f"{d.schedule.name}: {d.asset_name}, due {d.due.astimezone(tz):%Y-%m-%d}"
        wo = WorkOrder(
            title=title[:300],
            description=_description(d, tz, now),
            priority=d.schedule.priority,
            type=d.schedule.type,
            origin=Origin.pm,
            asset_id=d.asset_id,
            pm_key=d.key,
            due_at=d.due,
            checklist=[service.checklist_item(i) for i in d.schedule.checklist] or None,
            status=Status.new,
            created_by=ACTOR,
            created_at=now,
            updated_at=now,
        )
        event = WorkOrderEvent(
            kind="created",
            actor=ACTOR,
            message=title,
            ts=now,
            data={
                "schedule": d.schedule.id,
                "due": d.due.isoformat(),
                "checklist": list(d.schedule.checklist),
                "missed": [m.isoformat() for m in d.missed],
            },
        )
        event.workorder = wo
        try:
            with session.begin_nested():
                session.add(wo)
                session.add(event)
                session.flush()
        except IntegrityError:
            if not repository.exists(session, d.key):
                raise
            log.info("%s was opened by another generator", d.key)
            continue
        if site is not None:
            apply_asset_default(session, wo, site=site, actor=ACTOR, at=now)
        service.recorded(
            session,
            wo,
            action="create",
            actor=ACTOR,
            before=None,
            event="workorder.created",
            now=now,
        )
        log.info("opened PM work order %d: %s", wo.id, title)
        created.append(wo)
    return created


def generate_due(
    session: Session,
    *,
    site: SiteConfig,
    now: dt.datetime,
) -> list[WorkOrder]:
    """Open every PM work order due for generation by ``now`` that does not exist yet."""
    dues = plan_due(session, site=site, now=now)
    return create_due(session, dues, tz=_site_tz(site), now=now, site=site)


# --- compliance ---------------------------------------------------------------------------------


@dataclass
class Compliance:
    """PM work orders due in one month, for one schedule or all of them."""

    schedule_id: str | None
    due: int = 0
    on_time: int = 0
    late: int = 0
    #: Cancelled, or still not done after the deadline.
    not_done: int = 0
    #: Not done yet, deadline still ahead (only in a month not over yet).
    pending: int = 0

    @property
    def percent(self) -> float | None:
        """Done by the deadline / due, in %; None when nothing was due."""
        return 100.0 * self.on_time / self.due if self.due else None

    def add(self, outcome: str) -> None:
        """Count one work order with this outcome."""
        self.due += 1
        setattr(self, outcome, getattr(self, outcome) + 1)


@dataclass
class ComplianceReport:
    """PM compliance for a month: one row per schedule, and the whole."""

    month: str
    overall: Compliance
    schedules: list[Compliance] = field(default_factory=list)


def _month_bounds(month: str | dt.date, tz: ZoneInfo) -> tuple[str, dt.datetime, dt.datetime]:
    if isinstance(month, str):
        month = dt.date.fromisoformat(f"{month}-01")
    start = dt.datetime(month.year, month.month, 1, tzinfo=tz)
    nxt = dt.datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=tz)
    return f"{month:%Y-%m}", start, nxt


def _deadline(
    due_at: dt.datetime, sched: Schedule | None, tz: ZoneInfo, grace: Grace
) -> dt.datetime:
    """The end of the last day on which the work still counts as on time (a statutory schedule
    gets no grace)."""
    due = due_at.astimezone(tz)
    last = due
    if grace == "smrp" and sched is not None and not sched.statutory:
        nxt = sched.rule(tz, due).after(due)
        if nxt is not None:
            last = due + min((nxt - due) * SMRP_GRACE_SHARE, SMRP_GRACE_CAP)
    return _end_of_day(last.date(), tz)


def _end_of_day(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=tz)


def done_at(wo: WorkOrder) -> dt.datetime | None:
    """When the work of a verified or closed work order was done; None while it is not."""
    return _done_at(wo)


def schedule_of(wo: WorkOrder) -> str | None:
    """The id of the schedule a PM work order belongs to (None for any other work order)."""
    return _schedule_of(wo.pm_key) if wo.pm_key else None


@dataclass(frozen=True)
class Verdict:
    """How one PM work order stands against its deadline and, if statutory, the hard limit."""

    #: on_time, late, not_done (cancelled, or not done by the deadline) or pending.
    outcome: str
    deadline: dt.datetime
    done_at: dt.datetime | None
    #: 'gap' when the hard limit made it late or overdue, 'due' when its due date did.
    late_reason: Literal["gap", "due"] | None = None
    #: Days from the previous completed job to this one (or to now, while it is not done).
    gap_days: int | None = None
    max_gap_days: int | None = None
    previous_done_at: dt.datetime | None = None


class DoneHistory:
    """When each (schedule, asset) pair's jobs were completed, read once per pair."""

    def __init__(self, session: Session):
        self.session = session
        self._cache: dict[tuple[str, str], list[dt.datetime]] = {}

    def times(self, schedule_id: str, asset_id: str) -> list[dt.datetime]:
        """Completion times of the pair's verified or closed jobs, oldest first."""
        key = (schedule_id, asset_id)
        if key not in self._cache:
            rows = repository.completed(self.session, schedule_id, asset_id)
            self._cache[key] = sorted(t for wo in rows if (t := _done_at(wo)) is not None)
        return self._cache[key]

    def before(self, schedule_id: str, asset_id: str, when: dt.datetime) -> dt.datetime | None:
        """The latest completion strictly before `when`."""
        earlier = [t for t in self.times(schedule_id, asset_id) if t < when]
        return earlier[-1] if earlier else None


def judge(
    wo: WorkOrder,
    *,
    sched: Schedule | None,
    tz: ZoneInfo,
    grace: Grace,
    now: dt.datetime,
    history: DoneHistory,
) -> Verdict:
    """Where a PM work order stands: on time, late, not done or pending, and why late."""
    assert wo.due_at is not None
    deadline = _deadline(wo.due_at, sched, tz, grace)
    done = _done_at(wo)
    limit = sched.max_gap_days if sched is not None else None
    prev: dt.datetime | None = None
    gap_deadline: dt.datetime | None = None
    if limit is not None and sched is not None and wo.asset_id is not None:
        # The clock runs from the completion before this job: before its due date while it is
        # not done (a later job done since does not restart this one's clock).
        prev = history.before(sched.id, wo.asset_id, done or wo.due_at)
        if prev is not None:
            gap_deadline = _end_of_day(prev.astimezone(tz).date() + dt.timedelta(days=limit), tz)
    gap = None
    if prev is not None:
        gap = ((done or now).astimezone(tz).date() - prev.astimezone(tz).date()).days
    by_gap = gap_deadline is not None and (done or now) >= gap_deadline
    by_due = (done or now) >= deadline
    if done is not None:
        outcome = "late" if by_gap or by_due else "on_time"
    elif wo.status == Status.cancelled or by_gap or by_due:
        outcome = "not_done"
    else:
        outcome = "pending"
    reason: Literal["gap", "due"] | None = None
    if outcome in ("late", "not_done") and wo.status != Status.cancelled:
        reason = "gap" if by_gap else "due"
    return Verdict(
        outcome=outcome,
        deadline=min(deadline, gap_deadline) if gap_deadline is not None else deadline,
        done_at=done,
        late_reason=reason,
        gap_days=gap,
        max_gap_days=limit,
        previous_done_at=prev,
    )


def pm_compliance(
    session: Session,
    *,
    site: SiteConfig,
    month: str | dt.date,
    now: dt.datetime | None = None,
    grace: Grace = "due_date",
) -> ComplianceReport:
    """PM compliance for the month ('2026-05' or a date in it) in the site's timezone."""
    tz = _site_tz(site)
    now = now or utcnow()
    label, start, end = _month_bounds(month, tz)
    schedules = {s.id: s for s in site.doc.maintenance.schedules}
    overall = Compliance(None)
    rows: dict[str, Compliance] = {}
    history = DoneHistory(session)
    for wo in repository.due_between(session, start, end):
        if wo.pm_key is None or wo.due_at is None:  # the query asks for both
            continue
        sid = _schedule_of(wo.pm_key)
        verdict = judge(wo, sched=schedules.get(sid), tz=tz, grace=grace, now=now, history=history)
        rows.setdefault(sid, Compliance(sid)).add(verdict.outcome)
        overall.add(verdict.outcome)
    return ComplianceReport(label, overall, [rows[k] for k in sorted(rows)])


# --- scheduling ---------------------------------------------------------------------------------


def run_once(db: Database, site: SiteConfig, *, now: dt.datetime | None = None) -> list[int]:
    """One generation pass in its own unit of work; the ids of the work orders opened."""
    with db.session() as s:
        return [wo.id for wo in generate_due(s, site=site, now=now or utcnow())]


def add_jobs(
    scheduler: BaseScheduler,
    *,
    db: Database,
    site: SiteConfig,
    clock: Callable[[], dt.datetime] = utcnow,
) -> None:
    """Declare the PM job on an APScheduler scheduler: every ``maintenance.check_every`` and
    once at start; missed runs coalesce into one (a pass catches up by itself)."""
    jobs.every(
        scheduler,
        lambda: run_once(db, site, now=clock()),
        seconds=site.doc.maintenance.check_every,
        job_id=JOB_ID,
        name="preventive maintenance: open due work orders",
    )
