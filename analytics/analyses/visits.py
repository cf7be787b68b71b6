"""Wounds and Rutherford class at every scheduled visit.

Denominators follow the paper (and ``analytics.analyses.outcomes``), visit by visit:

- target wound status (healed / healing / not healing): patients whose target wound
  was assessed at the visit (``WNDSTAT`` recorded). Patients who died, left the study
  or whose target wound was removed by amputation are not in it;
- wound area (median and IQR, Hyndman-Fan definition 2): wounds measured at the visit;
- all wounds healed: patients assessed for it at the visit (``ALLHLFL`` recorded),
  amputees included;
- Rutherford change: patients with a class at both baseline and the visit (paired).

Visits are the schedule's (``analytics.model.schema.VISIT_SCHEDULE``) in time order, then any
other visit an extract has, by ``AVISITN``. Every count comes with its denominator.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from analytics.estimators.describe import QUANTILE_NOTE, quartiles
from analytics.model.filters import FilterState
from analytics.model.labels import DEFAULT as DEFAULT_LABELS
from analytics.model.provenance import Provenance
from analytics.model.schema import DAYS_PER_MONTH, VISIT_SCHEDULE, WOUND_STATUS
from analytics.store import Cohort, Store, queries

__all__ = [
    "BASELINE",
    "DAYS_PER_MONTH",
    "ClassCount",
    "RutherfordAtVisit",
    "RutherfordShift",
    "VisitWounds",
    "WoundCourse",
    "nearest_visit",
    "rutherford_at",
    "visit_cohort",
    "visit_names",
    "wound_course",
]

BASELINE = "BASELINE"


def _share(n: int, d: int) -> float | None:
    return None if d == 0 else n / d


def visit_cohort(store: Store, filters: FilterState) -> Cohort:
    """The patients passing `filters` (USUBJID only) with their visit rows, as
    ``Store.cohort`` orders them: all that the functions here read."""
    subject = store.subject_where(filters)
    adsl = queries.subject_rows(store.cursor(), subject, ["USUBJID"], store.subject_columns())
    visits = queries.event_rows(store.cursor(), subject, "visits", store.column_types["visits"])
    return store.partial_cohort(filters, adsl, visits=visits)


@dataclass(frozen=True)
class VisitWounds:
    """Wound results at one scheduled visit; every count has its denominator."""

    visit: str
    month: float  # scheduled time of the visit, months from the procedure
    followed: int  # patients with a record of this visit
    assessed: int  # target wound status recorded: the denominator of the three statuses
    healed: int
    healing: int
    not_healing: int
    measured: int  # target wound area recorded
    area_median: float | None
    area_q1: float | None
    area_q3: float | None
    all_assessed: int  # "all wounds healed" recorded: its denominator
    all_healed: int

    @property
    def day(self) -> float:
        return self.month * DAYS_PER_MONTH

    def count(self, status: str) -> int:
        """Patients with target wound `status` (one of ``WOUND_STATUS``)."""
        counts = {"HEALED": self.healed, "HEALING": self.healing, "NOT HEALING": self.not_healing}
        try:
            return counts[status]
        except KeyError:
            raise KeyError(f"unknown wound status {status!r}; one of {WOUND_STATUS}") from None

    def share(self, status: str) -> float | None:
        """Proportion of assessed patients with `status`; None when nobody was assessed."""
        return _share(self.count(status), self.assessed)

    @property
    def all_healed_share(self) -> float | None:
        return _share(self.all_healed, self.all_assessed)


@dataclass(frozen=True)
class WoundCourse:
    """Target wound status, wound area and all wounds healed at each visit of a cohort."""

    n: int  # patients in the cohort
    visits: tuple[VisitWounds, ...]
    provenance: Provenance

    def visit(self, name: str) -> VisitWounds:
        for v in self.visits:
            if v.visit == name:
                return v
        raise KeyError(f"no visit {name!r}; visits: {[v.visit for v in self.visits]}")

    @property
    def status_visits(self) -> tuple[VisitWounds, ...]:
        """Visits at which a target wound status was recorded for someone (not baseline,
        where status is not defined)."""
        return tuple(v for v in self.visits if v.assessed > 0)

    def to_frame(self) -> pd.DataFrame:
        """One row per visit: counts, denominators, proportions (0-1) and the area."""
        rows = []
        for v in self.visits:
            rows.append(
                {
                    "Visit": v.visit,
                    "Month": v.month,
                    "Followed": v.followed,
                    "Wound assessed": v.assessed,
                    "Healed": v.healed,
                    "Healed share": v.share("HEALED"),
                    "Healing": v.healing,
                    "Healing share": v.share("HEALING"),
                    "Not healing": v.not_healing,
                    "Not healing share": v.share("NOT HEALING"),
                    "Area measured": v.measured,
                    "Area median (cm2)": v.area_median,
                    "Area Q1 (cm2)": v.area_q1,
                    "Area Q3 (cm2)": v.area_q3,
                    "All wounds assessed": v.all_assessed,
                    "All wounds healed": v.all_healed,
                    "All wounds healed share": v.all_healed_share,
                }
            )
        return pd.DataFrame(rows)


def _visit_order(visits: pd.DataFrame) -> list[tuple[str, float]]:
    """(visit, month) for the schedule's visits, then others the data has, by AVISITN."""
    order = list(VISIT_SCHEDULE.items())
    if visits.empty or "AVISIT" not in visits:
        return order
    extra = (
        visits.loc[~visits["AVISIT"].isin(list(VISIT_SCHEDULE)), ["AVISIT", "AVISITN"]]
        .dropna(subset=["AVISIT"])
        .groupby("AVISIT", sort=False)["AVISITN"]
        .min()
    )
    others = sorted(
        ((str(k), float(m)) for k, m in extra.items() if pd.notna(m)), key=lambda x: x[1]
    )
    return sorted(order + others, key=lambda x: x[1])


def visit_names(cohort: Cohort) -> list[str]:
    """Every visit in time order (the schedule's, then any others in the extract)."""
    return [name for name, _ in _visit_order(cohort.visits)]


def nearest_visit(cohort: Cohort, day: float, *, after_baseline: bool = True) -> str:
    """The visit scheduled closest to `day` (the earlier one on a tie)."""
    order = [(n, m) for n, m in _visit_order(cohort.visits) if not (after_baseline and m <= 0)]
    if not order:
        return BASELINE
    return min(order, key=lambda x: (abs(x[1] * DAYS_PER_MONTH - day), x[1]))[0]


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    return frame[name] if name in frame else pd.Series([None] * len(frame), index=frame.index)


def _visit_wounds(rows: pd.DataFrame, visit: str, month: float) -> VisitWounds:
    status = _col(rows, "WNDSTAT").dropna().astype(str)
    area = pd.to_numeric(_col(rows, "WNDAREA"), errors="coerce").dropna()
    allw = _col(rows, "ALLHLFL").dropna().astype(str)
    q = quartiles(area)
    return VisitWounds(
        visit=visit,
        month=month,
        followed=int(rows["USUBJID"].nunique()) if "USUBJID" in rows else len(rows),
        assessed=len(status),
        healed=int((status == "HEALED").sum()),
        healing=int((status == "HEALING").sum()),
        not_healing=int((status == "NOT HEALING").sum()),
        measured=len(area),
        area_median=None if q is None else q[1],
        area_q1=None if q is None else q[0],
        area_q3=None if q is None else q[2],
        all_assessed=len(allw),
        all_healed=int((allw == "Y").sum()),
    )


def wound_course(cohort: Cohort, visits: Sequence[str] | None = None) -> WoundCourse:
    """Wound results at each visit (all visits in time order, or those named)."""
    v = cohort.visits
    order = _visit_order(v)
    if visits is not None:
        known = dict(order)
        unknown = [name for name in visits if name not in known]
        if unknown:
            raise KeyError(f"unknown visit(s) {unknown}; visits: {list(known)}")
        order = [(name, known[name]) for name in visits]
    has_rows = not v.empty and "AVISIT" in v
    results = tuple(
        _visit_wounds(v[v["AVISIT"] == name] if has_rows else v.iloc[0:0], name, month)
        for name, month in order
    )
    return WoundCourse(
        n=cohort.n,
        visits=results,
        provenance=cohort.provenance.with_method(
            "per visit: target wound status among patients whose target wound was assessed at "
            "the visit; wound area median and IQR among wounds measured at the visit "
            f"({QUANTILE_NOTE}); all wounds healed among patients assessed for it"
        ),
    )


@dataclass(frozen=True)
class ClassCount:
    rutherford: int
    n: int


@dataclass(frozen=True)
class RutherfordShift:
    baseline: int
    at_visit: int
    n: int

    @property
    def change(self) -> int:
        return self.at_visit - self.baseline


@dataclass(frozen=True)
class RutherfordAtVisit:
    """Rutherford class at a visit, and its change from baseline among paired patients."""

    visit: str
    assessed: int  # patients with a class recorded at the visit
    classes: tuple[ClassCount, ...]  # distribution among `assessed`, by class
    paired: int  # class at baseline and at the visit: denominator of the change
    baseline_classes: tuple[ClassCount, ...]  # baseline distribution among the paired
    decreased: int
    unchanged: int
    increased: int
    shifts: tuple[RutherfordShift, ...]  # (baseline, visit) class pairs among the paired
    provenance: Provenance

    def share(self, which: str) -> float | None:
        """Proportion of paired patients whose class 'decreased', 'unchanged' or 'increased'."""
        counts = {
            "decreased": self.decreased,
            "unchanged": self.unchanged,
            "increased": self.increased,
        }
        if which not in counts:
            raise KeyError(f"{which!r}: one of {list(counts)}")
        return _share(counts[which], self.paired)

    def class_count(self, rutherford: int) -> int:
        for c in self.classes:
            if c.rutherford == rutherford:
                return c.n
        return 0

    def class_share(self, rutherford: int) -> float | None:
        return _share(self.class_count(rutherford), self.assessed)

    def change_frame(self) -> pd.DataFrame:
        """The change from baseline as one row: counts, the paired denominator, shares."""
        return pd.DataFrame(
            [
                {
                    "Visit": self.visit,
                    "Class recorded": self.assessed,
                    "Paired": self.paired,
                    "Decreased": self.decreased,
                    "Decreased share": self.share("decreased"),
                    "Unchanged": self.unchanged,
                    "Unchanged share": self.share("unchanged"),
                    "Increased": self.increased,
                    "Increased share": self.share("increased"),
                }
            ]
        )

    def to_frame(self) -> pd.DataFrame:
        """Class distribution at the visit: one row per class, with its share."""
        return pd.DataFrame(
            {
                "Visit": [self.visit] * len(self.classes),
                "Rutherford class": [c.rutherford for c in self.classes],
                "Patients": [c.n for c in self.classes],
                "Assessed": [self.assessed] * len(self.classes),
                "Share": [_share(c.n, self.assessed) for c in self.classes],
            }
        )


def _classes(values: pd.Series) -> tuple[ClassCount, ...]:
    counts = values.astype(int).value_counts().sort_index()
    return tuple(ClassCount(int(k), int(n)) for k, n in counts.items())


def _class_at(v: pd.DataFrame, visit: str) -> pd.Series:
    rows = v[v["AVISIT"] == visit]
    cls = pd.to_numeric(rows["RUTHCAT"], errors="coerce")
    out = pd.Series(cls.to_numpy(), index=rows["USUBJID"].to_numpy()).dropna()
    return out[~out.index.duplicated(keep="first")]


def rutherford_at(cohort: Cohort, visit: str = "MONTH 6") -> RutherfordAtVisit:
    """Rutherford class distribution at `visit` and the change from baseline."""
    v = cohort.visits
    method = (
        f"Rutherford class at {DEFAULT_LABELS.value('AVISIT', visit).lower()} among patients "
        "with a class recorded; change against "
        "baseline among patients with a class at both (paired)"
    )
    if v.empty or "RUTHCAT" not in v or "AVISIT" not in v:
        return RutherfordAtVisit(
            visit, 0, (), 0, (), 0, 0, 0, (), cohort.provenance.with_method(method)
        )
    post = _class_at(v, visit)
    base = _class_at(v, BASELINE)
    both = pd.concat([base.rename("b"), post.rename("p")], axis=1, join="inner").dropna()
    diff = both["p"] - both["b"]
    pairs = both.astype(int).value_counts(["b", "p"]).sort_index()
    shifts = tuple(RutherfordShift(int(b), int(p), int(n)) for (b, p), n in pairs.items())
    return RutherfordAtVisit(
        visit=visit,
        assessed=len(post),
        classes=_classes(post),
        paired=len(both),
        baseline_classes=_classes(both["b"]),
        decreased=int((diff < 0).sum()),
        unchanged=int((diff == 0).sum()),
        increased=int((diff > 0).sum()),
        shifts=shifts,
        provenance=cohort.provenance.with_method(method),
    )
