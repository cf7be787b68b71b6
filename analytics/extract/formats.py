"""Finding the tables of an extract and reading each file into DuckDB as text-faithful
staging relations.

An extract is a folder of table files (CSV, Parquet, SAS transport, Excel), or a
registry: a folder of such folders, one per study or site. Every file is staged as
a relation with columns ``__row`` (data-row number, 1 = first row under the header),
``__err`` (why the row could not be split into columns, else NULL), ``__extra``
(values beyond the header's last column) and ``c1..cn`` in file order; the header
names stay in Python. So no text from a file ever becomes SQL, and a file whose
header is garbage still loads far enough to be reported.

CSV: the delimiter is taken from the header line (comma, semicolon, tab or bar);
UTF-16 and non-UTF-8 files (read as Windows-1252 or Latin-1) are converted and
reported with a warning. Well-formed files are read by DuckDB; a file DuckDB refuses
(a row with too many values, a stray quote), or reads into records that are not its
lines (blank lines, values holding line breaks), is read again by Python's csv module
so that each broken row is rejected and named instead of the whole file. A quote that
is never closed would swallow the lines after it into one value: its line is rejected
and the lines after it are read as rows. One value may hold up to `FIELD_LIMIT`
characters.

Rows keep their place in the file: row N is line N + 1 of a CSV file (a value holding
line breaks counts as one row) and row N + 1 of a sheet. Blank lines and rows hold no
data: they are skipped, not counted as rows read, and reported once per file when rows
follow them. A workbook's formulas are read as the values it saved with them; a formula
without one (a workbook written by a program that does not compute) is reported per
cell. A time zone-aware Parquet timestamp is read as the wall time of its zone, so a
date stored as local midnight keeps its calendar day.

An extract may also be one file: a wide file, or a workbook with a sheet per table.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from xml.etree import ElementTree

import duckdb
import pandas as pd
import pyreadstat

from analytics.extract.issues import DataError, DataIssue
from analytics.extract.mapping import TABLE_NAMES, ExtractMapping, find_mapping, load_mapping

DATA_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".xpt": "xpt",
                 ".xlsx": "xlsx"}
# Named in messages when a file looks like data but is not one of the formats.
_OTHER_DATA = {".xls": "an old Excel file: save it as .xlsx", ".sas7bdat":
               "a SAS dataset: export it as SAS transport (.xpt)",
               ".txt": "a text file: name it .csv if it is comma- or semicolon-separated",
               ".tsv": "a tab-separated file: name it .csv"}
MANIFEST = "dataset.json"
_CHUNK = 1 << 20
_BATCH = 50_000


@dataclass(frozen=True)
class Source:
    """One table held by one file (or one sheet of a workbook)."""

    table: str
    path: Path
    fmt: str
    label: str
    sheet: str | None = None


@dataclass(frozen=True)
class Study:
    """One extract: the whole input, or one sub-folder of a registry."""

    name: str
    folder: Path
    sources: tuple[Source, ...]
    mapping: ExtractMapping | None = None


@dataclass(frozen=True)
class Layout:
    root: Path
    studies: tuple[Study, ...]
    registry: bool
    notes: tuple[DataIssue, ...] = ()
    files: tuple[Path, ...] = ()


@dataclass
class Staged:
    source: Source
    relation: str
    names: list[str]
    types: list[str]
    rows: int
    notes: list[DataIssue] = field(default_factory=list)
    decimal_comma: bool = False


# --- discovery -----------------------------------------------------------------------


def _visible(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if not p.name.startswith((".", "~$")))


def _has_data(folder: Path) -> bool:
    return any(p.is_file() and p.suffix.lower() in (*DATA_SUFFIXES, *_OTHER_DATA)
               for p in _visible(folder))


def discover(src: Path, mapping_file: Path | None = None) -> Layout:
    """The studies and table files of `src`, or a DataError naming what is missing."""
    src = Path(src)
    if not src.exists():
        raise DataError.of(str(src), "no such file or folder")
    if src.is_file():
        return _single_file(src, mapping_file)
    if not src.is_dir():
        raise DataError.of(str(src), "expected a folder holding adsl and adtte (or one wide "
                           f"file) as {', '.join(sorted(DATA_SUFFIXES))} files")
    notes: list[DataIssue] = []
    files: list[Path] = []
    explicit = load_mapping(mapping_file) if mapping_file is not None else None
    if mapping_file is not None:
        files.append(Path(mapping_file))
    root_map_path = find_mapping(src)
    root_map = explicit
    if explicit is None and root_map_path is not None:
        root_map = load_mapping(root_map_path)
        files.append(root_map_path)
    elif root_map_path is not None:
        notes.append(DataIssue(root_map_path.name, None, None, None, "warning",
                               f"not used: --mapping {Path(mapping_file or '').name} "
                               "was given instead"))
    own, own_notes = _scan(src, "", root_map)
    subdirs = [p for p in _visible(src) if p.is_dir() and _has_data(p)]
    if own and subdirs:
        raise DataError.of(src.name, "holds both an extract and sub-folders with extracts "
                           f"({subdirs[0].name}); put each extract in its own folder")
    if own or not subdirs:
        study = _study(src, src.name, root_map, own)
        files += [s.path for s in study.sources]
        if (src / MANIFEST).exists():
            files.append(src / MANIFEST)
        return Layout(src, (study,), False, (*notes, *own_notes), tuple(dict.fromkeys(files)))
    notes += own_notes
    studies: list[Study] = []
    errors: list[DataError] = []
    for sub in subdirs:
        try:
            study_map = root_map
            sub_map = find_mapping(sub)
            if sub_map is not None and explicit is not None:
                notes.append(DataIssue(f"{sub.name}/{sub_map.name}", None, None, None, "warning",
                                       "not used: --mapping was given instead"))
            elif sub_map is not None:
                study_map = load_mapping(sub_map, f"{sub.name}/{sub_map.name}")
                files.append(sub_map)
            found, sub_notes = _scan(sub, f"{sub.name}/", study_map)
            notes += sub_notes
            study = _study(sub, sub.name, study_map, found)
            studies.append(study)
            files += [s.path for s in study.sources]
        except DataError as exc:
            errors.append(exc)
    if errors:
        raise DataError.collect(errors)
    if (src / MANIFEST).exists():
        files.append(src / MANIFEST)
    return Layout(src, tuple(studies), True, tuple(notes), tuple(dict.fromkeys(files)))


_ONE_FILE = ("a single file is read as a wide file (one row per patient with event dates, "
             "see data/README.md) or as a workbook with a sheet per table")


def _single_file(path: Path, mapping_file: Path | None) -> Layout:
    """An extract given as one file: a wide file (CSV, Parquet, SAS transport or a
    one-sheet workbook, whatever its name, unless the name or the mapping makes it
    another table), or a workbook with a sheet per table. Only an explicit mapping file
    applies (the folder around the file is not the extract's)."""
    label = path.name
    suffix = path.suffix.lower()
    if suffix == ".zip":
        raise DataError.of(label, "a zip file is not read directly: unpack it and give the "
                           "folder (the dashboard's Data page accepts zips as uploads)")
    if suffix in _OTHER_DATA:
        raise DataError.of(label, f"cannot be read: {_OTHER_DATA[suffix]}")
    fmt = DATA_SUFFIXES.get(suffix)
    if fmt is None:
        raise DataError.of(label, "expected a folder holding an extract, or one table file "
                           f"({', '.join(sorted(DATA_SUFFIXES))}): {_ONE_FILE}")
    mapping = load_mapping(mapping_file) if mapping_file is not None else None
    files = [Path(mapping_file)] if mapping_file is not None else []
    notes: list[DataIssue] = []
    table = _table_of(path.stem, mapping)
    if fmt != "xlsx":
        sources = [Source(table or "wide", path, fmt, label)]
    elif table is not None:
        sources = _sheets(path, label, table, mapping, notes)
    else:
        names = _sheet_names(path, label)
        if any(_table_of(s, mapping) for s in names):
            sources = _sheets(path, label, None, mapping, notes)
        elif len(names) == 1:
            sources = [Source("wide", path, "xlsx", label, names[0])]
        else:
            raise DataError.of(label, f"has {len(names)} sheets and none is named adsl, adtte "
                               f"or wide: {_ONE_FILE}")
    tables = {s.table for s in sources}
    if "wide" not in tables and not {"adsl", "adtte"} <= tables:
        held = ", ".join(sorted(tables)) or "no table"
        raise DataError.of(label, f"holds {held} only: {_ONE_FILE}; for separate adsl and "
                           "adtte files give the folder holding them")
    study = _study(path, path.stem, mapping, sources)
    return Layout(path, (study,), False, tuple(notes),
                  tuple(dict.fromkeys([*files, *(s.path for s in study.sources)])))


def _table_of(name: str, mapping: ExtractMapping | None) -> str | None:
    key = name.lower()
    if mapping is not None and key in mapping.files:
        return mapping.files[key]
    return key if key in TABLE_NAMES else None


def _not_read(label: str, why: str) -> DataIssue:
    return DataIssue(label, None, None, None, "warning", f"not read: {why}")


def _scan(folder: Path, prefix: str, mapping: ExtractMapping | None
          ) -> tuple[list[Source], list[DataIssue]]:
    sources: list[Source] = []
    notes: list[DataIssue] = []
    for path in _visible(folder):
        if not path.is_file():
            continue
        suffix = path.suffix.lower()
        label = f"{prefix}{path.name}"
        if suffix in _OTHER_DATA:
            if _table_of(path.stem, mapping):
                raise DataError.of(label, f"cannot be read: {_OTHER_DATA[suffix]}")
            notes.append(_not_read(label, _OTHER_DATA[suffix]))
            continue
        fmt = DATA_SUFFIXES.get(suffix)
        if fmt is None:
            continue
        table = _table_of(path.stem, mapping)
        if fmt == "xlsx":
            sources += _sheets(path, label, table, mapping, notes)
        elif table is None:
            notes.append(_not_read(label, "not a table of the data model (name it adsl, adtte, "
                                   "visits, adae or wide, or map it in mapping.toml [files])"))
        else:
            sources.append(Source(table, path, fmt, label))
    return sources, notes


def _sheets(path: Path, label: str, table: str | None, mapping: ExtractMapping | None,
            notes: list[DataIssue]) -> list[Source]:
    names = _sheet_names(path, label)
    if table is not None:
        named = [s for s in names if s.lower() == table]
        if named:
            return [Source(table, path, "xlsx", f"{label}, sheet {named[0]}", named[0])]
        if len(names) == 1:
            return [Source(table, path, "xlsx", label, names[0])]
        raise DataError.of(label, f"has {len(names)} sheets and none is named {table}")
    out = []
    for sheet in names:
        sheet_table = _table_of(sheet, mapping)
        if sheet_table is None:
            notes.append(_not_read(f"{label}, sheet {sheet}", "not a table of the data model"))
        else:
            out.append(Source(sheet_table, path, "xlsx", f"{label}, sheet {sheet}", sheet))
    return out


def _sheet_names(path: Path, label: str) -> list[str]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError, ValueError... on bad files
        raise DataError.of(label, "cannot be read as an Excel workbook (.xlsx): "
                           f"{short_message(exc, path, label)}") from None
    try:
        return list(book.sheetnames)
    finally:
        book.close()


def _study(folder: Path, name: str, mapping: ExtractMapping | None,
           sources: list[Source]) -> Study:
    by_table: dict[str, Source] = {}
    for s in sources:
        if s.table in by_table:
            raise DataError.of(folder.name,
                               f"both {by_table[s.table].label} and {s.label} hold table "
                               f"{s.table}; keep one")
        by_table[s.table] = s
    where = folder.name  # the folder as the user knows it (a registry's sub-folder name)
    if "wide" in by_table:
        clash = [t for t in ("adsl", "adtte") if t in by_table]
        if clash:
            raise DataError.of(where, f"holds both a wide file ({by_table['wide'].label}) and "
                               f"{by_table[clash[0]].label}; a wide file replaces adsl and adtte")
    else:
        missing = [t for t in ("adsl", "adtte") if t not in by_table]
        if missing:
            hint = ""
            if missing == ["adtte"]:
                hint = "; for one row per patient with event dates, name the file wide.csv"
            raise DataError.of(
                where,
                f"missing required table(s) {', '.join(missing)} (a file named e.g. "
                f"{missing[0]}.csv, {missing[0]}.parquet, {missing[0]}.xpt or "
                f"{missing[0]}.xlsx){hint}",
            )
    order = {t: i for i, t in enumerate(("wide", "adsl", "adtte", "visits", "adae"))}
    return Study(name, folder, tuple(sorted(by_table.values(), key=lambda s: order[s.table])),
                 mapping)


# --- staging ---------------------------------------------------------------------------


def short_message(exc: object, path: Path | None = None, label: str = "") -> str:
    """An exception's message on one line, the file's full path replaced by its name
    (and without the SQL excerpt DuckDB appends, which says nothing to a user)."""
    text = " ".join(str(exc).split("\nLINE ")[0].split())
    if path is not None:
        for form in {str(path.resolve()), str(path)}:
            text = text.replace(form, label or path.name)
    return text[:300] + ("..." if len(text) > 300 else "")


def _sql_path(path: Path) -> str:
    # a view must hold its file's path as a literal (views keep no parameters); the
    # path comes from the folder listing, and quotes are escaped all the same
    return str(path.resolve()).replace("'", "''")


def positional(n: int) -> list[str]:
    return [f"c{i}" for i in range(1, n + 1)]


def stage(con: duckdb.DuckDBPyConnection, source: Source, rel: str, workdir: Path) -> Staged:
    """Read one source into relation `rel` (see the module docstring). When the file
    cannot be read, nothing of it is left behind: the name is free for the next file."""
    try:
        if source.fmt == "csv":
            return _stage_csv(con, source, rel, workdir)
        if source.fmt == "parquet":
            return _stage_parquet(con, source, rel)
        if source.fmt == "xpt":
            return _stage_xpt(con, source, rel)
        return _stage_xlsx(con, source, rel)
    except BaseException:
        _drop_relations(con, rel, f"{rel}_data")
        raise


def _drop_relations(con: duckdb.DuckDBPyConnection, *names: str) -> None:
    for name in names:
        kinds = con.execute(
            "SELECT table_type FROM information_schema.tables WHERE table_name = ?", [name]
        ).fetchall()
        for (kind,) in kinds:
            what = "VIEW" if str(kind).upper() == "VIEW" else "TABLE"
            con.execute(f'DROP {what} IF EXISTS "{name}"')


def _finish(con: duckdb.DuckDBPyConnection, source: Source, rel: str, names: list[str],
            notes: list[DataIssue], decimal_comma: bool = False) -> Staged:
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? "
        "ORDER BY ordinal_position", [rel]).fetchall()
    types = {str(n): str(t) for n, t in rows}
    count = con.execute(f'SELECT count(*) FROM "{rel}"').fetchone()
    return Staged(source, rel, names, [types[c] for c in positional(len(names))],
                  int(count[0]) if count else 0, notes, decimal_comma)


def _stage_parquet(con: duckdb.DuckDBPyConnection, source: Source, rel: str) -> Staged:
    try:
        described = con.execute("DESCRIBE SELECT * FROM read_parquet(?)",
                                [str(source.path)]).fetchall()
        names = [str(r[0]) for r in described]
        zones, notes = _time_zones(con, source, names, [str(r[1]) for r in described])
        # an instant (a time zone-aware timestamp) is read as the wall time of the zone
        # it was written in: a date stored as local midnight keeps its calendar day
        cols = ", ".join(
            f"{zones[i]} AS c{i}" if i in zones
            else f"#{i} AS c{i}" for i in range(1, len(names) + 1))
        # a view, not a copy: the database keeps pointing at the file
        con.execute(
            f'CREATE VIEW "{rel}" AS SELECT file_row_number + 1 AS __row, '
            f"CAST(NULL AS VARCHAR) AS __err, CAST(NULL AS VARCHAR) AS __extra"
            f"{', ' if cols else ''}{cols} "
            f"FROM read_parquet('{_sql_path(source.path)}', file_row_number = true)"
        )
        return _finish(con, source, rel, names, notes)
    except duckdb.Error as exc:
        raise DataError.of(source.label, "cannot be read as Parquet "
                           f"({short_message(exc, source.path, source.label)})") from None


_OFFSET = re.compile(r"([+-])(\d{2}):?(\d{2})?")


def _time_zones(con: duckdb.DuckDBPyConnection, source: Source, names: list[str],
                types: list[str]) -> tuple[dict[int, str], list[DataIssue]]:
    """Columns (1-based) holding instants -> SQL reading them as the wall time of the
    time zone the writer stored (pandas and pyarrow keep it in the file's Arrow schema:
    a name such as Europe/Berlin, or an offset such as +01:00), else of UTC."""
    positions = [i for i, t in enumerate(types, start=1) if "WITH TIME ZONE" in t.upper()]
    if not positions:
        return {}, []
    stored: dict[int, str] = {}
    try:
        import pyarrow.parquet as pq

        schema = pq.read_schema(source.path)
        for i in positions:
            if len(schema.names) == len(names) and schema.names[i - 1] == names[i - 1]:
                tz = getattr(schema.field(i - 1).type, "tz", None)
                if isinstance(tz, str) and tz:
                    stored[i] = tz
    except Exception:  # no Arrow schema, or one pyarrow cannot read: UTC, as DuckDB has it
        stored = {}
    zones: dict[int, str] = {}
    notes: list[DataIssue] = []
    for i in positions:
        zone = stored.get(i, "UTC")
        offset = _OFFSET.fullmatch(zone)
        if offset:
            sign, hours, minutes = offset.groups()
            shift = (int(hours) * 60 + int(minutes or 0)) * (-1 if sign == "-" else 1)
            zones[i] = f"(timezone('UTC', #{i}) + INTERVAL ({shift}) MINUTE)"
            continue
        try:
            con.execute("SELECT timezone(?, TIMESTAMPTZ '2000-01-01 00:00:00+00')", [zone])
        except duckdb.Error:
            notes.append(DataIssue(source.label, None, names[i - 1], zone, "warning",
                                   f"the time zone {zone} stored with the column is not "
                                   "known: its times are read in UTC"))
            zone = "UTC"
        zones[i] = f"timezone('{zone.replace(chr(39), chr(39) * 2)}', #{i})"
    return zones, notes


def _load_frame(con: duckdb.DuckDBPyConnection, rel: str, frame: pd.DataFrame) -> None:
    frame = frame.copy()
    frame.columns = pd.Index(positional(frame.shape[1]))
    for col in frame.columns:
        # missing SAS numerics arrive as NaN; NULL is what the rest of the loader expects
        if frame[col].dtype.kind == "f":
            frame[col] = frame[col].astype("Float64")
    frame.insert(0, "__extra", pd.Series([None] * len(frame), dtype="object"))
    frame.insert(0, "__err", pd.Series([None] * len(frame), dtype="object"))
    frame.insert(0, "__row", range(1, len(frame) + 1))
    name = f"_frame_{rel}"
    con.register(name, frame)
    try:
        con.execute(f'CREATE TABLE "{rel}" AS SELECT * FROM "{name}"')
    finally:
        con.unregister(name)


def _stage_xpt(con: duckdb.DuckDBPyConnection, source: Source, rel: str) -> Staged:
    try:
        # pyreadstat, not pandas.read_sas: pandas decodes some SAS zeros as 5e-79
        frame, _meta = pyreadstat.read_xport(str(source.path))
    except Exception as exc:  # the reader raises several types for a bad file
        raise DataError.of(source.label, "cannot be read as SAS transport "
                           f"({short_message(exc, source.path, source.label)})") from None
    names = [str(c) for c in frame.columns]
    try:
        _load_frame(con, rel, frame)
    except (duckdb.Error, ValueError, TypeError) as exc:
        raise DataError.of(source.label, f"cannot be read as SAS transport ({short_message(exc)})"
                           ) from None
    return _finish(con, source, rel, names, [])


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


def _stage_xlsx(con: duckdb.DuckDBPyConnection, source: Source, rel: str) -> Staged:
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
            if len(batch) >= _BATCH:
                _insert_rows(con, rel, batch, n)
                batch = []
        _insert_rows(con, rel, batch, n)
        if blanks:
            notes.append(_blank_note(source.label, blanks, "row", "spreadsheet row"))
        notes += _unsaved_formulas(book, sheet, source.label, names)
    except DataError:
        raise
    except Exception as exc:  # a corrupt sheet fails while streaming its rows
        raise DataError.of(source.label, "cannot be read as an Excel sheet "
                           f"({short_message(exc, source.path, source.label)})") from None
    finally:
        book.close()
    return _finish(con, source, rel, names, notes)


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
        while chunk := fh.read(_CHUNK):
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


def _insert_rows(con: duckdb.DuckDBPyConnection, rel: str, batch: list[list[object]],
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


# CSV ------------------------------------------------------------------------------------

_DELIMITERS = (",", ";", "\t", "|")
_DELIM_NAME = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "vertical bars"}


class _RecheckError(Exception):
    """DuckDB read the file, but into records that are not its lines."""


def _detect_encoding(path: Path, label: str) -> tuple[str, str | None]:
    """(Python codec, warning or None). UTF-8 (with or without BOM) needs no warning."""
    with path.open("rb") as fh:
        head = fh.read(_CHUNK)
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
        while chunk := fh.read(_CHUNK):
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


def _stage_csv(con: duckdb.DuckDBPyConnection, source: Source, rel: str, workdir: Path
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
                while chunk := src.read(_CHUNK):
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
    return _finish(con, source, rel, header, notes, decimal_comma)


# Python's csv module refuses a value over 131,072 characters by default; a free-text
# column can hold more. Up to FIELD_LIMIT characters per value are read; a longer value
# refuses the file with a message naming its line.
FIELD_LIMIT = 16 * 1024 * 1024


def _count_lines(path: Path) -> int:
    """Physical lines of a file (a last line without a line break counts)."""
    lines = 0
    last = b""
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
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


def _blank_note(label: str, blanks: list[tuple[int, int]], what: str, where: str
                ) -> DataIssue:
    many = len(blanks)
    row, at = blanks[0]
    return DataIssue(label, None, None, None, "warning",
                     f"{many} blank {what}{'s' * (many > 1)} skipped (the first is row {row}, "
                     f"{where} {at}): they hold no data and are not counted as rows read; the "
                     "rows after them keep their numbers in the file")


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
        if len(batch) >= _BATCH:
            _insert_rows(con, rel, batch, n)
            batch = []
    _insert_rows(con, rel, batch, n)
    notes = [_blank_note(source.label, blanks, "line", "line")] if blanks else []
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


VALID_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
