"""The engineer's plant pages in real Chromium against the real app (issue 15): the site tree, an
asset with its devices and points, a chart of a point over a chosen range, its history with
costs and its age against its expected life, its QR label; and the PM calendar with a late
statutory lift job.

Screenshots go to $PLANTROOM_SHOTS (default /tmp/shots15/plant), at 1280x800, 800x1280 and
1920x1080, in English and Chinese, for a person to look at.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, ViewportSize, expect
from sqlalchemy import select

from collectors.readings import Quality, Reading
from collectors.sinks.embedded import EmbeddedStore
from config.settings import Settings
from config.site import SiteConfig
from core.auth.models import User
from tests.e2e.conftest import DESKTOP, LANDSCAPE, PORTRAIT
from tests.e2e.conftest import sign_in_demo as sign_in
from workorders.orders import service
from workorders.orders.models import WorkOrder
from workorders.pm import service as pm

if TYPE_CHECKING:
    from tests.e2e.conftest import LiveApp

pytestmark = pytest.mark.browser

TZ = ZoneInfo("Asia/Shanghai")
SHOTS = Path(os.environ.get("PLANTROOM_SHOTS", "/tmp/shots15/plant"))
ERGONOMICS = (Path(__file__).parent / "ergonomics.js").read_text()


def shot(page: Page, name: str, *, full_page: bool = True) -> Path:
    """A PNG of this step, named by step, viewport and language."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size or LANDSCAPE
    path = SHOTS / f"{name}-{size['width']}x{size['height']}.png"
    page.evaluate("document.fonts.ready")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=path, full_page=full_page)
    return path


def month_of(day: dt.date) -> str:
    return f"{day:%Y-%m}"


def months_back(n: int) -> dt.date:
    """The first day of the month n months before this one, on the site's calendar."""
    today = dt.datetime.now(TZ).date()
    y, m = today.year, today.month - n
    while m < 1:
        y, m = y - 1, m + 12
    return dt.date(y, m, 1)


def pressure(i: int) -> float:
    """The fire main's pressure, a jockey-pump sawtooth: 42 min falling, 1.5 min refilling."""
    frac = (i % 44) / 44
    return 0.80 - 0.10 * frac / 0.966 if frac < 0.966 else 0.70 + 0.10 * (frac - 0.966) / 0.034


@pytest.fixture
def plant_world(live_app: LiveApp, settings: Settings, demo_site: SiteConfig) -> dict[str, Any]:
    """Two days of the jockey pump's readings; a repair with costs on it; and two months ago,
    the demo's schedules run through the month, with lift A1's 15-day jobs done 18 days apart."""
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    store = EmbeddedStore(settings.data_dir / "readings.sqlite")
    try:
        rows = []
        for i in range(2 * 24 * 60):
            t = now - dt.timedelta(minutes=2 * 24 * 60 - i)
            rows.append(
                Reading(t.timestamp(), "jockey-pump", "jockey-pump-ctrl", "system_pressure",
                        round(pressure(i), 4), "MPa", Quality.good)
            )  # fmt: skip
        store.write(rows)
    finally:
        store.close()
    first = months_back(2)
    start = dt.datetime.combine(first, dt.time(), tzinfo=TZ)
    t = start - dt.timedelta(days=16)
    while t < start + dt.timedelta(days=36):
        pm.run_once(live_app.db, demo_site, now=t)
        t += dt.timedelta(hours=12)
    with live_app.db.session() as s:
        lifts = s.scalars(
            select(WorkOrder)
            .where(WorkOrder.pm_key.startswith("pm:lift-15d:lift-a1:"))
            .where(WorkOrder.due_at >= start)
            .order_by(WorkOrder.due_at)
        ).all()
        a, b = lifts[0], lifts[1]
        assert a.due_at is not None
        a_done = a.due_at.astimezone(TZ) + dt.timedelta(hours=2)
        b_done = a_done + dt.timedelta(days=18)
        for wo_, when in ((a, a_done), (b, b_done)):
            for target in ("resolved", "closed"):
                service.change_status(
                    s, wo=wo_, target=target, actor="eng", role="engineer", at=when, now=when
                )
        late_id = b.id
        # The rest of the month's jobs done on the day, but for one fire pump run never done
        # and lift B1's second visit a day after its date.
        end = start + dt.timedelta(days=40)
        rest = s.scalars(
            select(WorkOrder)
            .where(WorkOrder.pm_key.is_not(None), WorkOrder.due_at >= start)
            .where(WorkOrder.due_at < end.replace(day=1))
            .where(~WorkOrder.pm_key.startswith("pm:lift-15d:lift-a1:"))
            .order_by(WorkOrder.due_at)
        ).all()
        skipped = next(w for w in rest if w.pm_key and w.pm_key.startswith("pm:fire-pump-weekly:"))
        lift_b = [w for w in rest if w.pm_key and w.pm_key.startswith("pm:lift-15d:lift-b1:")]
        for wo_ in rest:
            if wo_ is skipped:
                continue
            assert wo_.due_at is not None
            when = max(wo_.due_at, wo_.created_at).astimezone(TZ) + dt.timedelta(hours=1)
            if len(lift_b) > 1 and wo_ is lift_b[1]:
                when += dt.timedelta(days=1)
            for target in ("resolved", "closed"):
                service.change_status(
                    s, wo=wo_, target=target, actor="eng", role="engineer", at=when, now=when
                )
        engineer = s.scalars(select(User).where(User.username == "engineer")).one()
        assert engineer.role == "engineer"
    with live_app.api("engineer") as api:
        wo = api.post("/api/v1/workorders", json={
            "title": "Jockey pump short-cycling: check valve replaced", "priority": "P3",
            "asset_id": "jockey-pump"})  # fmt: skip
        assert wo.status_code == 201, wo.text
        repair = wo.json()["id"]
        for path, body in (
            ("labor", {"hours": 3, "rate": 120}),
            ("parts", {"part": "Check valve DN25", "quantity": 1, "unit_cost": 860}),
            ("costs", {"description": "Pressure gauge calibration", "amount": 150}),
        ):
            r = api.post(f"/api/v1/workorders/{repair}/{path}", json=body)
            assert r.status_code == 201, r.text
    return {"repair": repair, "late": late_id, "month": month_of(first), "now": now}


def test_an_engineer_goes_from_the_site_tree_to_an_asset_charts_it_and_finds_a_late_lift_job(
    context_for: Any, live_app: LiveApp, plant_world: dict[str, Any]
) -> None:
    page = context_for(LANDSCAPE)
    sign_in(page, "engineer")
    page.get_by_role("link", name="Assets", exact=True).first.click()
    expect(page).to_have_url(re.compile(r"/ui/assets$"))
    tree = page.locator("#tree")
    expect(tree.locator("details.kind-building")).to_have_count(2)
    house = tree.locator("details.kind-room", has_text="Pump house")
    expect(house.locator(".tree-asset")).to_have_count(6)  # with B's own water meter
    if not house.evaluate("d => d.open"):
        house.locator("> summary").click()
    jockey = house.locator(".tree-asset[data-id='jockey-pump']")
    expect(jockey.locator(".life.past")).to_contain_text("of 10 years")
    shot(page, "10-site-tree")

    page.locator("#tree-filter").fill("passenger lift")
    expect(tree.locator(".tree-asset:visible")).to_have_count(2)
    page.locator("#tree-filter").fill("")

    jockey.locator("a").click()
    expect(page).to_have_url(re.compile(r"/ui/assets/jockey-pump$"))
    expect(page.locator("#asset-name")).to_have_text("Fire main jockey pump")
    # Age against life: installed 2014 with a 10-year life.
    expect(page.locator("#life-words")).to_contain_text("past its expected life of 10 years")
    expect(page.locator("#life-gauge .life-bar.past")).to_be_visible()
    # Devices and points.
    expect(page.locator("#devices .device[data-id='jockey-pump-ctrl']")).to_be_visible()
    expect(page.locator("#devices")).to_contain_text("system_pressure")
    # History with costs: 3 h at 120, a part at 860 and 150 other.
    row = page.locator("#history tbody tr", has_text="check valve replaced")
    expect(row.locator("td.n")).to_have_text("1,370.00")
    expect(page.locator("#history-totals")).to_contain_text("1,370.00")
    # The PM schedule: the daily jockey pump check (GB 50974).
    expect(page.locator("#pm-list .pm-item[data-schedule='jockey-daily']")).to_contain_text(
        "Jockey pump daily check"
    )
    # The QR label to print.
    expect(page.locator("#qr-img")).to_have_js_property("complete", True)
    assert page.locator("#qr-img").evaluate("i => i.naturalWidth") > 0
    expect(page.locator("#qr-id")).to_have_text("jockey-pump")

    # Chart a point over a chosen range: the pressure over the last 24 hours, then from..to.
    page.locator("#devices .point-link[data-point='system_pressure']").click()
    chart = page.locator("#chart")
    expect(chart).to_have_attribute("data-point", "system_pressure")
    expect(chart.locator("path.ch-line")).to_have_count(1)
    assert int(chart.locator("path.ch-line").get_attribute("data-points") or 0) > 100
    page.locator("#chart-range").select_option("custom")
    local = plant_world["now"].astimezone(TZ)
    page.locator("#chart-from").fill(f"{local - dt.timedelta(hours=3):%Y-%m-%dT%H:%M}")
    page.locator("#chart-to").fill(f"{local - dt.timedelta(hours=1):%Y-%m-%dT%H:%M}")
    page.locator("#chart-show").click()
    expect(page.locator("#chart-caption")).to_contain_text("system_pressure")
    expect(chart).to_have_attribute("data-buckets", re.compile(r"^\d+$"))
    buckets = int(chart.get_attribute("data-buckets") or 0)
    assert 100 <= buckets <= 300  # two hours in the default steps
    assert int(chart.locator("path.ch-line").get_attribute("data-points") or 0) >= 100
    shot(page, "20-asset-engineer")
    # Printed, the page is the QR label alone.
    page.emulate_media(media="print")
    expect(page.locator("header.bar")).to_be_hidden()
    assert page.locator("#readings-box").evaluate("e => getComputedStyle(e).visibility") == "hidden"
    assert page.locator("#qr-img").evaluate("e => getComputedStyle(e).visibility") == "visible"
    shot(page, "21-qr-label-print", full_page=False)
    page.emulate_media(media="screen")

    # The PM calendar: back two months, where lift A1's second 15-day job came 18 days late.
    page.get_by_role("link", name="PM", exact=True).click()
    expect(page).to_have_url(re.compile(r"/ui/pm$"))
    expect(page.locator("#figures")).to_be_visible()
    page.locator("#month-prev").click()
    page.locator("#month-prev").click()
    expect(page).to_have_url(re.compile(r"month=" + plant_world["month"]))
    expect(page.locator("body")).to_have_attribute("data-loaded", plant_world["month"])
    late = page.locator(f"#cal a.job.state-late.statutory[data-wo='{plant_world['late']}']")
    expect(late).to_be_visible()
    expect(late).to_contain_text("18 days since the last one; the limit is 15")
    expect(page.locator("#figures .fig-statutory .fig-value")).not_to_have_text("0")
    shot(page, "30-pm-calendar")
    page.locator("#only-problems").check()
    expect(page.locator("#cal a.job.state-done")).to_have_count(0)
    shot(page, "31-pm-calendar-late-only")
    # Building A has only lift A1: its late job stays, the fire pump's overdue run goes.
    page.locator("#only-building").select_option("bldg-a")
    expect(page.locator("#cal a.job")).to_have_count(1)
    expect(late).to_be_visible()
    page.locator("#only-building").select_option("")
    late.click()
    expect(page).to_have_url(re.compile(rf"/ui/workorders/{plant_world['late']}$"))


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
@pytest.mark.parametrize(
    "viewport", [LANDSCAPE, PORTRAIT, DESKTOP], ids=["1280x800", "800x1280", "1920x1080"]
)
def test_the_plant_pages_fit_a_tablet_and_a_desktop_in_both_languages(
    context_for: Any,
    live_app: LiveApp,
    plant_world: dict[str, Any],
    lang: str,
    viewport: ViewportSize,
) -> None:
    page = context_for(viewport)
    sign_in(page, "engineer", lang)
    tag = "zh" if lang == "zh-CN" else "en"
    for path, name, ready in (
        ("/ui/assets", "assets", "#tree:not([hidden])"),
        ("/ui/assets/jockey-pump", "asset", "#life-box:not([hidden])"),
        (f"/ui/pm?month={plant_world['month']}", "pm", "#figures:not([hidden])"),
    ):
        page.goto(path)
        page.locator(ready).wait_for()
        page.wait_for_load_state("networkidle")
        found = page.evaluate(ERGONOMICS)
        assert found["width"] <= viewport["width"], f"{path} is {found['width']}px wide"
        assert not found["small"], f"{path} ({lang}): touch targets under 44px: {found['small']}"
        assert not found["tiny"], f"{path} ({lang}): text under 16px: {found['tiny']}"
        assert not found["faint"], f"{path} ({lang}): contrast under WCAG AA: {found['faint']}"
        shot(page, f"{name}-{tag}")
        shot(page, f"{name}-{tag}-top", full_page=False)


def test_a_technician_keeps_the_tablets_asset_page_and_cannot_open_the_office_pages(
    context_for: Any, live_app: LiveApp, plant_world: dict[str, Any]
) -> None:
    page = context_for(LANDSCAPE)
    sign_in(page, "tech")
    page.goto("/ui/assets/jockey-pump")
    expect(page.locator("#asset-name")).to_have_text("Fire main jockey pump")
    expect(page.locator("#history tbody tr", has_text="check valve replaced")).to_have_count(1)
    assert page.locator("#life-box, #readings-box, #qr-label, #print-qr, #health-link").count() == 0
    for path in ("/ui/pm", "/ui/assets"):
        answer = page.goto(path)
        assert answer is not None and answer.status == 403
