"""Trial design cards: the Goldilocks design simulated with the settings the card carries
(the plan's where it carries none), as the Trial design page simulates it. A design
tool reads no patient data; the view is printed but changes nothing."""

from __future__ import annotations

from analytics.analyses.design import DesignSettings, GoldilocksDesign
from analytics.model.basket import Card
from analytics.report.protect import Protection
from analytics.store import Store
from charts.design import power_curve_figure, stopping_figure
from pack import frames
from pack.content import Content, Table, content_for, slide_theme
from ui.design import DesignChoice, differences, operating_frame, power_inputs

NO_PATIENTS = "A design tool: the trials are simulated, no patient data are used."


def _view_line(store: Store, card: Card) -> str:
    settings = card.options_in_words(store.labels)
    return "Simulated trials, no patient data: " + (settings or "the trial's plan")


def _settings(store: Store, card: Card) -> tuple[DesignChoice, DesignSettings | Content]:
    choice = DesignChoice.of_card(card)
    try:
        return choice, choice.settings()
    except ValueError as exc:
        reason = f"These settings make no design: {str(exc).rstrip('.')}."
        return choice, content_for(store, card, withheld=reason, view_line=_view_line(store, card))


def _methods(settings: DesignSettings, method: str) -> tuple[str, ...]:
    changed = differences(settings)
    plan = "What-if design, not the trial's plan: " + "; ".join(changed) if changed else ""
    return tuple(x for x in (NO_PATIENTS, plan, method) if x)


def design(store: Store, card: Card, protect: Protection) -> Content:
    choice, settings = _settings(store, card)
    if isinstance(settings, Content):
        return settings
    sim = GoldilocksDesign(**vars(settings)).run(choice.rate, choice.simulations, choice.seed)
    res = sim.result_
    figure = stopping_figure(
        res, at_goal=card.option("where") == "goal", theme=slide_theme(protect)
    )
    frame = operating_frame(res)
    shown = frame.copy()
    for col in frame.columns[1:]:
        shown[col] = [f"{x:.2f}" for x in frame[col]]
    return content_for(
        store,
        card,
        figure=figure,
        tables=(Table("operating characteristics", frames.texts(shown, shown.columns)),),
        methods=_methods(settings, res.provenance.method),
        provenance=res.provenance,
        view_line=_view_line(store, card),
    )


def design_power(store: Store, card: Card, protect: Protection) -> Content:
    choice, settings = _settings(store, card)
    if isinstance(settings, Content):
        return settings
    rates, simulations, stated = power_inputs(settings, choice.simulations)
    curve = GoldilocksDesign(**vars(settings)).power_curve(rates, simulations, choice.seed)
    figure = power_curve_figure(
        curve, goal=settings.goal, stated=stated, theme=slide_theme(protect)
    )
    return content_for(
        store,
        card,
        figure=figure,
        methods=_methods(settings, curve.provenance.method),
        provenance=curve.provenance,
        view_line=_view_line(store, card),
    )
