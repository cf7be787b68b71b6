"""What the dashboard's pages show, computed from DuckDB aggregates.

Each function takes the store and a filter state and returns a frozen result built
by the engine's own estimators (Kaplan-Meier, log-rank and Cox, Bayesian endpoint,
Aalen-Johansen, outcome counts). The survival numbers come from distinct
(time, event[, group]) rows with patient counts (``Store.tte_counts_many``), so a
page costs about the same for a hundred patients as for a million; frequency
weights give exactly the numbers the per-patient path gives (``analytics.estimators.km``).

Only the outcome counts that need per-patient rows (follow-up status,
reinterventions) read patient rows, and then only the columns they use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analytics.analyses.headline import HEADLINE_ENDPOINTS, Headline, HeadlineEstimate
from analytics.analyses.outcomes import Reinterventions, disposition, reinterventions
from analytics.estimators.bayes import BayesianEndpoint, BayesResult, Imputation
from analytics.estimators.competing import (
    COMPETING_CENSOR_CODES,
    CompetingRisksResult,
    cumulative_incidence,
)
from analytics.estimators.km import CIType, KaplanMeier, KMResult
from analytics.model.filters import Clause, FilterState, quote_ident
from analytics.model.provenance import Provenance
from analytics.model.schema import DAYS_PER_MONTH, ENDPOINTS
from analytics.report.summary import GroupComparison, compare_groups
from analytics.store import Cohort, Store


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
    cols = list(store.subject_columns())
    counts = ", ".join(f"count({quote_ident(c)}) AS {quote_ident(c)}" for c in cols)
    row = store.query(f"SELECT {counts} FROM adsl").iloc[0]
    return frozenset(c for c in cols if int(row[c]) > 0)


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


def _fit(
    counts: pd.DataFrame,
    code: str,
    label: str,
    ci_type: CIType,
    landmarks: Sequence[float],
    days: np.ndarray,
    prov: Provenance,
) -> KMResult:
    return (
        KaplanMeier(ci_type=ci_type)
        .fit(
            counts["AVAL"].to_numpy(float),
            counts["EVENT"].to_numpy(int),
            counts["N"].to_numpy(float),
        )
        .result(endpoint=code, label=label, landmarks=landmarks, risk_days=days, provenance=prov)
    )


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


def survival_view(
    store: Store,
    filters: FilterState,
    codes: Sequence[str],
    *,
    landmarks: Sequence[float] = (183,),
    ci_type: CIType = "log-log",
    tick_months: float = 3.0,
    by: str | None = None,
    reference: str | None = None,
) -> SurvivalView:
    """Endpoints in `codes` (those the data has), with the at-risk table at every tick
    of a figure `tick_months` apart, and when `by` is given the curves per level,
    the log-rank test and Cox hazard ratios against `reference` (default the first
    level)."""
    available = set(store.endpoints())
    wanted = [c for c in codes if c in available]
    labels = endpoint_labels(store)
    prov = store.provenance(filters)
    scanned = store.tte_counts_many(filters, wanted, by=by) if wanted else pd.DataFrame()
    end = float(scanned["AVAL"].max()) if len(scanned) else 0.0
    days = risk_days(end, tick_months)
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
        results[code] = _fit(agg, code, label, ci_type, landmarks, days, prov)
        if by is None:
            continue
        counts = counts.dropna(subset=["GRP"])
        per_level: dict[str, KMResult] = {}
        for level, part in counts.groupby("GRP", sort=True):
            lv = str(level)
            per_level[lv] = _fit(
                part,
                code,
                label,
                ci_type,
                landmarks,
                days,
                store.provenance(level_filter(filters, by, lv)),
            )
        groups[code] = per_level
        if len(per_level) < 2:
            notes[code] = "fewer than two groups have patients, so there is nothing to compare"
            continue
        ref = reference if reference in per_level else None
        try:
            comparison[code] = compare_groups(counts, by, ref)
        except (ValueError, np.linalg.LinAlgError, FloatingPointError) as exc:
            notes[code] = f"the groups could not be compared ({exc})"
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
    *,
    endpoint: str = "AFS",
    day: float = 183,
    goal: float = 0.54,
    threshold: float = 0.977,
    prior: tuple[float, float] = (1.0, 1.0),
    impute: bool = True,
    imputation: Imputation = "pwe",
) -> BayesResult | None:
    """The Bayesian endpoint (``analytics.estimators.bayes``) on the patients in view; None when
    they have no record of `endpoint`."""
    if endpoint not in store.endpoints():
        return None
    counts = store.tte_counts(filters, endpoint)
    if counts.empty:
        return None
    return (
        BayesianEndpoint(
            day=day,
            goal=goal,
            threshold=threshold,
            prior=prior,
            impute=impute,
            imputation=imputation,
        )
        .fit(
            counts["AVAL"].to_numpy(float),
            counts["EVENT"].to_numpy(int),
            counts["N"].to_numpy(float),
            endpoint=endpoint,
            provenance=store.provenance(filters),
        )
        .result_
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
    estimates = []
    for code in codes:
        counts = scanned[scanned["PARAMCD"] == code] if len(scanned) else scanned
        if counts.empty:
            continue
        km = _fit(counts, code, labels.get(code, code), ci_type, (day,), np.array([0.0]), prov)
        estimates.append(HeadlineEstimate(code, km.label, km.n, km.events, km.landmarks[0]))
    bayes = bayes_view(store, filters, day=day, goal=goal, threshold=threshold)
    return Headline(
        n=store.count(filters),
        n_total=store.count(),
        day=day,
        ci_type=ci_type,
        estimates=tuple(estimates),
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
) -> CompetingRisksResult | None:
    """``analytics.estimators.competing.endpoint_cumulative_incidence`` from aggregates: the
    endpoint's event (CNSR 0) against the competing censoring reasons; None when the
    patients in view have no such event."""
    where, params = store.subject_where(filters)
    rows = store.query(
        "SELECT AVAL, CNSR, count(*) AS N FROM adtte WHERE PARAMCD = ? AND USUBJID IN "
        f"(SELECT USUBJID FROM adsl WHERE {where}) GROUP BY ALL ORDER BY ALL",
        [paramcd, *params],
    )
    if rows.empty:
        return None
    cnsr = rows["CNSR"].to_numpy()
    code = np.where(cnsr == 0, 1, np.where(np.isin(cnsr, list(competing_codes)), 2, 0))
    if not np.any(code == 1):
        return None
    return cumulative_incidence(
        rows["AVAL"].to_numpy(float),
        code,
        cause=1,
        weights=rows["N"].to_numpy(float),
        landmarks=landmarks,
        endpoint=paramcd,
        provenance=store.provenance(filters),
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
    where, params = store.subject_where(filters)
    cols = list(dict.fromkeys(["USUBJID", *columns]))
    known = store.subject_columns()
    select = ", ".join(quote_ident(c) for c in cols if c in known)
    adsl = store.query(f"SELECT {select} FROM adsl WHERE {where} ORDER BY USUBJID", params)
    if endpoints:
        marks = ", ".join("?" for _ in endpoints)
        adtte = store.query(
            f"SELECT * FROM adtte WHERE PARAMCD IN ({marks}) AND USUBJID IN "
            f"(SELECT USUBJID FROM adsl WHERE {where}) ORDER BY USUBJID, PARAMCD",
            [*endpoints, *params],
        )
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
