"""The Cox proportional-hazards model for one categorical covariate, as R's ``coxph``.

:class:`CoxPH` is ``survival::coxph(Surv(time, event) ~ factor(group) [+ strata(s)])``
with treatment (dummy) coding against a named reference level: one hazard ratio per
other level, Wald, likelihood-ratio and score tests, Harrell's concordance. A level
whose hazard ratio has no finite estimate (no events, monotone likelihood), where R
prints a huge coefficient and warns, is reported not estimable with the reason
(:mod:`analytics.estimators.cox_estimability`); the others are the limit R's iterations
approach (the fit without that level's patients). It takes one row per patient or
aggregated rows with integer frequency weights and gives identical results for the two
(weights mean replicated rows, not R's case weights, which R's Efron handles differently).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import linalg, special

from analytics.estimators.cox_estimability import NOT_CONVERGED, not_estimable, restrict
from analytics.estimators.cox_likelihood import (
    TIES,
    Ties,
    concordance,
    newton,
    partial_likelihood,
)
from analytics.estimators.grouping import group_rows, level_label
from analytics.model.provenance import Provenance

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class TestStatistic:
    name: str
    statistic: float
    df: int
    p_value: float


@dataclass(frozen=True)
class HazardRatio:
    """One level against the reference: exp(coef) with a Wald CI and Wald p.

    A level whose hazard ratio is not estimable (see :class:`CoxPH`) has every number
    None and ``note`` saying why; an estimable level has ``note`` None."""

    level: str
    reference: str
    coef: float | None
    se: float | None
    hazard_ratio: float | None
    lower: float | None
    upper: float | None
    z: float | None
    p_value: float | None
    n: float
    events: float
    note: str | None = None

    @property
    def estimable(self) -> bool:
        return self.note is None


@dataclass(frozen=True)
class CoxResult:
    ties: Ties
    reference: str
    levels: tuple[str, ...]
    hazard_ratios: tuple[HazardRatio, ...]
    covariance: FloatArray
    loglik_null: float
    loglik: float
    likelihood_ratio: TestStatistic
    wald: TestStatistic
    score: TestStatistic
    concordance: float
    n: float
    events: float
    n_removed: float
    strata: tuple[str, ...]
    alpha: float
    iterations: int
    converged: bool
    provenance: Provenance
    n_fitted: float = float("nan")  # patients of the estimable levels, those the fit used

    @property
    def not_estimable(self) -> dict[str, str]:
        """Level -> why its hazard ratio is not estimable."""
        return {hr.level: hr.note for hr in self.hazard_ratios if hr.note is not None}

    def hazard_ratio(self, level: str) -> HazardRatio:
        for hr in self.hazard_ratios:
            if hr.level == level:
                return hr
        raise KeyError(f"no hazard ratio for level {level!r} (reference {self.reference!r})")


class CoxPH:
    """Cox model for one categorical covariate against a reference level.

    Equivalent to R's ``coxph(Surv(time, event) ~ relevel(factor(group), ref)
    [+ strata(s)], ties = ties)``. Fitted by Newton-Raphson with step halving, run
    to |step| < 1e-10, far tighter than coxph's default (eps = 1e-9 on the
    log-likelihood) so the estimates are the MLE that R approximates to ~1e-9.
    Why not lifelines' CoxPHFitter: a few lines of numpy on level-collapsed risk sets
    give exactly R's Efron and Breslow formulas, strata, the score test at beta = 0
    and the null log-likelihood as coxph reports them, with no convergence tuning,
    and take aggregated (time, event, group, count) rows at a cost that follows the
    number of distinct times and events rather than patients.

    ``reference`` defaults to the first level (``levels`` order if given, otherwise
    sorted), as R's factor().

    Levels that are not estimable. A level without events (or, more generally, one
    whose hazard ratio against the reference keeps improving the likelihood as it
    goes to 0 or infinity: monotone likelihood) has no finite MLE: R's coxph warns
    "Loglik converged before variable k; coefficient may be infinite" and prints a
    huge coefficient with a huge SE. Which levels these are is decided from the data
    before fitting (see :mod:`analytics.estimators.cox_estimability`), not from the
    iterations; they get NaN in the arrays, None in :class:`HazardRatio` and a
    ``note`` saying why (``notes_``).

    The other hazard ratios are those of the fit on the estimable levels' patients
    only. Why drop the patients and not just the level's column: keeping the patients
    in the risk sets while forcing the level's coefficient to 0 (dropping the dummy)
    would merge them into the reference level, a different model with different
    estimates. Keeping them with their own coefficient is R's model; there the
    zero-event coefficient runs to -infinity, which removes its patients from every
    risk set, so R's finite coefficients converge to exactly the fit without those
    patients (the limit of the partial likelihood, see
    :func:`~analytics.estimators.cox_estimability.not_estimable`).
    Fitting that limit directly gives what R approximates to ~1e-9 with no
    overflow and no arbitrary stopping point. The log-likelihoods, the three model
    tests, the covariance and the concordance are those of that fit (``n_fitted_``
    patients), as the subgroup table fits its estimable levels only.

    ``converged_`` is False when some level is not estimable (the full model's
    MLE does not exist) or when Newton-Raphson did not converge within ``max_iter``
    (every hazard ratio is then noted as not estimated).
    """

    def __init__(
        self,
        ties: Ties = "efron",
        reference: object | None = None,
        alpha: float = 0.05,
        max_iter: int = 50,
    ) -> None:
        if ties not in TIES:
            raise ValueError(f"unknown ties method {ties!r}; choose one of {', '.join(TIES)}")
        if not 0 < alpha < 1:
            raise ValueError("alpha must lie strictly between 0 and 1")
        self.ties: Ties = ties
        self.reference = reference
        self.alpha = alpha
        self.max_iter = max_iter

    def fit(
        self,
        durations: ArrayLike,
        events: ArrayLike,
        groups: ArrayLike,
        strata: ArrayLike | None = None,
        weights: ArrayLike | None = None,
        levels: Sequence[object] | None = None,
    ) -> CoxPH:
        data = group_rows(durations, events, groups, strata, weights, levels)
        n_levels = len(data.levels)
        if n_levels < 2:
            raise ValueError("a Cox model needs at least two levels with patients")
        ref = data.levels[0] if self.reference is None else level_label(self.reference)
        if ref not in data.levels:
            raise ValueError(f"reference level {ref!r} is not among the levels {data.levels}")
        ref_idx = data.levels.index(ref)
        free = np.array([i for i in range(n_levels) if i != ref_idx], dtype=np.intp)
        reasons = not_estimable(data.blocks, n_levels, ref_idx)
        # the model actually fitted: the estimable levels' patients (all when all are)
        kept = np.array([i for i in range(n_levels) if i not in reasons], dtype=np.intp)
        blocks = restrict(data.blocks, kept) if reasons else data.blocks
        kept_ref = int(np.flatnonzero(kept == ref_idx)[0])
        kept_free = np.array([j for j in range(kept.size) if j != kept_ref], dtype=np.intp)

        def evaluate(b: FloatArray) -> tuple[float, FloatArray, FloatArray]:
            full = np.zeros(kept.size)
            full[kept_free] = b
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                ll, u, i = partial_likelihood(full, blocks, self.ties)
            return ll, u[kept_free], i[np.ix_(kept_free, kept_free)]

        fit_beta, loglik, _, info, loglik_null, iterations, newton_ok = newton(
            evaluate, kept_free.size, self.max_iter
        )
        _, u0, i0 = evaluate(np.zeros(kept_free.size))
        score_stat = float(u0 @ linalg.pinvh(i0) @ u0) if kept_free.size else float("nan")
        fit_var = linalg.pinvh(info) if kept_free.size else np.zeros((0, 0))
        fit_se = np.sqrt(np.clip(np.diag(fit_var), 0.0, None))
        structural = sorted(reasons)  # decided by the data, before any iteration
        if not newton_ok:  # the arrays keep the last iterate; the notes withhold it
            for j in kept_free:
                reasons[int(kept[j])] = NOT_CONVERGED
        # back to one entry per non-reference level; NaN where not estimable
        position = {int(level): k for k, level in enumerate(free)}
        fitted = np.array([position[int(kept[j])] for j in kept_free], dtype=np.intp)
        beta = np.full(free.size, np.nan)
        se = np.full(free.size, np.nan)
        var = np.full((free.size, free.size), np.nan)
        beta[fitted] = fit_beta
        se[fitted] = fit_se
        var[np.ix_(fitted, fitted)] = fit_var
        z_crit = float(special.ndtri(1 - self.alpha / 2))
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            z = beta / se
            self.hazard_ratios_ = np.exp(beta)
            self.lower_ = np.exp(beta - z_crit * se)
            self.upper_ = np.exp(beta + z_crit * se)
        self.p_values_ = 2 * special.ndtr(-np.abs(z))
        self.levels_ = data.levels
        self.reference_ = ref
        self.terms_ = tuple(data.levels[i] for i in free)
        self.notes_: dict[str, str] = {
            data.levels[i]: reasons[int(i)] for i in free if int(i) in reasons
        }
        self.not_estimable_ = tuple(data.levels[i] for i in structural)
        self.newton_converged_ = newton_ok
        self.coef_ = beta
        self.var_ = var
        self.se_ = se
        self.z_ = z
        self.loglik_null_ = loglik_null
        self.loglik_ = loglik
        df = int(kept_free.size)
        if df:
            lr = 2 * (loglik - loglik_null)
            wald = float(fit_beta @ linalg.lstsq(fit_var, fit_beta)[0])
            lr_p = float(special.chdtrc(df, lr))
            wald_p = float(special.chdtrc(df, wald))
            score_p = float(special.chdtrc(df, score_stat))
        else:  # nothing estimable: no model to test
            lr = wald = lr_p = wald_p = score_p = float("nan")
        self.likelihood_ratio_ = TestStatistic("likelihood ratio", lr, df, lr_p)
        self.wald_ = TestStatistic("Wald", wald, df, wald_p)
        self.score_ = TestStatistic("score", score_stat, df, score_p)
        full = np.zeros(kept.size)
        full[kept_free] = fit_beta
        self.concordance_ = concordance(full, blocks)
        self.n_by_level_ = data.n_by_level
        self.events_by_level_ = sum(b.deaths.sum(axis=0) for b in data.blocks)
        self.n_ = data.n_used
        self.n_fitted_ = float(data.n_by_level[kept].sum())
        self.events_ = float(np.sum(self.events_by_level_))
        self.n_removed_ = data.n_removed
        self.strata_ = tuple(b.stratum for b in data.blocks) if strata is not None else ()
        self.iterations_ = iterations
        self.converged_ = newton_ok and not reasons
        return self

    def result(self, provenance: Provenance | None = None) -> CoxResult:
        idx = {lv: i for i, lv in enumerate(self.levels_)}

        def number(values: FloatArray, k: int) -> float | None:
            return None if term_note(k) is not None else float(values[k])

        def term_note(k: int) -> str | None:
            return self.notes_.get(self.terms_[k])

        hrs = tuple(
            HazardRatio(
                level=term,
                reference=self.reference_,
                coef=number(self.coef_, k),
                se=number(self.se_, k),
                hazard_ratio=number(self.hazard_ratios_, k),
                lower=number(self.lower_, k),
                upper=number(self.upper_, k),
                z=number(self.z_, k),
                p_value=number(self.p_values_, k),
                n=float(self.n_by_level_[idx[term]]),
                events=float(self.events_by_level_[idx[term]]),
                note=term_note(k),
            )
            for k, term in enumerate(self.terms_)
        )
        strat = f", stratified by {len(self.strata_)} strata" if self.strata_ else ""
        note = ""
        if self.not_estimable_:
            names = ", ".join(repr(lv) for lv in self.not_estimable_)
            note = (
                f"; the full model DID NOT CONVERGE (no finite estimate for {names}: "
                "not estimable, see each level's note); the other hazard ratios, the "
                f"tests and the concordance are from the fit on the other "
                f"{self.n_fitted_:g} patients, the limit of the partial likelihood"
            )
        if not self.newton_converged_:
            note += "; Newton-Raphson DID NOT CONVERGE: hazard ratios not estimated"
        prov = (provenance or Provenance()).with_method(
            f"Cox proportional hazards (R coxph equivalent), {self.ties.capitalize()} ties"
            f"{strat}; hazard ratio vs {self.reference_!r} with {100 * (1 - self.alpha):g}% "
            f"Wald CI; Wald p per level; likelihood-ratio, Wald and score tests{note}"
        )
        return CoxResult(
            ties=self.ties,
            reference=self.reference_,
            levels=self.levels_,
            hazard_ratios=hrs,
            covariance=self.var_,
            loglik_null=self.loglik_null_,
            loglik=self.loglik_,
            likelihood_ratio=self.likelihood_ratio_,
            wald=self.wald_,
            score=self.score_,
            concordance=self.concordance_,
            n=self.n_,
            events=self.events_,
            n_removed=self.n_removed_,
            strata=self.strata_,
            alpha=self.alpha,
            iterations=self.iterations_,
            converged=self.converged_,
            provenance=prov,
            n_fitted=self.n_fitted_,
        )
