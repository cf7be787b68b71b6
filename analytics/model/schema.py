"""The data model: tables, columns, types and allowed codes.

This is the single source of truth for what a column may be called. SQL built
anywhere in `analytics` may only name columns that appear here (or that the
loaded table demonstrably has), never text supplied by a user.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

ColumnType = Literal["str", "int", "float", "date", "flag"]

FLAG_VALUES = ("Y", "N")
# Days in a month on every time axis, landmark and label: 365.25 / 12 = 30.4375, so
# 6 months is day 183 once rounded and 12 months day 365.
DAYS_PER_MONTH = 365.25 / 12


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    label: str
    required: bool = True
    codes: tuple[str, ...] = ()
    nullable: bool = False
    # known before the procedure (day 0)? Only such a column may define groups to compare:
    # a group defined by what happens later (technical success, death, disposition)
    # holds only patients who lived long enough to show it (immortal-time bias)
    baseline: bool = True

    @property
    def sql_type(self) -> str:
        return {
            "str": "VARCHAR",
            "int": "INTEGER",
            "float": "DOUBLE",
            "date": "DATE",
            "flag": "VARCHAR",
        }[self.type]

    @property
    def allowed(self) -> tuple[str, ...]:
        return FLAG_VALUES if self.type == "flag" else self.codes


@dataclass(frozen=True)
class Table:
    name: str
    label: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required_names(self) -> tuple[str, ...]:
        """The columns an extract of the model is expected to have; the others (such
        as a quality-of-life score) may be left out without a warning."""
        return tuple(c.name for c in self.columns if c.required)


RACE_CODES = ("WHITE", "BLACK OR AFRICAN AMERICAN", "ASIAN", "UNKNOWN")
ETHNIC_CODES = ("HISPANIC OR LATINO", "NOT HISPANIC OR LATINO")
ARTERY_CODES = ("PERONEAL ARTERY", "POSTERIOR TIBIAL ARTERY", "TIBIOPERONEAL TRUNK")
VEIN_CODES = ("PERONEAL VEIN", "POSTERIOR TIBIAL VEIN")
NO_OPTION_CODES = ("NO PEDAL TARGET", "NO AUTOGENOUS CONDUIT")
SMOKING_CODES = ("CURRENT", "FORMER", "NEVER")
DISPOSITION_CODES = ("COMPLETED", "ONGOING", "DEATH", "LOST TO FOLLOW-UP", "WITHDRAWN")

ADSL = Table(
    name="adsl",
    label="Subject level (ADSL-like): one row per patient",
    key=("USUBJID",),
    columns=(
        Column("STUDYID", "str", "Study identifier"),
        Column("USUBJID", "str", "Unique subject identifier"),
        Column("SITEID", "str", "Site identifier"),
        Column("AGE", "int", "Age at enrolment (years)"),
        Column("AGEGR1", "str", "Age group", codes=("<=70", ">70")),
        Column("SEX", "str", "Sex", codes=("M", "F")),
        Column("RACE", "str", "Race", codes=RACE_CODES),
        Column("ETHNIC", "str", "Ethnicity", codes=ETHNIC_CODES),
        Column("BMI", "float", "Body-mass index (kg/m2)", nullable=True),
        Column("SMOKSTAT", "str", "Smoking status", codes=SMOKING_CODES),
        Column("HTNFL", "flag", "Hypertension"),
        Column("DLPFL", "flag", "Dyslipidaemia"),
        Column("DIABFL", "flag", "Diabetes mellitus"),
        Column("DIABTYP", "str", "Diabetes type", codes=("TYPE 1", "TYPE 2"), nullable=True),
        Column("CKDFL", "flag", "Chronic kidney disease"),
        Column("DIALFL", "flag", "On dialysis"),
        Column("STROKEFL", "flag", "Prior stroke"),
        Column("MIFL", "flag", "Prior myocardial infarction"),
        Column("RUTHCAT", "int", "Rutherford class at baseline", codes=("5", "6")),
        Column("PRIORFL", "flag", "Prior intervention on the target limb"),
        Column("NOOPTRS", "str", "Reason no revascularisation option", codes=NO_OPTION_CODES),
        Column("ENRLDT", "date", "Enrolment date"),
        Column("PROCDT", "date", "Procedure date (day 0)", baseline=False),
        Column("TECHSFL", "flag", "Technical success", baseline=False),
        Column("XARTERY", "str", "Crossing artery", codes=ARTERY_CODES, baseline=False),
        Column("XVEIN", "str", "Crossing vein", codes=VEIN_CODES, baseline=False),
        Column("PROCMIN", "float", "Procedure time (minutes)", nullable=True, baseline=False),
        Column("RADMGY", "float", "Radiation dose (mGy)", nullable=True, baseline=False),
        Column("CONTRML", "float", "Contrast volume (mL)", nullable=True, baseline=False),
        Column("CINFL", "flag", "Contrast-induced nephropathy within 72 h", baseline=False),
        Column("ACDURD", "int", "Anticoagulation duration (days)", nullable=True, baseline=False),
        Column("LSTCNTDT", "date", "Date of last contact", baseline=False),
        Column("DTHFL", "flag", "Died during follow-up", baseline=False),
        Column("DTHDT", "date", "Date of death", nullable=True, baseline=False),
        Column("DTHCAUS", "str", "Cause of death", nullable=True, baseline=False),
        Column(
            "EOSSTT",
            "str",
            "Disposition at end of follow-up",
            codes=DISPOSITION_CODES,
            baseline=False,
        ),
    ),
)

ENDPOINTS: dict[str, str] = {
    "AFS": "Amputation-free survival",
    "LS": "Limb salvage (freedom from above-ankle amputation)",
    "OS": "Overall survival",
    "PP": "Primary patency",
    "PAP": "Primary-assisted patency",
    "SP": "Secondary patency",
    "REINT": "Time to first reintervention",
}
# The names legends, tables and slides use (a curve is of patients free of the event).
ENDPOINT_SHORT: dict[str, str] = {
    "AFS": "Amputation-free survival",
    "LS": "Limb salvage",
    "OS": "Overall survival",
    "PP": "Primary patency",
    "PAP": "Primary-assisted patency",
    "SP": "Secondary patency",
    "REINT": "Freedom from reintervention",
}

# One code per reason a time is censored; 0 is an event (CDISC ADaM convention).
CENSOR_REASONS: dict[int, str] = {
    1: "Alive and event-free at last contact",
    2: "Lost to follow-up",
    3: "Withdrawn",
    4: "Death (competing event)",
    5: "Major amputation (competing event)",
}

ADTTE = Table(
    name="adtte",
    label="Time to event (ADTTE-like): one row per patient per endpoint",
    key=("USUBJID", "PARAMCD"),
    columns=(
        Column("STUDYID", "str", "Study identifier"),
        Column("USUBJID", "str", "Unique subject identifier"),
        Column("PARAMCD", "str", "Endpoint code"),
        Column("PARAM", "str", "Endpoint"),
        Column("AVAL", "float", "Days from procedure to event or censoring"),
        Column("CNSR", "int", "Censoring: 0 = event, positive integer = censored (reason code)"),
        Column("EVNTDESC", "str", "Event or censoring description"),
        Column("STARTDT", "date", "Time origin (procedure date)"),
        Column("ADT", "date", "Date of event or censoring"),
    ),
)

VISIT_SCHEDULE: dict[str, float] = {
    "BASELINE": 0,
    "WEEK 2": 0.5,
    "MONTH 1": 1,
    "MONTH 2": 2,
    "MONTH 3": 3,
    "MONTH 6": 6,
    "MONTH 9": 9,
    "MONTH 12": 12,
}

WOUND_STATUS = ("HEALED", "HEALING", "NOT HEALING")

VISITS = Table(
    name="visits",
    label="Scheduled visits: wounds, Rutherford class and quality of life",
    key=("USUBJID", "AVISITN"),
    columns=(
        Column("USUBJID", "str", "Unique subject identifier"),
        Column("AVISIT", "str", "Visit", codes=tuple(VISIT_SCHEDULE)),
        Column("AVISITN", "float", "Visit (months from procedure)"),
        Column("ADT", "date", "Visit date"),
        Column("ADY", "int", "Days from procedure"),
        Column("WNDAREA", "float", "Target wound area (cm2)", nullable=True),
        Column("WNDSTAT", "str", "Target wound status", codes=WOUND_STATUS, nullable=True),
        Column("ALLHLFL", "flag", "All wounds healed", nullable=True),
        Column("RUTHCAT", "int", "Rutherford class", nullable=True),
        # optional: trials and registries record quality of life in different ways, and
        # an extract without it must load as before (NICE IPG773 asks audits for it)
        Column(
            "QOLSCORE",
            "int",
            "Quality of life: VascuQoL-6 total score (6 to 24, higher is better)",
            required=False,
            nullable=True,
        ),
    ),
)

ADAE = Table(
    name="adae",
    label="Adverse events: one row per event",
    key=("USUBJID", "AESEQ"),
    columns=(
        Column("USUBJID", "str", "Unique subject identifier"),
        Column("AESEQ", "int", "Sequence number within subject"),
        Column("AETERM", "str", "Adverse event term"),
        Column("AESER", "flag", "Serious"),
        Column("AEDEVFL", "flag", "Device- or procedure-related"),
        Column("ASTDY", "int", "Study day of onset (days from procedure)"),
        Column("AEOUT", "str", "Outcome", codes=("FATAL", "NOT FATAL")),
    ),
)

TABLES: dict[str, Table] = {t.name: t for t in (ADSL, ADTTE, VISITS, ADAE)}


def in_schema_order(column: str, values: Iterable[str]) -> list[str]:
    """`values` of a subject column in the data model's order of its codes where it has
    one (M before F, as in the paper), the others after them in the order given."""
    given = list(values)
    try:
        codes = [c for c in ADSL.column(column).allowed if c in given]
    except KeyError:
        codes = []
    return codes + [v for v in given if v not in codes]


def is_baseline(column: str) -> bool:
    """Whether a subject column is known before the procedure. A column outside the
    data model (an extract's own) counts as baseline: nothing says otherwise, and the
    page names every comparison it draws."""
    try:
        return ADSL.column(column).baseline
    except KeyError:
        return True
