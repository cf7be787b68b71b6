"""The store's own reads: its meta and quality tables, counts, group sizes,
levels and value ranges, and the patient rows of a cohort."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import duckdb
import numpy as np
import pandas as pd

from analytics.store.queries.where import Subject, checked

# --- store: cohort, counts and levels ------------------------------------------------


def rejected_tables(cur: duckdb.DuckDBPyConnection) -> list[str]:
    """Tables (adsl, adtte, visits, adae, wide) with rejected rows, in the loader's order."""
    rows = cur.execute(
        "SELECT tbl FROM file_report WHERE rows_rejected > 0 GROUP BY tbl ORDER BY min(rowid)"
    ).fetchall()
    return [str(r[0]) for r in rows]


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


def endpoint_names(cur: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Each endpoint's PARAMCD and one PARAM text (the PARAMCD where none is given)."""
    rows = cur.execute("SELECT PARAMCD, min(PARAM) FROM adtte GROUP BY PARAMCD").fetchall()
    return {str(c): str(p) if p is not None else str(c) for c, p in rows if c is not None}


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
        f"SELECT CAST({checked(by, columns)} AS VARCHAR) AS GRP, count(*) AS N FROM adsl "
        f"WHERE {where} GROUP BY ALL",
        list(params),
    ).df()


def tte_counts(
    cur: duckdb.DuckDBPyConnection,
    subject: Subject,
    slots: Sequence[tuple[str, int]],
    by: str | None,
    columns: Mapping[str, str],
    whole_days: bool = False,
) -> pd.DataFrame:
    """Distinct (PARAMCD, AVAL, EVENT[, GRP]) rows with patient counts N, for the
    endpoints at `slots` (code, position in the analysis table) of the patients in view.

    `whole_days` (the analysis table stores times as integers): without groups, each
    (time, event) is grouped as one integer, 2 * time + event, which hashes in about two
    thirds of the time of the pair (a filter change on a registry is mostly this
    grouping). EVENT is never missing where a time is (CNSR is required), so the key
    always exists."""
    where, params = subject
    keyed = whole_days and by is None and bool(slots)
    group = "" if by is None else f", CAST({checked(by, columns)} AS VARCHAR) AS GRP"
    # column names from the endpoints' positions; the codes themselves are bound
    values = (
        "CAST(__t{k} AS BIGINT) * 2 + __e{k} AS __TE" if keyed else "__t{k} AS __T, __e{k} AS EVENT"
    )
    parts = [
        f"SELECT ? AS PARAMCD, {values.format(k=int(k))}{group}, count(*) AS N "
        f"FROM __tte_pivot WHERE __t{int(k)} IS NOT NULL AND {where} GROUP BY ALL"
        for _, k in slots
    ]
    if not parts:
        parts = [
            "SELECT CAST(NULL AS VARCHAR) AS PARAMCD, CAST(NULL AS DOUBLE) AS __T, "
            f"CAST(NULL AS INTEGER) AS EVENT{group}, CAST(0 AS BIGINT) AS N "
            "FROM adsl WHERE false"
        ]
    union = " UNION ALL ".join(parts)
    bound: list[object] = []
    for code, _ in slots:
        bound += [code, *params]
    if keyed:
        rows = cur.execute(
            f"SELECT PARAMCD, __TE, N FROM ({union}) ORDER BY PARAMCD, __TE", bound
        ).df()
        return _split_keys(rows)
    extra = ", GRP" if by is not None else ""
    sql = (
        f"SELECT PARAMCD, CAST(__T AS DOUBLE) AS AVAL, EVENT{extra}, N FROM ({union}) ORDER BY ALL"
    )
    return cur.execute(sql, bound).df()


def _split_keys(rows: pd.DataFrame) -> pd.DataFrame:
    """(PARAMCD, __TE, N) back to (PARAMCD, AVAL, EVENT, N), typed as the pair gives them."""
    key = rows["__TE"].to_numpy(dtype=np.int64)
    event = np.mod(key, 2)  # floor division's remainder: 0 or 1 for negative times too
    return pd.DataFrame(
        {
            "PARAMCD": rows["PARAMCD"].astype(object),
            "AVAL": ((key - event) // 2).astype(np.float64),
            "EVENT": event.astype(np.int32),
            "N": rows["N"].astype(np.int64),
        }
    )


def levels(cur: duckdb.DuckDBPyConnection, column: str, columns: Mapping[str, str]) -> list[object]:
    """Distinct non-missing values of a subject column, sorted."""
    ident = checked(column, columns)
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
    adtte = cur.execute(f"SELECT * FROM adtte WHERE {subset} ORDER BY USUBJID, PARAMCD", bound).df()
    visits = cur.execute(
        f"SELECT * FROM visits WHERE {subset} ORDER BY USUBJID, AVISITN", bound
    ).df()
    adae = cur.execute(f"SELECT * FROM adae WHERE {subset} ORDER BY USUBJID, AESEQ", bound).df()
    return adsl, adtte, visits, adae


# --- what the dashboard asks of the store (levels, ranges, populated columns) ---------


def value_range(
    cur: duckdb.DuckDBPyConnection, column: str, columns: Mapping[str, str]
) -> tuple[object, object]:
    """(min, max) of one subject column over the whole data."""
    name = checked(column, columns)
    row = cur.execute(f"SELECT min({name}), max({name}) FROM adsl").fetchone() or (None, None)
    return row[0], row[1]


def distinct_counts(
    cur: duckdb.DuckDBPyConnection, wanted: Sequence[str], columns: Mapping[str, str]
) -> dict[str, int]:
    """Number of distinct recorded values of each `wanted` subject column."""
    if not wanted:
        return {}
    counts = ", ".join(f"count(DISTINCT {checked(c, columns)})" for c in wanted)
    row = cur.execute(f"SELECT {counts} FROM adsl").fetchone() or ()
    return {c: int(k) for c, k in zip(wanted, row, strict=True)}
