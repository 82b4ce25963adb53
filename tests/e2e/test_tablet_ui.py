"""The tablet UI in real Chromium against the real app: what a technician or contractor sees."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Locator, Page, expect

from config.site import SiteConfig
from workorders.orders.models import WorkOrder

if TYPE_CHECKING:
    from tests.e2e.conftest import LiveApp, Seeded

pytestmark = pytest.mark.browser

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
LIST_URL = re.compile(r"/ui/(\?.*)?$")


def sign_in(page: Page, username: str, password: str | None = None, lang: str = "") -> None:
    """Fill in and submit the sign-in form (demo passwords are '<username>-demo')."""
    page.goto("/ui/login" + (f"?lang={lang}" if lang else ""))
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password or f"{username}-demo")
    page.locator("form.login button").click()


def card(page: Page, wo_id: int) -> Locator:
    """The list entry of one work order."""
    return page.locator(f"li.wo[data-id='{wo_id}']")


def shown_ids(page: Page) -> list[int]:
    """Ids of the work orders on the list, top to bottom."""
    return [int(i) for i in page.locator("li.wo").evaluate_all("els => els.map(e => e.dataset.id)")]


def screenshot(page: Page, path: Path) -> None:
    """A full-page PNG, checked to be one."""
    page.screenshot(path=path, full_page=True)
    assert path.read_bytes().startswith(PNG_MAGIC)


def test_technician_sees_open_work_orders_with_asset_priority_and_reading(
    page: Page, seeded: Seeded, tmp_path: Path
) -> None:
    sign_in(page, "tech")
    expect(page).to_have_url(LIST_URL)
    expect(page.get_by_role("heading", name=re.compile("Open work orders"))).to_be_visible()
    assert shown_ids(page) == seeded.open_ids  # P1 first, then P2 newest first, then P3
    pump = card(page, seeded.pump)
    expect(pump).to_contain_text("Domestic water booster pump 1")
    expect(pump.locator(".chip.prio")).to_have_text("P2 urgent")
    expect(pump.locator(".chip.status")).to_have_text("New")
    expect(pump.locator(".reading")).to_have_text("motor_current = 28.7 A")
    lift = card(page, seeded.lift)
    expect(lift).to_contain_text("Passenger lift B1")
    expect(lift.locator(".chip.prio")).to_have_text("P1 emergency")
    expect(card(page, seeded.voltage).locator(".reading")).to_have_text("voltage_l1 = 201.4 V")
    expect(card(page, seeded.contractor_wo)).to_contain_text("Raised by hand")
    screenshot(page, tmp_path / "workorders-en.png")


def test_acknowledge_changes_the_status_chip_and_the_api_agrees(
    page: Page, live_app: LiveApp, seeded: Seeded
) -> None:
    sign_in(page, "tech")
    pump = card(page, seeded.pump)
    expect(pump.locator(".chip.status")).to_have_text("New")
    pump.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_role("status")).to_have_text(f"Updated work order #{seeded.pump}")
    expect(pump.locator(".chip.status")).to_have_text("Acknowledged")
    expect(pump.get_by_role("button", name="Acknowledge")).to_have_count(0)
    expect(card(page, seeded.lift).locator(".chip.status")).to_have_text("New")
    with live_app.api("tech") as api:
        wo = api.get(f"/api/v1/workorders/{seeded.pump}").json()
    assert wo["status"] == "acknowledged"
    assert wo["acknowledged_at"] is not None
    assert wo["events"][-1]["actor"] == "tech"


def test_resolve_removes_the_work_order_from_the_open_list(
    page: Page, live_app: LiveApp, seeded: Seeded
) -> None:
    sign_in(page, "tech")
    expect(page.locator("h1 .count")).to_have_text(str(len(seeded.open_ids)))
    card(page, seeded.pump).get_by_role("button", name="Resolve").click()
    expect(page.get_by_role("status")).to_have_text(f"Updated work order #{seeded.pump}")
    expect(card(page, seeded.pump)).to_have_count(0)
    expect(page.locator("h1 .count")).to_have_text(str(len(seeded.open_ids) - 1))
    assert shown_ids(page) == [i for i in seeded.open_ids if i != seeded.pump]
    with live_app.api("tech") as api:
        assert api.get(f"/api/v1/workorders/{seeded.pump}").json()["status"] == "resolved"
        open_ids = {w["id"] for w in api.get("/api/v1/workorders?open=true").json()["items"]}
    assert seeded.pump not in open_ids


def test_wrong_password_shows_the_error_and_starts_no_session(
    page: Page, seeded: Seeded, tmp_path: Path
) -> None:
    page.goto("/ui/login")
    screenshot(page, tmp_path / "login.png")
    with page.expect_response(
        lambda r: r.url.endswith("/ui/login") and r.request.method == "POST"
    ) as answer:
        sign_in(page, "tech", "not-the-password")
    assert answer.value.status == 401
    expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")
    assert "plantroom_session" not in {c["name"] for c in page.context.cookies()}
    page.goto("/ui/")
    expect(page).to_have_url(re.compile(r"/ui/login$"))
    expect(page.locator("li.wo")).to_have_count(0)


def test_sign_out_ends_the_session(page: Page, seeded: Seeded) -> None:
    sign_in(page, "tech")
    expect(page.locator("li.wo")).to_have_count(len(seeded.open_ids))
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/ui/login$"))
    page.goto("/ui/")
    expect(page).to_have_url(re.compile(r"/ui/login$"))


def test_chinese_labels_are_shown_and_the_language_choice_persists(
    page: Page, seeded: Seeded, tmp_path: Path
) -> None:
    sign_in(page, "tech", lang="zh-CN")  # the sign-in form itself is in Chinese
    expect(page).to_have_url(LIST_URL)  # redirected without ?lang=: the cookie carries it
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("heading", name=re.compile("待处理工单"))).to_be_visible()
    pump = card(page, seeded.pump)
    expect(pump.get_by_role("button", name="确认接单")).to_be_visible()
    expect(pump.get_by_role("button", name="标记完成")).to_be_visible()
    expect(pump.locator(".chip.prio")).to_have_text("P2 急")
    expect(pump.locator(".chip.status")).to_have_text("新建")
    screenshot(page, tmp_path / "workorders-zh.png")

    assert {"name": "lang", "value": "zh-CN"}.items() <= next(
        c for c in page.context.cookies() if c["name"] == "lang"
    ).items()
    page.goto("/ui/")
    expect(page.get_by_role("heading", name=re.compile("待处理工单"))).to_be_visible()

    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name=re.compile("Open work orders"))).to_be_visible()
    page.goto("/ui/")
    expect(page.get_by_role("heading", name=re.compile("Open work orders"))).to_be_visible()


def test_contractor_sees_only_their_organisations_work_orders(page: Page, seeded: Seeded) -> None:
    sign_in(page, "contractor")
    expect(page).to_have_url(LIST_URL)
    expect(page.locator("header")).to_contain_text("Wang Fang")
    assert shown_ids(page) == [seeded.contractor_wo]
    expect(page.locator("main")).not_to_contain_text("Domestic water booster pump 1")
    expect(page.locator("main")).not_to_contain_text("Passenger lift B1")


def test_contractor_cannot_change_another_organisations_work_order(
    page: Page, live_app: LiveApp, seeded: Seeded
) -> None:
    sign_in(page, "contractor")
    csrf = page.locator("input[name=csrf]").first.input_value()
    r = page.request.post(
        f"{live_app.base_url}/ui/workorders/{seeded.pump}/status",
        form={"status": "acknowledged", "csrf": csrf},
        max_redirects=0,
    )
    assert r.status == 404
    with live_app.api("tech") as api:
        assert api.get(f"/api/v1/workorders/{seeded.pump}").json()["status"] == "new"


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_pages_fit_a_1280_tablet_and_every_touch_target_is_48px(
    page: Page, seeded: Seeded, lang: str
) -> None:
    sign_in(page, "tech", lang=lang)
    expect(page.locator("li.wo")).to_have_count(len(seeded.open_ids))
    for path in ("/ui/", "/ui/login"):
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 1280, f"{path} ({lang}) is {width}px wide"
        targets = page.locator("button, a[href]").evaluate_all(
            "els => els.map(e => [e.textContent.trim(), e.getBoundingClientRect().height])"
        )
        assert targets, f"{path} has no buttons"
        small = [(text, round(h, 1)) for text, h in targets if h < 48]
        assert not small, f"{path} ({lang}): touch targets under 48px tall: {small}"


def test_no_request_leaves_the_apps_origin(page: Page, live_app: LiveApp, seeded: Seeded) -> None:
    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url))
    sign_in(page, "tech")
    card(page, seeded.pump).get_by_role("button", name="Acknowledge").click()
    expect(card(page, seeded.pump).locator(".chip.status")).to_have_text("Acknowledged")
    page.get_by_role("link", name="中文").click()
    expect(page.get_by_role("heading", name=re.compile("待处理工单"))).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert any(u.endswith("/static/app.css") for u in urls), urls
    assert any(u.endswith("/static/app.js") for u in urls), urls
    foreign = [u for u in urls if not u.startswith(live_app.base_url + "/")]
    assert not foreign, f"requests to other origins: {foreign}"


def test_status_post_without_the_csrf_token_is_refused(
    page: Page, live_app: LiveApp, seeded: Seeded
) -> None:
    sign_in(page, "tech")
    expect(page.locator("li.wo")).to_have_count(len(seeded.open_ids))
    url = f"{live_app.base_url}/ui/workorders/{seeded.pump}/status"
    for form in ({"status": "acknowledged"}, {"status": "acknowledged", "csrf": "forged"}):
        r = page.request.post(url, form=form, max_redirects=0)
        assert r.status == 403, form
        assert "CSRF" in r.text()
    with live_app.api("tech") as api:
        assert api.get(f"/api/v1/workorders/{seeded.pump}").json()["status"] == "new"
    # The same request with the page's token goes through: the session cookie was sent.
    csrf = page.locator("input[name=csrf]").first.input_value()
    r = page.request.post(url, form={"status": "acknowledged", "csrf": csrf}, max_redirects=0)
    assert r.status == 303
    assert r.headers["location"] == f"/ui/?done={seeded.pump}"


@pytest.mark.parametrize(
    ("lang", "button", "chip"),
    [("en", "Put on hold", "On hold: Parts"), ("zh-CN", "挂起", "挂起: 等待备件")],
)
def test_hold_asks_for_a_reason_shows_it_and_resume_clears_it(
    page: Page, live_app: LiveApp, seeded: Seeded, lang: str, button: str, chip: str
) -> None:
    with live_app.api("tech") as api:
        api.post(f"/api/v1/workorders/{seeded.pump}/status", json={"status": "acknowledged"})
    sign_in(page, "tech", lang=lang)
    pump = card(page, seeded.pump)
    pump.locator("details.hold summary").click()
    pump.locator("select[name=reason]").select_option("parts")
    Path("/tmp/shots").mkdir(exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.screenshot(path=f"/tmp/shots/hold-form-{lang}.png")
    pump.locator("details.hold form button").click()
    expect(card(page, seeded.pump).locator(".chip.status")).to_have_text(chip)
    page.screenshot(path=f"/tmp/shots/hold-chip-{lang}.png")
    with live_app.api("tech") as api:
        wo = api.get(f"/api/v1/workorders/{seeded.pump}").json()
    assert (wo["status"], wo["hold_reason"]) == ("on_hold", "parts")
    card(page, seeded.pump).locator("button.resume").click()
    expect(card(page, seeded.pump).locator(".chip.status")).not_to_contain_text(chip)
    with live_app.api("tech") as api:
        wo = api.get(f"/api/v1/workorders/{seeded.pump}").json()
    assert (wo["status"], wo["hold_reason"]) == ("in_progress", None)


@pytest.mark.parametrize(
    ("lang", "respond", "missed"),
    [("en", "Respond by", "SLA missed"), ("zh-CN", "响应时限", "已超时")],
)
def test_card_shows_the_sla_deadline_and_a_missed_one_in_red(
    page: Page,
    live_app: LiveApp,
    seeded: Seeded,
    demo_site: SiteConfig,
    lang: str,
    respond: str,
    missed: str,
) -> None:
    with live_app.api("tech") as api:
        fresh = api.post(
            "/api/v1/workorders", json={"title": "Chiller 2 high head pressure", "priority": "P2"}
        ).json()
        late = api.post(
            "/api/v1/workorders", json={"title": "Cooling tower fan noisy", "priority": "P2"}
        ).json()
    with live_app.db.session() as s:
        wo = s.get_one(WorkOrder, late["id"])
        wo.response_due_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)
        wo.response_breached = True
    sign_in(page, "tech", lang=lang)
    tz = ZoneInfo(demo_site.doc.site.timezone)
    due = dt.datetime.fromisoformat(fresh["sla"]["response_due_at"]).astimezone(tz)
    expect(card(page, fresh["id"]).locator(".sla")).to_have_text(f"{respond} {due:%m-%d %H:%M}")
    expect(card(page, late["id"]).locator(".sla.missed")).to_contain_text(missed)
    Path("/tmp/shots").mkdir(exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.screenshot(path=f"/tmp/shots/sla-{lang}.png")
