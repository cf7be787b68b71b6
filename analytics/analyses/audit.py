"""The outcome set NICE IPG773 (recommendation 1.4) asks audits and registries of
percutaneous deep venous arterialisation to report, for the patients in view: patient
selection (dialysis first), the technique (crossing artery and vein), anticoagulation
duration, planned and unplanned reinterventions, the major amputation rate and quality
of life; mortality is added because death competes with amputation.

Every number comes from the estimators the other pages use: counts and medians are
``analytics.analyses.tables`` rows of the store's value counts, reinterventions and
crude event counts
``analytics.analyses.outcomes``, the rates at the landmark Kaplan-Meier
(``analytics.analyses.survival``) and Aalen-Johansen (``analytics.estimators.competing``).
An item the extract does not hold is kept, marked absent, and named in `Audit.lacking`.
The result's items and how they read are `analytics.analyses.audit_items`'.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import pandas as pd

from analytics.analyses import views
from analytics.analyses.audit_items import (
    AMPUTATION,
    ANTICOAGULATION,
    MORTALITY,
    QUALITY_OF_LIFE,
    REINTERVENTION,
    SECTIONS,
    SELECTION,
    TECHNIQUE,
    Audit,
    Estimate,
    Item,
    KindCount,
    text,
)
from analytics.analyses.outcomes import event_counts, reinterventions
from analytics.analyses.survival import endpoint_cumulative_incidence, kaplan_meier
from analytics.analyses.tables import ColumnCounts, Counts, categorical, flag, numeric
from analytics.analyses.visits import BASELINE, nearest_visit
from analytics.estimators.describe import QUANTILE_NOTE, Row, numeric_row
from analytics.estimators.km import CI_LABELS, CIType
from analytics.model.filters import FilterState
from analytics.model.schema import ARTERY_CODES, NO_OPTION_CODES, VEIN_CODES
from analytics.store import Cohort, Store, queries

__all__ = [
    "AMPUTATION",
    "ANTICOAGULATION",
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
    "audit_view",
    "text",
]

QOL_COLUMN = "QOLSCORE"
AUDIT_ENDPOINTS = ("AFS", "LS", "OS", "REINT")

RUTHERFORD_LABELS = {
    "5": "Rutherford 5 (minor tissue loss)",
    "6": "Rutherford 6 (major tissue loss)",
}
NO_OPTION_LABELS = {c: f"No option: {c.lower()}" for c in NO_OPTION_CODES}
ARTERY_LABELS = {c: f"Crossing artery: {c.lower()}" for c in ARTERY_CODES}
VEIN_LABELS = {c: f"Crossing vein: {c.lower()}" for c in VEIN_CODES}

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


def _lacking(have: frozenset[str], codes: set[str], qol: bool) -> tuple[str, ...]:
    # in words: the page shows them (the Data page's quality report names the columns)
    needs: Sequence[tuple[str, bool]] = (
        ("dialysis", "DIALFL" in have),
        ("crossing artery", "XARTERY" in have),
        ("crossing vein", "XVEIN" in have),
        ("anticoagulation duration", "ACDURD" in have),
        ("reinterventions", "REINT" in codes),
        ("limb salvage", "LS" in codes),
        ("overall survival", "OS" in codes),
        ("quality of life", qol),
    )
    return tuple(what for what, present in needs if not present)


def _audit_cohort(store: Store, filters: FilterState, qol: bool) -> Cohort:
    """What the reintervention, amputation, mortality and quality-of-life items read:
    the patients in view with TECHSFL, their rows of `AUDIT_ENDPOINTS` and, when the
    extract has a quality-of-life score, their visits' scores."""
    cohort = views.subject_cohort(store, filters, ["TECHSFL"], endpoints=AUDIT_ENDPOINTS)
    if not qol:
        return cohort
    visits = queries.event_rows(
        store.cursor(),
        store.subject_where(filters),
        "visits",
        store.column_types["visits"],
        ["USUBJID", "AVISIT", "AVISITN", QOL_COLUMN],
    )
    return replace(cohort, visits=visits)


def audit_view(
    store: Store, filters: FilterState, day: float = 183, ci_type: CIType = "log-log"
) -> Audit:
    """The audit of the patients passing `filters`, with rates at `day` (default 6
    months). An item is absent when the whole extract lacks it (not when the patients
    in view do): a subject column nobody has, a quality-of-life score nobody has."""
    counts = ColumnCounts(store, filters)
    if counts.n == 0:
        raise ValueError("no patients to audit")
    have = views.populated_columns(store)
    visit_columns = store.column_types["visits"]
    qol = QOL_COLUMN in visit_columns and queries.column_recorded(
        store.cursor(), "visits", QOL_COLUMN, visit_columns
    )
    cohort = _audit_cohort(store, filters, qol)
    codes = set(cohort.adtte["PARAMCD"])
    visit = nearest_visit(cohort, day) if qol else BASELINE
    return Audit(
        n=counts.n,
        day=day,
        ci_type=ci_type,
        qol_visit=visit,
        selection=_selection(counts, have),
        technique=_technique(counts, have),
        anticoagulation=_anticoagulation(counts, have),
        reinterventions=_reinterventions(cohort, day),
        amputation=_amputation(cohort, day, ci_type, codes),
        quality_of_life=_quality_of_life(cohort, visit, qol),
        mortality=_mortality(cohort, day, ci_type, codes),
        lacking=_lacking(have, codes, qol),
        provenance=store.provenance(filters).with_method(
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
