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

The same mapping can be built interactively: `suggest_mapping` proposes renames
from the schema's names and labels, `suggest_values` proposes recodes, and
`apply_mapping` applies a mapping to a pandas frame exactly as the loader does.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from analytics.extract.issues import DataError, DataIssue
from analytics.extract.wide import WIDE
from analytics.model.schema import TABLES, Column

MAPPING_NAMES = ("mapping.toml", "mapping.yaml", "mapping.yml")
SECTIONS = ("files", "columns", "values", "flag_values")
# every table an extract file may hold; `wide` is converted to adsl + adtte
TABLE_NAMES = (*TABLES, WIDE.name)
ALL_TABLES = {**TABLES, WIDE.name: WIDE}

Path_ = tuple[str, ...]

MAX_MAPPING_BYTES = 1_000_000  # a mapping is a few hundred lines; refuse anything huge
MAX_DEPTH = 16  # a mapping nests three levels (values.SEX."1"); far deeper is not one


def _columns_named(name: str) -> list[Column]:
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
        data, lines = _parse_toml(text, name)
    elif path.suffix.lower() in (".yaml", ".yml"):
        data, lines = _parse_yaml(text, name)
    else:
        raise DataError.of(name, "a mapping file must end in .toml, .yaml or .yml")
    return build_mapping(data, name, lines)


def _fail(source: str, lines: dict[Path_, int], path: Path_, message: str,
          value: object = None) -> DataError:
    line = lines.get(path)
    key = ".".join(path)
    where = f"line {line}, " if line else ""
    issue = DataIssue(source, line, key or None, None if value is None else str(value), "error",
                      message)
    return DataError(f"{source}: {where}key {key}: {message}" if key else f"{source}: {message}",
                     [issue])


def _text(value: object, source: str, lines: dict[Path_, int], path: Path_) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _fail(source, lines, path, "expected a text value", value)
    return value if isinstance(value, str) else str(value)


def _table(value: object, source: str, lines: dict[Path_, int], path: Path_) -> dict[str, object]:
    if not isinstance(value, dict):
        raise _fail(source, lines, path, "expected a table of key = value pairs", value)
    return value


def build_mapping(
    data: dict[str, object], source: str = "mapping", lines: dict[Path_, int] | None = None
) -> ExtractMapping:
    """Check parsed mapping data (from a file, or built by the app) and return the mapping."""
    lines = lines or {}
    for key in data:
        if key not in SECTIONS:
            raise _fail(source, lines, (key,),
                        f"unknown section (expected one of {', '.join(SECTIONS)})")
    files: dict[str, str] = {}
    for stem, table in _table(data.get("files", {}), source, lines, ("files",)).items():
        target = _text(table, source, lines, ("files", stem)).lower()
        if target not in TABLE_NAMES:
            raise _fail(source, lines, ("files", stem),
                        f"'{table}' is not a table (expected one of {', '.join(TABLE_NAMES)})",
                        table)
        files[stem.lower()] = target
    columns: dict[str, str] = {}
    table_columns: dict[str, dict[str, str]] = {}
    written: dict[tuple[str, str], Path_] = {}  # (table or "", SOURCE) -> key as written
    for key, value in _table(data.get("columns", {}), source, lines, ("columns",)).items():
        if isinstance(value, dict):
            if key.lower() not in TABLE_NAMES:
                raise _fail(source, lines, ("columns", key),
                            f"'{key}' is not a table (expected one of {', '.join(TABLE_NAMES)})")
            table = key.lower()
            known = set(ALL_TABLES[table].names)
            per = table_columns.setdefault(table, {})
            for src, tgt in value.items():
                path: Path_ = ("columns", key, src)
                target = _text(tgt, source, lines, path).upper()
                if target not in known:
                    raise _fail(source, lines, path,
                                f"'{tgt}' is not a column of table {table}", tgt)
                _add_rename(per, src, target, source, lines, path)
                written[(table, src.strip().upper())] = path
        else:
            path = ("columns", key)
            target = _text(value, source, lines, path).upper()
            if not _columns_named(target):
                raise _fail(source, lines, path,
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
                raise _fail(source, lines, path,
                            f"both {seen[tgt]} and {src} are renamed to {tgt}; keep one", tgt)
            seen[tgt] = src
    values: dict[str, dict[str, str]] = {}
    for col, recode in _table(data.get("values", {}), source, lines, ("values",)).items():
        target_cols = _columns_named(col.upper())
        if not target_cols:
            raise _fail(source, lines, ("values", col),
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
                raise _fail(source, lines, path,
                            f"'{code}' is not an allowed value of {col.upper()} "
                            f"({', '.join(sorted(allowed))})", code)
            items[src] = code
        values[col.upper()] = items
    flags: dict[str, str] = {}
    for src, tgt in _table(data.get("flag_values", {}), source, lines, ("flag_values",)).items():
        code = _text(tgt, source, lines, ("flag_values", src))
        if code not in ("Y", "N", ""):
            raise _fail(source, lines, ("flag_values", src),
                        f"'{code}' is not a flag value (Y or N)", code)
        flags[src] = code
    return ExtractMapping(source, files, columns, table_columns, values, flags, dict(lines),
                          written)


def _add_rename(out: dict[str, str], src: str, target: str, source: str,
                lines: dict[Path_, int], path: Path_) -> None:
    key = src.strip().upper()
    if not key:
        raise _fail(source, lines, path, "empty source column name")
    if key in out and out[key] != target:
        raise _fail(source, lines, path,
                    f"{src} is renamed twice (to {out[key]} and {target}); "
                    "column names match whatever their case", target)
    out[key] = target


# --- parsing with line numbers -------------------------------------------------------

_TOML_AT = re.compile(r"\(at line (\d+), column \d+\)")
_TOML_HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")
_TOML_KEY = re.compile(r"""^\s*("(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_.\- ]+?)\s*=""")


def _split_dotted(text: str) -> list[str]:
    parts = re.findall(r""""((?:[^"\\]|\\.)*)"|'([^']*)'|([^.\s]+)""", text)
    return [a or b or c for a, b, c in parts]


def _parse_toml(text: str, source: str) -> tuple[dict[str, object], dict[Path_, int]]:
    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise _too_deep(source, None) from None
    except tomllib.TOMLDecodeError as exc:
        m = _TOML_AT.search(str(exc))
        line = int(m.group(1)) if m else None
        detail = _TOML_AT.sub("", str(exc)).strip()
        issue = DataIssue(source, line, None, None, "error", f"not valid TOML: {detail}")
        where = f", line {line}" if line else ""
        raise DataError(f"{source}{where}: not valid TOML ({detail})", [issue]) from None
    lines: dict[Path_, int] = {}
    current: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        header = _TOML_HEADER.match(raw)
        if header:
            current = _split_dotted(header.group(1))
            lines.setdefault(tuple(current), number)
            continue
        key = _TOML_KEY.match(raw)
        if key:
            lines.setdefault((*current, *_split_dotted(key.group(1))), number)
    return data, lines


class _DuplicateKeyError(Exception):
    def __init__(self, path: Path_, line: int) -> None:
        self.path, self.line = path, line


def _too_deep(source: str, line: int | None) -> DataError:
    message = (f"nested more than {MAX_DEPTH} levels deep; a mapping has at most three levels "
               "(section, table or column, key)")
    where = f" line {line}:" if line else ":"
    return DataError(f"{source}{where} {message}",
                     [DataIssue(source, line, None, None, "error", message)])


_ANCHORS = ("YAML anchors and aliases (&name, *name) are not accepted in a mapping file; "
            "write each value out")


def _check_yaml_events(text: str, source: str) -> None:
    """Refuse anchors, aliases and deep nesting before anything is built: an alias is a
    reference, and expanding nested ones ("billion laughs") takes gigabytes. The event
    parser is iterative, so even a deeply nested file cannot exhaust the stack here."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            line = event.start_mark.line + 1
            raise DataError(f"{source} line {line}: {_ANCHORS}",
                            [DataIssue(source, line, None, None, "error", _ANCHORS)])
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise _too_deep(source, event.start_mark.line + 1)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _parse_yaml(text: str, source: str) -> tuple[dict[str, object], dict[Path_, int]]:
    try:
        _check_yaml_events(text, source)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        issue = DataIssue(source, line, None, None, "error", f"not valid YAML: {problem}")
        where = f", line {line}" if line else ""
        raise DataError(f"{source}{where}: not valid YAML ({problem})", [issue]) from None
    lines: dict[Path_, int] = {}
    if node is None:
        return {}, lines
    try:
        data = _yaml_value(node, (), lines)
    except _DuplicateKeyError as dup:
        raise _fail(source, lines, dup.path, "the key is given twice") from None
    if not isinstance(data, dict):
        raise _fail(source, lines, (), "expected sections such as columns: and values:")
    return data, lines


def _yaml_value(node: yaml.Node, path: Path_, lines: dict[Path_, int]) -> object:
    # Scalars keep their text as written: YAML 1.1 would read Yes/No as booleans and
    # 01 as 1, which is exactly what a recode table must not do.
    if isinstance(node, yaml.MappingNode):
        out: dict[str, object] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            here = (*path, key)
            if key in out:
                lines[here] = key_node.start_mark.line + 1
                raise _DuplicateKeyError(here, key_node.start_mark.line + 1)
            lines[here] = key_node.start_mark.line + 1
            out[key] = _yaml_value(value_node, here, lines)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_yaml_value(n, path, lines) for n in node.value]
    value = node.value
    if node.tag.endswith(":null") and value in ("", "~", "null", "Null", "NULL"):
        return ""
    return str(value)


# --- interactive mapping ---------------------------------------------------------------

# Names registries use that neither the schema names nor labels would find.
SYNONYMS: dict[str, str] = {
    "PATIENTID": "USUBJID", "PATID": "USUBJID", "SUBJECTID": "USUBJID", "SUBJID": "USUBJID",
    "SUBJECT": "USUBJID", "PATIENT": "USUBJID", "ID": "USUBJID", "STUDY": "STUDYID",
    "SITE": "SITEID", "CENTRE": "SITEID", "CENTER": "SITEID", "GENDER": "SEX",
    "AGEYEARS": "AGE", "DIALYSIS": "DIALFL", "DIABETES": "DIABFL", "HYPERTENSION": "HTNFL",
    "SMOKING": "SMOKSTAT", "RUTHERFORD": "RUTHCAT", "PROCEDUREDATE": "PROCDT",
    "ENROLMENTDATE": "ENRLDT", "ENROLLMENTDATE": "ENRLDT", "DEATHDATE": "DTHDT",
    "DATEOFDEATH": "DTHDT", "LASTCONTACT": "LSTCNTDT", "LASTCONTACTDATE": "LSTCNTDT",
    "AMPUTATIONDATE": "AMPDT", "MAJORAMPUTATIONDATE": "AMPDT", "ENDPOINT": "PARAMCD",
    "TIME": "AVAL", "DAYS": "AVAL", "CENSOR": "CNSR", "CENSORED": "CNSR",
}


def _norm(text: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", text.upper())


def suggest_mapping(columns: Iterable[str], table: str | None = None) -> dict[str, str]:
    """Propose a data-model column for each source column that resembles one.

    Exact names (any case) come first, then known synonyms, then the closest name
    or label by fuzzy matching (difflib ratio >= 0.8); each target is used once.
    Returns {source column: data-model column}, including exact matches, so the
    app can show every decision; unmatched columns are absent.
    """
    tables = [ALL_TABLES[table]] if table else list(ALL_TABLES.values())
    targets: dict[str, Column] = {}
    for t in tables:
        for c in t.columns:
            targets.setdefault(c.name, c)
    sources = list(dict.fromkeys(columns))
    scored: list[tuple[float, int, str, str]] = []
    for order, src in enumerate(sources):
        key = _norm(src)
        for name, col in targets.items():
            if key == _norm(name):
                score = 3.0
            elif SYNONYMS.get(key) == name:
                score = 2.0
            else:
                best = max(
                    difflib.SequenceMatcher(None, key, _norm(name)).ratio(),
                    difflib.SequenceMatcher(None, key, _norm(col.label)).ratio(),
                )
                if best < 0.8:
                    continue
                score = best
            scored.append((score, -order, src, name))
    chosen: dict[str, str] = {}
    used: set[str] = set()
    for _score, _order, src, name in sorted(scored, reverse=True):
        if src in chosen or name in used:
            continue
        chosen[src] = name
        used.add(name)
    return {s: chosen[s] for s in sources if s in chosen}


_FLAG_WORDS = {"Y": ("Y", "YES", "TRUE", "1", "JA", "OUI", "SI"),
               "N": ("N", "NO", "FALSE", "0", "NEIN", "NON")}


def suggest_values(column: str, values: Iterable[object]) -> dict[str, str]:
    """Propose codes for the distinct source values of one data-model column
    (e.g. Male -> M, Yes -> Y); values already valid or without a match are absent."""
    cols = _columns_named(column.upper())
    if not cols:
        raise KeyError(f"unknown column {column!r}")
    allowed = cols[0].allowed
    out: dict[str, str] = {}
    for value in values:
        if value is None or (isinstance(value, float) and value != value):
            continue
        text = str(value)
        if not allowed or text in allowed:
            continue
        up = text.strip().upper()
        match: str | None = None
        if cols[0].type == "flag":
            match = next((code for code, words in _FLAG_WORDS.items() if up in words), None)
        if match is None:
            exact = [c for c in allowed if c.upper() == up]
            starts = [c for c in allowed if up and (up.startswith(c.upper()) or
                                                   c.upper().startswith(up))]
            if exact:
                match = exact[0]
            elif len(starts) == 1:
                match = starts[0]
            else:
                close = difflib.get_close_matches(up, [c.upper() for c in allowed], n=1,
                                                  cutoff=0.8)
                match = next((c for c in allowed if close and c.upper() == close[0]), None)
        if match is not None:
            out[text] = match
    return out


def apply_mapping(frame: pd.DataFrame, mapping: ExtractMapping, table: str) -> pd.DataFrame:
    """The frame as the loader would see it after the mapping: columns renamed
    (case-insensitively) and values recoded as text ("" becomes missing).

    Raises DataError when two columns end up with the same name.
    """
    if table not in ALL_TABLES:
        raise KeyError(f"unknown table {table!r}")
    renames = mapping.renames(table)
    names = [renames.get(str(c).strip().upper(), str(c).strip().upper()) for c in frame.columns]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise DataError.of(table, f"two columns would both be called {dupes[0]}", dupes[0])
    out = frame.copy()
    out.columns = pd.Index(names)
    known = {c.name: c for c in ALL_TABLES[table].columns}
    for name in names:
        col = known.get(name)
        recode = mapping.recodes(col) if col is not None else {}
        if not recode:
            continue
        series = out[name]
        text = series.map(lambda v: v if v is None or isinstance(v, str) else _as_text(v))
        mapped = text.map(lambda v, r=recode: r.get(v, v) if isinstance(v, str) else v)
        out[name] = mapped.map(lambda v: None if v == "" else v)
    return out


def _as_text(value: object) -> object:
    if isinstance(value, float):
        if value != value:
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)
