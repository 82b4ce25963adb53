"""The work-order side's background work, started and stopped together: every scheduled job
(preventive-maintenance generation, the SLA sweep) on one APScheduler, and the webhook
dispatcher.

Each job is declared next to its code (`workorders.pm.add_jobs`, `workorders.sla_service.add_jobs`)
and collected here. Both jobs are safe to run in two processes at once: PM generation is keyed
by occurrence, and the SLA sweep records each threshold once. The dispatcher claims deliveries
with a lease, so two dispatchers never send one delivery twice at the same time.
"""

from __future__ import annotations

import datetime as dt

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from config.site import SiteConfig
from plantroom.db import Database
from workorders import pm, sla_service
from workorders.webhook_dispatch import WebhookDispatcher


class WorkOrderServices:
    """PM generation, the SLA sweep and webhook delivery for one database and site."""

    def __init__(self, db: Database, site: SiteConfig):
        self.scheduler = BackgroundScheduler(
            timezone=dt.UTC, executors={"default": ThreadPoolExecutor(max_workers=2)}
        )
        pm.add_jobs(self.scheduler, db=db, site=site)
        sla_service.add_jobs(self.scheduler, db=db)
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
