"""The procedure at a glance: technical and procedural success, reinterventions and
the procedure metrics, each as a :class:`analytics.estimators.describe.Row` (count with its
denominator, or median with IQR and the number missing).

Every number is the one Table 2 and ``analytics.analyses.outcomes`` give for the same cohort
(the rows are Table 2's where it has them):
reinterventions and procedural success among technical successes; medians with
quartiles by Hyndman-Fan definition 2.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from analytics.analyses.outcomes import Reinterventions, reinterventions
from analytics.analyses.tables import SummaryTable, table2
from analytics.estimators.describe import QUANTILE_NOTE, Row
from analytics.model.provenance import Provenance
from analytics.store import Cohort

__all__ = ["ProcedureSummary", "procedure_summary"]

SECTION = "Procedure"


@dataclass(frozen=True)
class ProcedureSummary:
    n: int
    reintervention_day: float
    procedural_day: float
    technical_success: Row
    procedural_success: Row
    reintervention: Row  # patients with a first reintervention by the day
    planned: Row  # of which planned
    unplanned: Row  # of which unplanned
    procedure_time: Row
    radiation: Row
    contrast: Row
    cin_free: Row  # free from contrast-induced nephropathy at 72 h
    anticoagulation: Row
    provenance: Provenance

    @property
    def rows(self) -> tuple[Row, ...]:
        return (
            self.technical_success,
            self.procedural_success,
            self.reintervention,
            self.planned,
            self.unplanned,
            self.procedure_time,
            self.radiation,
            self.contrast,
            self.cin_free,
            self.anticoagulation,
        )

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "Measure": [r.label for r in self.rows],
                "Value": [r.text() for r in self.rows],
                "n": [r.n for r in self.rows],
                "Denominator": [r.denominator for r in self.rows],
                "Median": [r.median for r in self.rows],
                "Q1": [r.q1 for r in self.rows],
                "Q3": [r.q3 for r in self.rows],
                "Missing": [r.missing for r in self.rows],
            }
        )


def procedure_summary(
    cohort: Cohort, reintervention_day: float = 183, procedural_day: float = 30
) -> ProcedureSummary:
    return assemble(
        table2(cohort, reintervention_day, procedural_day),
        reinterventions(cohort, reintervention_day),
        cohort.n,
        reintervention_day,
        procedural_day,
        cohort.provenance,
    )


def assemble(
    t2: SummaryTable,
    reint: Reinterventions,
    n: int,
    reintervention_day: float,
    procedural_day: float,
    provenance: Provenance,
) -> ProcedureSummary:
    """The summary from Table 2 and the reinterventions, however those were counted."""
    within = f"within {reintervention_day:g} days"
    return ProcedureSummary(
        n=n,
        reintervention_day=reintervention_day,
        procedural_day=procedural_day,
        technical_success=t2.row("Technical success"),
        procedural_success=t2.row(f"Procedural success (at {procedural_day:g} days)"),
        reintervention=t2.row(f"Reintervention {within}"),
        # a patient whose first reintervention is of unrecorded kind is missing for the
        # question "was it planned?", never counted as a no
        planned=Row(
            SECTION,
            f"Planned reintervention {within}",
            "count",
            n=reint.planned,
            denominator=reint.denominator - reint.kind_not_recorded,
            missing=reint.kind_not_recorded,
        ),
        unplanned=Row(
            SECTION,
            f"Unplanned reintervention {within}",
            "count",
            n=reint.unplanned,
            denominator=reint.denominator - reint.kind_not_recorded,
            missing=reint.kind_not_recorded,
        ),
        procedure_time=t2.row("Procedure time, min"),
        radiation=t2.row("Radiation dose, mGy"),
        contrast=t2.row("Contrast volume, mL"),
        cin_free=t2.row("Free from contrast-induced nephropathy at 72 h"),
        anticoagulation=t2.row("Anticoagulation duration, days"),
        provenance=provenance.with_method(
            "technical success among all patients; procedural success (no death, major "
            f"amputation or reintervention by day {procedural_day:g}) and first "
            f"reinterventions by day {reintervention_day:g} (planned or unplanned) among "
            f"technical successes; medians with {QUANTILE_NOTE}"
        ),
    )
