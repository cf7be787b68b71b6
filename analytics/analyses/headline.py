"""The headline numbers for the first page: cohort size, 6-month AFS, limb
salvage and survival, and the Bayesian verdict on the primary endpoint."""

from __future__ import annotations

from dataclasses import dataclass

from analytics.analyses.survival import kaplan_meier, times_events
from analytics.estimators.bayes import BayesianEndpoint, BayesResult
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


def headline(
    cohort: Cohort,
    day: float = 183,
    goal: float = 0.54,
    threshold: float = 0.977,
    ci_type: CIType = "log-log",
) -> Headline:
    estimates = []
    available = set(cohort.adtte["PARAMCD"].unique()) if cohort.n else set()
    for code in HEADLINE_ENDPOINTS:
        if code not in available:
            continue
        km = kaplan_meier(cohort, code, ci_type=ci_type, landmarks=(day,))
        estimates.append(HeadlineEstimate(code, km.label, km.n, km.events, km.landmarks[0]))
    bayes = None
    if "AFS" in available:
        t, e = times_events(cohort, "AFS")
        bayes = (
            BayesianEndpoint(day=day, goal=goal, threshold=threshold)
            .fit(t, e, endpoint="AFS", provenance=cohort.provenance)
            .result_
        )
    return Headline(
        n=cohort.n,
        n_total=cohort.n_total,
        day=day,
        ci_type=ci_type,
        estimates=tuple(estimates),
        bayes=bayes,
        provenance=cohort.provenance,
    )
