"""Staging one sheet of an Excel workbook (.xlsx), every cell as the text a CSV export
would hold. A workbook's formulas are read as the values it saved with them; a formula
without one (a workbook written by a program that does not compute) is reported per
cell.
"""

from __future__ import annotations

import datetime as dt
import re
from xml.etree import ElementTree

import duckdb

from analytics.extract.discovery import Source
from analytics.extract.issues import DataError, DataIssue, short_message
from analytics.extract.staged import BATCH, CHUNK, Staged, blank_note, finish, insert_rows


def _cell_text(value: object) -> str | None:
    """A spreadsheet cell as the text a CSV export would hold."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    text = str(value)
    return text if text != "" else None


def stage_xlsx(con: duckdb.DuckDBPyConnection, source: Source, rel: str) -> Staged:
    import openpyxl

    try:
        book = openpyxl.load_workbook(source.path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken workbook
        raise DataError.of(source.label, "cannot be read as an Excel workbook (.xlsx): "
                           f"{short_message(exc, source.path, source.label)}") from None
    notes: list[DataIssue] = []
    try:
        sheet = book[source.sheet] if source.sheet else book.worksheets[0]
        # the size a workbook declares may be wrong (some writers leave it stale): every
        # row and cell the sheet holds is read, whatever it declares
        sheet.reset_dimensions()
        rows = sheet.iter_rows(values_only=True)
        header_cells = next(rows, None)
        if header_cells is None:
            raise DataError.of(source.label, "the sheet is empty")
        header = [_cell_text(c) for c in header_cells]
        while header and header[-1] is None:
            header.pop()
        if not header:
            raise DataError.of(source.label, "the sheet has no header row")
        n = len(header)
        names = [h if h is not None else "" for h in header]
        con.execute(
            f'CREATE TABLE "{rel}" (__row BIGINT, __err VARCHAR, __extra VARCHAR, '
            + ", ".join(f"c{i} VARCHAR" for i in range(1, n + 1)) + ")"
        )
        batch: list[list[object]] = []
        blanks: list[tuple[int, int]] = []
        waiting: list[tuple[int, int]] = []  # blank rows not yet followed by a row
        # a row keeps its place: row N is spreadsheet row N + 1, blank rows between
        for number, cells in enumerate(rows, start=1):
            values = [_cell_text(c) for c in cells]
            if all(v is None for v in values):
                waiting.append((number, number + 1))
                continue
            blanks += waiting
            waiting = []
            extra = [v for v in values[n:] if v is not None]
            values = (values + [None] * n)[:n]
            err = (f"has values beyond the last named column ({len(extra)} more)"
                   if extra else None)
            batch.append([number, err, "|".join(extra) if extra else None, *values])
            if len(batch) >= BATCH:
                insert_rows(con, rel, batch, n)
                batch = []
        insert_rows(con, rel, batch, n)
        if blanks:
            notes.append(blank_note(source.label, blanks, "row", "spreadsheet row"))
        notes += _unsaved_formulas(book, sheet, source.label, names)
    except DataError:
        raise
    except Exception as exc:  # a corrupt sheet fails while streaming its rows
        raise DataError.of(source.label, "cannot be read as an Excel sheet "
                           f"({short_message(exc, source.path, source.label)})") from None
    finally:
        book.close()
    return finish(con, source, rel, names, notes)


_FORMULA_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")
_NO_SAVED_VALUE = ("formula with no saved value (open and save the workbook in Excel to "
                   "compute it); read as missing")
_MAX_LISTED = 1000


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _unsaved_formulas(book: object, sheet: object, label: str,
                      names: list[str]) -> list[DataIssue]:
    """A warning per cell holding a formula without a saved result: a workbook written
    by a program that does not compute formulas (Excel saves the result beside each
    formula), which openpyxl reads as an empty cell. The sheet's XML is searched for
    formulas first, and parsed only when it holds some."""
    archive = getattr(book, "_archive", None)
    member = getattr(sheet, "_worksheet_path", None)
    if archive is None or not isinstance(member, str):
        return []
    with archive.open(member) as fh:
        tail = b""
        while chunk := fh.read(CHUNK):
            if _FORMULA_TAG.search(tail + chunk):
                break
            tail = chunk[-64:]
        else:
            return []
    found: list[tuple[int, int, str | None]] = []
    more = 0
    row = col = 0
    with archive.open(member) as fh:
        for event, elem in ElementTree.iterparse(fh, events=("start", "end")):
            tag = _local(elem.tag)
            if event == "start":
                if tag == "row":
                    row = int(elem.get("r") or row + 1)
                    col = 0
                continue
            if tag == "c":
                ref = elem.get("r")
                col = _column_of(ref) if ref else col + 1
                parts = {_local(child.tag): child for child in elem}
                if "f" in parts and _no_value(elem, parts) and row > 1 and col <= len(names):
                    if len(found) < _MAX_LISTED:
                        text = parts["f"].text
                        found.append((row - 1, col, f"={text}" if text else None))
                    else:
                        more += 1
                elem.clear()
            elif tag == "row":
                elem.clear()
    notes = [DataIssue(label, r, names[c - 1] or None, value, "warning", _NO_SAVED_VALUE)
             for r, c, value in found]
    if more:
        notes.append(DataIssue(label, None, None, None, "warning",
                               f"{more} more cells hold a formula with no saved value"))
    return notes


def _no_value(cell: ElementTree.Element, parts: dict[str, ElementTree.Element]) -> bool:
    """A formula cell without a result: no value element, or an empty one (as openpyxl
    writes) where only a text result may be empty."""
    if "is" in parts:
        return False
    value = parts.get("v")
    return value is None or (not value.text and cell.get("t") not in ("str", "s"))


def _column_of(ref: str) -> int:
    letters = "".join(ch for ch in ref if ch.isalpha()).upper()
    number = 0
    for ch in letters:
        number = number * 26 + ord(ch) - ord("A") + 1
    return number
