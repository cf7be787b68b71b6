"""A table as an editable Word table (python-docx) or an Excel sheet (openpyxl), with
the same title, view line and provenance footnote as its CSV (`frames.table_csv`).

A committee secretary restyles these rather than retyping them. Text that a spreadsheet
would run as a formula (`=`, `+`, `-`, `@`...) is stored as text, never as a formula.
"""

from __future__ import annotations

import io
import math

import pandas as pd
from docx import Document
from docx.shared import Pt
from openpyxl import Workbook
from openpyxl.styles import Font

from analytics.model.provenance import Provenance

MISSING = ""  # an empty cell, never "None" or "nan"


def _cell(value: object) -> object:
    """A frame value as a document cell: numbers stay numbers, missing is empty."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return MISSING
    if isinstance(value, (bool, int, float, str)):
        return value
    try:
        return value.item()  # type: ignore[attr-defined]  # a numpy scalar
    except AttributeError:
        return str(value)


def _text(value: object) -> str:
    cell = _cell(value)
    if isinstance(cell, float):
        return f"{cell:.10g}"
    return str(cell)


def table_docx(
    frame: pd.DataFrame, title: str, view: str, provenance: Provenance | None = None
) -> bytes:
    """A Word document: the title, the view line, the table (a real Word table, header
    row repeated on every page) and the provenance footnote."""
    doc = Document()
    doc.add_heading(title, level=2)
    doc.add_paragraph(view)
    table = doc.add_table(rows=1, cols=len(frame.columns))
    table.style = "Table Grid"
    header = table.rows[0]
    for cell, name in zip(header.cells, frame.columns, strict=True):
        cell.text = str(name)
        for run in cell.paragraphs[0].runs:
            run.bold = True
    header_props = header._tr.get_or_add_trPr()  # repeat the header on every page
    header_props.append(header_props.makeelement(
        "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}tblHeader", {}))
    for row in frame.itertuples(index=False):
        cells = table.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            cell.text = _text(value)
    if provenance is not None:
        note = doc.add_paragraph(provenance.footnote())
        for run in note.runs:
            run.font.size = Pt(8)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def table_xlsx(
    frame: pd.DataFrame, title: str, view: str, provenance: Provenance | None = None
) -> bytes:
    """An Excel workbook of one sheet: title, view line and footnote above the table,
    whose header row is frozen."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Table"
    head = [title, view, provenance.footnote() if provenance is not None else ""]
    for i, text in enumerate(head, start=1):
        sheet.cell(row=i, column=1, value=text).data_type = "s"
    sheet.cell(row=1, column=1).font = Font(bold=True)
    first = len(head) + 2
    for j, name in enumerate(frame.columns, start=1):
        cell = sheet.cell(row=first, column=j, value=str(name))
        cell.data_type = "s"
        cell.font = Font(bold=True)
    for i, row in enumerate(frame.itertuples(index=False), start=first + 1):
        for j, value in enumerate(row, start=1):
            cell = sheet.cell(row=i, column=j, value=_cell(value))
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text, even when it starts like a formula
    sheet.freeze_panes = sheet.cell(row=first + 1, column=1)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()
