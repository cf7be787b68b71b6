"""The quality report (`QualityReport`), and how a load makes it: every issue (listed
per rule and file, at most `MAX_LISTED` rows each), the row account per file, the
rejected rows kept for download, and why an extract cannot be analysed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

from analytics.extract.issues import DataIssue, FileReport
from analytics.extract.loading import Load
from analytics.extract.rules import MAX_LISTED
from analytics.extract.typed import text_expr


@dataclass(frozen=True)
class QualityReport:
    """Every file's row account (rows read = rows used + rows rejected) and every issue.

    A report of a whole extract (`python -m analytics validate`, the Data page) also
    names the extract (`data`) and says whether it can be analysed, and if not why.
    """

    files: tuple[FileReport, ...]
    issues: tuple[DataIssue, ...]
    data: str = ""
    usable: bool = True
    reason: str = ""  # why the extract cannot be analysed, "" when it can

    def of_extract(self, data: str, reason: str = "") -> QualityReport:
        """This report as the report of the extract `data`, unusable for `reason`."""
        return replace(self, data=data, usable=not reason, reason=reason)

    def without_values(self) -> QualityReport:
        """This report without the cells' values: what a viewer of protected data may
        see (where and why, not what a patient's row holds)."""
        return replace(self, issues=tuple(replace(i, value=None) for i in self.issues))

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def rows_used(self) -> int:
        return sum(f.rows_used for f in self.files)

    @property
    def rows_rejected(self) -> int:
        return sum(f.rows_rejected for f in self.files)

    @property
    def errors(self) -> int:
        return sum(1 for i in self.issues if i.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for i in self.issues if i.severity == "warning")

    def as_dict(self) -> dict[str, object]:
        """The row account and the issues (the summary's `data_quality`)."""
        return {
            "rows_read": self.rows_read,
            "rows_used": self.rows_used,
            "rows_rejected": self.rows_rejected,
            "files": self._files(),
            "issues": [i.as_dict() for i in self.issues],
        }

    def validation_dict(self) -> dict[str, object]:
        """The report of the whole extract, as `python -m analytics validate` prints it."""
        return {
            "data": self.data,
            "usable": self.usable,
            "reason": self.reason,
            "rows_read": self.rows_read,
            "rows_used": self.rows_used,
            "rows_rejected": self.rows_rejected,
            "errors": self.errors,
            "warnings": self.warnings,
            "files": self._files(),
            "issues": [i.as_dict() for i in self.issues],
        }

    def to_json(self) -> str:
        return json.dumps(self.validation_dict(), indent=2, ensure_ascii=False)

    def _files(self) -> list[dict[str, object]]:
        return [
            {"table": f.table, "file": f.file, "format": f.format, "rows_read": f.rows_read,
             "rows_used": f.rows_used, "rows_rejected": f.rows_rejected}
            for f in self.files
        ]


def list_issues(load: Load) -> list[DataIssue]:
    # a rejected row is listed with its errors; its warnings would only add noise
    load.sql("DELETE FROM __hits h WHERE h.rule IN (SELECT rule FROM __rules WHERE "
             "severity = 'warning') AND EXISTS (SELECT 1 FROM __rejected x WHERE "
             "x.src = h.src AND x.row = h.row)")
    issues: list[DataIssue] = []
    for src in load.srcs:
        counts = dict(load.sql("SELECT rule, count(*) FROM __hits WHERE src = ? "
                               "GROUP BY rule", [src.id]).fetchall())
        if not counts:
            continue
        plain = sorted(r for r in counts if not load.rules[r].aggregate)
        grouped = sorted(r for r in counts if load.rules[r].aggregate)
        if plain:
            value = "CASE h.rule " + " ".join(
                f"WHEN '{r}' THEN CAST({load.rules[r].value_sql} AS VARCHAR)" for r in plain
            ) + " END"
            rows = load.sql(
                f"SELECT h.rule, h.row, {value}, d.message FROM (SELECT rule, row FROM "
                "(SELECT rule, row, row_number() OVER (PARTITION BY rule ORDER BY row) AS k "
                f"FROM __hits WHERE src = ? AND rule IN ({', '.join(repr(r) for r in plain)})"
                f") WHERE k <= {MAX_LISTED}) h JOIN {src.typed} t ON t.__row = h.row "
                "LEFT JOIN (SELECT row, rule, min(message) AS message FROM __details "
                "WHERE src = ? GROUP BY ALL) d ON d.row = h.row AND d.rule = h.rule "
                "ORDER BY h.row, h.rule", [src.id, src.id]).fetchall()
            for rule_id, row, val, detail in rows:
                info = load.rules[rule_id]
                issues.append(DataIssue(src.label, int(row), info.column,
                                        None if val is None else str(val), info.severity,
                                        info.message if detail is None else str(detail)))
            for rule_id in plain:
                more = counts[rule_id] - MAX_LISTED
                if more > 0:
                    info = load.rules[rule_id]
                    issues.append(DataIssue(src.label, None, info.column, None,
                                            info.severity,
                                            f"{info.message}: {more} more rows"))
        for rule_id in grouped:
            info = load.rules[rule_id]
            rows = load.sql(
                f"SELECT CAST({info.value_sql} AS VARCHAR) AS v, min(h.row), count(*) "
                f"FROM __hits h JOIN {src.typed} t ON t.__row = h.row "
                "WHERE h.src = ? AND h.rule = ? GROUP BY v ORDER BY 2 "
                f"LIMIT {MAX_LISTED}", [src.id, rule_id]).fetchall()
            for val, first, n in rows:
                suffix = f" ({n} rows, the first shown)" if n > 1 else ""
                issues.append(DataIssue(src.label, int(first), info.column,
                                        None if val is None else str(val), info.severity,
                                        f"{info.message}{suffix}"))
    return issues


def file_reports(load: Load) -> list[FileReport]:
    out = []
    for src in load.srcs:
        rejected = load.scalar("SELECT count(DISTINCT row) FROM __rejected WHERE src = ?",
                               [src.id])
        read = src.staged.rows
        out.append(FileReport(src.table, src.label, src.source.fmt, read, read - rejected,
                              rejected))
    return out


def keep_rejected_rows(load: Load) -> None:
    """The original values of every rejected row, with its reasons, for download."""
    load.sql("CREATE TABLE __rejected_sources (src INTEGER, tbl VARCHAR, file VARCHAR, "
             "names VARCHAR)")
    for src in load.srcs:
        if not load.scalar("SELECT count(*) FROM __rejected WHERE src = ?", [src.id]):
            continue
        n = len(src.staged.names)
        values = ", ".join(
            f"{text_expr(f's.c{i}', t.upper())} AS c{i}"
            for i, t in enumerate(src.staged.types, start=1))
        load.sql(
            f'CREATE TABLE "__rejected_rows_{src.id}" AS SELECT r.row AS __row, '
            f"r.reasons AS __reasons, s.__extra{', ' if n else ''}{values} FROM ("
            "SELECT x.row, string_agg(DISTINCT coalesce(d.message, m.message), '; ' "
            "ORDER BY coalesce(d.message, m.message)) AS reasons "
            f"FROM __rejected x JOIN __rules m USING (rule) LEFT JOIN __details d "
            "ON d.src = x.src AND d.row = x.row AND d.rule = x.rule "
            f"WHERE x.src = {src.id} GROUP BY x.row) r "
            f"JOIN \"{src.staged.relation}\" s ON s.__row = r.row "
            "ORDER BY r.row"
        )
        load.sql("INSERT INTO __rejected_sources VALUES (?, ?, ?, ?)",
                 [src.id, src.table, src.label, json.dumps(src.staged.names)])


def usability(load: Load, reports: list[FileReport]) -> str:
    for table, what in (("adsl", "patient"), ("adtte", "time-to-event row")):
        if load.scalar(f"SELECT count(*) FROM {table}"):
            continue
        files = [r for r in reports if r.table in (table, "wide")]
        ids = [s.id for s in load.srcs if s.table in (table, "wide")]
        labels = ", ".join(r.file for r in files)
        read = sum(r.rows_read for r in files)
        top = load.sql(
            "SELECT m.message, count(DISTINCT (x.src, x.row)) AS n FROM __rejected x "
            f"JOIN __rules m USING (rule) WHERE x.src IN ({', '.join(map(str, ids))}) "
            "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1").fetchone()
        why = f" (most often: {top[0]}, {top[1]} rows)" if top else ""
        return f"{labels}: no {what} can be used: all {read} rows were rejected{why}"
    return ""
