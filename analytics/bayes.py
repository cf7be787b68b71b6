"""Bayesian binary endpoint at a landmark day (PROMISE II-style primary endpoint).

Outcome per patient at landmark day L:
- failure: an event at or before L;
- success: event-free at L (follow-up reaches L without an event);
- missing: censored before L without an event.

Posterior for the success rate under a Beta(a, b) prior. Missing outcomes are
multiply imputed: patient i censored at c_i is a success with probability
S(L) / S(c_i), where S is the Kaplan-Meier estimate of the same cohort (the
chance of staying event-free to L given event-free at c_i). Each imputation
gives a Beta posterior; the reported posterior is their equal-weight mixture.
The complete-case posterior (missing outcomes left out) is reported beside it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, stats

from analytics.km import KaplanMeier
from analytics.provenance import Provenance

DEFAULT_SEED = 20230323
DEFAULT_IMPUTATIONS = 1000


@dataclass(frozen=True)
class Posterior:
    """An equal-weight mixture of Beta distributions (one component when no imputation)."""

    alphas: tuple[float, ...]
    betas: tuple[float, ...]
    weights: tuple[float, ...]

    def _components(self) -> list[tuple[float, object]]:
        return [
            (w, stats.beta(a, b))
            for a, b, w in zip(self.alphas, self.betas, self.weights, strict=True)
        ]

    @property
    def mean(self) -> float:
        return float(
            sum(
                w * a / (a + b)
                for a, b, w in zip(self.alphas, self.betas, self.weights, strict=True)
            )
        )

    def cdf(self, x: ArrayLike) -> NDArray[np.float64]:
        x = np.asarray(x, dtype=np.float64)
        out = np.zeros_like(x)
        for a, b, w in zip(self.alphas, self.betas, self.weights, strict=True):
            out = out + w * stats.beta.cdf(x, a, b)
        return out

    def pdf(self, x: ArrayLike) -> NDArray[np.float64]:
        x = np.asarray(x, dtype=np.float64)
        out = np.zeros_like(x)
        for a, b, w in zip(self.alphas, self.betas, self.weights, strict=True):
            out = out + w * stats.beta.pdf(x, a, b)
        return out

    def quantile(self, q: float) -> float:
        if len(self.alphas) == 1:
            return float(stats.beta.ppf(q, self.alphas[0], self.betas[0]))
        return float(optimize.brentq(lambda x: float(self.cdf(x)) - q, 0.0, 1.0, xtol=1e-12))

    def prob_above(self, goal: float) -> float:
        return float(1.0 - self.cdf(goal))


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
    imputations: int
    seed: int
    posterior_mean: float
    credible_interval: tuple[float, float]
    probability_above_goal: float
    success: bool
    posterior: Posterior
    complete_case: BayesResult | None
    provenance: Provenance
    # what a reader must know to trust the number (extrapolation, a large imputed share)
    notes: tuple[str, ...] = ()

    def density(
        self, grid: ArrayLike | None = None
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        x = np.linspace(0.0, 1.0, 1001) if grid is None else np.asarray(grid, dtype=np.float64)
        return x, self.posterior.pdf(x)


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
        n_imputations: int = DEFAULT_IMPUTATIONS,
        seed: int = DEFAULT_SEED,
        credible_level: float = 0.95,
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
            raise ValueError("at least one imputation is needed")
        self.day = float(day)
        self.goal = float(goal)
        self.threshold = float(threshold)
        self.prior = (float(prior[0]), float(prior[1]))
        self.impute = impute
        self.n_imputations = int(n_imputations)
        self.seed = int(seed)
        self.credible_level = credible_level

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
        a0, b0 = self.prior
        prov = provenance or Provenance()
        n = int(w.sum())
        cc = self._result(
            endpoint,
            n,
            s,
            f,
            m,
            False,
            0,
            Posterior((a0 + s,), (b0 + f,), (1.0,)),
            None,
            prov.with_method(self._method(imputed=False)),
        )
        notes = self._notes(t, w, s, m, n)
        if self.impute and m > 0:
            km = KaplanMeier().fit(t, e, w)
            s_day = float(km.survival_at([self.day])[0])
            # one binomial draw per distinct censoring time: identical for per-patient
            # and aggregated input, and cheap when millions are censored early
            times, inverse = np.unique(t[missing], return_inverse=True)
            counts = np.bincount(inverse, weights=w[missing]).astype(np.int64)
            s_cens = km.survival_at(times)
            p = np.clip(np.where(s_cens > 0, s_day / s_cens, 0.0), 0.0, 1.0)
            rng = np.random.default_rng(self.seed)
            k = rng.binomial(counts, p, size=(self.n_imputations, times.size)).sum(axis=1)
            freq = np.bincount(k, minlength=m + 1)
            ks = np.flatnonzero(freq)
            post = Posterior(
                tuple(float(a0 + s + kk) for kk in ks),
                tuple(float(b0 + f + (m - kk)) for kk in ks),
                tuple(float(freq[kk] / self.n_imputations) for kk in ks),
            )
            self.result_ = self._result(
                endpoint,
                n,
                s,
                f,
                m,
                True,
                self.n_imputations,
                post,
                cc,
                prov.with_method(self._method(imputed=True)),
                notes,
            )
        else:
            self.result_ = replace(cc, notes=notes)
        return self

    def _notes(self, t: NDArray[np.float64], w: NDArray[np.float64], s: int, m: int,
               n: int) -> tuple[str, ...]:
        notes = []
        followed = t[w > 0]
        last = float(followed.max()) if followed.size else 0.0
        if n and s == 0 and last < self.day:
            note = (
                f"no patient was followed to day {self.day:g} (last follow-up day {last:g}): "
                "there is no observed success"
            )
            if self.impute and m > 0:
                note += (
                    ", and imputed outcomes extrapolate the Kaplan-Meier curve flat beyond "
                    "its end"
                )
            notes.append(note)
        if n and m / n > 0.2:
            notes.append(
                f"{m} of {n} outcomes ({100 * m / n:.0f}%) were censored before day "
                f"{self.day:g}: the result leans on "
                + ("their imputation" if self.impute else "the complete cases alone")
            )
        return tuple(notes)

    def _method(self, imputed: bool) -> str:
        a, b = self.prior
        base = (
            f"Beta({a:g}, {b:g}) prior, binomial outcome at day {self.day:g}; "
            f"equal-tailed {100 * self.credible_level:g}% credible interval"
        )
        if not imputed:
            return base + "; complete cases (censored before the landmark left out)"
        return base + (
            f"; {self.n_imputations} multiple imputations (seed {self.seed}) of outcomes censored "
            "before the landmark, success with probability S(L)/S(c) from the cohort's "
            "Kaplan-Meier curve; posterior is the equal-weight mixture"
        )

    def _result(
        self,
        endpoint: str,
        n: int,
        s: int,
        f: int,
        m: int,
        imputed: bool,
        n_imp: int,
        post: Posterior,
        cc: BayesResult | None,
        prov: Provenance,
        notes: tuple[str, ...] = (),
    ) -> BayesResult:
        tail = (1 - self.credible_level) / 2
        prob = post.prob_above(self.goal)
        return BayesResult(
            endpoint=endpoint,
            day=self.day,
            goal=self.goal,
            threshold=self.threshold,
            prior=self.prior,
            n=n,
            successes=s,
            failures=f,
            missing=m,
            imputed=imputed,
            imputations=n_imp,
            seed=self.seed,
            posterior_mean=post.mean,
            credible_interval=(post.quantile(tail), post.quantile(1 - tail)),
            probability_above_goal=prob,
            success=prob > self.threshold,
            posterior=post,
            complete_case=cc,
            provenance=prov,
            notes=notes,
        )
