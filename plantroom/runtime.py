"""Wire the monitoring side: collector -> pipeline -> embedded store, InfluxDB buffers, alerts."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path

from alerts.engine import AlertEngine
from alerts.notify import Notifier
from alerts.silences import SilenceIndex
from collectors import metrics
from collectors.buffer import DiskBuffer, DurablePublisher, Forwarder
from collectors.pipeline import Pipeline
from collectors.poller import Collector
from collectors.sinks import Sink
from collectors.sinks.embedded import EmbeddedStore
from collectors.sinks.influx import InfluxV1Sink, InfluxV2Sink
from config.settings import Settings
from config.site import SiteConfig, remap_ports
from core.db import Database
from workorders.sla import calendars

log = logging.getLogger(__name__)


def remote_sinks(settings: Settings, site: SiteConfig) -> list[Sink]:
    """The InfluxDB sinks the settings configure (none by default)."""
    buildings = {ref.asset.id: ref.building.id for ref in site.assets()}
    sinks: list[Sink] = []
    if settings.influx_v1_url:
        v1 = InfluxV1Sink(
            settings.influx_v1_url,
            settings.influx_database,
            username=settings.influx_username,
            password=settings.influx_password,
            buildings=buildings,
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
            )
        )
    return sinks


class Monitoring:
    """Collector, store, forwarders and alert engine, started and stopped together."""

    def __init__(
        self,
        settings: Settings,
        site: SiteConfig,
        db: Database,
        *,
        port_map: dict[int, int] | None = None,
    ):
        self.settings = settings
        self.site = site
        # The alert engine opens work orders and computes their SLA clocks.
        calendars.install(site.holidays)
        data = Path(settings.data_dir)
        self.store = EmbeddedStore(data / "readings.sqlite")
        self.engine = AlertEngine(site, db, silenced=SilenceIndex(site).matcher(db))
        # Every sink, the embedded store included, sits behind its own disk buffer.
        self.forwarders: list[Forwarder] = [
            Forwarder(
                DiskBuffer(data / f"buffer-{sink.name}.sqlite", settings.buffer_max_readings), sink
            )
            for sink in [self.store, *remote_sinks(settings, site)]
        ]
        self.notifier = Notifier(
            site.doc.alerting.notifications,
            building_names={b.id: b.name for b in site.doc.buildings},
            timezone=site.doc.site.timezone,
        )
        self.engine.listeners.append(self.notifier.submit)
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
        self._notifying: asyncio.Task[None] | None = None
        self._forwarding: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Start consumers, forwarders, then polling and self-monitoring."""
        await self.pipeline.start()
        self._forwarding = [
            asyncio.create_task(f.run(), name=f"forward:{f.sink.name}") for f in self.forwarders
        ]
        await self.collector.start()
        self._tasks.append(asyncio.create_task(self._write_metrics(), name="metrics"))
        self._tasks.append(asyncio.create_task(self._clock(), name="alert-clock"))
        self._notifying = asyncio.create_task(self.notifier.run(), name="notify")

    def metrics_text(self) -> str:
        """The collector's health in Prometheus text format."""
        return metrics.prometheus_text(metrics.snapshot(self.collector, self.forwarders))

    async def _write_metrics(self) -> None:
        while True:
            await asyncio.sleep(self.settings.metrics_interval)
            snap = await asyncio.to_thread(metrics.snapshot, self.collector, self.forwarders)
            self.publish(metrics.as_readings(snap, time.time()))

    async def _clock(self) -> None:
        """Move the alert engine's clock on when no readings come: stale rules must fire
        when a whole gateway falls silent, and storm windows must close."""
        while True:
            await asyncio.sleep(self.settings.alert_tick)
            await asyncio.to_thread(self.engine.tick, time.time())

    async def stop(self) -> None:
        """Stop polling, let the consumers catch up, then stop the rest."""
        await self.collector.stop()
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
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
        self.notifier.stop()
        if self._notifying is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._notifying
        for f in self.forwarders:
            f.sink.close()  # the embedded store is one of them
            f.buffer.close()
