"""The Crow-AMSAA model and the Laplace test (analytics.reliability) against published worked
examples, and the bounds against their closed forms.

Sources
    [RGA] ReliaSoft, Reliability Growth & Repairable System Analysis reference, "Crow-AMSAA
          (NHPP)", Table 5.1 "Developmental test data for two identical systems" (22 failures,
          failure-terminated at 620 h; weibull.com/RelGrowthWeb/Parameter_Estimation_(crow).htm).
          Its published answers as printed by the `reliability` package, which reproduces
          ReliaSoft's method (reliability.readthedocs.io, "Reliability growth", Example 2:
          Beta 0.61421, Lambda 0.42394, MTBF cumulative 28.18182, instantaneous 45.883,
          intensity cumulative 0.035484, instantaneous 0.021795).
    [AUTO] V.V. Krivtsov and J.W. Case (1999), SAE 1999-01-3220, the automotive failures, as
          fitted in the same documentation's Example 3: Beta 0.67922, Lambda 0.0033282,
          MTBF cumulative 13190, instantaneous 19419.22019.
    [MKK] Modarres, Kaminskiy, Krivtsov, Reliability Engineering and Risk Analysis, Example 5.11
          (p. 275): 30 interarrival times, failure-terminated; Laplace U = 2.409 (worsening at
          95 %), β̂ = 1.588, λ̂ = 3.703e-05 (reliability.readthedocs.io, "ROCOF").
    [RGA-B] ReliaSoft, "Crow-AMSAA Confidence Bounds" (Fisher matrix on the cumulative failure
          intensity; Crow's χ² bounds on β, "left-tail probability"), the formulas checked
          here in their closed forms with scipy's quantiles.
    [NIST] NIST/SEMATECH e-Handbook 8.2.3.4 "Trend tests" (Laplace, MIL-HDBK-189).
"""

from __future__ import annotations

import math

import pytest
from scipy.stats import chi2, norm

from analytics.reliability import (
    JSON_KEYS,
    InvalidFailureTimes,
    TooFewFailures,
    crow_amsaa,
    from_interarrival,
    laplace,
    mil_hdbk_189,
    verdict,
)

#: [RGA] Table 5.1, total test time at each of the 22 failures.
RGA_TABLE_5_1 = [
    2.7, 10.3, 12.5, 30.6, 57.0, 61.3, 80.0, 109.5, 125.0, 128.6, 143.8,
    167.9, 229.2, 296.7, 320.6, 328.2, 366.2, 396.7, 421.1, 438.2, 501.2, 620.0,
]  # fmt: skip

#: [AUTO] the ten failures (km).
AUTOMOTIVE = [5248, 7454, 16890, 17200, 38700, 45000, 49390, 69040, 72280, 131900]

#: [MKK] Example 5.11, times between failures.
MKK_5_11_GAPS = [
    104, 131, 1597, 59, 4, 503, 157, 6, 118, 173, 114, 62, 101, 216, 106,
    140, 1, 102, 3, 393, 96, 232, 89, 61, 37, 293, 7, 165, 87, 99,
]  # fmt: skip


def test_rga_table_5_1_matches_the_published_parameters_and_mtbfs():
    g = crow_amsaa(RGA_TABLE_5_1)
    assert g.n == 22 and g.terminated == "failure" and g.end == 620.0
    assert round(g.beta, 5) == 0.61421
    assert round(g.lam, 5) == 0.42394
    assert round(g.mtbf_cumulative, 5) == 28.18182
    assert round(g.mtbf_instantaneous, 3) == 45.883
    assert round(g.intensity_cumulative, 6) == 0.035484
    assert round(g.intensity(620.0), 6) == 0.021795


def test_automotive_example_matches_the_published_parameters_and_mtbfs():
    g = crow_amsaa(AUTOMOTIVE)
    assert round(g.beta, 5) == 0.67922
    assert g.lam == pytest.approx(0.0033282, abs=5e-8)
    assert round(g.mtbf_cumulative, 5) == 13190
    assert round(g.mtbf_instantaneous, 5) == 19419.22019


def test_mkk_example_5_11_from_interarrival_times_matches_laplace_and_parameters():
    times = from_interarrival(MKK_5_11_GAPS)
    assert times[:3] == [104.0, 235.0, 1832.0] and times[-1] == 5256.0
    g = crow_amsaa(times)
    assert round(g.laplace_u, 3) == 2.409
    assert g.trend == "worsening"
    assert round(g.beta, 3) == 1.588
    assert g.lam == pytest.approx(3.703e-05, abs=5e-9)


def test_unbiased_beta_is_n_minus_2_over_n_failure_terminated_and_n_minus_1_time_terminated():
    """[RGA] "Biasing and unbiasing of beta"."""
    failure = crow_amsaa(RGA_TABLE_5_1)
    time = crow_amsaa(RGA_TABLE_5_1, end=700.0)
    assert failure.beta_unbiased == pytest.approx(20 / 22 * failure.beta, rel=1e-12)
    assert round(failure.beta_unbiased, 4) == 0.5584
    assert time.beta_unbiased == pytest.approx(21 / 22 * time.beta, rel=1e-12)


def test_crow_bounds_on_beta_are_the_chi_square_quantiles_of_2n_beta_over_beta_hat():
    """[RGA-B] failure-terminated: 2(n−1) degrees of freedom; time-terminated: 2n."""
    g = crow_amsaa(RGA_TABLE_5_1)
    assert g.beta_lower == pytest.approx(g.beta * chi2.ppf(0.05, 42) / 44, rel=1e-12)
    assert g.beta_upper == pytest.approx(g.beta * chi2.ppf(0.95, 42) / 44, rel=1e-12)
    # χ²(0.05, 42) = 28.144 and χ²(0.95, 42) = 58.124 in the printed tables.
    assert round(g.beta_lower, 3) == round(0.614210 * 28.144 / 44, 3) == 0.393
    assert round(g.beta_upper, 3) == round(0.614210 * 58.124 / 44, 3) == 0.811
    t = crow_amsaa(RGA_TABLE_5_1, end=620.0)
    assert t.beta_lower == pytest.approx(t.beta * chi2.ppf(0.05, 44) / 44, rel=1e-12)
    assert t.beta_upper == pytest.approx(t.beta * chi2.ppf(0.95, 44) / 44, rel=1e-12)


def test_fisher_bounds_on_the_cumulative_intensity_at_the_end_are_n_over_t_exp_z_over_root_n():
    """At the estimates the Fisher matrix gives Var(ln λ_c(T)) = 1/n exactly (hand-worked:
    the information in (ln λ, β) is n·[[1, ln T], [ln T, 1/β² + ln²T]], its determinant n²/β²),
    so the 90 % bounds are (n/T)·exp(±1.6449/√n)."""
    g = crow_amsaa(RGA_TABLE_5_1)
    z = norm.ppf(0.95)
    assert g.intensity_cumulative_lower == pytest.approx(22 / 620 * math.exp(-z / math.sqrt(22)))
    assert g.intensity_cumulative_upper == pytest.approx(22 / 620 * math.exp(z / math.sqrt(22)))
    assert round(g.intensity_cumulative_lower, 5) == 0.02499
    assert round(g.intensity_cumulative_upper, 5) == 0.05039


def test_fisher_bounds_before_the_end_contain_the_estimate_and_widen_away_from_the_data():
    g = crow_amsaa(RGA_TABLE_5_1)
    low, high = g.cumulative_intensity_bounds(300.0)
    assert low < g.cumulative_intensity(300.0) < high
    lo_i, hi_i = g.intensity_bounds(620.0)
    assert lo_i < g.intensity(620.0) < hi_i
    far = g.intensity_bounds(5000.0)
    assert far[1] / far[0] > hi_i / lo_i


def test_laplace_failure_terminated_uses_the_first_n_minus_1_times_against_the_last():
    """[NIST] / [RGA] the failure-terminated form; hand-worked on 1, 2, 6: the first two
    against 6: (1.5 − 3) / (6·√(1/24)) = −1.2247."""
    assert laplace([1, 2, 6], 6, "failure") == pytest.approx(-1.5 / (6 * math.sqrt(1 / 24)))
    assert round(laplace([1, 2, 6], 6, "failure"), 4) == -1.2247


def test_laplace_time_terminated_uses_all_n_times_against_the_end():
    """Hand-worked: 1, 2, 6 against 10: (3 − 5) / (10·√(1/36)) = −1.2."""
    assert laplace([6, 1, 2], 10, "time") == pytest.approx(-1.2)
    assert crow_amsaa([6, 1, 2], end=10).laplace_u == pytest.approx(-1.2)


def test_verdict_is_a_trend_only_beyond_1_96_either_way():
    assert verdict(1.97) == "worsening"
    assert verdict(-1.97) == "improving"
    assert verdict(1.96) == "no trend" and verdict(-1.5) == "no trend"


def test_time_terminated_fit_uses_the_end_not_the_last_failure():
    g = crow_amsaa(RGA_TABLE_5_1, end=700.0)
    assert g.terminated == "time" and g.end == 700.0
    assert g.beta == pytest.approx(22 / sum(math.log(700.0 / t) for t in RGA_TABLE_5_1))
    assert g.lam == pytest.approx(22 / 700.0**g.beta)
    assert g.mtbf_cumulative == pytest.approx(700.0 / 22)


def test_unsorted_input_and_ties_give_the_same_fit_as_sorted():
    shuffled = list(reversed(RGA_TABLE_5_1))
    assert crow_amsaa(shuffled) == crow_amsaa(RGA_TABLE_5_1)
    tied = crow_amsaa([5.0, 5.0, 9.0, 12.0, 12.0])
    assert tied.n == 5 and tied.beta == pytest.approx(5 / (2 * math.log(12 / 5) + math.log(12 / 9)))


def test_mil_hdbk_189_statistic_shares_the_sum_of_the_mle():
    stat, dof = mil_hdbk_189(RGA_TABLE_5_1, 620.0, "failure")
    assert dof == 42
    assert stat == pytest.approx(2 * 22 / crow_amsaa(RGA_TABLE_5_1).beta)


def test_fewer_than_three_failures_is_refused_with_the_count():
    with pytest.raises(TooFewFailures) as exc:
        crow_amsaa([10.0, 20.0])
    assert exc.value.n == 2 and exc.value.status_code == 422


@pytest.mark.parametrize(
    ("times", "end"),
    [([0.0, 1.0, 2.0], None), ([1.0, -2.0, 3.0], None), ([1.0, 2.0, 3.0], 2.5), ([4.0] * 3, None)],
    ids=["zero", "negative", "end-before-last", "all-at-the-end"],
)
def test_times_the_model_cannot_take_are_refused(times: list[float], end: float | None):
    with pytest.raises(InvalidFailureTimes):
        crow_amsaa(times, end=end)


def test_as_json_has_exactly_the_cli_keys():
    out = crow_amsaa(RGA_TABLE_5_1).as_json()
    assert tuple(out) == JSON_KEYS
    assert out["lambda"] == pytest.approx(0.42394, abs=5e-6) and out["trend"] == "improving"
