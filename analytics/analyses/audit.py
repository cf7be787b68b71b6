"""The outcome set NICE IPG773 (recommendation 1.4) asks audits and registries of
percutaneous deep venous arterialisation to report, for the patients in view: patient
selection (dialysis first), the technique (crossing artery and vein), anticoagulation
duration, planned and unplanned reinterventions, the major amputation rate and quality
of life; mortality is added because death competes with amputation.

Every number comes from the estimators the other pages use: counts and medians are
``analytics.analyses.tables`` rows, reinterventions and crude event counts
``analytics.analyses.outcomes``, the rates at the landmark Kaplan-Meier
(``analytics.analyses.survival``) and Aalen-Johansen (``analytics.estimators.competing``).
An item the extract does not hold is kept, marked absent, and named in `Audit.lacking`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import pandas as pd

from analytics.analyses import views
from analytics.analyses.outcomes import event_counts, reinterventions
from analytics.analyses.survival import kaplan_meier
from analytics.analyses.tables import Counts, FrameCounts, categorical, flag, numeric, row_text
from analytics.analyses.visits import BASELINE, nearest_visit
from analytics.estimators.competing import endpoint_cumulative_incidence
from analytics.estimators.describe import QUANTILE_NOTE, Row, numeric_row
from analytics.estimators.km import CI_LABELS, CIType
from analytics.model.filters import FilterState
from analytics.model.provenance import Provenance
from analytics.model.schema import ARTERY_CODES, NO_OPTION_CODES, VEIN_CODES
from analytics.store import Cohort, Store

__all__ = [
    "AMPUTATION",
    "ANTICOAGULATION",
    "AUDIT_COLUMNS",
    "AUDIT_ENDPOINTS",
    "MORTALITY",
    "QOL_COLUMN",
    "QUALITY_OF_LIFE",
    "REINTERVENTION",
    "SECTIONS",
    "SELECTION",
    "TECHNIQUE",
    "Audit",
    "Estimate",
    "Item",
    "KindCount",
    "audit",
    "audit_view",
    "text",
]

SELECTION = "Patient selection"
TECHNIQUE = "Technique"
ANTICOAGULATION = "Anticoagulation"
REINTERVENTION = "Reinterventions"
AMPUTATION = "Major amputation"
QUALITY_OF_LIFE = "Quality of life"
MORTALITY = "Mortality"
# The guidance's order, then mortality (the competing event of amputation).
SECTIONS = (
    SELECTION,
    TECHNIQUE,
    ANTICOAGULATION,
    REINTERVENTION,
    AMPUTATION,
    QUALITY_OF_LIFE,
    MORTALITY,
)

QOL_COLUMN = "QOLSCORE"
AUDIT_COLUMNS = (
    "DIALFL",
    "RUTHCAT",
    "DIABFL",
    "CKDFL",
    "NOOPTRS",
    "TECHSFL",
    "XARTERY",
    "XVEIN",
    "ACDURD",
)
AUDIT_ENDPOINTS = ("AFS", "LS", "OS", "REINT")

RUTHERFORD_LABELS = {
    "5": "Rutherford 5 (minor tissue loss)",
    "6": "Rutherford 6 (major tissue loss)",
}
NO_OPTION_LABELS = {c: f"No option: {c.lower()}" for c in NO_OPTION_CODES}
ARTERY_LABELS = {c: f"Crossing artery: {c.lower()}" for c in ARTERY_CODES}
VEIN_LABELS = {c: f"Crossing vein: {c.lower()}" for c in VEIN_CODES}
NOT_IN_EXTRACT = "not in this extract"


@dataclass(frozen=True)
class Estimate:
    """A proportion at `day` from a survival estimator, with its 95% CI."""

    section: str
    label: str
    day: float
    estimate: float
    lower: float
    upper: float
    at_risk: float

    def text(self) -> str:
        if not (math.isfinite(self.lower) and math.isfinite(self.upper)):
            ci = "95% CI not estimable"
        else:
            ci = f"95% CI {100 * self.lower:.1f}-{100 * self.upper:.1f}"
        risk = f"; {self.at_risk:g} at risk" if math.isfinite(self.at_risk) else ""
        return f"{100 * self.estimate:.1f}% ({ci}){risk}"


@dataclass(frozen=True)
class KindCount:
    """Patients whose first reintervention is of one kind (planned or unplanned), among
    technical successes, when the kind may not be recorded for every patient.

    `n` is None when no reintervention counted has its kind recorded: the split is then
    not recorded (shown as such, never as 0). `not_recorded` counts the patients with a
    reintervention whose kind is unknown; they are in no kind's `n`.
    """

    section: str
    label: str
    n: int | None
    denominator: int
    not_recorded: int

    def text(self) -> str:
        k = self.not_recorded
        if self.n is None:
            who = "patient" if k == 1 else "patients"
            return f"not recorded (kind not recorded for {k} {who} with a reintervention)"
        share = f" ({100 * self.n / self.denominator:.1f}%)" if self.denominator else ""
        unknown = f"; kind not recorded: {k}" if k else ""
        return f"{self.n}/{self.denominator}{share}{unknown}"


Item = Row | Estimate | KindCount


@dataclass(frozen=True)
class Audit:
    """The audit of one cohort. Each section is a tuple of rows in display order; an
    item the extract lacks is a row of kind "absent" and is named in `lacking`."""

    n: int
    day: float
    ci_type: CIType
    qol_visit: str  # the follow-up visit quality of life is read at
    selection: tuple[Row, ...]
    technique: tuple[Row, ...]
    anticoagulation: tuple[Row, ...]  # median with IQR, then the same with the range
    reinterventions: tuple[Item, ...]  # any, then planned and unplanned (KindCount)
    amputation: tuple[Item, ...]
    quality_of_life: tuple[Row, ...]
    mortality: tuple[Item, ...]
    lacking: tuple[str, ...]
    provenance: Provenance

    @property
    def sections(self) -> tuple[tuple[str, tuple[Item, ...]], ...]:
        return (
            (SELECTION, self.selection),
            (TECHNIQUE, self.technique),
            (ANTICOAGULATION, self.anticoagulation),
            (REINTERVENTION, self.reinterventions),
            (AMPUTATION, self.amputation),
            (QUALITY_OF_LIFE, self.quality_of_life),
            (MORTALITY, self.mortality),
        )

    def item(self, label: str) -> Item:
        for _, items in self.sections:
            for it in items:
                if it.label == label:
                    return it
        raise KeyError(f"no audit item {label!r}")

    def to_frame(self) -> pd.DataFrame:
        """The whole audit as one table. ``n`` counts patients with the event or level,
        or with a value for a median; estimates are proportions."""
        return pd.DataFrame([_record(it) for _, items in self.sections for it in items])


def text(it: Item) -> str:
    """An item's value as the page and the table show it."""
    if isinstance(it, Row):
        return NOT_IN_EXTRACT if it.kind == "absent" else row_text(it)
    return it.text()


def _record(it: Item) -> dict[str, object]:
    out: dict[str, object] = {"Section": it.section, "Item": it.label, "Value": text(it)}
    if isinstance(it, Estimate):
        out.update(
            {"Estimate": it.estimate, "Lower": it.lower, "Upper": it.upper, "At risk": it.at_risk}
        )
        return out
    if isinstance(it, KindCount):
        # n is empty when the kind is not recorded; Missing: patients of unknown kind
        out.update({"n": it.n, "Denominator": it.denominator, "Missing": it.not_recorded})
        return out
    if it.kind == "absent":
        return out
    counted = it.n if it.kind == "count" else it.denominator - it.missing
    out.update({"n": counted, "Denominator": it.denominator, "Missing": it.missing})
    if it.kind != "count":
        out.update(
            {
                "Median": it.median,
                "Q1": it.q1,
                "Q3": it.q3,
                "Minimum": it.minimum,
                "Maximum": it.maximum,
            }
        )
    return out


# --- sections ----------------------------------------------------------------------------


def _flag(df: Counts, have: frozenset[str], section: str, col: str, label: str) -> Row:
    return flag(df, section, col, label) if col in have else Row(section, label, "absent")


def _levels(
    df: Counts,
    have: frozenset[str],
    section: str,
    col: str,
    label: str,
    labels: dict[str, str] | None = None,
) -> list[Row]:
    if col not in have:
        return [Row(section, label, "absent")]
    return categorical(df, section, col, labels)


def _selection(df: Counts, have: frozenset[str]) -> tuple[Row, ...]:
    return (
        _flag(df, have, SELECTION, "DIALFL", "On dialysis"),
        *_levels(df, have, SELECTION, "RUTHCAT", "Rutherford class", RUTHERFORD_LABELS),
        _flag(df, have, SELECTION, "DIABFL", "Diabetes"),
        _flag(df, have, SELECTION, "CKDFL", "Chronic kidney disease"),
        *_levels(
            df,
            have,
            SELECTION,
            "NOOPTRS",
            "Reason for no revascularisation option",
            NO_OPTION_LABELS,
        ),
    )


def _technique(df: Counts, have: frozenset[str]) -> tuple[Row, ...]:
    return (
        _flag(df, have, TECHNIQUE, "TECHSFL", "Technical success"),
        *_levels(df, have, TECHNIQUE, "XARTERY", "Crossing artery", ARTERY_LABELS),
        *_levels(df, have, TECHNIQUE, "XVEIN", "Crossing vein", VEIN_LABELS),
    )


def _anticoagulation(df: Counts, have: frozenset[str]) -> tuple[Row, ...]:
    label = "Anticoagulation duration, days"
    if "ACDURD" not in have:
        return (Row(ANTICOAGULATION, label, "absent"),)
    iqr = numeric(df, ANTICOAGULATION, "ACDURD", f"{label}: median (IQR)", unit="days")
    return iqr, replace(iqr, label=f"{label}: median (range)", kind="median_range")


def _reinterventions(cohort: Cohort, day: float) -> tuple[Item, ...]:
    """Patients with a reintervention (any, then by the kind of their first one) by the
    landmark and over the whole follow-up, among technical successes; the counting rule
    is `analytics.analyses.outcomes.Reinterventions`'. A kind no reintervention records is "not
    recorded", with the number of patients whose kind is unknown, never 0."""
    if "REINT" not in set(cohort.adtte["PARAMCD"]):
        return (Row(REINTERVENTION, "Reinterventions", "absent"),)
    rows: list[Item] = []
    for when, within in ((day, f"within {day:g} days"), (math.inf, "over the whole follow-up")):
        r = reinterventions(cohort, when)
        rows.append(
            Row(
                REINTERVENTION,
                f"Any reintervention {within}",
                "count",
                n=r.patients,
                denominator=r.denominator,
            )
        )
        for label, n in (
            (f"First reintervention planned, {within}", r.planned),
            (f"First reintervention unplanned, {within}", r.unplanned),
        ):
            rows.append(
                KindCount(
                    REINTERVENTION,
                    label,
                    n if r.kind_recorded else None,
                    r.denominator,
                    r.kind_not_recorded,
                )
            )
    return tuple(rows)


def _one_minus_km(
    cohort: Cohort, paramcd: str, section: str, label: str, day: float, ci_type: CIType
) -> Estimate:
    lm = kaplan_meier(cohort, paramcd, ci_type=ci_type, landmarks=(day,)).landmark(day)
    return Estimate(section, label, day, 1 - lm.estimate, 1 - lm.upper, 1 - lm.lower, lm.at_risk)


def _aalen_johansen(cohort: Cohort, label: str, day: float) -> Estimate:
    ls = cohort.endpoint("LS")
    if not (ls["CNSR"] == 0).any():
        # no amputation: the cumulative incidence is 0, with no interval to give
        return Estimate(AMPUTATION, label, day, 0.0, math.nan, math.nan, math.nan)
    lm = endpoint_cumulative_incidence(cohort, "LS", landmarks=(day,)).aalen_johansen
    at = lm.landmark(day)
    return Estimate(AMPUTATION, label, day, at.estimate, at.lower, at.upper, at.at_risk)


def _amputation(cohort: Cohort, day: float, ci_type: CIType, codes: set[str]) -> tuple[Item, ...]:
    rows: list[Item] = []
    if codes & {"LS", "AFS"}:
        for when, within in ((day, f"by day {day:g}"), (math.inf, "over the whole follow-up")):
            n = event_counts(cohort, when).major_amputations
            rows.append(
                Row(
                    AMPUTATION,
                    f"Major amputation {within} (crude)",
                    "count",
                    n=n,
                    denominator=cohort.n,
                )
            )
    else:
        rows.append(Row(AMPUTATION, "Major amputation (crude)", "absent"))
    km_label = f"Major amputation at day {day:g}: 1 - Kaplan-Meier limb salvage"
    aj_label = f"Major amputation at day {day:g}: cumulative incidence, death competing"
    if "LS" in codes:
        rows.append(_one_minus_km(cohort, "LS", AMPUTATION, km_label, day, ci_type))
        rows.append(_aalen_johansen(cohort, aj_label, day))
    else:
        rows += [Row(AMPUTATION, km_label, "absent"), Row(AMPUTATION, aj_label, "absent")]
    return tuple(rows)


def _mortality(cohort: Cohort, day: float, ci_type: CIType, codes: set[str]) -> tuple[Item, ...]:
    km_label = f"Mortality at day {day:g}: 1 - Kaplan-Meier survival"
    if "OS" not in codes:
        return (Row(MORTALITY, "Deaths (crude)", "absent"), Row(MORTALITY, km_label, "absent"))
    return (
        Row(
            MORTALITY,
            f"Deaths by day {day:g} (crude)",
            "count",
            n=event_counts(cohort, day).deaths_all,
            denominator=cohort.n,
        ),
        Row(
            MORTALITY,
            "Deaths over the whole follow-up (crude)",
            "count",
            n=event_counts(cohort, math.inf).deaths_all,
            denominator=cohort.n,
        ),
        _one_minus_km(cohort, "OS", MORTALITY, km_label, day, ci_type),
    )


def _quality_of_life(cohort: Cohort, visit: str, recorded: bool) -> tuple[Row, ...]:
    label = "Quality of life (VascuQoL-6, 6 to 24)"
    if not recorded:
        return (Row(QUALITY_OF_LIFE, label, "absent"),)
    v = cohort.visits
    base = v[v["AVISIT"] == BASELINE].set_index("USUBJID")[QOL_COLUMN]
    later = v[v["AVISIT"] == visit].set_index("USUBJID")[QOL_COLUMN]
    first = numeric_row(QUALITY_OF_LIFE, f"{label}: {BASELINE.lower()}, median (IQR)", base)
    if visit == BASELINE:  # no follow-up visit among the patients in view
        return (first,)
    both = pd.concat([base.rename("b"), later.rename("l")], axis=1, join="inner").dropna()
    return (
        first,
        numeric_row(QUALITY_OF_LIFE, f"{label}: {visit.lower()}, median (IQR)", later),
        numeric_row(
            QUALITY_OF_LIFE,
            f"Change from {BASELINE.lower()} to {visit.lower()}, patients with both: median (IQR)",
            both["l"] - both["b"],
        ),
    )


# --- the audit -----------------------------------------------------------------------------


def _populated(cohort: Cohort) -> frozenset[str]:
    return frozenset(c for c in cohort.adsl.columns if cohort.adsl[c].notna().any())


def _qol_recorded(cohort: Cohort) -> bool:
    v = cohort.visits
    return QOL_COLUMN in v and bool(v[QOL_COLUMN].notna().any())


def _lacking(have: frozenset[str], codes: set[str], qol: bool) -> tuple[str, ...]:
    needs: Sequence[tuple[str, bool]] = (
        ("dialysis (DIALFL)", "DIALFL" in have),
        ("crossing artery (XARTERY)", "XARTERY" in have),
        ("crossing vein (XVEIN)", "XVEIN" in have),
        ("anticoagulation duration (ACDURD)", "ACDURD" in have),
        ("reinterventions (REINT)", "REINT" in codes),
        ("limb salvage (LS)", "LS" in codes),
        ("overall survival (OS)", "OS" in codes),
        (f"quality of life ({QOL_COLUMN})", qol),
    )
    return tuple(what for what, present in needs if not present)


def audit(
    cohort: Cohort,
    day: float = 183,
    ci_type: CIType = "log-log",
    *,
    subject_columns: Iterable[str] | None = None,
    qol_recorded: bool | None = None,
) -> Audit:
    """The audit of `cohort` with rates at `day` (default 6 months).

    `subject_columns` are the subject columns the extract records and `qol_recorded`
    whether it holds any quality-of-life score; by default both are read from the
    cohort itself (a filter that leaves a column empty then marks it absent).
    """
    if cohort.n == 0:
        raise ValueError("no patients to audit")
    have = frozenset(subject_columns) if subject_columns is not None else _populated(cohort)
    qol = qol_recorded if qol_recorded is not None else _qol_recorded(cohort)
    codes = set(cohort.adtte["PARAMCD"])
    visit = nearest_visit(cohort, day) if qol else BASELINE
    df = FrameCounts(cohort.adsl)
    return Audit(
        n=cohort.n,
        day=day,
        ci_type=ci_type,
        qol_visit=visit,
        selection=_selection(df, have),
        technique=_technique(df, have),
        anticoagulation=_anticoagulation(df, have),
        reinterventions=_reinterventions(cohort, day),
        amputation=_amputation(cohort, day, ci_type, codes),
        quality_of_life=_quality_of_life(cohort, visit, qol),
        mortality=_mortality(cohort, day, ci_type, codes),
        lacking=_lacking(have, codes, qol),
        provenance=cohort.provenance.with_method(
            "NICE IPG773 audit set. Counts among patients with a recorded value (missing "
            f"shown); medians with {QUANTILE_NOTE}. Reinterventions: patients with a "
            "reintervention among technical successes; planned and unplanned by the kind of "
            "each patient's first reintervention (the only one the data model records), "
            "patients whose kind is not recorded counted apart. Major amputation: "
            "above-ankle; crude counts among all patients, 1 - Kaplan-Meier of limb salvage "
            f"({CI_LABELS[ci_type]}) and Aalen-Johansen cumulative incidence with death as a "
            "competing event (log CI, as R). Mortality: 1 - Kaplan-Meier of overall survival. "
            f"Quality of life: VascuQoL-6 total at {BASELINE.lower()} and {visit.lower()} "
            "among patients with a score."
        ),
    )


def audit_view(
    store: Store, filters: FilterState, day: float = 183, ci_type: CIType = "log-log"
) -> Audit:
    """`audit` of the patients passing `filters`, reading only the columns and rows it
    uses; absent items are judged on the whole extract, not on the patients in view."""
    cohort = views.subject_cohort(store, filters, AUDIT_COLUMNS, endpoints=AUDIT_ENDPOINTS)
    qol = QOL_COLUMN in store.column_types["visits"]
    if qol:
        where, params = store.subject_where(filters)
        visits = store.query(
            f"SELECT USUBJID, AVISIT, AVISITN, {QOL_COLUMN} FROM visits WHERE USUBJID IN "
            f"(SELECT USUBJID FROM adsl WHERE {where}) ORDER BY USUBJID, AVISITN",
            params,
        )
        recorded = store.query(f"SELECT count({QOL_COLUMN}) > 0 AS x FROM visits")["x"].iloc[0]
        qol = bool(recorded)
        cohort = replace(cohort, visits=visits)
    return audit(
        cohort,
        day,
        ci_type,
        subject_columns=views.populated_columns(store),
        qol_recorded=qol,
    )
