"""Geometry of step curves: thinning without visible change, and band polygons.

Pure numpy functions, independent of Plotly and of the estimators.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
IndexArray = NDArray[np.intp]

#: Largest vertical error a thinned curve may show: 0.1 percentage point, as a proportion.
THIN_TOL = 0.001


def _deviation(block: FloatArray, ref: FloatArray) -> FloatArray:
    """Largest absolute difference across series; a NaN on one side only is infinite."""
    with np.errstate(invalid="ignore"):
        diff = np.abs(block - ref)
    nan_b = np.isnan(block)
    nan_r = np.isnan(ref)
    diff = np.where(nan_b & nan_r, 0.0, diff)
    diff = np.where(nan_b ^ nan_r, np.inf, diff)
    return np.asarray(diff.max(axis=1), dtype=np.float64)


def thin_steps(
    x: ArrayLike, *series: ArrayLike, tol: float = THIN_TOL, keep: ArrayLike | None = None
) -> IndexArray:
    """Indices of the points of right-continuous step functions worth drawing.

    ``x`` is sorted (ties allowed); each of ``series`` holds a step function's value
    from that x on (a survival curve and its CI bounds, in the same units as `tol`).
    A point is kept when any series has moved by ``tol`` or more since the last kept
    point, or changed between NaN and a number; the first and last points and any
    ``keep`` (a boolean mask or an index array) are always kept.

    Guarantee: drawing the steps through the kept points only (Plotly ``line_shape
    "hv"``) differs from the full step functions by less than ``tol`` at every x, in
    every series, and is NaN exactly where they are. The number of points kept is
    about range / tol for a monotone series (about 1,000 for a survival curve with
    ``tol`` = 0.1 percentage point) whatever the number of input points.
    """
    xs = np.asarray(x, dtype=np.float64).ravel()
    n = xs.size
    if tol <= 0:
        raise ValueError("tol must be positive")
    if not series:
        raise ValueError("give at least one series")
    ys = np.column_stack([np.asarray(s, dtype=np.float64).ravel() for s in series])
    if ys.shape[0] != n:
        raise ValueError("every series must have one value per x")
    if n and np.any(np.diff(xs) < 0):
        raise ValueError("x must be sorted")
    if n <= 2:
        return np.arange(n, dtype=np.intp)
    forced = np.zeros(n, dtype=bool)
    forced[[0, n - 1]] = True
    if keep is not None:
        k = np.asarray(keep)
        if k.dtype == bool:
            if k.shape != (n,):
                raise ValueError("a boolean keep mask must have one value per x")
            forced |= k
        else:
            forced[k.astype(np.intp)] = True
    # A point equal to its predecessor in every series can never be needed.
    same = np.zeros(n, dtype=bool)
    same[1:] = _deviation(ys[1:], ys[:-1]) == 0.0
    candidates = np.flatnonzero(~same | forced)
    ycand = ys[candidates]
    fcand = forced[candidates]
    kept = [0]
    ref = ycand[0]
    i = 1  # position in candidates
    m = candidates.size
    block = 16
    while i < m:
        stop = min(m, i + block)
        hit = (_deviation(ycand[i:stop], ref) >= tol) | fcand[i:stop]
        where = np.flatnonzero(hit)
        if where.size == 0:
            i = stop
            block = min(block * 2, 4096)
            continue
        j = i + int(where[0])
        kept.append(j)
        ref = ycand[j]
        i = j + 1
        block = 16
    return candidates[np.asarray(kept, dtype=np.intp)]


def thin_marks(x: ArrayLike, y: ArrayLike, x_tol: float, y_tol: float) -> IndexArray:
    """Indices of scatter marks (sorted by x) to draw so that every mark left out lies
    within `x_tol` horizontally and `y_tol` vertically of a kept mark (the last kept
    one before it). First and last marks are kept."""
    xs = np.asarray(x, dtype=np.float64)
    if x_tol <= 0 or y_tol <= 0:
        raise ValueError("tolerances must be positive")
    return thin_steps(xs, xs / x_tol, np.asarray(y, dtype=np.float64) / y_tol, tol=1.0)


def step_values_at(x_kept: ArrayLike, y_kept: ArrayLike, x: ArrayLike) -> FloatArray:
    """Value of the step function through (x_kept, y_kept) at each x (right-continuous;
    where x ties, the last point at that x counts). Used to check thinning."""
    xk = np.asarray(x_kept, dtype=np.float64)
    yk = np.asarray(y_kept, dtype=np.float64)
    idx = np.searchsorted(xk, np.asarray(x, dtype=np.float64), side="right") - 1
    return np.where(idx >= 0, yk[np.maximum(idx, 0)], np.nan)


def step_band(x: ArrayLike, lower: ArrayLike, upper: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """A closed polygon outline (x, y) of the band between two step functions, one
    polygon per run of finite values, separated by NaN (Plotly ``fill="toself"``)."""
    xs = np.asarray(x, dtype=np.float64)
    lo = np.asarray(lower, dtype=np.float64)
    hi = np.asarray(upper, dtype=np.float64)
    ok = np.isfinite(lo) & np.isfinite(hi)
    px: list[FloatArray] = []
    py: list[FloatArray] = []
    edges = np.flatnonzero(np.diff(np.concatenate(([0], ok.astype(np.int8), [0]))))
    for start, stop in zip(edges[::2], edges[1::2], strict=True):
        # a run covers [x_start, x_stop) where x_stop is the next point, if any
        seg_x = xs[start : stop + 1] if stop < xs.size else np.append(xs[start:stop], xs[-1])
        k = stop - start
        sx = np.repeat(seg_x, 2)[1:-1]  # x0 x1 x1 x2 x2 ... x_k
        top = np.repeat(hi[start:stop], 2)
        bottom = np.repeat(lo[start:stop], 2)
        if sx.size != 2 * k:
            raise AssertionError("band geometry")
        px.extend([sx, sx[::-1], np.array([sx[0], np.nan])])
        py.extend([top, bottom[::-1], np.array([top[0], np.nan])])
    if not px:
        return np.array([], dtype=np.float64), np.array([], dtype=np.float64)
    return np.concatenate(px)[:-1], np.concatenate(py)[:-1]
