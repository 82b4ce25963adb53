"""The ageing and KPI pages' shells (issue 17): who opens them, what each carries for its script
(the page data, the catalog, scripts and styles of our own, nothing inline the Content-Security-
Policy would block), the nav entries, a contractor's KPI page fixed to its own firm, the Chinese
page, and the pages' weight.

Who gets which status from every page is also in tests/workorders/test_page_matrix.py; the
browser checks (the time line drawn, sizes, languages, real figures) are
tests/e2e/test_ageing_pages.py.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from analytics.web.routes import HERE, STATIC_URL
from core.auth.models import Role
from core.db import Database
from tests.analytics.conftest import signed_in_browser
from tests.core.auth.accounts import make_user
from tests.workorders.test_tablet_pages import Page

PASSWORD = "ageing-password"
PAGES = {
    "/ui/assets/lift-a1/health": "health.js",
    "/ui/capital-plan": "capital.js",
    "/ui/kpis": "kpis.js",
}
#: What an ageing page loads of ours: the energy pages' helpers and styles and its own files.
MAX_WEIGHT = 80 * 1024


def _browser(
    client: TestClient, db: Database, username: str, role: Role, org: str | None = None
) -> TestClient:
    return signed_in_browser(client, db, username, role, password=PASSWORD, org=org)


@pytest.fixture
def engineer(client: TestClient, db: Database) -> TestClient:
    """A browser signed in as an engineer (the session cookie, no bearer token)."""
    return _browser(client, db, "zhao", Role.engineer)


@pytest.fixture
def contractor(client: TestClient, db: Database) -> TestClient:
    """A browser signed in as a contractor of Lifts Co (another firm, Pumps Ltd, exists)."""
    make_user(db, "pumps", Role.contractor, password=PASSWORD, org="Pumps Ltd")
    return _browser(client, db, "wang", Role.contractor, org="Lifts Co")


def test_each_page_carries_its_data_and_own_scripts_and_nothing_inline(
    engineer: TestClient,
) -> None:
    for path, own in PAGES.items():
        r = engineer.get(path)
        assert r.status_code == 200, path
        page = Page(r.text)
        srcs = [urlsplit(str(s["src"])).path for s in page.scripts if s.get("src")]
        assert srcs[-3:] == [
            f"{STATIC_URL}/energy_common.js",
            f"{STATIC_URL}/ageing/ageing.js",
            f"{STATIC_URL}/ageing/{own}",
        ], path
        styles = [urlsplit(str(link.get("href"))).path for link in page.links]
        assert {f"{STATIC_URL}/energy.css", f"{STATIC_URL}/ageing/ageing.css"} <= set(styles)
        assert not page.inline, f"{path}: {page.inline} (the CSP blocks inline code and styles)"
        data = json.loads(page.json["en-page"])
        # The API names buildings by id; the page has their names for the script.
        assert [b["id"] for b in data["buildings"]] == ["bldg-a", "bldg-b"]
    health = json.loads(Page(engineer.get("/ui/assets/lift-a1/health").text).json["en-page"])
    assert health["asset"] == "lift-a1"


@pytest.mark.parametrize("asset", ["no-such-asset", "-x", "a b", "x" * 101])
def test_the_health_of_an_asset_that_does_not_exist_is_a_404_page(
    engineer: TestClient, asset: str
) -> None:
    r = engineer.get(f"/ui/assets/{asset}/health")
    assert r.status_code == 404
    assert "Not found" in r.text


def test_the_kpi_page_offers_the_office_every_firm_and_a_contractor_only_its_own(
    engineer: TestClient, contractor: TestClient
) -> None:
    office = json.loads(Page(engineer.get("/ui/kpis").text).json["en-page"])
    assert {"Lifts Co", "Pumps Ltd"} <= {c["name"] for c in office["contractors"]}
    assert office["own_firm"] is None
    assert "Elevator" in office["classes"] and "Pump" in office["classes"]
    html = contractor.get("/ui/kpis").text
    own = json.loads(Page(html).json["en-page"])
    assert [c["name"] for c in own["contractors"]] == ["Lifts Co"]
    assert own["own_firm"] == own["contractors"][0]["id"]
    # The firm picker is shown, fixed, with no "all contractors" choice.
    assert re.search(r'<select id="f-contractor" disabled>', html)
    assert "All contractors" not in html
    # Another firm's page, typed in: 404 as the scorecard does; its own: the page.
    other = next(c["id"] for c in office["contractors"] if c["name"] == "Pumps Ltd")
    assert contractor.get(f"/ui/kpis?contractor={other}").status_code == 404
    assert contractor.get(f"/ui/kpis?contractor={own['own_firm']}").status_code == 200


def test_the_office_has_one_nav_entry_and_a_contractor_the_kpis(
    engineer: TestClient, contractor: TestClient, client: TestClient, db: Database
) -> None:
    home = engineer.get("/ui/overview").text
    assert '<a href="/ui/capital-plan">Ageing and KPIs</a>' in home
    assert 'href="/ui/kpis"' not in home  # the KPIs are a tab of the ageing pages
    here = engineer.get("/ui/kpis").text
    assert '<a href="/ui/capital-plan" aria-current="page">' in here
    assert '<a href="/ui/kpis" class="on" aria-current="page">' in here
    theirs = contractor.get("/ui/").text
    assert '<a href="/ui/kpis">' in theirs and "/ui/capital-plan" not in theirs
    # A contractor's KPI page has no capital-plan tab.
    assert "/ui/capital-plan" not in contractor.get("/ui/kpis").text
    technician = _browser(client, db, "li", Role.technician)
    assert "/ui/kpis" not in technician.get("/ui/").text
    assert technician.get("/ui/capital-plan").status_code == 403


def test_the_chinese_page_is_in_chinese_and_its_script_gets_the_words(
    engineer: TestClient,
) -> None:
    r = engineer.get("/ui/capital-plan?lang=zh-CN")
    assert "<h1>设备更新计划" in r.text
    assert '<a href="/ui/capital-plan" aria-current="page">老化与指标</a>' in r.text
    zh = json.loads(Page(r.text).json["i18n-catalog"])
    assert zh["Failures rising (β > 1)"] == "故障趋增（β > 1）"
    assert zh["{n} per year"] == "每年 {n} 次"
    names = {b["id"]: b["name"] for b in json.loads(Page(r.text).json["en-page"])["buildings"]}
    assert re.search(r"[\u4e00-\u9fff]", names["bldg-a"]), names["bldg-a"]  # its name_zh


def test_the_pages_load_only_files_of_ours_that_exist_and_weigh_little() -> None:
    static = HERE / "static"
    named: set[str] = set()
    for template in (HERE / "templates" / "ageing").glob("*.html"):
        text = template.read_text()
        named |= set(re.findall(r"url_for\(static_name, path='([^']+)'\)", text))
        for ref in re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', text):
            assert not ref.startswith(("http:", "https:", "//")), f"{template.name}: {ref}"
    own = {f"ageing/{p.name}" for p in (static / "ageing").iterdir()}
    assert own <= named, own - named
    assert all((static / n).is_file() for n in named), named
    weight = sum((static / n).stat().st_size for n in named)
    assert weight <= MAX_WEIGHT, f"{weight} bytes"


def test_an_assets_page_leads_the_office_to_its_health(engineer: TestClient) -> None:
    page = engineer.get("/ui/assets/lift-a1")
    assert page.status_code == 200
    link = re.search(r'<a class="btn" id="health-link" href="([^"]+)">([^<]+)</a>', page.text)
    assert link and link.group(1) == "/ui/assets/lift-a1/health"
    assert link.group(2) == "Asset health"
    assert engineer.get(link.group(1)).status_code == 200
