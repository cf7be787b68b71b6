"""The cells of a per-group table (a row per level of the compare-by column), shared by
the pages that show them and the report cards that repeat them. No Streamlit here: the
pages pass their cached results, the pack its own."""

from __future__ import annotations

from analytics.analyses.headline import Headline
from analytics.analyses.safety import SafetySummary
from analytics.estimators.bayes import BayesResult
from analytics.estimators.competing import CompetingRisksResult
from analytics.model.schema import ENDPOINT_SHORT
from ui import fmt

HEADLINE_NAMES = {code: ENDPOINT_SHORT[code] for code in ("AFS", "LS", "OS")}


def headline_cells(head: Headline, goal: float) -> dict[str, object]:
    """AFS, limb salvage and survival at the landmark with 95% CI, and the posterior
    probability that the group's AFS rate exceeds the goal."""
    found = {est.paramcd: est.landmark for est in head.estimates}
    row: dict[str, object] = {}
    for code, name in HEADLINE_NAMES.items():
        lm = found.get(code)
        row[name] = (
            "no records"
            if lm is None
            else f"{fmt.pct(lm.estimate)} ({fmt.ci_range(lm.lower, lm.upper)})"
        )
    b = head.bayes
    row[f"P(AFS rate > {fmt.share(goal)})"] = (
        "–" if b is None else fmt.probability(b.probability_above_goal)
    )
    return row


def bayes_cells(b: BayesResult | None, goal: float) -> dict[str, object]:
    """The group's posterior: mean, credible interval, probability above the goal, verdict."""
    if b is None:
        return {"Verdict": "no AFS records"}
    return {
        "Posterior mean": fmt.pct(b.posterior_mean),
        "95% credible interval": fmt.ci_range(*b.credible_interval),
        f"P(AFS rate > {fmt.share(goal)})": fmt.probability(b.probability_above_goal),
        "Verdict": b.verdict_note or ("goal met" if b.success else "goal not met"),
    }


def competing_cells(result: CompetingRisksResult | None, day: float) -> dict[str, object]:
    """Major amputation by `day`: Aalen-Johansen beside 1 - Kaplan-Meier, with 95% CI."""
    if result is None:
        return {"Death as competing risk": "no amputation", "1 − Kaplan-Meier": "no amputation"}
    out: dict[str, object] = {}
    for name, curve in (
        ("Death as competing risk", result.aalen_johansen),
        ("1 − Kaplan-Meier", result.one_minus_km),
    ):
        lm = curve.landmark(day)
        out[name] = f"{fmt.pct(lm.estimate)} ({fmt.ci_range(lm.lower, lm.upper)})"
    return out


def adverse_cells(ae: SafetySummary) -> dict[str, object]:
    """Patients with any, serious and device- or procedure-related adverse events (each
    a count beside its share of the group), and the events."""
    row: dict[str, object] = {}
    for name, n in (
        ("Any", ae.any_patients),
        ("Serious", ae.serious_patients),
        ("Device-related", ae.device_patients),
    ):
        share = ae.share(n)
        row[name] = n
        row[f"{name} share"] = "–" if share is None else fmt.pct(share)
    row["Events"] = ae.events
    return row
