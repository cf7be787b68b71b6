"""Wounds and Rutherford class: target wound status, wound area and all wounds healed at
every scheduled visit, and the change in Rutherford class at a chosen visit, per group
when the patients are compared by a subject column."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import streamlit as st

from analytics.frames import stack, table_csv
from analytics.provenance import Provenance
from analytics.schema import ADSL
from analytics.store import Cohort
from analytics.visits import (
    BASELINE,
    RutherfordAtVisit,
    WoundCourse,
    nearest_visit,
    rutherford_at,
    visit_names,
    wound_course,
)
from charts.wounds import (
    all_healed_figure,
    healing_status_figure,
    rutherford_change_figure,
    wound_area_figure,
)
from ui import fmt
from ui.context import Context, current
from ui.errors import shown_plainly
from ui.figure import show_figure
from ui.notes import small_group_caution

ALL = "All patients in view"
ROW_PX = 35  # st.dataframe's row height: tables are shown whole up to MAX_ROWS rows
MAX_ROWS = 40
SHARE = st.column_config.NumberColumn(format="percent")
AREA = st.column_config.NumberColumn(format="%.2f")


def label(column: str) -> str:
    try:
        return ADSL.column(column).label
    except KeyError:
        return column


def visit_label(visit: str) -> str:
    return visit.capitalize()


def groups(ctx: Context) -> tuple[dict[str, Cohort], dict[str, str]]:
    """Group name -> cohort (the patients in view, or one per level of the compare-by
    column that has patients), and group name -> its colour on every page."""
    if not ctx.compare_by:
        return {ALL: ctx.cohort}, {}
    colours = ctx.colours(ctx.compare_by)
    cohorts = {f"{label(ctx.compare_by)}: {lv}": c for lv, c in ctx.groups().items()}
    names = {f"{label(ctx.compare_by)}: {lv}": colours[lv] for lv in ctx.groups() if lv in colours}
    return cohorts, names


def metric(
    col: Any, title: str, share: float | None, n: int, d: int, noun: str, helptext: str
) -> None:
    col.metric(
        title,
        "–" if share is None else fmt.pct(share),
        f"{n} of {d} {noun}",
        delta_color="off",
        delta_arrow="off",
        help=helptext,
    )


def headline(course: WoundCourse, ruth: RutherfordAtVisit, visit: str) -> None:
    v = course.visit(visit)
    cols = st.columns(4)
    metric(
        cols[0],
        "Target wound healed",
        v.share("HEALED"),
        v.healed,
        v.assessed,
        "assessed",
        "Target wound area 0, among patients whose target wound was assessed at the visit.",
    )
    metric(
        cols[1],
        "Target wound healing",
        v.share("HEALING"),
        v.healing,
        v.assessed,
        "assessed",
        "Target wound smaller than at baseline (not healed), among patients assessed at the visit.",
    )
    metric(
        cols[2],
        "All wounds healed",
        v.all_healed_share,
        v.all_healed,
        v.all_assessed,
        "assessed",
        "Among patients assessed for all wounds healed at the visit, amputees included.",
    )
    metric(
        cols[3],
        "Rutherford class decreased",
        ruth.share("decreased"),
        ruth.decreased,
        ruth.paired,
        "paired",
        "Class lower than at baseline, among patients with a class at baseline and at the visit.",
    )


def table(
    ctx: Context,
    frame: pd.DataFrame,
    *,
    name: str,
    title: str,
    provenance: Provenance,
    column_config: Mapping[str, Any] | None = None,
) -> None:
    st.dataframe(
        frame,
        hide_index=True,
        column_config=dict(column_config or {}),
        height=ROW_PX * (min(len(frame), MAX_ROWS) + 1) + 3,
        key=f"{name}_table",
    )
    st.download_button(
        f"Download: {title.lower()} (CSV)",
        table_csv(frame, title, ctx.filters.describe(), provenance),
        file_name=f"{name}.csv",
        mime="text/csv",
        on_click="ignore",
        key=f"{name}_download",
    )


def render() -> None:
    ctx = current()
    st.title("Wounds and Rutherford class")
    if ctx.cohort.n == 0:
        st.info(
            "No patients match the current filters, so there are no wound results to show. "
            "Remove a filter in the sidebar or press Reset filters."
        )
        return
    cohorts, colours = groups(ctx)
    if not cohorts:
        st.info("No group of the comparison has patients in view.")
        return
    for name, cohort in cohorts.items():
        small_group_caution(cohort.n, group=None if name == ALL else name)
    courses = {name: wound_course(c) for name, c in cohorts.items()}
    if not any(v.followed for c in courses.values() for v in c.visits):
        st.info(
            "No scheduled visits are recorded for the patients in view, so there are no wound "
            "or Rutherford results to show."
        )
        return
    choices = [v for v in visit_names(ctx.cohort) if v != BASELINE]
    default = nearest_visit(ctx.cohort, ctx.options.landmark)
    visit = st.selectbox(
        "Visit for the headline numbers and the Rutherford change",
        choices,
        index=choices.index(default) if default in choices else 0,
        format_func=visit_label,
        key="wounds_visit",
        width=360,
    )
    ruths = {name: rutherford_at(c, visit) for name, c in cohorts.items()}
    theme = ctx.options.theme
    main = courses[ALL].provenance if ALL in courses else wound_course(ctx.cohort).provenance

    st.subheader(f"At {visit_label(visit).lower()}")
    for name in courses:
        if len(courses) > 1:
            st.markdown(f"**{name}** ({fmt.count(courses[name].n)} patients)")
        headline(courses[name], ruths[name], visit)
    st.caption(
        "Denominators as in the trial report: target wound status among patients whose target "
        "wound was assessed at the visit (patients who died, were amputated above the ankle or "
        "left the study are not); Rutherford change among patients with a class at baseline "
        "and at the visit."
    )

    st.subheader("Target wound status at each visit")
    show_figure(
        healing_status_figure(courses, theme=theme, provenance=main),
        "wound-status",
        slide=lambda: healing_status_figure(
            courses, theme="presentation", provenance=main, title="Target wound status"
        ),
        caption="Share of patients assessed at each visit; n above each bar is that denominator.",
    )
    st.subheader("Target wound area")
    show_figure(
        wound_area_figure(courses, colours=colours, theme=theme, provenance=main),
        "wound-area",
        slide=lambda: wound_area_figure(
            courses,
            colours=colours,
            theme="presentation",
            provenance=main,
            title="Target wound area",
        ),
        caption="Median area of the target wounds measured at each visit, with the "
        "interquartile range as the band.",
    )
    st.subheader("All wounds healed")
    show_figure(
        all_healed_figure(courses, colours=colours, theme=theme, provenance=main),
        "all-wounds-healed",
        slide=lambda: all_healed_figure(
            courses,
            colours=colours,
            theme="presentation",
            provenance=main,
            title="All wounds healed",
        ),
        caption="Share of patients assessed for it at each visit.",
    )
    table(
        ctx,
        stack({n: c.to_frame() for n, c in courses.items()}, "Group"),
        name="wounds-by-visit",
        title="Wounds by visit",
        provenance=main,
        column_config={
            c: SHARE
            for c in (
                "Healed share",
                "Healing share",
                "Not healing share",
                "All wounds healed share",
            )
        }
        | {c: AREA for c in ("Area median (cm2)", "Area Q1 (cm2)", "Area Q3 (cm2)")},
    )

    st.subheader(f"Rutherford class at {visit_label(visit).lower()}")
    ruth_prov = rutherford_at(ctx.cohort, visit).provenance
    show_figure(
        rutherford_change_figure(ruths, theme=theme, provenance=ruth_prov),
        "rutherford-change",
        slide=lambda: rutherford_change_figure(
            ruths,
            theme="presentation",
            provenance=ruth_prov,
            title=f"Rutherford class change at {visit_label(visit).lower()}",
        ),
        caption="Change from baseline among patients with a class at both.",
    )
    table(
        ctx,
        stack({n: r.change_frame() for n, r in ruths.items()}, "Group"),
        name="rutherford-change",
        title=f"Rutherford change at {visit_label(visit).lower()}",
        provenance=ruth_prov,
        column_config={c: SHARE for c in ("Decreased share", "Unchanged share", "Increased share")},
    )
    table(
        ctx,
        stack({n: r.to_frame() for n, r in ruths.items()}, "Group"),
        name="rutherford-classes",
        title=f"Rutherford class at {visit_label(visit).lower()}",
        provenance=ruth_prov,
        column_config={"Share": SHARE},
    )
    st.caption(main.footnote())


with shown_plainly("the wound and Rutherford results"):
    render()
