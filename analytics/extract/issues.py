"""What the loader says about an extract: problems (`DataIssue`), the per-file row
account (`FileReport`) and the error raised when an extract cannot be used at all.

Kept apart from the loader so that the mapping, format and validation modules can
all speak the same language without importing each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class DataIssue:
    """One problem: where (file, row, column), what (value) and how bad (severity).

    `row` counts data rows: the first row under the header is row 1. An error
    rejects the row; a warning keeps it as read. File-level problems have no row.
    """

    file: str
    row: int | None
    column: str | None
    value: str | None
    severity: Severity
    message: str

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "severity": self.severity,
            "message": self.message,
        }

    def __str__(self) -> str:
        where = ", ".join(
            p
            for p in (
                self.file,
                f"row {self.row}" if self.row is not None else "",
                f"column {self.column}" if self.column else "",
            )
            if p
        )
        val = f" (value {self.value!r})" if self.value is not None else ""
        return f"{where}: {self.message}{val}"


@dataclass(frozen=True)
class FileReport:
    table: str
    file: str
    format: str
    rows_read: int
    rows_used: int
    rows_rejected: int


class DataError(ValueError):
    """Data that cannot be loaded; the message names file, row and column.

    `issues` holds every file-level problem found before giving up, so that a
    report (``python -m analytics validate``) can list them all at once.
    """

    def __init__(self, message: str, issues: Sequence[DataIssue] = ()) -> None:
        super().__init__(message)
        self.issues: tuple[DataIssue, ...] = tuple(issues)

    @classmethod
    def of(cls, file: str, message: str, column: str | None = None) -> DataError:
        """An error about a whole file (or folder), with its issue attached."""
        issue = DataIssue(file, None, column, None, "error", message)
        return cls(str(issue), [issue])

    @classmethod
    def collect(cls, errors: Sequence[DataError]) -> DataError:
        """One error standing for several: the first message, and how many more."""
        issues = [i for e in errors for i in (e.issues or (_as_issue(e),))]
        first = str(errors[0])
        more = len(issues) - 1
        return cls(f"{first} (and {more} more problem{'s' * (more > 1)})" if more else first,
                   issues)


def _as_issue(error: DataError) -> DataIssue:
    return DataIssue("", None, None, None, "error", str(error))


def short_message(exc: object, path: Path | None = None, label: str = "") -> str:
    """An exception's message on one line, the file's full path replaced by its name
    (and without the SQL excerpt DuckDB appends, which says nothing to a user)."""
    text = " ".join(str(exc).split("\nLINE ")[0].split())
    if path is not None:
        for form in {str(path.resolve()), str(path)}:
            text = text.replace(form, label or path.name)
    return text[:300] + ("..." if len(text) > 300 else "")
