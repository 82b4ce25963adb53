"""Store-and-forward against a real InfluxDB 1.x: nothing produced is lost.

The collector (`plantroom collect`, a separate process) polls a synthetic site served by
`plantroom simulate` at about --rate readings/s and writes to InfluxDB through its disk buffer.
InfluxDB is stopped for --outage seconds; halfway through, the collector is killed with SIGKILL
and started again. When InfluxDB is back and the buffer has drained, the bench compares:

- produced: readings the collector committed to its InfluxDB buffer, i.e. every reading a poll
  returned (the buffer's AUTOINCREMENT sequence counts them all, forwarded or not);
- stored: the points InfluxDB holds, counted with InfluxQL.

    .venv/bin/python bench/store_and_forward.py [--rate 2000] [--outage 300] [--before 30]

Needs influxd (Debian's influxdb package). The last line is the figure.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
POINTS_PER_METER = 18  # the SDM630 profile
GATEWAYS = 8


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_site(folder: Path, devices: int, interval: float) -> list[int]:
    """A site of SDM630 meters spread over GATEWAYS Modbus TCP gateways."""
    ports = [free_port() for _ in range(GATEWAYS)]
    lines = [
        "site: {id: bench, name: Store-and-forward bench, timezone: Asia/Shanghai}",
        "buildings:",
        "  - id: b1",
        "    name: Bench building",
        "    floor_area_m2: 10000",
        "    occupants: 100",
        "    assets:",
    ]
    for i in range(devices):
        gw, unit = i % GATEWAYS, i // GATEWAYS + 1
        lines += [
            f"      - id: m{i:03d}",
            f"        name: Meter {i}",
            "        class: Electrical_Meter",
            f"        sub_item: 01{'ABCD'[i % 4]}00",
            "        devices:",
            f"          - {{id: m{i:03d}-dev, profile: sdm630, unit_id: {unit}, "
            f"poll_interval: {interval}, timeout: 1s,",
            f"             link: {{type: tcp, host: 127.0.0.1, port: {ports[gw]}}}}}",
        ]
    (folder / "site.yaml").write_text("\n".join(lines) + "\n")
    return ports


class Influx:
    """A throw-away influxd we can stop and start again on the same data."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        conf = folder / "influxdb.conf"
        conf.write_text(
            f'reporting-disabled = true\nbind-address = "127.0.0.1:{free_port()}"\n'
            f'[meta]\n  dir = "{folder}/meta"\n[data]\n  dir = "{folder}/data"\n'
            f'  wal-dir = "{folder}/wal"\n  query-log-enabled = false\n'
            f'[http]\n  bind-address = "127.0.0.1:{self.port}"\n  log-enabled = false\n'
            f"[monitor]\n  store-enabled = false\n"
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = (self.folder / "influxd.log").open("ab")
        self.proc = subprocess.Popen(
            ["influxd", "-config", str(self.folder / "influxdb.conf")], stdout=log, stderr=log
        )
        for _ in range(300):
            try:
                if httpx.get(f"{self.url}/ping", timeout=1).status_code == 204:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("influxd did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=60)
            self.proc = None

    def count(self, database: str) -> dict[str, int]:
        r = httpx.get(
            f"{self.url}/query",
            params={"db": database, "q": 'SELECT count("quality") FROM /.*/'},
            timeout=120,
        )
        r.raise_for_status()
        series = r.json()["results"][0].get("series", [])
        return {s["name"]: int(s["values"][0][1]) for s in series}


def plantroom(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    out = log.open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "plantroom.cli", *args], cwd=ROOT, env=env, stdout=out, stderr=out
    )


def buffer_depth(metrics_port: int) -> int | None:
    try:
        text = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=2).text
    except httpx.HTTPError:
        return None
    m = re.search(r'plantroom_buffer_depth\{sink="influx-v1"\} (\d+)', text)
    return int(m.group(1)) if m else None


def produced(buffer_file: Path) -> tuple[int, int]:
    """(readings ever committed to the buffer, readings still in it)."""
    db = sqlite3.connect(buffer_file)
    seq = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'buf'").fetchone()
    left = db.execute("SELECT count(*) FROM buf").fetchone()[0]
    db.close()
    return (int(seq[0]) if seq else 0), int(left)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=int, default=2000, help="readings per second to produce")
    ap.add_argument("--outage", type=float, default=300.0, help="seconds InfluxDB is down")
    ap.add_argument("--before", type=float, default=30.0, help="seconds before the outage")
    args = ap.parse_args()
    interval = 1.0
    devices = max(1, math.ceil(args.rate * interval / POINTS_PER_METER))
    work = Path(tempfile.mkdtemp(prefix="plantroom-snf-"))
    (work / "site").mkdir()
    (work / "influx").mkdir()
    write_site(work / "site", devices, interval)
    influx = Influx(work / "influx")
    metrics_port = free_port()
    env = {
        **os.environ,
        "PLANTROOM_DATA_DIR": str(work / "data"),
        "PLANTROOM_SITE": str(work / "site"),
        "PLANTROOM_INFLUX_V1_URL": influx.url,
        "PLANTROOM_INFLUX_DATABASE": "bench",
    }
    collect = ["collect", "--metrics-port", str(metrics_port)]
    print(
        f"work dir {work}; {devices} meters x {POINTS_PER_METER} points every {interval:g} s "
        f"= {devices * POINTS_PER_METER / interval:.0f} readings/s planned",
        flush=True,
    )
    influx.start()
    sim = plantroom(["simulate", "--site", str(work / "site")], env, work / "sim.log")
    col = plantroom(collect, env, work / "collect.log")
    t0 = time.monotonic()
    try:
        time.sleep(args.before)
        influx.stop()
        print(f"{time.monotonic() - t0:6.0f} s  InfluxDB stopped", flush=True)
        time.sleep(args.outage / 2)
        col.send_signal(signal.SIGKILL)
        col.wait()
        print(
            f"{time.monotonic() - t0:6.0f} s  collector killed (SIGKILL); depth before the "
            f"kill was on disk: {produced(work / 'data' / 'buffer-influx-v1.sqlite')[1]}",
            flush=True,
        )
        col = plantroom(collect, env, work / "collect.log")
        time.sleep(args.outage / 2)
        influx.start()
        print(f"{time.monotonic() - t0:6.0f} s  InfluxDB started again", flush=True)
        time.sleep(2)
        for _ in range(1200):
            depth = buffer_depth(metrics_port)
            # Replayed when less than a second's readings wait: new ones arrive all the time
            # and the forwarder lingers between batches, so the depth is seldom exactly 0.
            if depth is not None and depth < args.rate:
                break
            time.sleep(0.5)
        print(f"{time.monotonic() - t0:6.0f} s  buffer drained; stopping the collector", flush=True)
        elapsed = time.monotonic() - t0
        col.send_signal(signal.SIGTERM)
        col.wait(timeout=120)
        total, left = produced(work / "data" / "buffer-influx-v1.sqlite")
        counts = influx.count("bench")
    finally:
        for p in (col, sim):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                p.wait(timeout=30)
        influx.stop()
    stored = sum(counts.values())
    print(f"by measurement in InfluxDB: {counts}; still buffered after stop: {left}")
    verdict = "equal" if stored == total - left and left == 0 else "NOT equal"
    print(
        f"store-and-forward: produced {total:,}, in InfluxDB {stored:,} ({verdict}); "
        f"{total / elapsed:,.0f} readings/s over {elapsed:.0f} s, InfluxDB down "
        f"{args.outage:.0f} s, collector SIGKILLed once during the outage"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
