"""The ``labels`` section of a mapping file: the extract's own words for columns and
codes, shown on every page instead of the data model's defaults.

```toml
[labels.columns]         # a column = its words
DIALFL = "Haemodialysis"
[labels.values.SEX]      # a code of the column = its words
M = "Man"
F = "Woman"
```

Each entry is checked like the rest of the file (a problem names file, line and key): a
column of the data model or a plain column name, a code the column allows, words that
are plain text of at most `MAX_WORDS` characters.
"""

from __future__ import annotations

import re

from analytics.extract.mapping_syntax import Path_, fail
from analytics.model.schema import TABLES

PARTS = ("columns", "values")
MAX_WORDS = 80
_PLAIN_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ALLOWED = {c.name: c.allowed for t in TABLES.values() for c in t.columns}

ColumnWords = dict[str, str]
ValueWords = dict[str, dict[str, str]]


def build_labels(
    section: object, source: str, lines: dict[Path_, int]
) -> tuple[ColumnWords, ValueWords]:
    """The checked labels section (column -> words, column -> code -> words)."""
    if section is None:
        return {}, {}
    table = _table(section, source, lines, ("labels",))
    for part in table:
        if part not in PARTS:
            raise fail(source, lines, ("labels", part),
                       f"unknown part of labels (expected {' or '.join(PARTS)})")
    columns: ColumnWords = {}
    for name, words in _table(table.get("columns", {}), source, lines,
                              ("labels", "columns")).items():
        at: Path_ = ("labels", "columns", name)
        columns[_column(name, source, lines, at)] = _words(words, source, lines, at)
    values: ValueWords = {}
    for name, codes in _table(table.get("values", {}), source, lines,
                              ("labels", "values")).items():
        column = _column(name, source, lines, ("labels", "values", name))
        allowed = _ALLOWED.get(column, ())
        out = values.setdefault(column, {})
        for code, words in _table(codes, source, lines, ("labels", "values", name)).items():
            where: Path_ = ("labels", "values", name, code)
            if allowed and code not in allowed:
                raise fail(source, lines, where, f"'{code}' is not a code of {column} "
                           f"({', '.join(allowed)})", code)
            out[code] = _words(words, source, lines, where)
    return columns, values


def _table(value: object, source: str, lines: dict[Path_, int], path: Path_) -> dict[str, object]:
    if not isinstance(value, dict):
        raise fail(source, lines, path, "expected a table of names and words", value)
    return {str(k): v for k, v in value.items()}


def _column(name: str, source: str, lines: dict[Path_, int], path: Path_) -> str:
    column = name.strip().upper()
    if not _PLAIN_NAME.fullmatch(column):
        raise fail(source, lines, path, f"'{name}' is not a column name", name)
    return column


def _words(value: object, source: str, lines: dict[Path_, int], path: Path_) -> str:
    if not isinstance(value, str) or not value.strip():
        raise fail(source, lines, path, "expected words (text that is not empty)", value)
    if _CONTROL.search(value):
        raise fail(source, lines, path, "words may not hold control characters or line breaks")
    if len(value) > MAX_WORDS:
        raise fail(source, lines, path,
                   f"{len(value)} characters; labels are at most {MAX_WORDS}", value[:40])
    return value.strip()
