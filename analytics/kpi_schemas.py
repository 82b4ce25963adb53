"""Response model of ``GET /api/v1/analytics/kpis`` (analytics.kpis builds the JSON; these
say in OpenAPI what each field is)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class FiltersOut(BaseModel):
    """The filters the figures are of (a contractor's own firm when a contractor asks)."""

    model_config = ConfigDict(populate_by_name=True)

    building: str | None
    contractor: int | None
    class_: str | None = Field(alias="class")


class PeriodOut(BaseModel):
    """The month: [from, to) in UTC; figures count up to `through` (now, in a month under way)."""

    model_config = ConfigDict(populate_by_name=True)

    from_: str = Field(alias="from")
    to: str
    through: str
    complete: bool
    timezone: str


class SpendOut(BaseModel):
    """Money spent in the month: labor by when worked, parts and other costs by when booked."""

    labor: float
    parts: float
    other: float
    total: float
    planned: float = Field(description="on preventive and inspection work")
    reactive: float = Field(description="on corrective work and requests")


class CountsOut(BaseModel):
    """What the KPIs are computed from."""

    corrective_opened: int
    failures: int = Field(description="corrective work orders on an asset opened in the month")
    repairs: int = Field(description="corrective work that ended in the month (MTTR's base)")
    asset_days: float = Field(description="operating time of the assets counted (MTBF)")
    pm_due: int
    pm_on_time: int
    pm_late: int
    pm_not_done: int
    pm_pending: int
    labor_hours: float
    planned_hours: float
    backlog_open: int = Field(description="work orders open at the month's end (or now)")
    backlog_hours: float | None = Field(description="their estimated hours")
    crew_size: int = Field(description="active technicians, or the firm's active accounts")
    recalls: int
    recall_base: int


class KpiBlockOut(BaseModel):
    """The KPIs of one scope (see analytics.kpis for each definition and its source)."""

    mttr_hours: float | None = Field(description="IEEE 493: repair time / repairs")
    mtbf_days: float | None = Field(description="SMRP 3.5.1: asset-days / failures")
    pm_compliance_percent: float | None = Field(description="PM due done by its due date")
    planned_share_percent: float | None = Field(description="planned labor hours / all")
    backlog_crew_weeks: float | None = Field(description="SMRP 5.4.9: open hours / (crew × 40)")
    recall_rate_percent: float | None = Field(
        description="failures within 30 days of earlier corrective work on the asset"
    )
    spend: SpendOut
    counts: CountsOut


class BuildingKpiOut(KpiBlockOut):
    """One building's KPIs."""

    building: str
    name: str


class ContractorKpiOut(KpiBlockOut):
    """One firm's KPIs; contractor null: the in-house crew's work."""

    contractor: int | None
    name: str | None


class ClassKpiOut(KpiBlockOut):
    """One asset class's KPIs."""

    model_config = ConfigDict(populate_by_name=True)

    class_: str = Field(alias="class")


class KpisOut(KpiBlockOut):
    """The maintenance KPIs of a month, with the same per building, firm and asset class."""

    model_config = ConfigDict(populate_by_name=True)

    month: str
    filters: FiltersOut
    period: PeriodOut
    by_building: list[BuildingKpiOut]
    by_contractor: list[ContractorKpiOut]
    by_class: list[ClassKpiOut]
