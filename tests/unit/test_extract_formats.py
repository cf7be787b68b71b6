"""Every input format gives the same store: the demo extract as CSV, Parquet, one Excel
workbook, one workbook per table and the wide variant; SAS transport files SAS wrote;
registries of several studies."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from analytics.extract.issues import DataError
from analytics.model.filters import FilterState
from analytics.model.schema import VISITS
from analytics.store import DEMO_DIR, Store
from tests.helpers import SHARED, demo, typed, wide_frame

pytestmark = pytest.mark.slow  # each test builds a store from another format

PILOT = SHARED / "data" / "cdiscpilot01"
TABLES = ("adsl", "adtte", "visits", "adae")
ORDER = {"adsl": ["USUBJID"], "adtte": ["USUBJID", "PARAMCD"], "visits": ["USUBJID", "AVISITN"],
         "adae": ["USUBJID", "AESEQ"]}


def contents(store: Store) -> dict[str, pd.DataFrame]:
    return {t: store.query(f"SELECT * FROM {t} ORDER BY {', '.join(ORDER[t])}") for t in TABLES}


@pytest.fixture(scope="module")
def reference(demo_store):
    return contents(demo_store)


def open_and_read(folder: Path) -> tuple[dict[str, pd.DataFrame], Store]:
    store = Store.open(folder)
    return contents(store), store


def assert_same(got: dict[str, pd.DataFrame], want: dict[str, pd.DataFrame]) -> None:
    for name in TABLES:
        pd.testing.assert_frame_equal(got[name], want[name], check_dtype=True, obj=name)


def test_parquet_gives_the_same_store_as_csv(tmp_path, reference):
    for name in TABLES:
        typed(name).to_parquet(tmp_path / f"{name}.parquet", index=False)
    got, store = open_and_read(tmp_path)
    try:
        assert_same(got, reference)
        assert store.quality().issues == ()
        # big tables stay views over the files; the subject table is copied
        kinds = dict(store.query(
            "SELECT table_name, table_type FROM information_schema.tables "
            "WHERE table_name IN ('__adsl_data', '__adtte_data')").values.tolist())
        assert kinds == {"__adsl_data": "BASE TABLE", "__adtte_data": "VIEW"}
    finally:
        store.close()


def _sheet(book: openpyxl.Workbook, title: str, frame: pd.DataFrame) -> None:
    sheet = book.create_sheet(title)
    sheet.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        sheet.append([None if isinstance(v, float) and v != v else v for v in row])


def test_one_excel_workbook_with_a_sheet_per_table(tmp_path, reference):
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name in TABLES:  # numbers as numbers and dates as dates, as Excel holds them
        _sheet(book, name.upper() if name == "adae" else name, typed(name))
    book.save(tmp_path / "registry export.xlsx")
    got, store = open_and_read(tmp_path)
    try:
        assert_same(got, reference)
        assert [f.file for f in store.quality().files] == [
            f"registry export.xlsx, sheet {n}" for n in ("adsl", "adtte", "visits", "ADAE")]
        assert store.quality().issues == ()
    finally:
        store.close()


def test_one_workbook_per_table(tmp_path, reference):
    for name in TABLES:
        book = openpyxl.Workbook()
        book.remove(book.active)
        _sheet(book, "Sheet1", demo(name))  # all text: a CSV opened and saved in Excel
        book.save(tmp_path / f"{name}.xlsx")
    got, store = open_and_read(tmp_path)
    try:
        assert_same(got, reference)
    finally:
        store.close()


@pytest.mark.parametrize("variant", ["semicolon", "utf-16", "windows-1252", "crlf"])
def test_csv_dialects_read_the_same(tmp_path, reference, variant):
    for name in TABLES:
        text = (DEMO_DIR / f"{name}.csv").read_text(encoding="utf-8")
        if variant == "semicolon" and name == "adsl":
            frame = demo(name)
            frame["BMI"] = frame["BMI"].str.replace(".", ",", regex=False)
            frame.to_csv(tmp_path / f"{name}.csv", sep=";", index=False)
            continue
        if variant == "crlf":
            text = text.replace("\n", "\r\n")
        codec = {"utf-16": "utf-16", "windows-1252": "cp1252"}.get(variant, "utf-8")
        (tmp_path / f"{name}.csv").write_bytes(text.encode(codec))
    got, store = open_and_read(tmp_path)
    try:
        assert_same(got, reference)
        notes = [i.message for i in store.quality().issues]
        if variant == "semicolon":
            assert notes == ["columns are separated by semicolons, not commas: read as such, "
                             "and decimal commas (27,5) as decimal points"]
        elif variant == "utf-16":
            assert len(notes) == 4
            assert all("UTF-16" in n for n in notes)
        else:  # plain ASCII is valid UTF-8 and Windows-1252 alike
            assert notes == []
    finally:
        store.close()


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_wide_file_gives_the_demo_endpoints(tmp_path, reference, fmt):
    frame = wide_frame()
    if fmt == "csv":
        frame.to_csv(tmp_path / "wide.csv", index=False)
    else:
        frame = frame.replace("", None)
        for col in [c for c in frame.columns if c.endswith("DT")]:
            frame[col] = pd.to_datetime(frame[col]).dt.date
        for col in ("AGE", "RUTHCAT", "ACDURD"):
            frame[col] = pd.to_numeric(frame[col]).astype("Int64")
        for col in ("BMI", "PROCMIN", "RADMGY", "CONTRML"):
            frame[col] = pd.to_numeric(frame[col])
        frame.to_parquet(tmp_path / "wide.parquet", index=False)
    store = Store.open(tmp_path)
    try:
        assert store.quality().issues == ()
        [report] = store.quality().files
        assert (report.table, report.rows_read, report.rows_used) == ("wide", 105, 105)
        got = store.query("SELECT * FROM adtte ORDER BY USUBJID, PARAMCD")
        want = reference["adtte"]
        cols = ["STUDYID", "USUBJID", "PARAMCD", "PARAM", "AVAL", "CNSR", "STARTDT", "ADT"]
        pd.testing.assert_frame_equal(got[cols], want[cols])
        # the event texts too, except that a wide file cannot tell planned reinterventions
        same = want["PARAMCD"] != "REINT"
        assert (got.loc[same, "EVNTDESC"] == want.loc[same, "EVNTDESC"]).all()
        assert set(got.loc[~same & (got["CNSR"] == 0), "EVNTDESC"]) == {"REINTERVENTION"}
        # the subject table keeps the dates it was given
        adsl = store.query("SELECT * FROM adsl ORDER BY USUBJID")
        pd.testing.assert_frame_equal(adsl[list(reference["adsl"].columns)], reference["adsl"])
        assert {"AMPDT", "PPLOSDT"} <= set(adsl.columns)
        assert store.tte_counts(None, "AFS")["N"].sum() == 105
    finally:
        store.close()


def test_wide_file_needs_its_dates(tmp_path):
    wide_frame().drop(columns=["AMPDT"]).to_csv(tmp_path / "wide.csv", index=False)
    with pytest.raises(DataError, match=r"wide\.csv, column AMPDT: required column AMPDT"):
        Store.open(tmp_path)


def test_sas_transport_files_written_by_sas():
    store = Store.open(PILOT)
    try:
        q = store.quality()
        assert [(f.table, f.rows_read, f.rows_used) for f in q.files] == [
            ("adsl", 254, 254), ("adtte", 254, 254), ("adae", 1191, 1191)]
        assert store.count() == 254
        assert store.endpoints() == ["TTDE"]
        assert set(store.levels("TRT01A")) == {"Placebo", "Xanomeline High Dose",
                                              "Xanomeline Low Dose"}
        assert not [i for i in q.issues if i.severity == "error"]
        messages = {(i.file, i.column, i.message.split(";")[0]) for i in q.issues}
        # the pilot counts days inclusively, which is said once, not 254 times
        assert ("adtte.xpt", "AVAL", "every row counts AVAL inclusively (ADT = STARTDT + AVAL "
                "- 1) where the data model counts days from STARTDT (ADT = STARTDT + AVAL): "
                "times are analysed as given, one day longer") in {
            (i.file, i.column, i.message) for i in q.issues}
        # its age groups are its own: one line per distinct code
        codes = [i for i in q.issues if i.column == "AGEGR1"]
        assert sorted(i.value for i in codes) == ["65-80", "<65", ">80"]
        assert ("adae.xpt", "AEOUT", "not one of FATAL, NOT FATAL") in messages
        days = store.query("SELECT min(STARTDT) AS lo, max(ADT) AS hi FROM adtte").iloc[0]
        assert str(days["lo"]).startswith("2012")
        assert str(days["hi"]).startswith("2015")
    finally:
        store.close()


def test_registry_of_studies(tmp_path):
    registry = tmp_path / "registry"
    pilot, dva = registry / "pilot", registry / "dva-site"
    pilot.mkdir(parents=True)
    for name in ("adsl", "adtte"):
        (pilot / f"{name}.xpt").symlink_to(PILOT / f"{name}.xpt")
    dva.mkdir()
    for name in ("adsl", "adtte"):  # without STUDYID: named after the folder
        demo(name).drop(columns="STUDYID").to_csv(dva / f"{name}.csv", index=False)
    shutil.copy(DEMO_DIR / "visits.csv", dva / "visits.csv")
    store = Store.open(registry)
    try:
        assert store.count() == 254 + 105
        assert store.group_sizes(None, "STUDYID") == {"CDISCPILOT01": 254, "dva-site": 105}
        assert sorted(store.endpoints()) == ["AFS", "LS", "OS", "PAP", "PP", "REINT", "SP",
                                             "TTDE"]
        studies = store.query("SELECT DISTINCT STUDYID FROM adtte ORDER BY 1")["STUDYID"]
        assert list(studies) == ["CDISCPILOT01", "dva-site"]
        files = [f.file for f in store.quality().files]
        assert files == ["dva-site/adsl.csv", "dva-site/adtte.csv", "dva-site/visits.csv",
                         "pilot/adsl.xpt", "pilot/adtte.xpt"]
        assert not [i for i in store.quality().issues if i.severity == "error"]
        only = store.tte_counts(FilterState.parse(["STUDYID=dva-site"]), "AFS")
        assert only["N"].sum() == 105
    finally:
        store.close()


def test_a_registry_subfolder_without_tables_is_named(tmp_path):
    (tmp_path / "a").mkdir()
    for name in ("adsl", "adtte"):
        shutil.copy(DEMO_DIR / f"{name}.csv", tmp_path / "a" / f"{name}.csv")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "patients.csv").write_text("ID\n1\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        Store.open(tmp_path)
    assert str(info.value).startswith("b: missing required table(s) adsl, adtte")


def test_absent_optional_tables_still_have_their_columns(tmp_path):
    for name in ("adsl", "adtte"):
        shutil.copy(DEMO_DIR / f"{name}.csv", tmp_path / f"{name}.csv")
    store = Store.open(tmp_path)
    try:
        # every column of the data model, the optional ones too, as the demo's has
        assert list(store.query("SELECT * FROM visits").columns) == list(VISITS.names)
        assert store.cohort().adae.empty
    finally:
        store.close()


def test_absent_subject_columns_are_present_and_empty(tmp_path):
    demo("adsl")[["USUBJID", "SEX", "AGE"]].to_csv(tmp_path / "adsl.csv", index=False)
    shutil.copy(DEMO_DIR / "adtte.csv", tmp_path / "adtte.csv")
    store = Store.open(tmp_path)
    try:
        assert list(store.subject_columns()) == list(demo("adsl").columns)
        assert store.count(FilterState.parse(["RACE=WHITE"])) == 0
        assert store.tte_counts(FilterState.parse(["DIALFL=N"]), "OS").empty
        assert store.tte_counts(FilterState.parse(["SEX=F"]), "OS")["N"].sum() == (
            demo("adsl")["SEX"] == "F").sum()
        [absent] = [i for i in store.quality().issues if i.file == "adsl.csv"]
        assert absent.message.startswith("columns of the data model absent (every row has them "
                                         "missing): STUDYID, SITEID, AGEGR1, RACE")
    finally:
        store.close()


def test_parquet_types_are_read_by_value(tmp_path):
    """Codes stored as numbers (5.0) read as their text (5); SAS-style numeric dates
    become dates; out-of-range numbers are unreadable, not crashes."""
    adsl = pa.table({
        "USUBJID": ["A", "B", "C"],
        "RUTHCAT": pa.array([5.0, 6.0, 5.5]),
        "AGE": pa.array([70, 2**40, None], pa.int64()),
        "PROCDT": pa.array([22000, 99999999, None], pa.int32()),
    })
    pq.write_table(adsl, tmp_path / "adsl.parquet")
    pq.write_table(pa.table({"USUBJID": ["A"], "PARAMCD": ["OS"], "AVAL": [1.0], "CNSR": [0]}),
                   tmp_path / "adtte.parquet")
    store = Store.open(tmp_path)
    try:
        rows = store.query("SELECT USUBJID, RUTHCAT, AGE, PROCDT FROM adsl ORDER BY 1")
        assert rows["RUTHCAT"].tolist()[:2] == [5, 6]
        assert str(rows["PROCDT"][0]).startswith("2020-03-26")
        found = {(i.row, i.column, i.value) for i in store.quality().issues if i.row}
        assert found == {(3, "RUTHCAT", "5.5"), (2, "AGE", str(2**40)),
                         (2, "PROCDT", "99999999")}
    finally:
        store.close()


def test_store_api_is_unchanged_on_parquet(tmp_path, demo_store):
    for name in ("adsl", "adtte"):
        typed(name).to_parquet(tmp_path / f"{name}.parquet", index=False)
    store = Store.open(tmp_path)
    try:
        f = FilterState.parse(["DIALFL=N", "AGE>=60"])
        assert store.count(f) == demo_store.count(f)
        assert store.levels("SEX") == demo_store.levels("SEX")
        assert store.group_sizes(f, "SEX") == demo_store.group_sizes(f, "SEX")
        pd.testing.assert_frame_equal(store.tte_counts_many(f, ["AFS", "OS"], by="SEX"),
                                      demo_store.tte_counts_many(f, ["AFS", "OS"], by="SEX"))
        assert store.endpoint_labels() == demo_store.endpoint_labels()
        assert store.cohort(f).n == demo_store.cohort(f).n
        with pytest.raises(duckdb.Error):
            store._con.cursor().execute("DELETE FROM __adsl_data")
    finally:
        store.close()
