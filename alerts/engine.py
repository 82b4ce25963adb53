"""The alert state machine, per (rule, asset): inactive -> pending -> firing -> resolved, with
nodata and error states of their own.

- Readings are evaluated as they arrive, on their own timestamps, so the same code runs live,
  in backtests and in tests. The engine's clock is the newest reading it has seen; ``tick()``
  moves it on when no readings come (live: the wall clock).
- Evaluation is in memory (each rule type's evaluator); the database is touched only when
  something changes state. Live alerts (pending, firing, nodata, error) are stored with a
  unique key per (rule, asset), so a restart resumes a pending timer and nothing fires twice,
  and two engines on one database cannot open two alerts or two work orders.
- Whatever a recorder writes for the batch's events (the alert notifications' state and outbox,
  alerts.notify) is written in the batch's transaction: it commits with the alert change, or not
  at all.
- A firing alert opens or updates the one open work order of its (asset, rule), unless a
  silence covers it or a firing source alert inhibits it (recorded, no work order). When more
  than ``storm.threshold`` alerts fire in one building within ``storm.group_wait``, one parent
  work order stands for all of them.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from alerts import repository
from alerts.config import Alerting, AlertsSite
from alerts.events import AlertEvent
from alerts.intake import WorkOrderIntake
from alerts.models import Alert, RuleState
from alerts.rules import Context, Evaluator, RuleConfig, Verdict
from alerts.rules.base import OK, SEVERITY_PRIORITY
from alerts.silences import watched_series
from collectors.readings import Quality, Reading
from core.db import Database, begin_writing

log = logging.getLogger(__name__)

#: States in which an alert row is live (holds the (rule, asset) unique key).
LIVE = frozenset({"pending", "firing", "nodata", "error"})
#: States in which the rule's condition is being watched as a problem (hysteresis applies).
ACTIVE = frozenset({"pending", "firing"})
GOOD = Quality.good
_NUMBERS = frozenset({float, int})


def _utc(ts: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, dt.UTC)


class _Track:
    """One (rule, asset): its evaluator and where it stands."""

    __slots__ = (
        "_state",
        "active",
        "alert_id",
        "asset",
        "clear_since",
        "device",
        "ev",
        "hi",
        "idle",
        "last_good",
        "lo",
        "persist",
        "point",
        "rule",
        "saved",
        "since",
        "timed",
        "unit",
    )  # fmt: skip

    def __init__(self, rule: RuleConfig, asset: str, ev: Evaluator):
        self.rule = rule
        self.asset = asset
        self.ev = ev
        # Skipping quiet readings would lose the time of the last good one, which a rule
        # watching for nodata needs: such a track sees every reading.
        self.lo, self.hi = ev.quiet if rule.nodata_after is None else (math.inf, -math.inf)
        self.timed = ev.timed
        self.state = "inactive"
        self.since = 0.0
        self.alert_id: int | None = None
        self.last_good: float | None = None
        self.clear_since: float | None = None
        self.point = self.device = self.unit = ""
        self.saved: dict[str, Any] | None = None
        #: The evaluator keeps memory that must survive a restart.
        self.persist = type(ev).snapshot is not Evaluator.snapshot

    @property
    def state(self) -> str:
        """inactive, pending, firing, nodata or error."""
        return self._state

    @state.setter
    def state(self, value: str) -> None:
        # Two flags the per-reading loop reads instead of comparing strings.
        self._state = value
        self.active = value in ACTIVE
        self.idle = value == "inactive"


@dataclass
class _Storm:
    """Alerts of one building waiting out the storm window."""

    deadline: float
    waiting: list[tuple[_Track, Verdict, float]] = field(default_factory=list)
    parent_id: int | None = None


class _Batch:
    """A database session opened only when something changes, and the events to tell."""

    def __init__(self, db: Database):
        self.db = db
        self._cm: Any = None
        self._s: Session | None = None
        self.events: list[AlertEvent] = []

    @property
    def s(self) -> Session:
        if self._s is None:
            self._cm = self.db.session()
            self._s = self._cm.__enter__()
            # One transaction for the whole batch, savepoints included: the alert change and
            # what the recorders write commit together or not at all.
            begin_writing(self._s)
        return self._s

    def close(self, exc: BaseException | None) -> None:
        if self._cm is not None:
            if exc is None:
                self._cm.__exit__(None, None, None)
            else:
                self._cm.__exit__(type(exc), exc, exc.__traceback__)


class AlertEngine:
    """Evaluates rules against readings and raises work orders through the intake."""

    def __init__(
        self,
        site: AlertsSite,
        db: Database,
        rules: Iterable[RuleConfig] | None = None,
        *,
        intake: WorkOrderIntake,
        alerting: Alerting | None = None,
        silenced: Callable[[str, str, float], int | None] | None = None,
    ):
        self.site = site
        self.db = db
        #: Where firing alerts raise, link and clear work orders (workorders.intake, wired by
        #: the root).
        self.intake = intake
        self.rules = {r.id: r for r in (site.doc.rules if rules is None else rules) if r.enabled}
        self.ctx = Context(ZoneInfo(site.doc.site.timezone))
        #: Storm and inhibition settings: the site's, unless given (backtests try others).
        self.alerting = site.doc.alerting if alerting is None else alerting
        #: (asset, rule) -> silence id covering it at a time, or None.
        self.silenced = silenced or (lambda asset, rule, ts: None)
        self.listeners: list[Callable[[list[AlertEvent]], None]] = []
        #: Called with a batch's session and events before it commits, so what they write (the
        #: alert notifications' outbox) commits or rolls back with the alert change.
        self.recorders: list[Callable[[Session, list[AlertEvent]], None]] = []
        self.refs = {ref.asset.id: ref for ref in site.assets()}
        self.index = watched_series(site, self.rules.values())
        #: asset -> point -> the tracks its readings feed (two plain lookups are cheaper than
        #: building and hashing a tuple for every reading).
        self._by_series: dict[str, dict[str, list[_Track]]] = {}
        self._links = {
            ref.asset.id: {d.link.key for d in ref.asset.devices} for ref in self.refs.values()
        }
        self._sources: dict[str, str] = {i.source: i.scope for i in self.alerting.inhibit}
        #: Firing inhibit sources: (scope, key) -> 'rule:asset' of each source alert.
        self._inhibitors: dict[tuple[str, str], set[str]] = defaultdict(set)
        self._storms: dict[str, _Storm] = {}
        self.tracks: dict[tuple[str, str], _Track] = {}
        self._ticking: list[_Track] = []
        self.now = 0.0
        self._lock = threading.Lock()
        self.load()

    # -- state --------------------------------------------------------------------------

    def _track(self, rule: RuleConfig, asset: str) -> _Track:
        tr = _Track(rule, asset, rule.evaluator(self.ctx))
        self.tracks[(rule.id, asset)] = tr
        self._by_series.setdefault(asset, {}).setdefault(rule.point, []).append(tr)
        if type(tr.ev).tick is not Evaluator.tick:
            self._ticking.append(tr)
        return tr

    def load(self) -> None:
        """Resume live alerts and evaluator memory from the database."""
        self.tracks.clear()
        self._by_series.clear()
        self._ticking.clear()
        self._inhibitors.clear()
        with self.db.session() as s:
            for a in repository.live(s):
                rule = self.rules.get(a.rule_id)
                if rule is None or a.asset_id not in self.refs:
                    continue
                tr = self._track(rule, a.asset_id)
                tr.state, tr.alert_id = a.state, a.id
                tr.point, tr.device, tr.unit = a.point, a.device, a.unit
                since = a.fired_at if a.state == "firing" and a.fired_at else a.started_at
                tr.since = since.timestamp()
                if a.state == "firing":
                    self._inhibit(tr, on=True)
            for st in s.query(RuleState):
                rule = self.rules.get(st.rule_id)
                if rule is None or st.asset_id not in self.refs:
                    continue
                tr = self.tracks.get((st.rule_id, st.asset_id)) or self._track(rule, st.asset_id)
                tr.ev.restore(st.data)
                tr.saved = dict(st.data)
        for (asset, _point), rules in self.index.items():
            for rule in rules:
                if (rule.id, asset) not in self.tracks:
                    self._track(rule, asset)

    # -- input --------------------------------------------------------------------------

    def process(self, readings: Iterable[Reading]) -> list[AlertEvent]:
        """Evaluate a batch of readings; returns the state changes it made (already stored)."""
        with self._lock:
            batch = _Batch(self.db)
            try:
                by_series, good_q, numbers, ok = self._by_series, GOOD, _NUMBERS, OK
                now = self.now
                for r in readings:
                    ts, asset, _, point, value, _, quality, _ = r
                    points = by_series.get(asset)
                    if points is None:
                        continue
                    tracks = points.get(point)
                    if tracks is None:
                        continue
                    if ts > now:
                        now = self.now = ts
                    good = quality is good_q and value.__class__ in numbers
                    for tr in tracks:
                        # _observe, unrolled for the case that is nearly always true: a quiet
                        # reading of an inactive alert. Everything else goes through _apply.
                        try:
                            if good:
                                if tr.idle and tr.lo <= value <= tr.hi:  # type: ignore[operator]
                                    if tr.timed:
                                        tr.ev.last_good = ts
                                    continue  # quiet: nothing to evaluate
                                tr.last_good = ts
                                verdict = tr.ev.observe(ts, value, tr.active)  # type: ignore[arg-type]
                            else:
                                verdict = tr.ev.missing(ts)
                        except Exception as exc:
                            self._failed(batch, tr, r, exc)
                            continue
                        if tr.persist:
                            self._save(batch, tr)
                        if verdict is None:
                            if not good and tr.rule.nodata_after is not None:
                                self._seen(tr, r)
                                self._maybe_nodata(batch, tr, ts)
                            continue
                        if verdict is ok and tr.idle:
                            continue
                        self._seen(tr, r)
                        self._apply(batch, tr, verdict, ts)
                self._tick(batch, self.now)
                self._record(batch)
            except BaseException as exc:
                batch.close(exc)
                self.load()  # the database is the truth: drop what this batch half did
                raise
            batch.close(None)
        self._tell(batch.events)
        return batch.events

    def tick(self, now: float) -> list[AlertEvent]:
        """Move the clock on without readings (stale rules, night windows, storm windows)."""
        with self._lock:
            if now > self.now:
                self.now = now
            batch = _Batch(self.db)
            try:
                self._tick(batch, self.now)
                self._record(batch)
            except BaseException as exc:
                batch.close(exc)
                self.load()
                raise
            batch.close(None)
        self._tell(batch.events)
        return batch.events

    def _record(self, batch: _Batch) -> None:
        """Hand the batch's events to the recorders, in its session, before it commits."""
        if batch.events and self.recorders:
            for recorder in self.recorders:
                recorder(batch.s, batch.events)

    def _tell(self, events: list[AlertEvent]) -> None:
        if not events:
            return
        for listener in self.listeners:
            try:
                listener(events)
            except Exception:
                log.exception("alert listener failed")

    @staticmethod
    def _seen(tr: _Track, r: Reading) -> None:
        """Remember which device and unit the rule's point comes from (for alert rows)."""
        if not tr.device:
            tr.point, tr.device, tr.unit = r.point, r.device, r.unit

    def _failed(self, b: _Batch, tr: _Track, r: Reading, exc: Exception) -> None:
        """A rule that cannot evaluate is an alert state of its own, not a quiet OK."""
        log.exception("rule %s on %s failed", tr.rule.id, tr.asset)
        self._seen(tr, r)
        self._to_error(b, tr, r.ts, f"{type(exc).__name__}: {exc}")

    def _tick(self, b: _Batch, now: float) -> None:
        if now <= 0:
            return  # no reading yet: the clock has not started
        for tr in self._ticking:
            try:
                verdict = tr.ev.tick(now)
            except Exception as exc:
                self._to_error(b, tr, now, f"{type(exc).__name__}: {exc}")
                continue
            if verdict is not None:
                self._apply(b, tr, verdict, now)
        for building, storm in list(self._storms.items()):
            if now >= storm.deadline:
                self._storm_over(b, building, storm)

    # -- the state machine --------------------------------------------------------------

    def _apply(self, b: _Batch, tr: _Track, v: Verdict, ts: float) -> None:
        rule = tr.rule
        if tr.ev.instant:
            if v.breach:
                self._instant(b, tr, v, ts)
            return
        if tr.state in ("nodata", "error"):
            self._close(b, tr, ts, "inactive", v)
        if v.breach:
            tr.clear_since = None
            if tr.state == "inactive":
                self._open(b, tr, v, ts)
                if rule.for_ <= 0:
                    self._fire(b, tr, v, ts)
            elif tr.state == "pending" and ts - tr.since >= rule.for_:
                self._fire(b, tr, v, ts)
            return
        if tr.state == "pending":
            self._close(b, tr, ts, "inactive", v)
        elif tr.state == "firing":
            if rule.keep_firing_for > 0:
                if tr.clear_since is None:
                    tr.clear_since = ts
                if ts - tr.clear_since < rule.keep_firing_for:
                    return
            self._resolve(b, tr, v, ts)

    def _row(self, b: _Batch, tr: _Track) -> Alert | None:
        """Our live alert row, re-read: another engine (or a person) may have moved it on."""
        row = repository.get(b.s, tr.alert_id) if tr.alert_id is not None else None
        if row is None or row.active_key is None:
            return None
        return row

    def _open(self, b: _Batch, tr: _Track, v: Verdict, ts: float, state: str = "pending") -> Alert:
        """Store a new live alert, or adopt the one another engine stored first."""
        rule = tr.rule
        row = Alert(
            rule_id=rule.id,
            asset_id=tr.asset,
            state=state,
            active_key=repository.active_key(rule.id, tr.asset),
            severity=rule.severity,
            point=tr.point or rule.point,
            device=tr.device,
            unit=tr.unit,
            started_at=_utc(ts),
            last_value=v.value,
            last_ts=_utc(ts),
            detail=v.detail,
        )
        try:
            with b.s.begin_nested():
                b.s.add(row)
                b.s.flush()
        except IntegrityError:
            existing = repository.live_for(b.s, rule.id, tr.asset)
            if existing is None:
                raise
            tr.alert_id, tr.state = existing.id, existing.state
            since = existing.fired_at if existing.state == "firing" else existing.started_at
            tr.since = (since or existing.started_at).timestamp()
            return existing
        tr.alert_id, tr.state, tr.since = row.id, state, ts
        self._event(b, tr, state, "inactive", ts, v, row)
        return row

    def _fire(self, b: _Batch, tr: _Track, v: Verdict, ts: float) -> None:
        row = self._row(b, tr)
        if row is None:  # gone under us: start again from this reading
            tr.state, tr.alert_id = "inactive", None
            row = self._open(b, tr, v, ts)
        if row.state == "firing":  # another engine fired it already
            tr.state, tr.since = "firing", (row.fired_at or row.started_at).timestamp()
            return
        previous = tr.state
        row.state, row.fired_at = "firing", _utc(ts)
        row.trigger_value, row.last_value, row.last_ts = v.value, v.value, _utc(ts)
        row.fire_count += 1
        row.detail = v.detail
        tr.state, tr.since = "firing", ts
        asset = tr.asset
        silence = self.silenced(asset, tr.rule.id, ts)
        inhibitor = None if silence is not None else self._inhibited_by(tr)
        if silence is not None:
            row.silence_id = silence
        elif inhibitor is not None:
            row.inhibited_by = inhibitor
        elif self.alerting.storm.group_wait > 0:
            self._storm_join(b, tr, v, ts)
        else:
            row.workorder_id = self._work_order(b, tr, v, ts)
        self._inhibit(tr, on=True)
        self._event(
            b, tr, "firing", previous, ts, v, row, silenced=silence is not None,
            inhibited=inhibitor is not None,
        )  # fmt: skip

    def _resolve(self, b: _Batch, tr: _Track, v: Verdict, ts: float) -> None:
        row = self._row(b, tr)
        self._inhibit(tr, on=False)
        tr.state, tr.alert_id, tr.clear_since = "inactive", None, None
        if row is None:
            return
        row.state, row.active_key, row.resolved_at = "resolved", None, _utc(ts)
        row.last_value, row.last_ts = v.value, _utc(ts)
        if row.workorder_id is not None:
            self.intake.note_cleared(
                b.s, work_order_id=row.workorder_id, rule_id=tr.rule.id, value=v.value, at=_utc(ts)
            )
        log.info("alert %s on %s resolved (%s)", tr.rule.id, tr.asset, v.detail or v.value)
        self._event(b, tr, "resolved", "firing", ts, v, row)

    def _close(self, b: _Batch, tr: _Track, ts: float, state: str, v: Verdict | None) -> None:
        """End a pending, nodata or error alert without it having fired."""
        row = self._row(b, tr)
        previous = tr.state
        tr.state, tr.alert_id = "inactive", None
        if row is None:
            return
        row.state, row.active_key, row.resolved_at = state, None, _utc(ts)
        if v is not None:
            row.last_value, row.last_ts = v.value, _utc(ts)
        self._event(b, tr, state, previous, ts, v, row)

    def _maybe_nodata(self, b: _Batch, tr: _Track, ts: float) -> None:
        after = tr.rule.nodata_after
        if after is None or tr.state in ("nodata", "error", "firing"):
            return  # a firing alert stays firing: no data is no proof of a fix
        if tr.last_good is not None and ts - tr.last_good < after:
            return
        if tr.last_good is None:
            tr.last_good = ts  # count from the first sign of the series
            return
        v = Verdict(False, None, f"no usable reading for {ts - tr.last_good:.0f} s")
        self._to_state(b, tr, ts, "nodata", v)

    def _to_error(self, b: _Batch, tr: _Track, ts: float, detail: str) -> None:
        if tr.state == "error":
            return
        self._to_state(b, tr, ts, "error", Verdict(False, None, detail))

    def _to_state(self, b: _Batch, tr: _Track, ts: float, state: str, v: Verdict) -> None:
        if tr.state == "inactive":
            self._open(b, tr, v, ts, state=state)
            return
        row = self._row(b, tr)
        previous = tr.state
        tr.state, tr.since = state, ts
        if row is not None:
            row.state, row.detail = state, v.detail
            self._event(b, tr, state, previous, ts, v, row)

    def _instant(self, b: _Batch, tr: _Track, v: Verdict, ts: float) -> None:
        """An event rule (meter_interval): recorded fired and over at once; the work order is
        preventive."""
        rule = tr.rule
        row = Alert(
            rule_id=rule.id,
            asset_id=tr.asset,
            state="resolved",
            severity=rule.severity,
            point=tr.point or rule.point,
            device=tr.device,
            unit=tr.unit,
            started_at=_utc(ts),
            fired_at=_utc(ts),
            resolved_at=_utc(ts),
            trigger_value=v.value,
            last_value=v.value,
            last_ts=_utc(ts),
            fire_count=1,
            detail=v.detail,
        )
        b.s.add(row)
        silence = self.silenced(tr.asset, rule.id, ts)
        if silence is not None:
            row.silence_id = silence
        else:
            row.workorder_id = self._work_order(b, tr, v, ts, type_="preventive")
        b.s.flush()
        self._save(b, tr)
        self._event(b, tr, "firing", "inactive", ts, v, row, silenced=silence is not None)
        self._event(b, tr, "resolved", "firing", ts, v, row, silenced=silence is not None)

    def _save(self, b: _Batch, tr: _Track) -> None:
        """Store the evaluator's memory when it changed."""
        snap = tr.ev.snapshot()
        if snap is None or snap == tr.saved:
            return
        row = b.s.get(RuleState, (tr.rule.id, tr.asset))
        if row is None:
            b.s.add(RuleState(rule_id=tr.rule.id, asset_id=tr.asset, data=snap))
        else:
            row.data = snap
            row.updated_at = _utc(self.now or 0)
        tr.saved = dict(snap)

    # -- work orders, storms and inhibition ---------------------------------------------

    def _work_order(
        self, b: _Batch, tr: _Track, v: Verdict, ts: float, type_: str = "corrective"
    ) -> int:
        """Raise the alert's work order; its id."""
        rule = tr.rule
        ref = self.refs[tr.asset]
        raised = self.intake.raise_for_alert(
            b.s,
            asset_id=tr.asset,
            rule_id=rule.id,
            title=f"{rule.name}: {ref.asset.name}",
            priority=SEVERITY_PRIORITY[rule.severity],
            trigger={
                "point": tr.point or rule.point,
                "value": v.value,
                "unit": tr.unit,
                "device": tr.device,
                "ts": _utc(ts).isoformat(),
                "rule": rule.describe(),
                "detail": v.detail,
                "verify_for": rule.verify_for,
                "proof_window": rule.proof_window,
            },
            at=_utc(ts),
            type_=type_,
        )
        log.info(
            "alert %s on %s firing (%s): work order %d %s",
            rule.id,
            tr.asset,
            v.detail or v.value,
            raised.id,
            "opened" if raised.created else "updated",
        )
        return raised.id

    def _storm_join(self, b: _Batch, tr: _Track, v: Verdict, ts: float) -> None:
        building = self.refs[tr.asset].building.id
        storm = self._storms.get(building)
        if storm is None:
            storm = self._storms[building] = _Storm(ts + self.alerting.storm.group_wait)
        if storm.parent_id is not None:
            self._link(b, storm.parent_id, tr, v, ts)
            return
        storm.waiting.append((tr, v, ts))
        if len(storm.waiting) > self.alerting.storm.threshold:
            self._storm_parent(b, building, storm, ts)

    def _storm_parent(self, b: _Batch, building: str, storm: _Storm, ts: float) -> None:
        ref = next(r for r in self.refs.values() if r.building.id == building)
        worst = min((SEVERITY_PRIORITY[t.rule.severity] for t, _, _ in storm.waiting), default="P3")
        parent_id = self.intake.open_storm_parent(
            b.s,
            title=f"Alert storm: {len(storm.waiting)}+ alerts in {ref.building.name}",
            priority=worst,
            trigger={"building": building, "ts": _utc(ts).isoformat(), "storm": True},
            at=_utc(ts),
        )
        storm.parent_id = parent_id
        log.warning("alert storm in %s: parent work order %d", building, parent_id)
        for tr, v, t in storm.waiting:
            self._link(b, parent_id, tr, v, t)
        storm.waiting.clear()

    def _link(self, b: _Batch, parent_id: int, tr: _Track, v: Verdict, ts: float) -> None:
        row = repository.get(b.s, tr.alert_id) if tr.alert_id is not None else None
        if row is None:
            return
        linked = self.intake.link_to_parent(
            b.s,
            parent_id,
            title=f"{tr.rule.name}: {self.refs[tr.asset].asset.name}",
            priority=SEVERITY_PRIORITY[tr.rule.severity],
            data={"alert_id": row.id, "rule": tr.rule.id, "asset": tr.asset, "value": v.value},
            at=_utc(ts),
        )
        if linked:
            row.workorder_id = parent_id

    def _storm_over(self, b: _Batch, building: str, storm: _Storm) -> None:
        if storm.parent_id is not None:
            if self.intake.is_open(b.s, storm.parent_id):
                return  # the storm's parent stays the place for this building's alerts
            del self._storms[building]
            return
        del self._storms[building]
        for tr, v, ts in storm.waiting:  # no storm after all: a work order each
            row = repository.get(b.s, tr.alert_id) if tr.alert_id is not None else None
            if row is not None and row.workorder_id is None:
                row.workorder_id = self._work_order(b, tr, v, ts)

    def _scope_keys(self, tr: _Track, scope: str) -> set[str]:
        if scope == "building":
            return {self.refs[tr.asset].building.id}
        return self._links.get(tr.asset, set())

    def _inhibit(self, tr: _Track, on: bool) -> None:
        scope = self._sources.get(tr.rule.id)
        if scope is None:
            return
        me = repository.active_key(tr.rule.id, tr.asset)
        for key in self._scope_keys(tr, scope):
            holders = self._inhibitors[(scope, key)]
            if on:
                holders.add(me)
            else:
                holders.discard(me)

    def _inhibited_by(self, tr: _Track) -> str | None:
        if tr.rule.id in self._sources or not self._inhibitors:
            return None
        for scope in ("building", "link"):
            for key in self._scope_keys(tr, scope):
                holders = self._inhibitors.get((scope, key))
                if holders:
                    return min(holders)
        return None

    # -- events -------------------------------------------------------------------------

    def _event(
        self,
        b: _Batch,
        tr: _Track,
        state: str,
        previous: str,
        ts: float,
        v: Verdict | None,
        row: Alert | None,
        *,
        silenced: bool = False,
        inhibited: bool = False,
    ) -> None:
        ref = self.refs[tr.asset]
        b.events.append(
            AlertEvent(
                rule_id=tr.rule.id,
                rule_name=tr.rule.name,
                severity=str(tr.rule.severity),
                asset_id=tr.asset,
                asset_name=ref.asset.name,
                building_id=ref.building.id,
                state=state,
                previous=previous,
                ts=ts,
                point=tr.point or tr.rule.point,
                value=v.value if v is not None else None,
                unit=tr.unit,
                alert_id=row.id if row is not None else None,
                workorder_id=row.workorder_id if row is not None else None,
                silenced=silenced,
                inhibited=inhibited,
                detail={"text": v.detail} if v is not None and v.detail else {},
            )
        )
