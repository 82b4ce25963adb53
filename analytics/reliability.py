"""Failure-trend statistics of one repairable item: the Crow-AMSAA (power-law NHPP) model and the
Laplace trend test, from its cumulative failure times.

Model (MIL-HDBK-189C; ReliaSoft RGA "Crow-AMSAA (NHPP)"; NIST/SEMATECH e-Handbook 8.1.7.2)
    Failures form a non-homogeneous Poisson process with E[N(t)] = λ·t^β and instantaneous
    intensity ρ(t) = λ·β·t^(β−1): β > 1 the item is deteriorating, β < 1 improving.
    Observed over (0, T]: time-terminated at a chosen T, or failure-terminated at T = tₙ.
    β̂ = n / Σ ln(T/tᵢ), λ̂ = n / T^β̂ (maximum likelihood); unbiased β̄ = (n−2)/n·β̂
    (failure-terminated) or (n−1)/n·β̂ (time-terminated).
    At T: cumulative intensity λ̂·T^(β̂−1) = n/T, cumulative MTBF T/n, instantaneous MTBF
    1/ρ(T) = T/(n·β̂).

Bounds (90 % two-sided, as ReliaSoft's "Crow-AMSAA Confidence Bounds")
    - Cumulative failure intensity, Fisher matrix: the inverse of the log-likelihood's negative
      Hessian in (λ, β) gives Var and Cov, the delta method Var(λ_c), and
      λ_c·exp(±z·√Var(λ_c)/λ_c) the bounds (z the normal quantile, from scipy).
    - β, Crow: 2n·β/β̂ is χ² with 2(n−1) degrees of freedom failure-terminated, 2n
      time-terminated; bounds β̂·χ²(α/2)/(2n) and β̂·χ²(1−α/2)/(2n) (left-tail quantiles,
      from scipy).

Laplace test (ReliaSoft RGA Appendix B; NIST e-Handbook 8.2.3.4)
    U = (Σtᵢ/m − T/2) / (T·√(1/(12m))) over the m times before the end: failure-terminated the
    first n−1 times against tₙ, time-terminated all n against T. |U| > 1.96: a trend at 5 %
    two-sided, worsening when U > 0.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from itertools import accumulate
from typing import Any, Literal

from scipy.stats import chi2, norm

from core.errors import AppError

Terminated = Literal["failure", "time"]
Trend = Literal["worsening", "improving", "no trend"]

MIN_FAILURES = 3
CONFIDENCE = 0.90  # two-sided, for the Fisher-matrix and Crow bounds
LAPLACE_CRITICAL = 1.96  # |U| beyond it: a trend at 5 %, two-sided (issue 17, DOMAIN.md)

JSON_KEYS = (
    "n",
    "beta",
    "beta_unbiased",
    "lambda",
    "mtbf_instantaneous",
    "mtbf_cumulative",
    "intensity_cumulative",
    "intensity_cumulative_lower",
    "intensity_cumulative_upper",
    "beta_lower",
    "beta_upper",
    "laplace_u",
    "trend",
)


class TooFewFailures(AppError):
    """Fewer than three failures: the model and its bounds are not defined."""

    status_code = 422
    error = "too_few_failures"

    def __init__(self, n: int):
        super().__init__(
            f"{n} failure(s): the Crow-AMSAA model needs at least {MIN_FAILURES}",
            detail={"n": n, "minimum": MIN_FAILURES},
        )
        self.n = n


class InvalidFailureTimes(AppError):
    """Failure times the model cannot take: not positive, not finite, after the end, or all at
    the end."""

    status_code = 422
    error = "invalid_failure_times"


@dataclass(frozen=True)
class Growth:
    """A fitted Crow-AMSAA model with its bounds and the Laplace verdict, in the times' unit."""

    n: int
    beta: float
    beta_unbiased: float
    lam: float
    mtbf_instantaneous: float
    mtbf_cumulative: float
    intensity_cumulative: float
    intensity_cumulative_lower: float
    intensity_cumulative_upper: float
    beta_lower: float
    beta_upper: float
    laplace_u: float
    trend: Trend
    end: float
    terminated: Terminated

    def intensity(self, t: float) -> float:
        """The instantaneous failure intensity λβt^(β−1) at t > 0 (failures per time unit)."""
        return self.lam * self.beta * t ** (self.beta - 1.0)

    def cumulative_intensity(self, t: float) -> float:
        """The cumulative failure intensity λt^(β−1) at t > 0: expected failures over (0, t] / t."""
        return self.lam * t ** (self.beta - 1.0)

    def expected_failures(self, t: float) -> float:
        """E[N(t)] = λt^β, the expected number of failures over (0, t]."""
        return self.lam * t**self.beta

    def intensity_bounds(self, t: float, *, confidence: float = CONFIDENCE) -> tuple[float, float]:
        """Fisher-matrix two-sided bounds on the instantaneous intensity at t > 0."""
        value = self.intensity(t)
        d_lam = self.beta * t ** (self.beta - 1.0)
        d_beta = self.lam * t ** (self.beta - 1.0) * (1.0 + self.beta * math.log(t))
        return _log_bounds(value, d_lam, d_beta, self._covariance(), confidence)

    def cumulative_intensity_bounds(
        self, t: float, *, confidence: float = CONFIDENCE
    ) -> tuple[float, float]:
        """Fisher-matrix two-sided bounds on the cumulative intensity at t > 0."""
        value = self.cumulative_intensity(t)
        d_lam = t ** (self.beta - 1.0)
        d_beta = self.lam * t ** (self.beta - 1.0) * math.log(t)
        return _log_bounds(value, d_lam, d_beta, self._covariance(), confidence)

    def _covariance(self) -> tuple[float, float, float]:
        return _fisher_covariance(self.n, self.lam, self.beta, self.end)

    def as_json(self) -> dict[str, Any]:
        """The `plantroom analytics growth --json` object: exactly JSON_KEYS."""
        return {
            "n": self.n,
            "beta": self.beta,
            "beta_unbiased": self.beta_unbiased,
            "lambda": self.lam,
            "mtbf_instantaneous": self.mtbf_instantaneous,
            "mtbf_cumulative": self.mtbf_cumulative,
            "intensity_cumulative": self.intensity_cumulative,
            "intensity_cumulative_lower": self.intensity_cumulative_lower,
            "intensity_cumulative_upper": self.intensity_cumulative_upper,
            "beta_lower": self.beta_lower,
            "beta_upper": self.beta_upper,
            "laplace_u": self.laplace_u,
            "trend": self.trend,
        }


def from_interarrival(gaps: Iterable[float]) -> list[float]:
    """Cumulative failure times from the times between failures (the first from time 0)."""
    return list(accumulate(float(g) for g in gaps))


def crow_amsaa(times: Sequence[float], *, end: float | None = None) -> Growth:
    """Fit the Crow-AMSAA model to cumulative failure times (any order, ties allowed);
    time-terminated at `end`, or failure-terminated at the last failure when `end` is None."""
    ts = _checked(times, end)
    n = len(ts)
    terminated: Terminated = "failure" if end is None else "time"
    big_t = ts[-1] if end is None else float(end)
    log_sum = sum(math.log(big_t / t) for t in ts)
    if log_sum <= 0.0:
        raise InvalidFailureTimes(
            "every failure is at the end of the observation: no trend can be estimated",
            detail={"end": big_t},
        )
    beta = n / log_sum
    lam = n / big_t**beta
    beta_unbiased = (n - 2) / n * beta if terminated == "failure" else (n - 1) / n * beta
    dof = 2 * (n - 1) if terminated == "failure" else 2 * n
    alpha = 1.0 - CONFIDENCE
    beta_lower = beta * float(chi2.ppf(alpha / 2, dof)) / (2 * n)
    beta_upper = beta * float(chi2.ppf(1 - alpha / 2, dof)) / (2 * n)
    u = laplace(ts, big_t, terminated)
    growth = Growth(
        n=n,
        beta=beta,
        beta_unbiased=beta_unbiased,
        lam=lam,
        mtbf_instantaneous=big_t / (n * beta),
        mtbf_cumulative=big_t / n,
        intensity_cumulative=n / big_t,
        intensity_cumulative_lower=math.nan,
        intensity_cumulative_upper=math.nan,
        beta_lower=beta_lower,
        beta_upper=beta_upper,
        laplace_u=u,
        trend=verdict(u),
        end=big_t,
        terminated=terminated,
    )
    lower, upper = growth.cumulative_intensity_bounds(big_t)
    return replace(growth, intensity_cumulative_lower=lower, intensity_cumulative_upper=upper)


def laplace(times: Sequence[float], end: float, terminated: Terminated) -> float:
    """The Laplace statistic U: failure-terminated the first n−1 times against tₙ (= end),
    time-terminated all n against end."""
    ts = sorted(float(t) for t in times)
    used = ts[:-1] if terminated == "failure" else ts
    m = len(used)
    if m == 0 or end <= 0:
        raise InvalidFailureTimes("the Laplace test needs a failure before the end")
    return (sum(used) / m - end / 2.0) / (end * math.sqrt(1.0 / (12.0 * m)))


def verdict(u: float) -> Trend:
    """The Laplace verdict at 5 % two-sided: 'worsening' (U > 1.96), 'improving' (U < −1.96)."""
    if u > LAPLACE_CRITICAL:
        return "worsening"
    if u < -LAPLACE_CRITICAL:
        return "improving"
    return "no trend"


def mil_hdbk_189(times: Sequence[float], end: float, terminated: Terminated) -> tuple[float, int]:
    """The MIL-HDBK-189 trend statistic 2Σln(T/tᵢ) and its χ² degrees of freedom (2n
    time-terminated, 2(n−1) failure-terminated): small values mean a worsening trend."""
    ts = [float(t) for t in times]
    n = len(ts)
    stat = 2.0 * sum(math.log(end / t) for t in ts)
    return stat, (2 * n if terminated == "time" else 2 * (n - 1))


def _checked(times: Sequence[float], end: float | None) -> list[float]:
    ts = sorted(float(t) for t in times)
    if len(ts) < MIN_FAILURES:
        raise TooFewFailures(len(ts))
    bad = [t for t in ts if not math.isfinite(t) or t <= 0.0]
    if bad:
        raise InvalidFailureTimes(
            f"failure times must be positive numbers; got {bad[0]!r}", detail={"time": bad[0]}
        )
    if end is not None and (not math.isfinite(end) or end < ts[-1]):
        raise InvalidFailureTimes(
            f"the end of the observation ({end!r}) is before the last failure ({ts[-1]!r})",
            detail={"end": end, "last_failure": ts[-1]},
        )
    return ts


def _fisher_covariance(n: int, lam: float, beta: float, end: float) -> tuple[float, float, float]:
    """Var(λ̂), Var(β̂), Cov(λ̂, β̂): the inverse of the negative Hessian of
    Λ = n·lnλ + n·lnβ − λT^β + (β−1)·Σln tᵢ at the estimates."""
    ln_t = math.log(end)
    t_beta = end**beta
    a = n / lam**2  # −∂²Λ/∂λ²
    b = t_beta * ln_t  # −∂²Λ/∂λ∂β
    c = n / beta**2 + lam * t_beta * ln_t**2  # −∂²Λ/∂β²
    det = a * c - b * b
    return c / det, a / det, -b / det


def _log_bounds(
    value: float,
    d_lam: float,
    d_beta: float,
    cov: tuple[float, float, float],
    confidence: float,
) -> tuple[float, float]:
    var_lam, var_beta, cov_lb = cov
    var = d_lam**2 * var_lam + d_beta**2 * var_beta + 2.0 * d_lam * d_beta * cov_lb
    z = float(norm.ppf(1.0 - (1.0 - confidence) / 2.0))
    spread = math.exp(z * math.sqrt(max(var, 0.0)) / value)
    return value / spread, value * spread
