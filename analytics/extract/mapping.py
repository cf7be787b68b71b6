"""Mapping files: how a registry's own column names and codes become the data model's,
without a code change.

A mapping file sits in the extract folder as ``mapping.toml`` (or ``mapping.yaml``)
or is passed with ``--mapping``. Sections (all optional)::

    [files]            # file stem or Excel sheet name = table
    patients = "adsl"

    [columns]          # source column = data-model column, in every table
    PATIENT_ID = "USUBJID"
    GENDER = "SEX"

    [columns.visits]   # only in one table (wins over [columns])
    VISIT_DATE = "ADT"

    [values.SEX]       # source text = code, for one data-model column
    "1" = "M"
    "2" = "F"

    [flag_values]      # source text = Y or N, for every Y/N flag column
    Yes = "Y"
    No = "N"

Column names match case-insensitively; values match exactly (as text). A value
recoded to "" becomes missing. Everything is checked when the file is read: an
unknown section, table or target column, a code the data model does not allow, or
two source columns renamed to the same target are errors naming the file, line and
key. A mapping is small: a file over 1 MB, YAML anchors and aliases (``&name``,
``*name``, which can make a few lines expand to gigabytes) and nesting deeper than a
mapping needs are refused with a message.

The same mapping can be built interactively (mapping_suggest.py); the file's syntax
is read in mapping_syntax.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from analytics.extract.issues import DataError
from analytics.extract.mapping_labels import build_labels
from analytics.extract.mapping_syntax import Path_, fail, parse_toml, parse_yaml
from analytics.extract.wide import WIDE
from analytics.model.schema import TABLES, Column

MAPPING_NAMES = ("mapping.toml", "mapping.yaml", "mapping.yml")
SECTIONS = ("files", "columns", "values", "flag_values", "labels")
# every table an extract file may hold; `wide` is converted to adsl + adtte
TABLE_NAMES = (*TABLES, WIDE.name)
ALL_TABLES = {**TABLES, WIDE.name: WIDE}

MAX_MAPPING_BYTES = 1_000_000  # a mapping is a few hundred lines; refuse anything huge


def columns_named(name: str) -> list[Column]:
    return [c for t in ALL_TABLES.values() for c in t.columns if c.name == name]


@dataclass(frozen=True)
class ExtractMapping:
    """A validated mapping. Source column names are kept upper-cased."""

    source: str = ""
    files: dict[str, str] = field(default_factory=dict)
    columns: dict[str, str] = field(default_factory=dict)
    table_columns: dict[str, dict[str, str]] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    flag_values: dict[str, str] = field(default_factory=dict)
    lines: dict[Path_, int] = field(default_factory=dict, compare=False)
    # (table or "", SOURCE) -> the key as written, for messages
    written: dict[tuple[str, str], Path_] = field(default_factory=dict, compare=False)
    # the extract's own words (mapping_labels): column -> words, column -> code -> words
    column_labels: dict[str, str] = field(default_factory=dict)
    value_labels: dict[str, dict[str, str]] = field(default_factory=dict)

    def renames(self, table: str) -> dict[str, str]:
        """Upper-cased source name -> data-model name, for one table."""
        return {**self.columns, **self.table_columns.get(table, {})}

    def recodes(self, column: Column) -> dict[str, str]:
        """Source text -> code for one column ({} when it is not recoded)."""
        if column.name in self.values:
            return self.values[column.name]
        return dict(self.flag_values) if column.type == "flag" else {}

    def where(self, *path: str) -> str:
        """'mapping.toml line 4, key columns.GENDER' for messages."""
        line = self.lines.get(tuple(path))
        at = f" line {line}," if line else ""
        return f"{self.source}{at} key {'.'.join(path)}"

    def where_renamed(self, table: str, source: str) -> str:
        """Where the rename of (upper-cased) column `source` in `table` is written."""
        path = self.written.get((table, source)) or self.written.get(("", source))
        return self.where(*path) if path else self.source

    def to_toml(self) -> str:
        """The mapping as a TOML file (what the app saves after an interactive mapping)."""
        out: list[str] = []

        def section(title: str, items: dict[str, str]) -> None:
            if items:
                out.append(f"[{title}]")
                out.extend(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in items.items())
                out.append("")

        section("files", self.files)
        section("columns", self.columns)
        for table, items in self.table_columns.items():
            section(f"columns.{table}", items)
        for column, items in self.values.items():
            section(f"values.{_toml_key(column)}", items)
        section("flag_values", self.flag_values)
        section("labels.columns", self.column_labels)
        for column, items in self.value_labels.items():
            section(f"labels.values.{_toml_key(column)}", items)
        return "\n".join(out)


def _toml_key(text: str) -> str:
    return text if re.fullmatch(r"[A-Za-z0-9_-]+", text) else _toml_value(text)


def _toml_value(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def find_mapping(folder: Path) -> Path | None:
    """The mapping file of an extract folder, if any (two of them are an error)."""
    found = [folder / n for n in MAPPING_NAMES if (folder / n).is_file()]
    if len(found) > 1:
        raise DataError.of(
            str(folder.name), f"holds both {found[0].name} and {found[1].name}; keep one"
        )
    return found[0] if found else None


def load_mapping(path: Path, label: str | None = None) -> ExtractMapping:
    """Read and check a mapping file; any problem is a DataError naming file, line and key."""
    name = label or path.name
    if not path.is_file():
        raise DataError.of(name, "mapping file not found")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise DataError.of(name, f"cannot be read ({exc.strerror or exc})") from None
    if size > MAX_MAPPING_BYTES:
        raise DataError.of(name, f"is {size / 1e6:.1f} MB; a mapping file is at most "
                           f"{MAX_MAPPING_BYTES // 1_000_000} MB (a few hundred lines of names "
                           "and codes): is this the right file?")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError.of(name, f"cannot be read as UTF-8 text ({exc})") from None
    if path.suffix.lower() == ".toml":
        data, lines = parse_toml(text, name)
    elif path.suffix.lower() in (".yaml", ".yml"):
        data, lines = parse_yaml(text, name)
    else:
        raise DataError.of(name, "a mapping file must end in .toml, .yaml or .yml")
    return build_mapping(data, name, lines)


def _text(value: object, source: str, lines: dict[Path_, int], path: Path_) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise fail(source, lines, path, "expected a text value", value)
    return value if isinstance(value, str) else str(value)


def _table(value: object, source: str, lines: dict[Path_, int], path: Path_) -> dict[str, object]:
    if not isinstance(value, dict):
        raise fail(source, lines, path, "expected a table of key = value pairs", value)
    return value


def build_mapping(
    data: dict[str, object], source: str = "mapping", lines: dict[Path_, int] | None = None
) -> ExtractMapping:
    """Check parsed mapping data (from a file, or built by the app) and return the mapping."""
    lines = lines or {}
    for key in data:
        if key not in SECTIONS:
            raise fail(source, lines, (key,),
                        f"unknown section (expected one of {', '.join(SECTIONS)})")
    files: dict[str, str] = {}
    for stem, table in _table(data.get("files", {}), source, lines, ("files",)).items():
        target = _text(table, source, lines, ("files", stem)).lower()
        if target not in TABLE_NAMES:
            raise fail(source, lines, ("files", stem),
                        f"'{table}' is not a table (expected one of {', '.join(TABLE_NAMES)})",
                        table)
        files[stem.lower()] = target
    columns: dict[str, str] = {}
    table_columns: dict[str, dict[str, str]] = {}
    written: dict[tuple[str, str], Path_] = {}  # (table or "", SOURCE) -> key as written
    for key, value in _table(data.get("columns", {}), source, lines, ("columns",)).items():
        if isinstance(value, dict):
            if key.lower() not in TABLE_NAMES:
                raise fail(source, lines, ("columns", key),
                            f"'{key}' is not a table (expected one of {', '.join(TABLE_NAMES)})")
            table = key.lower()
            known = set(ALL_TABLES[table].names)
            per = table_columns.setdefault(table, {})
            for src, tgt in value.items():
                path: Path_ = ("columns", key, src)
                target = _text(tgt, source, lines, path).upper()
                if target not in known:
                    raise fail(source, lines, path,
                                f"'{tgt}' is not a column of table {table}", tgt)
                _add_rename(per, src, target, source, lines, path)
                written[(table, src.strip().upper())] = path
        else:
            path = ("columns", key)
            target = _text(value, source, lines, path).upper()
            if not columns_named(target):
                raise fail(source, lines, path,
                            f"'{value}' is not a column of the data model", value)
            _add_rename(columns, key, target, source, lines, path)
            written[("", key.strip().upper())] = path
    # two source columns renamed to one target would leave a file with two of it
    for table in TABLE_NAMES:
        per = table_columns.get(table, {})
        merged = {**columns, **per}
        seen: dict[str, str] = {}
        for src, tgt in merged.items():
            if tgt in seen:
                path = written[(table, src) if src in per else ("", src)]
                raise fail(source, lines, path,
                            f"both {seen[tgt]} and {src} are renamed to {tgt}; keep one", tgt)
            seen[tgt] = src
    values: dict[str, dict[str, str]] = {}
    for col, recode in _table(data.get("values", {}), source, lines, ("values",)).items():
        target_cols = columns_named(col.upper())
        if not target_cols:
            raise fail(source, lines, ("values", col),
                        f"'{col}' is not a column of the data model", col)
        allowed: set[str] | None = set()
        for c in target_cols:
            if not c.allowed:
                allowed = None
                break
            assert allowed is not None
            allowed.update(c.allowed)
        items: dict[str, str] = {}
        for src, tgt in _table(recode, source, lines, ("values", col)).items():
            path = ("values", col, src)
            code = _text(tgt, source, lines, path)
            if allowed is not None and code != "" and code not in allowed:
                raise fail(source, lines, path,
                            f"'{code}' is not an allowed value of {col.upper()} "
                            f"({', '.join(sorted(allowed))})", code)
            items[src] = code
        values[col.upper()] = items
    flags: dict[str, str] = {}
    for src, tgt in _table(data.get("flag_values", {}), source, lines, ("flag_values",)).items():
        code = _text(tgt, source, lines, ("flag_values", src))
        if code not in ("Y", "N", ""):
            raise fail(source, lines, ("flag_values", src),
                        f"'{code}' is not a flag value (Y or N)", code)
        flags[src] = code
    column_labels, value_labels = build_labels(data.get("labels"), source, lines)
    return ExtractMapping(source, files, columns, table_columns, values, flags, dict(lines),
                          written, column_labels, value_labels)


def _add_rename(out: dict[str, str], src: str, target: str, source: str,
                lines: dict[Path_, int], path: Path_) -> None:
    key = src.strip().upper()
    if not key:
        raise fail(source, lines, path, "empty source column name")
    if key in out and out[key] != target:
        raise fail(source, lines, path,
                    f"{src} is renamed twice (to {out[key]} and {target}); "
                    "column names match whatever their case", target)
    out[key] = target
