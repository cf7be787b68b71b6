"""The store's aggregations on Apache Spark: the same statements of
`analytics.store.queries`, written once in DuckDB's dialect and transpiled by SQLGlot.

DuckDB still loads and checks the extract (one scan, on one machine, into the cached
database). For Spark, the database's analysis tables are written once as Parquet to a
folder Spark can read (`DVA_SPARK_TABLES`, a shared folder when Spark is a cluster; by
default a temporary folder removed when the store closes), and each is registered as a
temporary view under a name of its own store, so two stores in one process never read
each other's rows. A query then runs where the rows are: Spark scans and groups them
and returns the few grouped rows the estimators need.

PySpark is optional (`requirements-spark.txt`): without it, asking for Spark is a
clear `EngineError`, and DuckDB serves as before.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import shutil
import tempfile
import threading
import uuid
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

# Optional: `make test` installs it, `make run` does not. Imported when a Spark store
# opens, not here: every command line run would otherwise pay a quarter of a second.
PYSPARK = "pyspark.sql"

ENGINES = ("duckdb", "spark")
TABLES_ENV = "DVA_SPARK_TABLES"
MASTER_ENV = "DVA_SPARK_MASTER"
# The tables the queries read: the four tables of the data model and the two analysis
# tables the loader derives from adtte (one row per patient and endpoint; one per patient)
SPARK_TABLES = ("adsl", "adtte", "visits", "adae", "tte_wide", "__tte_pivot")
# A local session for one machine's cores; a grouped query returns a few thousand rows,
# so Spark's default of 200 shuffle partitions would be 200 tiny tasks per query
LOCAL_SETTINGS = {
    "spark.ui.enabled": "false",
    "spark.sql.shuffle.partitions": "8",
    "spark.sql.session.timeZone": "UTC",
    "spark.driver.memory": "1g",
    "spark.ui.showConsoleProgress": "false",
}


class EngineError(RuntimeError):
    """The engine asked for cannot run here (unknown, or PySpark or Java missing)."""


def spark_available() -> bool:
    return importlib.util.find_spec("pyspark") is not None


_session_lock = threading.Lock()


def spark_session(master: str | None = None) -> Any:
    """The process's Spark session (one per JVM): `master` (a URL such as
    spark://host:7077), else `$DVA_SPARK_MASTER`, else local mode on this machine's cores."""
    if not spark_available():
        raise EngineError(
            "the Spark engine needs PySpark and a Java runtime: "
            "pip install -r requirements-spark.txt (and a JDK 17 or 21)"
        )
    url = master or os.environ.get(MASTER_ENV) or "local[*]"
    session_class = importlib.import_module(PYSPARK).SparkSession
    with _session_lock:
        builder = session_class.builder.master(url).appName("dva-outcomes")
        for key, value in LOCAL_SETTINGS.items():
            builder = builder.config(key, value)
        try:
            session = builder.getOrCreate()
        except Exception as exc:  # the JVM's own error (no Java, bad master URL)
            raise EngineError(f"Spark could not start at {url}: {exc}") from None
        session.sparkContext.setLogLevel("ERROR")
        return session


@lru_cache(maxsize=512)
def to_spark(sql: str, views: tuple[tuple[str, str], ...] = ()) -> str:
    """`sql` (DuckDB's dialect) in Spark's, with each table named in `views` read from
    its view: the same statement on both engines, no hand-written fork."""
    # imported here, as PySpark is: every start of the command line would pay for it
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(sql, read="duckdb")
    if views:
        names = dict(views)
        for table in tree.find_all(exp.Table):
            if table.name in names and not table.db:
                table.set("this", exp.to_identifier(names[table.name]))
    return tree.sql(dialect="spark")


class SparkCursor:
    """The part of a DuckDB cursor the query module uses (`execute` with positional
    parameters, then `df`, `fetchall` or `fetchone`), on Spark."""

    def __init__(self, session: Any, views: tuple[tuple[str, str], ...]) -> None:
        self._session = session
        self._views = views
        self._frame: Any = None

    def execute(self, sql: str, params: Sequence[object] = ()) -> SparkCursor:
        self._frame = self._session.sql(to_spark(sql, self._views), args=list(params))
        return self

    def _result(self) -> Any:
        if self._frame is None:
            raise EngineError("no query has been run on this cursor")
        return self._frame

    def df(self) -> pd.DataFrame:
        # dates as DuckDB's `df()` gives them (datetime64 in microseconds; pyarrow's own
        # choice would be milliseconds), so the analyses see one type on either engine
        table: pa.Table = self._result().toArrow()
        fields = [
            pa.field(f.name, pa.timestamp("us")) if pa.types.is_date(f.type) else f
            for f in table.schema
        ]
        frame = table.cast(pa.schema(fields)).to_pandas()
        # and, as DuckDB does, whole numbers and flags with a missing value in pandas'
        # nullable types (pyarrow would turn them into floats and objects)
        for f in table.schema:
            if table.column(f.name).null_count == 0:
                continue
            if pa.types.is_signed_integer(f.type):
                frame[f.name] = frame[f.name].astype(f"Int{f.type.bit_width}")
            elif pa.types.is_boolean(f.type):
                frame[f.name] = frame[f.name].astype("boolean")
        return frame

    def fetchall(self) -> list[tuple[object, ...]]:
        return [tuple(row) for row in self._result().collect()]

    def fetchone(self) -> tuple[object, ...] | None:
        rows = self._result().take(1)
        return tuple(rows[0]) if rows else None


class SparkTables:
    """The store's tables as Parquet in a folder Spark reads, each a temporary view of
    this store's own (dropped, with a temporary folder, on `close`)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, master: str | None = None) -> None:
        self.session = spark_session(master)
        shared = os.environ.get(TABLES_ENV)
        tag = uuid.uuid4().hex[:12]
        self.folder = Path(shared) / tag if shared else Path(tempfile.mkdtemp(prefix="dva-spark-"))
        self.folder.mkdir(parents=True, exist_ok=True)
        views = []
        for table in SPARK_TABLES:
            # Spark takes a file whose name starts with "_" for its own metadata and skips it
            path = self.folder / f"{table.strip('_')}.parquet"
            # COPY takes no bound file name: the path is a folder of ours (quotes doubled)
            # and the table one of SPARK_TABLES, never text a user typed
            target = str(path).replace("'", "''")
            con.execute(f"COPY (SELECT * FROM \"{table}\") TO '{target}' (FORMAT parquet)")
            view = f"dva_{tag}_{table.strip('_')}"
            self.session.read.parquet(str(path)).createOrReplaceTempView(view)
            views.append((table, view))
        self.views = tuple(views)

    def cursor(self) -> SparkCursor:
        return SparkCursor(self.session, self.views)

    def close(self) -> None:
        for _, view in self.views:
            self.session.catalog.dropTempView(view)
        # each store writes a folder of its own, also under a shared location
        shutil.rmtree(self.folder, ignore_errors=True)
