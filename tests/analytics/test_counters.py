"""Consumption from counters, worked by hand: resets, a meter replaced mid-month, gaps with
unavailable readings, and periods that cut an interval (issue 16, item 1)."""

from __future__ import annotations

import datetime as dt

import pytest

from analytics.counters import Reading, Replacement, consumption

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def h(hours: float) -> dt.datetime:
    """T0 plus that many hours."""
    return T0 + dt.timedelta(hours=hours)


def hourly(values: list[float | None]) -> list[Reading]:
    """One reading an hour from T0."""
    return [Reading(h(i), v) for i, v in enumerate(values)]


WIDE = dt.timedelta(hours=2)


def test_consumption_is_the_difference_of_the_counter() -> None:
    used = consumption(hourly([100, 110, 125, 140]), h(0), h(3), max_gap=WIDE)
    assert used.amount == pytest.approx(40)
    assert (used.estimated_seconds, used.missing_seconds, used.resets) == (0, 0, [])


def test_a_period_that_cuts_an_interval_gets_its_share_by_time() -> None:
    used = consumption(hourly([100, 110, 130]), h(0.5), h(1.5), max_gap=WIDE)
    assert used.amount == pytest.approx(5 + 10)


def test_a_counter_that_goes_back_restarted_from_zero() -> None:
    used = consumption(hourly([9_990, 9_998, 4, 10]), h(0), h(3), max_gap=WIDE)
    assert used.amount == pytest.approx(8 + 4 + 6)
    assert used.resets == [h(2)]


def test_a_meter_replaced_mid_month_counts_both_meters() -> None:
    """The old meter read 5,000 at 01:00 and 5,030 when removed; the new one started at 12 and
    read 40 at 02:00: 30 + 28 kWh, not a reset and not -4,960."""
    readings = hourly([4_980, 5_000, 40, 55])
    swap = Replacement(at=h(1.5), old_final=5_030, new_initial=12)
    used = consumption(readings, h(0), h(3), max_gap=WIDE, replacements=[swap])
    assert used.amount == pytest.approx(20 + 30 + 28 + 15)
    assert (used.resets, used.replacements) == ([], [h(1.5)])


def test_a_gap_of_unavailable_readings_is_counted_once_and_said_to_be_estimated() -> None:
    used = consumption(hourly([100, None, None, 160, 170]), h(0), h(4), max_gap=WIDE)
    assert used.amount == pytest.approx(70)  # never 0 for the hours nobody could read
    assert used.estimated_seconds == pytest.approx(3 * 3600)
    assert used.estimated_share(h(0), h(4)) == pytest.approx(0.75)


def test_a_long_silence_is_a_gap_even_without_unavailable_readings() -> None:
    readings = [Reading(h(0), 0), Reading(h(6), 60), Reading(h(7), 70)]
    used = consumption(readings, h(0), h(7), max_gap=WIDE)
    assert used.amount == pytest.approx(70)
    assert used.estimated_seconds == pytest.approx(6 * 3600)


def test_time_before_the_first_and_after_the_last_reading_is_missing_not_guessed() -> None:
    used = consumption(hourly([100, 110]), h(-2), h(3), max_gap=WIDE)
    assert used.amount == pytest.approx(10)
    assert used.missing_seconds == pytest.approx(4 * 3600)
    nothing = consumption([Reading(h(0), None)], h(0), h(1))
    assert (nothing.amount, nothing.missing_seconds) == (0, 3600)
