"""Shapes of the PM calendar API (workorders/pm/routes.py)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from workorders.orders.models import Asset, WorkOrder
from workorders.pm.calendar import AssetSchedule, Entry, Figures, MonthCalendar, source_of
from workorders.pm.models import Schedule
from workorders.pm.service import Compliance, Verdict


class ScheduleOut(BaseModel):
    """A maintenance schedule of the site (site.yaml ``maintenance:``)."""

    id: str
    name: str
    name_zh: str | None = Field(description="The name in Simplified Chinese")
    template: str | None
    type: Literal["preventive", "inspection"] = Field(
        description="'preventive': maintenance; 'inspection': by another body (e.g. TSG T7001)"
    )
    statutory: bool = Field(description="A duty the law sets: no grace on its due date")
    max_gap_days: int | None = Field(
        description="Hard limit: at most this many days between two completed jobs on an asset"
    )
    source: str | None = Field(description="The regulation a statutory template comes from")
    rrule: str
    mode: Literal["fixed", "floating"]

    @classmethod
    def of(cls, s: Schedule) -> ScheduleOut:
        """From a schedule."""
        return cls(
            id=s.id,
            name=s.name,
            name_zh=s.name_zh,
            template=s.template,
            type=s.type,
            statutory=s.statutory,
            max_gap_days=s.max_gap_days,
            source=source_of(s),
            rrule=s.rrule,
            mode=s.mode,
        )


class Lateness(BaseModel):
    """Why a job is late or overdue."""

    reason: Literal["gap", "due"] = Field(
        description="'gap': the statutory limit between two completed jobs ran out; 'due': "
        "not done by its due date (plus the KPI's grace, for ordinary work)"
    )
    gap_days: int | None = Field(
        description="Days from the previous completed job to this one (to today if not done)"
    )
    max_gap_days: int | None
    previous_done_at: dt.datetime | None


def _lateness(v: Verdict | None) -> Lateness | None:
    if v is None or v.late_reason is None:
        return None
    return Lateness(
        reason=v.late_reason,
        gap_days=v.gap_days,
        max_gap_days=v.max_gap_days,
        previous_done_at=v.previous_done_at,
    )


class CalendarEntry(BaseModel):
    """One preventive job due in the month."""

    date: dt.date = Field(description="The due date in the site's time zone")
    due_at: dt.datetime
    state: Literal["scheduled", "open", "done", "late", "overdue", "cancelled", "missed"] = Field(
        description="scheduled: not opened yet; open: opened, not done, not late yet; done: on "
        "time; late: done after its deadline; overdue: not done by its deadline; cancelled; "
        "missed: a past occurrence never opened (the service was down)"
    )
    schedule_id: str
    schedule_name: str
    schedule_name_zh: str | None
    statutory: bool
    type: Literal["preventive", "inspection"]
    asset_id: str
    asset_name: str
    asset_name_zh: str | None
    building_id: str | None
    building_name: str | None
    building_name_zh: str | None
    workorder_id: int | None = Field(description="Null while the job is only scheduled")
    workorder_status: str | None
    deadline: dt.datetime | None = Field(description="The end of the last on-time day")
    done_at: dt.datetime | None
    late: Lateness | None

    @classmethod
    def of(cls, e: Entry, tz: dt.tzinfo, assets: dict[str, Asset]) -> CalendarEntry:
        """From a calendar entry."""
        a = assets.get(e.asset_id)
        wo: WorkOrder | None = e.workorder
        s = e.schedule
        return cls(
            date=e.due_at.astimezone(tz).date(),
            due_at=e.due_at.astimezone(tz),
            state=e.state,
            schedule_id=e.schedule_id,
            schedule_name=s.name if s else (wo.title if wo else e.schedule_id),
            schedule_name_zh=s.name_zh if s else None,
            statutory=bool(s and s.statutory),
            type=s.type
            if s
            else ("inspection" if wo and wo.type == "inspection" else "preventive"),
            asset_id=e.asset_id,
            asset_name=a.name if a else e.asset_id,
            asset_name_zh=a.name_zh if a else None,
            building_id=a.building_id if a else None,
            building_name=a.building_name if a else None,
            building_name_zh=a.building_name_zh if a else None,
            workorder_id=wo.id if wo else None,
            workorder_status=wo.status if wo else None,
            deadline=e.verdict.deadline.astimezone(tz) if e.verdict else None,
            done_at=e.verdict.done_at if e.verdict else None,
            late=_lateness(e.verdict),
        )


class FiguresOut(BaseModel):
    """The month in numbers: one per state, and the statutory lateness among them."""

    total: int
    scheduled: int
    open: int
    done: int
    late: int
    overdue: int
    cancelled: int
    missed: int
    statutory_late: int = Field(description="Late or overdue because a statutory limit ran out")

    @classmethod
    def of(cls, f: Figures, total: int) -> FiguresOut:
        """From the figures."""
        return cls(total=total, **vars(f))


class ComplianceFigures(BaseModel):
    """PM compliance of the month's work orders, as GET /reports/pm-compliance counts it."""

    due: int
    on_time: int
    late: int
    not_done: int
    pending: int
    percent: float | None = Field(description="On time / due in %; null when nothing was due")
    target_percent: float

    @classmethod
    def of(cls, c: Compliance, target: float) -> ComplianceFigures:
        """From a compliance count."""
        return cls(
            due=c.due,
            on_time=c.on_time,
            late=c.late,
            not_done=c.not_done,
            pending=c.pending,
            percent=round(c.percent, 1) if c.percent is not None else None,
            target_percent=target,
        )


class CalendarOut(BaseModel):
    """A month of preventive work, in the site's time zone."""

    month: str
    timezone: str
    as_of: dt.datetime
    grace: Literal["due_date", "smrp"]
    figures: FiguresOut
    compliance: ComplianceFigures
    schedules: list[ScheduleOut]
    items: list[CalendarEntry] = Field(description="By due time")

    @classmethod
    def of(
        cls,
        cal: MonthCalendar,
        *,
        tz: dt.tzinfo,
        tz_name: str,
        as_of: dt.datetime,
        grace: Literal["due_date", "smrp"],
        schedules: list[Schedule],
        target: float,
    ) -> CalendarOut:
        """From a month calendar."""
        return cls(
            month=cal.month,
            timezone=tz_name,
            as_of=as_of,
            grace=grace,
            figures=FiguresOut.of(cal.figures, len(cal.entries)),
            compliance=ComplianceFigures.of(cal.compliance, target),
            schedules=[ScheduleOut.of(s) for s in schedules],
            items=[CalendarEntry.of(e, tz, cal.assets) for e in cal.entries],
        )


class JobRef(BaseModel):
    """A PM work order of a schedule on an asset."""

    workorder_id: int
    status: str
    due_at: dt.datetime
    done_at: dt.datetime | None
    outcome: Literal["on_time", "late", "not_done", "pending"]
    late: Lateness | None


def _job(wo: WorkOrder | None, v: Verdict | None) -> JobRef | None:
    if wo is None or v is None or wo.due_at is None:
        return None
    outcome: Literal["on_time", "late", "not_done", "pending"] = v.outcome  # type: ignore[assignment]
    return JobRef(
        workorder_id=wo.id,
        status=wo.status,
        due_at=wo.due_at,
        done_at=v.done_at,
        outcome=outcome,
        late=_lateness(v),
    )


class AssetScheduleOut(ScheduleOut):
    """A schedule on one asset: the last job done, the one open, the next due."""

    last_done: JobRef | None
    open: JobRef | None
    next_due_at: dt.datetime | None = Field(
        description="The next occurrence no work order stands for yet"
    )

    @classmethod
    def of_asset(cls, a: AssetSchedule) -> AssetScheduleOut:
        """From an asset's schedule."""
        return cls(
            **ScheduleOut.of(a.schedule).model_dump(),
            last_done=_job(a.last, a.last_verdict),
            open=_job(a.open, a.open_verdict),
            next_due_at=a.next_due,
        )


class AssetSchedulesOut(BaseModel):
    """The schedules that select an asset."""

    asset_id: str
    as_of: dt.datetime
    items: list[AssetScheduleOut]
