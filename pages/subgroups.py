"""Subgroups: forest plot of the prespecified subgroups, and of any subject column added,
for one time-to-event endpoint of the patients in view."""

from __future__ import annotations

import streamlit as st

from analytics.analyses.subgroup_model import candidate_columns, subgroup_variables
from analytics.analyses.subgroups import DEFAULT_SUBGROUPS, SubgroupResult
from analytics.estimators.km import CI_LABELS
from analytics.model.basket import Card
from analytics.report.frames import subgroup_frame
from analytics.report.protected import shown_subgroups
from charts.forest import forest_figure
from ui import data, disclosure, fmt, patient_results
from ui.context import Context, current
from ui.errors import shown_plainly
from ui.figure import cached_figure, show_figure
from ui.notes import no_patients, small_group_caution
from ui.tables import show_table
from ui.themes import screen_theme, slide_theme

DEFAULT_ENDPOINT = "AFS"
HETEROGENEITY = (
    "Heterogeneity p: heterogeneity across levels (log-rank), a test of equal survival "
    "over a variable's levels; the study has one arm, so there is no treatment-by-subgroup "
    "interaction to test."
)


def choose(ctx: Context) -> tuple[str, list[str]]:
    """The endpoint and the columns added to the prespecified subgroups."""
    labels = ctx.store.endpoint_labels()
    codes = list(labels)
    left, right = st.columns([1, 2])
    endpoint = left.selectbox(
        "Endpoint",
        codes,
        index=codes.index(DEFAULT_ENDPOINT) if DEFAULT_ENDPOINT in codes else 0,
        format_func=lambda c: labels.get(c, c),
        key="subgroups_endpoint",
    )
    extra = right.multiselect(
        "Add subgroup variables",
        candidate_columns(ctx.store.subject_columns()),
        format_func=ctx.labels.column,
        key="subgroups_extra",
        placeholder="Any other baseline column",
        help="Numeric columns with many values are split at their median.",
    )
    return str(endpoint), [str(x) for x in extra]


def card_of(res: SubgroupResult, extra: list[str]) -> Card:
    """The report's subgroups card: this endpoint, these added variables."""
    options = (("endpoint", res.endpoint), *(("extra", col) for col in extra))
    return Card("subgroups", options=options)


def table(ctx: Context, res: SubgroupResult, card: Card) -> None:
    months = fmt.months(res.landmark)
    show_table(
        subgroup_frame(res),
        name="subgroups",
        title=f"Subgroups: {res.label}",
        view=ctx.view,
        provenance=res.provenance,
        label="Download the table (CSV)",
        file_name=f"subgroups-{res.endpoint}.csv",
        card=card,
        column_config={
            "Variable": st.column_config.TextColumn(pinned=True),
            "Level": st.column_config.TextColumn(pinned=True),
            "Estimate": st.column_config.NumberColumn(
                f"{res.endpoint} at {months}",
                format="percent",
                help=f"Kaplan-Meier estimate at day {res.landmark:g}",
            ),
            "Estimate lower": st.column_config.NumberColumn("95% CI lower", format="percent"),
            "Estimate upper": st.column_config.NumberColumn("95% CI upper", format="percent"),
            "Hazard ratio": st.column_config.NumberColumn(format="%.2f"),
            "HR lower": st.column_config.NumberColumn("HR 95% CI lower", format="%.2f"),
            "HR upper": st.column_config.NumberColumn("HR 95% CI upper", format="%.2f"),
            "HR p": st.column_config.NumberColumn(format="%.3f"),
            "Heterogeneity p": st.column_config.NumberColumn(format="%.3f", help=HETEROGENEITY),
            "At risk": st.column_config.NumberColumn(format="%d"),
        },
    )


def render() -> None:
    ctx = current()
    st.title("Subgroups")
    if no_patients(data.count(ctx.store, ctx.filters), "there are no subgroups to show"):
        return
    endpoint, extra = choose(ctx)
    variables = subgroup_variables(ctx.store.subject_columns(), [ctx.compare_by, *extra])
    opts = ctx.view
    found = patient_results.subgroups(ctx.store, opts, endpoint, variables)
    if found is None:
        st.info("The patients in view have no records for this endpoint. Choose another.")
        return
    res = found.in_words(ctx.labels)
    names = {v.variable for v in res.variables}
    protect = disclosure.active()
    if protect.too_few(res.n):
        st.info(protect.reason)
        return
    small_group_caution(res.n, group=f"the patients with {res.label.lower()} records")
    st.caption(
        f"{fmt.count(res.n)} patients with {res.label.lower()} records, "
        f"{protect.count_text(res.events)} events. Estimates at day {res.landmark:g} "
        f"({fmt.months(res.landmark)}), 95% CI {CI_LABELS[res.ci_type]}; hazard ratios "
        "against each variable's reference level. Levels with fewer than "
        f"{res.min_n} patients or no events are listed but not estimated. Prespecified: "
        f"{', '.join(res.variable(v).label for v in DEFAULT_SUBGROUPS if v in names)}; the "
        "age split is derived from the age at enrolment, and the extract's own age groups "
        "can be added as another variable."
    )
    key = (ctx.figure_key, endpoint, tuple(variables))
    drawn, gone = shown_subgroups(protect, res)
    if gone:
        st.caption(protect.hidden_note(gone))
    show_figure(
        cached_figure("forest", key, lambda: forest_figure(drawn, theme=screen_theme(opts))),
        f"subgroups-{endpoint}",
        slide=lambda: forest_figure(
            drawn,
            theme=slide_theme(),
            title=f"{res.label}: subgroups at {fmt.months(res.landmark)}",
        ),
        caption=HETEROGENEITY,
        card=card_of(res, extra),
    )
    st.subheader("Table")
    table(ctx, res, card_of(res, extra))
    st.caption(res.provenance.footnote())


with shown_plainly("the subgroup analysis"):
    render()
