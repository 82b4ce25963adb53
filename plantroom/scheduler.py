"""The work-order side's background work, started and stopped together: every scheduled job
(preventive-maintenance generation, the SLA sweep, the proof job that reopens fixes that did not
hold, the start-up check of the holiday years, the analytics' monthly asset-health and KPI
snapshots, `analytics.jobs.add_snapshot_jobs`, and, given the settings, the analytics' daily
energy rollup, `analytics.jobs.add_jobs`) on one APScheduler, and the outbox dispatcher.

Each job is declared next to its code (`workorders.pm.service.add_jobs`,
`workorders.sla.service.add_jobs`, `workorders.orders.proof.add_jobs`) and collected here. The
jobs are safe to run in two processes at once: PM generation is keyed by occurrence, the SLA
sweep records each threshold once, and the proof job settles each work order under its lock.

Everything that leaves the building goes through one outbox (core.outbox), and `outbox_channels`
is where each kind of message gets its sender: work-order webhooks, the alert notifications
(alerts.notify) and the SLA and site notices (workorders.sla.notify), to the targets site.yaml
names. The dispatcher claims messages with a lease, so dispatchers in several processes
(`plantroom serve` and `plantroom collect` each run one) never send one message twice at the
same time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from alerts.notify import AlertNotifications
from analytics import jobs as energy_jobs
from analytics.store_usage import StoreUsage
from analytics.usage import Usage
from collectors.sinks import Sink
from collectors.sinks.embedded import FILE_NAME, EmbeddedStore
from collectors.sinks.readers import configured_reader
from config.settings import Settings
from config.site import SiteConfig
from core import outbox
from core.db import Database
from workorders.orders import proof
from workorders.pm import service as pm
from workorders.sla import holiday_years
from workorders.sla import service as sla_service
from workorders.sla.notify import SlaNotifier
from workorders.webhooks import dispatch as webhook_dispatch


def alert_notifications(site: SiteConfig) -> AlertNotifications:
    """The alert notifications to the targets the site names (alerting.notifications)."""
    return AlertNotifications(
        site.doc.alerting.notifications,
        building_names={b.id: b.name for b in site.doc.buildings},
        timezone=site.doc.site.timezone,
    )


def outbox_channels(
    db: Database, site: SiteConfig, *, public_url: str | None = None
) -> list[outbox.Channel]:
    """Every kind of message that leaves the building, with its sender."""
    notices = SlaNotifier(
        db,
        site.doc.alerting.notifications,
        site_name=site.doc.site.name,
        public_url=public_url,
    )
    return [
        webhook_dispatch.channel(db),
        alert_notifications(site).channel(),
        *notices.channels(),
    ]


def outbox_dispatcher(
    db: Database, site: SiteConfig, *, public_url: str | None = None
) -> outbox.Dispatcher:
    """The one dispatcher for every channel (start() it; stop() it)."""
    return outbox.Dispatcher(db, outbox_channels(db, site, public_url=public_url))


def energy_rollup_target(
    settings: Settings, site: SiteConfig, db: Database
) -> energy_jobs.RollupTarget:
    """What the energy_daily rollup reads (StoreUsage over the configured readings store and
    the database) and writes (the embedded store and the InfluxDB sinks configured, like the
    collector), opened for one run and closed after it."""

    @contextmanager
    def target() -> Iterator[tuple[Usage, Sequence[Sink]]]:
        # runtime imports this module (the outbox wiring), so its sinks are imported here
        from plantroom.runtime import remote_sinks

        reader = configured_reader(settings)
        sinks: list[Sink] = [EmbeddedStore(settings.data_dir / FILE_NAME)]
        try:
            sinks += remote_sinks(settings, site)
            yield StoreUsage(site, reader, db), sinks
        finally:
            for sink in sinks:
                sink.close()
            reader.close()

    return target


class WorkOrderServices:
    """PM generation, the SLA sweep and the outbox dispatcher for one database and site; with
    the settings, also the analytics' energy rollup (it needs the readings stores)."""

    def __init__(
        self,
        db: Database,
        site: SiteConfig,
        *,
        public_url: str | None = None,
        settings: Settings | None = None,
    ):
        self.scheduler = BackgroundScheduler(
            timezone=dt.UTC, executors={"default": ThreadPoolExecutor(max_workers=2)}
        )
        pm.add_jobs(self.scheduler, db=db, site=site)
        sla_service.add_jobs(self.scheduler, db=db)
        proof.add_jobs(self.scheduler, db=db)
        holiday_years.add_jobs(self.scheduler, db=db, site=site)
        energy_jobs.add_snapshot_jobs(self.scheduler, db=db, site=site)
        if settings is not None:
            energy_jobs.add_jobs(
                self.scheduler, site=site, target=energy_rollup_target(settings, site, db)
            )
        self.outbox = outbox_dispatcher(db, site, public_url=public_url)

    def start(self) -> None:
        """Start the jobs (each runs once at once) and the dispatcher."""
        self.scheduler.start()
        self.outbox.start()

    def stop(self) -> None:
        """Stop, letting a job or delivery in progress finish; no thread is left behind."""
        self.outbox.stop()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
