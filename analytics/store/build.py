"""Building the store: an extract is loaded into a new DuckDB file, once per data
fingerprint and loader version, in the cache folder; later processes reuse it.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path

import duckdb

from analytics.extract.discovery import discover
from analytics.extract.issues import DataError
from analytics.extract.loader import load_extract
from analytics.model.provenance import fingerprint_files
from analytics.store.cache import cache_folder, evict_after_build, mark_used
from analytics.store.queries import endpoint_names

# makes the database of (src, dest, mapping) at dest
Builder = Callable[[Path, Path, Path | None], object]

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEMO_DIR = PROJECT_ROOT / "data" / "demo"
MANIFEST = "dataset.json"
SCHEMA_VERSION = "9"


def cache_dir() -> Path:
    """The folder of built databases: `$DVA_CACHE_DIR`, else the user's cache folder
    (`analytics.store.cache`), never the project folder."""
    return cache_folder()


def _source_files(src: Path, mapping: Path | None = None) -> list[Path]:
    """Every file the database is built from: tables, mapping files, the manifest."""
    return list(discover(src, mapping).files)


def read_manifest(src: Path) -> dict[str, object]:
    """The extract's `dataset.json`; an extract given as one file has none (the folder
    around it is not the extract's), and is named after the file."""
    path = src / MANIFEST
    if not src.is_dir() or not path.exists():
        return {"name": src.name, "synthetic": False}
    try:
        data: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataError(f"{path.name}: not valid JSON ({exc})") from None
    return data


def build_database(src: Path, dest: Path, mapping: Path | None = None) -> Path:
    """Load the extract in `src` (a folder, or one file) into a new DuckDB file at `dest`
    (atomically).

    An extract that loads but leaves no usable patient or time-to-event row is still
    written (its report is what the user needs); `Store.open` refuses it.
    """
    files = _source_files(src, mapping)
    fingerprint = fingerprint_files(files)
    manifest = read_manifest(src)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=dest.name, suffix=".tmp", dir=dest.parent)
    os.close(fd)
    os.unlink(tmp_name)
    try:
        with duckdb.connect(tmp_name) as con:
            con.execute("SET enable_progress_bar = false")
            # FSST compression costs more CPU than the whole load for columns of unique
            # identifiers; the cache file is larger without it, queries are as fast
            con.execute("SET disabled_compression_methods = 'fsst'")
            # DuckDB would otherwise cache up to 80% of the machine's memory while it
            # builds; past this it spills to disk (the app's own queries are not limited)
            con.execute("SET memory_limit = ?", [os.environ.get("DVA_BUILD_MEMORY", "512MB")])
            result = load_extract(con, src, mapping)  # builds tte_wide too
            reports, issues = result.reports, result.issues
            con.execute(
                "CREATE TABLE file_report (tbl VARCHAR, file VARCHAR, format VARCHAR, "
                "rows_read BIGINT, rows_used BIGINT, rows_rejected BIGINT)"
            )
            con.executemany(
                "INSERT INTO file_report VALUES (?, ?, ?, ?, ?, ?)",
                [
                    [r.table, r.file, r.format, r.rows_read, r.rows_used, r.rows_rejected]
                    for r in reports
                ],
            )
            con.execute(
                "CREATE TABLE data_issues (seq INTEGER, file VARCHAR, row_id BIGINT, "
                "col VARCHAR, value VARCHAR, severity VARCHAR, message VARCHAR)"
            )
            if issues:
                # seq keeps the loader's order: by file, file-level problems first, then rows
                con.executemany(
                    "INSERT INTO data_issues VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        [n, i.file, i.row, i.column, i.value, i.severity, i.message]
                        for n, i in enumerate(issues)
                    ],
                )
            con.execute("CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
            meta = {
                "fingerprint": fingerprint,
                "schema_version": SCHEMA_VERSION,
                "source": str(manifest.get("name", src.name)),
                "synthetic": "Y" if manifest.get("synthetic") else "N",
                "registry": "Y" if result.layout.registry else "N",
                "notice": str(manifest.get("notice", "")),
                "manifest": json.dumps(manifest, sort_keys=True),
                "unusable": result.unusable,
                "labels": json.dumps(result.labels, sort_keys=True),
                # read once here: finding them means scanning every time-to-event row,
                # which every opening of a registry's store would otherwise pay
                "endpoint_names": json.dumps(endpoint_names(con), sort_keys=True),
            }
            con.executemany("INSERT INTO meta VALUES (?, ?)", list(meta.items()))
        os.replace(tmp_name, dest)
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
    return dest


@cache
def _loader_version() -> str:
    """A hash of the loader's own code: a changed check or message must not be hidden
    by a database built by the earlier code."""
    h = hashlib.sha256()
    package = Path(__file__).resolve().parents[1]
    for step in ("model", "extract", "store"):
        for path in sorted((package / step).rglob("*.py")):
            h.update(path.read_bytes())
    return h.hexdigest()[:8]


def database_for(
    src: Path,
    mapping: Path | None = None,
    cache: Path | None = None,
    build: Builder = build_database,
) -> Path:
    """Path of the database built from `src`, a folder or one file (with an explicit
    mapping file, if given), building it on first use, in `cache` (default `cache_dir()`).
    A build in the default folder is followed by eviction of the least recently used
    databases beyond the cache's size limit (`analytics.store.cache`); a folder given as
    `cache` (an upload's own) is left to its owner. `build` makes the file (the dashboard
    passes one that runs `build_database` in a worker process).

    The file name carries the data fingerprint, so changed data gets a new
    database and concurrent processes never see a half-written file.
    """
    src = Path(src).resolve()
    mapping = Path(mapping).resolve() if mapping is not None else None
    fingerprint = fingerprint_files(_source_files(src, mapping))
    # Parquet tables stay views over their files, so the location is part of the key;
    # so is an explicit mapping file's.
    where = hashlib.sha256(f"{src}\0{mapping or ''}".encode()).hexdigest()[:8]
    folder = cache if cache is not None else cache_dir()
    dest = folder / (
        f"{src.name}-{SCHEMA_VERSION}.{_loader_version()}-{fingerprint[:16]}-{where}.duckdb"
    )
    if dest.exists():
        # found is as good as used: an eviction elsewhere now sees it as the newest
        mark_used(dest)
        return dest
    build(src, dest, mapping)
    if cache is None:
        evict_after_build(dest)
    return dest
