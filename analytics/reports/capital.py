"""The capital plan as a report (`plantroom report capital-plan`): the assets to replace in the
next five years, ranked, each with its cost, the year recommended, its reasons and the evidence
behind them (age against expected life, the Crow-AMSAA β with its 90 % bounds, repair cost
against replacement cost, criticality), and the money needed each year.

The content is built from the JSON of analytics.ageing.capital_plan (`build_capital_report`),
so the workbook, the PDF and the API say the same thing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from analytics.reports.document import Format, Progress, Report, Teller, render
from analytics.reports.energy import Cell, Chart, Table
from analytics.reports.i18n import N_, words
from analytics.reports.maintenance import class_label, name_of
from config.site import SiteConfig

Json = Mapping[str, Any]

#: The reasons of the capital plan (analytics.ageing), in words.
REASONS: dict[str, str] = {
    "past_life": N_("past its expected life"),
    "rising_failures": N_("failures rising (β > 1 at 90%)"),
    "repair_cost_75": N_("repairs ≥ 75% of replacement cost"),
    "repair_cost_50": N_("repairs ≥ 50% of replacement cost"),
    "critical": N_("critical to the site"),
}
CRITICALITY: dict[str, str] = {
    "low": N_("low"),
    "medium": N_("medium"),
    "high": N_("high"),
    "critical": N_("critical"),
}


def _f(value: Any) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def _bounds(ev: Json) -> str:
    """β's 90 % bounds as '[0.85, 2.10]', or '-'."""
    lo, hi = ev.get("beta_lower"), ev.get("beta_upper")
    if not isinstance(lo, int | float) or not isinstance(hi, int | float):
        return "-"
    return f"[{lo:.2f}, {hi:.2f}]"


def build_capital_report(plan: Json, *, site: Json, lang: str, generated: dt.datetime) -> Report:
    """The report's content from capital_plan's JSON, in `lang` ('en' or 'zh-CN')."""
    _ = words(lang)
    site_name = name_of(site, lang)
    horizon = [int(y) for y in plan.get("horizon") or []]
    span = f"{horizon[0]}–{horizon[-1]}" if horizon else ""
    report = Report(
        lang=lang,
        site=site_name,
        title=_("Capital plan {span}", span=span),
        subtitle=f"{site_name} · {span}",
        generated=_("Generated {at}", at=generated.strftime("%Y-%m-%d %H:%M %Z").strip()),
        layout=("by_year", "charts", "plan", "evidence"),
    )
    items = sorted(plan.get("items") or [], key=lambda i: int(i.get("rank") or 0))
    by_year = {int(y): _f(v) for y, v in (plan.get("total_by_year") or {}).items()}
    total = sum(by_year.values()) if by_year else sum(_f(i.get("cost")) for i in items)
    report.facts = [
        (_("Site"), site_name),
        (_("Horizon"), span),
        (_("Assets to replace"), str(len(items))),
        (_("Total cost"), f"{total:,.0f}"),
    ]
    if items:
        first = items[0]
        report.facts.append((_("First in line"), name_of(first.get("asset"), lang)))
    if not items:
        report.empty = True
        report.notes.append(_("No asset needs replacing in {span}.", span=span))
    counts = {y: sum(1 for i in items if i.get("recommended_year") == y) for y in horizon}
    year_rows: list[list[Cell]] = [[str(y), counts[y], by_year.get(y, 0.0)] for y in horizon]
    year_rows.append([_("Total"), len(items), total])
    report.tables.append(
        Table(
            key="by_year",
            title=_("Cost by year"),
            header=[_("Year"), _("Assets"), _("Cost")],
            rows=year_rows,
            formats=["text", "int", "0.00"],
        )
    )
    plan_rows: list[list[Cell]] = []
    evidence_rows: list[list[Cell]] = []
    for item in items:
        asset = item.get("asset") or {}
        ev = item.get("evidence") or {}
        reasons = [_(REASONS[r]) if r in REASONS else str(r) for r in item.get("reasons") or []]
        name = name_of(asset, lang)
        plan_rows.append(
            [
                item.get("rank"),
                name,
                class_label(asset.get("class"), lang),
                str(item.get("recommended_year", "")),
                item.get("cost"),
                item.get("score"),
                ("；" if lang == "zh-CN" else "; ").join(reasons) if reasons else "-",
            ]
        )
        crit = ev.get("criticality") or asset.get("criticality")
        evidence_rows.append(
            [
                name,
                asset.get("install_date") or "-",
                ev.get("age_ratio"),
                ev.get("beta"),
                _bounds(ev),
                ev.get("cost_ratio"),
                _(CRITICALITY[crit]) if crit in CRITICALITY else str(crit or "-"),
            ]
        )
    report.tables.append(
        Table(
            key="plan",
            title=_("Replacements, ranked"),
            header=[
                _("Rank"),
                _("Asset"),
                _("Class"),
                _("Year"),
                _("Cost"),
                _("Score"),
                _("Reasons"),
            ],
            rows=plan_rows,
            formats=["int", "text", "text", "text", "0.00", "0.00", "text"],
        )
    )
    report.tables.append(
        Table(
            key="evidence",
            title=_("The evidence"),
            header=[
                _("Asset"),
                _("Installed"),
                _("Age / expected life"),
                "β",
                _("β 90% bounds"),
                _("Repair / replacement cost"),
                _("Criticality"),
            ],
            rows=evidence_rows,
            formats=["text", "text", "pct", "0.00", "text", "pct", "text"],
            note=_(
                "β: the Crow-AMSAA growth parameter of the asset's failures (above 1: failures "
                "coming faster), with Crow's 90% two-sided bounds; repairs: corrective cost of "
                "the last years against the replacement cost."
            ),
        )
    )
    if items and horizon:
        report.charts.append(
            Chart(
                kind="bars",
                title=_("Replacement cost by year"),
                categories=[str(y) for y in horizon],
                series=[(_("Cost"), [by_year.get(y, 0.0) for y in horizon])],
                unit="",
            )
        )
    return report


def report_name(site: SiteConfig[Any], lang: str, generated: dt.date) -> str:
    """capital-plan-<site>-<YYYY-MM-DD>-<lang> (the extension follows)."""
    return f"capital-plan-{site.doc.site.id}-{generated:%Y-%m-%d}-{lang}"


def write_capital_report(
    session: Session,
    site: SiteConfig[Any],
    *,
    lang: str,
    formats: Sequence[Format],
    out_dir: Path,
    now: dt.datetime,
    years: int = 5,
    progress: Progress | None = None,
    fonts: Sequence[tuple[Path, int, str]] | None = None,
) -> list[Path]:
    """Rank the assets (capital_plan) and write the report in each format to out_dir; the
    files written. FontMissing before any reading when a PDF is asked for and no font
    covering Chinese is installed."""
    from analytics.ageing import capital_plan
    from analytics.reports.pdf import find_font

    _ = words(lang)
    if "pdf" in formats:
        find_font(fonts)
    tell = Teller(progress)
    tell(0.0, _(RANKING))
    plan = capital_plan(session, site, now=now, years=years)
    tell.done = len(plan.get("items") or [])
    tell(0.8, _(RANKING))
    report = build_capital_report(
        plan,
        site={"id": site.doc.site.id, "name": site.doc.site.name, "name_zh": site.doc.site.name_zh},
        lang=lang,
        generated=now.astimezone(dt.UTC),
    )
    return render(
        report,
        formats=formats,
        out_dir=out_dir,
        stem=report_name(site, lang, now.date()),
        tell=tell,
        start=0.8,
        fonts=fonts,
    )


RANKING = N_("ranking the assets")
