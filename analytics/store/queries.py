"""Every SQL statement that reads the built store, in one place.

Each function takes an open DuckDB cursor (or connection) and plain values, binds every
value as a parameter and names columns only after checking them against the schema or
the table's own columns (`quote_ident`): no text a user typed ever becomes SQL. The
store (`analytics.store.store`) and the analyses call these; nothing outside
`analytics.store` and `analytics.extract` writes SQL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import duckdb
import pandas as pd

from analytics.model.filters import FilterError, FilterState, quote_ident

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


# --- store: cohort, counts and levels ------------------------------------------------


def rejected_tables(cur: duckdb.DuckDBPyConnection) -> list[str]:
    """Tables (adsl, adtte, visits, adae, wide) with rejected rows, in the loader's order."""
    rows = cur.execute(
        "SELECT tbl FROM file_report WHERE rows_rejected > 0 GROUP BY tbl ORDER BY min(rowid)"
    ).fetchall()
    return [str(r[0]) for r in rows]


# The patients in view: the WHERE text over adsl and its bound values, as
# `Store.subject_where` builds them from a filter state (columns already checked).
Subject = tuple[str, Sequence[object]]


def _checked(column: str, columns: Mapping[str, str]) -> str:
    """`column` quoted, once it is known to be one of the table's `columns`."""
    if column not in columns:
        raise KeyError(f"unknown subject column {column!r}")
    return quote_ident(column)


def store_meta(cur: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The database's key-value metadata (fingerprint, manifest, unusable reason...)."""
    return dict(cur.execute("SELECT key, value FROM meta").fetchall())


def endpoint_slots(cur: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Endpoint -> its position k in the analysis table (columns __t<k>, __e<k>)."""
    rows = cur.execute("SELECT k, PARAMCD FROM __tte_codes").fetchall()
    return {str(code): int(k) for k, code in rows}


def table_columns(cur: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    """Column -> DuckDB type of one table, in the table's order."""
    rows = cur.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = ? ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return dict(rows)


def quality_rows(cur: duckdb.DuckDBPyConnection) -> tuple[list[tuple], list[tuple]]:  # type: ignore[type-arg]
    """The loader's per-file row account and its problems, in the order it found them."""
    files = cur.execute(
        "SELECT tbl, file, format, rows_read, rows_used, rows_rejected FROM file_report "
        "ORDER BY rowid"
    ).fetchall()
    issues = cur.execute(
        "SELECT file, row_id, col, value, severity, message FROM data_issues ORDER BY seq"
    ).fetchall()
    return files, issues


def rejected_sources(cur: duckdb.DuckDBPyConnection) -> list[tuple[int, str, str, str]]:
    """(source id, table, file, JSON list of the file's column names) per rejecting file."""
    rows = cur.execute("SELECT src, tbl, file, names FROM __rejected_sources ORDER BY src")
    return [(int(s), str(t), str(f), str(n)) for s, t, f, n in rows.fetchall()]


def rejected_rows_of(cur: duckdb.DuckDBPyConnection, source: int) -> pd.DataFrame:
    """The rejected rows of one source file, as read."""
    # the table name is built from an integer id, never from user text
    return cur.execute(f'SELECT * FROM "__rejected_rows_{int(source)}"').df()


def endpoint_names(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """PARAMCD and one PARAM text per endpoint."""
    return cur.execute("SELECT PARAMCD, min(PARAM) AS PARAM FROM adtte GROUP BY PARAMCD").df()


def count_subjects(cur: duckdb.DuckDBPyConnection, subject: Subject) -> int:
    where, params = subject
    row = cur.execute(f"SELECT count(*) FROM adsl WHERE {where}", list(params)).fetchone()
    return int(row[0]) if row else 0


def group_sizes(
    cur: duckdb.DuckDBPyConnection, subject: Subject, by: str, columns: Mapping[str, str]
) -> pd.DataFrame:
    """Patients in view per level of `by` (GRP as text, N), missing level included."""
    where, params = subject
    return cur.execute(
        f"SELECT CAST({_checked(by, columns)} AS VARCHAR) AS GRP, count(*) AS N FROM adsl "
        f"WHERE {where} GROUP BY ALL",
        list(params),
    ).df()


def tte_counts(
    cur: duckdb.DuckDBPyConnection,
    subject: Subject,
    slots: Sequence[tuple[str, int]],
    by: str | None,
    columns: Mapping[str, str],
) -> pd.DataFrame:
    """Distinct (PARAMCD, AVAL, EVENT[, GRP]) rows with patient counts N, for the
    endpoints at `slots` (code, position in the analysis table) of the patients in view."""
    where, params = subject
    group = "" if by is None else f", CAST({_checked(by, columns)} AS VARCHAR) AS GRP"
    # column names from the endpoints' positions; the codes themselves are bound
    parts = [
        f"SELECT ? AS PARAMCD, __t{int(k)} AS __T, __e{int(k)} AS EVENT{group}, count(*) AS N "
        f"FROM __tte_pivot WHERE __t{int(k)} IS NOT NULL AND {where} GROUP BY ALL"
        for _, k in slots
    ]
    if not parts:
        parts = [
            "SELECT CAST(NULL AS VARCHAR) AS PARAMCD, CAST(NULL AS DOUBLE) AS __T, "
            f"CAST(NULL AS INTEGER) AS EVENT{group}, CAST(0 AS BIGINT) AS N "
            "FROM adsl WHERE false"
        ]
    extra = ", GRP" if by is not None else ""
    sql = (
        f"SELECT PARAMCD, CAST(__T AS DOUBLE) AS AVAL, EVENT{extra}, N FROM "
        f"({' UNION ALL '.join(parts)}) ORDER BY ALL"
    )
    bound: list[object] = []
    for code, _ in slots:
        bound += [code, *params]
    return cur.execute(sql, bound).df()


def levels(cur: duckdb.DuckDBPyConnection, column: str, columns: Mapping[str, str]) -> list[object]:
    """Distinct non-missing values of a subject column, sorted."""
    ident = _checked(column, columns)
    df = cur.execute(
        f"SELECT DISTINCT {ident} AS v FROM adsl WHERE {ident} IS NOT NULL ORDER BY v"
    ).df()
    return list(df["v"])


def cohort_tables(
    cur: duckdb.DuckDBPyConnection, subject: Subject
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Every row of adsl, adtte, visits and adae of the patients in view."""
    where, params = subject
    bound = list(params)
    subset = f"USUBJID IN (SELECT USUBJID FROM adsl WHERE {where})"
    adsl = cur.execute(f"SELECT * FROM adsl WHERE {where} ORDER BY USUBJID", bound).df()
    adtte = cur.execute(
        f"SELECT * FROM adtte WHERE {subset} ORDER BY USUBJID, PARAMCD", bound
    ).df()
    visits = cur.execute(
        f"SELECT * FROM visits WHERE {subset} ORDER BY USUBJID, AVISITN", bound
    ).df()
    adae = cur.execute(f"SELECT * FROM adae WHERE {subset} ORDER BY USUBJID, AESEQ", bound).df()
    return adsl, adtte, visits, adae


# --- survival-shaped analyses: time, event, weight and group counts ------------------

def populated_subject_columns(
    cur: duckdb.DuckDBPyConnection, columns: Mapping[str, str]
) -> frozenset[str]:
    """Subject columns with at least one recorded value."""
    names = list(columns)
    counts = ", ".join(f"count({_checked(c, columns)})" for c in names)
    row = cur.execute(f"SELECT {counts} FROM adsl").fetchone() or ()
    return frozenset(c for c, k in zip(names, row, strict=True) if int(k) > 0)


def censoring_counts(
    cur: duckdb.DuckDBPyConnection, subject: Subject, paramcd: str
) -> pd.DataFrame:
    """Distinct (AVAL, CNSR) of one endpoint among the patients in view, with their
    patient counts N: what competing risks need (the censoring reason, not only EVENT)."""
    where, params = subject
    return cur.execute(
        "SELECT AVAL, CNSR, count(*) AS N FROM adtte WHERE PARAMCD = ? AND USUBJID IN "
        f"(SELECT USUBJID FROM adsl WHERE {where}) GROUP BY ALL ORDER BY ALL",
        [paramcd, *params],
    ).df()


def subject_rows(
    cur: duckdb.DuckDBPyConnection,
    subject: Subject,
    wanted: Sequence[str],
    columns: Mapping[str, str],
) -> pd.DataFrame:
    """The `wanted` subject columns (those the table has) of the patients in view,
    one row per patient in USUBJID order."""
    where, params = subject
    select = ", ".join(_checked(c, columns) for c in wanted if c in columns)
    return cur.execute(
        f"SELECT {select} FROM adsl WHERE {where} ORDER BY USUBJID", list(params)
    ).df()


def endpoint_rows(
    cur: duckdb.DuckDBPyConnection, subject: Subject, endpoints: Sequence[str]
) -> pd.DataFrame:
    """Every ADTTE row of `endpoints` for the patients in view."""
    where, params = subject
    marks = ", ".join("?" for _ in endpoints)
    return cur.execute(
        f"SELECT * FROM adtte WHERE PARAMCD IN ({marks}) AND USUBJID IN "
        f"(SELECT USUBJID FROM adsl WHERE {where}) ORDER BY USUBJID, PARAMCD",
        [*endpoints, *params],
    ).df()


def value_event_counts(
    cur: duckdb.DuckDBPyConnection,
    subject: Subject,
    paramcd: str,
    column: str,
    columns: Mapping[str, str],
) -> pd.DataFrame:
    """Distinct (V = value of `column`, AVAL, EVENT) of one endpoint among the patients
    in view, with their patient counts N (from the analysis table, one row per patient
    and endpoint)."""
    where, params = subject
    return cur.execute(
        f"SELECT {_checked(column, columns)} AS V, AVAL, EVENT, count(*) AS N FROM tte_wide "
        f"WHERE PARAMCD = ? AND {where} GROUP BY ALL ORDER BY ALL",
        [paramcd, *params],
    ).df()


def endpoint_name(cur: duckdb.DuckDBPyConnection, subject: Subject, paramcd: str) -> str | None:
    """The endpoint's PARAM as a patient-by-patient reading gives it: the first
    non-empty PARAM (by patient) among the patients in view; None when there is none."""
    found = cur.execute(
        "SELECT count(DISTINCT PARAM) FROM adtte WHERE PARAMCD = ?", [paramcd]
    ).fetchone()
    kinds = int(found[0]) if found else 0
    if kinds == 0:
        return None
    if kinds == 1:
        # one name for every record that has one: any of them will do
        row = cur.execute(
            "SELECT PARAM FROM adtte WHERE PARAMCD = ? AND PARAM IS NOT NULL LIMIT 1", [paramcd]
        ).fetchone()
    else:
        where, params = subject
        row = cur.execute(
            "SELECT PARAM FROM adtte WHERE PARAMCD = ? AND PARAM IS NOT NULL AND USUBJID IN "
            f"(SELECT USUBJID FROM adsl WHERE {where}) ORDER BY USUBJID LIMIT 1",
            [paramcd, *params],
        ).fetchone()
    return None if row is None else str(row[0])


# A missing study or site identifier reads '' in both site queries, so their frames join
# on plain strings ('' is no identifier: a site without one is not compared).
_STUDY = "COALESCE(CAST(STUDYID AS VARCHAR), '') AS STUDY"
_SITE = "COALESCE(CAST(SITEID AS VARCHAR), '') AS SITE"


def site_sizes(cur: duckdb.DuckDBPyConnection, subject: Subject) -> pd.DataFrame:
    """Patients in view per (STUDY, SITE), column N: one scan of the subject table."""
    where, params = subject
    return cur.execute(
        f"SELECT {_STUDY}, {_SITE}, count(*) AS N FROM adsl WHERE {where} "
        "GROUP BY ALL ORDER BY ALL",
        list(params),
    ).df()


def site_times(
    cur: duckdb.DuckDBPyConnection,
    subject: Subject,
    paramcd: str,
    day: float,
    competing: Sequence[int],
) -> pd.DataFrame:
    """Per (STUDY, SITE): distinct (AVAL, CODE) with patient counts N; CODE 1 = the
    event (CNSR 0), 2 = a competing event (CNSR in `competing`), 0 = censored. Times
    after `day` are folded into one censored time, day + 1."""
    where, params = subject
    marks = ", ".join("?" for _ in competing)
    sql = (
        f"WITH s AS (SELECT USUBJID, {_STUDY}, {_SITE} FROM adsl WHERE {where}) "
        "SELECT s.STUDY, s.SITE, CASE WHEN t.AVAL > ? THEN ? ELSE t.AVAL END AS AVAL, "
        "CASE WHEN t.AVAL > ? THEN 0 WHEN t.CNSR = 0 THEN 1 "
        f"WHEN t.CNSR IN ({marks}) THEN 2 ELSE 0 END AS CODE, count(*) AS N "
        "FROM adtte t JOIN s ON s.USUBJID = t.USUBJID WHERE t.PARAMCD = ? "
        "GROUP BY ALL ORDER BY ALL"
    )
    return cur.execute(sql, [*params, day, day + 1, day, *competing, paramcd]).df()


# --- tables, outcomes, safety, visits and the audit -----------------------------------

# The patient-count column of `value_counts` (no extract column can be named so).
VALUE_COUNT = "__n"

# The event tables read row by row, and the order `Store.cohort` gives their rows.
_EVENT_ORDER = {"visits": "USUBJID, AVISITN", "adae": "USUBJID, AESEQ"}


def _event_table(table: str) -> str:
    if table not in _EVENT_ORDER:
        raise KeyError(f"unknown event table {table!r}")
    return table


def value_counts(
    cur: duckdb.DuckDBPyConnection,
    subject: Subject,
    wanted: Sequence[str],
    columns: Mapping[str, str],
) -> pd.DataFrame:
    """Distinct combinations of the `wanted` subject columns among the patients in view
    (missing values included), with their patient counts in column `VALUE_COUNT`."""
    where, params = subject
    select = ", ".join(_checked(c, columns) for c in wanted)
    return cur.execute(
        f"SELECT {select}, count(*) AS {VALUE_COUNT} FROM adsl WHERE {where} GROUP BY ALL",
        list(params),
    ).df()


def technical_success_events(
    cur: duckdb.DuckDBPyConnection,
    subject: Subject,
    columns: Mapping[str, str],
    endpoints: Sequence[str],
    day: float,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The technical successes in view (USUBJID, TECHSFL; by USUBJID) and their events
    (CNSR 0) of `endpoints` on or before `day` (by USUBJID, PARAMCD). When no patient in
    view has TECHSFL recorded, every patient in view (USUBJID only) and their events."""
    where, params = subject
    recorded = 0
    if "TECHSFL" in columns:
        row = cur.execute(f"SELECT count(TECHSFL) FROM adsl WHERE {where}", list(params)).fetchone()
        recorded = int(row[0]) if row else 0
    select, bound = "USUBJID", list(params)
    if recorded:
        select, where, bound = "USUBJID, TECHSFL", f"({where}) AND TECHSFL = ?", [*bound, "Y"]
    adsl = cur.execute(f"SELECT {select} FROM adsl WHERE {where} ORDER BY USUBJID", bound).df()
    marks = ", ".join("?" for _ in endpoints)
    adtte = cur.execute(
        f"SELECT * FROM adtte WHERE PARAMCD IN ({marks}) AND CNSR = 0 AND AVAL <= ? AND "
        f"USUBJID IN (SELECT USUBJID FROM adsl WHERE {where}) ORDER BY USUBJID, PARAMCD",
        [*endpoints, float(day), *bound],
    ).df()
    return adsl, adtte


def has_rows(cur: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether the event table ("visits" or "adae") holds any row."""
    row = cur.execute(f"SELECT EXISTS (SELECT 1 FROM {_event_table(table)})").fetchone()
    return bool(row and row[0])


def column_recorded(
    cur: duckdb.DuckDBPyConnection, table: str, column: str, columns: Mapping[str, str]
) -> bool:
    """Whether `column` of the event table holds a value for anyone in the data."""
    name = _checked(column, columns)
    row = cur.execute(f"SELECT count({name}) > 0 FROM {_event_table(table)}").fetchone()
    return bool(row and row[0])


def event_rows(
    cur: duckdb.DuckDBPyConnection,
    subject: Subject,
    table: str,
    columns: Mapping[str, str],
    wanted: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The rows of the event table ("visits" or "adae") of the patients in view, as
    `Store.cohort` orders them; only the `wanted` columns if given. A table with no
    row at all is not joined to the patients (its empty frame, columns kept)."""
    name = _event_table(table)
    select = "*" if wanted is None else ", ".join(_checked(c, columns) for c in wanted)
    if not has_rows(cur, name):
        return cur.execute(f"SELECT {select} FROM {name} LIMIT 0").df()
    where, params = subject
    return cur.execute(
        f"SELECT {select} FROM {name} WHERE USUBJID IN (SELECT USUBJID FROM adsl WHERE "
        f"{where}) ORDER BY {_EVENT_ORDER[name]}",
        list(params),
    ).df()


# --- what the dashboard asks of the store (levels, ranges, populated columns) ---------


def value_range(
    cur: duckdb.DuckDBPyConnection, column: str, columns: Mapping[str, str]
) -> tuple[object, object]:
    """(min, max) of one subject column over the whole data."""
    name = _checked(column, columns)
    row = cur.execute(f"SELECT min({name}), max({name}) FROM adsl").fetchone() or (None, None)
    return row[0], row[1]


def distinct_counts(
    cur: duckdb.DuckDBPyConnection, wanted: Sequence[str], columns: Mapping[str, str]
) -> dict[str, int]:
    """Number of distinct recorded values of each `wanted` subject column."""
    if not wanted:
        return {}
    counts = ", ".join(f"count(DISTINCT {_checked(c, columns)})" for c in wanted)
    row = cur.execute(f"SELECT {counts} FROM adsl").fetchone() or ()
    return {c: int(k) for c, k in zip(wanted, row, strict=True)}
