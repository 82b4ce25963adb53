"""The office's pages in real Chromium against the real app (issue 15): people and access (a
contractor firm, a user for it and a read-only API token that cannot change anything), the
work-order list with filters in the address and bulk assignment, and the work-order page's
cancel, reopen and audit trail.

Screenshots go to $PLANTROOM_SHOTS (default /tmp/shots15/admin), in English and Chinese, at
1280x800, 800x1280 and 1920x1080, for a person to look at.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from playwright.sync_api import Page, ViewportSize, expect

from tests.e2e.conftest import sign_in_demo as sign_in

if TYPE_CHECKING:
    from tests.e2e.conftest import LiveApp, Seeded

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("PLANTROOM_SHOTS", "/tmp/shots15/admin"))
SIZES: dict[str, ViewportSize] = {
    "landscape": {"width": 1280, "height": 800},
    "portrait": {"width": 800, "height": 1280},
    "desktop": {"width": 1920, "height": 1080},
}


def shot(page: Page, name: str) -> Path:
    """A full-page PNG of this step, named by step and viewport."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size or SIZES["landscape"]
    path = SHOTS / f"{name}-{size['width']}x{size['height']}.png"
    page.evaluate("document.fonts.ready")
    full = not page.locator("dialog[open]").count()
    if full:
        page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=path, full_page=full)
    return path


def api_wo(live_app: LiveApp, wo_id: int) -> dict[str, Any]:
    with live_app.api("admin") as api:
        r = api.get(f"/api/v1/workorders/{wo_id}")
        assert r.status_code == 200, r.text
        return dict(r.json())


def people_ready(page: Page) -> None:
    page.goto("/ui/people")
    expect(page.locator("body")).to_have_attribute("data-ready", "1")


def list_ready(page: Page, query: str = "") -> None:
    page.goto("/ui/workorders" + query)
    expect(page.locator("#rows")).to_have_attribute("aria-busy", "false")


# --- people and access --------------------------------------------------------------------------


def test_an_admin_creates_a_firm_a_user_for_it_and_a_read_only_token_that_cannot_write(
    page: Page, live_app: LiveApp, seeded: Seeded
) -> None:
    sign_in(page, "admin")
    people_ready(page)
    shot(page, "people-start")

    # A contractor firm.
    page.locator("#firm-form input[name=name]").fill("Harbour Lift Services")
    page.locator("#firm-form input[name=monthly_fee]").fill("48000")
    page.locator("#firm-form button").click()
    firm_row = page.locator("#firms tbody tr", has_text="Harbour Lift Services")
    expect(firm_row).to_be_visible()

    # A user for it.
    page.locator("#new-user").click()
    form = page.locator("#user-form")
    form.locator("input[name=username]").fill("harbour-ops")
    form.locator("input[name=display_name]").fill("Zhou Lei")
    form.locator("select[name=role]").select_option("contractor")
    form.locator("select[name=organisation_id]").select_option(label="Harbour Lift Services")
    form.locator("input[name=password]").fill("harbour-pass-1")
    shot(page, "people-new-user")
    page.locator("#user-ok").click()
    user_row = page.locator("#users tbody tr[data-username='harbour-ops']")
    expect(user_row).to_contain_text("Harbour Lift Services")
    expect(firm_row.locator("td").nth(2)).to_have_text("1")

    # A token with the read scope only, for that user.
    user_row.locator("[data-act=token]").click()
    tok = page.locator("#token-form")
    tok.locator("input[name=name]").fill("Harbour ERP (read)")
    expect(tok.locator("input[value=read]")).to_be_checked()
    expect(tok.locator("input[value=write]")).not_to_be_checked()
    page.locator("#token-create").click()
    expect(page.locator("#secret-box")).to_be_visible()
    secret = page.locator("#secret").inner_text().strip()
    assert secret.startswith("prt_")
    token_row = page.locator("#tokens tbody tr", has_text="Harbour ERP (read)")
    expect(token_row).to_contain_text("harbour-ops")
    expect(token_row.locator(".scopes .chip")).to_have_text(["read"])
    shot(page, "people-token-once")

    # The token reads, and cannot change anything.
    before = api_wo(live_app, seeded.pump)
    headers = {"Authorization": f"Bearer {secret}"}
    with httpx.Client(base_url=live_app.base_url, headers=headers, timeout=10) as api:
        me = api.get("/api/v1/me")
        assert me.status_code == 200
        assert me.json()["username"] == "harbour-ops" and me.json()["scopes"] == ["read"]
        assert me.json()["organisation"]["name"] == "Harbour Lift Services"
        assert api.get("/api/v1/workorders").status_code == 200
        assert api.get("/api/v1/tokens").status_code == 200
        writes = [
            api.post("/api/v1/workorders", json={"title": "sneaky"}),
            api.patch(f"/api/v1/workorders/{seeded.pump}", json={"description": "x"}),
            api.post(f"/api/v1/workorders/{seeded.pump}/comments", json={"text": "x"}),
            api.post(f"/api/v1/workorders/{seeded.pump}/status", json={"status": "cancelled"}),
            api.post("/api/v1/tokens", json={"name": "more", "scopes": ["read", "write"]}),
            api.post("/api/v1/users/1/password", json={"new_password": "harbour-pass-2"}),
        ]
        assert [w.status_code for w in writes] == [403] * len(writes), [w.text for w in writes]
        assert all(w.json()["error"] == "forbidden" for w in writes)
    assert api_wo(live_app, seeded.pump)["version"] == before["version"]

    # Done with the secret; revoking the token ends it at once.
    page.locator("#secret-done").click()
    expect(page.locator("#secret-box")).to_be_hidden()
    page.once("dialog", lambda d: d.accept())
    token_row.locator("[data-act=revoke]").click()
    expect(page.locator("#tokens tbody tr", has_text="Harbour ERP (read)")).to_have_count(0)
    with httpx.Client(base_url=live_app.base_url, headers=headers, timeout=10) as api:
        assert api.get("/api/v1/me").status_code == 401
    shot(page, "people-done")


def test_an_admin_resets_a_password_changes_a_role_and_disables_and_enables_a_user(
    page: Page, live_app: LiveApp
) -> None:
    sign_in(page, "admin")
    people_ready(page)
    row = page.locator("#users tbody tr[data-username='tech']")

    row.locator("[data-act=password]").click()
    page.locator("#password-form input[name=new_password]").fill("tech-new-password")
    page.locator("#password-form button[value=ok]").click()
    expect(page.locator("#toast")).to_contain_text("Password set")

    row.locator("[data-act=edit]").click()
    page.locator("#user-form select[name=role]").select_option("engineer")
    page.locator("#user-ok").click()
    expect(row.locator("td").nth(1)).to_have_text("engineer")

    page.once("dialog", lambda d: d.accept())
    row.locator("[data-act=disable]").click()
    page.locator("#show-disabled").check()
    expect(row).to_have_class(re.compile("inactive"))
    row.locator("[data-act=enable]").click()
    expect(row).not_to_have_class(re.compile("inactive"))
    with live_app.api("admin") as api:
        users = api.get("/api/v1/users", params={"role": "engineer"}).json()["items"]
        assert "tech" in {u["username"] for u in users if u["active"]}

    # The demo firm: a new fee, then inactive (it takes no new work).
    firm = page.locator("#firms tbody tr").first
    name = firm.get_attribute("data-name")
    firm.locator("[data-act=edit-firm]").click()
    page.locator("#firm-edit input[name=monthly_fee]").fill("200000")
    page.locator("#firm-edit input[name=active]").uncheck()
    shot(page, "people-edit-firm")
    page.locator("#firm-ok").click()
    expect(firm).to_contain_text("200,000.00")
    expect(firm).to_contain_text("inactive")
    with live_app.api("admin") as api:
        orgs = {o["name"]: o for o in api.get("/api/v1/organisations").json()}
        assert (orgs[name]["monthly_fee"], orgs[name]["active"]) == (200000, False)


# --- the work-order list ------------------------------------------------------------------------


def test_the_list_takes_its_filters_from_the_address_and_keeps_them_there(
    page: Page, live_app: LiveApp, seeded: Seeded
) -> None:
    sign_in(page, "engineer")
    list_ready(page, "?open=true&priority=P1&building=bldg-b")
    expect(page.locator("#filters select[name=priority]")).to_have_value("P1")
    expect(page.locator("#filters select[name=building]")).to_have_value("bldg-b")
    expect(page.locator("#filters input[name=open]")).to_be_checked()
    expect(page.locator("#rows tr")).to_have_count(1)
    expect(page.locator(f"#rows tr[data-id='{seeded.lift}']")).to_be_visible()

    page.locator("#filters select[name=priority]").select_option("P2")
    expect(page.locator(f"#rows tr[data-id='{seeded.voltage}']")).to_be_visible()
    assert "priority=P2" in page.url and "building=bldg-b" in page.url and "open=true" in page.url

    page.locator("#filters input[name=q]").fill("voltage")
    expect(page.locator("#rows tr")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"q=voltage"))
    # The export carries the same filters, with the session.
    href = page.locator("#export").get_attribute("href") or ""
    assert href.startswith("/api/v1/workorders/export.csv?") and "q=voltage" in href
    csv = page.request.get(href)
    assert csv.status == 200
    assert [int(line.split(",")[0]) for line in csv.text().splitlines()[1:]] == [seeded.voltage]

    # The overview's "breached" link: the sla filter goes through to the API as it is.
    list_ready(page, "?open=true&sla=breached")
    expect(page.locator("#filters select[name=sla]")).to_have_value("breached")
    assert "sla=breached" in page.url
    expect(page.locator("#list-error")).to_be_hidden()
    with live_app.api("engineer") as api:
        r = api.get("/api/v1/workorders", params={"open": "true", "sla": "breached"})
        assert r.status_code == 200, r.text
    expect(page.locator("#rows tr")).to_have_count(len(r.json()["items"]))


def test_an_admin_bulk_assigns_two_work_orders_and_sees_each_outcome(
    page: Page, live_app: LiveApp, seeded: Seeded
) -> None:
    sign_in(page, "admin")
    list_ready(page, "?open=true&sort=id")
    for wo_id in (seeded.pump, seeded.voltage, seeded.lift):
        page.locator(f"#rows tr[data-id='{wo_id}'] td.sel input").check()
    expect(page.locator("#bulk-count")).to_have_text("3 selected")
    page.locator("#bulk-target").select_option(label="Li Wei (technician)")
    shot(page, "list-bulk-selected")
    # Meanwhile someone cancels the lift's work order: that one is refused, with its reason.
    with live_app.api("admin") as api:
        r = api.post(f"/api/v1/workorders/{seeded.lift}/status", json={"status": "cancelled"})
        assert r.status_code == 200
    page.locator("#bulk-go").click()

    results = page.locator("#results")
    expect(results).to_be_visible()
    expect(page.locator("#results-title")).to_contain_text("Assigned 2 of 3")
    expect(results.locator(f"li.ok[data-id='{seeded.pump}']")).to_be_visible()
    expect(results.locator(f"li.ok[data-id='{seeded.voltage}']")).to_be_visible()
    failed = results.locator(f"li.failed[data-id='{seeded.lift}']")
    expect(failed).to_contain_text("its state does not allow it")
    expect(failed).to_contain_text("reopen it first")
    shot(page, "list-bulk-results")

    tech = next(p for p in live_app.logins.values() if p.username == "tech")
    with live_app.api(tech.username) as api:
        mine = api.get("/api/v1/workorders", params={"assignee": "me"}).json()["items"]
    assert {seeded.pump, seeded.voltage} <= {w["id"] for w in mine}
    assert api_wo(live_app, seeded.lift)["assignee_id"] is None
    expect(page.locator(f"#rows tr[data-id='{seeded.pump}'] td.who")).to_contain_text("Li Wei")


def test_an_admin_creates_a_work_order_from_the_list(
    page: Page, live_app: LiveApp, seeded: Seeded
) -> None:
    sign_in(page, "admin")
    list_ready(page)
    page.locator("#new-wo").click()
    form = page.locator("#new-form")
    form.locator("input[name=title]").fill("Replace cracked floor tiles, lobby")
    form.locator("select[name=asset_id]").select_option("pump-1")
    form.locator("select[name=priority]").select_option("P2")
    form.locator("textarea[name=description]").fill("Three tiles by the entrance.")
    form.locator("select[name=target]").select_option(label="Li Wei (technician)")
    shot(page, "list-new")
    page.locator("#new-ok").click()
    expect(page.locator("body")).to_have_attribute("data-created", re.compile(r"\d+"))
    new_id = int(page.locator("body").get_attribute("data-created") or 0)
    expect(page.locator(f"#rows tr[data-id='{new_id}']")).to_contain_text("Li Wei")
    wo = api_wo(live_app, new_id)
    assert (wo["priority"], wo["asset_id"], wo["status"]) == ("P2", "pump-1", "assigned")


# --- the work-order page ------------------------------------------------------------------------


def test_an_admin_cancels_and_reopens_a_work_order_and_sees_the_audit_trail(
    page: Page, live_app: LiveApp, seeded: Seeded
) -> None:
    sign_in(page, "admin")
    page.goto(f"/ui/workorders/{seeded.contractor_wo}")
    expect(page.locator("#num")).to_have_text(f"#{seeded.contractor_wo}")

    page.locator("[data-action=cancelled]").click()
    page.locator("#confirm-form textarea[name=note]").fill("Raised twice")
    page.locator("#confirm-ok").click()
    expect(page.locator("#chips .status")).to_have_text("Cancelled")
    expect(page.locator("[data-action=reopen]")).to_be_visible()
    expect(page.locator("[data-action=assign]")).to_have_count(0)

    page.locator("[data-action=reopen]").click()
    page.locator("#confirm-form textarea[name=note]").fill("Not a duplicate after all")
    page.locator("#confirm-ok").click()
    # The contractor still has it, so it goes back to assigned.
    expect(page.locator("#chips .status")).to_have_text("Assigned")
    assert api_wo(live_app, seeded.contractor_wo)["status"] == "assigned"

    audit = page.locator("#audit tbody tr[data-action=status]")
    expect(audit).to_have_count(2)
    expect(audit.nth(0)).to_contain_text("Cancelled → Assigned")
    expect(audit.nth(1)).to_contain_text("Assigned → Cancelled")
    expect(audit.nth(0)).to_contain_text("admin")
    shot(page, "wo-reopened-audit")


def test_an_admin_verifies_and_closes_a_resolved_work_order(
    page: Page, live_app: LiveApp, seeded: Seeded
) -> None:
    with live_app.api("admin") as api:
        r = api.post(
            f"/api/v1/workorders/{seeded.contractor_wo}/status", json={"status": "resolved"}
        )
        assert r.status_code == 200, r.text
    sign_in(page, "admin")
    page.goto(f"/ui/workorders/{seeded.contractor_wo}")
    expect(page.locator("#chips .status")).to_have_text("Resolved")
    expect(page.locator("[data-action=assign]")).to_have_count(0)
    page.locator("[data-action=verified]").click()
    page.locator("#confirm-ok").click()
    expect(page.locator("#chips .status")).to_have_text("Verified")
    page.locator("[data-action=closed]").click()
    page.locator("#confirm-ok").click()
    expect(page.locator("#chips .status")).to_have_text("Closed")
    # A closed work order reopens through the move back to work.
    expect(page.locator("[data-action=in_progress]")).to_have_text("Reopen")
    assert api_wo(live_app, seeded.contractor_wo)["status"] == "closed"
    expect(page.locator("#audit tbody tr[data-action=status]")).to_have_count(3)


def test_an_engineer_assigns_a_work_order_to_a_contractor_firm_from_its_page(
    page: Page, live_app: LiveApp, seeded: Seeded
) -> None:
    sign_in(page, "engineer")
    page.goto(f"/ui/workorders/{seeded.pump}")
    page.locator("[data-action=assign]").click()
    firm = api_wo(live_app, seeded.contractor_wo)["contractor_name"]
    page.locator("#assign-target").select_option(label=firm)
    shot(page, "wo-assign")
    page.locator("#assign-ok").click()
    expect(page.locator("#facts")).to_contain_text(firm)
    assert api_wo(live_app, seeded.pump)["contractor_id"] == seeded.contractor_org_id
    expect(page.locator("#audit tbody tr[data-action=assign]")).to_contain_text(firm)


def test_a_technician_sees_no_office_actions_on_the_work_order_page(
    page: Page, live_app: LiveApp, seeded: Seeded
) -> None:
    sign_in(page, "tech")
    page.goto(f"/ui/workorders/{seeded.pump}")
    expect(page.locator("#num")).to_have_text(f"#{seeded.pump}")
    expect(page.locator("[data-action=take]")).to_be_visible()
    assert page.locator("[data-action=assign]").count() == 0
    assert page.locator("#audit-box").count() == 0
    assert page.locator(".back").get_attribute("href") == "/ui/"


# --- screenshots, in both languages and three sizes ---------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_screenshots_of_the_office_pages(
    page: Page, live_app: LiveApp, seeded: Seeded, lang: str
) -> None:
    sign_in(page, "admin", lang=lang)
    with live_app.api("admin") as api:
        api.post(f"/api/v1/workorders/{seeded.voltage}/status", json={"status": "cancelled"})
        tech = api.get("/api/v1/users", params={"role": "technician"}).json()["items"][0]
        api.post(
            "/api/v1/workorders/bulk-assign",
            json={"ids": [seeded.pump], "assignee_id": tech["id"]},
        )
        api.post("/api/v1/tokens", json={"name": "Grafana", "scopes": ["read", "metrics"]})
    for name, size in SIZES.items():
        page.set_viewport_size(size)
        list_ready(page, "?sort=id")
        page.locator(f"#rows tr[data-id='{seeded.pump}'] td.sel input").check()
        expect(page.locator("#bulk")).to_be_visible()
        fits(page, name, size)
        shot(page, f"workorders-{lang}-{name}")
        people_ready(page)
        fits(page, name, size)
        shot(page, f"people-{lang}-{name}")
        page.goto(f"/ui/workorders/{seeded.voltage}")
        expect(page.locator("#audit tbody tr").first).to_be_visible()
        fits(page, name, size)
        shot(page, f"workorder-office-{lang}-{name}")


def fits(page: Page, name: str, size: ViewportSize) -> None:
    """No horizontal scrolling of the page itself: wide tables scroll in their own box."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= size["width"], f"{name} {page.url}: the page is {width}px wide"
