"""Bayesian binary endpoint at a landmark day (PROMISE II-style primary endpoint).

Outcome per patient at landmark day L:
- failure: an event at or before L;
- success: event-free at L (follow-up reaches L without an event);
- missing: censored before L without an event.

Posterior for the success rate under a Beta(a, b) prior. A missing outcome is
imputed from a model of the time to event (`analytics.estimators.imputation`):
- "pwe", the default: a piecewise-exponential model with Gamma priors on the hazards,
  as the Goldilocks design imputes incomplete patients; the hazards' uncertainty is
  carried into the posterior by averaging over their posterior draws;
- "km": success with probability S(L)/S(c) from the cohort's Kaplan-Meier curve.
Either way the number of imputed successes is Poisson-binomial and the posterior is
the finite mixture of Beta(a + s + k, b + f + m - k) over it, computed exactly; only
the hazard draws of "pwe" are simulated, and their Monte Carlo error is reported.
The complete-case posterior (missing outcomes left out) is reported beside it.

A verdict (goal met or not) is given only when the data can carry it: it is withheld,
with its reason, when no patient was followed to the landmark while outcomes are
missing, when more outcomes are missing than a stated share, or when the Monte Carlo
error could carry the probability across the threshold.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from analytics.estimators.imputation import (
    EXACT_DRAW_LIMIT,
    NORMAL_DRAWS,
    KDistribution,
    PiecewiseExponential,
    averaged_over_draws,
    poisson_binomial,
)
from analytics.estimators.km import KaplanMeier
from analytics.estimators.posterior import Posterior
from analytics.model.provenance import Provenance

Imputation = Literal["pwe", "km"]
IMPUTATION_LABELS: dict[str, str] = {
    "pwe": "piecewise-exponential model",
    "km": "Kaplan-Meier curve",
    "none": "complete cases only",
}
DEFAULT_SEED = 20230323
DEFAULT_IMPUTATIONS = 2000  # posterior draws of the hazards ("pwe")
DEFAULT_CUTPOINTS = (30.0, 91.0)  # days: the 1- and 3-month visits
HAZARD_PRIOR = (0.1, 0.1)  # Gamma(shape, rate per month) on each piece's hazard
MAX_MISSING_SHARE = 0.2
# A verdict closer to the threshold than the two-sided 99.9% Student t quantile (degrees of
# freedom: draws - 1) times the Monte Carlo standard error, plus the bound of any
# approximation, could flip with another seed or an exact computation: it is withheld.
FLIP_LEVEL = 0.999
# Fewer draws of the hazards give too rough an error to judge a verdict by.
MIN_DRAWS_FOR_VERDICT = 100


@dataclass(frozen=True)
class BayesResult:
    endpoint: str
    day: float
    goal: float
    threshold: float
    prior: tuple[float, float]
    n: int
    successes: int
    failures: int
    missing: int
    imputed: bool
    imputations: int  # posterior draws of the hazards; 0 when nothing is simulated
    seed: int | None  # None when nothing is simulated
    posterior_mean: float
    credible_interval: tuple[float, float]
    probability_above_goal: float
    # None: not assessable, and `verdict_note` says why
    success: bool | None
    posterior: Posterior
    complete_case: BayesResult | None
    provenance: Provenance
    # what a reader must know to trust the number (extrapolation, a large imputed share)
    notes: tuple[str, ...] = ()
    imputation: str = "none"  # "pwe", "km", or "none" (complete cases)
    monte_carlo_error: float | None = None  # of probability_above_goal
    # bound of the normal approximation's effect on probability_above_goal (0: exact draws)
    approximation_error: float | None = None
    verdict_note: str | None = None
    hazards: PiecewiseExponential | None = field(default=None, repr=False)

    def density(
        self, grid: ArrayLike | None = None
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        x = np.linspace(0.0, 1.0, 1001) if grid is None else np.asarray(grid, dtype=np.float64)
        return x, self.posterior.pdf(x)

    @property
    def imputation_label(self) -> str:
        return IMPUTATION_LABELS[self.imputation]

    @property
    def as_complete_case(self) -> BayesResult:
        """The complete-case result: itself when nothing was imputed."""
        return self.complete_case if self.complete_case is not None else self


def classify(
    durations: ArrayLike, events: ArrayLike, day: float
) -> tuple[NDArray[np.bool_], NDArray[np.bool_], NDArray[np.bool_]]:
    """Boolean masks (success, failure, missing) at landmark `day`."""
    t = np.asarray(durations, dtype=np.float64)
    e = np.asarray(events).astype(bool)
    failure = e & (t <= day)
    # Follow-up reaching the day event-free is a success, censored exactly at L included.
    success = (t > day) | (~e & (t >= day))
    missing = ~failure & ~success
    return success, failure, missing


class BayesianEndpoint:
    """Posterior probability that the landmark event-free rate exceeds a goal."""

    def __init__(
        self,
        day: float = 183,
        goal: float = 0.54,
        threshold: float = 0.977,
        prior: tuple[float, float] = (1.0, 1.0),
        impute: bool = True,
        imputation: Imputation = "pwe",
        n_imputations: int = DEFAULT_IMPUTATIONS,
        seed: int = DEFAULT_SEED,
        credible_level: float = 0.95,
        cutpoints: tuple[float, ...] = DEFAULT_CUTPOINTS,
        hazard_prior: tuple[float, float] = HAZARD_PRIOR,
        max_missing_share: float = MAX_MISSING_SHARE,
    ) -> None:
        if day <= 0:
            raise ValueError("the landmark day must be positive")
        if not 0 < goal < 1:
            raise ValueError("the performance goal must lie strictly between 0 and 1")
        if not 0 < threshold < 1:
            raise ValueError("the success threshold must lie strictly between 0 and 1")
        if prior[0] <= 0 or prior[1] <= 0:
            raise ValueError("Beta prior parameters must be positive")
        if n_imputations < 1:
            raise ValueError("at least one imputation (draw of the hazards) is needed")
        if imputation not in ("pwe", "km"):
            raise ValueError(f"unknown imputation model {imputation!r}: use 'pwe' or 'km'")
        if hazard_prior[0] <= 0 or hazard_prior[1] <= 0:
            raise ValueError("Gamma prior parameters of the hazards must be positive")
        if not 0 <= max_missing_share <= 1:
            raise ValueError("the largest share of missing outcomes must lie in [0, 1]")
        self.day = float(day)
        self.goal = float(goal)
        self.threshold = float(threshold)
        self.prior = (float(prior[0]), float(prior[1]))
        self.impute = impute
        self.imputation = imputation
        self.n_imputations = int(n_imputations)
        self.seed = int(seed)
        self.credible_level = credible_level
        self.cutpoints = tuple(float(c) for c in cutpoints)
        self.hazard_prior = (float(hazard_prior[0]), float(hazard_prior[1]))
        self.max_missing_share = float(max_missing_share)

    def fit(
        self,
        durations: ArrayLike,
        events: ArrayLike,
        weights: ArrayLike | None = None,
        endpoint: str = "AFS",
        provenance: Provenance | None = None,
    ) -> BayesianEndpoint:
        """Fit on one row per patient, or on aggregated rows with integer `weights`."""
        t = np.asarray(durations, dtype=np.float64)
        e = np.asarray(events).astype(bool)
        w = np.ones_like(t) if weights is None else np.asarray(weights, dtype=np.float64)
        if w.shape != t.shape or np.any(w < 0) or np.any(w != np.round(w)):
            raise ValueError("weights must be non-negative whole numbers, one per duration")
        success, failure, missing = classify(t, e, self.day)
        s, f, m = int(w[success].sum()), int(w[failure].sum()), int(w[missing].sum())
        followed = t[w > 0]
        last = float(followed.max()) if followed.size else 0.0
        counts = _Counts(int(w.sum()), s, f, m, last)
        a0, b0 = self.prior
        prov = provenance or Provenance()
        cc = self._result(
            endpoint, counts, Posterior.beta(a0 + s, b0 + f), None, prov, imputation="none"
        )
        notes = self._notes(counts)
        if not (self.impute and m > 0):
            self.result_ = replace(cc, notes=notes)
            return self
        times, inverse = np.unique(t[missing], return_inverse=True)
        n_at = np.bincount(inverse, weights=w[missing]).astype(np.int64)
        hazards = None
        if self.imputation == "km":
            km = KaplanMeier().fit(t, e, w)
            s_cens = km.survival_at(times)
            p = np.where(s_cens > 0, float(km.survival_at([self.day])[0]) / s_cens, 0.0)
            k = poisson_binomial(n_at, np.clip(p, 0.0, 1.0))
        else:
            hazards = PiecewiseExponential.fit(t, e, w, self.day, self.cutpoints, self.hazard_prior)
            q = hazards.draw_success(times, self.n_imputations, np.random.default_rng(self.seed))
            k = averaged_over_draws(n_at, q)
        post = Posterior.mixture(a0 + s, b0 + f, m, k)
        self.result_ = self._result(
            endpoint, counts, post, cc, prov, self.imputation, notes, k, hazards
        )
        return self

    def _notes(self, c: _Counts) -> tuple[str, ...]:
        notes = []
        if c.n and c.s == 0 and c.last < self.day:
            note = (
                f"no patient was followed to day {self.day:g} (last follow-up day "
                f"{c.last:g}): there is no observed success"
            )
            if self.impute and c.m > 0:
                note += ", and imputed outcomes extrapolate beyond all follow-up"
            notes.append(note)
        if c.n and c.m / c.n > self.max_missing_share:
            notes.append(
                f"{c.m} of {c.n} outcomes ({100 * c.m / c.n:.0f}%) were censored before day "
                f"{self.day:g}: the result leans on "
                + ("their imputation" if self.impute else "the complete cases alone")
            )
        return tuple(notes)

    def _withheld(
        self,
        c: _Counts,
        prob: float,
        mc_error: float | None,
        k: KDistribution | None,
        approximation: float,
    ) -> str | None:
        """Why no verdict can be given, or None when one can."""
        if c.n == 0:
            return "no patient is in view"
        if c.m and c.last < self.day:
            return (
                f"no patient was followed to day {self.day:g} (last follow-up day "
                f"{c.last:g}), so the outcomes of the {c.m} patients censored earlier "
                "cannot be inferred from the data"
            )
        if c.m / c.n > self.max_missing_share:
            return (
                f"{c.m} of {c.n} outcomes ({100 * c.m / c.n:.0f}%) are unknown at day "
                f"{self.day:g}, more than the {100 * self.max_missing_share:g}% a verdict "
                "may rest on"
            )
        if k is None or k.replicates is None:
            return None
        draws = k.replicates.shape[0]
        if mc_error is None or draws < MIN_DRAWS_FOR_VERDICT:
            return (
                f"{draws} draws of the hazards are too few to bound the Monte Carlo error "
                f"(at least {MIN_DRAWS_FOR_VERDICT} are needed)"
            )
        z = float(special.stdtrit(draws - 1, 0.5 + FLIP_LEVEL / 2))
        margin = z * mc_error + approximation
        if abs(prob - self.threshold) <= margin:
            approx = (
                f" and the normal approximation's bound ({approximation:.1e})"
                if approximation
                else ""
            )
            return (
                f"the probability {prob:.4f} lies within {margin:.1e} of the threshold "
                f"{self.threshold:g} ({z:.2f} Monte Carlo standard errors of {mc_error:.1e}"
                f"{approx}), so the verdict could reverse"
                + ("" if approx else ": rerun with more draws of the hazards")
            )
        return None

    def _method(self, imputation: str, hazards: PiecewiseExponential | None, m: int) -> str:
        a, b = self.prior
        base = (
            f"Beta({a:g}, {b:g}) prior, binomial outcome at day {self.day:g}; "
            f"equal-tailed {100 * self.credible_level:g}% credible interval; no verdict "
            f"when more than {100 * self.max_missing_share:g}% of outcomes are unknown"
        )
        if imputation == "none":
            return base + "; complete cases (censored before the landmark left out)"
        mixture = (
            "the number of imputed successes is Poisson-binomial and the posterior is the "
            "finite mixture of Beta distributions over it"
        )
        if imputation == "km":
            return base + (
                "; outcomes censored before the landmark imputed from the cohort's "
                "Kaplan-Meier curve (success with probability S(L)/S(c)); "
                + mixture
                + ", computed exactly (no simulation)"
            )
        assert hazards is not None
        pieces = ", ".join(
            f"{lo:g}-{hi:g}" for lo, hi in zip(hazards.bounds[:-1], hazards.bounds[1:], strict=True)
        )
        shape, rate = self.hazard_prior
        exact = (
            "computed exactly given each draw"
            if m <= EXACT_DRAW_LIMIT
            else f"by a normal approximation given each of the first {NORMAL_DRAWS} draws "
            f"(more than {EXACT_DRAW_LIMIT} outcomes imputed), its Berry-Esseen bound "
            "counted against the verdict"
        )
        return base + (
            "; outcomes censored before the landmark imputed from a piecewise-exponential "
            f"model (constant hazard on days {pieces}, Gamma({shape:g}, {rate:g}) prior per "
            f"piece with exposure in months; Goldilocks design); {self.n_imputations} "
            f"posterior draws of the hazards (seed {self.seed}); " + mixture + f", {exact}, "
            "averaged over the draws; Monte Carlo error of the probability above the goal "
            f"reported; verdict withheld within the {100 * FLIP_LEVEL:g}% Student t multiple "
            "of that error of the threshold"
        )

    def _result(
        self,
        endpoint: str,
        c: _Counts,
        post: Posterior,
        cc: BayesResult | None,
        prov: Provenance,
        imputation: str,
        notes: tuple[str, ...] = (),
        k: KDistribution | None = None,
        hazards: PiecewiseExponential | None = None,
    ) -> BayesResult:
        tail = (1 - self.credible_level) / 2
        prob = post.prob_above(self.goal)
        mc_error, approximation = None, 0.0
        if k is not None and k.replicates is not None:
            # P(rate > goal | K = k), monotone in k over the mixture's support
            above = 1.0 - special.betainc(post.alphas, post.betas, self.goal)
            each = k.replicates @ above
            if each.size > 1:
                mc_error = float(each.std(ddof=1) / np.sqrt(each.size))
            # Abel summation: an error of at most e in each draw's distribution function
            # moves the average of a monotone function by at most e times its range
            approximation = k.approximation_error * float(above.max() - above.min())
        why = self._withheld(c, prob, mc_error, k, approximation)
        drawn = imputation == "pwe"
        return BayesResult(
            endpoint=endpoint,
            day=self.day,
            goal=self.goal,
            threshold=self.threshold,
            prior=self.prior,
            n=c.n,
            successes=c.s,
            failures=c.f,
            missing=c.m,
            imputed=imputation != "none",
            # the draws the result rests on (above the exact limit, the first NORMAL_DRAWS)
            imputations=0 if k is None or k.replicates is None else k.replicates.shape[0],
            seed=self.seed if drawn else None,
            posterior_mean=post.mean,
            credible_interval=(post.quantile(tail), post.quantile(1 - tail)),
            probability_above_goal=prob,
            success=None if why else prob > self.threshold,
            posterior=post,
            complete_case=cc,
            provenance=prov.with_method(self._method(imputation, hazards, c.m)),
            notes=notes,
            imputation=imputation,
            monte_carlo_error=mc_error,
            approximation_error=None if k is None or k.replicates is None else approximation,
            verdict_note=why,
            hazards=hazards,
        )


@dataclass(frozen=True)
class _Counts:
    n: int
    s: int
    f: int
    m: int
    last: float  # last day of follow-up of anyone
