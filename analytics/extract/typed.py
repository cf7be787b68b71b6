"""Typing: each staged file as a view of the data model's columns, read by SQL casts
(unreadable values become NULL and are flagged), recoded by the mapping, identifiers
compared without the spaces around them.
"""

from __future__ import annotations

from analytics.extract.issues import DataIssue
from analytics.extract.loading import (
    Load,
    LoadFile,
)
from analytics.extract.rules import ID_SPACE, IDENTIFIERS, TABLES_ALL
from analytics.extract.validate import internal
from analytics.model.filters import quote_ident
from analytics.model.schema import Column

_NUMERIC = ("DOUBLE", "FLOAT", "REAL", "DECIMAL", "INT", "NUMERIC")
_FLOATING = ("DOUBLE", "FLOAT", "REAL", "DECIMAL")
# the characters trimmed from identifiers, as SQL (never text from a file)
_ID_TRIM = " || ".join(f"chr({ord(ch)})" for ch in ID_SPACE)


def typed_view(load: Load, src: LoadFile) -> None:
    schema = TABLES_ALL[src.table]
    padded = padded_identifiers(load, src)
    exprs = ["s.__row", "s.__err", "s.__extra"]
    joins: list[str] = []
    for col in schema.columns:
        q = quote_ident(col.name)
        src.types[col.name] = col.sql_type
        if col.name not in src.present:
            exprs.append(f"CAST(NULL AS {col.sql_type}) AS {q}")
            continue
        ident = f"s.{src.present[col.name]}"
        src_type = src.src_types[col.name]
        text = text_expr(ident, src_type)
        recodes = src.mapping.recodes(col) if src.mapping else {}
        if recodes:
            load.recode_id += 1
            rid = load.recode_id
            load.con.executemany("INSERT INTO __recode VALUES (?, ?, ?)",
                                 [[rid, k, v] for k, v in recodes.items()])
            joins.append(f"LEFT JOIN (SELECT src, dst FROM __recode WHERE id = {rid}) r{rid} "
                         f"ON r{rid}.src = {text}")
            text = f"COALESCE(r{rid}.dst, {text})"
            typed = _from_text(text, col, src.staged.decimal_comma)
        else:
            typed = _cast(ident, col, src_type, src.staged.decimal_comma)
        if col.name in padded:
            # compared without surrounding spaces everywhere (counted and reported);
            # only where some value has them: trimming costs every scan of the view
            typed = f"NULLIF(trim({typed}, {_ID_TRIM}), '')"
        elif not recodes and src_type == "VARCHAR" and col.sql_type == "VARCHAR":
            src.plain.add(col.name)
        exprs.append(f"{typed} AS {q}")
        exprs.append(f"{text_expr(ident, src_type)} AS {internal('__raw_', col.name)}")
        if col.type not in ("str", "flag"):
            exprs.append(f"({typed} IS NULL AND NULLIF(trim({text}), '') IS NOT NULL) "
                         f"AS {internal('__bad_', col.name)}")
    for name, pos in src.extras.items():
        exprs.append(f"s.{pos} AS {quote_ident(name)}")
    load.sql(f"CREATE VIEW {src.typed} AS SELECT {', '.join(exprs)} "
             f"FROM \"{src.staged.relation}\" s {' '.join(joins)}")


def padded_identifiers(load: Load, src: LoadFile) -> set[str]:
    """The identifier columns of the file with values that have white space around
    them (typed_view trims those); said once per file, with how many values, so
    that nothing is altered silently. Only text columns can have any."""
    cols = [c for c in IDENTIFIERS if c in src.present and src.src_types[c] == "VARCHAR"]
    if not cols:
        return set()
    row = load.sql(
        "SELECT " + ", ".join(f"count(*) FILTER (WHERE {_padded(f's.{src.present[c]}')})"
                              for c in cols)
        + f' FROM "{src.staged.relation}" s WHERE s.__err IS NULL').fetchone()
    found = [(c, int(n)) for c, n in zip(cols, row or (), strict=False) if n]
    if not found:
        return set()
    total = sum(n for _, n in found)
    load.notes.append(DataIssue(
        src.label, None, found[0][0] if len(found) == 1 else None, None, "warning",
        f"spaces around {total} identifier value{'s' * (total > 1)} removed "
        f"({', '.join(f'{c}: {n}' for c, n in found)}): identifiers are matched "
        "without them"))
    return {c for c, _ in found}


def text_expr(ident: str, src_type: str) -> str:
    """A source column as the text a CSV export would hold (5.0 shows as 5)."""
    if src_type == "VARCHAR":
        return ident
    if any(t in src_type for t in _FLOATING):
        v = f"CAST({ident} AS DOUBLE)"
        return (f"CASE WHEN isfinite({v}) AND {v} = floor({v}) AND abs({v}) < 1e15 "
                f"THEN CAST(CAST({v} AS BIGINT) AS VARCHAR) ELSE CAST({ident} AS VARCHAR) END")
    return f"CAST({ident} AS VARCHAR)"


def _padded(text: str) -> str:
    """SQL: the text starts or ends with white space (prefix and suffix are far cheaper
    than a regular expression over millions of identifiers)."""
    return " OR ".join(f"prefix({text}, chr({ord(ch)})) OR suffix({text}, chr({ord(ch)}))"
                       for ch in ID_SPACE)


def _number(text: str, decimal_comma: bool) -> str:
    txt = f"NULLIF(trim({text}), '')"
    if decimal_comma:
        # semicolon-separated files write 27,5 for 27.5
        txt = (f"CASE WHEN {txt} LIKE '%,%' AND {txt} NOT LIKE '%.%' "
               f"THEN replace({txt}, ',', '.') ELSE {txt} END")
    return f"TRY_CAST({txt} AS DOUBLE)"


def _from_text(text: str, col: Column, decimal_comma: bool) -> str:
    if col.sql_type == "VARCHAR":
        return f"NULLIF({text}, '')"
    if col.sql_type == "DATE":
        return f"TRY_CAST(TRY_STRPTIME(NULLIF(trim({text}), ''), '%Y-%m-%d') AS DATE)"
    return _whole_or_finite(_number(text, decimal_comma), col.sql_type)


def _whole_or_finite(value: str, sql_type: str) -> str:
    if sql_type == "INTEGER":
        # DuckDB would round 1.5 to 2; a value that is not whole must stay unreadable
        return (f"CASE WHEN isfinite({value}) AND {value} = floor({value}) AND "
                f"abs({value}) <= 2147483647 THEN CAST({value} AS INTEGER) END")
    return f"CASE WHEN isfinite({value}) THEN {value} END"


def _cast(ident: str, col: Column, src_type: str, decimal_comma: bool) -> str:
    """Expression reading source column `ident` as the column's type; unreadable values
    become NULL (and are reported). Typed sources (Parquet, SAS) are cast numerically,
    which keeps a scan of millions of rows cheap; text goes through TRY_CAST."""
    numeric = any(t in src_type for t in _NUMERIC)
    floating = any(t in src_type for t in _FLOATING)
    sql_type = col.sql_type
    if src_type == "VARCHAR" or not (numeric or "DATE" in src_type or "TIMESTAMP" in src_type):
        return _from_text(text_expr(ident, src_type), col, decimal_comma)
    if sql_type == "DATE":
        if "DATE" in src_type or "TIMESTAMP" in src_type:
            return f"TRY_CAST({ident} AS DATE)"
        # SAS dates are days since 1960-01-01 (bounded so that the year stays printable)
        days = f"floor(CAST({ident} AS DOUBLE))"
        return (f"CASE WHEN abs({days}) < 2900000 THEN DATE '1960-01-01' + "
                f"CAST({days} AS INTEGER) END")
    if sql_type == "VARCHAR":
        return f"NULLIF({text_expr(ident, src_type)}, '')"
    if not numeric:
        return _from_text(text_expr(ident, src_type), col, decimal_comma)
    if sql_type == "INTEGER" and not floating:
        return f"TRY_CAST({ident} AS INTEGER)"
    if not floating:
        return f"CAST({ident} AS DOUBLE)"
    return _whole_or_finite(f"CAST({ident} AS DOUBLE)", sql_type)
