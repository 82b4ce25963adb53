"""Screenshots of the tablet UI for the README, all 1280x800:

- docs/screenshot-workorders.png and docs/screenshot-workorders-zh.png: "my work";
- docs/screenshot-workorder.png and docs/screenshot-workorder-zh.png: a work order raised by an
  alert, with its chart, checklist, labor and parts.

Runs the real app in-process over a throw-away data directory, raises an alert through the real
alert engine with an hour of readings for its chart, seeds other work through the work-order
service and the API, signs in as the demo technician in Debian's Chromium and shoots.

    .venv/bin/python scripts/screenshot.py [--out-dir docs]

Needs /usr/bin/chromium, and fonts-noto-cjk for the Chinese pages (else the glyphs are boxes).
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
from playwright.sync_api import Page, ViewportSize, sync_playwright

# The browser tests' helper for serving the app lives under tests/; run from anywhere.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select

from collectors.readings import Quality, Reading
from collectors.sinks.embedded import EmbeddedStore
from config.settings import Settings
from config.site import SITES_DIR
from core.auth.models import User
from core.db import Database
from plantroom.app import create_app, prepare_database
from plantroom.demo import Login, ensure_demo_users
from plantroom.site import Site, load_site
from plantroom.wiring import alert_engine
from tests.e2e.live import serving
from workorders import intake
from workorders.orders import service
from workorders.orders.models import Origin, Priority, WorkOrder

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
LIST_SHOTS = {"en": "screenshot-workorders.png", "zh-CN": "screenshot-workorders-zh.png"}
PAGE_SHOTS = {"en": "screenshot-workorder.png", "zh-CN": "screenshot-workorder-zh.png"}


def readings(data_dir: Path, now: dt.datetime) -> None:
    """An hour and a quarter of pump 1's motor current, every 15 s: steady, then over 26 A."""
    store = EmbeddedStore(data_dir / "readings.sqlite")
    try:
        rows = []
        for i in range(300):
            t = now - dt.timedelta(seconds=15 * (300 - i))
            amps = 22.5 + 1.2 * math.sin(i / 9) + (7.0 if i > 262 else 0.0)
            rows.append(
                Reading(
                    t.timestamp(),
                    "pump-1",
                    "pump-1-drive",
                    "motor_current",
                    round(amps, 2),
                    "A",
                    Quality.good,
                )
            )
        store.write(rows)
    finally:
        store.close()


def seed(db: Database, site: Site, data_dir: Path, now: dt.datetime) -> int:
    """The work a technician might face on a weekday morning; returns the pump's work order."""
    readings(data_dir, now)
    rules = [r for r in site.doc.rules if r.id == "pump-overcurrent"]
    engine = alert_engine(site, db, rules)  # assigned to tech by the demo's default for pumps
    engine.process(
        [
            Reading(
                (now - dt.timedelta(seconds=s)).timestamp(),
                "pump-1",
                "pump-1-drive",
                "motor_current",
                29.8,
                "A",
                Quality.good,
            )
            for s in (570, 540, 510)
        ]
    )
    with db.session() as s:
        pump = s.scalars(select(WorkOrder.id).where(WorkOrder.rule_id == "pump-overcurrent")).one()

        def trigger(
            point: str, value: float, unit: str, device: str, ago: int
        ) -> dict[str, object]:
            ts = (now - dt.timedelta(minutes=ago)).isoformat()
            return {"point": point, "value": value, "unit": unit, "device": device, "ts": ts}

        intake.open_from_alert(
            s,
            asset_id="lift-b1",
            rule_id="lift-out-of-service",
            title="Lift out of service: Passenger lift B1",
            priority=Priority.P1,
            trigger=trigger("in_service", 0, "", "lift-b1-ctrl", 3),
            at=now - dt.timedelta(minutes=3),
            site=site,
        )
        intake.open_from_alert(
            s,
            asset_id="b-main",
            rule_id="supply-voltage-low",
            title="Supply voltage low (L1): Building B main meter",
            priority=Priority.P2,
            trigger=trigger("voltage_l1", 201.4, "V", "b-main-meter", 48),
            at=now - dt.timedelta(minutes=48),
            site=site,
        )
        service.report(
            s,
            site=site,
            title="Occupant report: Water dripping from the ceiling by the stairs",
            description="Water dripping from the ceiling by the stairs, 2F east.",
            asset_id="b-lighting",
            reporter_contact="Zhang Min, 138 0000 1234",
            actor="occupant",
        )
        tech = s.scalars(select(User.id).where(User.username == "tech")).one()
        for title, asset, prio, type_, ago, checklist in (
            ("Rattling noise from booster pump 2, check the coupling", "pump-2", Priority.P3,
             "corrective", 95, ["Check coupling alignment", "Check bolts", "Listen at full speed"]),
            ("Quarterly check: Building A HVAC meter", "a-hvac", Priority.P4, "preventive", 300,
             ["Read the register", "Check the CT clamps"]),
            ("Corridor lights flickering, A 3F east", "a-lighting", Priority.P2,
             "corrective", 20, []),
        ):  # fmt: skip
            service.create(
                s,
                title=title,
                priority=prio,
                asset_id=asset,
                origin=Origin.manual,
                type_=type_,
                actor="admin",
                assignee_id=tech,
                checklist=checklist or None,
                sla_policy=service.sla_terms(
                    s, site, priority=prio, contractor_id=None, type_=type_
                ),
                at=now - dt.timedelta(minutes=ago),
                now=now,
            )
    return int(pump)


def work_on(base_url: str, logins: dict[str, Login], wo_id: int) -> None:
    """The technician has been at the pump for a while: through the API, as the tablet would."""
    token = logins["tech"].token
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}) as api:
        url = f"/api/v1/workorders/{wo_id}"
        admin = {"Authorization": f"Bearer {logins['admin'].token}"}
        checks = [
            "Isolate and lock off the pump",
            "Check bearing temperature",
            "Measure motor current",
        ]
        api.patch(url, json={"checklist": checks}, headers=admin).raise_for_status()
        for body in ({"status": "acknowledged"}, {"status": "in_progress"}):
            api.post(f"{url}/status", json=body).raise_for_status()
        api.post(f"{url}/checklist/0", json={"done": True, "result": "Locked off, tag 17"})
        api.post(f"{url}/labor", json={"hours": 0.5, "note": "Inspection"}).raise_for_status()
        part = {
            "part": "Bearing 6205-2RS",
            "part_number": "SKF-6205",
            "quantity": 2,
            "unit_cost": 38,
        }
        api.post(f"{url}/parts", json=part).raise_for_status()
        api.post(f"{url}/comments", json={"text": "Drive-end bearing running hot, 78 °C."})


def settle(page: Page) -> None:
    """Wait for the page's data and fonts."""
    page.wait_for_load_state("networkidle")
    page.evaluate("document.fonts.ready")


def shoot(base_url: str, out_dir: Path, wo_id: int) -> list[Path]:
    """Sign in as the technician; shoot my work and the pump's work order in both languages."""
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
            for lang in ("en", "zh-CN"):
                page.goto(f"/ui/?lang={lang}")
                page.locator("#wos li.wo").first.wait_for()
                settle(page)
                written.append(out_dir / LIST_SHOTS[lang])
                page.screenshot(path=written[-1])
                page.goto(f"/ui/workorders/{wo_id}")
                page.locator("#chart path.ch-line").wait_for()
                settle(page)
                written.append(out_dir / PAGE_SHOTS[lang])
                page.screenshot(path=written[-1])
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
            logins = {lg.username: lg for lg in ensure_demo_users(db, site, first_job=False)}
            now = dt.datetime.now(dt.UTC).replace(microsecond=0)
            pump = seed(db, site, data_dir, now)
            with serving(create_app(settings, site=site, db=db)) as base_url:
                work_on(base_url, logins, pump)
                for path in shoot(base_url, args.out_dir, pump):
                    print(path)
        finally:
            db.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
