"""The filter state as a WHERE clause over adsl, and the column check every other
query module names its columns through."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from analytics.model.filters import FilterError, FilterState, quote_ident

# The patients in view: the WHERE text over adsl and its bound values, as
# `Store.subject_where` builds them from a filter state (columns already checked).
Subject = tuple[str, Sequence[object]]


# --- the filter state as a WHERE clause --------------------------------------------


def where_clause(
    state: FilterState, column_types: Mapping[str, str], alias: str = ""
) -> tuple[str, list[object]]:
    """SQL WHERE text and bound parameters for `state`.

    `column_types` maps the columns that really exist to their DuckDB type; any
    other column is rejected, so no user text ever reaches the SQL.
    """
    parts: list[str] = []
    params: list[object] = []
    prefix = f"{alias}." if alias else ""
    for clause in state.clauses:
        if clause.column not in column_types:
            known = ", ".join(sorted(column_types))
            raise FilterError(
                f"unknown column {clause.column!r} in filter {clause}; known: {known}"
            )
        sql_type = column_types[clause.column].upper()
        numeric = any(t in sql_type for t in ("INT", "DOUBLE", "FLOAT", "DECIMAL", "REAL"))
        integer = "INT" in sql_type
        is_date = sql_type == "DATE"
        values: list[object] = []
        for v in clause.values:
            if numeric:
                try:
                    x = float(v)
                    # an int against an integer column keeps DuckDB's zone maps usable
                    values.append(int(x) if integer and x.is_integer() else x)
                except ValueError:
                    raise FilterError(
                        f"filter {clause}: {v!r} is not a number for numeric column {clause.column}"
                    ) from None
            else:
                values.append(v)
        ident = prefix + quote_ident(clause.column)
        if is_date:
            ident = f"CAST({ident} AS VARCHAR)"
        if clause.op in ("in", "not_in"):
            marks = ", ".join("?" for _ in values)
            if clause.op == "in":
                parts.append(f"{ident} IN ({marks})")
            else:
                parts.append(f"({ident} IS NULL OR {ident} NOT IN ({marks}))")
        else:
            parts.append(f"{ident} {clause.op} ?")
        params.extend(values)
    return (" AND ".join(parts) if parts else "TRUE"), params


def checked(column: str, columns: Mapping[str, str]) -> str:
    """`column` quoted, once it is known to be one of the table's `columns`."""
    if column not in columns:
        raise KeyError(f"unknown subject column {column!r}")
    return quote_ident(column)
