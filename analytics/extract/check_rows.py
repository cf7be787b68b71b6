"""Checks row by row: rows the reader could not split, the row rules (validate.py),
and duplicate keys, within a file and, for subjects, across a registry's studies.
Errors reject the row; warnings keep it.
"""

from __future__ import annotations

import gc

import pandas as pd
import pyarrow as pa

from analytics.extract.issues import DataIssue
from analytics.extract.loading import (
    DUPLICATE_KEYS,
    Load,
    LoadFile,
    RuleInfo,
)
from analytics.extract.rules import row_rules
from analytics.extract.validate import (
    fetch_columns,
    hits_sql,
    internal,
    pandera_hits,
    pandera_schemas,
)
from analytics.model.filters import quote_ident

_BATCH_ROWS = 200_000


def structure(load: Load, src: LoadFile) -> None:
    """Rows the reader could not split into the header's columns are rejected."""
    rel = f'"{src.staged.relation}"'
    messages = [r[0] for r in load.sql(
        f"SELECT DISTINCT __err FROM {rel} WHERE __err IS NOT NULL ORDER BY 1").fetchall()]
    for n, message in enumerate(messages):
        rule_id = f"{src.id}.structure.{n}"
        load.register(rule_id, RuleInfo(None, "error", str(message), "t.__extra"))
        load.sql(f"INSERT INTO __hits SELECT ?, __row, ? FROM {rel} WHERE __err = ?",
                 [src.id, rule_id, message])
    if messages:
        load.reject_errors(src)


def apply_row_rules(load: Load, src: LoadFile) -> None:
    present = set(src.present)
    if src.table == "adtte" and {"ADT", "STARTDT", "AVAL"} <= present:
        inclusive_days(load, src)
    src.rules = row_rules(src.table, present, src.skip)
    if not src.rules:
        return
    for rule in src.rules:
        load.register_row_rule(rule)
    engine = load.engine
    if engine == "auto":
        engine = "sql" if src.parquet else "pandas"
    if engine == "sql":
        load.sql(f"INSERT INTO __hits SELECT {src.id}, row, rule FROM "
                 f"({hits_sql(src.rules, src.typed)})")
    else:
        pandas_rules(load, src)
    load.reject_errors(src)


def pandas_rules(load: Load, src: LoadFile) -> None:
    cols = fetch_columns(src.rules, src.types)
    select = ", ".join(f'{expr} AS "{name}"' for name, expr in cols.items())
    schemas = pandera_schemas(src.rules)
    found: list[pd.DataFrame] = []
    # the batches stream from the load's own transaction; nothing else runs on the
    # connection until the reader is exhausted
    reader = load.con.execute(
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
        load.con.register("_hits_frame", hits[["src", "row", "rule"]])
        try:
            load.sql("INSERT INTO __hits SELECT src, row, rule FROM _hits_frame")
        finally:
            load.con.unregister("_hits_frame")
    # Arrow's allocator keeps the batches' memory for reuse; a million rows' worth
    # would stay with the process for the rest of the build
    gc.collect()
    pa.default_memory_pool().release_unused()


def inclusive_days(load: Load, src: LoadFile) -> None:
    """ADaM files often count AVAL inclusively (ADT = STARTDT + AVAL - 1). When every
    row does, say so once rather than once per row."""
    row = load.sql(
        "SELECT count(*) FILTER (WHERE (\"ADT\" - \"STARTDT\") = \"AVAL\" - 1), "
        "count(*) FILTER (WHERE \"ADT\" IS NOT NULL AND \"STARTDT\" IS NOT NULL AND "
        f"\"AVAL\" IS NOT NULL) FROM {src.typed} WHERE __err IS NULL"
    ).fetchone()
    if row and row[1] and row[0] == row[1]:
        src.skip.add("adtte.adt")
        load.notes.append(DataIssue(
            src.label, None, "AVAL", None, "warning",
            "every row counts AVAL inclusively (ADT = STARTDT + AVAL - 1) where the data "
            "model counts days from STARTDT (ADT = STARTDT + AVAL): times are analysed as "
            "given, one day longer"))


def duplicate_key(load: Load, src: LoadFile) -> tuple[str, str] | None:
    keys = [k for k in DUPLICATE_KEYS[src.table] if k in src.present]
    if len(keys) < len(DUPLICATE_KEYS[src.table]):
        return None
    return (", ".join(quote_ident(k) for k in keys),
            " AND ".join(f"{quote_ident(k)} IS NOT NULL" for k in keys))


def key_probe(load: Load, src: LoadFile) -> int:
    """Rows minus distinct key hashes over every readable row, on a connection of its
    own (run beside the main one). As many distinct hashes of the key as rows proves
    every key distinct (equal keys hash alike), and counting hashes is cheaper than
    grouping strings. 0 means no duplicate, whatever is rejected later."""
    keys = duplicate_key(load, src)
    if keys is None:
        return 0
    cols, not_null = keys
    cursor = load.con.cursor()
    try:
        row = cursor.execute(f"SELECT count(*) - count(DISTINCT hash({cols})) FROM "
                             f"{src.typed} WHERE __err IS NULL AND {not_null}").fetchone()
    finally:
        cursor.close()
    return int(row[0]) if row and row[0] is not None else 0


def subject_probe(load: Load, srcs: list[LoadFile]) -> int:
    """As `key_probe`, for the subject identifiers of all the subject files together
    (a registry's studies share one identifier space): 0 proves that no identifier
    repeats, so the subject rows can be joined to their endpoints as they are copied."""
    if not srcs:
        return 0
    union = " UNION ALL ".join(f'SELECT "USUBJID" FROM {s.typed} WHERE __err IS NULL'
                               for s in srcs)
    cursor = load.con.cursor()
    try:
        row = cursor.execute('SELECT count("USUBJID") - count(DISTINCT hash("USUBJID")) '
                             f"FROM ({union})").fetchone()
    finally:
        cursor.close()
    return int(row[0]) if row and row[0] is not None else 0


def duplicates(load: Load, src: LoadFile) -> None:
    keys = duplicate_key(load, src)
    probe = load.probes.get(src.id)
    if keys is None or not (probe.result() if probe is not None else key_probe(load, src)):
        return
    cols, not_null = keys
    ok = load.accepted(src)
    # GROUP BY ... HAVING finds the offenders among the accepted rows; only their
    # rows are then ranked
    keys_list = DUPLICATE_KEYS[src.table]
    dupes = (f"SELECT {cols} FROM {src.typed} WHERE {ok} AND {not_null} "
             f"GROUP BY ALL HAVING count(*) > 1")
    if not load.scalar(f"SELECT count(*) FROM ({dupes})"):
        return
    rule_id = f"{src.table}.duplicate"
    what = " and ".join(keys_list)
    load.register(rule_id, RuleInfo(keys_list[-1], "error",
                                    f"duplicate {what}: an earlier row has the same",
                                    f"t.{internal('__raw_', keys_list[-1])}"))
    load.sql(
        "CREATE TEMP TABLE __dupes AS SELECT __row, first FROM ("
        f"SELECT t.__row, row_number() OVER (PARTITION BY {cols} ORDER BY t.__row) AS n, "
        f"min(t.__row) OVER (PARTITION BY {cols}) AS first "
        f"FROM {src.typed} t JOIN ({dupes}) d USING ({cols}) WHERE {load.accepted(src, 't')}"
        ") WHERE n > 1"
    )
    load.sql(f"INSERT INTO __hits SELECT {src.id}, __row, '{rule_id}' FROM __dupes")
    # each names the row it repeats (the first, which is kept)
    load.sql(f"INSERT INTO __details SELECT {src.id}, __row, '{rule_id}', "
             "? || first || ', which is kept' FROM __dupes",
             [f"duplicate {what}: also in row "])
    load.sql("DROP TABLE __dupes")
    load.reject_errors(src)


def subject_keys(load: Load, srcs: list[LoadFile]) -> None:
    """Duplicate subject identifiers, found on the copied subject table: within a
    study the first row is kept; a registry keeps the first study (in folder order)
    that uses an identifier, and rejects it in the later ones."""
    if not srcs:
        return
    # as many distinct hashes as identifiers proves them distinct (equal identifiers
    # hash alike), at a fraction of the cost of grouping the strings
    if load.scalar(
        'SELECT count("USUBJID") - count(DISTINCT hash("USUBJID")) FROM __adsl_data'
    ) == 0:
        return
    rows = load.sql(
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
            load.register(rule_id, RuleInfo(
                "USUBJID", "error", "duplicate USUBJID: an earlier row has the same",
                f"t.{internal('__raw_', 'USUBJID')}"))
            where = f"row {first_row}" if first is src else f"{first.label} row {first_row}"
            details.append((src.id, int(row), rule_id,
                            f"duplicate USUBJID: also in {where}, which is kept"))
        else:
            other = load.layout.studies[first.study].name
            rule_id = f"registry.collision.{first.study}"
            load.register(rule_id, RuleInfo(
                "USUBJID", "error",
                f"subject identifier is also used in study {other}: identifiers must be "
                "unique across the registry", f"t.{internal('__raw_', 'USUBJID')}"))
        hits.append((src.id, int(row), rule_id))
    load.con.executemany("INSERT INTO __hits VALUES (?, ?, ?)", [list(h) for h in hits])
    if details:
        load.con.executemany("INSERT INTO __details VALUES (?, ?, ?, ?)",
                             [list(d) for d in details])
    for src_id in sorted({h[0] for h in hits}):
        load.reject_errors(by_id[src_id])
    load.sql("DELETE FROM __adsl_data WHERE (__src, __row) IN "
             "(SELECT (src, row) FROM __rejected)")
