"""The scorecard as an Excel workbook (issue 15): opened with openpyxl, its breach rows are the
API's breach list and its summary the JSON scorecard's figures, in English and in Simplified
Chinese; a contractor gets only its own firm's; a bad month answers 422 as the CSV does.

The month is tests/workorders/test_scorecard.py's March 2026, with its figures worked by hand.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from config.site import SiteConfig
from core.auth.models import Role
from core.db import Database
from core.i18n import translate
from tests.workorders.test_scorecard import CONTRACTOR, FEE, _token, build_march
from workorders.orders.models import WorkOrder

SH = ZoneInfo("Asia/Shanghai")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _get(client: TestClient, org_id: int, **kw: Any) -> Any:
    params = {"month": "2026-03", **kw.pop("params", {})}
    return client.get(f"/api/v1/contractors/{org_id}/scorecard.xlsx", params=params, **kw)


def _sheets(content: bytes) -> dict[str, Worksheet]:
    wb = load_workbook(io.BytesIO(content))
    return {ws.title: ws for ws in wb.worksheets}


def _summary(ws: Worksheet) -> dict[str, Any]:
    """The label / value block at the top of the summary sheet."""
    out: dict[str, Any] = {}
    for label, value, *_rest in ws.iter_rows(values_only=True):
        if label is None:
            break
        out[str(label)] = value
    return out


def _table(ws: Worksheet, first: int = 1) -> list[dict[str, Any]]:
    rows = list(ws.iter_rows(min_row=first, values_only=True))
    header = [str(h) for h in rows[0]]
    return [dict(zip(header, row, strict=True)) for row in rows[1:] if row[0] is not None]


def _local(iso: str | None) -> dt.datetime | None:
    if iso is None:
        return None
    return dt.datetime.fromisoformat(iso).astimezone(SH).replace(tzinfo=None)


def test_the_breach_rows_are_the_apis_breaches_and_the_summary_its_figures(
    client: TestClient, db: Database, demo_site: SiteConfig
) -> None:
    m = build_march(db, demo_site)
    r = _get(client, m.huaxia, params={"lang": "en"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == XLSX
    assert r.headers["content-disposition"] == (
        f'attachment; filename="scorecard-{m.huaxia}-2026-03.xlsx"'
    )
    sheets = _sheets(r.content)
    assert list(sheets) == ["Summary", "Breaches"]

    api = client.get(
        f"/api/v1/contractors/{m.huaxia}/sla-breaches", params={"month": "2026-03"}
    ).json()["items"]
    rows = _table(sheets["Breaches"])
    assert [
        (
            x["Work order"],
            x["Title"],
            x["Priority"],
            x["Policy"],
            x["Clock"].lower(),
            x["Due"],
            x["Met at"],
            x["Hours over target"],
            x["Status"],
        )
        for x in rows
    ] == [
        (
            b["workorder_id"],
            b["title"],
            b["priority"],
            b["policy"],
            b["clock"],
            _local(b["due_at"]),
            _local(b["met_at"]),
            round(b["over_seconds"] / 3600, 2),
            b["status"],
        )
        for b in api
    ]
    assert [x["Work order"] for x in rows] == [m.ids["B"], m.ids["D"], m.ids["E"]]
    assert {x["Provisional"] for x in rows} == {"no"}

    card = client.get(
        f"/api/v1/contractors/{m.huaxia}/scorecard", params={"month": "2026-03"}
    ).json()
    summary = _summary(sheets["Summary"])
    assert (summary["Contractor"], summary["Month"]) == (CONTRACTOR, "2026-03")
    assert (summary["Score"], summary["Payment"], summary["Monthly fee"]) == (
        card["score"],
        card["payment"],
        FEE,
    )
    assert summary["Work orders judged"] == card["work_orders"] == 7
    assert summary["Response on-time %"] == round(card["response"]["on_time_percent"], 2)
    assert summary["Resolution breached"] == card["resolution"]["breached"]
    assert (summary["Provisional"], summary["Payment provisional"]) == ("no", "no")
    assert summary["Target on-time %"] == card["target_on_time_percent"]
    assert summary["Breaches"] == len(api)


def test_on_time_by_priority_adds_up_to_the_months_clocks(
    client: TestClient, db: Database, demo_site: SiteConfig
) -> None:
    m = build_march(db, demo_site)
    ws = _sheets(_get(client, m.huaxia).content)["Summary"]
    start = next(
        i + 1 for i, row in enumerate(ws.iter_rows(values_only=True)) if row[0] == "Priority"
    )
    by = {row["Priority"]: row for row in _table(ws, start)}
    card = client.get(
        f"/api/v1/contractors/{m.huaxia}/scorecard", params={"month": "2026-03"}
    ).json()
    for clock in ("response", "resolution"):
        name = clock.capitalize()
        for figure in ("due", "on_time", "breached", "pending"):
            col = f"{name} {figure.replace('_', ' ')}"
            assert sum(row[col] for row in by.values()) == card[clock][figure], col
    # P1 responses judged in March: A and J on time, B late (F was cancelled, I was February's).
    p1 = by["P1"]
    assert (p1["Response on time"], p1["Response breached"], p1["Response on-time %"]) == (
        2,
        1,
        66.67,
    )


def test_chinese_from_the_lang_parameter_or_from_accept_language(
    client: TestClient, db: Database, demo_site: SiteConfig
) -> None:
    m = build_march(db, demo_site)
    by_param = _get(client, m.huaxia, params={"lang": "zh-CN"})
    by_header = _get(client, m.huaxia, headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    english = _get(client, m.huaxia, headers={"Accept-Language": "en-GB"})
    forced = _get(client, m.huaxia, params={"lang": "en"}, headers={"Accept-Language": "zh-CN"})
    for r in (by_param, by_header):
        assert r.status_code == 200, r.text
        sheets = _sheets(r.content)
        assert list(sheets) == ["汇总", "超时明细"]
        rows = _table(sheets["超时明细"])
        assert [x["工单"] for x in rows] == [m.ids["B"], m.ids["D"], m.ids["E"]]
        assert [x["时限"] for x in rows] == ["响应", "修复", "响应"]
        summary = _summary(sheets["汇总"])
        assert (summary["外包单位"], summary["得分"], summary["暂定"]) == (CONTRACTOR, 75.71, "否")
        assert summary[translate("zh-CN", "{clock} on-time %").format(clock="响应")] == 71.43
    for r in (english, forced):
        assert list(_sheets(r.content)) == ["Summary", "Breaches"]


def test_a_title_that_looks_like_a_formula_is_written_as_text(
    client: TestClient, db: Database, demo_site: SiteConfig
) -> None:
    m = build_march(db, demo_site)
    with db.session() as s:
        wo = s.get(WorkOrder, m.ids["B"])
        assert wo is not None
        wo.title = '=HYPERLINK("http://evil.example","click")'
    ws = _sheets(_get(client, m.huaxia).content)["Breaches"]
    cell = ws.cell(2, 2)
    assert cell.value == '=HYPERLINK("http://evil.example","click")'
    assert cell.data_type == "s"


def test_a_contractor_gets_its_own_workbook_and_404_for_another_firms(
    client: TestClient, db: Database, demo_site: SiteConfig
) -> None:
    m = build_march(db, demo_site)
    own = _token(db, "huaxia-pm", Role.contractor, m.huaxia)
    assert _get(client, m.huaxia, headers=own).status_code == 200
    other = _get(client, m.evergreen, headers=own)
    assert other.status_code == 404
    assert "Evergreen" not in other.text
    assert _get(client, 999_999, headers=own).status_code == 404


@pytest.mark.parametrize("role", [Role.technician, Role.requester])
def test_technicians_and_requesters_get_403(
    client: TestClient, db: Database, demo_site: SiteConfig, role: Role
) -> None:
    m = build_march(db, demo_site)
    assert _get(client, m.huaxia, headers=_token(db, f"user-{role}", role)).status_code == 403


@pytest.mark.parametrize(
    ("month", "reason"),
    [("2026-13", "no month 13"), ("26-03", "YYYY-MM"), ("2999-01", "has not begun")],
)
def test_a_bad_month_answers_422_with_the_reason(
    client: TestClient, db: Database, demo_site: SiteConfig, month: str, reason: str
) -> None:
    m = build_march(db, demo_site)
    r = _get(client, m.huaxia, params={"month": month})
    assert r.status_code == 422, r.text
    assert reason in r.json()["message"]


def test_an_unknown_language_answers_422(
    client: TestClient, db: Database, demo_site: SiteConfig
) -> None:
    m = build_march(db, demo_site)
    assert _get(client, m.huaxia, params={"lang": "fr"}).status_code == 422
