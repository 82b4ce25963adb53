"""The annual energy report (analytics.reports, `plantroom report energy`): what it says, in
English and Chinese, as a workbook and as a PDF whose Chinese font is embedded.

The statistics are a hand-made dict in the shape of analytics.statistics.energy_statistics
(figures worked by hand below), the demo site's statistics from an in-memory Usage (a stand-in
for the readings store: the report reads through the Usage protocol only), and, for the
command, the demo site over an empty store and database.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from analytics.meters import Meter
from analytics.reports import pdf as pdf_module
from analytics.reports.build import write_energy_report
from analytics.reports.document import Step
from analytics.reports.energy import EnergyReport, Table, build_report
from analytics.reports.pdf import FontMissing, write_pdf
from analytics.reports.xlsx import write_xlsx
from analytics.statistics import energy_statistics
from analytics.usage import Use
from plantroom.cli import main
from plantroom.site import load_site

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "config" / "sites" / "demo"
GENERATED = dt.datetime(2026, 12, 7, 8, 0, tzinfo=dt.UTC)

# Worked by hand: electricity 100,000 kWh x 0.1229 = 12,290 kgce, x 0.5306 = 53,060 kgCO2e;
# natural gas 1,000 m3 x 1.2143 = 1,214.3 kgce, x 1.9965 = 1,996.5 kgCO2e. Total 13,504.3 kgce
# = 13.5043 tce over 1,000 m2 and 50 people: 13.5043 kgce/m2, 270.086 kgce/person; water
# 2,000 m3 / 50 = 40 m3/person. Sub-meters: 30,000 + 40,000 + 10,000 + 0 = 80,000 kWh of
# 100,000: coverage 80.0 %, remainder 20,000 kWh.
KGCE = 12_290.0 + 1_214.3
KGCO2E = 53_060.0 + 1_996.5


def _stats(*, empty: bool = False) -> dict[str, Any]:
    k = 0.0 if empty else 1.0
    carriers: list[dict[str, Any]] = [
        {"carrier": "electricity", "amount": 100_000.0 * k, "unit": "kWh", "kgce": 12_290.0 * k,
         "tce": 12.29 * k, "kgco2e": 53_060.0 * k},
        {"carrier": "natural_gas", "amount": 1_000.0 * k, "unit": "m3", "kgce": 1_214.3 * k,
         "tce": 1.2143 * k, "kgco2e": 1_996.5 * k},
    ]  # fmt: skip
    month = {
        "kgce": KGCE / 2 * k,
        "tce": KGCE / 2000 * k,
        "kgco2e": KGCO2E / 2 * k,
        "carriers": {
            c["carrier"]: {
                "amount": c["amount"] / 2,
                "unit": c["unit"],
                "kgce": c["kgce"] / 2,
                "kgco2e": c["kgco2e"] / 2,
            }
            for c in carriers
        },
        "electricity_kwh": 50_000.0 * k,
        "water_m3": 1_000.0 * k,
        "estimated_share": 0.0 if k else 1.0,
    }
    indicators = {
        "kgce_per_m2": {"value": KGCE / 1000 * k, "references": [
            {"id": "gd-city", "value": 11.02, "ratio": KGCE / 1000 / 11.02 * k}]},
        "kgce_per_person": {"value": KGCE / 50 * k, "references": [
            {"id": "gd-city", "value": 397.34, "ratio": KGCE / 50 / 397.34 * k}]},
        "water_m3_per_person": {"value": 40.0 * k, "references": [
            {"id": "gd-city", "value": 69.99, "ratio": 40.0 / 69.99 * k}]},
        "kgco2e_per_m2": {"value": KGCO2E / 1000 * k, "references": []},
    }  # fmt: skip
    body = {
        "floor_area_m2": 1000.0,
        "occupants": 50,
        "energy": {"kgce": KGCE * k, "tce": KGCE / 1000 * k, "kgco2e": KGCO2E * k,
                   "estimated_share": 0.0 if k else 1.0},
        "carriers": carriers,
        "electricity": {
            "kwh": 100_000.0 * k,
            "sub_items": [
                {"code": "01A00", "kwh": 30_000.0 * k},
                {"code": "01B00", "kwh": 40_000.0 * k},
                {"code": "01C00", "kwh": 10_000.0 * k},
                {"code": "01D00", "kwh": 0.0},
            ],
            "unmetered": {"kwh": 20_000.0 * k},
        },
        "water": {"m3": 2_000.0 * k},
        "indicators": indicators,
    }  # fmt: skip
    return {
        "site": {"id": "test", "name": "Test Compound", "name_zh": "测试园区"},
        "year": 2024,
        "month": None,
        "period": {"from": "2024-01-01", "to": "2025-01-01", "through": "2024-12-31",
                   "complete": True},
        "basis": "equivalent",
        **body,
        "months": [{"month": "2024-01", **month}, {"month": "2024-02", **month}],
        "buildings": [{"id": "a", "name": "=Block A", "name_zh": "甲楼", **body}],
        "references": [{"id": "gd-city", "name": "Guangdong city-level offices",
                        "name_zh": "广东省市级机关", "source": "Guangdong 2021", "year": 2021,
                        "kgce_per_m2": 11.02, "kgce_per_person": 397.34,
                        "water_m3_per_person": 69.99}],
        "factors": [
            {"carrier": "electricity", "unit": "kWh", "kind": "kgce", "basis": "equivalent",
             "value": 0.1229, "source": "GB/T 2589-2020", "valid_from": None, "valid_to": None},
        ],
    }  # fmt: skip


def _table(report: EnergyReport, key: str) -> Table:
    return next(t for t in report.tables if t.key == key)


def test_energy_by_carrier_is_in_kgce_and_tce_with_shares_and_a_total() -> None:
    report = build_report(_stats(), lang="en", generated=GENERATED)
    rows = _table(report, "carriers").rows
    assert rows[0][:4] == ["Electricity", 100_000.0, "kWh", 12_290.0]
    assert rows[0][5] == pytest.approx(12_290.0 / 13_504.3)
    assert rows[1][0] == "Natural gas"
    assert rows[-1][0] == "Total"
    assert rows[-1][4] == pytest.approx(13.5043)
    assert ("Total energy", "13.50 tce") in report.facts
    assert ("Carbon", "55.06 tCO₂e") in report.facts


def test_the_sub_items_show_the_unmetered_remainder_and_the_sub_metering_coverage() -> None:
    table = _table(build_report(_stats(), lang="en", generated=GENERATED), "sub_items")
    assert [r[0] for r in table.rows] == ["01A00", "01B00", "01C00", "01D00", "-"]
    assert table.rows[-1][1:] == ["Unmetered / losses", 20_000.0, 0.2]
    assert table.note == "Sub-metering coverage: 80.0% of the main meters' electricity."


def test_each_indicator_is_shown_against_each_reference_with_its_ratio() -> None:
    table = _table(build_report(_stats(), lang="en", generated=GENERATED), "indicators")
    assert table.header[3] == "Guangdong city-level offices"
    per_m2 = table.rows[0]
    assert per_m2[:3] == ["Energy per floor area", "kgce/m²", pytest.approx(13.5043)]
    assert per_m2[3:] == [11.02, pytest.approx(13.5043 / 11.02)]
    water = table.rows[2]
    assert water[2:] == [40.0, 69.99, pytest.approx(40 / 69.99)]


def test_the_chinese_report_speaks_chinese_and_names_the_site_in_chinese() -> None:
    report = build_report(_stats(), lang="zh-CN", generated=GENERATED)
    assert report.title == "2024年度公共机构能源资源消耗统计报告"
    assert report.site == "测试园区"
    assert _table(report, "carriers").rows[0][0] == "电力"
    assert [r[0] for r in _table(report, "monthly").rows] == ["1月", "2月"]
    assert _table(report, "per_building").rows[0][0] == "甲楼"


def test_a_year_without_consumption_says_no_data_instead_of_tables_of_zeros(
    tmp_path: Path,
) -> None:
    report = build_report(_stats(empty=True), lang="en", generated=GENERATED)
    assert report.empty
    assert report.notes == ["No data: no meter recorded any consumption in 2024."]
    assert {t.key for t in report.tables} == {"buildings", "factors"}
    assert not report.charts
    write_pdf(report, tmp_path / "empty.pdf")
    write_xlsx(report, tmp_path / "empty.xlsx")
    assert "No data" in _pdf_text(tmp_path / "empty.pdf")


def _pdf_text(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def _fonts(path: Path) -> list[list[str]]:
    """pdffonts' rows: [name, type..., emb, sub, uni, object, id]."""
    out = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True)
    return [line.split() for line in out.stdout.splitlines()[2:]]


def test_the_pdf_embeds_the_one_font_it_uses_and_its_chinese_is_real_text(
    tmp_path: Path,
) -> None:
    assert shutil.which("pdffonts"), "poppler-utils (pdffonts, pdftotext) is not installed"
    path = write_pdf(build_report(_stats(), lang="zh-CN", generated=GENERATED), tmp_path / "r.pdf")
    fonts = _fonts(path)
    assert len(fonts) == 1, fonts  # no unembedded Helvetica sneaking in from a chart
    name, kind, emb = fonts[0][0], fonts[0][1], fonts[0][-5]
    assert (kind, emb) == ("TrueType", "yes")
    assert "WenQuanYi" in name or "Droid" in name
    text = _pdf_text(path)
    assert "2024年度公共机构能源资源消耗统计报告" in text
    assert "分项计量覆盖率：占总表用电量的 80.0%。" in text
    assert "逐月分类能耗（tce）" in text  # the chart's title, drawn in the same font


def test_without_a_font_covering_chinese_the_pdf_is_refused_naming_the_package(
    tmp_path: Path,
) -> None:
    report = build_report(_stats(), lang="zh-CN", generated=GENERATED)
    with pytest.raises(FontMissing, match=r"apt-get install fonts-wqy-microhei"):
        write_pdf(
            report, tmp_path / "r.pdf", fonts=[(tmp_path / "no.ttc", 0, "fonts-wqy-microhei")]
        )
    assert not (tmp_path / "r.pdf").exists()


def test_the_workbook_keeps_numbers_as_numbers_and_a_formula_like_name_as_text(
    tmp_path: Path,
) -> None:
    write_xlsx(build_report(_stats(), lang="zh-CN", generated=GENERATED), tmp_path / "r.xlsx")
    wb = load_workbook(tmp_path / "r.xlsx")
    assert wb.sheetnames[:3] == ["汇总", "建筑", "分类能耗"]
    carriers = wb["分类能耗"]
    assert [c.value for c in carriers[2]][:4] == ["电力", 100_000, "kWh", 12_290]
    assert carriers["F2"].number_format == "0.0%"
    assert len(wb["逐月"]._charts) == 1  # monthly energy by carrier, drawn by Excel itself
    en = tmp_path / "en.xlsx"
    write_xlsx(build_report(_stats(), lang="en", generated=GENERATED), en)
    cell = load_workbook(en)["By building"]["A2"]
    assert (cell.value, cell.data_type) == ("=Block A", "s")


class DayUsage:
    """In-memory Usage (the readings store's stand-in): every meter uses a fixed amount a day
    by carrier, a main meter 4 times as much as a sub-meter."""

    PER_DAY: ClassVar[dict[str, float]] = {
        "electricity": 1000.0,
        "water": 20.0,
        "natural_gas": 10.0,
        "diesel": 2.0,
    }

    def __init__(self, tz: ZoneInfo):
        self.tz = tz

    def daily(self, meter: Meter, first: dt.date, last: dt.date) -> list[Use]:
        amount = self.PER_DAY[meter.carrier] * (4 if meter.parent is None else 1)
        days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
        out = []
        for d in days:
            start = dt.datetime.combine(d, dt.time(), self.tz)
            out.append(Use(start, start + dt.timedelta(days=1), amount))
        return out

    def hourly(self, meter: Meter, start: dt.datetime, end: dt.datetime) -> list[Use]:
        return []

    def temperature_daily(self, first: dt.date, last: dt.date) -> dict[dt.date, float | None]:
        return {}

    def temperature_hourly(self, start: dt.datetime, end: dt.datetime) -> list[float | None]:
        return []


def test_the_demo_sites_year_reports_every_carrier_and_the_bar_only_moves_forward(
    tmp_path: Path,
) -> None:
    site = load_site(DEMO)
    tz = ZoneInfo(site.doc.site.timezone)
    steps: list[Step] = []
    written = write_energy_report(
        site,
        DayUsage(tz),
        year=2023,
        lang="en",
        formats=["xlsx", "pdf"],
        out_dir=tmp_path,
        now=dt.datetime(2026, 3, 1, tzinfo=tz),
        progress=steps.append,
    )
    assert [p.name for p in written] == [
        "energy-report-demo-2023-en.xlsx",
        "energy-report-demo-2023-en.pdf",
    ]
    fractions = [s.fraction for s in steps]
    assert fractions == sorted(fractions)
    assert (steps[-1].fraction, steps[-1].stage) == (1.0, "done")
    assert "reading the meters" in {s.stage for s in steps}
    assert "drawing the PDF" in {s.stage for s in steps}
    stats = energy_statistics(site, DayUsage(tz), year=2023, now=dt.datetime(2026, 3, 1, tzinfo=tz))
    report = build_report(stats, lang="en", generated=GENERATED)
    rows = {r[0]: r for r in _table(report, "carriers").rows}
    assert {"Electricity", "Natural gas", "Diesel", "Total"} <= set(rows)
    elec = rows["Electricity"]
    assert isinstance(elec[1], float)
    assert elec[3] == pytest.approx(elec[1] * 0.1229)  # GB/T 2589-2020 equivalent value
    text = _pdf_text(written[1])
    assert "Public-institution energy report 2023" in text
    assert "Monthly energy by carrier (tce)" in text


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command reads the settings from the environment: no outside store or database."""
    for name in (
        "PLANTROOM_DATABASE_URL",
        "PLANTROOM_INFLUX_V1_URL",
        "PLANTROOM_INFLUX_V2_URL",
        "PLANTROOM_SITE",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.slow
@pytest.mark.usefixtures("clean_env")
def test_the_command_writes_both_files_with_a_progress_bar_in_chinese(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    args = ["report", "energy", "--year", "2025", "--lang", "zh-CN", "--site", str(DEMO)]
    code = main([*args, "--data-dir", str(tmp_path / "data"), "--out", str(out)])
    stdout, stderr = capsys.readouterr()
    assert code == 0, stderr
    assert re.search(r"100\.0%  完成  5,475 表·日", stderr), stderr
    assert "读取计量表" in stderr
    pdf = out / "energy-report-demo-2025-zh-CN.pdf"
    assert f"已写入 {pdf}" in stdout
    assert (out / "energy-report-demo-2025-zh-CN.xlsx").is_file()
    assert "无数据：2025年没有任何计量表记录到消耗。" in _pdf_text(pdf)
    assert [f[-5] for f in _fonts(pdf)] == ["yes"]


@pytest.mark.slow
@pytest.mark.usefixtures("clean_env")
def test_without_the_font_the_pdf_exits_2_naming_the_package_and_the_workbook_works(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pdf_module, "CJK_FONTS", ((tmp_path / "x.ttc", 0, "fonts-wqy-microhei"),))
    out = tmp_path / "out"
    args = ["report", "energy", "--year", "2025", "--site", str(DEMO), "--out", str(out)]
    code = main([*args, "--data-dir", str(tmp_path / "data")])
    _stdout, stderr = capsys.readouterr()
    assert code == 2
    assert "apt-get install fonts-wqy-microhei" in stderr
    assert not out.exists()
    # The workbook needs no font.
    assert main([*args, "--data-dir", str(tmp_path / "data"), "--format", "xlsx"]) == 0
    assert [p.name for p in out.iterdir()] == ["energy-report-demo-2025-en.xlsx"]


@pytest.mark.slow
@pytest.mark.usefixtures("clean_env")
def test_the_command_refuses_a_year_that_has_not_begun(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    year = str(dt.date.today().year + 2)
    args = ["report", "energy", "--year", year, "--site", str(DEMO), "--out", str(tmp_path)]
    code = main([*args, "--data-dir", str(tmp_path / "data")])
    assert code == 2
    assert f"year {year}" in capsys.readouterr().err


def test_a_year_still_running_says_how_far_its_figures_go() -> None:
    stats = _stats()
    stats["period"] = {"through": "2024-06-30", "complete": False}
    report = build_report(stats, lang="en", generated=GENERATED)
    assert report.notes == ["The year is not over: the figures run through 2024-06-30."]
    assert build_report(_stats(), lang="en", generated=GENERATED).notes == []
