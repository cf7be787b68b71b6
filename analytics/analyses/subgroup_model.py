"""The terms of the subgroup analysis (``analytics.analyses.subgroups``): what a
subgroup variable is (a subject column, or a variable derived from one, as the paper's
age split), its clinical label, the order of its levels, what is reported when the data
do not hold it, and the result: one row per level, one entry per variable.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from analytics.estimators.cox_likelihood import Ties
from analytics.estimators.km import CIType
from analytics.model.labels import Labels
from analytics.model.provenance import Provenance
from analytics.model.schema import ADSL

NOT_IN_DATA = "not in the data"


@dataclass(frozen=True)
class DerivedSplit:
    """A subgroup variable derived from a numeric subject column: <= cut vs > cut."""

    name: str  # the variable's name in results (never a column name: it has spaces)
    label: str
    source: str  # the subject column it is read from
    cut: float
    words: tuple[str, str] = ("", "")  # the two levels as a reader reads them
    plain_label: str = ""  # the variable as a reader reads it

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
AGE_SPLIT = DerivedSplit(
    "AGE <=70 / >70",
    "Age <=70 / >70 (from AGE)",
    "AGE",
    70,
    words=("70 or younger", "Over 70"),
    plain_label="Age at enrolment, split at 70 years",
)
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


# Identifiers and what happens after the procedure are not baseline subgroups.
NOT_SUBGROUPS = frozenset({"STUDYID", "USUBJID", "DTHFL", "DTHCAUS", "EOSSTT"})


def candidate_columns(columns: Mapping[str, str]) -> list[str]:
    """Subject columns (name -> SQL type) a user may add: not identifiers, dates or
    outcomes, nor a prespecified subgroup."""
    return [
        col
        for col, sql_type in columns.items()
        if col not in NOT_SUBGROUPS
        and col not in DEFAULT_SUBGROUPS
        and "DATE" not in sql_type.upper()
        and "TIME" not in sql_type.upper()
    ]


def subgroup_variables(columns: Collection[str], wanted: Sequence[str | None]) -> list[str]:
    """Every prespecified subgroup (one the data lack gets its "not in the data" note),
    then each wanted column the data have: the compare-by column, those added."""
    variables = list(DEFAULT_SUBGROUPS)
    for col in wanted:
        if col and col not in variables and col in columns:
            variables.append(col)
    return variables


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


def schema_order(variable: str) -> tuple[str, ...]:
    if variable in DERIVED:
        return DERIVED[variable].levels
    try:
        return ADSL.column(variable).allowed
    except KeyError:
        return ()


def is_flag(variable: str) -> bool:
    if variable in DERIVED:
        return False
    try:
        return ADSL.column(variable).type == "flag"
    except KeyError:
        return False


def variable_label(variable: str) -> str:
    if variable in DERIVED:
        return DERIVED[variable].label
    try:
        return ADSL.column(variable).label
    except KeyError:
        return variable


def fmt(x: float) -> str:
    return f"{x:g}"


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

    def in_words(self, labels: Labels) -> SubgroupResult:
        """The same result with variables and levels named in clinical words, for a
        table or figure a person reads (the codes stay in this result)."""

        def word(variable: str, level: str | None) -> str | None:
            if level is None:
                return None
            split = DERIVED.get(variable)
            if split is not None:
                return dict(zip(split.levels, split.words, strict=True)).get(level, level)
            return labels.value(variable, level)

        def name(variable: str) -> str:
            split = DERIVED.get(variable)
            return split.plain_label if split else labels.column(variable)

        return replace(
            self,
            variables=tuple(
                replace(
                    var,
                    label=name(var.variable),
                    reference=word(var.variable, var.reference),
                    levels=tuple(
                        replace(lv, level=word(var.variable, lv.level) or lv.level)
                        for lv in var.levels
                    ),
                )
                for var in self.variables
            ),
        )


def absent_variable(name: str, n: int, column_present: bool = True) -> SubgroupVariable:
    """A variable none of whose `n` patients has a value: no levels, a note."""
    return SubgroupVariable(
        name,
        variable_label(name),
        None,
        (),
        n,
        None,
        None,
        None,
        None,
        not_in_data(name, column_present),
    )
