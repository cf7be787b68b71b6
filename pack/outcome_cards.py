"""Cards added from their pages beyond the standard pack: amputation with death as a
competing risk, freedom from reintervention, target wound area and all wounds healed."""

from __future__ import annotations

import pandas as pd

from analytics.analyses import views
from analytics.analyses.visits import visit_cohort, wound_course
from analytics.model.basket import Card
from analytics.report.protect import Protection
from analytics.store import Store
from charts.competing import cif_figure
from charts.wound_trends import all_healed_figure, wound_area_figure
from pack import frames
from pack.by_group import group_table
from pack.content import Content, Table, content_for, slide_theme
from pack.curves import curves_card
from ui import fmt
from ui.group_cells import competing_cells

ALL = "All patients"


def competing(store: Store, card: Card, protect: Protection) -> Content:
    v = card.view
    result = views.competing_view(
        store, v.filters, "LS", landmarks=(v.landmark,), ci_type=v.ci_type
    )
    if result is None:
        return content_for(store, card, withheld="No major amputation among the patients in view.")
    figure = cif_figure(
        result,
        tick_months=v.tick_months,
        ci=v.show_ci,
        fade_below=v.min_at_risk or None,
        landmark_day=v.landmark,
        theme=slide_theme(protect),
    )
    grouped = group_table(
        store,
        card,
        protect,
        lambda f: competing_cells(
            views.competing_view(store, f, "LS", landmarks=(v.landmark,), ci_type=v.ci_type),
            v.landmark,
        ),
    )
    groups = () if grouped is None else (grouped,)
    rows = []
    for name, curve in (
        ("Death as a competing risk (Aalen-Johansen)", result.aalen_johansen),
        ("1 − Kaplan-Meier, deaths censored", result.one_minus_km),
    ):
        lm = curve.landmark(v.landmark)
        rows.append(
            {
                "Major amputation by " + fmt.months(v.landmark): name,
                "Estimate": fmt.pct(lm.estimate),
                "95% CI": fmt.ci_range(lm.lower, lm.upper),
            }
        )
    return content_for(
        store,
        card,
        figure=figure,
        tables=(Table("Cumulative incidence", pd.DataFrame(rows)), *groups),
        methods=(
            "Aalen-Johansen cumulative incidence of major amputation with death competing, "
            "beside 1 − Kaplan-Meier (deaths censored), which overstates the risk when many "
            "die.",
            result.provenance.method,
        ),
        provenance=result.provenance,
    )


def reintervention(store: Store, card: Card, protect: Protection) -> Content:
    return curves_card(store, card, protect, ("REINT",))


def _course(store: Store, card: Card, protect: Protection) -> tuple[object, Content | None]:
    course = wound_course(visit_cohort(store, card.view.filters))
    if not any(v.assessed or v.measured for v in course.visits):
        return course, content_for(store, card, withheld="No wound assessed at a visit in view.")
    return course, None


def wound_area(store: Store, card: Card, protect: Protection) -> Content:
    course, empty = _course(store, card, protect)
    if empty is not None:
        return empty
    frame = course.to_frame()[
        ["Visit", "Area measured", "Area median (cm2)", "Area Q1 (cm2)", "Area Q3 (cm2)"]
    ]
    frame["Visit"] = [store.labels.value("AVISIT", v) for v in frame["Visit"]]
    shown = protect.table(frame.round(2))
    figure = wound_area_figure(
        {ALL: course}, theme=slide_theme(protect), provenance=course.provenance
    )
    return content_for(
        store,
        card,
        figure=figure,
        tables=(Table("Target wound area by visit", frames.texts(shown, shown.columns)),),
        methods=(course.provenance.method,),
        provenance=course.provenance,
    )


def all_healed(store: Store, card: Card, protect: Protection) -> Content:
    course, empty = _course(store, card, protect)
    if empty is not None:
        return empty
    frame = pd.DataFrame(
        {
            "Visit": [store.labels.value("AVISIT", v.visit) for v in course.visits],
            "Assessed": [v.all_assessed for v in course.visits],
            "All wounds healed": [v.all_healed for v in course.visits],
            "Share": [frames.percent(v.all_healed_share) for v in course.visits],
            # never printed, always known from the two beside it
            "Not all healed": [v.all_assessed - v.all_healed for v in course.visits],
        }
    )
    frame = frame[frame["Assessed"] > 0].reset_index(drop=True)
    parts = ["All wounds healed", "Not all healed"]
    shown = protect.frame(
        frame,
        ["Assessed", *parts],
        column_totals=False,
        row_parts=parts,
        row_total="Assessed",
        derived={p: ["Share"] for p in parts},
    ).drop(columns="Not all healed")
    figure = all_healed_figure(
        {ALL: course}, theme=slide_theme(protect), provenance=course.provenance
    )
    return content_for(
        store,
        card,
        figure=figure,
        tables=(Table("All wounds healed by visit", frames.texts(shown, shown.columns)),),
        methods=(course.provenance.method,),
        provenance=course.provenance,
    )
