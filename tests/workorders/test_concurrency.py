"""Fifty clients update one work order at once, each with the ETag they loaded: exactly one
wins, the rest get 412, and the audit log holds every accepted change and nothing else."""

from __future__ import annotations

import threading

import httpx

from config.settings import Settings
from config.site import SiteConfig
from core.db import Database
from plantroom.app import create_app
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


APPENDS = 30


def test_concurrent_appends_never_conflict_and_every_line_counts(
    settings: Settings, demo_site: SiteConfig, db: Database
) -> None:
    """Thirty clients book labor, parts, other costs and comments on one work order at once,
    each with the ETag it loaded before: every append is accepted, the total counts each line
    once, and the ETag still matches (appends leave the version alone)."""
    app = create_app(settings, site=demo_site, db=db)
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with serving(app) as base, httpx.Client(base_url=base, headers=headers, timeout=60) as c:
        wo = c.post("/api/v1/workorders", json={"title": "Pump house flooding"}).json()
        url = f"/api/v1/workorders/{wo['id']}"
        tag = c.get(url).headers["ETag"]
        start = threading.Barrier(APPENDS)
        results: dict[int, httpx.Response] = {}
        kinds = [
            ("labor", {"hours": 1.5, "rate": 80.0}),  # 120.00
            ("parts", {"part": "seal kit", "quantity": 2, "unit_cost": 12.25}),  # 24.50
            ("costs", {"description": "skip hire", "amount": 35.1}),  # 35.10
            ("comments", {"text": "still wet"}),
        ]

        def append(i: int) -> None:
            path, body = kinds[i % len(kinds)]
            with httpx.Client(base_url=base, headers=headers, timeout=60) as mine:
                start.wait(timeout=30)
                results[i] = mine.post(f"{url}/{path}", json=body, headers={"If-Match": tag})

        threads = [threading.Thread(target=append, args=(i,), name=f"a{i}") for i in range(APPENDS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        codes = [r.status_code for r in results.values()]
        assert codes == [201] * APPENDS, [r.text for r in results.values() if r.status_code != 201]
        final = c.get(url)
        body = final.json()
        counts = {k: sum(1 for i in range(APPENDS) if i % len(kinds) == n) for n, (k, _) in
                  enumerate(kinds)}  # fmt: skip
        assert (len(body["labor"]), len(body["parts"]), len(body["costs"])) == (
            counts["labor"],
            counts["parts"],
            counts["costs"],
        )
        expected = round(counts["labor"] * 120 + counts["parts"] * 24.5 + counts["costs"] * 35.1, 2)
        assert body["cost_totals"]["total"] == expected
        assert body["cost_total"] == expected
        # the version is as it was, but the tag moved on, so a poll with If-None-Match sees them
        assert final.headers["ETag"].split(".")[0] == tag.split(".")[0]
        assert final.headers["ETag"] != tag
        # a PATCH with the ETag loaded before the appends still goes through
        r = c.patch(url, json={"description": "pumped out"}, headers={"If-Match": tag})
        assert r.status_code == 200, r.text
