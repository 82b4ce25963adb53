"""Collectors' leases on devices and assets in the central database (collectors/leases.py), on
SQLite and PostgreSQL: one collector per device, refused by name, renewed, taken over after a
crash, released at a clean stop."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from collectors.leases import Lease, LeaseConflict
from core.db import Database

T0 = 1_780_000_000.0


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def lease(db: Database, name: str, devices: list[str], clock: Clock, ttl: float = 30) -> Lease:
    assets = {d.removesuffix("-ctrl").removesuffix("-meter") for d in devices}
    return Lease(db, name=name, devices=devices, assets=assets, ttl=ttl, clock=clock)


def test_collectors_with_separate_devices_both_claim(db_both: Database) -> None:
    clock = Clock()
    a = lease(db_both, "bldg-a", ["a-main-meter", "lift-a1-ctrl"], clock)
    b = lease(db_both, "bldg-b", ["b-main-meter", "lift-b1-ctrl"], clock)
    assert a.claim() == [] and b.claim() == []
    assert a.renew() == [] and b.renew() == []


def test_overlapping_claim_is_refused_naming_both_collectors_and_the_shared_devices(
    db_both: Database,
) -> None:
    clock = Clock()
    a = lease(db_both, "bldg-a", ["a-main-meter", "lift-a1-ctrl"], clock)
    a.claim()
    whole = lease(db_both, "whole site", ["a-main-meter", "b-main-meter", "lift-a1-ctrl"], clock)
    with pytest.raises(LeaseConflict) as exc:
        whole.claim()
    msg = str(exc.value)
    assert str(a.holder) in msg and str(whole.holder) in msg
    assert "devices a-main-meter, lift-a1-ctrl" in msg and "b-main-meter" not in msg
    # Refused means nothing was taken: the first collector still holds all of its devices.
    assert a.renew() == []


def test_a_second_process_under_the_same_name_is_another_collector(db_both: Database) -> None:
    clock = Clock()
    first = lease(db_both, "bldg-a", ["a-main-meter"], clock)
    first.claim()
    again = lease(db_both, "bldg-a", ["a-main-meter"], clock)
    with pytest.raises(LeaseConflict, match="already holds device a-main-meter"):
        again.claim()


def test_a_renewed_lease_outlives_its_first_expiry(db_both: Database) -> None:
    clock = Clock()
    a = lease(db_both, "bldg-a", ["a-main-meter"], clock)
    a.claim()
    clock.now += 20
    assert a.renew() == []
    clock.now += 20  # 40 s after the claim, 20 s after the renewal: still live
    with pytest.raises(LeaseConflict):
        lease(db_both, "other", ["a-main-meter"], clock).claim()


def test_an_expired_lease_is_taken_over_and_its_holder_learns_it_lost_it(
    db_both: Database, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    crashed = lease(db_both, "bldg-a", ["a-main-meter", "lift-a1-ctrl"], clock)
    crashed.claim()
    clock.now += 31  # no renewal: the process died
    successor = lease(db_both, "bldg-a", ["a-main-meter"], clock)
    (taken,) = successor.claim()
    assert taken.previous == crashed.holder
    assert taken.items == [("asset", "a-main"), ("device", "a-main-meter")]
    assert f"from collector {crashed.holder}" in caplog.text and "expired" in caplog.text
    # Back from the dead, the first collector finds the devices gone (and only those).
    assert crashed.renew() == [("asset", "a-main"), ("device", "a-main-meter")]


def test_a_released_lease_is_free_at_once(db_both: Database) -> None:
    clock = Clock()
    a = lease(db_both, "bldg-a", ["a-main-meter"], clock)
    a.claim()
    a.release()
    assert lease(db_both, "bldg-a", ["a-main-meter"], clock).claim() == []


def test_two_collectors_claiming_at_the_same_moment_cannot_both_win(db_both: Database) -> None:
    clock = Clock()
    devices = [f"dev-{i}" for i in range(200)]
    leases = [lease(db_both, f"c{i}", devices[i:], clock) for i in range(4)]
    start = threading.Barrier(len(leases))
    outcome: dict[int, str] = {}

    def run(i: int) -> None:
        start.wait()
        try:
            leases[i].claim()
            outcome[i] = "won"
        except LeaseConflict:
            outcome[i] = "refused"

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(leases))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcome.values()) == ["refused", "refused", "refused", "won"]


def test_on_postgresql_the_database_clock_decides_so_a_fast_host_clock_cannot_take_over(
    pg_demo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """(SQLite lives on the collector's own host: its clock is the only one.)"""
    db = Database(pg_demo_url)
    a = Lease(db, name="bldg-a", devices=["a-main-meter"], assets=["a-main"])
    a.claim()
    # A second host whose clock runs 40 s ahead: past the 30 s lease by its own reckoning.
    real = dt.datetime

    class Fast(dt.datetime):
        @classmethod
        def now(cls, tz: dt.tzinfo | None = None) -> dt.datetime:  # type: ignore[override]
            return real.now(tz) + dt.timedelta(seconds=40)

    monkeypatch.setattr("collectors.leases.dt.datetime", Fast)
    b = Lease(db, name="bldg-a again", devices=["a-main-meter"], assets=["a-main"])
    try:
        with pytest.raises(LeaseConflict):
            b.claim()
        assert a.renew() == []
    finally:
        db.dispose()
