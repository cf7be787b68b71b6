"""The Bayesian primary endpoint as in PROMISE II's Figure 2A: the posterior density
of the event-free rate at the landmark, its 95% credible interval, the area above the
performance goal, and the posterior probability that the rate exceeds the goal.

Everything drawn comes from the ``BayesResult``: the density from ``density()``, the
interval from ``credible_interval``, the probability from ``probability_above_goal``,
the goal and threshold from ``goal`` and ``threshold``.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from analytics.estimators.bayes import BayesResult
from analytics.model.schema import DAYS_PER_MONTH
from charts._draw import add_caption, caption
from charts._text import count, esc, month_label, share
from charts.palette import INK, OKABE_ITO, with_alpha
from charts.theme import PRESENTATION, Mode, Theme, axis_style, base_layout, get_theme

__all__ = ["posterior_figure"]

DENSITY_COLOUR = INK
ABOVE_COLOUR = OKABE_ITO[0]  # blue fill: probability above the goal
INTERVAL_COLOUR = OKABE_ITO[4]  # orange hatching: the credible interval
GRID_POINTS = 2001


def _probability(p: float) -> str:
    """ " = 0.9812", " > 0.9999": four decimals keep a value just above a 0.977
    threshold distinguishable from it."""
    if p > 0.9999:
        return " &gt; 0.9999"
    if p < 0.0001:
        return " &lt; 0.0001"
    return f" = {p:.4f}"


def posterior_figure(
    result: BayesResult,
    *,
    endpoint_label: str | None = None,
    title: str | None = None,
    goal_label: str = "Performance goal",
    show_complete_case: bool = False,
    theme: Mode | Theme = "normal",
) -> go.Figure:
    """Posterior density of the landmark rate (x in %), 95% CrI hatched, the area
    above ``result.goal`` filled, a dashed line at the goal and the posterior
    probability written on the figure.

    endpoint_label: what the rate is, for example "Amputation-free survival"
        (default ``result.endpoint``).
    show_complete_case: overlay the complete-case posterior (dotted) when the main
        one imputes missing outcomes.
    """
    th = get_theme(theme)
    name = endpoint_label or result.endpoint or "Event-free rate"
    lo, hi = result.credible_interval
    goal = result.goal
    at = f"{month_label(round(result.day / DAYS_PER_MONTH, 1))} months (day {result.day:g})"
    grid = np.union1d(np.linspace(0.0, 1.0, GRID_POINTS), [lo, hi, goal])
    x, dens = result.density(grid)
    dens = np.where(np.isfinite(dens), dens, np.nan)
    peak = float(np.nanmax(dens)) if np.any(np.isfinite(dens)) else 1.0
    visible = np.flatnonzero(dens > 1e-3 * peak)
    span_lo = min(float(x[visible[0]]) if visible.size else 0.0, goal, lo)
    span_hi = max(float(x[visible[-1]]) if visible.size else 1.0, goal, hi)
    pad = 0.08 * max(span_hi - span_lo, 0.05)
    x_range = [100 * max(0.0, span_lo - pad), 100 * min(1.0, span_hi + pad)]

    fig = go.Figure()
    above = x >= goal
    fig.add_trace(
        go.Scatter(
            x=100 * x[above],
            y=dens[above],
            mode="lines",
            fill="tozeroy",
            fillcolor=with_alpha(ABOVE_COLOUR, 0.35),
            line={"width": 0},
            name=(
                f"Area above the goal: P(rate &gt; {share(goal)})"
                f"{_probability(result.probability_above_goal)}"
            ),
            hoverinfo="skip",
        )
    )
    inside = (x >= lo) & (x <= hi)
    fig.add_trace(
        go.Scatter(
            x=100 * x[inside],
            y=dens[inside],
            mode="lines",
            fill="tozeroy",
            fillcolor="rgba(0,0,0,0)",
            fillpattern={
                "shape": "/",
                "fgcolor": INTERVAL_COLOUR,
                "bgcolor": "rgba(0,0,0,0)",
                "size": max(8, th.marker_size),
                "solidity": 0.25,
            },
            line={"width": 0},
            name=(
                f"95% credible interval {100 * lo:.1f}–{100 * hi:.1f}% "
                f"(posterior mean {100 * result.posterior_mean:.1f}%)"
            ),
            hoverinfo="skip",
        )
    )
    if show_complete_case and result.complete_case is not None:
        cc = result.complete_case
        _, cc_dens = cc.density(grid)
        clo, chi = cc.credible_interval
        fig.add_trace(
            go.Scatter(
                x=100 * x,
                y=cc_dens,
                mode="lines",
                line={
                    "color": th.muted_colour,
                    "width": max(1.5, th.line_width * 0.6),
                    "dash": "dot",
                },
                name=(
                    f"Complete cases only (n = {count(cc.successes + cc.failures)}): "
                    f"P{_probability(cc.probability_above_goal)}; "
                    f"95% CrI {100 * clo:.1f}–{100 * chi:.1f}%"
                ),
                hovertemplate="%{x:.1f}%: density %{y:.3f}<extra>complete cases</extra>",
                meta={
                    "csv": {
                        "section": "density",
                        "group": "complete cases",
                        "series": "posterior density",
                        "x": "rate_percent",
                        "y": "density",
                    }
                },
            )
        )
    fig.add_trace(
        go.Scatter(
            x=100 * x,
            y=dens,
            mode="lines",
            line={"color": DENSITY_COLOUR, "width": th.line_width},
            name="Posterior density",
            showlegend=False,
            hovertemplate="%{x:.1f}%: density %{y:.3f}<extra></extra>",
            meta={
                "csv": {
                    "section": "density",
                    "group": "posterior",
                    "series": "posterior density",
                    "x": "rate_percent",
                    "y": "density",
                }
            },
        )
    )
    # Credible interval as a bar under the curve, so it reads without the hatching.
    fig.add_trace(
        go.Scatter(
            x=np.array([100 * lo, 100 * hi]),
            y=np.array([0.0, 0.0]),
            mode="lines+markers",
            line={"color": INTERVAL_COLOUR, "width": th.line_width * 1.6},
            marker={
                "symbol": "line-ns",
                "size": th.marker_size * 1.6,
                "line": {"color": INTERVAL_COLOUR, "width": th.line_width},
            },
            showlegend=False,
            name="95% credible interval",
            cliponaxis=False,
            hovertemplate="95% credible interval bound: %{x:.1f}%<extra></extra>",
            meta={
                "csv": {
                    "section": "credible interval",
                    "group": "posterior",
                    "series": "95% credible interval bound",
                    "x": "rate_percent",
                    "y": None,
                }
            },
        )
    )
    fig.add_shape(
        type="line",
        x0=100 * goal,
        x1=100 * goal,
        y0=0,
        y1=1,
        xref="x",
        yref="y domain",
        line={"color": th.text_colour, "width": max(1.5, th.line_width * 0.6), "dash": "dash"},
    )
    goal_right = (100 * goal - x_range[0]) < 0.5 * (x_range[1] - x_range[0])
    fig.add_annotation(
        x=100 * goal,
        y=1.0,
        xref="x",
        yref="y domain",
        yanchor="top",
        xanchor="left" if goal_right else "right",
        xshift=6 if goal_right else -6,
        showarrow=False,
        text=f"{esc(goal_label)}<br>{share(goal)}",
        align="left" if goal_right else "right",
        bgcolor="rgba(255,255,255,0.8)",
        font={"size": th.font_size, "color": th.text_colour},
    )
    verdict = {True: "met", False: "not met", None: "not assessable"}[result.success]
    summary = (
        f"<b>P({esc(name)} &gt; {share(goal)}){_probability(result.probability_above_goal)}"
        f"</b><br>success threshold {result.threshold:g}: <b>{verdict}</b>"
    )
    # Above the plot, never over the curve: right of the legend on a fixed-width slide,
    # above it on a screen figure whose width is not known in advance.
    legend_names = [tr.name for tr in fig.data if tr.showlegend is not False]
    legend_px = len(legend_names) * th.font_size * 1.35 + 10
    box_px = 2 * th.font_size * 1.3 + 24
    # beside the legend only on a slide-wide figure: on a page the legend's long lines
    # reach the box
    beside = th.name == "presentation" and th.width >= PRESENTATION.width
    fig.add_annotation(
        x=1.0 if beside else 0.0,
        y=1.0,
        xref="paper",
        yref="paper",
        xanchor="right" if beside else "left",
        yanchor="bottom",
        yshift=6 if beside else legend_px + 4,
        align="right" if beside else "left",
        showarrow=False,
        text=summary,
        bordercolor=th.text_colour,
        borderwidth=1.5,
        borderpad=6,
        bgcolor="white",
        font={"size": th.font_size, "color": th.text_colour},
        name="verdict",
    )

    outcomes = (
        f"n = {count(result.n)}: {count(result.successes)} event-free at day "
        f"{result.day:g}, {count(result.failures)} with an event, "
        f"{count(result.missing)} censored earlier"
    )
    if result.imputed:
        outcomes += f" (outcome imputed from the {result.imputation_label})"
    else:
        outcomes += " (left out: complete cases)"
    a, b = result.prior
    notes = [
        outcomes,
        f"Beta({a:g}, {b:g}) prior",
        "filled: posterior probability above the goal",
        "hatched: 95% credible interval",
    ]
    footnote = result.provenance.footnote()
    caption_text, caption_px = caption(notes, footnote, th)
    top_px = (th.title_size * 2.0 if title else th.font_size * 0.6) + (
        max(legend_px, box_px) if beside else legend_px + box_px
    )
    axis_px = th.tick_size * 1.5 + th.font_size * 1.9 + 6
    left = th.tick_size * 3.2 + th.font_size * 1.8
    add_caption(fig, caption_text, th, left, axis_px)

    plot_share = 0.35 if th.on_screen else 0.55
    layout = base_layout(th, title)
    xaxis = axis_style(th, grid=False)
    xaxis.update(range=x_range, ticksuffix="%")
    xaxis["title"]["text"] = f"{esc(name)} at {at}"
    yaxis = axis_style(th)
    yaxis.update(rangemode="tozero", range=[0, 1.12 * peak], fixedrange=True)
    yaxis["title"]["text"] = "Posterior density"
    layout.update(
        # on a page's screen the figure fits the window (the density needs less height
        # than a slide gives it)
        height=int(max(th.height, top_px + caption_px + axis_px + plot_share * th.height)),
        xaxis=xaxis,
        yaxis=yaxis,
        margin={
            "l": left,
            "r": 30,
            "t": top_px,
            "b": caption_px + 8 + axis_px,
            "autoexpand": False,
        },
        legend={
            "orientation": "v",
            "x": 0.0,
            "y": 1.0,
            "xanchor": "left",
            "yanchor": "bottom",
            "yref": "paper",
            "font": {"size": th.font_size},
            "traceorder": "normal",
            "itemwidth": 50,
        },
        meta={
            "footnote": footnote,
            "kind": "posterior",
            "title": title or name,
            "summary": [
                {"section": "summary", "series": "goal", "value": goal},
                {
                    "section": "summary",
                    "series": "probability above goal",
                    "value": result.probability_above_goal,
                },
                {"section": "summary", "series": "success threshold", "value": result.threshold},
                {"section": "summary", "series": "posterior mean", "value": result.posterior_mean},
                {"section": "summary", "series": "credible interval lower", "value": lo},
                {"section": "summary", "series": "credible interval upper", "value": hi},
            ],
        },
        hovermode="closest",
    )
    fig.update_layout(layout)
    return fig
