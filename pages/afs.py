"""Amputation-free survival: the paper's Figure 2B (AFS, limb salvage and survival with
the at-risk table), the same per group, and amputation with death as a competing risk."""

from __future__ import annotations

import streamlit as st

from analytics.estimators.km import CI_LABELS
from analytics.model.schema import DAYS_PER_MONTH
from analytics.model.view import View
from charts.competing import cif_figure
from ui import data, fmt
from ui.by_group import show_by_group
from ui.context import Context, current
from ui.errors import shown_plainly
from ui.figure import cached_figure, show_figure
from ui.group_cells import competing_cells
from ui.notes import methods, no_patients, small_group_caution
from ui.survival import show_comparison, show_curves, show_estimates
from ui.themes import screen_theme, slide_theme

CODES = ("AFS", "LS", "OS")


def figure_2b(ctx) -> None:
    opt = ctx.view
    view = data.survival(ctx.store, opt, CODES)
    st.subheader(
        f"Amputation-free survival, limb salvage and survival to {fmt.at_day(opt.landmark)}"
    )
    shown = show_curves(
        ctx,
        view,
        CODES,
        "afs_ls_os",
        title="Amputation-free survival, limb salvage and overall survival",
        goal=opt.goal,
        goal_label="AFS performance goal",
        card="afs",
    )
    if shown:
        show_estimates(view, CODES, opt.landmark)


def competing(ctx) -> None:
    opt = ctx.view
    st.subheader("Major amputation with death as a competing risk")
    result = data.competing(ctx.store, opt, "LS")
    if result is None:
        st.info(
            "No major amputation among the patients in view, so there is no cumulative "
            "incidence to show."
        )
        return
    aj = result.aalen_johansen.landmark(opt.landmark)
    km = result.one_minus_km.landmark(opt.landmark)
    at = fmt.months(opt.landmark)
    left, right = st.columns(2)
    left.metric(
        f"Major amputation by {at}, death as competing risk",
        fmt.pct(aj.estimate),
        fmt.interval(aj.lower, aj.upper),
        delta_color="off",
        delta_arrow="off",
        help="Aalen-Johansen cumulative incidence: patients who die first can no longer "
        "lose the limb.",
    )
    right.metric(
        f"1 − Kaplan-Meier by {at}, deaths censored",
        fmt.pct(km.estimate),
        fmt.interval(km.lower, km.upper),
        delta_color="off",
        delta_arrow="off",
        help="One minus the limb-salvage curve: treats the dead as if they could still "
        "lose the limb, so it overstates the risk when many die.",
    )

    def build(theme=None, title=None):
        return cif_figure(
            result,
            title=title,
            tick_months=opt.tick_months,
            ci=opt.show_ci,
            fade_below=opt.min_at_risk or None,
            landmark_day=opt.landmark,
            theme=theme or screen_theme(opt),
        )

    key = (ctx.figure_key, "LS")
    show_figure(
        cached_figure("competing", key, build),
        "amputation_competing",
        slide=lambda: build(slide_theme(), "Cumulative incidence of major amputation"),
        card="competing",
    )
    if ctx.compare_by:
        competing_by_group(ctx)


def competing_by_group(ctx: Context) -> None:
    """Cumulative incidence of major amputation at the landmark in each group."""
    by = ctx.compare_by
    assert by is not None
    day = ctx.view.landmark

    def cells(group: View) -> dict[str, object]:
        return competing_cells(data.competing(ctx.store, group, "LS"), day)

    show_by_group(
        ctx,
        name="amputation-competing-by-group",
        card="competing",
        title=f"Major amputation by {fmt.months(day)} by {ctx.labels.column(by).lower()}",
        cells=cells,
        caption=f"Cumulative incidence of major amputation at day {day:g} with 95% CI in each "
        "group: Aalen-Johansen (death competing) beside 1 − Kaplan-Meier (deaths censored).",
    )


def render() -> None:
    ctx = current()
    st.title("Amputation-free survival")
    n = data.count(ctx.store, ctx.filters)
    if no_patients(n):
        return
    small_group_caution(n)
    with shown_plainly("the survival figure"):
        figure_2b(ctx)
    st.subheader("By group")
    with shown_plainly("the comparison between groups"):
        show_comparison(ctx, CODES, key="afs_compare", card="afs")
    with shown_plainly("the competing-risk view"):
        competing(ctx)
    methods(
        {
            "Survival curves": f"Kaplan-Meier with Greenwood variance; 95% CI: "
            f"{CI_LABELS[ctx.view.ci_type]}; months of {DAYS_PER_MONTH:g} days",
            "Groups": "log-rank test; Cox proportional hazards (Efron ties) against the "
            "reference level, Wald 95% CI and p",
            "Competing risks": "Aalen-Johansen cumulative incidence of major amputation "
            "with death competing, beside 1 − Kaplan-Meier (deaths censored)",
        },
        (
            "Amputation-free survival (AFS)",
            "Limb salvage",
            "Competing risk",
            "Log-rank test and hazard ratio",
        ),
    )


with shown_plainly("the amputation-free survival page"):
    render()
