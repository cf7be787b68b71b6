"""What the dashboard's pages and the command line show, computed from DuckDB aggregates.

Each function takes the store and a filter state and returns a frozen result built by
the analyses of ``analytics.analyses.survival`` and ``analytics.analyses.headline``
(Kaplan-Meier, log-rank and Cox, Bayesian endpoint, Aalen-Johansen, outcome counts).
The survival numbers come from distinct (time, event[, group]) rows with patient
counts (``Store.tte_counts_many``), so a page costs about the same for a hundred
patients as for a million; frequency weights give exactly the numbers of the patient
rows they stand for (``analytics.estimators.km``). ``analytics.report.summary`` (the
command line) calls `survival_view` and `bayes_view` too, so its numbers and notes are
the pages'.

Only the outcome counts that need per-patient rows (follow-up status,
reinterventions) read patient rows, and then only the columns they use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analytics.analyses.headline import (
    HEADLINE_ENDPOINTS,
    Headline,
    bayes_endpoint,
    headline_estimates,
)
from analytics.analyses.outcomes import Reinterventions, disposition, reinterventions
from analytics.analyses.survival import (
    GroupComparison,
    compare_or_note,
    competing_incidence,
    fit_km,
)
from analytics.estimators.bayes import BayesianEndpoint, BayesResult
from analytics.estimators.competing import COMPETING_CENSOR_CODES, CompetingRisksResult
from analytics.estimators.km import CIType, KMResult
from analytics.model.filters import Clause, FilterState
from analytics.model.provenance import Provenance
from analytics.model.schema import DAYS_PER_MONTH, ENDPOINTS
from analytics.store import Cohort, Store, queries


def risk_days(end_day: float, tick_months: float) -> np.ndarray:
    """Days every `tick_months` months from 0 to `end_day`: the x ticks of a figure
    whose axis ends at `end_day` (``charts.survival.tick_days`` uses the same rule)."""
    if tick_months <= 0:
        raise ValueError("tick_months must be positive")
    step = tick_months * DAYS_PER_MONTH
    return np.arange(0.0, end_day + 1e-9 * max(1.0, end_day), step)


def populated_columns(store: Store) -> frozenset[str]:
    """Subject columns with at least one recorded value (an extract may lack some;
    the store keeps every schema column, empty)."""
    return queries.populated_subject_columns(store.cursor(), store.subject_columns())


def endpoint_labels(store: Store) -> dict[str, str]:
    """PARAM per PARAMCD; the schema's name when the extract has no PARAM text."""
    labels = store.endpoint_labels()
    return {
        code: (ENDPOINTS.get(code, code) if label in ("", code, "None") else label)
        for code, label in labels.items()
    }


def level_filter(filters: FilterState, column: str, level: str) -> FilterState:
    """`filters` plus column = level (built directly: a level may contain a comma)."""
    return filters.merged(FilterState((Clause(column, "in", (level,)),)))


@dataclass(frozen=True)
class SurvivalView:
    """Kaplan-Meier per endpoint for the patients in view, and per level of `by`."""

    filters: FilterState
    n: int
    n_total: int
    by: str | None
    endpoints: dict[str, KMResult]
    groups: dict[str, dict[str, KMResult]] = field(default_factory=dict)  # code -> level -> KM
    group_n: dict[str, int] = field(default_factory=dict)  # level -> patients in view
    comparison: dict[str, GroupComparison] = field(default_factory=dict)
    comparison_note: dict[str, str] = field(default_factory=dict)  # code -> why none
    provenance: Provenance = field(default_factory=Provenance)

    @property
    def n_ungrouped(self) -> int:
        """Patients in view without a recorded value of `by`: in no group, so in no
        curve, test or hazard ratio of the comparison (0 when nothing is compared)."""
        return self.n - sum(self.group_n.values()) if self.by is not None else 0


def ungrouped_note(n: int, by_label: str) -> str | None:
    """The sentence every page and the command line print for patients left out of a
    comparison for a missing value; None when there are none."""
    if n <= 0:
        return None
    who = "1 patient" if n == 1 else f"{n:,} patients"
    return f"{who} without a recorded {by_label} {'is' if n == 1 else 'are'} not in the comparison"


def survival_view(
    store: Store,
    filters: FilterState,
    codes: Sequence[str],
    *,
    landmarks: Sequence[float] = (183,),
    ci_type: CIType = "log-log",
    tick_months: float | None = 3.0,
    by: str | None = None,
    reference: str | None = None,
    compare: Sequence[str] | None = None,
) -> SurvivalView:
    """Endpoints in `codes` (those the data has), with the at-risk table at every tick
    of a figure `tick_months` apart (None: the estimator's own quarterly table), and
    when `by` is given the curves per level, the log-rank test and Cox hazard ratios
    against `reference` (default the first level) of the endpoints in `compare`
    (default all). The pages and the command line (``analytics.report.summary``) both
    call this."""
    available = set(store.endpoints())
    wanted = [c for c in codes if c in available]
    labels = endpoint_labels(store)
    prov = store.provenance(filters)
    scanned = store.tte_counts_many(filters, wanted, by=by) if wanted else pd.DataFrame()
    end = float(scanned["AVAL"].max()) if len(scanned) else 0.0
    days = None if tick_months is None else risk_days(end, tick_months)
    results: dict[str, KMResult] = {}
    groups: dict[str, dict[str, KMResult]] = {}
    comparison: dict[str, GroupComparison] = {}
    notes: dict[str, str] = {}
    by_code = (
        {str(k): part.drop(columns="PARAMCD") for k, part in scanned.groupby("PARAMCD")}
        if len(scanned)
        else {}
    )
    for code in wanted:
        counts = by_code.get(code)
        if counts is None or counts.empty:
            continue
        agg = counts.groupby(["AVAL", "EVENT"], as_index=False)["N"].sum() if by else counts
        label = labels.get(code, code)
        results[code] = fit_km(agg, code, label, ci_type, landmarks, days, prov)
        if by is None:
            continue
        groups[code] = {
            str(level): fit_km(
                part,
                code,
                label,
                ci_type,
                landmarks,
                days,
                store.provenance(level_filter(filters, by, str(level))),
            )
            for level, part in counts.dropna(subset=["GRP"]).groupby("GRP", sort=True)
        }
        if compare is not None and code not in compare:
            continue
        found, note = compare_or_note(counts, by, reference)
        if found is not None:
            comparison[code] = found
        if note is not None:
            notes[code] = note
    group_n = store.group_sizes(filters, by) if by is not None else {}
    return SurvivalView(
        filters=filters,
        n=store.count(filters),
        n_total=store.count(),
        by=by,
        endpoints=results,
        groups=groups,
        group_n=group_n,
        comparison=comparison,
        comparison_note=notes,
        provenance=prov,
    )


def bayes_view(
    store: Store,
    filters: FilterState,
    model: BayesianEndpoint | None = None,
    *,
    endpoint: str = "AFS",
) -> BayesResult | None:
    """The Bayesian endpoint (``analytics.estimators.bayes``) on the patients in view, with
    the settings of `model` (a new, unfitted estimator; default: the design's settings);
    None when they have no record of `endpoint`."""
    if endpoint not in store.endpoints():
        return None
    counts = store.tte_counts(filters, endpoint)
    if counts.empty:
        return None
    return bayes_endpoint(
        counts, endpoint, store.provenance(filters), model or BayesianEndpoint()
    )


def headline_view(
    store: Store,
    filters: FilterState,
    *,
    day: float = 183,
    goal: float = 0.54,
    threshold: float = 0.977,
    ci_type: CIType = "log-log",
) -> Headline:
    """``analytics.analyses.headline.headline`` from aggregates: the same numbers without
    loading the patients' rows."""
    available = set(store.endpoints())
    codes = [c for c in HEADLINE_ENDPOINTS if c in available]
    labels = endpoint_labels(store)
    prov = store.provenance(filters)
    scanned = store.tte_counts_many(filters, codes) if codes else pd.DataFrame()
    counts = {str(k): part for k, part in scanned.groupby("PARAMCD")} if len(scanned) else {}
    estimates = headline_estimates(counts, labels, day, ci_type, prov)
    model = BayesianEndpoint(day=day, goal=goal, threshold=threshold)
    bayes = bayes_view(store, filters, model)
    return Headline(
        n=store.count(filters),
        n_total=store.count(),
        day=day,
        ci_type=ci_type,
        estimates=estimates,
        bayes=bayes,
        provenance=prov,
    )


def competing_view(
    store: Store,
    filters: FilterState,
    paramcd: str = "LS",
    *,
    landmarks: Sequence[float] = (183,),
    competing_codes: Sequence[int] = COMPETING_CENSOR_CODES,
    ci_type: CIType = "log-log",
) -> CompetingRisksResult | None:
    """``analytics.analyses.survival.endpoint_cumulative_incidence`` from aggregates: the
    endpoint's event (CNSR 0) against the competing censoring reasons; None when the
    patients in view have no such event. The 1 - KM interval is of `ci_type`, the
    view's, as on the Kaplan-Meier curves and the NICE audit."""
    rows = queries.censoring_counts(store.cursor(), store.subject_where(filters), paramcd)
    if rows.empty:
        return None
    return competing_incidence(
        rows,
        paramcd,
        landmarks=landmarks,
        competing=competing_codes,
        provenance=store.provenance(filters),
        ci_type=ci_type,
    )


def subject_cohort(
    store: Store,
    filters: FilterState,
    columns: Sequence[str],
    endpoints: Sequence[str] = (),
) -> Cohort:
    """A `Cohort` holding only the subject `columns` (USUBJID always) and the ADTTE
    rows of `endpoints`: enough for the outcome counts that need patient rows, at a
    fraction of the cost of ``Store.cohort`` on a large registry."""
    subject = store.subject_where(filters)
    wanted = list(dict.fromkeys(["USUBJID", *columns]))
    adsl = queries.subject_rows(store.cursor(), subject, wanted, store.subject_columns())
    if endpoints:
        adtte = queries.endpoint_rows(store.cursor(), subject, endpoints)
    else:
        adtte = pd.DataFrame(columns=["USUBJID", "PARAMCD", "AVAL", "CNSR", "EVNTDESC"])
    return store.partial_cohort(filters, adsl, adtte)


@dataclass(frozen=True)
class CohortCounts:
    """Where the patients in view stand against the whole study."""

    day: float
    screened: int | None  # from the extract's manifest; None when not recorded
    enrolled: int  # every patient in the data
    in_view: int  # passing the filters
    treated: int | None  # technical success among those in view; None when not recorded
    followed: int | None  # followed to `day` or died before it; None when not recorded
    provenance: Provenance


def cohort_counts(store: Store, filters: FilterState, day: float = 183) -> CohortCounts:
    have = populated_columns(store)
    try:
        screened: int | None = int(str(store.manifest["n_screened"]))
    except (KeyError, ValueError):
        screened = None
    treated = None
    if "TECHSFL" in have:
        treated = store.count(filters.merged(FilterState((Clause("TECHSFL", "in", ("Y",)),))))
    followed = None
    if {"PROCDT", "LSTCNTDT"} <= have:
        cols = ["PROCDT", "LSTCNTDT", "EOSSTT"]
        followed = disposition(subject_cohort(store, filters, cols), day).complete
    return CohortCounts(
        day=day,
        screened=screened,
        enrolled=store.count(),
        in_view=store.count(filters),
        treated=treated,
        followed=followed,
        provenance=store.provenance(filters).with_method(
            "screened: the extract's manifest; treated: technical success (TECHSFL = Y); "
            f"followed: followed to day {day:g} or died before it (last contact date)"
        ),
    )


def reintervention_view(
    store: Store, filters: FilterState, day: float = 183
) -> Reinterventions | None:
    """``analytics.analyses.outcomes.reinterventions`` on the patients in view; None when the
    data has no reintervention records."""
    if "REINT" not in store.endpoints():
        return None
    light = subject_cohort(store, filters, ["TECHSFL"], endpoints=["REINT"])
    return reinterventions(light, day)
