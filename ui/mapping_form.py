"""The interactive mapping: an upload's own column names and codes matched to the data
model's, written as the same TOML a mapping file holds (analytics/extract/mapping.py).

For each table file: which table it holds (when its name does not say), then for
each column of the data model the upload's column holding it, prefilled from
`suggest_mapping` (or from a mapping file uploaded with it); then, for coded
columns, what each of the upload's values means, prefilled from `suggest_values`.
The pure parts (`column_defaults`, `value_defaults`, `build`, `clashes`) are
tested without Streamlit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import streamlit as st

from analytics.extract import (
    REQUIRED_COLUMNS,
    TABLE_NAMES,
    DataError,
    ExtractMapping,
    build_mapping,
    suggest_mapping,
    suggest_values,
)
from analytics.extract.mapping import ALL_TABLES
from analytics.extract.upload import SourceColumns, inspect
from analytics.model.schema import Column
from ui.upload import Upload

NONE = "(not in the upload)"
NOT_TABLE = "(not a table)"
KEEP = "(keep as is)"
MISSING = "(missing)"
GRID = 3  # selectboxes side by side

# table -> {data-model column: upload column}
Columns = dict[str, dict[str, str]]


def column_defaults(
    table: str, columns: Sequence[str], existing: ExtractMapping | None = None
) -> dict[str, str]:
    """Data-model column -> upload column: an existing mapping's renames first, then
    suggestions (exact names, synonyms, close names), each upload column used once."""
    out: dict[str, str] = {}
    if existing is not None:
        by_upper = {c.strip().upper(): c for c in columns}
        for src, target in existing.renames(table).items():
            if src in by_upper:
                out[target] = by_upper[src]
    used = set(out.values())
    for src, target in suggest_mapping(columns, table).items():
        if target not in out and src not in used:
            out[target] = src
            used.add(src)
    return out


def value_defaults(
    column: Column, values: Sequence[str], existing: ExtractMapping | None = None
) -> dict[str, str | None]:
    """Upload value -> code for each value of `column` the data model does not allow:
    an existing mapping's recode first ("" = missing), then the suggestion, else None."""
    known = existing.recodes(column) if existing is not None else {}
    suggested = suggest_values(column.name, values)
    return {v: known.get(v, suggested.get(v)) for v in values if v not in column.allowed}


def clashes(columns: Columns, sources: Mapping[str, Sequence[str]]) -> list[str]:
    """Choices the loader would refuse: one upload column for two data-model columns, or
    a column renamed to a name another upload column already has."""
    out: list[str] = []
    for table, chosen in columns.items():
        by_source: dict[str, str] = {}
        for target, src in chosen.items():
            if src in by_source:
                out.append(f"{table}: {src} is chosen for both {by_source[src]} and {target}.")
            by_source[src] = target
        present = {c.strip().upper(): c for c in sources.get(table, ())}
        for target, src in chosen.items():
            other = present.get(target)
            if other is not None and other != src and src.strip().upper() != target:
                out.append(
                    f"{table}: {src} is chosen for {target}, but the upload also has a column "
                    f"named {other}; choose that one, or rename it in the file."
                )
    return out


def build(
    files: Mapping[str, str],
    columns: Columns,
    values: Mapping[str, Mapping[str, str]],
    source: str = "mapping.toml",
) -> ExtractMapping:
    """The mapping the choices make (checked as a mapping file is: DataError if wrong).

    Renames are written per table; a column already named as the data model's (in any
    case) needs none. `values` holds column -> {upload value: code, "" for missing}.
    """
    data: dict[str, object] = {}
    if files:
        data["files"] = dict(files)
    renames = {
        table: {src: target for target, src in chosen.items() if src.strip().upper() != target}
        for table, chosen in columns.items()
    }
    renames = {t: r for t, r in renames.items() if r}
    if renames:
        data["columns"] = renames
    recodes = {c: dict(v) for c, v in values.items() if v}
    if recodes:
        data["values"] = recodes
    return build_mapping(data, source)


# --- the widgets -------------------------------------------------------------------------


def _file_choices(
    key: str, sources: Sequence[SourceColumns], existing: ExtractMapping | None
) -> dict[str, str]:
    """[files]: the table of each file whose name is not a table's."""
    unnamed = [s for s in sources if s.key.lower() not in TABLE_NAMES]
    if not unnamed:
        return {}
    st.markdown("**Which table each file holds**")
    options = [NOT_TABLE, *TABLE_NAMES]
    out: dict[str, str] = {}
    grid = st.columns(GRID)
    for i, s in enumerate(unnamed):
        known = existing.files.get(s.key.lower()) if existing is not None else None
        with grid[i % GRID]:
            choice = st.selectbox(
                s.label,
                options,
                index=options.index(known) if known in options else 0,
                key=f"{key}:file:{s.label}",
                help=f"{len(s.columns)} columns, {s.rows:,} rows. adsl: one row per patient; "
                "adtte: one row per patient and endpoint; wide: one row per patient with "
                "event dates.",
            )
        if choice != NOT_TABLE:
            out[s.key] = choice
    return out


def _column_choices(
    key: str, table: str, columns: Sequence[str], existing: ExtractMapping | None
) -> dict[str, str]:
    """One selectbox per data-model column; those found under their own name are folded
    away, so that what needs a decision comes first."""
    defaults = column_defaults(table, columns, existing)
    options = [NONE, *columns]
    required = REQUIRED_COLUMNS.get(table, ())
    model = ALL_TABLES[table].columns
    by_name = [c for c in model if (defaults.get(c.name) or "").strip().upper() == c.name]
    to_decide = [c for c in model if c not in by_name]
    out: dict[str, str] = {}

    def boxes(cols: Sequence[Column]) -> None:
        grid = st.columns(GRID)
        for i, col in enumerate(cols):
            default = defaults.get(col.name)
            with grid[i % GRID]:
                choice = st.selectbox(
                    f"{col.name} (required)" if col.name in required else col.name,
                    options,
                    index=options.index(default) if default in options else 0,
                    key=f"{key}:col:{table}:{col.name}",
                    help=col.label,
                )
            if choice != NONE:
                out[col.name] = choice

    boxes(to_decide)
    if by_name:
        with st.expander(f"{len(by_name)} columns found under their own name"):
            boxes(by_name)
    return out


def _value_choices(
    key: str, targets: Mapping[str, tuple[Column, list[str]]], existing: ExtractMapping | None
) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for name, (col, values) in targets.items():
        defaults = value_defaults(col, values, existing)
        if not defaults:
            continue
        st.markdown(f"**{name}** ({col.label}): allowed {', '.join(col.allowed)}")
        options = [KEEP, *col.allowed, MISSING]
        grid = st.columns(GRID)
        chosen: dict[str, str] = {}
        for i, (value, code) in enumerate(defaults.items()):
            default = KEEP if code is None else MISSING if code == "" else code
            with grid[i % GRID]:
                choice = st.selectbox(
                    f"{value!s}",
                    options,
                    index=options.index(default) if default in options else 0,
                    key=f"{key}:val:{name}:{value}",
                )
            if choice == MISSING:
                chosen[value] = ""
            elif choice != KEEP:
                chosen[value] = choice
        out[name] = chosen
    return out


def show(
    key: str,
    sources: Sequence[SourceColumns],
    existing: ExtractMapping | None,
    on_apply: Callable[[ExtractMapping], None],
) -> ExtractMapping | None:
    """Draw the form; `on_apply(mapping)` is the Apply button's callback. Returns the
    mapping the choices make (None when they make none).

    `key` makes the widget keys unique to one upload.
    """
    if not sources:
        st.info("No table file (.csv, .parquet, .xpt, .xlsx) was found in the upload.")
        return None
    files = _file_choices(key, sources, existing)
    by_table: dict[str, list[SourceColumns]] = {}
    for s in sources:
        table = s.table if s.key.lower() in TABLE_NAMES else files.get(s.key)
        if table is not None:
            by_table.setdefault(table, []).append(s)
    columns: Columns = {}
    seen: dict[str, list[str]] = {}
    coded: dict[str, tuple[Column, list[str]]] = {}
    for table, held in by_table.items():
        names = list(dict.fromkeys(c for s in held for c in s.columns))
        seen[table] = names
        st.markdown(f"**{table}**: {', '.join(s.label for s in held)}")
        columns[table] = _column_choices(key, table, names, existing)
        for target, src in columns[table].items():
            col = ALL_TABLES[table].column(target)
            if not col.allowed:
                continue
            found = [v for s in held for v in s.values.get(src, ())]
            if found:
                _, before = coded.setdefault(target, (col, []))
                before.extend(v for v in dict.fromkeys(found) if v not in before)
    if coded:
        st.markdown("##### Codes")
        st.caption(
            "Values the data model does not allow, and what each means. Values kept as "
            "they are will be reported, and their rows rejected where the column is needed."
        )
    values = _value_choices(key, coded, existing)
    problems = clashes(columns, seen)
    for p in problems:
        st.warning(p)
    mapping: ExtractMapping | None = None
    try:
        mapping = build(files, columns, values)
    except DataError as exc:
        st.error(f"This mapping cannot be used: {exc}")
    if mapping is not None:
        with st.expander("The mapping as a file (mapping.toml)"):
            st.code(mapping.to_toml() or "# nothing to rename or recode", language="toml")
    left, right = st.columns(2)
    left.button(
        "Apply the mapping and open the upload",
        type="primary",
        disabled=mapping is None or bool(problems),
        key=f"{key}:apply",
        on_click=on_apply,
        args=(mapping,),
    )
    right.download_button(
        "Download mapping.toml",
        mapping.to_toml() if mapping is not None else "",
        file_name="mapping.toml",
        mime="application/toml",
        disabled=mapping is None,
        on_click="ignore",
        key=f"{key}:toml",
        help="Keep it beside your extract as mapping.toml: it is then read at once.",
    )
    return mapping


@st.cache_data(max_entries=4, ttl=3600, show_spinner="Reading the upload's columns…")
def _inspect(root: str) -> tuple[SourceColumns, ...]:
    return inspect(Path(root))


def inspected(up: Upload) -> tuple[SourceColumns, ...]:
    """The upload's table files and columns as read (the mapping does not change them)."""
    return _inspect(str(up.root))
