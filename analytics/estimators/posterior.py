"""The posterior of a success rate: a finite mixture of Beta distributions.

Under a Beta(a, b) prior with s successes and f failures observed and m outcomes
imputed, the posterior is the mixture over the number k of imputed successes of
Beta(a + s + k, b + f + m - k), weighted by k's distribution (one component when
nothing is imputed). :class:`Posterior` holds the components and gives the mean, the
standard deviation, the distribution function, the density and quantiles, all exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special

from analytics.estimators.imputation import KDistribution


@dataclass(frozen=True, eq=False)
class Posterior:
    """A finite mixture of Beta distributions (one component when nothing is imputed)."""

    alphas: NDArray[np.float64]
    betas: NDArray[np.float64]
    weights: NDArray[np.float64]

    @classmethod
    def beta(cls, a: float, b: float) -> Posterior:
        return cls(np.array([a]), np.array([b]), np.array([1.0]))

    @classmethod
    def mixture(cls, a: float, b: float, m: int, k: KDistribution) -> Posterior:
        ks = k.offset + np.arange(k.weights.size, dtype=np.float64)
        return cls(np.asarray(a + ks, np.float64), np.asarray(b + (m - ks), np.float64), k.weights)

    @property
    def mean(self) -> float:
        return float(np.sum(self.weights * self.alphas / (self.alphas + self.betas)))

    @property
    def sd(self) -> float:
        a, b = self.alphas, self.betas
        second = np.sum(self.weights * a * (a + 1) / ((a + b) * (a + b + 1)))
        return float(np.sqrt(max(second - self.mean**2, 0.0)))

    def cdf(self, x: ArrayLike) -> NDArray[np.float64]:
        x = np.asarray(x, dtype=np.float64)
        parts = special.betainc(self.alphas, self.betas, x[..., None])
        return np.asarray(parts @ self.weights, dtype=np.float64)

    def pdf(self, x: ArrayLike) -> NDArray[np.float64]:
        x = np.asarray(x, dtype=np.float64)[..., None]
        a, b = self.alphas, self.betas
        with np.errstate(divide="ignore", invalid="ignore"):
            log = (a - 1) * np.log(x) + (b - 1) * np.log1p(-x) - special.betaln(a, b)
        dens = np.where((x > 0) & (x < 1), np.exp(log), 0.0)
        return np.asarray(dens @ self.weights, dtype=np.float64)

    def quantile(self, q: float) -> float:
        if self.weights.size == 1:
            return float(special.betaincinv(self.alphas[0], self.betas[0], q))
        # Chebyshev: beyond 10 standard deviations lies at most 1% of the mass, so this
        # bracket holds every quantile from 0.01 to 0.99 and spares most of the search
        lo, hi = 0.0, 1.0
        if 0.01 <= q <= 0.99:
            lo, hi = max(0.0, self.mean - 10 * self.sd), min(1.0, self.mean + 10 * self.sd)
        return float(optimize.brentq(lambda x: float(self.cdf(x)) - q, lo, hi, xtol=1e-12))

    def prob_above(self, goal: float) -> float:
        return float(1.0 - self.cdf(goal))
