"""The subgroup (forest plot) analysis from DuckDB aggregates, without patient rows.

``analytics.analyses.subgroups.SubgroupAnalysis`` reads one row per patient: at a million
patients, loading them and fitting takes seconds. Here every variable is one
``GROUP BY value, time, event`` over the analysis table (``tte_wide``), and the same
estimators are fitted with frequency weights: Kaplan-Meier, the log-rank test and
the Cox model count patients with ``np.bincount`` either way, so a weight of k is
exactly k identical rows and the results are the same numbers, not approximations
(``tests/test_subgroup_counts.py`` checks them against the per-patient path). The
median that splits a numeric column with many values is taken over the patients'
values (each distinct value repeated by its count), as the per-patient path does.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analytics.analyses.subgroups import (
    DEFAULT_SUBGROUPS,
    DERIVED,
    SubgroupAnalysis,
    SubgroupResult,
    SubgroupVariable,
    _fmt,
    _variable_label,
    absent_variable,
    source_column,
    unknown_variables,
)
from analytics.estimators.compare import CoxPH, LogRankTest
from analytics.model.filters import FilterState, quote_ident
from analytics.model.schema import ENDPOINTS
from analytics.store import Store

__all__ = ["WeightedSubgroupAnalysis", "subgroup_counts", "subgroup_view"]


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
    where, params = store.subject_where(filters)
    rows = store.query(
        f"SELECT {quote_ident(column)} AS V, AVAL, EVENT, count(*) AS N FROM tte_wide "
        f"WHERE PARAMCD = ? AND {where} GROUP BY ALL ORDER BY ALL",
        [paramcd, *params],
    )
    if variable not in DERIVED:
        return rows
    rows["V"] = DERIVED[variable].level_of(rows["V"])
    return rows.groupby(["V", "AVAL", "EVENT"], dropna=False, sort=True, as_index=False)["N"].sum()


class WeightedSubgroupAnalysis(SubgroupAnalysis):
    """`SubgroupAnalysis` on aggregated rows: the same settings, levels, reference rule,
    estimators and result, with each row standing for N patients."""

    def fit_store(
        self,
        store: Store,
        filters: FilterState,
        paramcd: str,
        variables: Sequence[str] | None = None,
        *,
        overall: pd.DataFrame | None = None,
    ) -> WeightedSubgroupAnalysis:
        """As `fit` on ``store.cohort(filters)``; `overall` is ``store.tte_counts(filters,
        paramcd)`` if the caller has it already."""
        known = store.subject_columns()
        names = list(DEFAULT_SUBGROUPS if variables is None else variables)
        unknown = unknown_variables(names, known)
        if unknown:
            raise ValueError(f"unknown subject column(s): {', '.join(unknown)}")
        if overall is None:
            overall = store.tte_counts(filters, paramcd)
        if overall.empty:
            raise ValueError(f"no {paramcd} records for the patients selected")
        w = overall["N"].to_numpy(dtype=np.float64)
        self.variables_ = tuple(
            self._weighted_variable(name, subgroup_counts(store, filters, paramcd, name))
            if source_column(name) in known
            else absent_variable(name, int(w.sum()), column_present=False)
            for name in names
        )
        e = _events(overall)
        self.result_ = SubgroupResult(
            endpoint=paramcd,
            label=_endpoint_label(store, filters, paramcd),
            landmark=self.landmark,
            ci_type=self.ci_type,
            alpha=self.alpha,
            ties=self.ties,
            min_n=self.min_n,
            min_events=self.min_events,
            n=int(w.sum()),
            events=int((w * e).sum()),
            variables=self.variables_,
            provenance=store.provenance(filters).with_method(self._method()),
        )
        return self

    # --- one variable, as SubgroupAnalysis._variable with weights ------------------
    def _weighted_levels(
        self, name: str, values: pd.Series, w: np.ndarray
    ) -> tuple[np.ndarray, list[str], str | None]:
        """`SubgroupAnalysis._levels` for rows standing for `w` patients each: the level
        label of every row (None where missing), the level order and a note. Labels are
        worked out once per distinct value."""
        codes, uniques = pd.factorize(values)  # missing values: code -1
        distinct = pd.Series(uniques, dtype=values.dtype)
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        if len(distinct) > self.max_levels and numeric:
            # the median of the patients' values: each value as often as it occurs
            present = codes >= 0
            patients = np.repeat(
                values[present].to_numpy(dtype=np.float64), w[present].astype(np.int64)
            )
            cut = float(np.median(patients))
            low, high = f"<={_fmt(cut)}", f">{_fmt(cut)}"
            named = [low if v <= cut else high for v in distinct]
            order: list[str] = [low, high]
            note: str | None = f"{len(distinct)} values: split at the median {_fmt(cut)}"
        else:
            # levels depend on the distinct values only
            per_value, order, note = self._levels(name, distinct)
            named = list(per_value)
        table = np.array([*named, None], dtype=object)  # code -1 reads the last: None
        return table[codes], order, note

    def _weighted_variable(self, name: str, rows: pd.DataFrame) -> SubgroupVariable:
        values = rows["V"].reset_index(drop=True)
        t = rows["AVAL"].to_numpy(dtype=np.float64)
        e = _events(rows)
        w = rows["N"].to_numpy(dtype=np.float64)
        lab, order, note = self._weighted_levels(name, values, w)
        missing = np.array([x is None for x in lab], dtype=bool)
        label = _variable_label(name)
        if not order:
            return SubgroupVariable(
                name, label, None, (), int(w[missing].sum()), None, None, None, None, note
            )
        n = {lv: int(w[lab == lv].sum()) for lv in order}
        ev = {lv: int((w * e)[lab == lv].sum()) for lv in order}
        estimable = {lv: n[lv] >= self.min_n and ev[lv] >= self.min_events for lv in order}
        reference, ref_note = self._reference(name, order, estimable, n)
        note = "; ".join(x for x in (note, ref_note) if x) or None

        used = ~missing
        lr = LogRankTest().fit(t[used], e[used], lab[used], weights=w[used], levels=order)
        p_int = None if np.isnan(lr.p_value_) else lr.p_value_
        fit_levels = [lv for lv in order if estimable[lv]]
        cox: CoxPH | None = None
        if reference is not None and len(fit_levels) >= 2:
            sel = np.isin(lab, fit_levels)
            cox = CoxPH(self.ties, reference=reference, alpha=self.alpha).fit(
                t[sel], e[sel], lab[sel], weights=w[sel], levels=fit_levels
            )
        level_rows = tuple(
            self._level(
                name,
                lv,
                lv == reference,
                n[lv],
                ev[lv],
                estimable[lv],
                t[lab == lv],
                e[lab == lv],
                cox,
                reference,
                weights=w[lab == lv],
            )
            for lv in order
        )
        return SubgroupVariable(
            variable=name,
            label=label,
            reference=reference,
            levels=level_rows,
            n_missing=int(w[missing].sum()),
            p_interaction=p_int,
            chisq=lr.chisq_ if p_int is not None else None,
            df=lr.df_ if p_int is not None else None,
            cox_lr_p=None if cox is None else cox.likelihood_ratio_.p_value,
            note=note,
        )


def _events(rows: pd.DataFrame) -> np.ndarray:
    """EVENT as 0/1: a missing censoring code is no event, as ``CNSR == 0`` reads it."""
    events: np.ndarray = rows["EVENT"].fillna(0).to_numpy(dtype=np.int64)
    return events


def _endpoint_label(store: Store, filters: FilterState, paramcd: str) -> str:
    """The endpoint's name as the per-patient path gives it: the first non-empty PARAM
    (by patient) of the patients in view, else the code's own label."""
    found = store.query(
        "SELECT count(DISTINCT PARAM) AS k FROM adtte WHERE PARAMCD = ?", [paramcd]
    ).iloc[0]
    if int(found["k"]) == 0:
        return ENDPOINTS.get(paramcd, paramcd)
    if int(found["k"]) == 1:
        # one name for every record that has one: any of them will do
        first = store.query(
            "SELECT PARAM FROM adtte WHERE PARAMCD = ? AND PARAM IS NOT NULL LIMIT 1", [paramcd]
        )
    else:
        where, params = store.subject_where(filters)
        first = store.query(
            "SELECT PARAM FROM adtte WHERE PARAMCD = ? AND PARAM IS NOT NULL AND USUBJID IN "
            f"(SELECT USUBJID FROM adsl WHERE {where}) ORDER BY USUBJID LIMIT 1",
            [paramcd, *params],
        )
    if len(first):
        return str(first["PARAM"].iloc[0])
    return ENDPOINTS.get(paramcd, paramcd)


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
    analysis = WeightedSubgroupAnalysis(**settings)  # type: ignore[arg-type]
    return analysis.fit_store(store, filters, paramcd, variables, overall=overall).result_
