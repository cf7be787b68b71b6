"""The checks an extract goes through, and the row rules declared as data.

Three kinds of check, each listed with its severity in data/README.md:

- file checks (discovery.py, stage.py and the readers read_*.py): unreadable or
  empty files, encodings and delimiters, missing required columns; an unusable file
  raises DataError;
- row rules (`RowRule`, this module): one row at a time (missing keys, values of the
  wrong type, unknown codes, implausible values, dates out of order within a row).
  They are declared once, as data, and compiled two ways with the same meaning
  (validate.py): to a pandera schema run over pandas batches, and to one SQL pass for
  Parquet files;
- table rules (SQL, check_rows.py and check_tables.py): duplicate keys (naming the
  row they repeat), rows of unknown subjects, times after last contact or death
  (adsl's date of death, else the death adtte records: an OS event or a censoring for
  death), visits dated after the next visit, nested patency tiers, technical failures
  with patency data, subject identifiers shared by two studies of a registry.

Identifiers (`IDENTIFIERS`) are compared without the spaces around them, in every
table; the loader says once per file how many values it trimmed.

An error rejects the row (it is counted, listed and kept for download); a warning
keeps the row as read. Nothing is changed silently: a value that cannot be read in an
optional column is kept as missing with a warning.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from analytics.extract.issues import Severity
from analytics.extract.wide import WIDE
from analytics.model.schema import TABLES, Table

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
