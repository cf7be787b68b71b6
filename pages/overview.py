"""Overview: who is in view against the whole study, the survival endpoints at the
landmark, and the Bayesian verdict on the primary endpoint against the goal."""

from __future__ import annotations

import streamlit as st

from analytics.analyses.headline import Headline
from analytics.analyses.views import CohortCounts
from analytics.estimators.km import CI_LABELS
from analytics.model.filters import FilterState
from analytics.model.view import View
from ui import basket, data, disclosure, fmt, notes
from ui.by_group import show_by_group
from ui.context import Context, current
from ui.errors import shown_plainly
from ui.group_cells import HEADLINE_NAMES, headline_cells
from ui.notes import no_patients, small_group_caution

NAMES = HEADLINE_NAMES


def km_metrics(head: Headline, everyone: Headline | None) -> None:
    """The three survival endpoints at the landmark; with filters active, each beside
    its value for all patients (`everyone`)."""
    at = fmt.months(head.day)
    found = {est.paramcd: est for est in head.estimates}
    count = disclosure.active().count_text
    whole = {est.paramcd: est for est in everyone.estimates} if everyone else {}
    for column, code in zip(st.columns(len(NAMES)), NAMES, strict=True):
        with column:
            est = found.get(code)
            if est is None:
                st.info(f"No {NAMES[code].lower()} records for the patients selected.")
                continue
            lm = est.landmark
            st.metric(
                f"{NAMES[code]} at {at}",
                fmt.pct(lm.estimate),
                fmt.interval(lm.lower, lm.upper),
                delta_color="off",
                delta_arrow="off",
                help=f"{est.label}: Kaplan-Meier estimate at day {head.day:g}.",
            )
            st.caption(
                f"{count(lm.at_risk)} at risk at day {head.day:g}; "
                f"{count(lm.cumulative_events)} events so far among "
                f"{fmt.count(est.n)} patients."
            )
            if code in whole and everyone is not None:
                all_lm = whole[code].landmark
                st.markdown(
                    f"**{fmt.points(lm.estimate - all_lm.estimate)}** vs all "
                    f"{fmt.count(everyone.n)} patients ({fmt.pct(all_lm.estimate)})"
                )
    st.caption(
        f"Percentages are Kaplan-Meier estimates of the share of patients free of the event at "
        f"day {head.day:g}, with 95% confidence intervals; at risk counts patients still "
        "followed and event-free on that day."
    )
    method = f"Kaplan-Meier; 95% CI: {CI_LABELS[head.ci_type]}"
    st.caption(head.provenance.with_method(method).footnote())


def by_group(ctx: Context) -> None:
    """The headline of each level of the compare-by column, one row per group."""
    by = ctx.compare_by
    assert by is not None
    st.subheader(f"By {ctx.labels.column(by).lower()}")

    def cells(group: View) -> dict[str, object]:
        return headline_cells(data.headline(ctx.store, group), ctx.view.goal)

    show_by_group(
        ctx,
        name="overview-by-group",
        card="overview",
        title=f"Outcomes at {fmt.months(ctx.view.landmark)} by {ctx.labels.column(by).lower()}",
        cells=cells,
        caption=f"Kaplan-Meier estimates at day {ctx.view.landmark:g} with 95% CI, and the "
        "posterior probability that the group's AFS rate exceeds the performance goal (each "
        "group on its own: no multiplicity adjustment, descriptive).",
        provenance=ctx.headline.provenance,
    )


def primary_endpoint(head: Headline) -> None:
    b = head.bayes
    if b is None:
        st.info(
            "The Bayesian primary endpoint needs amputation-free survival records, and the "
            "patients selected have none."
        )
        return
    goal = fmt.share(b.goal)
    left, right = st.columns(2)
    left.metric(
        f"Posterior mean AFS rate at {fmt.months(b.day)}",
        fmt.pct(b.posterior_mean),
        fmt.interval(*b.credible_interval, kind="credible interval"),
        delta_color="off",
        delta_arrow="off",
    )
    prob = fmt.probability(b.probability_above_goal)
    right.metric(f"Probability the AFS rate exceeds {goal}", prob)
    for note in b.notes:
        st.warning(f"Read with care: {note}.")
    notes.bayes_verdict(b)
    st.caption(
        f"{b.successes} event-free at day {b.day:g}, {b.failures} with an event by then, "
        f"{b.missing} followed for less."
    )


def within_view(n: int, in_view: int) -> str:
    """A count among the patients in view, or "withheld" when it or the rest of those in
    view is from 1 to 10 under small-cell protection."""
    hidden = disclosure.active().disclosure.hides_share(n, in_view)
    return "withheld" if hidden else fmt.count(n)


def cohort_flow(counts: CohortCounts) -> None:
    """Screened, enrolled, in view, treated, followed: each shown only if recorded."""
    cards = []
    if counts.screened is not None:
        cards.append(("Screened", fmt.count(counts.screened), "whole study", None))
    cards.append(("Enrolled", fmt.count(counts.enrolled), "whole study", None))
    cards.append(
        (
            "In view",
            fmt.count(counts.in_view),
            f"{fmt.pct(counts.in_view / counts.enrolled)} of enrolled" if counts.enrolled else None,
            "Patients passing the filters.",
        )
    )
    if counts.treated is not None:
        cards.append(
            (
                "Treated",
                within_view(counts.treated, counts.in_view),
                f"of {fmt.count(counts.in_view)} in view",
                "Technical success: the circuit was created.",
            )
        )
    if counts.followed is not None:
        cards.append(
            (
                f"Followed to {fmt.months(counts.day)}",
                within_view(counts.followed, counts.in_view),
                f"of {fmt.count(counts.in_view)} in view",
                f"Followed to day {counts.day:g}, or died before it.",
            )
        )
    for column, (name, value, delta, help_text) in zip(st.columns(len(cards)), cards, strict=True):
        column.metric(name, value, delta, delta_color="off", delta_arrow="off", help=help_text)


def render() -> None:
    ctx = current()
    st.title("Outcomes overview")
    opt = ctx.view
    counts = data.cohort_counts(ctx.store, opt)
    cohort_flow(counts)
    if no_patients(counts.in_view):
        return
    small_group_caution(counts.in_view)
    head = ctx.headline
    everyone = data.headline(ctx.store, opt.with_filters(FilterState())) if opt.filters else None
    st.subheader(f"Outcomes at {fmt.months(head.day)}")
    km_metrics(head, everyone)
    if ctx.compare_by:
        by_group(ctx)
    st.subheader(
        f"Primary endpoint: AFS at {fmt.months(head.day)} against the "
        f"{fmt.share(opt.goal)} performance goal"
    )
    primary_endpoint(head)
    basket.add_button("overview", opt, key="overview")
    found = {
        "Survival endpoints": f"Kaplan-Meier at day {head.day:g}; 95% CI: "
        f"{CI_LABELS[head.ci_type]}",
    }
    if head.bayes is not None:
        found["Primary endpoint"] = head.bayes.provenance.method
    notes.methods(
        found,
        ("Amputation-free survival (AFS)", "Limb salvage", "Bayesian primary endpoint"),
    )


with shown_plainly("the overview"):
    render()
