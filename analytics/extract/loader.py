"""Loading an extract into DuckDB, with a row-level account of what was read, used
and rejected.

An extract is a folder holding `adsl` and `adtte` (or one `wide` file), with
`visits` and `adae` optional, each as CSV, Parquet, SAS transport or Excel; or a
registry: a folder of such folders. A mapping file renames columns and recodes
values first (mapping.py). Every file is staged (stage.py), typed by SQL casts
(typed.py), checked row by row (check_rows.py, with the rules of validate.py) and
across tables (check_tables.py), and only then becomes the
tables `adsl`, `adtte`, `visits`, `adae` that the app reads. Parquet files stay
views, so a million rows are never copied into memory.

Nothing is silently dropped: a row that cannot be used is rejected with an issue
naming file, row, column and value, and kept in `__rejected_rows_<n>` for download;
for every file, rows read = rows used + rows rejected. A value that cannot be read
in an optional column is kept as missing with a warning.
"""

from __future__ import annotations

import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from analytics.extract.check_rows import (
    apply_row_rules,
    duplicates,
    key_probe,
    structure,
    subject_keys,
    subject_probe,
)
from analytics.extract.check_tables import (
    cross_checks,
    patency_nesting,
    subjects,
    unknown_subjects_after_all,
    visit_order,
)
from analytics.extract.discovery import Layout, discover
from analytics.extract.issues import DataIssue, FileReport
from analytics.extract.loading import (
    DUPLICATE_KEYS,
    SUBJECT_TABLES,
    Engine,
    Load,
    LoadFile,
)
from analytics.extract.pivot import Pivot, alignable, endpoint_pivot, misaligned, tte_rows
from analytics.extract.report import file_reports, keep_rejected_rows, list_issues, usability
from analytics.extract.stage import plan_all, stage_all
from analytics.extract.tables import (
    analysis_table,
    analysis_views,
    drop_empty_endpoints,
    drop_subject_table,
    final_table,
    release_copies,
    wide_views,
)
from analytics.extract.typed import typed_view
from analytics.model.schema import ADSL, TABLES


@dataclass(frozen=True)
class LoadResult:
    reports: list[FileReport]
    issues: list[DataIssue]
    unusable: str  # why the extract cannot be analysed, "" when it can
    layout: Layout
    # the extract's own words, {"columns": {...}, "values": {...}} (Load.column_labels)
    labels: dict[str, object] = field(default_factory=dict)


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
        return run(Load(con, layout, Path(work), engine))


def run(load: Load) -> LoadResult:
    load.setup()
    stage_all(load)
    # One transaction from here: hundreds of small statements would otherwise each
    # commit. Not before: a staged table's rowid is its row number only once committed.
    load.sql("BEGIN TRANSACTION")
    plan_all(load)
    for src in load.srcs:
        with load.reading(src):
            typed_view(load, src)
    # the views are committed so that a second connection can probe the keys (of the
    # dependent files, then of the subjects) while this one runs the row rules
    load.sql("COMMIT")
    load.sql("BEGIN TRANSACTION")
    # a time-to-event file that may line up with the subjects is probed only if it
    # does not (checks_and_tables): counting the distinct keys of tens of millions of
    # rows costs seconds and hundreds of MB beside the build
    aligned = alignable(load)
    with ThreadPoolExecutor(max_workers=1) as pool:
        load.background = pool
        load.probes = {src.id: pool.submit(key_probe, load, src)
                       for src in load.srcs if src.table in DUPLICATE_KEYS and src is not aligned}
        return checks_and_tables(load)


def tte_duplicates(load: Load) -> None:
    for src in load.srcs:
        if src.table == "adtte":
            with load.reading(src):
                duplicates(load, src)


def one_pass_copy(load: Load, subject_srcs: list[LoadFile],
                  adtte_srcs: list[LoadFile]) -> bool:
    """The subject rows copied once, each with its endpoints as columns, in one pass
    over the files; False (and nothing left of it) when a subject identifier repeats.

    With no identifier repeated (the usual case), the analysis table is then the
    subject table, and nothing checked later can change it: the only rows the checks
    across tables reject are those of unknown or rejected subjects, which a join from
    the accepted subjects of the same study never takes. Otherwise the subject rows
    must be copied and their keys checked first, and the endpoints joined onto them at
    the end (`checks_and_tables`).

    The copy runs on one thread (a positional join does not run in parallel), so what
    decides whether it stands runs beside it, on a connection of its own: the probe of
    the subject identifiers, and the full line-up check of endpoints read by position
    (`endpoint_pivot`). Should either fail, the copy is dropped and made again, at the
    cost of one copy for data that needs the slower path anyway."""
    background = load.background
    assert background is not None
    probe: Future[int] | None = None
    lineup: Future[tuple[int, ...]] | None = None
    alone = subject_srcs[0] if len(subject_srcs) == 1 else None
    misaligned_before: set[int] = set()
    while True:
        wide_views(load)
        with load.reading(*subject_srcs, *adtte_srcs):
            pivot = endpoint_pivot(load, tte_rows(load), subject=alone,
                                   known_misaligned=misaligned_before, defer=True)
            # Endpoints lined up with the subjects hold one row per patient each:
            # when all do, no (USUBJID, PARAMCD) repeats and there is nothing to look
            # for. Otherwise repeated endpoints of a patient are rejected before they
            # are pivoted (and the pivot is made again over what is left).
            if pivot.hashed:
                rejected = load.scalar("SELECT count(*) FROM __rejected")
                tte_duplicates(load)
                if load.scalar("SELECT count(*) FROM __rejected") > rejected:
                    load.sql("DROP TABLE __tte_codes")
                    pivot = endpoint_pivot(load, tte_rows(load), subject=alone,
                                           known_misaligned=misaligned_before)
            lineup = None

            def start(pivot: Pivot = pivot) -> None:
                nonlocal probe, lineup
                # started with the copy, not before: on two cores, the copy and
                # these then share the machine with nothing else
                if probe is None:
                    probe = background.submit(subject_probe, load, subject_srcs)
                if lineup is None and pivot.unverified:
                    lineup = background.submit(_misaligned_beside, load, pivot)

            final_table(load, ADSL, subject_srcs, endpoints=pivot, beside=start)
            start()  # when there was no copy with endpoints to start them
            assert probe is not None
            repeated = probe.result() != 0
            late = lineup.result() if lineup is not None else ()
        if not repeated and not late:
            analysis_views(load, "__adsl_data")
            return True
        drop_subject_table(load)
        if repeated:
            return False
        misaligned_before.update(late)


def _misaligned_beside(load: Load, pivot: Pivot) -> tuple[int, ...]:
    cursor = load.con.cursor()
    try:
        return misaligned(cursor, pivot)
    finally:
        cursor.close()


def checks_and_tables(load: Load) -> LoadResult:
    for src in load.srcs:
        with load.reading(src):
            structure(load, src)
            apply_row_rules(load, src)
    subject_srcs = [s for s in load.srcs if s.table in SUBJECT_TABLES]
    adtte_srcs = [s for s in load.srcs if s.table in ("adtte", "wide")]
    one_pass = bool(subject_srcs) and one_pass_copy(load, subject_srcs, adtte_srcs)
    if not one_pass:
        tte_duplicates(load)
        with load.reading(*subject_srcs):
            # the subject table is copied once, then its keys are checked on the copy
            # (without reading the files again)
            final_table(load, ADSL, subject_srcs)
            subject_keys(load, subject_srcs)
        wide_views(load)
    subjects(load)
    deferred: list[LoadFile] = []
    for name in ("adtte", "visits", "adae"):
        deps = [s for s in load.srcs if s.table == name]
        for src in deps:
            with load.reading(src):
                if name != "adtte":
                    duplicates(load, src)
                if not cross_checks(load, src, defer=name == "adtte"):
                    deferred.append(src)
                if name == "adtte":
                    patency_nesting(load, src)
                elif name == "visits":
                    visit_order(load, src)
        derived = [s for s in load.srcs if s.table == "wide"] if name == "adtte" else []
        with load.reading(*deps, *derived):
            final_table(load, TABLES[name], deps, derived)
    if deferred or one_pass:
        with load.reading(*adtte_srcs):
            if not one_pass:
                analysis_table(load)
            unknown_subjects_after_all(load, deferred)
            if one_pass:
                drop_empty_endpoints(load)
    with load.reading(*load.srcs):
        issues = load.notes + list_issues(load)
        reports = file_reports(load)
        keep_rejected_rows(load)
        unusable = usability(load, reports)
    release_copies(load)
    if not deferred and not one_pass:
        with load.reading(*adtte_srcs):
            analysis_table(load)
    load.sql("DROP TABLE __hits")
    load.sql("DROP TABLE __details")
    load.sql("COMMIT")
    order = {s.label: i for i, s in enumerate(load.srcs)}
    issues.sort(key=lambda i: (order.get(i.file, -1), i.file,
                               -1 if i.row is None else i.row, i.column or "", i.message))
    labels = {"columns": load.column_labels, "values": load.value_labels}
    return LoadResult(reports, issues, unusable, load.layout, labels)
