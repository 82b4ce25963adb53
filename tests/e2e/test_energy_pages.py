"""The engineer's energy screens in real Chromium against the real app (issue 16): the meter
tree with a parent's remainder and the day a sub-meter went silent marked, an invoice typed in
and a file of invoices imported (a bad file refused with its rows named), a meter swap recorded,
the year's indicators as the API answers them, and a retrofit's savings against a baseline that
meets Guideline 14; every page at tablet and desktop sizes in English and Chinese, nothing wider
than the screen.

The readings are written straight into the embedded store as a collector would have: hourly
counters of Building A's main meter and its four sub-meters, and the outdoor temperature, for
the 420 days before now, and from a year before the retrofit at least (hand-made, so the
remainder and the saving are known):
- the sub-meters use per day: lighting 240 kWh on workdays and 96 kWh on days off, 30 % less
  from the retrofit's date (2026-06-01); HVAC 100 + 10 per cooling degree-day (18 °C) + 8 per
  heating degree-day (14 °C); power 120; special 60;
- the main meter counts 1.07 times their sum, so its remainder is 0.07/1.07 = 6.54 %;
- the special meter has no reading at all on SILENT_DAY.

Screenshots go to $PLANTROOM_SHOTS (default /tmp/shots16/energy).
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from collectors import health
from collectors.readings import Quality, Reading
from collectors.sinks.embedded import FILE_NAME, EmbeddedStore
from config.settings import Settings
from config.site import SiteConfig
from tests.e2e.conftest import DESKTOP, LANDSCAPE, PORTRAIT, ContextFor
from tests.e2e.conftest import sign_in_demo as sign_in

if TYPE_CHECKING:
    from tests.e2e.conftest import LiveApp

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("PLANTROOM_SHOTS", "/tmp/shots16/energy"))
ERGONOMICS = (Path(__file__).parent / "ergonomics.js").read_text()
TZ = ZoneInfo("Asia/Shanghai")
RETROFIT = dt.date(2026, 6, 1)
DAYS = 420
#: Ten days back: the special sub-meter sends nothing all that day.
SILENT_DAY = dt.datetime.now(TZ).date() - dt.timedelta(days=10)


def temperature(day: dt.date) -> float:
    """A Shanghai-like year: about 5 °C in late January, 29 °C in late July."""
    return 17.0 - 12.0 * math.cos(2 * math.pi * (day.timetuple().tm_yday - 20) / 365)


def daily_use(day: dt.date) -> dict[str, float]:
    """kWh each sub-meter of Building A uses on a day (the module docstring)."""
    t = temperature(day)
    workday = day.weekday() < 5
    lighting = (240.0 if workday else 96.0) * (0.7 if day >= RETROFIT else 1.0)
    hvac = 100.0 + 10.0 * max(t - 18.0, 0.0) + 8.0 * max(14.0 - t, 0.0)
    return {"a-lighting": lighting, "a-hvac": hvac, "a-power": 120.0, "a-special": 60.0}


def _write_history(settings: Settings, site: SiteConfig, now: dt.datetime) -> None:
    """Hourly counter readings and temperatures up to now (the module docstring)."""
    points = health.point_intervals(site)
    temp = site.doc.energy.outdoor_temperature
    meters = ["a-lighting", "a-hvac", "a-power", "a-special", "a-main"]
    device = {m: points[(m, "import_energy")][0] for m in meters}
    counters = dict.fromkeys(meters, 1000.0)
    # From a year before the retrofit at the latest: its baseline is the 365 days before it.
    first = min(
        (now.astimezone(TZ) - dt.timedelta(days=DAYS)).replace(
            hour=0, minute=0, second=0, microsecond=0
        ),
        dt.datetime.combine(RETROFIT - dt.timedelta(days=366), dt.time(), TZ),
    )
    rows: list[Reading] = []
    t = first
    while t <= now:
        day = t.date()
        use = daily_use(day)
        use["a-main"] = 1.07 * sum(use.values())
        for m in meters:
            if not (m == "a-special" and day == SILENT_DAY):
                rows.append(Reading(t.timestamp(), m, device[m], "import_energy",
                                    counters[m], "kWh", Quality.good))  # fmt: skip
            counters[m] += use[m] / 24
        if temp is not None:
            rows.append(Reading(t.timestamp(), temp.asset, points[(temp.asset, temp.point)][0],
                                temp.point, temperature(day), "°C", Quality.good))  # fmt: skip
        t += dt.timedelta(hours=1)
    store = EmbeddedStore(settings.data_dir / FILE_NAME)
    store.write(rows)
    store.close()


@pytest.fixture
def history(live_app: LiveApp, settings: Settings, demo_site: SiteConfig) -> None:
    """Building A's meters and the weather since a year before the retrofit, in the store."""
    _write_history(settings, demo_site, dt.datetime.now(dt.UTC).replace(microsecond=0))


def shot(page: Page, name: str) -> Path:
    """A PNG of this step, named by step and viewport."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size or LANDSCAPE
    path = SHOTS / f"{name}-{size['width']}x{size['height']}.png"
    page.evaluate("document.fonts.ready")
    page.screenshot(path=path, full_page=True)
    return path


def loaded(page: Page) -> None:
    """Wait until the page's script has drawn what the API answered."""
    page.wait_for_function(
        "() => !!document.body && document.body.dataset.loaded === '1'", timeout=60_000
    )


def test_engineer_reads_a_parents_remainder_and_sees_the_silent_day_marked(
    context_for: ContextFor, live_app: LiveApp, history: None
) -> None:
    page = context_for()
    sign_in(page, "engineer")
    page.locator("nav.nav a[href='/ui/energy']").click()
    expect(page).to_have_url(re.compile(r"/ui/energy$"))
    loaded(page)
    page.locator(".en-tabs a[href='/ui/energy/meters']").click()
    expect(page).to_have_url(re.compile(r"/ui/energy/meters$"))
    month = SILENT_DAY.strftime("%Y-%m")
    page.goto(f"/ui/energy/meters?month={month}&meter=a-main")
    loaded(page)
    node = page.locator("button.en-node[data-meter='a-main']")
    expect(node).to_have_attribute("aria-pressed", "true")
    # 0.07 / 1.07 of the main meter is no sub-meter's.
    expect(node.locator(".en-rem")).to_have_text("remainder 6.5 %")
    expect(page.locator("#bal-figs .en-fig-rem .en-fig-n")).to_contain_text("kWh")
    # Every day of the month so far has a bar; the silent day is marked, not drawn as 0.
    first = dt.date.fromisoformat(month + "-01")
    today = dt.datetime.now(TZ).date()
    last = min(today, (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1))
    bars = page.locator("#bal-chart g.ch-bar")
    expect(bars).to_have_count((last - first).days + 1)
    silent = bars.nth((SILENT_DAY - first).days)
    expect(silent).to_have_class(re.compile(r"\b(unknown|estimated)\b"))
    expect(page.locator("#bal-children tr[data-meter='a-special']")).to_have_count(1)
    shot(page, "01-meters")

    # A sub-meter's row leads to its baseline.
    page.locator("#bal-children tr[data-meter='a-lighting'] a").click()
    expect(page).to_have_url(re.compile(r"/ui/energy/baselines/a-lighting"))


def test_engineer_types_in_an_invoice_imports_a_file_and_records_a_meter_swap(
    context_for: ContextFor, live_app: LiveApp, tmp_path: Path
) -> None:
    page = context_for()
    sign_in(page, "engineer")
    page.goto("/ui/energy/meters")
    loaded(page)
    page.locator("#off-meter").select_option("gas-canteen")
    form = page.locator("#entry-form")
    expect(form.locator("#entry-quantity")).to_be_visible()
    form.locator("input[name=from]").fill("2026-10-01")
    form.locator("input[name=to]").fill("2026-11-01")
    form.locator("input[name=amount]").fill("1234.5")
    form.locator("input[name=note]").fill("Invoice 2026-10 Shanghai Gas")
    form.locator("#entry-save").click()
    row = page.locator("#entries tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("2026-10-01 – 2026-10-31")
    expect(row).to_contain_text("1,234.5 m³")
    with live_app.api("engineer") as api:
        (item,) = api.get("/api/v1/analytics/offline/gas-canteen/entries").json()["items"]
    assert (item["value"], item["source"], item["recorded_by"]) == (1234.5, "manual", "engineer")

    bad = tmp_path / "invoices.csv"
    bad.write_text(
        "meter,from,to,amount,unit,note\n"
        "gas-canteen,2026-09-01,2026-10-01,980,m3,September\n"
        "gas-canteen,2026-11-01,2026-12-01,-5,m3,negative\n"
        "no-such-meter,2026-11-01,2026-12-01,10,m3,\n"
    )
    page.locator("#import-file").set_input_files(str(bad))
    page.locator("#import-check").click()
    result = page.locator("#import-result")
    expect(result).to_have_class(re.compile("failed"))
    errors = page.locator("#import-errors li")
    expect(errors).to_have_count(2)
    expect(errors.nth(0)).to_contain_text("row 3")
    expect(errors.nth(1)).to_contain_text("row 4")
    shot(page, "02-import-refused")

    good = tmp_path / "invoices-fixed.csv"
    good.write_text(
        "meter,from,to,amount,unit,note\n"
        "gas-canteen,2026-09-01,2026-10-01,980,m3,September\n"
        "diesel-genset,2026-07-01,2026-10-01,400,L,Q3 delivery\n"
    )
    page.locator("#import-file").set_input_files(str(good))
    page.locator("#import-check").click()
    expect(page.locator("#import-summary")).to_have_text(
        "Every row is right: 2 rows would be imported."
    )
    page.locator("#import-go").click()
    expect(page.locator("#import-summary")).to_have_text("Imported 2 rows.")
    expect(page.locator("#entries tbody tr")).to_have_count(2)

    # A meter swapped: its replacement is recorded and listed.
    page.locator("#repl-meter").select_option("a-power")
    repl = page.locator("#repl-form")
    repl.locator("input[name=at]").fill("2026-11-20T10:30")
    repl.locator("input[name=old_final]").fill("52310.4")
    repl.locator("input[name=new_initial]").fill("0")
    repl.locator("input[name=note]").fill("Meter failed; replaced by the same model")
    repl.locator("#repl-save").click()
    swap = page.locator("#repl-list tbody tr")
    expect(swap).to_have_count(1)
    expect(swap).to_contain_text("2026-11-20 10:30")
    expect(swap).to_contain_text("52,310.4 kWh")
    with live_app.api("engineer") as api:
        (r,) = api.get("/api/v1/analytics/meters/a-power/replacements").json()["items"]
    assert (r["old_final"], r["new_initial"]) == (52310.4, 0.0)
    assert dt.datetime.fromisoformat(r["at"]) == dt.datetime(2026, 11, 20, 10, 30, tzinfo=TZ)

    # A typed-in entry goes again with its delete button.
    page.once("dialog", lambda d: d.accept())
    page.locator("#entries tbody tr").first.locator("button").click()
    expect(page.locator("#entries tbody tr")).to_have_count(1)


def test_the_years_indicators_are_what_the_api_answers(
    context_for: ContextFor, live_app: LiveApp, history: None
) -> None:
    year = dt.datetime.now(TZ).year
    with live_app.api("engineer") as api:
        r = api.get("/api/v1/analytics/energy", params={"year": year})
    assert r.status_code == 200, r.text
    stats = r.json()
    page = context_for()
    sign_in(page, "engineer")
    page.goto("/ui/energy")
    loaded(page)
    tce = stats["energy"]["tce"]
    expect(page.locator("[data-figure=tce] .en-tile-n .data")).to_have_text(
        f"{tce:,.{2 if tce < 100 else 1 if tce < 1000 else 0}f}"
    )
    months = len(stats["months"])
    expect(page.locator("#monthly-chart g.ch-bar")).to_have_count(months)
    expect(page.locator("#carriers tbody tr[data-carrier='electricity']")).to_have_count(1)
    expect(page.locator("#subitems li")).to_have_count(5)
    expect(page.locator("#factors li")).to_have_count(len(stats["factors"]))
    expect(page.locator("#factors")).to_contain_text("GB/T 2589-2020")
    shot(page, "03-energy")
    # The chart's figures as a table, for the filing (a tablet has no hover).
    page.locator(".en-months summary").click()
    expect(page.locator("#months-table tbody tr")).to_have_count(months)
    jan = stats["months"][0]
    expect(page.locator("#months-table tbody tr").first.locator("td").nth(1)).to_have_text(
        f"{jan['carriers']['electricity']['amount']:,.0f}"
    )

    page.locator("#buildings a[data-building='bldg-a']").click()
    loaded(page)
    expect(page).to_have_url(re.compile(r"building=bldg-a"))
    expect(page.locator("#scope")).to_have_value("bldg-a")


def test_the_retrofits_savings_show_with_the_fit_against_guideline_14(
    context_for: ContextFor, live_app: LiveApp, history: None
) -> None:
    with live_app.api("engineer") as api:
        r = api.get("/api/v1/analytics/baselines/a-lighting", params={"retrofit": "a-led-2026"})
    assert r.status_code == 200, r.text
    b = r.json()
    page = context_for()
    sign_in(page, "engineer")
    page.goto("/ui/energy/baselines/a-lighting")
    loaded(page)
    expect(page.locator("#bl-retrofit")).to_have_value("a-led-2026")
    expect(page.locator("#fit-verdict")).to_have_text(
        "meets Guideline 14" if b["fit"]["meets"] and b["monthly"]["meets"] else re.compile(".")
    )
    expect(page.locator("#fit-table tbody tr")).to_have_count(2)
    # The saving the data was made with: 30 % of the lighting after the retrofit.
    assert b["savings"]["percent"] == pytest.approx(30.0, abs=3.0)
    expect(page.locator("#sv-figs")).to_contain_text(f"{b['savings']['percent']:.1f} %")
    expect(page.locator("#sv-months tbody tr")).to_have_count(len(b["savings"]["months"]))
    expect(page.locator("#bl-chart path[data-series=actual]")).to_have_count(1)
    expect(page.locator("#bl-chart path[data-series=predicted]")).to_have_count(1)
    expect(page.locator("#bl-chart .ch-mark")).to_have_count(1)
    shot(page, "04-baseline")

    page.locator("#bl-retrofit").select_option("")
    loaded(page)
    expect(page.locator("#savings")).to_be_hidden()
    expect(page).to_have_url(re.compile(r"retrofit=none"))

    # A meter with no readings: the page says how many days it has and needs.
    page.locator("#bl-meter").select_option("b-hvac")
    expect(page).to_have_url(re.compile(r"/ui/energy/baselines/b-hvac$"))
    loaded(page)
    expect(page.locator("#load-error")).to_contain_text("needs")
    expect(page.locator("#baseline")).to_be_hidden()


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_pages_at_tablet_and_desktop_sizes(
    context_for: ContextFor, live_app: LiveApp, history: None, lang: str
) -> None:
    """Every page at 1280x800, 800x1280 and 1920x1080, in both languages: nothing wider than
    the screen; controls at least 44 px and text at least 16 px outside the charts; readable
    contrast (screenshots to look at)."""
    pages = {
        "energy": "/ui/energy",
        "meters": "/ui/energy/meters",
        "baseline": "/ui/energy/baselines/a-lighting",
    }
    for size in (LANDSCAPE, PORTRAIT, DESKTOP):
        page = context_for(size, "zh-CN" if lang == "zh-CN" else "en-GB")
        sign_in(page, "engineer", lang=lang)
        for name, path in pages.items():
            page.goto(path)
            loaded(page)
            expect(page.locator("#load-error")).to_be_hidden()
            if lang == "zh-CN":
                expect(page.locator(".en-tabs a").first).to_have_text("指标")
            m = page.evaluate(ERGONOMICS)
            assert m["width"] <= size["width"], f"{path} at {size}: {m['width']} px wide"
            assert not m["small"], f"{path} at {size}: controls under 44 px: {m['small']}"
            assert not m["tiny"], f"{path} at {size}: text under 16 px: {m['tiny']}"
            assert not m["faint"], f"{path} at {size}: low contrast: {m['faint']}"
            shot(page, f"{name}-{lang}")
        page.context.close()
