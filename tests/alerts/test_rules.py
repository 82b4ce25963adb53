"""Each alert rule type's evaluator, driven with timestamps: what an engineer tuning a rule sees.

The evaluators are fed directly (no engine, no database); the engine's state machine has its
own tests in test_engine.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import TypeAdapter, ValidationError

from alerts.rules import Context, Evaluator, RuleConfig, Verdict

UTC = Context(ZoneInfo("UTC"))
SHANGHAI = Context(ZoneInfo("Asia/Shanghai"))  # the demo site's time zone
#: Tuesday 3 March 2026, midnight UTC.
T0 = dt.datetime(2026, 3, 3, tzinfo=dt.UTC).timestamp()
MIN = 60.0
HOUR = 3600.0
DAY = 86400.0
WEEK = 7 * DAY


def rule(**fields: Any) -> RuleConfig:
    """A rule as site.yaml would give it."""
    return TypeAdapter(RuleConfig).validate_python({"id": "r", "name": "r", "point": "p", **fields})


def evaluator(ctx: Context = UTC, **fields: Any) -> Evaluator:
    """A fresh evaluator of a rule as site.yaml would give it."""
    return rule(**fields).evaluator(ctx)


def feed(
    ev: Evaluator, times: Iterable[float], value: Callable[[float], float], active: bool = False
) -> list[tuple[float, Verdict]]:
    """Good readings value(t) at each t; the verdicts given, with their times."""
    out = []
    for t in times:
        v = ev.observe(t, value(t), active)
        if v is not None:
            out.append((t, v))
    return out


def breach(v: Verdict | None) -> bool:
    """The verdict's breach; the evaluator must have given one."""
    assert v is not None
    return v.breach


def every(start: float, end: float, step: float) -> list[float]:
    """start, start + step, ... up to but not including end."""
    return [start + k * step for k in range(round((end - start) / step))]


# -- threshold ------------------------------------------------------------------------------


def test_threshold_above_breaches_only_beyond_the_limit() -> None:
    ev = evaluator(type="threshold", above=26)
    assert not breach(ev.observe(T0, 26.0, False))  # at the limit is not beyond it
    assert ev.observe(T0 + 1, 26.5, False) == Verdict(True, 26.5)


def test_threshold_active_alert_stays_breached_between_clear_and_limit() -> None:
    ev = evaluator(type="threshold", above=26, clear=24)
    assert breach(ev.observe(T0, 25.0, True))
    assert not breach(ev.observe(T0 + 1, 24.0, True))  # clears at 24


def test_threshold_inactive_alert_needs_the_limit_not_the_clear_level() -> None:
    ev = evaluator(type="threshold", above=26, clear=24)
    assert not breach(ev.observe(T0, 25.0, False))
    assert breach(ev.observe(T0 + 1, 26.1, False))


def test_threshold_below_breaches_under_the_limit_and_clears_above_clear() -> None:
    ev = evaluator(type="threshold", below=207, clear=210)
    assert not breach(ev.observe(T0, 208.0, False))
    assert breach(ev.observe(T0 + 1, 206.0, False))
    assert breach(ev.observe(T0 + 2, 209.0, True))  # not yet clear
    assert not breach(ev.observe(T0 + 3, 211.0, True))


# -- rate_of_change -------------------------------------------------------------------------


def ramp(per_hour: float) -> Callable[[float], float]:
    """A steady change of per_hour units an hour, from 50 at T0."""
    return lambda t: 50.0 + per_hour * (t - T0) / HOUR


def test_rate_of_change_steady_rise_faster_than_the_limit_breaches() -> None:
    ev = evaluator(type="rate_of_change", window="10m", above=10)
    verdicts = feed(ev, every(T0, T0 + 30 * MIN, MIN), ramp(12))
    assert verdicts and all(v.breach for _, v in verdicts)
    assert verdicts[-1][1].value == pytest.approx(12.0)
    assert verdicts[-1][1].detail == "+12 per 3600s"


def test_rate_of_change_steady_rise_slower_than_the_limit_does_not_breach() -> None:
    ev = evaluator(type="rate_of_change", window="10m", above=10)
    verdicts = feed(ev, every(T0, T0 + 30 * MIN, MIN), ramp(8))
    assert verdicts and not any(v.breach for _, v in verdicts)


def test_rate_of_change_gives_no_verdict_before_half_a_window_of_data() -> None:
    ev = evaluator(type="rate_of_change", window="10m", above=10)
    verdicts = feed(ev, every(T0, T0 + 6 * MIN, MIN), ramp(120))
    assert [t - T0 for t, _ in verdicts] == [5 * MIN]  # 0-4 min: too short a span


def test_rate_of_change_falling_faster_than_a_negative_limit_breaches() -> None:
    falling = evaluator(type="rate_of_change", window="10m", below=-10)
    assert all(v.breach for _, v in feed(falling, every(T0, T0 + 20 * MIN, MIN), ramp(-12)))
    slower = evaluator(type="rate_of_change", window="10m", below=-10)
    assert not any(v.breach for _, v in feed(slower, every(T0, T0 + 20 * MIN, MIN), ramp(-8)))


def test_rate_of_change_forgets_a_step_once_it_leaves_the_window() -> None:
    ev = evaluator(type="rate_of_change", window="10m", above=10)
    step = feed(ev, every(T0, T0 + 30 * MIN, MIN), lambda t: 50.0 + 5 * (t >= T0 + 8 * MIN), True)
    verdicts = dict(step)
    assert verdicts[T0 + 8 * MIN].breach  # +5 within 8 minutes: 37.5 per hour
    assert verdicts[T0 + 17 * MIN].breach  # the step is still inside the window
    assert not verdicts[T0 + 18 * MIN].breach and verdicts[T0 + 18 * MIN].value == 0.0


# -- stale ----------------------------------------------------------------------------------


def test_stale_gives_no_verdict_before_the_first_sign_of_the_series() -> None:
    ev = evaluator(type="stale", after="5m")
    assert ev.tick(T0) is None  # the engine has just started: the clock starts here
    assert ev.tick(T0 + 4 * MIN) is None


def test_stale_breaches_after_the_duration_of_missing_readings() -> None:
    ev = evaluator(type="stale", after="5m")
    assert ev.missing(T0) is None
    assert ev.missing(T0 + 4 * MIN) is None
    assert ev.missing(T0 + 5 * MIN) == Verdict(True, None, "no good reading for 300 s")


def test_stale_breaches_after_the_duration_of_silence_on_the_clock() -> None:
    ev = evaluator(type="stale", after="5m")
    assert not breach(ev.observe(T0, 1.0, False))
    assert ev.tick(T0 + 4 * MIN) is None
    assert ev.tick(T0 + 6 * MIN) == Verdict(True, None, "no good reading for 360 s")


def test_stale_good_reading_resets_the_count() -> None:
    ev = evaluator(type="stale", after="5m")
    ev.tick(T0)
    assert not breach(ev.observe(T0 + 4 * MIN, 1.0, True))
    assert ev.tick(T0 + 8 * MIN) is None  # 4 min since the good reading
    assert breach(ev.missing(T0 + 9 * MIN))


# -- counter_increase -----------------------------------------------------------------------


def counter(steps: dict[float, float]) -> Callable[[float], float]:
    """A counter that takes the given value from each minute on (polled every 10 minutes)."""
    return lambda t: max(v for m, v in steps.items() if T0 + m * MIN <= t)


def test_counter_increase_within_the_window_breaches() -> None:
    ev = evaluator(type="counter_increase", increase=3, within="1h")
    verdicts = feed(ev, every(T0, T0 + 40 * MIN, 10 * MIN), counter({0: 0, 10: 1, 20: 2, 30: 3}))
    assert [v.breach for _, v in verdicts] == [False, False, False, True]
    assert verdicts[-1][1] == Verdict(True, 3.0, "+3 in 3600s")


def test_counter_increase_spread_over_longer_than_the_window_does_not_breach() -> None:
    ev = evaluator(type="counter_increase", increase=3, within="1h")
    door_faults = counter({0: 0, 40: 1, 80: 2, 120: 3})
    verdicts = feed(ev, every(T0, T0 + 130 * MIN, 10 * MIN), door_faults)
    assert verdicts and not any(v.breach for _, v in verdicts)  # at most +2 in any hour


def test_counter_increase_reset_starts_counting_afresh() -> None:
    ev = evaluator(type="counter_increase", increase=3, within="1h")
    assert not breach(ev.observe(T0, 10.0, False))
    assert not breach(ev.observe(T0 + 10 * MIN, 11.0, False))
    assert not breach(ev.observe(T0 + 20 * MIN, 0.0, False))  # reset
    assert ev.observe(T0 + 30 * MIN, 3.0, False) == Verdict(True, 3.0, "+3 in 3600s")


# -- baseline_deviation ---------------------------------------------------------------------

#: Tuesday 3 March 2026, 00:00 in Shanghai.
SH_TUESDAY = dt.datetime(2026, 3, 3, tzinfo=SHANGHAI.tz).timestamp()


def baseline(ctx: Context = SHANGHAI, **fields: Any) -> Evaluator:
    return evaluator(ctx, type="baseline_deviation", point="total_power", ratio=0.3, **fields)


def history(ev: Evaluator, start: float, weeks: int, kw: Callable[[float], float]) -> None:
    """``weeks`` weeks of readings every 15 minutes from start; verdicts ignored."""
    feed(ev, every(start, start + weeks * WEEK, 15 * MIN), kw)


def flat(kw: float) -> Callable[[float], float]:
    return lambda t: kw


def test_baseline_deviation_hour_above_its_usual_by_more_than_ratio_breaches() -> None:
    ev = baseline(direction="above")
    history(ev, SH_TUESDAY - 4 * WEEK, 4, flat(10.0))
    three_am = SH_TUESDAY + 3 * HOUR
    verdicts = feed(ev, every(three_am, three_am + HOUR, 15 * MIN), flat(14.0))
    assert [t - three_am for t, _ in verdicts] == [30 * MIN, 45 * MIN]  # min_samples: 3
    assert verdicts[0][1] == Verdict(True, 14.0, "hour mean 14 vs baseline 10 (+40%)")


def test_baseline_deviation_within_ratio_does_not_breach() -> None:
    ev = baseline(direction="above")
    history(ev, SH_TUESDAY - 4 * WEEK, 4, flat(10.0))
    three_am = SH_TUESDAY + 3 * HOUR
    verdicts = feed(ev, every(three_am, three_am + HOUR, 15 * MIN), flat(11.0))
    assert verdicts and not any(v.breach for _, v in verdicts)


def test_baseline_deviation_says_nothing_without_min_weeks_of_history() -> None:
    ev = baseline(direction="above", min_weeks=2)
    history(ev, SH_TUESDAY - WEEK, 1, flat(10.0))
    three_am = SH_TUESDAY + 3 * HOUR
    assert feed(ev, every(three_am, three_am + HOUR, 15 * MIN), flat(14.0)) == []


def test_baseline_deviation_compares_the_same_local_hour_of_the_week() -> None:
    """A weekly job draws 30 kW on Tuesdays 03:00-04:00 in Shanghai (Monday 19:00 UTC): that
    hour is normal at 30 kW, and the other hours of the day are not."""
    three_am = SH_TUESDAY + 3 * HOUR

    def job(t: float) -> float:
        local = SHANGHAI.local(t)
        return 30.0 if (local.weekday(), local.hour) == (1, 3) else 10.0

    ev = baseline(direction="above")
    history(ev, SH_TUESDAY - 4 * WEEK, 4, job)
    assert SHANGHAI.local(three_am).strftime("%a %H:%M") == "Tue 03:00"
    normal = feed(ev, every(three_am, three_am + HOUR, 15 * MIN), flat(30.0))
    assert normal and not any(v.breach for _, v in normal)
    four_am = feed(ev, every(three_am + HOUR, three_am + 2 * HOUR, 15 * MIN), flat(30.0))
    assert four_am and all(v.breach for _, v in four_am)


def test_baseline_deviation_hours_follow_the_local_clock_across_a_dst_change() -> None:
    """London moves to summer time on Sunday 29 March 2026: Tuesday 03:00 on the 31st is
    compared with the Tuesdays 03:00 before, not with the instants 168 hours earlier."""
    london = Context(ZoneInfo("Europe/London"))
    tuesday = dt.datetime(2026, 3, 31, tzinfo=london.tz).timestamp()

    def job(t: float) -> float:
        local = london.local(t)
        return 30.0 if (local.weekday(), local.hour) == (1, 3) else 10.0

    ev = baseline(london, direction="both")
    history(ev, tuesday - 4 * WEEK + HOUR, 4, job)  # from Tuesday 3 March 00:00 GMT
    three_am = tuesday + 3 * HOUR  # 02:00 UTC: 168 hours earlier was 02:00 GMT, not 03:00
    assert london.local(three_am).strftime("%a %H:%M %Z") == "Tue 03:00 BST"
    verdicts = feed(ev, every(three_am, three_am + HOUR, 15 * MIN), job)
    assert verdicts and not any(v.breach for _, v in verdicts)


def test_baseline_deviation_hours_start_on_the_local_clock_hour() -> None:
    """In India (UTC+05:30) the hour 03:00-04:00 runs 21:30-22:30 UTC: three readings in it are
    one hour's mean, though they straddle a UTC hour."""
    india = Context(ZoneInfo("Asia/Kolkata"))
    tuesday = dt.datetime(2026, 3, 3, tzinfo=india.tz).timestamp()
    ev = baseline(india, direction="above")
    history(ev, tuesday - 4 * WEEK, 4, flat(10.0))
    three_am = tuesday + 3 * HOUR
    verdicts = feed(ev, every(three_am, three_am + HOUR, 20 * MIN), flat(14.0))
    assert [india.local(t).strftime("%H:%M") for t, _ in verdicts] == ["03:40"]
    assert verdicts[0][1].breach


# -- night_flow -----------------------------------------------------------------------------

#: Monday 2 March 2026, 00:00 in Shanghai.
SH_MONDAY = dt.datetime(2026, 3, 2, tzinfo=SHANGHAI.tz).timestamp()


def night_flow(**fields: Any) -> Evaluator:
    defaults = {"point": "flow", "window": "01:00-05:00", "above": 0.8, "nights": 2}
    return evaluator(SHANGHAI, type="night_flow", **{**defaults, **fields})


def water(minimums: list[float]) -> Callable[[float], float]:
    """Flow on night n (0, 1, ...): its minimum at 03:00, a little more the rest of the window;
    daytime demand outside it."""

    def flow(t: float) -> float:
        local = SHANGHAI.local(t)
        night = int((t - SH_MONDAY) // DAY)
        if not 1 <= local.hour < 5:
            return 6.0
        return minimums[night] + (0.0 if local.hour == 3 else 0.2)

    return flow


def local_hm(t: float) -> str:
    return SHANGHAI.local(t).strftime("%d %H:%M")


def test_night_flow_breaches_at_the_end_of_the_second_leaking_night_only() -> None:
    ev = night_flow()
    verdicts = feed(ev, every(SH_MONDAY, SH_MONDAY + 3 * DAY, 10 * MIN), water([0.3, 1.5, 1.5]))
    assert [(local_hm(t), v.breach) for t, v in verdicts] == [
        ("02 05:00", False),
        ("03 05:00", False),  # one leaking night is not yet a leak
        ("04 05:00", True),
    ]
    assert verdicts[-1][1].value == 1.5
    assert verdicts[-1][1].detail == "night of 2026-03-04: minimum 1.5, 2 night(s) in a row"


def test_night_flow_dry_night_resets_the_streak() -> None:
    ev = night_flow()
    flow = water([1.5, 0.3, 1.5, 1.5])
    verdicts = feed(ev, every(SH_MONDAY, SH_MONDAY + 4 * DAY, 10 * MIN), flow)
    assert [(local_hm(t), v.breach) for t, v in verdicts] == [
        ("02 05:00", False),
        ("03 05:00", False),
        ("04 05:00", False),
        ("05 05:00", True),
    ]


def test_night_flow_night_with_too_few_readings_says_nothing() -> None:
    ev = night_flow(min_samples=3)
    flow = water([1.5, 1.5, 1.5])
    verdicts = []
    for t in every(SH_MONDAY, SH_MONDAY + 3 * DAY, 10 * MIN):
        # The meter answers only twice in the second night's window (02:00 and 02:10).
        sparse = SH_MONDAY + DAY + HOUR <= t < SH_MONDAY + DAY + 5 * HOUR
        if sparse and not SH_MONDAY + DAY + 2 * HOUR <= t <= SH_MONDAY + DAY + 2 * HOUR + 10 * MIN:
            v = ev.missing(t)
        else:
            v = ev.observe(t, flow(t), False)
        if v is not None:
            verdicts.append((local_hm(t), v.breach))
    # The second night neither counts towards the streak nor breaks it.
    assert verdicts == [("02 05:00", False), ("04 05:00", True)]


def test_night_flow_streak_survives_a_restart_between_nights() -> None:
    r = rule(type="night_flow", point="flow", window="01:00-05:00", above=0.8, nights=2)
    flow = water([1.5, 1.5])
    before = r.evaluator(SHANGHAI)
    assert not any(v.breach for _, v in feed(before, every(SH_MONDAY, SH_MONDAY + DAY, MIN), flow))
    saved = before.snapshot()
    assert saved == {"streak": 1}

    after = r.evaluator(SHANGHAI)  # the engine restarted during the day
    after.restore(saved)
    verdicts = feed(after, every(SH_MONDAY + DAY, SH_MONDAY + 2 * DAY, MIN), flow)
    assert [(local_hm(t), v.breach) for t, v in verdicts] == [("03 05:00", True)]


def test_night_flow_window_closes_on_the_clock_when_readings_stop() -> None:
    ev = night_flow(nights=1)
    feed(ev, every(SH_MONDAY + HOUR, SH_MONDAY + 4 * HOUR, 10 * MIN), flat(1.5))
    assert ev.tick(SH_MONDAY + 4 * HOUR + 50 * MIN) is None
    closed = ev.tick(SH_MONDAY + 5 * HOUR)
    assert closed is not None and closed.breach and closed.value == 1.5


# -- meter_interval -------------------------------------------------------------------------


def test_meter_interval_fires_once_each_time_the_counter_passes_a_multiple() -> None:
    ev = evaluator(type="meter_interval", point="run_hours", every=2000)
    assert ev.instant
    assert ev.observe(T0, 1500.0, False) is None  # the first reading is the baseline
    assert not breach(ev.observe(T0 + 1, 1999.0, False))
    assert ev.observe(T0 + 2, 2001.0, False) == Verdict(True, 2001.0, "run_hours passed 2000")
    assert not breach(ev.observe(T0 + 3, 2500.0, False))
    assert ev.observe(T0 + 4, 4100.0, False) == Verdict(True, 4100.0, "run_hours passed 4000")


def test_meter_interval_served_intervals_survive_a_restart() -> None:
    r = rule(type="meter_interval", point="run_hours", every=2000)
    before = r.evaluator(UTC)
    before.observe(T0, 1500.0, False)
    assert breach(before.observe(T0 + 1, 2001.0, False))
    saved = before.snapshot()
    assert saved is not None and saved == {"served": 1}

    after = r.evaluator(UTC)  # the engine restarted
    after.restore(saved)
    assert not breach(after.observe(T0 + 2, 2100.0, False))  # not re-fired, not a baseline
    # Had it not been restored, the first reading would only have been a new baseline, and a
    # counter that passed 4000 while the engine was down would have been missed.
    missed = r.evaluator(UTC)
    assert missed.observe(T0 + 2, 4100.0, False) is None
    assert breach(after.observe(T0 + 3, 4100.0, False))


def test_meter_interval_counter_reset_takes_a_new_baseline() -> None:
    ev = evaluator(type="meter_interval", point="run_hours", every=2000)
    ev.observe(T0, 1500.0, False)
    assert breach(ev.observe(T0 + 1, 4100.0, False))
    assert ev.observe(T0 + 2, 30.0, False) is None  # the drive was replaced: counting from 30
    assert ev.snapshot() == {"served": 0}
    assert not breach(ev.observe(T0 + 3, 1999.0, False))
    assert breach(ev.observe(T0 + 4, 2030.0, False))


# -- validation: what a user editing site.yaml is told --------------------------------------


def errors(**fields: Any) -> list[dict[str, Any]]:
    with pytest.raises(ValidationError) as exc:
        rule(**fields)
    return [
        {"loc": e["loc"], "msg": e["msg"], "type": e["type"]}
        for e in exc.value.errors(include_url=False)
    ]


def test_threshold_with_both_above_and_below_is_refused() -> None:
    assert errors(type="threshold", above=26, below=5) == [
        {
            "loc": ("threshold",),
            "msg": "Value error, give exactly one of 'above' or 'below'",
            "type": "value_error",
        }
    ]


def test_threshold_clear_level_on_the_wrong_side_is_refused() -> None:
    (e,) = errors(type="threshold", above=26, clear=30)
    assert "'clear' must not be above 'above'" in e["msg"]


def test_night_flow_window_across_midnight_is_refused() -> None:
    assert errors(type="night_flow", window="05:00-01:00", above=0.8) == [
        {
            "loc": ("night_flow", "window"),
            "msg": "Value error, window must start before it ends, within one night",
            "type": "value_error",
        }
    ]


def test_night_flow_window_that_is_not_two_times_is_refused() -> None:
    (e,) = errors(type="night_flow", window="1am to 5am", above=0.8)
    assert e["loc"] == ("night_flow", "window")
    assert "window must look like 01:00-05:00" in e["msg"]


def test_stale_without_after_is_refused() -> None:
    assert errors(type="stale") == [
        {"loc": ("stale", "after"), "msg": "Field required", "type": "missing"}
    ]


def test_a_duration_in_words_is_refused_with_the_accepted_forms() -> None:
    (e,) = errors(type="stale", after="5 minutes")
    assert e["loc"] == ("stale", "after")
    assert "expected a duration such as 30s, 5m or 2h" in e["msg"]


def test_a_misspelt_field_is_refused_by_name() -> None:
    (e,) = errors(type="threshold", abov=26, above=26)
    assert (e["loc"], e["type"]) == (("threshold", "abov"), "extra_forbidden")


def test_an_unknown_rule_type_lists_the_known_ones() -> None:
    (e,) = errors(type="thresholds", above=26)
    assert e["type"] == "union_tag_invalid"
    assert "'threshold', 'rate_of_change', 'stale'" in e["msg"]
