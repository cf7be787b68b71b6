"""Kaplan-Meier figure with the number-at-risk table under it (KMunicate layout).

One figure, two rows sharing the x axis: the step curves on top, the at-risk table
below, its numbers written at exactly the x ticks of the curves (the table's x axis
``matches`` the plot's and both carry the same ``tickvals``). Every number comes from
the ``KMResult``s passed in: the curves from ``timeline``/``survival``/``lower``/
``upper``, marks from ``censored``, the table from ``risk_table``, medians from
``median``, landmark from ``landmarks``, the footnote from ``provenance``.

Long curves are thinned by :func:`thin_steps` (exact values at the kept times, less
than 0.1 percentage point from the full curve anywhere), so the figure stays well
under 1 MB of JSON at any cohort size.
The at-risk table is drawn by :mod:`charts._risk_table`, the medians and the landmark by
:mod:`charts._km_marks`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from numpy.typing import NDArray

from analytics.estimators.km import CI_LABELS, KMResult
from analytics.model.schema import DAYS_PER_MONTH
from charts._curves import Steps, censor_traces, curve_traces
from charts._draw import add_caption, caption, goal_line, legend
from charts._km_marks import add_landmark, add_medians, legend_name
from charts._risk_table import TableRows, add_table, table_axes, table_rows, table_ticks, tick_days
from charts._steps import thin_steps
from charts._text import esc, month_label
from charts.palette import OKABE_ITO, colour_for
from charts.theme import Mode, Theme, axis_style, base_layout, get_theme

__all__ = [
    "DAYS_PER_MONTH",
    "KMInput",
    "km_figure",
    "named_results",
    "thin_steps",
    "tick_days",
]

KMInput = KMResult | Sequence[KMResult] | Mapping[str, KMResult]
FloatArray = NDArray[np.float64]
Y_PAD = 2.0  # percentage points of white space above 100% and below 0%


def named_results(results: KMInput) -> list[tuple[str, KMResult]]:
    """(label, result) pairs: a mapping's keys, else each result's ``label``."""
    if isinstance(results, KMResult):
        pairs = [(results.label or results.endpoint or "All patients", results)]
    elif isinstance(results, Mapping):
        pairs = [(str(k), v) for k, v in results.items()]
    else:
        pairs = [(r.label or r.endpoint or f"Group {i + 1}", r) for i, r in enumerate(results)]
    if not pairs:
        raise ValueError("no Kaplan-Meier results to draw")
    labels = [p[0] for p in pairs]
    if len(set(labels)) != len(labels):
        raise ValueError(f"group labels must differ: {labels}; pass a mapping label -> result")
    return pairs


def _footnote(pairs: list[tuple[str, KMResult]]) -> str:
    notes: dict[str, list[str]] = {}
    for label, res in pairs:
        notes.setdefault(res.provenance.footnote(), []).append(label)
    if len(notes) == 1:
        return next(iter(notes))
    return " ".join(f"{', '.join(labels)}: {note}" for note, labels in notes.items())


def _steps(res: KMResult) -> Steps:
    """The result's curve from day 0, where every survival curve starts at 100%."""
    return Steps.from_result(
        res.timeline,
        res.survival,
        res.lower,
        res.upper,
        start=1.0,
        at_risk=res.at_risk,
        censored=res.censored,
    )


def km_figure(
    results: KMInput,
    *,
    levels: Sequence[str] | None = None,
    title: str | None = None,
    y_title: str | None = None,
    x_title: str = "Months since procedure",
    tick_months: float | None = None,
    max_months: float | None = None,
    ci: bool = True,
    censor_marks: bool = True,
    risk_table: bool = True,
    table_events: bool = False,
    fade_below: int | None = 10,
    landmark_day: float | None = None,
    goal: float | None = None,
    goal_label: str = "Performance goal",
    show_median: bool = True,
    theme: Mode | Theme = "normal",
    comparison: str | None = None,
    footnote: str | None = None,
) -> go.Figure:
    """Kaplan-Meier curves (0-100%, months) with an at-risk table on the same ticks.

    results: one ``KMResult``, a sequence (labelled by ``result.label``) or a mapping
        group label -> result, drawn in that order.
    levels: the full ordered list of the grouping variable's levels, so each level has
        the same colour on every page whatever subset is shown (default: the labels).
    tick_months: x tick spacing (3 or 6 ...); default the days of the results' own
        at-risk tables. Table cells the results have no number for show "–": compute
        results with ``risk_days=tick_days(tick_months, end_day)`` to fill every cell.
    table_events: add cumulative events and censored rows per group (KMunicate).
    comparison: the groups' test in words (log-rank p, hazard ratios), first line of the
        caption, so an exported comparison stands alone on a slide.
    footnote: the one provenance line (default: the results' own, one per differing
        provenance).
    fade_below: draw with lower opacity where fewer than this many remain at risk
        (None: never).
    landmark_day: mark each curve's estimate and 95% CI at this day, which must be one
        of the results' ``landmarks``; the values go to the legend.
    goal: a performance goal as a proportion (for example 0.54): horizontal line.
    """
    th = get_theme(theme)
    pairs = named_results(results)
    order = list(levels) if levels is not None else [lab for lab, _ in pairs]
    colours = {
        lab: (OKABE_ITO[0] if len(pairs) == 1 and levels is None else colour_for(lab, order))
        for lab, _ in pairs
    }
    curves = {lab: _steps(res) for lab, res in pairs}
    last_day = max(float(c.day[-1]) for c in curves.values())
    end_m = max_months if max_months is not None else max(last_day / DAYS_PER_MONTH, 1.0)
    ticks_m = table_ticks(pairs, tick_months, end_m)
    if max_months is None:
        end_m = max(end_m, float(ticks_m[-1]))
    y_name = y_title or f"{pairs[0][1].label or pairs[0][1].endpoint or 'Survival'}"
    x_pad = 0.015 * end_m

    # --- the at-risk table --------------------------------------------------------
    table: TableRows | None = None
    if risk_table:
        table = table_rows(pairs, ticks_m, colours, table_events)

    # --- geometry in layout pixels ----------------------------------------------------
    n_rows = len(table.rows) if table else 0
    row_px = th.table_row_px
    label_chars = max([len(lab) + (8 if table_events else 0) for lab in colours] + [9])
    left = max(
        th.tick_size * 2.6 + th.font_size * 1.8,
        (label_chars * 0.6 * th.table_size + 24) if table else 0,
    )
    left = min(left, 0.38 * th.width)
    if th.on_screen:
        # a room's screen: the names only, so the legend leaves the plot its height;
        # the estimates are marked on the curves and printed by the page
        names = {lab: f"<b>{esc(lab)}</b>" for lab, _ in pairs}
    else:
        names = {lab: legend_name(lab, res, show_median, landmark_day, th) for lab, res in pairs}
    place = legend(list(names.values()), th, th.width - left - 30)
    # one provenance line: groups of a comparison differ only by their level
    footnote = footnote or _footnote(pairs)
    marks_note = [comparison] if comparison else []
    if censor_marks:
        marks_note.append("+ censored")
    if ci:
        band = f"shaded: {100 * (1 - pairs[0][1].alpha):g}% pointwise CI"
        labels = [CI_LABELS[r.ci_type] for _, r in pairs]
        missing = [lb for lb in dict.fromkeys(labels) if lb not in footnote]
        marks_note.append(band + (f" ({'; '.join(missing)})" if missing else ""))
    if fade_below is not None:
        marks_note.append(f"lighter: fewer than {fade_below} patients at risk")
    caption_text, caption_px = caption(marks_note, footnote, th)
    top_px = (th.title_size * 2.0 if title else th.font_size * 0.6) + place.top_px
    axis_px = th.tick_size * 1.5 + th.font_size * 1.9 + 6  # tick labels and x title
    header_px = row_px * 1.1 if table else 0.0
    table_px = n_rows * row_px
    bottom_px = caption_px + 8 + (0 if table else axis_px)
    min_plot = 0.4 * th.height
    height = int(max(th.height, top_px + bottom_px + axis_px + header_px + table_px + min_plot))
    inner = height - top_px - bottom_px
    plot_bottom = (table_px + header_px + axis_px) / inner if table else 0.0

    fig = go.Figure()
    # --- curves -----------------------------------------------------------------------
    for lab, _ in pairs:
        fig.add_traces(
            curve_traces(
                curves[lab],
                label=lab,
                colour=colours[lab],
                th=th,
                legend_name=names[lab],
                series="survival",
                value_name=y_name,
                ci=ci,
                fade_below=fade_below,
            )
        )
        if censor_marks:
            fig.add_traces(
                censor_traces(
                    curves[lab],
                    label=lab,
                    colour=colours[lab],
                    th=th,
                    x_span_months=end_m,
                    fade_below=fade_below,
                )
            )

    # --- medians, landmark, goal ---------------------------------------------------------
    add_medians(fig, pairs, colours, th, show_median)
    if landmark_day is not None:
        add_landmark(fig, pairs, colours, th, landmark_day, end_m)
    if goal is not None:
        goal_line(fig, goal, goal_label, th)

    # --- the table ----------------------------------------------------------------------
    if table:
        add_table(fig, table, th, table_events)

    # --- caption ------------------------------------------------------------------------
    add_caption(fig, caption_text, th, left, 8 if table else axis_px)

    # --- layout -------------------------------------------------------------------------
    layout: dict[str, Any] = base_layout(th, title)
    xaxis = axis_style(th)
    xaxis.update(
        range=[-x_pad, end_m + x_pad],
        tickmode="array",
        tickvals=ticks_m,
        ticktext=[month_label(m) for m in ticks_m],
        anchor="y",
        showgrid=False,
    )
    xaxis["title"]["text"] = esc(x_title)
    yaxis = axis_style(th)
    yaxis.update(
        range=[-Y_PAD, 100 + Y_PAD],
        tickmode="array",
        tickvals=np.arange(0, 101, 20),
        ticktext=[str(v) for v in range(0, 101, 20)],
        domain=[plot_bottom, 1.0],
        anchor="x",
        fixedrange=True,
    )
    yaxis["title"]["text"] = f"{esc(y_name)} (%)"
    layout.update(
        height=height,
        xaxis=xaxis,
        yaxis=yaxis,
        margin=place.margin(left, top_px, bottom_px),
        legend=place.settings,
        meta={"footnote": footnote, "kind": "kaplan-meier", "title": title or y_name},
        hovermode="closest",
    )
    if table:
        layout.update(table_axes(ticks_m, n_rows, table_px, inner))
    fig.update_layout(layout)
    return fig
