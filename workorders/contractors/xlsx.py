"""The scorecard as an Excel workbook, in English or Simplified Chinese: a summary sheet (the
month, the firm, on-time response and resolution overall and by priority, the counts, the score
and the payment, with the provisional flags) and a sheet with one row per breach, as
GET /contractors/{id}/sla-breaches lists them.

Times are the site's local time (Excel has no time zones); durations are hours. Text is always
written as text: a title starting with '=' is not a formula.
"""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from core.i18n import translator
from workorders.contractors.scorecard import ClockTally, Scorecard, by_priority

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_TIME_FORMAT = "yyyy-mm-dd hh:mm"


def _local(t: dt.datetime | None, tz: ZoneInfo) -> dt.datetime | None:
    return None if t is None else t.astimezone(tz).replace(tzinfo=None)


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _row(ws: Worksheet, values: list[object], *, bold: bool = False) -> None:
    """Append a row; strings stay text (never a formula) and datetimes show as local times."""
    ws.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in values])
    for cell in ws[ws.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"
        elif isinstance(cell.value, dt.datetime):
            cell.number_format = _TIME_FORMAT
        if bold:
            cell.font = Font(bold=True)


def _tally(t: ClockTally) -> list[object]:
    return [t.due, t.on_time, t.breached, t.pending, _pct(t.percent)]


def to_xlsx(card: Scorecard, *, lang: str, target: float, revised: bool) -> bytes:
    """The scorecard as an .xlsx workbook in lang ('en' or 'zh-CN')."""
    _ = translator(lang)
    tz = ZoneInfo(card.timezone)
    yes, no = _("yes"), _("no")
    wb = Workbook()
    summary = wb.active
    assert summary is not None
    summary.title = _("Summary")
    rows: list[tuple[str, object]] = [
        (_("Contractor"), card.contractor),
        (_("Month"), card.month),
        (_("Time zone"), card.timezone),
        (_("As of"), _local(card.as_of, tz)),
        (_("Work orders judged"), card.total),
        (_("Responded"), card.responded),
        (_("Resolved"), card.resolved),
        (_("Still open"), card.open),
        (_("Cancelled"), card.cancelled),
        (_("Complaints"), card.complaints),
    ]
    for t, name in ((card.response, _("Response")), (card.resolution, _("Resolution"))):
        rows += [
            (_("{clock} due").format(clock=name), t.due),
            (_("{clock} on time").format(clock=name), t.on_time),
            (_("{clock} breached").format(clock=name), t.breached),
            (_("{clock} pending").format(clock=name), t.pending),
            (_("{clock} on-time %").format(clock=name), _pct(t.percent)),
            (_("{clock} mean working hours").format(clock=name), _hours(t.mean_working_seconds)),
            (_("{clock} mean wall hours").format(clock=name), _hours(t.mean_wall_seconds)),
        ]
    rows += [
        (_("Score"), _pct(card.score)),
        (_("Target on-time %"), target),
        (_("Monthly fee"), card.monthly_fee),
        (_("Payment"), None if card.payment is None else float(card.payment)),
        (_("Payment provisional"), yes if card.provisional and card.payment is not None else no),
        (_("Provisional"), yes if card.provisional else no),
        (_("Provisional because"), card.provisional_reason or ""),
        (_("Revised after it was reported"), yes if revised else no),
        (_("Breaches"), len(card.breaches)),
        (_("Breaches excused (dispute accepted)"), len(card.missed) - len(card.breaches)),
        (_("Disputes"), len(card.disputes)),
        (_("Signed off by"), card.signoff.signed_by if card.signoff else ""),
        (_("Signed off at"), _local(card.signoff.signed_at, tz) if card.signoff else None),
    ]
    for label, value in rows:
        _row(summary, [label, value])
        summary.cell(summary.max_row, 1).font = Font(bold=True)
    _row(summary, [])
    _row(summary, [_("On time by priority")], bold=True)
    _row(
        summary,
        [
            _("Priority"),
            _("Response due"),
            _("Response on time"),
            _("Response breached"),
            _("Response pending"),
            _("Response on-time %"),
            _("Resolution due"),
            _("Resolution on time"),
            _("Resolution breached"),
            _("Resolution pending"),
            _("Resolution on-time %"),
        ],
        bold=True,
    )
    for priority, (rsp, res) in by_priority(card.lines).items():
        _row(
            summary,
            [priority, *_tally(rsp), *_tally(res)],
        )
    summary.column_dimensions["A"].width = 32
    summary.column_dimensions["B"].width = 24

    breaches = wb.create_sheet(_("Breaches"))
    _row(
        breaches,
        [
            _("Work order"),
            _("Title"),
            _("Priority"),
            _("Policy"),
            _("Clock"),
            _("Due"),
            _("Met at"),
            _("Hours over target"),
            _("Status"),
            _("Provisional"),
            _("Counts"),
            _("Dispute"),
            _("Dispute reason"),
            _("Decision note"),
        ],
        bold=True,
    )
    clocks = {"response": _("Response"), "resolution": _("Resolution")}
    outcomes = {"open": _("open"), "accepted": _("accepted"), "rejected": _("rejected")}
    for ln, c in card.missed:
        d = card.dispute_of(ln.id, c.which)
        _row(
            breaches,
            [
                ln.id,
                ln.title,
                ln.priority,
                ln.policy,
                clocks.get(c.which, c.which),
                _local(c.due_at, tz),
                _local(c.met_at, tz),
                _hours(c.over_seconds),
                ln.status,
                yes if c.provisional else no,
                yes if c.outcome == "breached" else no,
                outcomes.get(d.status, d.status) if d else "",
                d.reason if d else "",
                (d.decision_note or "") if d else "",
            ],
        )
    breaches.column_dimensions["B"].width = 40
    for col in "FG":
        breaches.column_dimensions[col].width = 18
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
