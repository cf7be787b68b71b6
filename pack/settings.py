"""A card's page settings (`Card.options`, checked when the card was read) as the
arguments of the analyses the page runs with them."""

from __future__ import annotations

import inspect

from analytics.estimators.bayes import BayesianEndpoint
from analytics.model.basket import Card

# The analysis plan's values are the estimator's defaults, as on the page.
PLAN = {
    name: p.default
    for name, p in inspect.signature(BayesianEndpoint).parameters.items()
    if p.default is not inspect.Parameter.empty
}


def bayes_model(card: Card) -> BayesianEndpoint:
    """The primary endpoint's estimator at the card's landmark and goal, with its
    threshold, prior and handling of missing outcomes (the plan's where it has none)."""
    a, b = PLAN["prior"]
    missing = card.option("missing")
    return BayesianEndpoint(
        day=card.view.landmark,
        goal=card.view.goal,
        threshold=float(card.option("threshold") or PLAN["threshold"]),
        prior=(float(card.option("a") or a), float(card.option("b") or b)),
        impute=missing != "none",
        imputation=missing if missing in ("pwe", "km") else PLAN["imputation"],
    )
