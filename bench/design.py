"""Benchmark of the Goldilocks design simulator: prints a Markdown table of medians
measured in one run.

    .venv/bin/python bench/design.py            # 1e3, 1e4 and 1e5 simulated trials
    .venv/bin/python bench/design.py --quick    # smoke run (used by the tests)

The vectorised simulator (`analytics.analyses.design`, every trial of a chunk at once) beside
the plain approach measured in the same run: one trial at a time, each look's
predictive probabilities from scipy's Beta-binomial distribution. The plain loop is
timed on a few hundred trials and its time per trial scaled up; its probability of
success is printed too, as a check that both simulate the same design.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analytics.analyses.design import DAYS_PER_MONTH, GoldilocksDesign
from analytics.estimators.beta_binomial import critical_count


def plain_trial(design: GoldilocksDesign, rate: float, rng: np.random.Generator) -> bool:
    st = design.settings
    a, b = st.prior
    n_max = st.looks[-1]
    enrol = np.cumsum(rng.exponential(1.0 / st.accrual_per_month, n_max))
    outcome = rng.random(n_max) < rate
    follow = st.followup_days / DAYS_PER_MONTH
    for n in st.looks[:-1]:
        now = enrol[n - 1]
        complete = enrol[:n] <= now - follow
        c, s = int(complete.sum()), int(outcome[:n][complete].sum())
        need_now = critical_count(n, st.goal, st.threshold, st.prior)
        need_max = critical_count(n_max, st.goal, st.threshold, st.prior)
        if stats.betabinom.sf(need_now - s - 1, n - c, a + s, b + c - s) > st.expected_success:
            return bool(outcome[:n].sum() >= need_now)
        if stats.betabinom.sf(need_max - s - 1, n_max - c, a + s, b + c - s) < st.futility:
            return False
    return bool(outcome.sum() >= critical_count(n_max, st.goal, st.threshold, st.prior))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", nargs="*", default=["1e3", "1e4", "1e5"])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--plain-trials", type=int, default=300)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    if args.quick:
        args.sizes, args.repeats, args.plain_trials = ["1e3"], 1, 30
    design = GoldilocksDesign()
    rate = 0.70
    rng = np.random.default_rng(1)
    start = time.perf_counter()
    plain_wins = [plain_trial(design, rate, rng) for _ in range(args.plain_trials)]
    per_trial = (time.perf_counter() - start) / args.plain_trials
    plain_p = float(np.mean(plain_wins))
    plain_se = float(np.sqrt(plain_p * (1 - plain_p) / args.plain_trials))
    print(f"\n## Goldilocks design simulator (true rate {rate:g}, median of {args.repeats})\n")
    print(
        f"Plain loop on {args.plain_trials} trials: {1000 * per_trial:.2f} ms a trial, "
        f"probability of success {plain_p:.3f} (Monte Carlo error {plain_se:.3f}).\n"
    )
    print("| trials | vectorised s | plain loop s (scaled) | ratio | probability of success |")
    print("|---:|---:|---:|---:|---:|")
    for size in args.sizes:
        n = int(float(size))
        times, p = [], 0.0
        for i in range(args.repeats):
            start = time.perf_counter()
            p = design.simulate(rate, n, seed=i).probability_of_success
            times.append(time.perf_counter() - start)
        med = statistics.median(times)
        plain = per_trial * n
        print(f"| {size} | {med:.3f} | {plain:.1f} | {plain / med:.0f}x | {p:.4f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
