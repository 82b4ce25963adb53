"""Who may open which page of the UI: every page, for every role (issue 15).

The pages are shells their scripts fill from the API, so the API's own matrix
(test_authorization_matrix.py) guards the data; this one checks that each page opens for the
roles it is for, says 403 ("not allowed") to a signed-in role it is not for, 404 for a thing
the caller may not see, and sends a stranger to sign in (303 to /ui/login). The read-only
caller is an admin whose *token* may only read: a browser session has no scopes, so its
pages are an admin's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from core.db import Database
from tests.core.auth.accounts import sign_in
from tests.workorders.authz_world import ASSET, PASSWORD, ROLES, World, build_world

Ref = Callable[[World, str], Any]


@dataclass(frozen=True)
class Page:
    """One page the matrix opens as every caller, and the status each must get."""

    path: str
    codes: str
    params: dict[str, Ref | str] | None = None
    label: str = ""

    def expected(self, role: str) -> int | None:
        """The status role must get, or None where the row does not apply."""
        codes = self.codes.split()
        assert len(codes) == len(ROLES), f"{self.path}: {len(codes)} codes"
        code = codes[ROLES.index(role)]
        return None if code == "-" else int(code)

    def url(self, w: World, role: str) -> str:
        """The concrete URL for role."""
        values = {k: (v(w, role) if callable(v) else v) for k, v in (self.params or {}).items()}
        return self.path.format(**values)


def _wo(firm: str) -> Ref:
    return lambda w, _r: w.wo[firm]


def _org(firm: str) -> Ref:
    return lambda w, _r: w.orgs[firm]


#: Anonymous callers are redirected to the sign-in page (303).
PAGES: list[Page] = [
    # --- the tablet (issue 14) -------------------- adm eng tec cA  cB  req ro  anon
    Page("/ui/", "                                   200 200 200 200 200 200 200 303"),
    Page("/ui/scan", "                               200 200 200 200 200 200 200 303"),
    Page("/ui/workorders/{wo}", "                    200 200 200 200 404 404 200 303",
         {"wo": _wo("a")}, label="firm A's"),
    Page("/ui/assets/{asset}", "                     200 200 200 200 200 200 200 303",
         {"asset": ASSET}),
    # --- contractor -------------------------------- adm eng tec cA  cB  req ro  anon
    Page("/ui/scorecard", "                          200 200 403 200 200 403 200 303"),
    Page("/ui/scorecard?org={org}", "                200 200 403 200 404 403 200 303",
         {"org": _org("a")}, label="firm A's"),
    # An asset no firm has work on: 404 to contractors, typed in or not.
    Page("/ui/assets/{asset}", "                     200 200 200 404 404 200 200 303",
         {"asset": "mx-asset"}, label="no work of the firm"),
    # --- overview ---------------------------------- adm eng tec cA  cB  req ro  anon
    Page("/ui/overview", "                           200 200 403 403 403 403 200 303"),
    Page("/ui/alerts", "                             200 200 403 403 403 403 200 303"),
    Page("/ui/collectors", "                         200 200 403 403 403 403 200 303"),
    # --- plant ------------------------------------- adm eng tec cA  cB  req ro  anon
    Page("/ui/assets", "                             200 200 403 403 403 403 200 303"),
    Page("/ui/pm", "                                 200 200 403 403 403 403 200 303"),
    Page("/ui/pm?month={month}", "                   200 200 403 403 403 403 200 303",
         {"month": "2026-01"}, label="a past month"),
    # --- admin ------------------------------------- adm eng tec cA  cB  req ro  anon
    Page("/ui/workorders", "                         200 200 403 403 403 403 200 303"),
    Page("/ui/workorders?open=true&sla=breached", "  200 200 403 403 403 403 200 303",
         label="the overview's link"),
    Page("/ui/people", "                             200 403 403 403 403 403 200 303"),
    # --- energy (issue 16) ------------------------- adm eng tec cA  cB  req ro  anon
    Page("/ui/energy", "                             200 200 403 403 403 403 200 303"),
    Page("/ui/energy?year={year}", "                 200 200 403 403 403 403 200 303",
         {"year": "2025"}, label="a past year"),
    Page("/ui/energy/meters", "                      200 200 403 403 403 403 200 303"),
    Page("/ui/energy/baselines/{meter}", "           200 200 403 403 403 403 200 303",
         {"meter": "a-main"}),
    Page("/ui/energy/baselines/{meter}", "           404 404 403 403 403 403 404 303",
         {"meter": "no-such-meter"}, label="no such meter"),
    # --- ageing and KPIs (issue 17) ---------------- adm eng tec cA  cB  req ro  anon
    Page("/ui/capital-plan", "                       200 200 403 403 403 403 200 303"),
    Page("/ui/assets/{asset}/health", "              200 200 403 403 403 403 200 303",
         {"asset": ASSET}),
    Page("/ui/assets/{asset}/health", "              404 404 403 403 403 403 404 303",
         {"asset": "no-such-asset"}, label="no such asset"),
    Page("/ui/kpis", "                               200 200 403 200 200 403 200 303"),
    Page("/ui/kpis?contractor={org}", "              200 200 403 200 404 403 200 303",
         {"org": _org("a")}, label="firm A's"),
]  # fmt: skip


@pytest.fixture
def world(client: TestClient, db: Database) -> Iterator[World]:
    """The seeded building (tests/workorders/authz_world.py)."""
    with TestClient(client.app) as http:
        yield build_world(db, http)


def _session(w: World, role: str) -> TestClient:
    ui = TestClient(w.http.app)
    if role != "anonymous":
        r = sign_in(ui, f"mx-{role}", PASSWORD, follow_redirects=False)
        assert r.status_code == 303, r.text
    return ui


def test_each_role_gets_the_expected_status_from_every_page(world: World) -> None:
    """Every page of PAGES, opened as every role, answers the status its row says."""
    wrong: list[str] = []
    for role in ROLES:
        ui = _session(world, role)
        for page in PAGES:
            want = page.expected(role)
            if want is None:
                continue
            url = page.url(world, role)
            got = ui.get(url, follow_redirects=False)
            if got.status_code != want:
                wrong.append(
                    f"{role} GET {url}{' (' + page.label + ')' if page.label else ''}: "
                    f"{got.status_code}, expected {want}"
                )
            elif want == 303 and got.headers["location"] != "/ui/login":
                wrong.append(f"{role} GET {url}: redirected to {got.headers['location']}")
    assert not wrong, "\n".join(wrong)


#: GET routes under /ui that are not pages: the sign-in form (open to all), and the offline
#: layer's worker, manifest and session probe (tests/workorders/test_pwa_routes.py).
NOT_PAGES = {"/ui/login", "/ui/sw.js", "/ui/manifest.webmanifest", "/ui/session"}


def test_every_page_of_the_ui_has_a_row(client: TestClient) -> None:
    """A page added to the UI without a row here fails, naming it."""

    def shape(path: str) -> str:
        return re.sub(r"\{[^}]*\}", "{}", path.split("?")[0])

    routes = {
        shape(r.path)
        for r in client.app.routes
        if isinstance(r, APIRoute) and "GET" in r.methods and r.path.startswith("/ui")
    }
    missing = routes - {shape(p) for p in NOT_PAGES} - {shape(p.path) for p in PAGES}
    assert not missing, f"pages without a row in PAGES: {sorted(missing)}"
