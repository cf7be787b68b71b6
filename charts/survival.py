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
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go
from numpy.typing import NDArray

from analytics.estimators.km import CI_LABELS, KMResult
from charts._draw import (
    Steps,
    add_caption,
    caption,
    censor_traces,
    curve_traces,
    goal_line,
    legend,
)
from charts._steps import thin_steps
from charts._text import DAYS_PER_MONTH, count, esc, interval, month_label, pct
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


def tick_days(tick_months: float, end_day: float) -> FloatArray:
    """Days of the x ticks every `tick_months` months from 0 to `end_day`.

    Pass these as ``risk_days`` to ``KaplanMeier.result`` so the result's at-risk table
    has a number at every tick of the figure, for every group.
    """
    if tick_months <= 0:
        raise ValueError("tick_months must be positive")
    step = tick_months * DAYS_PER_MONTH
    return np.arange(0.0, end_day + 1e-9 * max(1.0, end_day), step)


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


@dataclass(frozen=True)
class _Table:
    """The at-risk table as drawn: one row per (group, series)."""

    ticks_m: FloatArray  # months
    rows: list[tuple[str, str, str, FloatArray]]  # group, series, colour, values (NaN: none)


def _table_values(res: KMResult, ticks_day: FloatArray) -> tuple[FloatArray, ...]:
    days = np.asarray(res.risk_table.days, dtype=np.float64)
    cols = (
        res.risk_table.at_risk,
        res.risk_table.cumulative_events,
        res.risk_table.cumulative_censored,
    )
    out = []
    for col in cols:
        vals = np.full(ticks_day.size, np.nan)
        if days.size:
            pos = np.clip(np.searchsorted(days, ticks_day), 0, days.size - 1)
            hit = np.isclose(days[pos], ticks_day, rtol=0, atol=1e-6)
            vals[hit] = np.asarray(col, dtype=np.float64)[pos[hit]]
        out.append(vals)
    return tuple(out)


def _ticks(
    pairs: list[tuple[str, KMResult]], tick_months: float | None, end_m: float
) -> FloatArray:
    if tick_months is not None:
        return tick_days(tick_months, end_m * DAYS_PER_MONTH + 1e-6) / DAYS_PER_MONTH
    days = np.unique(np.concatenate([np.asarray(r.risk_table.days, float) for _, r in pairs]))
    months = days / DAYS_PER_MONTH
    months = months[months <= end_m + 1e-9]
    if months.size < 2:
        return tick_days(3.0, end_m * DAYS_PER_MONTH + 1e-6) / DAYS_PER_MONTH
    return months


def _median_text(res: KMResult) -> str:
    med = res.median
    if not med.reached or med.estimate is None:
        return "median NR"

    def m(d: float | None) -> str:
        return "NR" if d is None else f"{d / DAYS_PER_MONTH:.1f}"

    return f"median {m(med.estimate)} mo (95% CI {m(med.lower)}–{m(med.upper)})"


def _landmark_text(res: KMResult, day: float) -> str:
    lm = res.landmark(day)
    return (
        f"{month_label(round(day / DAYS_PER_MONTH, 1))} mo: {pct(lm.estimate)} "
        f"({interval(lm.lower, lm.upper)})"
    )


def _footnote(pairs: list[tuple[str, KMResult]]) -> str:
    notes: dict[str, list[str]] = {}
    for label, res in pairs:
        notes.setdefault(res.provenance.footnote(), []).append(label)
    if len(notes) == 1:
        return next(iter(notes))
    return " ".join(f"{', '.join(labels)}: {note}" for note, labels in notes.items())


def _legend_name(lab: str, res: KMResult, median: bool, landmark_day: float | None) -> str:
    name = f"<b>{esc(lab)}</b> (n = {count(res.n)}; {count(res.events)} events)"
    extra = []
    if median:
        extra.append(_median_text(res))
    if landmark_day is not None:
        extra.append(_landmark_text(res, landmark_day))
    if extra:
        name += "<br>" + "; ".join(extra)
    return name


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
    ticks_m = _ticks(pairs, tick_months, end_m)
    if max_months is None:
        end_m = max(end_m, float(ticks_m[-1]))
    y_name = y_title or f"{pairs[0][1].label or pairs[0][1].endpoint or 'Survival'}"
    x_pad = 0.015 * end_m

    # --- the at-risk table --------------------------------------------------------
    table: _Table | None = None
    if risk_table:
        rows: list[tuple[str, str, str, FloatArray]] = []
        tick_d = ticks_m * DAYS_PER_MONTH
        for lab, res in pairs:
            at, ev, ce = _table_values(res, tick_d)
            rows.append((lab, "at risk", colours[lab], at))
            if table_events:
                rows.append((lab, "events", colours[lab], ev))
                rows.append((lab, "censored", colours[lab], ce))
        table = _Table(ticks_m, rows)

    # --- geometry in layout pixels ----------------------------------------------------
    n_rows = len(table.rows) if table else 0
    row_px = th.table_row_px
    label_chars = max([len(lab) + (8 if table_events else 0) for lab in colours] + [9])
    left = max(
        th.tick_size * 2.6 + th.font_size * 1.8,
        (label_chars * 0.6 * th.table_size + 24) if table else 0,
    )
    left = min(left, 0.38 * th.width)
    names = {lab: _legend_name(lab, res, show_median, landmark_day) for lab, res in pairs}
    legend_settings, legend_px = legend(list(names.values()), th, th.width - left - 30)
    footnote = _footnote(pairs)
    marks_note = []
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
    top_px = (th.title_size * 2.0 if title else th.font_size * 0.6) + legend_px
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
    medians = [
        (lab, r.median.estimate / DAYS_PER_MONTH)
        for lab, r in pairs
        if show_median and r.median.estimate is not None
    ]
    if medians:
        xmax = max(m for _, m in medians)
        fig.add_trace(
            go.Scatter(
                x=np.array([0.0, xmax]),
                y=np.array([50.0, 50.0]),
                mode="lines",
                line={
                    "color": th.muted_colour,
                    "width": max(1.0, th.line_width * 0.4),
                    "dash": "dot",
                },
                hoverinfo="skip",
                showlegend=False,
                name="median",
                xaxis="x",
                yaxis="y",
            )
        )
        for lab, m in medians:
            fig.add_trace(
                go.Scatter(
                    x=np.array([m, m]),
                    y=np.array([0.0, 50.0]),
                    mode="lines",
                    line={
                        "color": colours[lab],
                        "width": max(1.0, th.line_width * 0.4),
                        "dash": "dot",
                    },
                    hovertemplate=f"{esc(lab)}: median {m:.1f} months<extra></extra>",
                    showlegend=False,
                    legendgroup=lab,
                    name=f"{lab} median",
                    xaxis="x",
                    yaxis="y",
                    meta={
                        "csv": {
                            "section": "median",
                            "group": lab,
                            "series": "median",
                            "x": "month",
                            "y": "percent",
                        }
                    },
                )
            )
    if landmark_day is not None:
        lm_m = landmark_day / DAYS_PER_MONTH
        fig.add_shape(
            type="line",
            x0=lm_m,
            x1=lm_m,
            y0=0,
            y1=1,
            xref="x",
            yref="y domain",
            line={"color": th.muted_colour, "width": max(1.0, th.line_width * 0.4), "dash": "dot"},
            layer="below",
        )
        fig.add_annotation(
            x=lm_m,
            y=1.0,
            xref="x",
            yref="y domain",
            yanchor="top",
            xanchor="left",
            xshift=4,
            showarrow=False,
            text=f"{month_label(round(lm_m, 1))} mo",
            font={"size": th.tick_size, "color": th.muted_colour},
        )
        for i, (lab, res) in enumerate(pairs):
            lm = res.landmark(landmark_day)
            nudge = (i - (len(pairs) - 1) / 2) * 0.012 * end_m  # separate overlapping bars
            err = {
                "type": "data",
                "symmetric": False,
                "array": np.array([100 * (lm.upper - lm.estimate)]),
                "arrayminus": np.array([100 * (lm.estimate - lm.lower)]),
                "color": colours[lab],
                "thickness": max(1.5, th.line_width * 0.6),
                "width": th.marker_size * 0.5,
            }
            if not (np.isfinite(lm.lower) and np.isfinite(lm.upper)):
                err = {"visible": False}
            fig.add_trace(
                go.Scatter(
                    x=np.array([lm_m + nudge]),
                    y=np.array([100 * lm.estimate]),
                    customdata=np.array(
                        [[landmark_day, 100 * lm.lower, 100 * lm.upper, lm.at_risk]]
                    ),
                    mode="markers",
                    error_y=err,
                    marker={
                        "symbol": "diamond",
                        "size": th.marker_size * 1.3,
                        "color": colours[lab],
                        "line": {"color": "white", "width": 1.5},
                    },
                    hovertemplate=(
                        f"{esc(lab)} at day %{{customdata[0]:.0f}}: %{{y:.1f}}% "
                        "(95% CI %{customdata[1]:.1f}–%{customdata[2]:.1f}); "
                        "%{customdata[3]:.0f} at risk<extra></extra>"
                    ),
                    showlegend=False,
                    legendgroup=lab,
                    name=f"{lab} landmark",
                    xaxis="x",
                    yaxis="y",
                    meta={
                        "csv": {
                            "section": "landmark",
                            "group": lab,
                            "series": "estimate",
                            "x": None,
                            "y": "percent",
                            "columns": ["day", "lower_percent", "upper_percent", "at_risk"],
                        }
                    },
                )
            )
    if goal is not None:
        goal_line(fig, goal, goal_label, th)

    # --- the table ----------------------------------------------------------------------
    if table:
        for r, (lab, series, colour, vals) in enumerate(table.rows):
            text = np.array(["–" if not np.isfinite(v) else count(v) for v in vals])
            fig.add_trace(
                go.Scatter(
                    x=table.ticks_m,
                    y=np.full(table.ticks_m.size, float(r)),
                    text=text,
                    customdata=np.column_stack((table.ticks_m * DAYS_PER_MONTH, vals)),
                    mode="text",
                    textposition="middle center",
                    cliponaxis=False,
                    textfont={"size": th.table_size, "color": colour, "family": th.font_family},
                    hoverinfo="skip",
                    showlegend=False,
                    name=f"{lab} {series}",
                    xaxis="x2",
                    yaxis="y2",
                    meta={
                        "csv": {
                            "section": "risk table",
                            "group": lab,
                            "series": series,
                            "x": "month",
                            "y": None,
                            "columns": ["day", "count"],
                        }
                    },
                )
            )
            label = f"<b>{esc(lab)}</b>" if series == "at risk" else series.capitalize()
            if series == "at risk" and table_events:
                label = f"<b>{esc(lab)}</b> at risk"
            fig.add_annotation(
                x=0,
                y=r,
                xref="paper",
                yref="y2",
                xanchor="right",
                showarrow=False,
                xshift=-10,
                text=label,
                font={"size": th.table_size, "color": colour},
            )
        header = (
            "Number at risk, cumulative events and censored" if table_events else "Number at risk"
        )
        fig.add_annotation(
            x=0,
            y=-0.5,
            xref="paper",
            yref="y2",
            xanchor="left",
            yanchor="bottom",
            showarrow=False,
            text=f"<b>{header}</b>",
            font={"size": th.table_size, "color": th.text_colour},
            align="left",
        )

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
        margin={"l": left, "r": 30, "t": top_px, "b": bottom_px, "autoexpand": False},
        legend=legend_settings,
        meta={"footnote": footnote, "kind": "kaplan-meier", "title": title or y_name},
        hovermode="closest",
    )
    if table:
        layout["xaxis2"] = {
            "matches": "x",
            "anchor": "y2",
            "tickmode": "array",
            "tickvals": ticks_m,
            "showticklabels": False,
            "showline": False,
            "ticks": "",
            "showgrid": False,
            "zeroline": False,
        }
        layout["yaxis2"] = {
            "domain": [0.0, table_px / inner],
            "range": [n_rows - 0.5, -0.5],
            "visible": False,
            "fixedrange": True,
            "anchor": "x2",
        }
    fig.update_layout(layout)
    return fig
