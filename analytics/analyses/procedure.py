"""The procedure at a glance: technical and procedural success, reinterventions and
the procedure metrics, each as a :class:`analytics.estimators.describe.Row` (count with its
denominator, or median with IQR and the number missing).

Every number is the one Table 2 and ``analytics.analyses.outcomes`` give for the same
patients (the rows are Table 2's where it has them):
reinterventions and procedural success among technical successes; medians with
quartiles by Hyndman-Fan definition 2.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from analytics.analyses.outcomes import reinterventions, technical_success_events
from analytics.analyses.tables import SummaryTable, table2_view
from analytics.estimators.describe import QUANTILE_NOTE, Row
from analytics.model.filters import FilterState
from analytics.model.provenance import Provenance
from analytics.store import Store

__all__ = ["ProcedureSummary", "procedure_view"]

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


def procedure_view(
    store: Store,
    filters: FilterState,
    reintervention_day: float = 183,
    procedural_day: float = 30,
    table2: SummaryTable | None = None,
) -> ProcedureSummary:
    """The procedure summary of the patients passing `filters`; `table2` is
    `analytics.analyses.tables.table2_view` with the same days if the caller has it."""
    t2 = table2 or table2_view(store, filters, reintervention_day, procedural_day)
    events = technical_success_events(store, filters, (reintervention_day,))
    reint = reinterventions(events, reintervention_day)
    within = f"within {reintervention_day:g} days"
    return ProcedureSummary(
        n=t2.n,
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
        provenance=store.provenance(filters).with_method(
            "technical success among all patients; procedural success (no death, major "
            f"amputation or reintervention by day {procedural_day:g}) and first "
            f"reinterventions by day {reintervention_day:g} (planned or unplanned) among "
            f"technical successes; medians with {QUANTILE_NOTE}"
        ),
    )
