"""The balance of a parent meter: what it took in, what its sub-meters account for, and the
unmetered remainder (losses and loads nobody sub-metered), per local day, per month and over
the period; and the sub-metering coverage of each building (DOMAIN.md, "Meter tree": the main
meter's reading minus the sum of its sub-meters is the honest measure of the sub-metering).

Rules:
- remainder = parent - sum(children); percent = 100 * remainder / parent.
- A day on which a sub-meter has no reading at all (nothing known: not installed yet, or dead
  since its last reading) has no known children sum: its `children` and `remainder` are null,
  the sub-meter is listed in `unknown`, and the day's estimated share is 1. It is never counted
  as 0, which would inflate the remainder.
- A day whose figures are bridged over a gap or only partly known counts them, and says so: its
  estimated share is the largest of its meters' (Use.estimated_share).
- Months and the whole period add up their *balanced* days (those with every sub-meter known):
  `children`, `remainder` and `percent` are over those days only, and `unknown_days` says how
  many were left out; `parent` is the parent's whole consumption. The period's `parent` and
  each child's `amount` are the meters' own totals (a child's over the days it is known), with
  the share of the period that is estimated or unknown.
- Coverage of a building = 100 * (sub-metered electricity) / (electricity of its root meters),
  over the balanced days of each root (a root without sub-meters covers 0 of its own).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from analytics.meters import Meter, MeterTree
from analytics.usage import BadPeriod, Usage, Use
from core.errors import AppError

#: The longest period one balance covers.
MAX_DAYS = 400
#: The days a period may lie in (the stores keep nothing outside; datetimes end in 9999).
FIRST_DAY = dt.date(1900, 1, 1)
END_DAY = dt.date(2200, 1, 1)


class NoSubMeters(AppError):
    """A balance was asked of a meter that has no sub-meters."""

    status_code = 422
    error = "no_sub_meters"


def check_period(start: dt.date, end: dt.date) -> None:
    """422 unless start < end (end excluded), the span is at most MAX_DAYS days, and both lie
    within [FIRST_DAY, END_DAY]."""
    if start < FIRST_DAY or end > END_DAY:
        raise BadPeriod(
            f"a period must lie between {FIRST_DAY} and {END_DAY}",
            detail={"from": str(start), "to": str(end)},
        )
    if end <= start:
        raise BadPeriod(
            f"'to' ({end}) must be after 'from' ({start}); 'to' is excluded",
            detail={"from": str(start), "to": str(end)},
        )
    if (end - start).days > MAX_DAYS:
        raise BadPeriod(
            f"{(end - start).days} days asked; at most {MAX_DAYS} at once",
            detail={"days": (end - start).days, "max": MAX_DAYS},
        )


def _unknown(u: Use) -> bool:
    """Nothing at all is known of the meter over the period."""
    span = (u.end - u.start).total_seconds()
    return span > 0 and u.missing_s >= span and u.amount == 0


def _unsure_s(u: Use) -> float:
    return u.estimated_s + u.missing_s


@dataclass
class _Row:
    parent: float = 0.0
    children: float = 0.0
    parent_balanced: float = 0.0
    balanced: int = 0
    unknown_days: int = 0
    unsure_s: float = 0.0
    span_s: float = 0.0

    def figures(self) -> dict[str, Any]:
        known = self.balanced > 0
        rem = self.parent_balanced - self.children if known else None
        return {
            "parent": self.parent,
            "children": self.children if known else None,
            "remainder": rem,
            "percent": _percent(rem, self.parent_balanced),
            "estimated_share": _share(self.unsure_s, self.span_s),
            "unknown_days": self.unknown_days,
        }


def _percent(part: float | None, whole: float) -> float | None:
    return None if part is None or whole <= 0 else 100.0 * part / whole


def _share(unsure: float, span: float) -> float:
    return 0.0 if span <= 0 else min(1.0, unsure / span)


def meter_json(m: Meter) -> dict[str, Any]:
    """A meter as the API shows it."""
    return {
        "id": m.id,
        "name": m.name,
        "name_zh": m.name_zh,
        "building": m.building,
        "carrier": m.carrier,
        "unit": m.unit,
        "source": m.source,
        "kind": m.kind,
        "parent": m.parent,
        "sub_item": m.sub_item,
        "children": list(m.children),
    }


def balance(
    tree: MeterTree, usage: Usage, *, meter_id: str, start: dt.date, end: dt.date
) -> dict[str, Any]:
    """The balance of a parent meter over the local days [start, end) (see the module
    docstring); UnknownMeter 404, NoSubMeters or BadPeriod 422."""
    check_period(start, end)
    meter = tree.get(meter_id)
    kids = tree.children(meter_id)
    if not kids:
        raise NoSubMeters(
            f"meter '{meter_id}' has no sub-meters: there is nothing to balance",
            detail={"meter": meter_id},
        )
    last = end - dt.timedelta(days=1)
    parent_days = usage.daily(meter, start, last)
    kid_days = {k.id: usage.daily(k, start, last) for k in kids}
    total = _Row()
    months: dict[str, _Row] = {}
    days: list[dict[str, Any]] = []
    for i, p in enumerate(parent_days):
        day = start + dt.timedelta(days=i)
        uses = {k: kid_days[k][i] for k in kid_days}
        unknown = [k for k, u in uses.items() if _unknown(u)]
        span = (p.end - p.start).total_seconds()
        share = (
            1.0
            if unknown
            else max([p.estimated_share, *(u.estimated_share for u in uses.values())])
        )
        kids_sum = None if unknown else sum(u.amount for u in uses.values())
        rem = None if kids_sum is None else p.amount - kids_sum
        days.append(
            {
                "day": day.isoformat(),
                "parent": p.amount,
                "children": kids_sum,
                "remainder": rem,
                "percent": _percent(rem, p.amount),
                "estimated_share": share,
                "unknown": unknown,
            }
        )
        for row in (total, months.setdefault(f"{day:%Y-%m}", _Row())):
            row.parent += p.amount
            row.span_s += span
            row.unsure_s += share * span
            if kids_sum is None:
                row.unknown_days += 1
            else:
                row.balanced += 1
                row.children += kids_sum
                row.parent_balanced += p.amount
    span_all = sum((p.end - p.start).total_seconds() for p in parent_days)
    figures = total.figures()
    return {
        "meter": meter_json(meter),
        "from": start.isoformat(),
        "to": end.isoformat(),
        "unit": meter.unit,
        "parent": {
            "amount": total.parent,
            "estimated_share": _share(sum(_unsure_s(p) for p in parent_days), span_all),
        },
        "children": [
            {
                "id": k.id,
                "name": k.name,
                "name_zh": k.name_zh,
                "sub_item": k.sub_item,
                "unit": k.unit,
                "amount": sum(u.amount for u in kid_days[k.id]),
                "estimated_share": _share(sum(_unsure_s(u) for u in kid_days[k.id]), span_all),
            }
            for k in kids
        ],
        "remainder": {
            "amount": figures["remainder"],
            "percent": figures["percent"],
            "children": figures["children"],
            "balanced_days": total.balanced,
            "unknown_days": total.unknown_days,
        },
        "estimated_share": figures["estimated_share"],
        "days": days,
        "months": [{"month": m, **row.figures()} for m, row in months.items()],
    }


def coverage(
    tree: MeterTree, usage: Usage, *, start: dt.date, end: dt.date
) -> dict[str | None, float | None]:
    """Per building (None: the compound-level meters), the percent of its root meters'
    electricity that sub-meters account for over the balanced days of [start, end); None for
    a building without electricity meters or without a balanced day."""
    check_period(start, end)
    out: dict[str | None, float | None] = {}
    sums: dict[str | None, list[float]] = {}
    for root in tree.roots():
        if root.carrier != "electricity":
            continue
        acc = sums.setdefault(root.building, [0.0, 0.0])
        if not root.children:
            last = end - dt.timedelta(days=1)
            acc[0] += sum(u.amount for u in usage.daily(root, start, last) if not _unknown(u))
            continue
        b = balance(tree, usage, meter_id=root.id, start=start, end=end)
        for d in b["days"]:
            if d["children"] is not None:
                acc[0] += d["parent"]
                acc[1] += d["children"]
    for building, (whole, part) in sums.items():
        out[building] = _percent(part, whole)
    return out
