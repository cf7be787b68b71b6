"""Closed forms of the Beta-binomial model of a single-arm binary endpoint: the posterior
probability above a goal, the critical count of successes, exact binomial tails and the
predictive probability of reaching a count. In: counts and a Beta prior; out: numbers,
no simulation. The Goldilocks design simulator (`analytics.analyses.design`) counts with these.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import special

FloatArray = NDArray[np.float64]


def posterior_above(goal: float, successes: Any, n: Any, prior: tuple[float, float]) -> FloatArray:
    """P(rate > goal | successes of n) under a Beta(a, b) prior; the upper tail is taken
    as I_(1-goal)(b + f, a + s) so probabilities near 1 keep their digits."""
    s = np.asarray(successes, dtype=np.float64)
    f = np.asarray(n, dtype=np.float64) - s
    a, b = prior
    return np.asarray(special.betainc(b + f, a + s, 1.0 - goal), dtype=np.float64)


def critical_count(n: int, goal: float, threshold: float, prior: tuple[float, float]) -> int:
    """The fewest successes of `n` for which P(rate > goal) > threshold; n + 1 if none."""
    passes = np.flatnonzero(posterior_above(goal, np.arange(n + 1), n, prior) > threshold)
    return int(passes[0]) if passes.size else n + 1


def binomial_tail(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p), exactly."""
    # imported on first use: scipy.stats takes a third of a second to import, which
    # every command line run would pay, and only the design simulator comes here
    from scipy import stats

    return float(stats.binom.sf(k - 1, n, p))


def predictive_table(total: int, needed: int, prior: tuple[float, float]) -> FloatArray:
    """[c, s]: the Beta-binomial probability that, with s successes among c complete
    outcomes, the `total - c` outcomes still to come bring the successes to `needed`."""
    a, b = prior
    out = np.zeros((total + 1, total + 1))
    for c in range(total + 1):
        m = total - c
        s = np.arange(c + 1, dtype=np.float64)[:, None]
        j = np.arange(m + 1, dtype=np.float64)[None, :]
        log_pmf = (
            special.gammaln(m + 1.0)
            - special.gammaln(j + 1.0)
            - special.gammaln(m - j + 1.0)
            + special.betaln(a + s + j, b + c - s + m - j)
            - special.betaln(a + s, b + c - s)
        )
        tail = np.where(j >= needed - s, np.exp(log_pmf), 0.0).sum(axis=1)
        out[c, : c + 1] = np.clip(tail, 0.0, 1.0)
    return out
