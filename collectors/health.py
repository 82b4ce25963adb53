"""The collector's health records: written by the collector into the readings store it already
writes to (the embedded store, InfluxDB), and read back by whichever process shows them, so
that `plantroom serve` shows a collector's health without running one.

Records are readings of measurement ``collector_health`` with asset ``_collector`` (the one
collector of a site), or ``_collector:<name>`` for each of several collectors (``plantroom
collect --building``, see collectors/leases.py), so that their records do not overwrite one
another; the device field names what the record is about and the point names the figure:

    device_state       device id   text: ok | quarantined | unavailable | pending
    device_last_good   device id   UNIX time of the device's last answered poll
    link_up            link key    1 while some device behind the link answers, else 0
    link_reconnects    link key    connections closed and reopened (a counter)
    link_errors        link key    failed requests (a counter)
    sink_buffer_depth  sink name   readings waiting in the sink's disk buffer
    sink_dropped       sink name   readings dropped because the buffer was full (a counter)
    heartbeat          _collector  seconds until the next record: the collector is silent once
                                   its newest heartbeat is older than a few of these
    stopped            _collector  1, written as the collector stops cleanly (with a last heartbeat
                                   at the same time): it is stopped, not silent

Readings going stale are worked out from the readings themselves, not from these records (a
collector that died writes no records): a point is stale when its newest good reading is older
than STALE_POLLS of its poll intervals, or when it has none within the look-back.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from collectors.buffer import Forwarder
from collectors.poller import Collector, DeviceState
from collectors.readings import Quality, Reading
from collectors.sinks.buckets import ReadError
from collectors.sinks.embedded import FILE_NAME
from collectors.sinks.influx import InfluxQLReader
from config.settings import Settings
from config.site import SiteConfig

MEASUREMENT = "collector_health"
#: The asset field of every health record of an unnamed collector; a named one's is
#: ``_collector:<name>``.
ASSET = "_collector"
#: The device field of the heartbeat.
COLLECTOR = "_collector"
#: A point is stale when its newest good reading is older than this many poll intervals.
STALE_POLLS = 3
#: The collector is silent when its newest heartbeat is older than this many intervals.
SILENT_BEATS = 3
#: How far back the readers look: health records and good readings older than this are gone.
LOOKBACK = 86_400.0
DEVICE_STATES = ("ok", "quarantined", "unavailable", "pending")


def device_state(st: DeviceState) -> str:
    """ok, quarantined, unavailable (failing, not yet quarantined) or pending (not polled)."""
    if st.quarantined:
        return "quarantined"
    if st.consecutive_failures:
        return "unavailable"
    return "ok" if st.polls else "pending"


def asset_of(name: str | None) -> str:
    """The asset field of the health records of the collector called name (None: unnamed)."""
    return ASSET if name is None else f"{ASSET}:{name}"


def name_of(asset: str) -> str | None:
    """The collector's name in a health record's asset field (None: unnamed)."""
    return asset.split(":", 1)[1] if asset.startswith(f"{ASSET}:") else None


def records(
    collector: Collector,
    forwarders: Iterable[Forwarder],
    ts: float,
    interval: float,
    *,
    stopping: bool = False,
    name: str | None = None,
) -> list[Reading]:
    """The collector's health now, as readings of measurement collector_health (`stopping`: its
    last, as it stops; `name`: the collector's, when several share the store)."""
    asset = asset_of(name)

    def rec(subject: str, point: str, value: float | int | str) -> Reading:
        return Reading(ts, asset, subject, point, value, "", Quality.good, MEASUREMENT)

    out = [rec(COLLECTOR, "heartbeat", float(interval))]
    if stopping:
        out.append(rec(COLLECTOR, "stopped", 1))
    answering: dict[str, bool] = {}
    for dev_id, st in collector.devices.items():
        out.append(rec(dev_id, "device_state", device_state(st)))
        if st.last_good is not None:
            out.append(rec(dev_id, "device_last_good", st.last_good))
        key = st.ref.device.link.key
        polled_ok = st.polls > 0 and st.consecutive_failures == 0
        answering[key] = answering.get(key, False) or polled_ok or st.polls == 0
    for key, link in collector.links.items():
        out.append(rec(key, "link_up", 1 if answering.get(key, True) else 0))
        out.append(rec(key, "link_reconnects", link.stats.reconnects))
        out.append(rec(key, "link_errors", link.stats.errors))
    for f in forwarders:
        out.append(rec(f.sink.name, "sink_buffer_depth", f.buffer.depth()))
        out.append(rec(f.sink.name, "sink_dropped", f.buffer.dropped()))
    return out


# --- the read side ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Record:
    """The newest value of one figure about one subject, from one collector."""

    subject: str
    point: str
    ts: float
    value: float | str | None
    #: The record's asset field: which collector wrote it (see asset_of).
    collector: str = ASSET


@dataclass(frozen=True)
class LastGood:
    """When a point of an asset last had a good reading (None: not within the look-back)."""

    asset: str
    point: str
    ts: float | None


class HealthReader(Protocol):
    """Reads the newest health records and each point's newest good reading from a store."""

    name: str

    def latest(self, *, since: float) -> list[Record]:
        """The newest record of every (collector, subject, figure) written at or after since."""

    def last_good(self, *, since: float) -> list[LastGood]:
        """Per (asset, point) with a good reading at or after since: the newest one's time."""

    def close(self) -> None:
        """Release connections."""


class EmbeddedHealthReader:
    """The embedded store's file, opened read-only per call (an absent file holds nothing)."""

    name = "embedded"

    def __init__(self, path: Path):
        self.path = path

    def _rows(self, sql: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        if not self.path.is_file():
            return []
        try:
            conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, timeout=10)
        except sqlite3.Error as exc:
            raise ReadError(f"{self.path}: {exc}") from exc
        try:
            return conn.execute(sql, args).fetchall()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return []
            raise ReadError(f"{self.path}: {exc}") from exc
        except sqlite3.Error as exc:
            raise ReadError(f"{self.path}: {exc}") from exc
        finally:
            conn.close()

    def latest(self, *, since: float) -> list[Record]:
        """The newest record of every (collector, subject, figure) written at or after since."""
        # One step down the primary key (series, ts) per series.
        rows = self._rows(
            "SELECT s.device, s.point, x.ts, x.value, x.text, s.asset FROM series s "
            "JOIN samples x ON x.series = s.id "
            "WHERE s.measurement = ? AND x.ts = (SELECT max(ts) FROM samples WHERE series = s.id) "
            "AND x.ts >= ?",
            (MEASUREMENT, since),
        )
        return [Record(d, p, float(ts), t if t is not None else v, a) for d, p, ts, v, t, a in rows]

    def last_good(self, *, since: float) -> list[LastGood]:
        """Per (asset, point) with a good reading at or after since: the newest one's time."""
        # Backwards from each series' newest reading to its first good one.
        rows = self._rows(
            "SELECT asset, point, max(last) FROM (SELECT s.asset, s.point, "
            "(SELECT ts FROM samples WHERE series = s.id AND ts >= ? AND quality = 'good' "
            "ORDER BY ts DESC LIMIT 1) AS last FROM series s WHERE s.measurement = 'readings') "
            "GROUP BY asset, point",
            (since,),
        )
        return [LastGood(a, p, None if t is None else float(t)) for a, p, t in rows]

    def close(self) -> None:
        """Nothing stays open between calls."""


def _ns(ts: float) -> int:
    return round(ts * 1e9)


class InfluxHealthReader:
    """InfluxDB (1.x, or 2.x through its InfluxQL endpoint), with InfluxQL."""

    name = "influxql"

    def __init__(self, ql: InfluxQLReader):
        self.ql = ql

    def latest(self, *, since: float) -> list[Record]:
        """The newest record of every (collector, subject, figure) written at or after since."""
        (result,) = self.ql.query(
            f'SELECT "value", "text" FROM "{MEASUREMENT}" WHERE time >= {_ns(since)} '
            'GROUP BY "asset", "device", "point" ORDER BY time DESC LIMIT 1'
        )
        out = []
        for series in result.get("series") or []:
            tags = series.get("tags") or {}
            cols = series["columns"]
            for row in series["values"]:
                got = dict(zip(cols, row, strict=True))
                value = got.get("text") if got.get("text") is not None else got.get("value")
                out.append(
                    Record(
                        str(tags.get("device", "")),
                        str(tags.get("point", "")),
                        got["time"] / 1e6,
                        value,
                        str(tags.get("asset") or ASSET),
                    )
                )
        return out

    def last_good(self, *, since: float) -> list[LastGood]:
        """Per (asset, point) with a good reading at or after since: the newest one's time."""
        (result,) = self.ql.query(
            'SELECT last("quality") FROM "readings" WHERE "quality" = \'good\' '
            f'AND time >= {_ns(since)} GROUP BY "asset", "point"'
        )
        out = []
        for series in result.get("series") or []:
            tags = series.get("tags") or {}
            for row in series["values"]:
                out.append(
                    LastGood(str(tags.get("asset", "")), str(tags.get("point", "")), row[0] / 1e6)
                )
        return out

    def close(self) -> None:
        """Close the HTTP client."""
        self.ql.close()


def configured_health_reader(settings: Settings) -> HealthReader:
    """The health records' store: the one collectors/sinks/readers.py reads readings from."""
    if settings.influx_v1_url:
        return InfluxHealthReader(
            InfluxQLReader(
                settings.influx_v1_url,
                settings.influx_database,
                username=settings.influx_username,
                password=settings.influx_password,
            )
        )
    if settings.influx_v2_url:
        return InfluxHealthReader(
            InfluxQLReader(
                settings.influx_v2_url, settings.influx_bucket, token=settings.influx_token
            )
        )
    return EmbeddedHealthReader(settings.data_dir / FILE_NAME)


# --- what the records say -----------------------------------------------------------------------


@dataclass
class DeviceHealth:
    """One device of the site as its collector last reported it."""

    id: str
    asset: str
    link: str
    state: str  # ok | quarantined | unavailable | pending | unknown (no record)
    last_good: float | None
    reported_at: float | None


@dataclass
class LinkHealth:
    """One link of the site."""

    key: str
    up: bool | None  # None: no record
    reconnects: int
    errors: int
    reported_at: float | None


@dataclass
class SinkHealth:
    """One sink the collector forwards to."""

    name: str
    buffer_depth: int
    dropped: int
    reported_at: float | None


@dataclass
class StalePoint:
    """A point whose readings have gone stale."""

    asset: str
    point: str
    device: str
    interval: float
    last_good: float | None


@dataclass
class CollectorStatus:
    """One collector's heartbeat as the store holds it (name None: the unnamed collector)."""

    name: str | None
    reported_at: float
    interval: float
    reporting: bool
    stopped: bool


@dataclass
class Health:
    """The collector's health as the store holds it, at `now`. With several collectors, the
    heartbeat figures are those of the one that reported longest ago among those not stopped
    (reporting: all of them are), or of the last to stop when all stopped."""

    now: float
    reported_at: float | None
    interval: float | None
    reporting: bool
    #: The collector stopped cleanly at reported_at (and has not started since).
    stopped: bool = False
    devices: list[DeviceHealth] = field(default_factory=list)
    links: list[LinkHealth] = field(default_factory=list)
    sinks: list[SinkHealth] = field(default_factory=list)
    stale: list[StalePoint] = field(default_factory=list)
    points: int = 0
    #: Every collector with a heartbeat within the look-back.
    collectors: list[CollectorStatus] = field(default_factory=list)


def point_intervals(site: SiteConfig) -> dict[tuple[str, str], tuple[str, float]]:
    """(asset, point) -> (device, poll interval in seconds) for every point the site polls
    (the shortest interval where two devices read one point)."""
    out: dict[tuple[str, str], tuple[str, float]] = {}
    for ref in site.devices():
        d, profile = ref.device, ref.profile
        for p in profile.points:
            every = float(profile.groups.get(p.group, d.poll_interval))
            key = (ref.asset.asset.id, p.name)
            if key not in out or every < out[key][1]:
                out[key] = (d.id, every)
    return out


def _number(value: float | str | None) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0


def _statuses(latest: list[Record], now: float) -> list[CollectorStatus]:
    """Each collector's heartbeat (records oldest first)."""
    beats = {r.collector: r for r in latest if r.subject == COLLECTOR and r.point == "heartbeat"}
    stops = {r.collector: r for r in latest if r.subject == COLLECTOR and r.point == "stopped"}
    out = []
    for asset, beat in sorted(beats.items()):
        interval = _number(beat.value)
        stop = stops.get(asset)
        stopped = bool(stop and stop.ts >= beat.ts)
        recent = bool(interval) and now - beat.ts <= SILENT_BEATS * interval
        out.append(
            CollectorStatus(name_of(asset), beat.ts, interval, recent and not stopped, stopped)
        )
    return out


def read_health(
    reader: HealthReader, site: SiteConfig, *, now: float, lookback: float = LOOKBACK
) -> Health:
    """Every device, link and sink of the site with its newest record, and the stale points."""
    since = now - lookback
    latest = sorted(reader.latest(since=since), key=lambda r: r.ts)
    # Devices and links: the newest record whichever collector wrote it.
    recs: dict[tuple[str, str], Record] = {(r.subject, r.point): r for r in latest}
    statuses = _statuses(latest, now)
    running = [c for c in statuses if not c.stopped]
    shown = min(running, key=lambda c: c.reported_at) if running else None
    if shown is None and statuses:
        shown = max(statuses, key=lambda c: c.reported_at)
    health = Health(
        now=now,
        reported_at=shown.reported_at if shown else None,
        interval=shown.interval if shown else None,
        reporting=bool(running) and all(c.reporting for c in running),
        stopped=bool(statuses) and not running,
        collectors=statuses,
    )
    for ref in site.devices():
        d = ref.device
        st = recs.get((d.id, "device_state"))
        lg = recs.get((d.id, "device_last_good"))
        health.devices.append(
            DeviceHealth(
                id=d.id,
                asset=ref.asset.asset.id,
                link=d.link.key,
                state=str(st.value) if st and st.value in DEVICE_STATES else "unknown",
                last_good=_number(lg.value) if lg and lg.value is not None else None,
                reported_at=st.ts if st else None,
            )
        )
    links = list(dict.fromkeys(ref.device.link.key for ref in site.devices()))
    for key in links:
        up = recs.get((key, "link_up"))
        health.links.append(
            LinkHealth(
                key=key,
                up=None if up is None else _number(up.value) >= 1,
                reconnects=int(_number(recs[(key, "link_reconnects")].value))
                if (key, "link_reconnects") in recs
                else 0,
                errors=int(_number(recs[(key, "link_errors")].value))
                if (key, "link_errors") in recs
                else 0,
                reported_at=up.ts if up else None,
            )
        )
    by_sink = {(r.collector, r.subject, r.point): r for r in latest}
    for asset, name in sorted({(c, s) for c, s, p in by_sink if p == "sink_buffer_depth"}):
        depth = by_sink[(asset, name, "sink_buffer_depth")]
        dropped = by_sink.get((asset, name, "sink_dropped"))
        who = name_of(asset)
        health.sinks.append(
            SinkHealth(
                name=name if who is None else f"{name} @ {who}",
                buffer_depth=int(_number(depth.value)),
                dropped=int(_number(dropped.value)) if dropped else 0,
                reported_at=depth.ts,
            )
        )
    good = {(g.asset, g.point): g.ts for g in reader.last_good(since=since)}
    expected = point_intervals(site)
    health.points = len(expected)
    for (asset, point), (device, every) in sorted(expected.items()):
        last = good.get((asset, point))
        if last is None or now - last > STALE_POLLS * every:
            health.stale.append(StalePoint(asset, point, device, every, last))
    return health
