"""The simulated fire main (issue 15): the jockey pump keeps the main between its start and stop
pressures, counting a start per cycle whatever the step; a leak makes it cycle faster; the fire
pump stands by and runs its weekly automatic start on Mondays at 09:00 for ten minutes."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from collectors.simulator.models import FirePump, JockeyPump, Values, build_models
from collectors.site import Fault
from config.site import SiteConfig

TZ = ZoneInfo("Asia/Shanghai")
MONDAY = dt.datetime(2026, 1, 5, tzinfo=TZ).timestamp()


def models(site: SiteConfig, faults: list[Fault] | None = None) -> tuple[FirePump, JockeyPump]:
    doc = site.doc
    if faults is not None:
        doc = doc.model_copy(
            update={"simulation": doc.simulation.model_copy(update={"faults": faults})}
        )
    built = build_models(SiteConfig(path=site.path, doc=doc, profiles=site.profiles), MONDAY)
    fire, jockey = built["fire-pump-1-ctrl"], built["jockey-pump-ctrl"]
    assert isinstance(fire, FirePump) and isinstance(jockey, JockeyPump)
    return fire, jockey


def run(model: JockeyPump | FirePump, seconds: float, step: float) -> list[Values]:
    return [model.step(MONDAY + k * step) for k in range(int(seconds / step) + 1)]


def test_the_jockey_pump_holds_the_main_between_its_set_points(demo_site: SiteConfig) -> None:
    _, jockey = models(demo_site)
    values = run(jockey, 6 * 3600, 10)
    pressures = [float(v["system_pressure"]) for v in values]
    assert min(pressures) > 0.69 and max(pressures) < 0.81
    running = [v for v in values if v["running"]]
    assert running and all(float(v["motor_current"]) > 5 for v in running)
    starts = int(values[-1]["start_counter"]) - int(values[0]["start_counter"])
    assert starts in (8, 9)  # 6 h / 43.5 min a cycle: 8.3 cycles


def test_the_start_count_does_not_depend_on_the_step(demo_site: SiteConfig) -> None:
    counts = []
    for step in (5, 60, 300):
        _, jockey = models(demo_site)
        values = run(jockey, 6 * 3600, step)
        counts.append(int(values[-1]["start_counter"]) - int(values[0]["start_counter"]))
    assert counts[0] == counts[1] == counts[2]


def test_a_leak_on_the_main_makes_the_jockey_pump_cycle_faster(demo_site: SiteConfig) -> None:
    _, tight = models(demo_site)
    _, leaking = models(demo_site, [Fault(device="jockey-pump-ctrl", kind="leak", magnitude=2)])
    a, b = run(tight, 6 * 3600, 30), run(leaking, 6 * 3600, 30)

    def starts(v: list[Values]) -> int:
        return int(v[-1]["start_counter"]) - int(v[0]["start_counter"])

    assert starts(b) >= 2 * starts(a)


def test_the_fire_pump_runs_its_weekly_test_on_monday_at_nine(demo_site: SiteConfig) -> None:
    fire, _ = models(demo_site)
    values = {k: fire.step(MONDAY + k * 60) for k in range(0, 24 * 60, 1)}
    running = [k for k, v in values.items() if v["running"]]
    assert running == list(range(9 * 60, 9 * 60 + 10))  # 09:00-09:09 local
    test = values[9 * 60 + 5]
    assert test["start_cause"] == 3 and float(test["outlet_pressure"]) > 0.9
    idle = values[12 * 60]
    assert idle["motor_current"] == 0.0 and idle["main_power"] == idle["standby_power"] == 1
    assert int(values[23 * 60 + 59]["start_counter"]) == int(values[0]["start_counter"]) + 1
