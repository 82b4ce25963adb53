"""Scheduled jobs that catch up by themselves: each declared once, with the same settings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.interval import IntervalTrigger


def every(
    scheduler: BaseScheduler, run: Callable[[], Any], *, seconds: float, job_id: str, name: str
) -> None:
    """Declare run on scheduler: every `seconds` and once at start. Missed runs coalesce into
    one and are never dropped as late, and only one runs at a time: each run does all that is
    due, so a late or skipped one loses nothing."""
    scheduler.add_job(
        run,
        IntervalTrigger(seconds=seconds, timezone=dt.UTC),
        id=job_id,
        name=name,
        next_run_time=dt.datetime.now(dt.UTC),
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
        replace_existing=True,
    )
