"""The medians and the landmark on a Kaplan-Meier figure, and the legend text naming them.

A reached median is a dotted drop line from 50% to the month it is reached, one per
curve; the landmark is a dotted vertical line with each curve's estimate drawn as a
diamond with its 95% CI (nudged apart when several curves overlap). The legend entry of
a curve gives its n and events and, when asked, its median and landmark estimate with
their CIs. Every number comes from the ``KMResult``; every trace carries
``meta["csv"]`` for the export.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from analytics.estimators.km import KMResult
from analytics.model.schema import DAYS_PER_MONTH
from charts._text import esc, estimable, interval, month_label, pct
from charts.theme import Theme


def median_text(res: KMResult) -> str:
    med = res.median
    if not med.reached or med.estimate is None:
        return "median NR"

    def m(d: float | None) -> str:
        return "NR" if d is None else f"{d / DAYS_PER_MONTH:.1f}"

    return f"median {m(med.estimate)} mo (95% CI {m(med.lower)}–{m(med.upper)})"


def landmark_text(res: KMResult, day: float) -> str:
    lm = res.landmark(day)
    return (
        f"{month_label(round(day / DAYS_PER_MONTH, 1))} mo: {pct(lm.estimate)} "
        f"({interval(lm.lower, lm.upper)})"
    )


def at_risk_value(n: float, th: Theme) -> float:
    """The number at risk behind a mark (its CSV), none when protection withholds it."""
    return float("nan") if th.hides(n) else float(n)


def legend_name(
    lab: str, res: KMResult, median: bool, landmark_day: float | None, th: Theme
) -> str:
    name = f"<b>{esc(lab)}</b> (n = {th.count(res.n)}; {th.count(res.events)} events)"
    extra = []
    if median:
        extra.append(median_text(res))
    if landmark_day is not None:
        extra.append(landmark_text(res, landmark_day))
    if extra:
        name += "<br>" + "; ".join(extra)
    return name


def add_medians(
    fig: go.Figure,
    pairs: list[tuple[str, KMResult]],
    colours: dict[str, str],
    th: Theme,
    show_median: bool,
) -> None:
    """A dotted line at 50% to the last median reached, and one down from each median."""
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


def add_landmark(
    fig: go.Figure,
    pairs: list[tuple[str, KMResult]],
    colours: dict[str, str],
    th: Theme,
    landmark_day: float,
    end_m: float,
) -> None:
    """The landmark day as a dotted line, each curve's estimate there with its 95% CI."""
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
        ok = estimable(lm.lower, lm.upper)
        if not ok:
            err = {"visible": False}
        fig.add_trace(
            go.Scatter(
                x=np.array([lm_m + nudge]),
                y=np.array([100 * lm.estimate]),
                customdata=np.array(
                    [[landmark_day, 100 * lm.lower, 100 * lm.upper, at_risk_value(lm.at_risk, th)]]
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
                    + (
                        "(95% CI %{customdata[1]:.1f}–%{customdata[2]:.1f}); "
                        if ok
                        else "(95% CI not estimable); "
                    )
                    + f"{th.count(lm.at_risk)} at risk<extra></extra>"
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
