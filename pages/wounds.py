"""Wounds and Rutherford class: target wound status, wound area and all wounds healed at
every scheduled visit, and the change in Rutherford class at a chosen visit, per group
when the patients are compared by a subject column."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from analytics.analyses import views
from analytics.analyses.visits import BASELINE, RutherfordAtVisit, WoundCourse
from analytics.model.basket import Card
from analytics.model.filters import FilterState
from analytics.model.provenance import Provenance
from analytics.report.frames import stack
from analytics.report.protected import rutherford_shown, shown_visits
from charts.theme import Theme
from charts.wound_trends import all_healed_figure, wound_area_figure
from charts.wounds import healing_status_figure, rutherford_change_figure
from ui import data, disclosure, fmt, patient_results, style
from ui.context import Context, current
from ui.errors import shown_plainly
from ui.figure import cached_figure, show_figure
from ui.notes import no_patients, not_compared, small_group_caution
from ui.tables import in_words, show_table
from ui.themes import screen_theme, slide_theme

ALL = "All patients in view"
SHARE = st.column_config.NumberColumn(format="percent")
AREA = st.column_config.NumberColumn(format="%.2f")


def worded(ctx: Context, frame: pd.DataFrame) -> pd.DataFrame:
    """A visit table with its visits and Rutherford classes in clinical words."""
    return in_words(frame, ctx.labels, {"Visit": "AVISIT", "Rutherford class": "RUTHCAT"})


def visit_label(visit: str) -> str:
    return visit.capitalize()


def groups(ctx: Context) -> tuple[dict[str, FilterState], dict[str, int], dict[str, str]]:
    """Group name -> its filters (the patients in view, or one per level of the
    compare-by column that has patients), group name -> patients, and group name ->
    its colour on every page."""
    by = ctx.compare_by
    if not by:
        return {ALL: ctx.filters}, {ALL: data.count(ctx.store, ctx.filters)}, {}
    colours = ctx.colours(by)
    sizes = data.group_sizes(ctx.store, ctx.filters, by)
    levels = [lv for lv in ctx.levels(by) if sizes.get(lv, 0) > 0]
    name = ctx.labels.level
    filters = {name(by, lv): views.level_filter(ctx.filters, by, lv) for lv in levels}
    n = {name: data.count(ctx.store, f) for name, f in filters.items()}
    names = {name(by, lv): colours[lv] for lv in levels if lv in colours}
    return filters, n, names


def metric(
    col: Any,
    title: str,
    share: float | None,
    n: int,
    d: int,
    noun: str,
    helptext: str,
    withheld: bool = False,
) -> None:
    """A share with its count; under small-cell protection withheld when the count, its
    denominator or what is left of it (or, `withheld`, another cell of its table) is
    from 1 to 10."""
    p = disclosure.active()
    if withheld or p.disclosure.hides(d) or p.disclosure.hides_share(n, d):
        disclosure.withheld_metric(col, title)
        return
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
    protect = disclosure.active()
    status_withheld = visit in shown_visits(protect, course)[1]
    cols = st.columns(4)
    metric(
        cols[0],
        "Target wound healed",
        v.share("HEALED"),
        v.healed,
        v.assessed,
        "assessed",
        "Target wound area 0, among patients whose target wound was assessed at the visit.",
        status_withheld,
    )
    metric(
        cols[1],
        "Target wound healing",
        v.share("HEALING"),
        v.healing,
        v.assessed,
        "assessed",
        "Target wound smaller than at baseline (not healed), among patients assessed at the visit.",
        status_withheld,
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
        not rutherford_shown(protect, ruth),
    )


def status_figure(
    courses: dict[str, WoundCourse], theme: Theme, main: Provenance, key: tuple[Any, ...]
) -> None:
    """Target wound status at each visit, the page's main figure."""
    st.subheader("Target wound status at each visit")
    show_figure(
        cached_figure(
            "wound_status",
            key,
            lambda: healing_status_figure(courses, theme=theme, provenance=main),
        ),
        "wound-status",
        slide=lambda: healing_status_figure(
            courses, theme=slide_theme(), provenance=main, title="Target wound status"
        ),
        caption="Share of patients assessed at each visit; n above each bar is that denominator.",
        card="wounds",
    )


def render() -> None:
    ctx = current()
    st.title("Wounds and Rutherford class")
    if no_patients(data.count(ctx.store, ctx.filters), "there are no wound results to show"):
        return
    filters, sizes, colours = groups(ctx)
    protect = disclosure.active()
    if ctx.compare_by:
        not_compared(ctx.not_compared(), ctx.labels.column(ctx.compare_by).lower())
        hidden = protect.withheld_groups(sizes)
        if hidden:
            st.caption(protect.hidden_note(sorted(hidden)))
            filters = {k: f for k, f in filters.items() if k not in hidden}
    if not filters:
        st.info("No group of the comparison has patients in view.")
        return
    for name, n in sizes.items():
        small_group_caution(n, group=None if name == ALL else name)
    no_visits = (
        "No scheduled visits are recorded for the patients in view, so there are no wound "
        "or Rutherford results to show."
    )
    if not patient_results.has_rows(ctx.store, "visits"):
        st.info(no_visits)  # the data have no visits at all: say so without reading patients
        return
    opts = ctx.view
    overall = patient_results.wounds(ctx.store, opts)
    courses: dict[str, WoundCourse] = {
        name: overall.course
        if name == ALL
        else patient_results.wounds(ctx.store, opts.with_filters(f)).course
        for name, f in filters.items()
    }
    if not any(v.followed for c in courses.values() for v in c.visits):
        st.info(no_visits)
        return
    # presentation: the wound status figure first, the visit's numbers after it
    figure_slot = style.figure_slot(opts.presentation)
    choices = [v for v in overall.visits if v != BASELINE]
    default = overall.nearest
    visit = st.selectbox(
        "Visit for the headline numbers and the Rutherford change",
        choices,
        index=choices.index(default) if default in choices else 0,
        format_func=visit_label,
        key="wounds_visit",
        width=360,
    )
    ruths = {
        name: patient_results.rutherford(ctx.store, opts.with_filters(f), visit)
        for name, f in filters.items()
    }
    theme = screen_theme(opts)
    main = overall.course.provenance
    key = (ctx.figure_key, ctx.compare_by)
    # the figures leave out the visits whose counts the tables withhold, and say so
    drawn = {name: shown_visits(protect, c)[0] for name, c in courses.items()}
    gone = sorted({v for c in courses.values() for v in shown_visits(protect, c)[1]})

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

    with style.in_slot(figure_slot):
        if gone:
            st.caption(protect.hidden_note([visit_label(v) for v in gone]))
        status_figure(drawn, theme, main, key)
    st.subheader("Target wound area")
    show_figure(
        cached_figure(
            "wound_area",
            key,
            lambda: wound_area_figure(drawn, colours=colours, theme=theme, provenance=main),
        ),
        "wound-area",
        slide=lambda: wound_area_figure(
            drawn,
            colours=colours,
            theme=slide_theme(),
            provenance=main,
            title="Target wound area",
        ),
        caption="Median area of the target wounds measured at each visit, with the "
        "interquartile range as the band.",
        card="wound_area",
    )
    st.subheader("All wounds healed")
    show_figure(
        cached_figure(
            "all_wounds_healed",
            key,
            lambda: all_healed_figure(drawn, colours=colours, theme=theme, provenance=main),
        ),
        "all-wounds-healed",
        slide=lambda: all_healed_figure(
            drawn,
            colours=colours,
            theme=slide_theme(),
            provenance=main,
            title="All wounds healed",
        ),
        caption="Share of patients assessed for it at each visit.",
        card="all_healed",
    )
    show_table(
        worded(ctx, stack({n: c.to_frame() for n, c in courses.items()}, "Group")),
        name="wounds-by-visit",
        card="wounds",
        title="Wounds by visit",
        label="Download: wounds by visit (CSV)",
        view=ctx.view,
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

    at = visit_label(visit).lower()
    # the card at the visit nearest the landmark follows the landmark; another is fixed
    card = Card("rutherford", options=() if visit == default else (("visit", visit),))
    st.subheader(f"Rutherford class at {at}")
    ruth_prov = patient_results.rutherford(ctx.store, ctx.view, visit).provenance
    shown = {name: r for name, r in ruths.items() if rutherford_shown(protect, r)}
    if len(shown) < len(ruths):
        st.caption(protect.hidden_note([n for n in ruths if n not in shown]))
    if shown:
        show_figure(
            cached_figure(
                "rutherford_change",
                (*key, visit),
                lambda: rutherford_change_figure(shown, theme=theme, provenance=ruth_prov),
            ),
            "rutherford-change",
            slide=lambda: rutherford_change_figure(
                shown,
                theme=slide_theme(),
                provenance=ruth_prov,
                title=f"Rutherford class change at {at}",
            ),
            caption="Change from baseline among patients with a class at both.",
            card=card,
        )
    show_table(
        worded(ctx, stack({n: r.change_frame() for n, r in ruths.items()}, "Group")),
        name="rutherford-change",
        title=f"Rutherford change at {at}",
        card=card,
        label=f"Download: rutherford change at {at} (CSV)",
        view=ctx.view,
        provenance=ruth_prov,
        column_config={c: SHARE for c in ("Decreased share", "Unchanged share", "Increased share")},
    )
    show_table(
        worded(ctx, stack({n: r.to_frame() for n, r in ruths.items()}, "Group")),
        name="rutherford-classes",
        title=f"Rutherford class at {at}",
        card=card,
        label=f"Download: rutherford class at {at} (CSV)",
        view=ctx.view,
        provenance=ruth_prov,
        column_config={"Share": SHARE},
    )
    st.caption(main.footnote())


with shown_plainly("the wound and Rutherford results"):
    render()
