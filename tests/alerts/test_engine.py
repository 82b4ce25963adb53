"""The alert engine: one work order per real problem, on the readings' own timestamps."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from alerts.engine import AlertEngine
from alerts.models import Alert
from collectors.readings import Quality, Reading
from config.site import SiteConfig
from plantroom.db import Database
from workorders import repository, service
from workorders.models import WorkOrder

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


@pytest.fixture
def engine(demo_site: SiteConfig, db: Database) -> AlertEngine:
    return AlertEngine(demo_site, db)


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
    with db.session() as s:
        wo = repository.get(s, first.id)
        assert wo is not None
        service.change_status(
            s,
            wo=wo,
            target="resolved",
            actor="t",
            role="admin",
            at=dt.datetime.fromtimestamp(T0 + 40, dt.UTC),
        )
        service.change_status(
            s,
            wo=wo,
            target="closed",
            actor="t",
            role="admin",
            at=dt.datetime.fromtimestamp(T0 + 50, dt.UTC),
        )
    engine.process([amps(86400, 30), amps(86420, 30)])
    _, second = work_orders(db)
    assert second.id != first.id and "possible recall" in second.description


def test_pending_alert_survives_a_restart_and_fires_once_on_time(
    demo_site: SiteConfig, db: Database
) -> None:
    AlertEngine(demo_site, db).process([amps(0, 30), amps(10, 30)])  # pending since t=0
    restarted = AlertEngine(demo_site, db)
    assert restarted.process([amps(15, 30)]) == []  # 15 s < 20 s: still pending
    transitions = restarted.process([amps(20, 30), amps(25, 30)])
    assert [t.state for t in transitions] == ["firing"]
    assert len(work_orders(db)) == 1


def test_two_engines_on_one_database_make_one_work_order(
    demo_site: SiteConfig, db: Database
) -> None:
    a, b = AlertEngine(demo_site, db), AlertEngine(demo_site, db)
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
