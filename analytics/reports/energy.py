"""The annual public-institution energy report: its content, in one language, built from the
JSON of analytics.statistics.energy_statistics for the compound and the year (which carries the
months and the buildings), so the workbook (xlsx.py) and the PDF (pdf.py) say the same thing.

What the filing asks (DOMAIN.md, "Energy statistics for public institutions"): the buildings with
their floor area and occupants, the total energy in tce by carrier, electricity by sub-item
(MOHURD 2008 codes 01A00-01D00) with the unmetered remainder, water, carbon, the indicators
(kgce/m², kgce/person, water m³/person; and kgCO2e/m²) against the references the site
configures, a monthly table, how much of it is estimated, and the factors used with their
sources.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from analytics.reports.i18n import CARRIERS, INDICATORS, MONTHS, SUB_ITEMS, unit_text, words

Cell = str | float | int | None
#: How a column's numbers are shown: text, whole numbers, 1 or 2 or 3 decimals, or a percent.
Format = Literal["text", "int", "0.0", "0.00", "0.000", "0.0000", "pct"]
Stats = Mapping[str, Any]


@dataclass(frozen=True)
class Table:
    """One table of the report, with how each column is formatted."""

    key: str
    title: str
    header: list[str]
    rows: list[list[Cell]]
    formats: list[Format]
    note: str | None = None
    #: Columns (0-based, end excluded) the workbook draws as a stacked column chart over the
    #: rows, titled `chart_title`.
    chart_columns: tuple[int, int] | None = None
    chart_title: str | None = None


@dataclass(frozen=True)
class Chart:
    """One chart: `series` of values over `categories` (bars stacked per category, a pie of
    one series, values against references, or horizontal bars of one series)."""

    kind: Literal["stacked_bars", "pie", "vs_reference", "bars"]
    title: str
    categories: list[str]
    series: list[tuple[str, list[float]]]
    unit: str


@dataclass
class EnergyReport:
    """The report's content in one language."""

    lang: str
    year: int
    site: str
    title: str
    generated: str
    #: (label, value) lines of the summary.
    facts: list[tuple[str, str]] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    #: No consumption at all in the year: the report says so and has no tables of zeros.
    empty: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def subtitle(self) -> str:
        """The line under the title: the site and the year."""
        return f"{self.site} · {self.year}"

    #: The order of the PDF: its tables by key, "charts" where the charts go.
    layout: tuple[str, ...] = (
        "buildings",
        "carriers",
        "sub_items",
        "indicators",
        "charts",
        "monthly",
        "per_building",
        "references",
        "factors",
    )


def _f(value: Any) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def _name(obj: Mapping[str, Any], lang: str) -> str:
    zh = obj.get("name_zh")
    return str(zh) if lang == "zh-CN" and zh else str(obj.get("name") or obj.get("id") or "")


def _num(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _carriers(stats: Stats) -> list[Mapping[str, Any]]:
    """The energy carriers (water apart), largest kgce first."""
    rows = [c for c in stats.get("carriers", []) if c.get("carrier") != "water"]
    return sorted(rows, key=lambda c: -_f(c.get("kgce")))


def _water_m3(stats: Stats) -> float | None:
    """Water of a body (`water.m3`) or of a month (`water_m3`); None: no water meter."""
    water = stats.get("water")
    value = water.get("m3") if isinstance(water, Mapping) else stats.get("water_m3")
    return None if value is None else _f(value)


def _energy(stats: Stats) -> Mapping[str, Any]:
    """kgce, tce, kgco2e and estimated_share of a body (`energy`) or of a month (flat)."""
    got = stats.get("energy")
    return got if isinstance(got, Mapping) else stats


def _kgco2e(stats: Stats) -> float:
    return _f(_energy(stats).get("kgco2e"))


def _has_data(stats: Stats) -> bool:
    return _f(_energy(stats).get("kgce")) > 0 or (_water_m3(stats) or 0) > 0


def _sub_items(stats: Stats) -> list[tuple[str, float]]:
    """(code, kWh) of each electricity sub-item, the unmetered remainder last."""
    elec = stats.get("electricity", {})
    out = [(str(s["code"]), _f(s.get("kwh"))) for s in elec.get("sub_items", [])]
    unmetered = elec.get("unmetered")
    if isinstance(unmetered, Mapping) and unmetered.get("kwh") is not None:
        out.append(("unmetered", _f(unmetered.get("kwh"))))
    return out


def _month_carriers(month: Stats) -> Mapping[str, Mapping[str, Any]]:
    """A month's figures by carrier: {carrier: {amount, unit, kgce, kgco2e}}."""
    got = month.get("carriers", {})
    if isinstance(got, Mapping):
        return got
    return {str(c.get("carrier")): c for c in got}


def _indicator(stats: Stats, key: str) -> Mapping[str, Any]:
    got = stats.get("indicators", {}).get(key)
    return got if isinstance(got, Mapping) else {"value": None, "references": []}


def build_report(stats: Stats, *, lang: str, generated: dt.datetime) -> EnergyReport:
    """The report's content for one year of the compound (energy_statistics without month
    and building), in `lang` ('en' or 'zh-CN')."""
    _ = words(lang)
    year = int(stats["year"])
    site_name = _name(stats.get("site", {}), lang)
    report = EnergyReport(
        lang=lang,
        year=year,
        site=site_name,
        title=_("Public-institution energy report {year}", year=year),
        generated=_("Generated {at}", at=generated.strftime("%Y-%m-%d %H:%M %Z").strip()),
    )
    basis = (
        _("equal value (等价值)")
        if stats.get("basis") == "equal"
        else _("equivalent value (当量值)")
    )
    area, people = stats.get("floor_area_m2"), stats.get("occupants")
    total = _energy(stats)
    water = _water_m3(stats)
    report.facts = [
        (_("Site"), site_name),
        (_("Year"), str(year)),
        (_("Floor area"), f"{_num(area, 0)} m²"),
        (_("Occupants"), _num(people, 0)),
        (_("Total energy"), f"{_num(_f(total.get('tce')), 2)} tce"),
        (_("Carbon"), f"{_num(_kgco2e(stats) / 1000.0, 2)} tCO₂e"),
        (_("Water"), f"{_num(water, 0)} m³"),
        (_("Electricity in standard coal"), basis),
        (_("Estimated share"), f"{_f(total.get('estimated_share')):.1%}"),
    ]
    period = stats.get("period", {})
    if period and not period.get("complete", True):
        report.notes.append(
            _(
                "The year is not over: the figures run through {day}.",
                day=period.get("through", ""),
            )
        )
    report.tables.append(_buildings_table(stats, lang))
    if not _has_data(stats):
        report.empty = True
        report.notes.append(_("No data: no meter recorded any consumption in {year}.", year=year))
        report.tables.append(_factors_table(stats, lang))
        return report
    carriers = _carriers(stats)
    kgce_total = _f(total.get("kgce"))
    carrier_rows: list[list[Cell]] = [
        [
            _(CARRIERS.get(c["carrier"], c["carrier"])),
            _f(c.get("amount")),
            str(c.get("unit", "")),
            _f(c.get("kgce")),
            _f(c.get("kgce")) / 1000.0,
            _f(c.get("kgce")) / kgce_total if kgce_total else 0.0,
            _f(c.get("kgco2e")),
        ]
        for c in carriers
    ]
    carrier_rows.append(
        [_("Total"), None, "", kgce_total, kgce_total / 1000.0, 1.0, _kgco2e(stats)]
    )
    report.tables.append(
        Table(
            key="carriers",
            title=_("Energy by carrier"),
            header=[
                _("Carrier"),
                _("Physical quantity"),
                _("Unit"),
                "kgce",
                "tce",
                _("Share"),
                "kgCO₂e",
            ],
            rows=carrier_rows,
            formats=["text", "0.0", "text", "0.0", "0.000", "pct", "0.0"],
        )
    )
    subs = _sub_items(stats)
    elec_kwh = _f(stats.get("electricity", {}).get("kwh"))
    if subs:
        coverage = f"{_coverage(subs, elec_kwh):.1%}"
        report.tables.append(
            Table(
                key="sub_items",
                title=_("Electricity by sub-item"),
                header=[_("Code"), _("Sub-item"), "kWh", _("Share")],
                rows=[
                    [
                        code if code != "unmetered" else "-",
                        _(SUB_ITEMS.get(code, code)),
                        kwh,
                        kwh / elec_kwh if elec_kwh else 0.0,
                    ]
                    for code, kwh in subs
                ],
                formats=["text", "text", "int", "pct"],
                note=_(
                    "Sub-metering coverage: {pct} of the main meters' electricity.",
                    pct=coverage,
                ),
            )
        )
    report.tables.append(_indicators_table(stats, lang))
    report.tables.append(_monthly_table(stats, lang, carriers))
    if stats.get("buildings"):
        report.tables.append(_per_building_table(stats, lang))
    if stats.get("references"):
        report.tables.append(_references_table(stats, lang))
    report.tables.append(_factors_table(stats, lang))
    report.charts = _charts(stats, lang, carriers, subs)
    return report


def _coverage(subs: Sequence[tuple[str, float]], elec_kwh: float) -> float:
    """The share of the roots' electricity the sub-meters account for."""
    metered = sum(v for code, v in subs if code != "unmetered")
    return min(1.0, metered / elec_kwh) if elec_kwh else 0.0


def _buildings_table(stats: Stats, lang: str) -> Table:
    _ = words(lang)
    rows: list[list[Cell]] = []
    for b in stats.get("buildings", []):
        rows.append([_name(b, lang), b.get("floor_area_m2"), b.get("occupants")])
    rows.append([_("Compound"), stats.get("floor_area_m2"), stats.get("occupants")])
    return Table(
        key="buildings",
        title=_("Buildings"),
        header=[_("Building"), _("Floor area (m²)"), _("Occupants")],
        rows=rows,
        formats=["text", "int", "int"],
    )


def _indicators_table(stats: Stats, lang: str) -> Table:
    _ = words(lang)
    refs = _references(stats)
    header = [_("Indicator"), _("Unit"), str(stats["year"])]
    formats: list[Format] = ["text", "text", "0.00"]
    for r in refs.values():
        header += [_name(r, lang), _("Ratio")]
        formats += ["0.00", "pct"]
    rows: list[list[Cell]] = []
    for key, (label, unit) in INDICATORS.items():
        ind = _indicator(stats, key)
        row: list[Cell] = [_(label), unit_text(unit, lang), ind.get("value")]
        by_id = {str(r["id"]): r for r in ind.get("references", [])}
        for rid in refs:
            r = by_id.get(rid, {})
            row += [r.get("value"), r.get("ratio")]
        rows.append(row)
    return Table(
        key="indicators",
        title=_("Indicators against references"),
        header=header,
        rows=rows,
        formats=formats,
        note=_("Ratio: this year's value over the reference (100% = the same)."),
    )


def _references(stats: Stats) -> dict[str, Mapping[str, Any]]:
    """The site's references by id (with their names), in the order it lists them."""
    out: dict[str, Mapping[str, Any]] = {str(r["id"]): r for r in stats.get("references", [])}
    for key in INDICATORS:
        for r in _indicator(stats, key).get("references", []):
            out.setdefault(str(r["id"]), r)
    return out


def _month_label(month: str, lang: str) -> str:
    _ = words(lang)
    return _(MONTHS[int(month[5:7]) - 1])


def _monthly_table(stats: Stats, lang: str, carriers: Sequence[Mapping[str, Any]]) -> Table:
    _ = words(lang)
    names = [str(c["carrier"]) for c in carriers]
    header = [_("Month")]
    header += [f"{_(CARRIERS.get(n, n))} (kgce)" for n in names]
    header += [_("Total (tce)"), _("Electricity (kWh)"), _("Water (m³)"), "kgCO₂e"]
    header += [_("Estimated share")]
    rows: list[list[Cell]] = []
    for m in stats.get("months", []):
        by = _month_carriers(m)
        row: list[Cell] = [_month_label(str(m["month"]), lang)]
        row += [_f(by.get(n, {}).get("kgce")) for n in names]
        row += [
            _f(_energy(m).get("tce")),
            _f(m.get("electricity_kwh")),
            _water_m3(m),
            _kgco2e(m),
            _energy(m).get("estimated_share"),
        ]
        rows.append(row)
    per_carrier: list[Format] = ["0.0"] * len(names)
    formats: list[Format] = ["text", *per_carrier, "0.000", "int", "0.0", "0.0", "pct"]
    return Table(
        key="monthly",
        title=_("Monthly"),
        header=header,
        rows=rows,
        formats=formats,
        chart_columns=(1, 1 + len(names)) if names and rows else None,
        chart_title=_("Monthly energy by carrier (kgce)"),
    )


def _per_building_table(stats: Stats, lang: str) -> Table:
    _ = words(lang)
    rows: list[list[Cell]] = []
    for b in stats.get("buildings", []):
        rows.append(
            [
                _name(b, lang),
                _f(_energy(b).get("tce")),
                _indicator(b, "kgce_per_m2").get("value"),
                _indicator(b, "kgce_per_person").get("value"),
                _indicator(b, "water_m3_per_person").get("value"),
                _kgco2e(b) / 1000.0,
                _energy(b).get("estimated_share"),
            ]
        )
    return Table(
        key="per_building",
        title=_("By building"),
        header=[
            _("Building"),
            "tce",
            "kgce/m²",
            _("kgce/person"),
            _("m³/person"),
            "tCO₂e",
            _("Estimated share"),
        ],
        rows=rows,
        formats=["text", "0.000", "0.00", "0.0", "0.00", "0.00", "pct"],
    )


def _references_table(stats: Stats, lang: str) -> Table:
    _ = words(lang)
    return Table(
        key="references",
        title=_("References"),
        header=[
            _("Reference"),
            _("Year"),
            "kgce/m²",
            _("kgce/person"),
            _("m³/person"),
            _("Source"),
        ],
        rows=[
            [
                _name(r, lang),
                str(r["year"]) if r.get("year") else "",
                r.get("kgce_per_m2"),
                r.get("kgce_per_person"),
                r.get("water_m3_per_person"),
                str(r.get("source", "")),
            ]
            for r in stats.get("references", [])
        ],
        formats=["text", "text", "0.00", "0.00", "0.00", "text"],
    )


def _factors_table(stats: Stats, lang: str) -> Table:
    _ = words(lang)
    rows: list[list[Cell]] = []
    for f in stats.get("factors", []):
        start, end = f.get("valid_from"), f.get("valid_to")
        valid = f"{start or '…'} – {end or '…'}" if start or end else "-"
        carrier = str(f.get("carrier", ""))
        rows.append(
            [
                _(CARRIERS.get(carrier, carrier)),
                str(f.get("kind", "")),
                _f(f.get("value")),
                f"{f.get('kind')}/{f.get('unit')}",
                valid,
                str(f.get("source", "")),
            ]
        )
    return Table(
        key="factors",
        title=_("Factors used"),
        header=[_("Carrier"), _("Kind"), _("Value"), _("Unit"), _("Valid"), _("Source")],
        rows=rows,
        formats=["text", "text", "0.0000", "text", "text", "text"],
    )


def _charts(
    stats: Stats,
    lang: str,
    carriers: Sequence[Mapping[str, Any]],
    subs: Sequence[tuple[str, float]],
) -> list[Chart]:
    _ = words(lang)
    months = list(stats.get("months", []))
    names = [str(c["carrier"]) for c in carriers]
    series: list[tuple[str, list[float]]] = []
    for n in names:
        values = []
        for m in months:
            by = _month_carriers(m)
            values.append(_f(by.get(n, {}).get("kgce")) / 1000.0)
        series.append((_(CARRIERS.get(n, n)), values))
    out = [
        Chart(
            kind="stacked_bars",
            title=_("Monthly energy by carrier (tce)"),
            categories=[_month_label(str(m["month"]), lang) for m in months],
            series=series,
            unit="tce",
        )
    ]
    if subs:
        out.append(
            Chart(
                kind="pie",
                title=_("Electricity by sub-item"),
                categories=[_(SUB_ITEMS.get(code, code)) for code, _v in subs],
                series=[("kWh", [max(0.0, v) for _c, v in subs])],
                unit="kWh",
            )
        )
    names_of = _references(stats)
    for key in ("kgce_per_m2", "kgce_per_person", "water_m3_per_person"):
        ind = _indicator(stats, key)
        if ind.get("value") is None or not ind.get("references"):
            continue
        label, unit = INDICATORS[key]
        refs = list(ind["references"])
        out.append(
            Chart(
                kind="vs_reference",
                title=f"{_(label)} ({unit_text(unit, lang)})",
                categories=[
                    str(stats["year"]),
                    *(_name(names_of.get(str(r["id"]), r), lang) for r in refs),
                ],
                series=[(_(label), [_f(ind["value"]), *(_f(r.get("value")) for r in refs)])],
                unit=unit_text(unit, lang),
            )
        )
    return out
