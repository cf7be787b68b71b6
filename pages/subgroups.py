"""Subgroups: forest plot of the prespecified subgroups, and of any subject column added,
for one time-to-event endpoint of the patients in view."""

from __future__ import annotations

import streamlit as st

from analytics.frames import subgroup_frame, table_csv
from analytics.km import CI_LABELS
from analytics.schema import ADSL
from analytics.subgroups import DEFAULT_SUBGROUPS, SubgroupAnalysis, SubgroupResult
from charts.forest import forest_figure
from ui import fmt
from ui.context import Context, current
from ui.errors import shown_plainly
from ui.figure import show_figure
from ui.notes import small_group_caution

# Identifiers and what happens after the procedure are not baseline subgroups.
NOT_SUBGROUPS = frozenset({"STUDYID", "USUBJID", "DTHFL", "DTHCAUS", "EOSSTT"})
DEFAULT_ENDPOINT = "AFS"
ROW_PX = 35  # st.dataframe's row height: the table is shown whole up to MAX_ROWS rows
MAX_ROWS = 40


def label(column: str) -> str:
    try:
        return ADSL.column(column).label
    except KeyError:
        return column


def candidate_columns(ctx: Context) -> list[str]:
    """Subject columns a user may add: not identifiers, dates or outcomes."""
    return [
        col
        for col, sql_type in ctx.store.subject_columns().items()
        if col not in NOT_SUBGROUPS
        and col not in DEFAULT_SUBGROUPS
        and "DATE" not in sql_type.upper()
        and "TIME" not in sql_type.upper()
    ]


def choose(ctx: Context) -> tuple[str, list[str]]:
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
        candidate_columns(ctx),
        format_func=label,
        key="subgroups_extra",
        placeholder="Any other baseline column",
        help="Numeric columns with many values are split at their median.",
    )
    variables = [v for v in DEFAULT_SUBGROUPS if v in ctx.cohort.adsl.columns]
    wanted = [ctx.compare_by, *extra] if ctx.compare_by else extra
    for col in wanted:
        if col not in variables and col in ctx.cohort.adsl.columns:
            variables.append(col)
    return str(endpoint), variables


def table(ctx: Context, res: SubgroupResult) -> None:
    frame = subgroup_frame(res)
    months = fmt.months(res.landmark)
    st.dataframe(
        frame,
        hide_index=True,
        height=ROW_PX * (min(len(frame), MAX_ROWS) + 1) + 3,
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
            "Heterogeneity p": st.column_config.NumberColumn(format="%.3f"),
            "At risk": st.column_config.NumberColumn(format="%d"),
        },
        key="subgroups_table",
    )
    st.download_button(
        "Download the table (CSV)",
        table_csv(frame, f"Subgroups: {res.label}", ctx.filters.describe(), res.provenance),
        file_name=f"subgroups-{res.endpoint}.csv",
        mime="text/csv",
        on_click="ignore",
        key="subgroups_download",
    )


def render() -> None:
    ctx = current()
    st.title("Subgroups")
    if ctx.cohort.n == 0:
        st.info(
            "No patients match the current filters, so there are no subgroups to show. "
            "Remove a filter in the sidebar or press Reset filters."
        )
        return
    endpoint, variables = choose(ctx)
    if endpoint not in set(ctx.cohort.adtte["PARAMCD"]):
        st.info("The patients in view have no records for this endpoint. Choose another.")
        return
    opts = ctx.options
    res = (
        SubgroupAnalysis(landmark=opts.landmark, ci_type=opts.ci_type)
        .fit(ctx.cohort, endpoint, variables)
        .result_
    )
    small_group_caution(res.n, group=f"the patients with {res.label.lower()} records")
    st.caption(
        f"{fmt.count(res.n)} patients with {res.label.lower()} records, "
        f"{fmt.count(res.events)} events. Estimates at day {res.landmark:g} "
        f"({fmt.months(res.landmark)}), 95% CI {CI_LABELS[res.ci_type]}; hazard ratios "
        "against each variable's reference level. Levels with fewer than "
        f"{res.min_n} patients or no events are listed but not estimated."
    )
    show_figure(
        forest_figure(res, theme=opts.theme),
        f"subgroups-{endpoint}",
        slide=lambda: forest_figure(res, theme="presentation"),
        caption="Heterogeneity p: log-rank test across a variable's levels; the study has "
        "one arm, so there is no treatment-by-subgroup interaction to test.",
    )
    st.subheader("Table")
    table(ctx, res)
    st.caption(res.provenance.footnote())


with shown_plainly("the subgroup analysis"):
    render()
