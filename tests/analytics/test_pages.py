"""The energy pages' shells (issue 16): who opens them, what each carries for its script (the
page data, the catalog, scripts and styles of our own, nothing inline the Content-Security-
Policy would block), the nav entry for the office, a meter that does not exist, the Chinese
page, and the scripts served where the tablets' service worker does not keep them.

Who gets which status from every page is also in tests/workorders/test_page_matrix.py; the
browser checks (charts drawn, sizes, languages) are tests/e2e/test_energy_pages.py.
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
from tests.workorders.test_tablet_pages import Page

PASSWORD = "energy-password"
STATIC = HERE / "static"
PAGES = {
    "/ui/energy": "energy.js",
    "/ui/energy/meters": "meters.js",
    "/ui/energy/baselines/a-lighting": "baseline.js",
}
#: The energy pages' scripts and styles together (loaded when opened, never precached).
MAX_WEIGHT = 80 * 1024


def _browser(client: TestClient, db: Database, username: str, role: Role) -> TestClient:
    return signed_in_browser(client, db, username, role, password=PASSWORD)


@pytest.fixture
def engineer(client: TestClient, db: Database) -> TestClient:
    """A browser signed in as an engineer (the session cookie, no bearer token)."""
    return _browser(client, db, "zhao", Role.engineer)


@pytest.fixture
def technician(client: TestClient, db: Database) -> TestClient:
    """A browser signed in as a technician."""
    return _browser(client, db, "li", Role.technician)


def test_each_energy_page_carries_its_data_and_own_scripts_and_nothing_inline(
    engineer: TestClient,
) -> None:
    for path, own in PAGES.items():
        r = engineer.get(path)
        assert r.status_code == 200, path
        page = Page(r.text)
        srcs = [urlsplit(str(s["src"])).path for s in page.scripts if s.get("src")]
        assert srcs[-2:] == [f"{STATIC_URL}/energy_common.js", f"{STATIC_URL}/{own}"], path
        styles = [urlsplit(str(link.get("href"))).path for link in page.links]
        assert f"{STATIC_URL}/energy.css" in styles
        assert not page.inline, f"{path}: {page.inline} (the CSP blocks inline code and styles)"
        data = json.loads(page.json["en-page"])
        assert [b["id"] for b in data["buildings"]] == ["bldg-a", "bldg-b"]
        assert {"a-main", "a-lighting", "b-main"} <= {m["id"] for m in data["meters"]}


def test_the_baseline_page_knows_its_meter_and_the_retrofits_on_it(
    engineer: TestClient,
) -> None:
    html = engineer.get("/ui/energy/baselines/a-lighting").text
    page = Page(html)
    data = json.loads(page.json["en-page"])
    # The meter picker offers the meters the collectors read, not the invoices' meters.
    assert 'value="b-hvac"' in html and 'value="gas-canteen"' not in html
    assert data["meter"] == "a-lighting"
    assert [r["id"] for r in data["retrofits"]] == ["a-led-2026"]
    assert data["retrofits"][0]["date"] == "2026-06-01"
    # A meter no retrofit names has a baseline but nothing to measure savings of.
    other = json.loads(Page(engineer.get("/ui/energy/baselines/b-hvac").text).json["en-page"])
    assert other["retrofits"] == []


@pytest.mark.parametrize("meter", ["no-such-meter", "-x", "a b", "x" * 101])
def test_a_baseline_of_a_meter_that_does_not_exist_is_a_404_page(
    engineer: TestClient, meter: str
) -> None:
    r = engineer.get(f"/ui/energy/baselines/{meter}")
    assert r.status_code == 404
    assert "Not found" in r.text


def test_the_office_sees_energy_in_the_nav_and_the_crew_does_not(
    engineer: TestClient, technician: TestClient
) -> None:
    link = '<a href="/ui/energy"'
    assert link in engineer.get("/ui/overview").text
    here = engineer.get("/ui/energy/meters").text
    assert '<a href="/ui/energy" aria-current="page">' in here
    assert link not in technician.get("/ui/").text
    r = technician.get("/ui/energy")
    assert r.status_code == 403 and "Not allowed" in r.text


def test_the_chinese_page_is_in_chinese_and_its_script_gets_the_words(
    engineer: TestClient,
) -> None:
    r = engineer.get("/ui/energy/meters?lang=zh-CN")
    assert "<h1>计量表与余量" in r.text
    assert '<a href="/ui/energy" aria-current="page">能耗</a>' in r.text
    zh = json.loads(Page(r.text).json["i18n-catalog"])
    assert zh["Unmetered remainder"] == "未分项计量（余量）"
    assert zh["row {n}: {why}"] == "第 {n} 行：{why}"
    names = {m["id"]: m["name"] for m in json.loads(Page(r.text).json["en-page"])["meters"]}
    assert re.search(r"[\u4e00-\u9fff]", names["a-main"]), names["a-main"]  # its name_zh


def test_the_scripts_are_revalidated_on_every_load_and_left_alone_by_the_worker(
    engineer: TestClient,
) -> None:
    """The tablets' service worker keeps whatever is under /static/ until the tablet's own
    files change; the energy scripts live elsewhere and are revalidated (ETag, 304)."""
    assert not STATIC_URL.startswith("/static/")
    r = engineer.get(f"{STATIC_URL}/meters.js")
    assert r.status_code == 200 and "javascript" in r.headers["content-type"]
    assert r.headers["cache-control"] == "no-cache"
    again = engineer.get(f"{STATIC_URL}/meters.js", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304


def test_the_pages_load_only_files_of_ours_that_exist_and_weigh_little() -> None:
    named: set[str] = set()
    for template in (HERE / "templates").glob("*.html"):
        text = template.read_text()
        named |= set(re.findall(r"url_for\(static_name, path='([^']+)'\)", text))
        for ref in re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', text):
            assert not ref.startswith(("http:", "https:", "//")), f"{template.name}: {ref}"
    assert named == {p.name for p in STATIC.iterdir() if p.suffix in (".js", ".css")}
    weight = sum(p.stat().st_size for p in STATIC.iterdir())
    assert weight <= MAX_WEIGHT, f"{weight} bytes"
