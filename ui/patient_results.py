"""Cached patient-level results for the Subgroups, Wounds and Patients pages: each
computed once per view from aggregates or from the few rows it reads (never the whole
cohort), keyed as every result of `ui.data` is (database file and `View.results_key`),
so going back to a view costs a cache lookup on a registry as on the demo.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import streamlit as st

from analytics.analyses.procedure import ProcedureSummary, procedure_view
from analytics.analyses.safety import Deaths, MinorAmputations, SafetySummary, safety_view
from analytics.analyses.subgroup_counts import subgroup_view
from analytics.analyses.subgroups import SubgroupResult
from analytics.analyses.tables import ColumnCounts, SummaryTable, table1_view, table2_view
from analytics.analyses.visits import (
    RutherfordAtVisit,
    WoundCourse,
    nearest_visit,
    rutherford_at,
    visit_cohort,
    visit_names,
    wound_course,
)
from analytics.model.view import View
from analytics.store import Store
from ui.data import ENTRIES, TTL, ResultKey, src

# --- patient-level results: subgroups, wounds, patients and procedure ------------------
#
# Subgroups, Table 1, Table 2, the procedure summary and the safety tables come from
# aggregates (`analytics.analyses.subgroup_counts`, `analytics.analyses.tables`, `.procedure`
# and `.safety`: the same numbers as from `Store.cohort`, tested so); the wound results from
# the visit rows of the patients in view, the only rows they read.

EVENT_TABLES = ("visits", "adae")


@st.cache_data(max_entries=ENTRIES, ttl=TTL, show_spinner=False)
def _has_rows(_store: Store, src: str, table: str) -> bool:
    if table not in EVENT_TABLES:
        raise KeyError(f"unknown event table {table!r}")
    return _store.has_rows(table)


def has_rows(store: Store, table: str) -> bool:
    """Whether the data hold any row of `table` ("visits" or "adae"); a registry extract
    may have neither, which a page can say at once without reading patients."""
    return _has_rows(store, src(store), table)


@st.cache_data(max_entries=ENTRIES, ttl=TTL, show_spinner="Computing the subgroups…")
def _subgroups(
    _store: Store, src: str, key: ResultKey, _view: View, endpoint: str, variables: tuple[str, ...]
) -> SubgroupResult | None:
    v = _view
    return subgroup_view(
        _store, v.filters, endpoint, list(variables), landmark=v.landmark, ci_type=v.ci_type
    )


def subgroups(
    store: Store, view: View, endpoint: str, variables: Sequence[str]
) -> SubgroupResult | None:
    """The forest-plot table of `endpoint` over `variables` (subject columns) for the
    patients in view; None when they have no record of the endpoint."""
    return _subgroups(store, src(store), view.results_key, view, endpoint, tuple(variables))


@dataclass(frozen=True)
class Wounds:
    """Wound results of the patients passing one filter state."""

    course: WoundCourse
    visits: tuple[str, ...]  # every visit in time order (`analytics.analyses.visits.visit_names`)
    nearest: str  # the visit scheduled nearest the landmark


@st.cache_data(max_entries=ENTRIES, ttl=TTL, show_spinner="Computing the wound results…")
def _wounds(_store: Store, src: str, key: ResultKey, _view: View) -> Wounds:
    cohort = visit_cohort(_store, _view.filters)
    return Wounds(
        course=wound_course(cohort),
        visits=tuple(visit_names(cohort)),
        nearest=nearest_visit(cohort, _view.landmark),
    )


def wounds(store: Store, view: View) -> Wounds:
    return _wounds(store, src(store), view.results_key, view)


@st.cache_data(max_entries=ENTRIES, ttl=TTL, show_spinner="Computing…")
def _rutherford(
    _store: Store, src: str, key: ResultKey, _view: View, visit: str
) -> RutherfordAtVisit:
    return rutherford_at(visit_cohort(_store, _view.filters), visit)


def rutherford(store: Store, view: View, visit: str) -> RutherfordAtVisit:
    """Rutherford class at `visit` and its change from baseline."""
    return _rutherford(store, src(store), view.results_key, view, visit)


@dataclass(frozen=True)
class PatientTables:
    table1: SummaryTable
    table2: SummaryTable
    procedure: ProcedureSummary | None  # when asked for


@st.cache_data(max_entries=ENTRIES, ttl=TTL, show_spinner="Describing the patients…")
def _patient_tables(
    _store: Store, src: str, key: ResultKey, _view: View, day: float, procedure: bool
) -> PatientTables:
    filters = _view.filters
    counts = ColumnCounts(_store, filters)
    t2 = table2_view(_store, filters, reintervention_day=day, counts=counts)
    return PatientTables(
        table1=table1_view(_store, filters, counts),
        table2=t2,
        procedure=procedure_view(_store, filters, reintervention_day=day, table2=t2)
        if procedure
        else None,
    )


def patient_tables(
    store: Store, view: View, day: float, *, procedure: bool = False
) -> PatientTables:
    """Table 1, Table 2 (reinterventions by `day`) and, if asked, the procedure summary."""
    return _patient_tables(store, src(store), view.results_key, view, float(day), bool(procedure))


@dataclass(frozen=True)
class Safety:
    adverse_events: SafetySummary
    minor_amputations: MinorAmputations
    deaths: Deaths


@st.cache_data(max_entries=ENTRIES, ttl=TTL, show_spinner="Counting adverse events…")
def _safety(_store: Store, src: str, key: ResultKey, _view: View, day: float | None) -> Safety:
    return Safety(*safety_view(_store, _view.filters, day))


def safety(store: Store, view: View, day: float | None) -> Safety:
    """Adverse events and minor amputations with onset by `day` (None: the whole
    follow-up), and deaths by cause."""
    return _safety(store, src(store), view.results_key, view, None if day is None else float(day))
