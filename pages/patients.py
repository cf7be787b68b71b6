"""Patients and procedure: Table 1 and Table 2 of the patients in view, procedure metrics,
technical and procedural success, reinterventions, and adverse events (by term, minor
amputations, deaths by cause)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from analytics.analyses import views
from analytics.analyses.outcomes import Reinterventions
from analytics.analyses.procedure import ProcedureSummary
from analytics.analyses.tables import SummaryTable
from analytics.estimators.describe import Row
from analytics.model.basket import Card
from analytics.model.filters import FilterState
from analytics.report.frames import side_by_side
from ui import data, disclosure, fmt, patient_results
from ui.by_group import show_by_group
from ui.context import Context, current
from ui.errors import shown_plainly
from ui.group_cells import adverse_cells
from ui.notes import no_patients, not_compared, small_group_caution
from ui.tables import in_words, show_table

ALL = "All patients in view"
SHARE = st.column_config.NumberColumn(format="percent")
WHOLE = "Whole follow-up"


def groups(ctx: Context) -> dict[str, FilterState]:
    """The patients in view, then one group per level of the compare-by column that has
    patients in view: group name -> its filters."""
    out = {ALL: ctx.filters}
    by = ctx.compare_by
    if by:
        sizes = data.group_sizes(ctx.store, ctx.filters, by)
        for level in ctx.levels(by):
            if sizes.get(level, 0) > 0:
                out[ctx.labels.level(by, level)] = views.level_filter(ctx.filters, by, level)
    return out


def summary_tables(ctx: Context, tables: Mapping[str, SummaryTable], name: str) -> None:
    """One summary table: alone, or side by side with the compare-by groups."""
    first = tables[ALL]
    protect = disclosure.active()
    # a group too small to show (or whose size would give one away) shows no column
    hidden = protect.withheld_groups({k: t.n for k, t in tables.items() if k != ALL})
    if hidden:
        st.caption(protect.hidden_note(sorted(hidden)))
    shown = {k: t for k, t in tables.items() if k not in hidden}
    # the paper's layout: one row per characteristic, one column per group
    frame = side_by_side(shown, texts=(lambda t: protect.rows(t.rows, t.n)) if protect.on else None)
    show_table(
        frame, name=name, title=first.title, view=ctx.view, provenance=first.provenance, card=name
    )


def share_metric(col: Any, title: str, n: int, total: int, share: float | None) -> None:
    """A share of the patients with its count; under small-cell protection withheld when
    the count, or the rest of the patients, is from 1 to 10."""
    if disclosure.active().disclosure.hides_share(n, total):
        disclosure.withheld_metric(col, title)
        return
    col.metric(
        title,
        "–" if share is None else fmt.pct(share),
        f"{n} of {total} patients",
        delta_color="off",
        delta_arrow="off",
    )


def row_metric(col: Any, row: Row, title: str | None = None, note: str = "") -> None:
    """A Table 2 row as a metric: a share with its count (and the number missing), or a
    median with its IQR; a count with no recorded value reads "not recorded", never 0.
    `note` is added to the count line."""
    name = title or row.label
    if row.kind == "absent":
        col.metric(name, "not in data")
        return
    hides = disclosure.active().disclosure.hides
    if row.kind == "count" and row.n is not None:
        counts = (row.n, row.denominator, row.denominator - row.n, row.missing)
        if any(hides(c) for c in counts):
            disclosure.withheld_metric(col, name)
            return
    if row.kind == "count":
        missing = f"{row.missing} missing" if row.missing else ""
        extra = "".join(f"; {x}" for x in (missing, note) if x)
        if not row.denominator and row.missing:
            col.metric(
                name,
                "not recorded",
                f"{row.missing} missing",
                delta_color="off",
                delta_arrow="off",
            )
            return
        value = "–" if row.percent is None else f"{row.percent:.1f}%"
        col.metric(
            name,
            value,
            f"{row.n} of {row.denominator}{extra}",
            delta_color="off",
            delta_arrow="off",
        )
        return
    if row.median is None:
        col.metric(name, "no values")
        return
    unit = f" {row.unit}" if row.unit else ""
    missing = f"; {row.missing} missing" if row.missing else ""
    col.metric(
        name,
        f"{row.median:g}{unit}",
        f"IQR {row.q1:g}–{row.q3:g}{missing}",
        delta_color="off",
        delta_arrow="off",
        help="Median and interquartile range (Hyndman-Fan definition 2, as SAS).",
    )


def kind_metric(col: Any, row: Row, reint: Reinterventions | None, title: str) -> None:
    """Patients whose first reintervention was planned (or unplanned): "not in data"
    without reintervention records, "not recorded" when the data do not say the kind of
    any reintervention (never 0), else the count with how many are of unknown kind."""
    if reint is None:
        col.metric(title, "not in data")
        return
    if not reint.kind_recorded:
        value, note = fmt.reintervention_kind(0, reint.patients, reint.kind_not_recorded)
        col.metric(title, value, note, delta_color="off", delta_arrow="off")
        return
    unknown = reint.kind_not_recorded
    row_metric(col, row, title, f"kind not recorded: {unknown}" if unknown else "")


def procedure(ctx: Context, proc: ProcedureSummary) -> None:
    st.subheader("Procedure")
    reint = data.reinterventions(ctx.store, ctx.view, proc.reintervention_day)
    cols = st.columns(4)
    row_metric(cols[0], proc.technical_success)
    row_metric(cols[1], proc.procedural_success)
    kind_metric(cols[2], proc.planned, reint, "First reintervention planned")
    kind_metric(cols[3], proc.unplanned, reint, "First reintervention unplanned")
    cols = st.columns(4)
    row_metric(cols[0], proc.procedure_time, "Procedure time")
    row_metric(cols[1], proc.radiation, "Radiation dose")
    row_metric(cols[2], proc.contrast, "Contrast volume")
    row_metric(cols[3], proc.cin_free, "Free from contrast nephropathy (72 h)")
    st.caption(
        "Procedural success: technical success with no death, major amputation or "
        f"reintervention by day {proc.procedural_day:g}. Reinterventions by day "
        f"{proc.reintervention_day:g}: patients whose first reintervention (the only one "
        "the data model records) was planned or unplanned; both among technical successes. "
        'Where the data do not say the kind, it reads "not recorded", never 0.'
    )


def adverse_events(ctx: Context) -> None:
    st.subheader("Adverse events")
    landmark = ctx.view.landmark
    within = f"Onset by day {landmark:g} ({fmt.months(landmark)})"
    choice = st.radio(
        "Adverse events counted", [within, WHOLE], horizontal=True, key="patients_ae_window"
    )
    day = None if choice == WHOLE else landmark
    overall = patient_results.safety(ctx.store, ctx.view, day)
    ae = overall.adverse_events
    cols = st.columns(3)
    for col, title, n in (
        (cols[0], "Any adverse event", ae.any_patients),
        (cols[1], "Serious adverse event", ae.serious_patients),
        (cols[2], "Device- or procedure-related", ae.device_patients),
    ):
        share_metric(col, title, n, ae.n, ae.share(n))
    card = Card("adverse_events", options=() if day is not None else (("window", "whole"),))
    if ctx.compare_by:
        show_by_group(
            ctx,
            name="adverse-events-by-group",
            title="Adverse events by group",
            cells=lambda group: adverse_cells(
                patient_results.safety(ctx.store, group, day).adverse_events
            ),
            caption="Patients with an adverse event of each kind, and the events, in each group.",
            provenance=ae.provenance,
            card=card,
        )
    if ae.events == 0:
        st.info(
            "No adverse events are recorded for the patients in view "
            f"({'whole follow-up' if day is None else f'onset by day {day:g}'})."
        )
    else:
        show_table(
            in_words(ae.to_frame(), ctx.labels, {"Term": "AETERM"}),
            name="adverse-events",
            title="Adverse events by term",
            view=ctx.view,
            provenance=ae.provenance,
            card=card,
            column_config={
                "Share of patients": SHARE,
                "Term": st.column_config.TextColumn(pinned=True),
            },
        )

    st.markdown("**Minor amputations**")
    minor = overall.minor_amputations
    cols = st.columns(len(minor.terms) + 1)
    share_metric(
        cols[0], "Any minor amputation", minor.patients, minor.n, minor.share(minor.patients)
    )
    count = disclosure.active().count_text
    for col, term in zip(cols[1:], minor.terms, strict=True):
        col.metric(
            ctx.labels.value("AETERM", term.term),
            f"{count(term.events)} amputations",
            f"{count(term.patients)} patients",
            delta_color="off",
            delta_arrow="off",
        )
    st.caption(minor.provenance.footnote())

    st.markdown("**Deaths by cause** (whole follow-up)")
    dead = overall.deaths
    if dead.deaths == 0:
        st.info("No deaths among the patients in view.")
    else:
        if disclosure.active().disclosure.hides_share(dead.deaths, dead.n):
            st.markdown("Deaths during follow-up: withheld under small-cell protection.")
        else:
            st.markdown(f"{dead.deaths} of {dead.n} patients died during follow-up.")
        show_table(
            in_words(dead.to_frame(), ctx.labels, {"Cause of death": "DTHCAUS"}),
            name="deaths-by-cause",
            title="Deaths by cause",
            view=ctx.view,
            provenance=dead.provenance,
            card="deaths",
            column_config={"Share of deaths": SHARE},
        )


def render() -> None:
    ctx = current()
    st.title("Patients and procedure")
    if no_patients(data.count(ctx.store, ctx.filters), "there is nothing to describe"):
        return
    cohorts = groups(ctx)
    if ctx.compare_by:
        not_compared(ctx.not_compared(), ctx.labels.column(ctx.compare_by).lower())
    for name, filters in cohorts.items():
        small_group_caution(data.count(ctx.store, filters), group=None if name == ALL else name)
    landmark = ctx.view.landmark
    tables = {
        name: patient_results.patient_tables(
            ctx.store, ctx.view.with_filters(filters), landmark, procedure=name == ALL
        )
        for name, filters in cohorts.items()
    }

    st.subheader("Table 1. Baseline characteristics")
    summary_tables(ctx, {name: t.table1 for name, t in tables.items()}, "table1")
    st.caption(
        "Counts are among patients with a recorded value; missing values are counted and "
        "shown, never dropped."
        + (" –: no patient of the group has this value." if len(cohorts) > 1 else "")
    )

    proc = tables[ALL].procedure
    assert proc is not None  # asked for the patients in view
    procedure(ctx, proc)
    st.markdown("**Table 2. Procedure**")
    summary_tables(ctx, {name: t.table2 for name, t in tables.items()}, "table2")

    adverse_events(ctx)


with shown_plainly("the patient and procedure tables"):
    render()
