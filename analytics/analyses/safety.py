"""Safety: adverse events by term, minor amputations and deaths by cause.

Conventions (``data/README.md``): adverse events and minor amputations count onset on
or before the landmark day (``ASTDY <= day``), or over the whole follow-up when
``day`` is None; deaths count the whole follow-up. Patients are counted once per row
of a table however many events they had; events are counted each time.

Adverse events are counted on the adverse-event rows of the patients in view (the only
rows they read, `adverse_event_cohort`); deaths on the value counts of the death
columns (`analytics.analyses.tables.ColumnCounts`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.analyses.tables import ColumnCounts, Counts, N
from analytics.model.filters import FilterState
from analytics.model.provenance import Provenance
from analytics.store import Cohort, Store, queries

__all__ = [
    "MINOR_AMPUTATION_TERMS",
    "CauseCount",
    "Deaths",
    "MinorAmputations",
    "SafetySummary",
    "TermRow",
    "adverse_event_cohort",
    "adverse_event_table",
    "deaths_view",
    "minor_amputations",
    "safety_view",
]

MINOR_AMPUTATION_TERMS: tuple[str, ...] = (
    "TOE AMPUTATION",
    "TRANSMETATARSAL AMPUTATION OR REVISION",
)
NOT_RECORDED = "NOT RECORDED"


def _share(n: int, d: int) -> float | None:
    return None if d == 0 else n / d


def _within(day: float | None) -> str:
    return "whole follow-up" if day is None else f"onset on or before day {day:g}"


@dataclass(frozen=True)
class TermRow:
    term: str
    patients: int  # with at least one event of the term
    events: int
    serious_patients: int
    serious_events: int
    device_patients: int  # device- or procedure-related
    device_events: int
    fatal_events: int


def _flag(frame: pd.DataFrame, col: str) -> pd.Series:
    if col not in frame:
        return pd.Series(False, index=frame.index)
    return frame[col].astype("string").fillna("") == "Y"


def _term_row(term: str, grp: pd.DataFrame) -> TermRow:
    ser, dev = _flag(grp, "AESER"), _flag(grp, "AEDEVFL")
    fatal = (
        grp["AEOUT"].astype("string").fillna("") == "FATAL"
        if "AEOUT" in grp
        else pd.Series(False, index=grp.index)
    )
    return TermRow(
        term=term,
        patients=int(grp["USUBJID"].nunique()),
        events=len(grp),
        serious_patients=int(grp.loc[ser, "USUBJID"].nunique()),
        serious_events=int(ser.sum()),
        device_patients=int(grp.loc[dev, "USUBJID"].nunique()),
        device_events=int(dev.sum()),
        fatal_events=int(fatal.sum()),
    )


def _events(cohort: Cohort, day: float | None) -> pd.DataFrame:
    ae = cohort.adae
    if ae.empty or "USUBJID" not in ae:
        return pd.DataFrame({"USUBJID": pd.Series(dtype=str), "AETERM": pd.Series(dtype=str)})
    if day is not None and "ASTDY" in ae:
        ae = ae[pd.to_numeric(ae["ASTDY"], errors="coerce") <= day]
    return ae


@dataclass(frozen=True)
class SafetySummary:
    """Adverse events of a cohort: patients with any, serious and device-related events,
    and one row per term (most patients first)."""

    day: float | None  # onset on or before this day; None = whole follow-up
    n: int  # patients in the cohort: the denominator
    events: int
    any_patients: int
    serious_patients: int
    device_patients: int
    terms: tuple[TermRow, ...]
    provenance: Provenance

    def term(self, name: str) -> TermRow:
        for t in self.terms:
            if t.term == name:
                return t
        return TermRow(name, 0, 0, 0, 0, 0, 0, 0)

    def share(self, patients: int) -> float | None:
        """`patients` as a proportion of the cohort."""
        return _share(patients, self.n)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "Term": [t.term for t in self.terms],
                "Patients": [t.patients for t in self.terms],
                "Share of patients": [_share(t.patients, self.n) for t in self.terms],
                "Events": [t.events for t in self.terms],
                "Serious: patients": [t.serious_patients for t in self.terms],
                "Serious: events": [t.serious_events for t in self.terms],
                "Device-related: patients": [t.device_patients for t in self.terms],
                "Device-related: events": [t.device_events for t in self.terms],
                "Fatal events": [t.fatal_events for t in self.terms],
            },
        )


def adverse_event_table(cohort: Cohort, day: float | None = 183) -> SafetySummary:
    """Adverse events with onset on or before `day` (None: the whole follow-up)."""
    ae = _events(cohort, day)
    terms = [_term_row(str(term), grp) for term, grp in ae.groupby("AETERM", sort=True)]
    terms.sort(key=lambda t: (-t.patients, -t.events, t.term))
    ser, dev = _flag(ae, "AESER"), _flag(ae, "AEDEVFL")
    return SafetySummary(
        day=day,
        n=cohort.n,
        events=len(ae),
        any_patients=int(ae["USUBJID"].nunique()),
        serious_patients=int(ae.loc[ser, "USUBJID"].nunique()),
        device_patients=int(ae.loc[dev, "USUBJID"].nunique()),
        terms=tuple(terms),
        provenance=cohort.provenance.with_method(
            f"adverse events, {_within(day)}; patients counted once per term, events each "
            "time; share of all patients in view"
        ),
    )


@dataclass(frozen=True)
class MinorAmputations:
    """Minor (below-ankle) amputations: each term, and patients with any of them."""

    day: float | None
    n: int
    patients: int  # with at least one minor amputation of any term
    events: int
    terms: tuple[TermRow, ...]  # every minor amputation term, in the given order, zeros kept
    provenance: Provenance

    def term(self, name: str) -> TermRow:
        for t in self.terms:
            if t.term == name:
                return t
        raise KeyError(f"{name!r} is not a minor amputation term here")

    def share(self, patients: int) -> float | None:
        return _share(patients, self.n)


def minor_amputations(
    cohort: Cohort, day: float | None = 183, terms: Sequence[str] = MINOR_AMPUTATION_TERMS
) -> MinorAmputations:
    ae = _events(cohort, day)
    minor = ae[ae["AETERM"].isin(list(terms))]
    rows = tuple(_term_row(t, minor[minor["AETERM"] == t]) for t in terms)
    return MinorAmputations(
        day=day,
        n=cohort.n,
        patients=int(minor["USUBJID"].nunique()),
        events=len(minor),
        terms=rows,
        provenance=cohort.provenance.with_method(
            f"minor amputations ({', '.join(t.lower() for t in terms)}), {_within(day)}; "
            "amputations counted each time"
        ),
    )


@dataclass(frozen=True)
class CauseCount:
    cause: str
    n: int


@dataclass(frozen=True)
class Deaths:
    """Deaths over the whole follow-up, by recorded cause (most frequent first)."""

    n: int
    deaths: int
    causes: tuple[CauseCount, ...]
    provenance: Provenance

    def cause(self, name: str) -> int:
        for c in self.causes:
            if c.cause == name:
                return c.n
        return 0

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "Cause of death": [c.cause for c in self.causes],
                "Patients": [c.n for c in self.causes],
                "Share of deaths": [_share(c.n, self.deaths) for c in self.causes],
            }
        )


def deaths_view(store: Store, filters: FilterState, counts: Counts | None = None) -> Deaths:
    """Deaths of the patients passing `filters` by recorded cause (a blank or missing
    cause reads `NOT RECORDED`)."""
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


def adverse_event_cohort(store: Store, filters: FilterState, n: int | None = None) -> Cohort:
    """All that `adverse_event_table` and `minor_amputations` read: the adverse-event
    rows of the patients in view (as ``Store.cohort`` orders them) and how many patients
    are in view (`n` if known; the subject table holds no column, only that many rows)."""
    adae = queries.event_rows(
        store.cursor(), store.subject_where(filters), "adae", store.column_types["adae"]
    )
    count = store.count(filters) if n is None else n
    return store.partial_cohort(filters, pd.DataFrame(index=pd.RangeIndex(count)), adae=adae)


def safety_view(
    store: Store, filters: FilterState, day: float | None = 183
) -> tuple[SafetySummary, MinorAmputations, Deaths]:
    """Adverse events and minor amputations with onset by `day` (None: whole follow-up),
    and deaths by cause, of the patients passing `filters`."""
    counts = ColumnCounts(store, filters)
    cohort = adverse_event_cohort(store, filters, counts.n)
    return (
        adverse_event_table(cohort, day),
        minor_amputations(cohort, day),
        deaths_view(store, filters, counts),
    )
