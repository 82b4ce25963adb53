"""Response models of ``GET /api/v1/analytics/energy`` (analytics.statistics builds the JSON;
these say in OpenAPI what each field is)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class SiteOut(BaseModel):
    """The compound."""

    id: str
    name: str
    name_zh: str | None


class ScopeOut(BaseModel):
    """What the figures are of: the compound or one building."""

    kind: Literal["compound", "building"]
    id: str


class PeriodOut(BaseModel):
    """The period: [from, to) in local days; figures run to `through` (today at most)."""

    from_: str = Field(alias="from", description="first day, YYYY-MM-DD")
    to: str = Field(description="the day after the period, YYYY-MM-DD (excluded)")
    through: str = Field(description="the last day counted: the period's or today")
    complete: bool = Field(description="every day of the period has gone by")
    timezone: str


class EnergyOut(BaseModel):
    """Total energy (water excluded) and its carbon."""

    kgce: float | None
    tce: float | None
    kgco2e: float | None
    estimated_share: float | None = Field(
        description="the part (0-1) of the counted meters' time that is estimated or missing"
    )


class CarrierOut(BaseModel):
    """One energy carrier."""

    carrier: str
    name: str
    name_zh: str
    amount: float | None
    unit: str
    kgce: float | None
    tce: float | None
    kgco2e: float | None
    share: float | None = Field(description="of the total kgce (0-1)")
    estimated_share: float | None


class SubItemOut(BaseModel):
    """One electricity sub-item class (MOHURD 2008: 01A00..01D00)."""

    code: str
    name: str
    name_zh: str
    kwh: float | None
    share: float | None = Field(description="of the electricity (0-1)")
    estimated_share: float | None = Field(
        description="the part (0-1) of its meters' time estimated or missing; null: no meter"
    )


class UnmeteredOut(BaseModel):
    """Electricity no sub-meter accounts for: the counted meters minus their sub-items."""

    kwh: float | None
    share: float | None
    estimated_share: float | None = Field(
        description="the part (0-1) of the counted meters' and their sub-meters' time that "
        "is estimated or missing: a sub-meter missing counts its use as unmetered"
    )


class ElectricityOut(BaseModel):
    """Electricity by sub-item."""

    kwh: float | None
    sub_items: list[SubItemOut]
    unmetered: UnmeteredOut
    estimated_share: float | None


class WaterOut(BaseModel):
    """Water (counted apart: it is not energy); null without a water meter."""

    m3: float | None
    estimated_share: float | None


class ReferenceValueOut(BaseModel):
    """An indicator set against one configured reference."""

    id: str
    value: float
    ratio: float | None = Field(description="figure / reference; null for a month")


class IndicatorOut(BaseModel):
    """One indicator of the filing."""

    value: float | None
    unit: str
    references: list[ReferenceValueOut]


class IndicatorsOut(BaseModel):
    """The filing's indicators."""

    kgce_per_m2: IndicatorOut
    kgce_per_person: IndicatorOut
    water_m3_per_person: IndicatorOut
    kgco2e_per_m2: IndicatorOut


class CarrierFiguresOut(BaseModel):
    """A carrier's figures in a month or a day."""

    amount: float | None
    unit: str
    kgce: float | None
    kgco2e: float | None


class PeriodFiguresOut(BaseModel):
    """A month's or a day's figures."""

    kgce: float | None
    tce: float | None
    kgco2e: float | None
    carriers: dict[str, CarrierFiguresOut]
    electricity_kwh: float | None
    sub_items: dict[str, float | None]
    unmetered_kwh: float | None
    water_m3: float | None
    kgce_per_m2: float | None
    estimated_share: float | None


class MonthOut(PeriodFiguresOut):
    """One month of a year."""

    month: str = Field(description="YYYY-MM")


class DayOut(PeriodFiguresOut):
    """One day of a month."""

    day: str = Field(description="YYYY-MM-DD")


class BodyOut(BaseModel):
    """The figures of the compound or of one building."""

    floor_area_m2: float
    occupants: int
    meters: list[str] = Field(description="the meters whose sum the figures are")
    energy: EnergyOut
    carriers: list[CarrierOut]
    electricity: ElectricityOut
    water: WaterOut
    indicators: IndicatorsOut


class BuildingOut(BodyOut):
    """One building of the compound."""

    id: str
    name: str
    name_zh: str | None


class ReferenceOut(BaseModel):
    """A reference the site configures (e.g. a province's published averages)."""

    id: str
    name: str
    name_zh: str | None
    source: str
    year: int | None
    kgce_per_m2: float | None
    kgce_per_person: float | None
    water_m3_per_person: float | None


class FactorOut(BaseModel):
    """A conversion factor a figure used (analytics.factors.Factor.ref)."""

    carrier: str
    unit: str
    kind: Literal["kgce", "kgco2e"]
    basis: Literal["equivalent", "equal"]
    value: float
    source: str
    valid_from: str | None
    valid_to: str | None


class EnergyStatisticsOut(BodyOut):
    """The energy statistics of a year (with `months`) or a month (with `days`), of the
    compound (with `buildings`) or one building."""

    site: SiteOut
    scope: ScopeOut
    year: int
    month: int | None
    period: PeriodOut
    basis: Literal["equivalent", "equal"] = Field(
        description="electricity in standard coal: equivalent value (当量值) or equal (等价值)"
    )
    months: list[MonthOut] | None = None
    days: list[DayOut] | None = None
    buildings: list[BuildingOut] | None = None
    references: list[ReferenceOut]
    factors: list[FactorOut]
