"""Cumulative incidence with competing events (Aalen-Johansen), matching R's
multi-state ``survfit(Surv(time, factor(status)) ~ 1)``, beside the naive 1 - KM.

When a competing event (death, for limb salvage) removes patients from risk, 1 - KM
of the event of interest (competing events censored) estimates the risk in a world
where nobody could die, and overstates the real one. The Aalen-Johansen cumulative
incidence F_k(t) = sum_{t_j <= t} S(t_{j-1}) d_kj / Y_j, with S the all-cause KM,
is the real one. Both are returned, so they can be shown side by side.

Standard errors are R's: the infinitesimal-jackknife (IJ) SE on the probability
scale, sqrt(sum_i U_i(t)^2), U_i the derivative of the estimate with respect to
patient i's weight (R's multi-state survfit offers no other). All patients leaving
at the same time with the same status share one U_i, and U_i is constant in its
own way before and after that time, so the sum reduces to a few cumulative sums:
O(patients + times) time and memory, where the n x times matrix R builds would not
fit for a registry. Integer frequency weights count as that many patients.
CIs are R's ``log`` type on the probability scale, p exp(+-z se / p), upper limit
capped at 1, undefined (NaN) where p = 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from analytics.estimators.counting import check_weights
from analytics.estimators.incidence import CompetingRisksResult, IncidenceCurve, IncidenceLandmark
from analytics.estimators.km import CI_LABELS, CIType, KaplanMeier
from analytics.model.provenance import Provenance

FloatArray = NDArray[np.float64]

# ADTTE censoring codes that are really competing events (analytics.model.schema.CENSOR_REASONS).
COMPETING_CENSOR_CODES: tuple[int, ...] = (4, 5)

__all__ = [
    "COMPETING_CENSOR_CODES",
    "AalenJohansen",
    "CompetingRisksResult",
    "IncidenceCurve",
    "IncidenceLandmark",
    "cumulative_incidence",
    "log_band",
    "one_minus_km",
]


def _readonly(a: ArrayLike) -> FloatArray:
    out = np.array(a, dtype=np.float64)
    out.flags.writeable = False
    return out


def log_band(p: FloatArray, se: FloatArray, alpha: float) -> tuple[FloatArray, FloatArray]:
    """R's ``log`` CI for a probability with SE on the probability scale."""
    z = float(special.ndtri(1 - alpha / 2))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        q = np.where(p > 0, p, np.nan)
        lower = q * np.exp(-z * se / q)
        upper = np.minimum(q * np.exp(z * se / q), 1.0)
    return lower, upper


class AalenJohansen:
    """Aalen-Johansen estimator for one initial state and competing absorbing causes.

    ``events`` holds 0 for censored and a positive integer code per cause. Fitted
    arrays have one row per distinct time (events or censorings) and one column per
    cause in ``causes_`` order.
    """

    def __init__(self, alpha: float = 0.05) -> None:
        if not 0 < alpha < 1:
            raise ValueError("alpha must lie strictly between 0 and 1")
        self.alpha = alpha

    def fit(
        self,
        durations: ArrayLike,
        events: ArrayLike,
        weights: ArrayLike | None = None,
        causes: Sequence[int] | None = None,
    ) -> AalenJohansen:
        t = np.asarray(durations, dtype=np.float64).ravel()
        ev_raw = np.asarray(events).ravel()
        if t.shape != ev_raw.shape:
            raise ValueError("durations and events differ in length")
        if not np.all(np.isfinite(t)) or np.any(t < 0):
            raise ValueError("durations must be finite and non-negative")
        ev_f = ev_raw.astype(np.float64)
        if np.any(ev_f < 0) or np.any(ev_f != np.floor(ev_f)):
            raise ValueError("events must be 0 (censored) or a positive integer cause code")
        ev = ev_f.astype(np.intp)
        w = check_weights(weights, t.size)
        used = w > 0
        t, ev, w = t[used], ev[used], w[used]
        found = sorted({int(c) for c in np.unique(ev) if c != 0})
        cause_list = found if causes is None else [int(c) for c in causes]
        if unknown := set(found) - set(cause_list):
            raise ValueError(f"event codes {sorted(unknown)} are not among the causes")
        n_causes = len(cause_list)
        status = np.zeros(ev.size, dtype=np.intp)  # 0 censored, k + 1 for cause k
        for k, code in enumerate(cause_list):
            status[ev == code] = k + 1

        times, inv = np.unique(t, return_inverse=True)
        n_t = times.size
        width = n_causes + 1
        counts = np.bincount(inv * width + status, weights=w, minlength=n_t * width)
        counts = counts.reshape(n_t, width)
        cens, dk = counts[:, 0], counts[:, 1:]
        d = dk.sum(axis=1)
        y = np.cumsum(counts.sum(axis=1)[::-1])[::-1]

        surv = np.cumprod(1.0 - d / y)
        s_prev = np.append(1.0, surv[:-1])
        hk = dk / y[:, None]
        cuminc = np.cumsum(s_prev[:, None] * hk, axis=0)

        # --- infinitesimal-jackknife variance (see the module docstring) -------------
        alive = y > d
        inv_left = np.divide(1.0, y - d, out=np.zeros(n_t), where=alive)
        h = np.cumsum(np.where(alive, d / y * inv_left, 0.0))  # H(j)
        h_prev = np.append(0.0, h[:-1])
        # g_k(j): the influence, at j, of a patient still at risk after t_j.
        g = np.cumsum(s_prev[:, None] * hk * (h_prev - 1.0 / y)[:, None], axis=0)
        # Patients leaving at t_m with status s: a(m, s) and b_k(m, s) such that their
        # influence at j >= m is b_k + a F_k(j).
        a = np.empty((n_t, n_causes + 1))
        a[:, 0] = h
        a[:, 1:] = (h - inv_left)[:, None]
        own = np.zeros((n_t, n_causes + 1, n_causes))
        for k in range(n_causes):
            own[:, k + 1, k] = s_prev / y
        b = g[:, None, :] + own - a[:, :, None] * cuminc[:, None, :]
        a2 = np.cumsum((counts * a**2).sum(axis=1))
        ab = np.cumsum((counts[:, :, None] * a[:, :, None] * b).sum(axis=1), axis=0)
        b2 = np.cumsum((counts[:, :, None] * b**2).sum(axis=1), axis=0)
        later = y - counts.sum(axis=1)  # still at risk after t_j
        var_k = later[:, None] * g**2 + b2 + 2 * cuminc * ab + cuminc**2 * a2[:, None]
        var_s = surv**2 * (later * h**2 + a2)
        # Cancellation can leave -1e-20 where the variance is exactly 0.
        se_k = np.sqrt(np.maximum(var_k, 0.0))
        se_s = np.sqrt(np.maximum(var_s, 0.0))

        lo_k, hi_k = log_band(cuminc, se_k, self.alpha)
        lo_s, hi_s = log_band(surv, se_s, self.alpha)
        self.causes_ = tuple(cause_list)
        self.timeline_ = _readonly(times)
        self.at_risk_ = _readonly(y)
        self.observed_ = _readonly(dk)
        self.censored_ = _readonly(cens)
        self.survival_ = _readonly(surv)
        self.survival_std_err_ = _readonly(se_s)
        self.survival_lower_ = _readonly(lo_s)
        self.survival_upper_ = _readonly(hi_s)
        self.cuminc_ = _readonly(cuminc)
        self.std_err_ = _readonly(se_k)
        self.lower_ = _readonly(lo_k)
        self.upper_ = _readonly(hi_k)
        self.cumhaz_ = _readonly(np.cumsum(hk, axis=0))
        self.n_ = float(w.sum())
        self.events_ = _readonly(dk.sum(axis=0))
        return self

    # --- evaluation ---------------------------------------------------------------------
    def _column(self, cause: int) -> int:
        if cause not in self.causes_:
            raise KeyError(f"cause {cause} is not among {self.causes_}")
        return self.causes_.index(cause)

    def _index(self, days: ArrayLike) -> NDArray[np.intp]:
        return np.searchsorted(self.timeline_, np.asarray(days, dtype=np.float64), side="right") - 1

    def _step(self, curve: FloatArray, days: ArrayLike, before: float) -> FloatArray:
        idx = self._index(days)
        if curve.size == 0:
            return np.full(idx.shape, before)
        return np.where(idx >= 0, curve[np.maximum(idx, 0)], before)

    def survival_at(self, days: ArrayLike) -> FloatArray:
        """Probability of still being event-free (R's state ``(s0)``, the all-cause KM)."""
        return self._step(self.survival_, days, 1.0)

    def survival_std_err_at(self, days: ArrayLike) -> FloatArray:
        return self._step(self.survival_std_err_, days, 0.0)

    def survival_band_at(self, days: ArrayLike) -> tuple[FloatArray, FloatArray]:
        lower, upper = self.survival_lower_, self.survival_upper_
        return self._step(lower, days, 1.0), self._step(upper, days, 1.0)

    def cuminc_at(self, days: ArrayLike, cause: int) -> FloatArray:
        return self._step(self.cuminc_[:, self._column(cause)], days, 0.0)

    def std_err_at(self, days: ArrayLike, cause: int) -> FloatArray:
        return self._step(self.std_err_[:, self._column(cause)], days, 0.0)

    def band_at(self, days: ArrayLike, cause: int) -> tuple[FloatArray, FloatArray]:
        """CI at each day; (0, 0) before the first recorded time, where F = 0 exactly."""
        k = self._column(cause)
        return self._step(self.lower_[:, k], days, 0.0), self._step(self.upper_[:, k], days, 0.0)

    def at_risk_at(self, days: ArrayLike) -> FloatArray:
        idx = np.searchsorted(self.timeline_, np.asarray(days, dtype=np.float64), side="left")
        return np.append(self.at_risk_, 0.0)[idx]

    def cumulative_at(self, days: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Events per cause (days x causes) and censorings up to and including each day."""
        idx = self._index(days)
        ev = np.vstack([np.zeros((1, len(self.causes_))), np.cumsum(self.observed_, axis=0)])
        ce = np.append(0.0, np.cumsum(self.censored_))
        return ev[idx + 1], ce[idx + 1]

    def restricted_mean(self, tau: float | None = None) -> tuple[float, FloatArray]:
        """Expected time spent event-free and in each cause's state up to `tau` (default:
        the last time), as R's ``summary(fit)$table`` ``rmean``."""
        if self.timeline_.size == 0:
            return float("nan"), np.full(len(self.causes_), np.nan)
        end = float(self.timeline_[-1]) if tau is None else float(tau)
        keep = self.timeline_ <= end
        grid = np.append(0.0, np.append(self.timeline_[keep], end))
        width = np.diff(grid)
        s = np.append(1.0, self.survival_[keep])
        f = np.vstack([np.zeros((1, len(self.causes_))), self.cuminc_[keep]])
        return float(width @ s), width @ f

    def landmarks(
        self, days: ArrayLike, cause: int, extend: bool = True
    ) -> tuple[IncidenceLandmark, ...]:
        """R's ``summary(fit, times = days)`` for one cause; counts in (previous day, day]."""
        d = np.sort(np.asarray(days, dtype=np.float64).ravel())
        if not extend:
            last = self.timeline_[-1] if self.timeline_.size else -np.inf
            d = d[d <= last]
        k = self._column(cause)
        est = self.cuminc_at(d, cause)
        se = self.std_err_at(d, cause)
        lo, hi = self.band_at(d, cause)
        ar = self.at_risk_at(d)
        ev, ce = self.cumulative_at(d)
        ev_int = np.diff(ev, axis=0, prepend=np.zeros((1, ev.shape[1])))
        ce_int = np.diff(ce, prepend=0.0)
        other = np.arange(ev.shape[1]) != k
        return tuple(
            IncidenceLandmark(
                day=float(d[i]),
                estimate=float(est[i]),
                std_err=float(se[i]),
                lower=float(lo[i]),
                upper=float(hi[i]),
                at_risk=float(ar[i]),
                events=float(ev_int[i, k]),
                competing_events=float(ev_int[i, other].sum()),
                censored=float(ce_int[i]),
            )
            for i in range(d.size)
        )

    def curve(
        self,
        cause: int,
        landmarks: ArrayLike = (30, 183, 365),
        provenance: Provenance | None = None,
    ) -> IncidenceCurve:
        k = self._column(cause)
        prov = (provenance or Provenance()).with_method(
            f"Aalen-Johansen cumulative incidence of cause {cause}, other causes competing; "
            "infinitesimal-jackknife standard error; log-transformed "
            f"{100 * (1 - self.alpha):g}% CI (R survfit multi-state)"
        )
        return IncidenceCurve(
            method="Aalen-Johansen",
            cause=cause,
            timeline=self.timeline_,
            estimate=self.cuminc_[:, k],
            std_err=self.std_err_[:, k],
            lower=self.lower_[:, k],
            upper=self.upper_[:, k],
            at_risk=self.at_risk_,
            events=self.observed_[:, k],
            landmarks=self.landmarks(landmarks, cause),
            provenance=prov,
        )


def one_minus_km(
    durations: ArrayLike,
    events: ArrayLike,
    cause: int = 1,
    weights: ArrayLike | None = None,
    ci_type: CIType = "log",
    alpha: float = 0.05,
    landmarks: ArrayLike = (30, 183, 365),
    provenance: Provenance | None = None,
) -> IncidenceCurve:
    """1 - Kaplan-Meier for `cause`, every other cause treated as censoring.

    The CI is 1 minus the KM band (lower = 1 - upper), R's ``log`` type by default;
    ``std_err`` is Greenwood on the probability scale (S times SE of log S)."""
    ev = np.asarray(events).ravel()
    km = KaplanMeier(ci_type=ci_type, alpha=alpha).fit(durations, ev == cause, weights)
    with np.errstate(invalid="ignore"):
        se = km.survival_ * km.std_err_
    lms = tuple(
        IncidenceLandmark(
            day=lm.day,
            estimate=1.0 - lm.estimate,
            std_err=lm.std_err,
            lower=1.0 - lm.upper,
            upper=1.0 - lm.lower,
            at_risk=lm.at_risk,
            events=lm.events,
            competing_events=0.0,
            censored=lm.censored,
        )
        for lm in km.landmarks(landmarks)
    )
    prov = (provenance or Provenance()).with_method(
        f"1 - Kaplan-Meier for cause {cause} with competing events censored (overstates "
        f"the cumulative incidence when competing events occur); {CI_LABELS[ci_type]}; "
        f"{100 * (1 - alpha):g}% CI"
    )
    return IncidenceCurve(
        method="1 - Kaplan-Meier",
        cause=cause,
        timeline=km.timeline_,
        estimate=_readonly(1.0 - km.survival_),
        std_err=_readonly(se),
        lower=_readonly(1.0 - km.upper_),
        upper=_readonly(1.0 - km.lower_),
        at_risk=km.at_risk_,
        events=km.observed_,
        landmarks=lms,
        provenance=prov,
    )


def cumulative_incidence(
    durations: ArrayLike,
    events: ArrayLike,
    cause: int = 1,
    weights: ArrayLike | None = None,
    alpha: float = 0.05,
    landmarks: ArrayLike = (30, 183, 365),
    endpoint: str = "",
    provenance: Provenance | None = None,
    ci_type: CIType = "log",
) -> CompetingRisksResult:
    """Aalen-Johansen and 1 - KM for the same cause, ready to show side by side.

    `ci_type` is the 1 - KM interval's: give the one the Kaplan-Meier curves of the
    same view use, so the same quantity shows the same interval on every page."""
    aj = AalenJohansen(alpha=alpha).fit(durations, events, weights)
    base = provenance or Provenance()
    if cause not in aj.causes_:
        raise ValueError(f"cause {cause} has no events (causes present: {aj.causes_})")
    return CompetingRisksResult(
        endpoint=endpoint,
        cause=cause,
        n=aj.n_,
        aalen_johansen=aj.curve(cause, landmarks, base),
        one_minus_km=one_minus_km(
            durations, events, cause, weights, ci_type, alpha, landmarks, base
        ),
        provenance=base.with_method(
            f"cumulative incidence of cause {cause}: Aalen-Johansen (competing events "
            "accounted for) beside 1 - Kaplan-Meier (competing events censored)"
        ),
    )

