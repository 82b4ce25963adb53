"""The demo's accounts: a contractor of the site's own firm, with a job to see and do; an
engineer who reads every firm."""

from __future__ import annotations

from fastapi.testclient import TestClient

from config.settings import Settings
from config.site import SiteConfig
from core.db import Database
from plantroom.app import create_app
from plantroom.demo import CONTRACTOR_JOB, ensure_demo_users
from tests.core.auth.accounts import sign_in


def _contractor_list(settings: Settings, site: SiteConfig, db: Database, token: str) -> list:
    with TestClient(create_app(settings, site=site, db=db)) as c:
        r = c.get("/api/v1/workorders", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200, r.text
        return r.json()["items"]


def test_demo_contractor_works_for_the_sites_firm_and_has_one_repair(
    settings: Settings, demo_site: SiteConfig, db: Database
) -> None:
    logins = {lg.username: lg for lg in ensure_demo_users(db, demo_site)}
    with TestClient(create_app(settings, site=demo_site, db=db)) as c:
        me = c.get("/api/v1/me", headers={"Authorization": f"Bearer {logins['contractor'].token}"})
    assert me.json()["organisation"]["name"] == demo_site.doc.contractors[0].name
    items = _contractor_list(settings, demo_site, db, logins["contractor"].token)
    assert [(w["title"], w["type"], w["sla"]["policy"]) for w in items] == [
        (CONTRACTOR_JOB, "corrective", "P3 routine")
    ]


def test_restarting_the_demo_gives_the_contractor_no_second_job(
    settings: Settings, demo_site: SiteConfig, db: Database
) -> None:
    ensure_demo_users(db, demo_site)
    logins = {lg.username: lg for lg in ensure_demo_users(db, demo_site)}
    items = _contractor_list(settings, demo_site, db, logins["contractor"].token)
    assert len(items) == 1


def test_demo_engineer_signs_in_as_an_engineer_and_reads_every_contractor(
    settings: Settings, demo_site: SiteConfig, db: Database
) -> None:
    logins = {lg.username: lg for lg in ensure_demo_users(db, demo_site)}
    engineer = logins["engineer"]
    assert (engineer.password, engineer.role) == ("engineer-demo", "engineer")
    auth = {"Authorization": f"Bearer {engineer.token}"}
    with TestClient(create_app(settings, site=demo_site, db=db)) as c:
        me = c.get("/api/v1/me", headers=auth).json()
        firms = c.get("/api/v1/contractors", headers=auth)
        page = sign_in(c, "engineer", "engineer-demo", follow_redirects=False)
    assert (me["role"], me["display_name"], me["organisation"]) == ("engineer", "Chen Jie", None)
    assert firms.status_code == 200
    assert {f["name"] for f in firms.json()} >= {demo_site.doc.contractors[0].name}
    assert page.status_code == 303, page.text
