"""Sizing figures for the deployment guide, measured on this machine, each against a baseline
measured in the same run.

1. *collector*: one collector path as `plantroom collect` wires it (``Collector.poll`` ->
   DurablePublisher -> DiskBuffer -> Forwarder -> EmbeddedStore) polling 20 SDM630 meters behind
   2 simulated Modbus TCP gateways (simulator child processes, no reply delay), as in
   bench/throughput.py: readings per second, device-polls per second and CPU seconds of this
   process per device-poll. Baseline: a bare pymodbus loop sending the same requests.
2. *write paths*: the demo site's simulated readings (N days, every point every --step, 5 s by
   default, as the demo's devices are polled live) written to a fresh embedded store (the
   baseline) and to InfluxDB 1.x through the collector's InfluxV1Sink: readings per second.
3. *bytes per reading*: the embedded store's files, and InfluxDB's TSM files, over the readings
   they hold; and InfluxDB's per-database series file and index, which grow with the number of
   series, not of readings (its space on disk: the file is preallocated and sparse). InfluxDB is
   a private `influxd` (1.x, the Debian package) started by this benchmark on loopback with its
   cache written to TSM and compacted after 1 s without writes: the shared test server keeps
   fresh writes in its write-ahead log for 10 minutes. Without an `influxd` binary,
   PLANTROOM_TEST_INFLUX_URL gives the write rate and no size.
4. *work orders*: the demo's maintenance history (`plantroom demo-history maintenance`, from
   2020-01-01 to 2026-01-01) and the twelve monthly analytics snapshots of 2025 written into a
   fresh PostgreSQL database (PLANTROOM_TEST_DATABASE_URL, an admin URL; the database is dropped
   afterwards): rows and bytes per table, per building-year (the snapshot tables hold one year).
   Baseline: the same database before the history (migrated, with the demo's assets).

It also prints what the demo site polls live (devices, points, readings per building-day at the
devices' own poll intervals), which the guide multiplies out.

Run: .venv/bin/python -m bench.scale [--days 0.5] [--step 5s] [--pairs 3] [--skip-collector]
     [--skip-pg]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import os
import platform
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import psycopg

from collectors.readings import Reading
from collectors.simulator.history import generate
from collectors.sinks.embedded import EmbeddedStore
from collectors.sinks.influx import InfluxV1Sink
from config.site import SITES_DIR, SiteConfig
from config.units import parse_duration
from plantroom.site import load_site

DAY = 86400.0
YEAR_DAYS = 365.25
HISTORY_NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _files_size(folder: Path, pattern: str = "*") -> int:
    """Bytes of the files under folder matching pattern."""
    return sum(p.stat().st_size for p in folder.rglob(pattern) if p.is_file())


def _allocated(folder: Path) -> int:
    """Bytes the files under folder take on disk (sparse files count what is written)."""
    return sum(p.stat().st_blocks * 512 for p in folder.rglob("*") if p.is_file())


def _hwm_mib() -> float:
    """This process's peak resident memory so far, MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def machine() -> str:
    """One line about this machine."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        mem = f"{mem_kb / 2**20:.1f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        mem = "RAM unknown"
    return f"{os.cpu_count()} cores ({cpu}), {mem}, Python {platform.python_version()}"


# --- the demo site's live load ------------------------------------------------------------------


def live_load(site: SiteConfig) -> dict[str, float]:
    """Devices, points and readings a day per building at the devices' own poll intervals."""
    buildings = len(site.doc.buildings)
    devices = site.devices()
    per_day = 0.0
    polls_per_day = 0.0
    points = 0
    for ref in devices:
        d, profile = ref.device, ref.profile
        intervals = set()
        for p in profile.points:
            # As the collector: 'default' is the device's interval, other groups the profile's.
            interval = (
                d.poll_interval
                if p.group == "default"
                else profile.groups.get(p.group, d.poll_interval)
            )
            intervals.add(interval)
            per_day += DAY / interval
            points += 1
        polls_per_day += sum(DAY / i for i in intervals)
    return {
        "buildings": buildings,
        "devices": len(devices),
        "points": points,
        "readings_per_building_day": per_day / buildings,
        "polls_per_building_day": polls_per_day / buildings,
    }


# --- 1. the collector against the simulator -----------------------------------------------------


def collector_figures(pairs: int) -> dict[str, float]:
    """bench.throughput's collector path and bare loop, `pairs` times each: medians."""
    from bench import throughput
    from bench._bare import bare_clients, gateway_work
    from bench._site import BenchSite, Simulators, port_map

    async def run(folder: Path) -> dict[str, float]:
        bench = BenchSite(gateways=throughput.GATEWAYS, per_gateway=throughput.PER_GATEWAY)
        site = bench.write(folder / "site")
        mapping = port_map(site)
        path = throughput.CollectorPath(site, folder / "data", mapping)
        col = path.collector
        work = gateway_work(col)
        forwarding = asyncio.create_task(path.forwarder.run(), name="forward:embedded")
        rates, bare_rates, cpus, bare_cpus = [], [], [], []
        with Simulators(bench, folder, mapping, reply_delay=0.0):
            clients = await bare_clients(col)
            try:
                await path.sweep()  # connect, create the files' pages
                await throughput.bare_run(clients, work)
                for _ in range(pairs):
                    c0 = time.process_time()
                    bare_rates.append(await throughput.bare_run(clients, work))
                    c1 = time.process_time()
                    rate, _, _ = await path.run()
                    c2 = time.process_time()
                    rates.append(rate)
                    bare_cpus.append(c1 - c0)
                    cpus.append(c2 - c1)
            finally:
                for c in clients.values():
                    c.close()
                await path.publisher.close()
                path.forwarder.stop()
                await forwarding
                await col.stop()
                path.store.close()
                path.forwarder.buffer.close()
        polls = throughput.SWEEPS * len(col.devices)
        readings = throughput.SWEEPS * sum(len(r.points) for w in work.values() for _, r in w)
        return {
            "devices": len(col.devices),
            "rate": statistics.median(rates),
            "bare_rate": statistics.median(bare_rates),
            "polls_per_s": statistics.median(rates) * polls / readings,
            "cpu_per_poll": statistics.median(cpus) / polls,
            "bare_cpu_per_poll": statistics.median(bare_cpus) / polls,
            "cpu_per_reading": statistics.median(cpus) / readings,
            "readings_per_poll": readings / polls,
        }

    with tempfile.TemporaryDirectory(prefix="plantroom-scale-") as tmp:
        return asyncio.run(run(Path(tmp)))


def import_rss(modules: str) -> float:
    """Peak resident memory (MiB) of a fresh interpreter that has imported `modules`."""
    # VmHWM, not ru_maxrss: Linux carries a parent's peak into a child's ru_maxrss across exec.
    code = f"import {modules}\n" if modules else ""
    code += (
        "for line in open('/proc/self/status'):\n"
        "    if line.startswith('VmHWM:'):\n"
        "        print(line.split()[1])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return int(out.stdout) / 1024  # kB


# --- 2 and 3. write paths and bytes per reading -------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a child process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def private_influxd(folder: Path) -> Iterator[tuple[str, Path, int] | None]:
    """(URL, data folder, process id) of an influxd started here on loopback, or None without
    the binary. Stopped (by its own process id) on the way out."""
    binary = shutil.which("influxd")
    if binary is None:
        yield None
        return
    http_port, rpc_port = _free_port(), _free_port()
    conf = folder / "influxdb.conf"
    conf.write_text(
        f"""reporting-disabled = true
bind-address = "127.0.0.1:{rpc_port}"
[meta]
  dir = "{folder / "meta"}"
[data]
  dir = "{folder / "data"}"
  wal-dir = "{folder / "wal"}"
  query-log-enabled = false
  # Write the cache to TSM files, and compact them fully, soon after the writes stop.
  cache-snapshot-write-cold-duration = "1s"
  compact-full-write-cold-duration = "1s"
[http]
  bind-address = "127.0.0.1:{http_port}"
  log-enabled = false
[monitor]
  store-enabled = false
"""
    )
    log = (folder / "influxd.log").open("wb")
    proc = subprocess.Popen([binary, "-config", str(conf)], stdout=log, stderr=log)
    url = f"http://127.0.0.1:{http_port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{url}/ping", timeout=1).status_code == 204:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None:
                raise RuntimeError(f"influxd exited {proc.returncode}; see {folder}/influxd.log")
            time.sleep(0.05)
        else:
            raise RuntimeError("influxd did not answer /ping within 10 s")
        yield url, folder / "data", proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _settled_tsm_bytes(data: Path, database: str, timeout: float = 90.0) -> int:
    """TSM bytes of the database once the WAL is written out and compaction has gone quiet."""
    db_dir = data / database
    wal = data.parent / "wal" / database
    last, stable_since = -1, time.monotonic()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tsm = _files_size(db_dir, "*.tsm")
        wal_bytes = _files_size(wal, "*.wal") if wal.exists() else 0
        if tsm != last:
            last, stable_since = tsm, time.monotonic()
        elif tsm > 0 and wal_bytes < 1024 and time.monotonic() - stable_since > 5:
            return tsm
        time.sleep(0.5)
    return last


def write_path_figures(site: SiteConfig, days: float, step: float) -> dict[str, float]:
    """Readings/s and bytes/reading: embedded store (baseline), then InfluxDB 1.x."""
    tz = ZoneInfo(site.doc.site.timezone)
    start = dt.datetime(2026, 1, 5, tzinfo=tz).timestamp()
    batches: list[list[Reading]] = [
        b for b, _ in generate(site, start, start + days * DAY, step=step)
    ]
    n = sum(map(len, batches))
    series = len({(r.asset, r.device, r.point) for b in batches for r in b})
    out: dict[str, float] = {"readings": n, "days": days, "series": series}
    buildings = {a.asset.id: a.building.id for a in site.assets()}
    classes = {a.asset.id: a.asset.brick_class for a in site.assets() if a.asset.brick_class}

    with tempfile.TemporaryDirectory(prefix="plantroom-scale-") as tmp:
        path = Path(tmp) / "readings.sqlite"
        store = EmbeddedStore(path)
        t, c = time.perf_counter(), time.process_time()
        for batch in batches:
            store.write(batch)
        out["embedded_rate"] = n / (time.perf_counter() - t)
        out["embedded_cpu"] = (time.process_time() - c) / n
        store.close()
        out["embedded_bytes"] = _files_size(Path(tmp), "readings.sqlite*")

    with (
        tempfile.TemporaryDirectory(prefix="plantroom-scale-influx-") as tmp,
        private_influxd(Path(tmp)) as private,
    ):
        url = private[0] if private else os.environ.get("PLANTROOM_TEST_INFLUX_URL")
        if url is None:
            return out
        database = "plantroom_scale_" + secrets.token_hex(3)
        sink = InfluxV1Sink(url, database, buildings=buildings, asset_classes=classes)
        try:
            sink.ensure_database()
            server0 = _process_cpu(private[2]) if private else 0.0
            t, c = time.perf_counter(), time.process_time()
            for batch in batches:
                sink.write(batch)
            out["influx_rate"] = n / (time.perf_counter() - t)
            out["influx_client_cpu"] = (time.process_time() - c) / n
            out["influx_private"] = 1.0 if private else 0.0
            if private:
                out["influx_server_cpu"] = (_process_cpu(private[2]) - server0) / n
                out["influx_bytes"] = _settled_tsm_bytes(private[1], database)
                db_dir = private[1] / database
                out["influx_series_bytes"] = (
                    _allocated(db_dir)
                    - _allocated(db_dir / "autogen")
                    + _files_size(db_dir, "fields.idx")
                )
        finally:
            if not private:
                sink.query(f'DROP DATABASE "{database}"', method="POST")
            sink.close()
    return out


# --- 4. work orders in PostgreSQL ---------------------------------------------------------------


def _pg_one(conn: psycopg.Connection[Any], sql: str) -> int:
    """The one number a query answers."""
    row = conn.execute(sql.encode()).fetchone()
    assert row is not None
    return int(row[0])


def _pg_tables(conn: psycopg.Connection[Any]) -> dict[str, tuple[int, int]]:
    """{table: (rows, bytes incl. indexes and TOAST)} of the public schema."""
    cur = conn.execute(
        "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY c.relname"
    )
    out = {}
    for name, size in cur.fetchall():
        out[name] = (_pg_one(conn, f'SELECT count(*) FROM "{name}"'), int(size))
    return out


@dataclass(frozen=True)
class WorkOrderFigures:
    """What the demo's maintenance history left in PostgreSQL."""

    years: float
    buildings: int
    assets_with_history: int
    assets: int
    corrective: int
    preventive: int
    seconds: float
    #: {table: (rows added, bytes added incl. indexes and TOAST)} by the maintenance history
    tables: dict[str, tuple[int, int]]
    #: the same, by one year of monthly snapshots
    snapshot_tables: dict[str, tuple[int, int]]
    db_before: int
    db_after: int

    @property
    def work_orders(self) -> int:
        """Work orders written."""
        return self.corrective + self.preventive


def workorder_figures(site: SiteConfig, admin_url: str) -> WorkOrderFigures:
    """The demo's maintenance history in a fresh PostgreSQL database: rows and bytes."""
    from analytics.snapshots import write_month
    from config.settings import Settings
    from plantroom.app import prepare_database
    from plantroom.demo import ensure_demo_users
    from plantroom.maintenance_history import HISTORY_START, PROFILES
    from plantroom.maintenance_history import generate as history

    name = "plantroom_scale_" + secrets.token_hex(4)
    admin = admin_url.replace("postgresql+psycopg://", "postgresql://", 1)
    base = admin_url.rsplit("/", 1)[0]
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        with tempfile.TemporaryDirectory(prefix="plantroom-scale-") as tmp:
            settings = Settings(data_dir=Path(tmp), database_url=f"{base}/{name}", _env_file=None)  # type: ignore[call-arg]
            db = prepare_database(settings, site)
            ensure_demo_users(db, site, first_job=False)
            db.dispose()
            url = f"{admin.rsplit('/', 1)[0]}/{name}"
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE")
                before = _pg_tables(conn)
                db_before = _pg_one(conn, "SELECT pg_database_size(current_database())")
            db = prepare_database(settings, site)
            t = time.perf_counter()
            written = history(db, site, now=HISTORY_NOW)
            seconds = time.perf_counter() - t
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE")
                middle = _pg_tables(conn)
            # A year of the monthly analytics snapshots (asset health, KPIs, capital plan), as
            # the api's daily job leaves them.
            for month in range(1, 13):
                with db.session() as s:
                    write_month(s, site, month=f"2025-{month:02d}", now=HISTORY_NOW)
            db.dispose()
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE")
                after = _pg_tables(conn)
                db_after = _pg_one(conn, "SELECT pg_database_size(current_database())")
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    years = (HISTORY_NOW - HISTORY_START).total_seconds() / (YEAR_DAYS * DAY)
    assets = {p.asset_id for p in PROFILES} & {a.asset.id for a in site.assets()}

    def grown(
        old: dict[str, tuple[int, int]], new: dict[str, tuple[int, int]]
    ) -> dict[str, tuple[int, int]]:
        return {
            t: (new[t][0] - old.get(t, (0, 0))[0], new[t][1] - old.get(t, (0, 0))[1])
            for t in new
            if new[t][0] != old.get(t, (0, 0))[0]
        }

    return WorkOrderFigures(
        years=years,
        buildings=len(site.doc.buildings),
        assets_with_history=len(assets),
        assets=sum(1 for _ in site.assets()),
        corrective=written.corrective,
        preventive=written.preventive,
        seconds=seconds,
        tables=grown(before, middle),
        snapshot_tables=grown(middle, after),
        db_before=int(db_before),
        db_after=int(db_after),
    )


# --- the report ---------------------------------------------------------------------------------


def main() -> None:
    """Measure and print."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=float, default=0.5, help="simulated days (default 0.5)")
    ap.add_argument("--step", default="5s", help="every point every STEP (default 5s)")
    ap.add_argument("--pairs", type=int, default=3, help="collector/bare pairs (default 3)")
    ap.add_argument("--skip-collector", action="store_true")
    ap.add_argument("--skip-pg", action="store_true")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    site = load_site(SITES_DIR / "demo")
    print(f"machine: {machine()}")

    live = live_load(site)
    print(
        f"demo site live: {live['buildings']:.0f} buildings, {live['devices']:.0f} devices, "
        f"{live['points']:.0f} points; per building-day {live['readings_per_building_day']:,.0f}"
        f" readings in {live['polls_per_building_day']:,.0f} device-polls (own poll intervals)"
    )

    if not args.skip_collector:
        c = collector_figures(args.pairs)
        print(
            f"collector: {c['devices']:.0f} SDM630 on 2 simulated gateways, no reply delay, "
            f"median of {args.pairs}: {c['rate']:,.0f} readings/s = {c['polls_per_s']:,.0f} "
            f"device-polls/s ({c['readings_per_poll']:.0f} readings a poll) vs bare pymodbus "
            f"{c['bare_rate']:,.0f} readings/s, ratio {c['rate'] / c['bare_rate']:.2f}"
        )
        print(
            f"collector CPU: {c['cpu_per_poll'] * 1e3:.2f} ms per device-poll "
            f"({c['cpu_per_reading'] * 1e6:.0f} us per reading) vs bare "
            f"{c['bare_cpu_per_poll'] * 1e3:.2f} ms, ratio "
            f"{c['cpu_per_poll'] / c['bare_cpu_per_poll']:.2f}; one core at 100% polls "
            f"{1 / c['cpu_per_poll']:,.0f} devices a second"
        )
        bare_py = import_rss("")
        floor = import_rss("plantroom.cli, plantroom.runtime, plantroom.scheduler")
        peak = _hwm_mib()
        print(
            f"collector memory: {floor:.0f} MiB resident once `plantroom collect`'s modules are "
            f"imported (a floor per collector process) vs {bare_py:.0f} MiB for a bare "
            f"interpreter, ratio {floor / bare_py:.1f}; this benchmark peaked at {peak:.0f} MiB "
            "after the collector run (20 devices, the bench's own modules included: a ceiling)"
        )
        demo_cpu = live["polls_per_building_day"] * c["cpu_per_poll"] / DAY
        print(
            f"collector CPU for one demo building (own poll intervals): {demo_cpu * 100:.2f}% "
            f"of a core (per-poll CPU of the SDM630 bench applied to the demo's polls)"
        )

    w = write_path_figures(site, args.days, parse_duration(args.step))
    n = w["readings"]
    print(
        f"write paths: {n:,.0f} demo readings ({args.days:g} simulated days, {w['series']:.0f} "
        f"series, every {args.step}): embedded store {w['embedded_rate']:,.0f} readings/s "
        "(baseline)"
        + (
            f", InfluxDB 1.x {w['influx_rate']:,.0f} readings/s, ratio "
            f"{w['influx_rate'] / w['embedded_rate']:.2f}"
            if "influx_rate" in w
            else ", InfluxDB: no influxd and PLANTROOM_TEST_INFLUX_URL unset"
        )
    )
    print(
        f"write CPU per reading: embedded store {w['embedded_cpu'] * 1e6:.1f} us"
        + (
            f", InfluxDB sink (this process: line protocol and HTTP) "
            f"{w['influx_client_cpu'] * 1e6:.1f} us, ratio "
            f"{w['influx_client_cpu'] / w['embedded_cpu']:.2f}"
            if "influx_client_cpu" in w
            else ""
        )
        + (
            f"; influxd taking the writes {w['influx_server_cpu'] * 1e6:.1f} us "
            f"({w['influx_server_cpu'] * 1e6:.0f} CPU seconds per million readings)"
            if "influx_server_cpu" in w
            else ""
        )
    )
    emb = w["embedded_bytes"] / n
    line = f"bytes per reading: embedded store {emb:.1f} B (baseline)"
    if "influx_bytes" in w:
        tsm = w["influx_bytes"] / n
        line += f", InfluxDB TSM {tsm:.2f} B, ratio {tsm / emb:.3f}"
        line += (
            f"; InfluxDB series file and index {w['influx_series_bytes'] / 1e6:.1f} MB on disk "
            f"for {w['series']:.0f} series ({w['influx_series_bytes'] / w['series'] / 1e3:.1f} kB "
            "a series)"
        )
    print(line)
    per_bd = live["readings_per_building_day"]
    if "influx_bytes" in w:
        year = per_bd * YEAR_DAYS * w["influx_bytes"] / n
        print(
            f"extrapolated: InfluxDB {year / 1e9:.2f} GB of TSM per demo building-year at the "
            f"live poll intervals ({per_bd * YEAR_DAYS / 1e6:,.0f} million readings); embedded "
            f"store {per_bd * YEAR_DAYS * emb / 1e9:.1f} GB"
        )

    admin = os.environ.get("PLANTROOM_TEST_DATABASE_URL")
    if args.skip_pg or not admin:
        print("work orders: skipped (--skip-pg, or PLANTROOM_TEST_DATABASE_URL unset)")
        return
    p = workorder_figures(site, admin)
    by = p.years * p.buildings
    rows = sum(r for r, _ in p.tables.values())
    size = sum(b for _, b in p.tables.values())
    print(
        f"work orders: the demo's maintenance history, {p.years:.1f} years x {p.buildings} "
        f"buildings ({p.assets_with_history} of {p.assets} assets with a failure profile): "
        f"{p.work_orders:,} work orders ({p.corrective:,} corrective, {p.preventive:,} "
        f"preventive) written in {p.seconds:.0f} s"
    )
    for t, (r, b) in sorted(p.tables.items(), key=lambda kv: -kv[1][1]):
        print(f"  {t:<28} {r:>7,} rows {b / 1e3:>7,.0f} kB  {r / by:>7,.1f} rows/building-year")
    snap_rows = sum(r for r, _ in p.snapshot_tables.values())
    snap_size = sum(b for _, b in p.snapshot_tables.values())
    print(f"monthly snapshots, one year ({p.buildings} buildings):")
    for t, (r, b) in sorted(p.snapshot_tables.items(), key=lambda kv: -kv[1][1]):
        print(
            f"  {t:<28} {r:>7,} rows {b / 1e3:>7,.0f} kB  "
            f"{r / p.buildings:>7,.1f} rows/building-year"
        )
    asset_years = p.years * p.assets_with_history
    print(
        f"work orders per asset-year (assets with a failure profile): "
        f"{p.work_orders / asset_years:.1f} work orders, {rows / asset_years:,.0f} rows, "
        f"{size / asset_years / 1e3:,.0f} kB"
    )
    per_by = size / by + snap_size / p.buildings
    print(
        f"PostgreSQL per building-year: {p.work_orders / by:,.1f} work orders, "
        f"{rows / by + snap_rows / p.buildings:,.0f} rows, {per_by / 1e3:,.0f} kB in tables and "
        f"indexes (work orders {size / by / 1e3:,.0f} kB, snapshots "
        f"{snap_size / p.buildings / 1e3:,.0f} kB); database {p.db_before / 1e6:.1f} MB before "
        f"(migrated, assets and users: the baseline), {p.db_after / 1e6:.1f} MB after, ratio "
        f"{p.db_after / p.db_before:.2f}"
    )


if __name__ == "__main__":
    main()
