"""The alert state machine: inactive -> pending -> firing -> resolved, per (rule, asset).

Readings are evaluated as they arrive, on their own timestamps, so the same code runs live,
in backtests and in tests. Only transitions touch the database; pending and firing alerts are
stored, so a restart resumes a pending timer instead of starting it again.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from alerts import repository
from alerts.models import Alert
from alerts.rules import RuleConfig, Selector
from alerts.rules.base import SEVERITY_PRIORITY
from collectors.readings import Reading
from config.site import AssetRef, SiteConfig
from plantroom.db import Database
from workorders import service as workorders

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Transition:
    """A change of state worth telling someone about."""

    rule_id: str
    asset_id: str
    state: str
    ts: float
    value: float | None
    workorder_id: int | None = None


@dataclass
class _Live:
    alert_id: int
    state: str  # pending | firing
    since: float


def selects(selector: Selector, ref: AssetRef) -> bool:
    """True when the asset matches every criterion the selector gives."""
    a = ref.asset
    return (
        (not selector.asset_class or a.brick_class in selector.asset_class)
        and (not selector.building or ref.building.id in selector.building)
        and (not selector.tags or bool(set(selector.tags) & set(a.tags)))
        and (not selector.assets or a.id in selector.assets)
    )


def _utc(ts: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, dt.UTC)


class AlertEngine:
    """Evaluates rules against readings and opens work orders through the work-order service."""

    def __init__(self, site: SiteConfig, db: Database, rules: Iterable[RuleConfig] | None = None):
        self.site = site
        self.db = db
        self.rules = {r.id: r for r in (site.doc.rules if rules is None else rules) if r.enabled}
        self.index: dict[tuple[str, str], list[RuleConfig]] = defaultdict(list)
        for ref in site.assets():
            points = {
                p.name
                for d in ref.asset.devices
                if d.profile in site.profiles
                for p in site.profiles[d.profile].points
            }
            for rule in self.rules.values():
                if rule.point in points and selects(rule.select, ref):
                    self.index[(ref.asset.id, rule.point)].append(rule)
        self.live: dict[tuple[str, str], _Live] = {}
        self._lock = threading.Lock()
        self.load()

    def load(self) -> None:
        """Resume pending and firing alerts from the database."""
        with self.db.session() as s:
            for a in repository.live(s):
                if a.rule_id in self.rules:
                    since = (a.fired_at or a.started_at) if a.state == "firing" else a.started_at
                    self.live[(a.rule_id, a.asset_id)] = _Live(a.id, a.state, since.timestamp())

    def process(self, readings: Iterable[Reading]) -> list[Transition]:
        """Evaluate a batch of readings; returns the transitions it made (already stored)."""
        with self._lock, self.db.session() as s:
            out: list[Transition] = []
            for r in readings:
                rules = self.index.get((r.asset, r.point))
                if not rules:
                    continue
                value = r.number
                if value is None:
                    continue  # unavailable or out of range: the stale rule's business, not ours
                for rule in rules:
                    t = self._step(s, rule, r, value)
                    if t is not None:
                        out.append(t)
            return out

    def _step(self, s: Session, rule: RuleConfig, r: Reading, value: float) -> Transition | None:
        key = (rule.id, r.asset)
        cur = self.live.get(key)
        row = repository.get(s, cur.alert_id) if cur else None
        if cur is not None and (row is None or row.active_key is None):
            # Another engine (or a person) moved this alert on; forget our copy.
            del self.live[key]
            cur = row = None
        if cur is None or row is None:
            if not rule.breached(value):
                return None
            row, created = self._open_pending(s, rule, r, value)
            if row.state == "pending":
                since = row.started_at.timestamp()
            else:
                since = (row.fired_at or row.started_at).timestamp()
            cur = self.live[key] = _Live(row.id, row.state, since)
            if created and rule.for_ > 0:
                return Transition(rule.id, r.asset, "pending", r.ts, value)
        cur.state = row.state
        row.last_value, row.last_ts = value, _utc(r.ts)
        if cur.state == "pending":
            if not rule.breached(value):
                row.state, row.active_key = "inactive", None
                row.resolved_at = _utc(r.ts)
                del self.live[key]
                return Transition(rule.id, r.asset, "inactive", r.ts, value)
            if r.ts - cur.since >= rule.for_:
                return self._fire(s, rule, r, value, row, cur)
            return None
        if rule.cleared(value):
            row.state, row.active_key = "resolved", None
            row.resolved_at = _utc(r.ts)
            del self.live[key]
            if row.workorder_id is not None:
                workorders.note_alert_cleared(
                    s, wo_id=row.workorder_id, rule_id=rule.id, value=value, at=_utc(r.ts)
                )
            log.info("alert %s on %s resolved (%s=%g)", rule.id, r.asset, r.point, value)
            return Transition(rule.id, r.asset, "resolved", r.ts, value, row.workorder_id)
        return None

    def _open_pending(
        self, s: Session, rule: RuleConfig, r: Reading, value: float
    ) -> tuple[Alert, bool]:
        """Insert the pending alert, or adopt the live one another engine already stored."""
        alert = Alert(
            rule_id=rule.id,
            asset_id=r.asset,
            state="pending",
            active_key=repository.active_key(rule.id, r.asset),
            severity=rule.severity,
            point=r.point,
            device=r.device,
            unit=r.unit,
            started_at=_utc(r.ts),
            last_value=value,
            last_ts=_utc(r.ts),
        )
        try:
            with s.begin_nested():
                s.add(alert)
                s.flush()
            return alert, True
        except IntegrityError:
            existing = repository.live_for(s, rule.id, r.asset)
            if existing is None:
                raise
            return existing, False

    def _fire(
        self, s: Session, rule: RuleConfig, r: Reading, value: float, alert_row: Alert, cur: _Live
    ) -> Transition:
        alert_row.state, alert_row.fired_at = "firing", _utc(r.ts)
        alert_row.trigger_value = value
        alert_row.fire_count += 1
        cur.state, cur.since = "firing", r.ts
        asset = self.site.asset(r.asset).asset
        wo, created = workorders.open_from_alert(
            s,
            asset_id=r.asset,
            rule_id=rule.id,
            title=f"{rule.name}: {asset.name}",
            priority=SEVERITY_PRIORITY[rule.severity],
            trigger={
                "point": r.point,
                "value": value,
                "unit": r.unit,
                "device": r.device,
                "ts": _utc(r.ts).isoformat(),
                "rule": rule.describe(),
            },
            at=_utc(r.ts),
        )
        alert_row.workorder_id = wo.id
        log.info(
            "alert %s on %s firing (%s=%g %s): work order %d %s",
            rule.id,
            r.asset,
            r.point,
            value,
            r.unit,
            wo.id,
            "opened" if created else "updated",
        )
        return Transition(rule.id, r.asset, "firing", r.ts, value, wo.id)
