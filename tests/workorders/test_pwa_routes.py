"""The tablet as an installable app: manifest, service worker, session facts and the scan page."""

from __future__ import annotations

import json
import re
import shutil
import struct
from pathlib import Path

from fastapi.testclient import TestClient

from core.auth.models import Role
from core.db import Database
from tests.core.auth.accounts import make_user, sign_in
from workorders.web import pwa_routes

PASSWORD = "tablet-password"


def _tablet(client: TestClient, db: Database, username: str = "tech") -> TestClient:
    make_user(db, username, Role.technician, password=PASSWORD)
    tablet = TestClient(client.app)
    r = sign_in(tablet, username, PASSWORD, follow_redirects=False)
    assert r.status_code == 303, r.text
    return tablet


def _png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_manifest_makes_the_tablet_ui_an_installable_standalone_app(
    client: TestClient,
) -> None:
    r = TestClient(client.app).get("/ui/manifest.webmanifest")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/manifest+json")
    m = r.json()
    assert (m["start_url"], m["scope"], m["display"]) == ("/ui/", "/ui/", "standalone")
    assert m["name"] and m["short_name"] and re.fullmatch(r"#[0-9a-f]{6}", m["theme_color"])
    sizes = {}
    for icon in m["icons"]:
        png = TestClient(client.app).get(icon["src"])
        assert png.status_code == 200
        sizes[icon["sizes"]] = _png_size(png.content)
    assert sizes == {"192x192": (192, 192), "512x512": (512, 512)}


def test_the_manifest_speaks_the_pages_language(client: TestClient) -> None:
    m = TestClient(client.app).get("/ui/manifest.webmanifest?lang=zh-CN").json()
    assert "离线" in m["description"]


def test_the_service_worker_is_served_for_the_ui_scope_and_never_cached(
    client: TestClient,
) -> None:
    r = TestClient(client.app).get("/ui/sw.js")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/javascript")
    assert r.headers["service-worker-allowed"] == "/ui/"
    assert r.headers["cache-control"] == "no-cache"
    assert "__PR_VERSION__" not in r.text and "__PR_PRECACHE__" not in r.text
    version = re.search(r'var VERSION = "([0-9a-f]{12})";', r.text)
    assert version, r.text[:400]
    precache = json.loads(re.search(r"var PRECACHE = (\[.*?\]);", r.text).group(1))  # type: ignore[union-attr]
    for url in (
        "/static/js/sync.js",
        "/static/js/scan.js",
        "/static/css/pwa.css",
        "/static/vendor/qr-scanner-worker.min.js",
        "/static/icons/icon-192.png",
        "/ui/manifest.webmanifest",
    ):
        assert url in precache
    assert "/static/sw.js" not in precache and "/static/request.css" not in precache
    for url in precache:  # everything it keeps is really there
        assert TestClient(client.app).get(url).status_code == 200, url


def test_the_service_workers_version_follows_the_static_files(tmp_path: Path) -> None:
    static = tmp_path / "static"
    shutil.copytree(pwa_routes.STATIC, static)
    before = pwa_routes.worker_source(static)
    assert pwa_routes.worker_source(static) == before
    sync = static / "js" / "sync.js"
    sync.write_text(sync.read_text(encoding="utf-8") + "\n// changed\n", encoding="utf-8")
    after = pwa_routes.worker_source(static)
    version = re.compile(r'VERSION = "(\w+)"')
    assert version.search(before).group(1) != version.search(after).group(1)  # type: ignore[union-attr]


def test_the_session_facts_name_the_signed_in_user_and_the_live_csrf_token(
    client: TestClient, db: Database
) -> None:
    nobody = TestClient(client.app).get("/ui/session")
    assert nobody.json() == {"user": None, "csrf": ""}
    assert nobody.headers["cache-control"] == "no-store"
    tablet = _tablet(client, db)
    facts = tablet.get("/ui/session").json()
    assert facts["user"]["username"] == "tech" and facts["user"]["role"] == "technician"
    page = tablet.get("/ui/").text
    assert f'<meta name="csrf-token" content="{facts["csrf"]}">' in page
    # The token it gives is the one the API takes from the session.
    wo = client.post("/api/v1/workorders", json={"title": "Drip tray full"}).json()["id"]
    r = tablet.post(
        f"/api/v1/workorders/{wo}/comments",
        json={"text": "emptied"},
        headers={"X-CSRF-Token": facts["csrf"]},
    )
    assert r.status_code == 201, r.text


def test_the_scan_page_needs_a_session_and_a_typed_id_opens_the_asset(
    client: TestClient, db: Database
) -> None:
    r = TestClient(client.app).get("/ui/scan", follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/ui/login")
    tablet = _tablet(client, db)
    page = tablet.get("/ui/scan")
    assert page.status_code == 200
    assert 'id="scan-video"' in page.text and "/static/js/scan.js" in page.text
    assert "/static/vendor/qr-scanner-worker.min.js" in page.text
    r = tablet.get("/ui/scan?asset=pump 1/x", follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/ui/assets/pump%201%2Fx")


def test_every_tablet_page_links_the_manifest(client: TestClient, db: Database) -> None:
    tablet = _tablet(client, db)
    link = '<link rel="manifest" href="/ui/manifest.webmanifest">'
    pages = ["/ui/", "/ui/scan", "/ui/assets/pump-1"]
    for url in pages:
        r = tablet.get(url)
        assert r.status_code == 200, url
        assert link in r.text, url
    assert link in TestClient(client.app).get("/ui/login").text
