"""The maintenance and capital-plan reports (analytics.reports.maintenance and .capital,
`plantroom report maintenance|capital-plan`): what they say, in English and Chinese, as a
workbook and as a PDF whose Chinese font is embedded.

The figures are hand-made dicts in the shapes of analytics.kpis.kpis, the contractor scorecard
and analytics.ageing.asset_health / capital_plan (the figures worked by hand beside them); the
commands run against the demo site and a real SQLite database.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from analytics.reports import pdf as pdf_module
from analytics.reports.capital import build_capital_report
from analytics.reports.document import Report, Step
from analytics.reports.energy import Table
from analytics.reports.maintenance import (
    build_maintenance_report,
    failing_row,
    rank_failing,
    write_maintenance_report,
)
from analytics.reports.pdf import write_pdf
from analytics.reports.xlsx import write_xlsx
from config.settings import Settings
from core.db import Database
from plantroom.cli import main
from plantroom.site import load_site

GENERATED = dt.datetime(2026, 12, 7, 8, 0, tzinfo=dt.UTC)
SITE = {"id": "test", "name": "Test Compound", "name_zh": "测试园区"}


def _block(**over: Any) -> dict[str, Any]:
    """One group's KPIs, as analytics.kpis.block answers them."""
    # Spend worked by hand: labour 1,200 + parts 600 + other 200 = 2,000; planned 500, so
    # reactive 1,500: shares 60 %, 30 %, 10 %, 25 %, 75 %.
    out: dict[str, Any] = {
        "mttr_hours": 6.5,
        "mtbf_days": 41.2,
        "pm_compliance_percent": 87.5,
        "planned_share_percent": 35.0,
        "backlog_crew_weeks": 0.4,
        "recall_rate_percent": 12.5,
        "spend": {"labor": 1200.0, "parts": 600.0, "other": 200.0, "total": 2000.0,
                  "planned": 500.0, "reactive": 1500.0},
        "counts": {"corrective_opened": 8, "failures": 8, "repairs": 7, "asset_days": 690.0,
                   "pm_due": 8, "pm_on_time": 7, "pm_late": 1, "pm_not_done": 0,
                   "pm_pending": 0, "labor_hours": 40.0, "planned_hours": 14.0,
                   "backlog_open": 2, "backlog_hours": 16.0, "crew_size": 1, "recalls": 1,
                   "recall_base": 8},
    }  # fmt: skip
    out.update(over)
    return out


def _kpis() -> dict[str, Any]:
    return {
        "month": "2026-11",
        "filters": {"building": None, "contractor": None, "class": None},
        **_block(),
        "by_building": [{"building": "a", "name": "=Block A", "name_zh": "甲楼", **_block()}],
        "by_contractor": [
            {"contractor": 3, "name": "Huaxia Property Services", **_block(mttr_hours=9.0)},
            {"contractor": None, "name": None, **_block(mttr_hours=2.0)},
        ],
        "by_class": [{"class": "Elevator", **_block()}],
    }


SLA = [
    {"contractor_id": 3, "contractor": "Huaxia Property Services", "judged": 10,
     "response_percent": 90.0, "resolution_percent": 80.0, "breaches": 3, "score": 85.0,
     "provisional": True},
]  # fmt: skip
LIFT = {"id": "lift-1", "name": "Lift 1", "name_zh": "1号电梯", "class": "Elevator"}
PUMP = {"id": "pump-1", "name": "Pump 1", "name_zh": "1号水泵", "class": "Pump"}
FAILING = [
    {"asset": LIFT, "failures_month": 2, "failures_12m": 9, "mtbf_days": 38.0,
     "mttr_hours": 5.0, "beta": 1.8, "trend": "worsening", "cost_ratio": 0.8,
     "cost_flag": "replace"},
    {"asset": PUMP, "failures_month": 0, "failures_12m": 3, "mtbf_days": 120.0,
     "mttr_hours": 3.0, "beta": 1.0, "trend": "no trend", "cost_ratio": 0.1, "cost_flag": None},
]  # fmt: skip


def _table(report: Report, key: str) -> Table:
    return next(t for t in report.tables if t.key == key)


def _maintenance(lang: str = "en") -> Report:
    return build_maintenance_report(
        _kpis(), SLA, FAILING, site=SITE, lang=lang, generated=GENERATED
    )


def test_the_spend_splits_into_labour_parts_other_and_planned_against_reactive() -> None:
    table = _table(_maintenance(), "spend")
    assert [r[0] for r in table.rows] == [
        "Labour", "Parts", "Other", "Total", "Planned (preventive)", "Reactive (corrective)",
    ]  # fmt: skip
    assert [r[2] for r in table.rows] == [0.6, 0.3, 0.1, 1.0, 0.25, 0.75]


def test_the_summary_gives_the_months_kpis_with_their_units() -> None:
    facts = dict(_maintenance().facts)
    assert facts["MTTR"] == "6.5 h"
    assert facts["MTBF"] == "41.2 days"
    assert facts["PM compliance"] == "87.5%"
    assert facts["Backlog"] == "0.4 crew-weeks"
    assert facts["Spend"] == "2,000.00"


def test_each_contractor_has_its_sla_beside_its_work_and_in_house_work_comes_last() -> None:
    rows = _table(_maintenance(), "sla").rows
    assert rows[0] == [
        "Huaxia Property Services *", 10, 0.9, 0.8, 3, 85.0, 8, 9.0, 2000.0,
    ]  # fmt: skip
    assert rows[1][0] == "In-house"
    assert rows[1][1:6] == [None] * 5  # no SLA clocks: nothing judged
    assert rows[1][7] == 2.0


def test_the_assets_failing_most_show_their_trend_and_cost_flag_in_chinese() -> None:
    report = _maintenance("zh-CN")
    assert report.title == "2026-11 维保报告"
    rows = _table(report, "failing").rows
    assert rows[0][:4] == ["1号电梯", "电梯", 2, 9]
    assert rows[0][6:] == ["恶化", 0.8, "应更换"]
    assert rows[1][6] == "无趋势"
    assert _table(report, "by_class").rows[0][0] == "电梯"
    assert _table(report, "by_building").rows[0][0] == "甲楼"


def test_a_month_without_work_says_so() -> None:
    kpis = _kpis()
    kpis["counts"] = dict.fromkeys(kpis["counts"], 0)
    kpis["spend"] = dict.fromkeys(kpis["spend"], 0.0)
    report = build_maintenance_report(kpis, [], [], site=SITE, lang="en", generated=GENERATED)
    assert report.empty
    assert report.notes == ["No maintenance work was recorded in 2026-11."]


def test_failures_count_in_the_month_and_in_the_twelve_months_to_its_end() -> None:
    start = dt.datetime(2026, 10, 31, 16, 0, tzinfo=dt.UTC)  # 1 November, Shanghai
    end = dt.datetime(2026, 11, 30, 16, 0, tzinfo=dt.UTC)
    # 365 days before the end is 2025-11-30 16:00 UTC: the first failure is older.
    health = {
        "asset": LIFT,
        "failures": [
            {"work_order": 1, "at": "2025-11-20T00:00:00+00:00"},
            {"work_order": 2, "at": "2026-03-01T00:00:00+00:00"},
            {"work_order": 3, "at": "2026-10-31T17:00:00+00:00"},
            {"work_order": 4, "at": "2026-11-20T00:00:00+00:00"},
            {"work_order": 5, "at": "2026-11-30T16:00:00+00:00"},  # 1 December: after
        ],
        "mtbf_days": 40.0,
        "mttr_hours": 4.0,
        "growth": {"beta": 1.6, "trend": "worsening"},
        "cost": {"ratio": 0.55, "flag": "warning"},
    }
    row = failing_row(health, start=start, end=end)
    assert (row["failures_month"], row["failures_12m"]) == (2, 3)
    assert (row["beta"], row["trend"], row["cost_flag"]) == (1.6, "worsening", "warning")
    assert failing_row({"asset": PUMP, "growth": None}, start=start, end=end)["beta"] is None


def test_the_assets_rank_by_twelve_month_failures_then_the_months_and_none_without() -> None:
    def row(asset_id: str, month: int, year: int) -> dict[str, Any]:
        return {"asset": {"id": asset_id}, "failures_month": month, "failures_12m": year}

    ranked = rank_failing([row("a", 0, 3), row("b", 2, 5), row("c", 1, 3), row("d", 0, 0)])
    assert [r["asset"]["id"] for r in ranked] == ["b", "c", "a"]
    assert len(rank_failing([row(str(i), 0, 1) for i in range(20)], top=10)) == 10


def _plan() -> dict[str, Any]:
    """capital_plan's JSON: two assets, the lift first."""
    lift = {
        **LIFT,
        "criticality": "critical",
        "install_date": "2013-05-01",
        "expected_life_years": 15,
        "replacement_cost": 480000.0,
    }
    pump = {
        **PUMP,
        "criticality": "medium",
        "install_date": "2013-05-01",
        "expected_life_years": 12,
        "replacement_cost": 3600.0,
    }
    return {
        "generated_at": "2026-12-07T08:00:00+00:00",
        "horizon": [2027, 2028, 2029, 2030, 2031],
        "items": [
            {"asset": pump, "rank": 2, "recommended_year": 2029, "cost": 3600.0, "score": 1.2,
             "reasons": ["past_life"],
             "evidence": {"age_ratio": 1.13, "beta": 1.0, "beta_lower": 0.6, "beta_upper": 1.5,
                          "cost_ratio": 0.1, "criticality": "medium"}},
            {"asset": lift, "rank": 1, "recommended_year": 2027, "cost": 480000.0, "score": 3.4,
             "reasons": ["rising_failures", "repair_cost_75", "critical"],
             "evidence": {"age_ratio": 0.9, "beta": 1.8, "beta_lower": 1.3, "beta_upper": 2.4,
                          "cost_ratio": 0.8, "criticality": "critical"}},
        ],
        "total_by_year": {"2027": 480000.0, "2028": 0.0, "2029": 3600.0, "2030": 0.0,
                          "2031": 0.0},
    }  # fmt: skip


def test_the_capital_plan_lists_by_rank_with_reasons_and_the_evidence() -> None:
    report = build_capital_report(_plan(), site=SITE, lang="en", generated=GENERATED)
    assert report.title == "Capital plan 2027–2031"
    plan = _table(report, "plan").rows
    assert [r[1] for r in plan] == ["Lift 1", "Pump 1"]
    assert plan[0] == [
        1, "Lift 1", "Lift", "2027", 480000.0, 3.4,
        "failures rising (β > 1 at 90%); repairs ≥ 75% of replacement cost; critical to the site",
    ]  # fmt: skip
    evidence = _table(report, "evidence").rows[0]
    assert evidence == ["Lift 1", "2013-05-01", 0.9, 1.8, "[1.30, 2.40]", 0.8, "critical"]
    by_year = _table(report, "by_year").rows
    assert by_year[0] == ["2027", 1, 480000.0]
    assert by_year[-1] == ["Total", 2, 483600.0]
    assert ("Total cost", "483,600") in report.facts


def test_the_chinese_capital_plan_gives_reasons_in_chinese() -> None:
    report = build_capital_report(_plan(), site=SITE, lang="zh-CN", generated=GENERATED)
    assert report.title == "2027–2031 设备更新计划"
    assert _table(report, "plan").rows[1][6] == "已超过预期寿命"
    assert _table(report, "plan").rows[0][6].count("；") == 2


def test_a_plan_without_items_says_nothing_needs_replacing() -> None:
    plan = {**_plan(), "items": [], "total_by_year": {}}
    report = build_capital_report(plan, site=SITE, lang="en", generated=GENERATED)
    assert report.notes == ["No asset needs replacing in 2027–2031."]
    assert not report.charts


def _pdf_text(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def _fonts(path: Path) -> list[list[str]]:
    out = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True)
    return [line.split() for line in out.stdout.splitlines()[2:]]


@pytest.mark.parametrize("which", ["maintenance", "capital"])
def test_the_chinese_pdfs_embed_their_one_font_and_charts_are_text_in_it(
    tmp_path: Path, which: str
) -> None:
    if which == "maintenance":
        report = _maintenance("zh-CN")
        expected = ["2026-11 维保报告", "故障最多的设备", "费用构成", "各外包单位的服务水平"]
    else:
        report = build_capital_report(_plan(), site=SITE, lang="zh-CN", generated=GENERATED)
        expected = ["2027–2031 设备更新计划", "分年度更换费用", "更换排序", "依据"]
    path = write_pdf(report, tmp_path / f"{which}.pdf")
    # reportlab embeds a TrueType font in subsets of up to 256 glyphs: a page of many different
    # characters holds several subsets (AAAAAA+, AAAAAB+...) of the one font, all embedded.
    fonts = _fonts(path)
    assert len({f[0].split("+", 1)[1] for f in fonts}) == 1, fonts
    assert {(f[1], f[-5]) for f in fonts} == {("TrueType", "yes")}
    text = _pdf_text(path)
    for words in expected:
        assert words in text


def test_the_workbooks_keep_numbers_as_numbers_and_names_as_text(tmp_path: Path) -> None:
    write_xlsx(_maintenance("en"), tmp_path / "m.xlsx")
    wb = load_workbook(tmp_path / "m.xlsx")
    assert wb.sheetnames[:4] == ["Summary", "Work orders", "Spend", "SLA by contractor"]
    assert [c.value for c in wb["Spend"][2]] == ["Labour", 1200, 0.6]
    assert wb["Spend"]["C2"].number_format == "0.0%"
    cell = wb["By building"]["A2"]
    assert (cell.value, cell.data_type) == ("=Block A", "s")
    write_xlsx(
        build_capital_report(_plan(), site=SITE, lang="zh-CN", generated=GENERATED),
        tmp_path / "c.xlsx",
    )
    wb = load_workbook(tmp_path / "c.xlsx")
    assert wb.sheetnames == ["汇总", "分年度费用", "更换排序", "依据"]
    assert [c.value for c in wb["更换排序"][2]][:5] == [1, "1号电梯", "电梯", "2027", 480000]


# --- the commands, on the demo site with its generated maintenance history -------------------

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "config" / "sites" / "demo"
ENV = (
    "PLANTROOM_DATABASE_URL",
    "PLANTROOM_INFLUX_V1_URL",
    "PLANTROOM_INFLUX_V2_URL",
    "PLANTROOM_SITE",
)


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A data folder (SQLite) holding the demo's years of maintenance history, written once
    by `plantroom demo-history maintenance`; no outside store or database."""
    data = tmp_path_factory.mktemp("history")
    with pytest.MonkeyPatch.context() as mp:
        for name in ENV:
            mp.delenv(name, raising=False)
        assert (
            main(["demo-history", "maintenance", "--site", str(DEMO), "--data-dir", str(data)]) == 0
        )
        yield data


def _run(data: Path, *args: str) -> int:
    with pytest.MonkeyPatch.context() as mp:
        for name in ENV:
            mp.delenv(name, raising=False)
        return main(["report", *args, "--site", str(DEMO), "--data-dir", str(data)])


def _last_month() -> str:
    today = dt.date.today().replace(day=1) - dt.timedelta(days=1)
    return f"{today:%Y-%m}"


@pytest.mark.slow
def test_the_maintenance_command_writes_both_files_with_a_progress_bar_in_chinese(
    history: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    month = _last_month()
    code = _run(history, "maintenance", "--month", month, "--lang", "zh-CN", "--out", str(tmp_path))
    stdout, stderr = capsys.readouterr()
    assert code == 0, stderr
    assert re.search(r"100\.0%  完成  \d+ 项", stderr), stderr
    assert "分析设备" in stderr
    pdf = tmp_path / f"maintenance-report-demo-{month}-zh-CN.pdf"
    assert f"已写入 {pdf}" in stdout
    assert f"{month} 维保报告，用时" in stdout
    assert (tmp_path / f"maintenance-report-demo-{month}-zh-CN.xlsx").is_file()
    assert {f[-5] for f in _fonts(pdf)} == {"yes"}
    text = _pdf_text(pdf)
    assert "故障最多的设备" in text and "各外包单位的服务水平" in text
    # The deteriorating lifts and booster pump fail most (plantroom.maintenance_history).
    failing = load_workbook(tmp_path / f"maintenance-report-demo-{month}-zh-CN.xlsx")[
        "故障最多的设备"
    ]
    top = {failing.cell(row=r, column=1).value for r in (2, 3, 4)}
    assert top == {"A1号客梯", "B1号客梯", "1号生活给水加压泵"}


@pytest.mark.slow
def test_the_capital_plan_command_ranks_the_deteriorating_assets_first(
    history: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _run(history, "capital-plan", "--format", "xlsx", "--out", str(tmp_path))
    stdout, stderr = capsys.readouterr()
    assert code == 0, stderr
    assert re.search(r"100\.0%  done  \d+ assets", stderr), stderr
    [book] = list(tmp_path.glob("capital-plan-demo-*-en.xlsx"))
    assert f"wrote {book}" in stdout
    plan = load_workbook(book)["Replacements, ranked"]
    first = [plan.cell(row=r, column=2).value for r in (2, 3, 4)]
    assert set(first) == {"Passenger lift A1", "Passenger lift B1", "Domestic water booster pump 1"}
    reasons = " ".join(str(plan.cell(row=r, column=7).value) for r in (2, 3, 4))
    assert reasons.count("failures rising") == 3


@pytest.mark.slow
def test_a_month_that_is_not_a_month_exits_2_and_writes_nothing(
    history: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert _run(history, "maintenance", "--month", "2026-13", "--out", str(out)) == 2
    assert "no month 13" in capsys.readouterr().err
    year = dt.date.today().year + 2
    assert _run(history, "maintenance", "--month", f"{year}-01", "--out", str(out)) == 2
    assert str(year) in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.slow
def test_the_maintenance_bar_only_moves_forward_through_its_stages(
    history: Path, tmp_path: Path
) -> None:
    with pytest.MonkeyPatch.context() as mp:
        for name in ENV:
            mp.delenv(name, raising=False)
        url = Settings(data_dir=history, site=DEMO).sqlalchemy_url()
    db = Database(url)
    steps: list[Step] = []
    try:
        with db.sessions() as session:
            written = write_maintenance_report(
                session,
                load_site(DEMO),
                month=_last_month(),
                lang="en",
                formats=["xlsx", "pdf"],
                out_dir=tmp_path,
                now=dt.datetime.now(dt.UTC),
                progress=steps.append,
            )
    finally:
        db.dispose()
    assert [p.suffix for p in written] == [".xlsx", ".pdf"]
    fractions = [s.fraction for s in steps]
    assert fractions == sorted(fractions)
    assert [s.done for s in steps] == sorted(s.done for s in steps)
    stages = [s.stage for s in steps]
    assert stages[0] == "reading the work orders"
    assert {"judging the contractors' SLA", "examining the assets", "drawing the PDF"} <= set(
        stages
    )
    assert (steps[-1].fraction, steps[-1].stage) == (1.0, "done")


@pytest.mark.slow
def test_without_the_font_the_capital_plan_pdf_exits_2_naming_the_package(
    history: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pdf_module, "CJK_FONTS", ((tmp_path / "x.ttc", 0, "fonts-wqy-microhei"),))
    out = tmp_path / "out"
    assert _run(history, "capital-plan", "--format", "pdf", "--out", str(out)) == 2
    assert "apt-get install fonts-wqy-microhei" in capsys.readouterr().err
    assert not out.exists()
