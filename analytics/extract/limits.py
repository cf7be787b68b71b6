"""What one upload may hold, checked on the saved files before any is read into the
database: rows and columns per table file, the length of a line (so of any cell in it),
besides the upload's size and what a zip unpacks to (`analytics.extract.upload`).

Every number is the deployment's (environment variables below); the defaults keep a
2-core, 4 GB server answering while one session loads its upload. Each check reads
only what it needs: a Parquet file's footer, a SAS file's header, an Excel sheet's
dimensions, a text file's bytes counted in blocks (never parsed, never held whole).

- ``DVA_UPLOAD_MB``: every file of one upload together (default 200);
- ``DVA_UNPACKED_MB``: what a zip may unpack to (default 1024);
- ``DVA_MAX_ROWS``: rows of one table file (default 2,000,000);
- ``DVA_MAX_COLUMNS``: columns of one table file (default 500);
- ``DVA_MAX_LINE_KB``: one line of a text file, so any cell in it (default 1024).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pyarrow.parquet as pq

BLOCK = 1 << 22  # bytes read at once when counting lines


@dataclass(frozen=True)
class Limits:
    upload_mb: int = 200
    unpacked_mb: int = 1024
    max_rows: int = 2_000_000
    max_columns: int = 500
    max_line_kb: int = 1024

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ) -> Limits:
        """The deployment's limits; a setting that is not a positive whole number is
        refused with its name (a typo must not lift a limit)."""
        names = {
            "upload_mb": "DVA_UPLOAD_MB",
            "unpacked_mb": "DVA_UNPACKED_MB",
            "max_rows": "DVA_MAX_ROWS",
            "max_columns": "DVA_MAX_COLUMNS",
            "max_line_kb": "DVA_MAX_LINE_KB",
        }
        values: dict[str, int] = {}
        for field_name, env in names.items():
            text = environ.get(env, "").strip().replace("_", "")
            if not text:
                continue
            if not text.isdigit() or int(text) < 1:
                raise ValueError(f"{env}={environ[env]!r}: a positive whole number is needed")
            values[field_name] = int(text)
        return cls(**values)


@dataclass(frozen=True)
class Shape:
    """What a table file holds, as far as the limits ask."""

    rows: int
    columns: int
    longest_line: int = 0  # bytes; text files only


def shape(path: Path, kind: str) -> Shape:
    """The rows and columns of a table file of `kind` (csv, parquet, xpt, xlsx), read
    from its header or footer (a text file's lines counted in blocks)."""
    if kind == "parquet":
        meta = pq.read_metadata(path)
        return Shape(meta.num_rows, meta.num_columns)
    if kind == "xpt":
        import pyreadstat  # only for SAS transport files (see read_sas.stage_xpt)

        _, info = pyreadstat.read_xport(str(path), metadataonly=True)
        columns = int(info.number_columns or 0)
        rows = info.number_rows
        if rows is None:  # a SAS transport file does not say: count from its size
            rows = _xport_rows(path.stat().st_size, columns, info.variable_storage_width)
        return Shape(int(rows), columns)
    if kind == "xlsx":
        book = openpyxl.load_workbook(path, read_only=True)
        try:
            sheet = book.worksheets[0]
            return Shape(max((sheet.max_row or 1) - 1, 0), sheet.max_column or 0)
        finally:
            book.close()
    return _text_shape(path)


def _xport_rows(size: int, columns: int, widths: Mapping[str, int]) -> int:
    """The rows of a SAS transport (XPORT v5) file from its size: headers of 80-byte
    records (library 3, member 4, namestr 1, observations 1) and a 140-byte description
    per column, padded to a record; then the rows, padded to a record, so the count can
    exceed the truth by at most 80 bytes' worth of rows."""
    header = 80 * 9 + -(-140 * columns // 80) * 80
    width = sum(widths.values())
    return max(size - header, 0) // width if width else 0


def _text_shape(path: Path) -> Shape:
    """Lines (less the header), the header's fields and the longest line of a text
    file; quoted line breaks count as lines, which only errs towards the limit."""
    lines = longest = current = 0  # current: bytes of the line not yet ended
    header = b""
    with path.open("rb") as f:
        while block := f.read(BLOCK):
            if lines == 0 and len(header) < BLOCK:
                header += block.split(b"\n", 1)[0]
            parts = block.split(b"\n")  # split and len run in C: no loop per line
            if len(parts) == 1:
                current += len(block)
                continue
            inner = max(map(len, parts[1:-1]), default=0)
            longest = max(longest, current + len(parts[0]), inner)
            lines += len(parts) - 1
            current = len(parts[-1])
        if current:
            longest = max(longest, current)
            lines += 1
    text = header.decode("utf-8", errors="replace").lstrip("\ufeff")
    delimiter = max((",", ";", "\t", "|"), key=text.count)
    columns = text.count(delimiter) + 1 if text.strip() else 0
    return Shape(max(lines - 1, 0), columns, longest)


def problem(name: str, found: Shape, limits: Limits) -> str | None:
    """Why the table file `name` of this shape may not be uploaded (None: it may)."""
    if found.columns > limits.max_columns:
        return (
            f"{name}: {found.columns:,} columns; an upload may have at most "
            f"{limits.max_columns:,} per file (DVA_MAX_COLUMNS)."
        )
    if found.rows > limits.max_rows:
        return (
            f"{name}: {found.rows:,} rows; an upload may have at most {limits.max_rows:,} per "
            "file (DVA_MAX_ROWS). Larger extracts are configured as a data folder."
        )
    if found.longest_line > limits.max_line_kb * 1024:
        return (
            f"{name}: a line of {found.longest_line / 1024:,.0f} KB; an upload's lines (so "
            f"its cells) may be at most {limits.max_line_kb:,} KB (DVA_MAX_LINE_KB)."
        )
    return None
