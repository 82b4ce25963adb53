"""The work-order side's background work, started and stopped together: every scheduled job
(preventive-maintenance generation, the SLA sweep, SLA notifications to the site's targets, the
start-up check of the holiday years) on
one APScheduler, and the webhook dispatcher.

Each job is declared next to its code (`workorders.pm.service.add_jobs`,
`workorders.sla.service.add_jobs`) and collected here. Both jobs are safe to run in two
processes at once: PM generation is keyed by occurrence, and the SLA sweep records each
threshold once. The dispatcher claims deliveries with a lease, so two dispatchers never send one
delivery twice at the same time. SLA notifications keep one cursor per target: two processes
running them would each tell the targets, so run the background services in one process
(`plantroom serve` does; extra API workers can run `create_app` without them).
"""

from __future__ import annotations

import datetime as dt

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from config.site import SiteConfig
from core.db import Database
from workorders.pm import service as pm
from workorders.sla import holiday_years
from workorders.sla import notify as sla_notify
from workorders.sla import service as sla_service
from workorders.webhooks.dispatch import WebhookDispatcher


class WorkOrderServices:
    """PM generation, the SLA sweep and webhook delivery for one database and site."""

    def __init__(self, db: Database, site: SiteConfig, *, public_url: str | None = None):
        self.scheduler = BackgroundScheduler(
            timezone=dt.UTC, executors={"default": ThreadPoolExecutor(max_workers=2)}
        )
        pm.add_jobs(self.scheduler, db=db, site=site)
        sla_service.add_jobs(self.scheduler, db=db)
        holiday_years.add_jobs(self.scheduler, db=db, site=site)
        sla_notify.add_jobs(self.scheduler, db=db, site=site, public_url=public_url)
        self.webhooks = WebhookDispatcher(db)

    def start(self) -> None:
        """Start the jobs (each runs once at once) and the dispatcher."""
        self.scheduler.start()
        self.webhooks.start()

    def stop(self) -> None:
        """Stop, letting a job or delivery in progress finish; no thread is left behind."""
        self.webhooks.stop()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
