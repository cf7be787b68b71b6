"""Checks across tables: each dependent row against its subject (unknown or rejected
subjects, times or dates after last contact or death, visits out of order, patency
tiers not nested).
"""

from __future__ import annotations

from analytics.extract.loading import (
    SUBJECT_TABLES,
    Load,
    LoadFile,
    RuleInfo,
)
from analytics.extract.tables import analysed_rows, final_table, subject_column
from analytics.extract.validate import internal
from analytics.model.filters import quote_ident
from analytics.model.schema import ADSL, TABLES


def subjects(load: Load) -> None:
    """`__subjects`: accepted subjects per study with the dates the table checks need;
    `__rejected_subjects`: identifiers whose subject row was rejected."""
    stored = load.stored["adsl"]
    cols = ", ".join(
        subject_column(load, c) if c in stored else
        f"CAST(NULL AS {ADSL.column(c).sql_type}) AS {quote_ident(c)}"
        for c in ("USUBJID", "PROCDT", "LSTCNTDT", "DTHDT", "TECHSFL"))
    load.sql(f"CREATE VIEW __subjects AS SELECT __study, {cols} FROM __adsl_data")
    subject = [s for s in load.srcs if s.table in SUBJECT_TABLES]
    load.sql(
        "CREATE TABLE __rejected_subjects AS " + " UNION ALL ".join(
            f"SELECT DISTINCT {s.study} AS __study, \"USUBJID\" FROM {s.typed} "
            f"WHERE __row IN (SELECT row FROM __rejected WHERE src = {s.id}) "
            "AND \"USUBJID\" IS NOT NULL" for s in subject))


def cross_checks(load: Load, src: LoadFile, defer: bool = False) -> bool:
    """One pass joining a dependent table to its subjects: unknown subjects (errors)
    and times or dates after last contact or death, and the like (warnings). A check
    runs only when the columns it compares are in the files.

    With `defer`, a single study and nothing to check but the subjects, the pass is
    left to `unknown_subjects_after_all` (the analysis table's join finds them for
    free) and False is returned."""
    table, have = src.table, set(src.present)
    stored = load.stored.get("adsl", set())
    subject_file = "the wide file" if any(
        s.table == "wide" and s.study == src.study for s in load.srcs) else "adsl"
    usub = f"t.{internal('__raw_', 'USUBJID')}"
    checks: list[tuple[str, RuleInfo, str]] = [
        (f"{table}.unknown_subject",
         RuleInfo("USUBJID", "error", f"subject is not in {subject_file}", usub),
         "s.\"USUBJID\" IS NULL AND r.\"USUBJID\" IS NULL"),
        (f"{table}.rejected_subject",
         RuleInfo("USUBJID", "error", f"the subject's row in {subject_file} was rejected",
                  usub),
         "s.\"USUBJID\" IS NULL AND r.\"USUBJID\" IS NOT NULL"),
    ]

    def warn(rule_id: str, column: str, message: str, cond: str, subject: tuple[str, ...],
             own: tuple[str, ...] = ()) -> None:
        if set(subject) <= stored and set(own) <= have:
            checks.append((rule_id, RuleInfo(column, "warning", message,
                                             f"t.{internal('__raw_', column)}"), cond))

    joins = ""
    if table == "adtte":
        # the date of the event or censoring, row by row: ADT, else its origin
        # (STARTDT, else PROCDT) + AVAL days; shown as the column it came from
        dates = tte_dates(load, src, stored)
        deaths = tte_deaths(load, src, stored, dates)
        if deaths:
            joins = f'LEFT JOIN ({deaths}) dd ON dd."USUBJID" = t."USUBJID" '
        recorded = ("the death recorded in adtte (an OS event or a censoring for death, "
                    "CNSR 4)")
        for shown, date in dates:
            low = shown.lower()
            warn(f"adtte.event_after_last_contact.{low}", shown,
                 "event is after the last contact date (LSTCNTDT)",
                 f't."CNSR" = 0 AND {date} > s."LSTCNTDT"', ("LSTCNTDT",))
            warn(f"adtte.censored_after_last_contact.{low}", shown,
                 "censoring is after the last contact date (LSTCNTDT)",
                 f't."CNSR" > 0 AND {date} > s."LSTCNTDT"', ("LSTCNTDT",))
            warn(f"adtte.event_after_death.{low}", shown,
                 "event is after the date of death (DTHDT)",
                 f't."CNSR" = 0 AND {date} > s."DTHDT"', ("DTHDT",))
            warn(f"adtte.censored_after_death.{low}", shown,
                 "censoring is after the date of death (DTHDT)",
                 f't."CNSR" > 0 AND {date} > s."DTHDT"', ("DTHDT",))
            if deaths:
                # without a date of death in the subject table, the death adtte records
                warn(f"adtte.event_after_recorded_death.{low}", shown,
                     f"event is after {recorded}",
                     f't."CNSR" = 0 AND s."DTHDT" IS NULL AND {date} > dd.__death', ())
                warn(f"adtte.censored_after_recorded_death.{low}", shown,
                     f"censoring is after {recorded}",
                     f't."CNSR" > 0 AND s."DTHDT" IS NULL AND {date} > dd.__death', ())
        warn("adtte.start_not_procedure", "STARTDT",
             "time origin (STARTDT) is not the procedure date (PROCDT)",
             't."STARTDT" <> s."PROCDT"', ("PROCDT",), ("STARTDT",))
        warn("adtte.technical_failure", "PARAMCD",
             "patency data for a technical failure (TECHSFL N)",
             't."PARAMCD" IN (\'PP\', \'PAP\', \'SP\') AND s."TECHSFL" = \'N\'',
             ("TECHSFL",))
    elif table == "visits":
        warn("visits.after_last_contact", "ADT",
             "visit is after the last contact date (LSTCNTDT)", 't."ADT" > s."LSTCNTDT"',
             ("LSTCNTDT",), ("ADT",))
        warn("visits.after_death", "ADT", "visit is after the date of death (DTHDT)",
             't."ADT" > s."DTHDT"', ("DTHDT",), ("ADT",))
        warn("visits.ady", "ADY",
             "ADY is not the number of days from the procedure (PROCDT) to ADT",
             '(t."ADT" - s."PROCDT") <> t."ADY"', ("PROCDT",), ("ADT", "ADY"))
    elif table == "adae":
        warn("adae.after_death", "ASTDY", "onset is after the date of death (DTHDT)",
             't."ASTDY" > (s."DTHDT" - s."PROCDT")', ("DTHDT", "PROCDT"), ("ASTDY",))
        warn("adae.after_last_contact", "ASTDY",
             "onset is after the last contact date (LSTCNTDT)",
             't."ASTDY" > (s."LSTCNTDT" - s."PROCDT")', ("LSTCNTDT", "PROCDT"), ("ASTDY",))
    for rule_id, info, _ in checks:
        load.register(rule_id, info)
    if defer and len(checks) == 2 and not load.layout.registry and src.parquet:
        return False
    join_checks(load, src, checks, joins)
    return True


def tte_dates(load: Load, src: LoadFile, stored: set[str], alias: str = "t",
              subject: str = "s") -> list[tuple[str, str]]:
    """(column shown, SQL date) of a time-to-event row: ADT where the row has one,
    else its origin + AVAL days, the origin being STARTDT, else the subject's PROCDT.
    Each date holds only for the rows it applies to (NULL elsewhere)."""
    have = set(src.present)
    days = f'TRY(CAST(floor({alias}."AVAL") AS INTEGER))'
    if "adtte.adt" in src.skip:  # the file counts days inclusively (said once)
        days = f"TRY({days} - 1)"
    origins = ([f'{alias}."STARTDT"'] if "STARTDT" in have else []) + (
        [f'{subject}."PROCDT"'] if "PROCDT" in stored else [])
    out: list[tuple[str, str]] = []
    if "ADT" in have:
        out.append(("ADT", f'{alias}."ADT"'))
    if origins:
        origin = origins[0] if len(origins) == 1 else f"COALESCE({', '.join(origins)})"
        fallback = f"TRY({origin} + {days})"
        if "ADT" in have:
            fallback = f'CASE WHEN {alias}."ADT" IS NULL THEN {fallback} END'
        out.append(("AVAL", fallback))
    return out


def tte_deaths(load: Load, src: LoadFile, stored: set[str], dates: list[tuple[str, str]]) -> str:
    """SQL: per subject of the file, the date of the earliest death it records (the OS
    event, or a censoring for death, CNSR 4); "" when no row can be dated."""
    if not dates:
        return ""
    inner = tte_dates(load, src, stored, "u", "v")
    date = (inner[0][1] if len(inner) == 1 else
            f"COALESCE({', '.join(d for _, d in inner)})")
    subjects = (f'LEFT JOIN __subjects v ON v."USUBJID" = u."USUBJID" '
                f"AND v.__study = {src.study} " if "PROCDT" in stored else "")
    return (f'SELECT u."USUBJID", min({date}) AS __death FROM {src.typed} u {subjects}'
            f"WHERE {load.accepted(src, 'u')} AND u.\"USUBJID\" IS NOT NULL AND "
            "((u.\"PARAMCD\" = 'OS' AND u.\"CNSR\" = 0) OR u.\"CNSR\" = 4) GROUP BY 1")


def join_checks(load: Load, src: LoadFile, checks: list[tuple[str, RuleInfo, str]],
                joins: str = "") -> None:
    cases = ", ".join(f"CASE WHEN {cond} THEN '{rule_id}' END" for rule_id, _, cond in checks)
    any_fails = " OR ".join(f"({cond})" for _, _, cond in checks)
    load.sql(
        f"INSERT INTO __hits SELECT {src.id}, row, rule FROM (SELECT t.__row AS row, "
        f"unnest([{cases}]) AS rule FROM {src.typed} t "
        f"LEFT JOIN __subjects s ON s.\"USUBJID\" = t.\"USUBJID\" AND s.__study = {src.study} "
        f"LEFT JOIN __rejected_subjects r ON r.\"USUBJID\" = t.\"USUBJID\" "
        f"AND r.__study = {src.study} {joins}"
        f"WHERE {load.accepted(src, 't')} AND t.\"USUBJID\" IS NOT NULL AND ({any_fails})) "
        "WHERE rule IS NOT NULL"
    )
    load.reject_errors(src)


def unknown_subjects_after_all(load: Load, deferred: list[LoadFile]) -> None:
    """The deferred subject check: every accepted time-to-event row that found its
    subject is in the analysis table (a join on a unique key), so equal counts prove
    there is none to reject; otherwise the rows are found, rejected and left out."""
    if not deferred:
        return
    if load.scalar("SELECT count(*) FROM adtte") == analysed_rows(load):
        return
    for src in deferred:
        table = src.table
        join_checks(load, src, [
            (rule_id, load.rules[rule_id], cond) for rule_id, cond in (
                (f"{table}.unknown_subject",
                 "s.\"USUBJID\" IS NULL AND r.\"USUBJID\" IS NULL"),
                (f"{table}.rejected_subject",
                 "s.\"USUBJID\" IS NULL AND r.\"USUBJID\" IS NOT NULL"))])
    # the time-to-event table must leave them out too (the analysis table already does)
    load.sql('DROP VIEW adtte')
    kind = load.scalar("SELECT count(*) FROM duckdb_views() WHERE view_name = '__adtte_data'")
    load.sql(f"DROP {'VIEW' if kind else 'TABLE'} __adtte_data")
    derived = [s for s in load.srcs if s.table == "wide"]
    final_table(load, TABLES["adtte"], [s for s in load.srcs if s.table == "adtte"], derived)


def patency_nesting(load: Load, src: LoadFile) -> None:
    """Primary patency is lost no later than primary-assisted, and that no later than
    secondary: per patient, PP <= PAP <= SP, and a lost tier implies the tiers below."""
    tiers = ("PP", "PAP", "SP")
    agg = ", ".join(
        f"max(\"AVAL\") FILTER (WHERE \"PARAMCD\" = '{p}') AS t_{p}, "
        f"max(\"CNSR\") FILTER (WHERE \"PARAMCD\" = '{p}') AS c_{p}, "
        f"min(__row) FILTER (WHERE \"PARAMCD\" = '{p}') AS r_{p}" for p in tiers)
    base = (f"SELECT \"USUBJID\", {agg} FROM {src.typed} WHERE {load.accepted(src)} "
            "AND \"PARAMCD\" IN ('PP', 'PAP', 'SP') GROUP BY \"USUBJID\"")
    nested = "the patency tiers must be nested (PP <= PAP <= SP)"
    pairs = (("PP", "PAP", "primary patency (PP) outlasts primary-assisted patency (PAP)"),
             ("PAP", "SP", "primary-assisted patency (PAP) outlasts secondary patency (SP)"))
    for low, high, text in pairs:
        rule_id = f"adtte.{low.lower()}_not_nested"
        load.register(rule_id, RuleInfo("AVAL", "warning", f"{text}: {nested}",
                                        f"t.{internal('__raw_', 'AVAL')}"))
        load.sql(
            f"INSERT INTO __hits SELECT {src.id}, r_{low}, '{rule_id}' FROM ({base}) "
            f"WHERE t_{low} > t_{high} OR (c_{high} = 0 AND c_{low} <> 0)"
        )


def visit_order(load: Load, src: LoadFile) -> None:
    """A patient's visits follow one another in time: taken in visit order (AVISITN),
    a visit dated after the next dated one runs backwards (one warning per such row,
    naming the next visit)."""
    if not {"USUBJID", "AVISITN", "ADT"} <= set(src.present):
        return
    rule_id = "visits.out_of_order"
    load.register(rule_id, RuleInfo("ADT", "warning",
                                    "visit is dated after the next visit (by AVISITN)",
                                    f"t.{internal('__raw_', 'ADT')}"))
    label = (f'COALESCE("AVISIT", \'AVISITN \' || {internal("__raw_", "AVISITN")})'
             if "AVISIT" in src.present else
             f"'AVISITN ' || {internal('__raw_', 'AVISITN')}")
    order = 'PARTITION BY "USUBJID" ORDER BY "AVISITN", __row'
    load.sql(
        f"CREATE TEMP TABLE __backwards AS SELECT __row, next_visit, next_date FROM ("
        f'SELECT __row, "ADT", lead({label}) OVER ({order}) AS next_visit, '
        f'lead("ADT") OVER ({order}) AS next_date FROM {src.typed} '
        f'WHERE {load.accepted(src)} AND "USUBJID" IS NOT NULL AND "AVISITN" IS NOT NULL '
        'AND "ADT" IS NOT NULL) WHERE "ADT" > next_date')
    load.sql(f"INSERT INTO __hits SELECT {src.id}, __row, '{rule_id}' FROM __backwards")
    load.sql(f"INSERT INTO __details SELECT {src.id}, __row, '{rule_id}', "
             "'visit is dated after the next visit (by AVISITN), ' || next_visit || "
             "' on ' || strftime(next_date, '%Y-%m-%d') FROM __backwards")
    load.sql("DROP TABLE __backwards")
