"""Staging: every file of the extract read into DuckDB as text (`stage`, by format),
and its header matched to the data model's columns (`plan`): renamed by the mapping,
required columns checked, extra columns kept, unusable names reported.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from analytics.extract.discovery import Source
from analytics.extract.issues import DataError, DataIssue
from analytics.extract.loading import (
    REQUIRED_COLUMNS,
    SUBJECT_TABLES,
    Load,
    LoadFile,
)
from analytics.extract.read_csv import stage_csv
from analytics.extract.read_excel import stage_xlsx
from analytics.extract.read_parquet import stage_parquet
from analytics.extract.read_sas import stage_xpt
from analytics.extract.rules import TABLES_ALL
from analytics.extract.staged import Staged, drop_relations


def stage(con: duckdb.DuckDBPyConnection, source: Source, rel: str, workdir: Path) -> Staged:
    """Read one source into relation `rel` (laid out as staged.py says). When the file
    cannot be read, nothing of it is left behind: the name is free for the next file."""
    try:
        if source.fmt == "csv":
            return stage_csv(con, source, rel, workdir)
        if source.fmt == "parquet":
            return stage_parquet(con, source, rel)
        if source.fmt == "xpt":
            return stage_xpt(con, source, rel)
        return stage_xlsx(con, source, rel)
    except BaseException:
        drop_relations(con, rel, f"{rel}_data")
        raise


VALID_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def stage_all(load: Load) -> None:
    errors: list[DataError] = []
    for study_no, study in enumerate(load.layout.studies):
        for source in study.sources:
            sid = len(load.srcs)
            try:
                staged = stage(load.con, source, f"__stage_{sid}", load.workdir)
            except DataError as exc:
                errors.append(exc)
                continue
            load.srcs.append(LoadFile(sid, study_no, staged, study.mapping))
            if staged.rows == 0:
                if source.table in ("adsl", "adtte", "wide"):
                    errors.append(DataError.of(source.label, "has a header but no rows"))
                else:
                    load.notes.append(DataIssue(source.label, None, None, None, "warning",
                                                "has a header but no rows"))
            load.notes += staged.notes
    if errors:
        raise DataError.collect(errors)


def plan_all(load: Load) -> None:
    errors: list[DataError] = []
    for src in load.srcs:
        try:
            plan(load, src)
        except DataError as exc:
            errors.append(exc)
    if errors:
        raise DataError.collect(errors)


def plan(load: Load, src: LoadFile) -> None:
    schema = TABLES_ALL[src.table]
    if src.mapping:
        load.column_labels.update(src.mapping.column_labels)
        for column, words in src.mapping.value_labels.items():
            load.value_labels.setdefault(column, {}).update(words)
    known = set(schema.names)
    renames = src.mapping.renames(src.table) if src.mapping else {}
    seen: dict[str, str] = {}
    for i, (name, sql_type) in enumerate(zip(src.staged.names, src.staged.types,
                                             strict=True), start=1):
        key = name.strip().upper()
        target = renames.get(key, key)
        if target in seen:
            how = (f" (renamed by {src.mapping.where_renamed(src.table, key)})"
                   if src.mapping and key in renames else "")
            raise DataError.of(
                src.label,
                f"columns {seen[target]!r} and {name!r}{how} would both be {target}; "
                "column names are matched whatever their case",
                target,
            )
        seen[target] = name
        if name in src.staged.labels:
            load.column_labels.setdefault(target, src.staged.labels[name])
        if target in known:
            src.present[target] = f"c{i}"
            src.src_types[target] = sql_type.upper()
        elif VALID_NAME.fullmatch(target):
            src.extras[target] = f"c{i}"
        else:
            what = f"column {i} has no name" if not name.strip() else (
                f"column {name!r} is not a plain column name (letters, digits and _, "
                "starting with a letter)")
            load.notes.append(DataIssue(src.label, None, name or None, None, "warning",
                                        f"{what}: not loaded; rename it in a mapping file "
                                        "to keep it"))
    missing = [c for c in REQUIRED_COLUMNS[src.table] if c not in src.present]
    if missing:
        names = src.staged.names
        hint = f"columns found: {', '.join(names[:12])}{', ...' if len(names) > 12 else ''}"
        if len(names) == 1 and any(d in names[0] for d in ";\t|,"):
            hint = f"the header is a single column, {names[0]!r}: is the delimiter right?"
        what = (f"required column {missing[0]} is missing" if len(missing) == 1 else
                f"required columns {', '.join(missing)} are missing")
        raise DataError.of(src.label, f"{what} ({hint})", missing[0])
    # a registry fills a missing STUDYID from the folder's name: not absent there;
    # nor is SITEID in a registry's subject file: a sub-folder is a site
    filled = {"STUDYID"} if load.layout.registry else set()
    if load.layout.registry and src.table in SUBJECT_TABLES and "SITEID" not in src.present:
        filled.add("SITEID")
        folder = load.layout.studies[src.study].name
        load.notes.append(DataIssue(
            src.label, None, "SITEID", None, "warning",
            f"SITEID not in the file: taken from the folder name {folder!r}"))
    absent = [c.name for c in schema.columns
              if c.name not in src.present and c.required and c.name not in filled]
    if absent:
        # one line, not one per column: foreign ADaM files lack dozens of them
        load.notes.append(DataIssue(
            src.label, None, None, None, "warning",
            f"column{'s' * (len(absent) > 1)} of the data model absent (every row has "
            f"{'them' if len(absent) > 1 else 'it'} missing): {', '.join(absent)}"))
