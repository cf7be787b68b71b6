"""Checks across rows and tables (analytics/extract/check_rows.py and check_tables.py)
that the corpus cannot show on their own: registries mixing files with and without a
column, the site a registry's folder stands for, identifiers trimmed alike everywhere,
deaths recorded only in adtte, visits out of order, and the row a duplicate repeats.
Each extract is built here from the corpus's base extract (tests/corpus/make_corpus.py)
with one thing changed."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from analytics.analyses.sites import compare_sites
from analytics.extract.loader import load_extract
from analytics.model.filters import FilterState
from analytics.store import Store
from tests.corpus.make_corpus import (
    LAST,
    VISITS,
    base_adsl,
    base_adtte,
    csv_text,
    edit,
    parquet_bytes,
    tte,
    visit,
    wide_base,
    without,
)
from tests.helpers import ROOT

pytestmark = pytest.mark.slow  # each test builds a store from files it writes

CORPUS = ROOT / "tests" / "corpus"
P1, P3 = "2021-01-11", "2021-02-01"
RECORDED = "the death recorded in adtte (an OS event or a censoring for death, CNSR 4)"


def write(folder: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
    return folder


def issues(folder: Path, engine: str = "auto") -> list[tuple[object, ...]]:
    with duckdb.connect() as con:
        result = load_extract(con, folder, engine=engine)  # type: ignore[arg-type]
    return [(i.file, i.row, i.column, i.value, i.severity, i.message) for i in result.issues]


def site_b() -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Two patients of their own (P-101, P-102), as P-001 and P-002 of the base."""
    adsl = [dict(r, USUBJID=r["USUBJID"].replace("P-00", "P-10")) for r in base_adsl()[:2]]
    adtte = [dict(r, USUBJID=r["USUBJID"].replace("P-00", "P-10")) for r in base_adtte()
             if r["USUBJID"] in ("P-001", "P-002")]
    return adsl, adtte


# --- registry sites ---------------------------------------------------------------------------


def test_a_registry_of_site_folders_without_siteid_has_one_site_per_folder():
    store = Store.open(CORPUS / "registry_site_from_folder")
    try:
        sites = store.query("SELECT USUBJID, STUDYID, SITEID FROM adsl ORDER BY USUBJID")
        assert list(sites["SITEID"]) == ["site-a"] * 4 + ["site-b"] * 2
        assert set(sites["STUDYID"]) == {"CORPUS"}  # the file's own study is kept
        assert sites["USUBJID"].is_unique
        res = compare_sites(store, FilterState(), "afs", day=183)
        assert [s.label for s in res.sites] == ["site-a", "site-b"]
        assert [s.n for s in res.sites] == [4, 2]
        assert res.no_site == 0
        # the analysis table sees the filled site too
        assert store.count(FilterState.parse(["SITEID=site-b"])) == 2
    finally:
        store.close()


def test_a_registry_keeps_the_siteid_a_file_has(tmp_path):
    adsl_b, tte_b = site_b()
    for r in adsl_b:
        r["SITEID"] = "07"
    folder = write(tmp_path / "reg", {
        "site-a/adsl.csv": csv_text(without(base_adsl(), "SITEID")),
        "site-a/adtte.csv": csv_text(base_adtte()),
        "site-b/adsl.csv": csv_text(adsl_b), "site-b/adtte.csv": csv_text(tte_b)})
    assert [i for i in issues(folder) if i[2] == "SITEID"] == [
        ("site-a/adsl.csv", None, "SITEID", None, "warning",
         "SITEID not in the file: taken from the folder name 'site-a'")]
    store = Store.open(folder)
    try:
        res = compare_sites(store, FilterState(), "afs", day=183)
        assert [s.label for s in res.sites] == ["07", "site-a"]
    finally:
        store.close()


def test_a_registry_of_wide_files_without_siteid(tmp_path):
    wide_b = [dict(r, USUBJID=r["USUBJID"].replace("P-00", "P-10")) for r in wide_base()]
    folder = write(tmp_path / "reg", {
        "north/wide.csv": csv_text(without(wide_base(), "SITEID")),
        "south/wide.csv": csv_text(without(wide_b, "SITEID"))})
    assert issues(folder) == [
        (f"{site}/wide.csv", None, "SITEID", None, "warning",
         f"SITEID not in the file: taken from the folder name '{site}'")
        for site in ("north", "south")]
    store = Store.open(folder)
    try:
        res = compare_sites(store, FilterState(), "amputation", day=183)
        assert [(s.label, s.n) for s in res.sites] == [("north", 4), ("south", 4)]
    finally:
        store.close()


def test_a_single_extract_without_siteid_is_not_given_one(tmp_path):
    folder = write(tmp_path / "one", {"adsl.csv": csv_text(without(base_adsl(), "SITEID")),
                                      "adtte.csv": csv_text(base_adtte())})
    assert issues(folder) == [("adsl.csv", None, None, None, "warning",
                               "column of the data model absent (every row has it missing): "
                               "SITEID")]
    store = Store.open(folder)
    try:
        assert store.query("SELECT count(SITEID) AS n FROM adsl")["n"].iloc[0] == 0
    finally:
        store.close()


def test_registry_subjects_stay_unique_with_filled_sites(tmp_path):
    adsl_b, tte_b = site_b()
    adsl_b[1]["USUBJID"] = "P-002"  # used by site-a too
    for r in tte_b:
        r["USUBJID"] = r["USUBJID"].replace("P-102", "P-002")
    folder = write(tmp_path / "reg", {
        "site-a/adsl.csv": csv_text(without(base_adsl(), "SITEID")),
        "site-a/adtte.csv": csv_text(base_adtte()),
        "site-b/adsl.csv": csv_text(without(adsl_b, "SITEID")),
        "site-b/adtte.csv": csv_text(tte_b)})
    found = issues(folder)
    assert ("site-b/adsl.csv", 2, "USUBJID", "P-002", "error",
            "subject identifier is also used in study site-a: identifiers must be unique "
            "across the registry") in found
    store = Store.open(folder)
    try:
        rows = store.query("SELECT USUBJID, SITEID FROM adsl WHERE USUBJID = 'P-002'")
        assert list(rows["SITEID"]) == ["site-a"]
    finally:
        store.close()


# --- dates of time-to-event rows ----------------------------------------------------------------


def test_a_registry_mixing_files_with_and_without_adt(tmp_path):
    """The date checked comes from ADT in one study and from STARTDT + AVAL in the other;
    each issue shows the column its date came from."""
    adsl_b, tte_b = site_b()
    adsl_b[1].update(DTHFL="Y", DTHDT="2021-03-01", LSTCNTDT="2021-03-01", EOSSTT="DEATH")
    folder = write(tmp_path / "reg", {
        "site-a/adsl.csv": csv_text(base_adsl()),
        "site-a/adtte.csv": csv_text(edit(base_adtte(), 7, AVAL="250", CNSR="0",
                                          ADT="2021-10-09")),
        "site-b/adsl.csv": csv_text(adsl_b),
        "site-b/adtte.csv": csv_text(without(tte_b, "ADT"))})
    assert issues(folder) == [
        ("site-a/adtte.csv", 8, "ADT", "2021-10-09", "warning",
         "event is after the date of death (DTHDT)"),
        ("site-a/adtte.csv", 8, "ADT", "2021-10-09", "warning",
         "event is after the last contact date (LSTCNTDT)"),
        ("site-b/adtte.csv", None, None, None, "warning",
         "column of the data model absent (every row has it missing): ADT"),
        ("site-b/adtte.csv", 4, "AVAL", "100", "warning",
         "event is after the date of death (DTHDT)"),
        ("site-b/adtte.csv", 4, "AVAL", "100", "warning",
         "event is after the last contact date (LSTCNTDT)"),
        ("site-b/adtte.csv", 5, "AVAL", "100", "warning",
         "event is after the date of death (DTHDT)"),
        ("site-b/adtte.csv", 5, "AVAL", "100", "warning",
         "event is after the last contact date (LSTCNTDT)"),
        ("site-b/adtte.csv", 6, "AVAL", "365", "warning",
         "censoring is after the date of death (DTHDT)"),
        ("site-b/adtte.csv", 6, "AVAL", "365", "warning",
         "censoring is after the last contact date (LSTCNTDT)"),
    ]


def test_the_date_falls_back_row_by_row(tmp_path):
    """ADT empty in one row: that row is dated from STARTDT + AVAL, the others by ADT."""
    adtte = edit(base_adtte(), 7, AVAL="250", CNSR="0", ADT="")
    adtte = edit(adtte, 6, ADT="2021-10-01", AVAL="242")  # P-003's AFS: dated by ADT
    folder = write(tmp_path / "x", {"adsl.csv": csv_text(base_adsl()),
                                    "adtte.csv": csv_text(adtte)})
    got = [i for i in issues(folder) if "death" in str(i[5])]
    assert got == [
        ("adtte.csv", 7, "ADT", "2021-10-01", "warning",
         "event is after the date of death (DTHDT)"),
        ("adtte.csv", 8, "AVAL", "250", "warning", "event is after the date of death (DTHDT)"),
    ]


def test_a_censoring_for_death_in_adtte_marks_the_death(tmp_path):
    """No DTHDT and no OS row: LS censored for death (CNSR 4) at day 200 dates the death."""
    adtte = [r for r in base_adtte() if r["PARAMCD"] != "OS"]
    adtte.append(tte("P-003", "PP", P3, 210, 1, LAST))
    folder = write(tmp_path / "x", {"adsl.csv": csv_text(without(base_adsl(), "DTHDT",
                                                                 "LSTCNTDT")),
                                    "adtte.csv": csv_text(adtte)})
    got = [i for i in issues(folder) if i[0] == "adtte.csv"]
    assert got == [("adtte.csv", 9, "ADT", "2021-08-30", "warning",
                    f"censoring is after {RECORDED}")]


def test_a_date_of_death_in_adsl_wins_over_adtte(tmp_path):
    """With DTHDT given, the adtte death is not used a second time (one warning, not two)."""
    adtte = [*base_adtte(), tte("P-003", "PP", P3, 250, 0, "OCCLUSION")]
    folder = write(tmp_path / "x", {"adsl.csv": csv_text(base_adsl()),
                                    "adtte.csv": csv_text(adtte)})
    assert [i[5] for i in issues(folder)] == ["event is after the date of death (DTHDT)",
                                              "event is after the last contact date (LSTCNTDT)"]


def test_no_dates_anywhere_means_no_death_check_and_no_crash(tmp_path):
    adsl = [{"USUBJID": r["USUBJID"]} for r in base_adsl()]
    adtte = [{k: r[k] for k in ("USUBJID", "PARAMCD", "AVAL", "CNSR")}
             for r in [*base_adtte(), tte("P-003", "PP", P3, 250, 0, "OCCLUSION")]]
    folder = write(tmp_path / "x", {"adsl.csv": csv_text(adsl), "adtte.csv": csv_text(adtte)})
    assert [i for i in issues(folder) if i[0] == "adtte.csv"] == [
        ("adtte.csv", None, None, None, "warning",
         "columns of the data model absent (every row has them missing): STUDYID, PARAM, "
         "EVNTDESC, STARTDT, ADT")]


@pytest.mark.parametrize("engine", ["pandas", "sql"])
def test_parquet_and_csv_agree_on_death_checks(tmp_path, engine):
    from analytics.model.schema import ADSL, ADTTE

    types = {c.name: c.type for c in (*ADSL.columns, *ADTTE.columns)}
    adtte = [*edit(base_adtte(), 8, AVAL="250", CNSR="1", ADT="2021-10-09"),
             tte("P-003", "PP", P3, 260, 0, "OCCLUSION")]
    adsl = without(base_adsl(), "DTHDT")
    csv = write(tmp_path / "csv", {"adsl.csv": csv_text(adsl), "adtte.csv": csv_text(adtte)})
    pq = write(tmp_path / "pq", {"adsl.parquet": parquet_bytes(adsl, types),
                                 "adtte.parquet": parquet_bytes(adtte, types)})
    got = [i[1:] for i in issues(csv, engine)]
    assert got == [i[1:] for i in issues(pq, engine)]
    # OS is censored alive at day 250, but LS is censored for death (CNSR 4) at day 200
    assert (13, "ADT", "2021-10-19", "warning", f"event is after {RECORDED}") in got
    assert (9, "ADT", "2021-10-09", "warning", f"censoring is after {RECORDED}") in got


# --- dates in the subject table and visits ----------------------------------------------------


def test_wide_file_last_contact_after_death(tmp_path):
    wide = edit(wide_base(), 2, LSTCNTDT="2021-09-30")
    folder = write(tmp_path / "w", {"wide.csv": csv_text(wide)})
    assert issues(folder) == [("wide.csv", 3, "LSTCNTDT", "2021-09-30", "warning",
                               "last contact is after the date of death (DTHDT)")]


def test_visits_backwards_without_avisit_names_the_visit_number(tmp_path):
    visits = [visit("P-001", "BASELINE", "0", P1, 0, "12"),
              visit("P-001", "MONTH 1", "1", P1, 30, "10"),
              visit("P-001", "MONTH 2", "2", P1, 95, "9"),
              visit("P-001", "MONTH 3", "3", P1, 91, "8"),
              visit("P-002", "MONTH 1", "1", P1, 30, "10")]
    cols = [c for c in VISITS.required_names if c not in ("AVISIT", "ADY")]
    folder = write(tmp_path / "v", {"adsl.csv": csv_text(base_adsl()),
                                    "adtte.csv": csv_text(base_adtte()),
                                    "visits.csv": csv_text(visits, cols)})
    assert [i for i in issues(folder) if i[0] == "visits.csv" and i[1] is not None] == [
        ("visits.csv", 3, "ADT", "2021-04-16", "warning",
         "visit is dated after the next visit (by AVISITN), AVISITN 3 on 2021-04-12")]


def test_visits_in_order_by_number_not_by_file_order(tmp_path):
    visits = [visit("P-001", "MONTH 3", "3", P1, 91, "8"),
              visit("P-001", "BASELINE", "0", P1, 0, "12"),
              visit("P-001", "MONTH 1", "1", P1, 30, "10")]
    folder = write(tmp_path / "v", {"adsl.csv": csv_text(base_adsl()),
                                    "adtte.csv": csv_text(base_adtte()),
                                    "visits.csv": csv_text(visits, list(VISITS.required_names))})
    assert issues(folder) == []


# --- identifiers ---------------------------------------------------------------------------------


def test_padded_identifiers_are_trimmed_alike_in_every_table():
    store = Store.open(CORPUS / "padded_identifier")
    try:
        assert list(store.query("SELECT USUBJID FROM adsl ORDER BY 1")["USUBJID"]) == [
            "P-001", "P-002", "P-003", "P-004"]
        assert store.query("SELECT count(*) AS n FROM adtte")["n"].iloc[0] == 12
        assert store.tte_counts(FilterState.parse(["AGE>=70"]), "OS")["N"].sum() == 1
    finally:
        store.close()


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_padded_identifiers_in_adtte_are_counted_per_file(tmp_path, fmt):
    from analytics.model.schema import ADSL, ADTTE

    adtte = edit(edit(base_adtte(), 0, PARAMCD=" AFS"), 4, USUBJID="\tP-002 ", STUDYID="CORPUS ")
    adsl = base_adsl()
    if fmt == "csv":
        files: dict[str, str | bytes] = {"adsl.csv": csv_text(adsl), "adtte.csv": csv_text(adtte)}
    else:
        types = {c.name: c.type for c in (*ADSL.columns, *ADTTE.columns)}
        files = {"adsl.parquet": parquet_bytes(adsl, types),
                 "adtte.parquet": parquet_bytes(adtte, types)}
    folder = write(tmp_path / fmt, files)
    assert issues(folder) == [
        (f"adtte.{fmt}", None, None, None, "warning",
         "spaces around 3 identifier values removed (USUBJID: 1, STUDYID: 1, PARAMCD: 1): "
         "identifiers are matched without them")]
    store = Store.open(folder)
    try:
        assert store.endpoints() == ["AFS", "LS", "OS"]
        assert store.query("SELECT count(*) AS n FROM adtte")["n"].iloc[0] == 12
    finally:
        store.close()


def test_an_identifier_of_spaces_only_is_missing(tmp_path):
    adsl = edit(base_adsl(), 3, USUBJID="   ")
    adtte = [r for r in base_adtte() if r["USUBJID"] != "P-004"]
    folder = write(tmp_path / "x", {"adsl.csv": csv_text(adsl), "adtte.csv": csv_text(adtte)})
    assert issues(folder) == [
        ("adsl.csv", None, "USUBJID", None, "warning",
         "spaces around 1 identifier value removed (USUBJID: 1): identifiers are matched "
         "without them"),
        ("adsl.csv", 4, "USUBJID", "   ", "error", "subject identifier is missing")]


# --- duplicates ---------------------------------------------------------------------------------


def test_duplicates_name_the_row_they_repeat_in_the_report_and_the_download(tmp_path):
    adsl = base_adsl()
    adsl.insert(2, dict(adsl[0]))  # P-001 again, as row 3
    folder = write(tmp_path / "x", {"adsl.csv": csv_text(adsl),
                                    "adtte.csv": csv_text(base_adtte())})
    assert issues(folder) == [("adsl.csv", 3, "USUBJID", "P-001", "error",
                               "duplicate USUBJID: also in row 1, which is kept")]
    store = Store.open(folder)
    try:
        rows = store.rejected_rows("adsl")
        assert list(rows["row"]) == [3]
        assert rows.iloc[0]["reasons"] == "duplicate USUBJID: also in row 1, which is kept"
    finally:
        store.close()


def test_duplicate_visits_name_the_first_and_are_left_out_of_the_order_check(tmp_path):
    visits = [visit("P-001", "BASELINE", "0", P1, 0, "12"),
              visit("P-001", "MONTH 1", "1", P1, 30, "10"),
              visit("P-001", "MONTH 1", "1", P1, 10, "10")]
    folder = write(tmp_path / "v", {"adsl.csv": csv_text(base_adsl()),
                                    "adtte.csv": csv_text(base_adtte()),
                                    "visits.csv": csv_text(visits, list(VISITS.required_names))})
    assert issues(folder) == [("visits.csv", 3, "AVISITN", "1", "error",
                               "duplicate USUBJID and AVISITN: also in row 2, which is kept")]
