"""Wire the monitoring side: collector -> pipeline -> embedded store, InfluxDB buffers, alerts,
and their notifications through the outbox."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

from alerts.silences import SilenceIndex
from collectors import health, metrics
from collectors.buffer import DiskBuffer, DurablePublisher, Forwarder
from collectors.leases import Lease
from collectors.pipeline import Pipeline
from collectors.poller import Collector
from collectors.readings import Reading
from collectors.sinks import Sink
from collectors.sinks.embedded import EmbeddedStore
from collectors.sinks.influx import InfluxV1Sink, InfluxV2Sink
from config.settings import Settings
from config.site import SiteConfig, remap_ports
from core import outbox
from core.db import Database
from plantroom.scheduler import alert_notifications, outbox_dispatcher
from plantroom.wiring import alert_engine
from workorders.sla import calendars

log = logging.getLogger(__name__)


def remote_sinks(settings: Settings, site: SiteConfig) -> list[Sink]:
    """The InfluxDB sinks the settings configure (none by default)."""
    buildings = {ref.asset.id: ref.building.id for ref in site.assets()}
    classes = {ref.asset.id: ref.asset.brick_class for ref in site.assets()}
    sinks: list[Sink] = []
    if settings.influx_v1_url:
        v1 = InfluxV1Sink(
            settings.influx_v1_url,
            settings.influx_database,
            username=settings.influx_username,
            password=settings.influx_password,
            buildings=buildings,
            asset_classes=classes,
        )
        try:
            v1.ensure_database()
        except Exception as exc:  # the buffer holds readings until the server is back
            log.warning("InfluxDB 1.x not reachable yet (%s); readings will be buffered", exc)
        sinks.append(v1)
    if settings.influx_v2_url:
        if not (settings.influx_token and settings.influx_org):
            raise ValueError(
                "PLANTROOM_INFLUX_V2_URL needs PLANTROOM_INFLUX_TOKEN and PLANTROOM_INFLUX_ORG"
            )
        sinks.append(
            InfluxV2Sink(
                settings.influx_v2_url,
                org=settings.influx_org,
                bucket=settings.influx_bucket,
                token=settings.influx_token,
                buildings=buildings,
                asset_classes=classes,
            )
        )
    return sinks


#: Seconds after the start before the first health records are written (the first polls are
#: done by then).
HEALTH_FIRST = 5.0
#: How often notifications that fell due (group_wait and friends) go into the outbox.
NOTIFY_EVERY = 1.0


class Monitoring:
    """Collector, store, forwarders and alert engine, started and stopped together, and the outbox
    dispatcher (unless `deliver` is False: another one runs in this process).

    One of several collectors (each given part of the site, SiteConfig.only_buildings) passes
    its `name`, which its health records carry, and its `lease` (collectors/leases.py), claimed
    already: it is renewed while the collector runs and released when it stops. Should another
    collector take it over meanwhile (this one was cut off from the database for longer than
    the lease lives), `lease_lost` is set and the caller stops.
    """

    def __init__(
        self,
        settings: Settings,
        site: SiteConfig,
        db: Database,
        *,
        port_map: dict[int, int] | None = None,
        deliver: bool = True,
        name: str | None = None,
        lease: Lease | None = None,
    ):
        self.settings = settings
        self.name = name
        self.lease = lease
        self.lease_lost = asyncio.Event()
        self.db = db
        self.site = site
        # The alert engine opens work orders and computes their SLA clocks.
        calendars.install(site.doc.calendar.holidays)
        data = Path(settings.data_dir)
        self.store = EmbeddedStore(data / "readings.sqlite")
        self.engine = alert_engine(site, db, silenced=SilenceIndex(site).matcher(db))
        # Every sink, the embedded store included, sits behind its own disk buffer.
        self.forwarders: list[Forwarder] = [
            Forwarder(
                DiskBuffer(data / f"buffer-{sink.name}.sqlite", settings.buffer_max_readings), sink
            )
            for sink in [self.store, *remote_sinks(settings, site)]
        ]
        # The engine writes its events into the notifications' state in its own transaction.
        self.notifications = alert_notifications(site)
        if self.notifications.targets:
            self.engine.recorders.append(self.notifications.record)
        self.outbox: outbox.Dispatcher | None = (
            outbox_dispatcher(db, site, public_url=settings.public_url) if deliver else None
        )
        self.pipeline = Pipeline()
        self.pipeline.add("alerts", self.engine.process)
        # Readings are on disk, in every sink's buffer, before the alert engine sees them.
        self.publisher = DurablePublisher(self.forwarders, then=self.pipeline.publish)
        self.publish = self.publisher.publish
        devices = site.devices()
        if port_map:
            devices = remap_ports(devices, port_map)
        self.collector = Collector(site, self.publish, devices=devices)
        self._tasks: list[asyncio.Task[None]] = []
        self._forwarding: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Start consumers, forwarders, then polling and self-monitoring."""
        await self.pipeline.start()
        self._forwarding = [
            asyncio.create_task(f.run(), name=f"forward:{f.sink.name}") for f in self.forwarders
        ]
        await self.collector.start()
        self._tasks.append(asyncio.create_task(self._write_metrics(), name="metrics"))
        self._tasks.append(asyncio.create_task(self._write_health(), name="health"))
        self._tasks.append(asyncio.create_task(self._clock(), name="alert-clock"))
        if self.notifications.targets:
            self._tasks.append(asyncio.create_task(self._notify(), name="alert-notify"))
        if self.lease is not None:
            self._tasks.append(asyncio.create_task(self._renew(self.lease), name="lease"))
        if self.outbox is not None:
            self.outbox.start()

    def metrics_text(self) -> str:
        """The collector's health in Prometheus text format."""
        return metrics.prometheus_text(metrics.snapshot(self.collector, self.forwarders))

    async def _write_metrics(self) -> None:
        while True:
            await asyncio.sleep(self.settings.metrics_interval)
            snap = await asyncio.to_thread(metrics.snapshot, self.collector, self.forwarders)
            self.publish(metrics.as_readings(snap, time.time(), self.name))

    def health_records(self, *, stopping: bool = False) -> list[Reading]:
        """The collector's health records now (collectors/health.py)."""
        every = self.settings.metrics_interval
        return health.records(
            self.collector, self.forwarders, time.time(), every, stopping=stopping, name=self.name
        )

    async def _write_health(self) -> None:
        """Health records into the store, soon after the start and then every metrics
        interval, so that an API without a collector in its process can show them."""
        await asyncio.sleep(min(HEALTH_FIRST, self.settings.metrics_interval))
        while True:
            try:
                self.publish(await asyncio.to_thread(self.health_records))
            except Exception:  # a bug here must not end the records for good
                log.exception("collector health records: cannot write them; will try again")
            await asyncio.sleep(self.settings.metrics_interval)

    async def _clock(self) -> None:
        """Move the alert engine's clock on when no readings come: stale rules must fire
        when a whole gateway falls silent, and storm windows must close."""
        while True:
            await asyncio.sleep(self.settings.alert_tick)
            await asyncio.to_thread(self.engine.tick, time.time())

    async def _renew(self, lease: Lease) -> None:
        """Renew the lease every third of its life; set lease_lost if another collector took
        part of it over."""
        failing = False
        while True:
            await asyncio.sleep(lease.ttl / 3)
            try:
                lost = await asyncio.to_thread(lease.renew)
                failing = False
            except Exception:
                # The database is away: the lease may expire meanwhile; say so once.
                if not failing:
                    log.exception("collector lease: cannot renew it; will keep trying")
                failing = True
                continue
            if lost:
                log.error(
                    "collector %s lost its lease on %d items (%s...) to another collector: "
                    "stopping",
                    lease.holder,
                    len(lost),
                    ", ".join(f"{k} {i}" for k, i in lost[:5]),
                )
                self.lease_lost.set()
                return

    async def _notify(self) -> None:
        """Put alert notifications that fell due into the outbox (the dispatcher sends them)."""
        failing = False
        while True:
            await asyncio.sleep(NOTIFY_EVERY)
            try:
                await asyncio.to_thread(self.notifications.flush, self.db)
                failing = False
            except Exception:
                # The database is away: say so once; what is due stays due.
                if not failing:
                    log.exception("alert notifications: cannot flush; will keep trying")
                failing = True

    async def stop(self) -> None:
        """Stop polling, let the consumers catch up, then stop the rest."""
        await self.collector.stop()
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        # The last health records say the collector stopped (rather than fell silent).
        self.publish(self.health_records(stopping=True))
        await self.publisher.close()  # every reading polled is on disk from here
        await self.pipeline.flush(timeout=5)
        await self.pipeline.stop()
        for f in self.forwarders:
            f.stop()
        await asyncio.gather(*self._forwarding, return_exceptions=True)
        for f in self.forwarders:
            if not await f.drain(timeout=3):
                log.warning(
                    "%d readings stay buffered for %s until the next start",
                    f.buffer.depth(),
                    f.sink.name,
                )
        if self.outbox is not None:
            await asyncio.to_thread(self.outbox.stop)
        for f in self.forwarders:
            f.sink.close()  # the embedded store is one of them
            f.buffer.close()
        if self.lease is not None:
            # Last: the alert engine wrote its state, so the next owner starts from it.
            try:
                await asyncio.to_thread(self.lease.release)
            except Exception:
                log.exception("collector lease: cannot release it; it expires by itself")
