"""The leak detector's acceptance test: fed a simulated month of the demo's water-meter history
with a leak starting mid-month, night_flow opens exactly one work order, on the first or second
night after the leak starts, and none before."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from alerts.events import AlertEvent
from collectors.simulator.history import generate
from config.site import SITES_DIR, SiteConfig
from core.db import Database
from plantroom.site import load_site
from plantroom.wiring import alert_engine
from workorders.orders.models import WorkOrder

pytestmark = pytest.mark.slow  # a simulated month through the engine: seconds each

TZ = ZoneInfo("Asia/Shanghai")  # the demo site's
#: Sunday 1 March 2026, midnight on site: the simulated month runs to 31 March.
MONTH_START = dt.datetime(2026, 3, 1, tzinfo=TZ)
MONTH_END = dt.datetime(2026, 4, 1, tzinfo=TZ)
LEAK_AFTER = dt.timedelta(days=15)
LEAK_M3H = 1.5
STEP = 300.0  # 5 minutes: a month is ~8,900 steps
WINDOW = (dt.time(1, 0), dt.time(5, 0))

VARIANT = f"""
rules:
  - id: water-night-flow
    type: night_flow
    name: Night flow (leak)
    select: {{asset_class: [Water_Meter]}}
    point: flow
    window: "01:00-05:00"
    above: 0.8
    nights: 2
    severity: major

simulation:
  seed: 7
  faults:
    - {{device: water-main-meter, kind: leak, start: {LEAK_AFTER.days}d, magnitude: {LEAK_M3H}}}
"""


@pytest.fixture
def leak_site(tmp_path: Path) -> SiteConfig:
    """The demo building with the night-flow rule only and a leak on the main from day 15."""
    text = (SITES_DIR / "demo" / "site.yaml").read_text(encoding="utf-8")
    text = text[: text.index("\nrules:")] + "\n" + VARIANT
    (tmp_path / "site.yaml").write_text(text, encoding="utf-8")
    return load_site(tmp_path)


def night_windows(after: dt.datetime, count: int) -> list[tuple[dt.datetime, dt.datetime]]:
    """The first ``count`` local night windows that end after ``after``."""
    windows: list[tuple[dt.datetime, dt.datetime]] = []
    day = after.astimezone(TZ).date()
    while len(windows) < count:
        start = dt.datetime.combine(day, WINDOW[0], TZ)
        end = dt.datetime.combine(day, WINDOW[1], TZ)
        if end > after:
            windows.append((start, end))
        day += dt.timedelta(days=1)
    return windows


def test_a_month_with_a_mid_month_leak_opens_one_work_order_within_two_nights(
    leak_site: SiteConfig, db: Database
) -> None:
    engine = alert_engine(leak_site, db)
    water = {ref.asset.asset.id for ref in leak_site.devices() if ref.profile.profile == "tuf2000m"}
    assert water == {"water-main", "a-water", "b-water"}  # the main and a meter per building
    events: list[AlertEvent] = []
    for batch, _ in generate(leak_site, MONTH_START, MONTH_END, step=STEP):
        events += engine.process(r for r in batch if r.asset in water)

    leak_start = MONTH_START + LEAK_AFTER
    with db.session() as s:
        orders = list(s.scalars(select(WorkOrder)))
    assert len(orders) == 1, [(w.rule_id, w.created_at) for w in orders]
    (wo,) = orders
    assert (wo.origin, wo.rule_id, wo.asset_id, wo.priority) == (
        "alert",
        "water-night-flow",
        "water-main",
        "P2",
    )
    opened = wo.created_at.astimezone(TZ)
    (first_start, _), (_, second_end) = night_windows(leak_start, 2)
    # The verdict on a night is given at its window's end: the first reading at or after 05:00.
    assert leak_start < opened
    assert first_start <= opened <= second_end + dt.timedelta(seconds=STEP)

    firing = [e for e in events if e.state == "firing"]
    assert [e.rule_id for e in firing] == ["water-night-flow"]
    assert firing[0].ts == wo.created_at.timestamp()
    assert all(e.ts >= leak_start.timestamp() for e in events)


def test_a_restart_between_the_leaking_nights_does_not_delay_the_work_order(
    leak_site: SiteConfig, db: Database
) -> None:
    """The engine restarts at noon after the first leaking night: the second still opens it."""
    leak_start = MONTH_START + LEAK_AFTER
    restart = (leak_start + dt.timedelta(hours=12)).timestamp()
    end = leak_start + dt.timedelta(days=3)
    engine = alert_engine(leak_site, db)
    restarted = False
    for batch, _ in generate(leak_site, MONTH_START, end, step=STEP):
        water = [r for r in batch if r.asset == "water-main"]
        if not restarted and water[-1].ts >= restart:
            engine.process(r for r in water if r.ts < restart)
            engine = alert_engine(leak_site, db)  # a new process on the same database
            restarted = True
            water = [r for r in water if r.ts >= restart]
        engine.process(water)
    assert restarted

    with db.session() as s:
        (wo,) = s.scalars(select(WorkOrder))
    (_, first_end), (_, second_end) = night_windows(leak_start, 2)
    assert first_end < wo.created_at <= second_end + dt.timedelta(seconds=STEP)
