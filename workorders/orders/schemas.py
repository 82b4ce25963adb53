"""API shapes for work orders and assets."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.json_schema import SkipJsonSchema

from core.db import MAX_ID
from core.isotime import instant
from core.jsonbody import JsonBody
from workorders.orders.models import HoldReason, Origin, Priority, Status, WorkOrderType

#: Action times before this are typos, and far-off ones overflow time zone arithmetic.


class _In(JsonBody):
    """Request bodies: unknown fields, NaN and infinities are refused."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        # PostgreSQL text cannot hold NUL: refuse it here (422), not in the database (500).
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(t, str) and "\x00" in t for t in texts):
            raise ValueError("must not contain NUL characters")
        return value


#: When something happened, with its UTC offset; a tablet that synced late sends its own time.
if TYPE_CHECKING:
    ActionTime = dt.datetime
else:
    ActionTime = instant(2000, 8999, "ISO 8601 with its UTC offset, from the year 2000")


class EventOut(BaseModel):
    """A timeline entry."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    ts: dt.datetime = Field(description="When it happened (for an offline action, as stated)")
    received_at: dt.datetime | None = Field(
        default=None, description="When the server received a person's action"
    )
    kind: str
    actor: str
    message: str
    data: dict[str, Any] | None


class ChecklistItem(BaseModel):
    """One checklist line and its result."""

    item: str
    done: bool | None = None
    result: str = ""
    by: str | None = None
    at: str | None = None


class Sla(BaseModel):
    """Where a work order stands against its SLA."""

    policy: str | None = Field(description="The policy's name; null when no SLA applies")
    response_due_at: dt.datetime | None
    resolution_due_at: dt.datetime | None
    response_met_at: dt.datetime | None
    response_breached: bool
    resolution_breached: bool
    paused_seconds: float = Field(description="Working time the clock spent on hold")
    provisional: bool = Field(
        default=False,
        description="A due time rests on a holiday year nobody has loaded yet (its weekdays "
        "taken as working days); no warning or breach is recorded from it",
    )
    provisional_reason: str | None = Field(
        default=None, description="Which clock needs which year; null when both are exact"
    )


class WorkOrderOut(BaseModel):
    """A work order as the API shows it."""

    id: int
    version: int = Field(description="Changes with every update; the ETag carries it")
    title: str
    description: str
    status: Status
    priority: Priority
    type: WorkOrderType
    origin: Origin
    asset_id: str | None
    asset_name: str | None
    asset_name_zh: str | None = Field(description="The asset's name in Simplified Chinese")
    building_id: str | None = Field(description="The asset's building")
    building_name: str | None
    building_name_zh: str | None
    location: str | None = Field(description="Where in the building the asset stands")
    location_zh: str | None
    rule_id: str | None
    trigger: dict[str, Any] | None
    alert_count: int
    contractor_id: int | None
    contractor_name: str | None = Field(description="The contractor firm's name")
    assignee_id: int | None
    assignee_name: str | None = Field(description="The assignee's display name")
    hold_reason: HoldReason | None
    cause_code: str | None
    resolution_code: str | None
    checklist: list[ChecklistItem]
    cost_total: float
    due_at: dt.datetime | None
    next_due_at: dt.datetime | None = Field(
        description="When the SLA clock that runs out first is due: the response's while the "
        "response is not met, else the resolution's; null without an SLA (sort=urgency)",
    )
    sla: Sla
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime
    acknowledged_at: dt.datetime | None
    resolved_at: dt.datetime | None
    awaiting_proof: bool = Field(
        default=False,
        description="Resolved while its alert still fired: the fix is proven when the alert "
        "clears by proof_until; if it still fires then, the work order reopens by itself",
    )
    proof_until: dt.datetime | None = Field(
        default=None, description="When an unproven fix reopens (while awaiting_proof)"
    )
    closed_at: dt.datetime | None
    allowed_transitions: list[str] = Field(description="States the caller may move it to")


class LaborOut(BaseModel):
    """Hours booked."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    worker: str
    user_id: int | None
    hours: float
    rate: float
    worked_at: dt.datetime
    note: str
    created_by: str


class PartOut(BaseModel):
    """Parts or materials booked."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    part: str
    part_number: str
    quantity: float
    unit: str
    unit_cost: float
    created_by: str


class CostOut(BaseModel):
    """Another cost booked."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    description: str
    amount: float
    created_by: str


class CostTotals(BaseModel):
    """A work order's costs by kind."""

    labor: float
    parts: float
    other: float
    total: float


class SlaClock(BaseModel):
    """One SLA clock as of the answer, counted on its policy's calendar (working time for a
    business-hours policy)."""

    clock: Literal["response", "resolution"]
    state: Literal["running", "paused", "met", "cancelled"] = Field(
        description="paused while the work order is on hold"
    )
    target_seconds: float
    elapsed_seconds: float
    paused_seconds: float
    remaining_seconds: float = Field(description="target - elapsed; negative once over")
    due_at: dt.datetime
    met_at: dt.datetime | None
    warned: bool
    breached: bool
    provisional: bool = Field(
        description="due_at rests on a holiday year that neither site.yaml nor the bundled "
        "table knows; it is computed with that year's weekdays as working days, and no warning "
        "or breach is recorded from it until the year is loaded"
    )
    reason: str | None = Field(description="Which year is missing; null when exact")


class AlertContext(BaseModel):
    """The alert behind an alert work order, as it stands now."""

    id: int | None = Field(description="The alert's id; null when no alert row is left")
    rule_id: str
    rule_name: str
    rule_name_zh: str | None
    words: dict[str, str] = Field(
        description='The rule in words, by language: {"en": "motor current above 26 A for '
        '20 s", "zh-CN": "电机电流高于 26 A，持续 20 秒"}'
    )
    state: str | None = Field(
        description="firing, pending, nodata or error while live (the fix is not proven); "
        "resolved once over (the signal is back in range); null when unknown"
    )
    silenced: bool = Field(description="A silence keeps the live alert from notifying anyone")
    point: str
    unit: str
    threshold: float | None = Field(
        description="The limit a chart draws; null for rule types without one (rates, "
        "counters, stale points)"
    )
    started_at: dt.datetime | None
    cleared_at: dt.datetime | None = Field(description="When the alert ended; null while live")


class RequestContext(BaseModel):
    """What the occupant reported, for a request work order."""

    text: str
    reporter: str = Field(description="Who raised it: a requester's username, or 'occupant'")
    contact: str | None = Field(description="How to reach the reporter, as they gave it")
    photos: list[int] = Field(description="Ids of the attachments the reporter added")


class StatutoryItem(BaseModel):
    """A checklist item the law requires, and the rule that requires it."""

    item: str
    basis: str


class WorkOrderDetail(WorkOrderOut):
    """A work order with its timeline and cost lines."""

    alert: AlertContext | None = Field(
        default=None, description="For an alert work order: the rule and the alert's state now"
    )
    request: RequestContext | None = Field(default=None, description="For an occupant request")
    statutory: list[StatutoryItem] | None = Field(
        default=None,
        description="The statutory items of an inspection or preventive job made from a "
        "statutory template, each with its basis; null for other work",
    )

    events: list[EventOut]
    labor: list[LaborOut]
    parts: list[PartOut]
    costs: list[CostOut]
    cost_totals: CostTotals
    sla_clocks: list[SlaClock] = Field(
        description="The SLA clocks as of now, each on its own: a clock that needs a holiday "
        "year nobody has loaded is shown provisional; empty without an SLA"
    )


class WorkOrderList(BaseModel):
    """A page of work orders."""

    items: list[WorkOrderOut]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page")
    total: int = Field(description="How many work orders match the filters, on every page")


class WorkOrderCreate(_In):
    """A work order raised by a person."""

    title: str = Field(min_length=1, max_length=300)
    description: str = Field(default="", max_length=10_000)
    priority: Priority = Priority.P3
    type: WorkOrderType = WorkOrderType.corrective
    asset_id: str | None = Field(default=None, max_length=100, pattern=r"^[^\x00-\x1f\x7f]+$")
    origin: Origin = Field(default=Origin.manual, description="manual or request")
    checklist: list[str] = Field(default_factory=list, max_length=100)
    contractor_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    assignee_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    at: ActionTime | None = Field(default=None, description="When it was raised (offline)")

    @field_validator("checklist")
    @classmethod
    def _items(cls, value: list[str]) -> list[str]:
        for item in value:
            if not item.strip() or len(item) > 300:
                raise ValueError("checklist items are 1-300 characters")
        if len(set(value)) != len(value):
            raise ValueError("checklist items must differ")
        return value

    @field_validator("origin")
    @classmethod
    def _origin(cls, value: Origin) -> Origin:
        if value not in (Origin.manual, Origin.request):
            raise ValueError("a person raises 'manual' or 'request' work orders")
        return value


class WorkOrderPatch(_In):
    """Fields to change; those left out stay as they are."""

    title: str | SkipJsonSchema[None] = Field(default=None, min_length=1, max_length=300)
    description: str | None = Field(default=None, max_length=10_000)
    priority: Priority | SkipJsonSchema[None] = None
    type: WorkOrderType | SkipJsonSchema[None] = None
    asset_id: str | None = Field(default=None, max_length=100, pattern=r"^[^\x00-\x1f\x7f]+$")
    cause_code: str | None = Field(default=None, max_length=50)
    resolution_code: str | None = Field(default=None, max_length=50)
    checklist: list[str] | None = Field(default=None, max_length=100)

    @field_validator("checklist")
    @classmethod
    def _items(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else WorkOrderCreate._items(value)

    @field_validator("title", "priority", "type", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("cannot be null: leave the field out to keep it as it is")
        return value


class StatusChange(_In):
    """Move a work order to another state."""

    status: Status
    note: str = Field(default="", max_length=5_000)
    reason: HoldReason | None = Field(default=None, description="Required for on_hold")
    at: ActionTime | None = Field(
        default=None, description="When it happened, if earlier than now (offline tablets)"
    )
    cause_code: str | None = Field(default=None, max_length=50)
    resolution_code: str | None = Field(default=None, max_length=50)


class TakeIn(_In):
    """Take an open, unassigned work order: it becomes the caller's."""

    at: ActionTime | None = Field(
        default=None, description="When it was taken, if earlier than now (offline tablets)"
    )


class Assignment(_In):
    """Who takes a work order: a person, a contractor, or both."""

    assignee_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    contractor_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    at: ActionTime | None = None


class CommentIn(_In):
    """A comment for the timeline."""

    text: str = Field(min_length=1, max_length=5_000)
    at: ActionTime | None = None


class ChecklistResult(_In):
    """The result of one checklist item."""

    done: bool | None
    result: str = Field(default="", max_length=2_000)
    at: ActionTime | None = None


class LaborIn(_In):
    """Hours worked."""

    worker: str | None = Field(
        default=None, min_length=1, max_length=80, description="Defaults to the caller"
    )
    hours: float = Field(gt=0, le=24)
    rate: float = Field(default=0.0, ge=0, le=100_000)
    worked_at: ActionTime | None = None
    note: str = Field(default="", max_length=2_000)


class PartIn(_In):
    """Parts or materials used."""

    part: str = Field(min_length=1, max_length=200)
    part_number: str = Field(default="", max_length=80)
    quantity: float = Field(gt=0, le=1_000_000)
    unit: str = Field(default="pcs", min_length=1, max_length=20)
    unit_cost: float = Field(default=0.0, ge=0, le=10_000_000)


class CostIn(_In):
    """Any other cost."""

    description: str = Field(min_length=1, max_length=300)
    amount: float = Field(ge=0, le=10_000_000)


class AuditOut(BaseModel):
    """One audit-log entry."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    ts: dt.datetime = Field(description="When the server recorded the change (its arrival)")
    action_at: dt.datetime | None = Field(
        default=None,
        description="When the change happened as the client stated it (`at`, e.g. an offline "
        "action synced later); null when it stated no time",
    )
    actor: str
    actor_role: str
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    version: int | None


class AssetOut(BaseModel):
    """An asset."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    name_zh: str | None = Field(default=None, description="The name in Simplified Chinese")
    brick_class: str
    building_id: str
    building_name: str
    building_name_zh: str | None = None
    location: str
    location_zh: str | None = Field(
        default=None,
        description="The location in Simplified Chinese (English where a part has no name_zh)",
    )
    install_date: dt.date | None
    expected_life_years: float | None
    replacement_cost: float | None
    criticality: str
    parent_meter_id: str | None
    sub_item: str | None
    location_id: int | None = Field(
        default=None, description="Where it stands (GET /locations): a room, floor or building"
    )


class AssetPoint(BaseModel):
    """A point an asset's devices read: what GET /assets/{id}/readings can chart."""

    name: str
    unit: str = Field(description="As the device profile states it ('' for none)")
    label: str | None = Field(description="The profile's description of the point, if any")


class AssetWithPoints(AssetOut):
    """An asset, with the points its devices read."""

    points: list[AssetPoint] = Field(
        description="The points its devices' profiles define, in profile order (none for an "
        "asset site.yaml does not declare)"
    )


class CodeOut(BaseModel):
    """A cause or resolution code of the site (site.yaml ``codes:``)."""

    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    name_zh: str | None = Field(description="The name in Simplified Chinese, when given")


class CodesOut(BaseModel):
    """The site's cause and resolution codes, in site.yaml's order; empty lists when none."""

    cause: list[CodeOut]
    resolution: list[CodeOut]


# --- the office: bulk assignment, reopen, whom to assign to (issue 15) -------------------------


class BulkAssign(_In):
    """Give many work orders to the same person and/or contractor firm."""

    ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(
        min_length=1, max_length=200, description="work order ids, each taken once, in order"
    )
    assignee_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    contractor_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class BulkItem(BaseModel):
    """What became of one work order of a bulk assignment."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    ok: bool
    status_code: int = Field(description="200, or the status the single /assign would answer")
    error: str | None = Field(description="the error code when refused (e.g. not_found)")
    message: str | None = Field(description="why it was refused, in words")
    version: int | None = Field(description="the work order's new version when assigned")


class BulkResult(BaseModel):
    """A bulk assignment's outcome, one item per work order asked about."""

    assigned: int
    failed: int
    items: list[BulkItem]


class ReopenIn(_In):
    """Reopen a finished work order, saying why."""

    note: str = Field(default="", max_length=5_000)
    at: ActionTime | None = None


class AssigneeOut(BaseModel):
    """Someone the office may give work to."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    display_name: str
    role: str
    organisation_id: int | None


class FirmOut(BaseModel):
    """A contractor firm the office may give work to."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str


class AssigneesOut(BaseModel):
    """Whom work may go to: active technicians, engineers and contractors' people, and the
    active contractor firms."""

    people: list[AssigneeOut]
    contractors: list[FirmOut]
