"""Table 1, Table 2, the procedure summary and the safety tables from DuckDB aggregates.

``analytics.tables``, ``analytics.procedure`` and ``analytics.safety`` read one row per
patient; at a million patients loading them and counting in pandas takes seconds.
Every row of those tables is a count, a share or a median of one column (or of two
together), so here each column is read as its value counts (``GROUP BY``) and the row
is built by the same rules from them: the same levels in the same order, the same
denominators and missing counts; medians and quartiles by the same function on the
same values (each distinct value repeated by its count). The rest is counted by the
original functions on the few rows that can change it: reinterventions and
procedural success on the technical successes' events up to the day, adverse events
on the adverse-event rows and the number of patients. The results equal the
per-patient ones (``tests/test_patient_counts.py`` checks every field on the demo).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from analytics.describe import QUANTILE_NOTE, Row, numeric_row
from analytics.filters import FilterState, quote_ident
from analytics.outcomes import procedural_success, reinterventions
from analytics.procedure import ProcedureSummary, assemble
from analytics.safety import (
    NOT_RECORDED,
    CauseCount,
    Deaths,
    MinorAmputations,
    SafetySummary,
    adverse_event_table,
    minor_amputations,
)
from analytics.store import Cohort, Store
from analytics.tables import SummaryTable, _codes

__all__ = [
    "ColumnCounts",
    "deaths_view",
    "procedure_view",
    "safety_view",
    "table1_view",
    "table2_view",
]

N = "__n"  # the count column of every value-count frame


class ColumnCounts:
    """The patients passing `filters`, as value counts of their subject columns (each
    set of columns read once)."""

    def __init__(self, store: Store, filters: FilterState) -> None:
        self.store = store
        self.filters = filters
        self.n = store.count(filters)
        self.columns = store.subject_columns()
        self._memo: dict[tuple[str, ...], pd.DataFrame] = {}

    def __contains__(self, column: object) -> bool:
        return column in self.columns

    def of(self, *columns: str) -> pd.DataFrame:
        """Distinct combinations of `columns` (missing values included) with their
        patient counts in column `N`."""
        if columns not in self._memo:
            where, params = self.store.subject_where(self.filters)
            cols = ", ".join(quote_ident(c) for c in columns)
            self._memo[columns] = self.store.query(
                f"SELECT {cols}, count(*) AS {N} FROM adsl WHERE {where} GROUP BY ALL", params
            )
        return self._memo[columns]


def _total(counts: pd.DataFrame, mask: pd.Series | np.ndarray) -> int:
    keep = np.asarray(pd.Series(mask).fillna(False).astype(bool))
    return int(counts[N].to_numpy()[keep].sum())


# --- the rows of analytics.tables, from value counts -----------------------------------


def categorical(
    c: ColumnCounts, section: str, col: str, labels: dict[str, str] | None = None
) -> list[Row]:
    """`analytics.tables.categorical`: one count row per level."""
    if col not in c:
        return [Row(section, section, "absent")]
    counts = c.of(col)
    values = counts[col].astype("string")
    missing = _total(counts, values.isna())
    denom = c.n - missing
    seen = [str(v) for v in values.dropna().unique()]
    levels = [x for x in _codes(col) if x in seen or not seen] + sorted(
        v for v in seen if v not in _codes(col)
    )
    labels = labels or {}
    return [
        Row(
            section,
            labels.get(lv, lv),
            "count",
            n=_total(counts, values == lv),
            denominator=int(denom),
            missing=missing,
        )
        for lv in levels
    ]


def flag(c: ColumnCounts, section: str, col: str, label: str) -> Row:
    """`analytics.tables.flag`: patients with Y among those recorded."""
    if col not in c:
        return Row(section, label, "absent")
    counts = c.of(col)
    values = counts[col].astype("string")
    missing = _total(counts, values.isna())
    return Row(
        section,
        label,
        "count",
        n=_total(counts, values == "Y"),
        denominator=int(c.n - missing),
        missing=missing,
    )


def numeric(
    c: ColumnCounts,
    section: str,
    col: str,
    label: str,
    kind: str = "median_iqr",
    unit: str = "",
) -> Row:
    """`analytics.tables.numeric`: `analytics.describe.numeric_row` on the patients'
    values (each distinct value as often as it occurs)."""
    if col not in c:
        return Row(section, label, "absent")
    counts = c.of(col)
    values = counts[col].repeat(counts[N].to_numpy()).reset_index(drop=True)
    return numeric_row(section, label, values, kind=kind, unit=unit)  # type: ignore[arg-type]


def derived(
    c: ColumnCounts,
    section: str,
    label: str,
    cols: tuple[str, ...],
    fn: Callable[[pd.DataFrame], pd.Series],
) -> Row:
    """`analytics.tables._derived`: patients for whom `fn` holds, among all."""
    if any(col not in c for col in cols):
        return Row(section, label, "absent")
    counts = c.of(*cols)
    return Row(section, label, "count", n=_total(counts, fn(counts)), denominator=c.n)


def table1_view(
    store: Store, filters: FilterState, counts: ColumnCounts | None = None
) -> SummaryTable:
    """``analytics.tables.table1(store.cohort(filters))`` from value counts."""
    c = counts or ColumnCounts(store, filters)
    rows: list[Row] = [
        numeric(c, "Age, years", "AGE", "Median (range)", kind="median_range", unit="years"),
        *categorical(c, "Age group", "AGEGR1"),
        *categorical(c, "Sex", "SEX", {"M": "Male", "F": "Female"}),
        *categorical(c, "Race", "RACE"),
        *categorical(c, "Ethnic group", "ETHNIC"),
        derived(
            c,
            "Race or ethnic group",
            "Black, or Hispanic or Latino",
            ("RACE", "ETHNIC"),
            lambda d: (
                (d["RACE"] == "BLACK OR AFRICAN AMERICAN") | (d["ETHNIC"] == "HISPANIC OR LATINO")
            ),
        ),
        numeric(c, "Body-mass index", "BMI", "Median (range)", kind="median_range", unit="kg/m2"),
        derived(
            c,
            "Smoking",
            "History of smoking",
            ("SMOKSTAT",),
            lambda d: d["SMOKSTAT"].isin(["CURRENT", "FORMER"]),
        ),
        *categorical(c, "Smoking", "SMOKSTAT"),
        flag(c, "Medical history", "STROKEFL", "Prior stroke"),
        flag(c, "Medical history", "MIFL", "Prior myocardial infarction"),
        flag(c, "Medical history", "HTNFL", "Hypertension"),
        flag(c, "Medical history", "DLPFL", "Dyslipidaemia"),
        flag(c, "Medical history", "DIABFL", "Diabetes"),
        *categorical(c, "Diabetes type", "DIABTYP"),
        flag(c, "Medical history", "CKDFL", "Chronic kidney disease"),
        flag(c, "Medical history", "DIALFL", "Dialysis"),
        *categorical(c, "Rutherford class", "RUTHCAT"),
        flag(c, "Target limb", "PRIORFL", "Prior intervention on the target limb"),
        *categorical(c, "Reason for no revascularisation option", "NOOPTRS"),
    ]
    return SummaryTable(
        "Table 1. Baseline characteristics",
        c.n,
        tuple(rows),
        store.provenance(filters).with_method(
            f"counts of non-missing values; medians with {QUANTILE_NOTE}"
        ),
    )


def technical_success_events(store: Store, filters: FilterState, days: Sequence[float]) -> Cohort:
    """All that ``analytics.outcomes.reinterventions`` and ``procedural_success`` read
    up to the latest of `days`: the technical successes in view (USUBJID, TECHSFL) and
    their AFS and REINT events on or before it. Their counts on this cohort are those on
    the whole cohort: both count technical successes only, events by the day only."""
    where, params = store.subject_where(filters)
    if "TECHSFL" in store.subject_columns():
        cols, where, params = "USUBJID, TECHSFL", f"{where} AND TECHSFL = ?", [*params, "Y"]
    else:  # every patient counts as a technical success (`analytics.outcomes`)
        cols = "USUBJID"
    adsl = store.query(f"SELECT {cols} FROM adsl WHERE {where} ORDER BY USUBJID", params)
    adtte = store.query(
        "SELECT * FROM adtte WHERE PARAMCD IN ('AFS', 'REINT') AND CNSR = 0 AND AVAL <= ? "
        f"AND USUBJID IN (SELECT USUBJID FROM adsl WHERE {where}) ORDER BY USUBJID, PARAMCD",
        [float(max(days)), *params],
    )
    return Cohort(
        filters=filters,
        n_total=store.count(),
        adsl=adsl,
        adtte=adtte,
        visits=pd.DataFrame(),
        adae=pd.DataFrame(),
        provenance=store.provenance(filters),
        synthetic=store.synthetic,
        notice=store.meta.get("notice", ""),
        manifest=store.manifest,
    )


def table2_view(
    store: Store,
    filters: FilterState,
    reintervention_day: float = 183,
    procedural_day: float = 30,
    counts: ColumnCounts | None = None,
) -> SummaryTable:
    """``analytics.tables.table2(store.cohort(filters), ...)`` from value counts."""
    c = counts or ColumnCounts(store, filters)
    events = technical_success_events(store, filters, (reintervention_day, procedural_day))
    reint = reinterventions(events, reintervention_day)
    proc = procedural_success(events, procedural_day)
    rows: list[Row] = [
        flag(c, "Procedure", "TECHSFL", "Technical success"),
        *categorical(c, "Crossing vein", "XVEIN"),
        *categorical(c, "Crossing artery", "XARTERY"),
        numeric(c, "Procedure metrics", "PROCMIN", "Procedure time, min", unit="min"),
        numeric(c, "Procedure metrics", "RADMGY", "Radiation dose, mGy", unit="mGy"),
        numeric(c, "Procedure metrics", "CONTRML", "Contrast volume, mL", unit="mL"),
        derived(
            c,
            "Procedure metrics",
            "Free from contrast-induced nephropathy at 72 h",
            ("CINFL",),
            lambda d: d["CINFL"] == "N",
        ),
        numeric(c, "Procedure metrics", "ACDURD", "Anticoagulation duration, days", unit="days"),
        Row(
            "Outcomes",
            f"Reintervention within {reintervention_day:g} days",
            "count",
            n=reint.patients,
            denominator=reint.denominator,
        ),
        Row(
            "Outcomes",
            f"Procedural success (at {procedural_day:g} days)",
            "count",
            n=proc.n,
            denominator=proc.denominator,
        ),
    ]
    return SummaryTable(
        "Table 2. Procedure",
        c.n,
        tuple(rows),
        store.provenance(filters).with_method(
            f"counts of non-missing values; medians with {QUANTILE_NOTE}; reintervention and "
            "procedural success among technical successes"
        ),
    )


def procedure_view(
    store: Store,
    filters: FilterState,
    reintervention_day: float = 183,
    procedural_day: float = 30,
    table2: SummaryTable | None = None,
) -> ProcedureSummary:
    """``analytics.procedure.procedure_summary(store.cohort(filters), ...)`` from value
    counts; `table2` is ``table2_view`` with the same days if the caller has it."""
    t2 = table2 or table2_view(store, filters, reintervention_day, procedural_day)
    events = technical_success_events(store, filters, (reintervention_day,))
    reint = reinterventions(events, reintervention_day)
    return assemble(t2, reint, t2.n, reintervention_day, procedural_day, store.provenance(filters))


# --- safety ----------------------------------------------------------------------------


def deaths_view(store: Store, filters: FilterState, counts: ColumnCounts | None = None) -> Deaths:
    """``analytics.safety.deaths(store.cohort(filters))`` from value counts."""
    c = counts or ColumnCounts(store, filters)
    if "DTHFL" in c:
        cols = ("DTHFL", "DTHCAUS") if "DTHCAUS" in c else ("DTHFL",)
        both = c.of(*cols)
        dead = both[(both["DTHFL"].astype("string").fillna("") == "Y").to_numpy()]
    else:
        dead = pd.DataFrame({N: pd.Series(dtype=np.int64)})
    if "DTHCAUS" in dead:
        causes = dead["DTHCAUS"].astype("string").fillna(NOT_RECORDED)
        causes = causes.where(causes.str.strip() != "", NOT_RECORDED)
    else:
        causes = pd.Series([NOT_RECORDED] * len(dead), dtype="string", index=dead.index)
    per_cause = dead[N].groupby(causes.to_numpy(dtype=object)).sum()
    rows = sorted(
        ((str(k), int(v)) for k, v in per_cause.items() if v > 0), key=lambda x: (-x[1], x[0])
    )
    return Deaths(
        n=c.n,
        deaths=int(dead[N].sum()),
        causes=tuple(CauseCount(cause, k) for cause, k in rows),
        provenance=store.provenance(filters).with_method(
            "deaths over the whole follow-up by recorded cause"
        ),
    )


def _has_adverse_events(store: Store) -> bool:
    return bool(store.query("SELECT EXISTS (SELECT 1 FROM adae) AS x")["x"].iloc[0])


def adverse_event_cohort(store: Store, filters: FilterState, n: int | None = None) -> Cohort:
    """All that ``analytics.safety``'s adverse-event tables read: the adverse-event rows
    of the patients in view (as ``Store.cohort`` orders them) and how many patients are
    in view (`n` if known; the subject table holds no column, only that many rows)."""
    if _has_adverse_events(store):
        where, params = store.subject_where(filters)
        adae = store.query(
            f"SELECT * FROM adae WHERE USUBJID IN (SELECT USUBJID FROM adsl WHERE {where}) "
            "ORDER BY USUBJID, AESEQ",
            params,
        )
    else:  # no scan of the patients for a table with no rows
        adae = store.query("SELECT * FROM adae LIMIT 0")
    count = store.count(filters) if n is None else n
    return Cohort(
        filters=filters,
        n_total=store.count(),
        adsl=pd.DataFrame(index=pd.RangeIndex(count)),
        adtte=pd.DataFrame(),
        visits=pd.DataFrame(),
        adae=adae,
        provenance=store.provenance(filters),
        synthetic=store.synthetic,
        notice=store.meta.get("notice", ""),
        manifest=store.manifest,
    )


def safety_view(
    store: Store, filters: FilterState, day: float | None = 183
) -> tuple[SafetySummary, MinorAmputations, Deaths]:
    """Adverse events and minor amputations with onset by `day` (None: whole follow-up),
    and deaths by cause, as ``analytics.safety`` gives them for ``store.cohort(filters)``."""
    c = ColumnCounts(store, filters)
    cohort = adverse_event_cohort(store, filters, c.n)
    return (
        adverse_event_table(cohort, day),
        minor_amputations(cohort, day),
        deaths_view(store, filters, c),
    )
