"""The analytics' scheduled work: the energy_daily rollup (analytics.rollup) and the monthly
asset-health and KPI snapshots (analytics.snapshots), declared here with their triggers and
collected by plantroom/scheduler.py.

The snapshot job runs at 01:15 local time every day and once as the service starts; each run
(re)writes last month's rows and this month's so far, which stores nothing twice.

The job runs at 00:30 local time every day and once as the service starts. Each run (re)writes
the last ``CATCH_UP_DAYS`` whole local days (yesterday and the days before it), so a day missed
while the service was down is filled in by the next run; rewriting a day stores nothing twice
(see analytics.rollup). Today is never rolled up: it is not over.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from zoneinfo import ZoneInfo

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.exc import IntegrityError

from analytics.rollup import write_rollup
from analytics.site import AnalyticsSite
from analytics.snapshots import (
    Written,
    months_since,
    months_to_write,
    stored_months,
    write_month,
)
from analytics.usage import Usage
from collectors.sinks import Sink
from core.db import Database, utcnow

log = logging.getLogger(__name__)

JOB_ID = "analytics.energy-rollup"
SNAPSHOT_JOB_ID = "analytics.monthly-snapshots"
#: When the daily refresh of the monthly snapshots starts, local time (after the rollup).
SNAPSHOT_AT = dt.time(1, 15)
#: Whole days each run rewrites, counting back from yesterday.
CATCH_UP_DAYS = 7
#: When the daily run starts, local time: the day before is over and its last readings (the
#: collectors forward through a disk buffer) are in.
RUN_AT = dt.time(0, 30)

#: Opens what a run reads and writes: the Usage and the sinks, closed when the run is done.
RollupTarget = Callable[[], AbstractContextManager[tuple[Usage, Sequence[Sink]]]]


def days_to_roll(
    site: AnalyticsSite, *, now: dt.datetime, days: int = CATCH_UP_DAYS
) -> tuple[dt.date, dt.date]:
    """(first, last) local days a run at `now` rolls up: the `days` whole days before today."""
    today = now.astimezone(ZoneInfo(site.doc.site.timezone)).date()
    last = today - dt.timedelta(days=1)
    return last - dt.timedelta(days=days - 1), last


def run_rollup(
    site: AnalyticsSite, target: RollupTarget, *, now: dt.datetime, days: int = CATCH_UP_DAYS
) -> int:
    """One run: the recent days' energy_daily rows into every sink; the rows written (0 after
    a failure, which is logged: the next run writes the same days again)."""
    first, last = days_to_roll(site, now=now, days=days)
    try:
        with target() as (usage, sinks):
            return write_rollup(site, usage, sinks, first=first, last=last)
    except Exception:
        log.exception("energy_daily rollup of %s..%s failed; the next run retries", first, last)
        return 0


def add_jobs(
    scheduler: BaseScheduler,
    *,
    site: AnalyticsSite,
    target: RollupTarget,
    days: int = CATCH_UP_DAYS,
    clock: Callable[[], dt.datetime] = utcnow,
) -> None:
    """Declare the rollup on an APScheduler scheduler: daily at RUN_AT in the site's time zone
    and once at start; missed runs coalesce into one (each run catches up by itself)."""
    scheduler.add_job(
        lambda: run_rollup(site, target, now=clock(), days=days),
        CronTrigger(
            hour=RUN_AT.hour, minute=RUN_AT.minute, timezone=ZoneInfo(site.doc.site.timezone)
        ),
        id=JOB_ID,
        name="energy: daily rollup (energy_daily)",
        next_run_time=dt.datetime.now(dt.UTC),
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
        replace_existing=True,
    )


def run_snapshots(db: Database, site: AnalyticsSite, *, now: dt.datetime) -> list[Written]:
    """One run of the snapshot job: last month's rows and this month's so far, each month in
    its own unit of work (a clash with another process's insert is retried once; any other
    failure is logged, and the next run writes the month again)."""
    written: list[Written] = []
    for month in months_to_write(site, now=now):
        for attempt in (1, 2):
            try:
                with db.session() as s:
                    written.append(write_month(s, site, month=month, now=now))
                break
            except IntegrityError:
                # Another process inserted the month's first rows at the same moment (unique
                # month and key): write again, over its rows.
                if attempt == 2:
                    log.exception("monthly snapshots of %s failed; the next run retries", month)
            except Exception:
                log.exception("monthly snapshots of %s failed; the next run retries", month)
                break
    return written


def backfill_snapshots(
    db: Database,
    site: AnalyticsSite,
    *,
    now: dt.datetime,
    months: Sequence[str] | None = None,
    missing_only: bool = False,
    progress: Callable[[int, int, str], None] | None = None,
) -> list[Written]:
    """Write the snapshots of past months, each in its own unit of work: the given months, or
    every month since the maintenance records began (so a history imported or generated later
    shows its trend month by month). missing_only: skip months already stored, except the two a
    daily run rewrites. progress(done, total, month) after each month."""
    with db.session() as s:
        wanted = list(months) if months is not None else months_since(s, site, now=now)
        if missing_only:
            have = stored_months(s) - set(months_to_write(site, now=now))
            wanted = [m for m in wanted if m not in have]
    written: list[Written] = []
    for done, month in enumerate(wanted, start=1):
        with db.session() as s:
            written.append(write_month(s, site, month=month, now=now))
        if progress is not None:
            progress(done, len(wanted), month)
    return written


def add_snapshot_jobs(
    scheduler: BaseScheduler,
    *,
    db: Database,
    site: AnalyticsSite,
    clock: Callable[[], dt.datetime] = utcnow,
) -> None:
    """Declare the monthly snapshots (analytics.snapshots) on an APScheduler scheduler: daily at
    SNAPSHOT_AT in the site's time zone and once at start, so a month closed while the service
    was down is written by the next run; missed runs coalesce into one."""
    scheduler.add_job(
        lambda: run_snapshots(db, site, now=clock()),
        CronTrigger(
            hour=SNAPSHOT_AT.hour,
            minute=SNAPSHOT_AT.minute,
            timezone=ZoneInfo(site.doc.site.timezone),
        ),
        id=SNAPSHOT_JOB_ID,
        name="analytics: monthly asset-health and KPI snapshots",
        next_run_time=dt.datetime.now(dt.UTC),
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
        replace_existing=True,
    )
