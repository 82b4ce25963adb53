"""The SLA engine: policies, and a pure function that turns a work order's status history into the
state of its response and resolution clocks.

Everything is computed from the timestamps of the actions themselves. A change made offline and
synced later counts at the instant it happened. Its arrival time plays no part. The caller passes
`now`, so the same history always gives the same answer.

Clocks:
- Both clocks start when the work order is created. Only working time counts, per the policy's
  calendar (24×7, or business hours on official Chinese working days; see workorders.sla.calendars).
- Response is met by the first move to acknowledged or in_progress. A direct resolve also counts,
  since the crew cannot resolve a job without having responded.
- Resolution is met by resolved (verified and closed keep it met). A reopen (back to in_progress
  from resolved, verified or closed) un-resolves it. The clock then runs on from the reopen with
  the time already used. The time between the resolve and the reopen does not count.
- Except after a fix that did not hold: a reopen whose reason is FIX_NOT_HELD (the work order was
  resolved while its alert still fired, and the alert did not clear within the rule's
  proof_window) takes back the resolve before it. For the resolution clock that resolve never
  happened: the clock ran on through it, so the time between the resolve and the reopen counts
  as working time (never as paused, whatever hold came before), and a warning or breach whose
  instant fell in that time is one, at that instant. The response clock keeps its met: the crew
  did respond.
- On hold pauses a running clock. Only the working time on hold counts as paused.
- Cancelled stops both clocks. An office reopen of a cancelled job (orders.service.reopen)
  starts them again from the reopen with the time already used; the time cancelled does not
  count, and a response met before the cancel stays met.
- A clock warns when its used time reaches `warn_at` of its target. It breaches when the clock
  is still running after its due time (due_at is the instant the used time reaches the target).
  A job due at 17:30 and still open at 18:00 is therefore breached, although no working time
  passed after 17:30. Its remaining time is 0, not negative.

The service turns `SlaState.events` into notifications and timeline entries. Each clock crosses
each threshold at most once, so (kind, which) identifies an event within one work order.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from config.units import Duration
from core.errors import AppError
from workorders.orders.models import Priority, Status
from workorders.sla.calendars import (
    DEFAULT_HOURS,
    DEFAULT_TIMEZONE,
    HolidayTable,
    WorkCalendar,
    make_calendar,
    missing_years_reason,
    parse_hours,
    zone,
)

ClockName = Literal["response", "resolution"]
EventKind = Literal["warning", "breach"]
ClockMode = Literal["running", "paused", "met", "cancelled"]

_DAYS = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*d\s*$")
_ZERO = dt.timedelta(0)

#: A move to any of these meets the response target.
RESPONDED = frozenset(
    {Status.acknowledged, Status.in_progress, Status.resolved, Status.verified, Status.closed}
)
#: While in any of these the resolution target is met; leaving them is a reopen.
RESOLVED = frozenset({Status.resolved, Status.verified, Status.closed})
#: The reason of a reopen that takes back the resolve before it: the fix did not hold.
FIX_NOT_HELD = "fix_not_held"


class HoldWithoutReason(AppError):
    """A work order may go on hold only with a reason note (parts, access, ...)."""

    status_code = 422
    error = "hold_reason_required"

    def __init__(self) -> None:
        super().__init__("putting a work order on hold needs a reason")


class NoSlaPolicy(LookupError):
    """No SLA policy covers this priority (and contractor)."""

    def __init__(self, priority: str, contractor_id: int | None):
        who = f" (general or for contractor {contractor_id})" if contractor_id is not None else ""
        super().__init__(f"no SLA policy for priority {priority}{who}; add one to the SLA policies")
        self.priority = priority
        self.contractor_id = contractor_id


class AmbiguousSlaPolicy(LookupError):
    """Two SLA policies claim the same priority and contractor."""


class SlaPolicy(BaseModel):
    """Response and resolution targets for one priority, optionally for one contractor.

    Targets are durations such as '30m', '4h' or '3d'. On a business calendar they are working
    time, and a day ('3d') is one working day, the length of the configured hours (7.5 h for
    08:30-12:00 + 13:30-17:30). On a 24×7 calendar a day is 24 h. A target left out (None) means
    that clock is not tracked, as for planned work done 'by agreement'.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    priority: Priority
    contractor_id: int | None = None
    response: Duration | None = Field(default=None, gt=0)
    resolution: Duration | None = Field(default=None, gt=0)
    calendar: Literal["24x7", "business"] = "24x7"
    #: Working spans of a business day, local time.
    hours: tuple[str, ...] = DEFAULT_HOURS
    timezone: str = DEFAULT_TIMEZONE
    warn_at: float = Field(default=0.8, gt=0, le=1)

    @model_validator(mode="before")
    @classmethod
    def _working_days(cls, data: Any) -> Any:
        """On a business calendar, read 'Nd' as N working days, not N × 24 h."""
        if not isinstance(data, dict) or data.get("calendar") != "business":
            return data
        try:
            spans = parse_hours(data.get("hours", DEFAULT_HOURS))
        except (TypeError, ValueError):
            return data  # the hours field reports it, with its location
        day = 60.0 * sum(hi - lo for lo, hi in spans)
        data = dict(data)
        for key in ("response", "resolution"):
            value = data.get(key)
            if isinstance(value, str) and (m := _DAYS.match(value)):
                data[key] = float(m.group(1)) * day
        return data

    @field_validator("hours", mode="before")
    @classmethod
    def _hours(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = (value,)
        parse_hours(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        zone(value)
        return value

    @property
    def work_calendar(self) -> WorkCalendar:
        """The calendar this policy's clocks run on, on the installed holiday table."""
        return _calendar(self.calendar, self.hours, self.timezone, None)

    def calendar_on(self, holidays: HolidayTable | None) -> WorkCalendar:
        """The calendar this policy's clocks run on, on `holidays` (None: the installed one)."""
        return _calendar(self.calendar, self.hours, self.timezone, holidays)


@lru_cache(maxsize=64)
def _calendar(
    kind: str, hours: tuple[str, ...], timezone: str, holidays: HolidayTable | None
) -> WorkCalendar:
    return make_calendar(kind, hours=hours, timezone=timezone, holidays=holidays)


class StatusChange(NamedTuple):
    """One status change as recorded: when it happened (not when it was synced), and why."""

    at: dt.datetime
    from_status: str
    to_status: str
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class SlaEvent:
    """A threshold the clock crossed: a warning at `warn_at` of the target, or a breach.

    `provisional`: its instant was computed over a year no holiday table knows (weekdays taken
    as worked), so it is not recorded until that year is loaded.
    """

    kind: EventKind
    which: ClockName
    at: dt.datetime
    provisional: bool = False


@dataclass(frozen=True, slots=True)
class ClockState:
    """One clock as of `now`. Seconds are working seconds on the policy's calendar."""

    which: ClockName
    #: running, paused (on hold), met, or cancelled.
    state: ClockMode
    target_seconds: float
    #: The instant the used time reaches the target. It moves later by the paused time. While the
    #: clock is paused or met, this is where the deadline would be if it ran again from then.
    due_at: dt.datetime
    elapsed_seconds: float
    paused_seconds: float
    #: target - elapsed: negative once over; 0 when breached with no working time since due_at.
    remaining_seconds: float
    met_at: dt.datetime | None
    breached: bool
    warned: bool
    #: Years no holiday table knows that the due instant or the outcome was computed over
    #: (their weekdays taken as worked); empty when everything shown is exact.
    missing_years: tuple[int, ...] = ()

    @property
    def provisional(self) -> bool:
        """The due instant (or outcome) rests on a year nobody has loaded yet."""
        return bool(self.missing_years)

    @property
    def reason(self) -> str | None:
        """Why the clock is provisional, naming the year; None when it is exact."""
        return missing_years_reason(self.missing_years)


@dataclass(frozen=True, slots=True)
class SlaState:
    """Both clocks of a work order as of `now`, and the warnings and breaches they crossed."""

    now: dt.datetime
    #: None when the policy sets no target for that clock.
    response: ClockState | None
    resolution: ClockState | None
    events: tuple[SlaEvent, ...] = ()


def check_hold(reason: str | None) -> str:
    """Refuse a move to on_hold without a reason (HoldWithoutReason, 422); returns the reason."""
    if reason is None or not reason.strip():
        raise HoldWithoutReason()
    return reason.strip()


def policy_for(
    policies: Iterable[SlaPolicy], priority: str, contractor_id: int | None = None
) -> SlaPolicy:
    """The contractor's own policy for this priority if there is one, else the general one."""
    wanted = Priority(priority)
    candidates = [p for p in policies if p.priority == wanted]
    own = [p for p in candidates if contractor_id is not None and p.contractor_id == contractor_id]
    general = [p for p in candidates if p.contractor_id is None]
    for group in (own, general):
        if len(group) > 1:
            names = ", ".join(p.name for p in group)
            raise AmbiguousSlaPolicy(
                f"SLA policies {names} all claim priority {wanted}"
                + (f" for contractor {group[0].contractor_id}" if group[0].contractor_id else "")
            )
        if group:
            return group[0]
    raise NoSlaPolicy(wanted, contractor_id)


def _aware(value: dt.datetime, name: str) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    return value.astimezone(dt.UTC)


_Step = Callable[[ClockMode, Status], ClockMode]


def _response_mode(mode: ClockMode, status: Status) -> ClockMode:
    if mode == "met":
        return mode  # responded once is responded for good
    if status in RESPONDED:
        return "met"
    if status is Status.cancelled:
        return "cancelled"
    return "paused" if status is Status.on_hold else "running"


def _resolution_mode(mode: ClockMode, status: Status) -> ClockMode:
    if status in RESOLVED:
        return "met"
    if status is Status.cancelled:
        return "cancelled"
    return "paused" if status is Status.on_hold else "running"


@dataclass
class _Clock:
    """Walks one clock through the intervals between status changes.

    `missing` collects the years no holiday table knows that the walk so far went through. An
    event is provisional when its own instant needed one: the years walked before its interval
    plus those on the way from the interval's start to the instant (years after it, walked
    only to reach `now`, cannot move it).
    """

    which: ClockName
    calendar: WorkCalendar
    target: dt.timedelta
    warn: dt.timedelta
    mode: ClockMode = "running"
    since: dt.datetime | None = None
    elapsed: dt.timedelta = _ZERO
    paused: dt.timedelta = _ZERO
    met_at: dt.datetime | None = None
    reached: dt.datetime | None = None
    events: list[SlaEvent] = field(default_factory=list)
    missing: set[int] = field(default_factory=set)
    #: The years the due instant `reached` rests on.
    reached_missing: frozenset[int] = frozenset()

    def _add(self, start: dt.datetime, amount: dt.timedelta, missing: set[int]) -> dt.datetime:
        return self.calendar.add_working_time(start, amount.total_seconds(), missing)

    def advance(self, a: dt.datetime, b: dt.datetime) -> None:
        """Account for [a, b) in the current mode."""
        if b <= a or self.mode in ("met", "cancelled"):
            return
        walked = set(self.missing)
        used = dt.timedelta(seconds=self.calendar.working_seconds(a, b, walked))
        if self.mode == "paused":
            self.paused += used
            self.missing = walked
            return
        before, self.elapsed = self.elapsed, self.elapsed + used
        if before < self.warn <= self.elapsed:
            years = set(self.missing)
            at = self._add(a, self.warn - before, years)
            self.events.append(SlaEvent("warning", self.which, at, bool(years)))
        if before < self.target <= self.elapsed:
            years = set(self.missing)
            self.reached = self._add(a, self.target - before, years)
            self.reached_missing = frozenset(years)
        # Breached once the clock runs past its due instant: inside this interval, or from its
        # start if the target was reached exactly when the clock last stopped.
        if self.reached is not None and self.reached < b and not self.breached:
            at = max(self.reached, a)
            self.events.append(SlaEvent("breach", self.which, at, bool(self.reached_missing)))
        self.missing = walked

    def switch(self, at: dt.datetime, mode: ClockMode) -> None:
        """The work order moved at `at`; the clock is now in `mode`."""
        if mode == "met" and self.mode != "met":
            self.met_at = at
        elif mode != "met":
            self.met_at = None  # a reopen un-resolves
        if mode != self.mode:
            self.since = at
        self.mode = mode

    @property
    def breached(self) -> bool:
        return any(e.kind == "breach" for e in self.events)

    def state(self, now: dt.datetime) -> ClockState:
        """The clock as of `now`, once every interval up to `now` is accounted for."""
        stopped = self.mode in ("met", "cancelled")
        ref = self.since if stopped and self.since is not None else now
        if self.reached is not None:
            due, years = self.reached, set(self.reached_missing)
        else:
            years = set(self.missing)
            due = self._add(ref, self.target - self.elapsed, years)
        return ClockState(
            which=self.which,
            state=self.mode,
            target_seconds=self.target.total_seconds(),
            due_at=due,
            elapsed_seconds=self.elapsed.total_seconds(),
            paused_seconds=self.paused.total_seconds(),
            remaining_seconds=(self.target - self.elapsed).total_seconds(),
            met_at=self.met_at,
            breached=self.breached,
            warned=any(e.kind == "warning" for e in self.events),
            missing_years=tuple(sorted(years)),
        )


def _reason(change: StatusChange | tuple[Any, ...]) -> str | None:
    return change[3] if len(change) > 3 else None


def _taken_back(history: Sequence[tuple[dt.datetime, Status, str | None]]) -> set[int]:
    """Positions of the resolves that a FIX_NOT_HELD reopen after them takes back."""
    out: set[int] = set()
    for j, (_, status, reason) in enumerate(history):
        if reason != FIX_NOT_HELD or status in RESOLVED:
            continue
        for i in range(j - 1, -1, -1):
            if history[i][1] is Status.resolved:
                out.add(i)
                break
    return out


def compute_sla(
    *,
    created_at: dt.datetime,
    policy: SlaPolicy,
    changes: Sequence[StatusChange | tuple[dt.datetime, str, str, str | None]],
    now: dt.datetime,
    holidays: HolidayTable | None = None,
) -> SlaState:
    """The SLA state of a work order as of `now`, from its creation time and status changes.

    Changes are taken in order of their own `at`, however late they were synced. Changes after
    `now` are ignored. A change stamped before `created_at` (a device clock running behind)
    counts as happening at `created_at`. The clocks follow `to_status`; `from_status` is not
    checked here, and `reason` only for FIX_NOT_HELD (the service refuses a reasonless hold with
    `check_hold` before recording it). All datetimes must be timezone-aware. Returned instants
    are in UTC.

    Business days come from `holidays` (default: the installed table). Each clock stands alone:
    one that needs a year no table knows is computed with that year's weekdays as working days
    and comes back provisional (`ClockState.missing_years`, `SlaEvent.provisional`), while the
    other clock, if it stays within known years, is exact.
    """
    created = _aware(created_at, "created_at")
    now = max(_aware(now, "now"), created)
    history = sorted(
        (
            (max(_aware(c[0], "change time"), created), Status(c[2]), _reason(c))
            for c in changes
            if _aware(c[0], "change time") <= now
        ),
        key=lambda c: c[0],
    )
    taken_back = _taken_back(history)
    specs: tuple[tuple[ClockName, float | None, _Step], ...] = (
        ("response", policy.response, _response_mode),
        ("resolution", policy.resolution, _resolution_mode),
    )
    clocks: list[tuple[_Clock, _Step]] = []
    for which, target, step in specs:
        if target is None:
            continue
        warn = round(target * policy.warn_at, 6)  # 0.8 × 14400 must be 11520 s, not a hair more
        clock = _Clock(
            which,
            policy.calendar_on(holidays),
            dt.timedelta(seconds=target),
            dt.timedelta(seconds=warn),
            since=created,
        )
        clocks.append((clock, step))

    t = created
    for i, (at, status, _) in enumerate(history):
        for clock, step in clocks:
            clock.advance(t, at)
            seen = Status.in_progress if clock.which == "resolution" and i in taken_back else status
            clock.switch(at, step(clock.mode, seen))
        t = at
    for clock, _ in clocks:
        clock.advance(t, now)

    states = {clock.which: clock.state(now) for clock, _ in clocks}
    events = sorted(
        (e for clock, _ in clocks for e in clock.events),
        key=lambda e: (e.at, e.which != "response", e.kind != "warning"),
    )
    return SlaState(
        now=now,
        response=states.get("response"),
        resolution=states.get("resolution"),
        events=tuple(events),
    )
