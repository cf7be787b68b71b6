"""The tables of a card as the slide prints them: clinical words, every cell text, in the
dashboard's number forms (`ui.fmt`), so a committee reads the same figures on a slide as
on the page. Count columns stay whole numbers (as text) so small-cell protection can
find them by name."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd

from analytics.analyses.headline import Headline
from analytics.analyses.sites import SiteComparison
from analytics.analyses.subgroups import SubgroupResult
from analytics.analyses.views import CohortCounts
from analytics.analyses.visits import RutherfordAtVisit, WoundCourse
from analytics.estimators.bayes import BayesResult
from analytics.estimators.km import KMResult
from analytics.model.labels import Labels
from ui import fmt

DASH = "–"
WOUND_COUNTS = ["Assessed", "Healed", "Healing", "Not healing"]
SITE_COUNTS = ["Patients", "Known status", "Events"]


def _count(x: float | None) -> str:
    return DASH if x is None else f"{round(x)}"


def percent(x: float | None) -> str:
    """A share as the slide prints it ("38.1%"), a dash when there is none."""
    return DASH if x is None else fmt.pct(x)


def _ci(lower: float | None, upper: float | None) -> str:
    return DASH if lower is None or upper is None else fmt.ci_range(lower, upper)


def cohort(counts: CohortCounts, hides_share: Callable[[int | None, int], bool]) -> pd.DataFrame:
    """Screened, enrolled, in view, treated, followed. `hides_share` is small-cell
    protection's test of a count among those in view (`Disclosure.hides_share`)."""

    def within(n: int | None) -> str:
        if hides_share(n, counts.in_view):
            return "withheld"
        return _count(n)

    rows = [
        ("Screened", _count(counts.screened), counts.screened),
        ("Enrolled", _count(counts.enrolled), counts.enrolled),
        ("In view", _count(counts.in_view), counts.in_view),
        ("Technical success", within(counts.treated), counts.treated),
        (
            f"Followed to {fmt.at_day(counts.day)} or died before",
            within(counts.followed),
            counts.followed,
        ),
    ]
    return pd.DataFrame(
        [(name, text) for name, text, n in rows if n is not None], columns=["", "Patients"]
    )


def headline(head: Headline) -> pd.DataFrame:
    rows = []
    for est in head.estimates:
        lm = est.landmark
        rows.append(
            {
                "Endpoint": est.label,
                "Patients": _count(est.n),
                "Events": _count(est.events),
                "Estimate": percent(lm.estimate),
                "95% CI": _ci(lm.lower, lm.upper),
                "At risk": _count(lm.at_risk),
            }
        )
    return pd.DataFrame(rows)


def estimates(results: dict[str, KMResult], day: float) -> pd.DataFrame:
    """One row per curve: patients, events, estimate at the landmark with its CI, at
    risk then, median."""
    rows = []
    for name, km in results.items():
        lm = km.landmark(day)
        rows.append(
            {
                "Curve": name,
                "Patients": _count(km.n),
                "Events": _count(km.events),
                f"At {fmt.months(day)}": percent(lm.estimate),
                "95% CI": _ci(lm.lower, lm.upper),
                "At risk": _count(lm.at_risk),
                "Median": fmt.median_days(km.median.estimate),
            }
        )
    return pd.DataFrame(rows)


POSTERIOR_PARTS = ["Event-free", "Event", "Followed for less"]


def posterior_counts(result: BayesResult) -> pd.DataFrame:
    """The patients by their status at the endpoint's day: one row."""
    values = (result.n, result.successes, result.failures, result.missing)
    return pd.DataFrame([[_count(v) for v in values]], columns=["Patients", *POSTERIOR_PARTS])


def posterior(result: BayesResult) -> pd.DataFrame:
    lo, hi = result.credible_interval
    if result.success is None:
        verdict = f"withheld: {result.verdict_note or 'the data cannot support it'}"
    else:
        verdict = "met" if result.success else "not met"
    rows = [
        ("Posterior mean", fmt.pct(result.posterior_mean)),
        ("95% credible interval", fmt.ci_range(lo, hi)),
        (
            f"Probability above {fmt.share(result.goal)}",
            fmt.probability(result.probability_above_goal),
        ),
        ("Success threshold", fmt.share(result.threshold)),
        ("Primary endpoint", verdict),
    ]
    return pd.DataFrame(rows, columns=["", "Value"])


def subgroups(res: SubgroupResult) -> pd.DataFrame:
    rows = []
    for var in res.variables:
        for lv in var.levels:
            if lv.is_reference:
                hr = "1 (reference)"
            elif lv.hazard_ratio is None:
                hr = lv.reason or DASH
            else:
                hr = fmt.ratio(lv.hazard_ratio, lv.hr_lower, lv.hr_upper)
            rows.append(
                {
                    "Variable": var.label,
                    "Level": lv.level,
                    "n": _count(lv.n),
                    "Events": _count(lv.events),
                    f"At {fmt.months(res.landmark)} (95% CI)": DASH
                    if lv.estimate is None
                    else fmt.estimate_with_interval(lv.estimate, lv.lower, lv.upper),
                    "Hazard ratio (95% CI)": hr,
                    "Heterogeneity p": DASH
                    if var.p_interaction is None
                    else fmt.p_value(var.p_interaction),
                }
            )
    return pd.DataFrame(rows)


def wounds(course: WoundCourse, labels: Labels) -> pd.DataFrame:
    rows = []
    for v in course.status_visits:
        rows.append(
            {
                "Visit": labels.value("AVISIT", v.visit),
                "Assessed": _count(v.assessed),
                "Healed": _count(v.healed),
                "Healing": _count(v.healing),
                "Not healing": _count(v.not_healing),
                "Healed share": percent(v.share("HEALED")),
            }
        )
    return pd.DataFrame(rows)


def rutherford(change: RutherfordAtVisit) -> pd.DataFrame:
    rows = [
        ("Decreased", change.decreased),
        ("Unchanged", change.unchanged),
        ("Increased", change.increased),
    ]
    return pd.DataFrame(
        [
            {
                "Class against baseline": name,
                "Patients": _count(n),
                "Share of paired": percent(n / change.paired if change.paired else None),
            }
            for name, n in rows
        ]
    )


def rutherford_classes(change: RutherfordAtVisit, labels: Labels) -> pd.DataFrame:
    """The classes at the visit among the patients assessed there."""
    return pd.DataFrame(
        [
            {
                "Rutherford class": labels.value("RUTHCAT", str(c.rutherford)),
                "Patients": _count(c.n),
                "Share of assessed": percent(c.n / change.assessed if change.assessed else None),
            }
            for c in change.classes
        ]
    )


def sites(res: SiteComparison) -> pd.DataFrame:
    rows = []
    for s in res.sites:
        rows.append(
            {
                "Site": s.label,
                "Patients": _count(s.n),
                "Known status": _count(s.known),
                "Events": _count(s.events),
                "Proportion (95% CI)": DASH
                if s.proportion is None
                else fmt.estimate_with_interval(s.proportion, s.lower, s.upper),
                "Position": s.flag or DASH,
            }
        )
    return pd.DataFrame(rows)


def texts(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """`frame` with `columns` kept, in order, and every cell text (empty for missing)."""
    out = frame[[c for c in columns if c in frame.columns]].copy()
    for col in out.columns:
        out[col] = [DASH if _missing(v) else str(v) for v in out[col]]
    return out


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)
