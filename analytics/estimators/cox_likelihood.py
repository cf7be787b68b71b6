"""The Cox partial likelihood for one categorical covariate, and its maximisation.

With a single categorical covariate every patient of a level shares one risk score, so
the risk-set sums are per level: :func:`partial_likelihood` evaluates the log partial
likelihood, score and information (Breslow, or Efron by direct sum or, for many tied
deaths, in closed form) at a cost that follows the distinct times and events, never the
patients. :func:`newton` maximises it (Newton-Raphson with step halving) and
:func:`concordance` is Harrell's C as R's ``concordance()`` computes it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy import linalg, special

from analytics.estimators.grouping import Block

Ties = Literal["efron", "breslow"]
TIES: tuple[Ties, ...] = ("efron", "breslow")

FloatArray = NDArray[np.float64]


def partial_likelihood(
    beta: FloatArray, blocks: Sequence[Block], ties: Ties
) -> tuple[float, FloatArray, FloatArray]:
    """Log partial likelihood, score and information over all level coefficients
    (the reference's included; the caller keeps the free ones).

    With a single categorical covariate every patient of a level shares one risk
    score, so the risk-set sums are (at risk per level) @ exp(beta) and the second
    moment is diagonal: an evaluation costs O(distinct times x levels) for Breslow
    and O(events x levels) for Efron (one term per tied death), never O(patients).
    """
    n_levels = beta.size
    r = np.exp(beta)
    loglik = 0.0
    score = np.zeros(n_levels)
    info = np.zeros((n_levels, n_levels))
    for b in blocks:
        d_tot = b.deaths.sum(axis=1)
        has = d_tot > 0
        deaths, risk, d_tot = b.deaths[has], b.at_risk[has], d_tot[has]
        loglik += float((deaths @ beta).sum())
        score += deaths.sum(axis=0)
        s1 = risk * r
        s0 = s1.sum(axis=1)
        if ties == "breslow":
            m = s1 / s0[:, None]
            loglik -= float(d_tot @ np.log(s0))
            score -= d_tot @ m
            info += np.diag(d_tot @ m) - (m * d_tot[:, None]).T @ m
        else:
            # Efron: the j-th of d tied deaths (j = 0..d-1) sees the risk set minus
            # j/d of the dying patients' risk.
            e1 = deaths * r
            e0 = e1.sum(axis=1)
            small = d_tot <= _EFRON_DIRECT
            if small.any():
                ll, sc, inf = _efron_direct(
                    s0[small], s1[small], e0[small], e1[small], d_tot[small]
                )
                loglik -= ll
                score -= sc
                info += inf
            if not small.all():
                big = ~small
                ll, sc, inf = _efron_closed(s0[big], s1[big], e0[big], e1[big], d_tot[big])
                loglik -= ll
                score -= sc
                info += inf
    return loglik, score, info


# Times with more tied deaths than this use the closed form (aggregated registries
# have thousands per day); below it the direct sum keeps every digit.
_EFRON_DIRECT = 64


def _efron_direct(
    s0: FloatArray, s1: FloatArray, e0: FloatArray, e1: FloatArray, d: FloatArray
) -> tuple[float, FloatArray, FloatArray]:
    counts = np.rint(d).astype(np.intp)
    row = np.repeat(np.arange(counts.size), counts)
    starts = np.cumsum(counts) - counts
    frac = (np.arange(row.size) - starts[row]) / d[row]
    denom = s0[row] - frac * e0[row]
    m = (s1[row] - frac[:, None] * e1[row]) / denom[:, None]
    msum = m.sum(axis=0)
    return float(np.log(denom).sum()), msum, np.diag(msum) - m.T @ m


def _efron_closed(
    s0: FloatArray, s1: FloatArray, e0: FloatArray, e1: FloatArray, d: FloatArray
) -> tuple[float, FloatArray, FloatArray]:
    """The same sums in closed form. With D_j = A - (j/d) B = (B/d)(c - j), c = dA/B:
    sum log D_j = d log(B/d) + lgamma(c+1) - lgamma(c-d+1); sum 1/(c-j) and
    sum 1/(c-j)^2 are digamma and trigamma differences. Writing
    m_j = u / D_j + v with u = S1 - (A/B) E1 and v = E1 / B gives the score and
    information from those three sums."""
    c = d * s0 / e0
    inv1 = (special.digamma(c + 1) - special.digamma(c - d + 1)) * d / e0  # sum 1/D_j
    inv2 = (special.polygamma(1, c - d + 1) - special.polygamma(1, c + 1)) * (d / e0) ** 2
    loglik = float((d * np.log(e0 / d) + special.gammaln(c + 1) - special.gammaln(c - d + 1)).sum())
    u = s1 - (s0 / e0)[:, None] * e1
    v = e1 / e0[:, None]
    msum = (u * inv1[:, None] + v * d[:, None]).sum(axis=0)
    outer = (
        (u * inv2[:, None]).T @ u
        + (u * inv1[:, None]).T @ v
        + (v * inv1[:, None]).T @ u
        + (v * d[:, None]).T @ v
    )
    return loglik, msum, np.diag(msum) - outer


def concordance(beta: FloatArray, blocks: Sequence[Block]) -> float:
    """Harrell's C as R's concordance() on the linear predictor: pairs within a
    stratum where the earlier time is an event; a censoring at the event's time
    counts as later; equal risk scores count one half; tied event times are skipped."""
    pairs = np.zeros((beta.size, beta.size))
    for b in blocks:
        pairs += b.deaths.T @ (b.at_risk - b.deaths)
    higher = beta[:, None] > beta[None, :]
    lower = beta[:, None] < beta[None, :]
    tied = ~higher & ~lower
    conc, disc, tie = pairs[higher].sum(), pairs[lower].sum(), pairs[tied].sum()
    total = conc + disc + tie
    return float((conc + tie / 2) / total) if total > 0 else float("nan")


def newton(
    evaluate: Callable[[FloatArray], tuple[float, FloatArray, FloatArray]],
    size: int,
    max_iter: int,
) -> tuple[FloatArray, float, FloatArray, FloatArray, float, int, bool]:
    """Newton-Raphson with step halving from 0, to |step| < 1e-10. Returns the
    estimate, its log-likelihood, score and information, the null log-likelihood,
    the iterations and whether it converged. A trial point where the likelihood
    cannot be evaluated (exp overflow) counts as worse and is halved; if halving
    finds no acceptable point the iteration stops unconverged."""
    beta = np.zeros(size)
    loglik, u, info = evaluate(beta)
    loglik_null = loglik
    converged = size == 0
    iterations = 0
    while not converged and iterations < max_iter:
        iterations += 1
        step = linalg.lstsq(info, u)[0]
        new = beta + step
        ll_new, u_new, i_new = evaluate(new)
        halvings = 0
        while not ll_new >= loglik - 1e-12 * abs(loglik) and halvings < 30:
            step = step / 2
            new = beta + step
            ll_new, u_new, i_new = evaluate(new)
            halvings += 1
        if not (np.isfinite(ll_new) and np.all(np.isfinite(u_new))):
            break
        beta, loglik, u, info = new, ll_new, u_new, i_new
        converged = bool(np.max(np.abs(step)) < 1e-10)
    return beta, loglik, u, info, loglik_null, iterations, converged
