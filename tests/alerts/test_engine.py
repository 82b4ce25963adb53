"""The alert engine: one work order per real problem, on the readings' own timestamps."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pydantic import TypeAdapter
from sqlalchemy import func, select

from alerts.config import Alerting, Inhibit
from alerts.engine import AlertEngine
from alerts.models import Alert
from alerts.rules import RuleConfig
from collectors.decode import decode_raw, encode_raw, to_engineering
from collectors.readings import Quality, Reading
from config.profile import Point
from config.site import SiteConfig
from core.db import Database
from plantroom.wiring import alert_engine
from workorders.orders import repository, service
from workorders.orders.models import WorkOrder

T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC).timestamp()


def amps(
    t: float, value: float | None, asset: str = "pump-1", quality: Quality = Quality.good
) -> Reading:
    """A pump motor-current reading (the demo rule: above 26 A for 20 s, clears at 24 A)."""
    device = "pump-1-drive" if asset == "pump-1" else "pump-2-drive"
    return Reading(T0 + t, asset, device, "motor_current", value, "A", quality)


def work_orders(db: Database) -> list[WorkOrder]:
    with db.session() as s:
        return list(s.scalars(select(WorkOrder).order_by(WorkOrder.id)))


def move(db: Database, wo_id: int, target: str, t: float | None = None) -> None:
    """An admin moves a work order to target, at T0 + t (now when t is None)."""
    at = None if t is None else dt.datetime.fromtimestamp(T0 + t, dt.UTC)
    with db.session() as s:
        wo = repository.get(s, wo_id)
        assert wo is not None
        service.change_status(s, wo=wo, target=target, actor="eng", role="admin", at=at, now=at)


def pump_rules(site: SiteConfig) -> list[RuleConfig]:
    """The demo's pump rules: these tests feed pump readings only, and the demo's other rules
    (a meter silent for a minute, say) would rightly fire on a stream without them."""
    return [r for r in site.doc.rules if r.id in ("pump-overcurrent", "pump-overtemperature")]


@pytest.fixture
def engine(demo_site: SiteConfig, db: Database) -> AlertEngine:
    return alert_engine(demo_site, db, pump_rules(demo_site))


@pytest.fixture
def settings_for() -> Iterator[Callable[[Path], Database]]:
    """A migrated SQLite database holding another site's assets."""
    from config.settings import Settings
    from plantroom.app import prepare_database

    made: list[Database] = []

    def make(folder: Path) -> Database:
        from plantroom.site import load_site

        s = Settings(data_dir=folder / "data", _env_file=None)  # type: ignore[call-arg]
        database = prepare_database(s, load_site(folder / "site"))
        made.append(database)
        return database

    yield make
    for d in made:
        d.dispose()


def test_breach_shorter_than_for_opens_nothing(engine: AlertEngine, db: Database) -> None:
    engine.process([amps(0, 30), amps(10, 30), amps(15, 20)])
    assert work_orders(db) == []


def test_breach_held_for_the_duration_opens_one_work_order(
    engine: AlertEngine, db: Database
) -> None:
    transitions = engine.process([amps(0, 30), amps(10, 31), amps(20, 32)])
    assert [t.state for t in transitions] == ["pending", "firing"]
    (wo,) = work_orders(db)
    assert (wo.origin, wo.asset_id, wo.rule_id, wo.priority) == (
        "alert",
        "pump-1",
        "pump-overcurrent",
        "P2",
    )
    assert wo.trigger is not None and wo.trigger["value"] == 32 and wo.trigger["unit"] == "A"


def test_every_reading_of_a_long_breach_still_gives_one_work_order(
    engine: AlertEngine, db: Database
) -> None:
    engine.process([amps(5 * i, 30 + i % 3) for i in range(200)])
    assert len(work_orders(db)) == 1


def test_hysteresis_keeps_a_value_between_clear_and_limit_firing(
    engine: AlertEngine, db: Database
) -> None:
    # Flapping around 26 A: it never falls below the 24 A clear level, so one alert, one order.
    flapping = [amps(5 * i, 27 if i % 2 else 25) for i in range(100)]
    engine.process([amps(0, 30), amps(20, 30), *flapping])
    (wo,) = work_orders(db)
    assert wo.alert_count == 1


def test_refire_while_open_adds_to_the_same_work_order(engine: AlertEngine, db: Database) -> None:
    engine.process([amps(0, 30), amps(20, 30), amps(30, 20)])  # fire, then clear
    engine.process([amps(100, 30), amps(120, 30)])  # fire again
    (wo,) = work_orders(db)
    assert wo.alert_count == 2
    with db.session() as s:
        kinds = [e.kind for e in repository.get(s, wo.id).events]  # type: ignore[union-attr]
    assert kinds == ["created", "alert_cleared", "alert_refired"]


def test_different_assets_get_their_own_work_orders(engine: AlertEngine, db: Database) -> None:
    engine.process([amps(0, 30), amps(0, 30, "pump-2"), amps(20, 30), amps(20, 30, "pump-2")])
    assert sorted(w.asset_id or "" for w in work_orders(db)) == ["pump-1", "pump-2"]


def test_unavailable_readings_never_fire(engine: AlertEngine, db: Database) -> None:
    engine.process([amps(t, None, quality=Quality.unavailable) for t in range(0, 100, 5)])
    assert work_orders(db) == []


def test_firing_again_after_the_work_order_closed_opens_a_possible_recall(
    engine: AlertEngine, db: Database
) -> None:
    engine.process([amps(0, 30), amps(20, 30), amps(30, 20)])
    (first,) = work_orders(db)
    move(db, first.id, "resolved", 40)
    move(db, first.id, "closed", 50)
    engine.process([amps(86400, 30), amps(86420, 30)])
    _, second = work_orders(db)
    assert second.id != first.id and "possible recall" in second.description


def test_pending_alert_survives_a_restart_and_fires_once_on_time(
    demo_site: SiteConfig, db: Database
) -> None:
    first = alert_engine(demo_site, db, pump_rules(demo_site))
    first.process([amps(0, 30), amps(10, 30)])  # pending since t=0
    restarted = alert_engine(demo_site, db, pump_rules(demo_site))
    assert restarted.process([amps(15, 30)]) == []  # 15 s < 20 s: still pending
    transitions = restarted.process([amps(20, 30), amps(25, 30)])
    assert [t.state for t in transitions] == ["firing"]
    assert len(work_orders(db)) == 1


def test_two_engines_on_one_database_make_one_work_order(
    demo_site: SiteConfig, db: Database
) -> None:
    rules = pump_rules(demo_site)
    a, b = alert_engine(demo_site, db, rules), alert_engine(demo_site, db, rules)
    a.process([amps(0, 30)])
    b.process([amps(1, 30)])  # b resumes nothing (it loaded before a's alert existed)
    a.process([amps(20, 30)])
    b.process([amps(21, 30)])
    assert len(work_orders(db)) == 1


def test_database_refuses_a_second_open_alert_work_order(db: Database) -> None:
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), db.session() as s:
        for _ in range(2):
            s.add(
                WorkOrder(
                    title="x",
                    origin="alert",
                    asset_id="pump-1",
                    dedup_key=repository.alert_key("r", "pump-1"),
                )
            )
            s.flush()


def test_alert_rows_record_the_lifecycle(engine: AlertEngine, db: Database) -> None:
    engine.process([amps(0, 30), amps(20, 30), amps(40, 20)])
    with db.session() as s:
        (alert,) = s.scalars(select(Alert))
        live = s.scalar(select(func.count()).where(Alert.active_key.is_not(None)))
    assert alert.state == "resolved" and alert.workorder_id is not None and live == 0
    assert alert.fired_at is not None and alert.fired_at.timestamp() == T0 + 20


# -- rule lifecycles beyond the threshold basics ------------------------------------------


def rule(**fields: object) -> RuleConfig:
    """A rule as site.yaml would give it."""
    return TypeAdapter(RuleConfig).validate_python({"name": fields.get("id", "r"), **fields})


def lift(t: float, point: str, value: float | None, quality: Quality = Quality.good) -> Reading:
    return Reading(T0 + t, "lift-a1", "lift-a1-ctrl", point, value, "", quality)


def alerts(db: Database) -> list[Alert]:
    with db.session() as s:
        return list(s.scalars(select(Alert).order_by(Alert.id)))


def test_keep_firing_for_holds_the_alert_through_a_short_dip(
    demo_site: SiteConfig, db: Database
) -> None:
    r = rule(id="amps", type="threshold", point="motor_current", above=26,
             select={"assets": ["pump-1"]}, keep_firing_for="60s")  # fmt: skip
    engine = alert_engine(demo_site, db, [r])
    engine.process([amps(0, 30), amps(10, 20), amps(40, 30), amps(50, 20)])
    assert [a.state for a in alerts(db)] == ["firing"]  # the dip at 10-40 s did not resolve it
    events = engine.process([amps(100, 20), amps(111, 20)])
    assert [e.state for e in events] == ["resolved"] and events[0].ts == T0 + 111
    (wo,) = work_orders(db)
    assert wo.alert_count == 1


def test_no_usable_reading_for_nodata_after_is_a_state_of_its_own(
    demo_site: SiteConfig, db: Database
) -> None:
    r = rule(id="amps", type="threshold", point="motor_current", above=26,
             select={"assets": ["pump-1"]}, nodata_after="60s")  # fmt: skip
    engine = alert_engine(demo_site, db, [r])
    engine.process([amps(0, 20)])
    gone = [amps(t, None, quality=Quality.unavailable) for t in range(10, 100, 10)]
    events = engine.process(gone)
    assert [(e.state, e.previous) for e in events] == [("nodata", "inactive")]
    assert events[0].ts == T0 + 60
    back = engine.process([amps(110, 20)])
    assert [(e.state, e.previous) for e in back] == [("inactive", "nodata")]
    assert work_orders(db) == []


def test_a_rule_that_cannot_evaluate_is_in_error_not_silently_ok(
    demo_site: SiteConfig, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from alerts.rules import threshold

    engine = alert_engine(demo_site, db, pump_rules(demo_site))

    def broken(self: object, ts: float, value: float, active: bool) -> None:
        raise ZeroDivisionError("bad rule")

    monkeypatch.setattr(threshold._Threshold, "observe", broken)
    events = engine.process([amps(0, 30)])
    assert [e.state for e in events] == ["error"]
    (row,) = alerts(db)
    assert row.state == "error" and "ZeroDivisionError" in row.detail
    monkeypatch.undo()
    events = engine.process([amps(10, 20)])
    assert [(e.state, e.previous) for e in events] == [("inactive", "error")]


def test_meter_interval_opens_one_preventive_work_order_per_interval(
    demo_site: SiteConfig, db: Database
) -> None:
    r = rule(id="lift-service", type="meter_interval", point="trip_counter", every=50_000,
             select={"assets": ["lift-a1"]}, severity="info")  # fmt: skip
    engine = alert_engine(demo_site, db, [r])
    engine.process([lift(0, "trip_counter", 49_990), lift(10, "trip_counter", 49_999)])
    assert work_orders(db) == []
    engine.process([lift(20, "trip_counter", 50_002), lift(30, "trip_counter", 50_010)])
    (wo,) = work_orders(db)
    assert (wo.type, wo.priority, wo.alert_count) == ("preventive", "P4", 1)
    # A restart remembers the interval already served: no second order for the same 50,000.
    alert_engine(demo_site, db, [r]).process([lift(40, "trip_counter", 50_020)])
    assert len(work_orders(db)) == 1


def test_a_fix_is_verified_only_after_the_signal_held_for_verify_for(
    engine: AlertEngine, db: Database
) -> None:
    engine.process([amps(0, 30), amps(20, 30), amps(30, 20)])  # fired, cleared at t=30
    (wo,) = work_orders(db)
    move(db, wo.id, "resolved", 60)
    with pytest.raises(service.FixNotProven, match="back in range for 570 s of the 600 s"):
        move(db, wo.id, "verified", 600)  # the demo rule's verify_for is 10 min
    move(db, wo.id, "verified", 630)


def test_verifying_while_the_alert_fires_again_is_refused(
    engine: AlertEngine, db: Database
) -> None:
    engine.process([amps(0, 30), amps(20, 30), amps(30, 20)])
    (wo,) = work_orders(db)
    move(db, wo.id, "resolved")
    engine.process([amps(40, 30), amps(60, 30)])  # fires again: reopens the same order
    assert [w.status for w in work_orders(db)] == ["in_progress"]
    move(db, wo.id, "resolved")
    with pytest.raises(service.FixNotProven, match="firing"):
        move(db, wo.id, "verified")


def test_a_firing_source_inhibits_the_other_alerts_of_its_building(
    demo_site: SiteConfig, db: Database
) -> None:
    building = demo_site.asset("pump-1").building.id
    mains = [
        a.asset.id
        for a in demo_site.assets()
        if a.building.id == building and a.asset.brick_class == "Electrical_Meter"
    ][:1]
    power = rule(id="power-loss", type="threshold", point="voltage_l1", below=100,
                 select={"assets": mains}, severity="critical")  # fmt: skip
    amps_rule = rule(id="amps", type="threshold", point="motor_current", above=26,
                     select={"assets": ["pump-1"]})  # fmt: skip
    engine = alert_engine(
        demo_site, db, [power, amps_rule],
        alerting=Alerting(inhibit=[Inhibit(source="power-loss", scope="building")]),
    )  # fmt: skip
    volts = Reading(T0, mains[0], f"{mains[0]}-meter", "voltage_l1", 0.0, "V", Quality.good)
    events = engine.process([volts, amps(1, 30)])
    by_rule = {e.rule_id: e for e in events}
    assert by_rule["power-loss"].inhibited is False and by_rule["amps"].inhibited is True
    assert [w.rule_id for w in work_orders(db)] == ["power-loss"]
    (pump_alert,) = [a for a in alerts(db) if a.rule_id == "amps"]
    assert pump_alert.inhibited_by == f"power-loss:{mains[0]}"


@pytest.mark.slow
def test_an_alert_storm_in_one_building_gives_one_parent_work_order(
    tmp_path: Path, settings_for: Callable[[Path], Database]
) -> None:
    from bench._site import BenchSite

    site = BenchSite(gateways=10, per_gateway=100).write(tmp_path / "site")
    assert len(list(site.assets())) == 1000
    low = rule(id="volts-low", type="threshold", point="voltage_l1", below=207, severity="major")
    db = settings_for(tmp_path)
    from alerts.config import Storm

    engine = alert_engine(
        site, db, [low], alerting=Alerting(storm=Storm(threshold=20, group_wait=60))
    )
    readings = [
        Reading(T0 + i * 0.01, ref.asset.id, ref.asset.devices[0].id, "voltage_l1", 150.0, "V",
                Quality.good)
        for i, ref in enumerate(site.assets())
    ]  # fmt: skip
    engine.process(readings)
    engine.tick(T0 + 120)  # the storm window is over
    (parent,) = work_orders(db)
    with db.session() as s:
        linked = s.scalar(select(func.count()).where(Alert.workorder_id == parent.id))
        firing = s.scalar(select(func.count()).where(Alert.state == "firing"))
    assert firing == 1000 and linked == 1000 and parent.alert_count == 1000
    assert parent.asset_id is None and "storm" in parent.title.lower()


def test_a_few_alerts_within_the_storm_window_get_a_work_order_each(
    demo_site: SiteConfig, db: Database
) -> None:
    from alerts.config import Storm

    engine = alert_engine(demo_site, db, alerting=Alerting(storm=Storm(threshold=5, group_wait=30)))
    engine.process([amps(0, 30), amps(0, 30, "pump-2"), amps(20, 30), amps(20, 30, "pump-2")])
    assert work_orders(db) == []  # waiting out the window
    engine.tick(T0 + 51)
    assert sorted(w.asset_id or "" for w in work_orders(db)) == ["pump-1", "pump-2"]


KILLED_WHILE_PENDING = """
import os, sys, time
sys.path.insert(0, {root!r})
from plantroom.wiring import alert_engine
from collectors.readings import Quality, Reading
from plantroom.site import load_site
from core.db import Database

site = load_site({site!r})
rules = [r for r in site.doc.rules if r.id == "pump-overcurrent"]
engine = alert_engine(site, Database({url!r}), rules)
for t in (0, 5, 10):
    engine.process([Reading({t0!r} + t, "pump-1", "pump-1-drive", "motor_current", 30.0, "A",
                            Quality.good)])
print("pending", flush=True)
time.sleep(60)  # killed here, with the alert pending
"""


@pytest.mark.slow
def test_an_engine_killed_while_pending_fires_once_on_time_after_restart(
    demo_site: SiteConfig, db: Database
) -> None:
    import os
    import signal
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    url = db.engine.url.render_as_string(hide_password=False)
    code = KILLED_WHILE_PENDING.format(
        root=str(root), site=str(root / "config/sites/demo"), url=url, t0=T0
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdout.readline().strip() == "pending"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert [a.state for a in alerts(db)] == ["pending"]
    restarted = alert_engine(demo_site, db, pump_rules(demo_site))
    assert restarted.process([amps(15, 30)]) == []  # 15 s after the start: still pending
    events = restarted.process([amps(20, 30), amps(25, 30), amps(30, 30)])
    assert [(e.state, e.ts) for e in events] == [("firing", T0 + 20)]
    assert len(work_orders(db)) == 1


def test_a_silent_gateway_source_inhibits_the_devices_behind_the_same_link(
    demo_site: SiteConfig, db: Database
) -> None:
    link = {d.link.key for d in demo_site.asset("a-main").asset.devices}
    meters = [a for a in demo_site.assets() if a.asset.brick_class == "Electrical_Meter"]
    shares = {a.asset.id: bool({d.link.key for d in a.asset.devices} & link) for a in meters}
    behind = [m for m, same in shares.items() if same and m != "a-main"]
    elsewhere = [m for m, same in shares.items() if not same]
    assert behind and elsewhere
    gateway = rule(id="gateway-down", type="threshold", point="voltage_l1", below=50,
                   select={"assets": ["a-main"]})  # fmt: skip
    low = rule(id="volts-low", type="threshold", point="voltage_l1", below=207,
               select={"assets": [behind[0], elsewhere[0]]})  # fmt: skip
    engine = alert_engine(
        demo_site, db, [gateway, low],
        alerting=Alerting(inhibit=[Inhibit(source="gateway-down", scope="link")]),
    )  # fmt: skip

    def volts(asset: str, v: float) -> Reading:
        return Reading(T0, asset, f"{asset}-meter", "voltage_l1", v, "V", Quality.good)

    events = engine.process([volts("a-main", 0), volts(behind[0], 0), volts(elsewhere[0], 0)])
    inhibited = {e.asset_id: e.inhibited for e in events if e.rule_id == "volts-low"}
    assert inhibited == {behind[0]: True, elsewhere[0]: False}
    assert sorted((w.rule_id, w.asset_id) for w in work_orders(db)) == [
        ("gateway-down", "a-main"),
        ("volts-low", elsewhere[0]),
    ]


def test_an_alert_during_a_maintenance_window_is_recorded_but_opens_nothing(
    demo_site: SiteConfig, db: Database
) -> None:
    from alerts.models import Silence
    from alerts.silences import SilenceIndex

    with db.session() as s:
        window = Silence(
            selector={"assets": ["pump-1"]},
            rule_ids=[],
            starts_at=dt.datetime.fromtimestamp(T0 - 60, dt.UTC),
            ends_at=dt.datetime.fromtimestamp(T0 + 600, dt.UTC),
            kind="maintenance",
            comment="bearing replacement",
            created_by="eng",
        )
        s.add(window)
        s.flush()
        window_id = window.id
    index = SilenceIndex(demo_site)
    with db.session() as s:  # readings from March: load the silences of their time
        index.load(s, at=dt.datetime.fromtimestamp(T0, dt.UTC))
    engine = alert_engine(demo_site, db, pump_rules(demo_site), silenced=index.match)
    events = engine.process([amps(0, 30), amps(20, 30), amps(20, 30, "pump-2"),
                             amps(40, 30, "pump-2")])  # fmt: skip
    firing = {e.asset_id: e.silenced for e in events if e.state == "firing"}
    assert firing == {"pump-1": True, "pump-2": False}
    assert [w.asset_id for w in work_orders(db)] == ["pump-2"]
    (silenced,) = [a for a in alerts(db) if a.asset_id == "pump-1"]
    assert silenced.state == "firing" and silenced.silence_id == window_id
    # After the window, the same problem firing anew does open its work order.
    engine.process([amps(700, 20), amps(800, 30), amps(820, 30)])
    assert sorted(w.asset_id or "" for w in work_orders(db)) == ["pump-1", "pump-2"]


def test_a_refire_at_a_higher_severity_raises_the_open_work_orders_priority(
    demo_site: SiteConfig, db: Database
) -> None:
    # The rule's severity was raised in site.yaml (minor -> critical) while its order was open.
    minor = rule(id="amps", type="threshold", point="motor_current", above=26,
                 select={"assets": ["pump-1"]}, severity="minor")  # fmt: skip
    alert_engine(demo_site, db, [minor]).process([amps(0, 30), amps(10, 20)])
    critical = minor.model_copy(update={"severity": "critical"})
    alert_engine(demo_site, db, [critical]).process([amps(20, 30)])
    (wo,) = work_orders(db)
    assert (wo.priority, wo.alert_count) == ("P1", 2)


def test_a_64_bit_counter_reaches_the_rules_exact(demo_site: SiteConfig, db: Database) -> None:
    """An unscaled uint64 counter decoded as the collector decodes it: 2**53 + 3 then 2**53 + 6
    is a rise of 3 and fires. As floats they would read 2**53 + 4 and 2**53 + 6, a rise of 2."""
    counter = Point.model_validate(
        {"name": "door_fault_counter", "register": "holding", "address": 10, "type": "uint64"}
    )

    def decoded(t: float, count: int) -> Reading:
        value, quality = to_engineering(counter, decode_raw(counter, encode_raw(counter, count)))
        return Reading(T0 + t, "lift-a1", "lift-a1-ctrl", counter.name, value, "", quality)

    readings = [decoded(0, 2**53 + 3), decoded(60, 2**53 + 6)]
    assert [r.value for r in readings] == [2**53 + 3, 2**53 + 6]
    faults = rule(id="door-faults", type="counter_increase", point="door_fault_counter",
                  increase=3, within="1h", select={"assets": ["lift-a1"]})  # fmt: skip
    events = alert_engine(demo_site, db, [faults]).process(readings)
    assert [(e.state, e.value, type(e.value)) for e in events] == [
        ("pending", 3, int),
        ("firing", 3, int),
    ]
