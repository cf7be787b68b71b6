"""The at-risk table under a Kaplan-Meier figure, on exactly the curves' x ticks.

The table is a second pair of axes sharing the x axis of the curves: one row per group
(and, KMunicate style, its cumulative events and censorings), each number written at a
tick of the curves. The numbers are the result's own ``risk_table``; a tick the result
has no number for shows "–", so results meant for a figure are computed with
``risk_days=tick_days(...)``. Nothing is counted here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go
from numpy.typing import NDArray

from analytics.estimators.km import KMResult
from analytics.model.schema import DAYS_PER_MONTH
from charts._text import esc
from charts.theme import Theme

FloatArray = NDArray[np.float64]


def tick_days(tick_months: float, end_day: float) -> FloatArray:
    """Days of the x ticks every `tick_months` months from 0 to `end_day`.

    Pass these as ``risk_days`` to ``KaplanMeier.result`` so the result's at-risk table
    has a number at every tick of the figure, for every group.
    """
    if tick_months <= 0:
        raise ValueError("tick_months must be positive")
    step = tick_months * DAYS_PER_MONTH
    return np.arange(0.0, end_day + 1e-9 * max(1.0, end_day), step)


@dataclass(frozen=True)
class TableRows:
    """The at-risk table as drawn: one row per (group, series)."""

    ticks_m: FloatArray  # months
    rows: list[tuple[str, str, str, FloatArray]]  # group, series, colour, values (NaN: none)


def _table_values(res: KMResult, ticks_day: FloatArray) -> tuple[FloatArray, ...]:
    days = np.asarray(res.risk_table.days, dtype=np.float64)
    cols = (
        res.risk_table.at_risk,
        res.risk_table.cumulative_events,
        res.risk_table.cumulative_censored,
    )
    out = []
    for col in cols:
        vals = np.full(ticks_day.size, np.nan)
        if days.size:
            pos = np.clip(np.searchsorted(days, ticks_day), 0, days.size - 1)
            hit = np.isclose(days[pos], ticks_day, rtol=0, atol=1e-6)
            vals[hit] = np.asarray(col, dtype=np.float64)[pos[hit]]
        out.append(vals)
    return tuple(out)


def table_ticks(
    pairs: list[tuple[str, KMResult]], tick_months: float | None, end_m: float
) -> FloatArray:
    if tick_months is not None:
        return tick_days(tick_months, end_m * DAYS_PER_MONTH + 1e-6) / DAYS_PER_MONTH
    days = np.unique(np.concatenate([np.asarray(r.risk_table.days, float) for _, r in pairs]))
    months = days / DAYS_PER_MONTH
    months = months[months <= end_m + 1e-9]
    if months.size < 2:
        return tick_days(3.0, end_m * DAYS_PER_MONTH + 1e-6) / DAYS_PER_MONTH
    return months


def table_rows(
    pairs: list[tuple[str, KMResult]],
    ticks_m: FloatArray,
    colours: dict[str, str],
    table_events: bool,
) -> TableRows:
    """The rows drawn: at risk per group, with events and censored when asked."""
    rows: list[tuple[str, str, str, FloatArray]] = []
    tick_d = ticks_m * DAYS_PER_MONTH
    for lab, res in pairs:
        at, ev, ce = _table_values(res, tick_d)
        rows.append((lab, "at risk", colours[lab], at))
        if table_events:
            rows.append((lab, "events", colours[lab], ev))
            rows.append((lab, "censored", colours[lab], ce))
    return TableRows(ticks_m, rows)


def add_table(fig: go.Figure, table: TableRows, th: Theme, table_events: bool) -> None:
    """The table's numbers as text traces on the second axes, its labels and header."""
    for r, (lab, series, colour, vals) in enumerate(table.rows):
        text = np.array(["–" if not np.isfinite(v) else th.count(v) for v in vals])
        # a withheld count leaves no number behind the figure either (its CSV)
        shown = np.where([np.isfinite(v) and th.hides(v) for v in vals], np.nan, vals)
        fig.add_trace(
            go.Scatter(
                x=table.ticks_m,
                y=np.full(table.ticks_m.size, float(r)),
                text=text,
                customdata=np.column_stack((table.ticks_m * DAYS_PER_MONTH, shown)),
                mode="text",
                textposition="middle center",
                cliponaxis=False,
                textfont={"size": th.table_size, "color": colour, "family": th.font_family},
                hoverinfo="skip",
                showlegend=False,
                name=f"{lab} {series}",
                xaxis="x2",
                yaxis="y2",
                meta={
                    "csv": {
                        "section": "risk table",
                        "group": lab,
                        "series": series,
                        "x": "month",
                        "y": None,
                        "columns": ["day", "count"],
                    }
                },
            )
        )
        label = f"<b>{esc(lab)}</b>" if series == "at risk" else series.capitalize()
        if series == "at risk" and table_events:
            label = f"<b>{esc(lab)}</b> at risk"
        fig.add_annotation(
            x=0,
            y=r,
            xref="paper",
            yref="y2",
            xanchor="right",
            showarrow=False,
            xshift=-10,
            text=label,
            font={"size": th.table_size, "color": colour},
        )
    header = "Number at risk, cumulative events and censored" if table_events else "Number at risk"
    fig.add_annotation(
        x=0,
        y=-0.5,
        xref="paper",
        yref="y2",
        xanchor="left",
        yanchor="bottom",
        showarrow=False,
        text=f"<b>{header}</b>",
        font={"size": th.table_size, "color": th.text_colour},
        align="left",
    )


def table_axes(ticks_m: FloatArray, n_rows: int, table_px: float, inner: float) -> dict[str, Any]:
    """The second pair of axes the table is written on, under the curves."""
    return {
        "xaxis2": {
            "matches": "x",
            "anchor": "y2",
            "tickmode": "array",
            "tickvals": ticks_m,
            "showticklabels": False,
            "showline": False,
            "ticks": "",
            "showgrid": False,
            "zeroline": False,
        },
        "yaxis2": {
            "domain": [0.0, table_px / inner],
            "range": [n_rows - 0.5, -0.5],
            "visible": False,
            "fixedrange": True,
            "anchor": "x2",
        },
    }
