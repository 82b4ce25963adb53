"""Poll devices on their intervals, decode, and hand readings to the consumers.

A failed read never becomes a number: each of its points gets an 'unavailable' reading.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from collectors.decode import decode_raw, to_engineering
from collectors.links import ModbusLink, ReadFailed
from collectors.planner import ReadRequest, plan_profile
from collectors.readings import Quality, Reading
from config.site import DeviceRef, SiteConfig

log = logging.getLogger(__name__)


@dataclass
class DeviceState:
    """Per-device counters, also the basis of self-monitoring."""

    ref: DeviceRef
    requests: list[ReadRequest]
    polls: int = 0
    errors: int = 0
    skipped: int = 0
    failing: bool = False
    last_error: str = ""
    last_latency: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)


class Collector:
    """Polls every device of a site. Readings go to ``publish`` in one batch per device poll."""

    def __init__(
        self,
        site: SiteConfig,
        publish: Callable[[list[Reading]], None],
        *,
        devices: list[DeviceRef] | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self.site = site
        self.publish = publish
        self.clock = clock
        self.links: dict[str, ModbusLink] = {}
        self.devices: dict[str, DeviceState] = {}
        for ref in devices if devices is not None else site.devices():
            link = self.links.get(ref.device.link.key)
            if link is None:
                link = self.links[ref.device.link.key] = ModbusLink(
                    ref.device.link, timeout=ref.device.timeout
                )
            self.devices[ref.device.id] = DeviceState(ref, plan_profile(ref.profile))
        self._tasks: list[asyncio.Task[None]] = []

    async def poll(self, device_id: str) -> list[Reading]:
        """Poll one device once; every point yields a reading, good or not."""
        st = self.devices[device_id]
        d = st.ref.device
        link = self.links[d.link.key]
        asset = st.ref.asset.asset.id
        out: list[Reading] = []
        started = time.perf_counter()
        failed = False
        for req in st.requests:
            values: list[int] | list[bool] | None = None
            error = ""
            for _attempt in range(d.retries + 1):
                try:
                    values = await link.read(
                        req.table, req.address, req.count, d.unit_id, d.timeout
                    )
                    break
                except ReadFailed as exc:
                    error = str(exc)
                    if exc.kind == "exception" and exc.code not in (5, 6):
                        break  # illegal address and the like will not change on a retry
            ts = self.clock()
            if values is None:
                failed = True
                st.last_error = error
                out += [
                    Reading(ts, asset, d.id, p.name, None, p.unit, Quality.unavailable)
                    for p in req.points
                ]
                continue
            for p in req.points:
                try:
                    raw = decode_raw(p, req.slice_for(p, values))
                    value, quality = to_engineering(p, raw)
                except (ValueError, UnicodeDecodeError) as exc:
                    st.last_error = f"{p.name}: {exc}"
                    value, quality = None, Quality.unavailable
                out.append(Reading(ts, asset, d.id, p.name, value, p.unit, quality))
        st.polls += 1
        st.last_latency = time.perf_counter() - started
        if failed:
            st.errors += 1
            if not st.failing:
                log.warning("device %s unavailable: %s", d.id, st.last_error)
            else:
                log.debug("device %s still unavailable: %s", d.id, st.last_error)
        elif st.failing:
            log.info("device %s answering again", d.id)
        st.failing = failed
        return out

    async def _device_loop(self, device_id: str) -> None:
        st = self.devices[device_id]
        interval = st.ref.device.poll_interval
        next_at = time.monotonic()
        while True:
            try:
                readings = await self.poll(device_id)
                self.publish(readings)
            except Exception:  # a bug in one device's poll must not stop the others
                log.exception("polling %s failed", device_id)
            next_at += interval
            now = time.monotonic()
            if now > next_at:  # overran: skip the missed ticks rather than pile up
                missed = int((now - next_at) // interval) + 1
                st.skipped += missed
                next_at += missed * interval
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))

    async def start(self) -> None:
        """Start one polling task per device."""
        for device_id in self.devices:
            self._tasks.append(
                asyncio.create_task(self._device_loop(device_id), name=f"poll:{device_id}")
            )

    async def stop(self) -> None:
        """Stop polling and close every link."""
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        for link in self.links.values():
            link.close()
