"""A technician's "my open work orders" list under load, against a bare FastAPI endpoint on the
same server in the same run (issue #5).

Setup: a migrated database (SQLite file, or a fresh PostgreSQL database) with the demo site's
assets and 100,000 work orders seeded by bulk insert: one technician per client (50), each with
20-40 open work orders assigned, and the rest of the history closed, verified, cancelled or
resolved, assigned to the technicians, engineers and contractors or to nobody; every work order
has its timeline ('created', and a status event per step it took).

One server process serves the real app as ``plantroom serve`` does (``create_app`` under uvicorn,
one worker, the same HTTP and loop implementations), plus, for this benchmark only,
``GET /bench/bare``: an ``async def`` endpoint with no dependencies, no authentication and no
database, returning a constant ``{"status": "ok"}``. That is the bare FastAPI endpoint.

A load process (not sharing the server's GIL) runs 50 clients, each with its own keep-alive
connection and a different technician's bearer token, each sending its next request as soon as
the last answer is in. The clients speak HTTP/1.1 on plain asyncio streams rather than through an
HTTP client library, so that the load process spends far less CPU per request than the server and
the bare side measures the server, not the load generator. Rounds of the bare endpoint and of the
subject, ``GET /api/v1/workorders?assignee=me&open=true``, alternate (ABBA); the figure is the
median over rounds of subject/bare in the same round. Latency is per request, from writing the
request to reading the last byte of the answer; p50 and p99 pool all the subject's rounds.

Before measuring, each technician's list is fetched once and checked against the ids seeded as
their open work orders, so the subject is known to answer the right 20-40 rows. The tokens'
last_used_at is then spread over the past minute, as for tablets in use all day: the app writes it
at most once a minute per token, and without the spread all 50 writes would fall due in the same
second, a minute into the run.

The list answers from the app's response cache while nothing it shows has changed
(core.response_cache, core.changes), so a list nobody touches costs about what the bare
endpoint costs. To measure the list as it is used, not only its cache, the figure is taken at
several write loads (--writes, default 0 and 1 change a second). At a rate above 0, one more
connection PATCHes a random technician's open work order through the API at that rate, during
the bare rounds as much as the subject's, so both sides share the server with the writes. Each
change makes the list of the technician it belongs to stale, which is then rebuilt from the
database. After the rounds every technician's list is compared with the database row by row, so
a stale answer fails the run. For scale: 100,000 work orders over two years is about 140 a day,
a handful of changes each, so 1 change a second is a very busy site and 5 is a stress test.

The table also gives the server process's CPU per request (all its threads) for each side; on a
shared machine that is steadier than the rates, which depend on what else runs.

Run: .venv/bin/python -m bench.workorders_list [--db sqlite|postgresql|both]
PostgreSQL: PLANTROOM_TEST_DATABASE_URL (an admin URL, as for the tests); a fresh database is
created and dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import logging
import multiprocessing as mp
import os
import random
import secrets
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import event, func, insert, select, text, update

from bench._site import free_port
from config.settings import Settings
from config.site import SITES_DIR
from core.auth import service as auth
from core.auth.models import ApiToken, Role
from core.db import Database
from core.response_cache import ResponseCache
from plantroom.app import create_app, prepare_database
from plantroom.site import load_site
from workorders.orders.models import OPEN_STATES, Asset, Status, WorkOrder, WorkOrderEvent

TARGET = 0.4
SUBJECT = "/api/v1/workorders?assignee=me&open=true"
BARE = "/bench/bare"
ADMIN_TOKEN = "bench-admin-" + "x" * 20
PG_ADMIN_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:55432/postgres"
#: The open states a technician's job can be in; 'new' work is not assigned yet.
WORKING = (Status.assigned, Status.acknowledged, Status.in_progress, Status.on_hold)
HISTORY = ((Status.closed, 70), (Status.verified, 15), (Status.cancelled, 8), (Status.resolved, 7))
PRIORITIES = (("P1", 5), ("P2", 20), ("P3", 50), ("P4", 25))
TYPES = (("corrective", 55), ("preventive", 30), ("inspection", 10), ("request", 5))
PROBLEMS = (
    "abnormal vibration",
    "high supply temperature",
    "tripped breaker",
    "water leak at valve",
    "noisy bearing",
    "filter differential pressure high",
    "door sensor fault",
    "meter reading stale",
    "low refrigerant pressure",
    "lighting circuit failure",
)


# --- the database -------------------------------------------------------------------------------


def bench_settings(data_dir: Path, url: str | None) -> Settings:
    """Settings for the benchmark's server: SQLite under data_dir unless a URL is given."""
    return Settings(
        data_dir=data_dir,
        database_url=url,
        admin_token=ADMIN_TOKEN,
        cookie_secure=False,
        _env_file=None,  # type: ignore[call-arg]
    )


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database (as the tests' pg_url makes), dropped afterwards."""
    import psycopg

    admin = os.environ.get("PLANTROOM_TEST_DATABASE_URL", PG_ADMIN_DEFAULT)
    plain = admin.replace("postgresql+psycopg://", "postgresql://")
    name = "plantroom_bench_" + secrets.token_hex(4)
    with psycopg.connect(plain, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = admin.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Seeded:
    """What the seeding made: one token per technician and the ids of their open work orders."""

    tokens: list[str]
    open_ids: list[list[int]]
    workorders: int
    events: int
    seconds: float


def _pick(rng: random.Random, table: tuple[tuple[Any, int], ...]) -> Any:
    return rng.choices([v for v, _ in table], weights=[w for _, w in table])[0]


def _open_positions(rng: random.Random, n: int, count: int) -> list[int]:
    """Distinct positions in 0..n-1 for open work, most of them recent, some old and lingering."""
    chosen: set[int] = set()
    while len(chosen) < min(count, n):
        if rng.random() < 0.8:
            chosen.add(n - 1 - int(rng.random() ** 2 * n * 0.2))
        else:
            chosen.add(rng.randrange(n))
    return list(chosen)


def seed(db: Database, n: int, technicians: int, *, rng_seed: int = 5) -> Seeded:
    """Users, tokens and n work orders with their timelines, by bulk insert."""
    t0 = time.perf_counter()
    rng = random.Random(rng_seed)
    with db.session() as s:
        techs = [
            auth.create_user(s, username=f"tech{i:02d}", password=None, role=Role.technician)
            for i in range(technicians)
        ]
        engineers = [
            auth.create_user(s, username=f"eng{i}", password=None, role=Role.engineer)
            for i in range(5)
        ]
        orgs = [auth.get_or_create_organisation(s, f"Contractor {c}") for c in "ABC"]
        for org in orgs:
            for i in range(2):
                auth.create_user(
                    s,
                    username=f"{org.name.split()[-1].lower()}-crew{i}",
                    password=None,
                    role=Role.contractor,
                    organisation=org,
                )
        tokens = [auth.create_token(s, user=u, name="bench") for u in techs]
        tech_ids = [u.id for u in techs]
        eng_ids = [u.id for u in engineers]
        org_ids = [o.id for o in orgs]
        assets = [(a.id, a.name) for a in s.scalars(select(Asset).order_by(Asset.id))]
        first = (s.scalar(select(func.max(WorkOrder.id))) or 0) + 1

    # Who each open work order belongs to: each technician 20-40 (positions mostly recent);
    # besides them some unassigned new work and some open contractor work.
    per_tech = [rng.randint(20, 40) for _ in tech_ids]
    extra_new = max(1, n // 100)
    extra_contractor = max(1, n // 200)
    positions = _open_positions(rng, n, sum(per_tech) + extra_new + extra_contractor)
    rng.shuffle(positions)
    owner: dict[int, tuple[str, int | None]] = {}
    it = iter(positions)
    for t, k in zip(tech_ids, per_tech, strict=True):
        for _ in range(k):
            owner[next(it)] = ("tech", t)
    for _ in range(extra_new):
        owner[next(it)] = ("new", None)
    for _ in range(extra_contractor):
        owner[next(it)] = ("contractor", rng.choice(org_ids))

    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=730)
    step = dt.timedelta(days=730) / max(n, 1)
    open_ids: dict[int, list[int]] = {t: [] for t in tech_ids}
    wo_rows: list[dict[str, Any]] = []
    ev_rows: list[dict[str, Any]] = []
    for pos in range(n):
        wo_id = first + pos
        created = start + step * pos
        kind, who = owner.get(pos, ("history", None))
        assignee: int | None = None
        contractor: int | None = None
        if kind == "tech":
            status = rng.choice(WORKING)
            assignee = who
            open_ids[assignee or 0].append(wo_id)
        elif kind == "new":
            status = Status.new
        elif kind == "contractor":
            status = rng.choice(WORKING)
            contractor = who
        else:
            status = _pick(rng, HISTORY)
            r = rng.random()
            if r < 0.80:
                assignee = rng.choice(tech_ids)
            elif r < 0.85:
                assignee = rng.choice(eng_ids)
            elif r < 0.95:
                contractor = rng.choice(org_ids)
        wo_rows.append(_workorder_row(rng, wo_id, status, created, assignee, contractor, assets))
        ev_rows += _event_rows(wo_id, status, created)

    with db.engine.begin() as conn:
        for i in range(0, len(wo_rows), 5000):
            conn.execute(insert(WorkOrder), wo_rows[i : i + 5000])
        for i in range(0, len(ev_rows), 10000):
            conn.execute(insert(WorkOrderEvent), ev_rows[i : i + 10000])
        if conn.dialect.name == "postgresql":
            # Ids were given explicitly; move the sequence past them as the app would have.
            conn.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('work_orders', 'id'), "
                    "(SELECT max(id) FROM work_orders))"
                )
            )
    if db.engine.dialect.name == "postgresql":
        # What autovacuum does shortly after a bulk load; done here so the plan is stable.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
    return Seeded(
        tokens=tokens,
        open_ids=[sorted(open_ids[t], reverse=True) for t in tech_ids],
        workorders=n,
        events=len(ev_rows),
        seconds=time.perf_counter() - t0,
    )


def _workorder_row(
    rng: random.Random,
    wo_id: int,
    status: Status,
    created: dt.datetime,
    assignee: int | None,
    contractor: int | None,
    assets: list[tuple[str, str]],
) -> dict[str, Any]:
    """One work_orders row, filled in as the service would have left it."""
    asset_id, asset_name = rng.choice(assets)
    problem = rng.choice(PROBLEMS)
    priority = _pick(rng, PRIORITIES)
    type_ = _pick(rng, TYPES)
    origin = {"preventive": "pm", "request": "request"}.get(
        type_, "alert" if rng.random() < 0.4 else "manual"
    )
    final = status not in OPEN_STATES
    resolved = created + dt.timedelta(hours=rng.uniform(1, 72)) if final else None
    hours = {"P1": 4, "P2": 8, "P3": 24, "P4": 72}[priority]
    policy = None
    if type_ != "preventive":
        policy = {
            "name": f"{priority} standard",
            "priority": priority,
            "contractor_id": contractor,
            "response": f"{hours // 4 or 1}h",
            "resolution": f"{hours}h",
        }
    trigger = None
    if origin == "alert":
        trigger = {
            "point": "temperature",
            "value": round(rng.uniform(20, 90), 1),
            "unit": "degC",
            "ts": created.isoformat(),
            "device": asset_id,
        }
    checklist = None
    if type_ == "preventive":
        checklist = [
            {"item": f"step {i}", "done": final or None, "result": "", "by": None, "at": None}
            for i in range(1, 6)
        ]
    return {
        "id": wo_id,
        "title": f"{asset_name}: {problem}",
        "description": f"Reported on {created:%Y-%m-%d}: {problem} on {asset_name}. "
        "Check on site, make safe, and record parts and hours.",
        "status": str(status),
        "priority": priority,
        "type": type_,
        "origin": origin,
        "asset_id": asset_id,
        "rule_id": f"rule-{problem.split()[0]}" if origin == "alert" else None,
        "contractor_id": contractor,
        "assignee_id": assignee,
        "hold_reason": "parts" if status == Status.on_hold else None,
        "cause_code": "wear" if final else None,
        "resolution_code": "repaired" if final else None,
        "checklist": checklist,
        "sla_policy": policy,
        "response_due_at": created + dt.timedelta(hours=hours / 4) if policy else None,
        "resolution_due_at": created + dt.timedelta(hours=hours) if policy else None,
        "response_met_at": created + dt.timedelta(minutes=30) if final else None,
        "response_breached": False,
        "resolution_breached": bool(final and rng.random() < 0.1),
        "sla_paused_seconds": 0.0,
        "cost_total": round(rng.uniform(0, 2000), 2) if final else 0.0,
        "reporter_contact": None,
        "trigger": trigger,
        "alert_count": 1 if origin == "alert" else 0,
        "dedup_key": None,
        "pm_key": f"pm:bench:{asset_id}:{wo_id}" if origin == "pm" else None,
        "due_at": created + dt.timedelta(days=7) if origin == "pm" else None,
        "created_by": "alerts" if origin == "alert" else "bench",
        "created_at": created,
        "updated_at": resolved or created,
        "acknowledged_at": created + dt.timedelta(minutes=30) if status != Status.new else None,
        "resolved_at": resolved,
        "closed_at": resolved + dt.timedelta(hours=2)
        if resolved and status in (Status.closed, Status.verified)
        else None,
        "version": 1,
    }


def _event_rows(wo_id: int, status: Status, created: dt.datetime) -> list[dict[str, Any]]:
    """The timeline: 'created', then one status event per step to where it is now."""
    path = {
        Status.new: [],
        Status.assigned: ["assigned"],
        Status.acknowledged: ["assigned", "acknowledged"],
        Status.in_progress: ["assigned", "in_progress"],
        Status.on_hold: ["assigned", "in_progress", "on_hold"],
        Status.resolved: ["assigned", "in_progress", "resolved"],
        Status.verified: ["assigned", "in_progress", "resolved", "verified"],
        Status.closed: ["assigned", "in_progress", "resolved", "closed"],
        Status.cancelled: ["cancelled"],
    }[status]
    rows = [
        {
            "workorder_id": wo_id,
            "ts": created,
            "kind": "created",
            "actor": "bench",
            "message": "",
            "data": None,
        }
    ]
    prev = "new"
    for i, step in enumerate(path, 1):
        rows.append(
            {
                "workorder_id": wo_id,
                "ts": created + dt.timedelta(hours=i),
                "kind": "status",
                "actor": "bench",
                "message": "",
                "data": {"from": prev, "to": step},
            }
        )
        prev = step
    return rows


def query_plan(db: Database, user_id: int) -> str:
    """The database's plan for the subject's query, as the repository builds it."""
    from workorders.orders import repository

    seen: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cur: Any, statement: str, params: Any, *_a: Any) -> None:
        seen.append((statement, params))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        with db.session() as s:
            statuses = [str(x) for x in OPEN_STATES]
            repository.list_(s, statuses=statuses, assignee_id=user_id, limit=101)
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    statement, params = next((st, pa) for st, pa in seen if "FROM work_orders" in st)
    prefix = "EXPLAIN QUERY PLAN " if db.engine.dialect.name == "sqlite" else "EXPLAIN "
    with db.engine.connect() as conn:
        rows = conn.exec_driver_sql(prefix + statement, params).all()
    return "; ".join(str(r[-1]).strip() for r in rows)


# --- the server ---------------------------------------------------------------------------------


def add_bare(app: FastAPI) -> None:
    """The baseline: a bare FastAPI endpoint (no dependencies, no auth, no database)."""

    @app.get(BARE, include_in_schema=False)
    async def bare() -> dict[str, str]:
        return {"status": "ok"}


def _serve(url: str | None, data_dir: str, port: int, conn: Connection, cold: bool) -> None:
    """Child process: the app as `plantroom serve` runs it, plus the bare endpoint; with cold,
    a list cache that keeps nothing, so every list is built from the database."""
    import uvicorn

    from plantroom.httpserver import EmbeddedServer, settle_heap

    logging.basicConfig(level=logging.WARNING)
    settings = bench_settings(Path(data_dir), url)
    app = create_app(
        settings,
        site=load_site(SITES_DIR / "demo"),
        db=Database(settings.sqlalchemy_url()),
    )
    add_bare(app)
    if cold:
        app.state.list_cache = ResponseCache(max_entries=0)
    # Access logging off: with it on, both sides pay the same per-request logging cost.
    server = EmbeddedServer(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )

    def stop_when_told() -> None:
        with contextlib.suppress(EOFError):
            conn.recv()
        server.should_exit = True

    threading.Thread(target=stop_when_told, daemon=True).start()
    settle_heap()  # as `plantroom serve` does
    server.run()


class ServerProcess:
    """The app under uvicorn in a child process."""

    def __init__(self, url: str | None, data_dir: Path, *, cold: bool = False):
        ctx = mp.get_context("spawn")
        self.port = free_port()
        self._conn, theirs = ctx.Pipe()
        self._proc = ctx.Process(
            target=_serve, args=(url, str(data_dir), self.port, theirs, cold), daemon=True
        )

    @property
    def pid(self) -> int:
        """The server's process id (for py-spy)."""
        return int(self._proc.pid or 0)

    def __enter__(self) -> ServerProcess:
        self._proc.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if not self._proc.is_alive():
                raise RuntimeError(f"the server exited ({self._proc.exitcode})")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{self.port}{BARE}", timeout=1).status_code == 200:
                    return self
            time.sleep(0.2)
        self.__exit__()
        raise RuntimeError("the server did not start within 60 s")

    def __exit__(self, *_exc: object) -> None:
        with contextlib.suppress(OSError):
            self._conn.send("stop")
        self._proc.join(10)
        if self._proc.is_alive():
            self._proc.terminate()
            self._proc.join(5)


def cpu_seconds(pid: int) -> float:
    """CPU time a process has used (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU jiffies of the whole machine so far, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    total = sum(values[:8])
    return total - idle, total


# --- the load -----------------------------------------------------------------------------------


@dataclass
class Round:
    """One timed round of one side."""

    side: str
    requests: int
    seconds: float
    latencies: list[float]
    errors: int
    first_error: str
    load_cpu: float
    writes: int = 0
    write_errors: int = 0
    server_cpu: float = 0.0
    busy_cores: float = 0.0

    @property
    def rate(self) -> float:
        """Successful requests per second."""
        return (self.requests - self.errors) / self.seconds

    def percentile(self, q: float) -> float:
        """Latency percentile in ms."""
        return percentile(self.latencies, q)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of values in seconds, as ms."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered)) - 1))
    return ordered[k] * 1000


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[bytes, bytes]:
    """Send one request on a keep-alive connection; (status line start, body)."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    i = head.find(b"content-length:")
    if i < 0:
        i = head.lower().find(b"content-length:")
    if i < 0:
        raise RuntimeError(f"no content-length in {head!r}")
    body = await reader.readexactly(int(head[i + 15 : head.find(b"\r\n", i)]))
    return head[:12], body


async def _timed(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    request: bytes,
    out: list[float],
    errors: list[str],
) -> None:
    """One exchange: its latency into out, and anything but a 200 into errors."""
    t = time.perf_counter()
    status, body = await _exchange(reader, writer, request)
    out.append(time.perf_counter() - t)
    if status[9:12] != b"200":
        errors.append((status + b" " + body[:200]).decode(errors="replace"))


async def _client(
    port: int, request: bytes, deadline: float, out: list[float], errors: list[str]
) -> None:
    """One keep-alive connection sending its next request as soon as an answer is in."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    clock = time.perf_counter
    try:
        while clock() < deadline:
            await _timed(reader, writer, request, out, errors)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


@dataclass(frozen=True)
class Writes:
    """Changes made while a round runs: `rate` a second, each a PATCH of one of `ids` (the
    technicians' open work orders) through the API, as an engineer editing them would."""

    rate: float
    token: str
    ids: tuple[int, ...]


async def _writer(
    port: int, writes: Writes, deadline: float, done: list[float], errors: list[str]
) -> None:
    """Make writes.rate changes a second until deadline, evenly spaced."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    rng = random.Random()
    clock = time.perf_counter
    due = clock()
    try:
        while True:
            due += 1 / writes.rate
            if due >= deadline:
                break
            await asyncio.sleep(max(0.0, due - clock()))
            body = json.dumps({"description": f"bench edit {secrets.token_hex(4)}"}).encode()
            request = (
                f"PATCH /api/v1/workorders/{rng.choice(writes.ids)} HTTP/1.1\r\n"
                f"Host: 127.0.0.1:{port}\r\nAuthorization: Bearer {writes.token}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            ).encode() + body
            await _timed(reader, writer, request, done, errors)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def _round(
    port: int, side: str, path: str, tokens: list[str], seconds: float, writes: Writes | None
) -> Round:
    requests = [
        (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: Bearer {tok}\r\nAccept: application/json\r\n\r\n"
        ).encode()
        for tok in tokens
    ]
    latencies: list[float] = []
    errors: list[str] = []
    changes: list[float] = []
    write_errors: list[str] = []
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    jobs = [_client(port, r, t0 + seconds, latencies, errors) for r in requests]
    if writes is not None:
        jobs.append(_writer(port, writes, t0 + seconds, changes, write_errors))
    await asyncio.gather(*jobs)
    elapsed = time.perf_counter() - t0
    return Round(
        side=side,
        requests=len(latencies),
        seconds=elapsed,
        latencies=latencies,
        errors=len(errors),
        first_error=(errors + write_errors)[0] if errors or write_errors else "",
        load_cpu=time.process_time() - cpu0,
        writes=len(changes),
        write_errors=len(write_errors),
    )


def _load(port: int, conn: Connection) -> None:
    """Child process: run the rounds it is sent, (side, path, tokens, seconds, writes); None
    stops."""
    while (order := conn.recv()) is not None:
        conn.send(asyncio.run(_round(port, *order)))


class LoadProcess:
    """The clients, in a child process of their own."""

    def __init__(self, port: int):
        ctx = mp.get_context("spawn")
        self._conn, theirs = ctx.Pipe()
        self._proc = ctx.Process(target=_load, args=(port, theirs), daemon=True)

    def __enter__(self) -> LoadProcess:
        self._proc.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        with contextlib.suppress(OSError):
            self._conn.send(None)
        self._proc.join(10)
        if self._proc.is_alive():
            self._proc.terminate()

    def run(
        self,
        server_pid: int,
        side: str,
        path: str,
        tokens: list[str],
        seconds: float,
        writes: Writes | None,
    ) -> Round:
        """One round; with the server's CPU and the machine's busy cores meanwhile."""
        s0, (b0, t0) = cpu_seconds(server_pid), machine_busy()
        self._conn.send((side, path, tokens, seconds, writes))
        result: Round = self._conn.recv()
        s1, (b1, t1) = cpu_seconds(server_pid), machine_busy()
        result.server_cpu = s1 - s0
        result.busy_cores = (b1 - b0) / max(t1 - t0, 1) * (os.cpu_count() or 1)
        return result


# --- the run ------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """One database's figures."""

    db: str
    #: Changes a second made during every round (0: the lists stay cached throughout).
    writes: float = 0.0
    #: Every list built from the database (no answers kept).
    cold: bool = False
    rounds: list[tuple[Round, Round]] = field(default_factory=list)

    @property
    def label(self) -> str:
        """The database and the write load."""
        return f"{self.db}, {self.writes:g} change/s" + (", cold" if self.cold else "")

    @property
    def ratios(self) -> list[float]:
        """Subject over bare, per round."""
        return [s.rate / b.rate for b, s in self.rounds]

    @property
    def ratio(self) -> float:
        """The figure: the median of the per-round ratios."""
        return statistics.median(self.ratios)

    @property
    def subject_latencies(self) -> list[float]:
        """Every subject request's latency, all rounds."""
        return [x for _, s in self.rounds for x in s.latencies]


def check_answers(port: int, seeded: Seeded) -> None:
    """Each technician's list is exactly the open work orders seeded for them."""
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as c:
        for tok, want in zip(seeded.tokens, seeded.open_ids, strict=True):
            r = c.get(SUBJECT, headers={"Authorization": f"Bearer {tok}"})
            r.raise_for_status()
            got = [item["id"] for item in r.json()["items"]]
            if got != want[:100]:
                raise RuntimeError(f"the list answered {len(got)} ids, expected {len(want)}")


def check_current(port: int, url: str, seeded: Seeded) -> int:
    """Each technician's list shows every work order as the database has it now (after the
    rounds' edits): the kept answers were not stale. Returns how many rows were compared."""
    db = Database(url)
    compared = 0
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as c:
            for tok, ids in zip(seeded.tokens, seeded.open_ids, strict=True):
                r = c.get(SUBJECT, headers={"Authorization": f"Bearer {tok}"})
                r.raise_for_status()
                shown = {item["id"]: item["description"] for item in r.json()["items"]}
                with db.session() as s:
                    found = s.execute(
                        select(WorkOrder.id, WorkOrder.description).where(
                            WorkOrder.id.in_(ids[:100])
                        )
                    )
                    stored = {wo_id: text for wo_id, text in found}
                if shown != stored:
                    stale = sorted(k for k in stored if shown.get(k) != stored[k])
                    raise RuntimeError(f"stale list answer: work orders {stale[:5]}")
                compared += len(shown)
    finally:
        db.dispose()
    return compared


def stagger_last_used(url: str, tokens: list[str]) -> None:
    """Spread the tokens' last use over the past minute, as tablets in use all day would have
    it, so that their once-a-minute last_used_at refresh comes about evenly (0.8 a second for
    50) instead of for all of them in the same second, which the check just before would cause."""
    db = Database(url)
    try:
        now = dt.datetime.now(dt.UTC)
        with db.session() as s:
            for i, tok in enumerate(tokens):
                s.execute(
                    update(ApiToken)
                    .where(ApiToken.token_hash == auth.token_hash(tok))
                    .values(last_used_at=now - dt.timedelta(seconds=60 * i / len(tokens)))
                )
    finally:
        db.dispose()


def measure(name: str, url: str | None, data_dir: Path, args: argparse.Namespace) -> list[Outcome]:
    """Seed, serve, check, and alternate the two sides at each write load; print the tables."""
    settings = bench_settings(data_dir, url)
    db = prepare_database(settings, load_site(SITES_DIR / "demo"))
    try:
        seeded = seed(db, args.workorders, args.clients)
        with db.session() as s:
            tech0 = auth.check_token(s, seeded.tokens[0], None).principal.user_id or 0
        plan = query_plan(db, tech0)
    finally:
        db.dispose()
    counts = [len(ids) for ids in seeded.open_ids]
    print(
        f"{name}: {seeded.workorders:,} work orders, {seeded.events:,} timeline events, "
        f"{len(counts)} technicians with {min(counts)}-{max(counts)} open each "
        f"({sum(counts):,} in all); seeded in {seeded.seconds:.1f} s"
    )
    print(f"{name}: plan: {plan}")
    outcomes: list[Outcome] = []
    tokens = seeded.tokens
    every_open = tuple(i for ids in seeded.open_ids for i in ids)
    with (
        ServerProcess(url, data_dir, cold=args.cold) as server,
        LoadProcess(server.port) as load,
    ):
        print(f"{name}: server pid {server.pid} on port {server.port}", flush=True)
        check_answers(server.port, seeded)
        stagger_last_used(settings.sqlalchemy_url(), tokens)
        for rate in args.writes:
            out = Outcome(name, rate, args.cold)
            writes = Writes(rate, ADMIN_TOKEN, every_open) if rate > 0 else None
            for side, path in (("bare", BARE), ("subject", SUBJECT)):
                load.run(server.pid, side, path, tokens, args.warmup, writes)
            for r in range(args.rounds):
                sides = [("bare", BARE), ("subject", SUBJECT)]
                if r % 2:
                    sides.reverse()
                got = {
                    side: load.run(server.pid, side, path, tokens, args.seconds, writes)
                    for side, path in sides
                }
                out.rounds.append((got["bare"], got["subject"]))
            _print_table(out)
            outcomes.append(out)
        rows = check_current(server.port, settings.sqlalchemy_url(), seeded)
        print(f"{name}: after the edits every list matched the database ({rows:,} rows)\n")
    return outcomes


def _print_table(out: Outcome) -> None:
    header = (
        f"{'round':>5} {'side':>7} | {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'srv us/req':>10} {'load us/req':>11} {'busy cores':>10} {'errors':>6} "
        f"{'changes':>7} | {'ratio':>5}"
    )
    print(f"{out.label}:")
    print(header)
    print("-" * len(header))
    for i, (b, s) in enumerate(out.rounds, 1):
        for rd in (b, s):
            ratio = f"{s.rate / b.rate:>5.2f}" if rd is s else ""
            print(
                f"{i:>5} {rd.side:>7} | {rd.rate:>7.0f} {rd.percentile(50):>7.1f} "
                f"{rd.percentile(99):>7.1f} {rd.server_cpu / rd.requests * 1e6:>10.0f} "
                f"{rd.load_cpu / rd.requests * 1e6:>11.0f} {rd.busy_cores:>10.2f} "
                f"{rd.errors + rd.write_errors:>6} {rd.writes:>7} | {ratio:>5}"
            )
    for b, s in out.rounds:
        for rd in (b, s):
            if rd.first_error:
                print(f"  {rd.side} error: {rd.first_error}")
    lat = out.subject_latencies
    bare = statistics.median(b.rate for b, _ in out.rounds)
    subject = statistics.median(s.rate for _, s in out.rounds)
    print(
        f"{out.label}: subject {subject:.0f} req/s vs bare {bare:.0f} req/s (medians); ratio "
        f"{out.ratio:.2f} (median of {', '.join(f'{r:.2f}' for r in out.ratios)}); subject "
        f"p50 {percentile(lat, 50):.1f} ms, p99 {percentile(lat, 99):.1f} ms "
        f"over {len(lat):,} requests"
    )
    cpu_bare = statistics.median(b.server_cpu / b.requests for b, _ in out.rounds) * 1e6
    cpu_subject = statistics.median(s.server_cpu / s.requests for _, s in out.rounds) * 1e6
    print(
        f"{out.label}: server CPU per request (medians): subject {cpu_subject:.0f} us, bare "
        f"{cpu_bare:.0f} us ({cpu_subject / cpu_bare:.1f}x)"
    )
    print(flush=True)


def main(argv: list[str] | None = None) -> None:
    """Print each database's table, then the figure."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    p.add_argument("--workorders", type=int, default=100_000)
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument(
        "--writes",
        type=lambda v: [float(x) for x in v.split(",")],
        default=[0.0, 1.0],
        help="changes a second made during the rounds, one measurement per rate (default 0,1)",
    )
    p.add_argument(
        "--cold",
        action="store_true",
        help="keep no list answers: every request builds its list from the database",
    )
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    names = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    outcomes: list[Outcome] = []
    for name in names:
        with tempfile.TemporaryDirectory(prefix="plantroom-bench-") as tmp:
            if name == "sqlite":
                outcomes += measure(name, None, Path(tmp), args)
            else:
                with postgres_database() as url:
                    outcomes += measure(name, url, Path(tmp), args)
    figures = "; ".join(
        f"{o.label} ratio {o.ratio:.2f} (p99 {percentile(o.subject_latencies, 99):.0f} ms)"
        for o in outcomes
    )
    print(f"my open work orders: {figures} (target >= {TARGET:g})")


if __name__ == "__main__":
    main()
