"""Reads of Tables 1 and 2, outcomes, safety, visits and the NICE audit: value
counts and the few event rows of the patients in view."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import duckdb
import pandas as pd

from analytics.store.queries.where import Subject, checked

# --- tables, outcomes, safety, visits and the audit -----------------------------------

# The patient-count column of `value_counts` (no extract column can be named so).
VALUE_COUNT = "__n"

# The event tables read row by row, and the order `Store.cohort` gives their rows.
_EVENT_ORDER = {"visits": "USUBJID, AVISITN", "adae": "USUBJID, AESEQ"}


def _event_table(table: str) -> str:
    if table not in _EVENT_ORDER:
        raise KeyError(f"unknown event table {table!r}")
    return table


def value_counts(
    cur: duckdb.DuckDBPyConnection,
    subject: Subject,
    wanted: Sequence[str],
    columns: Mapping[str, str],
) -> pd.DataFrame:
    """Distinct combinations of the `wanted` subject columns among the patients in view
    (missing values included), with their patient counts in column `VALUE_COUNT`."""
    where, params = subject
    select = ", ".join(checked(c, columns) for c in wanted)
    return cur.execute(
        f"SELECT {select}, count(*) AS {VALUE_COUNT} FROM adsl WHERE {where} GROUP BY ALL",
        list(params),
    ).df()


def technical_success_events(
    cur: duckdb.DuckDBPyConnection,
    subject: Subject,
    columns: Mapping[str, str],
    endpoints: Sequence[str],
    day: float,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The technical successes in view (USUBJID, TECHSFL; by USUBJID) and their events
    (CNSR 0) of `endpoints` on or before `day` (by USUBJID, PARAMCD). When no patient in
    view has TECHSFL recorded, every patient in view (USUBJID only) and their events."""
    where, params = subject
    recorded = 0
    if "TECHSFL" in columns:
        row = cur.execute(f"SELECT count(TECHSFL) FROM adsl WHERE {where}", list(params)).fetchone()
        recorded = int(row[0]) if row else 0
    select, bound = "USUBJID", list(params)
    if recorded:
        select, where, bound = "USUBJID, TECHSFL", f"({where}) AND TECHSFL = ?", [*bound, "Y"]
    adsl = cur.execute(f"SELECT {select} FROM adsl WHERE {where} ORDER BY USUBJID", bound).df()
    marks = ", ".join("?" for _ in endpoints)
    adtte = cur.execute(
        f"SELECT * FROM adtte WHERE PARAMCD IN ({marks}) AND CNSR = 0 AND AVAL <= ? AND "
        f"USUBJID IN (SELECT USUBJID FROM adsl WHERE {where}) ORDER BY USUBJID, PARAMCD",
        [*endpoints, float(day), *bound],
    ).df()
    return adsl, adtte


def has_rows(cur: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether the event table ("visits" or "adae") holds any row."""
    row = cur.execute(f"SELECT EXISTS (SELECT 1 FROM {_event_table(table)})").fetchone()
    return bool(row and row[0])


def column_recorded(
    cur: duckdb.DuckDBPyConnection, table: str, column: str, columns: Mapping[str, str]
) -> bool:
    """Whether `column` of the event table holds a value for anyone in the data."""
    name = checked(column, columns)
    row = cur.execute(f"SELECT count({name}) > 0 FROM {_event_table(table)}").fetchone()
    return bool(row and row[0])


def event_rows(
    cur: duckdb.DuckDBPyConnection,
    subject: Subject,
    table: str,
    columns: Mapping[str, str],
    wanted: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The rows of the event table ("visits" or "adae") of the patients in view, as
    `Store.cohort` orders them; only the `wanted` columns if given. A table with no
    row at all is not joined to the patients (its empty frame, columns kept)."""
    name = _event_table(table)
    select = "*" if wanted is None else ", ".join(checked(c, columns) for c in wanted)
    if not has_rows(cur, name):
        return cur.execute(f"SELECT {select} FROM {name} LIMIT 0").df()
    where, params = subject
    return cur.execute(
        f"SELECT {select} FROM {name} WHERE USUBJID IN (SELECT USUBJID FROM adsl WHERE "
        f"{where}) ORDER BY {_EVENT_ORDER[name]}",
        list(params),
    ).df()
