"""The primary endpoint, as the paper's Figure 2A: posterior density of the
amputation-free survival rate at the landmark against the performance goal, with
what-if controls and the complete-case sensitivity analysis beside it."""

from __future__ import annotations

import inspect

import streamlit as st

from analytics.bayes import BayesianEndpoint, BayesResult
from charts.posterior import posterior_figure
from ui import data, fmt
from ui.context import current
from ui.errors import shown_plainly
from ui.figure import cached_figure, show_figure
from ui.notes import no_patients, small_group_caution

# The analysis plan's values are the estimator's defaults; the page starts from them.
PLAN = {
    name: p.default
    for name, p in inspect.signature(BayesianEndpoint).parameters.items()
    if p.default is not inspect.Parameter.empty
}
ENDPOINT = "AFS"
NAME = "Amputation-free survival"


def _copy(src: str, dst: str) -> None:
    # The landmark and the goal are the sidebar's view options: a change here is a
    # change there, so every page (and the URL) keeps one value.
    st.session_state[dst] = st.session_state[src]


def controls(ctx) -> dict:
    opt = ctx.options
    st.session_state["pe_landmark"] = int(opt.landmark)
    st.session_state["pe_goal"] = round(100 * opt.goal)
    with st.container(border=True):
        st.markdown(
            "**What if?** Change the analysis; the protocol's values are the defaults "
            "(prior: Beta(a, b))."
        )
        c = st.columns([1, 1, 1, 1, 1, 1.3], vertical_alignment="bottom")
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
            0.5,
            0.999,
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
            0.01,
            1000.0,
            float(PLAN["prior"][0]),
            0.5,
            format="%g",
            key="pe_a",
            bind="query-params",
        )
        b = c[4].number_input(
            "Prior b",
            0.01,
            1000.0,
            float(PLAN["prior"][1]),
            0.5,
            format="%g",
            key="pe_b",
            bind="query-params",
        )
        impute = c[5].toggle(
            "Imputation",
            bool(PLAN["impute"]),
            key="pe_impute",
            bind="query-params",
            help="Multiply impute the outcome of patients censored before the landmark "
            "(off: complete cases only).",
        )
    return {
        "day": float(day),
        "goal": goal / 100,
        "threshold": float(threshold),
        "prior": (float(a), float(b)),
        "impute": bool(impute),
    }


def differences(settings: dict, ctx) -> list[str]:
    out = []
    default_day = type(ctx.options)().landmark
    default_goal = type(ctx.options)().goal
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
        out.append("complete cases only (plan: multiple imputation)")
    return out


def verdict(result: BayesResult, where) -> None:
    goal = fmt.share(result.goal)
    prob = fmt.probability(result.probability_above_goal)
    text = (
        f"the posterior probability that the AFS rate at day {result.day:g} exceeds the "
        f"{goal} goal is {prob}, against a threshold of {result.threshold:g}."
    )
    if result.success:
        where.success(f"Performance goal met: {text}")
    else:
        where.info(f"Performance goal not met: {text}")


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
    where.caption(
        f"{result.successes} event-free at day {result.day:g}, {result.failures} with an "
        f"event by then, {result.missing} followed for less"
        + ("" if result.imputed else " (left out)")
        + "."
    )


def render() -> None:
    ctx = current()
    st.title("Primary endpoint")
    n = data.count(ctx.store, ctx.filters)
    if no_patients(n):
        return
    settings = controls(ctx)
    small_group_caution(n)
    result = data.bayes(ctx.store, ctx.filters, **settings)
    if result is None:
        st.info(
            "The primary endpoint needs amputation-free survival records, and the "
            "patients in view have none."
        )
        return
    other = data.bayes(ctx.store, ctx.filters, **{**settings, "impute": not settings["impute"]})
    changed = differences(settings, ctx)
    if changed:
        st.warning("What-if analysis, not the analysis plan: " + "; ".join(changed) + ".")
    for note in result.notes:
        st.warning(f"Read with care: {note}.")
    verdict(result, st)
    left, right = st.columns(2)
    result_metrics(result, left, "Primary analysis" if result.imputed else "Complete cases")
    if other is not None:
        heading = (
            "Sensitivity: complete cases only"
            if result.imputed
            else "Sensitivity: with multiple imputation"
        )
        result_metrics(other, right, heading)
    opt = ctx.options

    def build(theme=None, title=None):
        return posterior_figure(
            result,
            endpoint_label=NAME,
            title=title,
            show_complete_case=result.imputed,
            theme=theme or opt.screen_theme,
        )

    key = (data.view_key(ctx.store, ctx.filters, opt), tuple(sorted(settings.items())))
    show_figure(
        cached_figure("posterior", key, build),
        "primary_endpoint",
        slide=lambda: build("presentation", f"Primary endpoint: {NAME.lower()}"),
    )
    st.caption(f"Method: {result.provenance.method}.")
    if other is not None:
        st.caption(f"Sensitivity analysis: {other.provenance.method}.")


with shown_plainly("the primary endpoint"):
    render()
