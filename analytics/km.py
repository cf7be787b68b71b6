"""Kaplan-Meier estimation with Greenwood variance, matching R's `survival::survfit`.

Inputs may be one row per patient or aggregated rows with integer frequency
weights (for example a DuckDB ``GROUP BY time, event``): both give identical
estimates, which is what makes large registries fast.

Conventions (those of R's survival package):
- at risk at time t = weight of patients with time >= t;
- ``var_log_`` is the Greenwood variance of log S(t), sum d / (n (n - d));
- CI ``log``: exp(log S +- z se); ``log-log``: S ** exp(+-z se / log S), undefined
  (NaN) where S is 0 or 1; ``plain``: S +- z S se, clipped to [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from analytics.provenance import Provenance

CIType = Literal["log-log", "log", "plain"]
CI_TYPES: tuple[CIType, ...] = ("log-log", "log", "plain")
CI_LABELS: dict[CIType, str] = {
    "log-log": "log-log (complementary log-log) transformed Greenwood CI, as SAS PROC LIFETEST",
    "log": "log-transformed Greenwood CI, as R survfit's default",
    "plain": "plain (linear) Greenwood CI, clipped to [0, 1]",
}

FloatArray = NDArray[np.float64]


def _readonly(a: ArrayLike) -> FloatArray:
    out = np.array(a, dtype=np.float64)
    out.flags.writeable = False
    return out


def _as_inputs(
    durations: ArrayLike, events: ArrayLike, weights: ArrayLike | None
) -> tuple[FloatArray, NDArray[np.bool_], FloatArray]:
    t = np.asarray(durations, dtype=np.float64).ravel()
    e_raw = np.asarray(events).ravel()
    if t.shape != e_raw.shape:
        raise ValueError(f"durations ({t.size}) and events ({e_raw.size}) differ in length")
    if not np.all(np.isfinite(t)):
        raise ValueError("durations contain missing or infinite values")
    if np.any(t < 0):
        raise ValueError("durations contain negative values")
    e_num = e_raw.astype(np.float64)
    if not np.all(np.isin(e_num, (0.0, 1.0))):
        raise ValueError("events must be 0/1 (or boolean)")
    e = e_num.astype(bool)
    if weights is None:
        w = np.ones_like(t)
    else:
        w = np.asarray(weights, dtype=np.float64).ravel()
        if w.shape != t.shape:
            raise ValueError("weights differ in length from durations")
        if not np.all(np.isfinite(w)) or np.any(w < 0):
            raise ValueError("weights must be finite and non-negative")
    return t, e, w


def confidence_band(
    surv: FloatArray, var_log: FloatArray, ci_type: CIType, alpha: float = 0.05
) -> tuple[FloatArray, FloatArray]:
    """Pointwise CI for S(t) given Greenwood variance of log S(t)."""
    z = float(stats.norm.ppf(1 - alpha / 2))
    se = np.sqrt(var_log)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if ci_type == "plain":
            half = z * se * surv
            lower = np.clip(surv - half, 0.0, 1.0)
            upper = np.clip(surv + half, 0.0, 1.0)
            # R leaves the band undefined where the standard error is not finite.
            bad = ~np.isfinite(half)
            lower = np.where(bad, np.nan, lower)
            upper = np.where(bad, np.nan, upper)
        elif ci_type == "log":
            s = np.where(surv > 0, surv, np.nan)
            lower = np.exp(np.log(s) - z * se)
            upper = np.minimum(np.exp(np.log(s) + z * se), 1.0)
        elif ci_type == "log-log":
            s = np.where((surv > 0) & (surv < 1), surv, np.nan)
            log_s = np.log(s)
            lower = s ** np.exp(-z * se / log_s)
            upper = s ** np.exp(z * se / log_s)
        else:
            raise ValueError(f"unknown CI type {ci_type!r}; choose one of {', '.join(CI_TYPES)}")
    return lower, upper


@dataclass(frozen=True)
class Landmark:
    day: float
    estimate: float
    lower: float
    upper: float
    at_risk: float
    events: float
    censored: float


@dataclass(frozen=True)
class Median:
    estimate: float | None
    lower: float | None
    upper: float | None

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
        t, e, w = _as_inputs(durations, events, weights)
        times, inverse = np.unique(t, return_inverse=True)
        d = np.bincount(inverse, weights=w * e, minlength=times.size)
        total = np.bincount(inverse, weights=w, minlength=times.size)
        c = total - d
        n = np.cumsum(total[::-1])[::-1]
        with np.errstate(divide="ignore", invalid="ignore"):
            hazard = np.where(n > 0, d / n, 0.0)
            surv = np.cumprod(1.0 - hazard)
            term = np.where(d > 0, d / (n * (n - d)), 0.0)
        var_log = np.cumsum(term)
        lower, upper = confidence_band(surv, var_log, self.ci_type, self.alpha)
        self.timeline_ = _readonly(times)
        self.at_risk_ = _readonly(n)
        self.observed_ = _readonly(d)
        self.censored_ = _readonly(c)
        self.survival_ = _readonly(surv)
        self.var_log_ = _readonly(var_log)
        self.lower_ = _readonly(lower)
        self.upper_ = _readonly(upper)
        self.n_ = float(w.sum())
        self.events_ = float(d.sum())
        return self

    # --- evaluation at arbitrary days --------------------------------------------------
    def _index(self, days: ArrayLike) -> NDArray[np.intp]:
        return np.searchsorted(self.timeline_, np.asarray(days, dtype=np.float64), side="right") - 1

    def survival_at(self, days: ArrayLike) -> FloatArray:
        idx = self._index(days)
        return np.where(idx >= 0, self.survival_[np.maximum(idx, 0)], 1.0)

    def band_at(self, days: ArrayLike) -> tuple[FloatArray, FloatArray]:
        idx = self._index(days)
        before = idx < 0
        # Before the first time S = 1 with zero variance: the band is that of S = 1.
        one_lo, one_hi = confidence_band(np.ones(1), np.zeros(1), self.ci_type, self.alpha)
        lo = np.where(before, one_lo[0], self.lower_[np.maximum(idx, 0)])
        hi = np.where(before, one_hi[0], self.upper_[np.maximum(idx, 0)])
        return lo, hi

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

    def quantile_time(self, p: float = 0.5) -> Median:
        """Time where S first falls to `p` (R's rule), with CI from the band."""
        return Median(
            estimate=_first_crossing(self.timeline_, self.survival_, p),
            lower=_first_crossing(self.timeline_, self.lower_, p),
            upper=_first_crossing(self.timeline_, self.upper_, p),
        )

    def result(
        self,
        endpoint: str = "",
        label: str = "",
        landmarks: ArrayLike = (30, 183, 365),
        risk_days: ArrayLike | None = None,
        provenance: Provenance | None = None,
    ) -> KMResult:
        days = np.asarray(landmarks, dtype=np.float64)
        s = self.survival_at(days)
        lo, hi = self.band_at(days)
        ar = self.at_risk_at(days)
        ev, ce = self.cumulative_at(days)
        lms = tuple(
            Landmark(float(d), float(s[i]), float(lo[i]), float(hi[i]), float(ar[i]),
                     float(ev[i]), float(ce[i]))
            for i, d in enumerate(days)
        )
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
        prov = (provenance or Provenance()).with_method(
            f"Kaplan-Meier; Greenwood variance; {CI_LABELS[self.ci_type]}; "
            f"{100 * (1 - self.alpha):g}% CI; at risk at t counts times >= t"
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
        )


def _first_crossing(times: FloatArray, curve: FloatArray, p: float) -> float | None:
    """R's quantile rule: the first time the curve is <= p; where it equals p
    (within rounding) up to the next time, the midpoint of the two times."""
    tol = np.sqrt(np.finfo(float).eps)
    finite = np.isfinite(curve)
    hit = np.flatnonzero(finite & (curve <= p + tol))
    if hit.size == 0:
        return None
    i = int(hit[0])
    if abs(curve[i] - p) < tol:
        later = np.flatnonzero(finite & (curve < p - tol))
        if later.size:
            return float((times[i] + times[int(later[0])]) / 2)
    return float(times[i])
