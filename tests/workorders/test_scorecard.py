"""The monthly contractor scorecard and its API, on SQLite and PostgreSQL: a month of work orders
made through the real service (on time, late, on hold, cancelled, not the contractor's, not due
this month) with every figure worked out by hand below; the payment rule at its boundary; the
CSV export; the breaches list; contractor isolation; bad months; the PM compliance report.

The demo policies: P1 30 min / 4 h and P2 1 h / 24 h round the clock; P3 1 / 5 working days on
business hours (08:30-12:00 + 13:30-17:30 = 7.5 h a day). March 2026 has no public holiday and
no make-up working day, so its business days are Monday to Friday.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from config.site import SiteConfig
from core.auth import service as auth
from core.auth.models import Organisation, Role
from core.db import Database
from workorders.contractors import scorecard
from workorders.contractors.scorecard import BadMonth, ClockTally, score_of
from workorders.orders import service
from workorders.orders.models import Priority, WorkOrder
from workorders.pm import service as pm
from workorders.pm.models import Maintenance
from workorders.sla import service as sla_service
from workorders.sla.config import PaymentRule

SH = ZoneInfo("Asia/Shanghai")
H = 3600.0
CONTRACTOR = "华夏物业服务有限公司"  # a Chinese name, for the CSV's BOM
FEE = 180000.0


def at(text: str) -> dt.datetime:
    """A time on the site's clock."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=SH)


# --- the payment rule ---------------------------------------------------------------------------


def test_payment_rule_pays_the_full_fee_from_85_and_15_plus_score_percent_below() -> None:
    rule = PaymentRule()
    assert rule.pay(85, FEE) == Decimal("180000.00")
    assert rule.pay(84, FEE) == Decimal("178200.00")  # 99 %
    assert rule.pay(84.99, FEE) == Decimal("179982.00")  # 99.99 %
    assert rule.pay(100, FEE) == Decimal("180000.00")
    assert rule.pay(0, FEE) == Decimal("27000.00")  # 15 %


def test_payment_rule_is_configurable_and_deducts_per_complaint() -> None:
    rule = PaymentRule(full_fee_at=90, base_percent=10, deduction_per_complaint=500)
    assert rule.pay(90, FEE, complaints=2) == Decimal("179000.00")
    assert rule.pay(85, FEE) == Decimal("171000.00")  # (10 + 85) %
    assert rule.pay(0, 1000, complaints=3) == Decimal("0.00")  # never below nothing


def test_a_month_with_nothing_due_earns_the_full_fee_and_no_fee_pays_nothing() -> None:
    assert PaymentRule().pay(None, FEE) == Decimal("180000.00")
    assert PaymentRule().pay(70, None) is None


def test_score_is_the_mean_of_the_on_time_rates_that_are_defined() -> None:
    response = ClockTally("response", due=3, on_time=2, breached=1)
    resolution = ClockTally("resolution", due=4, on_time=3, breached=1)
    assert score_of(response, resolution) == 70.83  # (66.67 + 75) / 2
    assert score_of(ClockTally("response"), resolution) == 75.0  # P4 work: no response clock
    assert score_of(ClockTally("response"), ClockTally("resolution")) is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2026-13", "there is no month 13"),
        ("2026-3", "must be written YYYY-MM"),
        ("March", "must be written YYYY-MM"),
        ("2026-00", "there is no month 00"),
        ("2999-01", "has not begun yet"),
    ],
)
def test_bad_months_are_refused_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(BadMonth, match=reason) as err:
        scorecard.parse_month(text, SH, at("2026-04-02 00:00"))
    assert err.value.status_code == 422


# --- a month of work orders ---------------------------------------------------------------------


@dataclass
class March:
    """The work orders of the month below, by letter, and the two contractors."""

    huaxia: int
    evergreen: int
    ids: dict[str, int]


def build_march(db: Database, site: SiteConfig) -> March:
    """Work orders for March 2026, through the real service (created and moved at the times
    given, as a tablet syncing later would send them).

    Huaxia's:
      A P1 03 Tue 09:00, ack 09:10, resolved 11:00: both on time (due 09:30 / 13:00).
      B P1 05 Thu 14:00, ack 14:50 (due 14:30: late), resolved 17:00 (due 18:00: on time).
      C P2 10 Tue 08:00, ack 08:30 (due 09:00), on hold 09:00 (parts) to 11 Wed 09:00, resolved
        11 Wed 20:00: due 08:00 + 24 h + 24 h held = 12 Thu 08:00, on time; 12 h worked, 36 h
        wall.
      D P2 20 Fri 10:00, ack 10:20 (due 11:00), resolved 21 Sat 12:00 (due 10:00): late.
      E P3 30 Mon 09:00, never acknowledged: response due 31 Tue 09:00 (Mon 09:00-12:00 and
        13:30-17:30 = 7 h, + 0.5 h Tue from 08:30) and missed; resolution due in April.
      J P1 31 Tue 22:00, ack 22:10 (due 22:30); resolution due 1 Apr 02:00: judged in April.
      K P3 09 Mon 16:00, ack 10 Tue 09:00 (1.5 h + 0.5 h = 2 h worked, 17 h wall; due Tue
        16:00), resolved 12 Thu 10:00 (1.5 + 7.5 + 7.5 + 1.5 = 18 h worked, 66 h wall; due
        37.5 working hours on = 16 Mon 16:00).
      F P1 25 Wed 09:00, cancelled 09:10: owes nothing.
      I P1 27 Feb 09:00, ack 09:05, resolved 10:00: due in February.
      H preventive, 03 Mar: no SLA.
    Evergreen's: G P1 04 Mar 09:00, never acknowledged.
    """
    with db.session() as s:
        huaxia = Organisation(name=CONTRACTOR, kind="contractor", monthly_fee=FEE)
        evergreen = Organisation(name="Evergreen Facilities", kind="contractor", monthly_fee=1.0)
        s.add_all([huaxia, evergreen])
        s.flush()
        ids: dict[str, int] = {}

        def make(key: str, priority: str, created: str, *, org: int = huaxia.id) -> None:
            type_ = "preventive" if key == "H" else "corrective"
            wo = service.create(
                s,
                title=f"job {key}",
                actor="duty",
                priority=Priority(priority),
                type_=type_,
                contractor_id=org,
                at=at(created),
                now=at(created),
                sla_policy=sla_service.choose_policy(
                    site, priority=priority, contractor_id=org, type_=type_, session=s
                ),
            )
            ids[key] = wo.id

        def move(key: str, *steps: tuple[str, str]) -> None:
            wo = s.get(WorkOrder, ids[key])
            assert wo is not None
            for target, when in steps:
                service.change_status(
                    s,
                    wo=wo,
                    target=target,
                    actor="crew",
                    role="admin",
                    at=at(when),
                    now=at(when),
                    reason="parts" if target == "on_hold" else None,
                )

        make("A", "P1", "2026-03-03 09:00")
        move("A", ("acknowledged", "2026-03-03 09:10"), ("resolved", "2026-03-03 11:00"))
        make("B", "P1", "2026-03-05 14:00")
        move("B", ("acknowledged", "2026-03-05 14:50"), ("resolved", "2026-03-05 17:00"))
        make("C", "P2", "2026-03-10 08:00")
        move(
            "C",
            ("acknowledged", "2026-03-10 08:30"),
            ("on_hold", "2026-03-10 09:00"),
            ("in_progress", "2026-03-11 09:00"),
            ("resolved", "2026-03-11 20:00"),
        )
        make("D", "P2", "2026-03-20 10:00")
        move("D", ("acknowledged", "2026-03-20 10:20"), ("resolved", "2026-03-21 12:00"))
        make("E", "P3", "2026-03-30 09:00")
        make("J", "P1", "2026-03-31 22:00")
        move("J", ("acknowledged", "2026-03-31 22:10"), ("resolved", "2026-04-01 01:00"))
        make("K", "P3", "2026-03-09 16:00")
        move("K", ("acknowledged", "2026-03-10 09:00"), ("resolved", "2026-03-12 10:00"))
        make("F", "P1", "2026-03-25 09:00")
        move("F", ("cancelled", "2026-03-25 09:10"))
        make("I", "P1", "2026-02-27 09:00")
        move("I", ("acknowledged", "2026-02-27 09:05"), ("resolved", "2026-02-27 10:00"))
        make("H", "P1", "2026-03-03 08:00")
        make("G", "P1", "2026-03-04 09:00", org=evergreen.id)
        return March(huaxia.id, evergreen.id, ids)


def card_for(
    db: Database, site: SiteConfig, org_id: int, month: str, now: str
) -> scorecard.Scorecard:
    """The scorecard of a month as of `now`."""
    with db.session() as s:
        org = s.get(Organisation, org_id)
        assert org is not None
        return scorecard.scorecard(
            s,
            site=site,
            contractor=org,
            month=scorecard.parse_month(month, SH),
            now=at(now),
        )


def test_march_scorecard_matches_the_hand_worked_figures(
    db: Database, demo_site: SiteConfig
) -> None:
    m = build_march(db, demo_site)
    card = card_for(db, demo_site, m.huaxia, "2026-03", "2026-04-15 12:00")
    ids = m.ids
    assert card.as_of == at("2026-04-01 00:00")  # the month's end, not the asking time
    assert [ln.id for ln in card.lines] == sorted(ids[k] for k in "ABCDEJK")
    # Response judged: A C D J K on time, B E missed.
    r = card.response
    assert (r.due, r.on_time, r.breached, r.pending) == (7, 5, 2, 0)
    assert r.percent == pytest.approx(500 / 7)
    # Means over the 6 met: working 600 + 3000 + 1800 + 1200 + 600 + 7200 (K, business) s;
    # wall the same but K's 17 h (61,200 s).
    assert r.mean_working_seconds == pytest.approx(14400 / 6)
    assert r.mean_wall_seconds == pytest.approx(68400 / 6)
    # Resolution judged: A B C K on time, D missed; J is due in April, E too.
    q = card.resolution
    assert (q.due, q.on_time, q.breached, q.pending) == (5, 4, 1, 0)
    assert q.percent == 80.0
    # working: A 2 h, B 3 h, C 12 h, D 26 h, K 18 h; wall: C 36 h and K 66 h instead.
    assert q.mean_working_seconds == pytest.approx((2 + 3 + 12 + 26 + 18) * H / 5)
    assert q.mean_wall_seconds == pytest.approx((2 + 3 + 36 + 26 + 66) * H / 5)
    # Counts as of the month's end: E never responded; E and J still open.
    assert (card.total, card.responded, card.resolved, card.open, card.cancelled) == (7, 6, 5, 2, 0)
    # (500/7 + 80) / 2 = 75.714... -> 75.71; pay (15 + 75.71) % of 180,000.
    assert card.score == 75.71
    assert card.payment == Decimal("163278.00")
    breaches = [(ln.id, c.which, c.due_at, c.over_seconds) for ln, c in card.breaches]
    assert breaches == [
        (ids["B"], "response", at("2026-03-05 14:30"), 20 * 60.0),
        (ids["D"], "resolution", at("2026-03-21 10:00"), 2 * H),
        # 7 h on Mon 30 + 7.5 h on Tue 31 = 14.5 h used of 7.5 h, as of the month's end
        (ids["E"], "response", at("2026-03-31 09:00"), 7 * H),
    ]
    c_line = next(ln for ln in card.lines if ln.id == ids["C"])
    assert c_line.paused_seconds == 24 * H


def test_a_months_scorecard_is_the_same_whenever_it_is_asked(
    db: Database, demo_site: SiteConfig
) -> None:
    m = build_march(db, demo_site)
    early = card_for(db, demo_site, m.huaxia, "2026-03", "2026-04-01 00:00")
    later = card_for(db, demo_site, m.huaxia, "2026-03", "2026-09-30 12:00")
    assert early == later


def test_in_the_month_under_way_a_clock_not_yet_due_is_pending(
    db: Database, demo_site: SiteConfig
) -> None:
    m = build_march(db, demo_site)
    card = card_for(db, demo_site, m.huaxia, "2026-03", "2026-03-20 12:00")
    # A B C K resolved on time; D was acknowledged at 10:20, its resolution due tomorrow 10:00.
    assert (card.resolution.due, card.resolution.on_time, card.resolution.pending) == (5, 4, 1)
    assert card.resolution.percent == 100.0
    # Created later in the month: not there yet.
    assert m.ids["E"] not in [ln.id for ln in card.lines]


def test_an_acknowledgement_synced_after_the_month_changes_the_month_it_happened_in(
    db: Database, demo_site: SiteConfig
) -> None:
    m = build_march(db, demo_site)
    with db.session() as s:
        wo = s.get(WorkOrder, m.ids["E"])
        assert wo is not None
        service.change_status(
            s,
            wo=wo,
            target="acknowledged",
            actor="crew",
            role="admin",
            at=at("2026-03-30 10:00"),
            now=at("2026-03-30 10:00"),
        )
    card = card_for(db, demo_site, m.huaxia, "2026-03", "2026-04-15 12:00")
    assert (card.response.on_time, card.response.breached) == (6, 1)


def test_other_months_and_contractors_are_judged_apart(db: Database, demo_site: SiteConfig) -> None:
    m = build_march(db, demo_site)
    feb = card_for(db, demo_site, m.huaxia, "2026-02", "2026-04-15 12:00")
    assert [ln.id for ln in feb.lines] == [m.ids["I"]]
    assert (feb.score, feb.payment) == (100.0, Decimal("180000.00"))
    april = card_for(db, demo_site, m.huaxia, "2026-04", "2026-04-15 12:00")
    judged = {(ln.id, c.which) for ln in april.lines for c in ln.clocks}
    assert judged == {(m.ids["J"], "resolution"), (m.ids["E"], "resolution")}
    evergreen = card_for(db, demo_site, m.evergreen, "2026-03", "2026-04-15 12:00")
    assert [ln.id for ln in evergreen.lines] == [m.ids["G"]]
    assert evergreen.score == 0.0 and evergreen.payment == Decimal("0.15")


# --- the API ------------------------------------------------------------------------------------


def _token(db: Database, username: str, role: Role, org_id: int | None = None) -> dict[str, str]:
    with db.session() as s:
        org = s.get(Organisation, org_id) if org_id is not None else None
        user = auth.create_user(
            s, username=username, password="pw-" + username, role=role, organisation=org
        )
        return {"Authorization": f"Bearer {auth.create_token(s, user=user, name='test')}"}


def test_scorecard_api_returns_the_month(
    client: TestClient, db: Database, demo_site: SiteConfig
) -> None:
    m = build_march(db, demo_site)
    r = client.get(f"/api/v1/contractors/{m.huaxia}/scorecard", params={"month": "2026-03"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["contractor"], body["month"], body["work_orders"]) == (CONTRACTOR, "2026-03", 7)
    assert (body["score"], body["payment"], body["monthly_fee"]) == (75.71, 163278.0, FEE)
    assert body["response"]["on_time"] == 5 and body["resolution"]["breached"] == 1
    assert body["payment_rule"] == {
        "full_fee_at": 85.0,
        "base_percent": 15.0,
        "deduction_per_complaint": 0.0,
    }


def test_breaches_api_lists_the_missed_targets_by_due_time(
    client: TestClient, db: Database, demo_site: SiteConfig
) -> None:
    m = build_march(db, demo_site)
    r = client.get(f"/api/v1/contractors/{m.huaxia}/sla-breaches", params={"month": "2026-03"})
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [(i["workorder_id"], i["clock"]) for i in items] == [
        (m.ids["B"], "response"),
        (m.ids["D"], "resolution"),
        (m.ids["E"], "response"),
    ]
    assert items[0]["met_at"] is not None and items[2]["met_at"] is None


def test_scorecard_csv_opens_in_excel_with_the_chinese_name(
    client: TestClient, db: Database, demo_site: SiteConfig
) -> None:
    m = build_march(db, demo_site)
    r = client.get(f"/api/v1/contractors/{m.huaxia}/scorecard.csv", params={"month": "2026-03"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    assert r.content.startswith(b"\xef\xbb\xbf")  # UTF-8 byte order mark
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    summary = {row[0]: row[1] for row in rows[: rows.index([])]}
    assert summary["Contractor"] == CONTRACTOR
    assert (summary["Score"], summary["Payment"]) == ("75.71", "163278.00")
    assert summary["Response on-time %"] == "71.43"
    table = rows[rows.index([]) + 1 :]
    header, lines = table[0], table[1:]
    by_id = {int(row[0]): dict(zip(header, row, strict=True)) for row in lines}
    assert sorted(by_id) == sorted(m.ids[k] for k in "ABCDEJK")
    c = by_id[m.ids["C"]]
    assert (c["Resolution due"], c["Resolution outcome"], c["Hours on hold"]) == (
        "2026-03-12 08:00",
        "on_time",
        "24.00",
    )


def test_a_title_that_looks_like_a_formula_is_exported_as_text(
    client: TestClient, db: Database, demo_site: SiteConfig
) -> None:
    m = build_march(db, demo_site)
    with db.session() as s:
        wo = s.get(WorkOrder, m.ids["A"])
        assert wo is not None
        wo.title = '=HYPERLINK("http://evil.example","click")'
    r = client.get(f"/api/v1/contractors/{m.huaxia}/scorecard.csv", params={"month": "2026-03"})
    assert "'=HYPERLINK" in r.content.decode("utf-8-sig")


def test_contractor_sees_only_its_own_scorecard_and_others_answer_404(
    client: TestClient, db: Database, demo_site: SiteConfig
) -> None:
    m = build_march(db, demo_site)
    own = _token(db, "huaxia-pm", Role.contractor, m.huaxia)
    listed = client.get("/api/v1/contractors", headers=own).json()
    assert [c["id"] for c in listed] == [m.huaxia]
    ok = client.get(
        f"/api/v1/contractors/{m.huaxia}/scorecard", params={"month": "2026-03"}, headers=own
    )
    assert ok.status_code == 200
    for path in ("scorecard", "scorecard.csv", "sla-breaches"):
        r = client.get(
            f"/api/v1/contractors/{m.evergreen}/{path}", params={"month": "2026-03"}, headers=own
        )
        assert r.status_code == 404, path
        assert "Evergreen" not in r.text
    # An id that exists nowhere answers the same.
    assert client.get("/api/v1/contractors/999999/scorecard", headers=own).status_code == 404


def test_admins_list_every_contractor(
    client: TestClient, db: Database, demo_site: SiteConfig
) -> None:
    m = build_march(db, demo_site)
    listed = client.get("/api/v1/contractors").json()
    assert {c["id"] for c in listed} >= {m.huaxia, m.evergreen}


@pytest.mark.parametrize("role", [Role.technician, Role.requester])
def test_technicians_and_requesters_may_not_see_contractors(
    client: TestClient, db: Database, demo_site: SiteConfig, role: Role
) -> None:
    m = build_march(db, demo_site)
    who = _token(db, f"user-{role}", role)
    assert client.get("/api/v1/contractors", headers=who).status_code == 403
    r = client.get(f"/api/v1/contractors/{m.huaxia}/scorecard", headers=who)
    assert r.status_code == 403
    assert client.get("/api/v1/reports/pm-compliance", headers=who).status_code == 403


@pytest.mark.parametrize(
    ("month", "reason"),
    [("2026-13", "no month 13"), ("26-03", "YYYY-MM"), ("2999-01", "has not begun")],
)
def test_bad_month_answers_422_with_the_reason(
    client: TestClient, db: Database, demo_site: SiteConfig, month: str, reason: str
) -> None:
    m = build_march(db, demo_site)
    for path in (f"contractors/{m.huaxia}/scorecard", "reports/pm-compliance"):
        r = client.get(f"/api/v1/{path}", params={"month": month})
        assert r.status_code == 422, r.text
        assert reason in r.json()["message"]


def test_pm_compliance_report_for_a_month(
    client: TestClient, db: Database, demo_site: SiteConfig
) -> None:
    schedule = {
        "id": "pump-10d",
        "name": "Pump check",
        "select": {"assets": ["pump-1"]},
        "rrule": "FREQ=DAILY;INTERVAL=10",
        "dtstart": "2026-03-05",
        "lead_time": "1d",
    }
    maintenance = Maintenance.model_validate({"schedules": [schedule]})
    site = SiteConfig(
        path=demo_site.path,
        doc=demo_site.doc.model_copy(update={"maintenance": maintenance}),
        profiles=demo_site.profiles,
    )
    [first] = pm.run_once(db, site, now=at("2026-03-04 09:00"))  # due 5 March
    with db.session() as s:
        wo = s.get(WorkOrder, first)
        assert wo is not None
        for target, when in (("resolved", "2026-03-05 15:00"), ("closed", "2026-03-06 09:00")):
            service.change_status(
                s, wo=wo, target=target, actor="crew", role="admin", at=at(when), now=at(when)
            )
    r = client.get("/api/v1/reports/pm-compliance", params={"month": "2026-03", "grace": "smrp"})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    assert (body["month"], body["grace"], body["target_percent"]) == ("2026-03", "smrp", 90.0)
    assert (body["overall"]["due"], body["overall"]["on_time"]) == (1, 1)
    assert body["overall"]["percent"] == 100.0
    assert [row["schedule_id"] for row in body["schedules"]] == ["pump-10d"]
    bad = client.get("/api/v1/reports/pm-compliance", params={"grace": "lenient"})
    assert bad.status_code == 422
