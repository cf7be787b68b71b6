"""The NICE IPG773 audit's result: its sections, its items (counts, medians, estimates
at the landmark, reintervention kinds that may not be recorded) and how each reads on
the page and in the audit's table. What fills them is `analytics.analyses.audit`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from analytics.analyses.tables import row_text
from analytics.estimators.describe import Row
from analytics.estimators.km import CIType
from analytics.model.provenance import Provenance

__all__ = [
    "AMPUTATION",
    "ANTICOAGULATION",
    "MORTALITY",
    "NOT_IN_EXTRACT",
    "QUALITY_OF_LIFE",
    "REINTERVENTION",
    "SECTIONS",
    "SELECTION",
    "TECHNIQUE",
    "Audit",
    "Estimate",
    "Item",
    "KindCount",
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
