"""Browser fixtures: the real app served by uvicorn on loopback, seeded work orders, and Chromium.

Chromium is Debian's /usr/bin/chromium driven by Playwright's sync API; Playwright's own browser
download is not used. Without Chromium the browser tests fail under CI and skip locally.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect, sync_playwright
from sqlalchemy import select

from config.settings import Settings
from config.site import SiteConfig
from core.auth.models import User
from core.db import Database
from plantroom.app import create_app
from plantroom.demo import Login, ensure_demo_users
from tests.e2e.live import serving
from workorders import intake
from workorders.orders import service
from workorders.orders.models import Origin, Priority

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
VIEWPORT = {"width": 1280, "height": 800}
#: The sizes every page is checked at: a 10-inch tablet either way up, and a desktop.
LANDSCAPE: ViewportSize = {"width": 1280, "height": 800}
PORTRAIT: ViewportSize = {"width": 800, "height": 1280}
DESKTOP: ViewportSize = {"width": 1920, "height": 1080}
#: Makes a new browser context and page: (viewport, locale) -> Page.
ContextFor = Callable[..., Page]


@dataclass
class LiveApp:
    """The app listening on a loopback port, its database and the demo logins."""

    base_url: str
    db: Database
    logins: dict[str, Login]

    def api(self, username: str) -> httpx.Client:
        """An API client authenticated with that demo user's bearer token."""
        token = self.logins[username].token
        return httpx.Client(
            base_url=self.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10
        )


@dataclass
class Seeded:
    """Ids of the seeded work orders; `contractor_wo` is assigned to the contractor's firm."""

    pump: int
    lift: int
    voltage: int
    contractor_wo: int
    contractor_org_id: int
    open_ids: list[int] = field(default_factory=list)


@pytest.fixture
def live_app(settings: Settings, demo_site: SiteConfig, db: Database) -> Iterator[LiveApp]:
    """The real app under uvicorn in a thread, on a free 127.0.0.1 port, over the `db` fixture."""
    logins = {lg.username: lg for lg in ensure_demo_users(db, demo_site, first_job=False)}
    app = create_app(settings, site=demo_site, db=db)
    with serving(app) as base_url:
        yield LiveApp(base_url=base_url, db=db, logins=logins)


@pytest.fixture
def seeded(live_app: LiveApp) -> Seeded:
    """Three alert work orders and one manual one for the contractor, through the service layer."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with live_app.db.session() as s:
        # Opened in the order the alerts fired, as the alert engine would.
        voltage, _ = intake.open_from_alert(
            s,
            asset_id="b-main",
            rule_id="supply-voltage-low",
            title="Supply voltage low (L1): Building B main meter",
            priority=Priority.P2,
            trigger={
                "point": "voltage_l1",
                "value": 201.4,
                "unit": "V",
                "device": "b-main-meter",
                "ts": (now - dt.timedelta(minutes=30)).isoformat(),
                "rule": "voltage_l1 < 207 for 1m",
            },
            at=now - dt.timedelta(minutes=30),
        )
        pump, _ = intake.open_from_alert(
            s,
            asset_id="pump-1",
            rule_id="pump-overcurrent",
            title="Pump motor over-current: Domestic water booster pump 1",
            priority=Priority.P2,
            trigger={
                "point": "motor_current",
                "value": 28.7,
                "unit": "A",
                "device": "pump-1-drive",
                "ts": (now - dt.timedelta(minutes=12)).isoformat(),
                "rule": "motor_current > 26 for 20s",
            },
            at=now - dt.timedelta(minutes=12),
        )
        lift, _ = intake.open_from_alert(
            s,
            asset_id="lift-b1",
            rule_id="lift-out-of-service",
            title="Lift out of service: Passenger lift B1",
            priority=Priority.P1,
            trigger={
                "point": "in_service",
                "value": 0,
                "unit": "",
                "device": "lift-b1-ctrl",
                "ts": (now - dt.timedelta(minutes=5)).isoformat(),
                "rule": "in_service < 1 for 1m",
            },
            at=now - dt.timedelta(minutes=5),
        )
        contractor = s.scalars(select(User).where(User.username == "contractor")).one()
        assert contractor.organisation_id is not None
        manual = service.create(
            s,
            title="Replace flickering corridor lights, B 3F",
            description="Reported by the front desk.",
            priority=Priority.P3,
            asset_id="b-lighting",
            origin=Origin.manual,
            actor="admin",
            contractor_id=contractor.organisation_id,
        )
        ids = Seeded(
            pump=pump.id,
            lift=lift.id,
            voltage=voltage.id,
            contractor_wo=manual.id,
            contractor_org_id=contractor.organisation_id,
        )
    ids.open_ids = [ids.lift, ids.pump, ids.voltage, ids.contractor_wo]
    return ids


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless.

    Module-scoped, not session-scoped: while sync Playwright is running it marks an event loop as
    running on the main thread, which would break `asyncio.run()` in later, unrelated tests.
    """
    if not CHROMIUM.exists():
        msg = (
            f"Chromium is not available at {CHROMIUM}. Install it with `apt-get install chromium`."
        )
        if os.environ.get("CI"):
            pytest.fail(f"CI: {msg}")
        pytest.skip(msg)
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Browser, live_app: LiveApp) -> Iterator[Page]:
    """A fresh browser context (no cookies) at 1280x800, English, pointed at the live app."""
    context = browser.new_context(base_url=live_app.base_url, viewport=VIEWPORT, locale="en-GB")
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def context_for(browser: Browser, live_app: LiveApp) -> Iterator[ContextFor]:
    """New browser contexts (no cookies) at a chosen viewport and locale, closed afterwards."""
    made: list[BrowserContext] = []

    def make(viewport: ViewportSize = LANDSCAPE, locale: str = "en-GB") -> Page:
        ctx = browser.new_context(
            base_url=live_app.base_url, viewport=viewport, locale=locale, accept_downloads=True
        )
        ctx.set_default_timeout(10_000)
        made.append(ctx)
        return ctx.new_page()

    yield make
    for ctx in made:
        ctx.close()


def sign_in_demo(page: Page, username: str, lang: str = "") -> None:
    """Sign in with a demo account (password '<username>-demo') and wait to leave the form."""
    page.goto("/ui/login" + (f"?lang={lang}" if lang else ""))
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(f"{username}-demo")
    page.locator("form.login button").click()
    # Signing in hashes a password: slow on a busy machine.
    expect(page).not_to_have_url(re.compile(r"/ui/login"), timeout=30_000)
