"""Comparing survival between the levels of one categorical variable, as R does it.

- :class:`LogRankTest` is ``survival::survdiff`` (G-rho family, rho = 0 the log-rank
  test), optionally stratified.
- :class:`CoxPH` is ``survival::coxph(Surv(time, event) ~ factor(group) [+ strata(s)])``
  with treatment (dummy) coding against a named reference level: one hazard ratio per
  other level, Wald, likelihood-ratio and score tests, Harrell's concordance.

Both take one row per patient or aggregated rows (time, event, group[, stratum])
with integer frequency weights, and give identical results for the two (weights
mean replicated rows, not R's case weights, which R's Efron handles differently).
Rows with a missing group or stratum are left out and counted, as R's
``na.action = na.omit`` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import linalg, special, stats

from analytics.km import check_weights
from analytics.provenance import Provenance

Ties = Literal["efron", "breslow"]
TIES: tuple[Ties, ...] = ("efron", "breslow")

FloatArray = NDArray[np.float64]


# --- shared input handling -----------------------------------------------------------


@dataclass(frozen=True)
class _Block:
    """One stratum, collapsed to distinct times x group levels."""

    stratum: str
    times: FloatArray
    deaths: FloatArray  # (times, levels): weight of events
    at_risk: FloatArray  # (times, levels): weight with time >= t


@dataclass(frozen=True)
class _Grouped:
    levels: tuple[str, ...]
    n_by_level: FloatArray
    blocks: tuple[_Block, ...]
    n_used: float
    n_removed: float


def level_label(value: object) -> str:
    """A level's name in results; 1.0 (an integer column read with missing values)
    is "1", as R prints it."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _factor(
    values: NDArray[Any], levels: Sequence[object] | None
) -> tuple[NDArray[np.intp], list[object]]:
    """Integer codes into the level list (sorted when not given, as R's factor())."""
    codes, uniques = pd.factorize(values)
    present = list(uniques)
    if levels is None:
        try:
            ordered: list[object] = sorted(present)
        except TypeError:
            ordered = present
    else:
        given = {level_label(v) for v in levels}
        unknown = [v for v in present if level_label(v) not in given]
        if unknown:
            raise ValueError(f"values {unknown[:5]} are not among the given levels")
        # Levels nobody has are dropped: they carry no information (R would give NA).
        have = {level_label(v) for v in present}
        ordered = [v for v in levels if level_label(v) in have]
    position = {level_label(v): i for i, v in enumerate(ordered)}
    lookup = np.array([position[level_label(v)] for v in present], dtype=np.intp)
    return lookup[codes], ordered


def _prepare(
    durations: ArrayLike,
    events: ArrayLike,
    groups: ArrayLike,
    strata: ArrayLike | None,
    weights: ArrayLike | None,
    levels: Sequence[object] | None,
) -> _Grouped:
    t = np.asarray(durations, dtype=np.float64).ravel()
    e_raw = np.asarray(events).ravel().astype(np.float64)
    g = np.asarray(groups).ravel()
    s = np.zeros(t.size, dtype=np.intp) if strata is None else np.asarray(strata).ravel()
    if not (t.size == e_raw.size == g.size == s.size):
        raise ValueError("durations, events, groups and strata differ in length")
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        raise ValueError("durations must be finite and non-negative")
    if not np.all(np.isin(e_raw, (0.0, 1.0))):
        raise ValueError("events must be 0/1 (or boolean)")
    w = check_weights(weights, t.size)
    missing = np.asarray(pd.isna(g) | pd.isna(s), dtype=bool)
    n_removed = float(w[missing].sum())
    keep = ~missing & (w > 0)
    t, e, g, s, w = t[keep], e_raw[keep], g[keep], s[keep], w[keep]
    codes, lv = _factor(g, levels)
    n_levels = len(lv)
    s_codes, strata_levels = _factor(s, None)
    blocks = []
    for k, stratum in enumerate(strata_levels):
        sel = s_codes == k
        times, inv = np.unique(t[sel], return_inverse=True)
        cell = inv * n_levels + codes[sel]
        size = times.size * n_levels
        deaths = np.asarray(
            np.bincount(cell, weights=(w * e)[sel], minlength=size), dtype=np.float64
        ).reshape(-1, n_levels)
        total = np.bincount(cell, weights=w[sel], minlength=size).reshape(-1, n_levels)
        at_risk = np.cumsum(total[::-1], axis=0, dtype=np.float64)[::-1]
        blocks.append(_Block(level_label(stratum), times, deaths, at_risk))
    n_by_level = np.bincount(codes, weights=w, minlength=n_levels).astype(np.float64)
    return _Grouped(
        levels=tuple(level_label(v) for v in lv),
        n_by_level=n_by_level,
        blocks=tuple(blocks),
        n_used=float(w.sum()),
        n_removed=n_removed,
    )


# --- log-rank ------------------------------------------------------------------------


@dataclass(frozen=True)
class LogRankGroup:
    group: str
    n: float
    observed: float
    expected: float

    @property
    def o_minus_e(self) -> float:
        return self.observed - self.expected


@dataclass(frozen=True)
class LogRankResult:
    """``survdiff``: chi-square on ``df`` = (groups with expected > 0) - 1 degrees of
    freedom; ``observed``/``expected`` summed over strata (weighted by S(t-)^rho)."""

    test: str
    chisq: float
    df: int
    p_value: float
    rho: float
    groups: tuple[LogRankGroup, ...]
    variance: FloatArray
    strata: tuple[str, ...]
    observed_by_stratum: FloatArray  # (strata, groups)
    expected_by_stratum: FloatArray
    n_used: float
    n_removed: float
    provenance: Provenance

    def group(self, label: str) -> LogRankGroup:
        for g in self.groups:
            if g.group == label:
                return g
        raise KeyError(label)


def _test_name(rho: float) -> str:
    if rho == 0:
        return "log-rank"
    if rho == 1:
        return "Peto-Peto (G-rho, rho = 1)"
    return f"G-rho (rho = {rho:g})"


class LogRankTest:
    """R's ``survdiff(Surv(time, event) ~ group [+ strata(s)], rho = rho)``.

    Expected counts and the hypergeometric variance (with the (n - d) / (n - 1) ties
    correction) are summed over strata; the statistic drops the first group with
    expected > 0 and solves the remaining system, as survdiff does (a
    pseudo-inverse replaces the solve only if that matrix is singular, where R stops).
    For rho != 0 each time is weighted by the pooled left-continuous Kaplan-Meier
    estimate of its stratum to the power rho.
    """

    def __init__(self, rho: float = 0.0) -> None:
        if not np.isfinite(rho) or rho < 0:
            raise ValueError("rho must be a finite non-negative number")
        self.rho = float(rho)

    def fit(
        self,
        durations: ArrayLike,
        events: ArrayLike,
        groups: ArrayLike,
        strata: ArrayLike | None = None,
        weights: ArrayLike | None = None,
        levels: Sequence[object] | None = None,
    ) -> LogRankTest:
        data = _prepare(durations, events, groups, strata, weights, levels)
        n_levels = len(data.levels)
        obs_s = np.zeros((len(data.blocks), n_levels))
        exp_s = np.zeros((len(data.blocks), n_levels))
        var = np.zeros((n_levels, n_levels))
        for k, b in enumerate(data.blocks):
            y = b.at_risk.sum(axis=1)
            d = b.deaths.sum(axis=1)
            if self.rho == 0:
                wt = np.ones_like(y)
            else:
                km_left = np.cumprod(np.append(1.0, 1.0 - d / y))[:-1]
                wt = km_left**self.rho
            obs_s[k] = wt @ b.deaths
            exp_s[k] = (wt * d / y) @ b.at_risk
            multi = y > 1  # one patient at risk adds no variance (survdiff skips it)
            ym, rm = y[multi], b.at_risk[multi]
            kt = wt[multi] ** 2 * d[multi] * (ym - d[multi]) / (ym - 1)
            var += np.diag((kt / ym) @ rm) - (rm * (kt / ym**2)[:, None]).T @ rm
        observed, expected = obs_s.sum(axis=0), exp_s.sum(axis=0)
        usable = np.flatnonzero(expected > 0)
        df = int(usable.size - 1)
        if usable.size < 2:
            chisq, p = 0.0, float("nan")
        else:
            idx = usable[1:]
            oe = (observed - expected)[idx]
            vv = var[np.ix_(idx, idx)]
            try:
                sol = linalg.solve(vv, oe, assume_a="sym")
            except linalg.LinAlgError:
                sol = linalg.pinv(vv) @ oe
            chisq = float(oe @ sol)
            p = float(stats.chi2.sf(chisq, df))
        self.levels_ = data.levels
        self.strata_ = tuple(b.stratum for b in data.blocks) if strata is not None else ()
        self.n_ = data.n_by_level
        self.observed_ = observed
        self.expected_ = expected
        self.observed_by_stratum_ = obs_s
        self.expected_by_stratum_ = exp_s
        self.variance_ = var
        self.chisq_ = chisq
        self.df_ = df
        self.p_value_ = p
        self.n_used_ = data.n_used
        self.n_removed_ = data.n_removed
        return self

    def result(self, provenance: Provenance | None = None) -> LogRankResult:
        name = _test_name(self.rho)
        strat = f", stratified by {len(self.strata_)} strata" if self.strata_ else ""
        prov = (provenance or Provenance()).with_method(
            f"{name} test as R survdiff{strat}: hypergeometric variance with ties "
            f"correction; chi-square on {self.df_} df"
        )
        groups = tuple(
            LogRankGroup(lv, float(n), float(o), float(e))
            for lv, n, o, e in zip(
                self.levels_, self.n_, self.observed_, self.expected_, strict=True
            )
        )
        return LogRankResult(
            test=name,
            chisq=self.chisq_,
            df=self.df_,
            p_value=self.p_value_,
            rho=self.rho,
            groups=groups,
            variance=self.variance_,
            strata=self.strata_,
            observed_by_stratum=self.observed_by_stratum_,
            expected_by_stratum=self.expected_by_stratum_,
            n_used=self.n_used_,
            n_removed=self.n_removed_,
            provenance=prov,
        )


# --- Cox proportional hazards ----------------------------------------------------------


@dataclass(frozen=True)
class TestStatistic:
    name: str
    statistic: float
    df: int
    p_value: float


@dataclass(frozen=True)
class HazardRatio:
    """One level against the reference: exp(coef) with a Wald CI and Wald p."""

    level: str
    reference: str
    coef: float
    se: float
    hazard_ratio: float
    lower: float
    upper: float
    z: float
    p_value: float
    n: float
    events: float


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

    def hazard_ratio(self, level: str) -> HazardRatio:
        for hr in self.hazard_ratios:
            if hr.level == level:
                return hr
        raise KeyError(f"no hazard ratio for level {level!r} (reference {self.reference!r})")


def _partial_likelihood(
    beta: FloatArray, blocks: Sequence[_Block], ties: Ties
) -> tuple[float, FloatArray, FloatArray]:
    """Log partial likelihood, score and information over all level coefficients
    (the reference's included; the caller keeps the free ones).

    With a single categorical covariate every patient of a level shares one risk
    score, so the risk-set sums are (at risk per level) @ exp(beta) and the second
    moment is diagonal: an evaluation costs O(distinct times x levels) for Breslow
    and O(events x levels) for Efron (one term per tied death), never O(patients).
    """
    n_levels = beta.size
    r = np.exp(beta)
    loglik = 0.0
    score = np.zeros(n_levels)
    info = np.zeros((n_levels, n_levels))
    for b in blocks:
        d_tot = b.deaths.sum(axis=1)
        has = d_tot > 0
        deaths, risk, d_tot = b.deaths[has], b.at_risk[has], d_tot[has]
        loglik += float((deaths @ beta).sum())
        score += deaths.sum(axis=0)
        s1 = risk * r
        s0 = s1.sum(axis=1)
        if ties == "breslow":
            m = s1 / s0[:, None]
            loglik -= float(d_tot @ np.log(s0))
            score -= d_tot @ m
            info += np.diag(d_tot @ m) - (m * d_tot[:, None]).T @ m
        else:
            # Efron: the j-th of d tied deaths (j = 0..d-1) sees the risk set minus
            # j/d of the dying patients' risk.
            e1 = deaths * r
            e0 = e1.sum(axis=1)
            small = d_tot <= _EFRON_DIRECT
            if small.any():
                ll, sc, inf = _efron_direct(
                    s0[small], s1[small], e0[small], e1[small], d_tot[small]
                )
                loglik -= ll
                score -= sc
                info += inf
            if not small.all():
                big = ~small
                ll, sc, inf = _efron_closed(s0[big], s1[big], e0[big], e1[big], d_tot[big])
                loglik -= ll
                score -= sc
                info += inf
    return loglik, score, info


# Times with more tied deaths than this use the closed form (aggregated registries
# have thousands per day); below it the direct sum keeps every digit.
_EFRON_DIRECT = 64


def _efron_direct(
    s0: FloatArray, s1: FloatArray, e0: FloatArray, e1: FloatArray, d: FloatArray
) -> tuple[float, FloatArray, FloatArray]:
    counts = np.rint(d).astype(np.intp)
    row = np.repeat(np.arange(counts.size), counts)
    starts = np.cumsum(counts) - counts
    frac = (np.arange(row.size) - starts[row]) / d[row]
    denom = s0[row] - frac * e0[row]
    m = (s1[row] - frac[:, None] * e1[row]) / denom[:, None]
    msum = m.sum(axis=0)
    return float(np.log(denom).sum()), msum, np.diag(msum) - m.T @ m


def _efron_closed(
    s0: FloatArray, s1: FloatArray, e0: FloatArray, e1: FloatArray, d: FloatArray
) -> tuple[float, FloatArray, FloatArray]:
    """The same sums in closed form. With D_j = A - (j/d) B = (B/d)(c - j), c = dA/B:
    sum log D_j = d log(B/d) + lgamma(c+1) - lgamma(c-d+1); sum 1/(c-j) and
    sum 1/(c-j)^2 are digamma and trigamma differences. Writing
    m_j = u / D_j + v with u = S1 - (A/B) E1 and v = E1 / B gives the score and
    information from those three sums."""
    c = d * s0 / e0
    inv1 = (special.digamma(c + 1) - special.digamma(c - d + 1)) * d / e0  # sum 1/D_j
    inv2 = (special.polygamma(1, c - d + 1) - special.polygamma(1, c + 1)) * (d / e0) ** 2
    loglik = float((d * np.log(e0 / d) + special.gammaln(c + 1) - special.gammaln(c - d + 1)).sum())
    u = s1 - (s0 / e0)[:, None] * e1
    v = e1 / e0[:, None]
    msum = (u * inv1[:, None] + v * d[:, None]).sum(axis=0)
    outer = (
        (u * inv2[:, None]).T @ u
        + (u * inv1[:, None]).T @ v
        + (v * inv1[:, None]).T @ u
        + (v * d[:, None]).T @ v
    )
    return loglik, msum, np.diag(msum) - outer


def _concordance(beta: FloatArray, blocks: Sequence[_Block]) -> float:
    """Harrell's C as R's concordance() on the linear predictor: pairs within a
    stratum where the earlier time is an event; a censoring at the event's time
    counts as later; equal risk scores count one half; tied event times are skipped."""
    pairs = np.zeros((beta.size, beta.size))
    for b in blocks:
        pairs += b.deaths.T @ (b.at_risk - b.deaths)
    higher = beta[:, None] > beta[None, :]
    lower = beta[:, None] < beta[None, :]
    tied = ~higher & ~lower
    conc, disc, tie = pairs[higher].sum(), pairs[lower].sum(), pairs[tied].sum()
    total = conc + disc + tie
    return float((conc + tie / 2) / total) if total > 0 else float("nan")


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
    sorted), as R's factor(). A level with no events has an infinite MLE; the fit
    then stops at ``max_iter`` with ``converged_ = False``.
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
        data = _prepare(durations, events, groups, strata, weights, levels)
        if len(data.levels) < 2:
            raise ValueError("a Cox model needs at least two levels with patients")
        ref = data.levels[0] if self.reference is None else level_label(self.reference)
        if ref not in data.levels:
            raise ValueError(f"reference level {ref!r} is not among the levels {data.levels}")
        ref_idx = data.levels.index(ref)
        free = np.array([i for i in range(len(data.levels)) if i != ref_idx])

        def evaluate(b: FloatArray) -> tuple[float, FloatArray, FloatArray]:
            full = np.zeros(len(data.levels))
            full[free] = b
            ll, u, i = _partial_likelihood(full, data.blocks, self.ties)
            return ll, u[free], i[np.ix_(free, free)]

        beta = np.zeros(free.size)
        loglik_null, u0, i0 = evaluate(beta)
        score_stat = float(u0 @ linalg.pinvh(i0) @ u0)
        loglik, u, info = loglik_null, u0, i0
        converged = False
        iterations = 0
        while not converged and iterations < self.max_iter:
            iterations += 1
            step = linalg.lstsq(info, u)[0]
            new = beta + step
            ll_new, u_new, i_new = evaluate(new)
            halvings = 0
            while not ll_new >= loglik - 1e-12 * abs(loglik) and halvings < 30:
                step = step / 2
                new = beta + step
                ll_new, u_new, i_new = evaluate(new)
                halvings += 1
            beta, loglik, u, info = new, ll_new, u_new, i_new
            converged = bool(np.max(np.abs(step)) < 1e-10)
        var = linalg.pinvh(info)
        se = np.sqrt(np.diag(var))
        z_crit = float(stats.norm.ppf(1 - self.alpha / 2))
        z = beta / se
        self.levels_ = data.levels
        self.reference_ = ref
        self.terms_ = tuple(data.levels[i] for i in free)
        self.coef_ = beta
        self.var_ = var
        self.se_ = se
        self.z_ = z
        self.p_values_ = 2 * stats.norm.sf(np.abs(z))
        with np.errstate(over="ignore"):  # a diverging (unconverged) fit may overflow
            self.hazard_ratios_ = np.exp(beta)
            self.lower_ = np.exp(beta - z_crit * se)
            self.upper_ = np.exp(beta + z_crit * se)
        self.loglik_null_ = loglik_null
        self.loglik_ = loglik
        df = int(free.size)
        lr = 2 * (loglik - loglik_null)
        wald = float(beta @ linalg.lstsq(var, beta)[0])
        self.likelihood_ratio_ = TestStatistic(
            "likelihood ratio", lr, df, float(stats.chi2.sf(lr, df))
        )
        self.wald_ = TestStatistic("Wald", wald, df, float(stats.chi2.sf(wald, df)))
        self.score_ = TestStatistic("score", score_stat, df, float(stats.chi2.sf(score_stat, df)))
        full = np.zeros(len(data.levels))
        full[free] = beta
        self.concordance_ = _concordance(full, data.blocks)
        self.n_by_level_ = data.n_by_level
        self.events_by_level_ = sum(b.deaths.sum(axis=0) for b in data.blocks)
        self.n_ = data.n_used
        self.events_ = float(np.sum(self.events_by_level_))
        self.n_removed_ = data.n_removed
        self.strata_ = tuple(b.stratum for b in data.blocks) if strata is not None else ()
        self.iterations_ = iterations
        self.converged_ = converged
        return self

    def result(self, provenance: Provenance | None = None) -> CoxResult:
        idx = {lv: i for i, lv in enumerate(self.levels_)}
        hrs = tuple(
            HazardRatio(
                level=term,
                reference=self.reference_,
                coef=float(self.coef_[k]),
                se=float(self.se_[k]),
                hazard_ratio=float(self.hazard_ratios_[k]),
                lower=float(self.lower_[k]),
                upper=float(self.upper_[k]),
                z=float(self.z_[k]),
                p_value=float(self.p_values_[k]),
                n=float(self.n_by_level_[idx[term]]),
                events=float(self.events_by_level_[idx[term]]),
            )
            for k, term in enumerate(self.terms_)
        )
        strat = f", stratified by {len(self.strata_)} strata" if self.strata_ else ""
        note = "" if self.converged_ else "; DID NOT CONVERGE (a level may have no events)"
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
        )
