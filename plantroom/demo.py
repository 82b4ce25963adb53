"""`plantroom demo`: the simulated building, its collectors, alerts, work orders, the API and the
tablet UI in one process, on the embedded default (SQLite and the embedded store, no servers)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import signal
import socket
import sys
import time
from dataclasses import dataclass
from typing import TextIO
from zoneinfo import ZoneInfo

import uvicorn
from sqlalchemy import select
from sqlalchemy.orm import Session

from analytics.jobs import backfill_snapshots
from analytics.rollup import write_rollup
from analytics.store_usage import StoreUsage
from collectors.simulator.history import (
    Progress,
    ProgressBar,
    stored_counters,
    stored_registers,
    write_history,
)
from collectors.simulator.server import Simulator
from collectors.sinks.embedded import FILE_NAME, EmbeddedStore
from collectors.sinks.readers import configured_reader
from config.settings import Settings
from config.site import RtuLink, SiteConfig
from core.auth import service as auth
from core.auth.models import Role, User
from core.db import Database
from plantroom.app import create_app, prepare_database
from plantroom.httpserver import EmbeddedServer, settle_heap
from plantroom.invoices import simulated_invoices
from plantroom.maintenance_history import write_demo_history
from plantroom.runtime import Monitoring
from plantroom.scheduler import WorkOrderServices
from plantroom.site import Site, load_site
from workorders.orders import repository as wo_repository
from workorders.orders import service as workorders
from workorders.orders.models import Priority, WorkOrder
from workorders.sla import service as sla_service

log = logging.getLogger("plantroom.demo")

#: Days of simulated past the demo writes on its first start: a year before the demo's
#: retrofit (2026-06-01) and the months since, so baselines and savings have data.
HISTORY_DAYS = 560
#: One reading an hour: enough for daily and hourly energy, a few seconds per month of past.
HISTORY_STEP = 3600.0

#: The demo contractor's organisation when the site names no contractor of its own.
DEMO_CONTRACTOR = "Evergreen Property Services"
#: Demo accounts: username, password, role, display name, contractor organisation.
DEMO_USERS = [
    ("admin", "admin-demo", Role.admin, "Zhang Min", None),
    ("engineer", "engineer-demo", Role.engineer, "Chen Jie", None),
    ("tech", "tech-demo", Role.technician, "Li Wei", None),
    ("contractor", "contractor-demo", Role.contractor, "Wang Fang", DEMO_CONTRACTOR),
]
#: The contractor's first job, so that its login has something to see and do.
CONTRACTOR_JOB = "Lift B1: landing door on floor 3 reopens before closing"


@dataclass
class Login:
    """A demo account's credentials."""

    username: str
    password: str
    role: str
    token: str


def ensure_demo_users(db: Database, site: SiteConfig, *, first_job: bool = True) -> list[Login]:
    """Create the demo users when missing and issue each a fresh API token. The contractor
    works for the site's first contractor and, with first_job, is given a repair to do when
    its firm has no work yet (statutory maintenance comes from the site's PM schedule)."""
    contractors = site.doc.contractors
    firm = contractors[0].name if contractors else DEMO_CONTRACTOR
    logins = []
    with db.session() as s:
        for username, password, role, name, org_name in DEMO_USERS:
            user = s.scalars(select(User).where(User.username == username)).first()
            if user is None:
                org_name = firm if org_name == DEMO_CONTRACTOR else org_name
                org = auth.get_or_create_organisation(s, org_name) if org_name else None
                user = auth.create_user(
                    s,
                    username=username,
                    password=password,
                    role=role,
                    display_name=name,
                    organisation=org,
                )
            token = auth.create_token(s, user=user, name="demo", scopes=auth.scopes_for_role(role))
            logins.append(Login(username, password, role, token))
            if first_job and role is Role.contractor and user.organisation_id is not None:
                _give_a_job(s, site, user.organisation_id)
    return logins


def _give_a_job(s: Session, site: SiteConfig, org_id: int) -> None:
    """The contractor's first job, unless it has work already."""
    if s.scalars(select(WorkOrder.id).where(WorkOrder.contractor_id == org_id)).first():
        return
    policy = sla_service.choose_policy(
        site, priority=Priority.P3, contractor_id=org_id, type_="corrective", session=s
    )
    asset = "lift-b1" if wo_repository.get_asset(s, "lift-b1") else None
    workorders.create(
        s,
        title=CONTRACTOR_JOB,
        description="Reported by the B-building reception: the door closes, hesitates and opens "
        "again, two or three times before the car leaves. Check the light curtain and the door "
        "operator.",
        type_="corrective",
        priority=Priority.P3,
        actor="demo",
        role="admin",
        asset_id=asset,
        contractor_id=org_id,
        sla_policy=policy,
    )


def _free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _any_free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def pick_sim_ports(site: SiteConfig, offset: int) -> dict[int, int]:
    """Configured port (+offset) for each simulated endpoint, or a free one when that is taken."""
    mapping: dict[int, int] = {}
    for ref in site.devices():
        link = ref.device.link
        if isinstance(link, RtuLink) or link.port in mapping:
            continue
        want = link.port + offset
        mapping[link.port] = want if _free(link.host, want) else _any_free_port(link.host)
    return mapping


def _banner(url: str, logins: list[Login], sim: Simulator, settings: Settings) -> str:
    lines = [
        "",
        "Plantroom demo is running.",
        f"  Tablet UI   {url}/ui/",
        f"  Energy      {url}/ui/energy   (as engineer: filing figures, remainders, baselines)",
        f"  API         {url}/api/v1/workorders   (OpenAPI: {url}/openapi.json)",
        f"  Data        {settings.data_dir.resolve()}",
        "",
        "  Logins (UI: username / password; API: Authorization: Bearer <token>)",
    ]
    for lg in logins:
        lines.append(f"    {lg.role:<11} {lg.username:<11} / {lg.password:<16} token {lg.token}")
    if settings.admin_token:
        lines.append("    PLANTROOM_ADMIN_TOKEN is set and is accepted as an admin token.")
    lines += ["", "  Simulated devices (Modbus):"]
    lines += ["    " + line for line in sim.describe()]
    lines += [
        "",
        "  Scripted faults: pump 1 bearing wear from 10 s (a work order opens within about a",
        "  minute), lift B1 door faults, a leak on the water main, and b-special-meter going",
        "  silent from 90 s to 210 s (its readings become 'unavailable', never 0).",
        "  Stop with Ctrl-C.",
        "",
    ]
    return "\n".join(lines)


def without_faults(site: Site) -> Site:
    """The site with no scripted faults: they are the live demo's story, not its past."""
    simulation = site.doc.simulation.model_copy(update={"faults": []})
    doc = site.doc.model_copy(update={"simulation": simulation})
    return SiteConfig(path=site.path, doc=doc, profiles=site.profiles, located=site.located)


def backfill_history(
    settings: Settings,
    site: Site,
    db: Database,
    *,
    days: int = HISTORY_DAYS,
    now: float | None = None,
    out: TextIO = sys.stderr,
) -> dict[str, dict[str, float]]:
    """Give the demo its past: the simulated site's readings, hourly, from `days` ago (or from
    the newest stored reading, on a later start) to now, into the embedded store, without the
    scripted faults; the gas and diesel invoices of the months and quarters that ended; and
    the energy_daily rollups of the days it wrote. Each part shows its progress. Returns the
    devices' counters as stored, for the live simulator to carry on from (a meter keeps its
    registers; a counter that went back would read as a reset)."""
    now = time.time() if now is None else now
    store = EmbeddedStore(settings.data_dir / FILE_NAME)
    try:
        counters, last = stored_registers(site, store)
        tz = ZoneInfo(site.doc.site.timezone)
        if last is None:
            if days <= 0:
                return {}
            today = dt.datetime.fromtimestamp(now, tz).date()
            first = dt.datetime.combine(today - dt.timedelta(days=days), dt.time(), tz)
            start = first.timestamp()
        else:
            start = last + HISTORY_STEP
        if now - start >= HISTORY_STEP:
            begin = dt.datetime.fromtimestamp(start, tz)
            end = dt.datetime.fromtimestamp(now, tz)
            print(
                f"Writing the demo's past, {begin:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M}, "
                f"one reading an hour, into {store.path} (first start only)",
                file=out,
                flush=True,
            )
            bar = ProgressBar(out)
            try:
                write_history(
                    without_faults(site),
                    start,
                    now,
                    [store],
                    step=HISTORY_STEP,
                    progress=bar,
                    counters=counters,
                )
            finally:
                bar.close()
            billed = simulated_invoices(settings, site, begin, end)
            if billed:
                print(billed, file=out, flush=True)
            yesterday = end.date() - dt.timedelta(days=1)
            if begin.date() <= yesterday:
                print("Rolling up energy_daily", file=out, flush=True)
                reader = configured_reader(settings)
                bar = ProgressBar(out)
                t0 = time.monotonic()
                try:
                    write_rollup(
                        site,
                        StoreUsage(site, reader, db),
                        [store],
                        first=begin.date(),
                        last=yesterday,
                        progress=lambda done, n, rows: bar(
                            Progress(done / n, rows, time.monotonic() - t0)
                        ),
                    )
                finally:
                    bar.close()
                    reader.close()
            counters = stored_counters(site, store)  # where the written past left them
        return counters
    finally:
        store.close()


async def run_demo(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    sim_port_offset: int = 0,
    history_days: int = HISTORY_DAYS,
) -> None:
    """Run the whole demo until SIGINT or SIGTERM (or until the task is cancelled)."""
    started = time.monotonic()
    site = load_site(settings.site)
    db = prepare_database(settings, site)
    logins = ensure_demo_users(db, site)
    counters = await asyncio.to_thread(backfill_history, settings, site, db, days=history_days)
    if history_days > 0:  # years of work orders for the ageing analytics; later: only the gap
        await asyncio.to_thread(write_demo_history, db, site)
        # The dashboards' month-by-month evidence: every month of that history (later starts:
        # only months not stored yet; the daily job keeps last month and this one).
        await asyncio.to_thread(
            backfill_snapshots, db, site, now=dt.datetime.now(dt.UTC), missing_only=True
        )
    port_map = pick_sim_ports(site, sim_port_offset)
    sim = Simulator(site, port_map=port_map, counters=counters)
    await sim.start()
    # The work-order services below run this process's outbox dispatcher.
    monitoring = Monitoring(settings, site, db, port_map=port_map, deliver=False)
    await monitoring.start()
    app = create_app(settings, site=site, db=db)
    services = WorkOrderServices(db, site, public_url=f"http://{host}:{port}", settings=settings)
    services.start()
    app.state.metrics = monitoring.metrics_text
    server = EmbeddedServer(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=5,
            proxy_headers=False,  # core.clientaddr decides whom to believe
        )
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    settle_heap()
    serve = asyncio.create_task(server.serve(), name="http")
    try:
        while not server.started:
            if serve.done():
                await serve  # raises the bind error, e.g. port in use
                raise RuntimeError(f"the web server on {host}:{port} did not start")
            await asyncio.sleep(0.05)
        print(_banner(f"http://{host}:{port}", logins, sim, settings), flush=True)
        log.info("demo ready in %.1f s", time.monotonic() - started)
        waiter = asyncio.create_task(stop.wait())
        await asyncio.wait({waiter, serve}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
    finally:
        print("Stopping: web server, collectors, simulator...", flush=True)
        server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(serve, 10)
        await monitoring.stop()
        await asyncio.to_thread(services.stop)
        await sim.stop()
        db.dispose()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
        print("Stopped cleanly.", flush=True)
