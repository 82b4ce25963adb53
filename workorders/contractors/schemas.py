"""API shapes of contractors, their scorecards and breaches, and the PM compliance report."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from core.db import MAX_ID
from core.isotime import wall_time
from core.jsonbody import JsonBody
from workorders.contractors.models import (
    BreachDispute,
    Complaint,
    MonthSignoff,
    ScorecardRevision,
)
from workorders.contractors.scorecard import (
    ClockResult,
    ClockTally,
    Line,
    Scorecard,
    SyncedLate,
    by_priority,
)
from workorders.pm.service import Compliance, ComplianceReport
from workorders.sla.config import PaymentRule

if TYPE_CHECKING:
    MadeAt = dt.datetime
else:
    #: When a complaint was made: ISO 8601, with its offset or read in the site's time zone.
    MadeAt = wall_time(
        1970,
        8999,
        "ISO 8601; without an offset, read in the site's time zone; not with request_id",
    )
#: Free text with something in it, and no NUL (PostgreSQL refuses one).
TEXT = r"^[^\x00]*[^\x00\s][^\x00]*$"
NO_NUL = r"^[^\x00]*$"


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
    excused: int = Field(
        default=0, description="Breached, but a dispute was accepted: in neither percentage"
    )
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
            excused=t.excused,
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
    after_signoff: bool = Field(default=False, description="Made after the month was signed off")

    @classmethod
    def of(cls, r: ScorecardRevision, signoff: MonthSignoff | None = None) -> RevisionOut:
        """From a stored revision."""
        return cls(
            at=r.at,
            reason=r.reason,
            before=r.before,
            after=r.after,
            after_signoff=signoff is not None and r.at >= signoff.signed_at,
        )


class DisputeOut(BaseModel):
    """A contractor's dispute of one breach, and the admin's decision."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    contractor_id: int
    month: str
    workorder_id: int
    clock: Literal["response", "resolution"]
    reason: str
    raised_by: str
    raised_at: dt.datetime
    status: Literal["open", "accepted", "rejected"] = Field(
        description="accepted: the breach no longer counts; rejected: it still does"
    )
    decided_by: str | None
    decided_at: dt.datetime | None
    decision_note: str | None

    @classmethod
    def of(cls, d: BreachDispute) -> DisputeOut:
        """From a stored dispute."""
        return cls.model_validate(d)


class DisputeList(BaseModel):
    """The disputes of a contractor's month."""

    contractor_id: int
    month: str
    items: list[DisputeOut]


class ComplaintOut(BaseModel):
    """A complaint against a contractor's work."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    contractor_id: int
    made_at: dt.datetime = Field(description="When it was made: it counts in that month")
    text: str
    workorder_id: int | None = Field(description="The firm's work order it is about")
    request_id: int | None = Field(description="The occupant request marked as this complaint")
    recorded_by: str
    recorded_at: dt.datetime
    withdrawn: bool = Field(description="Withdrawn: listed, and no longer counted")
    withdrawn_by: str | None
    withdrawn_at: dt.datetime | None

    @classmethod
    def of(cls, c: Complaint) -> ComplaintOut:
        """From a stored complaint."""
        return cls(
            id=c.id,
            contractor_id=c.contractor_id,
            made_at=c.made_at,
            text=c.text,
            workorder_id=c.workorder_id,
            request_id=c.request_id,
            recorded_by=c.recorded_by,
            recorded_at=c.recorded_at,
            withdrawn=c.withdrawn_at is not None,
            withdrawn_by=c.withdrawn_by,
            withdrawn_at=c.withdrawn_at,
        )


class ComplaintList(BaseModel):
    """The complaints made against a contractor in a month."""

    contractor_id: int
    month: str
    counted: int = Field(description="Those not withdrawn: what the payment rule deducts for")
    items: list[ComplaintOut]


class SignoffOut(BaseModel):
    """An admin's sign-off of a contractor's ended month."""

    model_config = ConfigDict(from_attributes=True)

    contractor_id: int
    month: str
    signed_by: str
    signed_at: dt.datetime
    note: str | None
    figures: dict[str, Any] = Field(description="The figures as signed off")

    @classmethod
    def of(cls, s: MonthSignoff) -> SignoffOut:
        """From a stored sign-off."""
        return cls.model_validate(s)


class PriorityTallyOut(BaseModel):
    """Both clocks of one priority over the month."""

    priority: str
    response: ClockTallyOut
    resolution: ClockTallyOut


class PreviousMonthOut(BaseModel):
    """The month before, for comparison."""

    month: str
    work_orders: int
    score: float | None
    payment: float | None
    response_on_time_percent: float | None
    resolution_on_time_percent: float | None
    breaches: int
    complaints: int
    signed_off: bool

    @classmethod
    def of(cls, card: Scorecard) -> PreviousMonthOut:
        """From the month before's scorecard."""
        return cls(
            month=card.month,
            work_orders=card.total,
            score=card.score,
            payment=float(card.payment) if card.payment is not None else None,
            response_on_time_percent=card.response.percent,
            resolution_on_time_percent=card.resolution.percent,
            breaches=len(card.breaches),
            complaints=card.complaints,
            signed_off=card.signoff is not None,
        )


class DisputeIn(JsonBody):
    """A dispute of one breach of a month, with the reason."""

    model_config = ConfigDict(extra="forbid")

    month: str = Field(min_length=7, max_length=7, pattern=r"^[0-9]{4}-[0-9]{2}$")
    workorder_id: int = Field(ge=1, le=MAX_ID)
    clock: Literal["response", "resolution"]
    reason: str = Field(min_length=1, max_length=2000, pattern=TEXT)


class DecisionIn(JsonBody):
    """An admin's decision on a dispute: a note (required to reject)."""

    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=2000, pattern=NO_NUL)


class RejectIn(JsonBody):
    """Rejecting a dispute: the note says why."""

    model_config = ConfigDict(extra="forbid")

    note: str = Field(min_length=1, max_length=2000, pattern=TEXT)


class SignoffIn(JsonBody):
    """Sign an ended month off."""

    model_config = ConfigDict(extra="forbid")

    month: str = Field(min_length=7, max_length=7, pattern=r"^[0-9]{4}-[0-9]{2}$")
    note: str | None = Field(default=None, max_length=2000, pattern=NO_NUL)


class ComplaintIn(JsonBody):
    """A complaint against the firm's work: what it says, optionally the firm's work order it
    is about, and either the occupant request it is (made when that was reported) or when it
    was made (default: now)."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=2000, pattern=TEXT)
    workorder_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    request_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    made_at: MadeAt | None = None


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
    by_priority: list[PriorityTallyOut] = Field(
        default_factory=list, description="On time by priority, both clocks"
    )
    disputes: list[DisputeOut] = Field(
        default_factory=list, description="The contractor's disputes of this month's breaches"
    )
    complaint_items: list[ComplaintOut] = Field(
        default_factory=list,
        description="The complaints made in the month; `complaints` counts those not withdrawn",
    )
    signoff: SignoffOut | None = Field(
        default=None, description="Who signed the month off and when; null until it is"
    )
    revised_after_signoff: bool = Field(
        default=False, description="Some revision was made after the month was signed off"
    )
    previous: PreviousMonthOut | None = Field(
        default=None, description="The month before, for comparison"
    )
    synced_late: list[SyncedLateOut] = Field(
        description="Status changes stated in the month that reached the server more than an "
        "hour after their stated time (offline or backdated), with both times"
    )
    lines: list[ScorecardLineOut]

    @classmethod
    def of(
        cls,
        card: Scorecard,
        target: float,
        revisions: Sequence[ScorecardRevision] = (),
        previous: Scorecard | None = None,
    ) -> ScorecardOut:
        """From a scorecard (and the month before's)."""
        revs = [RevisionOut.of(r, card.signoff) for r in revisions]
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
            revisions=revs,
            by_priority=[
                PriorityTallyOut(
                    priority=p, response=ClockTallyOut.of(rsp), resolution=ClockTallyOut.of(res)
                )
                for p, (rsp, res) in by_priority(card.lines).items()
            ],
            disputes=[DisputeOut.of(d) for d in card.disputes],
            complaint_items=[ComplaintOut.of(c) for c in card.complaint_rows],
            signoff=SignoffOut.of(card.signoff) if card.signoff is not None else None,
            revised_after_signoff=any(r.after_signoff for r in revs),
            previous=PreviousMonthOut.of(previous) if previous is not None else None,
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
    counted: bool = Field(
        default=True, description="False when a dispute of it was accepted: it no longer counts"
    )
    dispute_id: int | None = Field(default=None, description="Its dispute, if one was raised")
    dispute_status: Literal["open", "accepted", "rejected"] | None = None


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
