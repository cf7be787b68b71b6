"""Loading an extract into DuckDB, with a row-level account of what was read, used
and rejected.

An extract is a folder holding `adsl` and `adtte` (or one `wide` file), with
`visits` and `adae` optional, each as CSV, Parquet, SAS transport or Excel; or a
registry: a folder of such folders. A mapping file renames columns and recodes
values first (analytics/extract/mapping.py). Every file is staged (analytics/extract/formats.py),
typed by SQL casts, checked (analytics/extract/validate.py) and only then becomes the
tables `adsl`, `adtte`, `visits`, `adae` that the app reads. Parquet files stay
views, so a million rows are never copied into memory.

Nothing is silently dropped: a row that cannot be used is rejected with an issue
naming file, row, column and value, and kept in `__rejected_rows_<n>` for download;
for every file, rows read = rows used + rows rejected. A value that cannot be read
in an optional column is kept as missing with a warning.
"""

from __future__ import annotations

import gc
import json
import tempfile
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import duckdb
import pandas as pd
import pyarrow as pa

from analytics.extract.formats import VALID_NAME, Layout, Source, Staged, discover, stage
from analytics.extract.formats import short_message as short
from analytics.extract.issues import DataError, DataIssue, FileReport, Severity
from analytics.extract.mapping import ExtractMapping
from analytics.extract.validate import (
    ID_SPACE,
    IDENTIFIERS,
    MAX_LISTED,
    TABLES_ALL,
    RowRule,
    fetch_columns,
    hits_sql,
    internal,
    pandera_hits,
    pandera_schemas,
    row_rules,
)
from analytics.extract.wide import WIDE_REQUIRED, derive_adtte_sql
from analytics.model.filters import quote_ident
from analytics.model.schema import ADSL, TABLES, Column, Table

__all__ = ["DataError", "DataIssue", "FileReport", "LoadResult", "Severity", "load",
           "load_extract"]

Engine = Literal["auto", "sql", "pandas"]
# Columns without which a row cannot be analysed at all: their absence is fatal.
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "adsl": ("USUBJID",),
    "adtte": ("USUBJID", "PARAMCD", "AVAL", "CNSR"),
    "visits": ("USUBJID",),
    "adae": ("USUBJID",),
    "wide": WIDE_REQUIRED,
}
# Keys of the dependent tables (the subject key is checked by `subject_keys`).
DUPLICATE_KEYS: dict[str, tuple[str, ...]] = {
    "adtte": ("USUBJID", "PARAMCD"), "visits": ("USUBJID", "AVISITN"),
    "adae": ("USUBJID", "AESEQ"),
}
_SUBJECT = ("adsl", "wide")
# DuckDB's errors about the data read (corrupt or unreadable files, values it cannot
# convert, memory), as opposed to errors in a query
_DATA_ERRORS = (duckdb.IOException, duckdb.InvalidInputException, duckdb.DataError,
                duckdb.OutOfMemoryException)
_BATCH_ROWS = 200_000
_NUMERIC = ("DOUBLE", "FLOAT", "REAL", "DECIMAL", "INT", "NUMERIC")
_FLOATING = ("DOUBLE", "FLOAT", "REAL", "DECIMAL")
# the characters trimmed from identifiers, as SQL (never text from a file)
_ID_TRIM = " || ".join(f"chr({ord(ch)})" for ch in ID_SPACE)


@dataclass
class RuleInfo:
    column: str | None
    severity: Severity
    message: str
    value_sql: str  # the value shown, over the typed view aliased t
    aggregate: bool = False


@dataclass
class _Src:
    """One staged file during a load."""

    id: int
    study: int
    staged: Staged
    mapping: ExtractMapping | None
    present: dict[str, str] = field(default_factory=dict)  # model column -> cK
    src_types: dict[str, str] = field(default_factory=dict)
    extras: dict[str, str] = field(default_factory=dict)  # extra column -> cK
    types: dict[str, str] = field(default_factory=dict)  # model column -> SQL type
    rules: list[RowRule] = field(default_factory=list)
    skip: set[str] = field(default_factory=set)

    @property
    def source(self) -> Source:
        return self.staged.source

    @property
    def table(self) -> str:
        return self.source.table

    @property
    def label(self) -> str:
        return self.source.label

    @property
    def typed(self) -> str:
        return f'"__typed_{self.id}"'

    @property
    def parquet(self) -> bool:
        return self.source.fmt == "parquet"


@dataclass(frozen=True)
class LoadResult:
    reports: list[FileReport]
    issues: list[DataIssue]
    unusable: str  # why the extract cannot be analysed, "" when it can
    layout: Layout


def load(
    con: duckdb.DuckDBPyConnection, src: Path, mapping: Path | None = None
) -> tuple[list[FileReport], list[DataIssue]]:
    """Create the tables (or views) adsl, adtte, visits, adae in `con` from `src`."""
    result = load_extract(con, src, mapping)
    return result.reports, result.issues


def load_extract(
    con: duckdb.DuckDBPyConnection, src: Path, mapping: Path | None = None,
    engine: Engine = "auto",
) -> LoadResult:
    """As `load`, with the reason an extract is unusable; `engine` forces the row-rule
    engine (tests compare the two)."""
    layout = discover(Path(src), mapping)
    with tempfile.TemporaryDirectory(prefix="dva-load-") as work:
        return _Loader(con, layout, Path(work), engine).run()


class _Loader:
    def __init__(self, con: duckdb.DuckDBPyConnection, layout: Layout, workdir: Path,
                 engine: Engine) -> None:
        self.con = con
        self.layout = layout
        self.workdir = workdir
        self.engine = engine
        self.srcs: list[_Src] = []
        self.notes: list[DataIssue] = list(layout.notes)
        self.rules: dict[str, RuleInfo] = {}
        self.stored: dict[str, set[str]] = {}  # table -> columns some file holds
        self.probes: dict[int, Future[int]] = {}
        self.recode_id = 0
        self.where = str(layout.root)

    # -- helpers ------------------------------------------------------------------------

    def sql(self, text: str, params: Sequence[object] | None = None) -> duckdb.DuckDBPyConnection:
        return self.con.execute(text, params or [])

    def scalar(self, text: str, params: Sequence[object] | None = None) -> int:
        row = self.sql(text, params).fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    @contextmanager
    def reading(self, *srcs: _Src) -> Iterator[None]:
        """Errors DuckDB raises about the data while reading these files become a
        DataError naming them (a Parquet file can fail mid-scan although its footer read
        fine). Others (a query the loader got wrong) are left to surface as what they are.
        """
        try:
            yield
        except _DATA_ERRORS as exc:
            labels = ", ".join(s.label for s in srcs) or self.where
            text = short(exc)
            for s in srcs:
                text = short(text, s.source.path, s.label)
            raise DataError.of(labels, f"cannot be read ({text})") from None

    def accepted(self, src: _Src, alias: str = "") -> str:
        """SQL condition: the row is neither broken nor rejected so far."""
        p = f"{alias}." if alias else ""
        cond = f"{p}__err IS NULL"
        if self.scalar("SELECT count(*) FROM __rejected WHERE src = ?", [src.id]):
            cond += f" AND {p}__row NOT IN (SELECT row FROM __rejected WHERE src = {src.id})"
        return cond

    def register(self, rule_id: str, info: RuleInfo) -> None:
        if rule_id not in self.rules:
            self.rules[rule_id] = info
            self.sql("INSERT INTO __rules VALUES (?, ?, ?, ?)",
                     [rule_id, info.column, info.severity, info.message])

    def register_row_rule(self, rule: RowRule) -> None:
        self.register(rule.id, RuleInfo(rule.column, rule.severity, rule.message,
                                        f"t.{internal('__raw_', rule.column)}", rule.aggregate))

    def reject_errors(self, src: _Src) -> None:
        self.sql(
            "INSERT INTO __rejected SELECT DISTINCT h.src, h.row, h.rule FROM __hits h "
            "JOIN __rules r USING (rule) WHERE h.src = ? AND r.severity = 'error' "
            "AND NOT EXISTS (SELECT 1 FROM __rejected x WHERE x.src = h.src AND x.row = h.row "
            "AND x.rule = h.rule)",
            [src.id],
        )

    # -- the load -----------------------------------------------------------------------

    def run(self) -> LoadResult:
        self.setup()
        self.stage_all()
        # One transaction from here: hundreds of small statements would otherwise each
        # commit. Not before: a staged table's rowid is its row number only once committed.
        self.sql("BEGIN TRANSACTION")
        self.plan_all()
        for src in self.srcs:
            with self.reading(src):
                self.typed_view(src)
        # the views are committed so that a second connection can probe the keys of the
        # time-to-event files while this one copies the subject table (one thread when
        # the subject file is one Parquet row group, as registry exports often are)
        self.sql("COMMIT")
        self.sql("BEGIN TRANSACTION")
        with ThreadPoolExecutor(max_workers=1) as pool:
            self.probes = {src.id: pool.submit(self.key_probe, src)
                           for src in self.srcs if src.table in DUPLICATE_KEYS}
            return self.checks_and_tables()

    def checks_and_tables(self) -> LoadResult:
        for src in self.srcs:
            with self.reading(src):
                self.structure(src)
                self.row_rules(src)
        subject_srcs = [s for s in self.srcs if s.table in _SUBJECT]
        with self.reading(*subject_srcs):
            # the subject table is copied once, then its keys are checked on the copy
            # (in parallel, without reading the files again)
            self.final_table(ADSL, subject_srcs)
            self.subject_keys(subject_srcs)
        self.wide_views()
        self.subjects()
        deferred: list[_Src] = []
        for name in ("adtte", "visits", "adae"):
            deps = [s for s in self.srcs if s.table == name]
            for src in deps:
                with self.reading(src):
                    self.duplicates(src)
                    if not self.cross_checks(src, defer=name == "adtte"):
                        deferred.append(src)
                    if name == "adtte":
                        self.patency_nesting(src)
                    elif name == "visits":
                        self.visit_order(src)
            derived = [s for s in self.srcs if s.table == "wide"] if name == "adtte" else []
            with self.reading(*deps, *derived):
                self.final_table(TABLES[name], deps, derived)
        adtte_srcs = [s for s in self.srcs if s.table in ("adtte", "wide")]
        if deferred:
            with self.reading(*adtte_srcs):
                self.analysis_table()
                self.unknown_subjects_after_all(deferred)
        with self.reading(*self.srcs):
            issues = self.notes + self.list_issues()
            reports = self.reports()
            self.keep_rejected_rows()
            unusable = self.usability(reports)
        self.release_copies()
        if not deferred:
            with self.reading(*adtte_srcs):
                self.analysis_table()
        self.sql("DROP TABLE __hits")
        self.sql("DROP TABLE __details")
        self.sql("COMMIT")
        order = {s.label: i for i, s in enumerate(self.srcs)}
        issues.sort(key=lambda i: (order.get(i.file, -1), i.file,
                                   -1 if i.row is None else i.row, i.column or "", i.message))
        return LoadResult(reports, issues, unusable, self.layout)

    def setup(self) -> None:
        self.sql("SET enable_progress_bar = false")
        self.sql("CREATE TABLE __hits (src INTEGER, row BIGINT, rule VARCHAR)")
        self.sql("CREATE TABLE __rejected (src INTEGER, row BIGINT, rule VARCHAR)")
        # a hit's own message where the rule's says less (the row a duplicate repeats)
        self.sql("CREATE TABLE __details (src INTEGER, row BIGINT, rule VARCHAR, "
                 "message VARCHAR)")
        self.sql("CREATE TABLE __rules (rule VARCHAR PRIMARY KEY, col VARCHAR, "
                 "severity VARCHAR, message VARCHAR)")
        self.sql("CREATE TABLE __recode (id INTEGER, src VARCHAR, dst VARCHAR)")
        self.sql("CREATE TABLE __studies (study INTEGER, name VARCHAR)")
        self.con.executemany("INSERT INTO __studies VALUES (?, ?)",
                             [[i, s.name] for i, s in enumerate(self.layout.studies)])

    def stage_all(self) -> None:
        errors: list[DataError] = []
        for study_no, study in enumerate(self.layout.studies):
            for source in study.sources:
                sid = len(self.srcs)
                try:
                    staged = stage(self.con, source, f"__stage_{sid}", self.workdir)
                except DataError as exc:
                    errors.append(exc)
                    continue
                self.srcs.append(_Src(sid, study_no, staged, study.mapping))
                if staged.rows == 0:
                    if source.table in ("adsl", "adtte", "wide"):
                        errors.append(DataError.of(source.label, "has a header but no rows"))
                    else:
                        self.notes.append(DataIssue(source.label, None, None, None, "warning",
                                                    "has a header but no rows"))
                self.notes += staged.notes
        if errors:
            raise DataError.collect(errors)

    # -- columns ------------------------------------------------------------------------

    def plan_all(self) -> None:
        errors: list[DataError] = []
        for src in self.srcs:
            try:
                self.plan(src)
            except DataError as exc:
                errors.append(exc)
        if errors:
            raise DataError.collect(errors)

    def plan(self, src: _Src) -> None:
        schema = TABLES_ALL[src.table]
        known = set(schema.names)
        renames = src.mapping.renames(src.table) if src.mapping else {}
        seen: dict[str, str] = {}
        for i, (name, sql_type) in enumerate(zip(src.staged.names, src.staged.types,
                                                 strict=True), start=1):
            key = name.strip().upper()
            target = renames.get(key, key)
            if target in seen:
                how = (f" (renamed by {src.mapping.where_renamed(src.table, key)})"
                       if src.mapping and key in renames else "")
                raise DataError.of(
                    src.label,
                    f"columns {seen[target]!r} and {name!r}{how} would both be {target}; "
                    "column names are matched whatever their case",
                    target,
                )
            seen[target] = name
            if target in known:
                src.present[target] = f"c{i}"
                src.src_types[target] = sql_type.upper()
            elif VALID_NAME.fullmatch(target):
                src.extras[target] = f"c{i}"
            else:
                what = f"column {i} has no name" if not name.strip() else (
                    f"column {name!r} is not a plain column name (letters, digits and _, "
                    "starting with a letter)")
                self.notes.append(DataIssue(src.label, None, name or None, None, "warning",
                                            f"{what}: not loaded; rename it in a mapping file "
                                            "to keep it"))
        missing = [c for c in REQUIRED_COLUMNS[src.table] if c not in src.present]
        if missing:
            names = src.staged.names
            hint = f"columns found: {', '.join(names[:12])}{', ...' if len(names) > 12 else ''}"
            if len(names) == 1 and any(d in names[0] for d in ";\t|,"):
                hint = f"the header is a single column, {names[0]!r}: is the delimiter right?"
            what = (f"required column {missing[0]} is missing" if len(missing) == 1 else
                    f"required columns {', '.join(missing)} are missing")
            raise DataError.of(src.label, f"{what} ({hint})", missing[0])
        # a registry fills a missing STUDYID from the folder's name: not absent there;
        # nor is SITEID in a registry's subject file: a sub-folder is a site
        filled = {"STUDYID"} if self.layout.registry else set()
        if self.layout.registry and src.table in _SUBJECT and "SITEID" not in src.present:
            filled.add("SITEID")
            folder = self.layout.studies[src.study].name
            self.notes.append(DataIssue(
                src.label, None, "SITEID", None, "warning",
                f"SITEID not in the file: taken from the folder name {folder!r}"))
        absent = [c.name for c in schema.columns
                  if c.name not in src.present and c.required and c.name not in filled]
        if absent:
            # one line, not one per column: foreign ADaM files lack dozens of them
            self.notes.append(DataIssue(
                src.label, None, None, None, "warning",
                f"column{'s' * (len(absent) > 1)} of the data model absent (every row has "
                f"{'them' if len(absent) > 1 else 'it'} missing): {', '.join(absent)}"))

    # -- typing ---------------------------------------------------------------------------

    def typed_view(self, src: _Src) -> None:
        schema = TABLES_ALL[src.table]
        padded = self.padded_identifiers(src)
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
                self.recode_id += 1
                rid = self.recode_id
                self.con.executemany("INSERT INTO __recode VALUES (?, ?, ?)",
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
            exprs.append(f"{typed} AS {q}")
            exprs.append(f"{text_expr(ident, src_type)} AS {internal('__raw_', col.name)}")
            if col.type not in ("str", "flag"):
                exprs.append(f"({typed} IS NULL AND NULLIF(trim({text}), '') IS NOT NULL) "
                             f"AS {internal('__bad_', col.name)}")
        for name, pos in src.extras.items():
            exprs.append(f"s.{pos} AS {quote_ident(name)}")
        self.sql(f"CREATE VIEW {src.typed} AS SELECT {', '.join(exprs)} "
                 f"FROM \"{src.staged.relation}\" s {' '.join(joins)}")

    # -- row checks ---------------------------------------------------------------------

    def structure(self, src: _Src) -> None:
        """Rows the reader could not split into the header's columns are rejected."""
        rel = f'"{src.staged.relation}"'
        messages = [r[0] for r in self.sql(
            f"SELECT DISTINCT __err FROM {rel} WHERE __err IS NOT NULL ORDER BY 1").fetchall()]
        for n, message in enumerate(messages):
            rule_id = f"{src.id}.structure.{n}"
            self.register(rule_id, RuleInfo(None, "error", str(message), "t.__extra"))
            self.sql(f"INSERT INTO __hits SELECT ?, __row, ? FROM {rel} WHERE __err = ?",
                     [src.id, rule_id, message])
        if messages:
            self.reject_errors(src)

    def row_rules(self, src: _Src) -> None:
        present = set(src.present)
        if src.table == "adtte" and {"ADT", "STARTDT", "AVAL"} <= present:
            self.inclusive_days(src)
        src.rules = row_rules(src.table, present, src.skip)
        if not src.rules:
            return
        for rule in src.rules:
            self.register_row_rule(rule)
        engine = self.engine
        if engine == "auto":
            engine = "sql" if src.parquet else "pandas"
        if engine == "sql":
            self.sql(f"INSERT INTO __hits SELECT {src.id}, row, rule FROM "
                     f"({hits_sql(src.rules, src.typed)})")
        else:
            self.pandas_rules(src)
        self.reject_errors(src)

    def pandas_rules(self, src: _Src) -> None:
        cols = fetch_columns(src.rules, src.types)
        select = ", ".join(f'{expr} AS "{name}"' for name, expr in cols.items())
        schemas = pandera_schemas(src.rules)
        found: list[pd.DataFrame] = []
        # the batches stream from the load's own transaction; nothing else runs on the
        # connection until the reader is exhausted
        reader = self.con.execute(
            f"SELECT __row, {select} FROM {src.typed} WHERE __err IS NULL"
        ).to_arrow_reader(_BATCH_ROWS)
        for batch in reader:
            frame = batch.to_pandas().set_index("__row")
            hits = pandera_hits(frame, schemas)
            if len(hits):
                found.append(hits)
        if found:
            hits = pd.concat(found)
            hits.insert(0, "src", src.id)
            self.con.register("_hits_frame", hits[["src", "row", "rule"]])
            try:
                self.sql("INSERT INTO __hits SELECT src, row, rule FROM _hits_frame")
            finally:
                self.con.unregister("_hits_frame")
        # Arrow's allocator keeps the batches' memory for reuse; a million rows' worth
        # would stay with the process for the rest of the build
        gc.collect()
        pa.default_memory_pool().release_unused()

    def inclusive_days(self, src: _Src) -> None:
        """ADaM files often count AVAL inclusively (ADT = STARTDT + AVAL - 1). When every
        row does, say so once rather than once per row."""
        row = self.sql(
            "SELECT count(*) FILTER (WHERE (\"ADT\" - \"STARTDT\") = \"AVAL\" - 1), "
            "count(*) FILTER (WHERE \"ADT\" IS NOT NULL AND \"STARTDT\" IS NOT NULL AND "
            f"\"AVAL\" IS NOT NULL) FROM {src.typed} WHERE __err IS NULL"
        ).fetchone()
        if row and row[1] and row[0] == row[1]:
            src.skip.add("adtte.adt")
            self.notes.append(DataIssue(
                src.label, None, "AVAL", None, "warning",
                "every row counts AVAL inclusively (ADT = STARTDT + AVAL - 1) where the data "
                "model counts days from STARTDT (ADT = STARTDT + AVAL): times are analysed as "
                "given, one day longer"))

    def padded_identifiers(self, src: _Src) -> set[str]:
        """The identifier columns of the file with values that have white space around
        them (typed_view trims those); said once per file, with how many values, so
        that nothing is altered silently. Only text columns can have any."""
        cols = [c for c in IDENTIFIERS if c in src.present and src.src_types[c] == "VARCHAR"]
        if not cols:
            return set()
        row = self.sql(
            "SELECT " + ", ".join(f"count(*) FILTER (WHERE {_padded(f's.{src.present[c]}')})"
                                  for c in cols)
            + f' FROM "{src.staged.relation}" s WHERE s.__err IS NULL').fetchone()
        found = [(c, int(n)) for c, n in zip(cols, row or (), strict=False) if n]
        if not found:
            return set()
        total = sum(n for _, n in found)
        self.notes.append(DataIssue(
            src.label, None, found[0][0] if len(found) == 1 else None, None, "warning",
            f"spaces around {total} identifier value{'s' * (total > 1)} removed "
            f"({', '.join(f'{c}: {n}' for c, n in found)}): identifiers are matched "
            "without them"))
        return {c for c, _ in found}

    # -- table checks ---------------------------------------------------------------------

    def _keys(self, src: _Src) -> tuple[str, str] | None:
        keys = [k for k in DUPLICATE_KEYS[src.table] if k in src.present]
        if len(keys) < len(DUPLICATE_KEYS[src.table]):
            return None
        return (", ".join(quote_ident(k) for k in keys),
                " AND ".join(f"{quote_ident(k)} IS NOT NULL" for k in keys))

    def key_probe(self, src: _Src) -> int:
        """Rows minus distinct key hashes over every readable row, on a connection of its
        own (run beside the main one). As many distinct hashes of the key as rows proves
        every key distinct (equal keys hash alike), and counting hashes is cheaper than
        grouping strings. 0 means no duplicate, whatever is rejected later."""
        keys = self._keys(src)
        if keys is None:
            return 0
        cols, not_null = keys
        cursor = self.con.cursor()
        try:
            row = cursor.execute(f"SELECT count(*) - count(DISTINCT hash({cols})) FROM "
                                 f"{src.typed} WHERE __err IS NULL AND {not_null}").fetchone()
        finally:
            cursor.close()
        return int(row[0]) if row and row[0] is not None else 0

    def duplicates(self, src: _Src) -> None:
        keys = self._keys(src)
        if keys is None or not self.probes[src.id].result():
            return
        cols, not_null = keys
        ok = self.accepted(src)
        # GROUP BY ... HAVING finds the offenders among the accepted rows; only their
        # rows are then ranked
        keys_list = DUPLICATE_KEYS[src.table]
        dupes = (f"SELECT {cols} FROM {src.typed} WHERE {ok} AND {not_null} "
                 f"GROUP BY ALL HAVING count(*) > 1")
        if not self.scalar(f"SELECT count(*) FROM ({dupes})"):
            return
        rule_id = f"{src.table}.duplicate"
        what = " and ".join(keys_list)
        self.register(rule_id, RuleInfo(keys_list[-1], "error",
                                        f"duplicate {what}: an earlier row has the same",
                                        f"t.{internal('__raw_', keys_list[-1])}"))
        self.sql(
            "CREATE TEMP TABLE __dupes AS SELECT __row, first FROM ("
            f"SELECT t.__row, row_number() OVER (PARTITION BY {cols} ORDER BY t.__row) AS n, "
            f"min(t.__row) OVER (PARTITION BY {cols}) AS first "
            f"FROM {src.typed} t JOIN ({dupes}) d USING ({cols}) WHERE {self.accepted(src, 't')}"
            ") WHERE n > 1"
        )
        self.sql(f"INSERT INTO __hits SELECT {src.id}, __row, '{rule_id}' FROM __dupes")
        # each names the row it repeats (the first, which is kept)
        self.sql(f"INSERT INTO __details SELECT {src.id}, __row, '{rule_id}', "
                 "? || first || ', which is kept' FROM __dupes",
                 [f"duplicate {what}: also in row "])
        self.sql("DROP TABLE __dupes")
        self.reject_errors(src)

    def subject_keys(self, srcs: list[_Src]) -> None:
        """Duplicate subject identifiers, found on the copied subject table: within a
        study the first row is kept; a registry keeps the first study (in folder order)
        that uses an identifier, and rejects it in the later ones."""
        if not srcs:
            return
        # as many distinct hashes as identifiers proves them distinct (equal identifiers
        # hash alike), at a fraction of the cost of grouping the strings
        if self.scalar(
            'SELECT count("USUBJID") - count(DISTINCT hash("USUBJID")) FROM __adsl_data'
        ) == 0:
            return
        rows = self.sql(
            "SELECT __src, __row, first_src, first_row FROM (SELECT __src, __row, "
            "first_value(__src) OVER (PARTITION BY \"USUBJID\" ORDER BY __study, __src, __row) "
            "AS first_src, first_value(__row) OVER (PARTITION BY \"USUBJID\" ORDER BY __study, "
            "__src, __row) AS first_row, row_number() OVER (PARTITION BY \"USUBJID\" "
            "ORDER BY __study, __src, __row) AS n "
            "FROM __adsl_data WHERE \"USUBJID\" IN (SELECT \"USUBJID\" FROM __adsl_data "
            "GROUP BY 1 HAVING count(*) > 1)) WHERE n > 1 ORDER BY 1, 2"
        ).fetchall()
        if not rows:
            return
        by_id = {s.id: s for s in srcs}
        hits: list[tuple[int, int, str]] = []
        details: list[tuple[int, int, str, str]] = []
        for src_id, row, first_id, first_row in rows:
            src, first = by_id[int(src_id)], by_id[int(first_id)]
            if src.study == first.study:
                rule_id = f"{src.table}.duplicate"
                self.register(rule_id, RuleInfo(
                    "USUBJID", "error", "duplicate USUBJID: an earlier row has the same",
                    f"t.{internal('__raw_', 'USUBJID')}"))
                where = f"row {first_row}" if first is src else f"{first.label} row {first_row}"
                details.append((src.id, int(row), rule_id,
                                f"duplicate USUBJID: also in {where}, which is kept"))
            else:
                other = self.layout.studies[first.study].name
                rule_id = f"registry.collision.{first.study}"
                self.register(rule_id, RuleInfo(
                    "USUBJID", "error",
                    f"subject identifier is also used in study {other}: identifiers must be "
                    "unique across the registry", f"t.{internal('__raw_', 'USUBJID')}"))
            hits.append((src.id, int(row), rule_id))
        self.con.executemany("INSERT INTO __hits VALUES (?, ?, ?)", [list(h) for h in hits])
        if details:
            self.con.executemany("INSERT INTO __details VALUES (?, ?, ?, ?)",
                                 [list(d) for d in details])
        for src_id in sorted({h[0] for h in hits}):
            self.reject_errors(by_id[src_id])
        self.sql("DELETE FROM __adsl_data WHERE (__src, __row) IN "
                 "(SELECT (src, row) FROM __rejected)")

    def wide_views(self) -> None:
        for src in self.srcs:
            if src.table != "wide":
                continue
            study = self.study_sql(src)
            relation = f"(SELECT * FROM {src.typed} WHERE {self.accepted(src)})"
            self.sql(f'CREATE VIEW "__wide_tte_{src.id}" AS '
                     f"{derive_adtte_sql(relation, set(src.present), study)}")

    def study_sql(self, src: _Src, alias: str = "") -> str:
        p = f"{alias}." if alias else ""
        if not self.layout.registry:
            return f'{p}"STUDYID"'
        # a registry study without STUDYID is named after its folder
        return f'COALESCE({p}"STUDYID", (SELECT name FROM __studies WHERE study = {src.study}))'

    def subjects(self) -> None:
        """`__subjects`: accepted subjects per study with the dates the table checks need;
        `__rejected_subjects`: identifiers whose subject row was rejected."""
        stored = self.stored["adsl"]
        cols = ", ".join(
            quote_ident(c) if c in stored else
            f"CAST(NULL AS {ADSL.column(c).sql_type}) AS {quote_ident(c)}"
            for c in ("USUBJID", "PROCDT", "LSTCNTDT", "DTHDT", "TECHSFL"))
        self.sql(f"CREATE VIEW __subjects AS SELECT __study, {cols} FROM __adsl_data")
        subject = [s for s in self.srcs if s.table in _SUBJECT]
        self.sql(
            "CREATE TABLE __rejected_subjects AS " + " UNION ALL ".join(
                f"SELECT DISTINCT {s.study} AS __study, \"USUBJID\" FROM {s.typed} "
                f"WHERE __row IN (SELECT row FROM __rejected WHERE src = {s.id}) "
                "AND \"USUBJID\" IS NOT NULL" for s in subject))

    def cross_checks(self, src: _Src, defer: bool = False) -> bool:
        """One pass joining a dependent table to its subjects: unknown subjects (errors)
        and times or dates after last contact or death, and the like (warnings). A check
        runs only when the columns it compares are in the files.

        With `defer`, a single study and nothing to check but the subjects, the pass is
        left to `unknown_subjects_after_all` (the analysis table's join finds them for
        free) and False is returned."""
        table, have = src.table, set(src.present)
        stored = self.stored.get("adsl", set())
        subject_file = "the wide file" if any(
            s.table == "wide" and s.study == src.study for s in self.srcs) else "adsl"
        usub = f"t.{internal('__raw_', 'USUBJID')}"
        checks: list[tuple[str, RuleInfo, str]] = [
            (f"{table}.unknown_subject",
             RuleInfo("USUBJID", "error", f"subject is not in {subject_file}", usub),
             "s.\"USUBJID\" IS NULL AND r.\"USUBJID\" IS NULL"),
            (f"{table}.rejected_subject",
             RuleInfo("USUBJID", "error", f"the subject's row in {subject_file} was rejected",
                      usub),
             "s.\"USUBJID\" IS NULL AND r.\"USUBJID\" IS NOT NULL"),
        ]

        def warn(rule_id: str, column: str, message: str, cond: str, subject: tuple[str, ...],
                 own: tuple[str, ...] = ()) -> None:
            if set(subject) <= stored and set(own) <= have:
                checks.append((rule_id, RuleInfo(column, "warning", message,
                                                 f"t.{internal('__raw_', column)}"), cond))

        joins = ""
        if table == "adtte":
            # the date of the event or censoring, row by row: ADT, else its origin
            # (STARTDT, else PROCDT) + AVAL days; shown as the column it came from
            dates = self.tte_dates(src, stored)
            deaths = self.tte_deaths(src, stored, dates)
            if deaths:
                joins = f'LEFT JOIN ({deaths}) dd ON dd."USUBJID" = t."USUBJID" '
            recorded = ("the death recorded in adtte (an OS event or a censoring for death, "
                        "CNSR 4)")
            for shown, date in dates:
                low = shown.lower()
                warn(f"adtte.event_after_last_contact.{low}", shown,
                     "event is after the last contact date (LSTCNTDT)",
                     f't."CNSR" = 0 AND {date} > s."LSTCNTDT"', ("LSTCNTDT",))
                warn(f"adtte.censored_after_last_contact.{low}", shown,
                     "censoring is after the last contact date (LSTCNTDT)",
                     f't."CNSR" > 0 AND {date} > s."LSTCNTDT"', ("LSTCNTDT",))
                warn(f"adtte.event_after_death.{low}", shown,
                     "event is after the date of death (DTHDT)",
                     f't."CNSR" = 0 AND {date} > s."DTHDT"', ("DTHDT",))
                warn(f"adtte.censored_after_death.{low}", shown,
                     "censoring is after the date of death (DTHDT)",
                     f't."CNSR" > 0 AND {date} > s."DTHDT"', ("DTHDT",))
                if deaths:
                    # without a date of death in the subject table, the death adtte records
                    warn(f"adtte.event_after_recorded_death.{low}", shown,
                         f"event is after {recorded}",
                         f't."CNSR" = 0 AND s."DTHDT" IS NULL AND {date} > dd.__death', ())
                    warn(f"adtte.censored_after_recorded_death.{low}", shown,
                         f"censoring is after {recorded}",
                         f't."CNSR" > 0 AND s."DTHDT" IS NULL AND {date} > dd.__death', ())
            warn("adtte.start_not_procedure", "STARTDT",
                 "time origin (STARTDT) is not the procedure date (PROCDT)",
                 't."STARTDT" <> s."PROCDT"', ("PROCDT",), ("STARTDT",))
            warn("adtte.technical_failure", "PARAMCD",
                 "patency data for a technical failure (TECHSFL N)",
                 't."PARAMCD" IN (\'PP\', \'PAP\', \'SP\') AND s."TECHSFL" = \'N\'',
                 ("TECHSFL",))
        elif table == "visits":
            warn("visits.after_last_contact", "ADT",
                 "visit is after the last contact date (LSTCNTDT)", 't."ADT" > s."LSTCNTDT"',
                 ("LSTCNTDT",), ("ADT",))
            warn("visits.after_death", "ADT", "visit is after the date of death (DTHDT)",
                 't."ADT" > s."DTHDT"', ("DTHDT",), ("ADT",))
            warn("visits.ady", "ADY",
                 "ADY is not the number of days from the procedure (PROCDT) to ADT",
                 '(t."ADT" - s."PROCDT") <> t."ADY"', ("PROCDT",), ("ADT", "ADY"))
        elif table == "adae":
            warn("adae.after_death", "ASTDY", "onset is after the date of death (DTHDT)",
                 't."ASTDY" > (s."DTHDT" - s."PROCDT")', ("DTHDT", "PROCDT"), ("ASTDY",))
            warn("adae.after_last_contact", "ASTDY",
                 "onset is after the last contact date (LSTCNTDT)",
                 't."ASTDY" > (s."LSTCNTDT" - s."PROCDT")', ("LSTCNTDT", "PROCDT"), ("ASTDY",))
        for rule_id, info, _ in checks:
            self.register(rule_id, info)
        if defer and len(checks) == 2 and not self.layout.registry and src.parquet:
            return False
        self.join_checks(src, checks, joins)
        return True

    def tte_dates(self, src: _Src, stored: set[str], alias: str = "t",
                  subject: str = "s") -> list[tuple[str, str]]:
        """(column shown, SQL date) of a time-to-event row: ADT where the row has one,
        else its origin + AVAL days, the origin being STARTDT, else the subject's PROCDT.
        Each date holds only for the rows it applies to (NULL elsewhere)."""
        have = set(src.present)
        days = f'TRY(CAST(floor({alias}."AVAL") AS INTEGER))'
        if "adtte.adt" in src.skip:  # the file counts days inclusively (said once)
            days = f"TRY({days} - 1)"
        origins = ([f'{alias}."STARTDT"'] if "STARTDT" in have else []) + (
            [f'{subject}."PROCDT"'] if "PROCDT" in stored else [])
        out: list[tuple[str, str]] = []
        if "ADT" in have:
            out.append(("ADT", f'{alias}."ADT"'))
        if origins:
            origin = origins[0] if len(origins) == 1 else f"COALESCE({', '.join(origins)})"
            fallback = f"TRY({origin} + {days})"
            if "ADT" in have:
                fallback = f'CASE WHEN {alias}."ADT" IS NULL THEN {fallback} END'
            out.append(("AVAL", fallback))
        return out

    def tte_deaths(self, src: _Src, stored: set[str], dates: list[tuple[str, str]]) -> str:
        """SQL: per subject of the file, the date of the earliest death it records (the OS
        event, or a censoring for death, CNSR 4); "" when no row can be dated."""
        if not dates:
            return ""
        inner = self.tte_dates(src, stored, "u", "v")
        date = (inner[0][1] if len(inner) == 1 else
                f"COALESCE({', '.join(d for _, d in inner)})")
        subjects = (f'LEFT JOIN __subjects v ON v."USUBJID" = u."USUBJID" '
                    f"AND v.__study = {src.study} " if "PROCDT" in stored else "")
        return (f'SELECT u."USUBJID", min({date}) AS __death FROM {src.typed} u {subjects}'
                f"WHERE {self.accepted(src, 'u')} AND u.\"USUBJID\" IS NOT NULL AND "
                "((u.\"PARAMCD\" = 'OS' AND u.\"CNSR\" = 0) OR u.\"CNSR\" = 4) GROUP BY 1")

    def join_checks(self, src: _Src, checks: list[tuple[str, RuleInfo, str]],
                    joins: str = "") -> None:
        cases = ", ".join(f"CASE WHEN {cond} THEN '{rule_id}' END" for rule_id, _, cond in checks)
        any_fails = " OR ".join(f"({cond})" for _, _, cond in checks)
        self.sql(
            f"INSERT INTO __hits SELECT {src.id}, row, rule FROM (SELECT t.__row AS row, "
            f"unnest([{cases}]) AS rule FROM {src.typed} t "
            f"LEFT JOIN __subjects s ON s.\"USUBJID\" = t.\"USUBJID\" AND s.__study = {src.study} "
            f"LEFT JOIN __rejected_subjects r ON r.\"USUBJID\" = t.\"USUBJID\" "
            f"AND r.__study = {src.study} {joins}"
            f"WHERE {self.accepted(src, 't')} AND t.\"USUBJID\" IS NOT NULL AND ({any_fails})) "
            "WHERE rule IS NOT NULL"
        )
        self.reject_errors(src)

    def unknown_subjects_after_all(self, deferred: list[_Src]) -> None:
        """The deferred subject check: every accepted time-to-event row that found its
        subject is in the analysis table (a join on a unique key), so equal counts prove
        there is none to reject; otherwise the rows are found, rejected and left out."""
        if not deferred:
            return
        if self.scalar("SELECT count(*) FROM adtte") == self.analysed_rows():
            return
        for src in deferred:
            table = src.table
            self.join_checks(src, [
                (rule_id, self.rules[rule_id], cond) for rule_id, cond in (
                    (f"{table}.unknown_subject",
                     "s.\"USUBJID\" IS NULL AND r.\"USUBJID\" IS NULL"),
                    (f"{table}.rejected_subject",
                     "s.\"USUBJID\" IS NULL AND r.\"USUBJID\" IS NOT NULL"))])
        # the time-to-event table must leave them out too (the analysis table already does)
        self.sql('DROP VIEW adtte')
        kind = self.scalar("SELECT count(*) FROM duckdb_views() WHERE view_name = '__adtte_data'")
        self.sql(f"DROP {'VIEW' if kind else 'TABLE'} __adtte_data")
        derived = [s for s in self.srcs if s.table == "wide"]
        self.final_table(TABLES["adtte"], [s for s in self.srcs if s.table == "adtte"], derived)

    def patency_nesting(self, src: _Src) -> None:
        """Primary patency is lost no later than primary-assisted, and that no later than
        secondary: per patient, PP <= PAP <= SP, and a lost tier implies the tiers below."""
        tiers = ("PP", "PAP", "SP")
        agg = ", ".join(
            f"max(\"AVAL\") FILTER (WHERE \"PARAMCD\" = '{p}') AS t_{p}, "
            f"max(\"CNSR\") FILTER (WHERE \"PARAMCD\" = '{p}') AS c_{p}, "
            f"min(__row) FILTER (WHERE \"PARAMCD\" = '{p}') AS r_{p}" for p in tiers)
        base = (f"SELECT \"USUBJID\", {agg} FROM {src.typed} WHERE {self.accepted(src)} "
                "AND \"PARAMCD\" IN ('PP', 'PAP', 'SP') GROUP BY \"USUBJID\"")
        nested = "the patency tiers must be nested (PP <= PAP <= SP)"
        pairs = (("PP", "PAP", "primary patency (PP) outlasts primary-assisted patency (PAP)"),
                 ("PAP", "SP", "primary-assisted patency (PAP) outlasts secondary patency (SP)"))
        for low, high, text in pairs:
            rule_id = f"adtte.{low.lower()}_not_nested"
            self.register(rule_id, RuleInfo("AVAL", "warning", f"{text}: {nested}",
                                            f"t.{internal('__raw_', 'AVAL')}"))
            self.sql(
                f"INSERT INTO __hits SELECT {src.id}, r_{low}, '{rule_id}' FROM ({base}) "
                f"WHERE t_{low} > t_{high} OR (c_{high} = 0 AND c_{low} <> 0)"
            )

    def visit_order(self, src: _Src) -> None:
        """A patient's visits follow one another in time: taken in visit order (AVISITN),
        a visit dated after the next dated one runs backwards (one warning per such row,
        naming the next visit)."""
        if not {"USUBJID", "AVISITN", "ADT"} <= set(src.present):
            return
        rule_id = "visits.out_of_order"
        self.register(rule_id, RuleInfo("ADT", "warning",
                                        "visit is dated after the next visit (by AVISITN)",
                                        f"t.{internal('__raw_', 'ADT')}"))
        label = (f'COALESCE("AVISIT", \'AVISITN \' || {internal("__raw_", "AVISITN")})'
                 if "AVISIT" in src.present else
                 f"'AVISITN ' || {internal('__raw_', 'AVISITN')}")
        order = 'PARTITION BY "USUBJID" ORDER BY "AVISITN", __row'
        self.sql(
            f"CREATE TEMP TABLE __backwards AS SELECT __row, next_visit, next_date FROM ("
            f'SELECT __row, "ADT", lead({label}) OVER ({order}) AS next_visit, '
            f'lead("ADT") OVER ({order}) AS next_date FROM {src.typed} '
            f'WHERE {self.accepted(src)} AND "USUBJID" IS NOT NULL AND "AVISITN" IS NOT NULL '
            'AND "ADT" IS NOT NULL) WHERE "ADT" > next_date')
        self.sql(f"INSERT INTO __hits SELECT {src.id}, __row, '{rule_id}' FROM __backwards")
        self.sql(f"INSERT INTO __details SELECT {src.id}, __row, '{rule_id}', "
                 "'visit is dated after the next visit (by AVISITN), ' || next_visit || "
                 "' on ' || strftime(next_date, '%Y-%m-%d') FROM __backwards")
        self.sql("DROP TABLE __backwards")

    # -- final tables -------------------------------------------------------------------------

    def final_table(self, table: Table, srcs: list[_Src], derived: Sequence[_Src] = ()) -> None:
        """`<table>`: a view with every data-model column (absent ones as typed NULLs, so
        readers can rely on the columns) over `__<table>_data`, which holds only the
        columns some file has. Writing a million rows of empty columns is not free."""
        name = quote_ident(table.name)
        data = f'"__{table.name}_data"'
        # a wide file's derived rows fill every adtte column; a registry fills STUDYID
        # (and a subject file's SITEID) from the folder's name
        populated = [c for c in table.names
                     if derived or any(c in s.present for s in srcs)
                     or (c in ("STUDYID", "SITEID") and self.layout.registry)]
        extras: list[str] = []
        for src in srcs:
            extra_names = list(src.extras)
            if src.table == "wide":  # its event dates stay with the patient
                extra_names = [c for c in src.present if c not in table.names] + extra_names
            extras += [e for e in extra_names if e not in extras and e not in table.names]
        columns = [*populated, *extras]
        self.stored[table.name] = set(columns)
        # the subject table keeps where each row came from: its keys are checked on it
        keep = table.name == "adsl"
        parts = []
        for src in srcs:
            have = set(src.types) | set(src.extras)
            sel = [f"{src.study} AS __study", f"{src.id} AS __src", "__row"] if keep else []
            for c in columns:
                q = quote_ident(c)
                if c == "STUDYID":
                    sel.append(f"{self.study_sql(src)} AS {q}")
                elif c == "SITEID" and self.layout.registry and c not in src.present:
                    sel.append(f"(SELECT name FROM __studies WHERE study = {src.study}) AS {q}")
                elif c in have:
                    sel.append(q)
                else:
                    sel.append(f"NULL AS {q}")
            parts.append(f"SELECT {', '.join(sel)} FROM {src.typed} WHERE {self.accepted(src)}")
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
            self.sql(f"CREATE {kind} {data} AS SELECT {body} FROM "
                     f"({' UNION ALL '.join(parts)})")
        else:
            columns = []
            self.sql(f"CREATE TABLE {data} AS SELECT 1 AS __none WHERE false")
        outer = [quote_ident(c.name) if c.name in columns else
                 f"CAST(NULL AS {c.sql_type}) AS {quote_ident(c.name)}" for c in table.columns]
        outer += [quote_ident(e) for e in extras]
        self.sql(f"CREATE VIEW {name} AS SELECT {', '.join(outer)} FROM {data}")

    def release_copies(self) -> None:
        """Drop the raw copies of CSV, Excel and SAS files (and the views over them) once
        the tables the app reads, the report and the rejected rows are built: they would
        otherwise hold memory through the rest of the build, and space in the cache."""
        for src in self.srcs:
            if src.parquet:
                continue
            if src.table == "wide":
                self.sql(f'DROP VIEW IF EXISTS "__wide_tte_{src.id}"')
            self.sql(f"DROP VIEW {src.typed}")
            relation = src.staged.relation
            if self.scalar("SELECT count(*) FROM duckdb_views() WHERE view_name = ?",
                           [relation]):
                self.sql(f'DROP VIEW "{relation}"')
                self.sql(f'DROP TABLE "{relation}_data"')
            else:
                self.sql(f'DROP TABLE "{relation}"')

    def analysis_table(self) -> None:
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
        found = self.sql(
            "SELECT list(DISTINCT PARAMCD ORDER BY PARAMCD) FILTER (WHERE PARAMCD IS NOT NULL), "
            "coalesce(bool_and(AVAL = floor(AVAL) AND abs(AVAL) < 2147483647), true) "
            "FROM adtte").fetchone()
        codes = [str(c) for c in (found[0] or [])] if found else []
        whole = bool(found[1]) if found else True
        self.sql("CREATE TABLE __tte_codes (k INTEGER, PARAMCD VARCHAR)")
        if codes:
            self.con.executemany("INSERT INTO __tte_codes VALUES (?, ?)",
                                 [[k, c] for k, c in enumerate(codes)])
        aval = "CAST(t.AVAL AS INTEGER)" if whole else "t.AVAL"
        # the column names are built from the endpoints' positions, never from their codes
        pivot = ", ".join(
            f"max({aval}) FILTER (WHERE c.k = {k}) AS __t{k}, "
            f"max(CAST(t.CNSR = 0 AS INTEGER)) FILTER (WHERE c.k = {k}) AS __e{k}"
            for k in range(len(codes)))
        stored = self.stored_order("adsl")
        cols = ", ".join(f"s.{quote_ident(c)}" for c in stored)
        if codes:
            # a new table, not new columns UPDATEd into the subject table: at ten million
            # patients such an UPDATE runs for many minutes under the build's memory limit
            endpoint_cols = ", ".join(f"p.__t{k}, p.__e{k}" for k in range(len(codes)))
            self.sql(
                f"CREATE TABLE __tte_pivot_data AS SELECT {cols}, {endpoint_cols} "
                f"FROM __adsl_data s LEFT JOIN (SELECT t.USUBJID, {pivot} FROM adtte t "
                "JOIN __tte_codes c USING (PARAMCD) GROUP BY t.USUBJID) p "
                "ON p.USUBJID = s.USUBJID")
        else:
            self.sql(f"CREATE TABLE __tte_pivot_data AS SELECT {cols} FROM __adsl_data s")
        # every subject column, absent ones as typed NULLs, so every filter finds its column
        subject = [
            quote_ident(c.name) if c.name in stored
            else f"CAST(NULL AS {c.sql_type}) AS {quote_ident(c.name)}"
            for c in ADSL.columns
        ] + [quote_ident(c) for c in stored if c not in ADSL.names]
        slots = [f"__t{k}, __e{k}" for k in range(len(codes))]
        self.sql(f"CREATE VIEW __tte_pivot AS SELECT {', '.join(subject + slots)} "
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
        self.sql(f"CREATE VIEW tte_wide AS {' UNION ALL '.join(branches)}")

    def analysed_rows(self) -> int:
        """Time-to-event rows in the analysis table (each found its subject)."""
        k = self.scalar("SELECT count(*) FROM __tte_codes")
        if not k:
            return 0
        return self.scalar(
            f"SELECT {' + '.join(f'count(__t{i})' for i in range(k))} FROM __tte_pivot_data")

    def stored_order(self, table: str) -> list[str]:
        rows = self.sql(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
            "ORDER BY ordinal_position", [f"__{table}_data"]).fetchall()
        return [str(r[0]) for r in rows if not str(r[0]).startswith("__")]

    # -- report -----------------------------------------------------------------------------

    def list_issues(self) -> list[DataIssue]:
        # a rejected row is listed with its errors; its warnings would only add noise
        self.sql("DELETE FROM __hits h WHERE h.rule IN (SELECT rule FROM __rules WHERE "
                 "severity = 'warning') AND EXISTS (SELECT 1 FROM __rejected x WHERE "
                 "x.src = h.src AND x.row = h.row)")
        issues: list[DataIssue] = []
        for src in self.srcs:
            counts = dict(self.sql("SELECT rule, count(*) FROM __hits WHERE src = ? "
                                   "GROUP BY rule", [src.id]).fetchall())
            if not counts:
                continue
            plain = sorted(r for r in counts if not self.rules[r].aggregate)
            grouped = sorted(r for r in counts if self.rules[r].aggregate)
            if plain:
                value = "CASE h.rule " + " ".join(
                    f"WHEN '{r}' THEN CAST({self.rules[r].value_sql} AS VARCHAR)" for r in plain
                ) + " END"
                rows = self.sql(
                    f"SELECT h.rule, h.row, {value}, d.message FROM (SELECT rule, row FROM "
                    "(SELECT rule, row, row_number() OVER (PARTITION BY rule ORDER BY row) AS k "
                    f"FROM __hits WHERE src = ? AND rule IN ({', '.join(repr(r) for r in plain)})"
                    f") WHERE k <= {MAX_LISTED}) h JOIN {src.typed} t ON t.__row = h.row "
                    "LEFT JOIN (SELECT row, rule, min(message) AS message FROM __details "
                    "WHERE src = ? GROUP BY ALL) d ON d.row = h.row AND d.rule = h.rule "
                    "ORDER BY h.row, h.rule", [src.id, src.id]).fetchall()
                for rule_id, row, val, detail in rows:
                    info = self.rules[rule_id]
                    issues.append(DataIssue(src.label, int(row), info.column,
                                            None if val is None else str(val), info.severity,
                                            info.message if detail is None else str(detail)))
                for rule_id in plain:
                    more = counts[rule_id] - MAX_LISTED
                    if more > 0:
                        info = self.rules[rule_id]
                        issues.append(DataIssue(src.label, None, info.column, None,
                                                info.severity,
                                                f"{info.message}: {more} more rows"))
            for rule_id in grouped:
                info = self.rules[rule_id]
                rows = self.sql(
                    f"SELECT CAST({info.value_sql} AS VARCHAR) AS v, min(h.row), count(*) "
                    f"FROM __hits h JOIN {src.typed} t ON t.__row = h.row "
                    "WHERE h.src = ? AND h.rule = ? GROUP BY v ORDER BY 2 "
                    f"LIMIT {MAX_LISTED}", [src.id, rule_id]).fetchall()
                for val, first, n in rows:
                    suffix = f" ({n} rows, the first shown)" if n > 1 else ""
                    issues.append(DataIssue(src.label, int(first), info.column,
                                            None if val is None else str(val), info.severity,
                                            f"{info.message}{suffix}"))
        return issues

    def reports(self) -> list[FileReport]:
        out = []
        for src in self.srcs:
            rejected = self.scalar("SELECT count(DISTINCT row) FROM __rejected WHERE src = ?",
                                   [src.id])
            read = src.staged.rows
            out.append(FileReport(src.table, src.label, src.source.fmt, read, read - rejected,
                                  rejected))
        return out

    def keep_rejected_rows(self) -> None:
        """The original values of every rejected row, with its reasons, for download."""
        self.sql("CREATE TABLE __rejected_sources (src INTEGER, tbl VARCHAR, file VARCHAR, "
                 "names VARCHAR)")
        for src in self.srcs:
            if not self.scalar("SELECT count(*) FROM __rejected WHERE src = ?", [src.id]):
                continue
            n = len(src.staged.names)
            values = ", ".join(
                f"{text_expr(f's.c{i}', t.upper())} AS c{i}"
                for i, t in enumerate(src.staged.types, start=1))
            self.sql(
                f'CREATE TABLE "__rejected_rows_{src.id}" AS SELECT r.row AS __row, '
                f"r.reasons AS __reasons, s.__extra{', ' if n else ''}{values} FROM ("
                "SELECT x.row, string_agg(DISTINCT coalesce(d.message, m.message), '; ' "
                "ORDER BY coalesce(d.message, m.message)) AS reasons "
                f"FROM __rejected x JOIN __rules m USING (rule) LEFT JOIN __details d "
                "ON d.src = x.src AND d.row = x.row AND d.rule = x.rule "
                f"WHERE x.src = {src.id} GROUP BY x.row) r "
                f"JOIN \"{src.staged.relation}\" s ON s.__row = r.row "
                "ORDER BY r.row"
            )
            self.sql("INSERT INTO __rejected_sources VALUES (?, ?, ?, ?)",
                     [src.id, src.table, src.label, json.dumps(src.staged.names)])

    def usability(self, reports: list[FileReport]) -> str:
        for table, what in (("adsl", "patient"), ("adtte", "time-to-event row")):
            if self.scalar(f"SELECT count(*) FROM {table}"):
                continue
            files = [r for r in reports if r.table in (table, "wide")]
            ids = [s.id for s in self.srcs if s.table in (table, "wide")]
            labels = ", ".join(r.file for r in files)
            read = sum(r.rows_read for r in files)
            top = self.sql(
                "SELECT m.message, count(DISTINCT (x.src, x.row)) AS n FROM __rejected x "
                f"JOIN __rules m USING (rule) WHERE x.src IN ({', '.join(map(str, ids))}) "
                "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1").fetchone()
            why = f" (most often: {top[0]}, {top[1]} rows)" if top else ""
            return f"{labels}: no {what} can be used: all {read} rows were rejected{why}"
        return ""


# --- casts ------------------------------------------------------------------------------------


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
