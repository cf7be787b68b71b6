"""The cohort beside the published evidence: a forest-style plot of proportions.

One panel per endpoint and time point (``analytics.analyses.evidence.panels``), each a block of
rows under a shaded header: every published figure at that month (studies, then
reference rates) with its 95% interval where the source gave one, then the cohort's
Kaplan-Meier estimate with its own CI, drawn as a black square (one per group when
groups are compared). The performance goal is a dashed line on the one panel it
applies to. Rows are named by the study id; the hover adds design, n, method and the
citation. Figures the panels cannot hold (other endpoints, no time point) are named in
the caption, so every entry of the file appears on the figure.

Nothing is estimated here: the published numbers come from the file as read by
``analytics.analyses.evidence``, the cohort's from its Kaplan-Meier results.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import plotly.graph_objects as go

from analytics.analyses.evidence import (
    SHOWN_ENDPOINTS,
    CohortPoint,
    Evidence,
    Outcome,
    Panel,
    Study,
    goal_sources,
    not_drawn,
    panels,
)
from analytics.estimators.km import CI_LABELS
from analytics.model.schema import ENDPOINTS
from charts._draw import add_caption, caption, legend
from charts._text import count, esc, interval, month_label, pct, share, wrap
from charts.palette import GOAL_COLOUR, INK, MUTED, OKABE_ITO
from charts.theme import Mode, Theme, axis_style, base_layout, get_theme

__all__ = ["COHORT_NAME", "evidence_figure"]

COHORT_NAME = "This dashboard's cohort"
# Kinds of study take colours in file order; vermillion is the goal's and black the
# cohort's, so neither marks a published figure.
KIND_COLOURS = tuple(c for c in OKABE_ITO if c not in (GOAL_COLOUR, "#000000"))
KIND_SYMBOLS = ("circle", "triangle-up", "diamond", "hexagon", "star", "pentagon")
REFERENCE_NAME = "Reference rate or goal (no DVA)"


@dataclass(frozen=True)
class _Point:
    y: int  # row
    value: float
    lower: float  # NaN: no interval
    upper: float
    months: float
    n: float  # NaN: not given
    text: str  # the study id, or the cohort's name
    hover: str


@dataclass
class _Series:
    name: str
    section: str  # "published", "reference rate", "cohort" (the CSV's section)
    marker: dict[str, Any]
    points: dict[Panel, list[_Point]] = field(default_factory=dict)


@dataclass
class _Rows:
    ticks: list[str] = field(default_factory=list)
    # right column; muted: why there is no estimate, written across the empty row
    values: list[tuple[str, bool]] = field(default_factory=list)
    headers: list[int] = field(default_factory=list)
    spans: dict[Panel, tuple[int, int]] = field(default_factory=dict)

    def add(self, tick: str, value: str = "", muted: bool = False) -> int:
        self.ticks.append(tick)
        self.values.append((value, muted))
        return len(self.ticks) - 1


def _label(code: str, labels: Mapping[str, str] | None) -> str:
    return (ENDPOINTS if labels is None else labels).get(code, code)


def _title(panel: Panel, labels: Mapping[str, str] | None) -> str:
    m = month_label(panel.months)
    return f"{_label(panel.endpoint, labels)} at {m} month{'' if m == '1' else 's'}"


def _value_text(value: float, ci: tuple[float | None, float | None] | None) -> str:
    if ci is None:
        return pct(value)
    lo, hi = ci
    if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)):
        return f"{pct(value)} (CI not estimable)"
    return f"{pct(value)} ({100 * lo:.1f}–{100 * hi:.1f})"


def _published_hover(study: Study, o: Outcome, title: str) -> str:
    facts = [study.design] if study.design else []
    if study.year is not None:
        facts.append(str(study.year))
    if study.n is not None:
        facts.append(f"n = {count(study.n)}")
    lines = [f"<b>{esc(study.id)}</b> · {esc(study.kind)}"]
    if facts:
        lines.append(wrap("; ".join(facts), 70))
    # the file marks a Bayesian interval as credible in its method
    kind = "CrI" if "credible" in (o.method or "") else "CI"
    ci = "" if o.ci is None else f" (95% {kind} {100 * o.ci[0]:.1f}–{100 * o.ci[1]:.1f})"
    lines.append(f"{esc(title)}: {pct(o.value)}{ci}")
    extra = [x for x in (o.method, f"subset: {o.subset}" if o.subset else None) if x]
    if extra:
        lines.append(wrap("; ".join(extra), 70))
    lines.append(wrap(f"Source: {study.source}", 70))
    return "<br>".join(lines)


def _cohort_hover(p: CohortPoint, name: str, title: str) -> str:
    return (
        f"<b>{esc(name)}</b><br>{esc(title)}: Kaplan-Meier at day {p.day:g}<br>"
        f"{pct(p.estimate)} ({interval(p.lower, p.upper)}, {p.ci_type})<br>"
        f"{count(p.at_risk)} at risk at day {p.day:g}; {count(p.n)} patients"
    )


def _plain_px(text: str, size: float) -> float:
    plain = re.sub(r"<[^>]+>", "", text).replace("&lt;", "<").replace("&gt;", ">")
    return len(plain.replace("&amp;", "&")) * size * 0.56


def _series(
    evidence: Evidence,
    cohort: Sequence[CohortPoint],
    th: Theme,
    cohort_name: str,
    group_names: Mapping[str, str],
    group_colours: Mapping[str, str],
) -> dict[str, _Series]:
    """Every series that may be drawn, in legend order: kinds of study in file order,
    reference rates, the cohort, its groups."""
    out: dict[str, _Series] = {}
    kinds = list(dict.fromkeys(s.kind for s in evidence.studies))
    for i, kind in enumerate(kinds):
        marker = {
            "symbol": KIND_SYMBOLS[i % len(KIND_SYMBOLS)],
            "size": th.marker_size,
            "color": KIND_COLOURS[i % len(KIND_COLOURS)],
            "line": {"color": INK, "width": 1},
        }
        out[f"kind:{kind}"] = _Series(f"Published: {kind}", "published", marker)
    grey = {"symbol": "diamond-open", "size": th.marker_size, "color": MUTED}
    out["reference"] = _Series(REFERENCE_NAME, "reference rate", {**grey, "line": {"width": 2}})
    groups = [cohort_name, *dict.fromkeys(p.group for p in cohort if p.group is not None)]
    for i, group in enumerate(groups):
        name = group if i == 0 else group_names.get(group, group)
        marker = {
            "symbol": "square",
            "size": th.marker_size * 1.3,
            "color": INK if i == 0 else group_colours.get(group, INK),
            "line": {"color": INK, "width": 1.5},
        }
        out["cohort" if i == 0 else f"group:{group}"] = _Series(name, "cohort", marker)
    return out


def _fill(
    shown: Sequence[Panel],
    titles: Mapping[Panel, str],
    evidence: Evidence,
    cohort: Sequence[CohortPoint],
    series: dict[str, _Series],
    cohort_row: str,
) -> _Rows:
    """The rows of every panel, each point put into its series."""
    rows = _Rows()
    for panel in shown:
        first = rows.add(f"<b>{esc(titles[panel])}</b>")
        rows.headers.append(first)
        points = panel.points(evidence)
        per_study = {s.id: sum(1 for t, _ in points if t.id == s.id) for s, _ in points}
        for study, o in points:
            name = study.id
            if per_study[study.id] > 1 and o.method:
                name += f" · {o.method.split(',')[0].strip()}"
            if o.subset:
                name += f" ({o.subset})"
            y = rows.add(esc(name), _value_text(o.value, o.ci))
            lo, hi = o.ci or (np.nan, np.nan)
            assert o.months is not None  # panels hold dated figures only
            n = np.nan if study.n is None else float(study.n)
            hover = _published_hover(study, o, titles[panel])
            key = "reference" if study.reference else f"kind:{study.kind}"
            point = _Point(y, o.value, lo, hi, o.months, n, study.id, hover)
            series[key].points.setdefault(panel, []).append(point)
        for p in cohort:
            if (p.endpoint, p.months) != (panel.endpoint, panel.months):
                continue
            key = "cohort" if p.group is None else f"group:{p.group}"
            name = series[key].name
            tick = esc(cohort_row) if p.group is None else f"   {esc(name)}"
            if p.estimate is None:
                rows.add(tick, esc(p.reason or "no estimate"), muted=True)
                continue
            y = rows.add(tick, _value_text(p.estimate, (p.lower, p.upper)))
            lo, hi = (np.nan if x is None else x for x in (p.lower, p.upper))
            hover = _cohort_hover(p, name, titles[panel])
            point = _Point(y, p.estimate, lo, hi, p.months, p.n, name, hover)
            series[key].points.setdefault(panel, []).append(point)
        rows.spans[panel] = (first, len(rows.ticks) - 1)
    return rows


def _traces(
    fig: go.Figure, series: dict[str, _Series], titles: Mapping[Panel, str], th: Theme
) -> None:
    # one trace per series and panel, so the CSV names the panel of every number
    for key, s in series.items():
        for i, (panel, points) in enumerate(s.points.items()):
            x = 100 * np.array([r.value for r in points])
            lo = 100 * np.array([r.lower for r in points])
            hi = 100 * np.array([r.upper for r in points])
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=np.array([float(r.y) for r in points]),
                    mode="markers",
                    marker=s.marker,
                    error_x={
                        "type": "data",
                        "symmetric": False,
                        "array": hi - x,
                        "arrayminus": x - lo,
                        "color": s.marker["color"] if s.section == "cohort" else INK,
                        "thickness": max(1.5, th.line_width * 0.6),
                        "width": th.marker_size * 0.5,
                    },
                    text=np.array([r.text for r in points], dtype=object),
                    hovertext=np.array([r.hover for r in points], dtype=object),
                    hovertemplate="%{hovertext}<extra></extra>",
                    customdata=np.column_stack(
                        ([r.months for r in points], lo, hi, [r.n for r in points])
                    ).astype(float),
                    name=s.name,
                    legendgroup=key,
                    showlegend=i == 0,
                    meta={
                        "csv": {
                            "section": s.section,
                            "group": s.name,
                            "series": titles[panel],
                            "x": "percent",
                            "y": None,
                            "text": "study",
                            "columns": ["months", "lower_percent", "upper_percent", "n"],
                        }
                    },
                )
            )


def _goal(
    fig: go.Figure, evidence: Evidence, panel: Panel, span: tuple[int, int], goal: float, th: Theme
) -> None:
    top, bottom = span
    sources = goal_sources(evidence, goal, panel.months, panel.endpoint)
    cited = f" ({', '.join(s.id for s in sources)})" if sources else ""
    fig.add_shape(
        type="line",
        x0=100 * goal,
        x1=100 * goal,
        y0=top + 0.5,
        y1=bottom + 0.5,
        xref="x",
        yref="y",
        line={"color": GOAL_COLOUR, "width": max(1.5, th.line_width * 0.6), "dash": "dash"},
        name="goal",
    )
    fig.add_annotation(
        x=100 * goal,
        y=top,
        xref="x",
        yref="y",
        xanchor="left",
        yanchor="middle",
        xshift=4,
        showarrow=False,
        text=f"Performance goal {share(goal)}{esc(cited)}",
        font={"size": th.table_size, "color": GOAL_COLOUR},
        name="goal",
    )


def evidence_figure(
    evidence: Evidence,
    cohort: Sequence[CohortPoint] = (),
    *,
    labels: Mapping[str, str] | None = None,
    endpoints: Sequence[str] = SHOWN_ENDPOINTS,
    cohort_name: str = COHORT_NAME,
    cohort_row: str = COHORT_NAME,
    group_names: Mapping[str, str] | None = None,
    group_colours: Mapping[str, str] | None = None,
    goal: float | None = None,
    goal_day: float | None = None,
    footnote: str = "",
    title: str | None = None,
    theme: Mode | Theme = "normal",
) -> go.Figure:
    """Forest-style plot of the published proportions and the cohort's estimates.

    labels: endpoint code -> clinical name (default the schema's names).
    cohort: the cohort's points (``analytics.analyses.evidence.cohort_points``); `cohort_name`
        names the whole cohort in the legend and hover, `cohort_row` on its rows;
        `group_names` and `group_colours` are keyed by the groups' levels.
    goal, goal_day: the performance goal for amputation-free survival, drawn on the
        AFS panel at that day only.
    footnote: the cohort's provenance, printed under the figure.
    """
    th = get_theme(theme)
    shown = panels(evidence, endpoints)
    titles = {p: _title(p, labels) for p in shown}
    series = _series(evidence, cohort, th, cohort_name, group_names or {}, group_colours or {})
    rows = _fill(shown, titles, evidence, cohort, series, cohort_row)
    fig = go.Figure()
    _traces(fig, series, titles, th)
    for i in rows.headers:
        fig.add_hrect(
            y0=i - 0.5, y1=i + 0.5, fillcolor="rgba(0,0,0,0.05)", line_width=0, layer="below"
        )
    days = sorted({(p.months, p.day) for p in shown})
    notes = [
        "Points: published figures as reported, lines: their 95% interval where the source "
        "gave one; squares: the cohort's Kaplan-Meier estimate at the panel's month ("
        + ", ".join(f"{month_label(m)} mo = day {d:g}" for m, d in days)
        + ") with its 95% CI"
    ]
    ci_types = sorted({p.ci_type for p in cohort if p.ci_type is not None})
    if ci_types:
        notes.append("cohort CI: " + "; ".join(CI_LABELS[c] for c in ci_types))
    goal_panel = next((p for p in shown if p.endpoint == "AFS" and p.day == goal_day), None)
    if goal is not None and goal_panel is not None:
        _goal(fig, evidence, goal_panel, rows.spans[goal_panel], goal, th)
    elif goal is not None and goal_day is not None:
        notes.append(
            f"the performance goal ({share(goal)}) is set for day {goal_day:g}, which no "
            "amputation-free survival panel shows"
        )
    left_out = not_drawn(evidence, endpoints)
    if left_out:
        listed = "; ".join(
            f"{s.id}: {_label(o.endpoint, labels).lower()} "
            + (f"at {month_label(o.months)} months" if o.months is not None else "(no time point)")
            for s, o in left_out
        )
        notes.append(f"In the table only: {listed}")

    column = {"x": 1.0, "xref": "paper", "xanchor": "left", "xshift": 10, "showarrow": False}
    across = {"x": 0.5, "xref": "paper", "xanchor": "center", "showarrow": False}
    for i, (text, muted) in enumerate(rows.values):
        font = {"size": th.table_size, "color": th.muted_colour if muted else th.text_colour}
        if text:
            fig.add_annotation(
                y=i,
                text=f"<i>{text}</i>" if muted else text,
                font=font,
                **(across if muted else column),
            )
    n_rows = len(rows.ticks)
    left = max(_plain_px(t, th.tick_size) for t in rows.ticks) + 20
    right = max([_plain_px(t, th.table_size) for t, m in rows.values if not m] + [40.0]) + 24
    drawn = [s.name for s in series.values() if s.points]
    # one entry a row in both modes: a wrapped horizontal legend sizes every entry as
    # the longest (the cohort's), which the helper's estimate does not foresee
    legend_settings, legend_px = legend(drawn, replace(th, name="normal"), th.width)
    caption_text, caption_px = caption(notes, footnote, th)
    title_px = th.title_size * 2.0 if title else th.font_size * 0.6
    top_px = title_px + legend_px + 8
    axis_px = th.tick_size * 2.0 + th.font_size * 2.4 + 10
    height = int(top_px + n_rows * th.table_row_px * 1.1 + axis_px + caption_px + 16)
    add_caption(fig, caption_text, th, left, axis_px)
    layout = base_layout(th, title)
    xaxis = axis_style(th)
    xaxis.update(range=[0, 100], dtick=10, ticksuffix="%", fixedrange=True)
    xaxis["title"]["text"] = "Patients free of the event (%), 95% interval"
    legend_settings.update(yref="container", y=1 - title_px / height, yanchor="top")
    layout.update(
        height=height,
        xaxis=xaxis,
        yaxis={
            "range": [n_rows - 0.5, -0.5],
            "tickmode": "array",
            "tickvals": list(range(n_rows)),
            "ticktext": rows.ticks,
            "tickfont": {"size": th.tick_size, "color": th.text_colour},
            "showline": False,
            "ticks": "",
            "showgrid": False,
            "zeroline": False,
            "fixedrange": True,
        },
        legend=legend_settings,
        margin={"l": left, "r": right, "t": top_px, "b": axis_px + caption_px + 8},
        meta={"footnote": footnote, "kind": "evidence", "title": title or "Published evidence"},
        hovermode="closest",
    )
    layout["margin"]["autoexpand"] = False
    fig.update_layout(layout)
    return fig
