"""The log-rank test and its G-rho family, as R's ``survival::survdiff``.

:class:`LogRankTest` compares survival between the levels of one categorical variable,
optionally stratified: observed and expected events per level, the hypergeometric
variance with the ties correction, a chi-square on (levels with expected > 0) - 1
degrees of freedom. It takes one row per patient or aggregated rows with frequency
weights (see :mod:`analytics.estimators.grouping`) and gives identical results for the two.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import linalg, special

from analytics.estimators.grouping import group_rows
from analytics.model.provenance import Provenance

FloatArray = NDArray[np.float64]


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
        data = group_rows(durations, events, groups, strata, weights, levels)
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
            p = float(special.chdtrc(df, chisq))
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
