"""Holiday years the SLA clocks need: saying so before the calendar runs out, and catching up
when an official arrangement is loaded.

Business-hours SLA clocks count official Chinese working days (workorders.sla.calendars). The State
Council publishes each year's arrangement in late autumn; the bundled package follows weeks or
months later, and a site can load a year into site.yaml the day its notice appears. Here:

- `coverage_warnings`: what `plantroom check-config` and the service's start print when the
  last known year ends within WARN_WITHIN, or when the longest business-hours target started
  today would run past it (its due time would be provisional);
- `on_start`: logs those once, posts one site notice per year the clocks lack (told to the
  notification targets once, whatever restarts happen), recomputes the provisional clocks on
  the table now installed, and revises the reported scorecards that this changed;
- `catch_up`: the recomputation and the revisions, also run by `plantroom sla recompute`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.date import DateTrigger

from config.site import SiteConfig
from core.db import Database, utcnow
from workorders.contractors import scorecard
from workorders.contractors.models import ScorecardRevision
from workorders.sla import notices
from workorders.sla import repository as sla_repository
from workorders.sla import service as sla_service
from workorders.sla.calendars import HolidayTable, missing_year_reason, parse_hours
from workorders.sla.clock import SlaPolicy

log = logging.getLogger(__name__)

#: Warn when the last known year ends within this.
WARN_WITHIN = dt.timedelta(days=60)


@dataclass(frozen=True)
class CoverageWarning:
    """One reason the holiday calendar is about to run out, with the year it lacks."""

    field: str
    message: str
    missing_year: int

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def target_words(seconds: float, policy: SlaPolicy) -> str:
    """A target as people say it: '5 working days' on business hours, '4 h' round the clock."""
    if policy.calendar != "business":
        hours = seconds / 3600
        return f"{hours:g} h" if hours >= 1 else f"{seconds / 60:g} min"
    day = sum(hi - lo for lo, hi in parse_hours(policy.hours)) * 60.0
    days = seconds / day
    if days >= 1:
        return f"{days:g} working day{'s' if days != 1 else ''}"
    return f"{seconds / 3600:g} working hours"


def coverage_warnings(
    site: SiteConfig, *, now: dt.datetime, holidays: HolidayTable | None = None
) -> list[CoverageWarning]:
    """Why the holiday calendar may not cover the site's business-hours SLA clocks, as of `now`:
    none when no policy runs on business hours."""
    table = holidays or site.doc.calendar.holidays
    business = [(i, p) for i, p in enumerate(site.doc.sla.policies) if p.calendar == "business"]
    if not business:
        return []
    tz = ZoneInfo(site.doc.site.timezone)
    today = now.astimezone(tz).date()
    last = table.last_known_year
    end = dt.date(last, 12, 31)
    out: list[CoverageWarning] = []
    left = (end - today).days
    if left < WARN_WITHIN.days:
        when = (
            f"ends on {end} ({left} day{'s' if left != 1 else ''} from today)"
            if left >= 0
            else f"ended on {end}"
        )
        out.append(
            CoverageWarning(
                "calendar",
                f"the last year with an official holiday arrangement is {last}, and it {when}; "
                f"add the {last + 1} arrangement under calendar.arrangements in site.yaml as soon "
                "as the State Council publishes it (business-hours SLA due times past it are "
                "provisional until then)",
                last + 1,
            )
        )
    start = max(now, dt.datetime.combine(today, dt.time(), tz))
    for i, p in business:
        targets = [(w, t) for w, t in (("response", p.response), ("resolution", p.resolution)) if t]
        if not targets:
            continue
        which, target = max(targets, key=lambda wt: wt[1])
        missing: set[int] = set()
        due = p.calendar_on(table).add_working_time(start, target, missing)
        if missing:
            year = min(missing)
            out.append(
                CoverageWarning(
                    f"sla.policies[{i}]",
                    f"'{p.name}': a {which} target of {target_words(target, p)} started now "
                    f"would be due {due.astimezone(tz):%Y-%m-%d %H:%M}, past {year - 1}-12-31 "
                    f"into {year}, which no holiday arrangement covers: that due time would be "
                    "provisional",
                    year,
                )
            )
    return out


@dataclass
class CaughtUp:
    """What `catch_up` did."""

    recomputed: sla_service.Recomputed = field(default_factory=sla_service.Recomputed)
    revisions: list[ScorecardRevision] = field(default_factory=list)


def catch_up(
    db: Database,
    site: SiteConfig,
    *,
    now: dt.datetime,
    everything: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> CaughtUp:
    """Recompute the provisional clocks (with `everything`, every work order's) on the installed
    holiday table, then revise each reported month whose figures this changed."""
    with db.session() as s:
        reported_provisional = {
            (r.contractor_id, r.month) for r in sla_repository.scorecard_reports(s) if r.provisional
        }
    done = sla_service.recompute(
        db,
        now=now,
        timezone=site.doc.site.timezone,
        everything=everything,
        progress=progress,
    )
    months = done.months | reported_provisional
    with db.session() as s:
        revised = scorecard.revise_reported(
            s, site=site, now=now, months=None if everything else months
        )
    for r in revised:
        log.warning("Scorecard %s of contractor %s revised: %s", r.month, r.contractor_id, r.reason)
    return CaughtUp(done, revised)


def on_start(db: Database, site: SiteConfig, *, now: dt.datetime) -> CaughtUp:
    """At the service's start: log the coverage warnings once, tell the notification targets
    once per holiday year the clocks lack, and catch up on the years loaded since."""
    warnings = coverage_warnings(site, now=now)
    for w in warnings:
        log.warning("Holiday calendar: %s", w)
    done = catch_up(db, site, now=now)
    table = site.doc.calendar.holidays
    with db.session() as s:
        lacking = {w.missing_year for w in warnings} | sla_repository.provisional_years(s)
        for year in sorted(y for y in lacking if table.source(y) is None):
            notices.post(
                s,
                key=f"calendar_missing:{year}",
                kind="calendar_missing",
                severity="major",
                message=f"{site.doc.site.name}: {missing_year_reason(year)}",
                data={"year": year, "last_known_year": table.last_known_year},
                now=now,
            )
    return done


JOB_ID = "sla.holiday-years"


def add_jobs(scheduler: BaseScheduler, *, db: Database, site: SiteConfig) -> None:
    """Declare the start-up check: once, as the scheduler starts."""
    scheduler.add_job(
        lambda: on_start(db, site, now=utcnow()),
        DateTrigger(run_date=dt.datetime.now(dt.UTC)),
        id=JOB_ID,
        name="SLA: holiday years (warn, tell, recompute)",
        misfire_grace_time=None,
        replace_existing=True,
    )
