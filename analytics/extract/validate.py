"""The checks an extract goes through, and the report they produce.

Three kinds of check, each listed with its severity in data/README.md:

- file checks (formats.py, extract.py): unreadable or empty files, encodings and
  delimiters, missing required columns; an unusable file raises DataError;
- row rules (`RowRule`, this module): one row at a time (missing keys, values of the
  wrong type, unknown codes, implausible values, dates out of order within a row).
  They are declared once, as data, and compiled two ways with the same meaning:
  to a pandera schema run over pandas batches (CSV, Excel and SAS transport files,
  which DuckDB has already read into its own tables), and to one SQL pass for
  Parquet files, which stay on disk as views so a million rows are never held in
  memory. pandera 0.35's other backends do not fit here: its pyarrow backend reports
  failures without row positions, and its ibis (DuckDB) and polars backends need
  packages this project does not ship. A test runs every rule through both engines
  and requires identical results;
- table rules (SQL, extract.py): duplicate keys (naming the row they repeat), rows of
  unknown subjects, times after last contact or death (adsl's date of death, else the
  death adtte records: an OS event or a censoring for death), visits dated after the
  next visit, nested patency tiers, technical failures with patency data, subject
  identifiers shared by two studies of a registry.

Identifiers (`IDENTIFIERS`) are compared without the spaces around them, in every
table; the loader says once per file how many values it trimmed.

An error rejects the row (it is counted, listed and kept for download); a warning
keeps the row as read. Nothing is changed silently: a value that cannot be read in an
optional column is kept as missing with a warning.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from analytics.extract.issues import DataError, DataIssue, FileReport, Severity
from analytics.extract.wide import WIDE
from analytics.model.filters import quote_ident
from analytics.model.schema import TABLES, Column, Table

Kind = Literal[
    "missing", "unreadable", "below", "outside", "codes", "before", "after", "days_differ",
    "date_without_flag", "flag_without_date", "given_when", "missing_while",
]
MAX_LISTED = 1000  # per rule and file: a broken million-row file must not flood the report
# Identifiers are compared without the white space around them (a CSV written by hand
# often has "P-002 "); the loader counts and reports every value it trims.
IDENTIFIERS = ("USUBJID", "STUDYID", "SITEID", "PARAMCD")
ID_SPACE = " \t\u00a0"  # space, tab, no-break space (spreadsheets)
TABLES_ALL: dict[str, Table] = {**TABLES, WIDE.name: WIDE}


@dataclass(frozen=True)
class RowRule:
    """A check on one row. `column` is the column reported (its value is shown)."""

    id: str
    table: str
    column: str
    kind: Kind
    severity: Severity
    message: str
    others: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    codes: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.column, *self.others)

    @property
    def aggregate(self) -> bool:
        """Unknown codes are listed once per distinct value, not once per row."""
        return self.kind == "codes"


# What each event date of a wide file records, for messages.
_WHAT = {
    "DTHDT": "death",
    "AMPDT": "major amputation",
    "PPLOSDT": "loss of primary patency",
    "PAPLOSDT": "loss of primary-assisted patency",
    "SPLOSDT": "loss of secondary patency",
    "REINTDT": "first reintervention",
}
_PATENCY_DATES = ("PPLOSDT", "PAPLOSDT", "SPLOSDT")
_SUBJECT_TABLES = ("adsl", "wide")


def _static_rules() -> list[RowRule]:
    r: list[RowRule] = []
    for table in ("adsl", "wide", "adtte", "visits", "adae"):
        r.append(RowRule(f"{table}.usubjid", table, "USUBJID", "missing", "error",
                         "subject identifier is missing"))
    r += [
        RowRule("adtte.paramcd", "adtte", "PARAMCD", "missing", "error",
                "endpoint code is missing"),
        RowRule("adtte.aval", "adtte", "AVAL", "missing", "error",
                "time to event is missing or not a number"),
        RowRule("adtte.aval_negative", "adtte", "AVAL", "below", "error",
                "time to event is negative", low=0),
        RowRule("adtte.cnsr", "adtte", "CNSR", "missing", "error",
                "censoring code is missing or not a whole number"),
        RowRule("adtte.cnsr_negative", "adtte", "CNSR", "below", "error",
                "censoring code must be 0 (event) or a positive integer", low=0),
        RowRule("adtte.adt", "adtte", "ADT", "days_differ", "warning",
                "ADT is not STARTDT + AVAL days", others=("STARTDT", "AVAL")),
        RowRule("visits.wndarea", "visits", "WNDAREA", "outside", "warning",
                "implausible wound area (expected 0 to 500 cm2); kept as given", low=0,
                high=500),
        RowRule("visits.qolscore", "visits", "QOLSCORE", "outside", "warning",
                "implausible quality-of-life score (expected 6 to 24, the VascuQoL-6 "
                "range); kept as given", low=6, high=24),
        RowRule("wide.procdt", "wide", "PROCDT", "missing", "error",
                "procedure date is missing or not a date (YYYY-MM-DD): no time can be "
                "counted from it"),
        RowRule("wide.lstcntdt", "wide", "LSTCNTDT", "missing", "error",
                "last contact date is missing or not a date (YYYY-MM-DD)"),
        RowRule("wide.last_before_procedure", "wide", "LSTCNTDT", "before", "error",
                "last contact is before the procedure date (PROCDT)", others=("PROCDT",)),
        RowRule("adsl.last_before_procedure", "adsl", "LSTCNTDT", "before", "warning",
                "last contact is before the procedure date (PROCDT)", others=("PROCDT",)),
        RowRule("adsl.death_before_procedure", "adsl", "DTHDT", "before", "warning",
                "death is before the procedure date (PROCDT)", others=("PROCDT",)),
        # expected by the data model (a wide file cannot do without it: an error there)
        RowRule("adsl.lstcntdt_missing", "adsl", "LSTCNTDT", "missing", "warning",
                "last contact date is missing: events after last contact cannot be checked"),
    ]
    for table in _SUBJECT_TABLES:
        r += [
            RowRule(f"{table}.procedure_before_enrolment", table, "PROCDT", "before", "warning",
                    "procedure date is before the enrolment date (ENRLDT)", others=("ENRLDT",)),
            RowRule(f"{table}.death_after_last_contact", table, "DTHDT", "after", "warning",
                    "death is after the last contact date (LSTCNTDT)", others=("LSTCNTDT",)),
            RowRule(f"{table}.last_contact_after_death", table, "LSTCNTDT", "after", "warning",
                    "last contact is after the date of death (DTHDT)", others=("DTHDT",)),
            RowRule(f"{table}.death_without_flag", table, "DTHDT", "date_without_flag",
                    "warning", "a date of death is given but DTHFL is not Y",
                    others=("DTHFL",)),
            RowRule(f"{table}.flag_without_death", table, "DTHFL", "flag_without_date",
                    "warning", "DTHFL is Y but the date of death is missing", others=("DTHDT",)),
            RowRule(f"{table}.age", table, "AGE", "outside", "warning",
                    "implausible age (expected 18 to 110 years); kept as given", low=18,
                    high=110),
            RowRule(f"{table}.bmi", table, "BMI", "outside", "warning",
                    "implausible body-mass index (expected 10 to 80 kg/m2); kept as given",
                    low=10, high=80),
        ]
    for col, what in _WHAT.items():
        r.append(RowRule(f"wide.{col.lower()}_unreadable", "wide", col, "unreadable", "error",
                         "not a date (YYYY-MM-DD): an event date cannot be left out"))
        r.append(RowRule(f"wide.{col.lower()}_before_procedure", "wide", col, "before", "error",
                         f"{what} is before the procedure date (PROCDT)", others=("PROCDT",)))
        if col != "DTHDT":
            r.append(RowRule(f"wide.{col.lower()}_after_last_contact", "wide", col, "after",
                             "warning", f"{what} is after the last contact date (LSTCNTDT)",
                             others=("LSTCNTDT",)))
            r.append(RowRule(f"wide.{col.lower()}_after_death", "wide", col, "after", "warning",
                             f"{what} is after the date of death (DTHDT)", others=("DTHDT",)))
    nested = "the patency tiers must be nested (primary, then primary-assisted, then secondary)"
    r += [
        RowRule("wide.pp_after_pap", "wide", "PPLOSDT", "after", "warning",
                f"primary patency is lost after primary-assisted patency (PAPLOSDT): {nested}",
                others=("PAPLOSDT",)),
        RowRule("wide.pp_kept_pap_lost", "wide", "PPLOSDT", "missing_while", "warning",
                f"primary patency is not lost although primary-assisted patency is (PAPLOSDT): "
                f"{nested}", others=("PAPLOSDT",)),
        RowRule("wide.pap_after_sp", "wide", "PAPLOSDT", "after", "warning",
                f"primary-assisted patency is lost after secondary patency (SPLOSDT): {nested}",
                others=("SPLOSDT",)),
        RowRule("wide.pap_kept_sp_lost", "wide", "PAPLOSDT", "missing_while", "warning",
                f"primary-assisted patency is not lost although secondary patency is "
                f"(SPLOSDT): {nested}", others=("SPLOSDT",)),
    ]
    for col in _PATENCY_DATES:
        r.append(RowRule(f"wide.{col.lower()}_technical_failure", "wide", col, "given_when",
                         "warning", "patency data for a technical failure (TECHSFL N)",
                         others=("TECHSFL",), codes=("N",)))
    return r


STATIC_RULES: tuple[RowRule, ...] = tuple(_static_rules())
# Columns whose unreadable values reject the row (reported by a rule above) rather
# than being kept as missing with a warning.
_KEY_TYPED = {"adtte": {"AVAL", "CNSR"}, "wide": {"PROCDT", "LSTCNTDT", *_WHAT}}
_KIND_TEXT = {"date": "a date (YYYY-MM-DD)", "int": "a whole number"}


def row_rules(table: str, present: set[str], skip: set[str] | None = None) -> list[RowRule]:
    """The row rules for a file of `table` holding the (data-model) columns `present`.

    A rule applies only when every column it names is in the file: an absent column
    is reported once as absent, not once per row.
    """
    schema = TABLES_ALL[table]
    rules = [r for r in STATIC_RULES if r.table == table]
    for col in schema.columns:
        if col.type not in ("str", "flag") and col.name not in _KEY_TYPED.get(table, set()):
            rules.append(RowRule(f"{table}.{col.name.lower()}_unreadable", table, col.name,
                                 "unreadable", "warning",
                                 f"not {_KIND_TEXT.get(col.type, 'a number')}; kept as missing"))
        if col.allowed:
            rules.append(RowRule(f"{table}.{col.name.lower()}_code", table, col.name, "codes",
                                 "warning",
                                 f"not one of {', '.join(col.allowed)}; kept as given",
                                 codes=col.allowed))
    skip = skip or set()
    return [r for r in rules if set(r.columns) <= present and r.id not in skip]


# --- SQL engine ----------------------------------------------------------------------------


def internal(prefix: str, column: str) -> str:
    """Identifier of a helper column of the typed view, e.g. "__bad_AGE"."""
    quote_ident(column)  # only data-model names get helper columns
    return f'"{prefix}{column}"'


def _lit(text: str) -> str:
    # data-model constants (codes), never user text
    return "'" + text.replace("'", "''") + "'"


def _num(x: float | None) -> str:
    assert x is not None
    return repr(float(x))


def rule_sql(rule: RowRule, alias: str = "") -> str:
    """The SQL condition true where `rule` fails, over the typed view's columns."""
    p = f"{alias}." if alias else ""

    def q(c: str) -> str:
        return p + quote_ident(c)

    c = q(rule.column)
    o = [q(x) for x in rule.others]
    if rule.kind == "missing":
        return f"{c} IS NULL"
    if rule.kind == "unreadable":
        return p + internal("__bad_", rule.column)
    if rule.kind == "below":
        return f"{c} < {_num(rule.low)}"
    if rule.kind == "outside":
        return f"({c} < {_num(rule.low)} OR {c} > {_num(rule.high)})"
    if rule.kind == "codes":
        return f"CAST({c} AS VARCHAR) NOT IN ({', '.join(_lit(x) for x in rule.codes)})"
    if rule.kind == "before":
        return f"{c} < {o[0]}"
    if rule.kind == "after":
        return f"{c} > {o[0]}"
    if rule.kind == "days_differ":
        return f"({c} - {o[0]}) <> {o[1]}"
    if rule.kind == "date_without_flag":
        return f"({c} IS NOT NULL AND ({o[0]} IS NULL OR {o[0]} <> 'Y'))"
    if rule.kind == "flag_without_date":
        return f"({c} = 'Y' AND {o[0]} IS NULL)"
    if rule.kind == "given_when":
        return f"({c} IS NOT NULL AND {o[0]} = {_lit(rule.codes[0])})"
    if rule.kind == "missing_while":
        return f"({c} IS NULL AND {o[0]} IS NOT NULL)"
    raise ValueError(rule.kind)


def hits_sql(rules: Sequence[RowRule], relation: str, where: str = "TRUE") -> str:
    """One pass over `relation` giving (row, rule id) for every failing rule."""
    cases = ", ".join(f"CASE WHEN {rule_sql(r)} THEN {_lit(r.id)} END" for r in rules)
    any_fails = " OR ".join(f"({rule_sql(r)})" for r in rules)
    return (
        f"SELECT __row AS row, rule FROM (SELECT __row, unnest([{cases}]) AS rule "
        f"FROM {relation} WHERE __err IS NULL AND {where} AND ({any_fails})) "
        "WHERE rule IS NOT NULL"
    )


# --- pandas / pandera engine ------------------------------------------------------------------

Predicate = Callable[[pd.DataFrame], pd.Series]


def fetch_columns(rules: Sequence[RowRule], types: dict[str, str]) -> dict[str, str]:
    """Frame column -> SQL expression over the typed view, for the pandas engine.

    Dates arrive as day numbers (integers), so that pandas compares and subtracts them
    exactly as DuckDB does; codes arrive as text.
    """
    out: dict[str, str] = {}
    for rule in rules:
        if rule.kind == "unreadable":
            out[f"__bad_{rule.column}"] = internal("__bad_", rule.column)
            continue
        if rule.kind == "codes":
            out[f"__code_{rule.column}"] = f"CAST({quote_ident(rule.column)} AS VARCHAR)"
            continue
        for col in rule.columns:
            ident = quote_ident(col)
            out[col] = (f"({ident} - DATE '1970-01-01')" if types.get(col) == "DATE"
                        else ident)
    return out


def rule_predicate(rule: RowRule) -> Predicate:
    """The pandas twin of `rule_sql`: True where the rule fails (missing compares false)."""
    c, o, k = rule.column, rule.others, rule.kind

    if k == "missing":
        return lambda f: f[c].isna()
    if k == "unreadable":
        return lambda f: f[f"__bad_{c}"].fillna(False).astype(bool)
    if k == "below":
        low = rule.low
        return lambda f: f[c].astype("float64") < low
    if k == "outside":
        low, high = rule.low, rule.high
        return lambda f: (f[c].astype("float64") < low) | (f[c].astype("float64") > high)
    if k == "codes":
        codes = list(rule.codes)
        return lambda f: f[f"__code_{c}"].notna() & ~f[f"__code_{c}"].isin(codes)
    if k == "before":
        return lambda f: f[c].astype("float64") < f[o[0]].astype("float64")
    if k == "after":
        return lambda f: f[c].astype("float64") > f[o[0]].astype("float64")
    if k == "days_differ":
        def differ(f: pd.DataFrame) -> pd.Series:
            a, s, v = (f[x].astype("float64") for x in (c, o[0], o[1]))
            return a.notna() & s.notna() & v.notna() & ((a - s) != v)
        return differ
    if k == "date_without_flag":
        return lambda f: f[c].notna() & (f[o[0]].isna() | (f[o[0]] != "Y"))
    if k == "flag_without_date":
        return lambda f: (f[c] == "Y") & f[o[0]].isna()
    if k == "given_when":
        value = rule.codes[0]
        return lambda f: f[c].notna() & (f[o[0]] == value)
    if k == "missing_while":
        return lambda f: f[c].isna() & f[o[0]].notna()
    raise ValueError(k)


def _single(rule: RowRule) -> str | None:
    if rule.kind == "unreadable":
        return f"__bad_{rule.column}"
    if rule.kind == "codes":
        return f"__code_{rule.column}"
    return rule.column if not rule.others else None


def pandera_schemas(rules: Sequence[RowRule]) -> list[tuple[Any, list[str]]]:
    """pandera schemas for `rules`: one with a column check per single-column rule, and
    one per multi-column rule (validated on just its columns). Each check is named by
    its rule id. Returns (schema, frame columns it reads)."""
    import pandera.pandas as pa

    def check(rule: RowRule) -> Any:
        fails = rule_predicate(rule)
        return pa.Check(lambda f, fails=fails: ~fails(f), name=rule.id, ignore_na=False)

    def column_check(rule: RowRule) -> Any:
        col = _single(rule)
        fails = rule_predicate(rule)
        return pa.Check(lambda s, fails=fails, col=col: ~fails(s.to_frame(col)),
                        name=rule.id, ignore_na=False)

    by_column: dict[str, list[Any]] = {}
    out: list[tuple[Any, list[str]]] = []
    for rule in rules:
        col = _single(rule)
        if col is not None:
            by_column.setdefault(col, []).append(column_check(rule))
        else:
            cols = list(dict.fromkeys(rule.columns))
            out.append((pa.DataFrameSchema(checks=[check(rule)]), cols))
    if by_column:
        schema = pa.DataFrameSchema(
            {col: pa.Column(checks=checks, nullable=True, required=True)
             for col, checks in by_column.items()}
        )
        out.insert(0, (schema, list(by_column)))
    return out


def pandera_hits(frame: pd.DataFrame, schemas: list[tuple[Any, list[str]]]) -> pd.DataFrame:
    """(row, rule) of every failure in `frame` (indexed by row number)."""
    import pandera.pandas as pa

    found: list[pd.DataFrame] = []
    for schema, cols in schemas:
        try:
            with warnings.catch_warnings():
                # pandera 0.35 concatenates failure cases that are all missing values
                # (the failures of a "missing" rule), which pandas 2.3 warns about
                warnings.simplefilter("ignore", FutureWarning)
                schema.validate(frame[cols], lazy=True)
        except pa.errors.SchemaErrors as exc:
            fc = exc.failure_cases
            fc = fc[fc["index"].notna()]
            found.append(pd.DataFrame({"row": fc["index"].astype("int64"),
                                       "rule": fc["check"].astype(str)}))
    if not found:
        return pd.DataFrame({"row": pd.Series(dtype="int64"), "rule": pd.Series(dtype=str)})
    return pd.concat(found).drop_duplicates().reset_index(drop=True)


def check_frame(frame: pd.DataFrame, table: str, file: str = "preview") -> list[DataIssue]:
    """Row rules over a pandas frame already mapped to data-model names (e.g. the app's
    preview of an interactive mapping). Values are read the way the loader reads text:
    numbers and ISO dates; issues name `file`, the 1-based row and the column."""
    schema = TABLES_ALL[table]
    present = {str(c) for c in frame.columns}
    typed = pd.DataFrame(index=pd.RangeIndex(1, len(frame) + 1))
    for col in schema.columns:
        if col.name not in present:
            continue
        text = frame[col.name].reset_index(drop=True).set_axis(typed.index)
        text = text.map(lambda v: None if v is None or (isinstance(v, float) and v != v)
                        or str(v).strip() == "" else v)
        value = _pandas_typed(text, col)
        typed[col.name] = value
        typed[f"__bad_{col.name}"] = value.isna() & text.notna()
        typed[f"__code_{col.name}"] = value.map(
            lambda v: None if v is None or (isinstance(v, float) and v != v) else
            str(int(v)) if isinstance(v, float) and v.is_integer() else str(v))
    rules = row_rules(table, present)
    hits = pandera_hits(typed, pandera_schemas(rules))
    by_id = {r.id: r for r in rules}
    issues = []
    for row, rule_id in sorted(zip(hits["row"], hits["rule"], strict=True)):
        rule = by_id[rule_id]
        raw = frame[rule.column].iloc[int(row) - 1]
        issues.append(DataIssue(file, int(row), rule.column,
                                None if raw is None or raw != raw else str(raw),
                                rule.severity, rule.message))
    return issues


def _pandas_typed(text: pd.Series, col: Column) -> pd.Series:
    if col.name in IDENTIFIERS:
        return text.map(lambda v: None if v is None or not str(v).strip(ID_SPACE)
                        else str(v).strip(ID_SPACE))
    if col.type in ("str", "flag"):
        return text.map(lambda v: None if v is None else str(v))
    if col.type == "date":
        parsed = pd.to_datetime(text.map(lambda v: None if v is None else str(v)),
                                format="%Y-%m-%d", errors="coerce")
        return (parsed - pd.Timestamp("1970-01-01")).dt.days
    number = pd.to_numeric(text, errors="coerce").astype("float64")
    number = number.where(number.abs() != float("inf"))
    if col.type == "int":
        number = number.where(number == number.round())
    return number


# --- report ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ValidationReport:
    """What `python -m analytics validate` prints."""

    data: str
    usable: bool
    reason: str
    files: tuple[FileReport, ...]
    issues: tuple[DataIssue, ...]

    @property
    def errors(self) -> int:
        return sum(1 for i in self.issues if i.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for i in self.issues if i.severity == "warning")

    def as_dict(self) -> dict[str, object]:
        return {
            "data": self.data,
            "usable": self.usable,
            "reason": self.reason,
            "rows_read": sum(f.rows_read for f in self.files),
            "rows_used": sum(f.rows_used for f in self.files),
            "rows_rejected": sum(f.rows_rejected for f in self.files),
            "errors": self.errors,
            "warnings": self.warnings,
            "files": [
                {"table": f.table, "file": f.file, "format": f.format, "rows_read": f.rows_read,
                 "rows_used": f.rows_used, "rows_rejected": f.rows_rejected}
                for f in self.files
            ],
            "issues": [i.as_dict() for i in self.issues],
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2, ensure_ascii=False)


def validate_extract(src: Path, mapping: Path | None = None) -> ValidationReport:
    """Load `src` (through the database cache, so a later summary reuses the work) and
    report every problem; never raises for bad data."""
    return validate_into(src, mapping)[0]


def validate_into(
    src: Path, mapping: Path | None = None, cache: Path | None = None, label: str | None = None
) -> tuple[ValidationReport, Path | None]:
    """`validate_extract` with the database kept in `cache` (default the cache folder),
    and that database (None when the data never got as far as one: it holds the rejected
    rows). `label` names the extract in a problem about the whole of it (default `src`)."""
    from analytics.store import Store, database_for

    try:
        path = database_for(Path(src), mapping=mapping, cache=cache)
    except DataError as exc:
        where = label if label is not None else str(src)
        issues = exc.issues or (DataIssue(where, None, None, None, "error", str(exc)),)
        return ValidationReport(str(src), False, str(exc), (), tuple(issues)), None
    store = Store(path)
    try:
        quality = store.quality()
        reason = store.meta.get("unusable", "")
    finally:
        store.close()
    return ValidationReport(str(src), not reason, reason, quality.files, quality.issues), path
