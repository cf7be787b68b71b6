"""The Bayesian endpoint against closed-form Beta results, direct enumeration and hand
counts: the exact mixture of the Kaplan-Meier imputation, the piecewise-exponential
imputation of the Goldilocks design, and the verdicts withheld when data cannot carry
them."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from analytics.estimators.bayes import DEFAULT_IMPUTATIONS, BayesianEndpoint, classify
from analytics.estimators.imputation import _exact_rows, averaged_over_draws
from analytics.estimators.km import KaplanMeier


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
    assert res.as_complete_case is res


def test_complete_case_leaves_missing_out():
    t = np.r_[np.full(60, 400.0), np.full(30, 20.0), np.full(10, 50.0)]
    e = np.r_[np.zeros(60), np.ones(30), np.zeros(10)]
    res = BayesianEndpoint(day=183).fit(t, e).result_
    cc = res.complete_case
    assert cc is not None
    assert cc.posterior_mean == pytest.approx(stats.beta(61, 31).mean(), abs=1e-12)
    assert res.imputed
    assert res.imputation == "pwe"
    assert res.imputations == DEFAULT_IMPUTATIONS
    assert res.missing == 10


def _enumerated_mixture(a, b, s, f, p):
    """Every pattern of successes among the missing, by brute force: weight of k."""
    w = np.zeros(len(p) + 1)
    for pattern in itertools.product((0, 1), repeat=len(p)):
        x = np.array(pattern)
        w[x.sum()] += np.prod(np.where(x == 1, p, 1 - p))
    return w


def test_kaplan_meier_imputation_is_the_exact_mixture_of_an_enumeration():
    t = np.array([400, 400, 400, 300, 250, 20, 35, 60, 90, 12, 40, 75, 110, 150, 170, 160.0])
    e = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1])
    res = BayesianEndpoint(day=183, imputation="km", prior=(2, 3)).fit(t, e).result_
    km = KaplanMeier().fit(t, e)
    _, _, missing = classify(t, e, 183)
    p = km.survival_at([183])[0] / km.survival_at(t[missing])
    assert res.missing == missing.sum() == 6
    w = _enumerated_mixture(2, 3, res.successes, res.failures, p)
    ks = np.arange(len(p) + 1)
    alphas, betas = 2 + res.successes + ks, 3 + res.failures + (len(p) - ks)
    shown = dict(zip(res.posterior.alphas.tolist(), res.posterior.weights.tolist(), strict=True))
    for k in ks:
        assert shown.get(float(alphas[k]), 0.0) == pytest.approx(w[k], abs=1e-14)
    prob = sum(wk * stats.beta(a, b).sf(0.54) for wk, a, b in zip(w, alphas, betas, strict=True))
    assert res.probability_above_goal == pytest.approx(prob, abs=1e-12)
    assert res.seed is None
    assert res.monte_carlo_error is None
    assert "exactly (no simulation)" in res.provenance.method


def test_kaplan_meier_imputation_mean_is_the_closed_form():
    """Missing patient i succeeds with probability S(L)/S(c_i): the mixture's mean is
    (a + successes + sum of those probabilities) / (a + b + n), exactly."""
    rng = np.random.default_rng(3)
    t = np.r_[rng.integers(1, 400, 200), np.full(40, 90)]
    e = np.r_[rng.random(200) < 0.4, np.zeros(40, dtype=bool)]
    res = BayesianEndpoint(day=183, imputation="km").fit(t, e).result_
    km = KaplanMeier().fit(t, e)
    succ, _, missing = classify(t, e, 183)
    p_each = km.survival_at([183])[0] / km.survival_at(t[missing])
    expected = (1 + succ.sum() + p_each.sum()) / (2 + len(t))
    assert res.posterior_mean == pytest.approx(expected, abs=1e-12)


def _near_threshold_cohort():
    # 105 patients, 8 censored before day 183: P(rate > 0.54) near 0.977
    t = np.r_[np.full(60, 400.0), np.full(37, 40.0), [20, 45, 60, 80, 100, 120, 150, 170.0]]
    e = np.r_[np.zeros(60), np.ones(37), np.zeros(8)]
    return t, e


def test_the_verdict_does_not_depend_on_the_seed():
    t, e = _near_threshold_cohort()
    exact = [BayesianEndpoint(imputation="km", seed=s).fit(t, e).result_ for s in range(6)]
    assert len({r.probability_above_goal for r in exact}) == 1
    assert len({r.success for r in exact}) == 1
    assert abs(exact[0].probability_above_goal - 0.977) < 0.01  # the case is a close one
    drawn = [BayesianEndpoint(seed=s).fit(t, e).result_ for s in range(6)]
    assert len({r.success for r in drawn}) == 1
    for r in drawn:
        assert r.monte_carlo_error is not None
        assert 0 < r.monte_carlo_error < 1e-3


def test_a_verdict_the_monte_carlo_error_could_flip_is_withheld():
    t, e = _near_threshold_cohort()
    first = BayesianEndpoint(seed=1).fit(t, e).result_
    at = BayesianEndpoint(seed=1, threshold=first.probability_above_goal).fit(t, e).result_
    assert at.success is None
    assert "Monte Carlo" in at.verdict_note
    clear = BayesianEndpoint(seed=1, threshold=0.5).fit(t, e).result_
    assert clear.success is True
    assert clear.verdict_note is None


def test_piecewise_exponential_against_a_hand_worked_example():
    """One hazard piece over [0, 183]. Events on days 50 and 100; 8 patients followed
    past 183; one censored on day 83. Exposure = 50 + 100 + 8 * 183 + 83 = 1697 days,
    so lambda ~ Gamma(0.1 + 2, 0.1 * 30.4375 + 1697). The censored patient stays
    event-free for 100 more days with probability E[exp(-100 lambda)] =
    (r / (r + 100)) ** a; the posterior is Beta(1 + 9, 1 + 2) with that weight and
    Beta(1 + 8, 1 + 3) with the rest."""
    t = np.r_[50.0, 100.0, np.full(8, 200.0), 83.0]
    e = np.r_[1, 1, np.zeros(8), 0]
    res = BayesianEndpoint(cutpoints=(), n_imputations=40000, seed=2).fit(t, e).result_
    hz = res.hazards
    assert hz.bounds == (0.0, 183.0)
    assert hz.events == (2.0,)
    assert hz.exposure == (1697.0,)
    a, r = 2.1, 0.1 * 30.4375 + 1697
    assert hz.shape == pytest.approx((a,))
    assert hz.rate == pytest.approx((r,))
    q = (r / (r + 100)) ** a
    assert hz.mean_success(np.array([83.0]))[0] == pytest.approx(q, rel=1e-12)
    # Monte Carlo standard error of the draws' average, from Var q = E[q^2] - q^2
    se = np.sqrt(((r / (r + 200)) ** a - q**2) / 40000)
    weights = dict(zip(res.posterior.alphas.tolist(), res.posterior.weights.tolist(), strict=True))
    assert weights[10.0] == pytest.approx(q, abs=4 * se)
    assert weights[9.0] == pytest.approx(1 - q, abs=4 * se)
    expected = q * stats.beta(10, 3).sf(0.54) + (1 - q) * stats.beta(9, 4).sf(0.54)
    assert res.probability_above_goal == pytest.approx(expected, abs=4 * se)
    assert res.monte_carlo_error < se


def test_piecewise_exponential_joint_outcomes_by_inclusion_exclusion():
    """Three patients share the hazards, so their outcomes are correlated: the chance
    that exactly the set S succeeds is sum over T outside S of (-1)^|T| times
    E[exp(-lambda * (d_S + d_T))], each a Gamma Laplace transform."""
    t = np.r_[np.full(30, 250.0), 10.0, 40.0, 70.0, 130.0, 160, 30, 60, 90.0]
    e = np.r_[np.zeros(30), 1, 1, 1, 1, 0, 0, 0, 0]
    t = np.r_[t, 170.0]
    e = np.r_[e, 1]
    res = BayesianEndpoint(cutpoints=(), n_imputations=60000, seed=4).fit(t, e).result_
    hz = res.hazards
    a, r = hz.shape[0], hz.rate[0]
    d = 183 - np.array([30.0, 60.0, 90.0, 160.0])
    laplace = lambda x: (r / (r + x)) ** a  # noqa: E731
    pmf = np.zeros(d.size + 1)
    for s_set in itertools.product((0, 1), repeat=d.size):
        s_mask = np.array(s_set, bool)
        rest = np.flatnonzero(~s_mask)
        total = 0.0
        for size in range(rest.size + 1):
            for extra in itertools.combinations(rest, size):
                total += (-1) ** size * laplace(d[s_mask].sum() + d[list(extra)].sum())
        pmf[s_mask.sum()] += total
    assert pmf.sum() == pytest.approx(1.0, abs=1e-12)
    shown = np.zeros(d.size + 1)
    ks = (res.posterior.alphas - 1 - res.successes).astype(int)
    shown[ks] = res.posterior.weights
    np.testing.assert_allclose(shown, pmf, atol=3e-3)


def test_the_hazards_uncertainty_widens_the_interval():
    rng = np.random.default_rng(4)
    ev, cens = rng.exponential(500, 200), rng.uniform(0, 250, 200)
    t, e = np.minimum(ev, cens).round(), ev <= cens
    km = BayesianEndpoint(imputation="km").fit(t, e).result_
    pwe = BayesianEndpoint().fit(t, e).result_
    assert km.missing / km.n > 0.5
    width = lambda r: r.credible_interval[1] - r.credible_interval[0]  # noqa: E731
    assert width(pwe) > 1.05 * width(km)


@pytest.mark.parametrize("n_missing", [40, 2000])
def test_posterior_mean_is_the_mean_imputed_count(n_missing):
    """Whichever way each draw's count is computed (exactly, or by the normal
    approximation above the exact limit), the mixture mean is (a + s + E[K]) / (a + b + n)
    with E[K] = sum of the closed-form mean success probabilities."""
    rng = np.random.default_rng(11)
    t = np.r_[rng.integers(1, 400, 3000), rng.integers(5, 180, n_missing)].astype(float)
    e = np.r_[rng.random(3000) < 0.4, np.zeros(n_missing, bool)]
    res = BayesianEndpoint(n_imputations=4000, seed=3).fit(t, e).result_
    _, _, missing = classify(t, e, 183)
    expected_k = res.hazards.mean_success(t[missing]).sum()
    expected = (1 + res.successes + expected_k) / (2 + res.n)
    assert res.posterior_mean == pytest.approx(expected, rel=2e-4)


def test_the_hazards_come_from_the_pieces_events_and_exposure():
    t = np.array([10.0, 40.0, 100.0, 200.0, 20.0, 150.0])
    e = np.array([1, 1, 1, 1, 0, 0])
    hz = BayesianEndpoint(cutpoints=(30, 91), seed=1).fit(t, e).result_.hazards
    assert hz.bounds == (0.0, 30.0, 91.0, 183.0)
    # the event on day 200 lies past the landmark and informs no piece
    assert hz.events == (1.0, 1.0, 1.0)
    assert hz.exposure == (10 + 30 + 30 + 30 + 20 + 30, 10 + 61 + 61 + 61, 9 + 92 + 59)


def test_a_landmark_beyond_all_follow_up_gives_no_verdict():
    t, e = [10, 20, 30, 40, 50, 60], [1, 0, 0, 1, 0, 0]
    for imputation in ("pwe", "km"):
        res = BayesianEndpoint(day=100, imputation=imputation).fit(t, e).result_
        assert res.successes == 0
        assert res.success is None
        assert "no patient was followed to day 100" in res.verdict_note
        assert res.complete_case.success is None


def test_a_share_of_unknown_outcomes_above_the_limit_gives_no_verdict():
    t = np.r_[np.full(70, 400.0), np.full(5, 20.0), np.full(25, 120.0)]
    e = np.r_[np.zeros(70), np.ones(5), np.zeros(25)]
    res = BayesianEndpoint().fit(t, e).result_
    assert res.success is None
    assert "25 of 100 outcomes (25%)" in res.verdict_note
    assert "20%" in res.verdict_note
    allowed = BayesianEndpoint(max_missing_share=0.3).fit(t, e).result_
    assert allowed.success is True
    assert allowed.verdict_note is None
    assert "no verdict when more than 30%" in allowed.provenance.method


def test_aggregated_input_gives_identical_results():
    rng = np.random.default_rng(9)
    t = rng.integers(1, 300, 500).astype(float)
    e = (rng.random(500) < 0.35).astype(int)
    keys, counts = np.unique(np.c_[t, e], axis=0, return_counts=True)
    for imputation in ("pwe", "km"):
        rows = BayesianEndpoint(imputation=imputation).fit(t, e).result_
        agg = (
            BayesianEndpoint(imputation=imputation)
            .fit(keys[:, 0], keys[:, 1], weights=counts)
            .result_
        )
        assert agg.posterior_mean == pytest.approx(rows.posterior_mean, abs=1e-13)
        assert agg.credible_interval == pytest.approx(rows.credible_interval, abs=1e-12)
        assert agg.probability_above_goal == pytest.approx(rows.probability_above_goal, abs=1e-13)


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
        ({"imputation": "mice"}, "unknown imputation model"),
        ({"hazard_prior": (0, 1)}, "Gamma prior"),
        ({"max_missing_share": 1.5}, "share of missing"),
    ],
)
def test_settings_are_checked(kwargs, needle):
    with pytest.raises(ValueError, match=needle):
        BayesianEndpoint(**kwargs)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    st.lists(st.tuples(st.integers(0, 400), st.booleans()), min_size=1, max_size=60),
    st.sampled_from(["pwe", "km"]),
)
def test_interval_contains_mean_and_probability_is_a_probability(data, imputation):
    t = np.array([d[0] for d in data], dtype=float)
    e = np.array([d[1] for d in data], dtype=int)
    res = BayesianEndpoint(imputation=imputation, n_imputations=200).fit(t, e).result_
    lo, hi = res.credible_interval
    assert 0 <= lo <= res.posterior_mean <= hi <= 1
    assert 0 <= res.probability_above_goal <= 1
    assert res.successes + res.failures + res.missing == len(t)
    assert res.posterior.weights.sum() == pytest.approx(1.0, abs=1e-12)


def test_a_landmark_beyond_follow_up_and_a_large_imputed_share_are_noted():
    t = [10, 20, 30, 40, 50, 60]
    e = [1, 0, 0, 1, 0, 0]
    beyond = BayesianEndpoint(day=100).fit(t, e).result_
    assert beyond.successes == 0
    assert any("no patient was followed to day 100" in n for n in beyond.notes)
    assert any("4 of 6 outcomes (67%)" in n and "imputation" in n for n in beyond.notes)
    # nothing imputed: the note says no more than what is so
    for fitted in (
        BayesianEndpoint(day=100, impute=False).fit(t, e).result_,
        BayesianEndpoint(day=100).fit([10, 20, 30], [1, 1, 1]).result_,
    ):
        assert any("no patient was followed to day 100" in n for n in fitted.notes)
        assert not any("imputed" in n for n in fitted.notes)
    within = BayesianEndpoint(day=10, impute=False).fit(t, e).result_
    assert within.notes == ()
    cc = BayesianEndpoint(day=45, impute=False).fit(t, e).result_
    assert cc.notes == (
        "2 of 6 outcomes (33%) were censored before day 45: the result "
        "leans on the complete cases alone",
    )
    # everyone failed before the landmark: no one is missing, the verdict stands
    failed = BayesianEndpoint(day=100).fit([10, 20, 30], [1, 1, 1]).result_
    assert failed.success is False
    assert failed.verdict_note is None


@pytest.mark.parametrize("draws", [1, 2, 50])
def test_too_few_draws_give_no_verdict(draws):
    t, e = _near_threshold_cohort()
    res = BayesianEndpoint(n_imputations=draws, threshold=0.5).fit(t, e).result_
    assert res.success is None
    assert "too few to bound the Monte Carlo error" in res.verdict_note
    assert BayesianEndpoint(n_imputations=100, threshold=0.5).fit(t, e).result_.success


def test_the_normal_approximation_stays_within_its_bound_and_counts_against_the_verdict():
    """Above the exact limit each draw's count is approximated by a normal: the
    probability above the goal moves by no more than the reported Berry-Esseen bound
    from the exact per-draw computation on the same draws, and a threshold inside that
    bound gets no verdict."""
    rng = np.random.default_rng(21)
    counts = np.full(35, 10, dtype=np.int64)  # 350 missing outcomes
    q = np.clip(rng.uniform(0.5, 0.95, 35) + rng.normal(0, 0.03, (200, 35)), 0, 1)
    approx = averaged_over_draws(counts, q)
    exact = _exact_rows(counts, q).mean(axis=0)
    assert approx.approximation_error > 0
    ks = np.arange(exact.size)
    s, f, m = 1000, 600, int(counts.sum())
    above = stats.beta(1 + s + ks, 1 + f + m - ks).sf(0.54)
    shown = approx.weights @ stats.beta(
        1 + s + approx.offset + np.arange(approx.weights.size),
        1 + f + m - approx.offset - np.arange(approx.weights.size),
    ).sf(0.54)
    # the bound on each draw's distribution function, times the range of the monotone
    # P(rate > goal | K = k) over the support, bounds the effect on the probability
    window = above[approx.offset : approx.offset + approx.weights.size]
    assert abs(shown - exact @ above) <= approx.approximation_error * (window.max() - window.min())

    rng = np.random.default_rng(5)
    t = np.r_[np.full(1000, 400.0), np.full(1000, 40.0), rng.integers(60, 180, 350)]
    t = t.astype(float)
    e = np.r_[np.zeros(1000), np.ones(1000), np.zeros(350)]
    res = BayesianEndpoint(max_missing_share=0.5).fit(t, e).result_
    assert res.approximation_error > 0
    assert "normal approximation" in res.provenance.method
    near = BayesianEndpoint(max_missing_share=0.5, threshold=res.probability_above_goal + 1e-4)
    held = near.fit(t, e).result_
    assert held.success is None
    assert "normal approximation's bound" in held.verdict_note
