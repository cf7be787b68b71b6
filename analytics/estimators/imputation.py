"""How many of the outcomes missing at the landmark are successes: the distribution of
that number under the two imputation models of the Bayesian endpoint.

A patient censored at day c before the landmark L, event-free until then, is a
success if the patient stays event-free from c to L. Given success probabilities
q_1..q_m, the number K of successes among the m missing outcomes has a
Poisson-binomial distribution; the posterior of the success rate is then the finite
mixture over K of Beta(a + s + k, b + f + m - k), with no simulation at all.

- Kaplan-Meier model: q_i = S(L) / S(c_i) from the cohort's Kaplan-Meier curve, a
  point estimate, so the mixture weights are exact.
- Piecewise-exponential model (Broglio, Connor and Berry 2014, the Goldilocks
  design): a constant hazard on each piece of [0, L] with a Gamma prior, updated by
  the pieces' events and exposure; q_i = exp(-sum_j lambda_j * overlap of [c_i, L]
  with piece j). The hazards are uncertain, so the weights are the average over
  posterior draws of the hazards of the Poisson-binomial given each draw (exact up to
  EXACT_DRAW_LIMIT missing outcomes, a normal approximation with a stated bound above),
  and the Monte Carlo error of that average is reported.

In: times, event flags and whole-number weights (a patient row is weight 1, an
aggregated row its count). Out: mixture weights over k = 0..m, as (offset, weights).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import special

from analytics.model.schema import DAYS_PER_MONTH

# Below this many missing outcomes the Poisson-binomial of each hazard draw is computed
# exactly (a recursion over patients, vectorised over draws); above it, by a normal
# approximation with continuity correction on the first NORMAL_DRAWS draws (a registry's
# filter change must not wait for thousands of draws over thousands of counts). The
# approximation's error is bounded (Berry-Esseen) and counted against the verdict.
EXACT_DRAW_LIMIT = 300
NORMAL_DRAWS = 200
# Berry-Esseen constant for sums of independent, not identically distributed terms
# (Shevtsova 2010): sup |F - Phi| <= C * sum E|X - p|^3 / sigma^3.
BERRY_ESSEEN = 0.56
# Tails of a binomial beyond this many standard deviations (plus 10 counts) are left out;
# what they hold is far below NEGLIGIBLE.
_TAIL_SD = 40.0
# Weights below this are dropped from the mixture (their total stays under 1e-12).
NEGLIGIBLE = 1e-16


@dataclass(frozen=True)
class KDistribution:
    """P(K = offset + i) = weights[i]. When the weights are a Monte Carlo average,
    `replicates` holds the independent estimates averaged (None when exact), and
    `approximation_error` bounds how far any probability computed from them can be
    from its value under the exact per-draw distributions (0 when those are exact)."""

    offset: int
    weights: NDArray[np.float64]
    replicates: NDArray[np.float64] | None = None
    approximation_error: float = 0.0


def _trim(offset: int, pmf: NDArray[np.float64]) -> tuple[int, NDArray[np.float64]]:
    keep = np.flatnonzero(pmf > NEGLIGIBLE * pmf.max())
    lo, hi = int(keep[0]), int(keep[-1]) + 1
    return offset + lo, pmf[lo:hi]


def _binomial(n: int, p: float) -> tuple[int, NDArray[np.float64]]:
    if p <= 0.0:
        return 0, np.ones(1)
    if p >= 1.0:
        return n, np.ones(1)
    mean, sd = n * p, float(np.sqrt(n * p * (1.0 - p)))
    lo = max(0, int(np.floor(mean - _TAIL_SD * sd - 10)))
    hi = min(n, int(np.ceil(mean + _TAIL_SD * sd + 10)))
    k = np.arange(lo, hi + 1)
    # imported on first use: scipy.stats (and scipy.signal, which imports it) take a
    # third of a second to import, which every command line run would pay, and only
    # extracts with outcomes missing before the landmark come here
    from scipy import stats

    return lo, np.asarray(stats.binom.pmf(k, n, p), dtype=np.float64)


def poisson_binomial(
    counts: Sequence[int] | NDArray[np.int64], probs: Sequence[float] | NDArray[np.float64]
) -> KDistribution:
    """Exact distribution of the number of successes among groups of `counts[j]`
    patients each succeeding independently with probability `probs[j]`."""
    offset, pmf = 0, np.ones(1)
    for n, p in zip(np.asarray(counts, dtype=np.int64), np.asarray(probs, float), strict=True):
        lo, part = _binomial(int(n), float(p))
        offset += lo
        # direct convolution is exact in double precision; FFT only where it would be slow
        if pmf.size * part.size <= 1_000_000:
            pmf = np.convolve(pmf, part)
        else:
            from scipy import signal  # on first use, as scipy.stats in `_binomial`

            pmf = np.clip(signal.fftconvolve(pmf, part), 0.0, None)
        offset, pmf = _trim(offset, pmf)
    return KDistribution(offset, pmf / pmf.sum())


@dataclass(frozen=True)
class PiecewiseExponential:
    """Posterior of piecewise-constant hazards on [0, L]: Gamma(shape_j, rate_j) per
    piece, rate in days."""

    bounds: tuple[float, ...]
    events: tuple[float, ...]
    exposure: tuple[float, ...]  # patient-days
    shape: tuple[float, ...]
    rate: tuple[float, ...]

    @classmethod
    def fit(
        cls,
        t: NDArray[np.float64],
        e: NDArray[np.bool_],
        w: NDArray[np.float64],
        day: float,
        cutpoints: Sequence[float],
        prior: tuple[float, float],
    ) -> PiecewiseExponential:
        """`prior` is (shape, rate) with the rate in months, as the Goldilocks design
        states it; events after the landmark do not inform the hazards before it."""
        bounds = np.array([0.0, *sorted({float(c) for c in cutpoints if 0 < c < day}), day])
        lo, hi = bounds[:-1], bounds[1:]
        exposure = (np.clip(np.minimum(t[:, None], hi) - lo, 0.0, None) * w[:, None]).sum(0)
        piece = np.clip(np.searchsorted(bounds, t, side="left") - 1, 0, lo.size - 1)
        counted = e & (t <= day)
        events = np.bincount(piece[counted], weights=w[counted], minlength=lo.size)
        shape = prior[0] + events
        rate = prior[1] * DAYS_PER_MONTH + exposure
        return cls(
            tuple(float(b) for b in bounds),
            tuple(float(x) for x in events),
            tuple(float(x) for x in exposure),
            tuple(float(x) for x in shape),
            tuple(float(x) for x in rate),
        )

    def overlap(self, censored: NDArray[np.float64]) -> NDArray[np.float64]:
        """Days of [c, L] in each piece, one row per censoring day c."""
        b = np.asarray(self.bounds)
        lo, hi = b[:-1], b[1:]
        return np.asarray(np.clip(hi - np.maximum(censored[:, None], lo), 0.0, None), float)

    def mean_success(self, censored: NDArray[np.float64]) -> NDArray[np.float64]:
        """E[exp(-sum_j lambda_j d_j)] under the posterior: prod_j (r_j / (r_j + d_j))^a_j,
        the chance of staying event-free to L with the hazards' uncertainty averaged."""
        d = self.overlap(censored)
        r, a = np.asarray(self.rate), np.asarray(self.shape)
        return np.asarray(np.prod((r / (r + d)) ** a, axis=1), dtype=np.float64)

    def draw_success(
        self, censored: NDArray[np.float64], draws: int, rng: np.random.Generator
    ) -> NDArray[np.float64]:
        """Success probability of each censoring day (columns) under each draw (rows)."""
        shape, rate = np.asarray(self.shape), np.asarray(self.rate)
        lam = rng.gamma(shape, 1.0 / rate, (draws, shape.size))
        return np.asarray(np.exp(-lam @ self.overlap(censored).T), dtype=np.float64)


def _exact_rows(counts: NDArray[np.int64], q: NDArray[np.float64]) -> NDArray[np.float64]:
    """Poisson-binomial pmf of each row of q (groups of `counts` patients), exactly."""
    m = int(counts.sum())
    pmf = np.zeros((q.shape[0], m + 1))
    pmf[:, 0] = 1.0
    filled = 0
    for j, n in enumerate(counts):
        p = q[:, j : j + 1]
        for _ in range(int(n)):
            pmf[:, 1 : filled + 2] = pmf[:, 1 : filled + 2] * (1 - p) + pmf[:, : filled + 1] * p
            pmf[:, 0:1] *= 1 - p
            filled += 1
    return pmf


def _normal_rows(
    counts: NDArray[np.int64], q: NDArray[np.float64]
) -> tuple[int, NDArray[np.float64], float]:
    """A discretised normal for each draw's Poisson-binomial, and the Berry-Esseen bound
    of the largest distance between a draw's distribution function and its normal.
    A probability of the posterior is an average of a monotone function of K, so it
    moves by no more than that distance (plus the continuity step) times the function's
    range."""
    m = int(counts.sum())
    mean = q @ counts
    var = (q * (1 - q)) @ counts
    sd = np.sqrt(np.maximum(var, 1e-12))
    third = (q * (1 - q) * (q**2 + (1 - q) ** 2)) @ counts
    bound = float(np.max(BERRY_ESSEEN * third / sd**3 + 1.0 / (np.sqrt(2 * np.pi) * sd)))
    lo = max(0, int(np.floor((mean - 12 * sd).min())))
    hi = min(m, int(np.ceil((mean + 12 * sd).max())))
    k = np.arange(lo, hi + 1)
    upper = special.ndtr((k[None, :] + 0.5 - mean[:, None]) / sd[:, None])
    lower = special.ndtr((k[None, :] - 0.5 - mean[:, None]) / sd[:, None])
    pmf = np.asarray(upper - lower, dtype=np.float64)
    return lo, pmf / pmf.sum(axis=1, keepdims=True), min(bound, 1.0)


def averaged_over_draws(counts: NDArray[np.int64], q: NDArray[np.float64]) -> KDistribution:
    """The distribution of K averaged over the draws of the success probabilities (rows
    of q). `replicates` holds each draw's distribution, whose spread gives the Monte
    Carlo error of anything computed from the average."""
    bound = 0.0
    if counts.sum() <= EXACT_DRAW_LIMIT:
        offset, rows = 0, _exact_rows(counts, q)
    else:
        offset, rows, bound = _normal_rows(counts, q[:NORMAL_DRAWS])
    start, weights = _trim(offset, rows.mean(axis=0))
    kept = rows[:, start - offset : start - offset + weights.size]
    return KDistribution(start, weights / weights.sum(), kept, bound)
