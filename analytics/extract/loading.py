"""The state of one load and what its steps share: the staged files (`LoadFile`), the
rules registered so far (`RuleInfo`), the work tables (``__hits``, ``__rejected``,
``__rules``...) and the SQL helpers over them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import duckdb

from analytics.extract.discovery import Layout, Source
from analytics.extract.issues import DataError, DataIssue, Severity, short_message
from analytics.extract.mapping import ExtractMapping
from analytics.extract.rules import RowRule
from analytics.extract.staged import Staged
from analytics.extract.validate import internal
from analytics.extract.wide import WIDE_REQUIRED

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
SUBJECT_TABLES = ("adsl", "wide")
# DuckDB's errors about the data read (corrupt or unreadable files, values it cannot
# convert, memory), as opposed to errors in a query
DATA_ERRORS = (duckdb.IOException, duckdb.InvalidInputException, duckdb.DataError,
               duckdb.OutOfMemoryException)


@dataclass
class RuleInfo:
    column: str | None
    severity: Severity
    message: str
    value_sql: str  # the value shown, over the typed view aliased t
    aggregate: bool = False


@dataclass
class LoadFile:
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
    # model columns read as the file's own text (NULLIF(raw, '')): a filter on their
    # raw column is the same filter, and reaches the file's statistics
    plain: set[str] = field(default_factory=set)

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


class Load:
    """One load in progress: the connection, the staged files, the rules registered
    and the notes so far, with the SQL helpers every step uses."""

    def __init__(self, con: duckdb.DuckDBPyConnection, layout: Layout, workdir: Path,
                 engine: Engine) -> None:
        self.con = con
        self.layout = layout
        self.workdir = workdir
        self.engine = engine
        self.srcs: list[LoadFile] = []
        self.notes: list[DataIssue] = list(layout.notes)
        self.rules: dict[str, RuleInfo] = {}
        self.stored: dict[str, set[str]] = {}  # table -> columns some file holds
        self.probes: dict[int, Future[int]] = {}
        # runs the probes and checks made beside the main connection, one at a time
        self.background: Executor | None = None
        # subject column -> the ENUM type it is stored as (tables.coded_columns)
        self.coded: dict[str, str] = {}
        self.recode_id = 0
        self.where = str(layout.root)
        # the extract's own words: column -> words, column -> code -> words (SAS variable
        # labels, then a mapping file's labels section, which wins)
        self.column_labels: dict[str, str] = {}
        self.value_labels: dict[str, dict[str, str]] = {}

    def sql(self, text: str, params: Sequence[object] | None = None) -> duckdb.DuckDBPyConnection:
        return self.con.execute(text, params or [])

    def scalar(self, text: str, params: Sequence[object] | None = None) -> int:
        row = self.sql(text, params).fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    @contextmanager
    def reading(self, *srcs: LoadFile) -> Iterator[None]:
        """Errors DuckDB raises about the data while reading these files become a
        DataError naming them (a Parquet file can fail mid-scan although its footer read
        fine). Others (a query the loader got wrong) are left to surface as what they are.
        """
        try:
            yield
        except DATA_ERRORS as exc:
            labels = ", ".join(s.label for s in srcs) or self.where
            text = short_message(exc)
            for s in srcs:
                text = short_message(text, s.source.path, s.label)
            raise DataError.of(labels, f"cannot be read ({text})") from None

    def accepted(self, src: LoadFile, alias: str = "") -> str:
        """SQL condition: the row is neither broken nor rejected so far."""
        p = f"{alias}." if alias else ""
        cond = f"{p}__err IS NULL"
        if self.rejected_any(src):
            cond += f" AND {p}__row NOT IN (SELECT row FROM __rejected WHERE src = {src.id})"
        return cond

    def rejected_any(self, src: LoadFile) -> bool:
        """Whether some row of `src` is rejected so far (in this transaction)."""
        return bool(self.scalar("SELECT count(*) FROM __rejected WHERE src = ?", [src.id]))

    def register(self, rule_id: str, info: RuleInfo) -> None:
        if rule_id not in self.rules:
            self.rules[rule_id] = info
            self.sql("INSERT INTO __rules VALUES (?, ?, ?, ?)",
                     [rule_id, info.column, info.severity, info.message])

    def register_row_rule(self, rule: RowRule) -> None:
        self.register(rule.id, RuleInfo(rule.column, rule.severity, rule.message,
                                        f"t.{internal('__raw_', rule.column)}", rule.aggregate))

    def reject_errors(self, src: LoadFile) -> None:
        self.sql(
            "INSERT INTO __rejected SELECT DISTINCT h.src, h.row, h.rule FROM __hits h "
            "JOIN __rules r USING (rule) WHERE h.src = ? AND r.severity = 'error' "
            "AND NOT EXISTS (SELECT 1 FROM __rejected x WHERE x.src = h.src AND x.row = h.row "
            "AND x.rule = h.rule)",
            [src.id],
        )

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

    def study_sql(self, src: LoadFile, alias: str = "") -> str:
        p = f"{alias}." if alias else ""
        if not self.layout.registry:
            return f'{p}"STUDYID"'
        # a registry study without STUDYID is named after its folder
        return f'COALESCE({p}"STUDYID", (SELECT name FROM __studies WHERE study = {src.study}))'

    def stored_order(self, table: str) -> list[str]:
        rows = self.sql(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
            "ORDER BY ordinal_position", [f"__{table}_data"]).fetchall()
        return [str(r[0]) for r in rows if not str(r[0]).startswith("__")]
