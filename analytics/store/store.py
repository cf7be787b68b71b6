"""The read-only store: opens a built database once, hands out the filtered cohort for a
filter state in one call, and the counts analyses need.

Values are always bound as parameters; column names are checked against the
columns the table really has (which the schema defines) before they reach SQL.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import cast

import duckdb
import pandas as pd

from analytics.extract.issues import DataError, DataIssue, FileReport
from analytics.extract.report import QualityReport
from analytics.model.disclosure import Disclosure, decide
from analytics.model.filters import FilterState
from analytics.model.labels import DEFAULT as DEFAULT_LABELS
from analytics.model.labels import Labels
from analytics.model.provenance import Provenance
from analytics.model.schema import TABLES
from analytics.store import queries
from analytics.store.build import DEMO_DIR, Builder, build_database, database_for
from analytics.store.cache import lease
from analytics.store.spark import ENGINES, EngineError, SparkTables


@dataclass(frozen=True)
class Cohort:
    """Everything known about the patients that pass a filter."""

    filters: FilterState
    n_total: int
    adsl: pd.DataFrame
    adtte: pd.DataFrame
    visits: pd.DataFrame
    adae: pd.DataFrame
    provenance: Provenance
    synthetic: bool = False
    notice: str = ""
    manifest: dict[str, object] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.adsl)

    def endpoint(self, paramcd: str) -> pd.DataFrame:
        """The time-to-event rows of one endpoint (none if the extract lacks it)."""
        rows = self._by_endpoint.get(paramcd)
        return rows if rows is not None else self.adtte.iloc[0:0]

    @cached_property
    def _by_endpoint(self) -> dict[str, pd.DataFrame]:
        # one split of the rows instead of a text comparison over all of them per call:
        # pages and the audit ask for the same few endpoints many times
        if self.adtte.empty or "PARAMCD" not in self.adtte:
            return {}
        return {
            str(code): rows
            for code, rows in self.adtte.groupby("PARAMCD", sort=False, dropna=True)
        }


class Store:
    """One read-only database per process; a cursor per query.

    `engine` says where the aggregations over patients run: "duckdb" (the database
    itself) or "spark" (its tables on Spark, `analytics.store.spark`, at `master` or in
    local mode). The store's own bookkeeping (metadata, column types, the quality
    report, rejected rows) is always read from the database.
    """

    def __init__(self, db_path: Path, engine: str = "duckdb", master: str | None = None) -> None:
        if engine not in ENGINES:
            raise EngineError(f"unknown engine {engine!r}: one of {', '.join(ENGINES)}")
        self.path = Path(db_path)
        self.engine = engine
        # held until close: the cache's eviction and prune leave an open database alone
        self._lease = lease(self.path)
        # no progress bar: it would write to a command-line user's terminal
        self._con = duckdb.connect(str(self.path), read_only=True)
        self._con.execute("SET enable_progress_bar = false")
        self.meta: dict[str, str] = queries.store_meta(self._database())
        self._spark: SparkTables | None = None
        if engine == "spark" and not self.meta.get("unusable"):
            try:
                self._spark = SparkTables(self._con, master)
            except BaseException:
                self.close()
                raise
        self._n_total: int | None = None
        self._labels: dict[str, str] | None = None
        self._words: Labels | None = None
        # endpoint -> its position k in the analysis table (columns __t<k>, __e<k>)
        self._endpoint_slot: dict[str, int] = queries.endpoint_slots(self._database())
        self.column_types: dict[str, dict[str, str]] = {
            table: queries.table_columns(self._database(), table) for table in TABLES
        }
        times = [
            t
            for c, t in queries.table_columns(self._database(), "__tte_pivot").items()
            if c.startswith("__t")
        ]
        # times stored as integers (whole days): counts can group on one integer key
        self._whole_days = bool(times) and all(t in ("INTEGER", "BIGINT") for t in times)

    @classmethod
    def open(
        cls,
        src: Path = DEMO_DIR,
        mapping: Path | None = None,
        cache: Path | None = None,
        build: Builder = build_database,
        engine: str = "duckdb",
        master: str | None = None,
    ) -> Store:
        """The store of the extract in `src`; DataError when nothing in it can be used.

        `cache` is where the database is kept (default `cache_dir()`): an upload keeps
        its database in the session's own temporary folder, beside the files. `build`
        makes the database when it is not there yet (`database_for`). `engine` and
        `master` say where queries run (`Store`).
        """
        store = cls(database_for(Path(src), mapping, cache, build), engine, master)
        reason = store.meta.get("unusable", "")
        if reason:
            errors = [i for i in store.quality().issues if i.severity == "error"]
            store.close()
            raise DataError(reason, errors)
        return store

    def close(self) -> None:
        if self._spark is not None:
            self._spark.close()
            self._spark = None
        self._con.close()
        self._lease.release()

    @property
    def fingerprint(self) -> str:
        return self.meta.get("fingerprint", "unknown")

    @property
    def synthetic(self) -> bool:
        return self.meta.get("synthetic") == "Y"

    @property
    def registry(self) -> bool:
        """Built from a registry: a folder of study (or site) folders."""
        return self.meta.get("registry") == "Y"

    @property
    def disclosure(self) -> Disclosure:
        """The deployment's small-cell protection for these data."""
        return decide(self.manifest, self.registry)

    @property
    def manifest(self) -> dict[str, object]:
        data: dict[str, object] = json.loads(self.meta.get("manifest", "{}"))
        return data

    def quality(self) -> QualityReport:
        files, issues = queries.quality_rows(self._database())
        return QualityReport(
            tuple(FileReport(*r) for r in files),
            tuple(
                DataIssue(f, None if r is None else int(r), c, v, sev, m)
                for f, r, c, v, sev, m in issues
            ),
        )

    def rejected_rows(self, table: str | None = None) -> pd.DataFrame:
        """The rows the loader rejected, as read (text), with why: columns `file`, `row`
        (1 = first row under the header), `reasons`, then the file's own columns
        (`extra values` holds values beyond the header's last column, if any).

        `table` is adsl, adtte, visits, adae or wide; None gives every table's rows,
        the columns of all files side by side. Empty (with the three first columns)
        when nothing was rejected.
        """
        if table is not None and table not in (*TABLES, "wide"):
            raise KeyError(f"unknown table {table!r}")
        frames = []
        for src, tbl, file, names in queries.rejected_sources(self._database()):
            if table is not None and tbl != table:
                continue
            frame = queries.rejected_rows_of(self._database(), src)
            original = json.loads(names)
            renamed = {"__row": "row", "__reasons": "reasons", "__extra": "extra values"}
            renamed.update({f"c{i}": n for i, n in enumerate(original, start=1)})
            frame = frame.rename(columns=renamed)
            if frame["extra values"].isna().all():
                frame = frame.drop(columns="extra values")
            frame.insert(0, "file", file)
            frames.append(frame)
        if not frames:
            return pd.DataFrame({"file": [], "row": [], "reasons": []})
        return pd.concat(frames, ignore_index=True)

    def rejected_tables(self) -> list[str]:
        """Tables (adsl, adtte, visits, adae, wide) with rejected rows, in the loader's order."""
        return queries.rejected_tables(self._database())

    def query(self, sql: str, params: list[object] | None = None) -> pd.DataFrame:
        """Any read-only SQL, for tests and diagnosis only: the product's own reads are
        the functions of `analytics.store.queries`."""
        return self._con.cursor().execute(sql, params or []).df()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A fresh cursor of the store's engine, for the functions of
        `analytics.store.queries` (one cursor per query: pages run in threads)."""
        if self._spark is not None:
            # the same calls as DuckDB's cursor (`SparkCursor`): the queries never ask
            return cast(duckdb.DuckDBPyConnection, self._spark.cursor())
        return self._con.cursor()

    def _database(self) -> duckdb.DuckDBPyConnection:
        """A cursor on the database itself: its bookkeeping tables are not on Spark."""
        return self._con.cursor()

    def subject_columns(self) -> dict[str, str]:
        return dict(self.column_types["adsl"])

    def value_range(self, column: str) -> tuple[object, object]:
        """(min, max) of a subject column over the whole data."""
        return queries.value_range(self.cursor(), column, self.column_types["adsl"])

    def distinct_counts(self, columns: list[str]) -> dict[str, int]:
        """Distinct recorded values of each subject column, over the whole data."""
        return queries.distinct_counts(self.cursor(), columns, self.column_types["adsl"])

    def has_rows(self, table: str) -> bool:
        """Whether the event table ("visits" or "adae") holds any row."""
        return queries.has_rows(self.cursor(), table)

    def provenance(self, filters: FilterState) -> Provenance:
        return Provenance(
            filters=tuple(filters.to_strings()),
            data_fingerprint=self.fingerprint,
            data_source=self.meta.get("source", "unknown"),
            filter_words=tuple(self.labels.clause(c) for c in filters.clauses),
        )

    @property
    def labels(self) -> Labels:
        """Clinical words for the codes of these data: the data model's, with the
        extract's own (SAS variable labels, a mapping file's labels) on top."""
        if self._words is None:
            try:
                own = json.loads(self.meta.get("labels") or "{}")
            except ValueError:
                own = {}
            self._words = DEFAULT_LABELS.with_labels(own.get("columns"), own.get("values"))
        return self._words

    def subject_where(self, filters: FilterState) -> tuple[str, list[object]]:
        return queries.where_clause(filters, self.column_types["adsl"])

    def count(self, filters: FilterState | None = None) -> int:
        if not filters:
            if self._n_total is None:
                self._n_total = self._count(FilterState())
            return self._n_total
        return self._count(filters)

    def _count(self, filters: FilterState) -> int:
        return queries.count_subjects(self.cursor(), self.subject_where(filters))

    def endpoints(self) -> list[str]:
        return sorted(self.endpoint_labels())

    def endpoint_labels(self) -> dict[str, str]:
        if self._labels is None:
            self._labels = self._endpoint_labels()
        return dict(self._labels)

    def _endpoint_labels(self) -> dict[str, str]:
        names: dict[str, str] = json.loads(self.meta.get("endpoint_names", "{}"))
        return names

    def group_sizes(self, filters: FilterState | None, by: str) -> dict[str, int]:
        if by not in self.column_types["adsl"]:
            raise KeyError(f"unknown subject column {by!r}")
        subject = self.subject_where(filters or FilterState())
        df = queries.group_sizes(self.cursor(), subject, by, self.column_types["adsl"])
        return {str(g): int(n) for g, n in zip(df["GRP"], df["N"], strict=True) if g is not None}

    def tte_counts(
        self, filters: FilterState | None, paramcd: str, by: str | None = None
    ) -> pd.DataFrame:
        """Distinct (time, event[, group]) rows with their patient counts, for one
        endpoint of the filtered cohort: what the estimators need, aggregated in
        DuckDB so that millions of patients become a few thousand rows."""
        return self.tte_counts_many(filters, [paramcd], by=by).drop(columns="PARAMCD")

    def tte_counts_many(
        self, filters: FilterState | None, paramcds: Sequence[str], by: str | None = None
    ) -> pd.DataFrame:
        """As `tte_counts`, for several endpoints (column PARAMCD says which), in one
        query over the analysis table (one row per patient, a time and event column per
        endpoint): each endpoint's rows are grouped in DuckDB, and times read back as
        DOUBLE whatever their stored type."""
        if by is not None and by not in self.column_types["adsl"]:
            raise KeyError(f"unknown subject column {by!r}")
        subject = self.subject_where(filters or FilterState())
        slot = self._endpoint_slot
        slots = [(c, slot[c]) for c in dict.fromkeys(paramcds) if c in slot]
        return queries.tte_counts(
            self.cursor(), subject, slots, by, self.column_types["adsl"], self._whole_days
        )

    def levels(self, column: str) -> list[object]:
        """Distinct non-missing values of a subject column, sorted."""
        if column not in self.column_types["adsl"]:
            raise KeyError(f"unknown subject column {column!r}")
        return queries.levels(self.cursor(), column, self.column_types["adsl"])

    def cohort(self, filters: FilterState | None = None) -> Cohort:
        filters = filters or FilterState()
        adsl, adtte, visits, adae = queries.cohort_tables(
            self.cursor(), self.subject_where(filters)
        )
        return self.partial_cohort(filters, adsl, adtte, visits, adae)

    def partial_cohort(
        self,
        filters: FilterState,
        adsl: pd.DataFrame,
        adtte: pd.DataFrame | None = None,
        visits: pd.DataFrame | None = None,
        adae: pd.DataFrame | None = None,
    ) -> Cohort:
        """A `Cohort` of `filters` holding only the rows given (tables not given are
        empty): what a path reading a few columns or rows needs, with the same
        provenance and notices as `cohort`."""
        return Cohort(
            filters=filters,
            n_total=self.count(),
            adsl=adsl,
            adtte=adtte if adtte is not None else pd.DataFrame(),
            visits=visits if visits is not None else pd.DataFrame(),
            adae=adae if adae is not None else pd.DataFrame(),
            provenance=self.provenance(filters),
            synthetic=self.synthetic,
            notice=self.meta.get("notice", ""),
            manifest=self.manifest,
        )
