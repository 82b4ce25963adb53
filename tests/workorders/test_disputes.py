"""Disputes of breaches and the sign-off of a month (issue 15), through the API on SQLite and
PostgreSQL, on the hand-worked March 2026 of tests/workorders/test_scorecard.py: Huaxia missed
B's response (due 05 14:30), D's resolution (due 21 10:00) and E's response (due 31 09:00);
score 75.71, pay 163,278.00 of 180,000.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from fastapi.testclient import TestClient
from openpyxl import load_workbook

from config.site import SiteConfig
from core.auth import service as auth
from core.auth.models import Role
from core.db import Database
from tests.workorders.test_scorecard import March, _token, build_march
from workorders.contractors import repository as month_repository
from workorders.sla import repository as sla_repository

MARCH = {"month": "2026-03"}


def _url(m: March, tail: str) -> str:
    return f"/api/v1/contractors/{m.huaxia}/{tail}"


def _card(client: TestClient, m: March, **headers: str) -> dict[str, Any]:
    r = client.get(_url(m, "scorecard"), params=MARCH, headers=headers or None)
    assert r.status_code == 200, r.text
    return dict(r.json())


def _dispute(
    client: TestClient, m: March, hx: dict[str, str], key: str = "B", clock: str = "response"
) -> dict[str, Any]:
    body = {"month": "2026-03", "workorder_id": m.ids[key], "clock": clock, "reason": "no access"}
    r = client.post(_url(m, "disputes"), json=body, headers=hx)
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_a_contractor_disputes_a_breach_and_the_scorecard_shows_it_open(
    client: TestClient, db: Database, demo_site: SiteConfig
) -> None:
    m = build_march(db, demo_site)
    hx = _token(db, "hx-user", Role.contractor, m.huaxia)
    d = _dispute(client, m, hx)
    assert (d["status"], d["clock"], d["raised_by"], d["month"]) == (
        "open",
        "response",
        "hx-user",
        "2026-03",
    )
    card = _card(client, m)
    assert [x["id"] for x in card["disputes"]] == [d["id"]]
    # Open: the breach still counts.
    assert (card["score"], card["payment"]) == (75.71, 163278.0)
    items = client.get(_url(m, "sla-breaches"), params=MARCH).json()["items"]
    b = next(i for i in items if i["workorder_id"] == m.ids["B"])
    assert (b["counted"], b["dispute_id"], b["dispute_status"]) == (True, d["id"], "open")
    listed = client.get(_url(m, "disputes"), params=MARCH, headers=hx).json()
    assert [x["id"] for x in listed["items"]] == [d["id"]]


def test_only_the_firms_own_people_dispute_and_only_real_breaches_once(
    client: TestClient, db: Database, demo_site: SiteConfig
) -> None:
    m = build_march(db, demo_site)
    hx = _token(db, "hx-user", Role.contractor, m.huaxia)
    rival = _token(db, "eg-user", Role.contractor, m.evergreen)
    body = {"month": "2026-03", "workorder_id": m.ids["A"], "clock": "response", "reason": "x"}
    r = client.post(_url(m, "disputes"), json=body, headers=hx)
    assert r.status_code == 422 and r.json()["error"] == "not_a_breach"  # A was on time
    body["workorder_id"] = m.ids["G"]  # Evergreen's breach, not Huaxia's
    assert client.post(_url(m, "disputes"), json=body, headers=hx).status_code == 422
    body["workorder_id"] = m.ids["B"]
    assert client.post(_url(m, "disputes"), json=body, headers=rival).status_code == 404
    assert client.post(_url(m, "disputes"), json=body).status_code == 403  # an admin
    body["reason"] = "   "
    assert client.post(_url(m, "disputes"), json=body, headers=hx).status_code == 422
    _dispute(client, m, hx)
    body["reason"] = "again"
    assert client.post(_url(m, "disputes"), json=body, headers=hx).status_code == 409


def test_an_accepted_dispute_no_longer_counts_in_the_score_the_pay_and_the_exports(
    client: TestClient, db: Database, demo_site: SiteConfig
) -> None:
    m = build_march(db, demo_site)
    hx = _token(db, "hx-user", Role.contractor, m.huaxia)
    d = _dispute(client, m, hx)
    r = client.post(_url(m, f"disputes/{d['id']}/accept"), json={"note": "lift was locked"})
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["decision_note"]) == ("accepted", "lift was locked")
    card = _card(client, m)
    # Response: 5 on time, E breached, B excused: 5/6. Score (83.33 + 80) / 2 = 81.67;
    # pay (15 + 81.67) % of 180,000 = 174,006.00.
    rsp = card["response"]
    assert (rsp["on_time"], rsp["breached"], rsp["excused"]) == (5, 1, 1)
    assert card["score"] == 81.67 and card["payment"] == 174006.0
    items = client.get(_url(m, "sla-breaches"), params=MARCH).json()["items"]
    assert [(i["workorder_id"], i["counted"]) for i in items] == [
        (m.ids["B"], False),
        (m.ids["D"], True),
        (m.ids["E"], True),
    ]
    x = client.get(_url(m, "scorecard.xlsx"), params={**MARCH, "lang": "en"})
    sheet = load_workbook(io.BytesIO(x.content))["Breaches"]
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    got = [dict(zip(header, row, strict=True)) for row in rows[1:]]
    assert [(g["Work order"], g["Counts"], g["Dispute"] or "") for g in got] == [
        (m.ids["B"], "no", "accepted"),
        (m.ids["D"], "yes", ""),
        (m.ids["E"], "yes", ""),
    ]
    text = client.get(_url(m, "scorecard.csv"), params=MARCH).content.decode("utf-8-sig")
    assert "Response excused (dispute accepted),1" in text and "lift was locked" in text


def test_a_rejected_dispute_needs_a_note_and_the_breach_still_counts(
    client: TestClient, db: Database, demo_site: SiteConfig
) -> None:
    m = build_march(db, demo_site)
    hx = _token(db, "hx-user", Role.contractor, m.huaxia)
    eng = _token(db, "eng", Role.engineer)
    d = _dispute(client, m, hx)
    url = _url(m, f"disputes/{d['id']}/reject")
    assert client.post(url, json={}).status_code == 422
    assert client.post(url, json={"note": "x"}, headers=eng).status_code == 403
    assert client.post(url, json={"note": "x"}, headers=hx).status_code == 403
    r = client.post(url, json={"note": "the access log shows the crew came late"})
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    assert client.post(url, json={"note": "again"}).status_code == 409
    accept = _url(m, f"disputes/{d['id']}/accept")
    assert client.post(accept, json={}).status_code == 409
    card = _card(client, m, **hx)
    assert (card["score"], card["payment"]) == (75.71, 163278.0)
    assert card["disputes"][0]["decision_note"] == "the access log shows the crew came late"


def test_a_month_is_signed_off_once_ended_with_no_dispute_open(
    client: TestClient, db: Database, demo_site: SiteConfig
) -> None:
    m = build_march(db, demo_site)
    hx = _token(db, "hx-user", Role.contractor, m.huaxia)
    d = _dispute(client, m, hx)
    url = _url(m, "signoff")
    assert client.post(url, json=MARCH, headers=hx).status_code == 403
    r = client.post(url, json=MARCH)
    assert r.status_code == 409 and "still open" in r.json()["message"]
    this_month = client.get(_url(m, "scorecard")).json()["month"]
    r = client.post(url, json={"month": this_month})
    assert r.status_code == 409 and "has not ended" in r.json()["message"]
    client.post(_url(m, f"disputes/{d['id']}/reject"), json={"note": "no"})
    r = client.post(url, json={**MARCH, "note": "agreed at the monthly meeting"})
    assert r.status_code == 201, r.text
    assert r.json()["figures"]["score"] == 75.71
    card = _card(client, m, **hx)
    assert card["signoff"]["note"] == "agreed at the monthly meeting"
    assert card["signoff"]["signed_by"] and card["revised_after_signoff"] is False
    assert client.post(url, json=MARCH).status_code == 409


def test_a_dispute_accepted_after_sign_off_is_a_revision_never_silent(
    client: TestClient, db: Database, demo_site: SiteConfig
) -> None:
    m = build_march(db, demo_site)
    hx = _token(db, "hx-user", Role.contractor, m.huaxia)
    assert client.post(_url(m, "signoff"), json=MARCH).status_code == 201
    d = _dispute(client, m, hx, key="D", clock="resolution")  # a late dispute
    r = client.post(_url(m, f"disputes/{d['id']}/accept"), json={})
    assert r.status_code == 200
    card = _card(client, m, **hx)
    assert card["revised"] and card["revised_after_signoff"]
    (rev,) = card["revisions"]
    assert rev["after_signoff"] and f"dispute {d['id']} accepted" in rev["reason"]
    assert (rev["before"]["score"], rev["after"]["score"]) == (75.71, card["score"])
    assert rev["after"]["excused"] == [[m.ids["D"], "resolution"]]
    # The signed-off figures stay as they were signed.
    assert card["signoff"]["figures"]["score"] == 75.71


def test_the_scorecard_has_the_month_before_and_on_time_by_priority(
    client: TestClient, db: Database, demo_site: SiteConfig
) -> None:
    m = build_march(db, demo_site)
    card = _card(client, m)
    prev = card["previous"]
    assert (prev["month"], prev["score"], prev["payment"], prev["breaches"]) == (
        "2026-02",
        100.0,
        180000.0,
        0,
    )
    prio = {p["priority"]: p for p in card["by_priority"]}
    # P1: A B J responded (B late), A B resolved in March; P3: K on time, E missed.
    assert (prio["P1"]["response"]["on_time"], prio["P1"]["response"]["breached"]) == (2, 1)
    assert (prio["P3"]["response"]["on_time"], prio["P3"]["response"]["breached"]) == (1, 1)
    assert sum(p["resolution"]["breached"] for p in card["by_priority"]) == 1


def test_a_month_reported_by_two_requests_at_once_keeps_one_report(db: Database) -> None:
    """Two downloads of a month not yet reported both try to keep its first report: the
    second does nothing (it used to fail the request with 409)."""
    with db.session() as s:
        org = auth.create_organisation(s, name="Twice FM")
        s.flush()
        for score in (90.0, 91.0):
            month_repository.add_report_once(
                s,
                contractor_id=org.id,
                month="2026-03",
                figures={"score": score},
                provisional=False,
                reported_at=dt.datetime(2026, 4, 1, tzinfo=dt.UTC),
            )
        report = sla_repository.scorecard_report(s, org.id, "2026-03")
        assert report is not None and report.figures == {"score": 90.0}


def test_the_workbook_is_in_the_users_ui_language_unless_asked(
    client: TestClient, db: Database, demo_site: SiteConfig
) -> None:
    m = build_march(db, demo_site)
    url = _url(m, "scorecard.xlsx")
    client.cookies.set("lang", "zh-CN")
    try:
        zh = load_workbook(io.BytesIO(client.get(url, params=MARCH).content))
        asked = client.get(url, params={**MARCH, "lang": "en"})
    finally:
        client.cookies.clear()
    assert zh.sheetnames == ["汇总", "超时明细"]
    assert load_workbook(io.BytesIO(asked.content)).sheetnames == ["Summary", "Breaches"]
