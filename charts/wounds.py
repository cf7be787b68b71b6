"""Wound healing and Rutherford class over the scheduled visits.

Two bar charts drawing result objects of :mod:`analytics.analyses.visits` and nothing else
(the lines over visits, wound area and all wounds healed, are in :mod:`charts.wound_trends`):

- :func:`healing_status_figure`: stacked bars of target wound status (healed /
  healing / not healing) at each visit, as shares of the patients assessed there, with
  that denominator written above each bar; one panel per group;
- :func:`rutherford_change_figure`: Rutherford class decreased / unchanged / increased
  against baseline at one visit among paired patients, one bar per group.

Colours are Okabe-Ito: wound and Rutherford categories keep one colour each on every
page (darker for better); groups take the colours the caller passes (the page's stable
colour per level). Categories are also written in the bars, so colour is never the only
cue. Every trace carries ``meta["csv"]`` for :func:`charts.export.to_csv`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from analytics.analyses.visits import RutherfordAtVisit, WoundCourse
from analytics.model.labels import DEFAULT as DEFAULT_LABELS
from analytics.model.provenance import Provenance
from charts._draw import finish_layout
from charts._text import esc
from charts._wound_style import footnote_of, names_of, text_on
from charts.theme import Mode, Theme, axis_style, get_theme

__all__ = [
    "CHANGE_COLOURS",
    "STATUS_COLOURS",
    "healing_status_figure",
    "rutherford_change_figure",
    "short_visit",
]

# Better outcomes darker and bluer; worse in orange/vermillion, with a hatch as well.
STATUS_COLOURS: dict[str, str] = {
    "HEALED": "#0072B2",  # blue
    "HEALING": "#56B4E9",  # sky blue
    "NOT HEALING": "#E69F00",  # orange
}
STATUS_LABELS = {"HEALED": "Healed", "HEALING": "Healing", "NOT HEALING": "Not healing"}
CHANGE_COLOURS: dict[str, str] = {
    "decreased": "#009E73",  # bluish green: class fell (better)
    "unchanged": "#BBBBBB",  # light grey
    "increased": "#D55E00",  # vermillion: class rose (worse)
}
CHANGE_LABELS = {
    "decreased": "Decreased (better)",
    "unchanged": "Unchanged",
    "increased": "Increased (worse)",
}
HATCH = "/"
MAX_COLUMNS = 3
# A panel's visits need this many layout pixels for their "n = ..." and tick labels
# not to touch.
PANEL_PX = 520


def panels_across(th: Theme) -> int:
    """Panels side by side: as many as the width holds; on a normal page, whose width is
    unknown (the sidebar may leave it narrow), one above another."""
    if th.name == "normal":
        return 1
    return max(1, min(MAX_COLUMNS, int(th.width // PANEL_PX)))


def short_visit(visit: str) -> str:
    """A visit name short enough for an axis tick: "MONTH 6" reads "6 mo"."""
    m = re.fullmatch(r"(MONTH|WEEK|DAY)\s+(\d+(?:\.\d+)?)", visit.strip().upper())
    if m:
        unit = {"MONTH": "mo", "WEEK": "wk", "DAY": "d"}[m.group(1)]
        return f"{m.group(2)} {unit}"
    return "Baseline" if visit.strip().upper() == "BASELINE" else visit


# --- healing status ---------------------------------------------------------------------


def healing_status_figure(
    courses: Mapping[str, WoundCourse],
    *,
    title: str | None = None,
    theme: Mode | Theme = "normal",
    provenance: Provenance | None = None,
) -> go.Figure:
    """Stacked bars of target wound status at each visit where it was assessed, as a share
    of the patients assessed at that visit (written above each bar as "n = ...").

    courses: group label -> its wound course (one entry: one panel, no group titles).
    provenance: for the footnote (default: the first course's).
    """
    th = get_theme(theme)
    names = names_of(courses, "wound courses")
    first = courses[names[0]]
    visit_names: list[str] = []
    for c in courses.values():
        for v in c.status_visits:
            if v.visit not in visit_names:
                visit_names.append(v.visit)
    # the visits in words: the x values are what the hover and the CSV of the numbers show
    words = {v: DEFAULT_LABELS.value("AVISIT", v) for v in visit_names}
    n_cols = min(len(names), panels_across(th))
    n_rows = math.ceil(len(names) / n_cols)
    titles = [f"{esc(n)} (n = {th.count(courses[n].n)})" for n in names] if len(names) > 1 else None
    # Each row of panels: its plot (tall enough that the 12% above 100 holds the
    # "n = ..." line), and between rows the tick labels of one and the title of the next.
    row_px = max(0.36 * th.height, 12 * th.tick_size)
    gap_px = th.tick_size * 2.0 + (th.font_size * 1.8 if titles else 0.0)
    plot_px = n_rows * row_px + (n_rows - 1) * gap_px
    fig = make_subplots(
        rows=n_rows,
        cols=n_cols,
        shared_yaxes=True,
        horizontal_spacing=0.04,
        vertical_spacing=gap_px / plot_px if n_rows > 1 else 0.0,
        subplot_titles=titles,
    )
    for i, name in enumerate(names):
        row, col = i // n_cols + 1, i % n_cols + 1
        visits = {v.visit: v for v in courses[name].status_visits}
        shown = [vn for vn in visit_names if vn in visits]
        for status in STATUS_COLOURS:
            colour = STATUS_COLOURS[status]
            pct = np.array(
                [100 * (visits[vn].share(status) or 0.0) for vn in shown], dtype=np.float64
            )
            pts = np.array([visits[vn].count(status) for vn in shown], dtype=np.float64)
            den = np.array([visits[vn].assessed for vn in shown], dtype=np.float64)
            fig.add_trace(
                go.Bar(
                    x=np.array([words[vn] for vn in shown], dtype=object),
                    y=pct,
                    name=STATUS_LABELS[status],
                    legendgroup=status,
                    showlegend=i == 0,
                    marker={
                        "color": colour,
                        "line": {"color": "#FFFFFF", "width": 1},
                        "pattern": {
                            "shape": HATCH if status == "NOT HEALING" else "",
                            "fgcolor": "rgba(0,0,0,0.35)",
                            "size": 8,
                        },
                    },
                    text=np.array([f"{p:.0f}" if p > 0 else "" for p in pts], dtype=object),
                    textposition="inside",
                    insidetextanchor="middle",
                    textfont={"size": th.tick_size, "color": text_on(colour)},
                    customdata=np.column_stack([pts, den]) if len(shown) else None,
                    hovertemplate=(
                        f"<b>{esc(name)}</b> · %{{x}}<br>{STATUS_LABELS[status]}: "
                        "%{customdata[0]:.0f} of %{customdata[1]:.0f} assessed "
                        "(%{y:.1f}%)<extra></extra>"
                    ),
                    meta={
                        "csv": {
                            "section": "wound status",
                            "group": name,
                            "series": STATUS_LABELS[status],
                            "x": "visit",
                            "y": "percent_of_assessed",
                            "columns": ["patients", "assessed"],
                        }
                    },
                ),
                row=row,
                col=col,
            )
        # the denominator above each bar
        fig.add_trace(
            go.Scatter(
                x=np.array([words[vn] for vn in shown], dtype=object),
                y=np.full(len(shown), 100.0),
                mode="text",
                text=np.array([f"n = {visits[vn].assessed}" for vn in shown], dtype=object),
                textposition="top center",
                textfont={"size": th.tick_size * 0.9, "color": th.muted_colour},
                hoverinfo="skip",
                showlegend=False,
                name="assessed",
                cliponaxis=False,
            ),
            row=row,
            col=col,
        )
    fig.update_layout(barmode="stack", bargap=0.25)
    xaxis = axis_style(th, grid=False)
    xaxis.update(
        type="category",
        categoryorder="array",
        categoryarray=[words[v] for v in visit_names],
        tickmode="array",
        tickvals=[words[v] for v in visit_names],
        ticktext=[short_visit(v) for v in visit_names],
        tickangle=0,
    )
    fig.update_xaxes(**xaxis)
    yaxis = axis_style(th)
    yaxis.update(range=[0, 112], tickvals=list(range(0, 101, 20)), fixedrange=True)
    fig.update_yaxes(**yaxis)
    fig.update_yaxes(title_text="Patients assessed (%)", row=1, col=1)
    for ann in fig.layout.annotations:  # subplot titles
        ann.font = {"size": th.font_size, "color": th.text_colour}
    notes = [
        "bars: share of patients whose target wound was assessed at the visit "
        "(n above each bar); numbers in the bars: patients",
        "healed = wound area 0; healing = smaller than at baseline",
    ]
    finish_layout(
        fig,
        th,
        title=title,
        notes=notes,
        footnote=footnote_of(provenance, first.provenance),
        legend_names=list(STATUS_LABELS.values()),
        kind="wound status",
        extra_top=th.font_size * 1.6 if len(names) > 1 else 0.0,
        axis_title=False,
        plot_px=None if n_rows == 1 else plot_px,
    )
    return fig


# --- Rutherford change ----------------------------------------------------------------------


def rutherford_change_figure(
    changes: Mapping[str, RutherfordAtVisit],
    *,
    title: str | None = None,
    theme: Mode | Theme = "normal",
    provenance: Provenance | None = None,
) -> go.Figure:
    """One horizontal bar per group: Rutherford class decreased, unchanged or increased at
    the visit against baseline, as shares of the paired patients (counts in the bars)."""
    th = get_theme(theme)
    names = names_of(changes, "Rutherford results")
    first = changes[names[0]]
    labels = np.array(
        [f"{esc(n)} (paired {th.count(changes[n].paired)})" for n in names], dtype=object
    )
    fig = go.Figure()
    for which, colour in CHANGE_COLOURS.items():
        k = np.array([getattr(changes[n], which) for n in names], dtype=np.float64)
        d = np.array([changes[n].paired for n in names], dtype=np.float64)
        pct = np.array([100 * (changes[n].share(which) or 0.0) for n in names], dtype=np.float64)
        fig.add_trace(
            go.Bar(
                y=labels,
                x=pct,
                orientation="h",
                name=CHANGE_LABELS[which],
                marker={
                    "color": colour,
                    "line": {"color": "#FFFFFF", "width": 1},
                    "pattern": {
                        "shape": HATCH if which == "increased" else "",
                        "fgcolor": "rgba(0,0,0,0.35)",
                        "size": 8,
                    },
                },
                text=np.array(
                    [f"{c:.0f} ({p:.0f}%)" if c > 0 else "" for c, p in zip(k, pct, strict=True)],
                    dtype=object,
                ),
                textposition="inside",
                insidetextanchor="middle",
                textfont={"size": th.tick_size, "color": text_on(colour)},
                customdata=np.column_stack([k, d]),
                hovertemplate=(
                    f"%{{y}}<br>{CHANGE_LABELS[which]}: %{{customdata[0]:.0f}} of "
                    "%{customdata[1]:.0f} paired (%{x:.1f}%)<extra></extra>"
                ),
                meta={
                    "csv": {
                        "section": "rutherford change",
                        "group": "",
                        "series": which,
                        "x": "percent_of_paired",
                        "y": "group",
                        "columns": ["patients", "paired"],
                    }
                },
            )
        )
    fig.update_layout(barmode="stack", bargap=0.35)
    xaxis = axis_style(th, grid=True)
    xaxis.update(range=[0, 100], tickvals=list(range(0, 101, 20)), fixedrange=True)
    xaxis["title"]["text"] = f"Patients with a class at baseline and at {first.visit.lower()} (%)"
    fig.update_xaxes(**xaxis)
    yaxis = axis_style(th, grid=False)
    yaxis.update(autorange="reversed", fixedrange=True, ticks="")
    fig.update_yaxes(**yaxis)
    notes = [
        f"Rutherford class at {DEFAULT_LABELS.value('AVISIT', first.visit).lower()} against "
        "baseline, among patients with a "
        "class at both (paired); numbers in the bars: patients (share)",
    ]
    longest = max(len(str(lab)) for lab in labels)
    finish_layout(
        fig,
        th,
        title=title,
        notes=notes,
        footnote=footnote_of(provenance, first.provenance),
        legend_names=list(CHANGE_LABELS.values()),
        kind="rutherford change",
        plot_px=len(names) * th.font_size * 3.2 + th.font_size * 2,
        left=max(70.0, 0.55 * th.tick_size * longest + 24),
    )
    return fig
