"""The contractor's screens in real Chromium against the real app (issue 15, done-when): a
contractor signs in, sees its at-risk work, opens last month's scorecard, disputes a breach,
downloads the XLSX (checked against the API with openpyxl), and gets 404 on another firm's work
order and on an asset it has no work on, typed into the address bar; then an admin rejects the
dispute, records a complaint and signs the month off, and the contractor sees all of it.

Screenshots go to $PLANTROOM_SHOTS (default /tmp/shots15/contractor), in English and Chinese, at
1280x800, 800x1280 and 1920x1080; the README's is docs/screenshots/scorecard.png.
"""

from __future__ import annotations

import datetime as dt
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect
from sqlalchemy import select

from config.site import SiteConfig
from core.auth import service as auth
from core.auth.models import User
from tests.e2e.conftest import DESKTOP, LANDSCAPE, PORTRAIT
from tests.e2e.conftest import sign_in_demo as sign_in
from workorders.orders import service
from workorders.orders.models import Priority, WorkOrder
from workorders.sla import service as sla_service

if TYPE_CHECKING:
    from tests.e2e.conftest import LiveApp

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("PLANTROOM_SHOTS", "/tmp/shots15/contractor"))
#: The README's picture, remade in the repository only when asked (PLANTROOM_README_SHOTS=1):
#: a test run leaves the checkout as it found it.
README_SHOT = (
    Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    if os.environ.get("PLANTROOM_README_SHOTS")
    else SHOTS
) / "scorecard.png"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@dataclass
class Month:
    """Last month's work of the contractor's firm, and what it must not see."""

    org: int
    month: str
    late_response: int
    late_resolution: int
    overdue_now: int
    rival_wo: int


def shot(page: Page, name: str, *, full_page: bool = True, to: Path | None = None) -> Path:
    """A PNG of this step, named by step and viewport."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size or LANDSCAPE
    path = to or SHOTS / f"{name}-{size['width']}x{size['height']}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.evaluate("document.fonts.ready")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=path, full_page=full_page)
    assert path.read_bytes().startswith(PNG_MAGIC)
    return path


@pytest.fixture
def last_month(live_app: LiveApp, demo_site: SiteConfig) -> Month:
    """Last month, for the contractor's firm: a P1 answered late and a P2 resolved late (two
    breaches), a P3 on time; now, a P2 whose response is overdue; and a rival firm's job on
    pump 2, where the contractor's firm has no work."""
    tz = ZoneInfo(demo_site.doc.site.timezone)
    local = dt.datetime.now(tz)
    first = (local.replace(day=1) - dt.timedelta(days=1)).replace(day=1)

    def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime(first.year, first.month, day, hour, minute, tzinfo=tz)

    with live_app.db.session() as s:
        user = s.scalars(select(User).where(User.username == "contractor")).one()
        org = user.organisation_id
        assert org is not None

        def make(title: str, prio: str, when: dt.datetime, asset: str, firm: int) -> WorkOrder:
            return service.create(
                s,
                title=title,
                actor="admin",
                priority=Priority(prio),
                asset_id=asset,
                contractor_id=firm,
                at=when,
                now=when,
                sla_policy=sla_service.choose_policy(
                    demo_site, priority=prio, contractor_id=firm, type_="corrective", session=s
                ),
            )

        def move(wo: WorkOrder, *steps: tuple[str, dt.datetime]) -> None:
            for target, when in steps:
                service.change_status(
                    s, wo=wo, target=target, actor="crew", role="admin", at=when, now=when
                )

        p1 = make("Lift A1 stopped between floors", "P1", at(3, 9), "lift-a1", org)
        move(p1, ("acknowledged", at(3, 9, 55)), ("resolved", at(3, 11)))
        p2 = make("Corridor lights out, B 2F", "P2", at(10, 10), "b-lighting", org)
        move(p2, ("acknowledged", at(10, 10, 20)), ("resolved", at(12, 16)))
        p3 = make("Replace a ceiling tile", "P3", at(14, 9), "b-lighting", org)
        move(p3, ("acknowledged", at(14, 10)), ("resolved", at(15, 11)))
        now = dt.datetime.now(dt.UTC)
        overdue = make("Leak under the AHU", "P2", now - dt.timedelta(hours=2), "b-hvac", org)
        rival = auth.get_or_create_organisation(s, "Rival Facilities Ltd")
        s.flush()
        foreign = make("Rival job: pump 2 seal", "P3", now, "pump-2", rival.id)
        return Month(
            org=org,
            month=f"{first:%Y-%m}",
            late_response=p1.id,
            late_resolution=p2.id,
            overdue_now=overdue.id,
            rival_wo=foreign.id,
        )


def _scorecard(page: Page, month: str) -> None:
    expect(page.locator("#sc")).to_have_attribute("data-loaded", month)


def test_contractor_disputes_downloads_is_refused_elsewhere_and_sees_the_admins_decisions(
    context_for: Any, live_app: LiveApp, last_month: Month
) -> None:
    m = last_month
    page = context_for()
    sign_in(page, "contractor")

    # --- My work: both clocks, and what is at risk this week ---------------------------------
    page.goto("/ui/")
    risk = page.locator("#risk")
    expect(risk).to_be_visible()
    expect(risk.locator(f"li[data-id='{m.overdue_now}']")).to_be_visible()
    expect(risk.locator(f"li[data-id='{m.overdue_now}'] .clocks2 .bad")).to_contain_text(
        "Response: overdue"
    )
    expect(page.locator(f"#wos li.wo[data-id='{m.overdue_now}'] .clocks2")).to_contain_text(
        "Resolution: due in"
    )
    shot(page, "my-work-contractor")

    # --- last month's scorecard ----------------------------------------------------------------
    page.locator("nav.nav a[href='/ui/scorecard']").click()
    _scorecard(page, m.month)
    rows = page.locator("#sc-breaches tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("#sc-figures")).to_contain_text("Month before")
    expect(page.locator("#sc-prio tbody tr")).to_have_count(3)
    expect(page.locator("#sc-signoff")).to_contain_text("Not signed off yet.")

    # --- dispute the late response -------------------------------------------------------------
    row = page.locator(f"#sc-breaches tr[data-wo='{m.late_response}'][data-clock='response']")
    row.locator("button.sc-dispute").click()
    dialog = page.locator("#sc-dialog")
    expect(dialog).to_be_visible()
    dialog.locator("textarea").fill("The lift well was locked by the building security team.")
    dialog.locator("#sc-dialog-ok").click()
    expect(row.locator(".sc-outcome")).to_have_text("Open")
    expect(page.locator("#sc-disputes li.sc-item")).to_have_count(1)
    page.evaluate("document.getElementById('toast').remove()")  # not in the shots
    shot(page, "scorecard-disputed")
    shot(page, "readme", full_page=False, to=README_SHOT)

    # --- the workbook's breaches are the API's --------------------------------------------------
    with page.expect_download() as dl:
        page.locator("#sc-xlsx").click()
    book = load_workbook(io.BytesIO(Path(dl.value.path()).read_bytes()))
    sheet = list(book["Breaches"].iter_rows(values_only=True))
    header = [str(h) for h in sheet[0]]
    got = [dict(zip(header, r, strict=True)) for r in sheet[1:] if r[0] is not None]
    with live_app.api("contractor") as api:
        r = api.get(f"/api/v1/contractors/{m.org}/sla-breaches", params={"month": m.month})
        assert r.status_code == 200, r.text
        items = r.json()["items"]
    clocks = {"response": "Response", "resolution": "Resolution"}
    assert [(g["Work order"], g["Clock"], g["Priority"]) for g in got] == [
        (i["workorder_id"], clocks[i["clock"]], i["priority"]) for i in items
    ]
    assert {(i["workorder_id"], i["clock"]) for i in items} == {
        (m.late_response, "response"),
        (m.late_resolution, "resolution"),
    }
    assert [g["Dispute"] for g in got] == ["open", None]

    # --- another firm's work order and an asset without our work: 404, typed in ----------------
    resp = page.goto(f"/ui/workorders/{m.rival_wo}")
    assert resp is not None and resp.status == 404
    expect(page.locator("h1")).to_have_text("Not found")
    resp = page.goto("/ui/assets/pump-2")
    assert resp is not None and resp.status == 404
    expect(page.locator("h1")).to_have_text("Not found")
    resp = page.goto(f"/ui/scorecard?org={m.org + 1000}")
    assert resp is not None and resp.status == 404

    # --- the admin rejects the dispute, records a complaint, signs the month off ----------------
    office = context_for(DESKTOP)
    sign_in(office, "admin")
    office.goto(f"/ui/scorecard?org={m.org}&month={m.month}")
    _scorecard(office, m.month)
    expect(office.locator("#sc-signoff-btn")).to_have_count(0)  # a dispute is open
    item = office.locator("#sc-disputes li.sc-item")
    item.locator("button.sc-reject").click()
    office.locator("#sc-dialog textarea").fill("The security log shows the lift well was open.")
    office.locator("#sc-dialog-ok").click()
    expect(item.locator(".sc-outcome")).to_have_text("Rejected")
    office.locator("#sc-complaint-add summary").click()
    form = office.locator("#sc-complaint-form")
    form.locator("textarea[name=text]").fill("Ceiling tile left broken in the corridor")
    form.locator("input[name=made_on]").fill(f"{m.month}-20")
    form.locator("button[type=submit]").click()
    expect(office.locator("#sc-complaints li.sc-item")).to_have_count(1)
    office.locator("#sc-signoff-btn").click()
    office.locator("#sc-dialog-ok").click()
    expect(office.locator("#sc-signoff")).to_contain_text("Signed off by admin")
    shot(office, "scorecard-admin-signed")

    # --- the contractor sees both -----------------------------------------------------------------
    page.goto(f"/ui/scorecard?month={m.month}")
    _scorecard(page, m.month)
    expect(page.locator("#sc-signoff")).to_contain_text("Signed off by admin")
    dispute = page.locator("#sc-disputes li.sc-item")
    expect(dispute.locator(".sc-outcome")).to_have_text("Rejected")
    expect(dispute).to_contain_text("The security log shows the lift well was open.")
    expect(page.locator("#sc-complaints")).to_contain_text("Ceiling tile left broken")
    expect(page.locator("#sc-breaches button.sc-dispute")).to_have_count(1)  # the other one
    shot(page, "scorecard-contractor-signed")
    page.set_viewport_size(PORTRAIT)
    shot(page, "scorecard-contractor-signed")


def test_the_scorecard_in_chinese_on_a_tablet_and_a_desktop(
    context_for: Any, last_month: Month
) -> None:
    m = last_month
    for size in (LANDSCAPE, PORTRAIT, DESKTOP):
        page = context_for(size, "zh-CN")
        sign_in(page, "contractor", lang="zh-CN")
        page.goto(f"/ui/scorecard?month={m.month}")
        _scorecard(page, m.month)
        expect(page.locator("h1")).to_contain_text("月度考核")
        expect(page.locator("#sc-breaches button.sc-dispute").first).to_have_text("申诉")
        shot(page, "scorecard-zh")
        page.goto("/ui/")
        expect(page.locator("#risk h2")).to_contain_text("本周有风险")
        shot(page, "my-work-contractor-zh")


def test_an_occupant_complains_about_a_repair_from_the_assets_qr_page(
    context_for: Any, live_app: LiveApp, last_month: Month
) -> None:
    page = context_for({"width": 412, "height": 915})
    page.goto("/r/b-lighting")
    page.locator("textarea[name=description]").fill("The corridor lights went out again.")
    page.locator("input[name=complaint]").check()
    shot(page, "occupant-complaint")
    page.locator("button.rsend").click()
    expect(page.locator("body")).to_contain_text("#")
    with live_app.api("contractor") as api:
        r = api.get(f"/api/v1/contractors/{last_month.org}/complaints")
        assert r.status_code == 200, r.text
        (c,) = r.json()["items"]
        assert c["text"] == "The corridor lights went out again." and c["recorded_by"] == "occupant"
