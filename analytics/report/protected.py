"""What a figure or a committee table may show of a result under small-cell protection
(`analytics.report.protect`): Table 1, 2 and the audit as text, and the forest plot's
levels, the funnel's sites, the wound visits, the Rutherford change and the cohort's
points beside the published evidence that may be drawn.

A figure leaves out exactly what the matching table withholds (a small count, or the
complement that would reveal it), and names what it left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pandas as pd

from analytics.analyses.audit_items import Audit
from analytics.analyses.evidence import CohortPoint
from analytics.analyses.sites import SiteComparison
from analytics.analyses.subgroups import SubgroupResult
from analytics.analyses.tables import SummaryTable
from analytics.analyses.visits import RutherfordAtVisit, WoundCourse
from analytics.report.protect import COMPLEMENT, Protection


def summary_frame(protect: Protection, table: SummaryTable) -> pd.DataFrame:
    """Table 1 or 2 as a committee reads it: section, characteristic, value."""
    return pd.DataFrame(
        {
            "Section": [r.section for r in table.rows],
            "Characteristic": [r.label for r in table.rows],
            "Value": protect.rows(table.rows, table.n),
        }
    )


def audit_frame(protect: Protection, audit: Audit) -> pd.DataFrame:
    """The NICE audit as a committee reads it: section, item, value."""
    items = [it for _, section in audit.sections for it in section]
    return pd.DataFrame(
        {
            "Section": [it.section for it in items],
            "Item": [it.label for it in items],
            "Value": protect.rows(items, audit.n),
        }
    )


def _withheld_rows(
    protect: Protection, frame: pd.DataFrame, counts: Sequence[str], **how: Any
) -> list[bool]:
    shown = protect.frame(frame, counts, **how)
    marks = (protect.disclosure.marker, COMPLEMENT)
    return [bool(shown.iloc[i][list(counts)].isin(marks).any()) for i in range(len(shown))]


def shown_subgroups(protect: Protection, res: SubgroupResult) -> tuple[SubgroupResult, list[str]]:
    """The forest plot's levels that may be drawn: a level whose patients or events are
    withheld in the table (a small count, or its complement within the variable) is left
    out, and named."""
    if not protect.on:
        return res, []
    rows = [(var, lv) for var in res.variables for lv in var.levels]
    frame = pd.DataFrame(
        {
            "Variable": [var.label for var, _ in rows],
            "n": [lv.n for _, lv in rows],
            "Events": [lv.events for _, lv in rows],
        }
    )
    out = set()
    if rows:
        withheld = _withheld_rows(protect, frame, ["n", "Events"], groups="Variable")
        out = {(var.variable, lv.level) for (var, lv), w in zip(rows, withheld, strict=True) if w}
    variables = tuple(
        replace(var, levels=tuple(lv for lv in var.levels if (var.variable, lv.level) not in out))
        for var in res.variables
    )
    names = [f"{var.label}: {lv.level}" for var, lv in rows if (var.variable, lv.level) in out]
    return replace(res, variables=variables), names


def shown_sites(protect: Protection, res: SiteComparison) -> tuple[SiteComparison, list[str]]:
    """The funnel's sites that may be drawn (none whose counts the table withholds)."""
    if not protect.on or not res.sites:
        return res, []
    frame = pd.DataFrame(
        {
            "Patients": [s.n for s in res.sites],
            "Known status": [s.known for s in res.sites],
            "Events": [s.events for s in res.sites],
        }
    )
    withheld = _withheld_rows(protect, frame, list(frame.columns))
    kept = tuple(s for s, w in zip(res.sites, withheld, strict=True) if not w)
    return replace(res, sites=kept), [
        s.label for s, w in zip(res.sites, withheld, strict=True) if w
    ]


def shown_visits(protect: Protection, course: WoundCourse) -> tuple[WoundCourse, list[str]]:
    """The visits whose wound status may be drawn: none with a withheld count among the
    patients assessed, healed, healing and not healing."""
    if not protect.on:
        return course, []
    parts = ["Healed", "Healing", "Not healing"]
    frame = pd.DataFrame(
        {
            "Assessed": [v.assessed for v in course.visits],
            "Healed": [v.healed for v in course.visits],
            "Healing": [v.healing for v in course.visits],
            "Not healing": [v.not_healing for v in course.visits],
        }
    )
    withheld = _withheld_rows(
        protect,
        frame,
        ["Assessed", *parts],
        column_totals=False,
        row_parts=parts,
        row_total="Assessed",
    )
    kept = tuple(v for v, w in zip(course.visits, withheld, strict=True) if not w)
    gone = [v.visit for v, w in zip(course.visits, withheld, strict=True) if w and v.assessed]
    return replace(course, visits=kept), gone


def rutherford_shown(protect: Protection, change: RutherfordAtVisit) -> bool:
    """Whether the Rutherford change (decreased, unchanged, increased among the paired)
    may be drawn: not when one of the three is withheld."""
    if not protect.on:
        return True
    frame = pd.DataFrame({"Patients": [change.decreased, change.unchanged, change.increased]})
    return not any(_withheld_rows(protect, frame, ["Patients"]))


SUMMARY_COUNTS = frozenset({"n", "events", "at_risk", "not_compared", "cumulative_events"})


def summary_doc(protect: Protection, doc: dict[str, Any]) -> dict[str, Any]:
    """The command line's summary JSON under small-cell protection: a cohort under the
    threshold keeps only its size's marker; a group whose size is withheld (small, or
    the complement that reveals one) is withheld whole; every other count from 1 to 10
    reads "<11", an endpoint's patients when the rest of the cohort is that small, and
    the primary endpoint's status counts with their complements."""
    if not protect.on:
        return doc
    out = dict(doc)
    marker = protect.disclosure.marker
    cohort = dict(out.get("cohort", {}))
    n = int(cohort.get("n", 0))
    note = {"small_cell_protection": protect.disclosure.describe()}
    withheld = protect.disclosure.view_reason(n, int(cohort.get("n_total", n)))
    if withheld is not None:
        cohort["n"] = marker if protect.too_few(n) else COMPLEMENT
        return {"cohort": cohort, "withheld": withheld, **note}
    groups = out.get("groups")
    if isinstance(groups, dict) and groups:
        gone = protect.withheld_groups({k: int(g.get("n", 0)) for k, g in groups.items()})
        out["groups"] = {
            k: ({"withheld": protect.reason} if k in gone else g) for k, g in groups.items()
        }
        for key in ("comparison", "hazard_ratio"):
            if key in out:
                out[key] = _without_levels(out[key], gone)
    quality = out.get("data_quality")
    if isinstance(quality, dict) and quality.get("issues"):
        # where and why a row was rejected, not what the patient's row holds
        out["data_quality"] = {
            **quality,
            "issues": [{**i, "value": None} for i in quality["issues"]],
        }
    for code, endpoint in (out.get("endpoints") or {}).items():
        if isinstance(endpoint, dict) and protect.disclosure.hides(n - int(endpoint.get("n", n))):
            out["endpoints"][code] = {**endpoint, "n": COMPLEMENT}
    if isinstance(out.get("bayes"), dict):
        out["bayes"] = _bayes_counts(protect, out["bayes"])
    return {**_marked(out, protect), **note}


def _marked(value: Any, protect: Protection) -> Any:
    if isinstance(value, dict):
        return {
            k: (
                protect.disclosure.marker
                if k in SUMMARY_COUNTS and isinstance(v, int) and protect.disclosure.hides(v)
                else _marked(v, protect)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_marked(v, protect) for v in value]
    return value


def _without_levels(value: Any, gone: set[str]) -> Any:
    """Hazard ratios of withheld groups, removed wherever the document lists levels."""
    if isinstance(value, dict):
        return {
            k: ({"withheld": "small-cell protection"} if k in gone else _without_levels(v, gone))
            for k, v in value.items()
        }
    return value


def _bayes_counts(protect: Protection, bayes: dict[str, Any]) -> dict[str, Any]:
    keys = ("successes", "failures", "missing")
    if not all(isinstance(bayes.get(k), int) for k in keys):
        return bayes
    frame = pd.DataFrame([{**{k: bayes[k] for k in keys}, "n": sum(bayes[k] for k in keys)}])
    shown = protect.frame(
        frame, list(keys), column_totals=False, row_parts=keys, row_total="n"
    ).iloc[0]
    return {
        **bayes,
        **{
            k: (shown[k] if shown[k] in (protect.disclosure.marker, COMPLEMENT) else bayes[k])
            for k in keys
        },
    }


def shown_points(
    protect: Protection, points: Sequence[CohortPoint]
) -> tuple[tuple[CohortPoint, ...], list[str]]:
    """The cohort's points beside the published evidence that may be drawn: none of a
    cohort too small, nor of a group whose size is withheld on a panel (too small, or
    the one that would reveal another from the cohort's); and the groups left out."""
    if not protect.on:
        return tuple(points), []
    gone: set[str] = set()
    panels: dict[tuple[str, float], dict[str, int]] = {}
    for p in points:
        if p.group is not None:
            panels.setdefault((p.endpoint, p.day), {})[p.group] = int(p.n)
    hidden = {key: protect.withheld_groups(sizes) for key, sizes in panels.items()}
    kept = []
    for p in points:
        if p.group is None:
            if not protect.too_few(p.n):
                kept.append(p)
        elif p.group in hidden[(p.endpoint, p.day)]:
            gone.add(p.group)
        else:
            kept.append(p)
    return tuple(kept), sorted(gone)
