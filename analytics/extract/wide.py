"""The wide variant of the project's format: one row per patient with event dates,
converted to adsl rows and adtte rows (AVAL = days from PROCDT).

The conversion is SQL over the checked wide relation, so a million-row Parquet file
is converted as a view without being read into Python. How each endpoint is derived
(documented in data/README.md):

- OS: death (DTHDT) is the event; otherwise censored at last contact (LSTCNTDT).
- AFS: the earlier of major amputation (AMPDT) and death is the event.
- LS: major amputation is the event; a death before it censors (CNSR 4).
- PP, PAP, SP, REINT (only when their date column is in the file): the date is the
  event; an earlier major amputation censors (CNSR 5), an earlier death (CNSR 4).
  Rows exist for technical successes (TECHSFL not N) and wherever a date is given.
- Censoring at last contact: CNSR 2 when EOSSTT is LOST TO FOLLOW-UP, 3 when
  WITHDRAWN, otherwise 1. An event dated after the last contact is kept (and
  reported): the last contact only censors patients without an event.
- On the same day, the event wins over amputation, and amputation over death.
"""

from __future__ import annotations

from analytics.model.filters import quote_ident
from analytics.model.schema import ADSL, ENDPOINTS, Column, Table

# Event dates a wide file may carry beyond the adsl columns.
WIDE_EVENT_DATES: dict[str, str] = {
    "AMPDT": "Date of major (above-ankle) amputation",
    "PPLOSDT": "Date primary patency was lost (occlusion or any reintervention)",
    "PAPLOSDT": "Date primary-assisted patency was lost (occlusion)",
    "SPLOSDT": "Date secondary patency was lost for good",
    "REINTDT": "Date of the first reintervention",
}
# Columns without which no endpoint can be derived.
WIDE_REQUIRED = ("USUBJID", "PROCDT", "LSTCNTDT", "DTHDT", "AMPDT")
# The optional endpoints and the date column each needs.
PATENCY_DATES: dict[str, str] = {
    "PP": "PPLOSDT",
    "PAP": "PAPLOSDT",
    "SP": "SPLOSDT",
    "REINT": "REINTDT",
}
EVENT_TEXT: dict[str, str] = {
    "PP": "LOSS OF PRIMARY PATENCY",
    "PAP": "OCCLUSION",
    "SP": "PERMANENT LOSS OF PATENCY",
    "REINT": "REINTERVENTION",
}

WIDE = Table(
    name="wide",
    label="Wide variant: one row per patient, event dates instead of days",
    key=("USUBJID",),
    columns=(
        *ADSL.columns,
        # only AMPDT is required (WIDE_REQUIRED); the patency dates are optional
        *(
            Column(n, "date", label, required=n in WIDE_REQUIRED, nullable=True)
            for n, label in WIDE_EVENT_DATES.items()
        ),
    ),
)


def _lit(text: str) -> str:
    # constants of this module only (endpoint labels, event texts), never user text
    return "'" + text.replace("'", "''") + "'"


def derive_adtte_sql(relation: str, present: set[str], study_sql: str) -> str:
    """SELECT producing the adtte rows of the accepted wide rows in `relation`.

    `present` names the wide columns the file has; `study_sql` is the expression for
    STUDYID (the column, or the registry folder's name when it is missing).
    """
    w = quote_ident
    lc_cnsr = (
        "CASE \"EOSSTT\" WHEN 'LOST TO FOLLOW-UP' THEN 2 WHEN 'WITHDRAWN' THEN 3 ELSE 1 END"
        if "EOSSTT" in present
        else "1"
    )
    lc_text = (
        "CASE \"EOSSTT\" WHEN 'LOST TO FOLLOW-UP' THEN 'LOST TO FOLLOW-UP' "
        "WHEN 'WITHDRAWN' THEN 'WITHDRAWN' ELSE 'CENSORED AT LAST CONTACT' END"
        if "EOSSTT" in present
        else "'CENSORED AT LAST CONTACT'"
    )
    amp, death, last = w("AMPDT"), w("DTHDT"), w("LSTCNTDT")

    def endpoint(code: str, event: str, event_text: str,
                 competing: list[tuple[str, int, str]], where: str = "TRUE") -> str:
        # the earliest of the event and its competing events; last contact otherwise
        first = f"least({', '.join([event, *(c for c, _, _ in competing)])})"
        cnsr = " ".join(f"WHEN {c} = f.first THEN {n}" for c, n, _ in competing)
        text = " ".join(f"WHEN {c} = f.first THEN {_lit(t)}" for c, _, t in competing)
        return (
            f"SELECT {study_sql} AS \"STUDYID\", \"USUBJID\", {_lit(code)} AS \"PARAMCD\", "
            f"{_lit(ENDPOINTS.get(code, code))} AS \"PARAM\", "
            f"CAST(COALESCE(f.first, {last}) - \"PROCDT\" AS DOUBLE) AS \"AVAL\", "
            f"CAST(CASE WHEN f.first IS NULL THEN {lc_cnsr} WHEN {event} = f.first THEN 0 "
            f"{cnsr} END AS INTEGER) AS \"CNSR\", "
            f"CASE WHEN f.first IS NULL THEN {lc_text} WHEN {event} = f.first THEN {event_text} "
            f"{text} END AS \"EVNTDESC\", \"PROCDT\" AS \"STARTDT\", "
            f"COALESCE(f.first, {last}) AS \"ADT\" "
            f"FROM {relation} w, LATERAL (SELECT {first} AS first) f WHERE {where}"
        )

    afs_text = (
        f"CASE WHEN {amp} <= {death} OR {death} IS NULL THEN 'MAJOR AMPUTATION' ELSE 'DEATH' END"
    )
    parts = [
        endpoint("AFS", f"least({amp}, {death})", afs_text, []),
        endpoint("LS", amp, "'MAJOR AMPUTATION'", [(death, 4, "DEATH")]),
        endpoint("OS", death, "'DEATH'", []),
    ]
    technical = "\"TECHSFL\" IS DISTINCT FROM 'N'" if "TECHSFL" in present else "TRUE"
    for code, column in PATENCY_DATES.items():
        if column not in present:
            continue
        date = w(column)
        parts.append(
            endpoint(code, date, _lit(EVENT_TEXT[code]),
                     [(amp, 5, "MAJOR AMPUTATION"), (death, 4, "DEATH")],
                     where=f"({technical} OR {date} IS NOT NULL)")
        )
    return " UNION ALL ".join(parts)
