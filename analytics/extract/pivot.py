"""Each patient's endpoints as columns (`Pivot`): which endpoints there are, and how
each one's time and event reach its patient's row, by position when the time-to-event
rows line up with the subject rows, otherwise by identifier.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import duckdb

from analytics.extract.loading import Load, LoadFile

# Rows compared before an endpoint is read by position (`endpoint_pivot`): a file in
# another order, or with a patient short of an endpoint, usually differs this early
PREFIX_ROWS = 100_000


@dataclass(frozen=True)
class Pivot:
    """Each patient's endpoints as columns: per endpoint k (`__tte_codes`), its time
    `__t<k>` and event flag `__e<k>`. The endpoints in `aligned` are read by position
    (`aligned_sql`, bound to `params`); the others (`hashed`) by identifier, from `sql`,
    one row per (__study, USUBJID).

    `unverified` are aligned endpoints whose rows are still to be compared with the
    subjects' in full (`misaligned`, by `check_sql` with the endpoint's code bound): the
    caller runs that beside the copy that reads them, and copies again if any differs."""

    codes: tuple[str, ...]
    sql: str
    hashed: tuple[int, ...]
    aligned_sql: tuple[tuple[int, str], ...] = ()
    params: tuple[object, ...] = ()
    unverified: tuple[int, ...] = ()
    check_sql: str = ""

    def columns(self, alias: str) -> str:
        # the column names are built from the endpoints' positions, never from their codes
        out = []
        for k in range(len(self.codes)):
            a = f"a{k}" if k not in self.hashed else alias
            out.append(f"{a}.__t{k}, {a}.__e{k}")
        return ", ".join(out)

    def positional(self) -> str:
        return "".join(f" POSITIONAL JOIN ({sql}) a{k}" for k, sql in self.aligned_sql)


def misaligned(con: duckdb.DuckDBPyConnection, pivot: Pivot) -> tuple[int, ...]:
    """The `unverified` endpoints of `pivot` whose rows, in file order, do not name
    exactly the subjects in theirs; run on a connection of its own (`con`)."""
    return tuple(k for k in pivot.unverified if _differs(con, pivot.check_sql, pivot.codes[k]))


def tte_rows(load: Load) -> str:
    """SQL: (__study, USUBJID, PARAMCD, AVAL, CNSR) of every time-to-event row accepted
    so far, read from the typed files (and the rows derived from wide files). Rows of
    unknown or rejected subjects are among them until the checks across tables reject
    them; a join from the subjects of the same study leaves them out by itself."""
    parts = [
        f'SELECT {src.study} AS __study, "USUBJID", "PARAMCD", "AVAL", "CNSR" '
        f"FROM {src.typed} WHERE {load.accepted(src)}"
        for src in load.srcs
        if src.table == "adtte"
    ] + [
        f'SELECT {src.study} AS __study, "USUBJID", "PARAMCD", "AVAL", "CNSR" '
        f'FROM "__wide_tte_{src.id}"'
        for src in load.srcs
        if src.table == "wide"
    ]
    if not parts:
        return (
            'SELECT 0 AS __study, CAST(NULL AS VARCHAR) AS "USUBJID", CAST(NULL AS '
            'VARCHAR) AS "PARAMCD", CAST(NULL AS DOUBLE) AS "AVAL", '
            'CAST(NULL AS INTEGER) AS "CNSR" WHERE false'
        )
    return " UNION ALL ".join(parts)


def endpoint_pivot(
    load: Load,
    rows: str,
    by_study: bool = True,
    subject: LoadFile | None = None,
    known_misaligned: Collection[int] = (),
    defer: bool = False,
) -> Pivot:
    """`__tte_codes` (the endpoints of `rows`, numbered in code order), and how to put
    each patient's endpoints beside the patient (`Pivot`). Times are stored as
    integers when every one is a whole number of days (grouping integers is cheaper);
    readers cast them back. Rows with the same (USUBJID, PARAMCD) were rejected as
    duplicates before this, so one value per patient and endpoint is all there is to
    keep.

    With `subject` (the one subject file, beside one time-to-event file), an endpoint
    whose rows, in file order, name exactly the subject file's patients in theirs is
    read by position (`aligned`): registry exports are written so (by endpoint, or by
    patient with every endpoint), and matching ten million identifiers by hash costs
    many times the scan. Each endpoint is checked over the very rows it is read from:
    its first `PREFIX_ROWS` rows here, the rest here too unless `defer` (then the
    endpoint is `unverified`). Deferring needs rows that another connection reads
    alike: none of either file rejected in this transaction. The endpoints in
    `known_misaligned` (found so before) are read by identifier."""
    src = alignable(load) if subject is not None else None
    if src is None or subject is None or subject.table != "adsl" or src.study != subject.study:
        src = subject = None
    codes, whole = _codes(load.con, rows)
    mismatched = [True] * len(codes)
    unverified: list[int] = []
    check_sql = src_rows = ""
    if src is not None and subject is not None:
        subject_rows, src_rows = load.accepted(subject), load.accepted(src)
        full = _check_sql(subject, subject_rows, src, src_rows)
        prefix = _check_sql(subject, subject_rows, src, src_rows, PREFIX_ROWS)
        later = defer and not (load.rejected_any(subject) or load.rejected_any(src))
        for k, code in enumerate(codes):
            if k in known_misaligned or _differs(load.con, prefix, code):
                continue
            if later:
                unverified.append(k)
                mismatched[k] = False
            else:
                mismatched[k] = _differs(load.con, full, code)
        check_sql = full if unverified else ""
    load.sql("CREATE TABLE __tte_codes (k INTEGER, PARAMCD VARCHAR)")
    if codes:
        load.con.executemany(
            "INSERT INTO __tte_codes VALUES (?, ?)", [[k, c] for k, c in enumerate(codes)]
        )
    aligned = {
        k: f'SELECT {_aval(whole, "")} AS __t{k}, CAST("CNSR" = 0 AS INTEGER) AS __e{k} '
        f"{_endpoint_rows(src, src_rows)}"
        for k in range(len(codes))
        if src is not None and not mismatched[k]
    }
    hashed = tuple(k for k in range(len(codes)) if k not in aligned)
    aval = _aval(whole, "t.")
    pivot = ", ".join(
        f"max({aval}) FILTER (WHERE c.k = {k}) AS __t{k}, "
        f"max(CAST(t.CNSR = 0 AS INTEGER)) FILTER (WHERE c.k = {k}) AS __e{k}"
        for k in hashed
    )
    study = "t.__study" if by_study else "0"
    sql = (
        (
            f"SELECT {study} AS __study, t.USUBJID, {pivot} FROM ({rows}) t "
            f"JOIN __tte_codes c USING (PARAMCD) WHERE c.k IN ({', '.join(map(str, hashed))}) "
            "GROUP BY ALL"
        )
        if hashed
        else ""
    )
    order = sorted(aligned)
    return Pivot(
        codes,
        sql,
        hashed,
        tuple((k, aligned[k]) for k in order),
        tuple(codes[k] for k in order),
        tuple(unverified),
        check_sql,
    )


def alignable(load: Load) -> LoadFile | None:
    """The time-to-event file whose endpoints may be read by position: the only one,
    beside one subject file of the same study (and no wide file)."""
    subject = [s for s in load.srcs if s.table in ("adsl", "wide")]
    tte = [s for s in load.srcs if s.table in ("adtte", "wide")]
    if (
        len(subject) != 1
        or len(tte) != 1
        or subject[0].table != "adsl"
        or tte[0].table != "adtte"
        or tte[0].study != subject[0].study
    ):
        return None
    return tte[0]


def _aval(whole: bool, alias: str) -> str:
    return f"CAST({alias}AVAL AS INTEGER)" if whole else f"{alias}AVAL"


def _codes(con: duckdb.DuckDBPyConnection, rows: str) -> tuple[tuple[str, ...], bool]:
    """The endpoint codes of `rows`, and whether every time is a whole number of days."""
    found = con.execute(
        "SELECT list(DISTINCT PARAMCD ORDER BY PARAMCD) FILTER (WHERE PARAMCD IS NOT NULL), "
        "coalesce(bool_and(AVAL = floor(AVAL) AND abs(AVAL) < 2147483647), true) "
        f"FROM ({rows})"
    ).fetchone()
    codes = tuple(str(c) for c in (found[0] or [])) if found else ()
    return codes, bool(found[1]) if found else True


def _endpoint_rows(src: LoadFile, accepted: str) -> str:
    """FROM and WHERE of one endpoint's `accepted` rows of `src` (the code bound)."""
    # the same rows either way; the raw column's filter skips, in a file sorted by
    # endpoint, the row groups of the other endpoints
    code = '"__raw_PARAMCD"' if "PARAMCD" in src.plain else '"PARAMCD"'
    return f"FROM {src.typed} WHERE {accepted} AND {code} = ?"


def _check_sql(
    subject: LoadFile, subject_rows: str, src: LoadFile, src_rows: str, limit: int = 0
) -> str:
    """SQL giving a row when one endpoint's rows of `src` (those meeting `src_rows`, the
    code bound), in file order, fail to name exactly the subjects (meeting
    `subject_rows`) in theirs; with `limit`, within the first `limit` rows of each."""
    # One endpoint at a time: the joined side is held whole (the subjects'
    # identifiers), the endpoint's rows stream past it and the first mismatch ends the
    # scan. A positional join pads the shorter side with NULLs: a missing or extra row
    # is a mismatch like a different identifier.
    cap = f" LIMIT {int(limit)}" if limit else ""
    subject_ids = f'SELECT "USUBJID" AS u FROM {subject.typed} WHERE {subject_rows}{cap}'
    rows = _endpoint_rows(src, src_rows)
    return (
        f'SELECT 1 FROM (SELECT "USUBJID" AS u {rows}{cap}) x POSITIONAL JOIN '
        f"({subject_ids}) s WHERE s.u IS NULL OR x.u IS NULL OR s.u <> x.u LIMIT 1"
    )


def _differs(con: duckdb.DuckDBPyConnection, check_sql: str, code: str) -> bool:
    return con.execute(check_sql, [code]).fetchone() is not None
