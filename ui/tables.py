"""A table on the page with its CSV download, as the patient-level pages show them.

The table is shown whole up to `MAX_ROWS` rows (scrolling beyond). The CSV carries
the table's title, the view (filters, comparison, changed options) and the provenance
footnote as ``#`` header lines (``analytics.report.frames.table_csv``; read it back with
``pandas.read_csv(f, comment="#")``); it is written only when the button is clicked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd
import streamlit as st

from analytics.model.basket import Card
from analytics.model.labels import DEFAULT as DEFAULT_LABELS
from analytics.model.labels import Labels
from analytics.model.provenance import Provenance
from analytics.model.view import View
from analytics.report.documents import table_docx, table_xlsx
from analytics.report.frames import table_csv
from ui import basket, disclosure
from ui.context import published

ROW_PX = 35  # st.dataframe's row height
MAX_ROWS = 40


def height(rows: int) -> int:
    """Pixels that show `rows` rows and the header without scrolling, up to MAX_ROWS."""
    return ROW_PX * (min(rows, MAX_ROWS) + 1) + 3


Writer = Callable[[pd.DataFrame, str, str, Provenance | None], bytes]
# (label, extension, MIME type, writer): CSV first, then the editable formats
FORMATS: tuple[tuple[str, str, str, Writer], ...] = (
    ("CSV", "csv", "text/csv", table_csv),
    ("Word", "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
     table_docx),
    ("Excel", "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
     table_xlsx),
)


def _writer(
    write: Writer, frame: pd.DataFrame, title: str, view: str, provenance: Provenance | None
) -> Callable[[], bytes]:
    # the file is written only when its button is clicked
    def make() -> bytes:
        return write(frame, title, view, provenance)

    return make


def show_table(
    frame: pd.DataFrame,
    *,
    name: str,
    title: str,
    view: View | None,
    provenance: Provenance | None = None,
    column_config: Mapping[str, Any] | None = None,
    label: str | None = None,
    file_name: str | None = None,
    card: str | Card | None = None,
) -> None:
    """`frame` as an interactive table (key ``<name>_table``), then its download button
    (key ``<name>_download``), labelled "Download: <title> (CSV)" unless `label` says
    otherwise, saving ``<name>.csv`` unless `file_name` says otherwise. The CSV prints
    `view` in words (None: a table no filter touches, such as published figures).
    `card`: the kind of report card the table is, offered as "Add to report".
    Small-cell protection, when on, applies to the table and all its downloads."""
    frame = disclosure.active().table(frame)
    st.dataframe(
        frame,
        hide_index=True,
        column_config=dict(column_config or {}),
        height=height(len(frame)),
        key=f"{name}_table",
    )
    ctx = published()  # the words of these data's codes
    line = view.describe(ctx.labels if ctx else DEFAULT_LABELS) if view else "Filters: none"
    stem = (file_name or f"{name}.csv").removesuffix(".csv")
    with st.container(horizontal=True, gap="small"):
        for kind, ext, mime, write in FORMATS:
            st.download_button(
                (label or f"Download: {title} (CSV)") if ext == "csv" else kind,
                _writer(write, frame, title, line, provenance),
                file_name=f"{stem}.{ext}",
                mime=mime,
                on_click="ignore",
                key=f"{name}_download" if ext == "csv" else f"{name}_{ext}",
                help=None if ext == "csv" else f"{title} as an editable {kind} table",
            )
        # a table no filter touches (published figures) is added in the page's view
        card_view = view or (ctx.view if ctx else None)
        if card is not None and card_view is not None:
            labels = ctx.labels if ctx else DEFAULT_LABELS
            basket.add_button(card, card_view, key=f"table_{name}", labels=labels)


def in_words(frame: pd.DataFrame, labels: Labels, columns: Mapping[str, str]) -> pd.DataFrame:
    """`frame` with the codes of some columns in clinical words: `columns` maps a table
    column to the data-model column whose codes it holds ("Term" -> "AETERM")."""
    out = frame.copy()
    for shown, code in columns.items():
        if shown in out:
            out[shown] = [labels.value(code, v) for v in out[shown]]
    return out
