"""The Goldilocks adaptive design of PROMISE II, simulated (Broglio, Connor & Berry 2014).

Patients enrol as a Poisson process; each has a binary outcome at the landmark (event-
free or not), known `followup_days` after enrolment. At each interim look (when the
number enrolled reaches a look size) some outcomes are complete and the rest pending.
With a Beta(a, b) prior, two Beta-binomial predictive probabilities decide:

- stopping enrolment now and following everyone enrolled to the landmark, the chance
  the final analysis succeeds: above `expected_success`, enrolment stops;
- enrolling to the maximum, the chance of eventual success: below `futility`, the
  trial stops and fails.

The final analysis succeeds when P(rate > goal | data) > threshold. That holds exactly
when the successes reach a critical count k*(n), so each predictive probability is a
Beta-binomial tail looked up in a table over (outcomes complete, successes): the
simulation itself only counts. Trials at any true rate share their random numbers
(common random numbers), so the type I error (the success probability at the goal) and
a power curve come from the same simulated accrual and uniforms as the main run.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from analytics.analyses.design_results import (
    Calibration,
    FixedDesign,
    OperatingCharacteristics,
    PowerCurve,
)
from analytics.estimators.beta_binomial import (
    binomial_tail,
    critical_count,
    posterior_above,
    predictive_table,
)
from analytics.model.provenance import Provenance
from analytics.model.schema import DAYS_PER_MONTH

DEFAULT_LOOKS = (60, 75, 90, 105)
DEFAULT_GOAL = 0.54
DEFAULT_THRESHOLD = 0.977
DEFAULT_PRIOR = (1.0, 1.0)
DEFAULT_EXPECTED_SUCCESS = 0.90
DEFAULT_FUTILITY = 0.05
# 105 patients from December 2019 to March 2022: the trial's own pace of enrolment
ENROLMENT_MONTHS = 27
DEFAULT_ACCRUAL = round(105 / ENROLMENT_MONTHS, 2)
DEFAULT_FOLLOWUP_DAYS = 183.0
DEFAULT_ALPHA = 0.025
DEFAULT_TRUE_RATE = 0.70
DEFAULT_SIMULATIONS = 10_000
DEFAULT_SEED = 2014
MAX_SAMPLE_SIZE = 500  # the predictive tables grow as its cube
MAX_SIMULATIONS = 1_000_000
CHUNK_CELLS = 2_000_000  # trials x patients drawn at once: bounds the memory, not the result
MAX_CALIBRATION_STEPS = 60

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


def parse_looks(text: str) -> tuple[int, ...]:
    """ "60, 75, 90, 105" (commas or spaces) as look sizes; ValueError when not so."""
    try:
        looks = tuple(int(x) for x in text.replace(",", " ").split())
    except ValueError:
        raise ValueError(
            f"{text!r} is not a list of whole numbers of patients such as 60, 75, 90, 105"
        ) from None
    DesignSettings(looks=looks)  # the order and the largest size are checked there
    return looks


def _between(step: float, nxt: float) -> float:
    """A threshold making the rule that starts at `step` (the posterior probability of a
    count, which must no longer pass) and ends before `nxt`: five decimals rounded up
    when they fit, as `step` itself sits on an edge that rounding can cross."""
    up = math.ceil(step * 1e5) / 1e5
    up = up if up > step else up + 1e-5
    return up if up < nxt else (step + nxt) / 2


def versus(estimate: float, se: float, target: float) -> str:
    """ "above", "below" or "within": where a simulated probability lies against a
    target, "within" when the target is inside its 95% Monte Carlo interval."""
    if estimate - 1.96 * se > target:
        return "above"
    return "below" if estimate + 1.96 * se < target else "within"


@dataclass(frozen=True)
class DesignSettings:
    """What the design fixes in advance; checked when made."""

    looks: tuple[int, ...] = DEFAULT_LOOKS
    goal: float = DEFAULT_GOAL
    threshold: float = DEFAULT_THRESHOLD
    prior: tuple[float, float] = DEFAULT_PRIOR
    expected_success: float = DEFAULT_EXPECTED_SUCCESS
    futility: float = DEFAULT_FUTILITY
    accrual_per_month: float = DEFAULT_ACCRUAL
    followup_days: float = DEFAULT_FOLLOWUP_DAYS
    alpha: float = DEFAULT_ALPHA

    def __post_init__(self) -> None:
        looks = tuple(int(n) for n in self.looks)
        object.__setattr__(self, "looks", looks)
        object.__setattr__(self, "prior", (float(self.prior[0]), float(self.prior[1])))
        for name in (
            "goal",
            "threshold",
            "expected_success",
            "futility",
            "alpha",
            "accrual_per_month",
            "followup_days",
        ):
            object.__setattr__(self, name, float(getattr(self, name)))
        if not looks or looks[0] < 1 or any(b <= a for a, b in itertools.pairwise(looks)):
            raise ValueError(
                "the looks must be numbers of patients in increasing order, "
                "for example 60,75,90,105"
            )
        if looks[-1] > MAX_SAMPLE_SIZE:
            raise ValueError(f"the largest look may be at most {MAX_SAMPLE_SIZE} patients")
        for name in ("goal", "threshold", "alpha"):
            if not 0 < getattr(self, name) < 1:
                raise ValueError(f"the {name} must lie strictly between 0 and 1")
        if not (self.prior[0] > 0 and self.prior[1] > 0):
            raise ValueError("Beta prior parameters must be positive")
        if not 0 < self.expected_success <= 1:
            raise ValueError("the expected-success threshold must lie in (0, 1] (1: never)")
        if not 0 <= self.futility < 1:
            raise ValueError("the futility threshold must lie in [0, 1) (0: never)")
        if not (math.isfinite(self.accrual_per_month) and self.accrual_per_month > 0):
            raise ValueError("the accrual must be a positive number of patients a month")
        if not (math.isfinite(self.followup_days) and self.followup_days >= 0):
            raise ValueError("the follow-up must be a number of days, 0 or more")


@dataclass(frozen=True)
class DesignResult:
    settings: DesignSettings
    critical_counts: tuple[int, ...]  # k*(n) at each look
    at_rate: OperatingCharacteristics
    at_goal: OperatingCharacteristics
    fixed: FixedDesign
    calibration: Calibration | None
    provenance: Provenance = field(repr=False)

    @property
    def probability_of_success(self) -> float:
        return self.at_rate.probability_of_success

    @property
    def expected_sample_size(self) -> float:
        return self.at_rate.expected_sample_size

    @property
    def type_one_error(self) -> float:
        return self.at_goal.probability_of_success


class GoldilocksDesign:
    """The design's settings; `run` simulates it and keeps the result in `result_`."""

    def __init__(
        self,
        looks: tuple[int, ...] = DEFAULT_LOOKS,
        goal: float = DEFAULT_GOAL,
        threshold: float = DEFAULT_THRESHOLD,
        prior: tuple[float, float] = DEFAULT_PRIOR,
        expected_success: float = DEFAULT_EXPECTED_SUCCESS,
        futility: float = DEFAULT_FUTILITY,
        accrual_per_month: float = DEFAULT_ACCRUAL,
        followup_days: float = DEFAULT_FOLLOWUP_DAYS,
        alpha: float = DEFAULT_ALPHA,
    ) -> None:
        self.settings = DesignSettings(
            looks, goal, threshold, prior, expected_success, futility, accrual_per_month,
            followup_days, alpha,
        )  # fmt: skip
        s = self.settings
        self.looks, self.max_n = s.looks, s.looks[-1]
        self.goal, self.threshold, self.prior = s.goal, s.threshold, s.prior
        # k* for every sample size 0..max: a final analysis may fall at any look
        kstar = [critical_count(n, s.goal, s.threshold, s.prior) for n in range(self.max_n + 1)]
        self._kstar = np.array(kstar)
        self._now = [predictive_table(n, int(self._kstar[n]), self.prior) for n in self.looks[:-1]]
        self._final = predictive_table(self.max_n, int(self._kstar[self.max_n]), self.prior)

    @property
    def critical_counts(self) -> tuple[int, ...]:
        return tuple(int(self._kstar[n]) for n in self.looks)

    def _with_threshold(self, threshold: float) -> GoldilocksDesign:
        return GoldilocksDesign(**{**vars(self.settings), "threshold": threshold})

    def simulate(
        self, true_rate: float, simulations: int = DEFAULT_SIMULATIONS, seed: int = DEFAULT_SEED
    ) -> OperatingCharacteristics:
        """`simulations` trials at `true_rate`; the same seed draws the same trials."""
        if not 0 <= true_rate <= 1:
            raise ValueError("the true rate must lie between 0 and 1")
        if not 1 <= simulations <= MAX_SIMULATIONS:
            raise ValueError(f"the simulations must number from 1 to {MAX_SIMULATIONS:,}")
        rng = np.random.default_rng(seed)
        k = len(self.looks)
        counts = np.zeros((3, k))  # stopped for expected success, for futility; succeeded
        sizes, times = [], []
        rows = max(1, CHUNK_CELLS // self.max_n)
        for start in range(0, simulations, rows):
            stop, kind, time, won = self._trials(rng, min(rows, simulations - start), true_rate)
            at = np.searchsorted(self.looks, stop)
            for row, chosen in enumerate((kind == 1, kind == 2, won)):
                counts[row] += np.bincount(at[chosen], minlength=k)
            sizes.append(stop)
            times.append(time)
        size, share = np.concatenate(sizes), counts / simulations
        return OperatingCharacteristics(
            true_rate=float(true_rate),
            simulations=int(simulations),
            seed=int(seed),
            looks=self.looks,
            probability_of_success=float(counts[2].sum() / simulations),
            expected_sample_size=float(size.mean()),
            sample_size_sd=float(size.std(ddof=1)) if simulations > 1 else 0.0,
            expected_duration_months=float(np.concatenate(times).mean()),
            stopped_for_success=tuple(float(x) for x in share[0]),
            stopped_for_futility=tuple(float(x) for x in share[1]),
            reached_maximum=float(1.0 - share[:2].sum()),
            success_at=tuple(float(x) for x in share[2]),
        )

    def _trials(
        self, rng: np.random.Generator, rows: int, rate: float
    ) -> tuple[IntArray, NDArray[np.int8], FloatArray, NDArray[np.bool_]]:
        """Size at the stop, how it stopped (0 maximum, 1 expected success, 2 futility),
        months to the final analysis or the stop, and success, for `rows` trials."""
        st, n_max = self.settings, self.max_n
        enrol = np.cumsum(rng.exponential(1.0 / st.accrual_per_month, (rows, n_max)), axis=1)
        cum = np.zeros((rows, n_max + 1), dtype=np.int64)
        np.cumsum(rng.random((rows, n_max)) < rate, axis=1, out=cum[:, 1:])
        follow = st.followup_days / DAYS_PER_MONTH
        r = np.arange(rows)
        stop = np.full(rows, n_max, dtype=np.int64)
        kind = np.zeros(rows, dtype=np.int8)
        time = enrol[:, -1] + follow
        active = np.ones(rows, dtype=bool)
        for i, n in enumerate(self.looks[:-1]):
            now = enrol[:, n - 1]
            # enrolment times are sorted, so the complete outcomes are the first `c`
            c = np.count_nonzero(enrol[:, :n] <= (now - follow)[:, None], axis=1)
            s = cum[r, c]
            win = active & (self._now[i][c, s] > st.expected_success)
            lose = active & ~win & (self._final[c, s] < st.futility)
            stop[win | lose] = n
            kind[win], kind[lose] = 1, 2
            time[win] = now[win] + follow
            time[lose] = now[lose]
            active &= ~(win | lose)
        won = (kind != 2) & (cum[r, stop] >= self._kstar[stop])
        return stop, kind, time, won

    def fixed(self, true_rate: float) -> FixedDesign:
        """One analysis at the largest look, exact: the critical count at this threshold,
        and the one (with the threshold that gives it) keeping the type I error <= alpha."""
        n = self.max_n
        k = int(self._kstar[n])
        need = next(
            j for j in range(n + 2) if binomial_tail(j, n, self.goal) <= self.settings.alpha
        )
        return FixedDesign(
            sample_size=n,
            critical_count=k,
            type_one_error=binomial_tail(k, n, self.goal),
            power=binomial_tail(k, n, true_rate),
            alpha=self.settings.alpha,
            required_critical_count=need,
            required_threshold=_between(
                float(posterior_above(self.goal, need - 1, n, self.prior)),
                float(posterior_above(self.goal, need, n, self.prior)) if need <= n else 1.0,
            ),
            required_type_one_error=binomial_tail(need, n, self.goal),
            required_power=binomial_tail(need, n, true_rate),
        )

    def calibrate(
        self, simulations: int, seed: int, at_goal: OperatingCharacteristics
    ) -> Calibration:
        """Raise the threshold one step at a time until the simulated type I error is at
        most alpha; each step is the posterior probability of a count at a look, the
        smallest change that alters the rule."""
        alpha = self.settings.alpha
        steps = np.unique(
            np.concatenate(
                [posterior_above(self.goal, np.arange(n + 1), n, self.prior) for n in self.looks]
            )
        )
        design, oc = self, at_goal
        above = [*steps[steps > self.threshold], 1.0]
        for step, nxt in itertools.islice(itertools.pairwise(above), MAX_CALIBRATION_STEPS):
            if oc.probability_of_success <= alpha:
                break
            design = self._with_threshold(_between(float(step), float(nxt)))
            oc = design.simulate(self.goal, simulations, seed)
        if oc.probability_of_success > alpha:
            return Calibration(alpha, None, None, None, None)
        return Calibration(
            alpha,
            design.threshold,
            oc.probability_of_success,
            oc.probability_of_success_se,
            design.critical_counts,
        )

    def run(
        self,
        true_rate: float = DEFAULT_TRUE_RATE,
        simulations: int = DEFAULT_SIMULATIONS,
        seed: int = DEFAULT_SEED,
        calibrate: bool = True,
    ) -> GoldilocksDesign:
        """Simulate at `true_rate` and at the goal (the type I error), add the exact fixed
        design and, when asked, the threshold that brings the type I error to alpha."""
        at_rate = self.simulate(true_rate, simulations, seed)
        at_goal = self.simulate(self.goal, simulations, seed)
        self.result_ = DesignResult(
            settings=self.settings,
            critical_counts=self.critical_counts,
            at_rate=at_rate,
            at_goal=at_goal,
            fixed=self.fixed(true_rate),
            calibration=self.calibrate(simulations, seed, at_goal) if calibrate else None,
            provenance=self.provenance(simulations, seed),
        )
        return self

    def power_curve(
        self,
        rates: tuple[float, ...],
        simulations: int = DEFAULT_SIMULATIONS,
        seed: int = DEFAULT_SEED,
    ) -> PowerCurve:
        """The success probability at each rate, every rate on the same simulated trials."""
        runs = [self.simulate(p, simulations, seed) for p in rates]
        n, k = self.max_n, int(self._kstar[self.max_n])
        return PowerCurve(
            rates=tuple(float(p) for p in rates),
            probability_of_success=tuple(r.probability_of_success for r in runs),
            monte_carlo_error=tuple(r.probability_of_success_se for r in runs),
            expected_sample_size=tuple(r.expected_sample_size for r in runs),
            fixed_power=tuple(binomial_tail(k, n, p) for p in rates),
            simulations=int(simulations),
            seed=int(seed),
            provenance=self.provenance(simulations, seed),
        )

    def provenance(self, simulations: int, seed: int) -> Provenance:
        st, looks = self.settings, ", ".join(str(n) for n in self.looks)
        method = (
            f"Goldilocks adaptive design (Broglio, Connor & Berry 2014), {simulations:,} "
            f"simulated trials (seed {seed}); Poisson accrual of {st.accrual_per_month:g} "
            f"patients a month; binary outcome known {st.followup_days:g} days after "
            f"enrolment, no loss to follow-up; Beta({st.prior[0]:g}, {st.prior[1]:g}) prior; "
            f"looks at {looks} patients; enrolment stops for expected success when the "
            "predictive probability that the patients enrolled succeed exceeds "
            f"{st.expected_success:g}, for futility when that of success at {self.max_n} is "
            f"below {st.futility:g}; success when P(rate > {st.goal:g}) > {st.threshold:g}; "
            "Beta-binomial predictive probabilities computed exactly"
        )
        return Provenance(data_fingerprint="none", data_source="simulated trials", method=method)
