"""The headline numbers for the first page: cohort size, 6-month AFS, limb
salvage and survival, and the Bayesian verdict on the primary endpoint."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.analyses.survival import endpoint_label, fit_km, patient_counts
from analytics.estimators.bayes import (
    BayesianEndpoint,
    BayesResult,
)
from analytics.estimators.km import CIType, Landmark
from analytics.model.provenance import Provenance
from analytics.store import Cohort

HEADLINE_ENDPOINTS = ("AFS", "LS", "OS")


@dataclass(frozen=True)
class HeadlineEstimate:
    paramcd: str
    label: str
    n: float
    events: float
    landmark: Landmark


@dataclass(frozen=True)
class Headline:
    n: int
    n_total: int
    day: float
    ci_type: CIType
    estimates: tuple[HeadlineEstimate, ...]
    bayes: BayesResult | None
    provenance: Provenance

    def estimate(self, paramcd: str) -> HeadlineEstimate:
        for est in self.estimates:
            if est.paramcd == paramcd:
                return est
        raise KeyError(paramcd)


def bayes_endpoint(
    counts: pd.DataFrame, endpoint: str, provenance: Provenance, model: BayesianEndpoint
) -> BayesResult:
    """The Bayesian endpoint (``analytics.estimators.bayes``) from (AVAL, EVENT, N) counts,
    with the settings of `model` (a new, unfitted estimator: fitting sets its results)."""
    return model.fit(
        counts["AVAL"].to_numpy(float),
        counts["EVENT"].to_numpy(int),
        counts["N"].to_numpy(float),
        endpoint=endpoint,
        provenance=provenance,
    ).result_


def headline_estimates(
    counts: Mapping[str, pd.DataFrame],
    labels: Mapping[str, str],
    day: float,
    ci_type: CIType,
    provenance: Provenance,
) -> tuple[HeadlineEstimate, ...]:
    """Kaplan-Meier at `day` of each headline endpoint that has counts."""
    estimates = []
    for code in HEADLINE_ENDPOINTS:
        rows = counts.get(code)
        if rows is None or rows.empty:
            continue
        label = labels.get(code, code)
        km = fit_km(rows, code, label, ci_type, (day,), np.array([0.0]), provenance)
        estimates.append(HeadlineEstimate(code, km.label, km.n, km.events, km.landmarks[0]))
    return tuple(estimates)


def headline(
    cohort: Cohort,
    day: float = 183,
    goal: float = 0.54,
    threshold: float = 0.977,
    ci_type: CIType = "log-log",
) -> Headline:
    """The headline of a cohort's own rows (each a count of 1): the numbers
    ``analytics.analyses.views.headline_view`` gives from the store."""
    available = set(cohort.adtte["PARAMCD"].unique()) if cohort.n else set()
    codes = [c for c in HEADLINE_ENDPOINTS if c in available]
    counts = {code: patient_counts(cohort, code) for code in codes}
    labels = {code: endpoint_label(code, cohort) for code in codes}
    prov = cohort.provenance
    bayes = None
    if "AFS" in available:
        afs = patient_counts(cohort, "AFS")
        model = BayesianEndpoint(day=day, goal=goal, threshold=threshold)
        bayes = bayes_endpoint(afs, "AFS", prov, model)
    return Headline(
        n=cohort.n,
        n_total=cohort.n_total,
        day=day,
        ci_type=ci_type,
        estimates=headline_estimates(counts, labels, day, ci_type, prov),
        bayes=bayes,
        provenance=prov,
    )
