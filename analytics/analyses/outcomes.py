"""Clinical outcomes at a landmark: events, disposition, reinterventions,
procedural success, wound healing, Rutherford change and adverse events.

Denominators follow the paper: reinterventions and procedural success among
technical successes; wound status among patients whose target wound was
assessed at the visit; Rutherford change among patients with a class at both
baseline and the visit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analytics.estimators.describe import quartiles
from analytics.model.provenance import Provenance
from analytics.store import Cohort


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


@dataclass(frozen=True)
class AreaSummary:
    visit: str
    n: int
    median: float | None
    q1: float | None
    q3: float | None


@dataclass(frozen=True)
class WoundHealing:
    visit: str
    assessed: int
    healed: int
    healing: int
    not_healing: int
    all_assessed: int
    all_healed: int
    areas: tuple[AreaSummary, ...]
    provenance: Provenance

    def area(self, visit: str) -> AreaSummary:
        for a in self.areas:
            if a.visit == visit:
                return a
        raise KeyError(visit)


def wound_healing(
    cohort: Cohort,
    visit: str = "MONTH 6",
    area_visits: tuple[str, ...] = ("BASELINE", "MONTH 1", "MONTH 6"),
) -> WoundHealing:
    v = cohort.visits
    at = v[v["AVISIT"] == visit]
    status = at["WNDSTAT"].dropna()
    allw = at["ALLHLFL"].dropna()
    areas = []
    for name in area_visits:
        vals = v.loc[v["AVISIT"] == name, "WNDAREA"].dropna()
        q = quartiles(vals)
        areas.append(AreaSummary(name, len(vals), *(q[1], q[0], q[2]) if q else (None, None, None)))
    return WoundHealing(
        visit=visit,
        assessed=len(status),
        healed=int((status == "HEALED").sum()),
        healing=int((status == "HEALING").sum()),
        not_healing=int((status == "NOT HEALING").sum()),
        all_assessed=len(allw),
        all_healed=int((allw == "Y").sum()),
        areas=tuple(areas),
        provenance=cohort.provenance.with_method(
            "target wound status among patients assessed at the visit; wound area median and IQR "
            "(Hyndman-Fan definition 2) among wounds measured at each visit"
        ),
    )


@dataclass(frozen=True)
class RutherfordChange:
    visit: str
    paired: int
    decreased: int
    unchanged: int
    increased: int
    provenance: Provenance


def rutherford_change(cohort: Cohort, visit: str = "MONTH 6") -> RutherfordChange:
    v = cohort.visits
    base = v[v["AVISIT"] == "BASELINE"].set_index("USUBJID")["RUTHCAT"]
    post = v[v["AVISIT"] == visit].set_index("USUBJID")["RUTHCAT"]
    both = pd.concat([base.rename("b"), post.rename("p")], axis=1, join="inner").dropna()
    diff = both["p"] - both["b"]
    return RutherfordChange(
        visit,
        len(both),
        int((diff < 0).sum()),
        int((diff == 0).sum()),
        int((diff > 0).sum()),
        cohort.provenance.with_method(
            "Rutherford class at the visit against baseline, paired patients"
        ),
    )


@dataclass(frozen=True)
class TermCount:
    term: str
    patients: int
    events: int
    serious: int
    device_related: int


@dataclass(frozen=True)
class AdverseEvents:
    day: float | None
    n: int
    any_patients: int
    serious_patients: int
    device_patients: int
    terms: tuple[TermCount, ...]
    provenance: Provenance

    def term(self, name: str) -> TermCount:
        for t in self.terms:
            if t.term == name:
                return t
        return TermCount(name, 0, 0, 0, 0)


def adverse_events(cohort: Cohort, day: float | None = 183) -> AdverseEvents:
    ae = cohort.adae
    if day is not None:
        ae = ae[ae["ASTDY"] <= day]
    terms = []
    for term, grp in ae.groupby("AETERM", sort=True):
        terms.append(
            TermCount(
                str(term),
                int(grp["USUBJID"].nunique()),
                len(grp),
                int((grp["AESER"] == "Y").sum()),
                int((grp["AEDEVFL"] == "Y").sum()),
            )
        )
    terms.sort(key=lambda t: (-t.patients, t.term))
    within = "whole follow-up" if day is None else f"onset on or before day {day:g}"
    return AdverseEvents(
        day=day,
        n=cohort.n,
        any_patients=int(ae["USUBJID"].nunique()),
        serious_patients=int(ae.loc[ae["AESER"] == "Y", "USUBJID"].nunique()),
        device_patients=int(ae.loc[ae["AEDEVFL"] == "Y", "USUBJID"].nunique()),
        terms=tuple(terms),
        provenance=cohort.provenance.with_method(f"patients with at least one event, {within}"),
    )


def deaths_by_cause(cohort: Cohort) -> dict[str, int]:
    adsl = cohort.adsl
    dead = adsl[adsl["DTHFL"] == "Y"]
    counts = dead["DTHCAUS"].fillna("NOT RECORDED").value_counts()
    return {str(k): int(v) for k, v in counts.sort_index().items()}


def percent(n: int, d: int) -> float:
    return float(np.nan) if d == 0 else 100.0 * n / d
