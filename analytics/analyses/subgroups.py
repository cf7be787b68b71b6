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
- Hazard ratios: one Cox model (:class:`analytics.estimators.compare.CoxPH`, Efron ties by
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

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.estimators.compare import CoxPH, LogRankTest, Ties, level_label
from analytics.estimators.km import CI_LABELS, CIType, KaplanMeier
from analytics.model.provenance import Provenance
from analytics.model.schema import ADSL, ENDPOINTS
from analytics.store import Cohort

NOT_IN_DATA = "not in the data"


@dataclass(frozen=True)
class DerivedSplit:
    """A subgroup variable derived from a numeric subject column: <= cut vs > cut."""

    name: str  # the variable's name in results (never a column name: it has spaces)
    label: str
    source: str  # the subject column it is read from
    cut: float

    @property
    def levels(self) -> tuple[str, str]:
        return f"<={self.cut:g}", f">{self.cut:g}"

    def level_of(self, values: pd.Series) -> pd.Series:
        """Each value's level; None where the value is missing or not a number."""
        x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
        low, high = self.levels
        out = np.where(x <= self.cut, low, high).astype(object)
        out[np.isnan(x)] = None
        return pd.Series(out, index=values.index, dtype=object)


# The paper's age subgroups, <=70 and >70 years, from the age itself.
AGE_SPLIT = DerivedSplit("AGE <=70 / >70", "Age <=70 / >70 (from AGE)", "AGE", 70)
DERIVED: dict[str, DerivedSplit] = {AGE_SPLIT.name: AGE_SPLIT}

DEFAULT_SUBGROUPS: tuple[str, ...] = (
    "SEX",
    "DIALFL",
    AGE_SPLIT.name,
    "DIABFL",
    "RACE",
    "ETHNIC",
    "RUTHCAT",
)


def source_column(variable: str) -> str:
    """The subject column a subgroup variable is read from."""
    derived = DERIVED.get(variable)
    return derived.source if derived else variable


def unknown_variables(variables: Sequence[str], columns: Collection[str]) -> list[str]:
    """The variables that are neither prespecified nor subject columns; a prespecified
    one the data lack is not unknown (it is reported "not in the data")."""
    return [
        v
        for v in variables
        if v == "USUBJID" or (v not in columns and v not in DEFAULT_SUBGROUPS and v not in DERIVED)
    ]


def not_in_data(variable: str, column_present: bool = True) -> str:
    """The note of a variable without any value among the patients analysed."""
    col = source_column(variable)
    if not column_present:
        return f"{NOT_IN_DATA} (no column {col})"
    return f"{NOT_IN_DATA} (no {col} recorded for these patients)"


@dataclass(frozen=True)
class SubgroupLevel:
    variable: str
    level: str
    n: int
    events: int
    is_reference: bool
    estimate: float | None
    lower: float | None
    upper: float | None
    at_risk: float | None
    hazard_ratio: float | None
    hr_lower: float | None
    hr_upper: float | None
    p_value: float | None
    reason: str | None  # why an estimate is missing; None when everything was estimated


@dataclass(frozen=True)
class SubgroupVariable:
    variable: str
    label: str
    reference: str | None
    levels: tuple[SubgroupLevel, ...]
    n_missing: int
    p_interaction: float | None
    chisq: float | None
    df: int | None
    cox_lr_p: float | None
    note: str | None

    @property
    def p_heterogeneity(self) -> float | None:
        """`p_interaction` by its meaning: heterogeneity across levels (log-rank)."""
        return self.p_interaction

    def level(self, name: str) -> SubgroupLevel:
        for lv in self.levels:
            if lv.level == name:
                return lv
        raise KeyError(f"{self.variable} has no level {name!r}")


@dataclass(frozen=True)
class SubgroupResult:
    endpoint: str
    label: str
    landmark: float
    ci_type: CIType
    alpha: float
    ties: Ties
    min_n: int
    min_events: int
    n: int
    events: int
    variables: tuple[SubgroupVariable, ...]
    provenance: Provenance

    def variable(self, name: str) -> SubgroupVariable:
        for var in self.variables:
            if var.variable == name:
                return var
        raise KeyError(f"no subgroup variable {name!r}")


def _schema_order(variable: str) -> tuple[str, ...]:
    if variable in DERIVED:
        return DERIVED[variable].levels
    try:
        return ADSL.column(variable).allowed
    except KeyError:
        return ()


def _is_flag(variable: str) -> bool:
    if variable in DERIVED:
        return False
    try:
        return ADSL.column(variable).type == "flag"
    except KeyError:
        return False


def _variable_label(variable: str) -> str:
    if variable in DERIVED:
        return DERIVED[variable].label
    try:
        return ADSL.column(variable).label
    except KeyError:
        return variable


def _fmt(x: float) -> str:
    return f"{x:g}"


def absent_variable(name: str, n: int, column_present: bool = True) -> SubgroupVariable:
    """A variable none of whose `n` patients has a value: no levels, a note."""
    return SubgroupVariable(
        name,
        _variable_label(name),
        None,
        (),
        n,
        None,
        None,
        None,
        None,
        not_in_data(name, column_present),
    )


class SubgroupAnalysis:
    """Forest-plot table for one endpoint. Settings here, work in :meth:`fit`."""

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
        t = data["AVAL"].to_numpy(dtype=np.float64)
        e = (data["CNSR"].to_numpy() == 0).astype(np.int64)
        self.variables_ = tuple(self._one(name, data, t, e) for name in names)
        label = ENDPOINTS.get(paramcd, paramcd)
        if "PARAM" in cohort.adtte:
            params = cohort.endpoint(paramcd)["PARAM"].dropna()
            label = str(params.iloc[0]) if len(params) else label
        self.result_ = SubgroupResult(
            endpoint=paramcd,
            label=label,
            landmark=self.landmark,
            ci_type=self.ci_type,
            alpha=self.alpha,
            ties=self.ties,
            min_n=self.min_n,
            min_events=self.min_events,
            n=int(t.size),
            events=int(e.sum()),
            variables=self.variables_,
            provenance=cohort.provenance.with_method(self._method()),
        )
        return self

    # --- one variable -------------------------------------------------------------
    def _one(self, name: str, data: pd.DataFrame, t: np.ndarray, e: np.ndarray) -> SubgroupVariable:
        """The variable `name` of the patients in `data` (a derived one from its
        source column; a prespecified one without its column, with a note)."""
        column = source_column(name)
        if column not in data.columns:
            return absent_variable(name, int(t.size), column_present=False)
        values = data[column]
        if name in DERIVED:
            values = DERIVED[name].level_of(values)
        return self._variable(name, values, t, e)

    def _levels(self, name: str, values: pd.Series) -> tuple[pd.Series, list[str], str | None]:
        """Level labels per patient (None where missing), the level order, and a note."""
        present = values.dropna()
        if present.empty:
            return values, [], not_in_data(name)
        distinct = present.unique()
        if len(distinct) > self.max_levels:
            if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
                cut = float(np.median(present.to_numpy(dtype=np.float64)))
                low, high = f"<={_fmt(cut)}", f">{_fmt(cut)}"
                labels = values.map(lambda v: None if pd.isna(v) else (low if v <= cut else high))
                note = f"{len(distinct)} values: split at the median {_fmt(cut)}"
                return labels, [low, high], note
            return values, [], f"{len(distinct)} distinct values: too many levels for subgroups"
        labels = values.map(lambda v: None if pd.isna(v) else level_label(v))
        found = {level_label(v) for v in distinct}
        order = [c for c in _schema_order(name) if c in found]
        order += sorted(found - set(order))
        return labels, order, None

    def _reference(
        self, name: str, order: list[str], estimable: dict[str, bool], n: dict[str, int]
    ) -> tuple[str | None, str | None]:
        if name in self.references:
            wanted = level_label(self.references[name])
            if wanted not in order:
                raise ValueError(f"reference {wanted!r} is not a level of {name} ({order})")
        elif _is_flag(name) and "N" in order:
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

    def _variable(
        self, name: str, values: pd.Series, t: np.ndarray, e: np.ndarray
    ) -> SubgroupVariable:
        labels, order, note = self._levels(name, values)
        missing = labels.isna().to_numpy()
        label = _variable_label(name)
        if not order:
            return SubgroupVariable(
                name, label, None, (), int(missing.sum()), None, None, None, None, note
            )
        lab = labels.to_numpy(dtype=object)
        n = {lv: int(np.sum(lab == lv)) for lv in order}
        ev = {lv: int(e[lab == lv].sum()) for lv in order}
        estimable = {lv: n[lv] >= self.min_n and ev[lv] >= self.min_events for lv in order}
        reference, ref_note = self._reference(name, order, estimable, n)
        note = "; ".join(x for x in (note, ref_note) if x) or None

        used = ~missing
        lr = LogRankTest().fit(t[used], e[used], lab[used], levels=order)
        p_int = None if np.isnan(lr.p_value_) else lr.p_value_
        fit_levels = [lv for lv in order if estimable[lv]]
        cox: CoxPH | None = None
        if reference is not None and len(fit_levels) >= 2:
            sel = np.isin(lab, fit_levels)
            cox = CoxPH(self.ties, reference=reference, alpha=self.alpha).fit(
                t[sel], e[sel], lab[sel], levels=fit_levels
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
            )
            for lv in order
        )
        return SubgroupVariable(
            variable=name,
            label=label,
            reference=reference,
            levels=level_rows,
            n_missing=int(missing.sum()),
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
        t: np.ndarray,
        e: np.ndarray,
        cox: CoxPH | None,
        reference: str | None,
        weights: np.ndarray | None = None,
    ) -> SubgroupLevel:
        """One level's row; `weights` are frequency weights of aggregated (t, e) rows."""
        reasons: list[str] = []
        est = lo = hi = at_risk = None
        if n >= self.min_n:
            km = KaplanMeier(self.ci_type, self.alpha).fit(t, e, weights)
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
            f"Subgroups: Kaplan-Meier at day {_fmt(self.landmark)} with {CI_LABELS[self.ci_type]} "
            f"({pct}); Cox hazard ratio vs reference level ({self.ties.capitalize()} ties, "
            f"{pct} Wald CI, Wald p) on levels with n >= {self.min_n} and events >= "
            f"{self.min_events}; heterogeneity p: heterogeneity across levels (log-rank; "
            "single-arm study: no treatment interaction to test); "
            f"age subgroups {' / '.join(AGE_SPLIT.levels)} years derived from "
            f"{AGE_SPLIT.source}"
        )
