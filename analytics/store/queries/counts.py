"""Survival-shaped reads: (time, event, weight[, group]) counts per endpoint,
censoring reasons and the per-site counts of the site comparison."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import duckdb
import pandas as pd

from analytics.store.queries.where import Subject, checked

# --- survival-shaped analyses: time, event, weight and group counts ------------------


def populated_subject_columns(
    cur: duckdb.DuckDBPyConnection, columns: Mapping[str, str]
) -> frozenset[str]:
    """Subject columns with at least one recorded value."""
    names = list(columns)
    counts = ", ".join(f"count({checked(c, columns)})" for c in names)
    row = cur.execute(f"SELECT {counts} FROM adsl").fetchone() or ()
    return frozenset(c for c, k in zip(names, row, strict=True) if int(k) > 0)


def censoring_counts(
    cur: duckdb.DuckDBPyConnection, subject: Subject, paramcd: str
) -> pd.DataFrame:
    """Distinct (AVAL, CNSR) of one endpoint among the patients in view, with their
    patient counts N: what competing risks need (the censoring reason, not only EVENT)."""
    where, params = subject
    return cur.execute(
        "SELECT AVAL, CNSR, count(*) AS N FROM adtte WHERE PARAMCD = ? AND USUBJID IN "
        f"(SELECT USUBJID FROM adsl WHERE {where}) GROUP BY ALL ORDER BY ALL",
        [paramcd, *params],
    ).df()


def subject_rows(
    cur: duckdb.DuckDBPyConnection,
    subject: Subject,
    wanted: Sequence[str],
    columns: Mapping[str, str],
) -> pd.DataFrame:
    """The `wanted` subject columns (those the table has) of the patients in view,
    one row per patient in USUBJID order."""
    where, params = subject
    select = ", ".join(checked(c, columns) for c in wanted if c in columns)
    return cur.execute(
        f"SELECT {select} FROM adsl WHERE {where} ORDER BY USUBJID", list(params)
    ).df()


def endpoint_rows(
    cur: duckdb.DuckDBPyConnection, subject: Subject, endpoints: Sequence[str]
) -> pd.DataFrame:
    """Every ADTTE row of `endpoints` for the patients in view."""
    where, params = subject
    marks = ", ".join("?" for _ in endpoints)
    return cur.execute(
        f"SELECT * FROM adtte WHERE PARAMCD IN ({marks}) AND USUBJID IN "
        f"(SELECT USUBJID FROM adsl WHERE {where}) ORDER BY USUBJID, PARAMCD",
        [*endpoints, *params],
    ).df()


def value_event_counts(
    cur: duckdb.DuckDBPyConnection,
    subject: Subject,
    paramcd: str,
    column: str,
    columns: Mapping[str, str],
) -> pd.DataFrame:
    """Distinct (V = value of `column`, AVAL, EVENT) of one endpoint among the patients
    in view, with their patient counts N (from the analysis table, one row per patient
    and endpoint)."""
    where, params = subject
    return cur.execute(
        f"SELECT {checked(column, columns)} AS V, AVAL, EVENT, count(*) AS N FROM tte_wide "
        f"WHERE PARAMCD = ? AND {where} GROUP BY ALL ORDER BY ALL",
        [paramcd, *params],
    ).df()


def endpoint_name(cur: duckdb.DuckDBPyConnection, subject: Subject, paramcd: str) -> str | None:
    """The endpoint's PARAM as a patient-by-patient reading gives it: the first
    non-empty PARAM (by patient) among the patients in view; None when there is none."""
    found = cur.execute(
        "SELECT count(DISTINCT PARAM) FROM adtte WHERE PARAMCD = ?", [paramcd]
    ).fetchone()
    kinds = int(found[0]) if found else 0
    if kinds == 0:
        return None
    if kinds == 1:
        # one name for every record that has one: any of them will do
        row = cur.execute(
            "SELECT PARAM FROM adtte WHERE PARAMCD = ? AND PARAM IS NOT NULL LIMIT 1", [paramcd]
        ).fetchone()
    else:
        where, params = subject
        row = cur.execute(
            "SELECT PARAM FROM adtte WHERE PARAMCD = ? AND PARAM IS NOT NULL AND USUBJID IN "
            f"(SELECT USUBJID FROM adsl WHERE {where}) ORDER BY USUBJID LIMIT 1",
            [paramcd, *params],
        ).fetchone()
    return None if row is None else str(row[0])


# A missing study or site identifier reads '' in both site queries, so their frames join
# on plain strings ('' is no identifier: a site without one is not compared).
_STUDY = "COALESCE(CAST(STUDYID AS VARCHAR), '') AS STUDY"
_SITE = "COALESCE(CAST(SITEID AS VARCHAR), '') AS SITE"


def site_sizes(cur: duckdb.DuckDBPyConnection, subject: Subject) -> pd.DataFrame:
    """Patients in view per (STUDY, SITE), column N: one scan of the subject table."""
    where, params = subject
    return cur.execute(
        f"SELECT {_STUDY}, {_SITE}, count(*) AS N FROM adsl WHERE {where} "
        "GROUP BY ALL ORDER BY ALL",
        list(params),
    ).df()


def site_times(
    cur: duckdb.DuckDBPyConnection,
    subject: Subject,
    paramcd: str,
    day: float,
    competing: Sequence[int],
) -> pd.DataFrame:
    """Per (STUDY, SITE): distinct (AVAL, CODE) with patient counts N; CODE 1 = the
    event (CNSR 0), 2 = a competing event (CNSR in `competing`), 0 = censored. Times
    after `day` are folded into one censored time, day + 1."""
    where, params = subject
    marks = ", ".join("?" for _ in competing)
    sql = (
        f"WITH s AS (SELECT USUBJID, {_STUDY}, {_SITE} FROM adsl WHERE {where}) "
        "SELECT s.STUDY, s.SITE, CASE WHEN t.AVAL > ? THEN ? ELSE t.AVAL END AS AVAL, "
        "CASE WHEN t.AVAL > ? THEN 0 WHEN t.CNSR = 0 THEN 1 "
        f"WHEN t.CNSR IN ({marks}) THEN 2 ELSE 0 END AS CODE, count(*) AS N "
        "FROM adtte t JOIN s ON s.USUBJID = t.USUBJID WHERE t.PARAMCD = ? "
        "GROUP BY ALL ORDER BY ALL"
    )
    return cur.execute(sql, [*params, day, day + 1, day, *competing, paramcd]).df()
