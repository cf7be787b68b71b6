"""Wound healing over the scheduled visits, as lines: area and all wounds healed.

Two figures drawing :class:`analytics.analyses.visits.WoundCourse` results and nothing
else, one line per group on a month axis of the scheduled visits:

- :func:`wound_area_figure`: median target wound area at each visit, the band the
  interquartile range;
- :func:`all_healed_figure`: share of patients with all wounds healed at each visit,
  among those assessed for it.

Every trace carries ``meta["csv"]`` for :func:`charts.export.to_csv`. The bar charts of
healing status and Rutherford change are in :mod:`charts.wounds`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import plotly.graph_objects as go

from analytics.analyses.visits import WoundCourse
from analytics.model.labels import DEFAULT as DEFAULT_LABELS
from analytics.model.provenance import Provenance
from charts._draw import finish_layout
from charts._text import esc, month_label
from charts._wound_style import footnote_of, group_colours, names_of
from charts.palette import with_alpha
from charts.theme import Mode, Theme, axis_style, get_theme

__all__ = ["all_healed_figure", "wound_area_figure"]


def _month_axis(th: Theme, courses: Mapping[str, WoundCourse]) -> dict[str, Any]:
    months = sorted({v.month for c in courses.values() for v in c.visits})
    xaxis = axis_style(th, grid=False)
    ticks = [m for m in months if m == int(m)] or months
    end = max(months) if months else 12.0
    xaxis.update(
        range=[-0.3, end + 0.3],
        tickmode="array",
        tickvals=ticks,
        ticktext=[month_label(m) for m in ticks],
        fixedrange=True,
    )
    xaxis["title"]["text"] = "Months from the procedure (scheduled visit)"
    return xaxis


def wound_area_figure(
    courses: Mapping[str, WoundCourse],
    *,
    colours: Mapping[str, str] | None = None,
    title: str | None = None,
    theme: Mode | Theme = "normal",
    provenance: Provenance | None = None,
) -> go.Figure:
    """Median target wound area at each visit (line and markers) with its interquartile
    range (band); visits without a measured wound are left out of the group's line."""
    th = get_theme(theme)
    names = names_of(courses, "wound courses")
    cols = group_colours(names, colours)
    fig = go.Figure()
    for name in names:
        # under small-cell protection a median of fewer than 11 wounds is not drawn
        vs = [
            v
            for v in courses[name].visits
            if v.area_median is not None and not th.hides(v.measured)
        ]
        x = np.array([v.month for v in vs], dtype=np.float64)
        med = np.array([v.area_median for v in vs], dtype=np.float64)
        q1 = np.array([v.area_q1 for v in vs], dtype=np.float64)
        q3 = np.array([v.area_q3 for v in vs], dtype=np.float64)
        n = np.array([v.measured for v in vs], dtype=np.float64)
        labels = np.array([DEFAULT_LABELS.value("AVISIT", v.visit) for v in vs], dtype=object)
        if x.size:
            fig.add_trace(
                go.Scatter(
                    x=np.concatenate([x, x[::-1]]),
                    y=np.concatenate([q3, q1[::-1]]),
                    mode="lines",
                    fill="toself",
                    fillcolor=with_alpha(
                        cols[name], th.band_alpha * (1.6 if len(names) == 1 else 1.0)
                    ),
                    line={"width": 0},
                    hoverinfo="skip",
                    showlegend=False,
                    legendgroup=name,
                    name=f"{name} IQR",
                )
            )
        legend_name = f"{esc(name)}" if len(names) > 1 else "All patients in view"
        fig.add_trace(
            go.Scatter(
                x=x,
                y=med,
                mode="lines+markers",
                line={"color": cols[name], "width": th.line_width},
                marker={"color": cols[name], "size": th.marker_size},
                name=legend_name,
                legendgroup=name,
                text=labels,
                customdata=np.column_stack([q1, q3, n]) if x.size else None,
                hovertemplate=(
                    f"<b>{esc(name)}</b> · %{{text}}<br>median %{{y:.2f}} cm² "
                    "(IQR %{customdata[0]:.2f}–%{customdata[1]:.2f})<br>"
                    "%{customdata[2]:.0f} wounds measured<extra></extra>"
                ),
                meta={
                    "csv": {
                        "section": "wound area",
                        "group": name,
                        "series": "median",
                        "x": "month",
                        "y": "median_cm2",
                        "text": "visit",
                        "columns": ["q1_cm2", "q3_cm2", "measured"],
                    }
                },
            )
        )
    fig.update_xaxes(**_month_axis(th, courses))
    yaxis = axis_style(th)
    yaxis.update(rangemode="tozero", fixedrange=True)
    yaxis["title"]["text"] = "Target wound area (cm²)"
    fig.update_yaxes(**yaxis)
    notes = [
        "line: median area of the target wounds measured at each visit; band: interquartile "
        "range (Q1–Q3); healed wounds count as 0 cm²",
        "patients who died, were amputated or left are not in later visits",
    ]
    finish_layout(
        fig,
        th,
        title=title,
        notes=notes,
        footnote=footnote_of(provenance, courses[names[0]].provenance),
        legend_names=[esc(n) for n in names] if len(names) > 1 else ["All patients in view"],
        kind="wound area",
    )
    return fig


def all_healed_figure(
    courses: Mapping[str, WoundCourse],
    *,
    colours: Mapping[str, str] | None = None,
    title: str | None = None,
    theme: Mode | Theme = "normal",
    provenance: Provenance | None = None,
) -> go.Figure:
    """Share of patients with all wounds healed at each visit, among those assessed for
    it there (hover and CSV give the count and the denominator)."""
    th = get_theme(theme)
    names = names_of(courses, "wound courses")
    cols = group_colours(names, colours)
    fig = go.Figure()
    for name in names:
        # under small-cell protection a share whose count or rest is from 1 to 10 is not
        # drawn
        vs = [
            v
            for v in courses[name].visits
            if v.all_healed_share is not None
            and not any(th.hides(c) for c in (v.all_healed, v.all_assessed - v.all_healed))
        ]
        x = np.array([v.month for v in vs], dtype=np.float64)
        y = np.array([100 * (v.all_healed_share or 0.0) for v in vs], dtype=np.float64)
        k = np.array([v.all_healed for v in vs], dtype=np.float64)
        d = np.array([v.all_assessed for v in vs], dtype=np.float64)
        fig.add_trace(
            go.Scatter(
                x=x,
                y=y,
                mode="lines+markers",
                line={"color": cols[name], "width": th.line_width},
                marker={"color": cols[name], "size": th.marker_size},
                name=esc(name) if len(names) > 1 else "All patients in view",
                text=np.array([DEFAULT_LABELS.value("AVISIT", v.visit) for v in vs], dtype=object),
                customdata=np.column_stack([k, d]) if x.size else None,
                hovertemplate=(
                    f"<b>{esc(name)}</b> · %{{text}}<br>all wounds healed: "
                    "%{customdata[0]:.0f} of %{customdata[1]:.0f} assessed (%{y:.1f}%)"
                    "<extra></extra>"
                ),
                meta={
                    "csv": {
                        "section": "all wounds healed",
                        "group": name,
                        "series": "all wounds healed",
                        "x": "month",
                        "y": "percent_of_assessed",
                        "text": "visit",
                        "columns": ["patients", "assessed"],
                    }
                },
            )
        )
    fig.update_xaxes(**_month_axis(th, courses))
    yaxis = axis_style(th)
    yaxis.update(range=[0, 100], tickvals=list(range(0, 101, 20)), fixedrange=True)
    yaxis["title"]["text"] = "All wounds healed (% of assessed)"
    fig.update_yaxes(**yaxis)
    notes = ["share of patients assessed for all wounds healed at the visit, amputees included"]
    finish_layout(
        fig,
        th,
        title=title,
        notes=notes,
        footnote=footnote_of(provenance, courses[names[0]].provenance),
        legend_names=[esc(n) for n in names] if len(names) > 1 else ["All patients in view"],
        kind="all wounds healed",
    )
    return fig


# --- Rutherford change ----------------------------------------------------------------------
