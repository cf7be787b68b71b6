"""A card's table per group of its view's compare-by column, as the page's by-group
table shows it: a row per level with patients, then the card's own cells, under
small-cell protection (a group whose size is withheld has its other cells withheld)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pandas as pd

from analytics.analyses.views import level_filter
from analytics.model.basket import Card
from analytics.model.filters import FilterState
from analytics.model.schema import ADSL
from analytics.report.protect import Protection
from analytics.store import Store
from pack import frames
from pack.content import Table

Cells = Callable[[FilterState], Mapping[str, object]]


def ordered_levels(store: Store, column: str, sizes: Mapping[str, int]) -> list[str]:
    """The levels with patients, in the schema's order where it has one, else sorted."""
    try:
        codes = [c for c in ADSL.column(column).allowed if c in sizes]
    except KeyError:
        codes = []
    return codes + sorted(k for k in sizes if k not in codes)


def group_table(store: Store, card: Card, protect: Protection, cells: Cells) -> Table | None:
    """The table, or None when the card's view compares nothing."""
    by = card.view.compare
    if by is None:
        return None
    filters = card.view.filters
    sizes = {k: n for k, n in store.group_sizes(filters, by).items() if n}
    rows = [
        {
            store.labels.column(by): store.labels.value(by, level),
            "Patients": sizes[level],
            **cells(level_filter(filters, by, level)),
        }
        for level in ordered_levels(store, by, sizes)
    ]
    shown = protect.table(pd.DataFrame(rows))
    title = f"by {store.labels.column(by).lower()}"
    return Table(title, frames.texts(shown, shown.columns))
