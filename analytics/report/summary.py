"""The JSON document of ``python -m analytics summary``: Kaplan-Meier per endpoint (and
per group), the group comparison and the Bayesian endpoint for a filter state, computed
by the same analyses the dashboard's pages call (``analytics.analyses.views``), so
their numbers and notes cannot differ; this module only gathers and writes them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from analytics.analyses.survival import FEWER_THAN_TWO_GROUPS, GroupComparison
from analytics.analyses.views import bayes_view, survival_view, ungrouped_note
from analytics.estimators.bayes import BayesianEndpoint, BayesResult
from analytics.estimators.km import CI_LABELS, CIType, KMResult
from analytics.extract.report import QualityReport
from analytics.model.filters import FilterState
from analytics.model.provenance import Provenance
from analytics.model.schema import is_baseline
from analytics.model.view import IMMORTAL_TIME, View
from analytics.store import Store


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
    comparison_note: dict[str, str] = field(default_factory=dict)  # code -> why none
    view: View = field(default_factory=View)  # the dashboard view with these numbers
    n_ungrouped: int = 0  # patients without a recorded value of `by`
    by_label: str = ""  # `by` in clinical words


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
    bayes_model: BayesianEndpoint | None = None,
    with_quality: bool = True,
    compare: Sequence[str] | None = None,
) -> Summary:
    """`compare` limits the group comparison to those endpoints (default: all).
    `bayes_model` holds the Bayesian endpoint's settings (a new, unfitted estimator;
    default: the design's settings at the first landmark)."""
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
    if by is not None and reference is not None:
        levels = sorted(store.group_sizes(filters, by))
        if levels and reference not in levels:
            raise ValueError(
                f"reference level {reference!r} not among the levels of {by}: {', '.join(levels)}"
            )
    view = survival_view(
        store,
        filters,
        codes,
        landmarks=landmarks,
        ci_type=ci_type,
        tick_months=None,
        by=by,
        reference=reference,
        compare=compare,
    )
    per_group: dict[str, dict[str, KMResult]] = {}
    for code, levels_km in view.groups.items():
        for level, km in levels_km.items():
            per_group.setdefault(level, {})[code] = km
    bayes = None
    model = bayes_model or BayesianEndpoint(day=landmarks[0] if landmarks else 183)
    if bayes_endpoint is not None:
        bayes = bayes_view(store, filters, model, endpoint=bayes_endpoint)
    shown = View(
        filters=filters,
        compare=by,
        landmark=float(landmarks[0]) if landmarks else View().landmark,
        ci_type=ci_type,
        goal=model.goal,
        post_baseline=by is not None and not is_baseline(by),
    )
    return Summary(
        n=view.n,
        n_total=view.n_total,
        filters=filters,
        landmarks=tuple(float(x) for x in landmarks),
        ci_type=ci_type,
        endpoints=view.endpoints,
        groups={lv: GroupSummary(lv, view.group_n.get(lv, 0), e) for lv, e in per_group.items()},
        comparison=view.comparison,
        bayes=bayes,
        quality=store.quality() if with_quality else None,
        provenance=prov.with_method(summary_method),
        by=by,
        comparison_note=view.comparison_note,
        view=shown,
        n_ungrouped=view.n_ungrouped,
        by_label=store.labels.column(by) if by else "",
    )


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
    # a comparison that failed (an ill-conditioned Cox fit) is said in words, as on the
    # pages; fewer than two groups is the documented null comparison
    notes += [
        f"{code}: {note}"
        for code, note in s.comparison_note.items()
        if note != FEWER_THAN_TWO_GROUPS
    ]
    if s.by is not None and not is_baseline(s.by):
        notes.append(f"compared by {s.by_label}, {IMMORTAL_TIME}")
    left_out = ungrouped_note(s.n_ungrouped, s.by_label.lower())
    if left_out:
        notes.append(left_out)
    cohort: dict[str, object] = {
        "n": s.n,
        "n_total": s.n_total,
        "filters": s.filters.to_strings(),
        # the view in words, and the query of the dashboard URL that shows it
        "view": s.view.describe(),
        "view_query": s.view.url_query(),
        "notes": notes,
    }
    if s.by is not None:
        cohort["not_compared"] = s.n_ungrouped
    out: dict[str, object] = {
        "cohort": cohort,
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
