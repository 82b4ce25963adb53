"""Fifty clients update one work order at once, each with the ETag they loaded: exactly one
wins, the rest get 412, and the audit log holds every accepted change and nothing else."""

from __future__ import annotations

import threading

import httpx

from config.settings import Settings
from config.site import SiteConfig
from plantroom.app import create_app
from plantroom.db import Database
from tests.conftest import ADMIN_TOKEN
from tests.e2e.live import serving

CLIENTS = 50


def test_fifty_conflicting_updates_one_succeeds_the_rest_412(
    settings: Settings, demo_site: SiteConfig, db: Database
) -> None:
    app = create_app(settings, site=demo_site, db=db)
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with serving(app) as base, httpx.Client(base_url=base, headers=headers, timeout=60) as c:
        wo = c.post("/api/v1/workorders", json={"title": "Chiller trips"}).json()
        url = f"/api/v1/workorders/{wo['id']}"
        tag = c.get(url).headers["ETag"]
        start = threading.Barrier(CLIENTS)
        results: dict[int, httpx.Response] = {}

        def update(i: int) -> None:
            with httpx.Client(base_url=base, headers=headers, timeout=60) as mine:
                start.wait(timeout=30)
                results[i] = mine.patch(
                    url, json={"description": f"diagnosis {i}"}, headers={"If-Match": tag}
                )

        threads = [threading.Thread(target=update, args=(i,), name=f"c{i}") for i in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        codes = sorted(r.status_code for r in results.values())
        assert codes == [200] + [412] * (CLIENTS - 1), codes
        (winner,) = [i for i, r in results.items() if r.status_code == 200]
        final = c.get(url).json()
        assert final["description"] == f"diagnosis {winner}"
        trail = c.get(f"{url}/audit").json()
        updates = [e for e in trail if e["action"] == "update"]
        assert [e["after"] for e in updates] == [{"description": f"diagnosis {winner}"}]
        assert updates[0]["version"] == final["version"]
