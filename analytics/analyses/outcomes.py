"""Clinical outcomes at a landmark: events, disposition, reinterventions and
procedural success.

Denominators follow the paper: reinterventions and procedural success among
technical successes. Each count reads the few patient rows it needs (a `Cohort` of
those rows: `technical_success_events` for reinterventions and procedural success).
Wounds and Rutherford class are `analytics.analyses.visits`', adverse events and deaths
`analytics.analyses.safety`'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from analytics.model.filters import FilterState
from analytics.model.provenance import Provenance
from analytics.store import Cohort, Store, queries


def _tech_success_ids(cohort: Cohort) -> set[str]:
    """The technical successes; every patient when the extract records no technical
    success at all (the store keeps the column, empty), as the paper's denominators
    would otherwise all be 0."""
    adsl = cohort.adsl
    if "TECHSFL" not in adsl or adsl["TECHSFL"].isna().all():
        return set(adsl["USUBJID"])
    return set(adsl.loc[adsl["TECHSFL"] == "Y", "USUBJID"])


def _first_event_day(cohort: Cohort, paramcd: str, desc: str | None = None) -> pd.Series:
    """Day of the event per subject (events only), optionally of one description."""
    rows = cohort.endpoint(paramcd)
    rows = rows[rows["CNSR"] == 0]
    if desc is not None:
        rows = rows[rows["EVNTDESC"] == desc]
    return rows.set_index("USUBJID")["AVAL"]


@dataclass(frozen=True)
class EventCounts:
    day: float
    major_amputations: int
    deaths_first: int
    deaths_all: int
    afs_events: int
    provenance: Provenance


def event_counts(cohort: Cohort, day: float = 183) -> EventCounts:
    """AFS components by `day`: amputations, deaths as first event, all deaths."""
    afs_amp = _first_event_day(cohort, "AFS", "MAJOR AMPUTATION")
    afs_death = _first_event_day(cohort, "AFS", "DEATH")
    os_death = _first_event_day(cohort, "OS")
    ls_amp = _first_event_day(cohort, "LS")
    return EventCounts(
        day=day,
        major_amputations=int((ls_amp <= day).sum())
        if len(ls_amp)
        else int((afs_amp <= day).sum()),
        deaths_first=int((afs_death <= day).sum()),
        deaths_all=int((os_death <= day).sum()),
        afs_events=int((afs_amp <= day).sum() + (afs_death <= day).sum()),
        provenance=cohort.provenance.with_method(
            f"patients with the event on or before day {day:g}; deaths first = deaths "
            "without a prior "
            "major amputation (the AFS event is the death)"
        ),
    )


@dataclass(frozen=True)
class Disposition:
    day: float
    n: int
    complete: int
    lost_to_followup: int
    withdrawn: int
    provenance: Provenance


def disposition(cohort: Cohort, day: float = 183) -> Disposition:
    """Follow-up status at `day`: complete means followed to the day or died before it."""
    adsl = cohort.adsl
    last = (pd.to_datetime(adsl["LSTCNTDT"]) - pd.to_datetime(adsl["PROCDT"])).dt.days
    early = last < day
    ltfu = int((early & (adsl["EOSSTT"] == "LOST TO FOLLOW-UP")).sum())
    wd = int((early & (adsl["EOSSTT"] == "WITHDRAWN")).sum())
    return Disposition(
        day,
        cohort.n,
        cohort.n - ltfu - wd,
        ltfu,
        wd,
        cohort.provenance.with_method("disposition by last contact before the day"),
    )


PLANNED = "planned"
UNPLANNED = "unplanned"


def reintervention_kind(description: object) -> str | None:
    """The kind, "planned" or "unplanned", of an event description that starts with that word
    (``PLANNED REINTERVENTION``, ``Unplanned reintervention``), whatever its case; None
    when the description does not say (a wide extract writes ``REINTERVENTION``), and
    the kind is then not recorded, never guessed."""
    if not isinstance(description, str):  # missing (None, NaN, NA) or not text
        return None
    text = description.strip().upper()
    if text.startswith("UNPLANNED"):
        return UNPLANNED
    if text.startswith("PLANNED"):
        return PLANNED
    return None


@dataclass(frozen=True)
class Reinterventions:
    """Patients with a reintervention on or before `day`, among technical successes.

    The counting rule (what the paper reports is patients with a reintervention within
    6 months, so every number here counts patients, never procedures):

    - ``patients``: technical successes with a reintervention on or before the day.
    - The data model records each patient's *first* reintervention only (``REINT`` is
      the time to the first one: one row per patient, a second row is rejected by the
      loader), so the split is by the kind of that first reintervention. ``planned``
      and ``unplanned`` count patients whose first reintervention is recorded as
      planned or unplanned (``EVNTDESC`` starting with that word); a later
      reintervention of the other kind is not in the data and is not counted.
    - ``kind_not_recorded`` counts patients whose first reintervention's kind the data
      do not say (every wide extract, any other wording). Those patients are in neither
      ``planned`` nor ``unplanned``: a 0 there is a count only when
      ``kind_not_recorded`` is 0. With one row per patient,
      ``planned + unplanned + kind_not_recorded == patients``.
    - A cohort built outside the loader may hold several reintervention rows for a
      patient: only the rows on the patient's earliest reintervention day count, and a
      patient with rows of two kinds on that day counts once under each.
    """

    day: float
    patients: int
    planned: int
    unplanned: int
    kind_not_recorded: int
    denominator: int
    provenance: Provenance

    @property
    def kind_recorded(self) -> bool:
        """Whether any reintervention counted has its kind (planned or not) recorded."""
        return self.planned + self.unplanned > 0 or self.kind_not_recorded == 0


def reinterventions(cohort: Cohort, day: float = 183) -> Reinterventions:
    """`Reinterventions` by `day` (the counting rule is documented there)."""
    tech = _tech_success_ids(cohort)
    rows = cohort.endpoint("REINT")
    rows = rows[(rows["CNSR"] == 0) & (rows["AVAL"] <= day) & rows["USUBJID"].isin(tech)]
    # each patient's first reintervention (one row per patient in the data model)
    first = rows[rows["AVAL"] == rows.groupby("USUBJID")["AVAL"].transform("min")]
    descriptions = first["EVNTDESC"] if "EVNTDESC" in first else pd.Series(None, index=first.index)
    kind = descriptions.map(reintervention_kind)
    ids = first["USUBJID"]
    return Reinterventions(
        day=day,
        patients=int(rows["USUBJID"].nunique()),
        planned=int(ids[kind == PLANNED].nunique()),
        unplanned=int(ids[kind == UNPLANNED].nunique()),
        kind_not_recorded=int(ids[kind.isna()].nunique()),
        denominator=len(tech),
        provenance=cohort.provenance.with_method(
            f"patients with a reintervention on or before day {day:g}, among technical "
            "successes; planned / unplanned: the kind of each patient's first "
            "reintervention (the only one the data model records), patients whose kind is "
            "not recorded counted apart"
        ),
    )


@dataclass(frozen=True)
class ProceduralSuccess:
    day: float
    n: int
    denominator: int
    provenance: Provenance


def procedural_success(cohort: Cohort, day: float = 30) -> ProceduralSuccess:
    """Technical success with no death, major amputation or reintervention by `day`."""
    tech = _tech_success_ids(cohort)
    failed: set[str] = set()
    for code in ("AFS", "REINT"):
        ev = _first_event_day(cohort, code)
        failed |= set(ev[ev <= day].index)
    return ProceduralSuccess(
        day,
        len(tech - failed),
        len(tech),
        cohort.provenance.with_method(
            f"technical success and no death, major amputation or reintervention by day {day:g}"
        ),
    )


def technical_success_events(store: Store, filters: FilterState, days: Sequence[float]) -> Cohort:
    """All that `reinterventions` and `procedural_success` read up to the latest of
    `days`: the technical successes in view (USUBJID, TECHSFL) and their AFS and REINT
    events on or before it. Their counts on this cohort are those on the whole cohort:
    both count technical successes only, events by the day only (no technical success
    recorded among the patients in view: every patient counts, as `_tech_success_ids`)."""
    adsl, adtte = queries.technical_success_events(
        store.cursor(),
        store.subject_where(filters),
        store.subject_columns(),
        ("AFS", "REINT"),
        float(max(days)),
    )
    return store.partial_cohort(filters, adsl, adtte)
