"""The cohort beside the published evidence: a forest-style plot of proportions.

One panel per endpoint and time point (``analytics.analyses.evidence.panels``), each a block of
rows under a shaded header: every published figure at that month (studies, then
reference rates) with its 95% interval where the source gave one, then the cohort's
Kaplan-Meier estimate with its own CI, drawn as a black square (one per group when
groups are compared). The performance goal is a dashed line on the one panel it
applies to. Rows are named by the study id; the hover adds design, n, method and the
citation. Figures the panels cannot hold (other endpoints, no time point) are named in
the caption, so every entry of the file appears on the figure.

Nothing is estimated here: the published numbers come from the file as read by
``analytics.analyses.evidence_file``, the cohort's from its Kaplan-Meier results; the
rows are laid out by :mod:`charts._evidence_rows`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np
import plotly.graph_objects as go

from analytics.analyses.evidence import (
    SHOWN_ENDPOINTS,
    CohortPoint,
    Panel,
    goal_sources,
    not_drawn,
    panels,
)
from analytics.analyses.evidence_file import Evidence
from analytics.estimators.km import CI_LABELS
from charts._draw import add_caption, caption, legend, width_for
from charts._evidence_rows import Series, all_series, endpoint_name, fill_rows, panel_title
from charts._text import esc, month_label, share
from charts.palette import GOAL_COLOUR, INK
from charts.theme import Mode, Theme, axis_style, base_layout, get_theme

__all__ = ["COHORT_NAME", "evidence_figure"]

COHORT_NAME = "This dashboard's cohort"


def _plain_px(text: str, size: float) -> float:
    plain = re.sub(r"<[^>]+>", "", text).replace("&lt;", "<").replace("&gt;", ">")
    return len(plain.replace("&amp;", "&")) * size * 0.56


def _traces(
    fig: go.Figure, series: dict[str, Series], titles: Mapping[Panel, str], th: Theme
) -> None:
    # one trace per series and panel, so the CSV names the panel of every number
    for key, s in series.items():
        for i, (panel, points) in enumerate(s.points.items()):
            x = 100 * np.array([r.value for r in points])
            lo = 100 * np.array([r.lower for r in points])
            hi = 100 * np.array([r.upper for r in points])
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=np.array([float(r.y) for r in points]),
                    mode="markers",
                    marker=s.marker,
                    error_x={
                        "type": "data",
                        "symmetric": False,
                        "array": hi - x,
                        "arrayminus": x - lo,
                        "color": s.marker["color"] if s.section == "cohort" else INK,
                        "thickness": max(1.5, th.line_width * 0.6),
                        "width": th.marker_size * 0.5,
                    },
                    text=np.array([r.text for r in points], dtype=object),
                    hovertext=np.array([r.hover for r in points], dtype=object),
                    hovertemplate="%{hovertext}<extra></extra>",
                    customdata=np.column_stack(
                        ([r.months for r in points], lo, hi, [r.n for r in points])
                    ).astype(float),
                    name=s.name,
                    legendgroup=key,
                    showlegend=i == 0,
                    meta={
                        "csv": {
                            "section": s.section,
                            "group": s.name,
                            "series": titles[panel],
                            "x": "percent",
                            "y": None,
                            "text": "study",
                            "columns": ["months", "lower_percent", "upper_percent", "n"],
                        }
                    },
                )
            )


def _goal(
    fig: go.Figure, evidence: Evidence, panel: Panel, span: tuple[int, int], goal: float, th: Theme
) -> None:
    top, bottom = span
    sources = goal_sources(evidence, goal, panel.months, panel.endpoint)
    cited = f" ({', '.join(s.id for s in sources)})" if sources else ""
    fig.add_shape(
        type="line",
        x0=100 * goal,
        x1=100 * goal,
        y0=top + 0.5,
        y1=bottom + 0.5,
        xref="x",
        yref="y",
        line={"color": GOAL_COLOUR, "width": max(1.5, th.line_width * 0.6), "dash": "dash"},
        name="goal",
    )
    fig.add_annotation(
        x=100 * goal,
        y=top,
        xref="x",
        yref="y",
        xanchor="left",
        yanchor="middle",
        xshift=4,
        showarrow=False,
        text=f"Performance goal {share(goal)}{esc(cited)}",
        font={"size": th.table_size, "color": GOAL_COLOUR},
        name="goal",
    )


def evidence_figure(
    evidence: Evidence,
    cohort: Sequence[CohortPoint] = (),
    *,
    labels: Mapping[str, str] | None = None,
    endpoints: Sequence[str] = SHOWN_ENDPOINTS,
    cohort_name: str = COHORT_NAME,
    cohort_row: str = COHORT_NAME,
    group_names: Mapping[str, str] | None = None,
    group_colours: Mapping[str, str] | None = None,
    goal: float | None = None,
    goal_day: float | None = None,
    footnote: str = "",
    title: str | None = None,
    theme: Mode | Theme = "normal",
) -> go.Figure:
    """Forest-style plot of the published proportions and the cohort's estimates.

    labels: endpoint code -> clinical name (default the schema's names).
    cohort: the cohort's points (``analytics.analyses.evidence.cohort_points``); `cohort_name`
        names the whole cohort in the legend and hover, `cohort_row` on its rows;
        `group_names` and `group_colours` are keyed by the groups' levels.
    goal, goal_day: the performance goal for amputation-free survival, drawn on the
        AFS panel at that day only.
    footnote: the cohort's provenance, printed under the figure.
    """
    th = get_theme(theme)
    shown = panels(evidence, endpoints)
    titles = {p: panel_title(p, labels) for p in shown}
    series = all_series(evidence, cohort, th, cohort_name, group_names or {}, group_colours or {})
    rows = fill_rows(shown, titles, evidence, cohort, series, cohort_row, th.count)
    fig = go.Figure()
    _traces(fig, series, titles, th)
    for i in rows.headers:
        fig.add_hrect(
            y0=i - 0.5, y1=i + 0.5, fillcolor="rgba(0,0,0,0.05)", line_width=0, layer="below"
        )
    days = sorted({(p.months, p.day) for p in shown})
    notes = [
        "Points: published figures as reported, lines: their 95% interval where the source "
        "gave one; squares: the cohort's Kaplan-Meier estimate at the panel's month ("
        + ", ".join(f"{month_label(m)} mo = day {d:g}" for m, d in days)
        + ") with its 95% CI"
    ]
    ci_types = sorted({p.ci_type for p in cohort if p.ci_type is not None})
    if ci_types:
        notes.append("cohort CI: " + "; ".join(CI_LABELS[c] for c in ci_types))
    goal_panel = next((p for p in shown if p.endpoint == "AFS" and p.day == goal_day), None)
    if goal is not None and goal_panel is not None:
        _goal(fig, evidence, goal_panel, rows.spans[goal_panel], goal, th)
    elif goal is not None and goal_day is not None:
        notes.append(
            f"the performance goal ({share(goal)}) is set for day {goal_day:g}, which no "
            "amputation-free survival panel shows"
        )
    left_out = not_drawn(evidence, endpoints)
    if left_out:
        listed = "; ".join(
            f"{s.id}: {endpoint_name(o.endpoint, labels).lower()} "
            + (f"at {month_label(o.months)} months" if o.months is not None else "(no time point)")
            for s, o in left_out
        )
        notes.append(f"In the table only: {listed}")

    column = {"x": 1.0, "xref": "paper", "xanchor": "left", "xshift": 10, "showarrow": False}
    across = {"x": 0.5, "xref": "paper", "xanchor": "center", "showarrow": False}
    for i, (text, muted) in enumerate(rows.values):
        font = {"size": th.table_size, "color": th.muted_colour if muted else th.text_colour}
        if text:
            fig.add_annotation(
                y=i,
                text=f"<i>{text}</i>" if muted else text,
                font=font,
                **(across if muted else column),
            )
    n_rows = len(rows.ticks)
    left = max(_plain_px(t, th.tick_size) for t in rows.ticks) + 20
    right = max([_plain_px(t, th.table_size) for t, m in rows.values if not m] + [40.0]) + 24
    drawn = [s.name for s in series.values() if s.points]
    # one entry a row in both modes: a wrapped horizontal legend sizes every entry as
    # the longest (the cohort's), which the helper's estimate does not foresee
    place = legend(drawn, replace(th, name="normal"), th.width)
    caption_text, caption_px = caption(notes, footnote, th)
    title_px = th.title_size * 2.0 if title else th.font_size * 0.6
    top_px = title_px + place.top_px + 8
    axis_px = th.tick_size * 2.0 + th.font_size * 2.4 + 10
    height = int(top_px + n_rows * th.table_row_px * 1.1 + axis_px + caption_px + 16)
    add_caption(fig, caption_text, th, left, axis_px)
    layout = base_layout(th, title)
    xaxis = axis_style(th)
    # every 20%: ten ticks would touch on a narrow page
    xaxis.update(range=[0, 100], dtick=20, ticksuffix="%", fixedrange=True)
    xaxis["title"]["text"] = "Patients free of the event (%), 95% interval"
    place.settings.update(yref="container", y=1 - title_px / height, yanchor="top")
    layout.update(
        height=height,
        xaxis=xaxis,
        yaxis={
            "range": [n_rows - 0.5, -0.5],
            "tickmode": "array",
            "tickvals": list(range(n_rows)),
            "ticktext": rows.ticks,
            "tickfont": {"size": th.tick_size, "color": th.text_colour},
            "showline": False,
            "ticks": "",
            "showgrid": False,
            "zeroline": False,
            "fixedrange": True,
        },
        legend=place.settings,
        # the percent axis needs room between the names and the estimates
        width=width_for(left + right + max(300.0, 16 * th.tick_size), th),
        margin={"l": left, "r": right, "t": top_px, "b": axis_px + caption_px + 8},
        meta={"footnote": footnote, "kind": "evidence", "title": title or "Published evidence"},
        hovermode="closest",
    )
    layout["margin"]["autoexpand"] = False
    fig.update_layout(layout)
    return fig
