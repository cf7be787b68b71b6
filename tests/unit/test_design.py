"""The Goldilocks design simulator (`analytics.analyses.design`) and its command line, checked
against closed forms computed here with scipy: critical counts from the Beta posterior,
Beta-binomial predictive probabilities, exact binomial success probabilities of a
single analysis, and, for outcomes known at once, the exact probabilities of the whole
sequential design by dynamic programming over the binomial path.

Simulated figures are compared within 4 Monte Carlo standard errors.
"""

from __future__ import annotations

import functools
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from analytics.analyses.design import DEFAULT_SEED, GoldilocksDesign, parse_looks, versus
from analytics.estimators.beta_binomial import critical_count, predictive_table
from analytics.report import design_cli

ROOT = Path(__file__).resolve().parents[2]

GOAL, THRESHOLD, N = 0.54, 0.977, 105
LOOKS = (60, 75, 90, 105)


@functools.cache
def kstar(n: int, goal: float = GOAL, threshold: float = THRESHOLD, a=1.0, b=1.0) -> int:
    """The fewest successes of n with P(rate > goal) > threshold, from scipy's Beta."""
    return next(
        (k for k in range(n + 1) if stats.beta.sf(goal, a + k, b + n - k) > threshold), n + 1
    )


def tail(k: int, n: int, p: float) -> float:
    return float(sum(stats.binom.pmf(j, n, p) for j in range(k, n + 1)))


@functools.cache
def reach(needed: int, remaining: int, s: int, f: int) -> float:
    """P(s + K >= needed), K ~ Beta-binomial(remaining, 1 + s, 1 + f), from scipy."""
    return float(stats.betabinom.sf(needed - s - 1, remaining, 1 + s, 1 + f))


def within(simulated: float, exact: float, simulations: int, sd: float | None = None) -> bool:
    se = (sd if sd is not None else math.sqrt(exact * (1 - exact))) / math.sqrt(simulations)
    return abs(simulated - exact) <= 4 * max(se, 1e-12)


def sequential_exact(design: GoldilocksDesign, p: float) -> dict[str, object]:
    """Outcomes known at enrolment (no follow-up): at a look every outcome is complete,
    so the predictive probability of success now is 1 when the successes reach k*(n)
    and 0 otherwise, and futility uses the Beta-binomial to the maximum. The design's
    probabilities then follow exactly from the binomial path."""
    a, b = design.prior
    n_max, fut = design.looks[-1], design.settings.futility
    k_max = kstar(n_max, design.goal, design.threshold, a, b)
    dist, prev = np.array([1.0]), 0
    win, lose = [], []
    for n in design.looks[:-1]:
        dist = np.convolve(dist, stats.binom.pmf(np.arange(n - prev + 1), n - prev, p))
        s = np.arange(n + 1)
        stop_win = s >= kstar(n, design.goal, design.threshold, a, b)
        later = stats.betabinom.sf(k_max - s - 1, n_max - n, a + s, b + n - s)
        stop_lose = ~stop_win & (later < fut)
        win.append(dist[stop_win].sum())
        lose.append(dist[stop_lose].sum())
        dist = np.where(stop_win | stop_lose, 0.0, dist)
        prev = n
    dist = np.convolve(dist, stats.binom.pmf(np.arange(n_max - prev + 1), n_max - prev, p))
    final = dist[np.arange(n_max + 1) >= k_max].sum()
    sizes = np.array(design.looks, dtype=float)
    shares = np.array([*np.add(win, lose), dist.sum()])
    mean = float(sizes @ shares)
    return {
        "success": float(sum(win) + final),
        "win": win,
        "lose": lose,
        "mean_n": mean,
        "sd_n": math.sqrt(float((sizes - mean) ** 2 @ shares)),
    }


def test_critical_counts_match_the_beta_posterior():
    d = GoldilocksDesign()
    assert d.critical_counts == tuple(kstar(n) for n in LOOKS)
    for n, thr, prior in ((30, 0.9, (2.0, 3.0)), (105, 0.5, (1.0, 1.0)), (10, 0.9999, (1, 1))):
        assert critical_count(n, 0.6, thr, prior) == kstar(n, 0.6, thr, *prior)


@pytest.mark.parametrize(("total", "needed", "prior"), [(75, 50, (1.0, 1.0)), (40, 31, (2.0, 0.5))])
def test_predictive_table_is_the_beta_binomial_tail(total, needed, prior):
    table = predictive_table(total, needed, prior)
    a, b = prior
    for c in range(0, total + 1, 7):
        for s in range(0, c + 1, 3):
            want = (
                1.0
                if needed - s <= 0
                else stats.betabinom.sf(needed - s - 1, total - c, a + s, b + c - s)
            )
            assert table[c, s] == pytest.approx(want, abs=1e-10)


@pytest.mark.parametrize("rate", [GOAL, 0.68, 0.70])
def test_fixed_size_design_matches_the_exact_binomial(rate):
    sims = 20_000
    d = GoldilocksDesign(looks=(N,))
    oc = d.simulate(rate, sims, seed=11)
    exact = tail(kstar(N), N, rate)
    assert within(oc.probability_of_success, exact, sims), (oc.probability_of_success, exact)
    assert oc.expected_sample_size == N
    assert oc.reached_maximum == 1.0
    # the last patient enrols after a Gamma(N, accrual) time, then is followed up
    accrual, months = d.settings.accrual_per_month, d.settings.followup_days / (365.25 / 12)
    gamma = N / accrual + months
    assert within(oc.expected_duration_months, gamma, sims, sd=math.sqrt(N) / accrual)


def test_fixed_design_exact_numbers_and_what_alpha_needs():
    fixed = GoldilocksDesign().fixed(0.70)
    k = kstar(N)
    assert fixed.critical_count == k
    assert fixed.type_one_error == pytest.approx(tail(k, N, GOAL), rel=1e-10)
    assert fixed.power == pytest.approx(tail(k, N, 0.70), rel=1e-10)
    # the discreteness the page explains: at 0.977 the exact type I error is above 2.5%
    assert 0.026 < fixed.type_one_error < 0.028
    need = next(j for j in range(N + 2) if tail(j, N, GOAL) <= 0.025)
    assert fixed.required_critical_count == need > k
    assert fixed.required_type_one_error == pytest.approx(tail(need, N, GOAL), rel=1e-10)
    # the threshold given makes `need` the critical count, as printed too
    assert kstar(N, threshold=fixed.required_threshold) == need
    assert kstar(N, threshold=float(f"{fixed.required_threshold:.10g}")) == need
    lowest = stats.beta.sf(GOAL, need, 1 + N - (need - 1))  # with one success fewer
    assert lowest <= fixed.required_threshold < lowest + 1e-5


def test_design_that_never_stops_early_is_the_fixed_design():
    d = GoldilocksDesign(expected_success=1.0, futility=0.0)
    oc = d.simulate(0.70, 20_000, seed=5)
    assert oc.reached_maximum == 1.0
    assert oc.expected_sample_size == N
    assert within(oc.probability_of_success, tail(kstar(N), N, 0.70), 20_000)


@pytest.mark.parametrize("rate", [GOAL, 0.62, 0.70])
def test_sequential_design_with_immediate_outcomes_matches_exact_probabilities(rate):
    sims = 40_000
    d = GoldilocksDesign(followup_days=0)
    oc = d.simulate(rate, sims, seed=3)
    exact = sequential_exact(d, rate)
    assert within(oc.probability_of_success, exact["success"], sims)
    for i in range(len(LOOKS) - 1):
        assert within(oc.stopped_for_success[i], exact["win"][i], sims)
        assert within(oc.stopped_for_futility[i], exact["lose"][i], sims)
    assert within(oc.expected_sample_size, exact["mean_n"], sims, sd=exact["sd_n"])


def test_vectorised_trials_equal_a_trial_by_trial_loop():
    """The same draws, in the simulator's documented order (accrual gaps, then one
    uniform per patient), run through a plain loop with scipy's distributions."""
    d, sims, seed, rate = GoldilocksDesign(), 400, 17, 0.64
    rng = np.random.default_rng(seed)
    enrol = np.cumsum(rng.exponential(1 / d.settings.accrual_per_month, (sims, N)), axis=1)
    outcome = rng.random((sims, N)) < rate
    follow = d.settings.followup_days / (365.25 / 12)
    succeeded, sizes, months = 0, [], []
    for t, y in zip(enrol, outcome, strict=True):
        size, won, end = N, None, t[-1] + follow
        for n in LOOKS[:-1]:
            c = int(np.sum(t[:n] <= t[n - 1] - follow))
            s = int(y[:c].sum())
            now, later = reach(kstar(n), n - c, s, c - s), reach(kstar(N), N - c, s, c - s)
            if now > 0.90:
                size, end = n, t[n - 1] + follow
                break
            if later < 0.05:
                size, won, end = n, False, t[n - 1]
                break
        succeeded += bool(won is None and y[:size].sum() >= kstar(size))
        sizes.append(size)
        months.append(end)
    oc = d.simulate(rate, sims, seed)
    assert oc.probability_of_success * sims == pytest.approx(succeeded)
    assert oc.expected_sample_size == pytest.approx(np.mean(sizes))
    assert oc.expected_duration_months == pytest.approx(np.mean(months))


def test_same_seed_same_result_other_seed_other_result():
    first = GoldilocksDesign().run(0.70, 2000, seed=1).result_
    again = GoldilocksDesign().run(0.70, 2000, seed=1).result_
    other = GoldilocksDesign().run(0.70, 2000, seed=2).result_
    assert first == again
    assert first.at_rate != other.at_rate


def test_default_design_lands_near_the_stated_operating_characteristics():
    """Sensible ranges with looks and stopping. Success at any look n needs k*(n)
    successes among the n enrolled, so the chance of success can be no more than the
    chance that the binomial path reaches k*(n) at some look (exact, below). Stopping
    for expected success sometimes stops trials that then fail, and futility stops end
    some that would have succeeded, so the design's power sits under the fixed design's
    (exact 0.93 at 0.70) but, with these thresholds, not far under; its type I error is
    near the fixed design's exact 0.027."""
    d = GoldilocksDesign(expected_success=1.0, futility=0.0, followup_days=0)
    bound = {p: sequential_exact(d, p)["success"] for p in (GOAL, 0.70)}
    res = GoldilocksDesign().run(0.70, 20_000, DEFAULT_SEED).result_
    power, type1 = res.probability_of_success, res.type_one_error
    se_p, se_t = res.at_rate.probability_of_success_se, res.at_goal.probability_of_success_se
    assert 0.85 <= power <= min(bound[0.70], res.fixed.power) + 4 * se_p
    assert 0.015 <= type1 <= bound[GOAL] + 4 * se_t
    assert 60 < res.expected_sample_size < N
    for oc in (res.at_rate, res.at_goal):
        total = sum(oc.stopped_for_success) + sum(oc.stopped_for_futility) + oc.reached_maximum
        assert total == pytest.approx(1.0)
        assert sum(oc.success_at) == pytest.approx(oc.probability_of_success)
    # more futility stops and a smaller trial when the treatment is no better than the goal
    assert sum(res.at_goal.stopped_for_futility) > sum(res.at_rate.stopped_for_futility)
    curve = GoldilocksDesign().power_curve((GOAL, 0.60, 0.68, 0.70), 20_000)
    assert list(curve.probability_of_success) == sorted(curve.probability_of_success)
    assert curve.probability_of_success[2] >= 0.78  # stated: at least 0.80 at 0.68


def test_calibration_brings_the_type_one_error_to_alpha():
    res = GoldilocksDesign().run(0.70, 10_000, DEFAULT_SEED).result_
    cal = res.calibration
    assert cal is not None
    assert cal.threshold is not None
    assert cal.type_one_error is not None
    assert cal.type_one_error <= 0.025
    assert cal.threshold >= THRESHOLD
    assert cal.critical_counts == tuple(kstar(n, threshold=cal.threshold) for n in LOOKS)
    if res.type_one_error > 0.025:
        assert cal.threshold > THRESHOLD


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ({"looks": (90, 60)}, "increasing order"),
        ({"looks": ()}, "increasing order"),
        ({"looks": (0, 10)}, "increasing order"),
        ({"looks": (60, 900)}, "at most 500"),
        ({"goal": 1.2}, "goal"),
        ({"threshold": 0.0}, "threshold"),
        ({"prior": (0.0, 1.0)}, "prior"),
        ({"expected_success": 0.0}, "expected-success"),
        ({"futility": 1.0}, "futility"),
        ({"accrual_per_month": 0.0}, "accrual"),
        ({"followup_days": -1.0}, "follow-up"),
    ],
)
def test_bad_settings_are_refused_plainly(settings, words):
    with pytest.raises(ValueError, match=words):
        GoldilocksDesign(**settings)


@pytest.mark.parametrize("rate", [-0.1, 1.5, float("nan")])
def test_rate_outside_zero_one_is_refused(rate):
    with pytest.raises(ValueError, match="true rate"):
        GoldilocksDesign(looks=(20,)).simulate(rate, 10)


def test_helpers():
    assert parse_looks("60, 75 90,105") == LOOKS
    with pytest.raises(ValueError, match="whole numbers"):
        parse_looks("60, x")
    assert versus(0.9, 0.003, 0.8) == "above"
    assert versus(0.9, 0.003, 0.95) == "below"
    assert versus(0.9, 0.003, 0.901) == "within"


# --- command line -------------------------------------------------------------------------


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = design_cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_prints_one_json_document_with_the_operating_characteristics(capsys):
    code, out, err = run_cli(capsys, "design", "--true-rate", "0.68", "--simulations", "3000")
    assert code == 0
    assert err == ""
    doc = json.loads(out)
    for key in ("probability_of_success", "expected_sample_size", "stopping", "type_one_error"):
        assert key in doc
    res = GoldilocksDesign().run(0.68, 3000, DEFAULT_SEED).result_
    assert doc["probability_of_success"] == res.probability_of_success
    assert doc["type_one_error"] == res.type_one_error
    assert doc["expected_sample_size"] == res.expected_sample_size
    assert [row["sample_size"] for row in doc["stopping"]] == list(LOOKS)
    shares = [r["expected_success"] + r["futility"] + r["maximum"] for r in doc["stopping"]]
    assert sum(shares) == pytest.approx(1.0)
    assert doc["fixed_design"]["critical_count"] == kstar(N)
    assert doc["fixed_design"]["type_one_error_exact"] == pytest.approx(tail(kstar(N), N, GOAL))


def test_cli_is_reproducible_and_takes_design_options(capsys):
    argv = ("--looks", "40,80", "--seed", "9", "--simulations", "500", "--futility", "0")
    first, again = run_cli(capsys, *argv)[1], run_cli(capsys, "design", *argv)[1]
    assert first == again
    doc = json.loads(first)
    assert doc["design"]["looks"] == [40, 80]
    assert doc["seed"] == 9
    assert all(row["futility"] == 0 for row in doc["stopping"])


@pytest.mark.parametrize(
    ("argv", "names"),
    [
        (["--true-rate", "1.5"], "--true-rate"),
        (["--true-rate", "-0.2"], "--true-rate"),
        (["--looks", "90,60,105"], "--looks"),
        (["--looks", "60,x"], "--looks"),
        (["--simulations", "0"], "--simulations"),
        (["--goal", "1"], "--goal"),
        (["--prior", "1"], "--prior"),
        (["--futility", "1"], "futility"),
        (["--no-such-option"], "--no-such-option"),
    ],
)
def test_cli_bad_options_exit_2_with_one_sentence(capsys, argv, names):
    code, out, err = run_cli(capsys, "design", *argv)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.rstrip().endswith(".")
    assert names in err
    assert "Traceback" not in err


def test_cli_runs_as_a_module():
    done = subprocess.run(
        [sys.executable, "-m", "analytics.report.design_cli",
         "--simulations", "200", "--looks", "50"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["stopping"][0]["maximum"] == 1.0
