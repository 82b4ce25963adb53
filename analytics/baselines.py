"""Baselines and the savings they measure, to ASHRAE Guideline 14.

Two models, chosen by what the site has:

* **degree_day** (where ``energy.outdoor_temperature`` exists): the CalTRACK daily method
  (openeemeter/caltrack ``docs/methods.rst`` v2.0, section 3): usage per day =
  mu + beta_H * HDD + beta_C * CDD, with HDD = max(T_h - T_mean, 0) and CDD = max(T_mean - T_c, 0)
  from the day's mean outdoor temperature (3.3.4, 3.3.5); a grid search of the heating and
  cooling balance points (3.2.1; 0-30 °C in 1 °C steps: inside CalTRACK's 30-90 °F range, finer
  than its 3 °F maximum step, 3.2.3), each with at least 10 days and 20 degree-days that are
  non-zero (3.2.2.2); the candidates intercept-only, HDD-only, CDD-only and HDD+CDD (3.4.3.1)
  qualify only with positive parameters (3.4.3.2) whose p-value is below 0.1 (the
  `get_parameter_p_value_too_high_warning` rule of openeemeter/eemeter's implementation), so an
  insignificant term drops out; the highest adjusted R² wins (3.4.3.3). Offices are run by the
  working week, so the method is fitted twice, on workdays (Monday-Friday) and on days off, each
  with its own intercept, balance points and slopes: the weekday/weekend indicator with its
  interactions. p counts the parameters of both.
* **hour_of_week** (no temperature): the mean usage of each of the 168 local hours of the week,
  the time-of-week part of LBNL's TOWT model (Mathieu et al. 2011; CalTRACK 3.7) without its
  temperature terms; p = the hours of the week that have data.

Goodness of fit, ASHRAE Guideline 14-2014 (DOMAIN.md):
CV(RMSE) = 100 * sqrt(sum((y - yhat)^2) / (n - p)) / ybar and
NMBE = 100 * sum(y - yhat) / ((n - p) * ybar), on the model's own resolution (daily or hourly,
against the Guideline's limits for hourly data, 30 % and ±10 %, the only ones it gives for data
finer than monthly) and summed by calendar month (limits 15 % and ±5 %). The months are sums of
the model's predictions, not a regression on months, so no parameter was fitted to them and only
the mean's degree of freedom is taken (p = 1); with p = 168 the hour-of-week model would have
none left.

Savings of a retrofit (IPMVP avoided energy; CalTRACK 3.6.1): the baseline is fitted on the
``baseline_days`` before the retrofit's date and predicts the reporting period (the date to
min(today, ``to``)); savings = predicted - actual. Their uncertainty is ASHRAE Guideline 14-2014
Annex B's fractional savings uncertainty for autocorrelated residuals (after Reddy and Claridge
2000), as implemented by openeemeter/eemeter's ``metered_savings`` (``_compute_fsu_error``, which
replaces the 1.26 by a polynomial in the reporting months):

    dE / E_save = 1.26 * t * CV * sqrt((n / n') * (1 + 2 / n') * (1 / m)) / F

with CV = CV(RMSE) / 100 of the baseline fit, n baseline points, m reporting points,
n' = n * (1 - rho) / (1 + rho) (rho = the lag-1 autocorrelation of the baseline residuals),
F = E_save / E_base (the saved fraction of the predicted use) and t the two-sided Student t at
90 % confidence with n - p degrees of freedom (eemeter's default t = 1.649 for 363). So the
absolute uncertainty is dE = 1.26 * t * CV * E_base * sqrt((n / n') * (1 + 2 / n') / m).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from zoneinfo import ZoneInfo

from analytics.meters import Meter, meter_tree
from analytics.site import AnalyticsSite, Retrofit
from analytics.usage import BadPeriod, Usage
from core.errors import AppError

#: Guideline 14 calibration limits, (CV(RMSE) %, |NMBE| %).
HOURLY_LIMITS = (30.0, 10.0)
MONTHLY_LIMITS = (15.0, 5.0)
#: Balance points searched, °C (CalTRACK 3.2.1: 30-90 °F is -1.1-32.2 °C).
BALANCE_POINTS = tuple(float(c) for c in range(0, 31))
#: CalTRACK 3.2.2.2: a balance point needs this many days and degree-days that are non-zero.
MIN_DEGREE_DAY_DAYS, MIN_DEGREE_DAYS = 10, 20.0
#: A term stays only with a p-value below this (eemeter's p-value check).
P_VALUE = 0.1
CONFIDENCE = 0.9
#: Guideline 14 Annex B's empirical factor of the fractional savings uncertainty.
FSU_FACTOR = 1.26
#: A day (or hour) whose figure is more than half estimated is left out of fits and savings.
MAX_ESTIMATED = 0.5
#: CalTRACK 2.2 data sufficiency: 90 % of the baseline's days; and never fewer than 28 days.
SUFFICIENT_SHARE, MIN_BASELINE_DAYS = 0.9, 28
MAX_SPAN_DAYS = 3 * 366


class NotEnoughData(AppError):
    """The baseline period has too few days with figures to fit a model."""

    status_code = 422
    error = "not_enough_data"


class UnknownRetrofit(AppError):
    """No retrofit has this id."""

    status_code = 404
    error = "unknown_retrofit"


class RetrofitMeter(AppError):
    """The retrofit is not measured on this meter."""

    status_code = 422
    error = "retrofit_meter"


# --- Guideline 14 metrics ---------------------------------------------------------------------


@dataclass(frozen=True)
class Fit:
    """CV(RMSE) and NMBE (%) of predictions against actual figures, and the limits they meet."""

    cv_rmse: float
    nmbe: float
    n: int
    p: int
    limits: tuple[float, float]

    @property
    def meets(self) -> bool:
        """Whether both are within the Guideline 14 limits."""
        return self.cv_rmse <= self.limits[0] and abs(self.nmbe) <= self.limits[1]


def cv_rmse(actual: Sequence[float], predicted: Sequence[float], p: int) -> float:
    """CV(RMSE) %, Guideline 14: 100 * sqrt(sum((y - yhat)^2) / (n - p)) / ybar."""
    n = len(actual)
    ybar = sum(actual) / n
    sse = sum((y - f) ** 2 for y, f in zip(actual, predicted, strict=True))
    return 100 * math.sqrt(sse / (n - p)) / ybar


def nmbe(actual: Sequence[float], predicted: Sequence[float], p: int) -> float:
    """NMBE %, Guideline 14: 100 * sum(y - yhat) / ((n - p) * ybar)."""
    n = len(actual)
    ybar = sum(actual) / n
    return 100 * sum(y - f for y, f in zip(actual, predicted, strict=True)) / ((n - p) * ybar)


def fit_metrics(
    actual: Sequence[float], predicted: Sequence[float], p: int, limits: tuple[float, float]
) -> Fit:
    """Both metrics of a fit (n > p and a positive mean needed)."""
    if len(actual) <= p:
        raise NotEnoughData(
            f"{len(actual)} figures cannot measure a model of {p} parameters",
            detail={"n": len(actual), "p": p},
        )
    if sum(actual) <= 0:
        raise NotEnoughData(
            "the meter used nothing in the period: CV(RMSE) and NMBE divide by its mean",
            detail={"n": len(actual), "p": p},
        )
    return Fit(cv_rmse(actual, predicted, p), nmbe(actual, predicted, p), len(actual), p, limits)


def lag1_autocorrelation(residuals: Sequence[float]) -> float:
    """rho = sum(e_i * e_(i-1)) / sum(e_i^2) around the residuals' mean (Guideline 14 Annex B)."""
    n = len(residuals)
    if n < 3:
        return 0.0
    mean = sum(residuals) / n
    e = [r - mean for r in residuals]
    den = sum(x * x for x in e)
    if den == 0:
        return 0.0
    return sum(e[i] * e[i - 1] for i in range(1, n)) / den


# --- Student t, for the p-values and the confidence interval ---------------------------------


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1, a - 1
    c, d = 1.0, 1 - qab * x / qap
    d = 1 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1 + aa * d
        d = 1 / (d if abs(d) > tiny else tiny)
        c = 1 + aa / c if abs(1 + aa / c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1 + aa * d
        d = 1 / (d if abs(d) > tiny else tiny)
        c = 1 + aa / c if abs(1 + aa / c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-14:
            break
    return h


def _betai(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    ln = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x)
    front = math.exp(ln + b * math.log(1 - x))
    if x < (a + 1) / (a + b + 2):
        return front * _betacf(a, b, x) / a
    return 1 - front * _betacf(b, a, 1 - x) / b


def t_two_sided_p(t: float, df: float) -> float:
    """P(|T| >= |t|) for Student's t with df degrees of freedom."""
    return _betai(df / 2, 0.5, df / (df + t * t))


def t_quantile(confidence: float, df: float) -> float:
    """The t with P(|T| <= t) = confidence (two-sided), by bisection."""
    lo, hi = 0.0, 1000.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if 1 - t_two_sided_p(mid, df) < confidence:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


# --- least squares ----------------------------------------------------------------------------


def _ols(rows: list[list[float]], y: list[float]) -> tuple[list[float], list[float], float]:
    """(coefficients, their standard errors, SSE) of y on the rows' columns, or ValueError."""
    k = len(rows[0])
    n = len(y)
    xtx = [[sum(r[i] * r[j] for r in rows) for j in range(k)] for i in range(k)]
    xty = [sum(r[i] * v for r, v in zip(rows, y, strict=True)) for i in range(k)]
    inv = _inverse(xtx)
    beta = [sum(inv[i][j] * xty[j] for j in range(k)) for i in range(k)]
    sse = sum(
        (v - sum(b * x for b, x in zip(beta, r, strict=True))) ** 2
        for r, v in zip(rows, y, strict=True)
    )
    dof = n - k
    s2 = sse / dof if dof > 0 else math.inf
    se = [math.sqrt(max(inv[i][i] * s2, 0.0)) for i in range(k)]
    return beta, se, sse


def _inverse(a: list[list[float]]) -> list[list[float]]:
    """Gauss-Jordan inverse of a small square matrix (ValueError when singular)."""
    k = len(a)
    m = [row[:] + [1.0 if i == j else 0.0 for j in range(k)] for i, row in enumerate(a)]
    for c in range(k):
        pivot = max(range(c, k), key=lambda r: abs(m[r][c]))
        if abs(m[pivot][c]) < 1e-12 * max(1.0, max(abs(x) for x in a[c])):
            raise ValueError("singular")
        m[c], m[pivot] = m[pivot], m[c]
        piv = m[c][c]
        m[c] = [x / piv for x in m[c]]
        for r in range(k):
            if r != c and m[r][c] != 0:
                f = m[r][c]
                m[r] = [x - f * y for x, y in zip(m[r], m[c], strict=True)]
    return [row[k:] for row in m]


# --- the degree-day model ---------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """The CalTRACK daily model of one kind of day (workdays or days off)."""

    intercept: float
    heating_balance_c: float | None = None
    heating_slope: float | None = None
    cooling_balance_c: float | None = None
    cooling_slope: float | None = None
    n: int = 0
    r2_adj: float = 0.0

    @property
    def p(self) -> int:
        """Its parameters: the intercept and each slope."""
        return 1 + (self.heating_slope is not None) + (self.cooling_slope is not None)

    def predict(self, temperature: float) -> float:
        """Usage of a day with this mean outdoor temperature."""
        y = self.intercept
        if self.heating_slope is not None and self.heating_balance_c is not None:
            y += self.heating_slope * max(self.heating_balance_c - temperature, 0.0)
        if self.cooling_slope is not None and self.cooling_balance_c is not None:
            y += self.cooling_slope * max(temperature - self.cooling_balance_c, 0.0)
        return y

    def params(self) -> dict[str, float | int | None]:
        """Its parameters for the API."""
        return {
            "intercept": self.intercept,
            "heating_balance_c": self.heating_balance_c,
            "heating_slope": self.heating_slope,
            "cooling_balance_c": self.cooling_balance_c,
            "cooling_slope": self.cooling_slope,
            "n": self.n,
            "r2_adj": self.r2_adj,
        }


def is_workday(day: dt.date) -> bool:
    """Monday to Friday: the working week the degree-day model splits on."""
    return day.weekday() < 5


def fit_segment(amounts: Sequence[float], temperatures: Sequence[float]) -> Segment:
    """CalTRACK's daily model of one set of days: the qualified candidate with the best adjusted
    R² (see the module docstring); intercept-only when nothing else qualifies."""
    y = list(amounts)
    n = len(y)
    if n < 3:
        raise NotEnoughData(f"{n} days cannot fit a model", detail={"n": n})
    ybar = sum(y) / n
    sst = sum((v - ybar) ** 2 for v in y)
    best = Segment(intercept=ybar, n=n, r2_adj=0.0)
    best_r2 = 0.0
    crit = 1 - P_VALUE

    def qualified_dd(dd: list[float]) -> bool:
        nonzero = sum(1 for v in dd if v > 0)
        return nonzero >= MIN_DEGREE_DAY_DAYS and sum(dd) >= MIN_DEGREE_DAYS

    hdd = {b: [max(b - t, 0.0) for t in temperatures] for b in BALANCE_POINTS}
    cdd = {b: [max(t - b, 0.0) for t in temperatures] for b in BALANCE_POINTS}
    hdd = {b: v for b, v in hdd.items() if qualified_dd(v)}
    cdd = {b: v for b, v in cdd.items() if qualified_dd(v)}
    candidates: list[tuple[float | None, float | None]] = [(h, None) for h in hdd]
    candidates += [(None, c) for c in cdd]
    candidates += [(h, c) for h in hdd for c in cdd if c >= h]
    for h, c in candidates:
        cols = [
            v
            for v in (hdd.get(h) if h is not None else None, cdd.get(c) if c is not None else None)
            if v is not None
        ]
        rows = [[1.0, *(col[i] for col in cols)] for i in range(n)]
        try:
            beta, se, sse = _ols(rows, y)
        except ValueError:
            continue
        k = len(beta)
        dof = n - k
        if dof <= 0 or beta[0] <= 0:
            continue
        ok = True
        for b, s in zip(beta[1:], se[1:], strict=True):
            if b <= 0 or s <= 0 or 1 - t_two_sided_p(b / s, dof) < crit:
                ok = False
                break
        if not ok:
            continue
        r2 = 1 - (sse / dof) / (sst / (n - 1)) if sst > 0 else 0.0
        if r2 > best_r2:
            best_r2 = r2
            slopes = iter(beta[1:])
            best = Segment(
                intercept=beta[0],
                heating_balance_c=h,
                heating_slope=next(slopes) if h is not None else None,
                cooling_balance_c=c,
                cooling_slope=next(slopes) if c is not None else None,
                n=n,
                r2_adj=r2,
            )
    return best


@dataclass(frozen=True)
class DegreeDayModel:
    """The CalTRACK daily model fitted on workdays and on days off."""

    workday: Segment
    day_off: Segment | None

    type: Literal["degree_day"] = "degree_day"
    resolution: Literal["daily"] = "daily"

    @property
    def p(self) -> int:
        """Parameters of both segments."""
        return self.workday.p + (self.day_off.p if self.day_off else 0)

    def predict_day(self, day: dt.date, temperature: float) -> float:
        """Usage predicted for a local day with this mean outdoor temperature."""
        seg = self.workday if is_workday(day) or self.day_off is None else self.day_off
        return seg.predict(temperature)

    def params(self) -> dict[str, Any]:
        """Its parameters for the API."""
        return {
            "workday": self.workday.params(),
            "day_off": self.day_off.params() if self.day_off else None,
        }


def fit_degree_day(days: Sequence[tuple[dt.date, float, float]]) -> DegreeDayModel:
    """Fit on (day, usage, mean outdoor temperature °C)."""
    work = [(a, t) for d, a, t in days if is_workday(d)]
    off = [(a, t) for d, a, t in days if not is_workday(d)]
    if len(off) < 3:  # too few days off to model apart: one model for every day
        both = [(a, t) for _, a, t in days]
        return DegreeDayModel(fit_segment([a for a, _ in both], [t for _, t in both]), None)
    return DegreeDayModel(
        fit_segment([a for a, _ in work], [t for _, t in work]),
        fit_segment([a for a, _ in off], [t for _, t in off]),
    )


# --- the hour-of-week model -------------------------------------------------------------------


def hour_of_week(start: dt.datetime) -> int:
    """0 for Monday 00:00-01:00 local time ... 167 for Sunday 23:00-24:00."""
    return start.weekday() * 24 + start.hour


@dataclass(frozen=True)
class HourOfWeekModel:
    """Mean usage of each local hour of the week."""

    means: tuple[float | None, ...]
    overall: float

    type: Literal["hour_of_week"] = "hour_of_week"
    resolution: Literal["hourly"] = "hourly"

    @property
    def p(self) -> int:
        """One parameter per hour of the week that has data."""
        return sum(1 for m in self.means if m is not None)

    def predict_hour(self, start: dt.datetime) -> float:
        """Usage predicted for the hour starting at `start` (local, aware)."""
        m = self.means[hour_of_week(start)]
        return self.overall if m is None else m

    def params(self) -> dict[str, Any]:
        """Its parameters for the API."""
        return {"hour_of_week_means": list(self.means)}


def fit_hour_of_week(hours: Sequence[tuple[dt.datetime, float]]) -> HourOfWeekModel:
    """Fit on (local hour start, usage)."""
    sums = [0.0] * 168
    counts = [0] * 168
    for start, amount in hours:
        h = hour_of_week(start)
        sums[h] += amount
        counts[h] += 1
    if not hours:
        raise NotEnoughData("no hours to fit a model", detail={"n": 0})
    means = tuple(s / c if c else None for s, c in zip(sums, counts, strict=True))
    return HourOfWeekModel(means, sum(sums) / len(hours))


# --- savings uncertainty ----------------------------------------------------------------------


def savings_uncertainty(
    *,
    cv: float,
    n: int,
    p: int,
    rho: float,
    m: int,
    predicted: float,
    confidence: float = CONFIDENCE,
) -> float:
    """Absolute uncertainty (± in the meter's unit) of savings measured over m points whose
    baseline prediction totals `predicted`: Guideline 14 Annex B, see the module docstring
    (cv as a fraction)."""
    rho = min(max(rho, 0.0), 0.99)  # a negative autocorrelation is not credited
    n_eff = n * (1 - rho) / (1 + rho)
    t = t_quantile(confidence, max(n - p, 1))
    return FSU_FACTOR * t * cv * predicted * math.sqrt((n / n_eff) * (1 + 2 / n_eff) / m)


# --- the report the API answers ---------------------------------------------------------------


@dataclass
class _Points:
    """Figures of a period at the model's resolution, and the same by local day."""

    actual: list[float] = field(default_factory=list)
    predicted: list[float] = field(default_factory=list)
    days: dict[dt.date, list[float]] = field(default_factory=dict)

    def add(self, day: dt.date, actual: float, predicted: float) -> None:
        self.actual.append(actual)
        self.predicted.append(predicted)
        d = self.days.setdefault(day, [0.0, 0.0])
        d[0] += actual
        d[1] += predicted


def _months(days: dict[dt.date, list[float]]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for day in sorted(days):
        m = out.setdefault(day.strftime("%Y-%m"), [0.0, 0.0])
        m[0] += days[day][0]
        m[1] += days[day][1]
    return out


def _fit_json(f: Fit, resolution: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "cv_rmse": round(f.cv_rmse, 3),
        "nmbe": round(f.nmbe, 3),
        "limits": {"cv_rmse": f.limits[0], "nmbe": f.limits[1]},
        "meets": f.meets,
        "n": f.n,
    }
    if resolution is not None:
        out["resolution"] = resolution
    return out


def _periods(
    site: AnalyticsSite,
    meter: Meter,
    retrofit: str | None,
    start: dt.date | None,
    end: dt.date | None,
    today: dt.date,
) -> tuple[tuple[dt.date, dt.date], tuple[dt.date, dt.date] | None, Retrofit | None]:
    """(baseline [from, to), reporting [from, to) or None, the retrofit)."""
    if start is not None and end is not None and end <= start:
        raise BadPeriod("'to' must come after 'from'", detail={"from": str(start), "to": str(end)})
    if retrofit is None:
        to = min(end or today, today)
        frm = start or to - dt.timedelta(days=365)
        if to <= frm:
            raise BadPeriod("the period has no past days", detail={"from": str(frm), "to": str(to)})
        if (to - frm).days > MAX_SPAN_DAYS:
            raise BadPeriod(f"a baseline spans at most {MAX_SPAN_DAYS} days")
        return (frm, to), None, None
    found = next((r for r in site.doc.energy.retrofits if r.id == retrofit), None)
    if found is None:
        known = [r.id for r in site.doc.energy.retrofits]
        raise UnknownRetrofit(f"no retrofit '{retrofit}'", detail={"retrofits": known})
    if meter.id not in found.meters:
        raise RetrofitMeter(
            f"retrofit '{found.id}' is measured on {', '.join(found.meters)}, not '{meter.id}'",
            detail={"meters": found.meters},
        )
    baseline = (found.date - dt.timedelta(days=found.baseline_days), found.date)
    rep_from = max(found.date, start) if start is not None else found.date
    rep_to = min(end or today, today)
    reporting = (rep_from, rep_to) if rep_to > rep_from else None
    return baseline, reporting, found


def baseline_report(
    site: AnalyticsSite,
    usage: Usage,
    *,
    meter_id: str,
    retrofit: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    today: dt.date,
) -> dict[str, Any]:
    """The JSON of GET /api/v1/analytics/baselines/{meter_id}: the model fitted on the baseline
    period, its Guideline 14 fit, and with a retrofit its savings and their uncertainty.

    Without a retrofit the baseline is [start, end) (default: the 365 days before today); with
    one it is the `baseline_days` before its date and the reporting period runs from the date
    (or `start`, if later) to `end` (excluded), at most today. Days are local days.
    """
    meter = meter_tree(site).get(meter_id)
    base, rep, found = _periods(site, meter, retrofit, start, end, today)
    tz = ZoneInfo(site.doc.site.timezone)
    window = (base[1] - base[0]).days
    need = max(MIN_BASELINE_DAYS, math.ceil(SUFFICIENT_SHARE * window))
    last = (rep or base)[1] - dt.timedelta(days=1)
    temps = usage.temperature_daily(base[0], last)
    has_temperature = site.doc.energy.outdoor_temperature is not None

    def good(u_share: float) -> bool:
        return u_share <= MAX_ESTIMATED

    series: list[dict[str, Any]] = []
    if has_temperature:
        uses = {u.start.astimezone(tz).date(): u for u in usage.daily(meter, base[0], last)}
        base_days = [
            (d, uses[d].amount, t)
            for d in _dates(*base)
            if d in uses and good(uses[d].estimated_share) and (t := temps.get(d)) is not None
        ]
        _require(len(base_days), need, window, meter)
        dd = fit_degree_day(base_days)
        model: DegreeDayModel | HourOfWeekModel = dd

        def points(frm: dt.date, to: dt.date) -> _Points:
            pts = _Points()
            for d in _dates(frm, to):
                u, t = uses.get(d), temps.get(d)
                if u is None or t is None or not good(u.estimated_share):
                    continue
                pts.add(d, u.amount, dd.predict_day(d, t))
            return pts
    else:
        start_dt = dt.datetime.combine(base[0], dt.time(), tz)
        end_dt = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tz)
        hourly = [u for u in usage.hourly(meter, start_dt, end_dt) if good(u.estimated_share)]
        base_end = dt.datetime.combine(base[1], dt.time(), tz)
        base_hours = [(u.start.astimezone(tz), u.amount) for u in hourly if u.start < base_end]
        _require(len({h.date() for h, _ in base_hours}) if base_hours else 0, need, window, meter)
        how = fit_hour_of_week(base_hours)
        model = how

        def points(frm: dt.date, to: dt.date) -> _Points:
            lo = dt.datetime.combine(frm, dt.time(), tz)
            hi = dt.datetime.combine(to, dt.time(), tz)
            pts = _Points()
            for u in hourly:
                if lo <= u.start < hi:
                    local = u.start.astimezone(tz)
                    pts.add(local.date(), u.amount, how.predict_hour(local))
            return pts

    fitted = points(*base)
    fit = fit_metrics(fitted.actual, fitted.predicted, model.p, HOURLY_LIMITS)
    months = _months(fitted.days)
    monthly = (
        fit_metrics(
            [a for a, _ in months.values()], [p for _, p in months.values()], 1, MONTHLY_LIMITS
        )
        if len(months) > 1
        else None
    )
    savings: dict[str, Any] | None = None
    reporting = points(*rep) if rep is not None else None
    if reporting is not None and reporting.actual:
        predicted, actual = sum(reporting.predicted), sum(reporting.actual)
        saved = predicted - actual
        rho = lag1_autocorrelation(
            [a - p for a, p in zip(fitted.actual, fitted.predicted, strict=True)]
        )
        unc = savings_uncertainty(
            cv=fit.cv_rmse / 100,
            n=fit.n,
            p=fit.p,
            rho=rho,
            m=len(reporting.actual),
            predicted=predicted,
        )
        savings = {
            "amount": round(saved, 3),
            "unit": meter.unit,
            "percent": round(100 * saved / predicted, 3) if predicted else None,
            "uncertainty": round(unc, 3),
            "uncertainty_percent": round(100 * unc / abs(saved), 3) if saved else None,
            "confidence": CONFIDENCE,
            "predicted": round(predicted, 3),
            "actual": round(actual, 3),
            "n": len(reporting.actual),
            "autocorrelation": round(rho, 4),
            "months": [
                {
                    "month": k,
                    "predicted": round(p, 3),
                    "actual": round(a, 3),
                    "saved": round(p - a, 3),
                }
                for k, (a, p) in _months(reporting.days).items()
            ],
        }
    for pts in (fitted, reporting):
        if pts is None:
            continue
        for d in sorted(pts.days):
            a, p = pts.days[d]
            series.append(
                {
                    "day": d.isoformat(),
                    "actual": round(a, 3),
                    "predicted": round(p, 3),
                    "temperature": None if (t := temps.get(d)) is None else round(t, 2),
                }
            )
    return {
        "meter": {
            "id": meter.id,
            "name": meter.name,
            "name_zh": meter.name_zh,
            "building": meter.building,
            "carrier": meter.carrier,
            "unit": meter.unit,
        },
        "model": {"type": model.type, "params": model.params(), "n": fit.n, "p": model.p},
        "baseline": {"from": base[0].isoformat(), "to": base[1].isoformat()},
        "fit": _fit_json(fit, model.resolution),
        "monthly": _fit_json(monthly) if monthly is not None else None,
        "retrofit": None
        if found is None
        else {
            "id": found.id,
            "name": found.name,
            "name_zh": found.name_zh,
            "date": found.date.isoformat(),
            "baseline_days": found.baseline_days,
            "reporting": None
            if rep is None
            else {"from": rep[0].isoformat(), "to": rep[1].isoformat()},
        },
        "savings": savings,
        "series": series,
    }


def _dates(frm: dt.date, to: dt.date) -> list[dt.date]:
    return [frm + dt.timedelta(days=i) for i in range((to - frm).days)]


def _require(has: int, need: int, window: int, meter: Meter) -> None:
    if has < need:
        raise NotEnoughData(
            f"the baseline of '{meter.id}' has {has} days with figures and needs {need} "
            f"(90 % of its {window} days, at least {MIN_BASELINE_DAYS})",
            detail={"has_days": has, "needs_days": need, "baseline_days": window},
        )
