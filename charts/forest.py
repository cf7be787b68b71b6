"""Forest plot of subgroups: one row per level, hazard ratios on a log axis.

Columns, left to right: subgroup, n, events, the Kaplan-Meier estimate at the
landmark with its 95% CI, the hazard ratio drawn (log axis, line at 1), the hazard
ratio with its 95% CI as text, and one p-value per variable on the variable's row.
Levels too small to estimate stay in the table, with "too few to estimate" where a
number would be; a reference level reads "reference".

The figure draws any object shaped like :class:`SubgroupTable` (duck-typed;
``analytics.analyses.subgroups.SubgroupResult`` is one) and computes nothing. The
table's rows and columns are laid out by :mod:`charts._forest_rows`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import plotly.graph_objects as go

from analytics.model.schema import DAYS_PER_MONTH
from charts._draw import add_caption, caption, width_for
from charts._forest_rows import (
    TOO_FEW,
    SubgroupLevel,
    SubgroupTable,
    SubgroupVariable,
    columns,
    hr_range,
    num,
    table_rows,
)
from charts._text import esc, month_label
from charts.palette import INK, OKABE_ITO
from charts.theme import Mode, Theme, axis_style, base_layout, get_theme

__all__ = ["TOO_FEW", "SubgroupLevel", "SubgroupTable", "SubgroupVariable", "forest_figure"]

HEADER_Y = -1.25  # the two-line column headers, in row units above the first row
HEADER_TOP = -2.3


def forest_figure(
    table: SubgroupTable,
    *,
    title: str | None = None,
    estimate_label: str | None = None,
    p_label: str = "Heterogeneity p",
    p_note: str | None = (
        "p: log-rank test of equal survival across a variable's levels (single-arm study: "
        "no treatment-by-subgroup interaction to test)"
    ),
    theme: Mode | Theme = "normal",
) -> go.Figure:
    """Forest plot of hazard ratios against each variable's reference level.

    Columns are sized to their text; ``layout.width`` is set when they need more than
    the theme's width (show such a figure at its own width, not stretched to fit).

    estimate_label: header of the Kaplan-Meier column (default "<endpoint> at <m> mo").
    p_label, p_note: header of the per-variable p column and its explanation in the
        caption; the p-value drawn is each variable's ``p_interaction``.
    """
    th = get_theme(theme)
    rows = table_rows(table, th.count)
    names = {v.variable: v.label for v in table.variables}  # hovers read the label
    levels = [r.level for r in rows if r.level is not None]
    n_rows = len(rows)
    row_px = th.table_row_px * 1.05
    months = month_label(round(table.landmark / DAYS_PER_MONTH, 1))
    est_header = estimate_label or f"{esc(table.label)}<br>at {months} mo (95% CI)"
    # Columns in paper coordinates: (key, x, anchor, header)
    p_header = esc(p_label).replace(" ", "<br>", 1)
    cols, plot_domain, fig_width = columns(rows, th, est_header, p_header)

    fig = go.Figure()
    # --- hazard ratios ---------------------------------------------------------------------
    lo_log, hi_log = hr_range(levels)
    lo_x, hi_x = 10**lo_log, 10**hi_log
    ys, hr, err_hi, err_lo, sizes, custom, texts = [], [], [], [], [], [], []
    max_n = max([lv.n for lv in levels] + [1])
    arrows_l: list[float] = []
    arrows_r: list[float] = []
    for i, r in enumerate(rows):
        lv = r.level
        if lv is None:
            continue
        est = num(lv.hazard_ratio) if not lv.is_reference else float("nan")
        lo, hi = num(lv.hr_lower), num(lv.hr_upper)
        ys.append(float(i))
        hr.append(est)
        err_lo.append(est - max(lo, lo_x) if math.isfinite(lo) else float("nan"))
        err_hi.append(min(hi, hi_x) - est if math.isfinite(hi) else float("nan"))
        if math.isfinite(est) and math.isfinite(lo) and lo < lo_x:
            arrows_l.append(float(i))
        if math.isfinite(est) and math.isfinite(hi) and hi > hi_x:
            arrows_r.append(float(i))
        sizes.append(th.marker_size * (0.7 + 0.9 * math.sqrt(lv.n / max_n)))
        custom.append([lv.n, lv.events, num(lv.estimate), num(lv.lower), num(lv.upper), lo, hi])
        reason = f" — {lv.reason}" if lv.reason else ""
        texts.append(f"{names.get(r.variable, r.variable)}: {lv.level}{reason}")
    fig.add_trace(
        go.Scatter(
            x=np.array(hr),
            y=np.array(ys),
            mode="markers",
            marker={
                "symbol": "square",
                "size": np.array(sizes),
                "color": OKABE_ITO[0],
                "line": {"color": INK, "width": 1},
            },
            error_x={
                "type": "data",
                "symmetric": False,
                "array": np.array(err_hi),
                "arrayminus": np.array(err_lo),
                "color": INK,
                "thickness": max(1.5, th.line_width * 0.6),
                "width": 0,
            },
            customdata=np.array(custom, dtype=np.float64).reshape(-1, 7),
            text=np.array(texts),
            hovertemplate=(
                "%{text}<br>HR %{x:.2f} (95% CI %{customdata[5]:.2f}–"
                "%{customdata[6]:.2f})<br>n = %{customdata[0]:.0f}, "
                "%{customdata[1]:.0f} events<extra></extra>"
            ),
            showlegend=False,
            name="hazard ratio",
            meta={
                "csv": {
                    "section": "subgroup",
                    "group": "hazard ratio",
                    "series": "level",
                    "x": "hazard_ratio",
                    "y": None,
                    "text": "subgroup",
                    "columns": [
                        "n",
                        "events",
                        "estimate",
                        "estimate_lower",
                        "estimate_upper",
                        "hr_lower",
                        "hr_upper",
                    ],
                }
            },
        )
    )
    for ys_a, x_a, sym in ((arrows_l, lo_x, "triangle-left"), (arrows_r, hi_x, "triangle-right")):
        if ys_a:
            fig.add_trace(
                go.Scatter(
                    x=np.full(len(ys_a), x_a),
                    y=np.array(ys_a),
                    mode="markers",
                    marker={"symbol": sym, "size": th.marker_size, "color": INK},
                    hoverinfo="skip",
                    showlegend=False,
                    name="CI beyond the axis",
                    cliponaxis=False,
                )
            )
    fig.add_shape(
        type="line",
        x0=1,
        x1=1,
        y0=-0.5,
        y1=n_rows - 0.5,
        xref="x",
        yref="y",
        line={"color": INK, "width": max(1.0, th.line_width * 0.5)},
    )

    # --- text columns ----------------------------------------------------------------------
    annotations: list[dict[str, Any]] = []
    for key, x, anchor, header in cols:
        annotations.append(
            {
                "x": x,
                "y": HEADER_Y,
                "xref": "paper",
                "yref": "y",
                "xanchor": anchor,
                "yanchor": "middle",
                "showarrow": False,
                "text": f"<b>{header}</b>",
                "align": "left" if anchor == "left" else "right",
                "font": {"size": th.table_size, "color": th.text_colour},
            }
        )
        for i, r in enumerate(rows):
            text = r.label if key == "label" else r.cells.get(key, "")
            if not text:
                continue
            muted = text in (TOO_FEW, "reference", "not estimated", "–")
            annotations.append(
                {
                    "x": x,
                    "y": float(i),
                    "xref": "paper",
                    "yref": "y",
                    "xanchor": anchor,
                    "yanchor": "middle",
                    "showarrow": False,
                    "text": text,
                    "font": {
                        "size": th.table_size,
                        "color": th.muted_colour if muted else th.text_colour,
                    },
                }
            )
    annotations.append(
        {
            "x": 0.5 * (plot_domain[0] + plot_domain[1]),
            "y": HEADER_Y,
            "xref": "paper",
            "yref": "y",
            "xanchor": "center",
            "yanchor": "middle",
            "showarrow": False,
            "text": "<b>Hazard ratio</b><br>(log scale)",
            "font": {"size": th.table_size, "color": th.text_colour},
        }
    )

    notes = [
        f"n = {th.count(table.n)} patients, {th.count(table.events)} events",
        "squares: hazard ratio vs the variable's reference level (size by n), "
        "lines: 95% CI; log scale",
    ]
    if p_note:
        notes.append(p_note)
    var_notes = [f"{v.label}: {v.note}" for v in table.variables if v.note and v.levels]
    notes.extend(var_notes)
    footnote = table.provenance.footnote()
    caption_text, caption_px = caption(notes, footnote, th)
    top_px = th.title_size * 2.0 if title else th.font_size * 0.6
    axis_px = th.tick_size * 1.5 + th.font_size * 1.9 + 8
    plot_px = (n_rows - HEADER_TOP - 0.5) * row_px
    height = int(top_px + plot_px + axis_px + caption_px + 16)
    left = right = 16.0
    add_caption(fig, caption_text, th, left, axis_px)

    layout = base_layout(th, title)
    xaxis = axis_style(th, grid=False)
    ticks = [t for t in (0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20) if lo_x <= t <= hi_x]
    xaxis.update(
        type="log",
        range=[lo_log, hi_log],
        domain=list(plot_domain),
        tickmode="array",
        tickvals=ticks,
        ticktext=[f"{t:g}" for t in ticks],
        anchor="y",
    )
    xaxis["title"]["text"] = "← lower hazard · higher hazard →"
    xaxis["title"]["font"]["size"] = th.tick_size
    yaxis = {
        "range": [n_rows - 0.5, HEADER_TOP],
        "visible": False,
        "fixedrange": True,
        "domain": [0.0, 1.0],
    }
    # Row backgrounds: variable header rows shaded lightly for reading across.
    for i, r in enumerate(rows):
        if r.kind == "variable":
            fig.add_shape(
                type="rect",
                x0=0,
                x1=1,
                y0=i - 0.5,
                y1=i + 0.5,
                xref="paper",
                yref="y",
                fillcolor="rgba(0,0,0,0.045)",
                line={"width": 0},
                layer="below",
            )
    fig.add_shape(
        type="line",
        x0=0,
        x1=1,
        y0=-0.55,
        y1=-0.55,
        xref="paper",
        yref="y",
        line={"color": th.text_colour, "width": th.axis_width},
    )
    layout.update(
        height=max(height, 300),
        width=width_for(fig_width, th),
        xaxis=xaxis,
        yaxis=yaxis,
        showlegend=False,
        margin={
            "l": left,
            "r": right,
            "t": top_px,
            "b": axis_px + caption_px + 8,
            "autoexpand": False,
        },
        annotations=[*fig.layout.annotations, *annotations],
        meta={"footnote": footnote, "kind": "forest", "title": title or table.label},
        hovermode="closest",
    )
    fig.update_layout(layout)
    return fig
