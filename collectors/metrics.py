"""Self-monitoring: the collector's own health, as readings (measurement 'collector') for the
store and as Prometheus text for /metrics."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from collectors.buffer import Forwarder
from collectors.poller import Collector
from collectors.readings import Quality, Reading

MEASUREMENT = "collector"


@dataclass(frozen=True)
class Metric:
    """One figure with its labels."""

    name: str
    kind: str  # counter | gauge
    help: str
    labels: tuple[tuple[str, str], ...]
    value: float


def snapshot(collector: Collector, forwarders: Iterable[Forwarder] = ()) -> list[Metric]:
    """Every figure, now."""
    out: list[Metric] = []

    def add(name: str, kind: str, help_: str, labels: dict[str, str], value: float) -> None:
        out.append(Metric(name, kind, help_, tuple(labels.items()), float(value)))

    for dev_id, st in collector.devices.items():
        lb = {"device": dev_id, "link": st.ref.device.link.key}
        add("plantroom_device_polls_total", "counter", "Polls of the device.", lb, st.polls)
        add(
            "plantroom_device_failed_polls_total",
            "counter",
            "Polls that got no answer from the device.",
            lb,
            st.failed_polls,
        )
        add("plantroom_device_requests_total", "counter", "Modbus requests sent.", lb, st.requests)
        add("plantroom_device_errors_total", "counter", "Requests that failed.", lb, st.errors)
        add(
            "plantroom_device_timeouts_total", "counter", "Requests with no reply.", lb, st.timeouts
        )
        add(
            "plantroom_device_busy_total",
            "counter",
            "Replies saying the device is busy.",
            lb,
            st.busy,
        )
        add(
            "plantroom_device_skipped_ticks_total",
            "counter",
            "Poll ticks skipped because a poll overran its interval.",
            lb,
            st.skipped,
        )
        add(
            "plantroom_device_quarantined",
            "gauge",
            "1 while the device is quarantined after failing.",
            lb,
            1 if st.quarantined else 0,
        )
        add(
            "plantroom_device_poll_latency_seconds",
            "gauge",
            "Duration of the last poll.",
            lb,
            st.last_latency,
        )
    for key, link in collector.links.items():
        lb = {"link": key}
        s = link.stats
        add(
            "plantroom_link_requests_total", "counter", "Requests sent on the link.", lb, s.requests
        )
        add("plantroom_link_errors_total", "counter", "Failed requests on the link.", lb, s.errors)
        add("plantroom_link_timeouts_total", "counter", "Requests with no reply.", lb, s.timeouts)
        add(
            "plantroom_link_reconnects_total",
            "counter",
            "Connections closed and reopened.",
            lb,
            s.reconnects,
        )
        add(
            "plantroom_link_mismatches_total",
            "counter",
            "Replies out of step with their request (late replies).",
            lb,
            s.mismatches,
        )
        add(
            "plantroom_link_wait_seconds_total",
            "counter",
            "Time requests waited for the link to be free.",
            lb,
            s.wait_seconds,
        )
    for f in forwarders:
        lb = {"sink": f.sink.name}
        add(
            "plantroom_buffer_depth",
            "gauge",
            "Readings waiting in the disk buffer.",
            lb,
            f.buffer.depth(),
        )
        add(
            "plantroom_buffer_dropped_total",
            "counter",
            "Readings dropped because the buffer was full.",
            lb,
            f.buffer.dropped(),
        )
        add(
            "plantroom_buffer_forwarded_total",
            "counter",
            "Readings delivered to the sink.",
            lb,
            f.forwarded,
        )
    return out


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def prometheus_text(metrics: list[Metric]) -> str:
    """The Prometheus text exposition format (version 0.0.4)."""
    lines: list[str] = []
    seen: set[str] = set()
    for m in sorted(metrics, key=lambda m: m.name):
        if m.name not in seen:
            seen.add(m.name)
            lines += [f"# HELP {m.name} {m.help}", f"# TYPE {m.name} {m.kind}"]
        labels = ",".join(f'{k}="{_escape(v)}"' for k, v in m.labels)
        lines.append(f"{m.name}{{{labels}}} {m.value:g}" if labels else f"{m.name} {m.value:g}")
    return "\n".join(lines) + "\n"


def as_readings(metrics: list[Metric], ts: float, name: str | None = None) -> list[Reading]:
    """The figures as readings of measurement 'collector', for the time-series store (asset
    ``_collector``, or ``_collector:<name>`` for one of several named collectors)."""
    asset = "_collector" if name is None else f"_collector:{name}"
    out = []
    for m in metrics:
        labels = dict(m.labels)
        subject = labels.get("device") or labels.get("link") or labels.get("sink") or ""
        out.append(Reading(ts, asset, subject, m.name, m.value, "", Quality.good, MEASUREMENT))
    return out
