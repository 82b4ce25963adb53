"""Complaints against a contractor's work (issue 15), on SQLite and PostgreSQL: recorded by an
admin, or an occupant request marked as one; counted in the site-local month they were made;
the payment rule's fixed deduction per complaint; withdrawn ones listed and not counted; a
complaint recorded after the month was signed off is a revision.

The site here is the demo's with Huaxia's payment rule deducting 1,000 per complaint.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from config.settings import Settings
from config.site import SiteConfig
from core.auth.models import Role
from core.db import Database
from plantroom.app import create_app
from tests.conftest import ADMIN_TOKEN
from tests.workorders.test_scorecard import CONTRACTOR, FEE, March, _token, build_march
from workorders.orders import service
from workorders.sla.config import ContractorConfig, PaymentRule

DEDUCTION = 1000.0


@pytest.fixture
def site(demo_site: SiteConfig) -> SiteConfig:
    """The demo site, with Huaxia paid by score less 1,000 per complaint."""
    firm = ContractorConfig(
        name=CONTRACTOR, monthly_fee=FEE, payment=PaymentRule(deduction_per_complaint=DEDUCTION)
    )
    doc = demo_site.doc.model_copy(update={"contractors": [*demo_site.doc.contractors, firm]})
    return dataclasses.replace(demo_site, doc=doc)


@pytest.fixture
def api(settings: Settings, site: SiteConfig, db: Database) -> Iterator[TestClient]:
    """The app over that site, as the environment's admin."""
    app = create_app(settings, site=site, db=db)
    with TestClient(app, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as c:
        yield c


def _url(m: March, tail: str) -> str:
    return f"/api/v1/contractors/{m.huaxia}/{tail}"


def _card(api: TestClient, m: March, month: str) -> dict[str, Any]:
    r = api.get(_url(m, "scorecard"), params={"month": month})
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_a_complaint_counts_in_the_month_it_was_made_and_deducts_from_the_pay(
    api: TestClient, db: Database, site: SiteConfig
) -> None:
    m = build_march(db, site)
    # 31 Mar 23:30 in Shanghai is 31 Mar 15:30 UTC: March, on the site's calendar.
    body = {"text": "Lobby left dirty after the repair", "made_at": "2026-03-31T23:30:00"}
    r = api.post(_url(m, "complaints"), json={**body, "workorder_id": m.ids["D"]})
    assert r.status_code == 201, r.text
    assert r.json()["workorder_id"] == m.ids["D"]
    api.post(_url(m, "complaints"), json={"text": "April one", "made_at": "2026-04-01T00:10:00"})
    march = _card(api, m, "2026-03")
    assert march["complaints"] == 1
    assert march["payment_rule"]["deduction_per_complaint"] == DEDUCTION
    # 163,278.00 (score 75.71) less 1,000.
    assert march["payment"] == 162278.0
    assert [c["text"] for c in march["complaint_items"]] == ["Lobby left dirty after the repair"]
    assert _card(api, m, "2026-04")["complaints"] == 1
    listed = api.get(_url(m, "complaints"), params={"month": "2026-03"}).json()
    assert listed["counted"] == 1 and len(listed["items"]) == 1


def test_an_occupant_request_marked_as_a_complaint_counts_when_it_was_reported(
    api: TestClient, db: Database, site: SiteConfig
) -> None:
    m = build_march(db, site)
    with db.session() as s:
        req = service.report(
            s,
            site=site,
            title="Occupant report: the tap still drips",
            description="Fixed last week, dripping again",
            asset_id="pump-1",
            reporter_contact=None,
            actor="occupant",
        )
        req_id = req.id
        month = f"{req.created_at:%Y-%m}"
    r = api.post(_url(m, "complaints"), json={"text": "Repair did not hold", "request_id": req_id})
    assert r.status_code == 201, r.text
    assert r.json()["request_id"] == req_id
    again = api.post(_url(m, "complaints"), json={"text": "again", "request_id": req_id})
    assert again.status_code == 409
    both = {"text": "x", "request_id": req_id, "made_at": "2026-03-02T10:00:00"}
    assert api.post(_url(m, "complaints"), json=both).status_code == 422
    not_a_request = api.post(_url(m, "complaints"), json={"text": "x", "request_id": m.ids["A"]})
    assert not_a_request.status_code == 422
    assert _card(api, m, month)["complaints"] == 1


def test_complaints_are_recorded_by_admins_only_and_refused_when_they_cannot_be(
    api: TestClient, db: Database, site: SiteConfig
) -> None:
    m = build_march(db, site)
    hx = _token(db, "hx-user", Role.contractor, m.huaxia)
    eng = _token(db, "eng", Role.engineer)
    body = {"text": "noisy works at night"}
    assert api.post(_url(m, "complaints"), json=body, headers=hx).status_code == 403
    assert api.post(_url(m, "complaints"), json=body, headers=eng).status_code == 403
    other = {**body, "workorder_id": m.ids["G"]}  # Evergreen's work
    assert api.post(_url(m, "complaints"), json=other).status_code == 422
    future = {**body, "made_at": "2999-01-01T00:00:00"}
    assert api.post(_url(m, "complaints"), json=future).status_code == 422
    assert api.post(_url(m, "complaints"), json={"text": "\x00"}).status_code == 422
    # The firm sees its complaints; the other firm does not see them at all.
    assert api.get(_url(m, "complaints"), headers=hx).status_code == 200
    rival = _token(db, "eg-user", Role.contractor, m.evergreen)
    assert api.get(_url(m, "complaints"), headers=rival).status_code == 404


def test_a_withdrawn_complaint_stays_listed_and_stops_counting_with_a_revision(
    api: TestClient, db: Database, site: SiteConfig
) -> None:
    m = build_march(db, site)
    made = {"text": "wrong firm", "made_at": "2026-03-10T09:00:00"}
    c = api.post(_url(m, "complaints"), json=made).json()
    assert api.post(_url(m, "signoff"), json={"month": "2026-03"}).status_code == 201
    r = api.post(_url(m, f"complaints/{c['id']}/withdraw"))
    assert r.status_code == 200 and r.json()["withdrawn"]
    assert api.post(_url(m, f"complaints/{c['id']}/withdraw")).status_code == 409
    card = _card(api, m, "2026-03")
    assert card["complaints"] == 0 and card["payment"] == 163278.0
    assert card["complaint_items"][0]["withdrawn"]
    (rev,) = card["revisions"]
    assert rev["after_signoff"] and "withdrawn" in rev["reason"]
    assert (rev["before"]["payment"], rev["after"]["payment"]) == ("162278.00", "163278.00")


def test_a_complaint_recorded_after_sign_off_is_a_revision(
    api: TestClient, db: Database, site: SiteConfig
) -> None:
    m = build_march(db, site)
    assert api.post(_url(m, "signoff"), json={"month": "2026-03"}).status_code == 201
    made = {"text": "late one", "made_at": "2026-03-20T09:00:00"}
    assert api.post(_url(m, "complaints"), json=made).status_code == 201
    card = _card(api, m, "2026-03")
    assert card["revised_after_signoff"]
    assert card["revisions"][0]["after"]["complaints"] == 1
    assert card["signoff"]["figures"]["payment"] == "163278.00"


def _public_report(api: TestClient, asset: str, description: str, complaint: bool) -> int:
    """Send the public report form as an occupant's phone does; the new work order's id."""
    with TestClient(api.app) as phone:
        page = phone.get(f"/r/{asset}")
        csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        data = {"csrf": csrf, "description": description, "contact": ""}
        if complaint:
            data["complaint"] = "yes"
        r = phone.post(
            f"/r/{asset}",
            data=data,
            files={"photo": ("", b"", "application/octet-stream")},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
    items = api.get("/api/v1/workorders", params={"asset_id": asset, "sort": "-id"}).json()
    return int(items["items"][0]["id"])


def test_an_occupant_complaint_counts_against_the_firm_with_recent_work_on_the_asset(
    api: TestClient, db: Database, site: SiteConfig
) -> None:
    m = build_march(db, site)
    with db.session() as s:
        service.create(s, title="pump seal", actor="t", asset_id="pump-1", contractor_id=m.huaxia)
    wo = _public_report(api, "pump-1", "The seal you replaced leaks again", complaint=True)
    detail = api.get(f"/api/v1/workorders/{wo}").json()
    assert detail["title"].startswith("Occupant complaint:")
    listed = api.get(_url(m, "complaints")).json()
    (c,) = listed["items"]
    assert (c["request_id"], c["recorded_by"], c["text"]) == (
        wo,
        "occupant",
        "The seal you replaced leaks again",
    )
    assert _card(api, m, listed["month"])["complaints"] == 1
    # A plain report is no complaint; a complaint where no firm works is left to the office.
    _public_report(api, "pump-1", "Noisy today", complaint=False)
    lone = _public_report(api, "pump-2", "Still broken after the repair", complaint=True)
    assert api.get(_url(m, "complaints")).json()["counted"] == 1
    assert api.get(f"/api/v1/workorders/{lone}").json()["title"].startswith("Occupant complaint")
