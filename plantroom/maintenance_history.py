"""The demo's maintenance past: years of corrective and preventive work orders, with labor and
parts, for the demo site's plant, so the ageing analytics, KPIs and reports have evidence.

Failures follow a power-law NHPP (Crow-AMSAA) per asset from HISTORY_START: the deteriorating
ones (lift A1, lift B1, pump 1) with beta > 1, the steady ones (pump 2, the fire and jockey
pumps, the water main, the A main meter) with beta = 1. Each asset's sequence comes from
its own seeded generator and does not depend on `now`: a later run only adds what happened
since, and running twice stores nothing twice (corrective ones are keyed by asset and opening
time under the actor ``history``, preventive ones by their unique ``pm_key``).

Work orders go through workorders.orders.service (create, change_status with `at` and `now` set
to the historic time, so timelines, SLA clocks and the audit carry the past) and the site's
default assignment. Costs cannot: workorders.orders.costs stamps lines with the server's clock
and refuses a worked_at more than MAX_OFFLINE old, so labor and part lines are written here, at
the root, with their historic times, and the total kept through the orders repository.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from collectors.simulator.history import Progress, ProgressBar
from config.site import SiteConfig
from core.db import Database
from workorders.assets import repository as assets_repo
from workorders.orders import repository as orders_repo
from workorders.orders import service as orders
from workorders.orders.defaults import apply_asset_default
from workorders.orders.models import LaborEntry, Origin, PartLine, Priority, Status, WorkOrder
from workorders.pm.service import pm_key
from workorders.sla import service as sla_service

#: Where the demo's records begin.
HISTORY_START = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
#: Who the generated work orders name as their author.
ACTOR = "history"
ROLE = "admin"
#: Days from HISTORY_START at which each profile's expected failure count is `expected`.
REFERENCE_DAYS = 7 * 365.25
DAY = 86400.0


@dataclass(frozen=True)
class Part:
    """A part a repair may use: name, part number, unit cost (CNY)."""

    name: str
    number: str
    cost: float


@dataclass(frozen=True)
class Profile:
    """How an asset fails and is looked after."""

    asset_id: str
    #: Crow-AMSAA shape: > 1 deteriorating, 1 steady (a homogeneous Poisson process).
    beta: float
    #: Expected failures over REFERENCE_DAYS.
    expected: float
    faults: tuple[tuple[str, str], ...]  # (title, cause code)
    parts: tuple[Part, ...]
    repair_hours: tuple[float, float]
    rate: float
    priority: Priority
    #: Preventive service every this many months (0: none), with its labor hours.
    pm_months: int = 0
    pm_hours: float = 2.0
    pm_title: str = "Routine service"
    seed: str = ""
    crew: tuple[str, ...] = field(default=("Li Wei",))


LIFT_PARTS = (
    Part("Door operator belt", "LFT-DB-02", 820.0),
    Part("Light curtain", "LFT-LC-11", 3200.0),
    Part("Landing door roller set", "LFT-DR-04", 460.0),
    Part("Brake lining kit", "LFT-BK-07", 2400.0),
    Part("Control board relay", "LFT-CB-15", 1350.0),
)
LIFT_FAULTS = (
    ("Landing door reopens before closing", "CONTROL"),
    ("Passenger trapped, car stopped between floors", "ELECTRICAL"),
    ("Car stops out of level at landing", "WEAR"),
    ("Door operator noisy, slow to close", "WEAR"),
    ("Lift out of service after safety circuit trip", "ELECTRICAL"),
)
PUMP_PARTS = (
    Part("Bearing set", "PMP-BRG-6308", 650.0),
    Part("Mechanical seal", "PMP-MS-45", 900.0),
    Part("Flexible coupling insert", "PMP-CPL-9", 380.0),
    Part("Contactor", "ELC-CT-32A", 420.0),
)
PUMP_FAULTS = (
    ("Pump noisy, bearing running hot", "BEARING"),
    ("Seal leaking at the pump shaft", "BEARING"),
    ("Pump tripped on overcurrent", "ELECTRICAL"),
    ("Vibration high on the pump coupling", "WEAR"),
)
JOCKEY_PARTS = (
    Part("Mechanical seal, small", "PMP-MS-20", 280.0),
    Part("Pressure switch", "PMP-PS-10", 190.0),
)
METER_PARTS = (
    Part("Meter register module", "MTR-REG-1", 560.0),
    Part("Gasket set", "GSK-50", 60.0),
)
METER_FAULTS = (
    ("Meter reading stuck", "CONTROL"),
    ("Leak at the meter flange", "LEAK"),
)

PROFILES: tuple[Profile, ...] = (
    Profile(
        "lift-a1",
        2.4,
        46,
        LIFT_FAULTS,
        LIFT_PARTS,
        (2, 8),
        150.0,
        Priority.P2,
        pm_months=1,
        pm_hours=3.0,
        pm_title="Lift monthly service",
        crew=("Zhao Lei", "Sun Hao"),
    ),
    Profile(
        "lift-b1",
        2.0,
        32,
        LIFT_FAULTS,
        LIFT_PARTS,
        (2, 6),
        150.0,
        Priority.P2,
        pm_months=1,
        pm_hours=3.0,
        pm_title="Lift monthly service",
        crew=("Zhao Lei", "Sun Hao"),
    ),
    Profile(
        "pump-1",
        2.6,
        36,
        PUMP_FAULTS,
        PUMP_PARTS,
        (3, 9),
        120.0,
        Priority.P2,
        pm_months=3,
        pm_hours=2.5,
        pm_title="Pump quarterly service",
    ),
    Profile(
        "pump-2",
        1.0,
        14,
        PUMP_FAULTS,
        PUMP_PARTS,
        (3, 8),
        120.0,
        Priority.P3,
        pm_months=3,
        pm_hours=2.5,
        pm_title="Pump quarterly service",
    ),
    Profile(
        "fire-pump-1",
        1.0,
        12,
        PUMP_FAULTS,
        PUMP_PARTS,
        (3, 8),
        120.0,
        Priority.P2,
        pm_months=1,
        pm_hours=1.0,
        pm_title="Fire pump monthly run test",
    ),
    Profile(
        "jockey-pump",
        1.0,
        8,
        PUMP_FAULTS,
        JOCKEY_PARTS,
        (1, 3),
        120.0,
        Priority.P3,
        pm_months=3,
        pm_hours=1.0,
        pm_title="Jockey pump quarterly check",
    ),
    Profile(
        "water-main",
        1.0,
        9,
        METER_FAULTS,
        METER_PARTS,
        (1, 4),
        120.0,
        Priority.P3,
        pm_months=12,
        pm_hours=1.5,
        pm_title="Water meter yearly check",
    ),
    # Too few failures for a trend (fewer than 3): its health shows no growth model.
    Profile(
        "a-main", 1.0, 4, METER_FAULTS, METER_PARTS, (1, 3), 120.0, Priority.P3, seed="a-main-0"
    ),
)


def failure_times(p: Profile, *, until: dt.datetime) -> list[dt.datetime]:
    """The asset's failure openings from HISTORY_START up to `until`: a power-law NHPP with
    N(t) = (t/eta)^beta, drawn by inverting the cumulative intensity of unit-rate arrivals
    (the same sequence whatever `until`; times to the minute)."""
    rng = random.Random(f"failures:{p.seed or p.asset_id}")
    eta = REFERENCE_DAYS / p.expected ** (1 / p.beta)
    out: list[dt.datetime] = []
    s = 0.0
    while True:
        s += rng.expovariate(1.0)
        days = eta * s ** (1 / p.beta)
        at = HISTORY_START + dt.timedelta(days=days)
        at = at.replace(second=0, microsecond=0)
        if at >= until:
            return out
        out.append(at)


def pm_dues(p: Profile, tz: ZoneInfo, *, until: dt.datetime) -> list[dt.datetime]:
    """The asset's preventive service dates (09:00 site time on the 10th of every
    pm_months-th month) from HISTORY_START whose work would have opened before `until`."""
    if p.pm_months <= 0:
        return []
    out: list[dt.datetime] = []
    month = 0
    while True:
        y, m = divmod(month, 12)
        due = dt.datetime(HISTORY_START.year + y, m + 1, 10, 9, tzinfo=tz).astimezone(dt.UTC)
        if due - dt.timedelta(days=7) >= until:
            return out
        out.append(due)
        month += p.pm_months


class WorkOrderBar(ProgressBar):
    """The history's progress bar, counting work orders."""

    @staticmethod
    def line(p: Progress) -> str:
        """'42.0%  123 work orders  ETA 5s'."""
        return ProgressBar.line(p).replace("readings", "work orders")


@dataclass
class Written:
    """What a run stored."""

    corrective: int = 0
    preventive: int = 0
    skipped: int = 0


def _advance(
    s: Session,
    wo: WorkOrder,
    steps: list[tuple[str, dt.datetime]],
    now: dt.datetime,
    *,
    resolution_code: str | None = None,
    cause_code: str | None = None,
) -> None:
    """Walk wo through its status steps that happened before `now`, each at its own time (the
    codes go with the resolve)."""
    for target, at in steps:
        if at > now:
            return
        resolving = target == Status.resolved
        orders.change_status(
            s,
            wo=wo,
            target=target,
            actor=ACTOR,
            role=ROLE,
            at=at,
            now=at,
            resolution_code=resolution_code if resolving else None,
            cause_code=cause_code if resolving else None,
        )


def _book(
    s: Session,
    wo: WorkOrder,
    *,
    labor: list[tuple[str, float, float, dt.datetime]],
    parts: list[tuple[Part, int]],
    at: dt.datetime,
) -> None:
    """Labor and part lines with their historic times; the total through the repository."""
    amount = 0.0
    for worker, hours, rate, worked_at in labor:
        s.add(
            LaborEntry(
                workorder_id=wo.id,
                worker=worker,
                hours=hours,
                rate=rate,
                worked_at=worked_at,
                created_by=ACTOR,
                created_at=worked_at,
            )
        )
        amount += hours * rate
    for part, qty in parts:
        s.add(
            PartLine(
                workorder_id=wo.id,
                part=part.name,
                part_number=part.number,
                quantity=qty,
                unit_cost=part.cost,
                created_by=ACTOR,
                created_at=at,
            )
        )
        amount += qty * part.cost
    s.flush()
    orders_repo.add_to_cost_total(s, wo.id, round(amount, 2), at)
    s.refresh(wo)


def _corrective(
    s: Session, site: SiteConfig, p: Profile, at: dt.datetime, now: dt.datetime, index: int
) -> None:
    rng = random.Random(f"repair:{p.asset_id}:{index}")
    title, cause = p.faults[rng.randrange(len(p.faults))]
    policy = sla_service.choose_policy(
        site, priority=p.priority, contractor_id=None, type_="corrective", session=s
    )
    wo = orders.create(
        s,
        title=title,
        description="From the maintenance log (demo history).",
        priority=p.priority,
        asset_id=p.asset_id,
        origin=Origin.manual,
        type_="corrective",
        sla_policy=policy,
        actor=ACTOR,
        role=ROLE,
        at=at,
        now=at,
    )
    apply_asset_default(s, wo, site=site, actor=ACTOR, at=at)
    s.flush()
    ack = at + dt.timedelta(minutes=rng.uniform(10, 50))
    start = ack + dt.timedelta(minutes=rng.uniform(10, 60))
    hours = round(rng.uniform(*p.repair_hours), 1)
    resolved = start + dt.timedelta(hours=hours)
    closed = resolved + dt.timedelta(hours=rng.uniform(2, 30))
    _advance(s, wo, [(Status.acknowledged, ack), (Status.in_progress, start)], now)
    if resolved > now:
        return
    used = [(p.parts[rng.randrange(len(p.parts))], 1)] if rng.random() < 0.8 else []
    labor = [(w, hours, p.rate, start) for w in p.crew]
    _book(s, wo, labor=labor, parts=used, at=resolved)
    code = "REPLACED" if used else "ADJUSTED"
    _advance(
        s,
        wo,
        [(Status.resolved, resolved), (Status.closed, closed)],
        now,
        resolution_code=code,
        cause_code=cause,
    )


def _preventive(
    s: Session, site: SiteConfig, p: Profile, due: dt.datetime, now: dt.datetime, key: str
) -> None:
    rng = random.Random(f"pm:{key}")
    opened = due - dt.timedelta(days=7)
    wo = orders.create(
        s,
        title=f"{p.pm_title}, due {due:%Y-%m-%d}",
        description="Preventive service from the maintenance log (demo history).",
        priority=Priority.P4,
        asset_id=p.asset_id,
        origin=Origin.pm,
        type_="preventive",
        actor=ACTOR,
        role=ROLE,
        at=opened,
        now=opened,
    )
    wo.pm_key = key
    wo.due_at = due
    apply_asset_default(s, wo, site=site, actor=ACTOR, at=opened)
    wo.sla_policy = None  # preventive work follows its schedule, not an SLA
    s.flush()
    # Most are done on the due day or just before; about one in ten a few days late.
    late = rng.random() < 0.1
    start = due + dt.timedelta(days=rng.randint(1, 6) if late else -rng.randint(0, 3))
    done = start + dt.timedelta(hours=p.pm_hours)
    _advance(s, wo, [(Status.in_progress, start)], now)
    if done > now:
        return
    labor = [(w, p.pm_hours, p.rate, start) for w in p.crew]
    _book(s, wo, labor=labor, parts=[], at=done)
    _advance(s, wo, [(Status.resolved, done), (Status.closed, done + dt.timedelta(hours=4))], now)


def _known(s: Session, asset_id: str) -> tuple[set[dt.datetime], set[str]]:
    """Opening times of the history's corrective work orders on the asset, and every pm_key."""
    rows = assets_repo.asset_workorders(
        s, asset_id, contractor_id=None, after_id=None, limit=1_000_000, created_by=ACTOR
    )
    opened = {wo.created_at.astimezone(dt.UTC) for wo in rows if wo.type == "corrective"}
    keys = {wo.pm_key for wo in rows if wo.pm_key}
    return opened, keys


def generate(
    db: Database,
    site: SiteConfig,
    *,
    now: dt.datetime | None = None,
    progress: Callable[[float, int], None] | None = None,
    profiles: tuple[Profile, ...] = PROFILES,
) -> Written:
    """Write the maintenance history from HISTORY_START to `now` for the site's assets that
    have a profile (one unit of work per asset); what is there already is skipped."""
    now = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    tz = ZoneInfo(site.doc.site.timezone)
    result = Written()
    with db.session() as s:
        present = [p for p in profiles if orders_repo.get_asset(s, p.asset_id) is not None]
    plans = [(p, failure_times(p, until=now), pm_dues(p, tz, until=now)) for p in present]
    total = sum(len(f) + len(d) for _, f, d in plans) or 1
    done = 0
    for p, failures, dues in plans:
        with db.session() as s:
            opened, keys = _known(s, p.asset_id)
            for i, at in enumerate(failures):
                if at in opened:
                    result.skipped += 1
                else:
                    _corrective(s, site, p, at, now, i)
                    result.corrective += 1
                done += 1
                if progress is not None and done % 20 == 0:
                    progress(done / total, result.corrective + result.preventive)
            for due in dues:
                key = pm_key(f"history-{p.pm_months}m", p.asset_id, due)
                if key in keys:
                    result.skipped += 1
                else:
                    _preventive(s, site, p, due, now, key)
                    result.preventive += 1
                done += 1
                if progress is not None and done % 20 == 0:
                    progress(done / total, result.corrective + result.preventive)
    if progress is not None:
        progress(1.0, result.corrective + result.preventive)
    return result


def write_demo_history(
    db: Database,
    site: SiteConfig,
    *,
    now: dt.datetime | None = None,
    out: TextIO | None = None,
) -> Written:
    """generate() with a progress bar on `out` (default stderr): the demo's start, the command."""
    out = sys.stderr if out is None else out
    print(
        f"Writing the demo's maintenance history since {HISTORY_START:%Y-%m-%d} "
        "(work orders, labor and parts; what is there already is kept)",
        file=out,
        flush=True,
    )
    bar = WorkOrderBar(out)
    t0 = time.monotonic()
    try:
        written = generate(
            db,
            site,
            now=now,
            progress=lambda f, n: bar(Progress(f, n, time.monotonic() - t0)),
        )
    finally:
        bar.close()
    print(
        f"Maintenance history: {written.corrective} corrective and {written.preventive} "
        f"preventive work orders written, {written.skipped} already there "
        f"({time.monotonic() - t0:.1f} s)",
        file=out,
        flush=True,
    )
    return written


def cmd_demo_history_maintenance(args: argparse.Namespace) -> int:
    """Write (or complete) the demo's maintenance history into the configured database."""
    from plantroom.app import prepare_database
    from plantroom.cli import _settings
    from plantroom.demo import ensure_demo_users
    from plantroom.site import load_site

    settings = _settings(args)
    site = load_site(settings.site)
    db = prepare_database(settings, site)
    try:
        ensure_demo_users(db, site, first_job=False)  # the default assignees must exist
        write_demo_history(db, site)
    finally:
        db.dispose()
    return 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`plantroom demo-history maintenance [--data-dir DIR] [--site PATH]`."""
    h = sub.add_parser("demo-history", help="write the demo's past into the database")
    h_sub = h.add_subparsers(dest="what", required=True)
    m = h_sub.add_parser(
        "maintenance",
        help="years of corrective and preventive work orders for the demo site's plant "
        "(idempotent: a second run stores nothing twice)",
    )
    m.add_argument("--data-dir", default=None, help="default: ./data")
    m.add_argument("--site", default=None)
    m.set_defaults(func=cmd_demo_history_maintenance)
