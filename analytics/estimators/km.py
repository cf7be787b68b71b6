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
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from analytics.model.provenance import Provenance

CIType = Literal["log-log", "log", "plain"]
CI_TYPES: tuple[CIType, ...] = ("log-log", "log", "plain")
CI_LABELS: dict[CIType, str] = {
    "log-log": "log-log (complementary log-log) transformed Greenwood CI, as SAS PROC LIFETEST",
    "log": "log-transformed Greenwood CI, as R survfit's default",
    "plain": "plain (linear) Greenwood CI, clipped to [0, 1]",
}
QuantileRule = Literal["quantile", "table"]
QUANTILE_RULES: tuple[QuantileRule, ...] = ("quantile", "table")

# R's all.equal() tolerance, which survfit uses to decide that S "equals" a quantile.
R_TOLERANCE = float(np.sqrt(np.finfo(float).eps))

FloatArray = NDArray[np.float64]


def _readonly(a: ArrayLike) -> FloatArray:
    out = np.array(a, dtype=np.float64)
    out.flags.writeable = False
    return out


def _empty() -> FloatArray:
    return _readonly(np.empty(0))


def check_weights(weights: ArrayLike | None, size: int) -> FloatArray:
    """Frequency weights: finite, non-negative whole numbers (ones when absent)."""
    if weights is None:
        return np.ones(size)
    w = np.asarray(weights, dtype=np.float64).ravel()
    if w.shape != (size,):
        raise ValueError(f"weights ({w.size}) differ in length from durations ({size})")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("weights must be finite and non-negative")
    if np.any(w != np.floor(w)):
        # Fractional case weights have no "expanded rows" meaning, and R's survfit
        # switches to a different (robust) variance for them.
        raise ValueError("weights must be whole numbers (frequency weights)")
    return w


def _native(a: ArrayLike) -> NDArray[Any]:
    """`a` as an array in the machine's byte order (the checks below read integers
    through unsigned views, which a big-endian array would garble)."""
    arr = np.asarray(a)
    return arr if arr.dtype.isnative else arr.astype(arr.dtype.newbyteorder("="))


def _unsigned_max(a: NDArray[np.integer]) -> int:
    """Maximum of a signed integer array read as unsigned (negatives wrap to the top)."""
    return int(a.view(np.dtype(f"u{a.dtype.itemsize}")).max())


def _as_inputs(
    durations: ArrayLike, events: ArrayLike, weights: ArrayLike | None
) -> tuple[NDArray[np.float64] | NDArray[np.integer], NDArray[np.bool_], FloatArray | None]:
    """Checked durations (integer arrays stay integer: whole by type, no check or
    conversion needed), events as booleans, weights (None for one row per patient)."""
    t_raw = _native(durations).ravel()
    t: NDArray[np.float64] | NDArray[np.integer] = (
        t_raw if t_raw.dtype.kind in "iu" else np.asarray(t_raw, dtype=np.float64)
    )
    e_raw = _native(events).ravel()
    if t.shape != e_raw.shape:
        raise ValueError(f"durations ({t.size}) and events ({e_raw.size}) differ in length")
    if t.size and t.dtype.kind == "i":
        # one reduction: read as unsigned, a negative value is larger than any valid one
        if _unsigned_max(t) >= 1 << (8 * t.dtype.itemsize - 1):  # type: ignore[arg-type]
            raise ValueError("durations contain negative values")
    elif t.size and t.dtype.kind == "f":
        # two reductions instead of elementwise masks: NaN or inf surface in min or max
        lo, hi = float(t.min()), float(t.max())
        if not (np.isfinite(lo) and np.isfinite(hi)):
            raise ValueError("durations contain missing or infinite values")
        if lo < 0:
            raise ValueError("durations contain negative values")
    e: NDArray[np.bool_]
    if e_raw.dtype == np.bool_:
        e = e_raw
    elif np.issubdtype(e_raw.dtype, np.integer):
        low_high = _unsigned_max(e_raw) if e_raw.dtype.kind == "i" else e_raw.max()
        if e_raw.size and low_high > 1:
            raise ValueError("events must be 0/1 (or boolean)")
        e = e_raw.astype(bool)
    else:
        if not np.all((e_raw == 0) | (e_raw == 1)):
            raise ValueError("events must be 0/1 (or boolean)")
        e = e_raw.astype(bool)
    if weights is None:
        return t, e, None
    w = check_weights(weights, t.size)
    # A weight-0 row stands for no patient: it must not even add a time point.
    used = w > 0
    return t[used], e[used], w[used]


# Whole-number times below this bound are counted with np.bincount (one pass, no sort).
_BINCOUNT_LIMIT = 1 << 22
# Rows per block of the counting pass: its scratch arrays stay in the CPU cache, where
# whole-array temporaries of a million rows would each cost a trip to memory.
_BLOCK = 1 << 15
# Largest slot (2 t + event) the block pass counts: a day-resolution follow-up of up to
# ninety years, while adding up the blocks' counts stays cheap next to counting them.
_SLOT_LIMIT = (1 << 16) - 1


# From this many patients on, the slots are counted by a compiled loop (numba): one
# read of each input with every check made on the way, where numpy needs a slot array
# and bincount's own extra pass, about four times the work. Below it the compile (a
# tenth of a second, once per process and input type) would cost more than it saves.
_COMPILED_MIN = 1 << 16


@cache
def _compiled_counter() -> Callable[..., tuple[NDArray[np.int64], bool]]:
    from numba import njit  # imported on first use: only large inputs need it

    @njit(nogil=True, cache=False)
    def count(t: Any, e: Any, limit: int) -> tuple[NDArray[np.int64], bool]:
        acc = np.zeros(limit + 1, np.int64)
        half = (limit - 1) // 2
        for i in range(t.shape[0]):
            ti = t[i]
            ei = e[i]
            # range first: only a time known to fit is converted (NaN fails every test)
            if 0 <= ti <= half and ti == np.floor(ti) and (ei == 0 or ei == 1):
                acc[2 * np.int64(ti) + np.int64(ei)] += 1
            else:
                return acc[:0], False
        return acc, True

    return count


def _compiled_types(t: NDArray[Any]) -> bool:
    """Time types the compiled loop takes (numba has no half floats)."""
    return t.dtype.kind in "iu" or t.dtype in (np.float32, np.float64)


def _patient_slots(durations: ArrayLike, events: ArrayLike) -> NDArray[np.int64] | None:
    """Patients per slot 2 t + event for one row per patient, checked and counted in
    one read of each input; None when the input is not whole times in range with 0/1
    events (then the general path checks it and says what is wrong).

    Every check of `_as_inputs` is made here, on each value as it is read: whole,
    finite, non-negative times, events 0/1 or boolean."""
    t = _native(durations)
    e = _native(events)
    if t.ndim != 1 or e.shape != t.shape or t.size == 0:
        return None
    if t.dtype.kind not in "iuf" or e.dtype.kind not in "biu":
        return None
    if t.size >= _COMPILED_MIN and _compiled_types(t):
        acc, ok = _compiled_counter()(t, e, _SLOT_LIMIT)
        if not ok:
            return None
        used = np.flatnonzero(acc)
        return acc[: used[-1] + 1]
    return _numpy_slots(t, e)


def _numpy_slots(t: NDArray[Any], e: NDArray[Any]) -> NDArray[np.int64] | None:
    """`_patient_slots` in numpy, block by block (the scratch arrays stay in cache)."""
    time_by_type = t.dtype.kind in "iu"
    signed_events = e.dtype.kind == "i"
    scratch = np.empty(min(_BLOCK, t.size), dtype=np.intp)
    acc = np.zeros(0, dtype=np.int64)
    for lo in range(0, t.size, _BLOCK):
        block = t[lo : lo + _BLOCK]
        ev = e[lo : lo + _BLOCK]
        x = scratch[: block.size]
        with np.errstate(invalid="ignore"):  # NaN and infinity are caught just below
            np.copyto(x, block, casting="unsafe")
        if not time_by_type and not np.array_equal(x, block):
            return None  # a fraction, NaN or infinity
        # before doubling, or a time of 2**63 would wrap to slot 0; read as unsigned,
        # a negative time is above the limit too
        if int(x.view(np.uintp).max()) > _SLOT_LIMIT >> 1:
            return None
        np.left_shift(x, 1, out=x)
        if ev.dtype.kind != "b":
            top = int(
                ev.view(np.dtype(f"u{ev.dtype.itemsize}")).max() if signed_events else ev.max()
            )
            if top > 1:
                return None
        np.bitwise_or(x, ev, out=x, dtype=np.intp, casting="unsafe")
        counts = np.bincount(x)
        if counts.size > acc.size:
            counts[: acc.size] += acc
            acc = counts
        else:
            acc[: counts.size] += counts
    return acc


def _from_slots(pairs: NDArray[np.int64]) -> tuple[FloatArray, FloatArray, FloatArray]:
    if pairs.size % 2:
        pairs = np.append(pairs, 0)
    d_i, total_i = pairs[1::2], pairs[0::2] + pairs[1::2]
    keep = np.flatnonzero(total_i)
    return (
        keep.astype(np.float64),
        d_i[keep].astype(np.float64),
        total_i[keep].astype(np.float64),
    )


def count_by_time(
    t: NDArray[np.float64] | NDArray[np.integer], e: NDArray[np.bool_], w: FloatArray | None
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Distinct times with their (weighted) events and totals.

    Day-resolution times take a counting pass instead of a sort: at a million
    patients that is the difference between milliseconds and tens of them.
    """
    tmax = float(t.max()) if t.size else 0.0
    if t.size and tmax < _BINCOUNT_LIMIT:
        if w is None and 2 * tmax + 1 <= _SLOT_LIMIT:
            pairs = _patient_slots(t, e)
            if pairs is not None:
                return _from_slots(pairs)
        ti = t.astype(np.int64)
        if t.dtype.kind in "iu" or np.array_equal(ti, t):
            if w is None:
                # events and censorings in one counting pass: slot 2 t + event
                slots = ti * 2
                slots += e
                pairs = np.bincount(slots, minlength=2 * (int(tmax) + 1)).reshape(-1, 2)
                d_i, total_i = pairs[:, 1], pairs.sum(axis=1)
            else:
                total_i = np.bincount(ti, weights=w)
                d_i = np.bincount(ti, weights=w * e, minlength=total_i.size)
            keep = np.flatnonzero(total_i)
            return (
                keep.astype(np.float64),
                d_i[keep].astype(np.float64),
                total_i[keep].astype(np.float64),
            )
    tf = np.asarray(t, dtype=np.float64)
    times, inverse = np.unique(tf, return_inverse=True)
    ww = np.ones(tf.size) if w is None else w
    d_u = np.bincount(inverse, weights=ww * e, minlength=times.size).astype(np.float64)
    total_u = np.bincount(inverse, weights=ww, minlength=times.size).astype(np.float64)
    return times, d_u, total_u


@lru_cache(maxsize=16)
def _z(alpha: float) -> float:
    """The two-sided normal quantile (a scipy call costs more than a small curve's band)."""
    return float(stats.norm.ppf(1 - alpha / 2))


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
        # one row per patient with day-resolution times: checked and counted in one pass
        pairs = _patient_slots(durations, events) if weights is None else None
        if pairs is not None:
            times, d, total = _from_slots(pairs)
        else:
            t, e, w = _as_inputs(durations, events, weights)
            times, d, total = count_by_time(t, e, w)
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
                return _findq(x, np.append(0.0, 1.0 - curve), q, R_TOLERANCE)

        elif rule == "table":

            def find(curve: FloatArray) -> float | None:
                return _minmin(self.timeline_, curve, p, R_TOLERANCE)

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
        times = self.timeline_
        if tau is None:
            if times.size == 0:
                return float("nan"), float("nan")
            tau = float(times[-1])
        n, d = self.at_risk_, self.observed_
        with np.errstate(divide="ignore", invalid="ignore"):
            hh = np.where(n - d == 0, 0.0, d / (n * (n - d)))
        keep = times <= tau
        if not np.any(keep):
            return float(tau), 0.0
        t_k = np.append(times[keep], tau)
        s_k = np.append(self.survival_[keep], self.survival_[keep][-1])
        h_k = np.append(hh[keep], 0.0)
        delta = np.diff(np.append(0.0, t_k))
        rectangles = delta * np.append(1.0, s_k[:-1])
        var = float(np.sum(np.cumsum(rectangles[1:][::-1]) ** 2 * h_k[::-1][1:]))
        return float(rectangles.sum()), float(np.sqrt(var))

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


def _first_at_or_above(values: FloatArray, v: float) -> int | None:
    """R's ``approx(values, seq_along(values), v, method = "constant", f = 1)``:
    the position of the smallest non-NA value >= v, None outside the range.
    approx sorts its x, so a non-monotone curve is searched in sorted order."""
    pos = np.flatnonzero(~np.isnan(values))
    if pos.size == 0:
        return None
    order = np.argsort(values[pos], kind="stable")
    xs, pos = values[pos][order], pos[order]
    if v < xs[0] or v > xs[-1]:
        return None
    return int(pos[np.searchsorted(xs, v, side="left")])


def _first_at_or_above_sorted(values: FloatArray, v: float) -> int | None:
    """`_first_at_or_above` for values without NaN, already in non-decreasing order."""
    if v < values[0] or v > values[-1]:
        return None
    return int(np.searchsorted(values, v, side="left"))


def _findq(x: FloatArray, y: FloatArray, q: float, tol: float) -> float | None:
    """Port of survival's ``findq``: where the cumulative curve `y` (F = 1 - S, with
    a leading 0 at time 0) reaches `q`; a flat stretch at `q` gives the midpoint of
    its start and the next jump, or of its start and the last time at the end.

    R returns NA at once when max(y) < min(probs requested together); so a curve
    ending flat at 0.5 + 1e-16 gets a median from ``quantile(fit)`` (default probs
    include 0.25) but none from ``quantile(fit, 0.5)``. Here every level is treated as
    in the default call: the tolerance, not the rounding direction, decides.
    """
    nan = np.isnan(y)
    if np.all(nan):
        return None
    xmax = float(x[-1])
    i1: int | None
    i2: int | None
    if not nan.any() and bool(np.all(y[1:] >= y[:-1])):
        # A monotone curve without NA (every estimate, most bands): its repeated values
        # are runs, and sorted order is its own order, so no sort is needed.
        keep = np.flatnonzero(np.append(True, y[1:] != y[:-1]))
        x, y = x[keep], y[keep]
        i1 = _first_at_or_above_sorted(y + tol, q)
        i2 = _first_at_or_above_sorted(y - tol, q)
    else:
        # Drop repeated values (censorings), NA counted once, as R's duplicated().
        _, first = np.unique(np.where(nan, np.inf, y), return_index=True)
        keep = np.sort(first)
        x, y = x[keep], y[keep]
        i1 = _first_at_or_above(y + tol, q)
        i2 = _first_at_or_above(y - tol, q)
    quant = float("nan") if i1 is None or i2 is None else (x[i1] + x[i2]) / 2
    if q == 0:
        quant = float(x[0])
    if not np.isnan(y[-1]) and abs(q - y[-1]) < tol:
        quant = float("nan") if i1 is None else (x[i1] + xmax) / 2
    return None if np.isnan(quant) else float(quant)


def _minmin(x: FloatArray, y: FloatArray, p: float, tol: float) -> float | None:
    """Port of survmean's ``minmin`` (the ``print(fit)`` median rule) at level `p`."""
    keep = ~np.isnan(y) & (y < p + tol)
    if not np.any(keep):
        return None
    x, y = x[keep], y[keep]
    below = np.flatnonzero(y < y[0])
    if abs(y[0] - p) < tol and below.size:
        return float((x[0] + x[below[0]]) / 2)
    return float(x[0])
