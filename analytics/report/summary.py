"""The whole set of headline numbers for a filter state, computed from
DuckDB aggregates: Kaplan-Meier per endpoint (and per group), group comparison
and the Bayesian endpoint. This is what the command line prints and what a
survival page needs after a filter change.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from analytics.estimators.bayes import (
    DEFAULT_IMPUTATIONS,
    DEFAULT_SEED,
    BayesianEndpoint,
    BayesResult,
    Imputation,
)
from analytics.estimators.km import CI_LABELS, CIType, KaplanMeier, KMResult
from analytics.model.filters import FilterState
from analytics.model.provenance import Provenance
from analytics.store import QualityReport, Store


@dataclass(frozen=True)
class GroupComparison:
    by: str
    reference: str
    logrank_chisq: float
    logrank_df: int
    logrank_p: float
    hazard_ratios: dict[str, tuple[float, float, float, float]]  # level: (hr, lower, upper, p)
    method: str
    # level: why its hazard ratio is not estimable (no events, monotone likelihood, ...);
    # such a level is in `not_estimable`, never in `hazard_ratios`
    not_estimable: dict[str, str] = field(default_factory=dict)

    def levels(self) -> list[str]:
        """Every compared level but the reference, in level order."""
        return sorted({*self.hazard_ratios, *self.not_estimable})


@dataclass(frozen=True)
class GroupSummary:
    level: str
    n: int
    endpoints: dict[str, KMResult]


@dataclass(frozen=True)
class Summary:
    n: int
    n_total: int
    filters: FilterState
    landmarks: tuple[float, ...]
    ci_type: CIType
    endpoints: dict[str, KMResult]
    groups: dict[str, GroupSummary] = field(default_factory=dict)
    comparison: dict[str, GroupComparison] = field(default_factory=dict)
    bayes: BayesResult | None = None
    quality: QualityReport | None = None
    provenance: Provenance = field(default_factory=Provenance)
    by: str | None = None


def _km(
    counts: pd.DataFrame,
    code: str,
    label: str,
    ci_type: CIType,
    landmarks: Sequence[float],
    prov: Provenance,
) -> KMResult:
    return (
        KaplanMeier(ci_type=ci_type)
        .fit(
            counts["AVAL"].to_numpy(float),
            counts["EVENT"].to_numpy(int),
            counts["N"].to_numpy(float),
        )
        .result(endpoint=code, label=label, landmarks=landmarks, provenance=prov)
    )


def summarize(
    store: Store,
    filters: FilterState | None = None,
    *,
    endpoints: Sequence[str] | None = None,
    landmarks: Sequence[float] = (183,),
    ci_type: CIType = "log-log",
    by: str | None = None,
    reference: str | None = None,
    bayes_endpoint: str | None = "AFS",
    goal: float = 0.54,
    threshold: float = 0.977,
    prior: tuple[float, float] = (1.0, 1.0),
    impute: bool = True,
    imputation: Imputation = "pwe",
    n_imputations: int = DEFAULT_IMPUTATIONS,
    seed: int = DEFAULT_SEED,
    with_quality: bool = True,
    compare: Sequence[str] | None = None,
) -> Summary:
    """`compare` limits the group comparison to those endpoints (default: all)."""
    filters = filters or FilterState()
    prov = store.provenance(filters)
    available = store.endpoints()
    # what the summary as a whole is; each result carries its own method too
    summary_method = (
        f"Kaplan-Meier per endpoint from patient counts per (time, event) aggregated in "
        f"DuckDB; Greenwood variance; {CI_LABELS[ci_type]}; landmarks at day(s) "
        f"{', '.join(f'{d:g}' for d in landmarks)}"
    )
    if by is not None:
        summary_method += (
            f"; groups of {by}: log-rank test and Cox proportional hazards "
            "(Efron ties, Wald CI and p) against the reference level"
        )
    if bayes_endpoint is not None:
        summary_method += f"; Bayesian endpoint {bayes_endpoint} (its method under bayes)"
    codes = list(endpoints) if endpoints else available
    unknown = [c for c in codes if c not in available]
    if unknown:
        raise ValueError(
            f"endpoint(s) {', '.join(unknown)} not in the data; available: {', '.join(available)}"
        )
    if bayes_endpoint is not None and bayes_endpoint not in available:
        raise ValueError(
            f"Bayesian endpoint {bayes_endpoint} not in the data; available: {', '.join(available)}"
        )
    labels = store.endpoint_labels()
    n = store.count(filters)
    results: dict[str, KMResult] = {}
    per_group: dict[str, dict[str, KMResult]] = {}
    comparison: dict[str, GroupComparison] = {}
    group_n: dict[str, int] = {}
    if by is not None:
        group_n = store.group_sizes(filters, by)
    wanted = list(dict.fromkeys([*codes, *([bayes_endpoint] if bayes_endpoint else [])]))
    scanned = store.tte_counts_many(filters, wanted, by=by)
    by_code = {str(k): part.drop(columns="PARAMCD") for k, part in scanned.groupby("PARAMCD")}
    for code in codes:
        counts = by_code.get(code, pd.DataFrame())
        if counts.empty:
            continue
        agg = counts.groupby(["AVAL", "EVENT"], as_index=False)["N"].sum() if by else counts
        results[code] = _km(agg, code, labels.get(code, code), ci_type, landmarks, prov)
        if by is None:
            continue
        counts = counts.dropna(subset=["GRP"])
        for level, part in counts.groupby("GRP", sort=True):
            per_group.setdefault(str(level), {})[code] = _km(
                part,
                code,
                labels.get(code, code),
                ci_type,
                landmarks,
                store.provenance(filters.merged(FilterState.parse([f"{by}={level}"]))),
            )
        if counts["GRP"].nunique() >= 2 and (compare is None or code in compare):
            comparison[code] = compare_groups(counts, by, reference)
    bayes = None
    if bayes_endpoint is not None:
        counts = by_code.get(bayes_endpoint, pd.DataFrame())
        if by is not None and not counts.empty:
            counts = counts.groupby(["AVAL", "EVENT"], as_index=False)["N"].sum()
        if not counts.empty:
            bayes = (
                BayesianEndpoint(
                    day=landmarks[0] if landmarks else 183,
                    goal=goal,
                    threshold=threshold,
                    prior=prior,
                    impute=impute,
                    imputation=imputation,
                    n_imputations=n_imputations,
                    seed=seed,
                )
                .fit(
                    counts["AVAL"].to_numpy(float),
                    counts["EVENT"].to_numpy(int),
                    counts["N"].to_numpy(float),
                    endpoint=bayes_endpoint,
                    provenance=prov,
                )
                .result_
            )
    groups = {lv: GroupSummary(lv, group_n.get(lv, 0), eps) for lv, eps in per_group.items()}
    return Summary(
        n=n,
        n_total=store.count(),
        filters=filters,
        landmarks=tuple(float(x) for x in landmarks),
        ci_type=ci_type,
        endpoints=results,
        groups=groups,
        comparison=comparison,
        bayes=bayes,
        quality=store.quality() if with_quality else None,
        provenance=prov.with_method(summary_method),
        by=by,
    )


def compare_groups(counts: pd.DataFrame, by: str, reference: str | None) -> GroupComparison:
    """Log-rank test and Cox hazard ratios (Efron ties) of the groups in `counts`."""
    from analytics.estimators.compare import CoxPH, LogRankTest

    levels = sorted(str(v) for v in counts["GRP"].unique())
    ref = reference if reference is not None else levels[0]
    if ref not in levels:
        raise ValueError(
            f"reference level {ref!r} not among the levels of {by}: {', '.join(levels)}"
        )
    t = counts["AVAL"].to_numpy(float)
    e = counts["EVENT"].to_numpy(int)
    g = counts["GRP"].astype(str).to_numpy()
    w = counts["N"].to_numpy(float)
    lr = LogRankTest().fit(t, e, g, weights=w).result()
    hrs: dict[str, tuple[float, float, float, float]] = {}
    missing: dict[str, str] = {}
    method = f"log-rank test; Cox proportional hazards, Efron ties, reference {by}={ref}"
    cox = CoxPH(ties="efron", reference=ref).fit(t, e, g, weights=w).result()
    for hr in cox.hazard_ratios:
        if (
            hr.note is None
            and hr.hazard_ratio is not None
            and hr.lower is not None
            and hr.upper is not None
            and hr.p_value is not None
        ):
            hrs[hr.level] = (hr.hazard_ratio, hr.lower, hr.upper, hr.p_value)
        else:
            missing[hr.level] = hr.note or "hazard ratio not estimable"
    if missing:
        method += f"; {len(missing)} level(s) not estimable (each with its reason)"
        if hrs:
            method += (
                ", the other hazard ratios from the fit without their patients "
                "(the limit of the partial likelihood)"
            )
    return GroupComparison(by, ref, lr.chisq, lr.df, lr.p_value, hrs, method, missing)


def _hazard_ratio_json(c: GroupComparison) -> dict[str, object]:
    """One entry per compared level: the estimate, CI and p, or all null with a note
    saying why the level's hazard ratio is not estimable."""
    levels: dict[str, dict[str, object]] = {}
    for lv in c.levels():
        if lv in c.hazard_ratios:
            h = c.hazard_ratios[lv]
            levels[lv] = {
                "estimate": _num(h[0]),
                "lower": _num(h[1]),
                "upper": _num(h[2]),
                "p": _num(h[3]),
            }
        else:
            levels[lv] = {
                "estimate": None,
                "lower": None,
                "upper": None,
                "p": None,
                "note": c.not_estimable[lv],
            }
    return {"reference": c.reference, "levels": levels}


def _num(x: float | None) -> float | None:
    if x is None:
        return None
    x = float(x)
    return None if math.isnan(x) or math.isinf(x) else x


def km_json(km: KMResult) -> dict[str, object]:
    med = km.median
    return {
        "label": km.label,
        "n": int(km.n),
        "events": int(km.events),
        "ci_type": km.ci_type,
        "median": {
            "estimate": _num(med.estimate),
            "lower": _num(med.lower),
            "upper": _num(med.upper),
        },
        "landmarks": [
            {
                "day": lm.day,
                "estimate": _num(lm.estimate),
                "lower": _num(lm.lower),
                "upper": _num(lm.upper),
                "at_risk": int(lm.at_risk),
            }
            for lm in km.landmarks
        ],
    }


def summary_json(s: Summary) -> dict[str, object]:
    """The documented JSON document: every key is present; a number or section that does
    not exist (no comparison with one group, no Bayesian endpoint) is null."""
    notes = [] if s.n else ["no patient matches the filters"]
    out: dict[str, object] = {
        "cohort": {
            "n": s.n,
            "n_total": s.n_total,
            "filters": s.filters.to_strings(),
            "notes": notes,
        },
        "endpoints": {code: km_json(km) for code, km in s.endpoints.items()},
    }
    if s.by is not None:
        out["groups"] = {
            lv: {"n": g.n, "endpoints": {c: km_json(k) for c, k in g.endpoints.items()}}
            for lv, g in s.groups.items()
        }
        comparison = {
            code: {
                "by": c.by,
                "logrank_chisq": _num(c.logrank_chisq),
                "logrank_df": c.logrank_df,
                "logrank_p": _num(c.logrank_p),
                "hazard_ratio": _hazard_ratio_json(c),
                "method": c.method,
            }
            for code, c in s.comparison.items()
        }
        out["comparison"] = comparison
        # the first endpoint's comparison also sits at the top level, as documented;
        # null when there is none (fewer than two groups with patients)
        first = next(iter(s.comparison.values()), None)
        out["logrank_p"] = None if first is None else _num(first.logrank_p)
        out["hazard_ratio"] = None if first is None else _hazard_ratio_json(first)
    out["bayes"] = None if s.bayes is None else bayes_json(s.bayes)
    if s.quality is not None:
        out["data_quality"] = s.quality.as_dict()
    out["provenance"] = s.provenance.as_dict()
    return out


def _posterior_json(b: BayesResult) -> dict[str, object]:
    return {
        "posterior_mean": b.posterior_mean,
        "credible_interval": list(b.credible_interval),
        "probability_above_goal": b.probability_above_goal,
        "success": b.success,
        "verdict_note": b.verdict_note,
    }


def bayes_json(b: BayesResult) -> dict[str, object]:
    """The Bayesian endpoint as the documented JSON: `success` is null when no verdict
    can be given, and `verdict_note` says why; `complete_case` is always an object."""
    return {
        "endpoint": b.endpoint,
        "day": b.day,
        "goal": b.goal,
        "threshold": b.threshold,
        "prior": list(b.prior),
        "successes": b.successes,
        "failures": b.failures,
        "missing": b.missing,
        **_posterior_json(b),
        "imputation": b.imputation,
        "imputation_label": b.imputation_label,
        "imputations": b.imputations,
        "seed": b.seed,
        "monte_carlo_error": b.monte_carlo_error,
        "approximation_error": b.approximation_error,
        "method": b.provenance.method,
        "notes": list(b.notes),
        "complete_case": _posterior_json(b.as_complete_case),
    }
