"""Funnel plot of a site comparison (:class:`analytics.analyses.sites.SiteComparison`).

x: patients of known status at the site (the proportion's denominator); y: the
site's proportion in percent. A thick black line marks the target (the pooled
proportion or a benchmark), thin grey dashed lines the 95% limits and thin grey solid
lines the 99.8% limits (the usual audit convention), each drawn along every
denominator so the funnel narrows smoothly. Sites are coloured by
where they fall (within, beyond 95%, beyond 99.8%: Okabe-Ito blue, orange,
vermillion); sites with too few patients of known status to judge are hollow grey
circles, explained in the legend. Hovering a site names it with its patients, known
and unknown status, numerator and 95% CI. Nothing is computed here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go

from analytics.analyses.sites import SiteComparison, SiteRow
from charts._draw import finish_layout
from charts._text import count, esc
from charts.palette import INK, MUTED
from charts.theme import Mode, Theme, axis_style, get_theme

__all__ = ["GROUP_COLOURS", "funnel_figure"]

# Where a judged site falls, and its colour; small sites are hollow and grey.
GROUP_COLOURS: dict[str, str] = {
    "within": "#0072B2",  # blue
    "beyond 95%": "#E69F00",  # orange
    "beyond 99.8%": "#D55E00",  # vermillion
}
SMALL_COLOUR = MUTED
LIMIT_DASH = {0.95: "dash", 0.998: "solid"}


def _group(row: SiteRow) -> str:
    if row.small:
        return "small"
    if row.position in ("above 99.8%", "below 99.8%"):
        return "beyond 99.8%"
    if row.position in ("above 95%", "below 95%"):
        return "beyond 95%"
    return "within"


def _legend_name(group: str, res: SiteComparison) -> str:
    return {
        "within": "Site within the 95% limits",
        "beyond 95%": "Site beyond the 95% limits",
        "beyond 99.8%": "Site beyond the 99.8% limits",
        "small": f"Site with under {res.min_n} of known status:<br>too few to judge (hollow)",
    }[group]


def _what(res: SiteComparison) -> str:
    return "with a major amputation" if res.outcome.counts_events else "alive without amputation"


# The sites outside the limits (the ones a committee asks about) are named beside their
# point; naming every site would print names over one another where sites of the same
# size and proportion meet (the hover names every site).


def _site_trace(rows: list[SiteRow], group: str, res: SiteComparison, th: Theme) -> go.Scatter:
    x = np.array([r.known for r in rows], dtype=np.float64)
    y = np.array([100 * (r.proportion or 0.0) for r in rows], dtype=np.float64)
    custom = np.array(
        [
            [
                r.n,
                r.unknown,
                r.numerator,
                100 * r.lower if r.lower is not None else np.nan,
                100 * r.upper if r.upper is not None else np.nan,
            ]
            for r in rows
        ],
        dtype=np.float64,
    ).reshape(len(rows), 5)
    small = group == "small"
    colour = SMALL_COLOUR if small else GROUP_COLOURS[group]
    marker: dict[str, Any] = {
        "size": th.marker_size + 2,
        "color": colour,
        "symbol": "circle-open" if small else "circle",
        "line": {"color": colour if small else "#FFFFFF", "width": 2 if small else 1},
    }
    named = group.startswith("beyond")
    return go.Scatter(
        x=x,
        y=y,
        mode="markers+text" if named else "markers",
        textposition="middle right",
        textfont={"size": th.tick_size, "color": colour},
        name=_legend_name(group, res),
        marker=marker,
        text=np.array([r.label for r in rows], dtype=object),
        hovertext=np.array([r.flag for r in rows], dtype=object),
        customdata=custom,
        hovertemplate=(
            "<b>Site %{text}</b><br>%{customdata[2]:.0f} of %{x:.0f} of known status "
            f"{_what(res)} (%{{y:.1f}}%)<br>95% CI %{{customdata[3]:.1f}}–"
            "%{customdata[4]:.1f}%<br>%{customdata[0]:.0f} patients, "
            "%{customdata[1]:.0f} of unknown status<br>%{hovertext}<extra></extra>"
        ),
        meta={
            "csv": {
                "section": "site",
                "group": group,
                "series": "site",
                "x": "known_status",
                "y": "percent",
                "text": "site",
                "columns": ["patients", "unknown_status", "numerator", "ci_lower", "ci_upper"],
            }
        },
    )


def _target_name(res: SiteComparison) -> str:
    share = f"{100 * (res.target or 0.0):.1f}%"
    return f"Pooled proportion {share}" if res.target_kind == "pooled" else f"Benchmark {share}"


def funnel_figure(
    res: SiteComparison,
    *,
    title: str | None = None,
    theme: Mode | Theme = "normal",
) -> go.Figure:
    """The funnel plot of `res`; sites without a patient of known status are left out
    (the caption counts them)."""
    th = get_theme(theme)
    fig = go.Figure()
    names: list[str] = []
    if res.target is not None and res.limits:
        grid = res.limits[0].n
        fig.add_trace(
            go.Scatter(
                x=np.array([grid[0], grid[-1]], dtype=np.float64),
                y=np.full(2, 100 * res.target, dtype=np.float64),
                mode="lines",
                line={"color": INK, "width": th.line_width},
                name=_target_name(res),
                hoverinfo="skip",
                meta={
                    "csv": {
                        "section": "target",
                        "group": res.target_kind,
                        "series": "target",
                        "x": "known_status",
                        "y": "percent",
                    }
                },
            )
        )
        names.append(_target_name(res))
        for curve in sorted(res.limits, key=lambda c: c.level):
            label = f"{100 * curve.level:g}% limits"
            for side, values in (("lower", curve.lower), ("upper", curve.upper)):
                fig.add_trace(
                    go.Scatter(
                        x=curve.n,
                        y=100 * values,
                        mode="lines",
                        line={
                            "color": MUTED,
                            "width": max(1.5, th.line_width * 0.6),
                            "dash": LIMIT_DASH.get(curve.level, "dot"),
                        },
                        name=label,
                        legendgroup=label,
                        showlegend=side == "upper",
                        hovertemplate=f"{label}, {side}: %{{y:.1f}}% at n = %{{x:.0f}}"
                        "<extra></extra>",
                        meta={
                            "csv": {
                                "section": "limit",
                                "group": f"{100 * curve.level:g}%",
                                "series": side,
                                "x": "known_status",
                                "y": "percent",
                            }
                        },
                    )
                )
            names.append(label)
    plotted = [r for r in res.sites if r.proportion is not None]
    for group in ("within", "beyond 95%", "beyond 99.8%", "small"):
        rows = [r for r in plotted if _group(r) == group]
        if rows:
            fig.add_trace(_site_trace(rows, group, res, th))
            names.append(_legend_name(group, res))

    notes = [
        f"y: share of each site's patients of known status at day {res.landmark:g} {_what(res)}"
    ]
    unknown = res.unknown
    notes.append(
        f"{th.count(unknown)} of {count(res.n)} patients at the sites are of unknown status "
        "(censored before the day or without a record) and are not in any denominator"
    )
    hidden = len(res.sites) - len(plotted)
    if hidden:
        notes.append(f"{hidden} site(s) with no patient of known status are not drawn")
    if res.no_site:
        notes.append(
            f"{th.count(res.no_site)} patients without a site identifier are not compared"
        )
    notes.append(
        "limits: exact binomial (Spiegelhalter 2005)"
        if res.method == "exact"
        else "limits: normal approximation to the binomial"
    )
    _layout(fig, res, th, title, notes, names)
    return fig


def _axis_title(res: SiteComparison) -> str:
    return (
        "Major amputation (%)"
        if res.outcome.counts_events
        else "Alive without major amputation (%)"
    )


def _layout(
    fig: go.Figure,
    res: SiteComparison,
    th: Theme,
    title: str | None,
    notes: list[str],
    names: list[str],
) -> None:
    finish_layout(
        fig,
        th,
        title=title,
        notes=notes,
        footnote=res.provenance.footnote(),
        legend_names=names or ["no sites"],
        kind="funnel",
        plot_share=0.5,
    )
    top = float(res.limits[0].n[-1]) if res.limits else max((r.known for r in res.sites), default=1)
    xaxis = axis_style(th, grid=False)
    xaxis.update(range=[0, top], rangemode="tozero")
    xaxis["title"]["text"] = "Patients of known status at the site"
    fig.update_xaxes(**xaxis)
    yaxis = axis_style(th)
    yaxis.update(range=[-2, 102], tickvals=list(range(0, 101, 20)))
    yaxis["title"]["text"] = esc(_axis_title(res))
    fig.update_yaxes(**yaxis)
