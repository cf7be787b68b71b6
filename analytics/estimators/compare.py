"""Comparing survival between the levels of one categorical variable, as R does it.

- :class:`LogRankTest` is ``survival::survdiff`` (G-rho family, rho = 0 the log-rank
  test), optionally stratified.
- :class:`CoxPH` is ``survival::coxph(Surv(time, event) ~ factor(group) [+ strata(s)])``
  with treatment (dummy) coding against a named reference level: one hazard ratio per
  other level, Wald, likelihood-ratio and score tests, Harrell's concordance. A level
  whose hazard ratio has no finite estimate (no events, monotone likelihood), where R
  prints a huge coefficient and warns, is reported not estimable with the reason; the
  others are the limit R's iterations approach (the fit without that level's patients).

Both take one row per patient or aggregated rows (time, event, group[, stratum])
with integer frequency weights, and give identical results for the two (weights
mean replicated rows, not R's case weights, which R's Efron handles differently).
Rows with a missing group or stratum are left out and counted, as R's
``na.action = na.omit`` does.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import linalg, sparse, special, stats
from scipy.sparse import csgraph

from analytics.estimators.km import check_weights
from analytics.model.provenance import Provenance

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
                with warnings.catch_warnings():
                    # ill-conditioned (scipy warns rather than raising): R's solve()
                    # would stop there too, so treat it as singular
                    warnings.simplefilter("error", linalg.LinAlgWarning)
                    sol = linalg.solve(vv, oe, assume_a="sym")
            except (linalg.LinAlgError, linalg.LinAlgWarning):
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


# Why a level's hazard ratio is not estimable. The wording follows the subgroup table's
# ("<cause>: hazard ratio not estimable"; analytics.analyses.subgroups).
NO_EVENTS = "no events in this group: hazard ratio not estimable"
NO_REFERENCE_EVENTS = "no events in the reference group: hazard ratio not estimable"
GROWS_WITHOUT_BOUND = (
    "monotone likelihood (the hazard ratio grows without bound): hazard ratio not estimable"
)
SHRINKS_TO_ZERO = "monotone likelihood (the hazard ratio shrinks to 0): hazard ratio not estimable"
NEVER_COMPARED = (
    "no events while this group and the reference group were both at risk: "
    "hazard ratio not estimable"
)
NOT_CONVERGED = "the Cox model did not converge: hazard ratio not estimated"


def _reachable(adjacency: NDArray[np.bool_], start: int) -> NDArray[np.bool_]:
    order = csgraph.breadth_first_order(
        sparse.csr_matrix(adjacency.astype(np.float64)),
        start,
        directed=True,
        return_predecessors=False,
    )
    seen = np.zeros(adjacency.shape[0], dtype=bool)
    seen[np.asarray(order, dtype=np.intp)] = True
    return seen


def _not_estimable(blocks: Sequence[_Block], n_levels: int, ref: int) -> dict[int, str]:
    """Levels whose coefficient against the reference has no finite MLE, with the reason.

    With one categorical covariate this is a question about the data, not about the
    iterations (Bryson and Johnson 1981; Heinze and Schemper 2001, "monotone
    likelihood"). Along a direction delta of the level coefficients, each event of level
    a at time t adds s * (delta_a - max delta_b over the levels b at risk at t), as
    s -> infinity, to the log partial likelihood: it never decreases along delta iff
    delta_a >= delta_b for every pair where a had an event while b was at risk (same
    stratum). Draw an edge b -> a for each such pair. Every hazard ratio has a finite
    MLE iff the graph is strongly connected; otherwise the supremum is approached with
    some of them running to 0 or infinity. Bounding each event's risk set by its own
    strongly connected component shows the supremum is the product of the components'
    own likelihoods: the finite hazard ratios against the reference are those of the
    levels in its component (reachable from it and reaching it), and they equal the fit
    on those levels' patients alone. A level only reachable from the reference lies
    above it in the limit (ratio -> infinity), one that only reaches it lies below (-> 0),
    one doing neither is never compared with it. A level without events has no edge in,
    so it is always its own component: its coefficient goes to -infinity and its
    patients drop out of every risk set in the limit.

    Level b is at risk at every event time up to its last time in the block (risk
    sets only shrink), so the edge b -> a exists iff a's first event there comes no
    later than b's last time: O(levels^2) per stratum, whatever the number of times.
    """
    adjacency = np.zeros((n_levels, n_levels), dtype=bool)
    events = np.zeros(n_levels)
    for b in blocks:
        events += b.deaths.sum(axis=0)
        if b.times.size == 0:
            continue
        has_death = b.deaths > 0
        first = np.where(has_death.any(axis=0), b.times[np.argmax(has_death, axis=0)], np.inf)
        at_risk = b.at_risk > 0
        last_row = at_risk.shape[0] - 1 - np.argmax(at_risk[::-1], axis=0)
        last = np.where(at_risk.any(axis=0), b.times[last_row], -np.inf)
        adjacency |= first[None, :] <= last[:, None]
    above = _reachable(adjacency, ref)  # delta >= delta_ref along every direction
    below = _reachable(adjacency.T, ref)  # delta <= delta_ref
    reasons: dict[int, str] = {}
    for k in range(n_levels):
        if k == ref or (above[k] and below[k]):
            continue
        if events[k] <= 0:
            reasons[k] = NO_EVENTS
        elif events[ref] <= 0:
            reasons[k] = NO_REFERENCE_EVENTS
        elif above[k]:
            reasons[k] = GROWS_WITHOUT_BOUND
        elif below[k]:
            reasons[k] = SHRINKS_TO_ZERO
        else:
            reasons[k] = NEVER_COMPARED
    return reasons


def _restrict(blocks: Sequence[_Block], keep: NDArray[np.intp]) -> tuple[_Block, ...]:
    """The blocks of the data without the patients of the levels not in `keep` (the
    at-risk counts are per level, so dropping a column drops exactly its patients)."""
    return tuple(_Block(b.stratum, b.times, b.deaths[:, keep], b.at_risk[:, keep]) for b in blocks)


def _newton(
    evaluate: Callable[[FloatArray], tuple[float, FloatArray, FloatArray]],
    size: int,
    max_iter: int,
) -> tuple[FloatArray, float, FloatArray, FloatArray, float, int, bool]:
    """Newton-Raphson with step halving from 0, to |step| < 1e-10. Returns the
    estimate, its log-likelihood, score and information, the null log-likelihood,
    the iterations and whether it converged. A trial point where the likelihood
    cannot be evaluated (exp overflow) counts as worse and is halved; if halving
    finds no acceptable point the iteration stops unconverged."""
    beta = np.zeros(size)
    loglik, u, info = evaluate(beta)
    loglik_null = loglik
    converged = size == 0
    iterations = 0
    while not converged and iterations < max_iter:
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
        if not (np.isfinite(ll_new) and np.all(np.isfinite(u_new))):
            break
        beta, loglik, u, info = new, ll_new, u_new, i_new
        converged = bool(np.max(np.abs(step)) < 1e-10)
    return beta, loglik, u, info, loglik_null, iterations, converged


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
    before fitting (see :func:`_not_estimable`), not from the iterations; they get NaN
    in the arrays, None in :class:`HazardRatio` and a ``note`` saying why (``notes_``).

    The other hazard ratios are those of the fit on the estimable levels' patients
    only. Why drop the patients and not just the level's column: keeping the patients
    in the risk sets while forcing the level's coefficient to 0 (dropping the dummy)
    would merge them into the reference level, a different model with different
    estimates. Keeping them with their own coefficient is R's model; there the
    zero-event coefficient runs to -infinity, which removes its patients from every
    risk set, so R's finite coefficients converge to exactly the fit without those
    patients (the limit of the partial likelihood, see :func:`_not_estimable`).
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
        data = _prepare(durations, events, groups, strata, weights, levels)
        n_levels = len(data.levels)
        if n_levels < 2:
            raise ValueError("a Cox model needs at least two levels with patients")
        ref = data.levels[0] if self.reference is None else level_label(self.reference)
        if ref not in data.levels:
            raise ValueError(f"reference level {ref!r} is not among the levels {data.levels}")
        ref_idx = data.levels.index(ref)
        free = np.array([i for i in range(n_levels) if i != ref_idx], dtype=np.intp)
        reasons = _not_estimable(data.blocks, n_levels, ref_idx)
        # the model actually fitted: the estimable levels' patients (all when all are)
        kept = np.array([i for i in range(n_levels) if i not in reasons], dtype=np.intp)
        blocks = _restrict(data.blocks, kept) if reasons else data.blocks
        kept_ref = int(np.flatnonzero(kept == ref_idx)[0])
        kept_free = np.array([j for j in range(kept.size) if j != kept_ref], dtype=np.intp)

        def evaluate(b: FloatArray) -> tuple[float, FloatArray, FloatArray]:
            full = np.zeros(kept.size)
            full[kept_free] = b
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                ll, u, i = _partial_likelihood(full, blocks, self.ties)
            return ll, u[kept_free], i[np.ix_(kept_free, kept_free)]

        fit_beta, loglik, _, info, loglik_null, iterations, newton_ok = _newton(
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
        z_crit = float(stats.norm.ppf(1 - self.alpha / 2))
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            z = beta / se
            self.hazard_ratios_ = np.exp(beta)
            self.lower_ = np.exp(beta - z_crit * se)
            self.upper_ = np.exp(beta + z_crit * se)
        self.p_values_ = 2 * stats.norm.sf(np.abs(z))
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
            lr_p = float(stats.chi2.sf(lr, df))
            wald_p = float(stats.chi2.sf(wald, df))
            score_p = float(stats.chi2.sf(score_stat, df))
        else:  # nothing estimable: no model to test
            lr = wald = lr_p = wald_p = score_p = float("nan")
        self.likelihood_ratio_ = TestStatistic("likelihood ratio", lr, df, lr_p)
        self.wald_ = TestStatistic("Wald", wald, df, wald_p)
        self.score_ = TestStatistic("score", score_stat, df, score_p)
        full = np.zeros(kept.size)
        full[kept_free] = fit_beta
        self.concordance_ = _concordance(full, blocks)
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
