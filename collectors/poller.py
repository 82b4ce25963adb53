"""Poll devices on their intervals, decode, and hand readings to the consumers.

- A failed read never becomes a number: each of its points gets an 'unavailable' reading.
- Each poll group of a device (fast and slow points) has its own interval; a device's polls
  never overlap, and a poll that overruns its interval skips the missed ticks and counts them.
- One task per physical link polls that link's devices as they fall due, one poll after
  another; links run in parallel.
- A device that stops answering is quarantined: it is asked again only after a backoff that
  doubles up to max_backoff, so it stops costing the healthy devices on its link a timeout on
  every tick. Meanwhile its points are reported unavailable without touching the bus.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from collectors.decode import to_engineering
from collectors.links import BUSY_CODES, ModbusLink, ReadFailed
from collectors.planner import ReadRequest, plan
from collectors.readings import Quality, Reading
from config.profile import Point
from config.site import DeviceRef, SiteConfig

log = logging.getLogger(__name__)
#: Failures that say nothing came back from the device (as opposed to a Modbus exception).
SILENT = frozenset({"timeout", "connection", "gateway", "mismatch", "garbage"})


@dataclass
class DeviceState:
    """A device's plan, health and counters (the basis of self-monitoring)."""

    ref: DeviceRef
    groups: dict[str, list[ReadRequest]]
    intervals: dict[str, float]
    polls: int = 0
    failed_polls: int = 0
    requests: int = 0
    errors: int = 0
    timeouts: int = 0
    busy: int = 0
    skipped: int = 0
    consecutive_failures: int = 0
    quarantined: bool = False
    next_probe: float = 0.0
    last_error: str = ""
    last_latency: float = 0.0
    #: UNIX time of the device's last answered poll (None: none yet).
    last_good: float | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    #: Per point with stale_after: the last raw value and when it last changed.
    unchanged: dict[str, tuple[object, float]] = field(default_factory=dict)


def plan_device(ref: DeviceRef) -> list[ReadRequest]:
    """The device's read plan: its profile's limits, overridden per device where set."""
    d, p = ref.device, ref.profile
    return plan(
        p.points,
        max_registers=d.max_request_registers or p.max_request_registers,
        max_gap=p.max_gap if d.max_gap is None else d.max_gap,
        one_per_point=p.one_request_per_point
        if d.one_request_per_point is None
        else d.one_request_per_point,
    )


def _unavailable(st: DeviceState, points: Iterable[Point], ts: float) -> list[Reading]:
    """'unavailable' readings, with no value, for points that could not be read."""
    d, asset = st.ref.device, st.ref.asset.asset.id
    return [Reading(ts, asset, d.id, p.name, None, p.unit, Quality.unavailable) for p in points]


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
            if ref.device.link.key not in self.links:
                self.links[ref.device.link.key] = ModbusLink(
                    ref.device.link, timeout=ref.device.timeout
                )
            groups: dict[str, list[ReadRequest]] = defaultdict(list)
            for req in plan_device(ref):
                groups[req.group].append(req)
            intervals = {g: ref.profile.groups.get(g, ref.device.poll_interval) for g in groups}
            intervals["default"] = ref.device.poll_interval
            self.devices[ref.device.id] = DeviceState(ref, dict(groups), intervals)
        self._tasks: list[asyncio.Task[None]] = []
        #: Set by stop(): on Python 3.11 a cancellation that lands just as pymodbus's
        #: wait_for completes can be lost, and a busy link is nearly always in one.
        self._stopping = False

    async def poll(self, device_id: str, group: str | None = None) -> list[Reading]:
        """Poll one device (one group, or all) once; every point yields a reading."""
        st = self.devices[device_id]
        requests = [r for g, reqs in st.groups.items() if group in (None, g) for r in reqs]
        async with st.lock:
            readings, answered = await self._poll_requests(st, requests)
        self._update_health(st, answered)
        return readings

    async def _poll_requests(
        self, st: DeviceState, requests: list[ReadRequest]
    ) -> tuple[list[Reading], bool]:
        d = st.ref.device
        link = self.links[d.link.key]
        asset = st.ref.asset.asset.id
        out: list[Reading] = []
        started = time.perf_counter()
        answered = not requests
        silent = False
        for req in requests:
            values: list[int] | list[bool] | None = None
            failure: ReadFailed | None = None
            if not silent:
                values, failure = await self._read(st, link, req)
            ts = self.clock()
            if values is None:
                if failure is not None:
                    st.errors += 1
                    st.last_error = str(failure)
                    silent = failure.kind in SILENT  # don't hold the link for the rest
                    answered = answered or failure.kind == "exception"
                out += _unavailable(st, req.points, ts)
                continue
            answered = True
            for p, raw in zip(req.points, req.decode(values), strict=True):
                if raw is None:
                    st.last_error = f"{p.name}: cannot decode {req.slice_for(p, values)}"
                    value, quality = None, Quality.unavailable
                else:
                    value, quality = to_engineering(p, raw)
                    if p.stale_after is not None and quality is Quality.good:
                        quality = self._freshness(st, p.name, raw, ts, p.stale_after)
                out.append(Reading(ts, asset, d.id, p.name, value, p.unit, quality))
        if d.close_after_poll:
            await link.release()
        st.polls += 1
        st.last_latency = time.perf_counter() - started
        return out, answered

    @staticmethod
    def _freshness(
        st: DeviceState, point: str, raw: object, ts: float, stale_after: float
    ) -> Quality:
        """good, or stale when raw has not changed for stale_after seconds."""
        last = st.unchanged.get(point)
        if last is None or last[0] != raw:
            st.unchanged[point] = (raw, ts)
            return Quality.good
        return Quality.stale if ts - last[1] >= stale_after else Quality.good

    async def _read(
        self, st: DeviceState, link: ModbusLink, req: ReadRequest
    ) -> tuple[list[int] | list[bool] | None, ReadFailed | None]:
        d = st.ref.device
        tries = busy_tries = 0
        while True:
            st.requests += 1
            try:
                values = await link.read(
                    req.table,
                    req.address,
                    req.count,
                    d.unit_id,
                    timeout=d.timeout,
                    pause_after_connect=d.pause_after_connect,
                    pause_between=d.pause_between_requests,
                )
                return values, None
            except ReadFailed as exc:
                if exc.kind == "timeout":
                    st.timeouts += 1
                if exc.kind == "exception" and exc.code in BUSY_CODES:
                    st.busy += 1
                    if busy_tries < d.busy_retries:
                        busy_tries += 1
                        await asyncio.sleep(d.busy_delay)
                        continue
                elif exc.kind in SILENT and tries < d.retries and not st.quarantined:
                    # (a quarantined device is only being probed: one try is enough)
                    tries += 1
                    continue
                return None, exc

    def _update_health(self, st: DeviceState, answered: bool) -> None:
        d = st.ref.device
        if answered:
            st.last_good = self.clock()
            if st.quarantined:
                log.info("device %s answering again; out of quarantine", d.id)
            elif st.consecutive_failures:
                log.info("device %s answering again", d.id)
            st.consecutive_failures = 0
            st.quarantined = False
            return
        st.failed_polls += 1
        st.consecutive_failures += 1
        if st.consecutive_failures == 1:
            log.warning("device %s unavailable: %s", d.id, st.last_error)
        else:
            log.debug("device %s still unavailable: %s", d.id, st.last_error)
        if st.consecutive_failures >= d.quarantine_after:
            steps = st.consecutive_failures - d.quarantine_after + 1
            backoff = min(d.poll_interval * 2 ** min(steps, 30), d.max_backoff)
            if not st.quarantined:
                log.warning(
                    "device %s quarantined after %d failed polls; next try in %.0f s",
                    d.id,
                    st.consecutive_failures,
                    backoff,
                )
            st.quarantined = True
            st.next_probe = time.monotonic() + backoff

    async def _poll_and_publish(self, device_id: str, group: str) -> None:
        st = self.devices[device_id]
        try:
            if st.quarantined and time.monotonic() < st.next_probe:
                points = [p for req in st.groups[group] for p in req.points]
                readings = _unavailable(st, points, self.clock())
            else:
                readings = await self.poll(device_id, group)
            self.publish(readings)
        except Exception:  # a bug in one device's poll must not stop the others
            log.exception("polling %s failed", device_id)

    async def _link_loop(self, entries: list[tuple[str, str]]) -> None:
        """Poll the (device, group) entries of one link, each on its own interval.

        The link carries one request at a time anyway, so one task per link polls whatever is
        due, one poll after another: a device's requests go out back to back, and no lock is
        handed from task to task on every request. An entry whose poll comes due while the
        link is still busy waits its turn; one that has missed whole ticks skips them and
        counts them.
        """
        start = time.monotonic()
        heap = [(start, i, device_id, group) for i, (device_id, group) in enumerate(entries)]
        heapq.heapify(heap)
        while not self._stopping:
            due, i, device_id, group = heap[0]
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            heapq.heappop(heap)
            await self._poll_and_publish(device_id, group)
            st = self.devices[device_id]
            interval = st.intervals[group]
            due += interval
            now = time.monotonic()
            if now > due:  # overran: skip the missed ticks rather than pile up
                missed = int((now - due) // interval) + 1
                st.skipped += missed
                due += missed * interval
            heapq.heappush(heap, (due, i, device_id, group))

    async def sweep(self) -> list[Reading]:
        """Poll every device once: one poll at a time per link, links in parallel."""
        out: list[Reading] = []

        async def link(devices: list[str]) -> None:
            for device_id in devices:
                out.extend(await self.poll(device_id))

        await asyncio.gather(*(link(d) for d in self.by_link().values()))
        return out

    def by_link(self) -> dict[str, list[str]]:
        """Device ids per link key, in site order."""
        out: dict[str, list[str]] = defaultdict(list)
        for device_id, st in self.devices.items():
            out[st.ref.device.link.key].append(device_id)
        return dict(out)

    async def start(self) -> None:
        """Start one polling task per link."""
        self._stopping = False
        for key, devices in self.by_link().items():
            entries = [(d, g) for d in devices for g in self.devices[d].groups]
            self._tasks.append(asyncio.create_task(self._link_loop(entries), name=f"poll:{key}"))

    async def stop(self) -> None:
        """Stop polling and close every link."""
        self._stopping = True
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        for link in self.links.values():
            link.close()
