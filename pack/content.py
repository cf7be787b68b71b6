"""What one card of the pack holds, whatever the format it is written to: a title, the
slide figure, tables as text cells, the curves as points for a native chart, the
methods for the speaker notes, and the provenance of its numbers."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from analytics.model.basket import Card
from analytics.model.provenance import Provenance
from analytics.report.protect import Protection
from analytics.store import Store
from charts.theme import Theme, get_theme


@dataclass(frozen=True)
class Series:
    """One step curve as the points a line chart draws: the step's corners, x in
    months and y in percent."""

    name: str
    x: tuple[float, ...]
    y: tuple[float, ...]


@dataclass(frozen=True)
class NativeChart:
    """Curves a slide draws as an editable chart, with the at-risk table beneath."""

    x_title: str
    y_title: str
    series: tuple[Series, ...]
    at_risk: pd.DataFrame | None = None  # rows: curves; columns: months


@dataclass(frozen=True)
class Table:
    caption: str  # empty when the card's title names the table
    frame: pd.DataFrame  # every cell already text, as the slide prints it

    def heading(self, title: str) -> str:
        """The slide's title: the card's, then the table's caption."""
        return f"{title}: {self.caption}" if self.caption else title


@dataclass(frozen=True)
class Content:
    """One card, built for the view it holds."""

    card: Card
    title: str
    view_line: str  # the view in clinical words
    figure: go.Figure | None = None
    tables: tuple[Table, ...] = ()
    chart: NativeChart | None = None
    methods: tuple[str, ...] = ()
    provenance: Provenance = field(default_factory=Provenance)
    withheld: str | None = None  # why the card shows nothing (no patients, no records)

    def notes(self) -> list[str]:
        """What a speaker reads: the methods, the user's comment, the provenance."""
        lines = list(self.methods)
        if self.card.note:
            lines.append(f"Comment: {self.card.note}")
        return [*lines, self.provenance.footnote()]


def content_for(store: Store, card: Card, **fields: Any) -> Content:
    """A card's content: its title, then `fields`, by default with its view in words and
    the provenance of the patients in view."""
    fields.setdefault("provenance", store.provenance(card.view.filters))
    fields.setdefault("view_line", card.describe(store.labels))
    return Content(card=card, title=card.heading, **fields)


def slide_theme(protect: Protection) -> Theme:
    """The 16:9 presentation theme, its counts printed under the pack's protection."""
    threshold = protect.disclosure.threshold if protect.on else 0
    return replace(get_theme("presentation"), small_cells=threshold)
