"""The traces of a step curve (Kaplan-Meier, cumulative incidence) and its censor marks.

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

from analytics.model.schema import DAYS_PER_MONTH
from charts._steps import THIN_TOL, step_band, thin_marks, thin_steps
from charts._text import esc
from charts.palette import with_alpha
from charts.theme import Theme

# censor marks closer than this (a share of the x axis, or percentage points) would print
# over one another: about a mark's width on a slide
CENSOR_X_SHARE = 1 / 120
CENSOR_Y_POINTS = 1.0

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
    """ "+" marks at censoring times on the curve, thinned where they would overlap (at
    the end of follow-up they pile up): a mark every `CENSOR_X_SHARE` of the x axis or
    `CENSOR_Y_POINTS` percentage points at most. A kept mark stands for the censorings it
    covers: its hover and CSV count them all."""
    idx = np.flatnonzero(steps.censored > 0)
    if idx.size == 0:
        return []
    xm = steps.months[idx]
    y = 100 * steps.value[idx]
    keep = thin_marks(
        xm, y, x_tol=max(x_span_months, 1e-9) * CENSOR_X_SHARE, y_tol=CENSOR_Y_POINTS
    )
    # every censoring counted on the kept mark it falls behind
    owner = np.searchsorted(keep, np.arange(idx.size), side="right") - 1
    counts = np.bincount(owner, weights=steps.censored[idx], minlength=keep.size)
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
                # under small-cell protection a count from 1 to 10 reads "<11" and
                # leaves no number behind the mark (its CSV)
                customdata=np.column_stack(
                    (steps.day[idx][sel], [np.nan if th.hides(c) else c for c in counts[sel]])
                ),
                text=[th.count(c) for c in counts[sel]],
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
                    f"{esc(label)}: %{{text}} censored from day "
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
