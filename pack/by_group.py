"""A card's table per group of its view's compare-by column, as the page's by-group
table shows it: a row per level with patients, then the card's own cells, under
small-cell protection (a group whose size is withheld has its other cells withheld)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pandas as pd

from analytics.analyses.views import level_filter
from analytics.model.basket import Card
from analytics.model.filters import FilterState
from analytics.model.schema import in_schema_order
from analytics.report.protect import Protection
from analytics.store import Store
from pack import frames
from pack.content import Table

Cells = Callable[[FilterState], Mapping[str, object]]


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
        for level in in_schema_order(by, sorted(sizes))
    ]
    shown = protect.table(pd.DataFrame(rows))
    title = f"by {store.labels.column(by).lower()}"
    return Table(title, frames.texts(shown, shown.columns))
