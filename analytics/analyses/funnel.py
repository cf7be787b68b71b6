"""Funnel-plot control limits for a proportion (Spiegelhalter, Stat Med 2005;24:1185-1202)
and the exact confidence limits of one proportion.

Funnel limits around a target p0 (the pooled proportion over every site's patients of
known status, or a benchmark the user gives) at each denominator n: exact binomial
limits with Spiegelhalter's interpolation (his appendix A.1.1): for a tail probability
q, r_q is the smallest r with P(R <= r) >= q, R ~ Binomial(n, p0), and the limit is
(r_q - a) / n with a = (P(R <= r_q) - q) / (P(R <= r_q) - P(R <= r_q - 1)). The 95%
limits use q = 0.025 and 0.975, the 99.8% limits 0.001 and 0.999. The normal
approximation p0 +- z sqrt(p0 (1 - p0) / n) is available, labelled as such.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

FloatArray = NDArray[np.float64]
Method = Literal["exact", "normal"]

LEVELS: tuple[float, ...] = (0.95, 0.998)
GRID_POINTS = 400  # points per limit curve on a large registry
Position = Literal["above 99.8%", "above 95%", "within", "below 95%", "below 99.8%"]
POSITIONS: dict[Position, str] = {
    "above 99.8%": "above the 99.8% limit",
    "above 95%": "above the 95% limit",
    "within": "within the 95% limits",
    "below 95%": "below the 95% limit",
    "below 99.8%": "below the 99.8% limit",
}


@dataclass(frozen=True)
class LimitCurve:
    """Lower and upper control limits at `level` along the denominators `n`."""

    level: float
    n: FloatArray
    lower: FloatArray
    upper: FloatArray


def _tails(level: float) -> tuple[float, float]:
    if not 0 < level < 1:
        raise ValueError(f"limit level must lie strictly between 0 and 1, not {level}")
    return (1 - level) / 2, 1 - (1 - level) / 2


def _exact_limit(n: FloatArray, p0: float, q: float) -> FloatArray:
    """Spiegelhalter's interpolated binomial quantile at tail probability q, as a
    proportion of n."""
    # imported on first use: scipy.stats takes a third of a second to import, which
    # every command line run would pay, and only the site comparison needs it here
    from scipy import stats

    r = stats.binom.ppf(q, n, p0)
    at = stats.binom.cdf(r, n, p0)
    below = stats.binom.cdf(r - 1, n, p0)
    with np.errstate(invalid="ignore", divide="ignore"):
        a = np.where(at > below, (at - q) / (at - below), 0.0)
        return np.asarray((r - a) / n, dtype=np.float64)


def funnel_limits(
    n: ArrayLike, p0: float, level: float, method: Method = "exact"
) -> tuple[FloatArray, FloatArray]:
    """(lower, upper) control limits for a proportion with target `p0` at each
    denominator in `n`, covering `level` (0.95, 0.998); clipped to [0, 1], NaN where
    n < 1."""
    if not 0 <= p0 <= 1:
        raise ValueError(f"target must be a proportion between 0 and 1, not {p0}")
    lo_q, hi_q = _tails(level)
    size = np.asarray(n, dtype=np.float64)
    valid = size >= 1
    safe = np.where(valid, size, 1.0)
    if p0 in (0.0, 1.0):
        # a degenerate binomial: every site must sit exactly on the target
        lower = np.full(safe.shape, p0)
        upper = np.full(safe.shape, p0)
    elif method == "exact":
        lower, upper = _exact_limit(safe, p0, lo_q), _exact_limit(safe, p0, hi_q)
    elif method == "normal":
        half = special.ndtri(hi_q) * np.sqrt(p0 * (1 - p0) / safe)
        lower, upper = p0 - half, p0 + half
    else:
        raise ValueError(f"unknown limit method {method!r}; choose 'exact' or 'normal'")
    lower = np.where(valid, np.clip(lower, 0.0, 1.0), np.nan)
    upper = np.where(valid, np.clip(upper, 0.0, 1.0), np.nan)
    return lower.astype(np.float64), upper.astype(np.float64)


def limit_grid(largest: float, points: int = GRID_POINTS) -> FloatArray:
    """Whole denominators from 1 to a little beyond `largest`: every one on a small
    registry, `points` of them spaced evenly on a log scale on a large one."""
    top = max(10, int(np.ceil(1.05 * max(largest, 1))))
    if top <= points:
        return np.arange(1, top + 1, dtype=np.float64)
    return np.unique(np.round(np.geomspace(1, top, points))).astype(np.float64)


def clopper_pearson(
    x: ArrayLike, n: ArrayLike, level: float = 0.95
) -> tuple[FloatArray, FloatArray]:
    """Exact (Clopper-Pearson) confidence limits of x / n; NaN where n is 0."""
    k = np.asarray(x, dtype=np.float64)
    m = np.asarray(n, dtype=np.float64)
    lo_q, hi_q = _tails(level)
    from scipy import stats  # on first use, as in `_exact_limit`

    with np.errstate(invalid="ignore"):
        lower = np.where(k > 0, stats.beta.ppf(lo_q, k, m - k + 1), 0.0)
        upper = np.where(k < m, stats.beta.ppf(hi_q, k + 1, m - k), 1.0)
    bad = m <= 0
    return np.where(bad, np.nan, lower), np.where(bad, np.nan, upper)


def limit_position(
    p: float, limits: dict[float, tuple[FloatArray, FloatArray]], i: int
) -> Position:
    """Where the proportion `p` of the i-th denominator lies against `limits`."""
    lower = {lv: float(limits[lv][0][i]) for lv in LEVELS}
    upper = {lv: float(limits[lv][1][i]) for lv in LEVELS}
    wide, narrow = max(LEVELS), min(LEVELS)
    if p > upper[wide]:
        return "above 99.8%"
    if p > upper[narrow]:
        return "above 95%"
    if p < lower[wide]:
        return "below 99.8%"
    if p < lower[narrow]:
        return "below 95%"
    return "within"


def funnel(
    known: FloatArray | NDArray[np.int64], target: float | None, method: Method
) -> tuple[tuple[LimitCurve, ...], dict[float, tuple[FloatArray, FloatArray]]]:
    """The limit curves at every level along a grid of denominators up to the largest
    of `known`, and each level's (lower, upper) limits at each of `known`; none when
    there is no target."""
    if target is None:
        return (), {}
    grid = limit_grid(float(known.max()) if known.size else 1.0)
    curves = []
    at_known = {}
    for level in LEVELS:
        lo, hi = funnel_limits(grid, target, level, method)
        curves.append(LimitCurve(level, grid, lo, hi))
        at_known[level] = funnel_limits(known, target, level, method)
    return tuple(curves), at_known
