"""Screenshots of the tablet UI for the README: docs/screenshot-workorders.png (English) and
docs/screenshot-workorders-zh.png (Simplified Chinese), both 1280x800.

Runs the real app in-process over a throw-away SQLite data directory, seeds realistic work orders
through the work-order service, signs in as the demo technician in Debian's Chromium and shoots.

    .venv/bin/python scripts/screenshot.py [--out-dir docs]

Needs /usr/bin/chromium, and fonts-noto-cjk for the Chinese page (else the glyphs are boxes).
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

# The browser tests' helper for serving the app lives under tests/; run from anywhere.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from config.settings import Settings
from config.site import SITES_DIR
from core.auth.models import Role
from core.db import Database
from plantroom.app import create_app, prepare_database
from plantroom.demo import ensure_demo_users
from plantroom.site import load_site
from tests.e2e.live import serving
from workorders import intake
from workorders.orders import repository, service
from workorders.orders.models import Origin, Priority

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
VIEWPORT = {"width": 1280, "height": 800}
SHOTS = {"en": "screenshot-workorders.png", "zh-CN": "screenshot-workorders-zh.png"}
RULES = {
    "pump-overcurrent": "motor_current > 26 for 20s",
    "lift-out-of-service": "in_service < 1 for 1m",
    "supply-voltage-low": "voltage_l1 < 207 for 1m",
}


def seed(db: Database) -> None:
    """The work a technician might face on a weekday morning, opened as the alert engine would."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)

    def fire(asset: str, rule: str, title: str, prio: Priority, reading: str, ago: int) -> int:
        # reading: "<device> <point> <value> <unit>"; the rule text is what rule.describe() gives.
        device, point, value, unit = [*reading.split(), ""][:4]
        at = now - dt.timedelta(minutes=ago)
        trigger = {
            "point": point,
            "value": float(value),
            "unit": unit,
            "device": device,
            "ts": at.isoformat(),
            "rule": RULES[rule],
        }
        with db.session() as s:
            wo, _ = intake.open_from_alert(
                s, asset_id=asset, rule_id=rule, title=title, priority=prio, trigger=trigger, at=at
            )
            return wo.id

    pump_title = "Pump motor over-current: Domestic water booster pump 1"
    voltage = fire(
        "a-main",
        "supply-voltage-low",
        "Supply voltage low (L1): Building A main meter",
        Priority.P2,
        "a-main-meter voltage_l1 201.4 V",
        48,
    )
    # The pump alert fires, then fires twice more before anyone gets there.
    for amps, ago in (("28.7", 21), ("29.3", 14), ("30.1", 6)):
        reading = f"pump-1-drive motor_current {amps} A"
        fire("pump-1", "pump-overcurrent", pump_title, Priority.P2, reading, ago)
    fire(
        "lift-b1",
        "lift-out-of-service",
        "Lift out of service: Passenger lift B1",
        Priority.P1,
        "lift-b1-ctrl in_service 0",
        3,
    )
    with db.session() as s:
        service.create(
            s,
            title="Rattling noise from booster pump 2, check the coupling",
            description="Heard on the morning walk-round.",
            priority=Priority.P3,
            asset_id="pump-2",
            origin=Origin.manual,
            actor="tech",
        )
        # Someone is already on the voltage dip.
        wo = repository.get(s, voltage)
        assert wo is not None
        service.change_status(s, wo=wo, target="acknowledged", actor="tech", role=Role.technician)


def shoot(base_url: str, out_dir: Path) -> list[Path]:
    """Sign in as the technician and take one 1280x800 screenshot per language."""
    written = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(base_url=base_url, viewport=VIEWPORT, locale="en-GB")
            page = context.new_page()
            page.goto("/ui/login")
            page.locator("input[name=username]").fill("tech")
            page.locator("input[name=password]").fill("tech-demo")
            page.locator("form.login button").click()
            page.wait_for_url("**/ui/")
            for lang, name in SHOTS.items():
                page.goto(f"/ui/?lang={lang}")
                page.wait_for_load_state("networkidle")
                page.evaluate("document.fonts.ready")
                path = out_dir / name
                page.screenshot(path=path)
                written.append(path)
            context.close()
        finally:
            browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    """Write the screenshots; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=ROOT / "docs")
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} is missing: apt-get install chromium", file=sys.stderr)
        return 1
    if (
        shutil.which("fc-list")
        and not subprocess.run(
            ["fc-list", ":lang=zh", "family"], capture_output=True, text=True
        ).stdout.strip()
    ):
        print("warning: no Chinese font; apt-get install fonts-noto-cjk", file=sys.stderr)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="plantroom-shots-") as tmp:
        data_dir = Path(tmp) / "data"
        settings = Settings(data_dir=data_dir, cookie_secure=False, _env_file=None)  # type: ignore[call-arg]
        site = load_site(SITES_DIR / "demo")
        db = prepare_database(settings, site)
        try:
            ensure_demo_users(db, site, first_job=False)
            seed(db)
            with serving(create_app(settings, site=site, db=db)) as base_url:
                for path in shoot(base_url, args.out_dir):
                    print(path)
        finally:
            db.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
