"""Baselines: the Guideline 14 metrics, the degree-day and hour-of-week models, the savings
uncertainty, each against hand-worked figures; and what the report refuses."""

from __future__ import annotations

import datetime as dt
import math
from zoneinfo import ZoneInfo

import pytest

from analytics.baselines import (
    NotEnoughData,
    RetrofitMeter,
    UnknownRetrofit,
    baseline_report,
    cv_rmse,
    fit_degree_day,
    fit_hour_of_week,
    fit_metrics,
    fit_segment,
    lag1_autocorrelation,
    nmbe,
    savings_uncertainty,
    t_quantile,
)
from analytics.meters import Meter
from analytics.usage import Use
from plantroom.site import load_site
from tests.analytics.simulated import SimulatedUsage

TZ = ZoneInfo("Asia/Shanghai")


def test_cv_rmse_divides_the_squared_errors_by_n_minus_p() -> None:
    # Residuals -1, 1, -1, 1: SSE 4 over n - p = 3, mean 13: 100 * sqrt(4 / 3) / 13.
    assert cv_rmse([10, 12, 14, 16], [11, 11, 15, 15], 1) == pytest.approx(8.8823, abs=1e-4)


def test_nmbe_divides_the_summed_bias_by_n_minus_p_times_the_mean() -> None:
    # Every prediction 1 low: 100 * 4 / (3 * 13) = 10.256 %.
    assert nmbe([10, 12, 14, 16], [9, 11, 13, 15], 1) == pytest.approx(10.2564, abs=1e-4)


def test_a_fit_meets_the_monthly_limits_only_within_both() -> None:
    assert fit_metrics([10, 12, 14, 16], [11, 11, 15, 15], 1, (15, 5)).meets
    biased = fit_metrics([10, 12, 14, 16], [9, 11, 13, 15], 1, (15, 5))
    assert biased.cv_rmse < 15 and not biased.meets  # NMBE 10.3 % > 5 %


def test_lag_one_autocorrelation_of_alternating_residuals_is_negative() -> None:
    # Around mean 0: (-1 - 1 - 1) / 4.
    assert lag1_autocorrelation([1, -1, 1, -1]) == -0.75


def test_student_t_matches_the_tables() -> None:
    assert t_quantile(0.9, 10) == pytest.approx(1.812, abs=1e-3)
    assert t_quantile(0.95, 5) == pytest.approx(2.571, abs=1e-3)
    assert t_quantile(0.9, 363) == pytest.approx(1.649, abs=1e-3)  # eemeter's default


def test_savings_uncertainty_follows_guideline_14_annex_b() -> None:
    # 1.26 * t(0.9, 363) * CV * E_base * sqrt((n/n') * (1 + 2/n') / m), rho 0 so n' = n:
    # 1.26 * 1.6491 * 0.1 * 3000 * sqrt(1.005479 / 30) = 623.36 * 0.183073 = 114.12 kWh.
    assert savings_uncertainty(
        cv=0.1, n=365, p=2, rho=0.0, m=30, predicted=3000.0
    ) == pytest.approx(114.12, abs=0.05)
    # rho 0.5: n' = 365 * 0.5 / 1.5 = 121.67, n/n' = 3: sqrt(3 * 1.016438 / 30) = 0.318816.
    assert savings_uncertainty(
        cv=0.1, n=365, p=2, rho=0.5, m=30, predicted=3000.0
    ) == pytest.approx(198.73, abs=0.05)


def _noise(i: int) -> float:
    """±2 alternating in a pattern no temperature follows."""
    return 2.0 if (i * 7) % 3 == 0 else -1.0


def test_degree_day_segment_finds_the_cooling_balance_point_and_slope() -> None:
    temps = [5 + (i * 13) % 31 for i in range(120)]  # 5..35 °C, shuffled
    use = [100 + 5 * max(t - 22, 0) + _noise(i) for i, t in enumerate(temps)]
    seg = fit_segment(use, [float(t) for t in temps])
    assert seg.cooling_balance_c == 22.0 and seg.heating_slope is None
    assert seg.cooling_slope == pytest.approx(5.0, abs=0.1)
    assert seg.intercept == pytest.approx(100.0, abs=1.0)


def test_degree_day_segment_without_weather_dependence_is_intercept_only() -> None:
    temps = [float(5 + (i * 13) % 31) for i in range(120)]
    seg = fit_segment([100 + _noise(i) for i in range(120)], temps)
    assert (seg.heating_slope, seg.cooling_slope, seg.p) == (None, None, 1)


def test_degree_day_model_fits_workdays_and_days_off_apart() -> None:
    monday = dt.date(2026, 3, 2)
    days = []
    for i in range(210):
        d = monday + dt.timedelta(days=i)
        t = float(5 + (i * 13) % 31)
        base, slope = (1000.0, 40.0) if d.weekday() < 5 else (300.0, 10.0)
        days.append((d, base + slope * max(16 - t, 0) + _noise(i), t))
    model = fit_degree_day(days)
    assert model.workday.heating_slope == pytest.approx(40, abs=1)
    assert model.day_off is not None and model.day_off.heating_slope == pytest.approx(10, abs=1)
    assert model.predict_day(dt.date(2026, 6, 6), 6.0) == pytest.approx(400, abs=5)  # Saturday


def test_hour_of_week_model_predicts_each_hours_mean() -> None:
    monday = dt.datetime(2026, 3, 2, tzinfo=TZ)
    hours = [(monday + dt.timedelta(hours=h, weeks=w), 10.0 + w) for w in range(2) for h in (0, 9)]
    model = fit_hour_of_week(hours)
    assert model.p == 2
    assert model.predict_hour(monday + dt.timedelta(weeks=5, hours=9)) == 10.5
    assert model.predict_hour(monday + dt.timedelta(hours=3)) == 10.5  # no data: the mean


# --- the report ---------------------------------------------------------------------------------


class FlatUsage:
    """An in-memory Usage: 100 kWh every day, 10 °C, from `first` on (a stand-in for the
    stores, which analytics.store_usage reads)."""

    def __init__(self, first: dt.date):
        self.first = first

    def daily(self, meter: Meter, first: dt.date, last: dt.date) -> list[Use]:
        out = []
        d = max(first, self.first)
        while d <= last:
            s = dt.datetime.combine(d, dt.time(), TZ)
            out.append(Use(s, s + dt.timedelta(days=1), 100.0 + (d.toordinal() % 3)))
            d += dt.timedelta(days=1)
        return out

    def hourly(self, meter: Meter, start: dt.datetime, end: dt.datetime) -> list[Use]:
        return []

    def temperature_daily(self, first: dt.date, last: dt.date) -> dict[dt.date, float | None]:
        return {u.start.date(): 10.0 for u in self.daily(None, first, last)}  # type: ignore[arg-type]

    def temperature_hourly(self, start: dt.datetime, end: dt.datetime) -> list[float | None]:
        return []


def test_a_baseline_with_too_few_days_says_how_many_it_has_and_needs() -> None:
    site = load_site("config/sites/demo")
    usage = FlatUsage(dt.date(2026, 5, 2))  # 30 days before the retrofit
    with pytest.raises(NotEnoughData) as err:
        baseline_report(
            site, usage, meter_id="a-main", retrofit="a-led-2026", today=dt.date(2026, 7, 1)
        )
    assert err.value.status_code == 422
    assert err.value.detail == {"has_days": 30, "needs_days": 329, "baseline_days": 365}
    assert "has 30 days" in err.value.message and "needs 329" in err.value.message


def test_a_baseline_of_a_short_period_fits_on_what_it_has() -> None:
    site = load_site("config/sites/demo")
    report = baseline_report(
        site,
        FlatUsage(dt.date(2026, 5, 2)),
        meter_id="a-main",
        start=dt.date(2026, 5, 2),
        end=dt.date(2026, 6, 1),
        today=dt.date(2026, 7, 1),
    )
    assert report["model"]["type"] == "degree_day"
    assert report["baseline"] == {"from": "2026-05-02", "to": "2026-06-01"}
    assert report["savings"] is None and len(report["series"]) == 30


def test_an_unknown_retrofit_is_404_and_one_on_another_meter_is_422() -> None:
    site = load_site("config/sites/demo")
    usage = FlatUsage(dt.date(2025, 1, 1))
    with pytest.raises(UnknownRetrofit):
        baseline_report(site, usage, meter_id="a-main", retrofit="nope", today=dt.date(2026, 7, 1))
    with pytest.raises(RetrofitMeter):
        baseline_report(
            site, usage, meter_id="b-main", retrofit="a-led-2026", today=dt.date(2026, 7, 1)
        )


def test_simulated_usage_hours_sum_to_the_days() -> None:
    site = load_site("config/sites/demo")
    start = dt.datetime(2026, 3, 2, tzinfo=TZ)
    usage = SimulatedUsage(site, start, start + dt.timedelta(days=2))
    meter = Meter("a-main", "", None, "bldg-a", "electricity", "kWh", "telemetry", "counter",
                  "import_energy", None, None)  # fmt: skip
    hours = usage.hourly(meter, start, start + dt.timedelta(days=1))
    (day,) = usage.daily(meter, dt.date(2026, 3, 2), dt.date(2026, 3, 2))
    assert len(hours) == 24 and math.isclose(sum(h.amount for h in hours), day.amount)
