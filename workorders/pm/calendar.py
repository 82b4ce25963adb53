"""The PM calendar: a month's preventive work, as scheduled, done and overdue, with compliance;
and an asset's schedules with when each was last done and is next due.

Every job due in the month (site time) is one entry: a PM work order already opened, judged
as pm_compliance judges it (service.judge: statutory jobs get no grace, and the lifts' 15-day
limit is a hard one), or an occurrence the schedule will still open (from now to the month's
end, fixed schedules by their RRULE, a floating one its next due date). A past occurrence of a
fixed schedule that never got its work order, although the schedule had already opened one
on that asset before, is shown as missed (catch_up opens only the latest after an outage).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from config.site import SiteConfig
from workorders.orders.models import Asset, Status, WorkOrder
from workorders.pm import repository
from workorders.pm.models import TEMPLATES, Schedule
from workorders.pm.service import (
    Compliance,
    DoneHistory,
    Grace,
    Verdict,
    done_at,
    judge,
    pm_key,
    schedule_of,
)

State = Literal["scheduled", "open", "done", "late", "overdue", "cancelled", "missed"]
_STATE_OF = {"on_time": "done", "late": "late", "not_done": "overdue", "pending": "open"}


@dataclass(frozen=True)
class Entry:
    """One job due in the month: a work order, or an occurrence still to be opened."""

    schedule: Schedule | None
    schedule_id: str
    asset_id: str
    due_at: dt.datetime
    state: State
    workorder: WorkOrder | None = None
    verdict: Verdict | None = None


@dataclass
class Figures:
    """The month in numbers."""

    scheduled: int = 0
    open: int = 0
    done: int = 0
    late: int = 0
    overdue: int = 0
    cancelled: int = 0
    #: Past occurrences no work order was opened for, after the schedule's first one on the
    #: asset (the service was down longer than catch_up covers).
    missed: int = 0
    #: Late or overdue because a statutory hard limit (max_gap_days) ran out.
    statutory_late: int = 0


@dataclass
class MonthCalendar:
    """A month of preventive work."""

    month: str
    start: dt.datetime
    end: dt.datetime
    entries: list[Entry]
    figures: Figures
    compliance: Compliance
    assets: dict[str, Asset] = field(default_factory=dict)


def site_tz(site: SiteConfig) -> ZoneInfo:
    """The site's time zone."""
    return ZoneInfo(site.doc.site.timezone)


def month_bounds(month: str, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """The first instant of 'YYYY-MM' and of the month after, in tz."""
    first = dt.date.fromisoformat(f"{month}-01")
    start = dt.datetime(first.year, first.month, 1, tzinfo=tz)
    end = dt.datetime(first.year + first.month // 12, first.month % 12 + 1, 1, tzinfo=tz)
    return start, end


def matched_assets(site: SiteConfig, sched: Schedule) -> list[str]:
    """The ids of the site's assets a schedule selects."""
    return [
        ref.asset.id
        for ref in site.assets()
        if sched.select.matches(
            ref.asset.id, ref.asset.brick_class, ref.asset.tags, ref.building.id
        )
    ]


def _next_floating(
    session: Session, sched: Schedule, tz: ZoneInfo, asset_id: str
) -> dt.datetime | None:
    """A floating schedule's next due date on an asset (None while one is open)."""
    if repository.open_one(session, sched.id, asset_id) is not None:
        return None
    latest = repository.latest(session, sched.id, asset_id)
    if latest is None or latest.due_at is None:
        return sched.start(tz)
    base = done_at(latest) or latest.due_at
    anchor = dt.datetime.combine(base.astimezone(tz).date(), sched.start(tz).timetz())
    due = sched.rule(tz, anchor).after(anchor)
    while due is not None and due <= latest.due_at:
        due = sched.rule(tz, anchor).after(due)
    return due


def _ahead(
    session: Session,
    sched: Schedule,
    tz: ZoneInfo,
    asset_id: str,
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime,
) -> list[dt.datetime]:
    """Occurrences in [start, end) from now on that no work order stands for yet."""
    if sched.mode == "floating":
        due = _next_floating(session, sched, tz, asset_id)
        return [due] if due is not None and start <= due < end and due >= now else []
    latest = repository.latest(session, sched.id, asset_id)
    after = max(start, now)
    if latest is not None and latest.due_at is not None:
        after = max(after, latest.due_at + dt.timedelta(seconds=1))
    if after >= end:
        return []
    return [d for d in sched.rule(tz).between(after, end, inc=True) if d < end]


def _missed(
    session: Session,
    sched: Schedule,
    tz: ZoneInfo,
    asset_id: str,
    start: dt.datetime,
    end: dt.datetime,
) -> list[dt.datetime]:
    """Occurrences of a fixed schedule in [start, end), from its first work order on the asset
    on (the caller drops those that have one)."""
    if sched.mode == "floating" or end <= start:
        return []
    first = repository.first(session, sched.id, asset_id)
    if first is None or first.due_at is None or first.due_at >= end:
        return []
    since = max(start, first.due_at)
    latest = repository.latest(session, sched.id, asset_id)
    # Those after the latest work order are still to come, or were never generated yet.
    until = min(end, latest.due_at) if latest is not None and latest.due_at else end
    return [d for d in sched.rule(tz).between(since, until, inc=True) if d < until]


def _next_due(
    session: Session, sched: Schedule, tz: ZoneInfo, asset_id: str, now: dt.datetime
) -> dt.datetime | None:
    """The next occurrence no work order stands for yet, from now on."""
    if sched.mode == "floating":
        due = _next_floating(session, sched, tz, asset_id)
        return due if due is not None and due >= now else None
    latest = repository.latest(session, sched.id, asset_id)
    after = now
    if latest is not None and latest.due_at is not None:
        after = max(after, latest.due_at + dt.timedelta(seconds=1))
    return sched.rule(tz).after(after, inc=True)


def month_calendar(
    session: Session,
    *,
    site: SiteConfig,
    month: str,
    now: dt.datetime,
    grace: Grace = "due_date",
) -> MonthCalendar:
    """Every preventive job due in the month, judged as of now, with the month's figures."""
    tz = site_tz(site)
    start, end = month_bounds(month, tz)
    schedules = {s.id: s for s in site.doc.maintenance.schedules}
    history = DoneHistory(session)
    entries: list[Entry] = []
    figures = Figures()
    compliance = Compliance(None)
    opened: set[str] = set()
    for wo in repository.due_between(session, start, end):
        if wo.pm_key is None or wo.due_at is None or wo.asset_id is None:
            continue
        opened.add(wo.pm_key)
        sid = schedule_of(wo) or ""
        sched = schedules.get(sid)
        verdict = judge(wo, sched=sched, tz=tz, grace=grace, now=now, history=history)
        compliance.add(verdict.outcome)
        state: State = (
            "cancelled" if wo.status == Status.cancelled else _STATE_OF[verdict.outcome]  # type: ignore[assignment]
        )
        setattr(figures, state, getattr(figures, state) + 1)
        if verdict.late_reason == "gap":
            figures.statutory_late += 1
        entries.append(Entry(sched, sid, wo.asset_id, wo.due_at, state, wo, verdict))
    for sched in schedules.values():
        if not sched.enabled:
            continue
        for asset_id in matched_assets(site, sched):
            for due in _ahead(session, sched, tz, asset_id, start, end, now):
                if pm_key(sched.id, asset_id, due) in opened:
                    continue
                entries.append(Entry(sched, sched.id, asset_id, due, "scheduled"))
                figures.scheduled += 1
            for due in _missed(session, sched, tz, asset_id, start, min(end, now)):
                if pm_key(sched.id, asset_id, due) in opened:
                    continue
                entries.append(Entry(sched, sched.id, asset_id, due, "missed"))
                figures.missed += 1
    entries.sort(key=lambda e: (e.due_at, e.schedule_id, e.asset_id))
    assets = repository.assets_by_id(session, {e.asset_id for e in entries})
    return MonthCalendar(month, start, end, entries, figures, compliance, assets)


# --- an asset's schedules -----------------------------------------------------------------------


@dataclass(frozen=True)
class AssetSchedule:
    """One schedule on one asset: its last completed job, an open one, and the next due."""

    schedule: Schedule
    last: WorkOrder | None
    last_verdict: Verdict | None
    open: WorkOrder | None
    open_verdict: Verdict | None
    next_due: dt.datetime | None


def _done_or_due(wo: WorkOrder) -> dt.datetime:
    t = done_at(wo) or wo.due_at
    assert t is not None
    return t


def asset_schedules(
    session: Session, *, site: SiteConfig, asset_id: str, now: dt.datetime
) -> list[AssetSchedule]:
    """Every enabled schedule that selects the asset, with where it stands."""
    tz = site_tz(site)
    history = DoneHistory(session)
    orders = repository.for_asset(session, asset_id)
    out: list[AssetSchedule] = []
    for sched in site.doc.maintenance.schedules:
        if not sched.enabled or asset_id not in matched_assets(site, sched):
            continue
        mine = [wo for wo in orders if schedule_of(wo) == sched.id and wo.due_at is not None]
        done = [wo for wo in mine if done_at(wo) is not None]
        last = max(done, key=_done_or_due, default=None)
        pending = [wo for wo in mine if wo.status not in ("verified", "closed", "cancelled")]
        current = pending[0] if pending else None

        def verdict(wo: WorkOrder | None, sched: Schedule = sched) -> Verdict | None:
            if wo is None:
                return None
            return judge(wo, sched=sched, tz=tz, grace="due_date", now=now, history=history)

        out.append(
            AssetSchedule(
                sched,
                last,
                verdict(last),
                current,
                verdict(current),
                _next_due(session, sched, tz, asset_id, now),
            )
        )
    return out


def source_of(sched: Schedule) -> str | None:
    """The statutory source of a schedule's template, if it has one."""
    return TEMPLATES[sched.template].source if sched.template else None
