"""Loading an extract (a folder of ADaM-style tables) into DuckDB, with a
row-level account of what was read, used and rejected.

Accepted per table: CSV, Parquet (kept as a view over the file, so filters push
down into the scan) and SAS transport (``.xpt``). `adsl` and `adtte` are
required; `visits` and `adae` are optional and empty when absent.

Nothing is silently dropped: a row that cannot be used is rejected with an
issue naming file, row, column and value, and rows read = rows used + rows
rejected for every file. Values that cannot be read in an optional column are
kept as missing with a warning.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import duckdb
import pyreadstat

from analytics.filters import quote_ident
from analytics.schema import TABLES, Table

Severity = Literal["error", "warning"]
FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".xpt": "xpt"}
REQUIRED_TABLES = ("adsl", "adtte")
# Columns without which a row cannot be analysed at all.
KEY_COLUMNS = {"adsl": ("USUBJID",), "adtte": ("USUBJID", "PARAMCD", "AVAL", "CNSR")}
ROW = "__row"


class DataError(ValueError):
    """Data that cannot be loaded; the message names file, row and column."""


@dataclass(frozen=True)
class DataIssue:
    file: str
    row: int | None
    column: str | None
    value: str | None
    severity: Severity
    message: str

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "severity": self.severity,
            "message": self.message,
        }

    def __str__(self) -> str:
        where = ", ".join(
            p
            for p in (
                self.file,
                f"row {self.row}" if self.row is not None else "",
                f"column {self.column}" if self.column else "",
            )
            if p
        )
        val = f" (value {self.value!r})" if self.value is not None else ""
        return f"{where}: {self.message}{val}"


@dataclass(frozen=True)
class FileReport:
    table: str
    file: str
    format: str
    rows_read: int
    rows_used: int
    rows_rejected: int


def locate(src: Path) -> dict[str, Path]:
    """The table files of an extract folder, by table name (case-insensitive)."""
    if not src.exists():
        raise DataError(f"{src}: no such file or folder")
    if not src.is_dir():
        raise DataError(
            f"{src}: expected a folder holding adsl and adtte ({', '.join(sorted(FORMATS))} files)"
        )
    found: dict[str, Path] = {}
    for path in sorted(src.iterdir()):
        name, fmt = path.stem.lower(), FORMATS.get(path.suffix.lower())
        if fmt is None or name not in TABLES:
            continue
        if name in found:
            raise DataError(
                f"{src}: both {found[name].name} and {path.name} hold table {name}; keep one"
            )
        found[name] = path
    missing = [t for t in REQUIRED_TABLES if t not in found]
    if missing:
        raise DataError(
            f"{src}: missing required table(s) {', '.join(missing)} "
            f"(a file named e.g. {missing[0]}.csv, {missing[0]}.parquet or {missing[0]}.xpt)"
        )
    return found


def _stage(con: duckdb.DuckDBPyConnection, name: str, path: Path) -> str:
    """Create `src_<name>` with the file's columns (upper-cased) and a 1-based row number."""
    fmt = FORMATS[path.suffix.lower()]
    stage = quote_ident(f"src_{name}")
    if fmt == "csv":
        if path.stat().st_size == 0:
            raise DataError(f"{path.name}: the file is empty")
        try:
            con.execute(
                f"CREATE TABLE {stage} AS SELECT row_number() OVER () AS {ROW}, * "
                "FROM read_csv(?, header = true, all_varchar = true, nullstr = '')",
                [str(path)],
            )
        except duckdb.Error as exc:
            raise DataError(f"{path.name}: cannot be read as CSV ({exc})") from None
    elif fmt == "parquet":
        try:
            # A view, not a copy: the database keeps pointing at the file.
            con.execute(
                f"CREATE VIEW {stage} AS SELECT file_row_number + 1 AS {ROW}, * EXCLUDE "
                f"(file_row_number) FROM read_parquet('{_sql_path(path)}', file_row_number = true)"
            )
            con.execute(f"SELECT * FROM {stage} LIMIT 0")
        except duckdb.Error as exc:
            raise DataError(f"{path.name}: cannot be read as Parquet ({exc})") from None
    else:
        try:
            # pyreadstat, not pandas.read_sas: pandas decodes some SAS zeros as 5e-79
            frame, _meta = pyreadstat.read_xport(str(path))
        except Exception as exc:  # the reader raises several types for a bad file
            raise DataError(f"{path.name}: cannot be read as SAS transport ({exc})") from None
        frame.insert(0, ROW, range(1, len(frame) + 1))
        con.register("_xpt", frame)
        con.execute(f"CREATE TABLE {stage} AS SELECT * FROM _xpt")
        con.unregister("_xpt")
    return fmt


def _sql_path(path: Path) -> str:
    # read_parquet in a view definition must hold a literal path (parameters are not
    # kept in views); the path is ours, not a user's text, but quotes are escaped anyway
    return str(path.resolve()).replace("'", "''")


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, str]:
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = ? ORDER BY ordinal_position",
        [relation],
    ).fetchall()
    return {str(n): str(t) for n, t in rows}


_NUMERIC = ("DOUBLE", "FLOAT", "REAL", "DECIMAL", "INT", "NUMERIC")


def _cast(col: str, sql_type: str, src_type: str, fmt: str) -> str:
    """Expression reading source column `col` as `sql_type`; unreadable values become NULL.

    Typed sources (Parquet, SAS) are cast numerically, which keeps a scan of millions
    of rows cheap; text sources go through TRY_CAST.
    """
    ident = quote_ident(col)
    numeric_src = any(t in src_type for t in _NUMERIC)
    floating_src = any(t in src_type for t in ("DOUBLE", "FLOAT", "REAL", "DECIMAL"))
    if sql_type == "DATE":
        if "DATE" in src_type or "TIMESTAMP" in src_type:
            return f"CAST({ident} AS DATE)"
        if fmt == "xpt" or numeric_src:
            # SAS dates are days since 1960-01-01
            return f"(DATE '1960-01-01' + CAST(TRY_CAST({ident} AS DOUBLE) AS INTEGER))"
        return f"TRY_CAST(TRY_STRPTIME(CAST({ident} AS VARCHAR), '%Y-%m-%d') AS DATE)"
    if sql_type == "VARCHAR":
        if floating_src:
            # SAS stores codes as doubles: show 5.0 as 5
            return (
                f"CASE WHEN {ident} = floor({ident}) THEN CAST(CAST({ident} AS BIGINT) AS VARCHAR) "
                f"ELSE CAST({ident} AS VARCHAR) END"
            )
        if src_type == "VARCHAR":
            return f"NULLIF({ident}, '')"
        return f"CAST({ident} AS VARCHAR)"
    if numeric_src:
        value = f"CAST({ident} AS DOUBLE)"
    else:
        value = f"TRY_CAST(NULLIF(trim(CAST({ident} AS VARCHAR)), '') AS DOUBLE)"
    if sql_type == "INTEGER":
        if numeric_src and not floating_src:
            return f"CAST({ident} AS INTEGER)"
        # DuckDB would round 1.5 to 2; a value that is not whole must stay unreadable
        return f"CASE WHEN {value} = floor({value}) THEN CAST({value} AS INTEGER) END"
    if numeric_src and not floating_src:
        return value
    return f"CASE WHEN isfinite({value}) THEN {value} END"


def load(con: duckdb.DuckDBPyConnection, src: Path) -> tuple[list[FileReport], list[DataIssue]]:
    """Create the tables (or views) adsl, adtte, visits, adae in `con` from `src`."""
    files = locate(src)
    issues: list[DataIssue] = []
    reports: list[FileReport] = []
    con.execute("CREATE TABLE rejected (tbl VARCHAR, row_id BIGINT, PRIMARY KEY (tbl, row_id))")
    order = [t for t in TABLES if t in files]  # adsl first: others are checked against it
    for name in TABLES:
        if name not in files:
            _empty(con, TABLES[name])
    for name in order:
        path = files[name]
        fmt = _stage(con, name, path)
        table = TABLES[name]
        stage = f"src_{name}"
        raw_cols = _columns(con, stage)
        upper = {c.upper(): c for c in raw_cols if c != ROW}
        known = {c.name: c for c in table.columns}
        exprs, typed = [], []
        for up, original in upper.items():
            col = known.get(up)
            src_type = raw_cols[original].upper()
            if col is None:
                exprs.append(f"{quote_ident(original)} AS {quote_ident(up)}")
                continue
            exprs.append(f"{_cast(original, col.sql_type, src_type, fmt)} AS {quote_ident(up)}")
            typed.append((up, original, col.sql_type))
        for key in KEY_COLUMNS.get(name, ()):
            if key not in upper:
                raise DataError(f"{path.name}: required column {key} is missing")
        for col in table.columns:
            if col.name not in upper:
                exprs.append(f"CAST(NULL AS {col.sql_type}) AS {quote_ident(col.name)}")
        typed_rel = quote_ident(f"typed_{name}")
        con.execute(
            f"CREATE VIEW {typed_rel} AS SELECT {ROW}, {', '.join(exprs)} FROM {quote_ident(stage)}"
        )
        issues += _check(con, name, path.name, typed)
        n_rejected = _scalar(con, f"SELECT count(*) FROM rejected WHERE tbl = '{name}'")
        keep = (
            f"WHERE {ROW} NOT IN (SELECT row_id FROM rejected WHERE tbl = '{name}')"
            if n_rejected
            else ""
        )
        # Large tables stay views over Parquet; the subject table is read by every
        # count and filter, so it is copied into DuckDB's own storage.
        kind = "VIEW" if fmt == "parquet" and name != "adsl" else "TABLE"
        con.execute(f"DROP TABLE IF EXISTS {quote_ident(name)}")
        con.execute(
            f"CREATE {kind} {quote_ident(name)} AS SELECT * EXCLUDE ({ROW}) FROM {typed_rel} {keep}"
        )
        read = _scalar(con, f"SELECT count(*) FROM {quote_ident(stage)}")
        used = _scalar(con, f"SELECT count(*) FROM {quote_ident(name)}")
        reports.append(FileReport(name, path.name, fmt, read, used, read - used))
    return reports, issues


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()
    return int(row[0]) if row else 0


def _empty(con: duckdb.DuckDBPyConnection, table: Table) -> None:
    cols = ", ".join(f"{quote_ident(c.name)} {c.sql_type}" for c in table.columns)
    con.execute(f"CREATE TABLE {quote_ident(table.name)} ({cols})")


# (table, SQL condition that makes the row unusable, column, message)
_REJECT_RULES: tuple[tuple[str, str, str, str], ...] = (
    ("adsl", '"USUBJID" IS NULL', "USUBJID", "subject identifier is missing"),
    ("adtte", '"USUBJID" IS NULL', "USUBJID", "subject identifier is missing"),
    ("adtte", '"PARAMCD" IS NULL', "PARAMCD", "endpoint code is missing"),
    ("adtte", '"AVAL" IS NULL', "AVAL", "time to event is missing or not a number"),
    ("adtte", '"AVAL" < 0', "AVAL", "time to event is negative"),
    ("adtte", '"CNSR" IS NULL', "CNSR", "censoring code is missing or not a whole number"),
    ("adtte", '"CNSR" < 0', "CNSR", "censoring code must be 0 (event) or a positive integer"),
    ("adtte", '"USUBJID" NOT IN (SELECT "USUBJID" FROM adsl)', "USUBJID", "subject is not in adsl"),
    (
        "visits",
        '"USUBJID" NOT IN (SELECT "USUBJID" FROM adsl)',
        "USUBJID",
        "subject is not in adsl",
    ),
    ("adae", '"USUBJID" NOT IN (SELECT "USUBJID" FROM adsl)', "USUBJID", "subject is not in adsl"),
)
_DUPLICATE_KEYS = {"adsl": ("USUBJID",), "adtte": ("USUBJID", "PARAMCD")}
_MAX_LISTED = 1000  # per rule: a broken million-row file must not flood the report


def _check(
    con: duckdb.DuckDBPyConnection, name: str, file: str, typed: list[tuple[str, str, str]]
) -> list[DataIssue]:
    rel = quote_ident(f"typed_{name}")
    stage = quote_ident(f"src_{name}")
    issues: list[DataIssue] = []

    def reject(cond: str, column: str, message: str, value_sql: str) -> None:
        sql = (
            f"SELECT t.{ROW}, CAST({value_sql} AS VARCHAR) FROM {rel} t JOIN {stage} s "
            f"USING ({ROW}) WHERE {cond} ORDER BY t.{ROW}"
        )
        rows = con.execute(sql).fetchall()
        if not rows:
            return
        con.execute(
            f"INSERT OR IGNORE INTO rejected SELECT '{name}', t.{ROW} FROM {rel} t "
            f"JOIN {stage} s USING ({ROW}) WHERE {cond}"
        )
        for row_id, value in rows[:_MAX_LISTED]:
            issues.append(DataIssue(file, int(row_id), column, value, "error", message))
        if len(rows) > _MAX_LISTED:
            issues.append(
                DataIssue(
                    file,
                    None,
                    column,
                    None,
                    "error",
                    f"{message}: {len(rows) - _MAX_LISTED} more rows",
                )
            )

    raw_name = {up: orig for up, orig, _ in typed}
    for table, cond, column, message in _REJECT_RULES:
        if table != name:
            continue
        qualified = cond.replace(f'"{column}"', f't."{column}"', 1)
        src_col = raw_name.get(column, column)
        reject(qualified, column, message, f's."{src_col}"')
    if name in _DUPLICATE_KEYS:
        cols = _DUPLICATE_KEYS[name]
        cond = (
            f"t.{ROW} IN (SELECT {ROW} FROM (SELECT {ROW}, row_number() OVER "
            f"(PARTITION BY {', '.join(quote_ident(c) for c in cols)} ORDER BY {ROW}) AS k "
            f"FROM {rel}) WHERE k > 1)"
        )
        what = " and ".join(cols)
        reject(
            cond,
            cols[-1],
            f"duplicate {what}: an earlier row has the same",
            f"t.{quote_ident(cols[-1])}",
        )
    # unreadable values in other typed columns: kept as missing, with a warning
    for up, orig, sql_type in typed:
        if sql_type == "VARCHAR" or up in KEY_COLUMNS.get(name, ()):
            continue
        raw = f"NULLIF(trim(CAST(s.{quote_ident(orig)} AS VARCHAR)), '')"
        cond = f"t.{quote_ident(up)} IS NULL AND {raw} IS NOT NULL"
        rows = con.execute(
            f"SELECT t.{ROW}, CAST(s.{quote_ident(orig)} AS VARCHAR) FROM {rel} t JOIN {stage} s "
            f"USING ({ROW}) WHERE {cond} ORDER BY t.{ROW} LIMIT {_MAX_LISTED}"
        ).fetchall()
        kind = {"DATE": "a date (YYYY-MM-DD)", "INTEGER": "a whole number"}.get(
            sql_type, "a number"
        )
        for row_id, value in rows:
            issues.append(
                DataIssue(file, int(row_id), up, value, "warning", f"not {kind}; kept as missing")
            )
    return issues
