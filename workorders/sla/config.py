"""The ``sla:`` and ``contractors:`` sections of site.yaml: SLA policies per priority (optionally
per contractor) and the contractors with their monthly fee and payment rule. These are the
shapes; the clocks live in workorders/sla.py, their upkeep in workorders/sla_service.py and the
monthly scorecard in workorders/scorecard.py::

    sla:
      warn_at: 0.8                   # default for every policy that sets none
      policies:
        - {name: P1 emergency, priority: P1, response: 30m, resolution: 4h}
        - {name: P3 routine, priority: P3, response: 1d, resolution: 5d, calendar: business}
        - {name: Huaxia P1, priority: P1, contractor: Huaxia Property Services,
           response: 20m, resolution: 3h}
    contractors:
      - name: Huaxia Property Services
        monthly_fee: 180000
        payment: {full_fee_at: 85, base_percent: 15, deduction_per_complaint: 0}

The ``calendar:`` section loads official holiday arrangements the bundled package does not know
yet (see workorders/calendars.py)::

    calendar:
      arrangements:
        2027:
          source: "国务院办公厅关于2027年部分节假日安排的通知"   # free text: the notice or a URL
          days_off: [2027-01-01, 2027-02-05..2027-02-11]        # single days or inclusive ranges
          workdays: [2027-02-14]                                 # make-up working days

A policy names its contractor by organisation name (``contractor:``), never by database id:
ids are given out by the database and mean nothing in a file. `resolve` turns the name into
the id when a policy is chosen for a work order.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from workorders.sla.calendars import Arrangement, HolidayTable
from workorders.sla.clock import SlaPolicy

CENT = Decimal("0.01")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class SlaPolicyConfig(SlaPolicy):
    """An SLA policy as written in site.yaml: like SlaPolicy, with the contractor by name."""

    #: The organisation name of the contractor this policy is for; None: every work order of
    #: this priority without a policy of its contractor's own.
    contractor: str | None = Field(default=None, min_length=1, max_length=200)

    @model_validator(mode="before")
    @classmethod
    def _no_ids(cls, data: Any) -> Any:
        if isinstance(data, dict) and "contractor_id" in data:
            raise ValueError(
                "name the contractor (contractor: <organisation name>), not its database id"
            )
        return data

    def resolve(self, contractor_id: int | None) -> SlaPolicy:
        """The engine's policy, with the contractor's database id in place of its name."""
        fields = self.model_dump(exclude={"contractor", "contractor_id"})
        return SlaPolicy.model_validate({**fields, "contractor_id": contractor_id})


class SlaSection(_Strict):
    """The ``sla:`` section of site.yaml."""

    #: Used by every policy that sets no warn_at of its own.
    warn_at: float = Field(default=0.8, gt=0, le=1)
    policies: list[SlaPolicyConfig] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _default_warn_at(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "warn_at" not in data:
            return data
        policies = data.get("policies")
        if isinstance(policies, list):
            data = {
                **data,
                "policies": [
                    {"warn_at": data["warn_at"], **p} if isinstance(p, dict) else p
                    for p in policies
                ],
            }
        return data

    @model_validator(mode="after")
    def _one_per_priority(self) -> SlaSection:
        seen: dict[tuple[str, str | None], int] = {}
        for i, p in enumerate(self.policies):
            key = (str(p.priority), p.contractor)
            if key in seen:
                j = seen[key]
                who = f" for contractor '{p.contractor}'" if p.contractor else ""
                raise ValueError(
                    f"policies[{i}] '{p.name}' and policies[{j}] '{self.policies[j].name}' "
                    f"both cover priority {p.priority}{who}; keep one"
                )
            seen[key] = i
        return self


class PaymentRule(_Strict):
    """How a monthly score sets the pay: a score of ``full_fee_at`` or more earns the full fee,
    a lower one (``base_percent`` + score) % of it; each recorded complaint then deducts a fixed
    amount. The pay is never below 0 nor above the fee. Defaults per DOMAIN.md: 85, 15, 0."""

    full_fee_at: float = Field(default=85.0, ge=0, le=100)
    base_percent: float = Field(default=15.0, ge=0, le=100)
    deduction_per_complaint: float = Field(default=0.0, ge=0)

    def share(self, score: float | None) -> Decimal:
        """The fraction of the fee a score earns (1 when nothing was due: nothing was missed)."""
        if score is None or score >= self.full_fee_at:
            return Decimal(1)
        pct = Decimal(str(self.base_percent)) + Decimal(str(score))
        return min(max(pct / 100, Decimal(0)), Decimal(1))

    def pay(self, score: float | None, fee: float | None, complaints: int = 0) -> Decimal | None:
        """The month's pay for a fee, rounded to the cent; None when there is no fee."""
        if fee is None:
            return None
        amount = Decimal(str(fee)) * self.share(score)
        amount -= Decimal(str(self.deduction_per_complaint)) * complaints
        return max(amount, Decimal(0)).quantize(CENT, rounding=ROUND_HALF_UP)


class ContractorConfig(_Strict):
    """A property contractor: an organisation whose users see only the work assigned to it."""

    name: str = Field(min_length=1, max_length=200)
    #: The monthly fee the score scales; None: not paid by score.
    monthly_fee: float | None = Field(default=None, ge=0)
    payment: PaymentRule = Field(default_factory=PaymentRule)


def _unique_names(items: list[ContractorConfig]) -> list[ContractorConfig]:
    seen: dict[str, int] = {}
    for i, c in enumerate(items):
        if c.name in seen:
            raise ValueError(
                f"contractors[{i}] repeats the name '{c.name}' of contractors[{seen[c.name]}]"
            )
        seen[c.name] = i
    return items


#: The ``contractors:`` section of site.yaml: names are unique.
ContractorList = Annotated[list[ContractorConfig], AfterValidator(_unique_names)]


def unknown_contractors(
    sla: SlaSection, contractors: list[ContractorConfig]
) -> list[tuple[tuple[str | int, ...], str]]:
    """(path, message) for each policy naming a contractor the ``contractors:`` section lacks;
    for the site loader's cross-section checks."""
    known = {c.name for c in contractors}
    return [
        (("sla", "policies", i, "contractor"), f"unknown contractor '{p.contractor}'")
        for i, p in enumerate(sla.policies)
        if p.contractor is not None and p.contractor not in known
    ]


def payment_rule(contractors: list[ContractorConfig], name: str) -> PaymentRule:
    """The payment rule of the contractor called name, else the default rule."""
    for c in contractors:
        if c.name == name:
            return c.payment
    return PaymentRule()


def resolve_policies(policies: Sequence[SlaPolicy], ids: Mapping[str, int]) -> list[SlaPolicy]:
    """The engine's policies: names turned into ids; a policy for an organisation the database
    does not hold is left out (it can cover no work order)."""
    out: list[SlaPolicy] = []
    for p in policies:
        if not isinstance(p, SlaPolicyConfig):
            out.append(p)
        elif p.contractor is None:
            out.append(p.resolve(None))
        elif p.contractor in ids:
            out.append(p.resolve(ids[p.contractor]))
    return out


# --- calendar: official holiday arrangements ------------------------------------------------------

_RANGE = re.compile(r"^\s*(\S+?)\s*\.\.\s*(\S+)\s*$")


def _day(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        raise ValueError(f"{value.isoformat()} is a time; write a date such as 2027-01-01")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"{value!r} is not a date written YYYY-MM-DD")


def _days(value: Any) -> tuple[dt.date, dt.date]:
    """A single day (2027-01-01) or an inclusive range (2027-02-05..2027-02-11)."""
    if isinstance(value, str) and (m := _RANGE.match(value)):
        first, last = _day(m.group(1)), _day(m.group(2))
        if last < first:
            raise ValueError(f"the range {value.strip()} runs backwards: {last} is before {first}")
        return first, last
    day = _day(value)
    return day, day


#: One entry of days_off or workdays: a day, or first..last inclusive.
DaySpan = Annotated[tuple[dt.date, dt.date], BeforeValidator(_days)]


def _expand(spans: Sequence[tuple[dt.date, dt.date]]) -> list[dt.date]:
    out: list[dt.date] = []
    for first, last in spans:
        out += [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    return out


class ArrangementConfig(_Strict):
    """One year's official arrangement as the State Council's notice gives it: a year listed is
    complete (weekends plus days_off are off, workdays are worked)."""

    #: Where it comes from: the notice's title or a URL.
    source: str = Field(min_length=1, max_length=500)
    days_off: list[DaySpan] = Field(default_factory=list)
    workdays: list[DaySpan] = Field(default_factory=list)

    def arrangement(self, year: int) -> Arrangement:
        """The calendar's form of it."""
        return Arrangement(
            year=year,
            source=self.source,
            days_off=frozenset(_expand(self.days_off)),
            workdays=frozenset(_expand(self.workdays)),
        )


class CalendarSection(_Strict):
    """The ``calendar:`` section of site.yaml: official arrangements by year, taking precedence
    over the bundled package's."""

    arrangements: dict[Annotated[int, Field(ge=1949, le=2200)], ArrangementConfig] = Field(
        default_factory=dict
    )

    @cached_property
    def holidays(self) -> HolidayTable:
        """Official working days: these arrangements over the bundled package's."""
        return HolidayTable(a.arrangement(y) for y, a in self.arrangements.items())


def calendar_problems(section: CalendarSection) -> list[tuple[tuple[str | int, ...], str]]:
    """(path, message) for each day filed under the wrong year and each day listed both off and
    worked; for the site loader's checks, which locate them at file:line."""
    out: list[tuple[tuple[str | int, ...], str]] = []
    for year, a in section.arrangements.items():
        base = ("calendar", "arrangements", year)
        for key in ("days_off", "workdays"):
            for i, (first, last) in enumerate(getattr(a, key)):
                wrong = sorted({d.year for d in (first, last)} - {year})
                if wrong:
                    out.append(
                        (
                            (*base, key, i),
                            f"{first}{'..' + str(last) if last != first else ''} is in "
                            f"{', '.join(map(str, wrong))}, not in {year}, the year it is listed "
                            "under",
                        )
                    )
        worked = set(_expand(a.workdays))
        for i, span in enumerate(a.days_off):
            both = sorted(worked.intersection(_expand([span])))
            if both:
                days = ", ".join(str(d) for d in both)
                out.append(((*base, "days_off", i), f"{days} is listed both off and as a workday"))
    return out
