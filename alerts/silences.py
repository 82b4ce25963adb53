"""Silences and maintenance windows: which alerts they cover, and what makes one valid.

An alert covered by a silence is still recorded, with its silence_id, but opens no work order
and notifies nobody. `selects` is the one asset-matching function; rules use it too.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from pydantic import ValidationError
from sqlalchemy.orm import Session

from alerts import repository
from alerts.models import Silence
from alerts.rules import RuleConfig, Selector
from config.site import AssetRef, SiteConfig
from core.db import Database, utcnow
from core.errors import AppError

log = logging.getLogger(__name__)

#: The longest silence; a forgotten one must not hide a building's alerts for ever.
MAX_SILENCE = dt.timedelta(days=366)
#: How far back a default load reaches (see SilenceIndex.load).
REPLAY_MARGIN = dt.timedelta(days=1)
SELECTOR_FIELDS = ("asset_class", "building", "tags", "assets")


def selects(selector: Selector, ref: AssetRef) -> bool:
    """True when the asset matches every criterion the selector gives (none given matches all).

    Tags match when the asset has any of the listed tags; the other lists name allowed values.
    """
    a = ref.asset
    return selector.matches(a.id, a.brick_class, a.tags, ref.building.id)


def watched_series(
    site: SiteConfig, rules: Iterable[RuleConfig]
) -> dict[tuple[str, str], list[RuleConfig]]:
    """(asset id, point) -> the rules watching that series, in rule order: each rule on every
    asset it selects that has a device reading its point. The alert engine's index."""
    out: dict[tuple[str, str], list[RuleConfig]] = defaultdict(list)
    rules = list(rules)
    for ref in site.assets():
        points = {
            p.name
            for d in ref.asset.devices
            if d.profile in site.profiles
            for p in site.profiles[d.profile].points
        }
        for rule in rules:
            if rule.point in points and selects(rule.select, ref):
                out[(ref.asset.id, rule.point)].append(rule)
    return out


def rule_assets(site: SiteConfig, rule: RuleConfig) -> list[str]:
    """Ids of the assets a rule watches: selected by it, with a device that reads its point."""
    return [asset for asset, _ in watched_series(site, [rule])]


# --- matching -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Window:
    """A silence reduced to what matching needs: UNIX times and the asset ids it selects."""

    id: int
    starts: float
    ends: float
    expired: float | None
    rule_ids: frozenset[str]  # empty: every rule
    assets: frozenset[str]

    def covers(self, rule_id: str, ts: float) -> bool:
        """True when this silence is in force at ts for this rule (assets checked by the caller)."""
        return (
            self.starts <= ts < self.ends
            and (self.expired is None or ts < self.expired)
            and (not self.rule_ids or rule_id in self.rule_ids)
        )


class SilenceIndex:
    """The silences in force or to come, with the asset ids each selects worked out at load, so
    `match` is a dictionary look-up and a few comparisons."""

    def __init__(self, site: SiteConfig):
        self._refs = list(site.assets())
        self._by_asset: dict[str, list[_Window]] = {}
        self._windows: dict[int, _Window] = {}
        self._version: tuple[object, ...] | None = None

    def __len__(self) -> int:
        return len(self._windows)

    def load(self, session: Session, *, at: dt.datetime | None = None) -> None:
        """Read every silence not over at `at`: running, or still to come.

        By default `at` is a day ago, so readings the collector replays from its buffer after
        an outage still meet the silences of their time. A backtest passes the time of its
        first reading.
        """
        self._version = repository.silences_version(session)
        self._by_asset = {}
        self._windows = {}
        for s in repository.silences_not_over(session, at or utcnow() - REPLAY_MARGIN):
            self.add(s)

    def refresh(self, session: Session) -> bool:
        """Reload when a silence was created or expired since the last load; True if it did.

        One aggregate query, so it is cheap enough to call before every `match`.
        """
        if self._version is not None and repository.silences_version(session) == self._version:
            return False
        self.load(session)
        return True

    def matcher(self, db: Database) -> Callable[[str, str, float], int | None]:
        """`match` that first refreshes from db in a short session of its own: what a live
        engine takes as its ``silenced`` callable, so silences created through the API apply
        at the next transition. (Backtests load once, with ``at``, and pass ``match`` itself.)"""

        def match(asset_id: str, rule_id: str, ts: float) -> int | None:
            with db.session() as s:
                self.refresh(s)
            return self.match(asset_id, rule_id, ts)

        return match

    def add(self, silence: Silence) -> None:
        """Index one silence (a malformed stored selector is logged and skipped)."""
        try:
            selector = Selector.model_validate(silence.selector or {})
        except ValidationError as exc:
            log.warning("silence %s has a malformed selector, ignored: %s", silence.id, exc)
            return
        w = _Window(
            id=silence.id,
            starts=silence.starts_at.timestamp(),
            ends=silence.ends_at.timestamp(),
            expired=silence.expired_at.timestamp() if silence.expired_at else None,
            rule_ids=frozenset(silence.rule_ids or ()),
            assets=frozenset(r.asset.id for r in self._refs if selects(selector, r)),
        )
        self._windows[w.id] = w
        for asset_id in w.assets:
            self._by_asset.setdefault(asset_id, []).append(w)

    def match(self, asset_id: str, rule_id: str, ts: float) -> int | None:
        """The id of a silence covering this rule's alert on this asset at UNIX time ts, or None.

        When several do, the one that ends last (ties: the oldest), so the alert records the
        silence that will keep it quiet longest.
        """
        best: _Window | None = None
        for w in self._by_asset.get(asset_id, ()):
            if w.covers(rule_id, ts) and (best is None or (w.ends, -w.id) > (best.ends, -best.id)):
                best = w
        return best.id if best else None

    def covering_rule(self, rule_id: str, asset_ids: Iterable[str], ts: float) -> list[int]:
        """Ids of the silences that cover this rule on every one of asset_ids at ts (none when
        asset_ids is empty: a rule that watches nothing is not silenced, it is idle)."""
        wanted = frozenset(asset_ids)
        if not wanted:
            return []
        return sorted(
            w.id for w in self._windows.values() if w.covers(rule_id, ts) and wanted <= w.assets
        )


# --- validation ---------------------------------------------------------------------------------


class InvalidSilence(AppError):
    """The silence asked for cannot be created; detail lists each field and what is wrong."""

    status_code = 422
    error = "invalid_silence"


def check_silence(
    site: SiteConfig,
    *,
    selector: Selector,
    rule_ids: Sequence[str],
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    now: dt.datetime,
) -> None:
    """Raise InvalidSilence naming every field that is wrong: an empty target, unknown ids,
    or a window that ends before it starts, is over already or is too long."""
    problems = [*target_problems(site, selector, rule_ids)]
    problems += window_problems(starts_at, ends_at, now)
    if problems:
        message = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
        raise InvalidSilence(message, detail=problems)


def target_problems(
    site: SiteConfig, selector: Selector, rule_ids: Sequence[str]
) -> list[dict[str, str]]:
    """What is wrong with a silence's selector and rule ids, as {field, message} entries."""
    if not rule_ids and not any(getattr(selector, f) for f in SELECTOR_FIELDS):
        return [
            {
                "field": "selector",
                "message": "give at least one of selector.asset_class, selector.building, "
                "selector.tags, selector.assets or rule_ids; to silence the whole site, "
                "list every building in selector.building",
            }
        ]
    refs = list(site.assets())
    known = {
        "asset_class": ({r.asset.brick_class for r in refs}, "asset class"),
        "building": ({b.id for b in site.doc.buildings}, "building"),
        "tags": ({t for r in refs for t in r.asset.tags}, "tag"),
        "assets": ({r.asset.id for r in refs}, "asset"),
    }
    problems = []
    for name, (values, what) in known.items():
        unknown = [v for v in getattr(selector, name) if v not in values]
        if unknown:
            problems.append(
                {"field": f"selector.{name}", "message": f"unknown {what} {_names(unknown)}"}
            )
    rules = {r.id for r in site.doc.rules}
    unknown = [r for r in rule_ids if r not in rules]
    if unknown:
        problems.append({"field": "rule_ids", "message": f"unknown rule {_names(unknown)}"})
    return problems


def window_problems(
    starts_at: dt.datetime, ends_at: dt.datetime, now: dt.datetime
) -> list[dict[str, str]]:
    """What is wrong with a silence's time window, as {field, message} entries."""
    if ends_at <= starts_at:
        return [{"field": "ends_at", "message": "ends_at must be after starts_at"}]
    if ends_at <= now:
        return [{"field": "ends_at", "message": "ends_at is in the past"}]
    if ends_at - starts_at > MAX_SILENCE:
        return [
            {
                "field": "ends_at",
                "message": f"a silence lasts at most {MAX_SILENCE.days} days; "
                "create another when it ends",
            }
        ]
    return []


def _names(values: Sequence[str]) -> str:
    return ", ".join(f"'{v}'" for v in dict.fromkeys(values))
