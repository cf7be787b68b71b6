"""Cumulative incidence of an event with a competing risk, beside 1 - Kaplan-Meier.

For limb salvage with high mortality, 1 - KM (deaths censored) overstates the risk of
amputation; the Aalen-Johansen cumulative incidence (death competing) is the real
one. Both are drawn as step curves on 0-100%, the same x axis in months.

The figure draws any object shaped like :class:`CompetingRisks` (duck-typed;
``analytics.estimators.competing.CompetingRisksResult`` is one): it reads only the attributes
listed in the protocols below and computes nothing.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np
import plotly.graph_objects as go
from numpy.typing import ArrayLike

from analytics.model.schema import DAYS_PER_MONTH
from charts._curves import Steps, curve_traces
from charts._draw import add_caption, caption, legend
from charts._risk_table import FloatArray, TableRows, add_table, table_axes
from charts._text import esc, estimable, interval, month_label, pct
from charts.palette import OKABE_ITO
from charts.survival import tick_days
from charts.theme import Mode, Theme, axis_style, base_layout, get_theme

__all__ = ["CompetingRisks", "IncidenceCurve", "IncidenceLandmark", "cif_figure"]


class FootnoteSource(Protocol):
    @property
    def method(self) -> str: ...

    def footnote(self) -> str: ...


class IncidenceLandmark(Protocol):
    @property
    def day(self) -> float: ...
    @property
    def estimate(self) -> float: ...
    @property
    def lower(self) -> float: ...
    @property
    def upper(self) -> float: ...


class IncidenceCurve(Protocol):
    """A cumulative incidence step function (proportions), from ``timeline[i]`` on."""

    @property
    def method(self) -> str: ...  # "Aalen-Johansen", "1 - Kaplan-Meier"
    @property
    def timeline(self) -> ArrayLike: ...  # days, sorted
    @property
    def estimate(self) -> ArrayLike: ...
    @property
    def lower(self) -> ArrayLike: ...  # NaN where undefined
    @property
    def upper(self) -> ArrayLike: ...
    @property
    def at_risk(self) -> ArrayLike: ...  # patients with time >= timeline[i]
    @property
    def provenance(self) -> FootnoteSource: ...

    def landmark(self, day: float) -> IncidenceLandmark: ...


class CompetingRisks(Protocol):
    """One event of interest estimated two ways, for the same patients."""

    @property
    def endpoint(self) -> str: ...
    @property
    def n(self) -> float: ...
    @property
    def aalen_johansen(self) -> IncidenceCurve: ...
    @property
    def one_minus_km(self) -> IncidenceCurve: ...
    @property
    def provenance(self) -> FootnoteSource: ...


AJ_COLOUR = OKABE_ITO[0]  # blue, solid: the estimate to read
KM_COLOUR = OKABE_ITO[1]  # vermillion, dashed: the naive one


AT_RISK = "Patients"


def _steps(curve: IncidenceCurve) -> Steps:
    return Steps.from_result(
        curve.timeline, curve.estimate, curve.lower, curve.upper, start=0.0, at_risk=curve.at_risk
    )


def cif_figure(
    result: CompetingRisks,
    *,
    event_label: str = "major amputation",
    competing_label: str = "death",
    title: str | None = None,
    x_title: str = "Months since procedure",
    tick_months: float = 3.0,
    max_months: float | None = None,
    ci: bool = True,
    ci_one_minus_km: bool = False,
    fade_below: int | None = 10,
    landmark_day: float | None = None,
    theme: Mode | Theme = "normal",
) -> go.Figure:
    """Aalen-Johansen cumulative incidence (solid) beside 1 - KM (dashed), 0-100%.

    ci: shade the Aalen-Johansen 95% CI; ci_one_minus_km: shade 1 - KM's too (off by
        default: two overlapping bands read as one).
    landmark_day: one of the curves' landmark days; both estimates with their 95% CI
        are written in the legend.
    """
    th = get_theme(theme)
    aj, km = result.aalen_johansen, result.one_minus_km
    curves = [
        (
            "Aalen-Johansen",
            aj,
            AJ_COLOUR,
            None,
            f"Cumulative incidence, {competing_label} as competing risk (Aalen-Johansen)",
        ),
        ("1 - KM", km, KM_COLOUR, "dash", f"1 − Kaplan-Meier, {competing_label} censored"),
    ]
    steps = [_steps(c) for _, c, _, _, _ in curves]
    last_day = max(float(s.day[-1]) for s in steps)
    end_m = max_months if max_months is not None else max(last_day / DAYS_PER_MONTH, 1.0)
    ticks_m = tick_days(tick_months, end_m * DAYS_PER_MONTH + 1e-6) / DAYS_PER_MONTH

    names = []
    for (_, c, _, _, long_name), _s in zip(curves, steps, strict=True):
        name = f"<b>{esc(long_name)}</b>"
        if landmark_day is not None and not th.on_screen:
            lm = c.landmark(landmark_day)
            name += (
                f"<br>{month_label(round(landmark_day / DAYS_PER_MONTH, 1))} mo: "
                f"{pct(lm.estimate)} ({interval(lm.lower, lm.upper)})"
            )
        names.append(name)

    # the axis's ticks and title, and the risk table's row label
    left = max(th.tick_size * 2.6 + th.font_size * 1.8, 0.6 * th.table_size * len(AT_RISK) + 24)
    place = legend(names, th, th.width - left - 30)
    notes = [
        f"{th.count(result.n)} patients",
        f"1 − KM treats {competing_label} as censoring and overstates the risk of "
        f"{event_label} when {competing_label} is common",
    ]
    if ci or ci_one_minus_km:
        notes.append("shaded: 95% pointwise CI")
    if fade_below is not None:
        notes.append(f"lighter: fewer than {fade_below} patients at risk")
    footnote = f"{aj.provenance.footnote()} 1 − KM: {km.provenance.method}."
    caption_text, caption_px = caption(notes, footnote, th)
    # the patients at risk under the curves, on the same ticks (one row: both estimates
    # rest on the same patients)
    table = TableRows(ticks_m, [(AT_RISK, "at risk", th.text_colour, _at_risk(aj, ticks_m))])
    row_px = th.table_row_px
    header_px, table_px = row_px * 1.1, row_px
    top_px = (th.title_size * 2.0 if title else th.font_size * 0.6) + place.top_px
    axis_px = th.tick_size * 1.5 + th.font_size * 1.9 + 6
    bottom_px = caption_px + 8
    height = int(
        max(th.height, top_px + bottom_px + axis_px + header_px + table_px + 0.4 * th.height)
    )
    inner = height - top_px - bottom_px
    plot_bottom = (table_px + header_px + axis_px) / inner

    fig = go.Figure()
    bands = (ci, ci_one_minus_km)
    for (series, _c, colour, dash, _), s, name, band in zip(
        curves, steps, names, bands, strict=True
    ):
        fig.add_traces(
            curve_traces(
                s,
                label=series,
                colour=colour,
                th=th,
                legend_name=name,
                series="cumulative incidence",
                value_name=f"Cumulative incidence of {event_label}",
                ci=band,
                fade_below=fade_below,
                dash=dash,
            )
        )
    if landmark_day is not None:
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
        for i, ((series, c, colour, _, _), _s) in enumerate(zip(curves, steps, strict=True)):
            lm = c.landmark(landmark_day)
            ok = estimable(lm.lower, lm.upper)
            err = (
                {
                    "type": "data",
                    "symmetric": False,
                    "array": np.array([100 * (lm.upper - lm.estimate)]),
                    "arrayminus": np.array([100 * (lm.estimate - lm.lower)]),
                    "color": colour,
                    "thickness": max(1.5, th.line_width * 0.6),
                    "width": th.marker_size * 0.5,
                }
                if ok
                else {"visible": False}
            )
            fig.add_trace(
                go.Scatter(
                    x=np.array([lm_m + (i - 0.5) * 0.012 * end_m]),
                    y=np.array([100 * lm.estimate]),
                    customdata=np.array([[landmark_day, 100 * lm.lower, 100 * lm.upper]]),
                    mode="markers",
                    error_y=err,
                    marker={
                        "symbol": "diamond",
                        "size": th.marker_size * 1.3,
                        "color": colour,
                        "line": {"color": "white", "width": 1.5},
                    },
                    hovertemplate=(
                        f"{esc(series)} at day %{{customdata[0]:.0f}}: %{{y:.1f}}% "
                        + (
                            "(95% CI %{customdata[1]:.1f}–%{customdata[2]:.1f})"
                            if ok
                            else "(95% CI not estimable)"
                        )
                        + "<extra></extra>"
                    ),
                    showlegend=False,
                    legendgroup=series,
                    name=f"{series} landmark",
                    meta={
                        "csv": {
                            "section": "landmark",
                            "group": series,
                            "series": "estimate",
                            "x": None,
                            "y": "percent",
                            "columns": ["day", "lower_percent", "upper_percent"],
                        }
                    },
                )
            )
    add_table(fig, table, th, table_events=False)
    add_caption(fig, caption_text, th, left, 8)

    layout = base_layout(th, title)
    xaxis = axis_style(th)
    x_pad = 0.015 * end_m
    xaxis.update(
        range=[-x_pad, end_m + x_pad],
        tickmode="array",
        tickvals=ticks_m,
        ticktext=[month_label(m) for m in ticks_m],
        showgrid=False,
        anchor="y",
    )
    xaxis["title"]["text"] = esc(x_title)
    yaxis = axis_style(th)
    top, step = _y_scale(curves)
    yaxis.update(
        range=[-0.02 * top, 1.02 * top],
        tickmode="array",
        tickvals=np.arange(0, top + 1, step),
        ticktext=[str(v) for v in range(0, top + 1, step)],
        domain=[plot_bottom, 1.0],
        anchor="x",
        fixedrange=True,
    )
    yaxis["title"]["text"] = f"Cumulative incidence of {esc(event_label)} (%)"
    layout.update(
        height=height,
        xaxis=xaxis,
        yaxis=yaxis,
        margin=place.margin(left, top_px, bottom_px),
        legend=place.settings,
        meta={
            "footnote": footnote,
            "kind": "cumulative-incidence",
            "title": title or f"Cumulative incidence of {event_label}",
        },
        hovermode="closest",
    )
    layout.update(table_axes(ticks_m, 1, table_px, inner))
    fig.update_layout(layout)
    return fig


def _at_risk(curve: IncidenceCurve, ticks_m: FloatArray) -> FloatArray:
    """Patients still followed at each tick: those whose time is on or after it."""
    days = np.asarray(curve.timeline, dtype=np.float64)
    at_risk = np.asarray(curve.at_risk, dtype=np.float64)
    pos = np.searchsorted(days, ticks_m * DAYS_PER_MONTH - 1e-9)
    return np.where(pos < days.size, at_risk[np.minimum(pos, days.size - 1)], 0.0)


def _y_scale(curves: list[tuple[str, IncidenceCurve, str, str | None, str]]) -> tuple[int, int]:
    """The percent axis's top and tick step: the curves and their intervals with room
    above, to the next 10% (a risk of 25% drawn on 0-100% leaves the figure empty)."""
    highest = 0.0
    for _, c, *_ in curves:
        for values in (c.estimate, c.upper):
            finite = np.asarray(values, dtype=np.float64)
            finite = finite[np.isfinite(finite)]
            if finite.size:
                highest = max(highest, float(finite.max()))
    top = int(min(100, max(20, 10 * math.ceil(11.5 * highest))))
    return top, (10 if top <= 60 else 20)
