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

import duckdb
import pandas as pd

from analytics.extract.loader import DataError, DataIssue, FileReport
from analytics.model.filters import FilterState, quote_ident, where_clause
from analytics.model.provenance import Provenance
from analytics.model.schema import TABLES
from analytics.store.build import DEMO_DIR, database_for


@dataclass(frozen=True)
class QualityReport:
    files: tuple[FileReport, ...]
    issues: tuple[DataIssue, ...]

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def rows_used(self) -> int:
        return sum(f.rows_used for f in self.files)

    @property
    def rows_rejected(self) -> int:
        return sum(f.rows_rejected for f in self.files)

    def as_dict(self) -> dict[str, object]:
        return {
            "rows_read": self.rows_read,
            "rows_used": self.rows_used,
            "rows_rejected": self.rows_rejected,
            "files": [
                {
                    "table": f.table,
                    "file": f.file,
                    "format": f.format,
                    "rows_read": f.rows_read,
                    "rows_used": f.rows_used,
                    "rows_rejected": f.rows_rejected,
                }
                for f in self.files
            ],
            "issues": [i.as_dict() for i in self.issues],
        }


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
    """One read-only database per process; a cursor per query."""

    def __init__(self, db_path: Path) -> None:
        self.path = Path(db_path)
        # no progress bar: it would write to a command-line user's terminal
        self._con = duckdb.connect(str(self.path), read_only=True)
        self._con.execute("SET enable_progress_bar = false")
        meta = self._con.cursor().execute("SELECT key, value FROM meta").fetchall()
        self.meta: dict[str, str] = dict(meta)
        self._n_total: int | None = None
        self._labels: dict[str, str] | None = None
        # endpoint -> its position k in the analysis table (columns __t<k>, __e<k>)
        self._endpoint_slot: dict[str, int] = {
            str(code): int(k)
            for k, code in self._con.cursor()
            .execute("SELECT k, PARAMCD FROM __tte_codes")
            .fetchall()
        }
        self.column_types: dict[str, dict[str, str]] = {}
        for table in TABLES:
            rows = (
                self._con.cursor()
                .execute(
                    "SELECT column_name, data_type FROM information_schema.columns "
                    "WHERE table_name = ? ORDER BY ordinal_position",
                    [table],
                )
                .fetchall()
            )
            self.column_types[table] = dict(rows)

    @classmethod
    def open(
        cls, src: Path = DEMO_DIR, mapping: Path | None = None, cache: Path | None = None
    ) -> Store:
        """The store of the extract in `src`; DataError when nothing in it can be used.

        `cache` is where the database is kept (default `cache_dir()`): an upload keeps
        its database in the session's own temporary folder, beside the files.
        """
        store = cls(database_for(Path(src), mapping, cache))
        reason = store.meta.get("unusable", "")
        if reason:
            errors = [i for i in store.quality().issues if i.severity == "error"]
            store.close()
            raise DataError(reason, errors)
        return store

    def close(self) -> None:
        self._con.close()

    @property
    def fingerprint(self) -> str:
        return self.meta.get("fingerprint", "unknown")

    @property
    def synthetic(self) -> bool:
        return self.meta.get("synthetic") == "Y"

    @property
    def manifest(self) -> dict[str, object]:
        data: dict[str, object] = json.loads(self.meta.get("manifest", "{}"))
        return data

    def quality(self) -> QualityReport:
        files = (
            self._con.cursor()
            .execute(
                "SELECT tbl, file, format, rows_read, rows_used, rows_rejected FROM file_report "
                "ORDER BY rowid"
            )
            .fetchall()
        )
        issues = (
            self._con.cursor()
            .execute(
                "SELECT file, row_id, col, value, severity, message FROM data_issues "
                "ORDER BY seq"
            )
            .fetchall()
        )
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
        cur = self._con.cursor()
        sources = cur.execute(
            "SELECT src, tbl, file, names FROM __rejected_sources ORDER BY src"
        ).fetchall()
        frames = []
        for src, tbl, file, names in sources:
            if table is not None and tbl != table:
                continue
            # the table name is built from an integer id, never from user text
            frame = cur.execute(f'SELECT * FROM "__rejected_rows_{int(src)}"').df()
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

    def query(self, sql: str, params: list[object] | None = None) -> pd.DataFrame:
        return self._con.cursor().execute(sql, params or []).df()

    def subject_columns(self) -> dict[str, str]:
        return dict(self.column_types["adsl"])

    def provenance(self, filters: FilterState) -> Provenance:
        return Provenance(
            filters=tuple(filters.to_strings()),
            data_fingerprint=self.fingerprint,
            data_source=self.meta.get("source", "unknown"),
        )

    def subject_where(self, filters: FilterState) -> tuple[str, list[object]]:
        return where_clause(filters, self.column_types["adsl"])

    def count(self, filters: FilterState | None = None) -> int:
        if not filters:
            if self._n_total is None:
                self._n_total = self._count(FilterState())
            return self._n_total
        return self._count(filters)

    def _count(self, filters: FilterState) -> int:
        where, params = self.subject_where(filters)
        row = (
            self._con.cursor()
            .execute(f"SELECT count(*) FROM adsl WHERE {where}", params)
            .fetchone()
        )
        return int(row[0]) if row else 0

    def endpoints(self) -> list[str]:
        return sorted(self.endpoint_labels())

    def endpoint_labels(self) -> dict[str, str]:
        if self._labels is None:
            self._labels = self._endpoint_labels()
        return dict(self._labels)

    def _endpoint_labels(self) -> dict[str, str]:
        df = self.query("SELECT PARAMCD, min(PARAM) AS PARAM FROM adtte GROUP BY PARAMCD")
        return {
            str(c): str(p) if p is not None else str(c)
            for c, p in zip(df["PARAMCD"], df["PARAM"], strict=True)
        }

    def group_sizes(self, filters: FilterState | None, by: str) -> dict[str, int]:
        if by not in self.column_types["adsl"]:
            raise KeyError(f"unknown subject column {by!r}")
        where, params = self.subject_where(filters or FilterState())
        df = self.query(
            f"SELECT CAST({quote_ident(by)} AS VARCHAR) AS GRP, count(*) AS N FROM adsl "
            f"WHERE {where} GROUP BY ALL",
            params,
        )
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
        filters = filters or FilterState()
        where, params = self.subject_where(filters)
        group = ""
        if by is not None:
            if by not in self.column_types["adsl"]:
                raise KeyError(f"unknown subject column {by!r}")
            group = f", CAST({quote_ident(by)} AS VARCHAR) AS GRP"
        # column names from the endpoints' positions; the codes themselves are bound
        slot = self._endpoint_slot
        slots = [(c, slot[c]) for c in dict.fromkeys(paramcds) if c in slot]
        parts = [
            f"SELECT ? AS PARAMCD, __t{k} AS __T, __e{k} AS EVENT{group}, count(*) AS N "
            f"FROM __tte_pivot WHERE __t{k} IS NOT NULL AND {where} GROUP BY ALL"
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
        return self.query(sql, bound)

    def levels(self, column: str) -> list[object]:
        """Distinct non-missing values of a subject column, sorted."""
        if column not in self.column_types["adsl"]:
            raise KeyError(f"unknown subject column {column!r}")
        ident = quote_ident(column)
        df = self.query(
            f"SELECT DISTINCT {ident} AS v FROM adsl WHERE {ident} IS NOT NULL ORDER BY v"
        )
        return list(df["v"])

    def cohort(self, filters: FilterState | None = None) -> Cohort:
        filters = filters or FilterState()
        where, params = self.subject_where(filters)
        subset = f"USUBJID IN (SELECT USUBJID FROM adsl WHERE {where})"
        adsl = self.query(f"SELECT * FROM adsl WHERE {where} ORDER BY USUBJID", params)
        adtte = self.query(f"SELECT * FROM adtte WHERE {subset} ORDER BY USUBJID, PARAMCD", params)
        visits = self.query(
            f"SELECT * FROM visits WHERE {subset} ORDER BY USUBJID, AVISITN", params
        )
        adae = self.query(f"SELECT * FROM adae WHERE {subset} ORDER BY USUBJID, AESEQ", params)
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
