"""Plotly pieces shared by the step-curve figures (Kaplan-Meier, cumulative incidence).

A curve is drawn from a :class:`Steps`: the step function of a result from day 0,
in proportions. These helpers only arrange what the result holds: they prepend the
curve's value at day 0 (100% survival, 0% incidence), thin the points (see
:func:`charts._steps.thin_steps`) and split the curve where few patients remain.

Every trace that carries numbers for the CSV export has ``meta={"csv": {...}}``:
``section``, ``group``, ``series``, the names of its ``x`` and ``y`` columns (``y``
None to leave it out) and of its ``customdata`` columns. :mod:`charts.export` reads
those back; nothing else does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go
from numpy.typing import ArrayLike, NDArray

from charts._steps import THIN_TOL, step_band, thin_marks, thin_steps
from charts._text import DAYS_PER_MONTH, esc, wrap
from charts.palette import with_alpha
from charts.theme import Theme, base_layout

FloatArray = NDArray[np.float64]
IndexArray = NDArray[np.intp]


@dataclass(frozen=True)
class Steps:
    """A step function from day 0: value (and CI) from each day on, proportions."""

    day: FloatArray
    value: FloatArray
    lower: FloatArray
    upper: FloatArray
    at_risk: FloatArray  # NaN where unknown
    censored: FloatArray  # censorings at each day (0 where none or unknown)

    @classmethod
    def from_result(
        cls,
        timeline: ArrayLike,
        value: ArrayLike,
        lower: ArrayLike,
        upper: ArrayLike,
        start: float,
        at_risk: ArrayLike | None = None,
        censored: ArrayLike | None = None,
    ) -> Steps:
        """The result's arrays with the curve's day-0 value `start` put in front."""
        t = np.asarray(timeline, dtype=np.float64)
        n = np.full(t.size, np.nan) if at_risk is None else np.asarray(at_risk, np.float64)
        c = np.zeros(t.size) if censored is None else np.asarray(censored, np.float64)
        return cls(
            day=np.concatenate(([0.0], t)),
            value=np.concatenate(([start], np.asarray(value, np.float64))),
            lower=np.concatenate(([np.nan], np.asarray(lower, np.float64))),
            upper=np.concatenate(([np.nan], np.asarray(upper, np.float64))),
            at_risk=np.concatenate(([n[0] if n.size else np.nan], n)),
            censored=np.concatenate(([0.0], c)),
        )

    @property
    def months(self) -> FloatArray:
        return self.day / DAYS_PER_MONTH

    def fade_index(self, fade_below: int | None) -> int | None:
        """Index of the last point with at least `fade_below` at risk, when a later
        point has fewer: the curve is drawn faded from there on (None: never)."""
        if fade_below is None:
            return None
        low = np.flatnonzero(self.at_risk < fade_below)
        if low.size == 0:
            return None
        return max(int(low[0]) - 1, 0)


def curve_traces(
    steps: Steps,
    *,
    label: str,
    colour: str,
    th: Theme,
    legend_name: str,
    series: str,
    value_name: str,
    ci: bool = True,
    fade_below: int | None = None,
    dash: str | None = None,
    legendgroup: str | None = None,
    xaxis: str = "x",
    yaxis: str = "y",
) -> list[go.Scatter]:
    """CI band(s), then the step line, solid up to the fade point and faded after it.

    The points are thinned to those where the value or its CI moves by 0.1 percentage
    point or more, so the drawing is within 0.1 point of the full curve everywhere.
    """
    cut = steps.fade_index(fade_below)
    kept = thin_steps(
        steps.day,
        steps.value,
        steps.lower,
        steps.upper,
        tol=THIN_TOL,
        keep=[] if cut is None else [cut],
    )
    parts: list[tuple[IndexArray, bool]] = []
    if cut is None:
        parts.append((kept, False))
    else:
        if cut > 0:
            parts.append((kept[kept <= cut], False))
        parts.append((kept[kept >= cut], True))
    group = legendgroup or label
    xm = steps.months
    traces: list[go.Scatter] = []
    if ci:
        for idx, faded in parts:
            bx, by = step_band(xm[idx], 100 * steps.lower[idx], 100 * steps.upper[idx])
            if bx.size == 0:
                continue
            alpha = th.band_alpha * (th.faded_opacity if faded else 1.0)
            traces.append(
                go.Scatter(
                    # float32 is exact to 1e-5 percentage point: plenty for a shaded band
                    x=bx.astype(np.float32),
                    y=by.astype(np.float32),
                    mode="lines",
                    fill="toself",
                    fillcolor=with_alpha(colour, alpha),
                    line={"width": 0},
                    hoverinfo="skip",
                    showlegend=False,
                    legendgroup=group,
                    name=f"{label} {series} 95% CI",
                    xaxis=xaxis,
                    yaxis=yaxis,
                )
            )
    hover = (
        f"<b>{esc(label)}</b><br>Month %{{x:.1f}} (day %{{customdata[0]:.0f}})<br>"
        f"{esc(value_name)} %{{y:.1f}}% "
        "(95% CI %{customdata[1]:.1f}–%{customdata[2]:.1f})<extra></extra>"
    )
    first = True
    for idx, faded in parts:
        custom = np.column_stack((steps.day[idx], 100 * steps.lower[idx], 100 * steps.upper[idx]))
        line: dict[str, Any] = {"shape": "hv", "color": colour, "width": th.line_width}
        if dash:
            line["dash"] = dash
        traces.append(
            go.Scatter(
                x=xm[idx],
                y=100 * steps.value[idx],
                customdata=custom,
                mode="lines",
                line=line,
                opacity=th.faded_opacity if faded else 1.0,
                name=legend_name if first else f"{esc(label)} (few at risk)",
                legendgroup=group,
                showlegend=first,
                hovertemplate=hover,
                xaxis=xaxis,
                yaxis=yaxis,
                meta={
                    "csv": {
                        "section": "curve",
                        "group": label,
                        "series": f"{series}, few at risk" if faded else series,
                        "x": "month",
                        "y": "percent",
                        "columns": ["day", "lower_percent", "upper_percent"],
                    }
                },
            )
        )
        first = False
    return traces


def censor_traces(
    steps: Steps,
    *,
    label: str,
    colour: str,
    th: Theme,
    x_span_months: float,
    fade_below: int | None = None,
    legendgroup: str | None = None,
) -> list[go.Scatter]:
    """ "+" marks at censoring times on the curve, thinned to one per 0.1 percentage
    point vertically and 1/1000 of the x axis horizontally."""
    idx = np.flatnonzero(steps.censored > 0)
    if idx.size == 0:
        return []
    xm = steps.months[idx]
    y = 100 * steps.value[idx]
    keep = thin_marks(xm, y, x_tol=max(x_span_months, 1e-9) / 1000, y_tol=100 * THIN_TOL)
    idx, xm, y = idx[keep], xm[keep], y[keep]
    cut = steps.fade_index(fade_below)
    faded = steps.day[idx] > steps.day[cut] if cut is not None else np.zeros(idx.size, bool)
    traces = []
    for part in (False, True):
        sel = faded == part
        if not sel.any():
            continue
        traces.append(
            go.Scatter(
                x=xm[sel],
                y=y[sel],
                customdata=np.column_stack((steps.day[idx][sel], steps.censored[idx][sel])),
                mode="markers",
                marker={
                    "symbol": "cross-thin",
                    "size": th.marker_size,
                    "color": colour,
                    "line": {"width": max(1.5, th.line_width * 0.6), "color": colour},
                },
                opacity=th.faded_opacity if part else 1.0,
                name=f"{label} censored",
                legendgroup=legendgroup or label,
                showlegend=False,
                hovertemplate=(
                    f"{esc(label)}: %{{customdata[1]:.0f}} censored on day "
                    "%{customdata[0]:.0f}<extra></extra>"
                ),
                meta={
                    "csv": {
                        "section": "censored",
                        "group": label,
                        "series": "censor mark",
                        "x": "month",
                        "y": "percent",
                        "columns": ["day", "n_censored"],
                    }
                },
            )
        )
    return traces


def legend(names: list[str], th: Theme, width: float) -> tuple[dict[str, Any], float]:
    """Legend settings above the plot, and the layout pixels it takes.

    Presentation figures have a fixed width, so entries sit side by side (the rows
    Plotly wraps them onto are estimated). Normal figures stretch to their container,
    whose width is unknown: one entry per row, a height that cannot be wrong.
    """

    def plain(line: str) -> int:
        for tag in ("<b>", "</b>", "<i>", "</i>"):
            line = line.replace(tag, "")
        return len(line)

    settings: dict[str, Any] = {
        "x": 0.0,
        "y": 1.0,
        "xanchor": "left",
        "yanchor": "bottom",
        "yref": "paper",
        "bgcolor": "rgba(255,255,255,0)",
        "font": {"size": th.font_size},
        "traceorder": "normal",
        "itemwidth": 50,
    }
    line_px = th.font_size * 1.3
    if th.name != "presentation":
        settings["orientation"] = "v"
        px = sum((n.count("<br>") + 1) * line_px + 4 for n in names) + 10
        return settings, px
    settings["orientation"] = "h"
    lines = max(n.count("<br>") + 1 for n in names)
    widths = [70 + 0.47 * th.font_size * max(plain(x) for x in n.split("<br>")) for n in names]
    rows, used = 1, 0.0
    for w in widths:
        if used and used + w > width:
            rows, used = rows + 1, 0.0
        used += w
    return settings, rows * (lines * line_px + 10) + 6


def caption(notes: list[str], footnote: str, th: Theme) -> tuple[str, float]:
    """The figure's caption (what the marks mean, then the provenance footnote),
    wrapped, and its height in layout pixels."""
    text = wrap(" · ".join(notes) + "\n" + footnote, th.footnote_chars(th.width - 20))
    return text, (text.count("<br>") + 1) * th.small_size * 1.3 + 12


def add_caption(fig: go.Figure, text: str, th: Theme, left_px: float, yshift: float) -> None:
    """The caption at the bottom left of the figure, under everything else."""
    fig.add_annotation(
        x=0,
        y=0,
        xref="paper",
        yref="paper",
        xanchor="left",
        yanchor="top",
        align="left",
        xshift=-(left_px - 10),
        yshift=-yshift,
        showarrow=False,
        text=text,
        font={"size": th.small_size, "color": th.muted_colour},
        name="caption",
    )


def goal_line(
    fig: go.Figure,
    goal: float,
    label: str,
    th: Theme,
    *,
    vertical: bool = False,
    yref: str = "y",
    xref: str = "x",
) -> None:
    """A performance goal (a proportion) as a dashed line with its value written on it."""
    if not 0 <= goal <= 1:
        raise ValueError("a performance goal is a proportion between 0 and 1")
    style = {"color": th.text_colour, "width": max(1.5, th.line_width * 0.5), "dash": "dash"}
    text = f"{esc(label)} {100 * goal:g}%"
    if vertical:
        fig.add_shape(
            type="line",
            x0=100 * goal,
            x1=100 * goal,
            y0=0,
            y1=1,
            xref=xref,
            yref=f"{yref} domain",
            line=style,
            name="goal",
        )
        fig.add_annotation(
            x=100 * goal,
            y=1.0,
            xref=xref,
            yref=f"{yref} domain",
            xanchor="right",
            yanchor="top",
            xshift=-6,
            showarrow=False,
            text=text,
            font={"size": th.font_size, "color": th.text_colour},
            bgcolor="rgba(255,255,255,0.8)",
            name="goal",
        )
    else:
        fig.add_shape(
            type="line",
            x0=0,
            x1=1,
            y0=100 * goal,
            y1=100 * goal,
            xref=f"{xref} domain",
            yref=yref,
            line=style,
            name="goal",
        )
        fig.add_annotation(
            x=0.0,
            y=100 * goal,
            xref=f"{xref} domain",
            yref=yref,
            xanchor="left",
            yanchor="bottom",
            xshift=4,
            showarrow=False,
            text=text,
            font={"size": th.font_size, "color": th.text_colour},
            bgcolor="rgba(255,255,255,0.8)",
            name="goal",
        )


def finish_layout(
    fig: go.Figure,
    th: Theme,
    *,
    title: str | None,
    notes: list[str],
    footnote: str,
    legend_names: list[str],
    kind: str,
    extra_top: float = 0.0,
    plot_px: float | None = None,
    left: float | None = None,
    axis_title: bool = True,
    plot_share: float = 0.42,
) -> None:
    """Title, legend under it, caption below the plot, margins and export metadata.

    plot_px: height of the plotting area (default: whatever the theme's height leaves,
    at least `plot_share` of it); extra_top: room above the plot for panel titles."""
    caption_text, caption_px = caption(notes, footnote, th)
    legend_settings, legend_px = legend(legend_names, th, th.width - 60)
    title_px = th.title_size * 2.0 if title else th.font_size * 0.6
    top_px = title_px + legend_px + extra_top
    # tick labels, then the axis title under them (when the figure has one)
    axis_px = th.tick_size * 2.0 + (th.font_size * 2.4 if axis_title else 0.0) + 10
    bottom_px = axis_px + caption_px + 8
    if plot_px is None:
        height = int(max(th.height, top_px + bottom_px + plot_share * th.height))
    else:
        height = int(top_px + bottom_px + plot_px)
    left = left if left is not None else max(70.0, 4.2 * th.tick_size + th.font_size * 1.6)
    add_caption(fig, caption_text, th, left, axis_px)
    layout = base_layout(th, title)
    legend_settings.update(yref="container", y=1 - title_px / height, yanchor="top")
    layout.update(
        height=height,
        margin={"l": left, "r": 30, "t": top_px, "b": bottom_px, "autoexpand": False},
        legend=legend_settings,
        meta={"footnote": footnote, "kind": kind, "title": title or kind},
        hovermode="closest",
    )
    fig.update_layout(**layout)
