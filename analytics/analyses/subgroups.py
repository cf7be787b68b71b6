"""Subgroup (forest plot) analysis of one time-to-event endpoint in a single-arm cohort.

For each subgroup variable (a subject-level column) and each of its levels:
n, events, the Kaplan-Meier estimate at a landmark day with its CI, and the hazard
ratio against a reference level with its Wald CI and p. Per variable, one
heterogeneity p-value.

What is computed, precisely:

- Patients are those with a record for the endpoint; a missing value of the
  variable leaves the patient out of that variable (counted in ``n_missing``).
- A numeric column with more than ``max_levels`` distinct values is split at its
  median into "<= m" and "> m"; any other column with that many levels is reported
  with a reason and no levels.
- KM: :class:`analytics.estimators.km.KaplanMeier` on the level's patients, value at the
  landmark (R's ``summary(fit, times = landmark)``). Reported when n >= ``min_n``.
- Hazard ratios: one Cox model (:class:`analytics.estimators.cox.CoxPH`, Efron ties by
  default) of the endpoint on the variable, fitted on the *estimable* levels only
  (n >= ``min_n`` and events >= ``min_events``): a level without events has an
  infinite MLE, and leaving its patients out is what the likelihood does in the
  limit, so the other hazard ratios are unaffected. Each level's HR is against the
  reference level. Levels that are not estimable stay in the table with a reason.
- The reference is ``references[variable]`` if given, otherwise "N" for Y/N flags
  and the first level otherwise (the schema's code order, else sorted order). If that
  level is not estimable, the estimable level with most patients is used instead
  and the variable's ``note`` says so.
- ``p_interaction`` (also readable as ``p_heterogeneity``; the name is kept for the
  pages and tables that read it): the study has one arm, so there is no
  treatment-by-subgroup interaction to test. The p-value per variable is the test of
  heterogeneity across its levels (log-rank): R ``survdiff``'s test of equal survival
  over all levels with at least one patient, on (levels with expected events > 0) - 1
  df; every label shown says so. ``cox_lr_p`` is the likelihood-ratio test of the Cox
  model above (estimable levels only), given for completeness.
- The prespecified subgroups (``DEFAULT_SUBGROUPS``) are the paper's. Its age split,
  <=70 vs >70 years, is derived from ``AGE`` (``AGE_SPLIT``, labelled "Age <=70 / >70
  (from AGE)"), whatever age groups an extract's own ``AGEGR1`` holds (CDISC's pilot
  has <65 / 65-80 / >80); ``AGEGR1`` stays available as any other subject column.
- A prespecified variable the data do not hold (no column, or no value for any of
  the patients) is kept, with no levels and a note that starts "not in the data";
  any other variable must be a subject column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from analytics.analyses.subgroup_model import (
    AGE_SPLIT,
    DEFAULT_SUBGROUPS,
    DERIVED,
    NOT_IN_DATA,
    DerivedSplit,
    SubgroupLevel,
    SubgroupResult,
    SubgroupVariable,
    absent_variable,
    fmt,
    is_flag,
    not_in_data,
    schema_order,
    source_column,
    unknown_variables,
    variable_label,
)
from analytics.estimators.cox import CoxPH
from analytics.estimators.cox_likelihood import Ties
from analytics.estimators.grouping import level_label
from analytics.estimators.km import CI_LABELS, CIType, KaplanMeier
from analytics.estimators.logrank import LogRankTest
from analytics.model.provenance import Provenance
from analytics.model.schema import ENDPOINTS
from analytics.store import Cohort

__all__ = [
    "AGE_SPLIT",
    "DEFAULT_SUBGROUPS",
    "DERIVED",
    "NOT_IN_DATA",
    "DerivedSplit",
    "SubgroupAnalysis",
    "SubgroupLevel",
    "SubgroupResult",
    "SubgroupVariable",
    "absent_variable",
    "not_in_data",
    "source_column",
    "unknown_variables",
]


class SubgroupAnalysis:
    """Forest-plot table for one endpoint. Settings here, work in :meth:`fit_counts`
    (on counts) or :meth:`fit` (on a cohort's rows, each a count of 1)."""

    def __init__(
        self,
        landmark: float = 183,
        ci_type: CIType = "log-log",
        alpha: float = 0.05,
        min_n: int = 5,
        min_events: int = 1,
        ties: Ties = "efron",
        references: Mapping[str, object] | None = None,
        max_levels: int = 12,
    ) -> None:
        if min_n < 1 or min_events < 1:
            raise ValueError("min_n and min_events must be at least 1")
        if max_levels < 2:
            raise ValueError("max_levels must be at least 2")
        KaplanMeier(ci_type, alpha)  # validates ci_type and alpha
        CoxPH(ties)  # validates ties
        self.landmark = float(landmark)
        self.ci_type: CIType = ci_type
        self.alpha = alpha
        self.min_n = int(min_n)
        self.min_events = int(min_events)
        self.ties: Ties = ties
        self.references = dict(references or {})
        self.max_levels = int(max_levels)

    def fit(
        self, cohort: Cohort, paramcd: str, variables: Sequence[str] | None = None
    ) -> SubgroupAnalysis:
        """The analysis of a cohort's own rows, each a count of 1."""
        adsl = cohort.adsl
        names = list(DEFAULT_SUBGROUPS if variables is None else variables)
        unknown = unknown_variables(names, adsl.columns)
        if unknown:
            raise ValueError(f"unknown subject column(s): {', '.join(unknown)}")
        rows = cohort.endpoint(paramcd)[["USUBJID", "AVAL", "CNSR"]]
        if rows.empty:
            raise ValueError(f"no {paramcd} records for the {cohort.n} patients selected")
        sources = list(dict.fromkeys(source_column(v) for v in names))
        present = [c for c in sources if c in adsl.columns]
        data = rows.merge(adsl[["USUBJID", *present]], on="USUBJID", how="inner")
        overall = pd.DataFrame(
            {
                "AVAL": data["AVAL"].to_numpy(dtype=np.float64),
                "EVENT": (data["CNSR"].to_numpy() == 0).astype(np.int64),
                "N": np.ones(len(data), dtype=np.int64),
            }
        )
        per_variable: dict[str, pd.DataFrame | None] = {}
        for name in names:
            column = source_column(name)
            if column not in data.columns:
                per_variable[name] = None
                continue
            values = data[column].reset_index(drop=True)
            if name in DERIVED:
                values = DERIVED[name].level_of(values)
            per_variable[name] = overall.assign(V=values)
        label = ENDPOINTS.get(paramcd, paramcd)
        if "PARAM" in cohort.adtte:
            params = cohort.endpoint(paramcd)["PARAM"].dropna()
            label = str(params.iloc[0]) if len(params) else label
        return self.fit_counts(paramcd, label, overall, per_variable, cohort.provenance)

    def fit_counts(
        self,
        paramcd: str,
        label: str,
        overall: pd.DataFrame,
        per_variable: Mapping[str, pd.DataFrame | None],
        provenance: Provenance,
    ) -> SubgroupAnalysis:
        """The analysis from counts: `overall` holds the endpoint's (AVAL, EVENT, N) rows,
        `per_variable` each variable's (V, AVAL, EVENT, N) rows, V its value (a derived
        variable's level), or None when the data have no column for it."""
        w = overall["N"].to_numpy(dtype=np.float64)
        e = _events(overall)
        self.variables_ = tuple(
            absent_variable(name, int(w.sum()), column_present=False)
            if rows is None
            else self._variable(name, rows)
            for name, rows in per_variable.items()
        )
        self.result_ = SubgroupResult(
            endpoint=paramcd,
            label=label,
            landmark=self.landmark,
            ci_type=self.ci_type,
            alpha=self.alpha,
            ties=self.ties,
            min_n=self.min_n,
            min_events=self.min_events,
            n=int(w.sum()),
            events=int((w * e).sum()),
            variables=self.variables_,
            provenance=provenance.with_method(self._method()),
        )
        return self

    # --- one variable -------------------------------------------------------------
    def _levels(
        self, name: str, values: pd.Series, w: np.ndarray
    ) -> tuple[np.ndarray, list[str], str | None]:
        """The level label of every row (None where missing; rows stand for `w` patients
        each), the level order and a note. Labels are worked out once per distinct value."""
        codes, uniques = pd.factorize(values)  # missing values: code -1
        distinct = pd.Series(uniques, dtype=values.dtype)
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        note: str | None = None
        if distinct.empty:
            named: list[object] = []
            order: list[str] = []
            note = not_in_data(name)
        elif len(distinct) > self.max_levels and numeric:
            # the median of the patients' values: each value as often as it occurs
            present = codes >= 0
            patients = np.repeat(
                values[present].to_numpy(dtype=np.float64), w[present].astype(np.int64)
            )
            cut = float(np.median(patients))
            low, high = f"<={fmt(cut)}", f">{fmt(cut)}"
            named = [low if v <= cut else high for v in distinct]
            order = [low, high]
            note = f"{len(distinct)} values: split at the median {fmt(cut)}"
        elif len(distinct) > self.max_levels:
            named, order = list(distinct), []
            note = f"{len(distinct)} distinct values: too many levels for subgroups"
        else:
            labels = [level_label(v) for v in distinct]
            named = list(labels)
            order = [c for c in schema_order(name) if c in labels]
            order += sorted(set(labels) - set(order))
        table = np.array([*named, None], dtype=object)  # code -1 reads the last: None
        return table[codes], order, note

    def _reference(
        self, name: str, order: list[str], estimable: dict[str, bool], n: dict[str, int]
    ) -> tuple[str | None, str | None]:
        if name in self.references:
            wanted = level_label(self.references[name])
            if wanted not in order:
                raise ValueError(f"reference {wanted!r} is not a level of {name} ({order})")
        elif is_flag(name) and "N" in order:
            wanted = "N"
        else:
            wanted = order[0]
        if estimable[wanted]:
            return wanted, None
        candidates = [lv for lv in order if estimable[lv]]
        if not candidates:
            return None, None
        chosen = max(candidates, key=lambda lv: n[lv])  # first on ties: order is stable
        return chosen, f"reference {wanted!r} too small to estimate; {chosen!r} used instead"

    def _variable(self, name: str, rows: pd.DataFrame) -> SubgroupVariable:
        values = rows["V"].reset_index(drop=True)
        t = rows["AVAL"].to_numpy(dtype=np.float64)
        e = _events(rows)
        w = rows["N"].to_numpy(dtype=np.float64)
        lab, order, note = self._levels(name, values, w)
        missing = np.array([x is None for x in lab], dtype=bool)
        label = variable_label(name)
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
                rows[lab == lv],
                cox,
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

    def _level(
        self,
        name: str,
        level: str,
        is_ref: bool,
        n: int,
        events: int,
        estimable: bool,
        rows: pd.DataFrame,
        cox: CoxPH | None,
    ) -> SubgroupLevel:
        """One level's row, from its patients' (AVAL, EVENT, N) counts `rows`."""
        reasons: list[str] = []
        est = lo = hi = at_risk = None
        if n >= self.min_n:
            t, e, w = (
                rows["AVAL"].to_numpy(np.float64),
                _events(rows),
                rows["N"].to_numpy(np.float64),
            )
            km = KaplanMeier(self.ci_type, self.alpha).fit(t, e, w)
            lm = km.landmarks([self.landmark])[0]
            est, at_risk = lm.estimate, lm.at_risk
            lo = None if np.isnan(lm.lower) else lm.lower
            hi = None if np.isnan(lm.upper) else lm.upper
        else:
            reasons.append(f"n = {n} < {self.min_n}: too few patients to estimate")
        hr = hr_lo = hr_hi = p = None
        if is_ref:
            hr = 1.0
        elif not estimable:
            if n >= self.min_n:
                reasons.append(f"{events} event(s) < {self.min_events}: hazard ratio not estimable")
        elif cox is None:
            reasons.append("no estimable reference level: hazard ratio not estimated")
        elif level in cox.notes_:
            # this level alone (no events beside the reference, a monotone likelihood):
            # the other levels keep their ratios, fitted without its patients
            reasons.append(cox.notes_[level])
        elif not cox.newton_converged_:
            reasons.append("Cox model did not converge: hazard ratio not estimated")
        else:
            k = cox.terms_.index(level)
            hr, hr_lo, hr_hi = (
                float(cox.hazard_ratios_[k]),
                float(cox.lower_[k]),
                float(cox.upper_[k]),
            )
            p = float(cox.p_values_[k])
        return SubgroupLevel(
            variable=name,
            level=level,
            n=n,
            events=events,
            is_reference=is_ref,
            estimate=est,
            lower=lo,
            upper=hi,
            at_risk=at_risk,
            hazard_ratio=hr,
            hr_lower=hr_lo,
            hr_upper=hr_hi,
            p_value=p,
            reason="; ".join(reasons) or None,
        )

    def _method(self) -> str:
        pct = f"{100 * (1 - self.alpha):g}%"
        return (
            f"Subgroups: Kaplan-Meier at day {fmt(self.landmark)} with {CI_LABELS[self.ci_type]} "
            f"({pct}); Cox hazard ratio vs reference level ({self.ties.capitalize()} ties, "
            f"{pct} Wald CI, Wald p) on levels with n >= {self.min_n} and events >= "
            f"{self.min_events}; heterogeneity p: heterogeneity across levels (log-rank; "
            "single-arm study: no treatment interaction to test); "
            f"age subgroups {' / '.join(AGE_SPLIT.levels)} years derived from the age at "
            "enrolment"
        )


def _events(rows: pd.DataFrame) -> np.ndarray:
    """EVENT as 0/1: a missing censoring code is no event, as ``CNSR == 0`` reads it."""
    events: np.ndarray = rows["EVENT"].fillna(0).to_numpy(dtype=np.int64)
    return events
