"""The Bayesian endpoint against closed-form Beta results and hand counts."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from analytics.bayes import BayesianEndpoint, classify
from analytics.km import KaplanMeier


def test_classification_at_the_landmark():
    t = np.array([10, 183, 183, 200, 100, 183, 50])
    e = np.array([1, 1, 0, 1, 0, 0, 0])
    success, failure, missing = classify(t, e, 183)
    # event on the day is a failure; censored on the day or later, or an event after, succeeds
    assert failure.tolist() == [True, True, False, False, False, False, False]
    assert success.tolist() == [False, False, True, True, False, True, False]
    assert missing.tolist() == [False, False, False, False, True, False, True]


@pytest.mark.parametrize(("s", "f", "prior"), [(67, 35, (1, 1)), (5, 0, (1, 1)), (30, 20, (2, 3))])
def test_no_missing_outcomes_is_the_closed_form_beta(s, f, prior):
    t = np.r_[np.full(s, 400.0), np.full(f, 20.0)]
    e = np.r_[np.zeros(s), np.ones(f)]
    res = BayesianEndpoint(day=183, goal=0.54, prior=prior).fit(t, e).result_
    post = stats.beta(prior[0] + s, prior[1] + f)
    assert (res.successes, res.failures, res.missing) == (s, f, 0)
    assert not res.imputed
    assert res.posterior_mean == pytest.approx(post.mean(), abs=1e-12)
    assert res.credible_interval[0] == pytest.approx(post.ppf(0.025), abs=1e-10)
    assert res.credible_interval[1] == pytest.approx(post.ppf(0.975), abs=1e-10)
    assert res.probability_above_goal == pytest.approx(post.sf(0.54), abs=1e-12)
    assert res.success == (post.sf(0.54) > 0.977)


def test_complete_case_leaves_missing_out():
    t = np.r_[np.full(60, 400.0), np.full(30, 20.0), np.full(10, 50.0)]
    e = np.r_[np.zeros(60), np.ones(30), np.zeros(10)]
    res = BayesianEndpoint(day=183).fit(t, e).result_
    cc = res.complete_case
    assert cc is not None
    assert cc.posterior_mean == pytest.approx(stats.beta(61, 31).mean(), abs=1e-12)
    assert res.imputed
    assert res.imputations == 1000
    assert res.missing == 10


def test_imputation_follows_the_stated_model():
    """Missing patient i succeeds with probability S(L)/S(c_i), so the mixture's mean
    is (a + successes + sum of those probabilities) / (a + b + n), up to Monte Carlo."""
    rng = np.random.default_rng(3)
    t = np.r_[rng.integers(1, 400, 200), np.full(40, 90)]
    e = np.r_[rng.random(200) < 0.4, np.zeros(40, dtype=bool)]
    res = BayesianEndpoint(day=183, n_imputations=20000, seed=5).fit(t, e).result_
    km = KaplanMeier().fit(t, e)
    succ, _, missing = classify(t, e, 183)
    p_each = km.survival_at([183])[0] / km.survival_at(t[missing])
    assert res.missing == missing.sum() >= 40
    expected = (1 + succ.sum() + p_each.sum()) / (2 + len(t))
    assert res.posterior_mean == pytest.approx(expected, abs=2e-3)


def test_imputation_is_reproducible_and_seeded():
    rng = np.random.default_rng(8)
    t = rng.integers(1, 300, 150)
    e = rng.random(150) < 0.3
    a = BayesianEndpoint(seed=1).fit(t, e).result_
    b = BayesianEndpoint(seed=1).fit(t, e).result_
    c = BayesianEndpoint(seed=2).fit(t, e).result_
    assert a.posterior_mean == b.posterior_mean
    assert a.credible_interval == b.credible_interval
    assert a.posterior_mean != c.posterior_mean
    assert "seed 1" in a.provenance.method


def test_aggregated_input_gives_identical_results():
    rng = np.random.default_rng(9)
    t = rng.integers(1, 300, 500).astype(float)
    e = (rng.random(500) < 0.35).astype(int)
    rows = BayesianEndpoint().fit(t, e).result_
    keys, counts = np.unique(np.c_[t, e], axis=0, return_counts=True)
    agg = BayesianEndpoint().fit(keys[:, 0], keys[:, 1], weights=counts).result_
    assert agg.posterior_mean == rows.posterior_mean
    assert agg.credible_interval == rows.credible_interval
    assert agg.probability_above_goal == rows.probability_above_goal


def test_density_is_a_probability_density():
    t = np.r_[np.full(50, 400.0), np.full(20, 10.0), np.full(5, 60.0)]
    e = np.r_[np.zeros(50), np.ones(20), np.zeros(5)]
    res = BayesianEndpoint().fit(t, e).result_
    x, y = res.density(np.linspace(0, 1, 20001))
    assert integrate.trapezoid(y, x) == pytest.approx(1.0, abs=1e-6)
    above = x >= res.goal
    assert integrate.trapezoid(y[above], x[above]) == pytest.approx(
        res.probability_above_goal, abs=1e-4
    )


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"day": 0}, "landmark day"),
        ({"goal": 1.0}, "performance goal"),
        ({"threshold": 0.0}, "success threshold"),
        ({"prior": (0, 1)}, "Beta prior"),
        ({"n_imputations": 0}, "imputation"),
    ],
)
def test_settings_are_checked(kwargs, needle):
    with pytest.raises(ValueError, match=needle):
        BayesianEndpoint(**kwargs)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.lists(st.tuples(st.integers(0, 400), st.booleans()), min_size=1, max_size=60))
def test_interval_contains_mean_and_probability_is_a_probability(data):
    t = np.array([d[0] for d in data], dtype=float)
    e = np.array([d[1] for d in data], dtype=int)
    res = BayesianEndpoint(n_imputations=200).fit(t, e).result_
    lo, hi = res.credible_interval
    assert 0 <= lo <= res.posterior_mean <= hi <= 1
    assert 0 <= res.probability_above_goal <= 1
    assert res.successes + res.failures + res.missing == len(t)


def test_a_landmark_beyond_follow_up_and_a_large_imputed_share_are_noted():
    from analytics.bayes import BayesianEndpoint

    t = [10, 20, 30, 40, 50, 60]
    e = [1, 0, 0, 1, 0, 0]
    beyond = BayesianEndpoint(day=100).fit(t, e).result_
    assert beyond.successes == 0
    assert any("no patient was followed to day 100" in n for n in beyond.notes)
    assert any("4 of 6 outcomes (67%)" in n and "imputation" in n for n in beyond.notes)
    # nothing imputed: the note says no more than what is so
    for fitted in (BayesianEndpoint(day=100, impute=False).fit(t, e).result_,
                   BayesianEndpoint(day=100).fit([10, 20, 30], [1, 1, 1]).result_):
        assert any("no patient was followed to day 100" in n for n in fitted.notes)
        assert not any("imputed" in n for n in fitted.notes)
    within = BayesianEndpoint(day=10, impute=False).fit(t, e).result_
    assert within.notes == ()
    cc = BayesianEndpoint(day=45, impute=False).fit(t, e).result_
    assert cc.notes == ("2 of 6 outcomes (33%) were censored before day 45: the result "
                        "leans on the complete cases alone",)
