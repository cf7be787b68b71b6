"""Writes the corpus of malformed extracts in tests/corpus/<case>/, each with the exact
report it must produce (expected.json); tests/malformed/test_validation.py checks both.

    .venv/bin/python tests/corpus/make_corpus.py            # rewrite the corpus here
    .venv/bin/python tests/corpus/make_corpus.py --out DIR  # elsewhere (the test does)

Every case starts from one small, valid extract (four invented patients, no issue at
all: the case `ok_control` proves it) and breaks one thing. The expectations are
written here by hand, not taken from the loader: they say what a user should read.
Output is byte for byte reproducible (Excel files are re-zipped with fixed times).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import re
import shutil
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from analytics.model.schema import ADAE, ADSL, ADTTE, VISITS  # noqa: E402

Row = dict[str, str]
W, E = "warning", "error"

# --- the valid base extract -----------------------------------------------------------------


def _day(start: str, days: int) -> str:
    return (dt.date.fromisoformat(start) + dt.timedelta(days=days)).isoformat()


def base_adsl() -> list[Row]:
    common = {
        "STUDYID": "CORPUS", "SITEID": "01", "AGE": "65", "AGEGR1": "<=70", "SEX": "M",
        "RACE": "WHITE", "ETHNIC": "NOT HISPANIC OR LATINO", "BMI": "27.5",
        "SMOKSTAT": "NEVER", "HTNFL": "Y", "DLPFL": "N", "DIABFL": "Y", "DIABTYP": "TYPE 2",
        "CKDFL": "N", "DIALFL": "N", "STROKEFL": "N", "MIFL": "N", "RUTHCAT": "5",
        "PRIORFL": "N", "NOOPTRS": "NO PEDAL TARGET", "TECHSFL": "Y",
        "XARTERY": "PERONEAL ARTERY", "XVEIN": "PERONEAL VEIN", "PROCMIN": "120",
        "RADMGY": "300", "CONTRML": "80", "CINFL": "N", "ACDURD": "90", "DTHFL": "N",
        "DTHDT": "", "DTHCAUS": "", "EOSSTT": "COMPLETED",
    }
    rows = [
        {"USUBJID": "P-001", "ENRLDT": "2021-01-04", "PROCDT": "2021-01-11",
         "LSTCNTDT": "2022-01-11"},
        {"USUBJID": "P-002", "ENRLDT": "2021-01-04", "PROCDT": "2021-01-11",
         "LSTCNTDT": "2022-01-11", "AGE": "74", "AGEGR1": ">70"},
        {"USUBJID": "P-003", "ENRLDT": "2021-01-25", "PROCDT": "2021-02-01",
         "LSTCNTDT": "2021-08-20", "DTHFL": "Y", "DTHDT": "2021-08-20", "DTHCAUS": "CARDIAC",
         "EOSSTT": "DEATH", "RUTHCAT": "6"},
        {"USUBJID": "P-004", "ENRLDT": "2021-02-22", "PROCDT": "2021-03-01",
         "LSTCNTDT": "2022-03-01", "SEX": "F", "BMI": "31.2"},
    ]
    return [{c: r.get(c, common.get(c, "")) for c in ADSL.names} for r in rows]


LABELS = {"AFS": "Amputation-free survival",
          "LS": "Limb salvage (freedom from above-ankle amputation)",
          "OS": "Overall survival", "PP": "Primary patency",
          "PAP": "Primary-assisted patency", "SP": "Secondary patency"}


def tte(usubjid: str, code: str, start: str, aval: int, cnsr: int, desc: str) -> Row:
    return {"STUDYID": "CORPUS", "USUBJID": usubjid, "PARAMCD": code, "PARAM": LABELS[code],
            "AVAL": str(aval), "CNSR": str(cnsr), "EVNTDESC": desc, "STARTDT": start,
            "ADT": _day(start, aval)}


LAST = "CENSORED AT LAST CONTACT"


def base_adtte() -> list[Row]:
    p1, p3, p4 = "2021-01-11", "2021-02-01", "2021-03-01"
    return [
        tte("P-001", "AFS", p1, 365, 1, LAST), tte("P-001", "LS", p1, 365, 1, LAST),
        tte("P-001", "OS", p1, 365, 1, LAST),
        tte("P-002", "AFS", p1, 100, 0, "MAJOR AMPUTATION"),
        tte("P-002", "LS", p1, 100, 0, "MAJOR AMPUTATION"), tte("P-002", "OS", p1, 365, 1, LAST),
        tte("P-003", "AFS", p3, 200, 0, "DEATH"), tte("P-003", "LS", p3, 200, 4, "DEATH"),
        tte("P-003", "OS", p3, 200, 0, "DEATH"),
        tte("P-004", "AFS", p4, 365, 1, LAST), tte("P-004", "LS", p4, 365, 1, LAST),
        tte("P-004", "OS", p4, 365, 1, LAST),
    ]


def visit(usubjid: str, name: str, months: str, start: str, days: int, area: str,
          status: str = "HEALING") -> Row:
    return {"USUBJID": usubjid, "AVISIT": name, "AVISITN": months, "ADT": _day(start, days),
            "ADY": str(days), "WNDAREA": area, "WNDSTAT": status if area else "",
            "ALLHLFL": "N", "RUTHCAT": "5"}


def wide_base() -> list[Row]:
    rows = base_adsl()
    for r in rows:
        r["AMPDT"] = "2021-04-21" if r["USUBJID"] == "P-002" else ""
    return rows


# --- writers --------------------------------------------------------------------------------


def csv_text(rows: list[Row], columns: list[str] | None = None, delim: str = ",") -> str:
    columns = columns or list(rows[0])

    def cell(v: str) -> str:
        return f'"{v.replace(chr(34), chr(34) * 2)}"' if any(
            ch in v for ch in (delim, '"', "\n")) else v

    lines = [delim.join(cell(c) for c in columns)]
    lines += [delim.join(cell(r.get(c, "")) for c in columns) for r in rows]
    return "\n".join(lines) + "\n"


def parquet_bytes(rows: list[Row], types: dict[str, str]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays = {}
    for col in rows[0]:
        values = [r[col] for r in rows]
        kind = types.get(col, "str")
        if kind == "int":
            arrays[col] = pa.array([int(v) if v else None for v in values], pa.int32())
        elif kind == "float":
            arrays[col] = pa.array([float(v) if v else None for v in values], pa.float64())
        elif kind == "date":
            arrays[col] = pa.array([dt.date.fromisoformat(v) if v else None for v in values],
                                   pa.date32())
        else:
            arrays[col] = pa.array([v if v else None for v in values], pa.string())
    buf = io.BytesIO()
    pq.write_table(pa.table(arrays), buf)
    return buf.getvalue()


def xlsx_bytes(sheets: dict[str, list[list[object]]]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    fixed = dt.datetime(2024, 1, 1)
    book.properties.created = fixed
    book.properties.modified = fixed
    raw = io.BytesIO()
    book.save(raw)
    # openpyxl stamps every zip entry with the current time: re-zip with a fixed one
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=(2024, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # saving stamps "modified" with now
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2024-01-01T00:00:00Z",
                              data)
            dst.writestr(entry, data)
    return out.getvalue()


# --- cases ----------------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    description: str
    files: dict[str, bytes | str]
    issues: list[tuple[str, int | None, str | None, str | None, str, str]]
    usable: bool = True
    reason: str = ""
    rows: list[tuple[str, int, int, int]] = field(default_factory=list)


def extract(adsl: list[Row] | None = None, adtte: list[Row] | None = None
            ) -> dict[str, bytes | str]:
    return {
        "adsl.csv": csv_text(adsl if adsl is not None else base_adsl()),
        "adtte.csv": csv_text(adtte if adtte is not None else base_adtte()),
    }


def edit(rows: list[Row], index: int, **values: str) -> list[Row]:
    rows[index].update(values)
    return rows


def without(rows: list[Row], *columns: str) -> list[Row]:
    return [{k: v for k, v in r.items() if k not in columns} for r in rows]


def base_counts(adsl: int = 4, adtte: int = 12) -> list[tuple[str, int, int, int]]:
    return [("adsl.csv", adsl, adsl, 0), ("adtte.csv", adtte, adtte, 0)]


NOT_WHOLE = "not a whole number; kept as missing"
NOT_DATE = "not a date (YYYY-MM-DD); kept as missing"
RAGGED = "values but the header has 9 columns (a value may hold an unquoted delimiter or a " \
         "stray quote)"
NESTED_WIDE = "the patency tiers must be nested (primary, then primary-assisted, then secondary)"
REJECTED_SUBJECT = "the subject's row in adsl was rejected"


def cases() -> list[Case]:
    c: list[Case] = []
    add = c.append

    add(Case("ok_control", "the valid base extract: no issue", extract(), [],
             rows=base_counts()))

    add(Case("empty_file", "adsl.csv holds no bytes", extract() | {"adsl.csv": ""},
             [("adsl.csv", None, None, None, E, "the file is empty")], usable=False))

    add(Case("header_only", "adtte.csv has a header and no rows",
             extract() | {"adtte.csv": csv_text(base_adtte()).splitlines()[0] + "\n"},
             [("adtte.csv", None, None, None, E, "has a header but no rows")], usable=False))

    files = extract()
    del files["adtte.csv"]
    add(Case("missing_table", "no adtte file", files,
             [("missing_table", None, None, None, E,
               "missing required table(s) adtte (a file named e.g. adtte.csv, adtte.parquet, "
               "adtte.xpt or adtte.xlsx); for one row per patient with event dates, name the "
               "file wide.csv")], usable=False))

    add(Case("missing_key_column", "adsl has no USUBJID column",
             extract(adsl=without(base_adsl(), "USUBJID")),
             [("adsl.csv", None, "USUBJID", None, E,
               "required column USUBJID is missing (columns found: STUDYID, SITEID, AGE, "
               "AGEGR1, SEX, RACE, ETHNIC, BMI, SMOKSTAT, HTNFL, DLPFL, DIABFL, ...)")],
             usable=False))

    add(Case("missing_time_columns", "adtte has neither AVAL nor CNSR",
             extract(adtte=without(base_adtte(), "AVAL", "CNSR")),
             [("adtte.csv", None, "AVAL", None, E,
               "required columns AVAL, CNSR are missing (columns found: STUDYID, USUBJID, "
               "PARAMCD, PARAM, EVNTDESC, STARTDT, ADT)")], usable=False))

    adsl = edit(base_adsl(), 0, BMI="27,5")
    add(Case("semicolon_delimited", "adsl.csv separated by semicolons, with a decimal comma",
             extract() | {"adsl.csv": csv_text(adsl, delim=";")},
             [("adsl.csv", None, None, None, W,
               "columns are separated by semicolons, not commas: read as such, and decimal "
               "commas (27,5) as decimal points")], rows=base_counts()))

    add(Case("tab_delimited", "adtte.csv separated by tabs",
             extract() | {"adtte.csv": csv_text(base_adtte(), delim="\t")},
             [("adtte.csv", None, None, None, W,
               "columns are separated by tabs, not commas: read as such")], rows=base_counts()))

    add(Case("utf16", "adsl.csv saved as UTF-16 (with its byte-order mark)",
             extract() | {"adsl.csv": csv_text(base_adsl()).encode("utf-16")},
             [("adsl.csv", None, None, None, W,
               "the file is UTF-16 text, not UTF-8: read as UTF-16")], rows=base_counts()))

    adsl = edit(base_adsl(), 2, DTHCAUS="DÉCÈS CARDIAQUE")
    add(Case("windows_1252", "adsl.csv saved as Windows-1252, an accented cause of death",
             extract() | {"adsl.csv": csv_text(adsl).encode("cp1252")},
             [("adsl.csv", None, None, None, W,
               "the file is not UTF-8 (first non-UTF-8 byte on line 4): read as Windows-1252 "
               "(Western European); check accented letters, or save the file as UTF-8")],
             rows=base_counts()))

    add(Case("binary_file", "adsl.csv is not text at all",
             extract() | {"adsl.csv": b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256))},
             [("adsl.csv", None, None, None, E,
               "is not a text file (it contains NUL bytes); export the table as CSV text")],
             usable=False))

    text = csv_text(base_adtte())
    text += "CORPUS,P-004,PP,Primary patency,365,1,x,2021-03-01,2022-03-01,surplus\n"
    text += "CORPUS,P-004,PAP,Primary-assisted patency,365,1,x,2021-03-01\n"
    add(Case("ragged_rows", "two adtte rows with one value too many and one too few",
             extract() | {"adtte.csv": text},
             [("adtte.csv", 13, None, "surplus", E, f"has 10 {RAGGED}"),
              ("adtte.csv", 14, None, None, E, f"has 8 {RAGGED}")],
             rows=[("adsl.csv", 4, 4, 0), ("adtte.csv", 14, 12, 2)]))

    text = csv_text(base_adtte())
    text += 'CORPUS,P-004,"PP,Primary patency,365,1,x,2021-03-01,2022-03-01\n'
    add(Case("stray_quote", "the last adtte row opens a quote it never closes",
             extract() | {"adtte.csv": text},
             [("adtte.csv", 13, None, None, E, f"has 3 {RAGGED}")],
             rows=[("adsl.csv", 4, 4, 0), ("adtte.csv", 13, 12, 1)]))

    adsl = base_adsl()
    adsl.append(dict(adsl[1]))
    add(Case("duplicate_subject", "P-002 appears twice in adsl", extract(adsl=adsl),
             [("adsl.csv", 5, "USUBJID", "P-002", E,
               "duplicate USUBJID: also in row 2, which is kept")],
             rows=[("adsl.csv", 5, 4, 1), ("adtte.csv", 12, 12, 0)]))

    adtte = base_adtte()
    adtte.append(dict(adtte[2]))
    add(Case("duplicate_endpoint", "P-001 has two OS rows", extract(adtte=adtte),
             [("adtte.csv", 13, "PARAMCD", "OS", E,
               "duplicate USUBJID and PARAMCD: also in row 3, which is kept")],
             rows=[("adsl.csv", 4, 4, 0), ("adtte.csv", 13, 12, 1)]))

    adtte = base_adtte()
    adtte.append(tte("P-999", "OS", "2021-01-11", 30, 0, "DEATH"))
    add(Case("unknown_subject", "an adtte row for a patient adsl does not have",
             extract(adtte=adtte),
             [("adtte.csv", 13, "USUBJID", "P-999", E, "subject is not in adsl")],
             rows=[("adsl.csv", 4, 4, 0), ("adtte.csv", 13, 12, 1)]))

    adtte = edit(edit(base_adtte(), 1, AVAL="-3"), 4, AVAL="")
    add(Case("negative_or_missing_time", "one negative and one empty AVAL",
             extract(adtte=adtte),
             [("adtte.csv", 2, "AVAL", "-3", E, "time to event is negative"),
              ("adtte.csv", 5, "AVAL", None, E, "time to event is missing or not a number")],
             rows=[("adsl.csv", 4, 4, 0), ("adtte.csv", 12, 10, 2)]))

    adtte = edit(edit(edit(base_adtte(), 2, CNSR="1.5"), 5, CNSR="-1"), 8, CNSR="yes")
    add(Case("bad_censoring", "CNSR 1.5, -1 and 'yes'", extract(adtte=adtte),
             [("adtte.csv", 3, "CNSR", "1.5", E, "censoring code is missing or not a whole number"),
              ("adtte.csv", 6, "CNSR", "-1", E,
               "censoring code must be 0 (event) or a positive integer"),
              ("adtte.csv", 9, "CNSR", "yes", E,
               "censoring code is missing or not a whole number")],
             rows=[("adsl.csv", 4, 4, 0), ("adtte.csv", 12, 9, 3)]))

    adsl = edit(edit(edit(base_adsl(), 0, AGE="sixty"), 1, BMI="n/a"), 3, ACDURD="30.5")
    add(Case("wrong_types", "text where numbers belong: kept as missing, with a warning",
             extract(adsl=adsl),
             [("adsl.csv", 1, "AGE", "sixty", W, NOT_WHOLE),
              ("adsl.csv", 2, "BMI", "n/a", W, "not a number; kept as missing"),
              ("adsl.csv", 4, "ACDURD", "30.5", W, NOT_WHOLE)], rows=base_counts()))

    adsl = edit(base_adsl(), 0, ENRLDT="04/01/2021")
    adtte = edit(base_adtte(), 3, ADT="2021-13-40")
    add(Case("bad_dates", "dates not in YYYY-MM-DD form", extract(adsl=adsl, adtte=adtte),
             [("adsl.csv", 1, "ENRLDT", "04/01/2021", W, NOT_DATE),
              ("adtte.csv", 4, "ADT", "2021-13-40", W, NOT_DATE)], rows=base_counts()))

    adsl = edit(edit(edit(edit(base_adsl(), 0, SEX="Male"), 1, SEX="Male", DIALFL="yes"), 2,
                     RACE="CAUCASIAN"), 3, SEX="Female")
    add(Case("unknown_codes", "codes the data model does not know; one line per distinct value",
             extract(adsl=adsl),
             [("adsl.csv", 1, "SEX", "Male", W,
               "not one of M, F; kept as given (2 rows, the first shown)"),
              ("adsl.csv", 2, "DIALFL", "yes", W, "not one of Y, N; kept as given"),
              ("adsl.csv", 3, "RACE", "CAUCASIAN", W,
               "not one of WHITE, BLACK OR AFRICAN AMERICAN, ASIAN, UNKNOWN; kept as given"),
              ("adsl.csv", 4, "SEX", "Female", W, "not one of M, F; kept as given")],
             rows=base_counts()))

    adsl = edit(edit(edit(base_adsl(), 0, AGE="130"), 1, BMI="95"), 3, AGE="12")
    age = "implausible age (expected 18 to 110 years); kept as given"
    add(Case("implausible_values", "age 130 and 12, body-mass index 95", extract(adsl=adsl),
             [("adsl.csv", 1, "AGE", "130", W, age),
              ("adsl.csv", 2, "BMI", "95", W,
               "implausible body-mass index (expected 10 to 80 kg/m2); kept as given"),
              ("adsl.csv", 4, "AGE", "12", W, age)], rows=base_counts()))

    p1 = "2021-01-11"
    visits = [visit("P-001", "BASELINE", "0", p1, 0, "12.5"),
              visit("P-001", "MONTH 1", "1", p1, 30, "-2"),
              visit("P-001", "MONTH 3", "3", p1, 91, "600")]
    wound = "implausible wound area (expected 0 to 500 cm2); kept as given"
    add(Case("wound_area", "wound areas of -2 and 600 cm2",
             extract() | {"visits.csv": csv_text(visits, list(VISITS.required_names))},
             [("visits.csv", 2, "WNDAREA", "-2", W, wound),
              ("visits.csv", 3, "WNDAREA", "600", W, wound)],
             rows=[*base_counts(), ("visits.csv", 3, 3, 0)]))

    adsl = edit(base_adsl(), 1, LSTCNTDT="2021-03-01")
    add(Case("event_after_last_contact", "P-002 is last seen before the amputation",
             extract(adsl=adsl),
             [("adtte.csv", 4, "ADT", "2021-04-21", W,
               "event is after the last contact date (LSTCNTDT)"),
              ("adtte.csv", 5, "ADT", "2021-04-21", W,
               "event is after the last contact date (LSTCNTDT)"),
              ("adtte.csv", 6, "ADT", "2022-01-11", W,
               "censoring is after the last contact date (LSTCNTDT)")], rows=base_counts()))

    adtte = edit(base_adtte(), 7, AVAL="250", CNSR="0", EVNTDESC="MAJOR AMPUTATION",
                 ADT=_day("2021-02-01", 250))
    add(Case("event_after_death", "P-003's amputation is dated after the death",
             extract(adtte=adtte),
             [("adtte.csv", 8, "ADT", "2021-10-09", W, "event is after the date of death (DTHDT)"),
              ("adtte.csv", 8, "ADT", "2021-10-09", W,
               "event is after the last contact date (LSTCNTDT)")], rows=base_counts()))

    adtte = edit(base_adtte(), 7, AVAL="250", CNSR="0", EVNTDESC="MAJOR AMPUTATION", ADT="",
                 STARTDT="")
    add(Case("event_after_death_undated",
             "P-003's amputation at day 250, after the death at day 200, with ADT and STARTDT "
             "empty: dated from PROCDT + AVAL",
             extract(adtte=adtte),
             [("adtte.csv", 8, "AVAL", "250", W, "event is after the date of death (DTHDT)"),
              ("adtte.csv", 8, "AVAL", "250", W,
               "event is after the last contact date (LSTCNTDT)")], rows=base_counts()))

    adtte = [*base_adtte(), tte("P-003", "PP", "2021-02-01", 250, 0, "OCCLUSION")]
    recorded = "the death recorded in adtte (an OS event or a censoring for death, CNSR 4)"
    add(Case("event_after_death_in_adtte",
             "adsl has no DTHDT; P-003's OS event (day 200) is followed by a PP event (day 250)",
             extract(adsl=without(base_adsl(), "DTHDT"), adtte=adtte),
             [("adsl.csv", None, None, None, W,
               "column of the data model absent (every row has it missing): DTHDT"),
              ("adtte.csv", 13, "ADT", "2021-10-09", W, f"event is after {recorded}"),
              ("adtte.csv", 13, "ADT", "2021-10-09", W,
               "event is after the last contact date (LSTCNTDT)")],
             rows=base_counts(adtte=13)))

    adtte = edit(base_adtte(), 8, AVAL="250", CNSR="1", EVNTDESC=LAST,
                 ADT=_day("2021-02-01", 250))
    add(Case("censored_after_death", "P-003 died at day 200 but OS is censored alive at day 250",
             extract(adtte=adtte),
             [("adtte.csv", 9, "ADT", "2021-10-09", W,
               "censoring is after the date of death (DTHDT)"),
              ("adtte.csv", 9, "ADT", "2021-10-09", W,
               "censoring is after the last contact date (LSTCNTDT)")], rows=base_counts()))

    adsl = edit(base_adsl(), 2, LSTCNTDT="2021-09-30")
    add(Case("last_contact_after_death", "P-003 is last seen after the date of death",
             extract(adsl=adsl),
             [("adsl.csv", 3, "LSTCNTDT", "2021-09-30", W,
               "last contact is after the date of death (DTHDT)")], rows=base_counts()))

    adsl = edit(base_adsl(), 1, LSTCNTDT="")
    add(Case("last_contact_missing", "P-002 has no last contact date", extract(adsl=adsl),
             [("adsl.csv", 2, "LSTCNTDT", None, W,
               "last contact date is missing: events after last contact cannot be checked")],
             rows=base_counts()))

    adsl = edit(base_adsl(), 1, USUBJID="P-002 ")
    add(Case("padded_identifier", "adsl writes P-002 with a trailing space: still P-002's rows",
             extract(adsl=adsl),
             [("adsl.csv", None, "USUBJID", None, W,
               "spaces around 1 identifier value removed (USUBJID: 1): identifiers are matched "
               "without them")], rows=base_counts()))

    adsl = edit(base_adsl(), 3, ENRLDT="2021-03-15")
    add(Case("procedure_before_enrolment", "P-004 is treated before being enrolled",
             extract(adsl=adsl),
             [("adsl.csv", 4, "PROCDT", "2021-03-01", W,
               "procedure date is before the enrolment date (ENRLDT)")], rows=base_counts()))

    adtte = edit(base_adtte(), 0, ADT="2022-01-12")
    add(Case("adt_mismatch", "ADT one day after STARTDT + AVAL (and after the last contact)",
             extract(adtte=adtte),
             [("adtte.csv", 1, "ADT", "2022-01-12", W, "ADT is not STARTDT + AVAL days"),
              ("adtte.csv", 1, "ADT", "2022-01-12", W,
               "censoring is after the last contact date (LSTCNTDT)")], rows=base_counts()))

    adtte = base_adtte()
    for r in adtte:
        r["AVAL"] = str(int(r["AVAL"]) + 1)
    add(Case("inclusive_aval", "every AVAL counts both the first and the last day",
             extract(adtte=adtte),
             [("adtte.csv", None, "AVAL", None, W,
               "every row counts AVAL inclusively (ADT = STARTDT + AVAL - 1) where the data "
               "model counts days from STARTDT (ADT = STARTDT + AVAL): times are analysed as "
               "given, one day longer")], rows=base_counts()))

    adtte = [
        *base_adtte(),
        tte("P-001", "PP", p1, 300, 0, "LOSS OF PRIMARY PATENCY"),
        tte("P-001", "PAP", p1, 150, 0, "OCCLUSION"),
        tte("P-001", "SP", p1, 365, 1, LAST),
    ]
    add(Case("patency_not_nested", "primary patency outlasts primary-assisted patency",
             extract(adtte=adtte),
             [("adtte.csv", 13, "AVAL", "300", W,
               "primary patency (PP) outlasts primary-assisted patency (PAP): the patency "
               "tiers must be nested (PP <= PAP <= SP)")], rows=base_counts(adtte=15)))

    adsl = edit(base_adsl(), 3, TECHSFL="N")
    adtte = [*base_adtte(), tte("P-004", "PP", "2021-03-01", 365, 1, LAST)]
    add(Case("technical_failure_patency", "a technical failure with a patency row",
             extract(adsl=adsl, adtte=adtte),
             [("adtte.csv", 13, "PARAMCD", "PP", W,
               "patency data for a technical failure (TECHSFL N)")],
             rows=base_counts(adtte=13)))

    adsl = edit(edit(base_adsl(), 0, DTHFL="Y"), 2, DTHFL="N")
    add(Case("death_flag_mismatch", "DTHFL and DTHDT disagree", extract(adsl=adsl),
             [("adsl.csv", 1, "DTHFL", "Y", W, "DTHFL is Y but the date of death is missing"),
              ("adsl.csv", 3, "DTHDT", "2021-08-20", W,
               "a date of death is given but DTHFL is not Y")], rows=base_counts()))

    wide = edit(wide_base(), 1, AMPDT="2022-02-01")
    add(Case("wide_event_after_last_contact", "wide file: an amputation after the last contact",
             {"wide.csv": csv_text(wide)},
             [("wide.csv", 2, "AMPDT", "2022-02-01", W,
               "major amputation is after the last contact date (LSTCNTDT)")],
             rows=[("wide.csv", 4, 4, 0)]))

    wide = edit(edit(edit(wide_base(), 0, AMPDT="2020-12-01"), 1, ENRLDT="2021-01-20"), 3,
                LSTCNTDT="2021-02-01")
    add(Case("wide_dates_out_of_order", "wide file: dates before the procedure",
             {"wide.csv": csv_text(wide)},
             [("wide.csv", 1, "AMPDT", "2020-12-01", E,
               "major amputation is before the procedure date (PROCDT)"),
              ("wide.csv", 2, "PROCDT", "2021-01-11", W,
               "procedure date is before the enrolment date (ENRLDT)"),
              ("wide.csv", 4, "LSTCNTDT", "2021-02-01", E,
               "last contact is before the procedure date (PROCDT)")],
             rows=[("wide.csv", 4, 2, 2)]))

    wide = edit(wide_base(), 1, AMPDT="unknown")
    add(Case("wide_unreadable_event_date", "wide file: an amputation date that is not a date",
             {"wide.csv": csv_text(wide)},
             [("wide.csv", 2, "AMPDT", "unknown", E,
               "not a date (YYYY-MM-DD): an event date cannot be left out")],
             rows=[("wide.csv", 4, 3, 1)]))

    wide = wide_base()
    for r in wide:
        r.update(PPLOSDT="", PAPLOSDT="", SPLOSDT="")
    wide[0].update(PAPLOSDT="2021-05-01")
    wide[1].update(PPLOSDT="2021-02-01", PAPLOSDT="2021-03-01", SPLOSDT="2021-02-01")
    wide[3].update(TECHSFL="N", PPLOSDT="2021-06-01")
    add(Case("wide_patency_not_nested", "wide file: patency dates out of tier order",
             {"wide.csv": csv_text(wide)},
             [("wide.csv", 1, "PPLOSDT", None, W,
               "primary patency is not lost although primary-assisted patency is (PAPLOSDT): "
               f"{NESTED_WIDE}"),
              ("wide.csv", 2, "PAPLOSDT", "2021-03-01", W,
               f"primary-assisted patency is lost after secondary patency (SPLOSDT): "
               f"{NESTED_WIDE}"),
              ("wide.csv", 4, "PPLOSDT", "2021-06-01", W,
               "patency data for a technical failure (TECHSFL N)")],
             rows=[("wide.csv", 4, 4, 0)]))

    site_b_adsl = without([edit(base_adsl(), 0, USUBJID="P-101")[0], base_adsl()[1]], "STUDYID")
    site_b_tte = without([r for r in base_adtte() if r["USUBJID"] in ("P-001", "P-002")],
                         "STUDYID")
    for r in site_b_tte:
        if r["USUBJID"] == "P-001":
            r["USUBJID"] = "P-101"
    add(Case("registry_collision", "two sites of a registry share the identifier P-002",
             {"site-a/adsl.csv": csv_text(base_adsl()), "site-a/adtte.csv": csv_text(base_adtte()),
              "site-b/adsl.csv": csv_text(site_b_adsl), "site-b/adtte.csv": csv_text(site_b_tte)},
             [("site-b/adsl.csv", 2, "USUBJID", "P-002", E,
               "subject identifier is also used in study site-a: identifiers must be unique "
               "across the registry"),
              ("site-b/adtte.csv", 4, "USUBJID", "P-002", E, REJECTED_SUBJECT),
              ("site-b/adtte.csv", 5, "USUBJID", "P-002", E, REJECTED_SUBJECT),
              ("site-b/adtte.csv", 6, "USUBJID", "P-002", E, REJECTED_SUBJECT)],
             rows=[("site-a/adsl.csv", 4, 4, 0), ("site-a/adtte.csv", 12, 12, 0),
                   ("site-b/adsl.csv", 2, 1, 1), ("site-b/adtte.csv", 6, 3, 3)]))

    site_b_adsl = [dict(r, USUBJID=r["USUBJID"].replace("P-00", "P-10"))
                   for r in base_adsl()[:2]]
    site_b_tte = [dict(r, USUBJID=r["USUBJID"].replace("P-00", "P-10")) for r in base_adtte()
                  if r["USUBJID"] in ("P-001", "P-002")]
    folder = "SITEID not in the file: taken from the folder name"
    add(Case("registry_site_from_folder",
             "a registry of two site folders whose adsl files have no SITEID column",
             {"site-a/adsl.csv": csv_text(without(base_adsl(), "SITEID")),
              "site-a/adtte.csv": csv_text(base_adtte()),
              "site-b/adsl.csv": csv_text(without(site_b_adsl, "SITEID")),
              "site-b/adtte.csv": csv_text(site_b_tte)},
             [("site-a/adsl.csv", None, "SITEID", None, W, f"{folder} 'site-a'"),
              ("site-b/adsl.csv", None, "SITEID", None, W, f"{folder} 'site-b'")],
             rows=[("site-a/adsl.csv", 4, 4, 0), ("site-a/adtte.csv", 12, 12, 0),
                   ("site-b/adsl.csv", 2, 2, 0), ("site-b/adtte.csv", 6, 6, 0)]))

    gendered = [{("GENDER" if k == "SEX" else k): v for k, v in r.items()} for r in base_adsl()]
    add(Case("mapping_unknown_target", "mapping.toml renames a column to one that does not exist",
             extract(adsl=gendered) | {"mapping.toml": '[columns]\nGENDER = "SEXX"\n'},
             [("mapping.toml", 2, "columns.GENDER", "SEXX", E,
               "'SEXX' is not a column of the data model")], usable=False))

    add(Case("mapping_conflict", "mapping.toml renames two columns to SEX",
             extract(adsl=gendered)
             | {"mapping.toml": '[columns]\nGENDER = "SEX"\nSEXE = "SEX"\n'},
             [("mapping.toml", 3, "columns.SEXE", "SEX", E,
               "both GENDER and SEXE are renamed to SEX; keep one")], usable=False))

    both = [dict(r, GENDER=r["SEX"]) for r in base_adsl()]
    add(Case("mapping_rename_clash", "mapping.toml renames GENDER to SEX, and SEX is there too",
             extract(adsl=both) | {"mapping.toml": '[columns]\nGENDER = "SEX"\n'},
             [("adsl.csv", None, "SEX", None, E,
               "columns 'SEX' and 'GENDER' (renamed by mapping.toml line 2, key columns.GENDER) "
               "would both be SEX; column names are matched whatever their case")],
             usable=False))

    add(Case("mapping_bad_code", "mapping.toml recodes SEX to a value the model does not allow",
             extract() | {"mapping.toml": '[values.SEX]\n"1" = "Male"\n'},
             [("mapping.toml", 2, "values.SEX.1", "Male", E,
               "'Male' is not an allowed value of SEX (F, M)")], usable=False))

    add(Case("mapping_yaml_duplicate_key", "mapping.yaml gives one key twice",
             extract(adsl=gendered)
             | {"mapping.yaml": "columns:\n  GENDER: SEX\n  GENDER: AGE\n"},
             [("mapping.yaml", 3, "columns.GENDER", None, E, "the key is given twice")],
             usable=False))

    coded = [{("PATIENT" if k == "USUBJID" else k): v for k, v in r.items()} for r in base_adsl()]
    for r, sex in zip(coded, ("1", "1", "2", "3"), strict=True):
        r["SEX"] = sex
        r["DIALFL"] = {"N": "No", "Y": "Yes"}[r["DIALFL"]]
    mapping = ('[columns]\nPATIENT = "USUBJID"\n\n[values.SEX]\n"1" = "M"\n"2" = "F"\n\n'
               '[flag_values]\nYes = "Y"\nNo = "N"\n')
    add(Case("mapping_recode_leftover", "mapping.toml recodes SEX 1/2 and Yes/No; a 3 remains",
             extract(adsl=coded) | {"mapping.toml": mapping},
             [("adsl.csv", 4, "SEX", "3", W, "not one of M, F; kept as given")],
             rows=base_counts()))

    add(Case("excel_not_a_workbook", "extract.xlsx is a text file in disguise",
             {"extract.xlsx": "USUBJID,SEX\nP-001,M\n"},
             [("extract.xlsx", None, None, None, E,
               "cannot be read as an Excel workbook (.xlsx): File is not a zip file")],
             usable=False))

    def sheet(rows: list[Row], dates: tuple[str, ...] = ()) -> list[list[object]]:
        def cell(col: str, v: str) -> object:
            if not v:
                return None
            if col in dates:
                return dt.datetime.fromisoformat(v)
            try:
                return int(v)
            except ValueError:
                try:
                    return float(v)
                except ValueError:
                    return v
        cols = list(rows[0])
        return [cols, *[[cell(k, r[k]) for k in cols] for r in rows]]

    adsl_sheet = sheet(base_adsl(), dates=("PROCDT", "ENRLDT"))
    adsl_sheet[2] = [*adsl_sheet[2], "stray"]
    tte_sheet = sheet(edit(base_adtte(), 1, AVAL="-1"), dates=("STARTDT", "ADT"))
    add(Case("excel_workbook_with_problems",
             "one workbook with sheets adsl, adtte and notes; a stray cell and a negative time",
             {"extract.xlsx": xlsx_bytes({"adsl": adsl_sheet, "adtte": tte_sheet,
                                          "notes": [["free text"]]})},
             [("extract.xlsx, sheet notes", None, None, None, W,
               "not read: not a table of the data model"),
              ("extract.xlsx, sheet adsl", 2, None, "stray", E,
               "has values beyond the last named column (1 more)"),
              ("extract.xlsx, sheet adtte", 2, "AVAL", "-1", E, "time to event is negative"),
              ("extract.xlsx, sheet adtte", 4, "USUBJID", "P-002", E, REJECTED_SUBJECT),
              ("extract.xlsx, sheet adtte", 5, "USUBJID", "P-002", E, REJECTED_SUBJECT),
              ("extract.xlsx, sheet adtte", 6, "USUBJID", "P-002", E, REJECTED_SUBJECT)],
             rows=[("extract.xlsx, sheet adsl", 4, 3, 1), ("extract.xlsx, sheet adtte", 12, 8, 4)]))

    types = {c.name: c.type for c in (*ADSL.columns, *ADTTE.columns)}
    whole = parquet_bytes(base_adsl(), types)
    add(Case("parquet_truncated", "adsl.parquet cut in half",
             {"adsl.parquet": whole[: len(whole) // 2],
              "adtte.parquet": parquet_bytes(base_adtte(), types)},
             [("adsl.parquet", None, None, None, E,
               "cannot be read as Parquet (Invalid Input Error: No magic bytes found at end of "
               "file 'adsl.parquet')")], usable=False))

    adtte = [*edit(base_adtte(), 1, AVAL="-2"), tte("P-999", "OS", "2021-01-11", 30, 0, "DEATH")]
    add(Case("parquet_with_problems", "typed Parquet files; checked by SQL, told the same way",
             {"adsl.parquet": parquet_bytes(edit(base_adsl(), 0, AGE="130"), types),
              "adtte.parquet": parquet_bytes(adtte, types)},
             [("adsl.parquet", 1, "AGE", "130", W, age),
              ("adtte.parquet", 2, "AVAL", "-2", E, "time to event is negative"),
              ("adtte.parquet", 13, "USUBJID", "P-999", E, "subject is not in adsl")],
             rows=[("adsl.parquet", 4, 4, 0), ("adtte.parquet", 13, 11, 2)]))

    add(Case("wide_and_adsl", "a wide file beside adsl and adtte",
             extract() | {"wide.csv": csv_text(wide_base())},
             [("wide_and_adsl", None, None, None, E,
               "holds both a wide file (wide.csv) and adsl.csv; a wide file replaces adsl and "
               "adtte")], usable=False))

    adsl = base_adsl()
    for r in adsl:
        r["sex"] = r["SEX"]
    add(Case("duplicate_column_names", "SEX and sex in one file", extract(adsl=adsl),
             [("adsl.csv", None, "SEX", None, E,
               "columns 'SEX' and 'sex' would both be SEX; column names are matched whatever "
               "their case")], usable=False))

    adsl = base_adsl()
    for r in adsl:
        r["Patient Notes"] = "seen"
        r[""] = "x"
    not_loaded = "not loaded; rename it in a mapping file to keep it"
    add(Case("odd_column_names", "a column with spaces in its name and one without a name",
             extract(adsl=adsl),
             [("adsl.csv", None, None, None, W, f"column 38 has no name: {not_loaded}"),
              ("adsl.csv", None, "Patient Notes", None, W,
               "column 'Patient Notes' is not a plain column name (letters, digits and _, "
               f"starting with a letter): {not_loaded}")], rows=base_counts()))

    adtte = [dict(r, AVAL="x") for r in base_adtte()[:3]]
    missing = "time to event is missing or not a number"
    add(Case("all_rows_rejected", "no time-to-event row can be used", extract(adtte=adtte),
             [("adtte.csv", 1, "AVAL", "x", E, missing), ("adtte.csv", 2, "AVAL", "x", E, missing),
              ("adtte.csv", 3, "AVAL", "x", E, missing)], usable=False,
             reason="adtte.csv: no time-to-event row can be used: all 3 rows were rejected "
             "(most often: time to event is missing or not a number, 3 rows)",
             rows=[("adsl.csv", 4, 4, 0), ("adtte.csv", 3, 0, 3)]))

    add(Case("unrecognised_files", "files that are not tables are named, not ignored",
             extract() | {"patients.csv": "ID\n1\n", "notes.txt": "free text\n",
                          "old_adsl.xls": b"\xd0\xcf\x11\xe0"},
             [("notes.txt", None, None, None, W,
               "not read: a text file: name it .csv if it is comma- or semicolon-separated"),
              ("old_adsl.xls", None, None, None, W,
               "not read: an old Excel file: save it as .xlsx"),
              ("patients.csv", None, None, None, W,
               "not read: not a table of the data model (name it adsl, adtte, visits, adae or "
               "wide, or map it in mapping.toml [files])")], rows=base_counts()))

    files = extract()
    del files["adsl.csv"]
    add(Case("old_excel_table", "adsl as an old .xls workbook",
             files | {"adsl.xls": b"\xd0\xcf\x11\xe0"},
             [("adsl.xls", None, None, None, E,
               "cannot be read: an old Excel file: save it as .xlsx")], usable=False))

    p3 = "2021-02-01"
    visits = [visit("P-003", "BASELINE", "0", p3, 0, "10"),
              visit("P-003", "MONTH 9", "9", p3, 273, "4"),
              visit("P-999", "BASELINE", "0", p3, 0, "3"),
              dict(visit("P-001", "MONTH 1", "1", p1, 30, "8"), ADY="31")]
    add(Case("visits_out_of_order", "a visit after death, an unknown patient, a wrong ADY",
             extract() | {"visits.csv": csv_text(visits, list(VISITS.required_names))},
             [("visits.csv", 2, "ADT", "2021-11-01", W, "visit is after the date of death (DTHDT)"),
              ("visits.csv", 2, "ADT", "2021-11-01", W,
               "visit is after the last contact date (LSTCNTDT)"),
              ("visits.csv", 3, "USUBJID", "P-999", E, "subject is not in adsl"),
              ("visits.csv", 4, "ADY", "31", W,
               "ADY is not the number of days from the procedure (PROCDT) to ADT")],
             rows=[*base_counts(), ("visits.csv", 4, 3, 1)]))

    visits = [visit("P-001", "BASELINE", "0", p1, 0, "12"),
              visit("P-001", "MONTH 1", "1", p1, 100, "10"),
              visit("P-001", "MONTH 3", "3", p1, 91, "8")]
    add(Case("visits_backwards", "P-001's MONTH 1 visit is dated after its MONTH 3 visit",
             extract() | {"visits.csv": csv_text(visits, list(VISITS.required_names))},
             [("visits.csv", 2, "ADT", "2021-04-21", W,
               "visit is dated after the next visit (by AVISITN), MONTH 3 on 2021-04-12")],
             rows=[*base_counts(), ("visits.csv", 3, 3, 0)]))

    def ae(usubjid: str, seq: str, day: str) -> Row:
        return {"USUBJID": usubjid, "AESEQ": seq, "AETERM": "WOUND INFECTION", "AESER": "N",
                "AEDEVFL": "N", "ASTDY": day, "AEOUT": "NOT FATAL"}

    adae = [ae("P-001", "1", "20"), ae("P-001", "1", "40"), ae("P-003", "1", "250")]
    add(Case("adverse_events", "a repeated AESEQ and an onset after death",
             extract() | {"adae.csv": csv_text(adae, list(ADAE.names))},
             [("adae.csv", 2, "AESEQ", "1", E,
               "duplicate USUBJID and AESEQ: also in row 1, which is kept"),
              ("adae.csv", 3, "ASTDY", "250", W, "onset is after the date of death (DTHDT)"),
              ("adae.csv", 3, "ASTDY", "250", W,
               "onset is after the last contact date (LSTCNTDT)")],
             rows=[*base_counts(), ("adae.csv", 3, 2, 1)]))
    return c


def write(out: Path) -> list[str]:
    names = []
    for case in cases():
        folder = out / case.name
        if folder.exists():
            shutil.rmtree(folder)
        for rel, content in case.files.items():
            path = folder / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, str):
                path.write_bytes(content.encode("utf-8"))
            else:
                path.write_bytes(content)
        reason = case.reason
        if not case.usable and not reason:
            # an extract refused outright: the reason is its (first) issue, as printed
            file, row, col, _val, _sev, msg = case.issues[0]
            if file.endswith((".toml", ".yaml")):  # a mapping file: lines and keys
                reason = f"{file}: line {row}, key {col}: {msg}"
            else:
                where = ", ".join(p for p in (file, f"row {row}" if row else "",
                                              f"column {col}" if col else "") if p)
                reason = f"{where}: {msg}"
        expected = {
            "description": case.description,
            "usable": case.usable,
            "reason": reason,
            "files": [{"file": f, "rows_read": r, "rows_used": u, "rows_rejected": j}
                      for f, r, u, j in case.rows],
            "issues": [{"file": f, "row": row, "column": col, "value": val, "severity": sev,
                        "message": msg} for f, row, col, val, sev, msg in case.issues],
        }
        text = json.dumps(expected, indent=2, ensure_ascii=False) + "\n"
        (folder / "expected.json").write_bytes(text.encode("utf-8"))
        names.append(case.name)
    return names


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=HERE)
    args = ap.parse_args(argv)
    names = write(args.out)
    print(f"{len(names)} cases written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
