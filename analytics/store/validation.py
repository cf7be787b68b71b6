"""Validating an extract: building its database (through the cache, so that a later
summary reuses the work) and reading back the quality report, or, when the extract
never got as far as a database, the problems that stopped it.
"""

from __future__ import annotations

from pathlib import Path

from analytics.extract.issues import DataError, DataIssue
from analytics.extract.report import QualityReport
from analytics.store.build import database_for
from analytics.store.store import Store


def validate_extract(src: Path, mapping: Path | None = None) -> QualityReport:
    """Load `src` (through the database cache, so a later summary reuses the work) and
    report every problem; never raises for bad data."""
    return validate_into(src, mapping)[0]


def validate_into(
    src: Path, mapping: Path | None = None, cache: Path | None = None, label: str | None = None
) -> tuple[QualityReport, Path | None]:
    """`validate_extract` with the database kept in `cache` (default the cache folder),
    and that database (None when the data never got as far as one: it holds the rejected
    rows). `label` names the extract in a problem about the whole of it (default `src`)."""
    try:
        path = database_for(Path(src), mapping=mapping, cache=cache)
    except DataError as exc:
        where = label if label is not None else str(src)
        issues = exc.issues or (DataIssue(where, None, None, None, "error", str(exc)),)
        return QualityReport((), tuple(issues), str(src), False, str(exc)), None
    store = Store(path)
    try:
        quality = store.quality()
        reason = store.meta.get("unusable", "")
    finally:
        store.close()
    return quality.of_extract(str(src), reason), path
