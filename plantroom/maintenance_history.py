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

SLA realism: not every job is on time. Each corrective job's lateness is drawn from its own
seeded generator (``sla:<asset>:<n>``, apart from the one that draws its fault, labor and parts,
so costs, failure times and the ageing verdicts do not move): the chance of a late response
or resolution grows with the priority's urgency (P1 > P2 > P3), with the team's workload (the
same team's failures in the 14 days before) and with a seeded strain of the month (the
Spring Festival month worst), and is a little lower for the in-house crew than for the lift
contractor. A late response is an acknowledgement after the response due time; a late
resolution a start left too late to finish by the resolution due time (waiting for a part
without putting the job on hold); some jobs that need a part wait for it on hold instead
(hours, or days to weeks when it comes from the manufacturer), which pauses the clocks. The
clocks and breach flags are the SLA service's own, recomputed at every status change (and once
more at `now` for the jobs still open). P1 work (a lift out of service) is resolved when the
lift is back in safe service, the emergency target; the rest of its repair is booked on it
before it is closed. Corrective ones raised by an alert are keyed like the others, under the
engine's actor ``alerts``.

Alerts: the failures a rule of the site watches for (FAULT_RULES: a lift out of service, door
faults, pump over-current, a leak seen as night flow) are raised as the alert engine raises
them, through workorders.intake.open_from_alert (origin alert, the rule's id, the priority
of its severity, the engine's title and trigger), and their alert row is stored with them,
fired at the opening and resolved when the signal came back (just before the resolve, or at
`now` for a job still open then: the history leaves no alert firing; live ones come from the
running demo). The other failures are reported by people (origin manual). The alert engine
writes its rows from live readings only and has no function for a past alert, so the rows are
written here, with the fields the engine sets when an alert resolves.

Disputes: the lift contractor disputes some of its breaches a few days after the month ends,
through workorders.contractors.service (raise_dispute, which checks against the month's
scorecard that it is a breach judged in that month, and decide_dispute), with historic times;
the admin accepts those whose reason was outside the firm's control and rejects the others
(DISPUTES), and the newest is left open. Accepting one keeps that month's figures as reported
(scorecard_reports), as the contractor domain does.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import logging
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from alerts.models import Alert
from alerts.rules.base import SEVERITY_PRIORITY
from collectors.simulator.history import Progress, ProgressBar
from config.site import SiteConfig
from core.auth import repository as auth_repo
from core.auth.models import Organisation, Role
from core.auth.service import Principal
from core.db import Database
from workorders import intake
from workorders.assets import repository as assets_repo
from workorders.contractors import repository as disputes_repo
from workorders.contractors import service as contractors
from workorders.orders import repository as orders_repo
from workorders.orders import service as orders
from workorders.orders.defaults import apply_asset_default, choose
from workorders.orders.models import (
    OPEN_STATES,
    HoldReason,
    LaborEntry,
    Origin,
    PartLine,
    Priority,
    Status,
    WorkOrder,
)
from workorders.pm.service import pm_key
from workorders.sla import service as sla_service

log = logging.getLogger(__name__)

#: Where the demo's records begin.
HISTORY_START = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
#: Who the generated work orders name as their author (alert work orders: the engine's "alerts").
ACTOR = "history"
ALERTS_ACTOR = "alerts"
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


#: Failures a rule of the site watches for, by fault title: raised by the alert (when the rule
#: exists, is enabled, selects the asset and the asset has its point), the others by people.
FAULT_RULES: dict[str, str] = {
    "Passenger trapped, car stopped between floors": "lift-out-of-service",
    "Lift out of service after safety circuit trip": "lift-out-of-service",
    "Landing door reopens before closing": "lift-door-faults",
    "Pump tripped on overcurrent": "pump-overcurrent",
    # Bearing wear shows first as motor current (the simulator's bearing_wear fault).
    "Pump noisy, bearing running hot": "pump-overcurrent",
    "Leak at the meter flange": "water-night-flow",
}
#: Chance, in an ordinary month with no other job in hand, that a job's response / resolution
#: is late, by priority: the more urgent the target, the more often it is missed.
LATE_RESPONSE = {"P1": 0.04, "P2": 0.03, "P3": 0.015, "P4": 0.0}
LATE_RESOLUTION = {"P1": 0.035, "P2": 0.03, "P3": 0.02, "P4": 0.01}
#: Each failure of the same team in the LOAD_WINDOW before adds this share to the chances.
LOAD_STEP = 0.25
LOAD_WINDOW = dt.timedelta(days=14)
#: The in-house crew is nearer and knows the plant: a little less often late.
IN_HOUSE = 0.8
#: The Spring Festival months (crews away): this much more often late.
FESTIVAL_MONTHS = {1: 1.3, 2: 1.6}
#: Chance that a job using a part that is not finished at once waits for it on hold, and
#: that the part comes from the manufacturer (days to weeks, not hours).
HOLD_FOR_PARTS = 0.12
FROM_THE_MAKER = 0.3
#: Chance that the lift contractor disputes one of its breaches (it is paid on its score).
DISPUTE_SHARE = 0.5
#: What the contractor says, and whether the admin accepts it with what note: a delay outside
#: the firm's control is excused; one of its own making is not.
DISPUTES: dict[str, tuple[tuple[str, bool, str], ...]] = {
    "response": (
        (
            "The compound's gate was shut for an event and the guard held our van.",
            True,
            "Accepted: the gate log confirms it.",
        ),
        (
            "Our crew was on site in time; the tablet synced its arrival late.",
            False,
            "Rejected: the clock counts the time the tablet recorded, not when it synced.",
        ),
    ),
    "resolution": (
        (
            "The machine room was locked and the property office had no key until the morning.",
            True,
            "Accepted: the property office's key log confirms it.",
        ),
        (
            "A grid outage stopped the lift; nothing could be done until the supply came back.",
            True,
            "Accepted: the supply was off in the building at the time.",
        ),
        (
            "The part had to come from the manufacturer.",
            False,
            "Rejected: no hold for parts was asked for at the time; the clock ran as recorded.",
        ),
    ),
}


@dataclass(frozen=True)
class Team:
    """Who does an asset's corrective work (the site's default assignment)."""

    key: str
    contractor: str | None = None


def team_of(site: SiteConfig, asset_id: str) -> Team:
    """The team the site's ``assignment:`` gives the asset's work to ('unassigned': none)."""
    ref = site.asset(asset_id)
    found = choose(
        site.doc.assignment, building_id=ref.building.id, asset_class=ref.asset.brick_class
    )
    if found is None:
        return Team("unassigned")
    entry = found[1]
    if entry.contractor:
        return Team(f"contractor:{entry.contractor}", entry.contractor)
    return Team(f"user:{entry.user}")


def month_strain(team: Team, local: dt.datetime) -> float:
    """How stretched the team was in that (site-local) month: seeded, about 1 on average."""
    rng = random.Random(f"strain:{team.key}:{local:%Y-%m}")
    strain = min(max(rng.lognormvariate(0.0, 0.45), 0.3), 2.5)
    return strain * FESTIVAL_MONTHS.get(local.month, 1.0)


def late_chances(
    priority: str, team: Team, at: dt.datetime, load: int, tz: ZoneInfo
) -> tuple[float, float]:
    """The chances that a job opened at `at` is responded to late and resolved late."""
    k = month_strain(team, at.astimezone(tz)) * (1.0 + LOAD_STEP * load)
    if team.contractor is None:
        k *= IN_HOUSE
    return min(LATE_RESPONSE.get(priority, 0.0) * k, 0.6), min(
        LATE_RESOLUTION.get(priority, 0.0) * k, 0.6
    )


def rule_for(site: SiteConfig, asset_id: str, title: str) -> Any | None:
    """The site's rule that would have raised this failure of the asset, or None."""
    rule_id = FAULT_RULES.get(title)
    ref = site.asset(asset_id)
    for rule in site.doc.rules:
        if rule.id != rule_id or not rule.enabled:
            continue
        if not rule.select.matches(
            asset_id, ref.asset.brick_class, ref.asset.tags, ref.building.id
        ):
            return None
        return rule if _point_of(site, asset_id, rule.point) is not None else None
    return None


def _point_of(site: SiteConfig, asset_id: str, point: str) -> tuple[str, str] | None:
    """(device id, unit) of the asset's device that reads the point."""
    for d in site.asset(asset_id).asset.devices:
        profile = site.profiles.get(d.profile)
        for pt in profile.points if profile is not None else []:
            if pt.name == point:
                return d.id, pt.unit
    return None


def _values(rule: Any, rng: random.Random) -> tuple[float | None, float | None]:
    """What the rule saw when it fired, and when the signal came back: plausible values."""
    above, below = getattr(rule, "above", None), getattr(rule, "below", None)
    if rule.type == "counter_increase":
        return float(rule.increase + rng.randint(0, 4)), 0.0
    if above is not None:
        back = getattr(rule, "clear", None) or above
        return round(above + rng.uniform(0.3, 6.0), 1), round(back * rng.uniform(0.3, 0.9), 1)
    if below is not None:
        if below <= 1:  # a flag (in service): 0 when it fires, 1 once back
            return 0.0, 1.0
        return round(below - rng.uniform(1.0, 12.0), 1), round(below * rng.uniform(1.04, 1.1), 1)
    return None, None


@dataclass
class _Timing:
    """When a corrective job's steps happened, and when its alert's signal came back."""

    steps: list[tuple[str, dt.datetime, str | None]]
    resolved: dt.datetime
    closed: dt.datetime
    clear: dt.datetime


def _timing(
    wo: WorkOrder,
    *,
    at: dt.datetime,
    ack_min: float,
    start_min: float,
    hours: float,
    close_h: float,
    uses_parts: bool,
    chances: tuple[float, float],
    rng: random.Random,
) -> _Timing:
    """The job's status steps: on time by default, late as its chances draw, on hold for a
    part now and then (see the module docstring)."""
    emergency = wo.priority == Priority.P1
    late_response = rng.random() < chances[0]
    late_resolution = rng.random() < chances[1]
    ack = at + dt.timedelta(minutes=ack_min / 2 if emergency else ack_min)
    if late_response and wo.response_due_at is not None:
        ack = max(ack, wo.response_due_at + dt.timedelta(minutes=rng.uniform(5, 120)))
    start = ack + dt.timedelta(minutes=start_min)
    # An emergency is resolved once the lift is back in safe service; the repair goes on.
    work = min(hours, round(rng.uniform(1.0, 2.2), 1)) if emergency else hours
    hold: tuple[dt.datetime, float] | None = None
    if late_resolution and wo.resolution_due_at is not None:
        over = dt.timedelta(hours=rng.uniform(0.5, 10.0))
        start = max(start, wo.resolution_due_at + over - dt.timedelta(hours=work))
    elif uses_parts and not emergency and rng.random() < HOLD_FOR_PARTS:
        wait_h = 24 * rng.uniform(3, 14) if rng.random() < FROM_THE_MAKER else rng.uniform(6, 60)
        hold = (start + dt.timedelta(hours=work * rng.uniform(0.2, 0.4)), wait_h)
    steps: list[tuple[str, dt.datetime, str | None]] = [
        (Status.acknowledged, ack, None),
        (Status.in_progress, start, None),
    ]
    resolved = start + dt.timedelta(hours=work)
    if hold is not None:
        held, wait_h = hold
        back = held + dt.timedelta(hours=wait_h)
        steps += [(Status.on_hold, held, HoldReason.parts), (Status.in_progress, back, None)]
        resolved += dt.timedelta(hours=wait_h)
    closed = max(
        resolved + dt.timedelta(hours=close_h),
        start + dt.timedelta(hours=hours + 0.5),
    )
    clear = max(resolved - dt.timedelta(minutes=rng.uniform(2, 15)), start)
    return _Timing(steps, resolved, closed, clear)


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


@dataclass
class Written:
    """What a run stored."""

    corrective: int = 0
    preventive: int = 0
    skipped: int = 0
    #: Alert rows stored with the corrective work orders their rules raised.
    alerts: int = 0
    #: SLA disputes the contractor raised, and decisions on them, in this run.
    disputes: int = 0
    decided: int = 0


def _advance(
    s: Session,
    wo: WorkOrder,
    steps: list[tuple[str, dt.datetime, str | None]],
    now: dt.datetime,
    *,
    resolution_code: str | None = None,
    cause_code: str | None = None,
) -> None:
    """Walk wo through its status steps (target, time, hold reason) that happened before
    `now`, each at its own time (the codes go with the resolve)."""
    for target, at, reason in steps:
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
            reason=reason,
            note="waiting for the part to arrive" if reason else "",
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


@dataclass(frozen=True)
class _Failure:
    """One failure to write: its asset's profile, opening time, index, and chances of lateness."""

    p: Profile
    at: dt.datetime
    index: int
    chances: tuple[float, float]


def _open_by_alert(
    s: Session, site: SiteConfig, f: _Failure, rule: Any, fault: str, rng: random.Random
) -> tuple[WorkOrder, Alert] | None:
    """Open the failure's work order as the alert engine does, with its alert row (state
    resolved; its times are set by the caller); None when a work order of the rule is still
    open on the asset (the engine would count a re-fire: the crew reports this one)."""
    if orders_repo.open_for(s, f.p.asset_id, rule.id) is not None:
        return None
    device, unit = _point_of(site, f.p.asset_id, rule.point) or ("", "")
    value, back = _values(rule, rng)
    priority = SEVERITY_PRIORITY[rule.severity]
    policy = sla_service.choose_policy(
        site, priority=priority, contractor_id=None, type_="corrective", session=s
    )
    detail = rule.words(unit).get("en", "")
    trigger = {
        "point": rule.point,
        "value": value,
        "unit": unit,
        "device": device,
        "ts": f.at.isoformat(),
        "rule": rule.describe(),
        "detail": detail,
        "verify_for": rule.verify_for,
        "proof_window": rule.proof_window,
    }
    wo, _ = intake.open_from_alert(
        s,
        asset_id=f.p.asset_id,
        rule_id=rule.id,
        title=f"{rule.name}: {site.asset(f.p.asset_id).asset.name}",
        priority=priority,
        trigger=trigger,
        at=f.at,
        sla_policy=policy,
        site=site,
    )
    found = f"Found on site: {fault.lower()} (demo history)."
    wo.description = f"{wo.description}\n{found}" if wo.description else found
    alert = Alert(
        rule_id=rule.id,
        asset_id=f.p.asset_id,
        state="resolved",
        active_key=None,
        severity=str(rule.severity),
        point=rule.point,
        device=device,
        unit=unit,
        started_at=f.at - dt.timedelta(seconds=rule.for_),
        fired_at=f.at,
        trigger_value=value,
        last_value=back,
        fire_count=1,
        workorder_id=wo.id,
        detail=detail,
    )
    return wo, alert


#: Failures this close to `now` are written as reported by people, not raised by an alert.
RECENT = dt.timedelta(days=7)


def _corrective(s: Session, site: SiteConfig, f: _Failure, now: dt.datetime) -> bool:
    """Write one failure's work order (and its alert, if a rule raised it); whether an alert."""
    p, at = f.p, f.at
    rng = random.Random(f"repair:{p.asset_id}:{f.index}")
    title, cause = p.faults[rng.randrange(len(p.faults))]
    ack_min = rng.uniform(10, 50)
    start_min = rng.uniform(10, 60)
    hours = round(rng.uniform(*p.repair_hours), 1)
    close_h = rng.uniform(2, 30)
    # The same draw the parts take below, read ahead: a job that needs a part may wait for it.
    ahead = random.Random()
    ahead.setstate(rng.getstate())
    uses_parts = ahead.random() < 0.8
    srng = random.Random(f"sla:{p.asset_id}:{f.index}")
    rule = rule_for(site, p.asset_id, title)
    if at > now - RECENT:
        # A job raised by an alert and still under way at `now` would take in the running
        # demo's first alert on that asset (one work order per problem): the last days'
        # failures are the ones people reported.
        rule = None
    raised = _open_by_alert(s, site, f, rule, title, srng) if rule is not None else None
    alert: Alert | None = None
    if raised is not None:
        wo, alert = raised
    else:
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
    t = _timing(
        wo,
        at=at,
        ack_min=ack_min,
        start_min=start_min,
        hours=hours,
        close_h=close_h,
        uses_parts=uses_parts,
        chances=f.chances,
        rng=srng,
    )
    if alert is not None:
        alert.resolved_at = max(min(t.clear, now), at)
        alert.last_ts = alert.resolved_at
        s.add(alert)
        s.flush()
        intake.note_alert_cleared(
            s, wo_id=wo.id, rule_id=alert.rule_id, value=alert.last_value, at=alert.resolved_at
        )
    _advance(s, wo, t.steps, now)
    if t.resolved > now:
        # Still open: its clocks as of now (a target it has missed by now is a breach).
        sla_service.refresh(s, wo, now=now)
        return alert is not None
    used = [(p.parts[rng.randrange(len(p.parts))], 1)] if rng.random() < 0.8 else []
    labor = [(w, hours, p.rate, t.steps[1][1]) for w in p.crew]
    _book(s, wo, labor=labor, parts=used, at=t.resolved)
    code = "REPLACED" if used else "ADJUSTED"
    _advance(
        s,
        wo,
        [(Status.resolved, t.resolved, None), (Status.closed, t.closed, None)],
        now,
        resolution_code=code,
        cause_code=cause,
    )
    if wo.status in OPEN_STATES:
        sla_service.refresh(s, wo, now=now)
    return alert is not None


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
    _advance(s, wo, [(Status.in_progress, start, None)], now)
    if done > now:
        return
    labor = [(w, p.pm_hours, p.rate, start) for w in p.crew]
    _book(s, wo, labor=labor, parts=[], at=done)
    _advance(
        s,
        wo,
        [(Status.resolved, done, None), (Status.closed, done + dt.timedelta(hours=4), None)],
        now,
    )


def _known(s: Session, asset_id: str) -> tuple[set[dt.datetime], set[str]]:
    """Opening times of the history's corrective work orders on the asset (its own and those
    its alerts raised), and every pm_key."""
    rows = [
        wo
        for actor in (ACTOR, ALERTS_ACTOR)
        for wo in assets_repo.asset_workorders(
            s, asset_id, contractor_id=None, after_id=None, limit=1_000_000, created_by=actor
        )
    ]
    opened = {wo.created_at.astimezone(dt.UTC) for wo in rows if wo.type == "corrective"}
    keys = {wo.pm_key for wo in rows if wo.pm_key}
    return opened, keys


def _failures(
    site: SiteConfig, plans: list[tuple[Profile, list[dt.datetime]]], tz: ZoneInfo
) -> dict[str, list[_Failure]]:
    """Every failure by asset, with its chances of lateness (which depend on what else its
    team had in hand, across assets)."""
    teams = {p.asset_id: team_of(site, p.asset_id) for p, _ in plans}
    by_team: dict[str, list[dt.datetime]] = {}
    for p, times in plans:
        by_team.setdefault(teams[p.asset_id].key, []).extend(times)
    for times in by_team.values():
        times.sort()
    out: dict[str, list[_Failure]] = {}
    for p, times in plans:
        team = teams[p.asset_id]
        others = by_team[team.key]
        rows = []
        for i, at in enumerate(times):
            load = bisect.bisect_left(others, at) - bisect.bisect_left(others, at - LOAD_WINDOW)
            rule = rule_for(site, p.asset_id, _fault_title(p, i))
            priority = SEVERITY_PRIORITY[rule.severity] if rule is not None else p.priority
            rows.append(_Failure(p, at, i, late_chances(priority, team, at, load, tz)))
        out[p.asset_id] = rows
    return out


def _fault_title(p: Profile, index: int) -> str:
    """The fault of the asset's index-th failure (the first draw of its repair generator)."""
    rng = random.Random(f"repair:{p.asset_id}:{index}")
    return p.faults[rng.randrange(len(p.faults))][0]


def generate(
    db: Database,
    site: SiteConfig,
    *,
    now: dt.datetime | None = None,
    progress: Callable[[float, int], None] | None = None,
    profiles: tuple[Profile, ...] = PROFILES,
) -> Written:
    """Write the maintenance history from HISTORY_START to `now` for the site's assets that
    have a profile (one unit of work per asset), then the lift contractor's disputes of its
    breaches; what is there already is skipped."""
    now = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    tz = ZoneInfo(site.doc.site.timezone)
    result = Written()
    with db.session() as s:
        present = [p for p in profiles if orders_repo.get_asset(s, p.asset_id) is not None]
    plans = [(p, failure_times(p, until=now), pm_dues(p, tz, until=now)) for p in present]
    failures = _failures(site, [(p, f) for p, f, _ in plans], tz)
    total = sum(len(f) + len(d) for _, f, d in plans) or 1
    done = 0
    for p, _, dues in plans:
        with db.session() as s:
            opened, keys = _known(s, p.asset_id)
            for f in failures[p.asset_id]:
                if f.at in opened:
                    result.skipped += 1
                else:
                    result.alerts += _corrective(s, site, f, now)
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
    for c in site.doc.contractors:
        raised, decided = _disputes(db, site, c.name, [p.asset_id for p in present], now)
        result.disputes += raised
        result.decided += decided
    if progress is not None:
        progress(1.0, result.corrective + result.preventive)
    return result


@dataclass(frozen=True)
class _Dispute:
    """A dispute the contractor raises of one breached clock, and how it ends."""

    wo_id: int
    clock: str
    month: str
    raised_at: dt.datetime
    decide_at: dt.datetime
    accept: bool
    reason: str
    note: str


def _planned_disputes(
    s: Session, site: SiteConfig, org: Organisation, assets: list[str], now: dt.datetime
) -> list[_Dispute]:
    """The disputes the firm raises by now of the breaches of its work on these assets, oldest
    first: each breach with a seeded chance, a few days after its month (site-local) ends."""
    tz = ZoneInfo(site.doc.site.timezone)
    out = []
    for asset_id in assets:
        rows = assets_repo.asset_workorders(
            s, asset_id, contractor_id=org.id, after_id=None, limit=1_000_000
        )
        for wo in rows:
            for clock, breached, due in (
                ("response", wo.response_breached, wo.response_due_at),
                ("resolution", wo.resolution_breached, wo.resolution_due_at),
            ):
                if not breached or due is None:
                    continue
                rng = random.Random(f"dispute:{asset_id}:{wo.created_at:%Y%m%dT%H%M}:{clock}")
                if rng.random() >= DISPUTE_SHARE:
                    continue
                local = due.astimezone(tz)
                first = dt.datetime(local.year, local.month, 1, tzinfo=tz)
                month_end = (first + dt.timedelta(days=32)).replace(day=1)
                raised_at = (month_end + dt.timedelta(days=rng.uniform(1, 6))).astimezone(dt.UTC)
                if raised_at > now:
                    continue
                choices = DISPUTES[clock]
                reason, accept, note = choices[rng.randrange(len(choices))]
                out.append(
                    _Dispute(
                        wo_id=wo.id,
                        clock=clock,
                        month=f"{local:%Y-%m}",
                        raised_at=raised_at,
                        decide_at=raised_at + dt.timedelta(days=rng.uniform(2, 10)),
                        accept=accept,
                        reason=reason,
                        note=note,
                    )
                )
    return sorted(out, key=lambda d: (d.raised_at, d.wo_id, d.clock))


def _disputes(
    db: Database, site: SiteConfig, firm: str, assets: list[str], now: dt.datetime
) -> tuple[int, int]:
    """The firm's disputes of its breaches (raised and decided through the contractor domain at
    their historic times; the newest left open): how many raised and decided in this run."""
    raised = decided = 0
    with db.session() as s:
        org = auth_repo.organisation_by_name(s, firm)
        people = (
            auth_repo.list_users(s, role=Role.contractor, active=True, organisation_id=org.id)
            if org is not None
            else []
        )
        if org is None or not people:
            return 0, 0  # nobody of the firm to raise them
        admins = auth_repo.list_users(s, role=Role.admin, active=True, limit=1)
        firm_user = Principal(
            username=people[0].username,
            role=Role.contractor,
            user_id=people[0].id,
            organisation_id=org.id,
        )
        admin = Principal(username=admins[0].username if admins else ACTOR, role=Role.admin)
        planned = _planned_disputes(s, site, org, assets, now)
        for i, d in enumerate(planned):
            row = disputes_repo.dispute_of(s, org.id, d.month, d.wo_id, d.clock)
            if row is None:
                try:
                    row = contractors.raise_dispute(
                        s,
                        site=site,
                        who=firm_user,
                        contractor=org,
                        month=d.month,
                        workorder_id=d.wo_id,
                        clock=d.clock,
                        reason=d.reason,
                        now=d.raised_at,
                    )
                except contractors.NotABreach:
                    log.info("history: %s breach of %s not judged in %s", d.clock, d.wo_id, d.month)
                    continue
                raised += 1
            newest = i == len(planned) - 1
            if row.status == "open" and not newest and d.decide_at <= now:
                contractors.decide_dispute(
                    s,
                    site=site,
                    who=admin,
                    contractor=org,
                    dispute_id=row.id,
                    accept=d.accept,
                    note=d.note,
                    now=d.decide_at,
                )
                decided += 1
    return raised, decided


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
        "(work orders, labor and parts, alerts, SLA disputes; what is there already is kept)",
        file=out,
        flush=True,
    )
    bar = ProgressBar(out, unit="work orders")
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
        f"preventive work orders written, {written.skipped} already there; {written.alerts} "
        f"alerts, {written.disputes} SLA disputes raised and {written.decided} decided "
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
