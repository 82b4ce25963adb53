"""The monthly contractor scorecard: on-time response and resolution, counts, breaches, mean
times, a score and the pay it earns.

Which work orders count in which month
    A work order counts in month M (the site's local calendar month) for each SLA clock whose
    due instant falls in M: judged on the response clock if the response was due in M, on the
    resolution clock if the resolution was due in M, and so possibly in two months. The due
    instant is the one computed from the work order's own status history (pauses on hold move
    it later) under the policy stored on it. A target is judged at its deadline, so each month
    judges the promises that fell due in it, each exactly once. Counting by creation month
    would judge a job opened late on the 31st in a month it had no time to run in; counting by
    completion month would never judge a job that is never finished.
    A clock that was cancelled before it breached owes nothing and is not counted; one that
    breached before the cancel counts as breached.

As of when
    A month is judged as of min(end of the month, now): the same inputs give the same result
    whenever it is asked. A change made offline counts when it happened, so one that is synced
    after the month has ended still changes that month's scorecard (that is the point of
    recording action times). In the month under way, a clock due later this month and not yet
    met is "pending": it is in neither percentage.

Figures
    - on-time % per clock = met by its due instant / (on time + breached), pending left out;
    - counts: work orders judged (total), of those responded, resolved, still open and
      cancelled as of the as-of instant; per clock: due, on time, breached, pending;
    - mean times over the clocks judged this month that were met: working time (on the
      policy's calendar, without time on hold) and wall time (from creation to the moment the
      target was met);
    - score = the mean of the two on-time percentages, rounded to 2 decimals before the
      payment rule, so the figure the contractor sees is the one paid on. Each clock weighs
      the same: turning up fast but never finishing must not pass on response alone, and the
      resolution count is the larger one anyway. A clock with nothing judged drops out (P4
      work has no response target); with neither, there is no score and the full fee is paid,
      since nothing was missed. DOMAIN.md's norm of an on-time rate of 92% or more is reported
      as TARGET_ON_TIME_PERCENT beside it; the pay threshold (85) is the payment rule's.
    - pay = the contractor's payment rule (workorders.sla.config.PaymentRule) on the score and
      the organisation's monthly fee, minus any fixed deduction per recorded complaint.

Provisional months
    A clock that needs a holiday year nobody has loaded yet is judged by its provisional
    outcome (that year's weekdays taken as working days) and flagged, and so is the month and
    its pay: a month is always reported, never refused.

Reported and revised
    Each time the scorecard of an ended month is served, its figures are kept
    (scorecard_reports). A later computation that disagrees (the holiday year was loaded and the
    clocks recomputed, or changes made offline were synced late) records a revision with the
    figures before and after, tells the site's notification targets and the webhooks
    (`contractor.scorecard_revised`), and the scorecard lists its revisions: a month already
    reported never changes in silence.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from config.site import SiteConfig
from core.auth.models import Organisation
from core.db import utcnow
from core.errors import AppError
from workorders.contractors import repository as month_repository
from workorders.contractors.models import (
    BreachDispute,
    Complaint,
    MonthSignoff,
    ScorecardRevision,
)
from workorders.orders.models import OPEN_STATES, Status
from workorders.orders.service import SYNCED_LATE
from workorders.sla import notices
from workorders.sla import repository as sla_repository
from workorders.sla.calendars import missing_years_reason
from workorders.sla.clock import (
    RESOLVED,
    RESPONDED,
    ClockName,
    ClockState,
    SlaPolicy,
    StatusChange,
    compute_sla,
)
from workorders.sla.config import PaymentRule, payment_rule
from workorders.sla.service import status_changes
from workorders.webhooks import service as webhooks

#: DOMAIN.md: the norm in Chinese property-service practice is an on-time rate of 92% or more.
TARGET_ON_TIME_PERCENT = 92.0
#: "excused": breached, but a dispute of it was accepted, so it counts in neither percentage.
Outcome = Literal["on_time", "breached", "pending", "excused"]
_MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})$")


class BadMonth(AppError):
    """A month that is not YYYY-MM, does not exist, or has not begun."""

    status_code = 422
    error = "bad_month"


def parse_month(text: str, tz: ZoneInfo, now: dt.datetime | None = None) -> dt.date:
    """The first day of a 'YYYY-MM' month; BadMonth (422) saying why when it is not one, or,
    when now is given, when the month has not begun by then."""
    m = _MONTH.match(text.strip())
    if not m:
        raise BadMonth(f"month must be written YYYY-MM, e.g. 2026-03; got {text!r}")
    year, month = int(m.group(1)), int(m.group(2))
    if not 1 <= month <= 12:
        raise BadMonth(f"there is no month {month:02d}: months run 01-12")
    if year < 1970:
        raise BadMonth(f"{text} is before any work order could have been recorded")
    first = dt.date(year, month, 1)
    if now is not None and dt.datetime(year, month, 1, tzinfo=tz) > now:
        raise BadMonth(f"{text} has not begun yet")
    return first


def month_bounds(month: dt.date, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of the month containing `month`, as local midnights of the site."""
    start = dt.datetime(month.year, month.month, 1, tzinfo=tz)
    end = dt.datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=tz)
    return start, end


@dataclass(frozen=True)
class History:
    """What the scorecard needs of one work order: its terms and its status changes."""

    id: int
    title: str
    priority: str
    created_at: dt.datetime
    policy: SlaPolicy
    changes: tuple[StatusChange, ...]


@dataclass(frozen=True)
class ClockResult:
    """One clock of one work order, judged in the month its due instant falls in."""

    which: ClockName
    outcome: Outcome
    due_at: dt.datetime
    met_at: dt.datetime | None
    target_seconds: float
    #: Working seconds used (on the policy's calendar, without time on hold), as of the as-of.
    working_seconds: float
    #: Wall seconds from creation to met_at; None while not met.
    wall_seconds: float | None
    #: Holiday years nobody has loaded that its due instant or outcome rests on.
    missing_years: tuple[int, ...] = ()

    @property
    def provisional(self) -> bool:
        """Judged on a provisional due time."""
        return bool(self.missing_years)

    @property
    def over_seconds(self) -> float:
        """Working seconds beyond the target (0 when within it)."""
        return max(self.working_seconds - self.target_seconds, 0.0)


@dataclass(frozen=True)
class Line:
    """One work order judged in the month, on one clock or both."""

    id: int
    title: str
    priority: str
    policy: str
    created_at: dt.datetime
    #: Its status as of the as-of instant.
    status: str
    #: Moved to acknowledged, in progress or resolved by the as-of instant.
    responded: bool
    response: ClockResult | None
    resolution: ClockResult | None
    paused_seconds: float

    @property
    def clocks(self) -> list[ClockResult]:
        """The clocks judged in this month."""
        return [c for c in (self.response, self.resolution) if c is not None]


@dataclass
class ClockTally:
    """One clock over all work orders judged in the month."""

    which: ClockName
    due: int = 0
    on_time: int = 0
    breached: int = 0
    pending: int = 0
    #: Breached, but excused by an accepted dispute: in neither percentage.
    excused: int = 0
    met: int = 0
    working_seconds: float = 0.0
    wall_seconds: float = 0.0

    def add(self, c: ClockResult) -> None:
        """Count one judged clock."""
        self.due += 1
        setattr(self, c.outcome, getattr(self, c.outcome) + 1)
        if c.met_at is not None and c.wall_seconds is not None:
            self.met += 1
            self.working_seconds += c.working_seconds
            self.wall_seconds += c.wall_seconds

    @property
    def percent(self) -> float | None:
        """On time / (on time + breached), in %; None when none was decided."""
        decided = self.on_time + self.breached
        return 100.0 * self.on_time / decided if decided else None

    @property
    def mean_working_seconds(self) -> float | None:
        """Mean working time to meet the target, over those met."""
        return self.working_seconds / self.met if self.met else None

    @property
    def mean_wall_seconds(self) -> float | None:
        """Mean wall time from creation to meeting the target, over those met."""
        return self.wall_seconds / self.met if self.met else None


@dataclass(frozen=True)
class SyncedLate:
    """A status change that reached the server more than SYNCED_LATE after the time it states:
    an offline action, or a backdated one. Listed so people can judge it."""

    workorder_id: int
    title: str
    actor: str
    from_status: str
    to_status: str
    #: When it says it happened (what the SLA clocks count from).
    at: dt.datetime
    #: When the server received it.
    received_at: dt.datetime

    @property
    def late_seconds(self) -> float:
        """How long after its stated time it arrived."""
        return (self.received_at - self.at).total_seconds()


@dataclass(frozen=True)
class Scorecard:
    """A contractor's month."""

    contractor_id: int
    contractor: str
    month: str
    timezone: str
    start: dt.datetime
    end: dt.datetime
    as_of: dt.datetime
    total: int
    responded: int
    resolved: int
    open: int
    cancelled: int
    response: ClockTally
    resolution: ClockTally
    score: float | None
    monthly_fee: float | None
    payment: Decimal | None
    rule: PaymentRule
    complaints: int = 0
    lines: tuple[Line, ...] = field(default=())
    #: Status changes stated in the month that were synced more than an hour after their time.
    synced_late: tuple[SyncedLate, ...] = field(default=())
    #: The contractor's disputes of this month's breaches, oldest first, whatever their state.
    disputes: tuple[BreachDispute, ...] = field(default=())
    #: The complaints made in the month (withdrawn ones too; only the others count).
    complaint_rows: tuple[Complaint, ...] = field(default=())
    #: The admin's sign-off of the month, if it was signed off.
    signoff: MonthSignoff | None = None

    @property
    def missing_years(self) -> tuple[int, ...]:
        """Holiday years nobody has loaded that a clock judged this month rests on."""
        return tuple(sorted({y for ln in self.lines for c in ln.clocks for y in c.missing_years}))

    @property
    def provisional(self) -> bool:
        """Some clock, and so the score and the pay, is judged on a provisional due time."""
        return bool(self.missing_years)

    @property
    def provisional_reason(self) -> str | None:
        """Which years are missing, and what to do; None when every clock is exact."""
        return missing_years_reason(self.missing_years)

    @property
    def ended(self) -> bool:
        """The month is over: its figures are final unless something is revised."""
        return self.as_of >= self.end

    @property
    def breaches(self) -> list[tuple[Line, ClockResult]]:
        """Each breached clock judged this month, by due instant."""
        found = [(ln, c) for ln in self.lines for c in ln.clocks if c.outcome == "breached"]
        return sorted(found, key=lambda lc: (lc[1].due_at, lc[0].id, lc[1].which))

    @property
    def missed(self) -> list[tuple[Line, ClockResult]]:
        """Every missed target judged this month, counted or excused by a dispute, by due."""
        found = [
            (ln, c) for ln in self.lines for c in ln.clocks if c.outcome in ("breached", "excused")
        ]
        return sorted(found, key=lambda lc: (lc[1].due_at, lc[0].id, lc[1].which))

    def dispute_of(self, wo_id: int, which: str) -> BreachDispute | None:
        """The dispute of one breached clock, if the contractor raised one."""
        for d in self.disputes:
            if d.workorder_id == wo_id and d.clock == which:
                return d
        return None


#: The priorities in the order they are shown.
PRIORITIES = ("P1", "P2", "P3", "P4")


def by_priority(lines: Iterable[Line]) -> dict[str, tuple[ClockTally, ClockTally]]:
    """Response and resolution tallies per priority, over the month's judged clocks."""
    out: dict[str, tuple[ClockTally, ClockTally]] = {}
    for ln in lines:
        rsp, res = out.setdefault(ln.priority, (ClockTally("response"), ClockTally("resolution")))
        if ln.response is not None:
            rsp.add(ln.response)
        if ln.resolution is not None:
            res.add(ln.resolution)
    order = {p: i for i, p in enumerate(PRIORITIES)}
    return dict(sorted(out.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))


def score_of(response: ClockTally, resolution: ClockTally) -> float | None:
    """The mean of the on-time percentages that are defined, to 2 decimals; None if neither."""
    parts = [p for p in (response.percent, resolution.percent) if p is not None]
    return round(sum(parts) / len(parts), 2) if parts else None


def _judge(
    cs: ClockState | None, created: dt.datetime, start: dt.datetime, end: dt.datetime
) -> ClockResult | None:
    if cs is None or (cs.state == "cancelled" and not cs.breached):
        return None
    if not start <= cs.due_at < end:
        return None
    outcome: Outcome = "breached" if cs.breached else "on_time" if cs.state == "met" else "pending"
    wall = (cs.met_at - created).total_seconds() if cs.met_at is not None else None
    return ClockResult(
        which=cs.which,
        outcome=outcome,
        due_at=cs.due_at,
        met_at=cs.met_at,
        target_seconds=cs.target_seconds,
        working_seconds=cs.elapsed_seconds,
        wall_seconds=wall,
        missing_years=cs.missing_years,
    )


def _excuse(
    c: ClockResult | None, wo_id: int, excused: frozenset[tuple[int, str]]
) -> ClockResult | None:
    if c is not None and c.outcome == "breached" and (wo_id, c.which) in excused:
        return replace(c, outcome="excused")
    return c


def _status_as_of(h: History, as_of: dt.datetime) -> str:
    status = Status.new.value
    for c in sorted(h.changes, key=lambda c: c.at):
        if c.at <= as_of:
            status = str(c.to_status)
    return status


def score_month(
    histories: Iterable[History],
    *,
    contractor_id: int,
    contractor: str,
    month: dt.date,
    tz: ZoneInfo,
    now: dt.datetime,
    rule: PaymentRule,
    monthly_fee: float | None,
    complaints: int = 0,
    excused: frozenset[tuple[int, str]] = frozenset(),
) -> Scorecard:
    """The scorecard of the month containing `month`, as of min(end of month, now), from the
    histories of the contractor's work orders (any superset of those due in the month);
    `excused` breaches, as (work order id, clock), count in neither percentage."""
    start, end = month_bounds(month, tz)
    as_of = min(end, now)
    response, resolution = ClockTally("response"), ClockTally("resolution")
    lines: list[Line] = []
    for h in sorted(histories, key=lambda h: h.id):
        if h.created_at > as_of:  # not there yet, in the month under way
            continue
        st = compute_sla(created_at=h.created_at, policy=h.policy, changes=h.changes, now=as_of)
        rsp = _excuse(_judge(st.response, h.created_at, start, end), h.id, excused)
        res = _excuse(_judge(st.resolution, h.created_at, start, end), h.id, excused)
        if rsp is None and res is None:
            continue
        lines.append(
            Line(
                id=h.id,
                title=h.title,
                priority=h.priority,
                policy=h.policy.name,
                created_at=h.created_at,
                status=_status_as_of(h, as_of),
                responded=any(c.to_status in RESPONDED and c.at <= as_of for c in h.changes),
                response=rsp,
                resolution=res,
                paused_seconds=st.resolution.paused_seconds if st.resolution else 0.0,
            )
        )
        if rsp is not None:
            response.add(rsp)
        if res is not None:
            resolution.add(res)
    score = score_of(response, resolution)
    return Scorecard(
        contractor_id=contractor_id,
        contractor=contractor,
        month=f"{month:%Y-%m}",
        timezone=str(tz),
        start=start,
        end=end,
        as_of=as_of,
        total=len(lines),
        responded=sum(ln.responded for ln in lines),
        resolved=sum(ln.status in RESOLVED for ln in lines),
        open=sum(ln.status in OPEN_STATES for ln in lines),
        cancelled=sum(ln.status == Status.cancelled for ln in lines),
        response=response,
        resolution=resolution,
        score=score,
        monthly_fee=monthly_fee,
        payment=rule.pay(score, monthly_fee, complaints),
        rule=rule,
        complaints=complaints,
        lines=tuple(lines),
    )


def load_histories(
    session: Session, contractor_id: int, start: dt.datetime, end: dt.datetime
) -> list[History]:
    """The histories of the contractor's work orders that may be due in [start, end)."""
    rows = sla_repository.scorecard_candidates(session, contractor_id, start, end)
    events = sla_repository.status_events_of(session, [wo.id for wo in rows])
    return [
        History(
            id=wo.id,
            title=wo.title,
            priority=wo.priority,
            created_at=wo.created_at,
            policy=SlaPolicy.model_validate(wo.sla_policy),
            changes=tuple(status_changes(events.get(wo.id, []))),
        )
        for wo in rows
        if wo.sla_policy
    ]


def scorecard(
    session: Session,
    *,
    site: SiteConfig,
    contractor: Organisation,
    month: dt.date,
    now: dt.datetime | None = None,
    complaints: int | None = None,
) -> Scorecard:
    """A contractor's scorecard for the month containing `month`, in the site's timezone, as of
    min(end of month, now); provisional (and saying so) where a holiday year is missing.
    Complaints are those recorded against it made in the month (and not withdrawn) unless
    given; breaches whose dispute was accepted are excused."""
    tz = ZoneInfo(site.doc.site.timezone)
    start, end = month_bounds(month, tz)
    now = now or utcnow()
    label = f"{month:%Y-%m}"
    disputes = tuple(month_repository.disputes(session, contractor.id, label))
    complaint_rows = tuple(month_repository.complaints(session, contractor.id, start, end))
    if complaints is None:
        complaints = sum(1 for c in complaint_rows if c.withdrawn_at is None)
    excused = frozenset((d.workorder_id, d.clock) for d in disputes if d.status == "accepted")
    card = score_month(
        load_histories(session, contractor.id, start, end),
        contractor_id=contractor.id,
        contractor=contractor.name,
        month=month,
        tz=tz,
        now=now,
        rule=payment_rule(site.doc.contractors, contractor.name),
        monthly_fee=contractor.monthly_fee,
        complaints=complaints,
        excused=excused,
    )
    return replace(
        card,
        synced_late=synced_late(session, contractor.id, start, min(end, now)),
        disputes=disputes,
        complaint_rows=complaint_rows,
        signoff=month_repository.signoff(session, contractor.id, label),
    )


def synced_late(
    session: Session, contractor_id: int, start: dt.datetime, end: dt.datetime
) -> tuple[SyncedLate, ...]:
    """The contractor's status changes stated in [start, end) that arrived more than
    SYNCED_LATE after their stated time."""
    out = []
    for ev, title in sla_repository.received_actions(session, contractor_id, start, end):
        assert ev.received_at is not None
        if ev.received_at - ev.ts > SYNCED_LATE:
            data = ev.data or {}
            out.append(
                SyncedLate(
                    workorder_id=ev.workorder_id,
                    title=title,
                    actor=ev.actor,
                    from_status=str(data.get("from", "")),
                    to_status=str(data.get("to", "")),
                    at=ev.ts,
                    received_at=ev.received_at,
                )
            )
    return tuple(out)


# --- reported months and their revisions ----------------------------------------------------


def figures(card: Scorecard) -> dict[str, object]:
    """The figures a month is reported and paid on (JSON-safe), to compare one report with a
    later computation. Excused breaches and complaints appear only when there are some, so
    figures reported before they existed compare equal."""
    out: dict[str, object] = {
        "score": card.score,
        "payment": None if card.payment is None else f"{card.payment:.2f}",
        "provisional": card.provisional,
        "missing_years": list(card.missing_years),
        "work_orders": card.total,
        **{
            f"{t.which}_{k}": getattr(t, k)
            for t in (card.response, card.resolution)
            for k in ("due", "on_time", "breached", "pending")
        },
        "breaches": [[ln.id, c.which] for ln, c in card.breaches],
    }
    excused = [[ln.id, c.which] for ln, c in card.missed if c.outcome == "excused"]
    if excused:
        out["excused"] = excused
    if card.complaints:
        out["complaints"] = card.complaints
    return out


def _revision_reason(before: dict[str, object], after: dict[str, object]) -> str:
    was = set(before.get("missing_years") or [])  # type: ignore[call-overload]
    now = set(after.get("missing_years") or [])  # type: ignore[call-overload]
    loaded = sorted(was - now)
    if loaded:
        years = ", ".join(map(str, loaded))
        return (
            f"the official {years} holiday arrangement was loaded: clocks that were provisional "
            "are now judged on the real calendar"
        )
    return (
        "the figures changed after the month was reported: changes made during the month were "
        "synced late, or holiday arrangements changed"
    )


def note_reported(
    session: Session,
    card: Scorecard,
    *,
    now: dt.datetime,
    site_name: str = "",
    reason: str | None = None,
) -> ScorecardRevision | None:
    """Keep the figures of an ended month as reported; when they differ from the ones reported
    before, record a revision (with `reason` when the caller knows why) and tell the
    notification targets and the webhooks. Returns the revision, if any. A month under way is
    not kept: its figures move every day."""
    if not card.ended:
        return None
    after = figures(card)
    report = sla_repository.scorecard_report(session, card.contractor_id, card.month)
    if report is None:
        month_repository.add_report_once(
            session,
            contractor_id=card.contractor_id,
            month=card.month,
            figures=after,
            provisional=card.provisional,
            reported_at=now,
        )
        return None
    before = dict(report.figures)
    if before == after:
        return None
    revision = ScorecardRevision(
        contractor_id=card.contractor_id,
        month=card.month,
        at=now,
        reason=reason or _revision_reason(before, after),
        before=before,
        after=after,
    )
    session.add(revision)
    report.figures, report.provisional, report.reported_at = after, card.provisional, now
    session.flush()
    signed = " (signed off)" if card.signoff is not None else ""
    message = (
        f"{site_name + ': ' if site_name else ''}the {card.month}{signed} scorecard of "
        f"{card.contractor} was revised: score {before.get('score')} -> {after.get('score')}, "
        f"payment {before.get('payment')} -> {after.get('payment')}; {revision.reason}"
    )
    data = {
        "contractor_id": card.contractor_id,
        "contractor": card.contractor,
        "month": card.month,
        "reason": revision.reason,
        "before": before,
        "after": after,
        "at": now.isoformat(),
    }
    notices.post(
        session,
        key=f"scorecard_revised:{card.contractor_id}:{card.month}:{revision.id}",
        kind="scorecard_revised",
        severity="minor",
        message=message,
        data=data,
        now=now,
    )
    webhooks.enqueue(session, event="contractor.scorecard_revised", payload=data)
    return revision


def revise_reported(
    session: Session,
    *,
    site: SiteConfig,
    now: dt.datetime,
    months: set[tuple[int, str]] | None = None,
) -> list[ScorecardRevision]:
    """Recompute every reported month (or those in `months`, as (contractor id, YYYY-MM)) and
    record a revision for each whose figures changed; returns them."""
    tz = ZoneInfo(site.doc.site.timezone)
    out: list[ScorecardRevision] = []
    for report in sla_repository.scorecard_reports(session):
        if months is not None and (report.contractor_id, report.month) not in months:
            continue
        org = sla_repository.organisation(session, report.contractor_id)
        if org is None:
            continue
        card = scorecard(
            session, site=site, contractor=org, month=parse_month(report.month, tz), now=now
        )
        revision = note_reported(session, card, now=now, site_name=site.doc.site.name)
        if revision is not None:
            out.append(revision)
    return out


# --- CSV ----------------------------------------------------------------------------------------


def _cell(value: object) -> str:
    """A CSV cell Excel shows as text: a leading = + - @ would make it a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _local(t: dt.datetime | None, tz: ZoneInfo) -> str:
    return "" if t is None else f"{t.astimezone(tz):%Y-%m-%d %H:%M}"


def _hours(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds / 3600:.2f}"


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def to_csv(card: Scorecard) -> str:
    """The scorecard as CSV: a summary block, a blank row, then one row per work order. Times
    are local to the site; durations in hours. (The caller adds the BOM Excel needs.)"""
    tz = ZoneInfo(card.timezone)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    summary: list[tuple[str, object]] = [
        ("Contractor", _cell(card.contractor)),
        ("Month", card.month),
        ("Time zone", card.timezone),
        ("As of", _local(card.as_of, tz)),
        ("Work orders judged", card.total),
        ("Responded", card.responded),
        ("Resolved", card.resolved),
        ("Open", card.open),
        ("Cancelled", card.cancelled),
    ]
    for t in (card.response, card.resolution):
        name = t.which.capitalize()
        summary += [
            (f"{name} due", t.due),
            (f"{name} on time", t.on_time),
            (f"{name} breached", t.breached),
            (f"{name} pending", t.pending),
            (f"{name} excused (dispute accepted)", t.excused),
            (f"{name} on-time %", _pct(t.percent)),
            (f"{name} mean working hours", _hours(t.mean_working_seconds)),
            (f"{name} mean wall hours", _hours(t.mean_wall_seconds)),
        ]
    summary += [
        ("Score", _pct(card.score)),
        ("Monthly fee", "" if card.monthly_fee is None else f"{card.monthly_fee:.2f}"),
        ("Complaints", card.complaints),
        ("Payment", "" if card.payment is None else f"{card.payment:.2f}"),
        ("Provisional", "yes" if card.provisional else "no"),
    ]
    if card.provisional_reason:
        summary.append(("Provisional because", _cell(card.provisional_reason)))
    if card.signoff is not None:
        summary += [
            ("Signed off by", _cell(card.signoff.signed_by)),
            ("Signed off at", _local(card.signoff.signed_at, tz)),
        ]
    w.writerows(summary)
    w.writerow([])
    w.writerow(
        [
            "Work order",
            "Title",
            "Priority",
            "Policy",
            "Status",
            "Created",
            "Response due",
            "Responded",
            "Response outcome",
            "Resolution due",
            "Resolved",
            "Resolution outcome",
            "Working hours used",
            "Hours on hold",
            "Provisional",
        ]
    )
    for ln in card.lines:
        rsp, res = ln.response, ln.resolution
        w.writerow(
            [
                ln.id,
                _cell(ln.title),
                ln.priority,
                _cell(ln.policy),
                ln.status,
                _local(ln.created_at, tz),
                _local(rsp.due_at, tz) if rsp else "",
                _local(rsp.met_at, tz) if rsp else "",
                rsp.outcome if rsp else "",
                _local(res.due_at, tz) if res else "",
                _local(res.met_at, tz) if res else "",
                res.outcome if res else "",
                _hours(res.working_seconds) if res else "",
                _hours(ln.paused_seconds),
                "yes" if any(c.provisional for c in ln.clocks) else "",
            ]
        )
    if card.disputes:
        w.writerow([])
        w.writerow(["Disputes"])
        w.writerow(
            ["Work order", "Clock", "Reason", "By", "Raised", "Outcome", "Decided by", "Note"]
        )
        for d in card.disputes:
            w.writerow(
                [
                    d.workorder_id,
                    d.clock,
                    _cell(d.reason),
                    _cell(d.raised_by),
                    _local(d.raised_at, tz),
                    d.status,
                    _cell(d.decided_by or ""),
                    _cell(d.decision_note or ""),
                ]
            )
    if card.complaint_rows:
        w.writerow([])
        w.writerow(["Complaints"])
        w.writerow(["Made", "Complaint", "Work order", "Occupant request", "Withdrawn"])
        for k in card.complaint_rows:
            w.writerow(
                [
                    _local(k.made_at, tz),
                    _cell(k.text),
                    k.workorder_id or "",
                    k.request_id or "",
                    "yes" if k.withdrawn_at is not None else "",
                ]
            )
    if card.synced_late:
        w.writerow([])
        w.writerow(["Synced late (stated time more than 1 hour before it reached the server)"])
        w.writerow(
            ["Work order", "Title", "By", "From", "To", "Stated time", "Received", "Hours late"]
        )
        for x in card.synced_late:
            w.writerow(
                [
                    x.workorder_id,
                    _cell(x.title),
                    _cell(x.actor),
                    x.from_status,
                    x.to_status,
                    _local(x.at, tz),
                    _local(x.received_at, tz),
                    _hours(x.late_seconds),
                ]
            )
    return out.getvalue()
