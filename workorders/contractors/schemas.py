"""API shapes of contractors, their scorecards and breaches, and the PM compliance report."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field

from workorders.contractors.models import ScorecardRevision
from workorders.contractors.scorecard import ClockResult, ClockTally, Line, Scorecard, SyncedLate
from workorders.pm.service import Compliance, ComplianceReport
from workorders.sla.config import PaymentRule


class PaymentRuleOut(BaseModel):
    """Score >= full_fee_at earns the full fee; below, (base_percent + score) % of it; minus
    deduction_per_complaint for each recorded complaint."""

    full_fee_at: float
    base_percent: float
    deduction_per_complaint: float

    @classmethod
    def of(cls, rule: PaymentRule) -> PaymentRuleOut:
        """From the configured rule."""
        return cls.model_validate(rule.model_dump())


class ContractorOut(BaseModel):
    """A contractor organisation."""

    id: int
    name: str
    active: bool
    monthly_fee: float | None
    payment_rule: PaymentRuleOut


class ClockTallyOut(BaseModel):
    """One clock over the work orders judged in the month."""

    due: int
    on_time: int
    breached: int
    pending: int
    on_time_percent: float | None
    mean_working_seconds: float | None
    mean_wall_seconds: float | None

    @classmethod
    def of(cls, t: ClockTally) -> ClockTallyOut:
        """From a tally."""
        return cls(
            due=t.due,
            on_time=t.on_time,
            breached=t.breached,
            pending=t.pending,
            on_time_percent=t.percent,
            mean_working_seconds=t.mean_working_seconds,
            mean_wall_seconds=t.mean_wall_seconds,
        )


class ClockOut(BaseModel):
    """One clock of one work order."""

    outcome: str
    due_at: dt.datetime
    met_at: dt.datetime | None
    target_seconds: float
    working_seconds: float
    over_seconds: float
    provisional: bool = Field(
        description="Judged on a due time that rests on a holiday year nobody has loaded yet"
    )

    @classmethod
    def of(cls, c: ClockResult | None) -> ClockOut | None:
        """From a judged clock."""
        if c is None:
            return None
        return cls(
            outcome=c.outcome,
            due_at=c.due_at,
            met_at=c.met_at,
            target_seconds=c.target_seconds,
            working_seconds=c.working_seconds,
            over_seconds=c.over_seconds,
            provisional=c.provisional,
        )


class ScorecardLineOut(BaseModel):
    """One work order judged in the month; a clock not due in the month is null."""

    workorder_id: int
    title: str
    priority: str
    policy: str
    status: str
    created_at: dt.datetime
    response: ClockOut | None
    resolution: ClockOut | None
    paused_seconds: float

    @classmethod
    def of(cls, ln: Line) -> ScorecardLineOut:
        """From a scorecard line."""
        return cls(
            workorder_id=ln.id,
            title=ln.title,
            priority=ln.priority,
            policy=ln.policy,
            status=ln.status,
            created_at=ln.created_at,
            response=ClockOut.of(ln.response),
            resolution=ClockOut.of(ln.resolution),
            paused_seconds=ln.paused_seconds,
        )


class SyncedLateOut(BaseModel):
    """A status change that reached the server more than an hour after the time it states."""

    workorder_id: int
    title: str
    actor: str
    from_status: str
    to_status: str
    at: dt.datetime = Field(description="When it says it happened; the SLA clocks count from it")
    received_at: dt.datetime = Field(description="When the server received it")

    @classmethod
    def of(cls, x: SyncedLate) -> SyncedLateOut:
        """From the scorecard's record."""
        return cls(
            workorder_id=x.workorder_id,
            title=x.title,
            actor=x.actor,
            from_status=x.from_status,
            to_status=x.to_status,
            at=x.at,
            received_at=x.received_at,
        )


class RevisionOut(BaseModel):
    """A reported month whose figures changed afterwards."""

    at: dt.datetime
    reason: str
    before: dict[str, Any] = Field(description="The figures as reported before")
    after: dict[str, Any] = Field(description="The figures now")

    @classmethod
    def of(cls, r: ScorecardRevision) -> RevisionOut:
        """From a stored revision."""
        return cls(at=r.at, reason=r.reason, before=r.before, after=r.after)


class ScorecardOut(BaseModel):
    """A contractor's month: see workorders/scorecard.py for what counts where."""

    contractor_id: int
    contractor: str
    month: str
    timezone: str
    start: dt.datetime
    end: dt.datetime
    as_of: dt.datetime
    work_orders: int
    responded: int
    resolved: int
    open: int
    cancelled: int
    response: ClockTallyOut
    resolution: ClockTallyOut
    score: float | None
    target_on_time_percent: float
    monthly_fee: float | None
    complaints: int
    payment: float | None
    payment_provisional: bool = Field(
        description="The payment rests on provisional clocks: a holiday year nobody has loaded"
    )
    payment_rule: PaymentRuleOut
    provisional: bool = Field(
        description="Some clock judged this month has a provisional due time (weekdays of a "
        "holiday year nobody has loaded taken as working days); they count by their "
        "provisional outcome and are flagged in the lines"
    )
    provisional_reason: str | None = Field(description="Which holiday years are missing")
    revised: bool = Field(description="The month's figures changed after it was reported")
    revisions: list[RevisionOut]
    synced_late: list[SyncedLateOut] = Field(
        description="Status changes stated in the month that reached the server more than an "
        "hour after their stated time (offline or backdated), with both times"
    )
    lines: list[ScorecardLineOut]

    @classmethod
    def of(
        cls, card: Scorecard, target: float, revisions: Sequence[ScorecardRevision] = ()
    ) -> ScorecardOut:
        """From a scorecard."""
        return cls(
            contractor_id=card.contractor_id,
            contractor=card.contractor,
            month=card.month,
            timezone=card.timezone,
            start=card.start,
            end=card.end,
            as_of=card.as_of,
            work_orders=card.total,
            responded=card.responded,
            resolved=card.resolved,
            open=card.open,
            cancelled=card.cancelled,
            response=ClockTallyOut.of(card.response),
            resolution=ClockTallyOut.of(card.resolution),
            score=card.score,
            target_on_time_percent=target,
            monthly_fee=card.monthly_fee,
            complaints=card.complaints,
            payment=float(card.payment) if card.payment is not None else None,
            payment_provisional=card.provisional and card.payment is not None,
            payment_rule=PaymentRuleOut.of(card.rule),
            provisional=card.provisional,
            provisional_reason=card.provisional_reason,
            revised=bool(revisions),
            revisions=[RevisionOut.of(r) for r in revisions],
            synced_late=[SyncedLateOut.of(x) for x in card.synced_late],
            lines=[ScorecardLineOut.of(ln) for ln in card.lines],
        )


class BreachOut(BaseModel):
    """A target missed: judged in the month its due instant falls in."""

    workorder_id: int
    title: str
    priority: str
    policy: str
    clock: str
    due_at: dt.datetime
    #: When the target was finally met; null while it still is not (as of the month's end).
    met_at: dt.datetime | None
    #: Working seconds beyond the target, as of met_at or the month's end.
    over_seconds: float
    status: str


class BreachList(BaseModel):
    """The breaches of a contractor's month."""

    contractor_id: int
    month: str
    as_of: dt.datetime
    items: list[BreachOut]


class ComplianceOut(BaseModel):
    """PM work orders due in the month, for one schedule or all."""

    schedule_id: str | None
    due: int
    on_time: int
    late: int
    not_done: int
    pending: int
    percent: float | None

    @classmethod
    def of(cls, c: Compliance) -> ComplianceOut:
        """From a compliance row."""
        return cls(
            schedule_id=c.schedule_id,
            due=c.due,
            on_time=c.on_time,
            late=c.late,
            not_done=c.not_done,
            pending=c.pending,
            percent=c.percent,
        )


class ComplianceReportOut(BaseModel):
    """PM compliance for a month (target >= 90 %)."""

    month: str
    grace: str
    target_percent: float
    overall: ComplianceOut
    schedules: list[ComplianceOut]

    @classmethod
    def of(cls, r: ComplianceReport, grace: str, target: float) -> ComplianceReportOut:
        """From a compliance report."""
        return cls(
            month=r.month,
            grace=grace,
            target_percent=target,
            overall=ComplianceOut.of(r.overall),
            schedules=[ComplianceOut.of(s) for s in r.schedules],
        )
