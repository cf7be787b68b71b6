"""Cached calls into `analytics`: the one place the UI asks for numbers.

Every result is keyed on the data and the view: the database file (its name is the
data fingerprint, the loader version and the location) and `View.results_key` (the
filters, landmark, CI type and goal), plus whatever a page sets beside the view (an
endpoint, a visit). The unhashed `_view` argument is the same value the key was
made from. Results are small frozen objects, so Streamlit's copy on every cache hit
costs little; the patient-level cohort is only loaded by pages that need patient rows.

The patient-level results (subgroups, wounds, patients and procedure) are in
`ui.patient_results`, the Sites and NICE audit pages' in `ui.sites` and `ui.audit`,
keyed the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import streamlit as st

from analytics.analyses import views
from analytics.analyses.headline import Headline
from analytics.analyses.outcomes import Reinterventions
from analytics.estimators.bayes import BayesianEndpoint, BayesResult, Imputation
from analytics.estimators.competing import CompetingRisksResult
from analytics.model.filters import Clause, FilterState
from analytics.model.schema import in_schema_order
from analytics.model.view import View
from analytics.store import Cohort, Store

TTL = 3600  # seconds
ENTRIES = 128
# Compare-by offers subject columns with this many levels at most (and at least 2).
MAX_COMPARE_LEVELS = 12
NOT_COMPARABLE = frozenset({"USUBJID", "STUDYID"})

FilterKey = tuple[tuple[str, str, tuple[str, ...]], ...]
ResultKey = tuple[Any, ...]


def fkey(filters: FilterState) -> FilterKey:
    """The clauses as plain tuples: exact even where a value holds a comma."""
    return tuple((c.column, c.op, c.values) for c in filters.clauses)


def filters_of(key: FilterKey) -> FilterState:
    """The filter state back from its cache-key form (`fkey`)."""
    return FilterState(tuple(Clause(col, op, vals) for col, op, vals in key))  # type: ignore[arg-type]


def src(store: Store) -> str:
    """The data's part of every cache key: the database file."""
    return str(store.path)


def figure_key(store: Store, view: View) -> tuple[Any, ...]:
    """What a page's figures depend on: the data and the whole view (display settings
    included)."""
    return (src(store), view.key)


# --- the data's shape ------------------------------------------------------------------


@st.cache_data(max_entries=ENTRIES, ttl=TTL, show_spinner=False)
def _populated(_store: Store, src: str) -> frozenset[str]:
    return views.populated_columns(_store)


def populated(store: Store) -> frozenset[str]:
    return _populated(store, src(store))


@st.cache_data(max_entries=ENTRIES, ttl=TTL, show_spinner=False)
def _levels(_store: Store, src: str, column: str) -> list[str]:
    return in_schema_order(column, [str(v) for v in _store.levels(column)])


def levels(store: Store, column: str) -> list[str]:
    return _levels(store, src(store), column)


@st.cache_data(max_entries=ENTRIES, ttl=TTL, show_spinner=False)
def _value_range(_store: Store, src: str, column: str) -> tuple[Any, Any] | None:
    if column not in views.populated_columns(_store):
        return None
    return _store.value_range(column)


def value_range(store: Store, column: str) -> tuple[Any, Any] | None:
    """(min, max) of a populated numeric or date subject column, else None."""
    if column not in store.subject_columns():
        return None
    return _value_range(store, src(store), column)


@st.cache_data(max_entries=ENTRIES, ttl=TTL, show_spinner=False)
def _compare_columns(_store: Store, src: str) -> list[str]:
    types = _store.subject_columns()
    have = views.populated_columns(_store)
    cols = [
        c
        for c in types
        if c in have and c not in NOT_COMPARABLE and types[c].upper() in ("VARCHAR", "INTEGER")
    ]
    if not cols:
        return []
    distinct = _store.distinct_counts(cols)
    return [c for c in cols if 2 <= distinct[c] <= MAX_COMPARE_LEVELS]


def compare_columns(store: Store) -> list[str]:
    """Subject columns worth comparing groups by: recorded, 2 to 12 levels."""
    return _compare_columns(store, src(store))


# --- counts and cohorts ----------------------------------------------------------------


@st.cache_data(max_entries=ENTRIES, ttl=TTL, show_spinner=False)
def _count(_store: Store, src: str, key: FilterKey) -> int:
    return _store.count(filters_of(key))


def count(store: Store, filters: FilterState) -> int:
    return _count(store, src(store), fkey(filters))


# Few entries: on a large registry one cohort is hundreds of MB.
@st.cache_data(max_entries=8, ttl=TTL, show_spinner="Loading the patients…")
def _cohort(_store: Store, src: str, key: FilterKey) -> Cohort:
    return _store.cohort(filters_of(key))


def cohort(store: Store, filters: FilterState) -> Cohort:
    return _cohort(store, src(store), fkey(filters))


def groups(store: Store, filters: FilterState, by: str) -> dict[str, Cohort]:
    sizes = group_sizes(store, filters, by)
    return {
        lv: cohort(store, views.level_filter(filters, by, lv))
        for lv in levels(store, by)
        if sizes.get(lv, 0) > 0
    }


@st.cache_data(max_entries=ENTRIES, ttl=TTL, show_spinner=False)
def _group_sizes(_store: Store, src: str, key: FilterKey, by: str) -> dict[str, int]:
    return _store.group_sizes(filters_of(key), by)


def group_sizes(store: Store, filters: FilterState, by: str) -> dict[str, int]:
    return _group_sizes(store, src(store), fkey(filters), by)


# --- results ---------------------------------------------------------------------------


@st.cache_data(max_entries=ENTRIES, ttl=TTL, show_spinner="Computing…")
def _headline(_store: Store, src: str, key: ResultKey, _view: View) -> Headline:
    v = _view
    return views.headline_view(_store, v.filters, day=v.landmark, goal=v.goal, ci_type=v.ci_type)


def headline(store: Store, view: View) -> Headline:
    return _headline(store, src(store), view.results_key, view)


@st.cache_data(max_entries=ENTRIES, ttl=TTL, show_spinner="Computing…")
def _survival(
    _store: Store,
    src: str,
    key: ResultKey,
    _view: View,
    codes: tuple[str, ...],
    tick_months: float,
    by: str | None,
    reference: str | None,
) -> views.SurvivalView:
    return views.survival_view(
        _store,
        _view.filters,
        codes,
        landmarks=(_view.landmark,),
        ci_type=_view.ci_type,
        tick_months=tick_months,
        by=by,
        reference=reference,
    )


def survival(
    store: Store,
    view: View,
    codes: Sequence[str],
    by: str | None = None,
    reference: str | None = None,
) -> views.SurvivalView:
    return _survival(
        store,
        src(store),
        view.results_key,
        view,
        tuple(codes),
        float(view.tick_months),
        by,
        reference,
    )


@st.cache_data(max_entries=ENTRIES, ttl=TTL, show_spinner="Computing the posterior…")
def _bayes(
    _store: Store,
    src: str,
    key: ResultKey,
    _view: View,
    day: float,
    goal: float,
    threshold: float,
    prior: tuple[float, float],
    impute: bool,
    imputation: Imputation,
) -> BayesResult | None:
    model = BayesianEndpoint(
        day=day, goal=goal, threshold=threshold, prior=prior, impute=impute, imputation=imputation
    )
    return views.bayes_view(_store, _view.filters, model)


def bayes(
    store: Store,
    view: View,
    *,
    day: float,
    goal: float,
    threshold: float,
    prior: tuple[float, float],
    impute: bool,
    imputation: Imputation = "pwe",
) -> BayesResult | None:
    """The Bayesian endpoint of the patients in view, with the page's own settings
    (which may differ from the view's landmark and goal)."""
    return _bayes(
        store,
        src(store),
        view.results_key,
        view,
        float(day),
        float(goal),
        float(threshold),
        (float(prior[0]), float(prior[1])),
        bool(impute),
        imputation,
    )


@st.cache_data(max_entries=ENTRIES, ttl=TTL, show_spinner="Computing…")
def _competing(
    _store: Store, src: str, key: ResultKey, _view: View, paramcd: str
) -> CompetingRisksResult | None:
    v = _view
    return views.competing_view(
        _store, v.filters, paramcd, landmarks=(v.landmark,), ci_type=v.ci_type
    )


def competing(store: Store, view: View, paramcd: str) -> CompetingRisksResult | None:
    return _competing(store, src(store), view.results_key, view, paramcd)


@st.cache_data(max_entries=ENTRIES, ttl=TTL, show_spinner=False)
def _cohort_counts(_store: Store, src: str, key: ResultKey, _view: View) -> views.CohortCounts:
    return views.cohort_counts(_store, _view.filters, _view.landmark)


def cohort_counts(store: Store, view: View) -> views.CohortCounts:
    return _cohort_counts(store, src(store), view.results_key, view)


@st.cache_data(max_entries=ENTRIES, ttl=TTL, show_spinner=False)
def _reinterventions(
    _store: Store, src: str, key: ResultKey, _view: View, day: float
) -> Reinterventions | None:
    return views.reintervention_view(_store, _view.filters, day)


def reinterventions(store: Store, view: View, day: float) -> Reinterventions | None:
    """Reinterventions by `day` (the page's choice: the landmark, or the procedure
    summary's day)."""
    return _reinterventions(store, src(store), view.results_key, view, float(day))
