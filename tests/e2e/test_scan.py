"""Scanning an asset's QR code with the tablet's camera opens the asset's page (issue 14, item 6).

Chromium's fake camera plays a Y4M video made here from the asset's label: the QR code of the
address /assets/{id}/qr.svg encodes (the occupant page, /r/{id}). The decoder is the app's own
(static/vendor), run by static/js/scan.js.

Screenshots of each step go to $PLANTROOM_SHOTS/scan (else the test's tmp_path).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import segno
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, VIEWPORT
from tests.e2e.test_tablet_ui import sign_in

if TYPE_CHECKING:
    from tests.e2e.conftest import LiveApp

pytestmark = pytest.mark.browser

WIDTH, HEIGHT = 640, 480
#: Frames per code at 10 frames a second: each shows for 2 s.
FRAMES = 20


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where this test's screenshots go."""
    root = (
        Path(os.environ["PLANTROOM_SHOTS"]) / "scan"
        if "PLANTROOM_SHOTS" in os.environ
        else tmp_path
    )
    root.mkdir(parents=True, exist_ok=True)
    return root


def y4m_of_qr(codes: list[str], path: Path, *, scale: int = 8) -> Path:
    """A Y4M video (raw YUV 4:2:0, full range) showing each text's QR code in turn, black on
    white, for FRAMES frames each, in the middle of a grey frame: what a tablet's camera held up
    to labels sees. Chromium's fake camera plays it in a loop."""
    frames = []
    for text in codes:
        matrix = [list(row) for row in segno.make_qr(text, error="m").matrix]
        size = (len(matrix) + 8) * scale  # with the 4-module quiet zone
        left, top = (WIDTH - size) // 2, (HEIGHT - size) // 2
        luma = bytearray([150]) * (WIDTH * HEIGHT)
        for y in range(size):
            row = bytearray()
            for x in range(size):
                my, mx = y // scale - 4, x // scale - 4
                dark = 0 <= my < len(matrix) and 0 <= mx < len(matrix) and matrix[my][mx]
                row.append(0 if dark else 255)
            start = (top + y) * WIDTH + left
            luma[start : start + size] = row
        chroma = bytes([128]) * ((WIDTH // 2) * (HEIGHT // 2))
        frames.append((b"FRAME\n" + bytes(luma) + chroma + chroma) * FRAMES)
    header = f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode()
    path.write_bytes(header + b"".join(frames))
    return path


@pytest.fixture
def camera_page(browser: Browser, live_app: LiveApp, tmp_path: Path) -> Iterator[Page]:
    """A second Chromium whose camera shows pump-1's QR label."""
    # First a code that is no asset label (a web address), then pump-1's label.
    codes = ["https://example.org/manual.pdf", f"{live_app.base_url}/r/pump-1"]
    video = y4m_of_qr(codes, tmp_path / "labels.y4m")
    args = [
        *CHROMIUM_ARGS,
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
    chromium = browser.browser_type.launch(executable_path=str(CHROMIUM), args=args)
    try:
        context = chromium.new_context(
            base_url=live_app.base_url,
            viewport={"width": VIEWPORT["width"], "height": VIEWPORT["height"]},
            locale="en-GB",
        )
        context.set_default_timeout(10_000)
        yield context.new_page()
    finally:
        chromium.close()


def test_the_camera_reads_an_asset_label_and_opens_the_assets_page(
    camera_page: Page, shots: Path
) -> None:
    page = camera_page
    sign_in(page, "tech")
    expect(page).to_have_url(re.compile(r"/ui/(\?.*)?$"))
    page.get_by_role("link", name="Scan").click()
    status = page.locator("#scan-status")
    expect(status).to_have_text(
        "That code is not an asset label: https://example.org/manual.pdf", timeout=20_000
    )
    page.screenshot(path=shots / "01-scan-not-an-asset-label.png")
    found = page.evaluate((Path(__file__).parent / "ergonomics.js").read_text())
    assert (found["small"], found["tiny"], found["faint"]) == ([], [], []), found
    expect(page).to_have_url(re.compile(r"/ui/assets/pump-1$"), timeout=20_000)
    expect(page.get_by_text("Domestic water booster pump 1").first).to_be_visible()
    page.screenshot(path=shots / "02-asset-page.png", full_page=True)


def test_without_a_camera_the_asset_id_can_be_typed(
    page: Page, live_app: LiveApp, shots: Path
) -> None:
    sign_in(page, "tech")
    page.goto("/ui/scan")
    status = page.locator("#scan-status")
    expect(status).to_contain_text("Type the asset id below")
    expect(status).to_have_class(re.compile("error"))
    expect(page.locator("#scan-view")).to_be_hidden()
    page.screenshot(path=shots / "03-no-camera.png")
    found = page.evaluate((Path(__file__).parent / "ergonomics.js").read_text())
    assert found["width"] <= VIEWPORT["width"]
    assert (found["small"], found["tiny"], found["faint"]) == ([], [], []), found
    page.get_by_label("Or type the asset id").fill("pump-1")
    page.get_by_role("button", name="Open the asset").click()
    expect(page).to_have_url(re.compile(r"/ui/assets/pump-1$"))
    # A pasted label address works too.
    page.goto("/ui/scan")
    page.get_by_label("Or type the asset id").fill(f"{live_app.base_url}/r/lift-b1")
    page.get_by_role("button", name="Open the asset").click()
    expect(page).to_have_url(re.compile(r"/ui/assets/lift-b1$"))
