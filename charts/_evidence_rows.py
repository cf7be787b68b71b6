"""The rows of the evidence figure: which published figure and cohort estimate sits where.

Each panel (an endpoint at a time point) is a shaded header row, then one row per
published figure at that month (studies, then reference rates) and one per cohort
estimate (the whole cohort, then each group). :func:`fill_rows` lays the rows out and
puts each point into its series (a kind of study, the reference rates, the cohort, a
group), with the text of the right-hand column and of the hover; :func:`all_series`
gives the series' names and markers in legend order. Nothing is drawn here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from analytics.analyses.evidence import CohortPoint, Panel
from analytics.analyses.evidence_file import Evidence, Outcome, Study
from analytics.model.schema import ENDPOINTS
from charts._text import count, esc, interval, month_label, pct, wrap
from charts.palette import GOAL_COLOUR, INK, MUTED, OKABE_ITO
from charts.theme import Theme

# Kinds of study take colours in file order; vermillion is the goal's and black the
# cohort's, so neither marks a published figure.
KIND_COLOURS = tuple(c for c in OKABE_ITO if c not in (GOAL_COLOUR, "#000000"))
KIND_SYMBOLS = ("circle", "triangle-up", "diamond", "hexagon", "star", "pentagon")
REFERENCE_NAME = "Reference rate or goal (no DVA)"


@dataclass(frozen=True)
class Point:
    y: int  # row
    value: float
    lower: float  # NaN: no interval
    upper: float
    months: float
    n: float  # NaN: not given
    text: str  # the study id, or the cohort's name
    hover: str


@dataclass
class Series:
    name: str
    section: str  # "published", "reference rate", "cohort" (the CSV's section)
    marker: dict[str, Any]
    points: dict[Panel, list[Point]] = field(default_factory=dict)


@dataclass
class Rows:
    ticks: list[str] = field(default_factory=list)
    # right column; muted: why there is no estimate, written across the empty row
    values: list[tuple[str, bool]] = field(default_factory=list)
    headers: list[int] = field(default_factory=list)
    spans: dict[Panel, tuple[int, int]] = field(default_factory=dict)

    def add(self, tick: str, value: str = "", muted: bool = False) -> int:
        self.ticks.append(tick)
        self.values.append((value, muted))
        return len(self.ticks) - 1


def endpoint_name(code: str, labels: Mapping[str, str] | None) -> str:
    return (ENDPOINTS if labels is None else labels).get(code, code)


def panel_title(panel: Panel, labels: Mapping[str, str] | None) -> str:
    m = month_label(panel.months)
    return f"{endpoint_name(panel.endpoint, labels)} at {m} month{'' if m == '1' else 's'}"


def value_text(value: float, ci: tuple[float | None, float | None] | None) -> str:
    if ci is None:
        return pct(value)
    lo, hi = ci
    if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)):
        return f"{pct(value)} (CI not estimable)"
    return f"{pct(value)} ({100 * lo:.1f}–{100 * hi:.1f})"


def published_hover(study: Study, o: Outcome, title: str) -> str:
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


def cohort_hover(
    p: CohortPoint, name: str, title: str, count: Callable[[float], str] = count
) -> str:
    """`count` prints a count (the theme's, under small-cell protection)."""
    return (
        f"<b>{esc(name)}</b><br>{esc(title)}: Kaplan-Meier at day {p.day:g}<br>"
        f"{pct(p.estimate)} ({interval(p.lower, p.upper)}, {p.ci_type})<br>"
        f"{count(p.at_risk)} at risk at day {p.day:g}; {count(p.n)} patients"
    )


def all_series(
    evidence: Evidence,
    cohort: Sequence[CohortPoint],
    th: Theme,
    cohort_name: str,
    group_names: Mapping[str, str],
    group_colours: Mapping[str, str],
) -> dict[str, Series]:
    """Every series that may be drawn, in legend order: kinds of study in file order,
    reference rates, the cohort, its groups."""
    out: dict[str, Series] = {}
    kinds = list(dict.fromkeys(s.kind for s in evidence.studies))
    for i, kind in enumerate(kinds):
        marker = {
            "symbol": KIND_SYMBOLS[i % len(KIND_SYMBOLS)],
            "size": th.marker_size,
            "color": KIND_COLOURS[i % len(KIND_COLOURS)],
            "line": {"color": INK, "width": 1},
        }
        out[f"kind:{kind}"] = Series(f"Published: {kind}", "published", marker)
    grey = {"symbol": "diamond-open", "size": th.marker_size, "color": MUTED}
    out["reference"] = Series(REFERENCE_NAME, "reference rate", {**grey, "line": {"width": 2}})
    groups = [cohort_name, *dict.fromkeys(p.group for p in cohort if p.group is not None)]
    for i, group in enumerate(groups):
        name = group if i == 0 else group_names.get(group, group)
        marker = {
            "symbol": "square",
            "size": th.marker_size * 1.3,
            "color": INK if i == 0 else group_colours.get(group, INK),
            "line": {"color": INK, "width": 1.5},
        }
        out["cohort" if i == 0 else f"group:{group}"] = Series(name, "cohort", marker)
    return out


def fill_rows(
    shown: Sequence[Panel],
    titles: Mapping[Panel, str],
    evidence: Evidence,
    cohort: Sequence[CohortPoint],
    series: dict[str, Series],
    cohort_row: str,
    count: Callable[[float], str] = count,
) -> Rows:
    """The rows of every panel, each point put into its series (`count` prints the
    cohort's counts in the hovers)."""
    rows = Rows()
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
            y = rows.add(esc(name), value_text(o.value, o.ci))
            lo, hi = o.ci or (np.nan, np.nan)
            assert o.months is not None  # panels hold dated figures only
            n = np.nan if study.n is None else float(study.n)
            hover = published_hover(study, o, titles[panel])
            key = "reference" if study.reference else f"kind:{study.kind}"
            point = Point(y, o.value, lo, hi, o.months, n, study.id, hover)
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
            y = rows.add(tick, value_text(p.estimate, (p.lower, p.upper)))
            lo, hi = (np.nan if x is None else x for x in (p.lower, p.upper))
            hover = cohort_hover(p, name, titles[panel], count)
            point = Point(y, p.estimate, lo, hi, p.months, p.n, name, hover)
            series[key].points.setdefault(panel, []).append(point)
        rows.spans[panel] = (first, len(rows.ticks) - 1)
    return rows
