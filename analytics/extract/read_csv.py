"""Staging a delimited text (CSV) file.

The delimiter is taken from the header line (comma, semicolon, tab or bar); UTF-16 and
non-UTF-8 files (read as Windows-1252 or Latin-1) are converted and reported with a
warning. Well-formed files are read by DuckDB; a file DuckDB refuses (a row with too
many values, a stray quote), or reads into records that are not its lines (blank lines,
values holding line breaks), is read again by Python's csv module so that each broken
row is rejected and named instead of the whole file. A quote that is never closed would
swallow the lines after it into one value: its line is rejected and the lines after it
are read as rows. One value may hold up to `FIELD_LIMIT` characters.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import duckdb

from analytics.extract.discovery import Source
from analytics.extract.issues import DataError, DataIssue, short_message
from analytics.extract.staged import BATCH, CHUNK, Staged, blank_note, finish, insert_rows

_DELIMITERS = (",", ";", "\t", "|")
_DELIM_NAME = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "vertical bars"}


class _RecheckError(Exception):
    """DuckDB read the file, but into records that are not its lines."""


def _detect_encoding(path: Path, label: str) -> tuple[str, str | None]:
    """(Python codec, warning or None). UTF-8 (with or without BOM) needs no warning."""
    with path.open("rb") as fh:
        head = fh.read(CHUNK)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", "the file is UTF-16 text, not UTF-8: read as UTF-16"
    if b"\x00" in head:
        even, odd = head[0::2].count(0), head[1::2].count(0)
        if odd > len(head) // 4 and even == 0:
            return "utf-16-le", "the file is UTF-16 text, not UTF-8: read as UTF-16"
        if even > len(head) // 4 and odd == 0:
            return "utf-16-be", "the file is UTF-16 text, not UTF-8: read as UTF-16"
        raise DataError.of(label, "is not a text file (it contains NUL bytes); "
                           "export the table as CSV text")
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                return _fallback_codec(path, offset + exc.start)
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            return _fallback_codec(path, offset + exc.start)
    return "utf-8-sig", None


def _fallback_codec(path: Path, bad: int) -> tuple[str, str]:
    data = path.read_bytes()
    line = data.count(b"\n", 0, bad) + 1
    try:
        data.decode("cp1252")
        codec, name = "cp1252", "Windows-1252 (Western European)"
    except UnicodeDecodeError:
        codec, name = "latin-1", "Latin-1 (ISO-8859-1)"
    return codec, (f"the file is not UTF-8 (first non-UTF-8 byte on line {line}): read as "
                   f"{name}; check accented letters, or save the file as UTF-8")


def _header_line(path: Path) -> str:
    with path.open("r", encoding="utf-8-sig", newline="") as fh:
        return fh.readline(1 << 20)


def _pick_delimiter(line: str) -> str:
    counts = {d: 0 for d in _DELIMITERS}
    quoted = False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(_DELIMITERS, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def stage_csv(con: duckdb.DuckDBPyConnection, source: Source, rel: str, workdir: Path
              ) -> Staged:
    path = source.path
    if path.stat().st_size == 0:
        raise DataError.of(source.label, "the file is empty")
    notes: list[DataIssue] = []
    codec, warning = _detect_encoding(path, source.label)
    if warning:
        notes.append(DataIssue(source.label, None, None, None, "warning", warning))
        converted = workdir / f"{rel}.csv"
        try:
            with path.open("r", encoding=codec, newline="") as src, \
                    converted.open("w", encoding="utf-8", newline="") as out:
                while chunk := src.read(CHUNK):
                    out.write(chunk)
        except UnicodeError as exc:
            raise DataError.of(source.label, f"cannot be decoded as text ({short_message(exc)})"
                               ) from None
        path = converted
    try:
        header_text = _header_line(path)
    except UnicodeError as exc:
        raise DataError.of(source.label,
                           f"cannot be decoded as text ({short_message(exc)})") from None
    if not header_text.strip():
        raise DataError.of(source.label, "the first line (the header) is empty")
    delim = _pick_delimiter(header_text)
    decimal_comma = delim == ";"
    if delim != ",":
        extra = ", and decimal commas (27,5) as decimal points" if decimal_comma else ""
        notes.append(DataIssue(source.label, None, None, None, "warning",
                               f"columns are separated by {_DELIM_NAME[delim]}, not commas: "
                               f"read as such{extra}"))
    try:
        header = next(csv.reader(io.StringIO(header_text), delimiter=delim), [])
    except csv.Error as exc:
        raise DataError.of(source.label,
                           f"the header cannot be read ({short_message(exc)})") from None
    if not header:
        raise DataError.of(source.label, "the first line (the header) is empty")
    n = len(header)
    cols = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(1, n + 1))
    table = f"{rel}_data"
    delim_sql = {"\t": "\\t"}.get(delim, delim)
    try:
        con.execute(
            f'CREATE TABLE "{table}" AS SELECT * FROM read_csv(?, columns = {{{cols}}}, '
            f"header = true, auto_detect = false, delim = '{delim_sql}', quote = '\"', "
            "escape = '\"', nullstr = '', strict_mode = true)",
            [str(path)],
        )
        # DuckDB numbers records and skips blank lines (or, with one column, reads them
        # as empty rows); where records and lines differ (blank lines, values holding
        # line breaks, a quote swallowing lines), Python reads the file instead,
        # numbering rows by their position and flagging what a stray quote took in
        read = con.execute(f'SELECT count(*) FROM "{table}"').fetchone()
        if n == 1 or (read[0] if read else 0) != _count_lines(path) - 1:
            raise _RecheckError
        # rowid follows the file's order: the loader preserves insertion order
        con.execute(
            f'CREATE VIEW "{rel}" AS SELECT rowid + 1 AS __row, CAST(NULL AS VARCHAR) AS __err, '
            f'CAST(NULL AS VARCHAR) AS __extra, * FROM "{table}"'
        )
    except (duckdb.Error, _RecheckError):
        con.execute(f'DROP TABLE IF EXISTS "{table}"')
        notes += _csv_by_python(con, source, path, rel, delim, n)
    return finish(con, source, rel, header, notes, decimal_comma)


# Python's csv module refuses a value over 131,072 characters by default; a free-text
# column can hold more. Up to FIELD_LIMIT characters per value are read; a longer value
# refuses the file with a message naming its line.
FIELD_LIMIT = 16 * 1024 * 1024


def _count_lines(path: Path) -> int:
    """Physical lines of a file (a last line without a line break counts)."""
    lines = 0
    last = b""
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return lines + (1 if last not in (b"", b"\n") else 0)


class _Lines:
    """The physical lines of an open text file, numbered from 1, as the csv module
    pulls them: `taken` holds the lines of the record being read, and `push_back`
    hands lines out again (to re-read what a stray quote swallowed)."""

    def __init__(self, fh: IO[str]) -> None:
        self._fh = fh
        self._read = 0
        self._pending: list[tuple[int, str]] = []  # reversed: the next line is last
        self.taken: list[tuple[int, str]] = []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if self._pending:
            item = self._pending.pop()
        else:
            line = self._fh.readline()
            if not line:
                raise StopIteration
            self._read += 1
            item = (self._read, line)
        self.taken.append(item)
        return item[1]

    def push_back(self, items: list[tuple[int, str]]) -> None:
        self._pending.extend(reversed(items))


def _reader(lines: Iterable[str], delim: str, strict: bool = False) -> Iterator[list[str]]:
    return csv.reader(lines, delimiter=delim, quotechar='"', doublequote=True, strict=strict)


def _alone(line: str, delim: str) -> list[str]:
    """The values of one physical line read on its own (an open quote runs to its end)."""
    return next(_reader([line.rstrip("\r\n")], delim), [])


def _closed(taken: list[tuple[int, str]], delim: str) -> bool:
    """Whether the record's quotes are all closed (False: it ran to the end of the file)."""
    try:
        for _ in _reader(io.StringIO("".join(line for _, line in taken), newline=""), delim,
                         strict=True):
            pass
    except csv.Error:
        return False
    return True


def _stray_quote(taken: list[tuple[int, str]], fields: list[str] | None, n: int,
                 delim: str) -> bool:
    """Whether a record spanning several lines is a stray quote swallowing rows rather
    than a value holding line breaks: its value count is wrong, or a line it swallowed
    reads on its own as a whole row (`fields` is None when the record broke off)."""
    if len(taken) < 2:
        return False
    if fields is not None and len(fields) != n:
        return True
    if (fields is not None and _closed(taken, delim)
            and len(taken[0][1].rstrip("\r\n").split(delim)) != n):
        # the header's number of values and every quote closed, and the first line is
        # not a whole row once its quote is taken as a plain character: a value holding
        # line breaks, kept (and named in a warning, should a quote be unbalanced there)
        return False
    return n > 1 and any(len(_alone(line, delim)) == n for _, line in taken[1:])


@dataclass
class _CsvRow:
    number: int
    err: str | None
    extra: str | None
    values: list[str | None]


_RAGGED = ("has {count} values but the header has {n} columns (a value may hold an unquoted "
           "delimiter or a stray quote)")
_STRAY = ('has a quote (") on line {line} of the file that is never closed, so the {more} '
          "line(s) after it would be read as part of one value: the row is rejected and "
          "the lines after it are read as rows")


def _padded(fields: list[str], n: int) -> list[str | None]:
    values: list[str | None] = [None if f == "" else f for f in fields[:n]]
    return values + [None] * (n - len(values))


def _csv_rows(path: Path, delim: str, n: int, label: str, blanks: list[tuple[int, int]],
              spanning: list[tuple[int, int, int]] | None = None) -> Iterator[_CsvRow]:
    """The data rows of a CSV file, numbered in file order: a blank line keeps its
    number and is skipped ((row, line) of those followed by a row go to `blanks`); a
    row that cannot be split into the header's columns says why; a row whose values
    hold line breaks goes to `spanning` as (row, first line, last line).

    A quote that is never closed would swallow the lines after it into one value:
    when a record spanning several lines looks like that (see `_stray_quote`), the
    line holding the quote is rejected on its own and the lines after it are read
    again as rows, so that no row disappears into a value."""
    csv.field_size_limit(max(csv.field_size_limit(), FIELD_LIMIT))
    with path.open("r", encoding="utf-8-sig", newline="") as fh:
        lines = _Lines(fh)
        next(lines, None)  # the header: its first line, as the caller read it
        reader = _reader(lines, delim)
        number = 0
        waiting: list[tuple[int, int]] = []  # blank lines not yet followed by a row
        while True:
            lines.taken = []
            fields: list[str] | None
            failure: csv.Error | None = None
            try:
                fields = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                fields, failure = None, exc
            taken = lines.taken
            if failure is None and not fields:
                number += 1
                waiting.append((number, taken[0][0] if taken else 0))
                continue
            stray = _stray_quote(taken, fields, n, delim)
            if failure is not None and not stray:
                at = f"line {taken[-1][0]}" if taken else "the end of the file"
                if "field larger than field limit" in str(failure):
                    raise DataError.of(label, f"a value on {at} is longer than "
                                       f"{FIELD_LIMIT:,} characters, the most one CSV value "
                                       "may hold") from None
                raise DataError.of(label, f"cannot be read as CSV ({at}: "
                                   f"{short_message(failure)})") from None
            number += 1
            blanks += waiting
            waiting = []
            err: str | None = None
            if stray:
                start, line = taken[0]
                lines.push_back(taken[1:])
                reader = _reader(lines, delim)
                fields = _alone(line, delim)
                err = _STRAY.format(line=start, more=len(taken) - 1)
            else:
                assert fields is not None
                if len(fields) != n:
                    err = _RAGGED.format(count=len(fields), n=n)
                elif len(taken) > 1 and spanning is not None:
                    spanning.append((number, taken[0][0], taken[-1][0]))
            extra = delim.join(fields[n:]) or None if err else None
            yield _CsvRow(number, err, extra, _padded(fields, n))


def _csv_by_python(con: duckdb.DuckDBPyConnection, source: Source, path: Path, rel: str,
                   delim: str, n: int) -> list[DataIssue]:
    """The slow path for a file DuckDB refuses, or reads into records that are not its
    lines: every row is kept, broken ones flagged; returns the file's notes."""
    con.execute(
        f'CREATE TABLE "{rel}" (__row BIGINT, __err VARCHAR, __extra VARCHAR, '
        + ", ".join(f"c{i} VARCHAR" for i in range(1, n + 1)) + ")"
    )
    batch: list[list[object]] = []
    blanks: list[tuple[int, int]] = []
    spanning: list[tuple[int, int, int]] = []
    for row in _csv_rows(path, delim, n, source.label, blanks, spanning):
        batch.append([row.number, row.err, row.extra, *row.values])
        if len(batch) >= BATCH:
            insert_rows(con, rel, batch, n)
            batch = []
    insert_rows(con, rel, batch, n)
    notes = [blank_note(source.label, blanks, "line", "line")] if blanks else []
    if spanning:
        at, first, last = spanning[0]
        many = len(spanning)
        notes.append(DataIssue(
            source.label, at, None, None, "warning",
            f"{many} row{'s' * (many > 1)} hold{'s' * (many == 1)} values with line breaks "
            f"(the first is row {at}, lines {first}-{last} of the file), each read as one "
            "value; if a quote was left open there, lines may have been joined into it. "
            "Row numbers count rows, so after such a row they no longer equal line - 1"))
    return notes
