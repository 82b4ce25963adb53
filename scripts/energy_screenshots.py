"""The README's energy screenshots, from the real demo: docs/screenshots/energy.png (the year's
indicators) and docs/screenshots/energy-baseline.png (Building A's baseline and its retrofit's
savings), 1280x800, in English.

Starts `plantroom demo` over a throw-away data directory (its first start writes the simulated
past the screens show), signs in as the demo engineer in Debian's Chromium and shoots.

    .venv/bin/python scripts/energy_screenshots.py [--out-dir docs/screenshots]
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
SHOTS = {"energy.png": "/ui/energy", "energy-baseline.png": "/ui/energy/baselines/a-main"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> int:
    """Start the demo, shoot each page, stop the demo."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out-dir", default=str(ROOT / "docs" / "screenshots"))
    args = ap.parse_args()
    out = Path(args.out_dir)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as data:
        cmd = [sys.executable, "-m", "plantroom.cli", "demo", "--port", str(port)]
        cmd += ["--data-dir", data, "--sim-port-offset", "900"]
        demo = subprocess.Popen(cmd, cwd=ROOT)
        try:
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{base}/ui/login", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(1)
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path="/usr/bin/chromium",
                    args=["--headless", "--no-sandbox", "--disable-gpu",
                          "--disable-background-networking"],
                )  # fmt: skip
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.goto(f"{base}/ui/login?lang=en")
                page.fill("input[name=username]", "engineer")
                page.fill("input[name=password]", "engineer-demo")
                page.click("form button.primary")
                page.wait_for_load_state("networkidle")
                for name, path in SHOTS.items():
                    page.goto(base + path)
                    page.wait_for_load_state("networkidle")
                    page.screenshot(path=str(out / name))
                    print("wrote", out / name)
                browser.close()
        finally:
            demo.terminate()
            demo.wait(timeout=30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
