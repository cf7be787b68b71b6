"""Each kind of card built for the view it holds: the same analytics calls and figure
builders as the dashboard's pages, with the slide theme (16:9, presentation type).

Every builder returns a `Content`; a card the data cannot fill (no patients in view,
no records of the endpoint) says why in `Content.withheld` instead of failing the pack.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pandas as pd

from analytics.analyses import views
from analytics.analyses.audit import audit_view
from analytics.analyses.sites import SMALL_SITE, compare_sites
from analytics.analyses.subgroup_counts import subgroup_view
from analytics.analyses.subgroup_model import candidate_columns, subgroup_variables
from analytics.analyses.tables import SummaryTable, table1_view, table2_view
from analytics.analyses.visits import nearest_visit, rutherford_at, visit_cohort, wound_course
from analytics.estimators.km import CI_LABELS
from analytics.model.basket import Card
from analytics.model.card_options import SITE_OUTCOMES
from analytics.model.provenance import Provenance
from analytics.model.schema import DAYS_PER_MONTH
from analytics.report.protect import Protection
from analytics.report.protected import (
    audit_frame,
    rutherford_shown,
    shown_sites,
    shown_subgroups,
    shown_visits,
    summary_frame,
)
from analytics.store import Store
from charts.forest import forest_figure
from charts.funnel import funnel_figure
from charts.posterior import posterior_figure
from charts.wounds import healing_status_figure, rutherford_change_figure
from pack import design_cards, frames, outcome_cards, safety_cards
from pack.by_group import Cells, group_table
from pack.content import Content, Table, content_for, slide_theme
from pack.curves import curves_card
from pack.evidence_card import evidence
from pack.settings import bayes_model
from ui import fmt
from ui.group_cells import bayes_cells, headline_cells

ALL = "All patients"
Builder = Callable[[Store, Card, Protection], Content]


def _by_group(store: Store, card: Card, protect: Protection, cells: Cells) -> tuple[Table, ...]:
    found = group_table(store, card, protect, cells)
    return () if found is None else (found,)


def overview(store: Store, card: Card, protect: Protection) -> Content:
    v = card.view
    counts = views.cohort_counts(store, v.filters, v.landmark)
    head = views.headline_view(store, v.filters, day=v.landmark, goal=v.goal, ci_type=v.ci_type)
    tables = (
        Table("Patients", frames.cohort(counts, protect.disclosure.hides_share)),
        Table(
            f"Kaplan-Meier estimates at {fmt.at_day(v.landmark)}",
            protect.estimates(frames.headline(head)),
        ),
        *_by_group(
            store,
            card,
            protect,
            lambda f: headline_cells(
                views.headline_view(store, f, day=v.landmark, goal=v.goal, ci_type=v.ci_type),
                v.goal,
            ),
        ),
    )
    methods = (
        f"Kaplan-Meier with Greenwood variance, 95% CI {CI_LABELS[v.ci_type]}; months of "
        f"{DAYS_PER_MONTH:g} days.",
        counts.provenance.method,
    )
    return content_for(store, card, tables=tables, methods=methods, provenance=head.provenance)


def afs(store: Store, card: Card, protect: Protection) -> Content:
    return curves_card(
        store,
        card,
        protect,
        ("AFS", "LS", "OS"),
        goal=card.view.goal,
        goal_label="AFS performance goal",
    )


def patency(store: Store, card: Card, protect: Protection) -> Content:
    return curves_card(store, card, protect, ("PP", "PAP", "SP"))


def primary(store: Store, card: Card, protect: Protection) -> Content:
    v = card.view
    if protect.too_few(store.count(v.filters)):
        return content_for(store, card, withheld=protect.reason)
    result = views.bayes_view(store, v.filters, bayes_model(card))
    if result is None:
        return content_for(store, card, withheld="No amputation-free survival records in view.")
    figure = posterior_figure(
        result,
        endpoint_label="Amputation-free survival",
        title=None,
        show_complete_case=result.imputed,
        theme=slide_theme(protect),
    )
    counts = protect.frame(
        frames.posterior_counts(result),
        frames.POSTERIOR_PARTS,
        column_totals=False,
        row_parts=frames.POSTERIOR_PARTS,
        row_total="Patients",
    )
    tables = (
        Table(f"Status at day {result.day:g}", counts),
        Table("Posterior of the amputation-free survival rate", frames.posterior(result)),
        *_by_group(
            store,
            card,
            protect,
            lambda f: bayes_cells(views.bayes_view(store, f, bayes_model(card)), v.goal),
        ),
    )
    return content_for(
        store,
        card,
        figure=figure,
        tables=tables,
        methods=(result.provenance.method,),
        provenance=result.provenance,
    )


def subgroups(store: Store, card: Card, protect: Protection) -> Content:
    v = card.view
    endpoint = card.option("endpoint", "AFS") or "AFS"
    labels = store.endpoint_labels()
    if endpoint not in labels:
        return content_for(
            store,
            card,
            withheld=f"No endpoint '{store.labels.value('PARAMCD', endpoint)}' in these data.",
        )
    columns = store.subject_columns()
    extra = card.option_list("extra")
    missing = [c for c in extra if c not in candidate_columns(columns)]
    if missing:
        return content_for(
            store,
            card,
            withheld="Not a subgroup column of these data: "
            + ", ".join(store.labels.column(c) for c in missing)
            + ".",
        )
    variables = subgroup_variables(columns, [v.compare, *extra])
    found = subgroup_view(
        store, v.filters, endpoint, variables, landmark=v.landmark, ci_type=v.ci_type
    )
    if not card.title and endpoint != "AFS":  # the default title names the endpoint
        card = replace(card, title=f"Subgroups: {labels[endpoint].lower()}")
    if found is None:
        name = labels[endpoint].lower()
        return content_for(store, card, withheld=f"No {name} records in view.")
    res = found.in_words(store.labels)
    drawn, gone = shown_subgroups(protect, res)
    figure = forest_figure(drawn, theme=slide_theme(protect))
    methods = [res.provenance.method]
    if gone:
        methods.append(protect.hidden_note(gone))
    return content_for(
        store,
        card,
        figure=figure,
        tables=(
            Table(
                "Subgroups",
                protect.frame(frames.subgroups(res), ["n", "Events"], groups="Variable", gate="n"),
            ),
        ),
        methods=tuple(methods),
        provenance=res.provenance,
    )


def wounds(store: Store, card: Card, protect: Protection) -> Content:
    cohort = visit_cohort(store, card.view.filters)
    course = wound_course(cohort)
    if not any(v.assessed for v in course.visits):
        return content_for(store, card, withheld="No target wound assessed at a visit in view.")
    drawn, gone = shown_visits(protect, course)
    figure = healing_status_figure(
        {ALL: drawn}, theme=slide_theme(protect), provenance=course.provenance
    )
    table = protect.frame(
        frames.wounds(course, store.labels),
        frames.WOUND_COUNTS,
        column_totals=False,
        row_parts=frames.WOUND_COUNTS[1:],
        row_total="Assessed",
        derived={"Healed": ["Healed share"], "Assessed": ["Healed share"]},
    )
    return content_for(
        store,
        card,
        figure=figure,
        tables=(Table("Target wound status by visit", table),),
        methods=(course.provenance.method, *([protect.hidden_note(gone)] if gone else [])),
        provenance=course.provenance,
    )


def rutherford(store: Store, card: Card, protect: Protection) -> Content:
    cohort = visit_cohort(store, card.view.filters)
    visit = card.option("visit") or nearest_visit(cohort, card.view.landmark)
    if visit not in set(cohort.visits.get("AVISIT", ())):
        return content_for(
            store,
            card,
            withheld=f"No visit '{store.labels.value('AVISIT', visit)}' among those in view.",
        )
    change = rutherford_at(cohort, visit)
    if not change.paired:
        return content_for(
            store, card, withheld=f"No patient with a class at baseline and {visit}."
        )
    figure = None
    if rutherford_shown(protect, change):
        figure = rutherford_change_figure(
            {ALL: change}, theme=slide_theme(protect), provenance=change.provenance
        )
    at = store.labels.value("AVISIT", visit).lower()
    table = Table(
        f"change at {at}",
        protect.frame(
            frames.rutherford(change), ["Patients"], derived={"Patients": ["Share of paired"]}
        ),
    )
    classes = frames.rutherford_classes(change, store.labels)
    return content_for(
        store,
        card,
        figure=figure,
        tables=(
            table,
            Table(
                f"class at {at}",
                protect.frame(classes, ["Patients"], derived={"Patients": ["Share of assessed"]}),
            ),
        ),
        methods=(change.provenance.method,),
        provenance=change.provenance,
    )


def _table_card(
    store: Store, card: Card, caption: str, frame: pd.DataFrame, provenance: Provenance
) -> Content:
    """A card of one table and the method behind it."""
    return content_for(
        store,
        card,
        tables=(Table(caption, frame),),
        methods=(provenance.method,),
        provenance=provenance,
    )


def _summary(store: Store, card: Card, protect: Protection, result: SummaryTable) -> Content:
    # the card's title names the table already
    return _table_card(store, card, "", summary_frame(protect, result), result.provenance)


def table1(store: Store, card: Card, protect: Protection) -> Content:
    return _summary(store, card, protect, table1_view(store, card.view.filters))


def table2(store: Store, card: Card, protect: Protection) -> Content:
    result = table2_view(store, card.view.filters, card.view.landmark)
    return _summary(store, card, protect, result)


def sites(store: Store, card: Card, protect: Protection) -> Content:
    v = card.view
    target = card.option("benchmark") if card.option("target") == "benchmark" else None
    res = compare_sites(
        store,
        v.filters,
        card.option("outcome", "afs") or "afs",
        day=v.landmark,
        ci_type=v.ci_type,
        benchmark=None if target is None else float(target) / 100,
        min_n=int(card.option("min_n", str(SMALL_SITE)) or SMALL_SITE),
    )
    if not card.title and res.outcome.key != "afs":  # the default title names the outcome
        card = replace(card, title=f"Sites: {SITE_OUTCOMES[res.outcome.key]} at the landmark")
    if not res.sites:
        return content_for(store, card, withheld="The patients in view have no site identifier.")
    figure = None
    drawn, gone = shown_sites(protect, res)
    if res.target is not None and len(drawn.sites) > 1:
        figure = funnel_figure(drawn, theme=slide_theme(protect))
    return content_for(
        store,
        card,
        figure=figure,
        tables=(
            Table(
                "Sites",
                protect.frame(
                    frames.sites(res),
                    frames.SITE_COUNTS,
                    derived={"Events": ["Proportion (95% CI)"]},
                    gate="Patients",
                ),
            ),
        ),
        methods=(res.provenance.method, *([protect.hidden_note(gone)] if gone else [])),
        provenance=res.provenance,
    )


def audit(store: Store, card: Card, protect: Protection) -> Content:
    v = card.view
    result = audit_view(store, v.filters, v.landmark, v.ci_type)
    frame = audit_frame(protect, result)
    return _table_card(store, card, "NICE IPG773 audit", frame, result.provenance)


BUILDERS: dict[str, Builder] = {
    "overview": overview,
    "afs": afs,
    "primary": primary,
    "patency": patency,
    "subgroups": subgroups,
    "wounds": wounds,
    "rutherford": rutherford,
    "table1": table1,
    "table2": table2,
    "sites": sites,
    "audit": audit,
    "competing": outcome_cards.competing,
    "reintervention": outcome_cards.reintervention,
    "wound_area": outcome_cards.wound_area,
    "all_healed": outcome_cards.all_healed,
    "adverse_events": safety_cards.adverse_events,
    "deaths": safety_cards.deaths,
    "evidence": evidence,
    "design": design_cards.design,
    "design_power": design_cards.design_power,
}
# simulated, not computed from patients: built whatever the view holds
NO_PATIENT_DATA = frozenset({"design", "design_power"})


def build_card(store: Store, card: Card, protect: Protection) -> Content:
    """The card's content; a view without patients (or too few to show) is withheld."""
    if card.kind in NO_PATIENT_DATA:
        return BUILDERS[card.kind](store, card, protect)
    n = store.count(card.view.filters)
    if n == 0:
        return content_for(store, card, withheld="No patients in view.")
    withheld = protect.disclosure.view_reason(n, store.count())
    if withheld is not None:
        return content_for(store, card, withheld=withheld)
    return BUILDERS[card.kind](store, card, protect)
