"""Staging a SAS transport (.xpt) file, read by pyreadstat into a DuckDB table."""

from __future__ import annotations

import duckdb
import pandas as pd

from analytics.extract.discovery import Source
from analytics.extract.issues import DataError, short_message
from analytics.extract.staged import Staged, finish, positional


def _load_frame(con: duckdb.DuckDBPyConnection, rel: str, frame: pd.DataFrame) -> None:
    frame = frame.copy()
    frame.columns = pd.Index(positional(frame.shape[1]))
    for col in frame.columns:
        # missing SAS numerics arrive as NaN; NULL is what the rest of the loader expects
        if frame[col].dtype.kind == "f":
            frame[col] = frame[col].astype("Float64")
    frame.insert(0, "__extra", pd.Series([None] * len(frame), dtype="object"))
    frame.insert(0, "__err", pd.Series([None] * len(frame), dtype="object"))
    frame.insert(0, "__row", range(1, len(frame) + 1))
    name = f"_frame_{rel}"
    con.register(name, frame)
    try:
        con.execute(f'CREATE TABLE "{rel}" AS SELECT * FROM "{name}"')
    finally:
        con.unregister(name)


def stage_xpt(con: duckdb.DuckDBPyConnection, source: Source, rel: str) -> Staged:
    # imported here: a tenth of a second at every start of the command line, for the
    # few extracts in SAS transport files
    import pyreadstat

    try:
        # pyreadstat, not pandas.read_sas: pandas decodes some SAS zeros as 5e-79
        frame, meta = pyreadstat.read_xport(str(source.path))
    except Exception as exc:  # the reader raises several types for a bad file
        raise DataError.of(
            source.label,
            f"cannot be read as SAS transport ({short_message(exc, source.path, source.label)})",
        ) from None
    names = [str(c) for c in frame.columns]
    try:
        _load_frame(con, rel, frame)
    except (duckdb.Error, ValueError, TypeError) as exc:
        raise DataError.of(
            source.label, f"cannot be read as SAS transport ({short_message(exc)})"
        ) from None
    staged = finish(con, source, rel, names, [])
    # SAS variable labels are the sponsor's words for its columns (a transport file
    # carries no value labels: those live in a format catalogue)
    staged.labels = {
        str(name): str(label)
        for name, label in (meta.column_names_to_labels or {}).items()
        if label and str(label).strip()
    }
    return staged
