"""The tablet UI in real Chromium against the real app: my work, a work order from the take to the
resolve, a fix that did not hold, 500 open work orders, Chinese, live updates and the P1 alarm.

Every step saves a screenshot under $PLANTROOM_SHOTS (default /tmp/shots/tablet), at 1280x800 and,
for the flows that say so, 800x1280, for a person to look at.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import segno
from playwright.sync_api import Browser, BrowserContext, Locator, Page, ViewportSize, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from sqlalchemy import select

from collectors.readings import Quality, Reading
from collectors.sinks.embedded import EmbeddedStore
from config.settings import Settings
from config.site import SiteConfig
from core.auth.models import User
from core.i18n import catalog
from plantroom.wiring import alert_engine
from workorders.orders import proof
from workorders.orders.models import Priority, WorkOrder

if TYPE_CHECKING:
    from tests.e2e.conftest import LiveApp, Seeded

pytestmark = pytest.mark.browser

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
LIST_URL = re.compile(r"/ui/(\?.*)?$")
LANDSCAPE: ViewportSize = {"width": 1280, "height": 800}
PORTRAIT: ViewportSize = {"width": 800, "height": 1280}
SHOTS = Path(os.environ.get("PLANTROOM_SHOTS", "/tmp/shots/tablet"))


# --- helpers ------------------------------------------------------------------------------------


def sign_in(page: Page, username: str, password: str | None = None, lang: str = "") -> None:
    """Fill in and submit the sign-in form (demo passwords are '<username>-demo')."""
    page.goto("/ui/login" + (f"?lang={lang}" if lang else ""))
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password or f"{username}-demo")
    page.locator("form.login button").click()


def card(page: Page, wo_id: int) -> Locator:
    """The list entry of one work order."""
    return page.locator(f"#wos li.wo[data-id='{wo_id}']")


def shown_ids(page: Page) -> list[int]:
    """Ids of the work orders on the list, top to bottom."""
    ids = page.locator("#wos li.wo").evaluate_all("els => els.map(e => e.dataset.id)")
    return [int(i) for i in ids]


def expect_ids(page: Page, ids: list[int]) -> None:
    """Wait until the list shows exactly these work orders, in this order."""
    js = (
        "ids => JSON.stringify(ids) === "
        "JSON.stringify([...document.querySelectorAll('#wos li.wo')].map(e => +e.dataset.id))"
    )
    try:
        page.wait_for_function(js, arg=ids)
    except PlaywrightTimeout:
        assert shown_ids(page) == ids


def shot(page: Page, name: str, *, full_page: bool = True) -> Path:
    """A PNG of this step (the whole page unless told), named by step and viewport."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size or LANDSCAPE
    path = SHOTS / f"{name}-{size['width']}x{size['height']}.png"
    page.evaluate("document.fonts.ready")
    if page.locator("dialog[open]").count():
        full_page = False  # a modal dialog covers the viewport, not the whole page
    else:
        page.evaluate("window.scrollTo(0, 0)")  # else the sticky header lands mid-page
    page.screenshot(path=path, full_page=full_page)
    assert path.read_bytes().startswith(PNG_MAGIC)
    return path


def tab(page: Page, name: str) -> None:
    """Switch the list to a tab: mine, unassigned or all."""
    page.locator(f"#tabs [data-tab={name}]").click()
    expect(page.locator("#wos")).to_have_attribute("aria-busy", "false")


def open_wo(page: Page, wo_id: int) -> None:
    """Open the work-order page and wait for its data."""
    page.goto(f"/ui/workorders/{wo_id}")
    expect(page.locator("#num")).to_have_text(f"#{wo_id}")


def api_wo(live_app: LiveApp, wo_id: int, user: str = "admin") -> dict[str, Any]:
    with live_app.api(user) as api:
        r = api.get(f"/api/v1/workorders/{wo_id}")
        assert r.status_code == 200, r.text
        return dict(r.json())


def user_id(live_app: LiveApp, username: str) -> int:
    with live_app.db.session() as s:
        return s.scalars(select(User.id).where(User.username == username)).one()


def assign(live_app: LiveApp, wo_id: int, username: str) -> None:
    with live_app.api("admin") as api:
        r = api.post(
            f"/api/v1/workorders/{wo_id}/assign",
            json={"assignee_id": user_id(live_app, username)},
        )
        assert r.status_code == 200, r.text


def synced(page: Page) -> None:
    """Wait until nothing waits on the tablet to be sent."""
    deadline = time.monotonic() + 10
    while page.evaluate("() => PR.api.pending().then(p => p.length)"):
        assert time.monotonic() < deadline, page.evaluate("() => PR.api.pending()")
        page.wait_for_timeout(50)
    expect(page.locator("#pending")).to_be_hidden()


def due(live_app: LiveApp, wo_id: int, *, respond: dt.datetime, breached: bool = False) -> None:
    """Give a work order a response deadline (the seeded ones have no SLA)."""
    with live_app.db.session() as s:
        wo = s.get_one(WorkOrder, wo_id)
        wo.response_due_at = respond
        wo.resolution_due_at = respond + dt.timedelta(hours=4)
        wo.response_breached = breached


def png() -> bytes:
    buf = io.BytesIO()
    segno.make_qr("a photo of the meter").save(buf, kind="png", scale=4)
    return buf.getvalue()


def readings(
    settings: Settings, asset: str, device: str, point: str, unit: str, values: Any
) -> None:
    """Readings for a chart in the embedded store the app reads: values(t) every 30 s for the
    last 75 minutes."""
    now = dt.datetime.now(dt.UTC)
    store = EmbeddedStore(settings.data_dir / "readings.sqlite")
    try:
        rows = []
        for i in range(150):
            t = now - dt.timedelta(seconds=30 * (150 - i))
            rows.append(Reading(t.timestamp(), asset, device, point, values(i), unit, Quality.good))
        store.write(rows)
    finally:
        store.close()


@pytest.fixture
def context_for(browser: Browser, live_app: LiveApp) -> Iterator[Any]:
    """New browser contexts (no cookies) at a chosen viewport, closed after the test."""
    made: list[BrowserContext] = []

    def make(viewport: ViewportSize = LANDSCAPE, locale: str = "en-GB") -> Page:
        ctx = browser.new_context(base_url=live_app.base_url, viewport=viewport, locale=locale)
        ctx.set_default_timeout(10_000)
        made.append(ctx)
        return ctx.new_page()

    yield make
    for ctx in made:
        ctx.close()


@pytest.fixture
def firing(live_app: LiveApp, demo_site: SiteConfig, settings: Settings) -> int:
    """Pump 1 over-current, firing now through the real alert engine (assigned to tech by the
    demo's default for pumps), with an hour of motor current in the store for the chart."""
    readings(settings, "pump-1", "pump-1-drive", "motor_current", "A",
             lambda i: 22.0 + (i % 7) * 0.3 if i < 140 else 30.5)  # fmt: skip
    rules = [r for r in demo_site.doc.rules if r.id == "pump-overcurrent"]
    engine = alert_engine(demo_site, live_app.db, rules)
    now = dt.datetime.now(dt.UTC)
    engine.process(
        [
            Reading(
                (now - dt.timedelta(seconds=s)).timestamp(),
                "pump-1",
                "pump-1-drive",
                "motor_current",
                30.5,
                "A",
                Quality.good,
            )
            for s in (90, 60, 30)
        ]
    )
    with live_app.db.session() as s:
        wo = s.scalars(select(WorkOrder).where(WorkOrder.rule_id == "pump-overcurrent")).one()
        return wo.id


# --- my work ------------------------------------------------------------------------------------


def test_my_work_shows_my_open_work_most_urgent_first_with_countdowns(
    page: Page, live_app: LiveApp, seeded: Seeded
) -> None:
    now = dt.datetime.now(dt.UTC)
    for wo_id, minutes in ((seeded.voltage, 120), (seeded.pump, 45), (seeded.lift, 30)):
        assign(live_app, wo_id, "tech")
        due(live_app, wo_id, respond=now + dt.timedelta(minutes=minutes))
    sign_in(page, "tech")
    expect(page).to_have_url(LIST_URL)
    expect(page.locator("#tabs [data-tab=mine]")).to_have_class(re.compile("on"))
    expect(page.locator("#wos li.wo")).to_have_count(3)
    with live_app.api("tech") as api:
        urgency = api.get("/api/v1/workorders?assignee=me&open=true&sort=urgency").json()
    assert shown_ids(page) == [w["id"] for w in urgency["items"]]
    assert shown_ids(page) == [seeded.lift, seeded.pump, seeded.voltage]
    lift = card(page, seeded.lift)
    expect(lift.locator(".chip.prio")).to_have_text("P1 emergency")
    expect(lift.locator(".chip.origin")).to_have_text("Alert")
    expect(lift.locator(".countdown .cd-label")).to_have_text("to respond")
    expect(lift.locator(".countdown .cd-time")).to_have_text(re.compile(r"^\d+ min$"))
    expect(lift.locator("a.wo-link")).to_have_attribute("href", f"/ui/workorders/{seeded.lift}")
    expect(page.locator("#count")).to_have_text("3 work orders")
    shot(page, "01-my-work")


def test_card_shows_a_missed_deadline_in_red_and_labels_origins_truly(
    page: Page, live_app: LiveApp, seeded: Seeded
) -> None:
    now = dt.datetime.now(dt.UTC)
    due(live_app, seeded.voltage, respond=now - dt.timedelta(minutes=10), breached=True)
    due(live_app, seeded.pump, respond=now + dt.timedelta(days=3))
    with live_app.db.session() as s:  # its deadline rests on a holiday year nobody loaded
        s.get_one(WorkOrder, seeded.pump).sla_provisional = {"response": [now.year + 1]}
    with live_app.api("admin") as api:
        req = api.post(
            "/api/v1/workorders",
            json={"title": "Door sticks", "origin": "request", "type": "request"},
        ).json()
        pm = api.post("/api/v1/workorders", json={"title": "Filter change", "type": "preventive"})
        insp = api.post("/api/v1/workorders", json={"title": "Lift check", "type": "inspection"})
    sign_in(page, "tech")
    tab(page, "all")
    late = card(page, seeded.voltage).locator(".countdown")
    expect(late).to_have_class(re.compile("missed"))
    expect(late.locator(".cd-label")).to_have_text("overdue to respond")
    color = late.locator(".cd-time").evaluate("e => getComputedStyle(e).color")
    assert color == "rgb(180, 35, 24)"
    guess = card(page, seeded.pump).locator(".countdown")
    expect(guess.locator(".cd-label")).to_have_text("to respond · provisional")
    expect(guess.locator(".cd-time")).to_have_text(re.compile(r"^(2|3) d \d+ h$"))
    expect(card(page, seeded.contractor_wo).locator(".chip.origin")).to_have_text("Raised by hand")
    expect(card(page, req["id"]).locator(".chip.origin")).to_have_text("Occupant request")
    expect(card(page, pm.json()["id"]).locator(".chip.origin")).to_have_text("Preventive")
    expect(card(page, insp.json()["id"]).locator(".chip.origin")).to_have_text("Inspection")
    shot(page, "02-all-open-missed")


def test_filters_and_search_narrow_the_list_and_count_what_matches(
    page: Page, live_app: LiveApp, seeded: Seeded
) -> None:
    sign_in(page, "tech")
    tab(page, "all")
    expect(page.locator("#wos li.wo")).to_have_count(4)
    page.locator("#filters select[name=priority]").select_option("P1")
    expect_ids(page, [seeded.lift])
    expect(page).to_have_url(re.compile(r"priority=P1"))
    page.locator("#filters select[name=priority]").select_option("")
    page.locator("#filters select[name=building]").select_option("bldg-b")
    expect(page.locator("#count")).to_have_text("4 work orders")
    page.locator("#filters input[name=q]").fill("booster pump")
    expect_ids(page, [seeded.pump])
    expect(page.locator("#count")).to_have_text("1 work order")
    page.locator("#filters input[name=q]").fill(f"#{seeded.voltage}")
    expect_ids(page, [seeded.voltage])
    shot(page, "03-search")
    page.reload()  # the filters live in the address
    expect(page.locator("#filters input[name=q]")).to_have_value(f"#{seeded.voltage}")
    expect_ids(page, [seeded.voltage])


# --- one job from the take to the resolve -------------------------------------------------------


@pytest.mark.parametrize("viewport", [LANDSCAPE, PORTRAIT], ids=["1280x800", "800x1280"])
def test_a_whole_job_take_chart_acknowledge_start_checklist_labor_part_photo_comment_resolve(
    context_for: Any,
    live_app: LiveApp,
    seeded: Seeded,
    settings: Settings,
    viewport: ViewportSize,
) -> None:
    readings(settings, "b-main", "b-main-meter", "voltage_l1", "V",
             lambda i: 219.0 - (i % 5) * 0.4 if i < 120 else 201.5)  # fmt: skip
    wo_id = seeded.voltage
    with live_app.api("admin") as api:
        r = api.patch(
            f"/api/v1/workorders/{wo_id}",
            json={"checklist": ["Measure L1 at the main breaker", "Check the transformer tap"]},
        )
        assert r.status_code == 200, r.text
    page = context_for(viewport)
    sign_in(page, "tech")
    expect(page).to_have_url(LIST_URL)
    shot(page, "10-signed-in")

    # Take it from the unassigned tab.
    tab(page, "unassigned")
    unassigned = card(page, wo_id)
    expect(unassigned).to_be_visible()
    shot(page, "11-unassigned")
    unassigned.get_by_role("button", name="Take").click()
    expect(unassigned.locator(".chip.taken")).to_have_text("Taken: now in my work")
    wo = api_wo(live_app, wo_id)
    assert (wo["assignee_id"], wo["status"]) == (user_id(live_app, "tech"), "assigned")
    assert [e["kind"] for e in wo["events"]].count("taken") == 1
    shot(page, "12-taken")

    # Open it from my work.
    tab(page, "mine")
    expect(card(page, wo_id)).to_be_visible()
    card(page, wo_id).locator("a.wo-link").click()
    expect(page).to_have_url(re.compile(rf"/ui/workorders/{wo_id}$"))
    expect(page.locator("#title")).to_have_text("Supply voltage low (L1): Building B main meter")
    expect(page.locator("#chips .chip.origin")).to_have_text("Alert")
    expect(page.locator("#facts")).to_contain_text("Building B main meter")
    expect(page.locator("#facts a")).to_have_attribute("href", "/ui/assets/b-main")

    # The chart: the readings as a line with points, and the threshold.
    line = page.locator("#chart path.ch-line")
    expect(line).to_have_attribute("d", re.compile(r"^M[\d.]+ [\d.]+(L[\d.]+ [\d.]+){50,}"))
    assert int(line.get_attribute("data-points") or 0) >= 100
    shot(page, "13-work-order")

    def act(button: str, status: str) -> None:
        page.locator("#actions").get_by_role("button", name=button, exact=True).click()
        expect(page.locator("#chips .chip.status")).to_have_text(status)
        synced(page)

    act("Acknowledge", "Acknowledged")
    assert api_wo(live_app, wo_id)["status"] == "acknowledged"
    shot(page, "14-acknowledged")
    act("Start work", "In progress")
    assert api_wo(live_app, wo_id)["status"] == "in_progress"
    expect(page.locator("#actions [data-action=acknowledged]")).to_have_count(0)

    # Tick the checklist, with a result.
    first = page.locator("#checklist li.check").first
    first.locator("input.result").fill("198 V at the breaker")
    first.locator("input[type=checkbox]").check()
    expect(first).to_have_class(re.compile("done"))
    synced(page)
    item = api_wo(live_app, wo_id)["checklist"][0]
    assert (item["done"], item["result"], item["by"]) == (True, "198 V at the breaker", "tech")
    shot(page, "15-checklist")

    # Labor and a part.
    page.locator("#labor-add summary").click()
    page.locator("#labor-form input[name=hours]").fill("1.5")
    page.locator("#labor-form input[name=note]").fill("Found a loose neutral")
    page.locator("#labor-form button").click()
    expect(page.locator("#labor tbody tr:not(.is-pending)")).to_have_count(1)
    page.locator("#part-add summary").click()
    page.locator("#part-form input[name=part]").fill("Cable lug 95 mm²")
    page.locator("#part-form input[name=part_number]").fill("CL-95")
    page.locator("#part-form input[name=quantity]").fill("2")
    page.locator("#part-form input[name=unit_cost]").fill("12.5")
    page.locator("#part-form button").click()
    expect(page.locator("#parts tbody tr:not(.is-pending)")).to_have_count(1)
    expect(page.locator("#parts tbody tr")).to_contain_text("CL-95")
    wo = api_wo(live_app, wo_id)
    assert [(x["hours"], x["note"], x["worker"]) for x in wo["labor"]] == [
        (1.5, "Found a loose neutral", "tech")
    ]
    assert [(x["part"], x["part_number"], x["quantity"], x["unit_cost"]) for x in wo["parts"]] == [
        ("Cable lug 95 mm²", "CL-95", 2.0, 12.5)
    ]
    shot(page, "16-labor-part")

    # A photo from the camera input.
    photo = page.locator("#photo-input")
    assert photo.get_attribute("accept") == "image/*"
    assert photo.get_attribute("capture") == "environment"
    photo.set_input_files({"name": "breaker.png", "mimeType": "image/png", "buffer": png()})
    expect(page.locator("#photos a.thumb img")).to_have_count(1)
    expect(page.locator("#photos a.thumb img")).to_have_js_property("complete", True)
    assert page.locator("#photos a.thumb img").evaluate("i => i.naturalWidth") > 0
    with live_app.api("tech") as api:
        files = api.get(f"/api/v1/workorders/{wo_id}/attachments").json()
    assert [(f["filename"], f["content_type"]) for f in files] == [("breaker.png", "image/png")]

    # A comment.
    page.locator("#comment-text").fill("Neutral re-terminated; voltage back to 221 V.")
    page.locator("#comment-form button").click()
    expect(page.locator("#comments li:not(.is-pending)")).to_have_count(1)
    comments = [e for e in api_wo(live_app, wo_id)["events"] if e["kind"] == "comment"]
    assert [c["message"] for c in comments] == ["Neutral re-terminated; voltage back to 221 V."]
    shot(page, "17-photo-comment")

    # Resolve: a confirmation with cause and resolution codes from the site's lists.
    page.locator("#actions").get_by_role("button", name="Resolve").click()
    dialog = page.locator("#resolve-dlg")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#resolve-firing")).to_be_hidden()
    expect(dialog.locator("#cause-code option")).to_contain_text(["Wear and tear"])
    dialog.locator("#cause-code").select_option("ELECTRICAL")
    dialog.locator("#resolution-code").select_option("REPAIRED")
    dialog.locator("textarea[name=note]").fill("Loose neutral at the main breaker")
    shot(page, "18-resolve-dialog")
    dialog.locator("#resolve-ok").click()
    expect(page.locator("#chips .chip.status")).to_have_text("Resolved")
    synced(page)
    wo = api_wo(live_app, wo_id)
    assert (wo["status"], wo["cause_code"], wo["resolution_code"]) == (
        "resolved",
        "ELECTRICAL",
        "REPAIRED",
    )
    assert wo["awaiting_proof"] is False
    assert wo["events"][-1]["message"] == "Loose neutral at the main breaker"
    # Each action reached the server once.
    kinds = [e["kind"] for e in wo["events"]]
    assert (kinds.count("comment"), kinds.count("labor"), kinds.count("part")) == (1, 1, 1)
    assert kinds.count("attachment") == 1
    moves = [e["data"]["to"] for e in wo["events"] if e["kind"] == "status"]
    assert moves[-3:] == ["acknowledged", "in_progress", "resolved"]
    expect(page.locator("#timeline li.ev").first).to_contain_text("In progress → Resolved")
    shot(page, "19-resolved")


@pytest.mark.parametrize("viewport", [LANDSCAPE, PORTRAIT], ids=["1280x800", "800x1280"])
def test_resolving_while_the_alert_fires_asks_first_awaits_proof_and_reopens_when_it_fails(
    context_for: Any, live_app: LiveApp, firing: int, viewport: ViewportSize
) -> None:
    page = context_for(viewport)
    sign_in(page, "tech")
    expect(card(page, firing)).to_be_visible()  # assigned to tech by the site's default
    open_wo(page, firing)
    expect(page.locator("#alert-facts .chip.alert-firing")).to_have_text("Firing now")
    expect(page.locator("#rule-words")).to_contain_text("motor current above 26 A for 20 s")
    expect(page.locator("#chart path.ch-line")).to_have_attribute("d", re.compile(r"^M.+L"))
    expect(page.locator("#chart line.ch-thr")).to_have_count(1)
    shot(page, "20-firing")

    page.locator("#actions").get_by_role("button", name="Resolve").click()
    dialog = page.locator("#resolve-dlg")
    expect(dialog.locator("#resolve-firing")).to_be_visible()
    expect(dialog.locator("#resolve-firing")).to_contain_text("still firing")
    expect(dialog.locator("#resolve-ok")).to_have_text("Resolve anyway")
    dialog.locator("#cause-code").select_option("BEARING")
    dialog.locator("#resolution-code").select_option("REPLACED")
    shot(page, "21-resolve-while-firing")
    dialog.locator("#resolve-ok").click()

    expect(page.locator("#chips .chip.proof")).to_have_text("Awaiting proof")
    expect(page.locator("#chips .chip.status")).to_have_text("Resolved")
    wo = api_wo(live_app, firing)
    assert (wo["status"], wo["awaiting_proof"]) == ("resolved", True)
    until = dt.datetime.fromisoformat(wo["proof_until"])
    hhmm = page.evaluate("iso => UI.time(iso)", wo["proof_until"])
    expect(page.locator("#proof")).to_contain_text(f"Awaiting proof until {hhmm}")
    shot(page, "22-awaiting-proof")

    # The pump keeps drawing too much: past the window the proof job reopens the work order.
    assert proof.sweep(live_app.db, now=until + dt.timedelta(seconds=1)) == {firing: "reopened"}
    page.evaluate("WO.refresh()")
    expect(page.locator("#chips .chip.status")).to_have_text("In progress")
    expect(page.locator("#proof")).to_be_hidden()
    expect(page.locator("#timeline li.ev-reopened")).to_contain_text("the fix did not hold")
    wo = api_wo(live_app, firing)
    assert (wo["status"], wo["awaiting_proof"], wo["resolved_at"]) == ("in_progress", False, None)
    shot(page, "23-reopened")


#: A poll that found a change (answered before the tick, so without it) is slow to come back;
#: meanwhile the first checklist box is ticked and the tick is sent. The box's state at every
#: frame until two seconds after the tap.
TICK_DURING_POLL = """async () => {
  const box = () => document.querySelector('#checklist input[type=checkbox]');
  const get = PR.api.get;
  const late = (r) => new Promise((ok) => setTimeout(() => ok(r), 800));
  PR.api.get = (url, opts) => get(url, opts).then(late);
  const poll = WO.refresh();
  await new Promise((r) => setTimeout(r, 300));
  box().click();
  const seen = [];
  for (const until = Date.now() + 2000; Date.now() < until; ) {
    seen.push(box().checked);
    await new Promise((r) => requestAnimationFrame(r));
  }
  await poll;
  PR.api.get = get;
  return seen;
}"""


def test_a_tick_stays_ticked_while_the_page_refreshes(
    page: Page, live_app: LiveApp, seeded: Seeded
) -> None:
    with live_app.api("admin") as api:
        checklist = ["Check the seal", "Check the bearings"]
        api.patch(f"/api/v1/workorders/{seeded.pump}", json={"checklist": checklist})
    sign_in(page, "tech")
    open_wo(page, seeded.pump)
    with live_app.api("admin") as api:  # a change the next poll brings (200, not 304)
        api.post(f"/api/v1/workorders/{seeded.pump}/comments", json={"text": "Seal looks wet"})
    seen = page.evaluate(TICK_DURING_POLL)
    assert seen and all(seen), seen  # never drawn back unticked, not even for a frame
    second = page.locator("#checklist input[type=checkbox]").nth(1)
    second.check()  # Playwright's check(): one tap, and the box stays ticked
    expect(second).to_be_checked()
    synced(page)
    page.evaluate("WO.refresh()")
    expect(page.locator("#comments")).to_contain_text("Seal looks wet")
    expect(page.locator("#checklist input[type=checkbox]:checked")).to_have_count(2)
    wo = api_wo(live_app, seeded.pump)
    assert [c["done"] for c in wo["checklist"]] == [True, True]


def test_actions_taken_offline_show_on_the_page_as_they_will_be_until_they_sync(
    page: Page, live_app: LiveApp, seeded: Seeded
) -> None:
    with live_app.api("admin") as api:
        api.patch(f"/api/v1/workorders/{seeded.pump}", json={"checklist": ["Check the seal"]})
    sign_in(page, "tech")
    open_wo(page, seeded.pump)
    page.context.set_offline(True)
    page.locator("#actions [data-action=acknowledged]").click()
    expect(page.locator("#chips .chip.status")).to_have_text("Acknowledged")
    expect(page.locator("#actions [data-action=in_progress]")).to_have_text("Start work")
    page.locator("#checklist input[type=checkbox]").check()
    page.locator("#comment-text").fill("On my way down")
    page.locator("#comment-form button").click()
    photo = {"name": "seal.png", "mimeType": "image/png", "buffer": png()}
    page.locator("#photo-input").set_input_files(photo)
    expect(page.locator("#pending-list li")).to_have_count(4)
    expect(page.locator("#photos .is-pending")).to_be_visible()
    expect(page.locator("#pending-list")).to_contain_text("Checklist: Check the seal")
    expect(page.locator("#checklist li.check.is-pending")).to_have_count(1)
    expect(page.locator("#comments li.is-pending")).to_contain_text("On my way down")
    assert api_wo(live_app, seeded.pump)["status"] == "new"  # nothing has left the tablet
    shot(page, "45-offline-pending")
    page.context.set_offline(False)
    page.evaluate("PR.flush()")
    synced(page)
    wo = api_wo(live_app, seeded.pump)
    assert wo["status"] == "acknowledged"
    assert wo["checklist"][0]["done"] is True
    assert [e["message"] for e in wo["events"] if e["kind"] == "comment"] == ["On my way down"]
    expect(page.locator("#comments li:not(.is-pending)")).to_have_count(1)
    # Drawn from the synced answers, with no poll: the photo's work order and attachments too.
    expect(page.locator("#photos a.thumb img")).to_have_count(1)
    expect(page.locator("#photos .is-pending")).to_have_count(0)
    expect(page.locator("#timeline li.ev-attachment")).to_contain_text("seal.png")


def test_keeping_the_servers_version_in_a_conflict_redraws_the_page_from_it(
    page: Page, live_app: LiveApp, seeded: Seeded
) -> None:
    with live_app.api("admin") as api:
        api.patch(f"/api/v1/workorders/{seeded.pump}", json={"checklist": ["Check the seal"]})
    sign_in(page, "tech")
    open_wo(page, seeded.pump)
    page.context.set_offline(True)
    page.locator("#checklist input[type=checkbox]").check()
    expect(page.locator("#checklist li.check.is-pending")).to_have_count(1)
    with live_app.api("admin") as api:  # meanwhile, the server's verdict on the same line
        r = api.post(
            f"/api/v1/workorders/{seeded.pump}/checklist/0",
            json={"done": False, "result": "Seal not reachable"},
        )
        assert r.status_code == 200, r.text
    page.context.set_offline(False)
    page.evaluate("PR.flush()")
    dialog = page.locator("dialog#pr-conflict")
    expect(dialog).to_be_visible()
    expect(page.locator("#pending-list")).to_contain_text("conflict: choose a version")
    dialog.get_by_role("button", name="Keep the server's").click()
    expect(page.locator("#pending")).to_be_hidden()
    expect(page.locator("#checklist li.check.is-pending")).to_have_count(0)
    expect(page.locator("#checklist input[type=checkbox]")).not_to_be_checked()
    expect(page.locator("#checklist input.result")).to_have_value("Seal not reachable")
    shot(page, "46-kept-the-servers")


@pytest.mark.parametrize(
    ("lang", "button", "chip"),
    [("en", "Put on hold", "On hold: Waiting for parts"), ("zh-CN", "挂起", "挂起: 等待备件")],
)
def test_hold_asks_for_a_reason_keeps_a_half_typed_note_and_resume_clears_it(
    page: Page, live_app: LiveApp, seeded: Seeded, lang: str, button: str, chip: str
) -> None:
    with live_app.api("tech") as api:
        api.post(f"/api/v1/workorders/{seeded.pump}/status", json={"status": "acknowledged"})
    sign_in(page, "tech", lang=lang)
    open_wo(page, seeded.pump)
    page.locator("#actions").get_by_role("button", name=button).click()
    dialog = page.locator("#hold-dlg")
    dialog.locator("select[name=reason]").select_option("parts")
    dialog.locator("textarea[name=note]").fill("Seal kit ordered")
    # Someone else changes the work order meanwhile: the live refresh waits for the dialog.
    with live_app.api("admin") as api:
        api.post(f"/api/v1/workorders/{seeded.pump}/comments", json={"text": "FYI"})
    assert page.evaluate("WO.refresh()") is False
    expect(dialog.locator("textarea[name=note]")).to_have_value("Seal kit ordered")
    shot(page, f"30-hold-dialog-{lang}")
    dialog.locator("button[value=ok]").click()
    expect(page.locator("#chips .chip.status")).to_have_text(chip)
    synced(page)
    wo = api_wo(live_app, seeded.pump)
    assert (wo["status"], wo["hold_reason"]) == ("on_hold", "parts")
    assert wo["events"][-1]["message"] == "Seal kit ordered"
    expect(page.locator("#comments li")).to_have_count(1)  # the comment arrived too
    shot(page, f"31-on-hold-{lang}")
    page.locator("#actions [data-action=in_progress]").click()
    expect(page.locator("#chips .chip.status")).not_to_have_text(chip)
    synced(page)
    wo = api_wo(live_app, seeded.pump)
    assert (wo["status"], wo["hold_reason"]) == ("in_progress", None)


def test_other_as_the_hold_reason_needs_a_note(
    page: Page, live_app: LiveApp, seeded: Seeded
) -> None:
    with live_app.api("tech") as api:
        api.post(f"/api/v1/workorders/{seeded.pump}/status", json={"status": "acknowledged"})
    sign_in(page, "tech")
    open_wo(page, seeded.pump)
    page.locator("#actions [data-action=on_hold]").click()
    dialog = page.locator("#hold-dlg")
    dialog.locator("select[name=reason]").select_option("other")
    dialog.locator("button[value=ok]").click()
    expect(dialog).to_be_visible()  # refused by the form: the note is required
    assert dialog.locator("textarea[name=note]").evaluate("t => t.validity.valueMissing")
    assert api_wo(live_app, seeded.pump)["status"] == "acknowledged"


def test_an_occupant_report_shows_its_text_photo_and_contact_to_the_crew(
    page: Page, live_app: LiveApp, seeded: Seeded
) -> None:
    page.goto("/r/b-lighting")
    page.locator("#description").fill("Water dripping from the ceiling by the stairs")
    page.locator("#photo").set_input_files(
        {"name": "leak.png", "mimeType": "image/png", "buffer": png()}
    )
    page.locator("#contact").fill("Zhang Min, 138 0000 1234")
    page.locator("button.rsend").click()
    ref = int(page.locator(".rref").get_attribute("data-ref") or 0)
    page.context.clear_cookies()
    sign_in(page, "tech")
    tab(page, "unassigned")
    expect(card(page, ref).locator(".chip.origin")).to_have_text("Occupant request")
    open_wo(page, ref)
    box = page.locator("#request-box")
    expect(box.locator("#request-text")).to_have_text(
        "Water dripping from the ceiling by the stairs"
    )
    expect(box.locator("#request-facts")).to_contain_text("Zhang Min, 138 0000 1234")
    expect(box.locator("#request-photos img")).to_have_count(1)
    expect(box.locator("#request-photos img")).to_have_js_property("complete", True)
    assert box.locator("#request-photos img").evaluate("i => i.naturalWidth") > 0
    shot(page, "40-occupant-request")


def test_the_asset_page_shows_where_it_is_its_open_work_history_and_takes_a_request(
    page: Page, live_app: LiveApp, seeded: Seeded
) -> None:
    sign_in(page, "tech")
    open_wo(page, seeded.pump)
    page.locator("#facts a").click()
    expect(page).to_have_url(re.compile(r"/ui/assets/pump-1$"))
    expect(page.locator("#asset-name")).to_have_text("Domestic water booster pump 1")
    expect(page.locator("#asset-facts")).to_contain_text("Pump house")
    expect(page.locator("#open-work li.wo")).to_have_count(1)
    expect(page.locator("#history tbody tr")).to_have_count(1)
    expect(page.get_by_role("link", name="Scan another code")).to_have_attribute("href", "/ui/scan")
    shot(page, "50-asset")
    page.locator("#new-request").click()
    page.locator("#request-form input[name=title]").fill("Pump 1 gland leaking")
    page.locator("#request-form select[name=priority]").select_option("P2")
    page.locator("#request-form button[value=ok]").click()
    expect(page).to_have_url(re.compile(r"/ui/workorders/\d+$"))
    expect(page.locator("#title")).to_have_text("Pump 1 gland leaking")
    new_id = int(page.url.rsplit("/", 1)[1])
    wo = api_wo(live_app, new_id)
    assert (wo["asset_id"], wo["priority"], wo["created_by"]) == ("pump-1", "P2", "tech")


# --- 500 open work orders -----------------------------------------------------------------------


def test_500_open_work_orders_urgency_first_paging_reaches_every_one_and_search_finds_one(
    page: Page, live_app: LiveApp
) -> None:
    tech = user_id(live_app, "tech")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    assets = ["pump-1", "pump-2", "a-main", "b-main", "lift-a1", "lift-b1", "a-hvac", "b-hvac"]
    with live_app.db.session() as s:
        for i in range(500):
            # Deadlines spread over two days, in an order unrelated to the ids; some met.
            due = now + dt.timedelta(minutes=(i * 397) % 2880 - 60)
            met = i % 5 == 0
            s.add(
                WorkOrder(
                    title=f"Job {i:03d}",
                    priority=[Priority.P1, Priority.P2, Priority.P3, Priority.P4][i % 4],
                    status="assigned",
                    asset_id="pump-2" if i == 321 else assets[i % len(assets)],
                    assignee_id=tech,
                    created_by="test",
                    created_at=now - dt.timedelta(hours=1),
                    updated_at=now - dt.timedelta(hours=1),
                    response_due_at=due - dt.timedelta(hours=2) if met else due,
                    response_met_at=now - dt.timedelta(minutes=30) if met else None,
                    resolution_due_at=due if met else due + dt.timedelta(hours=4),
                )
            )
    with live_app.db.session() as s:
        jobs = list(s.scalars(select(WorkOrder).where(WorkOrder.created_by == "test")))
        by_urgency = [
            w.id
            for w in sorted(
                jobs,
                key=lambda w: (
                    w.resolution_due_at if w.response_met_at else w.response_due_at,
                    w.id,
                ),
            )
        ]
    sign_in(page, "tech")
    expect(page.locator("#wos li.wo")).to_have_count(50)
    expect(page.locator("#count")).to_have_text("Showing 50 of 500")
    assert shown_ids(page) == by_urgency[:50]  # the clock that runs out first, first
    shot(page, "60-500-first-page")

    more = page.locator("#more")
    while more.is_visible():
        n = page.locator("#wos li.wo").count()
        more.click()
        expect(page.locator("#wos li.wo")).not_to_have_count(n)
    assert shown_ids(page) == by_urgency  # every one, once, in order
    expect(page.locator("#count")).to_have_text("500 work orders")
    render_ms = float(page.evaluate("document.body.dataset.renderMs"))
    print(f"\nrendered 500 work orders in {render_ms:.1f} ms")
    shot(page, "61-500-all", full_page=False)

    # The live refresh redraws all 500 when one changes, and keeps them.
    with live_app.api("admin") as api:
        r = api.post(f"/api/v1/workorders/{by_urgency[0]}/status", json={"status": "acknowledged"})
        assert r.status_code == 200, r.text
    assert page.evaluate("LIST.refresh()") is True
    assert len(shown_ids(page)) == 500

    page.locator("#filters input[name=q]").fill("Domestic water booster pump 2")
    page.locator("#filters input[name=q]").press("Enter")
    expect(page.locator("#count")).to_have_text(re.compile(r"(Showing \d+ of )?63( work orders)?"))
    page.locator("#filters input[name=q]").fill("Job 321")
    page.locator("#filters input[name=q]").press("Enter")
    expect(page.locator("#wos li.wo")).to_have_count(1)
    expect(page.locator("#wos li.wo")).to_contain_text("Job 321")
    shot(page, "62-500-search")


# --- live ---------------------------------------------------------------------------------------


def test_the_list_updates_without_a_reload_but_never_under_the_fingers(
    page: Page, live_app: LiveApp, seeded: Seeded
) -> None:
    sign_in(page, "tech")
    tab(page, "all")
    expect(page.locator("#wos li.wo")).to_have_count(4)
    page.evaluate("window.__sameDocument = true")
    with live_app.api("admin") as api:
        new = api.post("/api/v1/workorders", json={"title": "Smell of burning, B 2F"}).json()
    # Polled every 10 s with If-None-Match; the new work order appears with no page load.
    expect(card(page, new["id"])).to_be_visible(timeout=15_000)
    assert page.evaluate("window.__sameDocument") is True

    # Typing in the search box: nothing moves until the technician is done.
    page.locator("#filters input[name=q]").focus()
    with live_app.api("admin") as api:
        other = api.post("/api/v1/workorders", json={"title": "Another one"}).json()
    assert page.evaluate("LIST.refresh()") is False
    expect(card(page, other["id"])).to_have_count(0)
    page.locator("#filters input[name=q]").blur()
    assert page.evaluate("LIST.refresh()") is True
    expect(card(page, other["id"])).to_be_visible()


def test_a_new_p1_shows_a_banner_and_sounds_on_every_signed_in_tablet(
    context_for: Any, live_app: LiveApp, seeded: Seeded
) -> None:
    tablets = [context_for(), context_for(PORTRAIT)]
    for tablet, user in zip(tablets, ("tech", "admin"), strict=True):
        sign_in(tablet, user, live_app.logins[user].password)
        # The office signs in to its overview (issue 15); the banner shows on every page.
        expect(tablet).to_have_url(LIST_URL if user == "tech" else re.compile(r"/ui/overview$"))
        tablet.locator("main").click()  # a first tap unlocks the sound
        tablet.wait_for_function("() => sessionStorage.getItem('pr.p1.base') !== null")
        # The P1 open before the tablet came up is no news.
        assert tablet.evaluate("UI.checkAlarms()") is None
        expect(tablet.locator("#alarm")).to_be_hidden()
    with live_app.api("admin") as api:
        p1 = api.post(
            "/api/v1/workorders",
            json={
                "title": "Lift A1 stuck with people inside",
                "priority": "P1",
                "asset_id": "lift-a1",
            },
        ).json()
    for i, tablet in enumerate(tablets):
        banner = tablet.locator("#alarm")
        expect(banner).to_be_visible(timeout=15_000)
        expect(banner).to_contain_text(f"New P1 emergency #{p1['id']} Lift A1 stuck")
        expect(tablet.locator("body")).to_have_attribute("data-last-alarm", str(p1["id"]))
        assert int(tablet.evaluate("document.body.dataset.alarmSounds")) >= 1
        shot(tablet, f"70-p1-banner-{i}")
    # It follows the technician to another page until dismissed, and sounds once.
    tech = tablets[0]
    tech.goto(f"/ui/workorders/{seeded.pump}")
    expect(tech.locator("#alarm")).to_contain_text(f"#{p1['id']}")
    tech.evaluate("UI.checkAlarms()")
    tech.locator("#alarm .alarm-dismiss").click()
    expect(tech.locator("#alarm")).to_be_hidden()


# --- Chinese ------------------------------------------------------------------------------------

#: Visible text that is not the UI's own: marked .data (names, titles, what people typed), the
#: chart's numbers, the language switch.
UI_TEXT = """() => {
  const out = [];
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const text = n.textContent.trim();
    const e = n.parentElement;
    if (!text || !e || e.closest('.data, .lang, script, svg, dialog:not([open])')) continue;
    const r = e.getBoundingClientRect();
    if (!r.width || !r.height || getComputedStyle(e).visibility === 'hidden') continue;
    out.push(text);
  }
  return out;
}"""


def untranslated(texts: list[str]) -> list[str]:
    """Visible UI text that is still English: an English msgid shown as it is, or any English
    word (two letters or more) outside the data."""
    zh = catalog("zh-CN")
    english = {m for m, s in zh.items() if s != m}
    allowed = re.compile(r"\bPlantroom\b|\bP[1-4]\b|\bSLA\b|#\d+")
    return [t for t in texts if t in english or re.search(r"[A-Za-z]{2,}", allowed.sub("", t))]


def test_the_chinese_work_order_page_has_no_english_ui_text_and_shows_name_zh(
    context_for: Any, live_app: LiveApp, firing: int
) -> None:
    with live_app.api("tech") as api:
        base = f"/api/v1/workorders/{firing}"
        api.post(f"{base}/status", json={"status": "acknowledged"})
        api.post(f"{base}/labor", json={"hours": 1, "note": "换轴承"})
        api.post(f"{base}/parts", json={"part": "轴承 6205", "quantity": 2, "unit_cost": 35})
        api.post(f"{base}/costs", json={"description": "吊装", "amount": 200})
        api.post(f"{base}/comments", json={"text": "已到现场"})
        api.post(f"{base}/status", json={"status": "in_progress"})
        resolve = {"status": "resolved", "cause_code": "BEARING", "resolution_code": "REPLACED"}
        api.post(f"{base}/status", json=resolve).raise_for_status()
    # Resolved while the pump still over-currents: it awaits proof, then the fix does not hold.
    # With the site's default assignment, the timeline holds each kind the server words in English.
    until = dt.datetime.fromisoformat(api_wo(live_app, firing)["proof_until"])
    assert proof.sweep(live_app.db, now=until + dt.timedelta(seconds=1)) == {firing: "reopened"}
    kinds = {e["kind"] for e in api_wo(live_app, firing)["events"]}
    assert {"assigned", "awaiting_proof", "reopened", "status", "labor", "comment"} <= kinds
    page = context_for(locale="zh-CN")
    sign_in(page, "tech", lang="zh-CN")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(card(page, firing)).to_contain_text("1号生活给水加压泵")  # the asset's name_zh
    assert not untranslated(page.evaluate(UI_TEXT))
    shot(page, "80-my-work-zh")
    open_wo(page, firing)
    expect(page.locator("#facts a")).to_have_text("1号生活给水加压泵")
    expect(page.locator("#rule-words")).to_contain_text("电机电流高于 26 A，持续 20 秒")
    expect(page.locator("#chart path.ch-line")).to_have_count(1)
    expect(page.locator("#labor tbody tr")).to_have_count(1)
    timeline = page.locator("#timeline")
    expect(timeline.locator("li.ev-assigned")).to_contain_text("按站点对")  # the site's default
    expect(timeline.locator("li.ev-assigned .data").first).to_have_text("Li Wei")
    expect(timeline.locator("li.ev-awaiting_proof")).to_contain_text(
        "标记完成时告警状态仍为“告警中”"
    )
    expect(timeline.locator("li.ev-reopened")).to_contain_text("修复未见效")
    expect(timeline.locator("li.ev-status").first).to_contain_text("已完成 → 处理中 (修复未见效)")
    texts = page.evaluate(UI_TEXT)
    assert "标记完成" in texts and "服务时限" in texts  # the check sees the page's UI text
    assert not untranslated(texts), untranslated(texts)
    shot(page, "81-work-order-zh")
    page.locator("#actions [data-action=resolved]").click()
    expect(page.locator("#resolve-dlg")).to_be_visible()
    expect(page.locator("#cause-code option")).to_contain_text(["正常磨损"])  # code name_zh
    assert not untranslated(page.evaluate(UI_TEXT))
    shot(page, "82-resolve-zh")
    page.locator("#resolve-dlg button[value=cancel]").click()
    page.locator("#photos-box").scroll_into_view_if_needed()
    page.set_viewport_size(PORTRAIT)
    shot(page, "83-work-order-zh")


def test_the_language_choice_persists_and_switches_back(page: Page, seeded: Seeded) -> None:
    sign_in(page, "tech", lang="zh-CN")  # the sign-in form itself is in Chinese
    expect(page).to_have_url(LIST_URL)  # redirected without ?lang=: the cookie carries it
    expect(page.locator("#tabs [data-tab=mine]")).to_have_text("我的工单")
    page.goto("/ui/")
    expect(page.locator("#tabs [data-tab=mine]")).to_have_text("我的工单")
    page.get_by_role("link", name="English").click()
    expect(page.locator("#tabs [data-tab=mine]")).to_have_text("My work")
    page.goto("/ui/")
    expect(page.locator("#tabs [data-tab=mine]")).to_have_text("My work")


# --- who sees what, and the basics --------------------------------------------------------------


def test_wrong_password_shows_the_error_and_starts_no_session(page: Page, seeded: Seeded) -> None:
    page.goto("/ui/login")
    shot(page, "90-login")
    with page.expect_response(
        lambda r: r.url.endswith("/ui/login") and r.request.method == "POST"
    ) as answer:
        sign_in(page, "tech", "not-the-password")
    assert answer.value.status == 401
    expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")
    assert "plantroom_session" not in {c["name"] for c in page.context.cookies()}
    page.goto("/ui/")
    expect(page).to_have_url(re.compile(r"/ui/login$"))


def test_sign_out_ends_the_session(page: Page, seeded: Seeded) -> None:
    sign_in(page, "tech")
    expect(page).to_have_url(LIST_URL)
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/ui/login$"))
    page.goto("/ui/")
    expect(page).to_have_url(re.compile(r"/ui/login$"))


def test_a_contractor_sees_and_opens_only_their_firms_work(
    page: Page, live_app: LiveApp, seeded: Seeded
) -> None:
    sign_in(page, "contractor")
    expect(page.locator("#tabs [data-tab]")).to_have_count(1)
    expect(page.locator("#wos li.wo")).to_have_count(1)
    assert shown_ids(page) == [seeded.contractor_wo]
    expect(page.locator("main")).not_to_contain_text("Domestic water booster pump 1")
    r = page.goto(f"/ui/workorders/{seeded.pump}")
    assert r is not None and r.status == 404
    csrf = page.locator("meta[name=csrf-token]").get_attribute("content")
    r2 = page.request.post(
        f"{live_app.base_url}/api/v1/workorders/{seeded.pump}/status",
        data={"status": "acknowledged"},
        headers={"X-CSRF-Token": csrf or ""},
    )
    assert r2.status == 404
    assert api_wo(live_app, seeded.pump)["status"] == "new"


#: Every visible control's height, text size and contrast (see the script).
ERGONOMICS = (Path(__file__).parent / "ergonomics.js").read_text()


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
@pytest.mark.parametrize("viewport", [LANDSCAPE, PORTRAIT], ids=["1280x800", "800x1280"])
def test_every_page_fits_the_tablet_with_big_targets_readable_text_and_aa_contrast(
    context_for: Any, live_app: LiveApp, firing: int, lang: str, viewport: ViewportSize
) -> None:
    page = context_for(viewport)
    page.goto(f"/ui/login?lang={lang}")
    pages = ["/ui/login", "/ui/?tab=all", f"/ui/workorders/{firing}", "/ui/assets/pump-1"]
    checked = []
    for path in pages:
        if path != "/ui/login" and "plantroom_session" not in {
            c["name"] for c in page.context.cookies()
        }:
            sign_in(page, "tech")
            expect(page).to_have_url(LIST_URL)
        page.goto(path)
        page.wait_for_load_state("networkidle")
        found = page.evaluate(ERGONOMICS)
        assert found["width"] <= viewport["width"], f"{path} is {found['width']}px wide"
        assert not found["small"], f"{path} ({lang}): touch targets under 44px: {found['small']}"
        assert not found["tiny"], f"{path} ({lang}): text under 16px: {found['tiny']}"
        assert not found["faint"], f"{path} ({lang}): contrast under WCAG AA: {found['faint']}"
        checked.append(path)
    assert len(checked) == len(pages)


def test_no_request_leaves_the_apps_origin(page: Page, live_app: LiveApp, firing: int) -> None:
    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url))
    sign_in(page, "tech")
    open_wo(page, firing)
    expect(page.locator("#chart path.ch-line")).to_have_count(1)
    page.get_by_role("link", name="中文").click()
    expect(page.locator("#actions [data-action=resolved]")).to_have_text("标记完成")
    page.wait_for_load_state("networkidle")
    assert any(u.endswith("/static/app.css") for u in urls), urls
    assert any(u.endswith("/static/js/workorder.js") for u in urls), urls
    foreign = [u for u in urls if not u.startswith(live_app.base_url + "/")]
    assert not foreign, f"requests to other origins: {foreign}"
