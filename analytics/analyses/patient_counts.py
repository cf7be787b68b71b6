"""Table 1, Table 2, the procedure summary and the safety tables from DuckDB aggregates.

``analytics.analyses.tables``, ``analytics.analyses.procedure`` and
``analytics.analyses.safety`` read one row per patient; at a million patients loading
them and counting in pandas takes seconds.
Every row of Tables 1 and 2 is built from value counts (``analytics.analyses.tables.Counts``);
here each column is read as its value counts (``GROUP BY``) in DuckDB and handed to
the same table specifications. The rest is counted by the
original functions on the few rows that can change it: reinterventions and
procedural success on the technical successes' events up to the day, adverse events
on the adverse-event rows and the number of patients. The results equal the
per-patient ones (``tests/test_patient_counts.py`` checks every field on the demo).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analytics.analyses.outcomes import procedural_success, reinterventions
from analytics.analyses.procedure import ProcedureSummary, assemble
from analytics.analyses.safety import (
    NOT_RECORDED,
    CauseCount,
    Deaths,
    MinorAmputations,
    SafetySummary,
    adverse_event_table,
    minor_amputations,
)
from analytics.analyses.tables import N, SummaryTable, table1_from, table2_from
from analytics.model.filters import FilterState, quote_ident
from analytics.store import Cohort, Store

__all__ = [
    "ColumnCounts",
    "deaths_view",
    "procedure_view",
    "safety_view",
    "table1_view",
    "table2_view",
]


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


def table1_view(
    store: Store, filters: FilterState, counts: ColumnCounts | None = None
) -> SummaryTable:
    """``analytics.analyses.tables.table1(store.cohort(filters))`` from value counts."""
    c = counts or ColumnCounts(store, filters)
    return table1_from(c, store.provenance(filters))


def technical_success_events(store: Store, filters: FilterState, days: Sequence[float]) -> Cohort:
    """All that ``analytics.analyses.outcomes.reinterventions`` and ``procedural_success`` read
    up to the latest of `days`: the technical successes in view (USUBJID, TECHSFL) and
    their AFS and REINT events on or before it. Their counts on this cohort are those on
    the whole cohort: both count technical successes only, events by the day only."""
    where, params = store.subject_where(filters)
    # as `analytics.analyses.outcomes`: no technical success recorded among the patients in view
    # means every patient counts
    recorded = "TECHSFL" in store.subject_columns() and bool(
        store.query(f"SELECT count(TECHSFL) AS n FROM adsl WHERE {where}", params)["n"].iloc[0]
    )
    if recorded:
        cols, where, params = "USUBJID, TECHSFL", f"{where} AND TECHSFL = ?", [*params, "Y"]
    else:  # every patient counts as a technical success (`analytics.analyses.outcomes`)
        cols = "USUBJID"
    adsl = store.query(f"SELECT {cols} FROM adsl WHERE {where} ORDER BY USUBJID", params)
    adtte = store.query(
        "SELECT * FROM adtte WHERE PARAMCD IN ('AFS', 'REINT') AND CNSR = 0 AND AVAL <= ? "
        f"AND USUBJID IN (SELECT USUBJID FROM adsl WHERE {where}) ORDER BY USUBJID, PARAMCD",
        [float(max(days)), *params],
    )
    return store.partial_cohort(filters, adsl, adtte)


def table2_view(
    store: Store,
    filters: FilterState,
    reintervention_day: float = 183,
    procedural_day: float = 30,
    counts: ColumnCounts | None = None,
) -> SummaryTable:
    """``analytics.analyses.tables.table2(store.cohort(filters), ...)`` from value counts."""
    c = counts or ColumnCounts(store, filters)
    events = technical_success_events(store, filters, (reintervention_day, procedural_day))
    return table2_from(
        c,
        reinterventions(events, reintervention_day),
        procedural_success(events, procedural_day),
        reintervention_day,
        procedural_day,
        store.provenance(filters),
    )


def procedure_view(
    store: Store,
    filters: FilterState,
    reintervention_day: float = 183,
    procedural_day: float = 30,
    table2: SummaryTable | None = None,
) -> ProcedureSummary:
    """``analytics.analyses.procedure.procedure_summary(store.cohort(filters), ...)`` from value
    counts; `table2` is ``table2_view`` with the same days if the caller has it."""
    t2 = table2 or table2_view(store, filters, reintervention_day, procedural_day)
    events = technical_success_events(store, filters, (reintervention_day,))
    reint = reinterventions(events, reintervention_day)
    return assemble(t2, reint, t2.n, reintervention_day, procedural_day, store.provenance(filters))


# --- safety ----------------------------------------------------------------------------


def deaths_view(store: Store, filters: FilterState, counts: ColumnCounts | None = None) -> Deaths:
    """``analytics.analyses.safety.deaths(store.cohort(filters))`` from value counts."""
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
    """All that ``analytics.analyses.safety``'s adverse-event tables read: the adverse-event rows
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
    # the subject table holds no column, only that many rows
    return store.partial_cohort(filters, pd.DataFrame(index=pd.RangeIndex(count)), adae=adae)


def safety_view(
    store: Store, filters: FilterState, day: float | None = 183
) -> tuple[SafetySummary, MinorAmputations, Deaths]:
    """Adverse events and minor amputations with onset by `day` (None: whole follow-up),
    and deaths by cause, as ``analytics.analyses.safety`` gives them for
    ``store.cohort(filters)``."""
    c = ColumnCounts(store, filters)
    cohort = adverse_event_cohort(store, filters, c.n)
    return (
        adverse_event_table(cohort, day),
        minor_amputations(cohort, day),
        deaths_view(store, filters, c),
    )
