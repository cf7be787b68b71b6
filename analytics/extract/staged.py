"""A file staged in DuckDB, and what every reader shares.

Every file is staged as a relation with columns ``__row`` (data-row number, 1 = first
row under the header), ``__err`` (why the row could not be split into columns, else
NULL), ``__extra`` (values beyond the header's last column) and ``c1..cn`` in file
order; the header names stay in Python. So no text from a file ever becomes SQL, and a
file whose header is garbage still loads far enough to be reported.

Rows keep their place in the file: row N is line N + 1 of a CSV file (a value holding
line breaks counts as one row) and row N + 1 of a sheet. Blank lines and rows hold no
data: they are skipped, not counted as rows read, and reported once per file when rows
follow them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from analytics.extract.discovery import Source
from analytics.extract.issues import DataIssue

CHUNK = 1 << 20
BATCH = 50_000


@dataclass
class Staged:
    source: Source
    relation: str
    names: list[str]
    types: list[str]
    rows: int
    notes: list[DataIssue] = field(default_factory=list)
    decimal_comma: bool = False
    labels: dict[str, str] = field(default_factory=dict)  # column as read -> the file's label


def sql_path(path: Path) -> str:
    # a view must hold its file's path as a literal (views keep no parameters); the
    # path comes from the folder listing, and quotes are escaped all the same
    return str(path.resolve()).replace("'", "''")


def positional(n: int) -> list[str]:
    return [f"c{i}" for i in range(1, n + 1)]


def drop_relations(con: duckdb.DuckDBPyConnection, *names: str) -> None:
    for name in names:
        kinds = con.execute(
            "SELECT table_type FROM information_schema.tables WHERE table_name = ?", [name]
        ).fetchall()
        for (kind,) in kinds:
            what = "VIEW" if str(kind).upper() == "VIEW" else "TABLE"
            con.execute(f'DROP {what} IF EXISTS "{name}"')


def finish(con: duckdb.DuckDBPyConnection, source: Source, rel: str, names: list[str],
           notes: list[DataIssue], decimal_comma: bool = False) -> Staged:
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? "
        "ORDER BY ordinal_position", [rel]).fetchall()
    types = {str(n): str(t) for n, t in rows}
    count = con.execute(f'SELECT count(*) FROM "{rel}"').fetchone()
    return Staged(source, rel, names, [types[c] for c in positional(len(names))],
                  int(count[0]) if count else 0, notes, decimal_comma)


def insert_rows(con: duckdb.DuckDBPyConnection, rel: str, batch: list[list[object]],
                n: int) -> None:
    if not batch:
        return
    frame = pd.DataFrame(batch, columns=["__row", "__err", "__extra", *positional(n)],
                         dtype="object")
    frame["__row"] = frame["__row"].astype("int64")
    name = f"_batch_{rel}"
    con.register(name, frame)
    try:
        con.execute(f'INSERT INTO "{rel}" SELECT * FROM "{name}"')
    finally:
        con.unregister(name)


def blank_note(label: str, blanks: list[tuple[int, int]], what: str, where: str
               ) -> DataIssue:
    many = len(blanks)
    row, at = blanks[0]
    return DataIssue(label, None, None, None, "warning",
                     f"{many} blank {what}{'s' * (many > 1)} skipped (the first is row {row}, "
                     f"{where} {at}): they hold no data and are not counted as rows read; the "
                     "rows after them keep their numbers in the file")
