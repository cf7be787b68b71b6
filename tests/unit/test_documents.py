"""Tables as editable Word and Excel files: the same title, view line, cells and
footnote as the CSV, missing cells empty (never "None"), formula-like text kept as text."""

from __future__ import annotations

import io

import docx
import openpyxl
import pandas as pd

from analytics.analyses.tables import table1_view
from analytics.model.filters import FilterState
from analytics.model.labels import DEFAULT
from analytics.report.documents import table_docx, table_xlsx
from analytics.report.frames import side_by_side

HOSTILE = ["=HYPERLINK(\"http://x\")", "+cmd|' /C calc'!A0", "@SUM(A1)", "-2+3"]


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {"Characteristic": ["Age", *HOSTILE], "Value": ["71 [64-78]", "a", "b", "c", "d"],
         "n": [105, 1, None, 3, float("nan")]}
    )


def test_a_word_table_holds_every_cell_title_view_and_footnote(demo_store):
    state = FilterState.parse(["DIALFL=N"])
    table = table1_view(demo_store, state)
    shown = side_by_side({"All patients": table})
    view = f"Filters: {DEFAULT.filters(state)}"
    document = docx.Document(io.BytesIO(table_docx(shown, table.title, view, table.provenance)))
    text = [p.text for p in document.paragraphs]
    assert text[0] == table.title
    assert view in text
    assert table.provenance.footnote() in text
    (word,) = document.tables
    cells = [[c.text for c in row.cells] for row in word.rows]
    assert cells[0] == list(shown.columns)
    assert cells[1:] == shown.astype(str).to_numpy().tolist()
    assert not any(c in ("None", "nan") for row in cells for c in row)


def test_missing_cells_are_empty_and_numbers_stay_numbers():
    document = docx.Document(io.BytesIO(table_docx(frame(), "T", "Filters: none")))
    column = [row.cells[2].text for row in document.tables[0].rows]
    assert column == ["n", "105", "1", "", "3", ""]
    book = openpyxl.load_workbook(io.BytesIO(table_xlsx(frame(), "T", "Filters: none")))
    sheet = book["Table"]
    values = [sheet.cell(row=r, column=3).value for r in range(6, 11)]
    assert values == [105, 1, None, 3, None]


def test_an_excel_sheet_keeps_formula_like_text_as_text():
    book = openpyxl.load_workbook(io.BytesIO(table_xlsx(frame(), "Title", "Filters: none")))
    sheet = book["Table"]
    assert [sheet.cell(row=r, column=1).value for r in (1, 2)] == ["Title", "Filters: none"]
    assert [sheet.cell(row=5, column=c).value for c in (1, 2, 3)] == ["Characteristic",
                                                                       "Value", "n"]
    for r, hostile in enumerate(HOSTILE, start=7):
        cell = sheet.cell(row=r, column=1)
        assert cell.value == hostile
        assert cell.data_type == "s"  # a string, never a formula Excel would run
    assert sheet.freeze_panes == "A6"
