"""The subgroup (forest plot) analysis of the patients in view, from DuckDB aggregates.

Every variable is one ``GROUP BY value, time, event`` over the analysis table
(``tte_wide``), and ``analytics.analyses.subgroups.SubgroupAnalysis.fit_counts`` fits
the estimators with those counts as frequency weights: Kaplan-Meier, the log-rank
test and the Cox model count patients with ``np.bincount``, so a weight of k is
exactly k identical rows. At a million patients this takes a fraction of the time of
loading their rows. The median that splits a numeric column with many values is taken
over the patients' values (each distinct value repeated by its count).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from analytics.analyses.subgroups import (
    DEFAULT_SUBGROUPS,
    DERIVED,
    SubgroupAnalysis,
    SubgroupResult,
    source_column,
    unknown_variables,
)
from analytics.model.filters import FilterState
from analytics.model.schema import ENDPOINTS
from analytics.store import Store, queries

__all__ = ["subgroup_counts", "subgroup_view"]


def subgroup_counts(
    store: Store, filters: FilterState, paramcd: str, variable: str
) -> pd.DataFrame:
    """Distinct (V = value of `variable`, AVAL, EVENT) rows with their patient counts N,
    among the patients passing `filters` who have a `paramcd` record. For a derived
    variable (``analytics.analyses.subgroups.DERIVED``) V is the level, worked out from its
    source column by the same function as on patient rows."""
    column = source_column(variable)
    if column not in store.subject_columns() or variable == "USUBJID":
        raise ValueError(f"unknown subject column(s): {variable}")
    rows = queries.value_event_counts(
        store.cursor(), store.subject_where(filters), paramcd, column, store.subject_columns()
    )
    if variable not in DERIVED:
        return rows
    rows["V"] = DERIVED[variable].level_of(rows["V"])
    return rows.groupby(["V", "AVAL", "EVENT"], dropna=False, sort=True, as_index=False)["N"].sum()


def subgroup_view(
    store: Store,
    filters: FilterState,
    paramcd: str,
    variables: Sequence[str] | None = None,
    **settings: object,
) -> SubgroupResult | None:
    """``SubgroupAnalysis(**settings).fit(store.cohort(filters), paramcd, variables)
    .result_`` from aggregates; None when the patients in view have no `paramcd`
    record (where the per-patient path raises)."""
    overall = store.tte_counts(filters, paramcd)
    if overall.empty:
        return None
    known = store.subject_columns()
    names = list(DEFAULT_SUBGROUPS if variables is None else variables)
    unknown = unknown_variables(names, known)
    if unknown:
        raise ValueError(f"unknown subject column(s): {', '.join(unknown)}")
    per_variable = {
        name: subgroup_counts(store, filters, paramcd, name)
        if source_column(name) in known
        else None
        for name in names
    }
    subject = store.subject_where(filters)
    label = queries.endpoint_name(store.cursor(), subject, paramcd)
    analysis = SubgroupAnalysis(**settings)  # type: ignore[arg-type]
    return analysis.fit_counts(
        paramcd,
        ENDPOINTS.get(paramcd, paramcd) if label is None else label,
        overall,
        per_variable,
        store.provenance(filters),
    ).result_
