"""Mapping files: parsed and checked with file, line and key in every message; applied the
same way by the loader and by `apply_mapping`; proposed by `suggest_mapping`."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from analytics.extract import (
    DataError,
    apply_mapping,
    build_mapping,
    load_mapping,
    suggest_mapping,
    suggest_values,
)
from analytics.store import DEMO_DIR, Store, database_for
from tests.helpers import ROOT

CORPUS = ROOT / "tests" / "corpus"

TOML = """\
[files]
patients = "adsl"

[columns]
PATIENT = "USUBJID"
gender = "sex"

[columns.visits]
VISIT_DATE = "ADT"

[values.SEX]
"1" = "M"
"2" = "F"
"9" = ""

[flag_values]
Yes = "Y"
No = "N"
"""

YAML = """\
files:
  patients: adsl
columns:
  PATIENT: USUBJID
  gender: sex
  visits:
    VISIT_DATE: ADT
values:
  SEX:
    "1": M
    "2": F
    "9": ""
flag_values:
  Yes: Y
  No: N
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_toml_and_yaml_say_the_same(tmp_path):
    a = load_mapping(write(tmp_path, "mapping.toml", TOML))
    b = load_mapping(write(tmp_path, "mapping.yaml", YAML))
    assert (a.files, a.columns, a.table_columns, a.values, a.flag_values) == (
        b.files, b.columns, b.table_columns, b.values, b.flag_values)
    assert a.files == {"patients": "adsl"}
    assert a.renames("adsl") == {"PATIENT": "USUBJID", "GENDER": "SEX"}
    assert a.renames("visits") == {"PATIENT": "USUBJID", "GENDER": "SEX", "VISIT_DATE": "ADT"}
    # YAML would read Yes/No as booleans; a recode table must keep the text
    assert b.flag_values == {"Yes": "Y", "No": "N"}


def test_to_toml_round_trips(tmp_path):
    a = load_mapping(write(tmp_path, "mapping.toml", TOML))
    again = load_mapping(write(tmp_path, "again.toml", a.to_toml()))
    assert (again.files, again.columns, again.table_columns, again.values,
            again.flag_values) == (a.files, a.columns, a.table_columns, a.values,
                                   a.flag_values)


@pytest.mark.parametrize(
    ("name", "text", "line", "key", "needle"),
    [
        ("m.toml", "[colums]\nA = \"SEX\"\n", 1, "colums", "unknown section"),
        ("m.toml", "[files]\npatients = \"subjects\"\n", 2, "files.patients", "not a table"),
        ("m.toml", "[columns.visits]\nDATE = \"AGE\"\n", 2, "columns.visits.DATE",
         "not a column of table visits"),
        ("m.toml", "[columns.nonsense]\nDATE = \"ADT\"\n", 1, "columns.nonsense",
         "not a table"),
        ("m.toml", "[columns]\nsex = \"SEX\"\nSEX = \"AGE\"\n", 3, "columns.SEX",
         "renamed twice"),
        ("m.toml", "[columns]\nA = \"SEX\"\n\n[columns.adsl]\nB = \"SEX\"\n", 5,
         "columns.adsl.B", "both A and B are renamed to SEX"),
        ("m.toml", "[flag_values]\nyes = \"true\"\n", 2, "flag_values.yes", "not a flag value"),
        ("m.toml", "[values.NOPE]\n\"1\" = \"M\"\n", 1, "values.NOPE",
         "not a column of the data model"),
        ("m.toml", "[columns]\nA = [\"SEX\"]\n", 2, "columns.A", "expected a text value"),
        ("m.toml", "[columns]\nA = \"SEX\"\nA = \"AGE\"\n", 3, None, "not valid TOML"),
        ("m.yaml", "columns:\n  A: [SEX\n", 3, None, "not valid YAML"),
        ("m.yaml", "values:\n  SEX:\n    '1': M\n    '1': F\n", 4, "values.SEX.1",
         "the key is given twice"),
        ("m.yaml", "- a\n- b\n", None, None, "expected sections"),
        ("m.json", "{}", None, None, "must end in .toml, .yaml or .yml"),
    ],
)
def test_mistakes_name_the_file_line_and_key(tmp_path, name, text, line, key, needle):
    with pytest.raises(DataError) as info:
        load_mapping(write(tmp_path, name, text))
    message = str(info.value)
    assert message.startswith(name)
    assert needle in message
    issue = info.value.issues[0]
    assert (issue.file, issue.row, issue.column, issue.severity) == (name, line, key, "error")
    if line is not None:
        assert f"line {line}" in message


def test_the_loader_applies_a_mapping_like_apply_mapping(tmp_path):
    folder = tmp_path / "x"
    shutil.copytree(CORPUS / "mapping_recode_leftover", folder)
    (folder / "expected.json").unlink()
    mapping = load_mapping(folder / "mapping.toml")
    raw = pd.read_csv(folder / "adsl.csv", dtype=str, keep_default_na=False)
    mapped = apply_mapping(raw, mapping, "adsl")
    store = Store.open(folder)
    try:
        loaded = store.query("SELECT USUBJID, SEX, DIALFL FROM adsl ORDER BY USUBJID")
    finally:
        store.close()
    assert list(loaded["SEX"]) == list(mapped["SEX"]) == ["M", "M", "F", "3"]
    assert list(loaded["DIALFL"]) == list(mapped["DIALFL"]) == ["N", "N", "N", "N"]
    assert list(loaded["USUBJID"]) == list(mapped["USUBJID"])


def test_a_recode_to_empty_makes_the_value_missing():
    mapping = build_mapping({"values": {"SEX": {"9": "", "1": "M"}}})
    out = apply_mapping(pd.DataFrame({"SEX": ["1", "9", None]}), mapping, "adsl")
    assert out["SEX"].tolist() == ["M", None, None]


def test_apply_mapping_refuses_two_columns_of_one_name():
    mapping = build_mapping({"columns": {"GENDER": "SEX"}})
    with pytest.raises(DataError, match="both be called SEX"):
        apply_mapping(pd.DataFrame({"GENDER": ["M"], "sex": ["F"]}), mapping, "adsl")


def test_files_and_table_columns_sections_reach_the_loader(tmp_path):
    folder = tmp_path / "registry-site"
    folder.mkdir()
    adsl = pd.read_csv(DEMO_DIR / "adsl.csv", dtype=str, keep_default_na=False)
    adsl.rename(columns={"USUBJID": "PATIENT"}).to_csv(folder / "patients.csv", index=False)
    shutil.copy(DEMO_DIR / "adtte.csv", folder / "adtte.csv")
    visits = pd.read_csv(DEMO_DIR / "visits.csv", dtype=str, keep_default_na=False)
    visits.rename(columns={"ADT": "VISIT_DATE"}).to_csv(folder / "visits.csv", index=False)
    (folder / "mapping.toml").write_text(
        '[files]\npatients = "adsl"\n\n[columns.adsl]\nPATIENT = "USUBJID"\n\n'
        '[columns.visits]\nVISIT_DATE = "ADT"\n', encoding="utf-8")
    store = Store.open(folder)
    try:
        assert store.count() == 105
        assert store.quality().issues == ()
        assert store.query("SELECT count(ADT) AS n FROM visits")["n"][0] == len(visits)
    finally:
        store.close()


@pytest.mark.slow
def test_editing_the_mapping_file_builds_a_new_database(tmp_path, monkeypatch):
    monkeypatch.setenv("DVA_CACHE_DIR", str(tmp_path / "cache"))
    folder = tmp_path / "x"
    shutil.copytree(CORPUS / "mapping_recode_leftover", folder)
    first = database_for(folder)
    text = (folder / "mapping.toml").read_text(encoding="utf-8")
    (folder / "mapping.toml").write_text(text + '"3" = ""\n', encoding="utf-8")
    assert database_for(folder) != first


def test_an_explicit_mapping_wins_over_the_folders_and_says_so(tmp_path):
    folder = tmp_path / "x"
    shutil.copytree(CORPUS / "mapping_recode_leftover", folder)
    text = (folder / "mapping.toml").read_text(encoding="utf-8")
    explicit = write(tmp_path, "other.toml", text.replace('"2" = "F"', '"2" = "F"\n"3" = "F"'))
    store = Store.open(folder, mapping=explicit)
    try:
        issues = store.quality().issues
    finally:
        store.close()
    assert [(i.file, i.message) for i in issues] == [
        ("mapping.toml", "not used: --mapping other.toml was given instead")]


def test_suggest_mapping_finds_names_labels_and_synonyms():
    got = suggest_mapping(["Patient ID", "Gender", "age", "Date of death", "Hypertension",
                           "On dialysis", "Technical success", "shoe size", "Site"])
    assert got == {
        "Patient ID": "USUBJID", "Gender": "SEX", "age": "AGE", "Date of death": "DTHDT",
        "Hypertension": "HTNFL", "On dialysis": "DIALFL", "Technical success": "TECHSFL",
        "Site": "SITEID",
    }
    # one target is proposed once, to the best candidate
    assert suggest_mapping(["SEX", "Gender"]) == {"SEX": "SEX"}
    assert suggest_mapping(["time", "censor"], table="adtte") == {"time": "AVAL",
                                                                  "censor": "CNSR"}


def test_suggest_values_proposes_codes():
    assert suggest_values("SEX", ["Male", "Female", "M", None]) == {"Male": "M", "Female": "F"}
    assert suggest_values("DIALFL", ["Yes", "no", "1", "maybe"]) == {
        "Yes": "Y", "no": "N", "1": "Y"}
    assert suggest_values("RACE", ["white", "Asian"]) == {"white": "WHITE", "Asian": "ASIAN"}
    with pytest.raises(KeyError):
        suggest_values("NOPE", ["x"])
