"""The cohort beside the published evidence: the Published evidence page's figure, and
its studies as a table a slide can hold."""

from __future__ import annotations

import pandas as pd

from analytics.analyses import views
from analytics.analyses.evidence import SHOWN_ENDPOINTS, cohort_points, evidence_frame, panels
from analytics.analyses.evidence_file import load_evidence
from analytics.estimators.km import CI_LABELS
from analytics.model.basket import Card
from analytics.model.schema import ENDPOINT_SHORT, in_schema_order
from analytics.report.protect import Protection
from analytics.report.protected import shown_points
from analytics.store import Store
from charts.evidence import COHORT_NAME, evidence_figure
from charts.palette import colour_map
from pack import frames
from pack.content import Content, Table, content_for, slide_theme
from ui import fmt

STUDY_COLUMNS = ["Study", "Year", "n", "Endpoint", "Months", "Estimate (95% CI)", "Method"]


def studies(frame: pd.DataFrame) -> pd.DataFrame:
    """The published figures, one per row, as a slide prints them."""
    out = frame.copy()
    out["Estimate (95% CI)"] = [
        frames.DASH
        if pd.isna(x)
        else fmt.pct(x) + ("" if pd.isna(lo) or pd.isna(hi) else f" ({fmt.ci_range(lo, hi)})")
        for x, lo, hi in zip(out["Estimate"], out["95% CI lower"], out["95% CI upper"], strict=True)
    ]
    out["Months"] = [frames.DASH if pd.isna(m) else f"{m:g}" for m in out["Months"]]
    return frames.texts(out, STUDY_COLUMNS)


def evidence(store: Store, card: Card, protect: Protection) -> Content:
    v = card.view
    try:
        ev = load_evidence()
    except ValueError as exc:
        return content_for(store, card, withheld=f"The published evidence could not be read. {exc}")
    wanted = panels(ev)
    at_day = {
        day: views.survival_view(
            store,
            v.filters,
            SHOWN_ENDPOINTS,
            landmarks=(day,),
            ci_type=v.ci_type,
            tick_months=v.tick_months,
            by=v.compare,
        )
        for day in sorted({p.day for p in wanted})
    }
    points, gone = shown_points(protect, cohort_points(at_day, wanted))
    names: dict[str, str] = {}
    colours: dict[str, str] = {}
    if v.compare:
        names = {g: store.labels.level(v.compare, g) for g in {p.group for p in points} if g}
        # the page's colours: every level of the data, in the data model's order
        every = [str(x) for x in store.levels(v.compare)]
        colours = colour_map(in_schema_order(v.compare, every))
    n = store.count(v.filters)
    synthetic = ", synthetic demo data" if store.synthetic else ""
    method = f"Kaplan-Meier; 95% CI: {CI_LABELS[v.ci_type]}"
    provenance = next(iter(at_day.values())).provenance.with_method(method)
    figure = evidence_figure(
        ev,
        points,
        labels=ENDPOINT_SHORT,
        cohort_name=f"{COHORT_NAME} (n = {fmt.count(n)}{synthetic})",
        group_names=names,
        group_colours=colours,
        goal=v.goal,
        goal_day=v.landmark,
        footnote=f"Published figures: {ev.path.name}.",
        theme=slide_theme(protect),
    )
    notes = [
        f"Squares: the patients in view, Kaplan-Meier estimates with 95% CI "
        f"{CI_LABELS[v.ci_type]}; the published figures as their sources give them.",
    ]
    if gone and v.compare:
        notes.append(protect.hidden_note([store.labels.level(v.compare, g) for g in gone]))
    return content_for(
        store,
        card,
        figure=figure,
        tables=(Table("published figures", studies(evidence_frame(ev, labels=ENDPOINT_SHORT))),),
        methods=tuple(notes),
        provenance=provenance,
    )
