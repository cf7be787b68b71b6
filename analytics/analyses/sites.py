"""Site comparison for registries and audits: one outcome per site against a target,
with funnel-plot control limits (Spiegelhalter, Stat Med 2005;24:1185-1202).

What is compared. A funnel plot needs a proportion with a clear denominator, so each
site's number is a crude proportion among the patients whose status at the landmark
day L (default 183, six months) is known:

- *event by L*: the endpoint's event on or before day L (CNSR 0, AVAL <= L);
- *known without the event*: followed to day L or beyond (AVAL >= L), or censored
  earlier by a competing event (CNSR 4 death, 5 major amputation), after which the
  event can no longer happen: a patient who died at month 2 without amputation is
  known not to have been amputated by month 6;
- *unknown*: censored before L for any other reason (lost, withdrawn, last contact),
  and patients with no record of the endpoint at all. They are counted and shown per
  site, never silently dropped, and are not in the denominator.

Outcomes: amputation-free survival at L (the AFS endpoint; the proportion is the
patients alive without major amputation at L, higher is better) and major
(above-ankle) amputation by L (the LS endpoint, death competing; the proportion is
the patients amputated, lower is better). These are the Bayesian endpoint's
complete-case success and failure rules (``analytics.estimators.bayes``) applied per site.

Beside the crude proportion every site gets a time-to-event estimate at L that uses
the patients of unknown status up to their censoring: Kaplan-Meier for AFS, and the
Aalen-Johansen cumulative incidence (death competing) for amputation. A large gap
between the two says that the site's unknowns are not like its knowns.

Funnel limits (``analytics.analyses.funnel``) are drawn around a target: the pooled
proportion over every site's patients of known status, or a benchmark the user gives.

A site is above (below) a limit when its proportion is strictly above (below) it.
Sites with fewer than `min_n` patients of known status are flagged "too few to
judge": still listed and positioned, drawn hollow, never called outliers. Every
count is aggregated in DuckDB: patients per site from the subject table, and per site
the distinct (day, outcome) pairs up to L with their patient counts (later times folded
into one row), so a registry of a million patients becomes a few rows per site and day.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from analytics.analyses.funnel import (
    LEVELS,
    POSITIONS,
    LimitCurve,
    Method,
    Position,
    clopper_pearson,
    funnel,
    limit_position,
)
from analytics.analyses.survival import estimate_at
from analytics.estimators.competing import COMPETING_CENSOR_CODES
from analytics.estimators.km import CI_LABELS, CIType
from analytics.model.filters import FilterState
from analytics.model.provenance import Provenance
from analytics.store import Store, queries

__all__ = [
    "LEVELS",
    "OUTCOMES",
    "POSITIONS",
    "SMALL_SITE",
    "LimitCurve",
    "Outcome",
    "SiteComparison",
    "SiteRow",
    "compare_sites",
    "site_sizes",
    "site_times",
]

FloatArray = NDArray[np.float64]
TargetKind = Literal["pooled", "benchmark"]

SMALL_SITE = 10  # fewer patients of known status than this: too few to judge
TOO_FEW = "too few to judge"
NO_KNOWN = "no patient of known status"


@dataclass(frozen=True)
class Outcome:
    key: str
    paramcd: str
    label: str  # "... at day L" is added where it is shown
    counts_events: bool  # the proportion is of patients with the event (else event-free)
    higher_is_better: bool


OUTCOMES: dict[str, Outcome] = {
    "afs": Outcome("afs", "AFS", "Amputation-free survival", False, True),
    "amputation": Outcome("amputation", "LS", "Major amputation", True, False),
}


@dataclass(frozen=True)
class SiteRow:
    """One site: its patients in view and their status at the landmark."""

    study: str | None
    site: str
    label: str
    n: int  # patients in view at the site
    events: int  # the endpoint's event by the landmark
    event_free: int  # known without the event at the landmark
    censored_early: int  # censored before the landmark, not by a competing event
    no_record: int  # no record of the endpoint
    numerator: int  # patients counted in the proportion (events or event-free)
    proportion: float | None  # numerator / known; None when nobody's status is known
    lower: float | None  # Clopper-Pearson exact 95% CI of the proportion
    upper: float | None
    estimate: float | None  # Kaplan-Meier / Aalen-Johansen at the landmark, same scale
    estimate_lower: float | None
    estimate_upper: float | None
    position: Position | None  # against the funnel limits at this site's denominator
    small: bool  # fewer than min_n patients of known status

    @property
    def known(self) -> int:
        return self.events + self.event_free

    @property
    def unknown(self) -> int:
        return self.censored_early + self.no_record

    @property
    def flag(self) -> str:
        if self.position is None:
            return NO_KNOWN
        if self.small:
            return TOO_FEW
        return POSITIONS[self.position]


@dataclass(frozen=True)
class SiteComparison:
    outcome: Outcome
    landmark: float
    target: float | None  # None when no patient anywhere has a known status
    target_kind: TargetKind
    method: Method
    min_n: int
    by_study: bool  # sites named "study / site": several studies in view
    sites: tuple[SiteRow, ...]
    no_site: int  # patients in view without a site identifier, not compared
    limits: tuple[LimitCurve, ...]
    estimator: str
    provenance: Provenance

    @property
    def n(self) -> int:
        return sum(s.n for s in self.sites)

    @property
    def known(self) -> int:
        return sum(s.known for s in self.sites)

    @property
    def unknown(self) -> int:
        return sum(s.unknown for s in self.sites)

    @property
    def numerator(self) -> int:
        return sum(s.numerator for s in self.sites)

    @property
    def judged(self) -> tuple[SiteRow, ...]:
        """Sites with enough patients of known status to be judged."""
        return tuple(s for s in self.sites if s.position is not None and not s.small)

    def limit(self, level: float) -> LimitCurve:
        for curve in self.limits:
            if curve.level == level:
                return curve
        raise KeyError(f"no limits at level {level}")

    def to_frame(self) -> pd.DataFrame:
        """One row per site, proportions as fractions."""
        rows = [
            {
                "Site": s.label,
                "n": s.n,
                "Known": s.known,
                "Unknown": s.unknown,
                "Events": s.events,
                "Numerator": s.numerator,
                "Proportion": s.proportion,
                "CI lower": s.lower,
                "CI upper": s.upper,
                "Estimate": s.estimate,
                "Estimate lower": s.estimate_lower,
                "Estimate upper": s.estimate_upper,
                "Flag": s.flag,
            }
            for s in self.sites
        ]
        return pd.DataFrame(rows, columns=FRAME_COLUMNS)


FRAME_COLUMNS = (
    "Site",
    "n",
    "Known",
    "Unknown",
    "Events",
    "Numerator",
    "Proportion",
    "CI lower",
    "CI upper",
    "Estimate",
    "Estimate lower",
    "Estimate upper",
    "Flag",
)


# --- counts ------------------------------------------------------------------------------


def site_sizes(store: Store, filters: FilterState) -> pd.DataFrame:
    """Patients in view per (STUDY, SITE), column N; '' where an identifier is missing."""
    return queries.site_sizes(store.cursor(), store.subject_where(filters))


def site_times(store: Store, filters: FilterState, paramcd: str, day: float) -> pd.DataFrame:
    """Per (STUDY, SITE): distinct (AVAL, CODE) with patient counts N; CODE 1 = the
    event, 2 = a competing event (CNSR 4 or 5), 0 = censored. Times after `day` are
    folded into one censored time, day + 1: the status at `day` and an estimate at
    `day` depend on them only through the number still at risk, so a registry returns
    a few rows per site and day, never one per patient."""
    subject = store.subject_where(filters)
    return queries.site_times(store.cursor(), subject, paramcd, day, COMPETING_CENSOR_CODES)


def _counts(sizes: pd.DataFrame, times: pd.DataFrame, day: float) -> pd.DataFrame:
    t = times.assign(
        RECORDED=times["N"],
        # folded rows (day + 1) are censored after the day: known event-free
        EVENTS=times["N"].where(times["CODE"] == 1, 0),
        FREE=times["N"].where(
            (times["CODE"] == 2) | ((times["CODE"] == 0) & (times["AVAL"] >= day)), 0
        ),
    )
    per_site = t.groupby(["STUDY", "SITE"])[["RECORDED", "EVENTS", "FREE"]].sum()
    out = sizes.join(per_site, on=["STUDY", "SITE"])
    cols = ["RECORDED", "EVENTS", "FREE"]
    out[cols] = out[cols].fillna(0).astype(np.int64)
    return out


def _finite(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


# --- the comparison ----------------------------------------------------------------------


def compare_sites(
    store: Store,
    filters: FilterState,
    outcome: str = "afs",
    *,
    day: float = 183,
    benchmark: float | None = None,
    min_n: int = SMALL_SITE,
    method: Method = "exact",
    ci_type: CIType = "log-log",
    levels: Sequence[float] = LEVELS,
) -> SiteComparison:
    """Every site of the patients passing `filters` on `outcome` ("afs" or
    "amputation") at `day`, against the pooled proportion (or `benchmark`, a
    proportion strictly between 0 and 1)."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}; choose {', '.join(OUTCOMES)}")
    if day <= 0:
        raise ValueError(f"the landmark must be a positive number of days, not {day:g}")
    if benchmark is not None and not 0 < benchmark < 1:
        raise ValueError(f"a benchmark must lie strictly between 0 and 1, not {benchmark:g}")
    if min_n < 1:
        raise ValueError(f"the small-site threshold must be at least 1, not {min_n}")
    if tuple(sorted(levels)) != LEVELS:
        raise ValueError(f"limits are drawn at {LEVELS}")
    spec = OUTCOMES[outcome]
    times = site_times(store, filters, spec.paramcd, day)
    counts = _counts(site_sizes(store, filters), times, day)
    unsited = counts["SITE"] == ""
    no_site = int(counts.loc[unsited, "N"].sum())
    counts = counts[~unsited]
    by_study = counts["STUDY"].nunique() > 1

    events = counts["EVENTS"].to_numpy(dtype=np.int64)
    free = counts["FREE"].to_numpy(dtype=np.int64)
    known = events + free
    numer = events if spec.counts_events else free
    total_known = int(known.sum())
    pooled = float(numer.sum() / total_known) if total_known else None
    target = benchmark if benchmark is not None else pooled
    kind: TargetKind = "benchmark" if benchmark is not None else "pooled"

    cp_lo, cp_hi = clopper_pearson(numer, known)
    curves, site_limits = funnel(known, target, method)

    groups = {key: g for key, g in times.groupby(["STUDY", "SITE"], sort=False)}
    rows: list[SiteRow] = []
    for i, rec in enumerate(counts.itertuples(index=False)):
        study = str(rec.STUDY) or None
        site = str(rec.SITE)
        k = int(known[i])
        share = numer[i] / k if k else None
        position: Position | None = None
        if share is not None and target is not None:
            position = limit_position(float(share), site_limits, i)
        here = groups.get((rec.STUDY, site), times.iloc[:0])
        est = estimate_at(here, day, spec.counts_events, ci_type)
        rows.append(
            SiteRow(
                study=study,
                site=site,
                label=f"{study or 'no study'} / {site}" if by_study else site,
                n=int(rec.N),
                events=int(events[i]),
                event_free=int(free[i]),
                censored_early=int(rec.RECORDED) - k,
                no_record=int(rec.N) - int(rec.RECORDED),
                numerator=int(numer[i]),
                proportion=None if share is None else float(share),
                lower=_finite(cp_lo[i]),
                upper=_finite(cp_hi[i]),
                estimate=est[0],
                estimate_lower=est[1],
                estimate_upper=est[2],
                position=position,
                small=k < min_n,
            )
        )
    rows.sort(key=lambda r: (r.study or "", _natural(r.site)))
    estimator = (
        "Aalen-Johansen cumulative incidence of major amputation, death competing, "
        "log-transformed 95% CI"
        if spec.counts_events
        else f"Kaplan-Meier, 95% CI {CI_LABELS[ci_type]}"
    )
    return SiteComparison(
        outcome=spec,
        landmark=float(day),
        target=target,
        target_kind=kind,
        method=method,
        min_n=min_n,
        by_study=bool(by_study),
        sites=tuple(rows),
        no_site=no_site,
        limits=curves,
        estimator=estimator,
        provenance=store.provenance(filters).with_method(
            _method_text(spec, day, target, kind, method, min_n, estimator)
        ),
    )


def _natural(site: str) -> tuple[int, float, str]:
    """Numeric site identifiers in numeric order (2 before 10), others after, by text."""
    try:
        return (0, float(site), site)
    except ValueError:
        return (1, 0.0, site)


def _method_text(
    spec: Outcome,
    day: float,
    target: float | None,
    kind: TargetKind,
    method: Method,
    min_n: int,
    estimator: str,
) -> str:
    what = "with" if spec.counts_events else "free of"
    competing = (
        "; death before the day counts as known without amputation" if spec.counts_events else ""
    )
    aim = "not defined" if target is None else f"{100 * target:.4g}%"
    limits = (
        "exact binomial with Spiegelhalter's (2005) interpolation"
        if method == "exact"
        else "normal approximation to the binomial"
    )
    return (
        f"{spec.label} at day {day:g} per site: share of patients {what} the {spec.paramcd} "
        f"event by the day among those of known status (event by the day, or followed to "
        f"it; censored earlier = unknown, not in the denominator{competing}); site 95% CI "
        f"Clopper-Pearson exact; funnel limits at 95% and 99.8%, {limits}, around the "
        f"{'pooled proportion' if kind == 'pooled' else 'benchmark'} {aim}; sites with "
        f"fewer than {min_n} patients of known status are too few to judge; time-to-event "
        f"estimate: {estimator}"
    )
