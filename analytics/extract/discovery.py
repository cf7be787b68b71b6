"""Finding the tables of an extract: which files (or workbook sheets) hold which table,
for one study or for a registry (a folder of such folders, one per study or site), with
the mapping file that applies to each, and every file the extract is built from.

An extract may also be one file: a wide file, or a workbook with a sheet per table.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from analytics.extract.issues import DataError, DataIssue, short_message
from analytics.extract.mapping import TABLE_NAMES, ExtractMapping, find_mapping, load_mapping

DATA_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".xpt": "xpt",
                 ".xlsx": "xlsx"}
# Named in messages when a file looks like data but is not one of the formats.
_OTHER_DATA = {".xls": "an old Excel file: save it as .xlsx", ".sas7bdat":
               "a SAS dataset: export it as SAS transport (.xpt)",
               ".txt": "a text file: name it .csv if it is comma- or semicolon-separated",
               ".tsv": "a tab-separated file: name it .csv"}
MANIFEST = "dataset.json"


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


def visible(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if not p.name.startswith((".", "~$")))


def _has_data(folder: Path) -> bool:
    return any(p.is_file() and p.suffix.lower() in (*DATA_SUFFIXES, *_OTHER_DATA)
               for p in visible(folder))


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
    subdirs = [p for p in visible(src) if p.is_dir() and _has_data(p)]
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
    table = table_of(path.stem, mapping)
    if fmt != "xlsx":
        sources = [Source(table or "wide", path, fmt, label)]
    elif table is not None:
        sources = _sheets(path, label, table, mapping, notes)
    else:
        names = _sheet_names(path, label)
        if any(table_of(s, mapping) for s in names):
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


def table_of(name: str, mapping: ExtractMapping | None) -> str | None:
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
    for path in visible(folder):
        if not path.is_file():
            continue
        suffix = path.suffix.lower()
        label = f"{prefix}{path.name}"
        if suffix in _OTHER_DATA:
            if table_of(path.stem, mapping):
                raise DataError.of(label, f"cannot be read: {_OTHER_DATA[suffix]}")
            notes.append(_not_read(label, _OTHER_DATA[suffix]))
            continue
        fmt = DATA_SUFFIXES.get(suffix)
        if fmt is None:
            continue
        table = table_of(path.stem, mapping)
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
        sheet_table = table_of(sheet, mapping)
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
