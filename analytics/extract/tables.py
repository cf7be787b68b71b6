"""The tables the app reads: `adsl`, `adtte`, `visits`, `adae` (views with every
data-model column over the columns some file holds), the time-to-event rows derived
from a wide file, and the analysis tables `__tte_pivot` and `tte_wide`.
"""

from __future__ import annotations

from collections.abc import Sequence

from analytics.extract.loading import (
    Load,
    LoadFile,
)
from analytics.extract.wide import derive_adtte_sql
from analytics.model.filters import quote_ident
from analytics.model.schema import ADSL, Table


def wide_views(load: Load) -> None:
    for src in load.srcs:
        if src.table != "wide":
            continue
        study = load.study_sql(src)
        relation = f"(SELECT * FROM {src.typed} WHERE {load.accepted(src)})"
        load.sql(f'CREATE VIEW "__wide_tte_{src.id}" AS '
                 f"{derive_adtte_sql(relation, set(src.present), study)}")


def final_table(load: Load, table: Table, srcs: list[LoadFile],
                derived: Sequence[LoadFile] = ()) -> None:
    """`<table>`: a view with every data-model column (absent ones as typed NULLs, so
    readers can rely on the columns) over `__<table>_data`, which holds only the
    columns some file has. Writing a million rows of empty columns is not free."""
    name = quote_ident(table.name)
    data = f'"__{table.name}_data"'
    # a wide file's derived rows fill every adtte column; a registry fills STUDYID
    # (and a subject file's SITEID) from the folder's name
    populated = [c for c in table.names
                 if derived or any(c in s.present for s in srcs)
                 or (c in ("STUDYID", "SITEID") and load.layout.registry)]
    extras: list[str] = []
    for src in srcs:
        extra_names = list(src.extras)
        if src.table == "wide":  # its event dates stay with the patient
            extra_names = [c for c in src.present if c not in table.names] + extra_names
        extras += [e for e in extra_names if e not in extras and e not in table.names]
    columns = [*populated, *extras]
    load.stored[table.name] = set(columns)
    # the subject table keeps where each row came from: its keys are checked on it
    keep = table.name == "adsl"
    parts = []
    for src in srcs:
        have = set(src.types) | set(src.extras)
        sel = [f"{src.study} AS __study", f"{src.id} AS __src", "__row"] if keep else []
        for c in columns:
            q = quote_ident(c)
            if c == "STUDYID":
                sel.append(f"{load.study_sql(src)} AS {q}")
            elif c == "SITEID" and load.layout.registry and c not in src.present:
                sel.append(f"(SELECT name FROM __studies WHERE study = {src.study}) AS {q}")
            elif c in have:
                sel.append(q)
            else:
                sel.append(f"NULL AS {q}")
        parts.append(f"SELECT {', '.join(sel)} FROM {src.typed} WHERE {load.accepted(src)}")
    for src in derived:
        sel = [quote_ident(c) if c in table.names else f"NULL AS {quote_ident(c)}"
               for c in columns]
        parts.append(f'SELECT {", ".join(sel)} FROM "__wide_tte_{src.id}"')
    if parts:
        types = {c.name: c.sql_type for c in table.columns}
        body = ", ".join(
            [*(["__study", "__src", "__row"] if keep else []),
             *(f"CAST({quote_ident(c)} AS {types[c]}) AS {quote_ident(c)}" if c in types
               else quote_ident(c) for c in columns)])
        # Large tables stay views over Parquet; the subject table is read by every
        # count and filter, so it is copied into DuckDB's own storage.
        all_parquet = all(s.parquet for s in [*srcs, *derived])
        kind = "VIEW" if all_parquet and table.name != "adsl" else "TABLE"
        load.sql(f"CREATE {kind} {data} AS SELECT {body} FROM "
                 f"({' UNION ALL '.join(parts)})")
    else:
        columns = []
        load.sql(f"CREATE TABLE {data} AS SELECT 1 AS __none WHERE false")
    outer = [quote_ident(c.name) if c.name in columns else
             f"CAST(NULL AS {c.sql_type}) AS {quote_ident(c.name)}" for c in table.columns]
    outer += [quote_ident(e) for e in extras]
    load.sql(f"CREATE VIEW {name} AS SELECT {', '.join(outer)} FROM {data}")


def release_copies(load: Load) -> None:
    """Drop the raw copies of CSV, Excel and SAS files (and the views over them) once
    the tables the app reads, the report and the rejected rows are built: they would
    otherwise hold memory through the rest of the build, and space in the cache."""
    for src in load.srcs:
        if src.parquet:
            continue
        if src.table == "wide":
            load.sql(f'DROP VIEW IF EXISTS "__wide_tte_{src.id}"')
        load.sql(f"DROP VIEW {src.typed}")
        relation = src.staged.relation
        if load.scalar("SELECT count(*) FROM duckdb_views() WHERE view_name = ?",
                       [relation]):
            load.sql(f'DROP VIEW "{relation}"')
            load.sql(f'DROP TABLE "{relation}_data"')
        else:
            load.sql(f'DROP TABLE "{relation}"')


def analysis_table(load: Load) -> None:
    """`__tte_pivot`: one row per patient with the subject columns some file holds and,
    per endpoint k (`__tte_codes`), its time `__t<k>` and event flag `__e<k>` (NULL when
    the patient has no record of it). A filter change then costs one columnar scan of
    the patients, with no join, and the subject columns are written once per patient,
    not once per time-to-event row. Times are stored as integers when every one is a
    whole number of days (grouping integers is cheaper); readers cast them back.

    `tte_wide` is the long form over it: every time-to-event row with its patient's
    subject columns (absent ones as typed NULLs, so every filter finds its column).
    Rows with the same (USUBJID, PARAMCD) were rejected as duplicates before this,
    so one value per patient and endpoint is all there is to keep.
    """
    found = load.sql(
        "SELECT list(DISTINCT PARAMCD ORDER BY PARAMCD) FILTER (WHERE PARAMCD IS NOT NULL), "
        "coalesce(bool_and(AVAL = floor(AVAL) AND abs(AVAL) < 2147483647), true) "
        "FROM adtte").fetchone()
    codes = [str(c) for c in (found[0] or [])] if found else []
    whole = bool(found[1]) if found else True
    load.sql("CREATE TABLE __tte_codes (k INTEGER, PARAMCD VARCHAR)")
    if codes:
        load.con.executemany("INSERT INTO __tte_codes VALUES (?, ?)",
                             [[k, c] for k, c in enumerate(codes)])
    aval = "CAST(t.AVAL AS INTEGER)" if whole else "t.AVAL"
    # the column names are built from the endpoints' positions, never from their codes
    pivot = ", ".join(
        f"max({aval}) FILTER (WHERE c.k = {k}) AS __t{k}, "
        f"max(CAST(t.CNSR = 0 AS INTEGER)) FILTER (WHERE c.k = {k}) AS __e{k}"
        for k in range(len(codes)))
    stored = load.stored_order("adsl")
    cols = ", ".join(f"s.{quote_ident(c)}" for c in stored)
    if codes:
        # a new table, not new columns UPDATEd into the subject table: at ten million
        # patients such an UPDATE runs for many minutes under the build's memory limit
        endpoint_cols = ", ".join(f"p.__t{k}, p.__e{k}" for k in range(len(codes)))
        load.sql(
            f"CREATE TABLE __tte_pivot_data AS SELECT {cols}, {endpoint_cols} "
            f"FROM __adsl_data s LEFT JOIN (SELECT t.USUBJID, {pivot} FROM adtte t "
            "JOIN __tte_codes c USING (PARAMCD) GROUP BY t.USUBJID) p "
            "ON p.USUBJID = s.USUBJID")
    else:
        load.sql(f"CREATE TABLE __tte_pivot_data AS SELECT {cols} FROM __adsl_data s")
    # every subject column, absent ones as typed NULLs, so every filter finds its column
    subject = [
        quote_ident(c.name) if c.name in stored
        else f"CAST(NULL AS {c.sql_type}) AS {quote_ident(c.name)}"
        for c in ADSL.columns
    ] + [quote_ident(c) for c in stored if c not in ADSL.names]
    slots = [f"__t{k}, __e{k}" for k in range(len(codes))]
    load.sql(f"CREATE VIEW __tte_pivot AS SELECT {', '.join(subject + slots)} "
             "FROM __tte_pivot_data")
    taken = {"PARAMCD", "AVAL", "EVENT"}
    outer = [
        quote_ident(c.name) if c.name in stored
        else f"CAST(NULL AS {c.sql_type}) AS {quote_ident(c.name)}"
        for c in ADSL.columns if c.name not in taken
    ] + [quote_ident(c) for c in stored if c not in ADSL.names and c not in taken]
    branches = [
        # the code's row first: a filter on PARAMCD empties it, and the join then
        # stops before reading the patients
        f"SELECT c.PARAMCD, CAST(__t{k} AS DOUBLE) AS AVAL, __e{k} AS EVENT, "
        f"{', '.join(outer)} FROM (SELECT PARAMCD FROM __tte_codes WHERE k = {k}) c "
        f"JOIN __tte_pivot ON __t{k} IS NOT NULL"
        for k in range(len(codes))
    ] or [
        "SELECT CAST(NULL AS VARCHAR) AS PARAMCD, CAST(NULL AS DOUBLE) AS AVAL, "
        f"CAST(NULL AS INTEGER) AS EVENT, {', '.join(outer)} FROM __tte_pivot WHERE false"
    ]
    load.sql(f"CREATE VIEW tte_wide AS {' UNION ALL '.join(branches)}")


def analysed_rows(load: Load) -> int:
    """Time-to-event rows in the analysis table (each found its subject)."""
    k = load.scalar("SELECT count(*) FROM __tte_codes")
    if not k:
        return 0
    return load.scalar(
        f"SELECT {' + '.join(f'count(__t{i})' for i in range(k))} FROM __tte_pivot_data")
