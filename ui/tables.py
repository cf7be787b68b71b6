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

from analytics.model.labels import Labels
from analytics.model.provenance import Provenance
from analytics.model.view import View
from analytics.report.frames import table_csv

ROW_PX = 35  # st.dataframe's row height
MAX_ROWS = 40


def height(rows: int) -> int:
    """Pixels that show `rows` rows and the header without scrolling, up to MAX_ROWS."""
    return ROW_PX * (min(rows, MAX_ROWS) + 1) + 3


def _csv(
    frame: pd.DataFrame, title: str, view: str, provenance: Provenance | None
) -> Callable[[], bytes]:
    def make() -> bytes:
        return table_csv(frame, title, view, provenance)

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
) -> None:
    """`frame` as an interactive table (key ``<name>_table``), then its download button
    (key ``<name>_download``), labelled "Download: <title> (CSV)" unless `label` says
    otherwise, saving ``<name>.csv`` unless `file_name` says otherwise. The CSV prints
    `view` in words (None: a table no filter touches, such as published figures)."""
    st.dataframe(
        frame,
        hide_index=True,
        column_config=dict(column_config or {}),
        height=height(len(frame)),
        key=f"{name}_table",
    )
    st.download_button(
        label or f"Download: {title} (CSV)",
        _csv(frame, title, view.describe() if view else "Filters: none", provenance),
        file_name=file_name or f"{name}.csv",
        mime="text/csv",
        on_click="ignore",
        key=f"{name}_download",
    )


def in_words(frame: pd.DataFrame, labels: Labels, columns: Mapping[str, str]) -> pd.DataFrame:
    """`frame` with the codes of some columns in clinical words: `columns` maps a table
    column to the data-model column whose codes it holds ("Term" -> "AETERM")."""
    out = frame.copy()
    for shown, code in columns.items():
        if shown in out:
            out[shown] = [labels.value(code, v) for v in out[shown]]
    return out
