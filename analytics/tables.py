"""Table 1 (baseline characteristics) and Table 2 (procedure) for any cohort.

Each row is a count with its denominator and missing values, or a median with
IQR or range. Columns absent from an extract appear as "not in data" rather
than vanishing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from analytics.describe import QUANTILE_NOTE, Row, count_row, numeric_row
from analytics.provenance import Provenance
from analytics.schema import ADSL
from analytics.store import Cohort


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
                "Value": [r.text() for r in self.rows],
                "n": [r.n for r in self.rows],
                "Denominator": [r.denominator for r in self.rows],
                "Missing": [r.missing for r in self.rows],
            }
        )


def _codes(col: str) -> tuple[str, ...]:
    try:
        return ADSL.column(col).codes
    except KeyError:
        return ()


def categorical(
    df: pd.DataFrame, section: str, col: str, labels: dict[str, str] | None = None
) -> list[Row]:
    """One count row per level (schema codes first, then any others seen)."""
    if col not in df:
        return [Row(section, section, "absent")]
    values = df[col].astype("string")
    missing = int(values.isna().sum())
    denom = len(values) - missing
    seen = [str(v) for v in values.dropna().unique()]
    levels = [c for c in _codes(col) if c in seen or not seen] + sorted(
        v for v in seen if v not in _codes(col)
    )
    labels = labels or {}
    return [count_row(section, labels.get(lv, lv), values == lv, denom, missing) for lv in levels]


def flag(df: pd.DataFrame, section: str, col: str, label: str) -> Row:
    if col not in df:
        return Row(section, label, "absent")
    values = df[col].astype("string")
    missing = int(values.isna().sum())
    return count_row(section, label, values == "Y", len(values) - missing, missing)


def numeric(
    df: pd.DataFrame, section: str, col: str, label: str, kind: str = "median_iqr", unit: str = ""
) -> Row:
    if col not in df:
        return Row(section, label, "absent")
    return numeric_row(section, label, df[col], kind=kind, unit=unit)  # type: ignore[arg-type]


def _derived(
    df: pd.DataFrame,
    section: str,
    label: str,
    cols: tuple[str, ...],
    fn: Callable[[pd.DataFrame], pd.Series],
) -> Row:
    if any(c not in df for c in cols):
        return Row(section, label, "absent")
    return count_row(section, label, fn(df), len(df))


def table1(cohort: Cohort) -> SummaryTable:
    df = cohort.adsl
    rows: list[Row] = [
        numeric(df, "Age, years", "AGE", "Median (range)", kind="median_range", unit="years"),
        *categorical(df, "Age group", "AGEGR1"),
        *categorical(df, "Sex", "SEX", {"M": "Male", "F": "Female"}),
        *categorical(df, "Race", "RACE"),
        *categorical(df, "Ethnic group", "ETHNIC"),
        _derived(
            df,
            "Race or ethnic group",
            "Black, or Hispanic or Latino",
            ("RACE", "ETHNIC"),
            lambda d: (
                (d["RACE"] == "BLACK OR AFRICAN AMERICAN") | (d["ETHNIC"] == "HISPANIC OR LATINO")
            ),
        ),
        numeric(df, "Body-mass index", "BMI", "Median (range)", kind="median_range", unit="kg/m2"),
        _derived(
            df,
            "Smoking",
            "History of smoking",
            ("SMOKSTAT",),
            lambda d: d["SMOKSTAT"].isin(["CURRENT", "FORMER"]),
        ),
        *categorical(df, "Smoking", "SMOKSTAT"),
        flag(df, "Medical history", "STROKEFL", "Prior stroke"),
        flag(df, "Medical history", "MIFL", "Prior myocardial infarction"),
        flag(df, "Medical history", "HTNFL", "Hypertension"),
        flag(df, "Medical history", "DLPFL", "Dyslipidaemia"),
        flag(df, "Medical history", "DIABFL", "Diabetes"),
        *categorical(df, "Diabetes type", "DIABTYP"),
        flag(df, "Medical history", "CKDFL", "Chronic kidney disease"),
        flag(df, "Medical history", "DIALFL", "Dialysis"),
        *categorical(df, "Rutherford class", "RUTHCAT"),
        flag(df, "Target limb", "PRIORFL", "Prior intervention on the target limb"),
        *categorical(df, "Reason for no revascularisation option", "NOOPTRS"),
    ]
    return SummaryTable(
        "Table 1. Baseline characteristics",
        cohort.n,
        tuple(rows),
        cohort.provenance.with_method(
            f"counts of non-missing values; medians with {QUANTILE_NOTE}"
        ),
    )


def table2(
    cohort: Cohort, reintervention_day: float = 183, procedural_day: float = 30
) -> SummaryTable:
    from analytics.outcomes import procedural_success, reinterventions

    df = cohort.adsl
    reint = reinterventions(cohort, reintervention_day)
    proc = procedural_success(cohort, procedural_day)
    rows: list[Row] = [
        flag(df, "Procedure", "TECHSFL", "Technical success"),
        *categorical(df, "Crossing vein", "XVEIN"),
        *categorical(df, "Crossing artery", "XARTERY"),
        numeric(df, "Procedure metrics", "PROCMIN", "Procedure time, min", unit="min"),
        numeric(df, "Procedure metrics", "RADMGY", "Radiation dose, mGy", unit="mGy"),
        numeric(df, "Procedure metrics", "CONTRML", "Contrast volume, mL", unit="mL"),
        _derived(
            df,
            "Procedure metrics",
            "Free from contrast-induced nephropathy at 72 h",
            ("CINFL",),
            lambda d: d["CINFL"] == "N",
        ),
        numeric(df, "Procedure metrics", "ACDURD", "Anticoagulation duration, days", unit="days"),
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
        cohort.n,
        tuple(rows),
        cohort.provenance.with_method(
            f"counts of non-missing values; medians with {QUANTILE_NOTE}; reintervention and "
            "procedural success among technical successes"
        ),
    )
