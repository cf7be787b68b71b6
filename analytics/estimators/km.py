"""Kaplan-Meier estimation with Greenwood variance, matching R's `survival::survfit`.

Inputs may be one row per patient or aggregated rows with integer frequency
weights (for example a DuckDB ``GROUP BY time, event``): both give identical
estimates, which is what makes large registries fast. Rows of weight 0 are
ignored, exactly as if they had never been expanded.

Conventions (those of R's survival 3.5, checked against reference output in
``tests/reference/r_survival``):

- at risk at time t = weight of patients with time >= t;
- ``var_log_`` is the Greenwood variance of log S(t), sum d / (n (n - d)); it is
  infinite once everybody left at risk has the event (S = 0);
- CI ``log``: exp(log S +- z se), upper capped at 1, undefined where S = 0;
  ``log-log``: exp(-exp(log(-log S) -+ z se / log S)), undefined where S is 0
  or 1; ``plain``: S +- z S se, clipped to [0, 1], NaN where S = 0;
- before the first recorded time S = 1 and the band is (1, 1) for every CI
  type, log-log included (R's ``summary(fit, times)`` inserts such a time-0 row);
- landmarks (:meth:`KaplanMeier.landmarks`) follow ``summary(fit, times)``:
  values from the last recorded time <= t, at risk = count with time >= t,
  events and censorings counted in (previous landmark, t];
- quantiles follow R's ``quantile.survfit`` (the engine's convention); the
  ``print``/``summary()$table`` rule, which differs on flat stretches at the
  end of the curve and on a non-monotone upper band, is available as
  ``rule="table"``;
- the restricted mean integrates S from 0 to the last observed time, with
  ``survmean``'s standard error.

The inputs are checked and counted by :mod:`analytics.estimators.counting`; the quantile
and restricted-mean rules are in :mod:`analytics.estimators.curve_summaries`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from analytics.estimators.counting import count_by_time
from analytics.estimators.curve_summaries import (
    R_TOLERANCE,
    find_quantile,
    first_below,
    restricted_mean,
)
from analytics.model.provenance import Provenance
from analytics.model.view import CI_TYPES as CI_TYPES  # re-exported: the estimators name it
from analytics.model.view import CIType as CIType

CI_LABELS: dict[CIType, str] = {
    "log-log": "log-log (complementary log-log) transformed Greenwood CI, as SAS PROC LIFETEST",
    "log": "log-transformed Greenwood CI, as R survfit's default",
    "plain": "plain (linear) Greenwood CI, clipped to [0, 1]",
}
QuantileRule = Literal["quantile", "table"]
QUANTILE_RULES: tuple[QuantileRule, ...] = ("quantile", "table")

FloatArray = NDArray[np.float64]


def _readonly(a: ArrayLike) -> FloatArray:
    out = np.array(a, dtype=np.float64)
    out.flags.writeable = False
    return out


def _empty() -> FloatArray:
    return _readonly(np.empty(0))


@lru_cache(maxsize=16)
def _z(alpha: float) -> float:
    """The two-sided normal quantile (a scipy call costs more than a small curve's band)."""
    return float(special.ndtri(1 - alpha / 2))


def confidence_band(
    surv: ArrayLike, var_log: ArrayLike, ci_type: CIType, alpha: float = 0.05
) -> tuple[FloatArray, FloatArray]:
    """Pointwise CI for S(t) given the Greenwood variance of log S(t) (R's survfit_confint).

    Undefined limits are NaN: R's NA for ``log`` at S = 0 and ``log-log`` at S in {0, 1},
    R's NaN (0 * Inf) for ``plain`` at S = 0.
    """
    z = _z(alpha)
    surv = np.asarray(surv, dtype=np.float64)
    se = np.sqrt(np.asarray(var_log, dtype=np.float64))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if ci_type == "plain":
            half = z * se * surv
            lower = np.maximum(surv - half, 0.0)
            upper = np.minimum(surv + half, 1.0)
            # np.maximum/minimum propagate NaN (0 * Inf), as R's pmax/pmin do.
        elif ci_type == "log":
            s = np.where(surv > 0, surv, np.nan)
            lower = np.exp(np.log(s) - z * se)
            upper = np.minimum(np.exp(np.log(s) + z * se), 1.0)
        elif ci_type == "log-log":
            s = np.where((surv > 0) & (surv < 1), surv, np.nan)
            log_s = np.log(s)
            loglog = np.log(-log_s)
            lower = np.exp(-np.exp(loglog - z * se / log_s))
            upper = np.exp(-np.exp(loglog + z * se / log_s))
        else:
            raise ValueError(f"unknown CI type {ci_type!r}; choose one of {', '.join(CI_TYPES)}")
    return lower, upper


@dataclass(frozen=True)
class Landmark:
    """One row of R's ``summary(fit, times = day)``.

    ``events`` and ``censored`` count the interval (previous landmark, day] (everything
    up to ``day`` for the first landmark); the ``cumulative_*`` fields count (0, day].
    ``std_err`` is on the survival scale (S times the Greenwood SE of log S).
    """

    day: float
    estimate: float
    lower: float
    upper: float
    at_risk: float
    events: float
    censored: float
    std_err: float = float("nan")
    cumhaz: float = float("nan")
    cumulative_events: float = float("nan")
    cumulative_censored: float = float("nan")


@dataclass(frozen=True)
class Median:
    """A survival-time quantile (by default the median) with its CI; None = not reached."""

    estimate: float | None
    lower: float | None
    upper: float | None
    level: float = 0.5
    rule: QuantileRule = "quantile"

    @property
    def reached(self) -> bool:
        return self.estimate is not None


@dataclass(frozen=True)
class RiskTable:
    days: tuple[float, ...]
    at_risk: tuple[float, ...]
    cumulative_events: tuple[float, ...]
    cumulative_censored: tuple[float, ...]


@dataclass(frozen=True)
class KMResult:
    endpoint: str
    label: str
    n: float
    events: float
    ci_type: CIType
    alpha: float
    timeline: FloatArray
    survival: FloatArray
    lower: FloatArray
    upper: FloatArray
    at_risk: FloatArray
    observed: FloatArray
    censored: FloatArray
    landmarks: tuple[Landmark, ...]
    median: Median
    risk_table: RiskTable
    provenance: Provenance
    std_err: FloatArray = field(default_factory=_empty)
    cumhaz: FloatArray = field(default_factory=_empty)
    restricted_mean: float = float("nan")
    restricted_mean_se: float = float("nan")

    def landmark(self, day: float) -> Landmark:
        for lm in self.landmarks:
            if lm.day == day:
                return lm
        raise KeyError(f"no landmark at day {day}")


class KaplanMeier:
    """Kaplan-Meier estimator. Settings here, work in :meth:`fit`."""

    def __init__(self, ci_type: CIType = "log-log", alpha: float = 0.05) -> None:
        if ci_type not in CI_TYPES:
            raise ValueError(f"unknown CI type {ci_type!r}; choose one of {', '.join(CI_TYPES)}")
        if not 0 < alpha < 1:
            raise ValueError("alpha must lie strictly between 0 and 1")
        self.ci_type: CIType = ci_type
        self.alpha = alpha

    def fit(
        self, durations: ArrayLike, events: ArrayLike, weights: ArrayLike | None = None
    ) -> KaplanMeier:
        times, d, total = count_by_time(durations, events, weights)
        c = total - d
        n = np.cumsum(total[::-1])[::-1]
        with np.errstate(divide="ignore", invalid="ignore"):
            surv = np.cumprod(1.0 - d / n)
            # d / (n (n - d)) is +Inf where n == d: from there on S = 0 and SE(log S) = Inf.
            var_log = np.cumsum(np.where(d > 0, d / (n * (n - d)), 0.0))
        lower, upper = confidence_band(surv, var_log, self.ci_type, self.alpha)
        self.timeline_ = _readonly(times)
        self.at_risk_ = _readonly(n)
        self.observed_ = _readonly(d)
        self.censored_ = _readonly(c)
        self.survival_ = _readonly(surv)
        self.var_log_ = _readonly(var_log)
        self.std_err_ = _readonly(np.sqrt(var_log))
        self.lower_ = _readonly(lower)
        self.upper_ = _readonly(upper)
        self.cumhaz_ = _readonly(np.cumsum(d / n))
        self.var_cumhaz_ = _readonly(np.cumsum(d / n**2))
        self.n_ = float(total.sum())
        self.events_ = float(d.sum())
        return self

    # --- evaluation at arbitrary days --------------------------------------------------
    def _index(self, days: ArrayLike) -> NDArray[np.intp]:
        """Index of the last recorded time <= day (-1 before the first)."""
        return np.searchsorted(self.timeline_, np.asarray(days, dtype=np.float64), side="right") - 1

    def _step(self, curve: FloatArray, days: ArrayLike, before: float) -> FloatArray:
        idx = self._index(days)
        if curve.size == 0:
            return np.full(idx.shape, before)
        return np.where(idx >= 0, curve[np.maximum(idx, 0)], before)

    def survival_at(self, days: ArrayLike) -> FloatArray:
        return self._step(self.survival_, days, 1.0)

    def band_at(self, days: ArrayLike) -> tuple[FloatArray, FloatArray]:
        # Before the first recorded time S = 1 with zero variance: R reports (1, 1)
        # there for every CI type, log-log included.
        return self._step(self.lower_, days, 1.0), self._step(self.upper_, days, 1.0)

    def std_err_at(self, days: ArrayLike) -> FloatArray:
        """Standard error of S on the survival scale, as ``summary()`` prints it."""
        with np.errstate(invalid="ignore"):
            return self._step(self.survival_ * self.std_err_, days, 0.0)

    def cumhaz_at(self, days: ArrayLike) -> FloatArray:
        return self._step(self.cumhaz_, days, 0.0)

    def at_risk_at(self, days: ArrayLike) -> FloatArray:
        idx = np.searchsorted(self.timeline_, np.asarray(days, dtype=np.float64), side="left")
        padded = np.append(self.at_risk_, 0.0)
        return padded[idx]

    def cumulative_at(self, days: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Events and censorings up to and including each day."""
        idx = self._index(days)
        ev = np.append(0.0, np.cumsum(self.observed_))
        ce = np.append(0.0, np.cumsum(self.censored_))
        return ev[idx + 1], ce[idx + 1]

    def landmarks(self, days: ArrayLike, extend: bool = True) -> tuple[Landmark, ...]:
        """R's ``summary(fit, times = days, extend = extend)``, one row per sorted day.

        With ``extend=False`` days after the last recorded time are left out (a day
        equal to it is kept); with ``extend=True`` they get at risk 0 and the last
        estimate carried forward.
        """
        d = np.sort(np.asarray(days, dtype=np.float64).ravel())
        if not np.all(np.isfinite(d)):
            raise ValueError("landmark days must be finite")
        if not extend:
            last = self.timeline_[-1] if self.timeline_.size else -np.inf
            d = d[d <= last]
        s = self.survival_at(d)
        lo, hi = self.band_at(d)
        se = self.std_err_at(d)
        ch = self.cumhaz_at(d)
        ar = self.at_risk_at(d)
        ev, ce = self.cumulative_at(d)
        ev_int = np.diff(ev, prepend=0.0)
        ce_int = np.diff(ce, prepend=0.0)
        return tuple(
            Landmark(
                day=float(d[i]),
                estimate=float(s[i]),
                lower=float(lo[i]),
                upper=float(hi[i]),
                at_risk=float(ar[i]),
                events=float(ev_int[i]),
                censored=float(ce_int[i]),
                std_err=float(se[i]),
                cumhaz=float(ch[i]),
                cumulative_events=float(ev[i]),
                cumulative_censored=float(ce[i]),
            )
            for i in range(d.size)
        )

    def quantile_time(self, p: float = 0.5, rule: QuantileRule = "quantile") -> Median:
        """Time at which S falls to the survival level `p` (0.5: the median), with CI.

        `p` is on the survival scale: R's ``quantile(fit, probs = q)`` is
        ``quantile_time(1 - q)``. The CI limits are the same rule applied to the
        lower and upper band. ``rule="quantile"`` (default) is R's
        ``quantile.survfit``; ``rule="table"`` is the median rule of
        ``print(fit)`` / ``summary(fit)$table``. They differ where the curve ends on
        a flat stretch at exactly `p` (quantile: midpoint of its start and the last
        time; table: its start) and on a non-monotone band.
        """
        if not 0 <= p <= 1:
            raise ValueError("p must lie in [0, 1]")
        if rule == "quantile":
            x = np.append(0.0, self.timeline_)
            q = 1.0 - p

            def find(curve: FloatArray) -> float | None:
                return find_quantile(x, np.append(0.0, 1.0 - curve), q, R_TOLERANCE)

        elif rule == "table":

            def find(curve: FloatArray) -> float | None:
                return first_below(self.timeline_, curve, p, R_TOLERANCE)

        else:
            raise ValueError(f"unknown quantile rule {rule!r}; choose one of {QUANTILE_RULES}")
        return Median(
            estimate=find(self.survival_),
            lower=find(self.lower_),
            upper=find(self.upper_),
            level=p,
            rule=rule,
        )

    def restricted_mean(self, tau: float | None = None) -> tuple[float, float]:
        """Restricted mean survival time up to `tau` (default: the last recorded
        time) and its standard error, as R's ``survmean``."""
        return restricted_mean(self.timeline_, self.at_risk_, self.observed_, self.survival_, tau)

    def result(
        self,
        endpoint: str = "",
        label: str = "",
        landmarks: ArrayLike = (30, 183, 365),
        risk_days: ArrayLike | None = None,
        provenance: Provenance | None = None,
    ) -> KMResult:
        lms = self.landmarks(landmarks, extend=True)
        if risk_days is None:
            end = float(self.timeline_[-1]) if self.timeline_.size else 0.0
            risk_days = np.arange(0.0, end + 1.0, 91.3125 if end > 0 else 1.0)
        rdays = np.asarray(risk_days, dtype=np.float64)
        rev, rce = self.cumulative_at(rdays)
        table = RiskTable(
            tuple(float(x) for x in rdays),
            tuple(float(x) for x in self.at_risk_at(rdays)),
            tuple(float(x) for x in rev),
            tuple(float(x) for x in rce),
        )
        rmean, rmean_se = self.restricted_mean()
        prov = (provenance or Provenance()).with_method(
            f"Kaplan-Meier; Greenwood variance; {CI_LABELS[self.ci_type]}; "
            f"{100 * (1 - self.alpha):g}% CI; at risk at t counts times >= t; "
            "landmark events/censored counted since the previous landmark; "
            "median and its CI by R's quantile.survfit rule"
        )
        return KMResult(
            endpoint=endpoint,
            label=label,
            n=self.n_,
            events=self.events_,
            ci_type=self.ci_type,
            alpha=self.alpha,
            timeline=self.timeline_,
            survival=self.survival_,
            lower=self.lower_,
            upper=self.upper_,
            at_risk=self.at_risk_,
            observed=self.observed_,
            censored=self.censored_,
            landmarks=lms,
            median=self.quantile_time(0.5),
            risk_table=table,
            provenance=prov,
            std_err=self.std_err_,
            cumhaz=self.cumhaz_,
            restricted_mean=rmean,
            restricted_mean_se=rmean_se,
        )
