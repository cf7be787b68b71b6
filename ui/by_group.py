"""A result per group of the compare-by column, as one table: a row per level with
patients (levels without any are left out), then the page's own cells."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pandas as pd
import streamlit as st

from analytics.analyses.views import level_filter
from analytics.model.basket import Card
from analytics.model.provenance import Provenance
from analytics.model.view import View
from ui import data
from ui.context import Context
from ui.notes import not_compared
from ui.tables import show_table


def show_by_group(
    ctx: Context,
    *,
    name: str,
    title: str,
    cells: Callable[[View], Mapping[str, object]],
    caption: str,
    provenance: Provenance | None = None,
    card: str | Card | None = None,
) -> None:
    """`cells(view of the group's patients)` for every level, under the group's name in
    words and its number of patients; then `caption` and the patients in no group."""
    by = ctx.compare_by
    if by is None:
        return
    sizes = data.group_sizes(ctx.store, ctx.filters, by)
    rows = []
    for level in ctx.levels(by):
        if not sizes.get(level):
            continue
        group = ctx.view.with_filters(level_filter(ctx.filters, by, level))
        rows.append(
            {
                ctx.labels.column(by): ctx.labels.value(by, level),
                "Patients": sizes[level],
                **cells(group),
            }
        )
    show_table(
        pd.DataFrame(rows),
        name=name,
        title=title,
        view=ctx.view,
        provenance=provenance,
        card=card,
    )
    st.caption(caption)
    not_compared(ctx.not_compared(), ctx.labels.column(by).lower())
