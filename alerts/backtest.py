"""Backtests: stored history replayed through the alert engine, to see what rules would have done.

The engine works on the readings' own timestamps, so a backtest is the live engine fed a past
period chunk by chunk (``process`` per time window, then ``tick`` at the window's end, so that
time-driven rules see gaps in the data). It writes its alerts and work orders where it always
does, into a database: here a throwaway one in a temporary folder, deleted afterwards, which
the caller's `Workspace` makes (the root's is a migrated SQLite file:
plantroom.wiring.BacktestWorkspace). The real database is never opened, whatever
PLANTROOM_DATABASE_URL says.

Rules are replayed whether enabled or not (a rule is tuned before it is switched on); silences
are not replayed, and nobody works the work orders, so a rule that fires again adds to the
work order it opened (its alert count) instead of opening another.
"""

from __future__ import annotations

import datetime as dt
import math
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from pydantic import TypeAdapter, ValidationError
from sqlalchemy.orm import Session

from alerts import repository
from alerts.config import Alerting, AlertsSite
from alerts.engine import AlertEngine
from alerts.events import AlertEvent
from alerts.intake import WorkOrderIntake
from alerts.rules import RuleConfig, StaleRule
from collectors.readings import Reading
from collectors.simulator.history import Progress
from config.yamlloc import ConfigError, load_located, pydantic_problems
from core.db import Database

#: Seconds of history per engine batch: one query of the store, one progress report.
CHUNK = 3600.0
#: More rows than any backtest stores, for the repositories' list queries.
ALL_ROWS = 1_000_000_000

_RULES = TypeAdapter(list[RuleConfig])


class Workspace(Protocol):
    """Where a backtest writes: a throwaway database, the work orders' intake over it, and a
    way to read back the work orders it opened."""

    @property
    def intake(self) -> WorkOrderIntake:
        """Where the replayed alerts raise their work orders."""
        ...

    def database(self, folder: Path) -> Database:
        """A throwaway database in folder, ready for the engine (migrated, holding the site's
        assets)."""
        ...

    def work_orders(self, session: Session) -> list[WouldBeWorkOrder]:
        """The work orders stored so far, oldest first."""
        ...


class History(Protocol):
    """Where stored readings come from (the embedded store)."""

    def iter_range(
        self,
        start: float,
        end: float,
        *,
        assets: set[str] | None = None,
        points: set[str] | None = None,
        chunk: float = CHUNK,
    ) -> Iterator[list[Reading]]:
        """One time-ordered list of readings per window of ``chunk`` seconds."""
        ...


@dataclass
class RuleOutcome:
    """What one rule would have done over the period."""

    id: str
    type: str
    severity: str
    condition: str
    enabled: bool
    #: Assets of the site the rule applies to (0: its select or point matches nothing).
    assets: int
    fired: int = 0
    resolved: int = 0
    firing_at_end: int = 0
    nodata: int = 0
    error: int = 0
    #: Fired while a source alert inhibited it: recorded, no work order.
    inhibited: int = 0
    work_orders: int = 0
    #: The last reason the rule could not be evaluated, if it ever failed.
    last_error: str = ""


@dataclass(frozen=True)
class WouldBeWorkOrder:
    """A work order the rules would have opened."""

    id: int
    title: str
    asset_id: str | None
    rule_id: str | None
    priority: str
    type: str
    opened_at: dt.datetime
    #: Alerts counted against it: the first firing and every re-fire while it stayed open.
    alert_count: int


@dataclass(frozen=True)
class WouldBeAlert:
    """An alert the rules would have raised (including pending ones that never fired)."""

    id: int
    rule_id: str
    asset_id: str
    state: str
    started_at: dt.datetime
    fired_at: dt.datetime | None
    resolved_at: dt.datetime | None
    trigger_value: float | None
    unit: str
    workorder_id: int | None
    inhibited_by: str | None
    detail: str


@dataclass
class BacktestResult:
    """Per-rule outcomes, the work orders and alerts, and how much history was replayed."""

    site: str
    timezone: str
    start: float
    end: float
    rules: dict[str, RuleOutcome]
    work_orders: list[WouldBeWorkOrder] = field(default_factory=list)
    alerts: list[WouldBeAlert] = field(default_factory=list)
    readings: int = 0
    #: Things the engineer should know before trusting the figures.
    warnings: list[str] = field(default_factory=list)
    #: Wall-clock seconds of the replay itself, and of everything (with the throwaway database).
    replay_seconds: float = 0.0
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        """Readings replayed per wall-clock second of the replay."""
        return self.readings / self.replay_seconds if self.replay_seconds > 0 else 0.0

    def local(self, when: float | dt.datetime) -> str:
        """A time as 'YYYY-MM-DD HH:MM' on the site's clock."""
        tz = ZoneInfo(self.timezone)
        if isinstance(when, dt.datetime):
            return when.astimezone(tz).strftime("%Y-%m-%d %H:%M")
        return dt.datetime.fromtimestamp(when, tz).strftime("%Y-%m-%d %H:%M")

    def report(self) -> str:
        """The result as text: a row per rule, then the work orders, in the site's local time."""
        lines = [
            f"Backtest of {self.site}, {self.local(self.start)} to {self.local(self.end)} "
            f"({self.timezone})",
            f"{self.readings:,} readings replayed in {self.replay_seconds:.1f} s "
            f"({self.rate:,.0f} readings/s; {self.seconds:.1f} s in all)",
            "",
        ]
        head = (
            "rule",
            "type",
            "severity",
            "assets",
            "fired",
            "resolved",
            "firing at end",
            "nodata",
            "error",
            "inhibited",
            "work orders",
            "condition",
        )
        rows = [
            (
                r.id + ("" if r.enabled else " (disabled)"),
                r.type,
                r.severity,
                *(
                    str(n)
                    for n in (
                        r.assets,
                        r.fired,
                        r.resolved,
                        r.firing_at_end,
                        r.nodata,
                        r.error,
                        r.inhibited,
                        r.work_orders,
                    )
                ),
                r.condition,
            )
            for r in self.rules.values()
        ]
        widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head))]

        def fmt(row: tuple[str, ...]) -> str:
            cells = [
                cell.ljust(w) if i in (0, 1, 2, len(head) - 1) else cell.rjust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            ]
            return "  ".join(cells).rstrip()

        lines += [fmt(head), *(fmt(row) for row in rows)]
        for r in self.rules.values():
            if r.last_error:
                lines.append(f"  {r.id} could not be evaluated: {r.last_error}")
        lines.append("")
        if not self.work_orders:
            lines.append("No work order would have been opened.")
        else:
            lines.append(f"Work orders that would have been opened ({len(self.work_orders)}):")
            for wo in self.work_orders:
                alerts = f"{wo.alert_count} alert{'' if wo.alert_count == 1 else 's'}"
                lines.append(
                    f"  #{wo.id:<4} {self.local(wo.opened_at)}  {wo.asset_id or '-'}  "
                    f"{wo.rule_id or '-'}  {wo.priority} {wo.type}  {alerts}  {wo.title}"
                )
        if self.warnings:
            lines.append("")
            lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def as_json(self) -> dict[str, Any]:
        """JSON-ready form: times as ISO 8601 with the site's offset."""
        tz = ZoneInfo(self.timezone)

        def iso(when: float | dt.datetime | None) -> str | None:
            if when is None:
                return None
            if isinstance(when, dt.datetime):
                return when.astimezone(tz).isoformat()
            return dt.datetime.fromtimestamp(when, tz).isoformat()

        return {
            "site": self.site,
            "timezone": self.timezone,
            "from": iso(self.start),
            "to": iso(self.end),
            "readings": self.readings,
            "replay_seconds": round(self.replay_seconds, 3),
            "seconds": round(self.seconds, 3),
            "readings_per_second": round(self.rate),
            "warnings": self.warnings,
            "rules": {rid: asdict(r) for rid, r in self.rules.items()},
            "work_orders": [
                {**asdict(wo), "opened_at": iso(wo.opened_at)} for wo in self.work_orders
            ],
            "alerts": [
                {
                    **asdict(a),
                    "started_at": iso(a.started_at),
                    "fired_at": iso(a.fired_at),
                    "resolved_at": iso(a.resolved_at),
                }
                for a in self.alerts
            ],
        }


def load_rules_file(path: Path) -> tuple[list[RuleConfig], Alerting | None]:
    """Rules to try from a YAML file: a ``rules:`` list as in site.yaml, and optionally an
    ``alerting:`` section; raises ConfigError naming file:line:field for every problem."""
    doc = load_located(path)
    data = doc.data
    if not isinstance(data, dict) or "rules" not in data:
        raise ConfigError([doc.problem((), "expected a mapping with a 'rules:' list")])
    problems = [doc.problem((key,), "unknown field") for key in data if key not in _FILE_KEYS]
    problems += [doc.problem(p, f"duplicate key '{p[-1]}'") for p, _ in doc.duplicate_keys]
    rules: list[RuleConfig] = []
    try:
        rules = _RULES.validate_python(data["rules"])
    except ValidationError as exc:
        problems += pydantic_problems(doc, exc, ("rules",))
    alerting = None
    if data.get("alerting") is not None:
        try:
            alerting = Alerting.model_validate(data["alerting"])
        except ValidationError as exc:
            problems += pydantic_problems(doc, exc, ("alerting",))
    seen: set[str] = set()
    for i, rule in enumerate(rules):
        if rule.id in seen:
            problems.append(doc.problem(("rules", i, "id"), f"duplicate rule id '{rule.id}'"))
        seen.add(rule.id)
    if problems:
        raise ConfigError(problems)
    return rules, alerting


_FILE_KEYS = frozenset({"rules", "alerting"})


def _seconds(t: float | dt.datetime) -> float:
    if isinstance(t, dt.datetime):
        if t.tzinfo is None:
            raise ValueError("a naive datetime is ambiguous; give it a time zone")
        return t.timestamp()
    return float(t)


def run_backtest(
    site: AlertsSite,
    store: History,
    start: float | dt.datetime,
    end: float | dt.datetime,
    rules: Iterable[RuleConfig],
    *,
    workspace: Workspace,
    progress: Callable[[Progress], None] | None = None,
    alerting: Alerting | None = None,
    chunk: float = CHUNK,
    clock: Callable[[], float] = time.monotonic,
) -> BacktestResult:
    """Replay the store's readings of start..end (end excluded) through an engine with these
    rules over a throwaway database; report what the rules would have done."""
    t0, t1 = _seconds(start), _seconds(end)
    if not t1 > t0:
        raise ValueError("the end of a backtest must come after its start")
    given = list(rules)
    enabled = {r.id: r.enabled for r in given}
    # A disabled rule is replayed too: this is how it is tried before it is switched on.
    chosen = [r if r.enabled else r.model_copy(update={"enabled": True}) for r in given]
    began = clock()
    with tempfile.TemporaryDirectory(prefix="plantroom-backtest-") as tmp:
        db = workspace.database(Path(tmp))
        try:
            engine = AlertEngine(site, db, chosen, intake=workspace.intake, alerting=alerting)
            applies: dict[str, set[str]] = {r.id: set() for r in chosen}
            for (asset, _point), matched in engine.index.items():
                for r in matched:
                    applies[r.id].add(asset)
            outcomes = {
                r.id: RuleOutcome(
                    id=r.id,
                    type=r.type,
                    severity=str(r.severity),
                    condition=r.describe(),
                    enabled=enabled[r.id],
                    assets=len(applies[r.id]),
                )
                for r in chosen
            }
            readings = 0
            steps: dict[str, float] = {}
            replay_began = clock()
            points = {p for _, p in engine.index}
            windows = store.iter_range(
                t0, t1, assets={a for a, _ in engine.index}, points=points, chunk=chunk
            )
            for k, batch in enumerate(windows):
                hi = min(t0 + (k + 1) * chunk, t1)
                _count(outcomes, engine.process(batch))
                _count(outcomes, engine.tick(hi))
                readings += len(batch)
                if batch and not points <= steps.keys():
                    _learn_steps(batch, steps)
                if progress is not None:
                    fraction = min((hi - t0) / (t1 - t0), 1.0)
                    progress(Progress(fraction, readings, clock() - replay_began))
            result = BacktestResult(
                site=site.doc.site.name,
                timezone=site.doc.site.timezone,
                start=t0,
                end=t1,
                rules=outcomes,
                readings=readings,
                warnings=_warnings(chosen, outcomes, steps, readings),
                replay_seconds=clock() - replay_began,
            )
            _collect(db, result, workspace)
        finally:
            db.dispose()
    result.seconds = clock() - began
    return result


def _learn_steps(batch: list[Reading], steps: dict[str, float]) -> None:
    """Note how often each point not yet known is read: the smallest gap in one of its series."""
    last: dict[tuple[str, str], float] = {}
    found: dict[str, float] = {}
    for r in batch:
        if r.point in steps:
            continue
        key = (r.asset, r.point)
        before = last.get(key)
        last[key] = r.ts
        if before is not None and before < r.ts < before + found.get(r.point, math.inf):
            found[r.point] = r.ts - before
    steps.update(found)


def _warnings(
    rules: list[RuleConfig], outcomes: dict[str, RuleOutcome], steps: dict[str, float], n: int
) -> list[str]:
    out = []
    if n == 0:
        out.append("no stored readings of the rules' points in this period")
    for rule in rules:
        if outcomes[rule.id].assets == 0:
            out.append(
                f"{rule.id} applies to no asset of the site: no asset matches its select "
                f"and has a point '{rule.point}'"
            )
        step = steps.get(rule.point)
        if isinstance(rule, StaleRule) and step is not None and rule.after <= step:
            out.append(
                f"{rule.id} fires after {rule.after:g} s without a good {rule.point}, but the "
                f"history has one only every {step:g} s: it fires between readings. Replay "
                "history stored at the live poll interval, or try a longer 'after'."
            )
    return out


def _count(outcomes: dict[str, RuleOutcome], events: list[AlertEvent]) -> None:
    for e in events:
        o = outcomes[e.rule_id]
        if e.state == "firing":
            o.fired += 1
            o.inhibited += e.inhibited
        elif e.state == "resolved" and e.previous == "firing":
            o.resolved += 1
        elif e.state == "nodata":
            o.nodata += 1
        elif e.state == "error":
            o.error += 1
            o.last_error = str(e.detail.get("text", ""))


def _collect(db: Database, result: BacktestResult, workspace: Workspace) -> None:
    """Read the alerts and work orders the engine stored into the result."""
    with db.session() as s:
        alerts = repository.list_(s, limit=ALL_ROWS)
        result.alerts = [
            WouldBeAlert(
                id=a.id,
                rule_id=a.rule_id,
                asset_id=a.asset_id,
                state=a.state,
                started_at=a.started_at,
                fired_at=a.fired_at,
                resolved_at=a.resolved_at,
                trigger_value=a.trigger_value,
                unit=a.unit,
                workorder_id=a.workorder_id,
                inhibited_by=a.inhibited_by,
                detail=a.detail,
            )
            for a in reversed(alerts)
        ]
        result.work_orders = workspace.work_orders(s)
    for a in result.alerts:
        if a.state == "firing" and a.rule_id in result.rules:
            result.rules[a.rule_id].firing_at_end += 1
    for wo in result.work_orders:
        if wo.rule_id in result.rules:
            result.rules[wo.rule_id].work_orders += 1
