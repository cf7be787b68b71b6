"""The distribution of the number of imputed successes, against enumeration, the
binomial and the moments of a sum of independent binomials."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats

from analytics.estimators.imputation import averaged_over_draws, poisson_binomial


def _enumerate(counts, probs):
    p = np.repeat(probs, counts)
    pmf = np.zeros(p.size + 1)
    for pattern in itertools.product((0, 1), repeat=p.size):
        x = np.array(pattern)
        pmf[x.sum()] += np.prod(np.where(x == 1, p, 1 - p))
    return pmf


@pytest.mark.parametrize(
    ("counts", "probs"),
    [([1, 1, 1], [0.2, 0.5, 0.9]), ([3, 2, 4], [0.7, 0.05, 0.33]), ([2, 2], [0.0, 1.0])],
)
def test_small_cases_equal_the_enumeration(counts, probs):
    k = poisson_binomial(counts, probs)
    full = np.zeros(sum(counts) + 1)
    full[k.offset : k.offset + k.weights.size] = k.weights
    np.testing.assert_allclose(full, _enumerate(counts, probs), atol=1e-15)


def test_one_group_is_the_binomial():
    k = poisson_binomial([60], [0.37])
    support = k.offset + np.arange(k.weights.size)
    np.testing.assert_allclose(k.weights, stats.binom.pmf(support, 60, 0.37), rtol=1e-12)


def test_large_groups_keep_the_moments_of_a_sum_of_binomials():
    rng = np.random.default_rng(1)
    counts = rng.integers(1000, 20000, 150)
    probs = rng.random(150)
    k = poisson_binomial(counts, probs)
    support = k.offset + np.arange(k.weights.size)
    mean = (k.weights * support).sum()
    var = (k.weights * (support - mean) ** 2).sum()
    assert mean == pytest.approx((counts * probs).sum(), rel=1e-12)
    assert var == pytest.approx((counts * probs * (1 - probs)).sum(), rel=1e-8)
    assert k.weights.sum() == pytest.approx(1.0, abs=1e-12)


def test_averaging_over_draws_is_the_mean_of_each_draws_distribution():
    q = np.array([[0.2, 0.9], [0.6, 0.4], [0.35, 0.75]])
    counts = np.array([2, 1])
    k = averaged_over_draws(counts, q)
    each = np.array([_enumerate(counts, row) for row in q])
    full = np.zeros(4)
    full[k.offset : k.offset + k.weights.size] = k.weights
    np.testing.assert_allclose(full, each.mean(axis=0), atol=1e-15)
    np.testing.assert_allclose(k.replicates, each[:, k.offset : k.offset + k.weights.size])
