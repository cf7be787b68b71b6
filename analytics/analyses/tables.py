"""Table 1 (baseline characteristics) and Table 2 (procedure) for the patients in view.

Each row is a count with its denominator and missing values, or a median with IQR or
range, built from the patients' value counts (`Counts`): each set of subject columns
read as its value counts (``GROUP BY``) in DuckDB (`ColumnCounts`), so a table costs
the same for a hundred patients as for a million. Columns absent from an extract
appear as "not in data" rather than vanishing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from analytics.analyses.outcomes import (
    ProceduralSuccess,
    Reinterventions,
    procedural_success,
    reinterventions,
    technical_success_events,
)
from analytics.estimators.describe import QUANTILE_NOTE, Row, numeric_row
from analytics.model.filters import FilterState
from analytics.model.labels import Labels
from analytics.model.provenance import Provenance
from analytics.model.schema import ADSL
from analytics.store import Store, queries


@dataclass(frozen=True)
class SummaryTable:
    title: str
    n: int
    rows: tuple[Row, ...]
    provenance: Provenance

    def row(self, label: str, section: str | None = None) -> Row:
        for r in self.rows:
            if r.label == label and (section is None or r.section == section):
                return r
        raise KeyError(f"{self.title}: no row {label!r}" + (f" in {section!r}" if section else ""))

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "Section": [r.section for r in self.rows],
                "Characteristic": [r.label for r in self.rows],
                "Value": [row_text(r) for r in self.rows],
                "n": [r.n for r in self.rows],
                "Denominator": [r.denominator for r in self.rows],
                "Missing": [r.missing for r in self.rows],
            }
        )


def row_text(row: Row) -> str:
    """`Row.text`, except that a count with no recorded value reads "not recorded" with
    the number missing rather than "0/0": missing information is never shown as 0."""
    if row.kind == "count" and row.denominator == 0 and row.missing:
        return f"not recorded; missing {row.missing}"
    return row.text()


N = queries.VALUE_COUNT  # the count column of every value-count frame


class Counts(Protocol):
    """Patients as value counts of their subject columns: all a table row needs
    (`ColumnCounts` reads them from the store; a frame of patient rows gives the same
    counts with weight 1 per patient)."""

    n: int
    labels: Labels  # the words rows show for the columns' codes

    def __contains__(self, column: object) -> bool: ...

    def of(self, *columns: str) -> pd.DataFrame:
        """Distinct combinations of `columns` (missing values included) with their
        patient counts in column `N`."""
        ...


class ColumnCounts:
    """The patients passing `filters`, as value counts of their subject columns (each
    set of columns read once)."""

    def __init__(self, store: Store, filters: FilterState) -> None:
        self.store = store
        self.filters = filters
        self.labels = store.labels
        self.n = store.count(filters)
        self.columns = store.subject_columns()
        self._memo: dict[tuple[str, ...], pd.DataFrame] = {}

    def __contains__(self, column: object) -> bool:
        return column in self.columns

    def of(self, *columns: str) -> pd.DataFrame:
        if columns not in self._memo:
            self._memo[columns] = queries.value_counts(
                self.store.cursor(), self.store.subject_where(self.filters), columns, self.columns
            )
        return self._memo[columns]


def _codes(col: str) -> tuple[str, ...]:
    try:
        return ADSL.column(col).codes
    except KeyError:
        return ()


def _total(counts: pd.DataFrame, mask: pd.Series | np.ndarray) -> int:
    keep = np.asarray(pd.Series(mask).fillna(False).astype(bool))
    return int(counts[N].to_numpy()[keep].sum())


def categorical(
    c: Counts, section: str, col: str, labels: dict[str, str] | None = None
) -> list[Row]:
    """One count row per level (schema codes first, then any others seen), named in
    clinical words (`labels` overrides a level's words)."""
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
            labels.get(lv, c.labels.value(col, lv)),
            "count",
            n=_total(counts, values == lv),
            denominator=int(denom),
            missing=missing,
        )
        for lv in levels
    ]


def flag(c: Counts, section: str, col: str, label: str) -> Row:
    """Patients with Y among those recorded."""
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
    c: Counts, section: str, col: str, label: str, kind: str = "median_iqr", unit: str = ""
) -> Row:
    """`analytics.estimators.describe.numeric_row` on the patients' values (each distinct value as
    often as it occurs)."""
    if col not in c:
        return Row(section, label, "absent")
    counts = c.of(col)
    values = counts[col].repeat(counts[N].to_numpy()).reset_index(drop=True)
    return numeric_row(section, label, values, kind=kind, unit=unit)  # type: ignore[arg-type]


def derived(
    c: Counts,
    section: str,
    label: str,
    cols: tuple[str, ...],
    fn: Callable[[pd.DataFrame], pd.Series],
) -> Row:
    """Patients for whom `fn` holds, among those for whom it is known.

    `fn` maps the value-count frame of `cols` to True, False or missing (``pd.NA``) per
    row: missing where the values recorded cannot say (as for any other row, those
    patients are counted as missing and left out of the denominator)."""
    if any(col not in c for col in cols):
        return Row(section, label, "absent")
    counts = c.of(*cols)
    holds = pd.Series(fn(counts), dtype="boolean").reset_index(drop=True)
    missing = _total(counts, holds.isna())
    return Row(
        section,
        label,
        "count",
        n=_total(counts, holds.fillna(False)),
        denominator=int(c.n - missing),
        missing=missing,
    )


def _text(d: pd.DataFrame, col: str) -> pd.Series:
    """A column as text, missing values as ``pd.NA`` (comparisons then give NA)."""
    return d[col].astype("string")


def black_or_hispanic(d: pd.DataFrame) -> pd.Series:
    """Black, or Hispanic or Latino: known as soon as either column says yes; known not
    only when both are recorded and neither does (Kleene logic of pandas' boolean)."""
    black = _text(d, "RACE") == "BLACK OR AFRICAN AMERICAN"
    hispanic = _text(d, "ETHNIC") == "HISPANIC OR LATINO"
    return black.astype("boolean") | hispanic.astype("boolean")


def smoking_history(d: pd.DataFrame) -> pd.Series:
    """Current or former smoker; missing where the smoking status is."""
    status = _text(d, "SMOKSTAT")
    return status.isin(["CURRENT", "FORMER"]).astype("boolean").mask(status.isna())


def free_of_nephropathy(d: pd.DataFrame) -> pd.Series:
    """No contrast-induced nephropathy (CINFL = N); missing where CINFL is."""
    return (_text(d, "CINFL") == "N").astype("boolean")


def table1_from(c: Counts, provenance: Provenance) -> SummaryTable:
    """Table 1 of the patients counted in `c`."""
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
            black_or_hispanic,
        ),
        numeric(c, "Body-mass index", "BMI", "Median (range)", kind="median_range", unit="kg/m2"),
        derived(c, "Smoking", "History of smoking", ("SMOKSTAT",), smoking_history),
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
        provenance.with_method(f"counts of non-missing values; medians with {QUANTILE_NOTE}"),
    )


def table1_view(store: Store, filters: FilterState, counts: Counts | None = None) -> SummaryTable:
    """Table 1 of the patients passing `filters` (`counts`: their value counts, if the
    caller has them)."""
    return table1_from(counts or ColumnCounts(store, filters), store.provenance(filters))


def table2_from(
    c: Counts,
    reint: Reinterventions,
    proc: ProceduralSuccess,
    reintervention_day: float,
    procedural_day: float,
    provenance: Provenance,
) -> SummaryTable:
    """Table 2 of the patients counted in `c`, with their reinterventions and
    procedural success counted at the given days."""
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
            free_of_nephropathy,
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
        provenance.with_method(
            f"counts of non-missing values; medians with {QUANTILE_NOTE}; reintervention and "
            "procedural success among technical successes"
        ),
    )


def table2_view(
    store: Store,
    filters: FilterState,
    reintervention_day: float = 183,
    procedural_day: float = 30,
    counts: Counts | None = None,
) -> SummaryTable:
    """Table 2 of the patients passing `filters`, reinterventions by `reintervention_day`
    and procedural success at `procedural_day`."""
    events = technical_success_events(store, filters, (reintervention_day, procedural_day))
    return table2_from(
        counts or ColumnCounts(store, filters),
        reinterventions(events, reintervention_day),
        procedural_success(events, procedural_day),
        reintervention_day,
        procedural_day,
        store.provenance(filters),
    )
