"""Published evidence: the patients in view beside what is published on deep vein
arterialization (trials, real-world series, meta-analyses) and the reference rates the
performance goals come from, for amputation-free survival, limb salvage and survival.

The published figures are the project's copy of the evidence file
(`analytics.analyses.evidence_file`); the cohort's are the Kaplan-Meier estimates the
survival pages show, got through the same cached call at each panel's day.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from analytics.analyses.evidence import (
    SHOWN_ENDPOINTS,
    CohortPoint,
    cohort_points,
    evidence_frame,
    panels,
)
from analytics.analyses.evidence_file import Evidence, load_evidence
from analytics.estimators.km import CI_LABELS
from analytics.model.provenance import Provenance
from analytics.report.protected import shown_points
from analytics.store import PROJECT_ROOT
from charts.evidence import COHORT_NAME, evidence_figure
from ui import data, disclosure, fmt
from ui.context import Context, current
from ui.errors import shown_plainly
from ui.figure import cached_figure, show_figure
from ui.notes import notice_text, small_group_caution
from ui.survival import SHORT, group_name
from ui.tables import show_table
from ui.themes import screen_theme, slide_theme


def cohort_name(ctx: Context, n: int) -> str:
    synthetic = ", synthetic demo data" if ctx.store.synthetic else ""
    return f"{COHORT_NAME} (n = {fmt.count(n)}{synthetic})"


def cohort(ctx: Context, ev: Evidence, n: int) -> tuple[tuple[CohortPoint, ...], Provenance]:
    """The cohort's point on every panel, and where the numbers come from."""
    wanted = panels(ev)
    if n == 0:
        return (), ctx.store.provenance(ctx.filters)
    # the view options with the landmark moved to each panel's day: at the options' own
    # landmark this is the very call (and cache entry) of the survival pages
    views = {
        day: data.survival(
            ctx.store, replace(ctx.view, landmark=day), SHOWN_ENDPOINTS, by=ctx.compare_by
        )
        for day in sorted({p.day for p in wanted})
    }
    method = f"Kaplan-Meier; 95% CI: {CI_LABELS[ctx.view.ci_type]}"
    provenance = next(iter(views.values())).provenance.with_method(method)
    return cohort_points(views, wanted), provenance


def figure(ctx: Context, ev: Evidence, n: int) -> None:
    opt = ctx.view
    found, provenance = cohort(ctx, ev, n)
    protect = disclosure.active()
    points, gone = shown_points(protect, found)
    by = ctx.compare_by
    if gone and by:
        st.caption(protect.hidden_note([group_name(ctx.labels, by, g) for g in gone]))
    groups = {p.group for p in points if p.group is not None}
    names = {lv: group_name(ctx.labels, by, lv) for lv in groups} if by else {}
    colours = ctx.colours(by) if by else {}
    footnote = provenance.footnote() + " Published figures: " + ev.path.name + "."

    def build(theme=None, title=None):
        return evidence_figure(
            ev,
            points,
            labels=SHORT,
            cohort_name=cohort_name(ctx, n),
            group_names=names,
            group_colours=colours,
            goal=opt.goal,
            goal_day=opt.landmark,
            footnote=footnote,
            title=title,
            theme=theme or screen_theme(opt),
        )

    key = (ctx.figure_key, by, ev.fingerprint)
    show_figure(
        cached_figure("evidence", key, build),
        "published_evidence",
        slide=lambda: build(slide_theme(), "The cohort beside the published evidence"),
        card="evidence",
    )
    days = ", ".join(f"{fmt.months(d)} = day {d:g}" for d in sorted({p.day for p in panels(ev)}))
    notes = [
        f"Squares: {cohort_name(ctx, n)}, Kaplan-Meier estimates ({days}) with 95% CI "
        f"{CI_LABELS[opt.ci_type]}: the numbers the survival pages show at those days."
    ]
    if by:
        notes.append(f"One square per group ({ctx.labels.column(by)}) under the whole cohort's.")
    notes.append(
        f"The performance goal ({fmt.share(opt.goal)}) is drawn on the amputation-free "
        f"survival panel at the landmark, day {opt.landmark:g}, when there is one."
    )
    notice = notice_text(ctx.store)
    if notice:
        notes.append(notice)
    st.caption(" ".join(notes))


def table(ev: Evidence) -> None:
    frame = evidence_frame(ev, labels=SHORT)
    show_table(
        frame,
        name="evidence",
        title="Published evidence",
        # the published figures are not filtered: the CSV says "Filters: none"
        view=None,
        label="Download the table (CSV)",
        file_name="published_evidence.csv",
        card="evidence",
        column_config={
            "Study": st.column_config.TextColumn(pinned=True),
            "Year": st.column_config.NumberColumn(format="%d"),
            "n": st.column_config.NumberColumn(format="%d"),
            "Months": st.column_config.NumberColumn(format="%g"),
            "Estimate": st.column_config.NumberColumn(format="percent"),
            "95% CI lower": st.column_config.NumberColumn(format="percent"),
            "95% CI upper": st.column_config.NumberColumn(format="percent"),
        },
    )
    st.caption(
        "Proportions free of the event as published; 95% intervals where the source gave "
        "one (a credible interval where its method says so). A source 'as cited' was read "
        "in a publication citing it. A reference rate's design is what it measures; it has no "
        "year or n here."
    )


def render() -> None:
    ctx = current()
    st.title("Published evidence")
    try:
        ev = load_evidence()
    except ValueError as exc:
        st.error(f"The published evidence could not be read. {exc}")
        return
    n = data.count(ctx.store, ctx.filters)
    if n == 0:
        st.info(
            "No patients match the current filters, so the published results are shown "
            "without the cohort. Remove a filter in the sidebar or press Reset filters."
        )
    else:
        small_group_caution(n)
    inside = ev.path.is_relative_to(PROJECT_ROOT)
    where = ev.path.relative_to(PROJECT_ROOT) if inside else ev.path
    data_kind = ", synthetic demo data" if ctx.store.synthetic else ""
    st.caption(
        f"{len(ev.studies)} published studies and {len(ev.reference_rates)} reference rates "
        f"(`{where}`) beside the {fmt.count(n)} patients in view{data_kind}: "
        "amputation-free survival, limb salvage and survival at every time point the sources "
        "report. Reference rates are not of DVA: no-option CLTI left without "
        "revascularisation, and the sources of performance goals."
    )
    with shown_plainly("the evidence figure"):
        figure(ctx, ev, n)
    st.subheader("Studies")
    with shown_plainly("the table of studies"):
        table(ev)


with shown_plainly("the published evidence"):
    render()
