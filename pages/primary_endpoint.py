"""The primary endpoint, as the paper's Figure 2A: posterior density of the
amputation-free survival rate at the landmark against the performance goal, with
what-if controls and the complete-case sensitivity analysis beside it."""

from __future__ import annotations

from typing import Any

import streamlit as st

from analytics.estimators.bayes import IMPUTATION_LABELS, BayesResult
from analytics.model.basket import Card
from analytics.model.card_options import OPTIONS
from analytics.model.view import View
from charts.posterior import posterior_figure
from pack.settings import PLAN
from ui import data, disclosure, fmt, style
from ui.by_group import show_by_group
from ui.context import Context, current
from ui.errors import shown_plainly
from ui.figure import cached_figure, show_figure
from ui.group_cells import bayes_cells
from ui.notes import bayes_verdict, methods, no_patients, small_group_caution
from ui.themes import screen_theme, slide_theme

# the URL keeps the code; the page shows the words
MISSING_CHOICES = tuple(OPTIONS["primary"]["missing"].choices)
BOUNDS = OPTIONS["primary"]  # the report's card takes what these inputs take
MISSING_LABELS = {
    "pwe": "Imputed: piecewise-exponential model",
    "km": "Imputed: Kaplan-Meier curve",
    "none": "Left out (complete cases)",
}
ENDPOINT = "AFS"
NAME = "Amputation-free survival"


def _copy(src: str, dst: str) -> None:
    # The landmark and the goal are the sidebar's view options: a change here is a
    # change there, so every page (and the URL) keeps one value.
    st.session_state[dst] = st.session_state[src]


def controls(ctx) -> dict:
    opt = ctx.view
    st.session_state["pe_landmark"] = int(opt.landmark)
    st.session_state["pe_goal"] = round(100 * opt.goal)
    with style.settings_box(opt.presentation, "What if? Change the analysis", border=True):
        st.markdown(
            "**What if?** Change the analysis; the protocol's values are the defaults "
            "(prior: Beta(a, b))."
        )
        c = st.columns([1, 1, 1, 1, 1, 2.2], vertical_alignment="bottom")
        day = c[0].number_input(
            "Landmark (days)",
            1,
            3650,
            step=1,
            key="pe_landmark",
            on_change=_copy,
            args=("pe_landmark", "landmark"),
            help="The sidebar's landmark: changing it here changes it on every page.",
        )
        goal = c[1].number_input(
            "Goal (%)",
            1,
            99,
            step=1,
            key="pe_goal",
            on_change=_copy,
            args=("pe_goal", "goal"),
            help="The AFS performance goal, the sidebar's: changing it here changes it everywhere.",
        )
        threshold = c[2].number_input(
            "Threshold",
            BOUNDS["threshold"].low,
            BOUNDS["threshold"].high,
            float(PLAN["threshold"]),
            0.001,
            format="%.3f",
            key="pe_threshold",
            bind="query-params",
            help="Success threshold: the goal is met if the posterior probability that the "
            "rate exceeds it is above this.",
        )
        a = c[3].number_input(
            "Prior a",
            BOUNDS["a"].low,
            BOUNDS["a"].high,
            float(PLAN["prior"][0]),
            0.5,
            format="%g",
            key="pe_a",
            bind="query-params",
        )
        b = c[4].number_input(
            "Prior b",
            BOUNDS["b"].low,
            BOUNDS["b"].high,
            float(PLAN["prior"][1]),
            0.5,
            format="%g",
            key="pe_b",
            bind="query-params",
        )
        missing = c[5].selectbox(
            "Missing outcomes",
            MISSING_CHOICES,
            index=0,
            format_func=MISSING_LABELS.get,
            key="pe_missing",
            bind="query-params",
            help="Outcomes of patients censored before the landmark: imputed from a "
            "piecewise-exponential model of the time to event with uncertain hazards (the "
            "Goldilocks design's method), imputed from the Kaplan-Meier curve, or left out.",
        )
    return {
        "day": float(day),
        "goal": goal / 100,
        "threshold": float(threshold),
        "prior": (float(a), float(b)),
        "impute": missing != "none",
        "imputation": missing if missing != "none" else PLAN["imputation"],
    }


def differences(settings: dict, ctx) -> list[str]:
    out = []
    default_day = View().landmark
    default_goal = View().goal
    if settings["day"] != default_day:
        out.append(f"landmark day {settings['day']:g} (plan: {default_day:g})")
    if settings["goal"] != default_goal:
        out.append(f"goal {fmt.share(settings['goal'])} (plan: {fmt.share(default_goal)})")
    if settings["threshold"] != PLAN["threshold"]:
        out.append(f"threshold {settings['threshold']:g} (plan: {PLAN['threshold']:g})")
    if settings["prior"] != tuple(PLAN["prior"]):
        a, b = settings["prior"]
        out.append(f"Beta({a:g}, {b:g}) prior (plan: Beta{tuple(PLAN['prior'])})")
    if settings["impute"] != PLAN["impute"]:
        out.append("complete cases only (plan: imputation of missing outcomes)")
    elif settings["imputation"] != PLAN["imputation"]:
        out.append(
            f"imputation from the {IMPUTATION_LABELS[settings['imputation']]} "
            f"(plan: the {IMPUTATION_LABELS[PLAN['imputation']]})"
        )
    return out


def card_of(settings: dict[str, Any]) -> Card:
    """The report's primary endpoint card with the settings that depart from the plan
    (the landmark and goal are the view's)."""
    options: list[tuple[str, str]] = []
    if settings["threshold"] != PLAN["threshold"]:
        options.append(("threshold", str(settings["threshold"])))
    if settings["prior"] != tuple(PLAN["prior"]):
        options += [("a", str(settings["prior"][0])), ("b", str(settings["prior"][1]))]
    missing = settings["imputation"] if settings["impute"] else "none"
    if missing != (PLAN["imputation"] if PLAN["impute"] else "none"):
        options.append(("missing", missing))
    return Card("primary", options=tuple(options))


def result_metrics(result: BayesResult, where, heading: str) -> None:
    where.markdown(f"**{heading}**")
    at = fmt.months(result.day)
    where.metric(
        f"Posterior mean AFS rate at {at}",
        fmt.pct(result.posterior_mean),
        fmt.interval(*result.credible_interval, kind="credible interval"),
        delta_color="off",
        delta_arrow="off",
    )
    where.metric(
        f"Probability the AFS rate exceeds {fmt.share(result.goal)}",
        fmt.probability(result.probability_above_goal),
    )
    counts = (result.successes, result.failures, result.missing)
    if any(disclosure.active().disclosure.hides(c) for c in counts):
        where.caption(
            f"Patients event-free at day {result.day:g}, with an event by then and followed "
            "for less: withheld under small-cell protection."
        )
        return
    where.caption(
        f"{result.successes} event-free at day {result.day:g}, {result.failures} with an "
        f"event by then, {result.missing} followed for less"
        + (f" (imputed from the {result.imputation_label})" if result.imputed else " (left out)")
        + "."
        + (
            ""
            if result.monte_carlo_error is None
            else f" Monte Carlo error of the probability: {result.monte_carlo_error:.1e}."
        )
    )


def render() -> None:
    ctx = current()
    st.title("Primary endpoint")
    n = data.count(ctx.store, ctx.filters)
    if no_patients(n):
        return
    settings = controls(ctx)
    small_group_caution(n)
    result = data.bayes(ctx.store, ctx.view, **settings)
    if result is None:
        st.info(
            "The primary endpoint needs amputation-free survival records, and the "
            "patients in view have none."
        )
        return
    # the sensitivity analysis is the other side of imputing: complete cases beside an
    # imputation, the plan's imputation beside complete cases
    other = data.bayes(ctx.store, ctx.view, **{**settings, "impute": not settings["impute"]})
    changed = differences(settings, ctx)
    if changed:
        st.warning("What-if analysis, not the analysis plan: " + "; ".join(changed) + ".")
    for note in result.notes:
        st.warning(f"Read with care: {note}.")
    if not ctx.view.presentation or result.success is None:
        # in the room the figure's own box says it (a reason needs the page's words)
        bayes_verdict(result)
    # presentation: the figure straight under the verdict, the numbers after it
    figure_slot = style.figure_slot(ctx.view.presentation)
    left, right = st.columns(2)
    result_metrics(result, left, "Primary analysis" if result.imputed else "Complete cases")
    if other is not None:
        heading = (
            "Sensitivity: complete cases only"
            if result.imputed
            else f"Sensitivity: imputed from the {other.imputation_label}"
        )
        result_metrics(other, right, heading)
    opt = ctx.view

    def build(theme=None, title=None):
        return posterior_figure(
            result,
            endpoint_label=NAME,
            title=title,
            show_complete_case=result.imputed,
            theme=theme or screen_theme(opt),
        )

    key = (ctx.figure_key, tuple(sorted(settings.items())))
    with style.in_slot(figure_slot):
        show_figure(
            cached_figure("posterior", key, build),
            "primary_endpoint",
            slide=lambda: build(slide_theme(), f"Primary endpoint: {NAME.lower()}"),
            card=card_of(settings),
        )
    if ctx.compare_by:
        per_group(ctx, settings)
    found = {"Primary analysis" if result.imputed else "Complete cases": result.provenance.method}
    if other is not None:
        found["Sensitivity analysis"] = other.provenance.method
    methods(found, ("Bayesian primary endpoint", "Performance goal"))


def per_group(ctx: Context, settings: dict[str, Any]) -> None:
    """The same analysis in each group of the compare-by column: descriptive, as a
    trial's primary endpoint is of the whole population."""
    by = ctx.compare_by
    assert by is not None
    st.subheader(f"By {ctx.labels.column(by).lower()}")

    def cells(group: View) -> dict[str, object]:
        return bayes_cells(data.bayes(ctx.store, group, **settings), settings["goal"])

    show_by_group(
        ctx,
        name="primary-endpoint-by-group",
        card=card_of(settings),
        title=f"Primary endpoint by {ctx.labels.column(by).lower()}",
        cells=cells,
        caption="Each group analysed on its own with the settings above: descriptive, with no "
        "adjustment for several groups; the trial's verdict is the one of all patients.",
    )


with shown_plainly("the primary endpoint"):
    render()
