"""The tables the app reads: `adsl`, `adtte`, `visits`, `adae` (views with every
data-model column over the columns some file holds), the time-to-event rows derived
from a wide file, and the analysis tables `__tte_pivot` and `tte_wide`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from analytics.extract.loading import (
    Load,
    LoadFile,
)
from analytics.extract.pivot import Pivot, endpoint_pivot
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
                derived: Sequence[LoadFile] = (), endpoints: Pivot | None = None,
                beside: Callable[[], object] | None = None) -> None:
    """`<table>`: a view with every data-model column (absent ones as typed NULLs, so
    readers can rely on the columns) over `__<table>_data`, which holds only the
    columns some file has. Writing a million rows of empty columns is not free.

    With `endpoints` (the subject table only), `__adsl_data` also holds each patient's
    endpoint columns (`pivot`): the subject rows are then written once, not twice;
    `beside` starts, just before that copy, the work that runs beside it."""
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
    # (with endpoints, they were proved distinct instead: the study is all it needs)
    keep = table.name == "adsl"
    origin = (["__study"] if endpoints is not None else ["__study", "__src", "__row"]
              ) if keep else []
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
            [*origin,
             *(f"CAST({quote_ident(c)} AS {types[c]}) AS {quote_ident(c)}" if c in types
               else quote_ident(c) for c in columns)])
        # Large tables stay views over Parquet; the subject table is read by every
        # count and filter, so it is copied into DuckDB's own storage.
        all_parquet = all(s.parquet for s in [*srcs, *derived])
        kind = "VIEW" if all_parquet and table.name != "adsl" else "TABLE"
        union = f"({' UNION ALL '.join(parts)})"
        body_params: list[object] = []
        if endpoints is not None:
            levels = coded_columns(
                load, [c for c in columns if types.get(c) == "VARCHAR" and c != "USUBJID"],
                union)
            load.coded = {c: coded for c, (coded, _) in levels.items()}
            exprs = [*origin]
            for c in columns:
                q = quote_ident(c)
                if c in levels:
                    expr, bound = _as_code(q, *levels[c])
                    exprs.append(f"{expr} AS {q}")
                    body_params += bound
                else:
                    exprs.append(f"CAST({q} AS {types[c]}) AS {q}" if c in types else q)
            body = ", ".join(exprs)
        if endpoints is not None and endpoints.codes:
            hashed = (f"LEFT JOIN ({endpoints.sql}) p ON p.__study = s.__study "
                      'AND p."USUBJID" = s."USUBJID"' if endpoints.hashed else "")
            rows = (f"SELECT s.*, {endpoints.columns('p')} FROM "
                    f"(SELECT {body} FROM {union}) s{endpoints.positional()} {hashed}")
            params = [*body_params, *endpoints.params]
            if beside is not None:
                beside()
            if "USUBJID" in columns:
                # Stored as they are: the identifiers of this path are distinct (the
                # subject probe), and DuckDB would spend about a second per ten
                # million rows finding that a dictionary of them saves nothing.
                load.sql(f'CREATE TABLE {data} AS SELECT * EXCLUDE ("USUBJID") FROM '
                         f"({rows}) LIMIT 0", params)
                load.sql(f'ALTER TABLE {data} ADD COLUMN "USUBJID" VARCHAR '
                         "USING COMPRESSION uncompressed")
                load.sql(f"INSERT INTO {data} BY NAME {rows}", params)
            else:
                load.sql(f"CREATE TABLE {data} AS {rows}", params)
        else:
            load.sql(f"CREATE {kind} {data} AS SELECT {body} FROM {union}", body_params)
    else:
        columns = []
        load.sql(f"CREATE TABLE {data} AS SELECT 1 AS __none WHERE false")
    shown = subject_column if keep else (lambda _, c: quote_ident(c))
    outer = [shown(load, c.name) if c.name in columns else
             f"CAST(NULL AS {c.sql_type}) AS {quote_ident(c.name)}" for c in table.columns]
    outer += [shown(load, e) for e in extras]
    load.sql(f"CREATE VIEW {name} AS SELECT {', '.join(outer)} FROM {data}")


# Text columns of the subject table with at most this many distinct values are stored
# as codes (ENUM): a string costs DuckDB's storage several times the scan to write,
# ten million rows of a yes/no flag about a second, a code a fraction of it.
CODED_MAX = 1000
SAMPLE_ROWS = 100_000


def coded_columns(load: Load, candidates: list[str],
                  relation: str) -> dict[str, tuple[str, list[str]]]:
    """Column -> the ENUM type it is stored as and its values, for the `candidates` of
    `relation` with few values. The values come from the data by query, never into
    SQL text. Readers see text: every view casts the codes back (`subject_column`),
    and a filter on the cast column is still pushed into the scan."""
    if not candidates:
        return {}
    # Counted before they are listed: a column of ten million distinct values (a
    # mapping gone wrong) must not be listed whole. The first rows rule most such
    # columns out at once; the exact count (a hash table DuckDB can spill) is then
    # cheaper than its estimate, about a fifth of approx_count_distinct's time.
    counts = dict.fromkeys(candidates, 0)
    for rows in (f"(SELECT * FROM {relation} LIMIT {SAMPLE_ROWS})", relation):
        few = [c for c in counts if counts[c] <= CODED_MAX]
        if not few:
            return {}
        row = load.sql("SELECT " + ", ".join(f"count(DISTINCT {quote_ident(c)})"
                                             for c in few) + f" FROM {rows}").fetchone()
        counts = {c: int(n or 0) for c, n in zip(few, row or (), strict=True)}
    few = [c for c, n in counts.items() if 0 < n <= CODED_MAX]
    if not few:
        return {}
    row = load.sql("SELECT " + ", ".join(
        f"list(DISTINCT {quote_ident(c)}) FILTER (WHERE {quote_ident(c)} IS NOT NULL)"
        for c in few) + f" FROM {relation}").fetchone() or ()
    out = {}
    for i, (c, values) in enumerate(zip(few, row, strict=True)):
        # the type names are built from positions, never from the column names; the
        # values are bound
        coded = f'"__codes_{i}"'
        levels = [str(v) for v in values or ()]
        load.sql(f"CREATE TYPE {coded} AS ENUM (SELECT unnest(?::VARCHAR[]))", [levels])
        out[c] = (coded, levels)
    return out


# Up to this many values, a column is coded by comparing it with each (the values
# bound) rather than by DuckDB's cast: a yes/no flag then costs the one-pass copy,
# which runs on one thread, a third of the time; past about eight, the cast is faster.
COMPARED_MAX = 4


def _as_code(column: str, coded: str, values: list[str]) -> tuple[str, list[object]]:
    """SQL giving `column` as its code of ENUM type `coded`, and the values it binds.
    Every value of the column is one of `values` (they were read from the same rows),
    so the comparisons give what the cast gives."""
    if not values or len(values) > COMPARED_MAX:
        return f"CAST({column} AS {coded})", []
    whens = " ".join(f"WHEN {column} = ? THEN CAST(? AS {coded})" for _ in values)
    return f"CASE {whens} END", [v for value in values for v in (value, value)]


def drop_subject_table(load: Load) -> None:
    """Undo `final_table` of the subject table with endpoints (and `wide_views`): what
    the one-pass copy wrote, when what ran beside it found the copy cannot stand."""
    load.sql('DROP VIEW IF EXISTS "adsl"')
    load.sql('DROP TABLE IF EXISTS "__adsl_data"')
    load.sql("DROP TABLE __tte_codes")
    for coded in load.coded.values():
        load.sql(f"DROP TYPE {coded}")
    load.coded = {}
    for src in load.srcs:
        if src.table == "wide":
            load.sql(f'DROP VIEW IF EXISTS "__wide_tte_{src.id}"')


def subject_column(load: Load, column: str) -> str:
    """A column of the subject table as its readers see it (codes as text)."""
    q = quote_ident(column)
    return f"CAST({q} AS VARCHAR) AS {q}" if column in load.coded else q


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
    """`__tte_pivot_data`: one row per patient with the subject columns some file holds
    and its endpoints (`Pivot`), from the subject table and the checked `adtte`. The
    loader's usual path writes these columns into `__adsl_data` as it is created
    (`final_table` with endpoints); this is the path of extracts whose subject
    identifiers repeat, where the subject rows must be checked before they are joined.
    """
    pivot = endpoint_pivot(load, 'SELECT "USUBJID", "PARAMCD", "AVAL", "CNSR" FROM adtte',
                           by_study=False)
    stored = load.stored_order("adsl")
    cols = ", ".join(f"s.{quote_ident(c)}" for c in stored)
    if pivot.codes:
        # a new table, not new columns UPDATEd into the subject table: at ten million
        # patients such an UPDATE runs for many minutes under the build's memory limit
        load.sql(
            f"CREATE TABLE __tte_pivot_data AS SELECT {cols}, {pivot.columns('p')} "
            f'FROM __adsl_data s LEFT JOIN ({pivot.sql}) p ON p."USUBJID" = s."USUBJID"')
    else:
        load.sql(f"CREATE TABLE __tte_pivot_data AS SELECT {cols} FROM __adsl_data s")
    analysis_views(load, "__tte_pivot_data")


def analysis_views(load: Load, data: str) -> None:
    """`__tte_pivot`: one row per patient with every subject column and, per endpoint k,
    `__t<k>` and `__e<k>` (NULL when the patient has no record of it), over `data`. A
    filter change then costs one columnar scan of the patients, with no join, and the
    subject columns are written once per patient, not once per time-to-event row.

    `tte_wide` is the long form over it: every time-to-event row with its patient's
    subject columns (absent ones as typed NULLs, so every filter finds its column).
    """
    n = _slots(load)
    stored = load.stored_order("adsl")
    # every subject column, absent ones as typed NULLs, so every filter finds its column
    subject = [
        subject_column(load, c.name) if c.name in stored
        else f"CAST(NULL AS {c.sql_type}) AS {quote_ident(c.name)}"
        for c in ADSL.columns
    ] + [subject_column(load, c) for c in stored if c not in ADSL.names]
    slots = [f"__t{k}, __e{k}" for k in range(n)]
    load.sql(f"CREATE VIEW __tte_pivot AS SELECT {', '.join(subject + slots)} FROM {data}")
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
        for k in range(n)
    ] or [
        "SELECT CAST(NULL AS VARCHAR) AS PARAMCD, CAST(NULL AS DOUBLE) AS AVAL, "
        f"CAST(NULL AS INTEGER) AS EVENT, {', '.join(outer)} FROM __tte_pivot WHERE false"
    ]
    load.sql(f"CREATE VIEW tte_wide AS {' UNION ALL '.join(branches)}")


def slot_counts(load: Load) -> list[int]:
    """Patients with a record of each endpoint k, in the analysis table."""
    n = _slots(load)
    if not n:
        return []
    row = load.sql(
        f"SELECT {', '.join(f'count(__t{k})' for k in range(n))} FROM __tte_pivot").fetchone()
    return [int(v) for v in row] if row else [0] * n


def _slots(load: Load) -> int:
    # positions, not codes: an empty endpoint's code may have been removed
    return load.scalar("SELECT coalesce(max(k) + 1, 0) FROM __tte_codes")


def analysed_rows(load: Load) -> int:
    """Time-to-event rows in the analysis table (each found its subject)."""
    return sum(slot_counts(load))


def drop_empty_endpoints(load: Load) -> None:
    """An endpoint whose every row was rejected (rows of unknown subjects, found after
    its code was numbered) is not an endpoint of the data: its code is removed, and
    its empty columns stay unread."""
    empty = [k for k, n in enumerate(slot_counts(load)) if n == 0]
    if empty:
        load.sql(f"DELETE FROM __tte_codes WHERE k IN ({', '.join(map(str, empty))})")
