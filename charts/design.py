"""Figures of the simulated Goldilocks design (:mod:`analytics.analyses.design`).

- :func:`stopping_figure`: where the simulated trials stopped, as stacked bars at each
  look (enrolment stopped for expected success, stopped for futility, enrolled to the
  maximum), with the share that ended in success at each size marked on the bars;
- :func:`power_curve_figure`: the probability of success against the true rate, with
  its Monte Carlo 95% error bars, the exact power of one analysis at the maximum
  sample size, the performance goal, and the design's stated figures when given.

Nothing is computed here: every number comes from the result drawn.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from analytics.analyses.design import DesignResult
from analytics.analyses.design_results import PowerCurve
from charts._draw import finish_layout, goal_line
from charts._text import count, esc, share
from charts.palette import INK, OKABE_ITO
from charts.theme import Mode, Theme, axis_style, get_theme

__all__ = ["power_curve_figure", "stopping_figure"]

SUCCESS_COLOUR = OKABE_ITO[0]  # blue
FUTILITY_COLOUR = OKABE_ITO[1]  # vermillion
MAXIMUM_COLOUR = OKABE_ITO[2]  # bluish green
FIXED_COLOUR = OKABE_ITO[3]  # reddish purple
Z95 = 1.959964  # two-sided 95% normal quantile, for the Monte Carlo error bars


def _csv(section: str, group: str, series: str, x: str, y: str | None) -> dict[str, object]:
    return {"csv": {"section": section, "group": group, "series": series, "x": x, "y": y}}


def stopping_figure(
    result: DesignResult,
    *,
    at_goal: bool = False,
    title: str | None = None,
    theme: Mode | Theme = "normal",
) -> go.Figure:
    """Share of the simulated trials stopping at each look, in percent, at the true rate
    of the run (or at the goal, the type I error run, with `at_goal`)."""
    th = get_theme(theme)
    oc = result.at_goal if at_goal else result.at_rate
    looks = [f"{n} patients" for n in oc.looks]
    last = len(looks) - 1
    parts = (
        ("Enrolment stopped: success expected", SUCCESS_COLOUR, oc.stopped_for_success),
        ("Stopped for futility", FUTILITY_COLOUR, oc.stopped_for_futility),
        (
            f"Enrolled to the maximum ({oc.looks[-1]})",
            MAXIMUM_COLOUR,
            tuple(oc.reached_maximum if i == last else 0.0 for i in range(len(looks))),
        ),
    )
    fig = go.Figure()
    names = []
    for name, colour, shares in parts:
        values = 100 * np.asarray(shares, dtype=np.float64)
        fig.add_trace(
            go.Bar(
                x=looks,
                y=values,
                name=name,
                marker={"color": colour, "line": {"color": "white", "width": 1}},
                hovertemplate=f"{esc(name)}<br>at %{{x}}: %{{y:.1f}}% of trials<extra></extra>",
                meta=_csv("stopping", share(oc.true_rate), name, "look", "percent_of_trials"),
            )
        )
        names.append(name)
    success = 100 * np.asarray(oc.success_at, dtype=np.float64)
    fig.add_trace(
        go.Scatter(
            x=looks,
            y=success,
            mode="markers",
            marker={
                "symbol": "diamond",
                "size": th.marker_size * 1.3,
                "color": "white",
                "line": {"color": INK, "width": max(1.5, th.line_width * 0.6)},
            },
            name="Ended in success with that many enrolled",
            hovertemplate="Ended in success at %{x}: %{y:.1f}% of trials<extra></extra>",
            meta=_csv("success", share(oc.true_rate), "ended in success", "look", "percent"),
        )
    )
    names.append("Ended in success with that many enrolled")
    fig.update_layout(barmode="stack", bargap=0.35)
    what = "at the goal (type I error)" if at_goal else "at the true rate"
    notes = [
        f"{count(oc.simulations)} simulated trials {what}: amputation-free survival rate "
        f"{share(oc.true_rate)} at the landmark (seed {oc.seed})",
        f"probability of success {100 * oc.probability_of_success:.1f}%, expected sample "
        f"size {oc.expected_sample_size:.1f}",
        "a trial stopped for expected success is analysed once every patient enrolled "
        "has reached the landmark",
    ]
    finish_layout(
        fig,
        th,
        title=title,
        notes=notes,
        footnote=result.provenance.footnote(),
        legend_names=names,
        kind="design stopping",
        plot_share=0.45,
    )
    xaxis = axis_style(th, grid=False)
    xaxis.update(type="category", tickangle=0)
    xaxis["title"]["text"] = "Patients enrolled at the look"
    fig.update_xaxes(**xaxis)
    yaxis = axis_style(th)
    yaxis.update(rangemode="tozero", range=[0, 105], ticksuffix="%", fixedrange=True)
    yaxis["title"]["text"] = "Simulated trials"
    fig.update_yaxes(**yaxis)
    return fig


def power_curve_figure(
    curve: PowerCurve,
    *,
    goal: float,
    stated: Sequence[tuple[float, float, str]] = (),
    title: str | None = None,
    theme: Mode | Theme = "normal",
) -> go.Figure:
    """Probability of success (%) against the true rate (%).

    stated: the design's own figures to compare with, as (rate, probability, label)
        triples, drawn as hollow triangles with their label in the hover.
    """
    th = get_theme(theme)
    x = 100 * np.asarray(curve.rates, dtype=np.float64)
    y = 100 * np.asarray(curve.probability_of_success, dtype=np.float64)
    err = Z95 * 100 * np.asarray(curve.monte_carlo_error, dtype=np.float64)
    fig = go.Figure()
    sim_name = f"Goldilocks design, simulated ({count(curve.simulations)} trials a rate)"
    fixed_name = "One analysis at the maximum sample size (exact)"
    fig.add_trace(
        go.Scatter(
            x=x,
            y=100 * np.asarray(curve.fixed_power, dtype=np.float64),
            mode="lines",
            line={"color": FIXED_COLOUR, "width": th.line_width * 0.7, "dash": "dot"},
            name=fixed_name,
            hovertemplate="True rate %{x:.0f}%: %{y:.1f}% (exact)<extra></extra>",
            meta=_csv("power", "fixed design", "exact power", "true_rate_percent", "percent"),
        )
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=y,
            mode="lines+markers",
            line={"color": SUCCESS_COLOUR, "width": th.line_width},
            marker={"size": th.marker_size * 0.8, "color": SUCCESS_COLOUR},
            error_y={"type": "data", "array": err, "color": SUCCESS_COLOUR, "thickness": 1.5},
            customdata=np.column_stack((err, curve.expected_sample_size)),
            name=sim_name,
            hovertemplate=(
                "True rate %{x:.0f}%: success %{y:.1f}% (± %{customdata[0]:.1f}), "
                "expected sample size %{customdata[1]:.1f}<extra></extra>"
            ),
            meta={
                "csv": {
                    "section": "power",
                    "group": "Goldilocks design",
                    "series": "simulated probability of success",
                    "x": "true_rate_percent",
                    "y": "percent",
                    "columns": ["monte_carlo_95_percent_halfwidth", "expected_sample_size"],
                }
            },
        )
    )
    names = [fixed_name, sim_name]
    if stated:
        stated_name = "The trial's stated design"
        fig.add_trace(
            go.Scatter(
                x=[100 * r for r, _, _ in stated],
                y=[100 * p for _, p, _ in stated],
                text=[label for _, _, label in stated],
                mode="markers",
                marker={
                    "symbol": "triangle-up",
                    "size": th.marker_size * 1.4,
                    "color": "white",
                    "line": {"color": INK, "width": max(1.5, th.line_width * 0.6)},
                },
                name=stated_name,
                hovertemplate="%{text}<extra></extra>",
                meta=_csv("stated", "design", "stated figure", "true_rate_percent", "percent"),
            )
        )
        names.append(stated_name)
    goal_line(fig, goal, "Performance goal", th, vertical=True)
    finish_layout(
        fig,
        th,
        title=title,
        notes=[
            "error bars: 95% Monte Carlo interval of each simulated probability",
            "every rate is simulated on the same trials (same seed), so the curve is smooth",
            f"at the goal ({share(goal)}) the probability of success is the type I error",
        ],
        footnote=curve.provenance.footnote(),
        legend_names=names,
        kind="design power",
        plot_share=0.5,
    )
    xaxis = axis_style(th, grid=False)
    xaxis.update(ticksuffix="%")
    xaxis["title"]["text"] = "True amputation-free survival rate at the landmark"
    fig.update_xaxes(**xaxis)
    yaxis = axis_style(th)
    yaxis.update(range=[-2, 102], dtick=20, ticksuffix="%")
    yaxis["title"]["text"] = "Probability of success"
    fig.update_yaxes(**yaxis)
    return fig
