"""Published results of deep vein arterialization set beside the filtered cohort.

The studies and reference rates come from the project's evidence file
(:mod:`analytics.analyses.evidence_file`). Here they are arranged for the evidence
page: one :class:`Panel` per endpoint and time point (:func:`panels`), the figures
the panels leave out (:func:`not_drawn`), the published source of a performance goal
(:func:`goal_sources`) and the table of every figure (:func:`evidence_frame`). The
cohort's side (:func:`cohort_points`) takes the Kaplan-Meier results the pages already
get, so the cohort point is the very estimate the survival pages show.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from analytics.analyses.evidence_file import Evidence, Outcome, Study, month_day
from analytics.analyses.views import SurvivalView
from analytics.estimators.km import CIType, KMResult
from analytics.model.schema import ENDPOINTS

# The endpoints set beside the cohort: those of the amputation-free survival page.
SHOWN_ENDPOINTS: tuple[str, ...] = ("AFS", "LS", "OS")
# Time points always given a panel, whether or not a source reports them.
PANEL_MONTHS: tuple[float, ...] = (6.0, 12.0)


@dataclass(frozen=True)
class Panel:
    """One endpoint at one time point: a section of the evidence figure."""

    endpoint: str
    months: float

    @property
    def day(self) -> float:
        return month_day(self.months)

    def points(self, evidence: Evidence) -> list[tuple[Study, Outcome]]:
        """The published figures of this endpoint at this month, in file order."""
        return [
            (s, o)
            for s in evidence.entries
            for o in s.outcomes
            if o.endpoint == self.endpoint and o.months == self.months
        ]


@dataclass(frozen=True)
class CohortPoint:
    """The cohort's Kaplan-Meier estimate at a panel's day; estimate None with the
    reason when there is none (nobody followed that long, no record of the endpoint)."""

    endpoint: str
    months: float
    day: float
    estimate: float | None = None
    lower: float | None = None
    upper: float | None = None
    at_risk: float = 0.0
    n: float = 0.0  # patients with a record of the endpoint
    ci_type: CIType | None = None
    group: str | None = None  # a level of the compare-by column; None: everyone in view
    reason: str | None = None


# --- what is set beside the cohort ----------------------------------------------------


def panels(
    evidence: Evidence,
    endpoints: Sequence[str] = SHOWN_ENDPOINTS,
    months: Sequence[float] = PANEL_MONTHS,
) -> list[Panel]:
    """One panel per endpoint and time point: `months` always, and every other month
    the file reports for that endpoint; endpoints in the order given, months rising."""
    out: list[Panel] = []
    for code in endpoints:
        reported = {
            o.months
            for s in evidence.entries
            for o in s.outcomes
            if o.endpoint == code and o.months is not None
        }
        out.extend(Panel(code, m) for m in sorted(reported | {float(m) for m in months}))
    return out


def not_drawn(
    evidence: Evidence, endpoints: Sequence[str] = SHOWN_ENDPOINTS
) -> list[tuple[Study, Outcome]]:
    """Published figures the panels leave out: other endpoints, or no time point."""
    return [
        (s, o)
        for s in evidence.entries
        for o in s.outcomes
        if o.endpoint not in endpoints or o.months is None
    ]


def goal_sources(
    evidence: Evidence, goal: float, months: float, endpoint: str = "AFS"
) -> list[Study]:
    """Reference entries that report `goal` itself for `endpoint` at `months`: the
    published source of a performance goal, when the goal in use is that one."""
    return [
        s
        for s in evidence.reference_rates
        for o in s.outcomes
        if o.endpoint == endpoint and o.months == months and math.isclose(o.value, goal)
    ]


def _point(km: KMResult, panel: Panel, group: str | None) -> CohortPoint:
    lm = km.landmark(panel.day)
    at = (panel.endpoint, panel.months, panel.day)
    if lm.at_risk <= 0:
        # past the last follow-up the curve is only carried forward: no estimate
        why = f"no patient followed to day {panel.day:g}"
        return CohortPoint(*at, n=km.n, ci_type=km.ci_type, group=group, reason=why)
    return CohortPoint(*at, lm.estimate, lm.lower, lm.upper, lm.at_risk, km.n, km.ci_type, group)


def cohort_points(
    views: Mapping[float, SurvivalView], wanted: Sequence[Panel]
) -> tuple[CohortPoint, ...]:
    """The cohort's point on each panel, from survival views computed with a landmark
    at that panel's day (`views[day]`), and one per group when the views are split."""
    out: list[CohortPoint] = []
    for panel in wanted:
        view = views.get(panel.day)
        km = None if view is None else view.endpoints.get(panel.endpoint)
        if km is None:
            reason = "no record of this endpoint among the patients in view"
            out.append(CohortPoint(panel.endpoint, panel.months, panel.day, reason=reason))
            continue
        out.append(_point(km, panel, None))
        assert view is not None
        for level, result in view.groups.get(panel.endpoint, {}).items():
            out.append(_point(result, panel, level))
    return tuple(out)


# --- the table ------------------------------------------------------------------------


def evidence_frame(evidence: Evidence, labels: Mapping[str, str] = ENDPOINTS) -> pd.DataFrame:
    """One row per published figure of every study and reference rate, in file order;
    `labels` names the endpoints (codes not in it are shown as they are)."""
    rows = [
        {
            "Study": s.id,
            "Kind": s.kind,
            "Design": s.design,
            "Year": s.year,
            "n": s.n,
            "Endpoint": labels.get(o.endpoint, o.endpoint),
            "Months": o.months,
            "Estimate": o.value,
            "95% CI lower": o.ci[0] if o.ci else None,
            "95% CI upper": o.ci[1] if o.ci else None,
            "Method": o.method or "",
            "Subset": o.subset or "",
            "Source": s.source,
        }
        for s in evidence.entries
        for o in s.outcomes
    ]
    # whole numbers with gaps stay whole (pandas would make them floats)
    whole = {"Year": "Int64", "n": "Int64"}
    return pd.DataFrame(rows).astype(
        {**whole, **{c: "Float64" for c in ("Months", "Estimate", "95% CI lower", "95% CI upper")}}
    )
