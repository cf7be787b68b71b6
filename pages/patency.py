"""Patency of the arterialised circuit (primary, primary-assisted, secondary) and
reinterventions, among technical successes, as the trial reports them."""

from __future__ import annotations

import streamlit as st

from ui import data, disclosure, fmt, style
from ui.context import current
from ui.errors import shown_plainly
from ui.notes import no_patients, small_group_caution
from ui.survival import show_comparison, show_curves, show_estimates

PATENCY = ("PP", "PAP", "SP")
REINT = ("REINT",)


def patency(ctx) -> None:
    opt = ctx.view
    view = data.survival(ctx.store, opt, (*PATENCY, *REINT))
    st.subheader("Patency of the circuit")
    # presentation: the figure first, its explanation under it
    figure_slot = style.figure_slot(opt.presentation)
    st.caption(
        "Primary: no occlusion and no further intervention. Primary-assisted: "
        "interventions allowed while the circuit never occluded. Secondary: patency "
        "kept by further procedures after an occlusion. Only technical successes have "
        "patency records."
    )
    with style.in_slot(figure_slot):
        shown = show_curves(
            ctx,
            view,
            PATENCY,
            "patency",
            title="Patency",
            y_title="Patent circuits",
            card="patency",
        )
    if shown:
        show_estimates(view, (*PATENCY, *REINT), opt.landmark)
    reinterventions(ctx, view)


def reinterventions(ctx, view) -> None:
    opt = ctx.view
    st.subheader(f"Reinterventions by {fmt.at_day(opt.landmark)}")
    reint = data.reinterventions(ctx.store, opt, opt.landmark)
    if reint is None:
        st.info("The data have no reintervention records.")
        return
    c = st.columns(3)
    protect = disclosure.active()
    counts = (
        reint.patients,
        reint.denominator - reint.patients,
        reint.planned,
        reint.unplanned,
        reint.kind_not_recorded,
    )
    if any(protect.disclosure.hides(n) for n in counts):
        # each count of the three, or what the others leave of it, could be under 11
        names = ("Patients with a reintervention", "Planned", "Unplanned")
        for col, name in zip(c, names, strict=True):
            disclosure.withheld_metric(col, name)
    else:
        reintervention_metrics(c, reint)
    st.caption(
        f"{reint.provenance.method.capitalize()}; first reintervention per patient, "
        "planned (staged) or unplanned."
    )
    show_curves(
        ctx,
        view,
        REINT,
        "reintervention",
        title="Freedom from reintervention",
        y_title="Free of reintervention",
        card="reintervention",
    )


def reintervention_metrics(c, reint) -> None:
    share = (
        f"{fmt.pct(reint.patients / reint.denominator)} of {fmt.count(reint.denominator)}"
        if reint.denominator
        else "no technical successes"
    )
    c[0].metric(
        "Patients with a reintervention",
        fmt.count(reint.patients),
        share,
        delta_color="off",
        delta_arrow="off",
    )
    for col, name, n in ((c[1], "Planned", reint.planned), (c[2], "Unplanned", reint.unplanned)):
        value, note = fmt.reintervention_kind(n, reint.patients, reint.kind_not_recorded)
        col.metric(name, value, note or None, delta_color="off", delta_arrow="off")


def render() -> None:
    ctx = current()
    st.title("Patency and reinterventions")
    n = data.count(ctx.store, ctx.filters)
    if no_patients(n):
        return
    small_group_caution(n)
    with shown_plainly("the patency results"):
        patency(ctx)
    st.subheader("By group")
    with shown_plainly("the comparison between groups"):
        show_comparison(ctx, (*PATENCY, *REINT), key="patency_compare", card="patency")


with shown_plainly("the patency page"):
    render()
