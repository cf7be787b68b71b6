"""Summaries of a step survival curve as R's ``survival`` package computes them.

Where the curve (or a band limit) reaches a survival level: :func:`find_quantile` ports
``quantile.survfit``'s ``findq`` (the engine's rule) and :func:`first_below` ports
``survmean``'s ``minmin`` (the ``print(fit)`` median rule); they differ on flat stretches
at the end of the curve and on a non-monotone band. :func:`restricted_mean` integrates
the curve up to a horizon with ``survmean``'s standard error. In: the curve's arrays
(times, at risk, events, survival); out: plain floats, None where R gives NA.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

# R's all.equal() tolerance, which survfit uses to decide that S "equals" a quantile.
R_TOLERANCE = float(np.sqrt(np.finfo(float).eps))


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


def find_quantile(x: FloatArray, y: FloatArray, q: float, tol: float) -> float | None:
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


def first_below(x: FloatArray, y: FloatArray, p: float, tol: float) -> float | None:
    """Port of survmean's ``minmin`` (the ``print(fit)`` median rule) at level `p`."""
    keep = ~np.isnan(y) & (y < p + tol)
    if not np.any(keep):
        return None
    x, y = x[keep], y[keep]
    below = np.flatnonzero(y < y[0])
    if abs(y[0] - p) < tol and below.size:
        return float((x[0] + x[below[0]]) / 2)
    return float(x[0])


def restricted_mean(
    times: FloatArray,
    at_risk: FloatArray,
    observed: FloatArray,
    survival: FloatArray,
    tau: float | None = None,
) -> tuple[float, float]:
    """Restricted mean survival time up to `tau` (default: the last recorded
    time) and its standard error, as R's ``survmean``."""
    if tau is None:
        if times.size == 0:
            return float("nan"), float("nan")
        tau = float(times[-1])
    n, d = at_risk, observed
    with np.errstate(divide="ignore", invalid="ignore"):
        hh = np.where(n - d == 0, 0.0, d / (n * (n - d)))
    keep = times <= tau
    if not np.any(keep):
        return float(tau), 0.0
    t_k = np.append(times[keep], tau)
    s_k = np.append(survival[keep], survival[keep][-1])
    h_k = np.append(hh[keep], 0.0)
    delta = np.diff(np.append(0.0, t_k))
    rectangles = delta * np.append(1.0, s_k[:-1])
    var = float(np.sum(np.cumsum(rectangles[1:][::-1]) ** 2 * h_k[::-1][1:]))
    return float(rectangles.sum()), float(np.sqrt(var))
