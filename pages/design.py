"""Trial design: the Goldilocks adaptive design of PROMISE II, simulated for settings the
user chooses, against the operating characteristics the trial's design states.

A design tool: it reads no patient data. Every number comes from `analytics.analyses.design`;
the settings are drawn by `ui.design`.
"""

from __future__ import annotations

import streamlit as st

from analytics.analyses.design import DesignResult, DesignSettings, GoldilocksDesign, versus
from analytics.analyses.design_results import PowerCurve
from analytics.model.basket import Card
from analytics.model.view import View
from analytics.report.frames import table_csv
from charts.design import power_curve_figure, stopping_figure
from ui import basket, fmt
from ui.context import published_view, through_router
from ui.design import (
    STATED_ALPHA,
    STATED_POWER,
    controls,
    design_of,
    differences,
    operating_frame,
    power_inputs,
)
from ui.errors import shown_plainly
from ui.figure import show_figure
from ui.notes import methods, view_not_applied
from ui.themes import screen_theme


@st.cache_data(max_entries=64, ttl=3600, show_spinner="Simulating the trials…")
def _result(settings: DesignSettings, rate: float, simulations: int, seed: int) -> DesignResult:
    return GoldilocksDesign(**vars(settings)).run(rate, simulations, seed).result_


@st.cache_data(max_entries=32, ttl=3600, show_spinner="Simulating the power curve…")
def _curve(
    settings: DesignSettings, rates: tuple[float, ...], simulations: int, seed: int
) -> PowerCurve:
    return GoldilocksDesign(**vars(settings)).power_curve(rates, simulations, seed)


def metrics(res: DesignResult) -> None:
    rate, goal = res.at_rate, res.at_goal
    # two by two: four to a row cut the labels short
    c = [*st.columns(2), *st.columns(2)]
    c[0].metric(
        f"Probability of success at a true rate of {fmt.share(rate.true_rate)}",
        fmt.pct(rate.probability_of_success),
        f"Monte Carlo error {100 * rate.probability_of_success_se:.1f} points",
        delta_color="off",
        delta_arrow="off",
    )
    c[1].metric(
        "Expected sample size",
        f"{rate.expected_sample_size:.1f}",
        f"of at most {res.settings.looks[-1]} patients",
        delta_color="off",
        delta_arrow="off",
    )
    c[2].metric(
        f"Type I error (true rate = goal, {fmt.share(goal.true_rate)})",
        fmt.probability(goal.probability_of_success),
        f"Monte Carlo error {goal.probability_of_success_se:.4f}",
        delta_color="off",
        delta_arrow="off",
    )
    c[3].metric(
        "Expected time to the end of the trial",
        f"{rate.expected_duration_months:.1f} months",
        "from the first enrolment",
        delta_color="off",
        delta_arrow="off",
    )


def table(res: DesignResult, card: Card) -> None:
    frame = operating_frame(res)
    at_rate, at_goal = frame.columns[1:]
    st.dataframe(
        frame,
        hide_index=True,
        key="design_table",
        column_config={
            at_rate: st.column_config.NumberColumn(format="%.2f"),
            at_goal: st.column_config.NumberColumn(format="%.2f"),
        },
    )
    title = "Operating characteristics of the simulated Goldilocks design"
    with st.container(horizontal=True, gap="small"):
        st.download_button(
            f"Download: {title.lower()} (CSV)",
            lambda: table_csv(frame, title, "Filters: none (simulated trials)", res.provenance),
            file_name="design_operating_characteristics.csv",
            mime="text/csv",
            on_click="ignore",
            key="design_download",
        )
        basket.add_button(card, published_view() or View(), key="table_design")


def comparison(res: DesignResult, curve: PowerCurve) -> None:
    st.subheader("Against the trial's stated design")
    st.markdown(
        "The trial's published design: looks at 60, 75, 90 and 105 patients, a uniform "
        "prior, success when the posterior probability that amputation-free survival at 6 "
        "months exceeds 54% is above 0.977, a power of at least 80% if the true rate is "
        "68% and at least 90% if it is 70%, and a false-positive rate of 2.5% if it is 54%."
    )
    sim = dict(
        zip(
            curve.rates,
            zip(curve.probability_of_success, curve.monte_carlo_error, strict=True),
            strict=True,
        )
    )
    words = {"above": "above", "below": "below", "within": "within Monte Carlo error of"}
    lines = []
    for rate, power in STATED_POWER:
        p, se = sim[rate]
        lines.append(
            f"- True rate {fmt.share(rate)}: simulated probability of success "
            f"{fmt.pct(p)} (95% Monte Carlo interval ± {100 * 1.96 * se:.1f} points), "
            f"{words[versus(p, se, power)]} the stated {fmt.share(power)} or more."
        )
    t1, se1 = res.at_goal.probability_of_success, res.at_goal.probability_of_success_se
    lines.append(
        f"- True rate at the goal ({fmt.share(res.settings.goal)}): simulated type I error "
        f"{t1:.4f} (95% Monte Carlo interval ± {1.96 * se1:.4f}), "
        f"{words[versus(t1, se1, STATED_ALPHA)]} the stated {STATED_ALPHA:g}."
    )
    st.markdown("\n".join(lines))
    fixed, cal = res.fixed, res.calibration
    st.markdown("**Why the simulation can differ**")
    st.markdown(
        "- The published text does not give every interim rule. It names the looks, the "
        "prior, the goal and the threshold, but not the predictive probabilities that stop "
        f"enrolment (here above {res.settings.expected_success:g}) or stop for futility "
        f"(here below {res.settings.futility:g}), the pace of enrolment (here "
        f"{res.settings.accrual_per_month:g} patients a month), nor how incomplete outcomes "
        "count at a look. Here an outcome counts only once the patient reaches day "
        f"{res.settings.followup_days:g}, nobody is lost to follow-up, and a patient with an "
        "event before the landmark is not known to have failed until then; the trial imputed "
        "incomplete outcomes from a model of the time to event.\n"
        f"- The binomial is discrete. With {fixed.sample_size} patients the threshold "
        f"{res.settings.threshold:g} is passed from {fixed.critical_count} successes, and a "
        f"single analysis of all {fixed.sample_size} then has an exact type I error of "
        f"{fixed.type_one_error:.4f} (the binomial probability of {fixed.critical_count} or "
        f"more successes when the true rate is the goal). To keep it at most "
        f"{fixed.alpha:g} the design needs {fixed.required_critical_count} successes "
        f"(exact type I error {fixed.required_type_one_error:.4f}, power "
        f"{fmt.pct(fixed.required_power)} at {fmt.share(res.at_rate.true_rate)}): a "
        f"threshold of {fixed.required_threshold:.10g} gives that (with "
        f"{fixed.required_critical_count - 1} successes the posterior probability must no "
        "longer pass)."
    )
    if cal is not None and cal.threshold is None:
        st.markdown(
            f"- As simulated, no threshold a few steps above {res.settings.threshold:g} brings "
            f"this design's type I error to {cal.alpha:g}."
        )
    elif cal is not None and cal.threshold is not None and cal.critical_counts is not None:
        counts = ", ".join(
            f"{k} of {n}" for n, k in zip(res.settings.looks, cal.critical_counts, strict=True)
        )
        if cal.threshold == res.settings.threshold:
            st.markdown(
                f"- As simulated, this design's type I error is already at most {cal.alpha:g}."
            )
        else:
            st.markdown(
                f"- As simulated, the adaptive design keeps its type I error at most "
                f"{cal.alpha:g} with a threshold of {cal.threshold:.10g} (successes needed: "
                f"{counts}): simulated type I error {cal.type_one_error:.4f} "
                f"(Monte Carlo error {cal.type_one_error_se:.4f})."
            )


def render() -> None:
    through_router()  # a design tool needs no cohort, but the sidebar and routing still apply
    st.title("Trial design")
    st.markdown(
        "PROMISE II used a **Goldilocks adaptive design** (Broglio, Connor and Berry, "
        "2014): the sample size is not fixed in advance. At each look the accumulating "
        "amputation-free survival (AFS) outcomes give two predictive probabilities: that "
        "the patients already enrolled will meet the performance goal once all reach 6 "
        "months (if high, enrolment stops), and that the trial would meet it at the "
        "maximum sample size (if low, it stops for futility). Here the design is simulated "
        "for a true AFS rate you choose. No patient data are used."
    )
    view_not_applied(
        published_view(), "the design is simulated, not computed from the patients in view"
    )
    choice = controls()
    settings = design_of(choice)
    if settings is None:
        return
    rate, simulations, seed = choice.rate, choice.simulations, choice.seed
    changed = differences(settings)
    if changed:
        st.warning("What-if design, not the trial's plan: " + "; ".join(changed) + ".")
    res = _result(settings, rate, simulations, seed)
    metrics(res)
    # the URL holds the words (?design_where=At+the+goal), as on the other pages
    at_goal = (
        st.radio(
            "Where the simulated trials stopped",
            ("At the true rate", "At the goal"),
            horizontal=True,
            key="design_where",
            bind="query-params",
            help="At the goal: the trials whose share of successes is the type I error.",
        )
        == "At the goal"
    )
    where = (("where", "goal"),) if at_goal else ()
    theme = screen_theme(published_view() or View())
    stopping = Card("design", options=(*choice.options("design"), *where))
    show_figure(
        stopping_figure(res, at_goal=at_goal, theme=theme),
        "design_stopping",
        slide=lambda: stopping_figure(
            res, at_goal=at_goal, theme="presentation", title="Where the simulated trials stopped"
        ),
        card=stopping,
    )
    table(res, stopping)
    rates, curve_simulations, stated = power_inputs(settings, simulations)
    curve = _curve(settings, rates, curve_simulations, seed)
    st.subheader("Probability of success by true rate")
    show_figure(
        power_curve_figure(curve, goal=settings.goal, stated=stated, theme=theme),
        "design_power",
        slide=lambda: power_curve_figure(
            curve,
            goal=settings.goal,
            stated=stated,
            theme="presentation",
            title="Probability of success of the Goldilocks design",
        ),
        card=Card("design_power", options=choice.options("design_power")),
    )
    comparison(res, curve)
    methods({"Simulation": res.provenance.method}, ("Performance goal",))


with shown_plainly("the trial design"):
    render()
