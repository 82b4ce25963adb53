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

A policy names its contractor by organisation name (``contractor:``), never by database id:
ids are given out by the database and mean nothing in a file. `resolve` turns the name into
the id when a policy is chosen for a work order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from workorders.sla import SlaPolicy

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
