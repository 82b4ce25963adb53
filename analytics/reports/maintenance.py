"""The monthly maintenance report (`plantroom report maintenance --month YYYY-MM`): the month's
work orders, what they cost, how each contractor kept its SLA, and the assets failing most.

Its content is built from JSON-shaped figures (`build_maintenance_report`), so the workbook and
the PDF say the same thing and tests can hand-make them:
- the month's KPIs: analytics.kpis.kpis (MTTR, MTBF, PM compliance, planned share, backlog,
  possible recalls, spend planned and reactive, per building, contractor and asset class);
- the SLA by contractor: workorders.contractors.scorecard for each contractor firm (on-time
  response and resolution, breaches, the score the firm is paid on);
- the assets failing most: analytics.ageing.asset_health of each asset as of the month's end,
  ranked by the failures of the twelve months to that end (then of the month).
`write_maintenance_report` gathers them from the database and writes the files.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from analytics.reports.document import Format, Progress, Report, Teller, render
from analytics.reports.energy import Cell, Chart, Table
from analytics.reports.i18n import N_, words
from config.site import SiteConfig
from core.errors import AppError

Json = Mapping[str, Any]
#: How many assets the "failing most" table lists.
TOP_ASSETS = 10
#: The failures counted for "failing most": those of the twelve months to the month's end.
WINDOW_DAYS = 365

#: Asset classes (Brick) in words; a class not listed is shown as its name with spaces.
CLASSES: dict[str, str] = {
    "Elevator": N_("Lift"),
    "Pump": N_("Pump"),
    "Fire_Pump": N_("Fire pump"),
    "Jockey_Pump": N_("Jockey pump"),
    "Electrical_Meter": N_("Electricity meter"),
    "Water_Meter": N_("Water meter"),
    "Weather_Station": N_("Weather station"),
    "Chiller": N_("Chiller"),
    "Boiler": N_("Boiler"),
    "Air_Handler_Unit": N_("Air handling unit"),
}
#: The failure trends (analytics.reliability's Laplace verdicts).
TRENDS: dict[str, str] = {
    "worsening": N_("worsening"),
    "improving": N_("improving"),
    "no trend": N_("no trend"),
}
#: The cost flags of asset health (DOMAIN.md: 50 % warning, 75 % replace).
COST_FLAGS: dict[str, str] = {"warning": N_("warning"), "replace": N_("replace")}
#: Work-order counts of the KPIs (analytics.kpis), in the order shown.
COUNTS: dict[str, str] = {
    "corrective_opened": N_("Corrective work orders opened"),
    "failures": N_("Failures of assets"),
    "repairs": N_("Repairs finished"),
    "recalls": N_("Possible recalls"),
    "pm_due": N_("PM due"),
    "pm_on_time": N_("PM done on time"),
    "pm_late": N_("PM done late"),
    "pm_not_done": N_("PM not done"),
    "pm_pending": N_("PM still due"),
    "backlog_open": N_("Open at the month's end"),
    "backlog_hours": N_("Backlog (estimated hours)"),
    "labor_hours": N_("Labour hours"),
    "planned_hours": N_("Planned labour hours"),
    "crew_size": N_("Crew (technicians)"),
}


def class_label(brick_class: str | None, lang: str) -> str:
    """An asset class in words in lang: Elevator is 'Lift' / '电梯'."""
    _ = words(lang)
    if not brick_class:
        return ""
    return _(CLASSES[brick_class]) if brick_class in CLASSES else brick_class.replace("_", " ")


def name_of(obj: Json | None, lang: str) -> str:
    """An object's name in lang: its name_zh in Chinese where it has one."""
    if not obj:
        return ""
    zh = obj.get("name_zh")
    return str(zh) if lang == "zh-CN" and zh else str(obj.get("name") or obj.get("id") or "")


def _f(value: Any) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def _num(value: Any, digits: int, unit: str = "") -> str:
    if not isinstance(value, int | float):
        return "-"
    return f"{value:,.{digits}f}{(' ' + unit) if unit else ''}"


def _pct(value: Any) -> str:
    """A KPI percent (0-100) as text."""
    return "-" if not isinstance(value, int | float) else f"{value:.1f}%"


def _share(value: Any) -> float | None:
    """A KPI percent (0-100) as the share the tables format (0-1)."""
    return value / 100.0 if isinstance(value, int | float) else None


def _group_name(row: Json, key: str, lang: str) -> str:
    """The name of a by_building / by_contractor / by_class row of the KPIs."""
    _ = words(lang)
    if key == "class":
        return class_label(str(row.get("class") or ""), lang)
    if key == "contractor" and row.get("contractor") is None:
        return _("In-house")
    return name_of(row, lang) if row.get("name") else str(row.get(key) or "")


def build_maintenance_report(
    kpis: Json,
    sla: Sequence[Json],
    failing: Sequence[Json],
    *,
    site: Json,
    lang: str,
    generated: dt.datetime,
) -> Report:
    """The report's content for one month: `kpis` as analytics.kpis.kpis answers, `sla` one
    row per contractor (sla_row), `failing` the assets failing most (failing_row)."""
    _ = words(lang)
    month = str(kpis["month"])
    site_name = name_of(site, lang)
    report = Report(
        lang=lang,
        site=site_name,
        title=_("Maintenance report {month}", month=month),
        subtitle=f"{site_name} · {month}",
        generated=_("Generated {at}", at=generated.strftime("%Y-%m-%d %H:%M %Z").strip()),
        layout=("work_orders", "spend", "charts", "sla", "failing", "by_building", "by_class"),
    )
    spend = kpis.get("spend") or {}
    report.facts = [
        (_("Site"), site_name),
        (_("Month"), month),
        (_("MTTR"), _num(kpis.get("mttr_hours"), 1, _("h"))),
        (_("MTBF"), _num(kpis.get("mtbf_days"), 1, _("days"))),
        (_("PM compliance"), _pct(kpis.get("pm_compliance_percent"))),
        (_("Planned share"), _pct(kpis.get("planned_share_percent"))),
        (_("Backlog"), _num(kpis.get("backlog_crew_weeks"), 1, _("crew-weeks"))),
        (_("Possible recalls"), _pct(kpis.get("recall_rate_percent"))),
        (_("Spend"), _num(spend.get("total"), 2)),
        (_("Reactive spend"), _num(spend.get("reactive"), 2)),
    ]
    counts = kpis.get("counts") or {}
    if not any(_f(v) for v in counts.values()) and not _f(spend.get("total")):
        report.empty = True
        report.notes.append(_("No maintenance work was recorded in {month}.", month=month))
    report.tables.append(_counts_table(counts, lang))
    report.tables.append(_spend_table(spend, lang))
    report.tables.append(_sla_table(sla, kpis, lang))
    report.tables.append(_failing_table(failing, lang))
    for key, title, head in (
        ("building", _("By building"), _("Building")),
        ("class", _("By asset class"), _("Asset class")),
    ):
        rows = kpis.get(f"by_{key}") or []
        if rows:
            report.tables.append(_group_table(rows, key, title, head, lang))
    report.charts = _charts(spend, failing, lang)
    return report


def _counts_table(counts: Json, lang: str) -> Table:
    _ = words(lang)
    return Table(
        key="work_orders",
        title=_("Work orders"),
        header=[_("Work orders"), _("Count")],
        rows=[[_(label), counts[k]] for k, label in COUNTS.items() if counts.get(k) is not None],
        formats=["text", "int"],
    )


def _spend_table(spend: Json, lang: str) -> Table:
    _ = words(lang)
    total = _f(spend.get("total"))
    rows: list[list[Cell]] = []
    for key, label in (
        ("labor", _("Labour")),
        ("parts", _("Parts")),
        ("other", _("Other")),
        ("total", _("Total")),
        ("planned", _("Planned (preventive)")),
        ("reactive", _("Reactive (corrective)")),
    ):
        value = spend.get(key)
        share = _f(value) / total if total and isinstance(value, int | float) else None
        rows.append([label, value if isinstance(value, int | float) else None, share])
    return Table(
        key="spend",
        title=_("Spend"),
        header=[_("Spend"), _("Amount"), _("Share")],
        rows=rows,
        formats=["text", "0.00", "pct"],
        note=_("Planned and reactive split the same total as labour, parts and other."),
    )


def _sla_table(sla: Sequence[Json], kpis: Json, lang: str) -> Table:
    """One row per contractor firm with work or SLA clocks in the month (in-house work last):
    its scorecard's on-time percentages and breaches beside its KPIs."""
    _ = words(lang)
    work = {r.get("contractor"): r for r in kpis.get("by_contractor") or []}
    cards = {c.get("contractor_id"): c for c in sla}
    firms = [f for f in cards if f is not None]
    firms += [f for f in work if f is not None and f not in cards]
    rows: list[list[Cell]] = []
    for firm in [*firms, *([None] if None in work else [])]:
        card, k = cards.get(firm, {}), work.get(firm, {})
        name = str(card.get("contractor") or "") or _group_name(
            k or {"contractor": firm}, "contractor", lang
        )
        spend = k.get("spend") or {}
        rows.append(
            [
                name + (" *" if card.get("provisional") else ""),
                card.get("judged"),
                _share(card.get("response_percent")),
                _share(card.get("resolution_percent")),
                card.get("breaches"),
                card.get("score"),
                (k.get("counts") or {}).get("corrective_opened"),
                k.get("mttr_hours"),
                spend.get("total"),
            ]
        )
    return Table(
        key="sla",
        title=_("SLA by contractor"),
        header=[
            _("Contractor"),
            _("SLA judged"),
            _("On-time response"),
            _("On-time resolution"),
            _("Breached"),
            _("Score"),
            _("Corrective opened"),
            _("MTTR (h)"),
            _("Spend"),
        ],
        rows=rows,
        formats=["text", "int", "pct", "pct", "int", "0.00", "int", "0.0", "0.00"],
        note=_(
            "On time: the SLA targets met by their due time among those due in the month "
            "(the contractor scorecard); * provisional: a holiday year is not loaded."
        ),
    )


def _failing_table(failing: Sequence[Json], lang: str) -> Table:
    _ = words(lang)
    rows: list[list[Cell]] = []
    for r in failing:
        asset = r.get("asset") or {}
        flag = r.get("cost_flag")
        rows.append(
            [
                name_of(asset, lang),
                class_label(asset.get("class"), lang),
                r.get("failures_month"),
                r.get("failures_12m"),
                r.get("mtbf_days"),
                r.get("beta"),
                _(TRENDS[r["trend"]]) if r.get("trend") in TRENDS else "-",
                r.get("cost_ratio"),
                _(COST_FLAGS[flag]) if flag in COST_FLAGS else "",
            ]
        )
    return Table(
        key="failing",
        title=_("The assets failing most"),
        header=[
            _("Asset"),
            _("Class"),
            _("Failures (month)"),
            _("Failures (12 months)"),
            _("MTBF (days)"),
            "β",
            _("Trend"),
            _("Repair / replacement cost"),
            _("Flag"),
        ],
        rows=rows,
        formats=["text", "text", "int", "int", "0.0", "0.00", "text", "pct", "text"],
        note=_(
            "Failures: corrective work orders, counted when opened. β > 1: failures are "
            "coming faster (Crow-AMSAA); trend: the Laplace test at 5%."
        ),
    )


def _group_table(rows: Sequence[Json], key: str, title: str, head: str, lang: str) -> Table:
    _ = words(lang)
    out: list[list[Cell]] = []
    for r in rows:
        spend = r.get("spend") or {}
        out.append(
            [
                _group_name(r, key, lang),
                r.get("mttr_hours"),
                r.get("mtbf_days"),
                _share(r.get("pm_compliance_percent")),
                _share(r.get("planned_share_percent")),
                _share(r.get("recall_rate_percent")),
                spend.get("total") if isinstance(spend, Mapping) else None,
            ]
        )
    return Table(
        key=f"by_{key}",
        title=title,
        header=[
            head,
            _("MTTR (h)"),
            _("MTBF (days)"),
            _("PM compliance"),
            _("Planned share"),
            _("Possible recalls"),
            _("Spend"),
        ],
        rows=out,
        formats=["text", "0.0", "0.0", "pct", "pct", "pct", "0.00"],
    )


def _charts(spend: Json, failing: Sequence[Json], lang: str) -> list[Chart]:
    _ = words(lang)
    out: list[Chart] = []
    parts = [("labor", _("Labour")), ("parts", _("Parts")), ("other", _("Other"))]
    values = [max(0.0, _f(spend.get(k))) for k, _label in parts]
    if sum(values) > 0:
        out.append(
            Chart(
                kind="pie",
                title=_("Spend by kind"),
                categories=[label for _k, label in parts],
                series=[(_("Spend"), values)],
                unit="",
            )
        )
    ranked = [r for r in failing if _f(r.get("failures_12m")) > 0]
    if ranked:
        out.append(
            Chart(
                kind="bars",
                title=_("Failures in the twelve months to the month's end"),
                categories=[name_of(r.get("asset"), lang) for r in ranked],
                series=[(_("Failures"), [_f(r.get("failures_12m")) for r in ranked])],
                unit="",
            )
        )
    return out


# --- gathering from the database ----------------------------------------------------------------


def sla_row(card: Any) -> dict[str, Any]:
    """One contractor's SLA figures from its Scorecard (workorders.contractors.scorecard)."""
    return {
        "contractor_id": card.contractor_id,
        "contractor": card.contractor,
        "judged": card.total,
        "response_percent": card.response.percent,
        "resolution_percent": card.resolution.percent,
        "breaches": card.response.breached + card.resolution.breached,
        "score": card.score,
        "provisional": card.provisional,
    }


def failing_row(health: Json, *, start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    """One asset's line of "the assets failing most" from its asset_health JSON as of the
    month's `end`: its failures in [start, end) and in the twelve months to `end`."""
    since = end - dt.timedelta(days=WINDOW_DAYS)
    times = [_at(f["at"]) for f in health.get("failures") or []]
    growth = health.get("growth") or {}
    cost = health.get("cost") or {}
    return {
        "asset": health.get("asset") or {},
        "failures_month": sum(1 for t in times if start <= t < end),
        "failures_12m": sum(1 for t in times if since <= t < end),
        "mtbf_days": health.get("mtbf_days"),
        "mttr_hours": health.get("mttr_hours"),
        "beta": growth.get("beta"),
        "trend": growth.get("trend"),
        "cost_ratio": cost.get("ratio"),
        "cost_flag": cost.get("flag"),
    }


def _at(value: Any) -> dt.datetime:
    t = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def rank_failing(rows: Sequence[Json], top: int = TOP_ASSETS) -> list[Json]:
    """The assets with failures in the twelve months, most first (then most this month, then
    by name), at most `top`."""
    hit = [r for r in rows if _f(r.get("failures_12m")) > 0]
    hit.sort(
        key=lambda r: (
            -_f(r.get("failures_12m")),
            -_f(r.get("failures_month")),
            str((r.get("asset") or {}).get("id", "")),
        )
    )
    return hit[:top]


def report_name(site: SiteConfig[Any], month: str, lang: str) -> str:
    """maintenance-report-<site>-<YYYY-MM>-<lang> (the extension follows)."""
    return f"maintenance-report-{site.doc.site.id}-{month}-{lang}"


def write_maintenance_report(
    session: Session,
    site: SiteConfig[Any],
    *,
    month: str,
    lang: str,
    formats: Sequence[Format],
    out_dir: Path,
    now: dt.datetime,
    progress: Progress | None = None,
    fonts: Sequence[tuple[Path, int, str]] | None = None,
) -> list[Path]:
    """Gather the month's figures and write the report in each format to out_dir; the files
    written. BadMonth for a month that is not YYYY-MM or has not begun; FontMissing before any
    reading when a PDF is asked for and no font covering Chinese is installed."""
    from analytics.ageing import asset_health
    from analytics.kpis import kpis as month_kpis
    from analytics.reports.pdf import find_font
    from workorders.contractors.scorecard import month_bounds, parse_month, scorecard
    from workorders.sla import repository as sla_repository

    _ = words(lang)
    if "pdf" in formats:
        find_font(fonts)
    tz = ZoneInfo(site.doc.site.timezone)
    first = parse_month(month, tz, now)
    label = f"{first:%Y-%m}"
    start, end = month_bounds(first, tz)
    as_of = min(end, now)
    tell = Teller(progress)
    firms = sla_repository.contractors(session)
    assets = list(site.assets())
    steps = max(1, 1 + len(firms) + len(assets))

    def moved(stage: str) -> None:
        tell.done += 1
        tell(0.85 * tell.done / steps, stage)

    tell(0.0, _(READING))
    figures = month_kpis(session, site, month=label, now=now)
    zh = {b.id: b.name_zh for b in site.doc.buildings}
    for row in figures.get("by_building") or []:  # the KPIs name buildings in English only
        row.setdefault("name_zh", zh.get(row.get("building")))
    moved(_(READING))
    sla: list[dict[str, Any]] = []
    for firm in firms:
        card = scorecard(session, site=site, contractor=firm, month=first, now=now)
        if card.total:
            sla.append(sla_row(card))
        moved(_(JUDGING))
    rows: list[dict[str, Any]] = []
    for ref in assets:
        try:
            health = asset_health(session, site, asset_id=ref.asset.id, now=as_of)
        except AppError as exc:
            if exc.status_code != 404:
                raise
        else:  # an asset the work-order database does not hold yet has no failures
            rows.append(failing_row(health, start=start, end=as_of))
        moved(_(EXAMINING))
    report = build_maintenance_report(
        figures,
        sla,
        rank_failing(rows),
        site={"id": site.doc.site.id, "name": site.doc.site.name, "name_zh": site.doc.site.name_zh},
        lang=lang,
        generated=now.astimezone(dt.UTC),
    )
    return render(
        report,
        formats=formats,
        out_dir=out_dir,
        stem=report_name(site, label, lang),
        tell=tell,
        start=0.85,
        fonts=fonts,
    )


READING = N_("reading the work orders")
JUDGING = N_("judging the contractors' SLA")
EXAMINING = N_("examining the assets")
