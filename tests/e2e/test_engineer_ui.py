"""The engineer's screens in real Chromium against the real app (issue 15): the overview's figures
link to the lists behind them, the breached figure leads to the work order, a noisy rule is
silenced for two hours with a reason and its alert shows as silenced; the collectors' health comes
from their records in the store, with no collector in the app's process.

Screenshots go to $PLANTROOM_SHOTS (default /tmp/shots15/overview) at 1280x800, 800x1280 and
1920x1080, in English and Chinese; the README's is docs/screenshots/overview.png.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from collectors import health
from collectors.readings import Quality, Reading
from collectors.sinks.embedded import FILE_NAME, EmbeddedStore
from config.settings import Settings
from config.site import SiteConfig
from plantroom.wiring import alert_engine
from tests.e2e.conftest import DESKTOP, LANDSCAPE, PORTRAIT, ContextFor
from tests.e2e.conftest import sign_in_demo as sign_in
from workorders import intake
from workorders.orders.models import Priority, WorkOrder
from workorders.pm import service as pm_service
from workorders.sla import service as sla_service

if TYPE_CHECKING:
    from tests.e2e.conftest import LiveApp

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("PLANTROOM_SHOTS", "/tmp/shots15/overview"))
#: The README's picture, remade in the repository only when asked (PLANTROOM_README_SHOTS=1):
#: a test run leaves the checkout as it found it.
README_SHOT = (
    Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    if os.environ.get("PLANTROOM_README_SHOTS")
    else SHOTS
) / "overview.png"
REASON = "Pump 1 bearing replacement booked for Thursday; the over-current is known."


@dataclass
class Compound:
    """What the engineer finds: the breached work order of the noisy pump rule."""

    breached: int
    at_risk: int


def _store_readings(settings: Settings, site: SiteConfig, now: dt.datetime) -> None:
    """An hour of readings as a collector elsewhere wrote them, and its health records: every
    device answering but b-special-meter (quarantined, its readings stale for 40 minutes), and
    the InfluxDB buffer holding readings while the server is away."""
    t = now.timestamp()
    store = EmbeddedStore(settings.data_dir / FILE_NAME)
    rows: list[Reading] = []
    for i in range(120):
        ts = t - 30 * (120 - i)
        amps = 22.0 + (i % 7) * 0.3 if i < 112 else 29.8 + (i % 3) * 0.4
        rows.append(Reading(ts, "pump-1", "pump-1-drive", "motor_current", amps, "A", Quality.good))
        volts = 219.0 - (i % 5) * 0.6 if i < 116 else 204.5
        rows.append(Reading(ts, "b-main", "b-main-meter", "voltage_l1", volts, "V", Quality.good))
    rows.append(Reading(t - 2, "pump-1", "pump-1-drive", "motor_current", 30.2, "A", Quality.good))
    rows.append(Reading(t - 2, "b-main", "b-main-meter", "voltage_l1", 204.5, "V", Quality.good))
    for (asset, point), (device, _every) in health.point_intervals(site).items():
        if (asset, point) in (("pump-1", "motor_current"), ("b-main", "voltage_l1")):
            continue
        when = t - 2400 if asset == "b-special" else t - 3
        rows.append(Reading(when, asset, device, point, 1.0, "", Quality.good))

    def rec(subject: str, point: str, value: float | str) -> Reading:
        return Reading(t - 8, health.ASSET, subject, point, value, "", Quality.good,
                       health.MEASUREMENT)  # fmt: skip

    rows.append(rec(health.COLLECTOR, "heartbeat", 60.0))
    for ref in site.devices():
        d = ref.device
        quarantined = d.id == "b-special-meter"
        rows.append(rec(d.id, "device_state", "quarantined" if quarantined else "ok"))
        rows.append(rec(d.id, "device_last_good", t - (2400 if quarantined else 4)))
        rows.append(rec(d.link.key, "link_up", 1))
    rows += [rec("embedded", "sink_buffer_depth", 0), rec("embedded", "sink_dropped", 0)]
    rows += [rec("influx-v1", "sink_buffer_depth", 1240), rec("influx-v1", "sink_dropped", 0)]
    store.write(rows)
    store.close()


@pytest.fixture
def compound(live_app: LiveApp, settings: Settings, demo_site: SiteConfig) -> Compound:
    """A morning at the demo compound: open work across both buildings and priorities, one pump
    alert whose work order is past its response time, one at risk, the alert engine firing on
    the pump and pending on building B's supply voltage."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with live_app.db.session() as s:
        breached = intake.Intake(demo_site).raise_for_alert(
            s,
            asset_id="pump-1",
            rule_id="pump-overcurrent",
            title="Pump motor over-current: Domestic water booster pump 1",
            priority=Priority.P2,
            trigger={
                "point": "motor_current",
                "value": 27.4,
                "unit": "A",
                "device": "pump-1-drive",
                "ts": (now - dt.timedelta(hours=2)).isoformat(),
                "rule": "motor_current > 26 for 20s",
            },
            at=now - dt.timedelta(hours=2),
        )
        breached_id = breached.id
    jobs = [
        ("Lift B1 doors reopening on floor 3", "P1", "lift-b1", 25),
        ("Leak under the riser, B 2F plant room", "P2", "b-main", 20),
        ("Replace flickering corridor lights, B 3F", "P3", "b-lighting", 60 * 26),
        ("AHU-1 filter differential pressure high", "P3", "a-hvac", 60 * 5),
        ("Distribution board A2: loose neutral reported", "P2", "a-power", 35),
        ("Meeting room 402: socket not working", "P4", "a-lighting", 60 * 30),
        ("Roof drain blocked after the storm", "P3", None, 60 * 3),
    ]
    ids = {}
    with live_app.api("admin") as api:
        for title, prio, asset, minutes in jobs:
            body = {"title": title, "priority": prio,
                    "at": (now - dt.timedelta(minutes=minutes)).isoformat()}  # fmt: skip
            if asset:
                body["asset_id"] = asset
            r = api.post("/api/v1/workorders", json=body)
            assert r.status_code == 201, r.text
            ids[title] = r.json()["id"]
    sla_service.sweep(live_app.db)
    # The month's preventive work as the scheduler opened it day by day; the older jobs done.
    for days in range(6, -1, -1):
        pm_service.run_once(live_app.db, demo_site, now=now - dt.timedelta(days=days))
    with live_app.api("admin") as api:
        month = api.get(
            "/api/v1/workorders",
            params={"type": "preventive", "open": "true", "sort": "due", "limit": 6},
        ).json()["items"]
        for job in month:
            for i, _item in enumerate(job["checklist"]):
                api.post(
                    f"/api/v1/workorders/{job['id']}/checklist/{i}",
                    json={"done": True, "result": "ok"},
                )
            for target in ("acknowledged", "in_progress", "resolved", "verified"):
                r = api.post(f"/api/v1/workorders/{job['id']}/status", json={"status": target})
                assert r.status_code == 200, r.text
    _store_readings(settings, demo_site, now)
    rules = [r for r in demo_site.doc.rules if r.id in ("pump-overcurrent", "supply-voltage-low")]
    engine = alert_engine(demo_site, live_app.db, rules)
    engine.process(
        [
            Reading((now - dt.timedelta(seconds=s)).timestamp(), "pump-1", "pump-1-drive",
                    "motor_current", 30.2, "A", Quality.good)
            for s in (90, 60, 30)
        ]
        + [Reading((now - dt.timedelta(seconds=20)).timestamp(), "b-main", "b-main-meter",
                   "voltage_l1", 204.5, "V", Quality.good)]
    )  # fmt: skip
    with live_app.db.session() as s:
        wo = s.get(WorkOrder, breached_id)
        assert wo is not None and wo.alert_count >= 1
        assert s.scalars(select(WorkOrder.id).where(WorkOrder.rule_id == "pump-overcurrent")).all()
    return Compound(breached=breached_id, at_risk=ids["Lift B1 doors reopening on floor 3"])


def shot(page: Page, name: str, *, full_page: bool = False) -> Path:
    """A PNG of this step, named by step and viewport."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size or LANDSCAPE
    path = SHOTS / f"{name}-{size['width']}x{size['height']}.png"
    page.evaluate("document.fonts.ready")
    page.screenshot(path=path, full_page=full_page)
    return path


def tile(page: Page, key: str) -> Locator:
    """The overview's tile of one figure."""
    return page.locator(f"a.tile[data-figure='{key}']")


def loaded(page: Page) -> None:
    """Wait until the page's script has drawn what the API answered."""
    page.wait_for_function("() => !!document.body && document.body.dataset.loaded === '1'")


# --- the flow of the issue ----------------------------------------------------------------------


def test_engineer_goes_from_breached_figure_to_work_order_and_silences_the_noisy_rule(
    context_for: ContextFor, live_app: LiveApp, compound: Compound
) -> None:
    page = context_for()
    sign_in(page, "engineer")
    expect(page).to_have_url(re.compile(r"/ui/overview$"))
    loaded(page)
    breached = tile(page, "sla.breached")
    expect(breached).to_have_attribute("data-count", "1")
    expect(breached.locator(".tile-n")).to_have_text("1")
    expect(tile(page, "alerts.firing")).to_have_attribute("data-count", "1")
    expect(tile(page, "alerts.pending")).to_have_attribute("data-count", "1")
    expect(tile(page, "collectors.quarantined")).to_have_attribute("data-count", "1")
    shot(page, "01-overview")

    breached.click()
    expect(page).to_have_url(re.compile(r"/ui/workorders\?.*sla=breached"))
    row = page.locator(f"#rows tr[data-id='{compound.breached}']")
    expect(row).to_be_visible()
    expect(page.locator("#rows tr")).to_have_count(1)
    shot(page, "02-breached-list")
    row.locator("a.title").click()
    expect(page).to_have_url(re.compile(rf"/ui/workorders/{compound.breached}$"))
    expect(page.locator("#alert-box")).to_be_visible()
    shot(page, "03-work-order")

    page.locator("nav.nav a[href='/ui/alerts']").click()
    loaded(page)
    item = page.locator("li.al-item[data-rule='pump-overcurrent']")
    expect(item).to_have_count(1)
    expect(item.locator(".chip.silenced")).to_have_count(0)
    item.locator("button").click()
    expect(page.locator("#al-d-words")).to_have_text(re.compile("motor current above 26 A"))
    expect(page.locator("#al-chart path.ch-line")).to_have_count(1)
    expect(page.locator("#al-wo")).to_have_attribute("href", f"/ui/workorders/{compound.breached}")
    shot(page, "04-alert", full_page=True)

    page.locator("#al-ack").click()
    expect(item.locator(".chip.acked")).to_have_count(1)
    expect(page.locator("#al-ack")).to_be_disabled()

    page.locator("#al-silence").click()
    dialog = page.locator("#silence-dlg")
    expect(dialog).to_be_visible()
    dialog.locator("input[name=scope][value=rule]").check()
    dialog.locator("select[name=duration]").select_option("7200")
    dialog.locator("textarea[name=reason]").fill(REASON)
    shot(page, "05-silence-dialog")
    dialog.locator("#silence-ok").click()
    expect(dialog).to_be_hidden()

    expect(item.locator(".chip.silenced")).to_have_count(1)
    expect(item).to_have_attribute("data-silenced", "1")
    expect(page.locator("#al-d-silenced")).to_contain_text(REASON)
    row = page.locator("#silences tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(REASON)
    expect(row).to_contain_text("Pump motor over-current")
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "06-silenced", full_page=True)

    with live_app.api("engineer") as api:
        (silence,) = api.get("/api/v1/silences", params={"active": "true"}).json()["items"]
        alert = api.get("/api/v1/alerts", params={"rule_id": "pump-overcurrent"}).json()
    length = dt.datetime.fromisoformat(silence["ends_at"]) - dt.datetime.fromisoformat(
        silence["starts_at"]
    )
    assert silence["rule_ids"] == ["pump-overcurrent"] and silence["comment"] == REASON
    assert length == dt.timedelta(hours=2) and silence["created_by"] == "engineer"
    assert alert["items"][0]["silenced_now"] == silence["id"]

    # The silence ends early: the alert is no longer silenced.
    page.once("dialog", lambda d: d.accept())
    row.locator("button").click()
    expect(page.locator("#silences tbody tr")).to_have_count(0)
    expect(item.locator(".chip.silenced")).to_have_count(0)


def test_each_overview_figure_links_to_the_list_behind_it(
    context_for: ContextFor, live_app: LiveApp, compound: Compound
) -> None:
    page = context_for()
    sign_in(page, "engineer")
    expect(page).to_have_url(re.compile(r"/ui/overview$"))
    loaded(page)
    with live_app.api("engineer") as api:
        o = api.get("/api/v1/overview").json()
    expect(tile(page, "open")).to_have_attribute("href", o["workorders"]["open"]["page"])
    open_count = str(o["workorders"]["open"]["count"])
    expect(tile(page, "open")).to_have_attribute("data-count", open_count)
    expect(tile(page, "sla.at_risk")).to_have_attribute("data-count", "1")
    expect(tile(page, "pm.due")).to_have_attribute("href", f"/ui/pm?month={o['pm']['month']}")
    p1 = "/ui/workorders?open=true&priority=P1"
    expect(tile(page, "priority.P1")).to_have_attribute("href", p1)
    expect(tile(page, "building.bldg-a")).to_have_attribute(
        "href", "/ui/workorders?open=true&building=bldg-a"
    )

    tile(page, "alerts.pending").click()
    expect(page).to_have_url(re.compile(r"/ui/alerts\?state=pending$"))
    loaded(page)
    expect(page.locator("#al-list li.al-item")).to_have_count(1)
    expect(page.locator("#al-list li.al-item")).to_have_attribute("data-rule", "supply-voltage-low")

    page.goto("/ui/overview")
    loaded(page)
    tile(page, "collectors.stale").click()
    expect(page).to_have_url(re.compile(r"/ui/collectors#stale$"))
    loaded(page)
    stale = page.locator("#stale-body tr")
    expect(stale.first).to_have_attribute("data-asset", "b-special")
    assert {r for r in stale.evaluate_all("rs => rs.map(r => r.dataset.asset)")} == {"b-special"}
    expect(page.locator("#devices-body tr[data-device='b-special-meter'] .chip")).to_have_text(
        "quarantined"
    )
    shot(page, "07-collectors", full_page=True)


def test_technicians_and_contractors_keep_their_own_start_page(
    context_for: ContextFor, live_app: LiveApp
) -> None:
    page = context_for()
    sign_in(page, "tech")
    expect(page).to_have_url(re.compile(r"/ui/$"))
    answer = page.goto("/ui/overview")
    assert answer is not None and answer.status == 403


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_pages_at_tablet_and_desktop_sizes(
    context_for: ContextFor, live_app: LiveApp, compound: Compound, lang: str
) -> None:
    """Every page at 1280x800, 800x1280 and 1920x1080: nothing wider than the screen, the tiles
    readable, in both languages (screenshots to look at)."""
    for size in (LANDSCAPE, PORTRAIT, DESKTOP):
        page = context_for(size, "zh-CN" if lang == "zh-CN" else "en-GB")
        sign_in(page, "engineer", lang=lang)
        expect(page).to_have_url(re.compile(r"/ui/overview"))
        loaded(page)
        if lang == "zh-CN":
            expect(page.locator("h1")).to_have_text("总览")
            expect(tile(page, "sla.breached").locator(".tile-label")).to_have_text("服务时限已超")
        for path, name in (("/ui/overview", "overview"), ("/ui/alerts", "alerts"),
                           ("/ui/collectors", "collectors")):  # fmt: skip
            page.goto(path)
            loaded(page)
            if name == "alerts":
                expect(page.locator("#al-chart path.ch-line")).to_have_count(1)
            wide = page.evaluate("document.documentElement.scrollWidth")
            assert wide <= size["width"], f"{path} at {size}: {wide} px wide"
            shot(page, f"{name}-{lang}")
            if size == DESKTOP and name == "overview" and lang == "en":
                README_SHOT.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=README_SHOT)
        page.context.close()
