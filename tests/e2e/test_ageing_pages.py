"""The engineer's ageing and KPI screens in real Chromium against the real app (issue 17), over
the demo's generated maintenance history (plantroom.maintenance_history: lifts A1 and B1 and
booster pump 1 deteriorating, the others steady): the capital plan ranked as the API ranks it,
a year chosen on its chart, an asset's health with its failures on the time line under the
fitted intensity, the KPIs of a month with a building filter, and a contractor fixed to its own
firm; every page at tablet and desktop sizes in English and Chinese, nothing wider than the
screen.

Screenshots go to $PLANTROOM_SHOTS (default /tmp/shots17/ageing).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from collectors import health as point_health
from collectors.readings import Quality, Reading
from collectors.sinks.embedded import FILE_NAME, EmbeddedStore
from config.settings import Settings
from config.site import SiteConfig
from plantroom.maintenance_history import generate
from tests.e2e.conftest import DESKTOP, LANDSCAPE, PORTRAIT, ContextFor
from tests.e2e.conftest import sign_in_demo as sign_in

if TYPE_CHECKING:
    from tests.e2e.conftest import LiveApp

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("PLANTROOM_SHOTS", "/tmp/shots17/ageing"))
ERGONOMICS = (Path(__file__).parent / "ergonomics.js").read_text()
DETERIORATING = {"lift-a1", "lift-b1", "pump-1"}


@pytest.fixture
def history(live_app: LiveApp, demo_site: SiteConfig) -> None:
    """The demo's maintenance history from 2020 to now, in the live app's database."""
    generate(live_app.db, demo_site)


def _write_in_service(settings: Settings, site: SiteConfig, now: dt.datetime) -> None:
    """Lift A1's in-service flag every hour of the last ten days, as its controller reports it:
    in service throughout but for 12 hours of the fifth day back."""
    device = point_health.point_intervals(site)[("lift-a1", "in_service")][0]
    rows = []
    for k in range(240):
        # On the half hour, so the API's daily buckets (ending at its own now, a little later)
        # hold 24 readings each: readings k = 24j..24j+23 fall in the day j days back.
        value = 0.0 if 96 <= k <= 107 else 1.0
        at = (now - dt.timedelta(hours=k + 0.5)).timestamp()
        rows.append(Reading(at, "lift-a1", device, "in_service", value, "", Quality.good))
    store = EmbeddedStore(settings.data_dir / FILE_NAME)
    store.write(rows)
    store.close()


def shot(page: Page, name: str) -> Path:
    """A PNG of this step, named by step and viewport."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size or LANDSCAPE
    path = SHOTS / f"{name}-{size['width']}x{size['height']}.png"
    page.evaluate("document.fonts.ready")
    page.screenshot(path=path, full_page=True)
    return path


def loaded(page: Page) -> None:
    """Wait until the page's script has drawn what the API answered."""
    page.wait_for_function(
        "() => !!document.body && document.body.dataset.loaded === '1'", timeout=60_000
    )


def test_engineer_follows_the_capital_plan_to_a_deteriorating_lifts_health(
    context_for: ContextFor,
    live_app: LiveApp,
    history: None,
    settings: Settings,
    demo_site: SiteConfig,
) -> None:
    _write_in_service(settings, demo_site, dt.datetime.now(dt.UTC))
    with live_app.api("engineer") as api:
        plan = api.get("/api/v1/analytics/capital-plan").json()
        health = api.get("/api/v1/analytics/assets/lift-a1/health").json()
    page = context_for()
    sign_in(page, "engineer")
    page.locator("nav.nav a[href='/ui/capital-plan']").click()
    expect(page).to_have_url(re.compile(r"/ui/capital-plan$"))
    loaded(page)
    rows = page.locator("#items tbody tr")
    expect(rows).to_have_count(len(plan["items"]))
    # Ranked as the API ranks them: the deteriorating assets first.
    ranked = [it["asset"]["id"] for it in plan["items"]]
    assert set(ranked[:3]) == DETERIORATING, ranked
    for i, asset in enumerate(ranked):
        expect(rows.nth(i)).to_have_attribute("data-asset", asset)
    expect(page.locator("#years-chart g.ch-bar")).to_have_count(len(plan["horizon"]))
    shot(page, "01-capital-plan")

    # A year chosen on the chart lists only its assets, and the address keeps it.
    lift = next(it for it in plan["items"] if it["asset"]["id"] == "lift-a1")
    year = str(lift["recommended_year"])
    page.locator(f"#years-chart g.ch-bar[data-year='{year}']").click()
    expect(page).to_have_url(re.compile(rf"year={year}"))
    in_year = [it for it in plan["items"] if str(it["recommended_year"]) == year]
    expect(rows).to_have_count(len(in_year))

    page.locator("#items a[href='/ui/assets/lift-a1/health']").click()
    expect(page).to_have_url(re.compile(r"/ui/assets/lift-a1/health$"))
    loaded(page)
    g = health["growth"]
    assert g["beta_lower"] > 1  # the generator's deteriorating lift
    expect(page.locator("#trend-chip")).to_have_text("worsening")
    expect(page.locator("#trend [data-fact=beta]")).to_contain_text(f"{g['beta']:.3f}")
    expect(page.locator("#trend [data-fact=beta_bounds]")).to_have_text(
        f"{g['beta_lower']:.3f} – {g['beta_upper']:.3f}"
    )
    # Every failure on the time line and in the table; the fitted curve drawn over them.
    n = health["n_failures"]
    expect(page.locator("#timeline g.ag-fail")).to_have_count(n)
    expect(page.locator("#failures tbody tr")).to_have_count(n)
    expect(page.locator("#timeline path[data-series=intensity]")).to_have_count(1)
    expect(page.locator("#tiles [data-figure=mtbf] .data")).to_have_text(
        f"{health['mtbf_days']:,.0f}"
    )
    # Availability: ten days read, one of them half out of service: 9.5 / 10.
    assert health["availability"]["percent"] == pytest.approx(95.0)
    expect(page.locator("#tiles [data-figure=availability] .data")).to_have_text("95.00")
    shot(page, "02-health-lift-a1")

    # Another asset from the picker: a meter the history never failed has no trend to fit.
    page.locator("#asset-pick").select_option("a-lighting")
    expect(page).to_have_url(re.compile(r"/ui/assets/a-lighting/health$"))
    loaded(page)
    expect(page.locator("#trend-none")).to_be_visible()
    expect(page.locator("#trend-chip")).to_be_hidden()
    expect(page.locator("#timeline .ch-empty")).to_have_text("No failures recorded.")
    shot(page, "02-health-no-failures")


def test_engineer_reads_a_months_kpis_for_one_building(
    context_for: ContextFor, live_app: LiveApp, history: None
) -> None:
    month = (dt.date.today().replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    with live_app.api("engineer") as api:
        want = api.get("/api/v1/analytics/kpis", params={"month": month, "building": "bldg-b"})
    assert want.status_code == 200, want.text
    k = want.json()
    page = context_for()
    sign_in(page, "engineer")
    page.goto("/ui/kpis")
    loaded(page)
    expect(page.locator("#month")).to_have_value(month)  # last month, complete
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/api/v1/analytics/kpis" in r.url else None)
    page.locator("#f-building").select_option("bldg-b")
    expect(page).to_have_url(re.compile(r"building=bldg-b"))
    loaded(page)
    expect(page.locator("#spend-total")).to_have_text(f"· ¥{k['spend']['total']:,.0f}")
    pm = k["pm_compliance_percent"]
    expect(page.locator("#tiles [data-figure=pm_compliance] .data")).to_have_text(
        "–" if pm is None else f"{pm:.0f}"
    )
    assert parse_qs(urlsplit(asked[-1]).query)["building"] == ["bldg-b"]
    page.locator("#by-tabs button[data-by=by_class]").click()
    expect(page.locator("#by tbody tr")).to_have_count(max(1, len(k["by_class"])))
    page.locator("#month-prev").click()
    expect(page).to_have_url(re.compile(r"month=\d{4}-\d{2}"))
    loaded(page)
    expect(page.locator("#load-error")).to_be_hidden()


def test_a_contractor_sees_the_kpis_of_its_own_firm_only(
    context_for: ContextFor, live_app: LiveApp, history: None
) -> None:
    page = context_for()
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/api/v1/analytics/kpis" in r.url else None)
    sign_in(page, "contractor")
    expect(page.locator("nav.nav a[href='/ui/capital-plan']")).to_have_count(0)
    page.locator("nav.nav a[href='/ui/kpis']").click()
    loaded(page)
    firm = page.locator("#f-contractor")
    expect(firm).to_be_disabled()
    own = firm.input_value()
    assert own and parse_qs(urlsplit(asked[-1]).query)["contractor"] == [own]
    expect(page.locator("#own-firm")).to_be_visible()
    expect(page.locator("#load-error")).to_be_hidden()
    shot(page, "03-kpis-contractor")
    # Another firm's, typed in: not found.
    page.goto(f"/ui/kpis?contractor={int(own) + 1000}")
    expect(page.locator("h1")).to_contain_text("Not found")


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_pages_at_tablet_and_desktop_sizes(
    context_for: ContextFor, live_app: LiveApp, history: None, lang: str
) -> None:
    """Every page at 1280x800, 800x1280 and 1920x1080, in both languages: nothing wider than
    the screen; controls at least 44 px and text at least 16 px outside the charts; readable
    contrast (screenshots to look at)."""
    pages = {
        "capital": "/ui/capital-plan",
        "health": "/ui/assets/lift-a1/health",
        "kpis": "/ui/kpis",
    }
    for size in (LANDSCAPE, PORTRAIT, DESKTOP):
        page = context_for(size, "zh-CN" if lang == "zh-CN" else "en-GB")
        sign_in(page, "engineer", lang=lang)
        for name, path in pages.items():
            page.goto(path)
            loaded(page)
            expect(page.locator("#load-error")).to_be_hidden()
            if lang == "zh-CN":
                expect(page.locator(".en-tabs a").first).to_have_text("设备更新计划")
                if name == "kpis":  # buildings by their Chinese names, not the API's English
                    expect(page.locator("#by tbody th").first).to_have_text(re.compile("[一-鿿]"))
            m = page.evaluate(ERGONOMICS)
            assert m["width"] <= size["width"], f"{path} at {size}: {m['width']} px wide"
            assert not m["small"], f"{path} at {size}: controls under 44 px: {m['small']}"
            assert not m["tiny"], f"{path} at {size}: text under 16 px: {m['tiny']}"
            assert not m["faint"], f"{path} at {size}: low contrast: {m['faint']}"
            shot(page, f"{name}-{lang}")
        page.context.close()
