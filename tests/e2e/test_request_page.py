"""The occupant report page in real Chromium: a phone and a 10-inch tablet, English and Chinese.

Screenshots go to $PLANTROOM_SHOTS when set (e.g. /tmp/shots), else to the test's tmp_path.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import segno
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from config.site import SiteConfig
from workorders.orders.models import Attachment, WorkOrder

if TYPE_CHECKING:
    from tests.e2e.conftest import LiveApp

pytestmark = pytest.mark.browser

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PHONE = {"width": 390, "height": 844}
TABLET = {"width": 1280, "height": 800}


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where screenshots are saved."""
    where = Path(os.environ.get("PLANTROOM_SHOTS") or tmp_path)
    where.mkdir(parents=True, exist_ok=True)
    return where


def _context_page(
    browser: Browser, live_app: LiveApp, viewport: dict[str, int], locale: str, mobile: bool
) -> Iterator[Page]:
    context = browser.new_context(
        base_url=live_app.base_url,
        viewport=viewport,  # type: ignore[arg-type]
        locale=locale,
        is_mobile=mobile,
        has_touch=mobile,
    )
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def phone(browser: Browser, live_app: LiveApp) -> Iterator[Page]:
    """A phone-sized browser with no cookies, English."""
    yield from _context_page(browser, live_app, PHONE, "en-GB", mobile=True)


@pytest.fixture
def tablet_zh(browser: Browser, live_app: LiveApp) -> Iterator[Page]:
    """A 10-inch tablet whose browser asks for Simplified Chinese."""
    yield from _context_page(browser, live_app, TABLET, "zh-CN", mobile=False)


def _photo(tmp_path: Path) -> Path:
    path = tmp_path / "leak.png"
    buf = io.BytesIO()
    segno.make_qr("a photo of the leak").save(buf, kind="png", scale=6)
    path.write_bytes(buf.getvalue())
    return path


def _watch_origins(page: Page, base_url: str) -> list[str]:
    """Collect every request the page makes to anywhere but the app."""
    foreign: list[str] = []
    page.on(
        "request", lambda req: None if req.url.startswith(base_url) else foreign.append(req.url)
    )
    return foreign


def _fits_width(page: Page) -> bool:
    return bool(
        page.evaluate(
            "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )
    )


def _shot(page: Page, path: Path) -> None:
    page.screenshot(path=path, full_page=True)
    assert path.read_bytes().startswith(PNG_MAGIC)


def test_an_occupant_reports_a_leak_with_a_photo_from_a_phone(
    phone: Page, live_app: LiveApp, demo_site: SiteConfig, tmp_path: Path, shots: Path
) -> None:
    foreign = _watch_origins(phone, live_app.base_url)
    ref = demo_site.asset("pump-1")
    phone.goto("/r/pump-1")
    expect(phone.get_by_role("heading", name="Report a problem")).to_be_visible()
    expect(phone.locator(".rasset-name")).to_have_text(ref.asset.name)
    expect(phone.locator(".rasset-loc")).to_have_text(ref.location)
    assert _fits_width(phone), "no sideways scrolling on a phone"
    send = phone.get_by_role("button", name="Send report")
    assert (send.bounding_box() or {}).get("height", 0) >= 48, "a thumb-sized button"
    _shot(phone, shots / "request-form-en.png")

    send.click()  # nothing typed: the browser's own required check keeps the form here
    expect(phone).to_have_url(re.compile(r"/r/pump-1$"))
    phone.get_by_label("What is wrong?").fill("Water is dripping from the pump seal.")
    phone.get_by_label("Photo (optional)").set_input_files(str(_photo(tmp_path)))
    phone.get_by_label("Your contact (optional)").fill("Wang Fang, 138 0000 1234")
    send.click()

    expect(phone.get_by_role("heading", name="Thank you")).to_be_visible()
    number = phone.locator(".rref").inner_text()
    assert re.fullmatch(r"#\d+", number), number
    assert _fits_width(phone)
    _shot(phone, shots / "request-thanks-en.png")
    assert foreign == []

    with live_app.db.session() as s:
        wo = s.get(WorkOrder, int(number[1:]))
        assert wo is not None
        assert (wo.type, wo.origin, wo.priority) == ("request", "request", "P3")
        assert wo.reporter_contact == "Wang Fang, 138 0000 1234"
        photos = list(s.scalars(select(Attachment).where(Attachment.workorder_id == wo.id)))
        assert [p.content_type for p in photos] == ["image/png"]


def test_a_chinese_tablet_gets_the_page_and_the_thank_you_in_chinese(
    tablet_zh: Page, live_app: LiveApp, shots: Path
) -> None:
    foreign = _watch_origins(tablet_zh, live_app.base_url)
    tablet_zh.goto("/r/lift-b1")
    expect(tablet_zh.get_by_role("heading", name="报告设备问题")).to_be_visible()
    expect(tablet_zh.locator("html")).to_have_attribute("lang", "zh-CN")
    assert _fits_width(tablet_zh)
    card = tablet_zh.locator(".rcard").bounding_box() or {}
    assert card.get("width", 0) <= 700, "a readable column on a wide screen"
    _shot(tablet_zh, shots / "request-form-zh-CN.png")

    tablet_zh.get_by_label("出了什么问题？").fill("电梯门关不上，有异响。")
    tablet_zh.get_by_role("button", name="提交报修").click()
    expect(tablet_zh.get_by_role("heading", name="感谢您的反馈")).to_be_visible()
    expect(tablet_zh.locator(".rref")).to_have_text(re.compile(r"^#\d+$"))
    _shot(tablet_zh, shots / "request-thanks-zh-CN.png")
    assert foreign == []


def test_the_language_link_switches_to_english_and_back(tablet_zh: Page) -> None:
    tablet_zh.goto("/r/pump-1")
    tablet_zh.get_by_role("link", name="English").click()
    expect(tablet_zh.get_by_role("heading", name="Report a problem")).to_be_visible()
    tablet_zh.get_by_role("link", name="中文").click()
    expect(tablet_zh.get_by_role("heading", name="报告设备问题")).to_be_visible()


def test_an_unknown_code_shows_a_friendly_404_page(phone: Page, shots: Path) -> None:
    r = phone.goto("/r/no-such-asset")
    assert r is not None and r.status == 404
    expect(phone.get_by_role("heading", name="This code is not in use")).to_be_visible()
    _shot(phone, shots / "request-404-en.png")
