"""The corpus of malformed extracts (tests/corpus/): each gives exactly the report its
expected.json holds, both row-rule engines agree, the corpus regenerates byte for byte,
and the `validate` command prints the report and exits 0 or 2."""

from __future__ import annotations

import filecmp
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from analytics.extract.issues import DataError
from analytics.extract.loader import load_extract
from analytics.extract.rules import STATIC_RULES, TABLES_ALL, row_rules
from analytics.extract.validate import (
    check_frame,
    fetch_columns,
    hits_sql,
    pandera_hits,
    pandera_schemas,
)
from analytics.report.cli import main
from analytics.store import Store
from analytics.store.validation import validate_extract
from tests.helpers import ROOT

CORPUS = ROOT / "tests" / "corpus"
CASES = sorted(p.name for p in CORPUS.iterdir() if (p / "expected.json").exists())


def expected(case: str) -> dict:
    return json.loads((CORPUS / case / "expected.json").read_text(encoding="utf-8"))


def test_the_corpus_is_large_enough():
    malformed = [c for c in CASES if expected(c)["issues"]]
    assert len(malformed) >= 30
    assert expected("ok_control")["issues"] == []


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_each_case_gives_exactly_its_expected_report(case):
    want = expected(case)
    report = validate_extract(CORPUS / case)
    assert report.usable == want["usable"]
    assert report.reason == want["reason"]
    assert [
        {"file": f.file, "rows_read": f.rows_read, "rows_used": f.rows_used,
         "rows_rejected": f.rows_rejected}
        for f in report.files
    ] == want["files"]
    assert [i.as_dict() for i in report.issues] == want["issues"]
    for f in report.files:  # the account always balances
        assert f.rows_read == f.rows_used + f.rows_rejected


def _load(case: str, engine: str) -> list[dict]:
    with duckdb.connect() as con:
        return [i.as_dict() for i in load_extract(con, CORPUS / case, engine=engine).issues]


@pytest.mark.slow
@pytest.mark.parametrize("case", [c for c in CASES if expected(c)["files"]])
def test_pandera_and_sql_engines_agree(case):
    assert _load(case, "pandas") == _load(case, "sql") == expected(case)["issues"]


@pytest.mark.slow
def test_the_corpus_regenerates_byte_for_byte(tmp_path):
    script = CORPUS / "make_corpus.py"
    subprocess.run([sys.executable, str(script), "--out", str(tmp_path)], check=True,
                   capture_output=True, timeout=120)
    for case in CASES:
        ours = sorted(p.relative_to(CORPUS / case) for p in (CORPUS / case).rglob("*")
                      if p.is_file())
        theirs = sorted(p.relative_to(tmp_path / case) for p in (tmp_path / case).rglob("*")
                        if p.is_file())
        assert ours == theirs, case
        for rel in ours:
            assert filecmp.cmp(CORPUS / case / rel, tmp_path / case / rel, shallow=False), (
                case, rel)


def test_rejected_rows_keep_their_original_values_and_reasons():
    store = Store.open(CORPUS / "ragged_rows")
    try:
        rows = store.rejected_rows("adtte")
        assert list(rows["row"]) == [13, 14]
        assert list(rows.columns[:4]) == ["file", "row", "reasons", "extra values"]
        first = rows.iloc[0]
        assert first["file"] == "adtte.csv"
        assert first["extra values"] == "surplus"
        assert first["USUBJID"] == "P-004"
        assert first["EVNTDESC"] == "x"
        assert "has 10 values" in first["reasons"]
        assert pd.isna(rows.iloc[1]["ADT"])
        assert store.rejected_rows("adsl").empty
        assert len(store.rejected_rows()) == 2
        q = store.quality()
        assert q.rows_read == q.rows_used + q.rows_rejected
    finally:
        store.close()


def test_a_row_rejected_for_two_reasons_lists_both():
    store = Store.open(CORPUS / "bad_censoring")
    try:
        rows = store.rejected_rows("adtte")
        assert list(rows["row"]) == [3, 6, 9]
        assert rows.iloc[0]["CNSR"] == "1.5"
    finally:
        store.close()


def test_an_unusable_extract_is_refused_by_the_store_but_reported():
    with pytest.raises(DataError) as info:
        Store.open(CORPUS / "all_rows_rejected")
    assert "adtte.csv" in str(info.value)
    assert len(info.value.issues) == 3


def test_validate_command_prints_the_report_and_exits_0_when_usable(capsys):
    code = main(["validate", "--data", str(CORPUS / "unknown_codes")])
    out, err = capsys.readouterr()
    assert code == 0
    assert err == ""
    doc = json.loads(out)
    assert doc["usable"] is True
    assert doc["rows_read"] == doc["rows_used"] + doc["rows_rejected"]
    assert doc["issues"] == expected("unknown_codes")["issues"]
    assert doc["warnings"] == 4
    assert doc["errors"] == 0


@pytest.mark.parametrize("case", ["all_rows_rejected", "missing_table", "mapping_conflict",
                                  "parquet_truncated"])
def test_validate_command_exits_2_with_one_paragraph(capsys, case):
    code = main(["validate", "--data", str(CORPUS / case)])
    out, err = capsys.readouterr()
    assert code == 2
    doc = json.loads(out)
    assert doc["usable"] is False
    assert doc["issues"] == expected(case)["issues"]
    assert err.count("\n") == 1
    assert "Traceback" not in err
    assert expected(case)["issues"][0]["file"] in err


def test_validate_with_an_explicit_mapping_file(tmp_path, capsys):
    folder = tmp_path / "x"
    folder.mkdir()
    for name in ("adsl.csv", "adtte.csv"):
        (folder / name).write_bytes((CORPUS / "mapping_recode_leftover" / name).read_bytes())
    mapping = tmp_path / "registry.toml"
    mapping.write_bytes((CORPUS / "mapping_recode_leftover" / "mapping.toml").read_bytes())
    assert main(["validate", "--data", str(folder)]) == 2  # without it: no USUBJID
    capsys.readouterr()
    assert main(["validate", "--data", str(folder), "--mapping", str(mapping)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [(i["row"], i["column"], i["value"]) for i in doc["issues"]] == [(4, "SEX", "3")]


@pytest.mark.slow
def test_validate_runs_as_a_module():
    bad = subprocess.run(
        [sys.executable, "-m", "analytics", "validate", "--data", str(CORPUS / "binary_file")],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr
    assert "adsl.csv" in bad.stderr
    assert json.loads(bad.stdout)["usable"] is False


def test_summary_data_quality_reflects_the_new_checks(capsys):
    code = main(["summary", "--data", str(CORPUS / "event_after_last_contact"),
                 "--endpoints", "OS", "--endpoint", "OS"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    messages = {i["message"] for i in doc["data_quality"]["issues"]}
    assert "event is after the last contact date (LSTCNTDT)" in messages


# --- the rule engines, directly ---------------------------------------------------------------


def test_every_kind_of_rule_means_the_same_in_sql_and_pandas():
    """Each static rule over a frame of awkward values (missing, equal, just over, just
    under): the SQL compilation and the pandera compilation fail the same rows."""
    frame = pd.DataFrame({
        "__row": [1, 2, 3, 4, 5],
        "USUBJID": ["A", None, "C", "D", "E"],
        "PARAMCD": ["OS", "OS", None, "PP", "SP"],
        "AVAL": [10.0, -1.0, None, 0.0, 3.5],
        "CNSR": [0, -2, 1, None, 4],
        "ADT": pd.to_datetime(["2021-01-11", "2021-01-01", None, "2021-01-02", "2021-01-05"]),
        "STARTDT": pd.to_datetime(["2021-01-01", "2021-01-01", "2021-01-01", None,
                                   "2021-01-02"]),
        "WNDAREA": [0.0, -0.5, 500.0, 500.5, None],
    })
    types = {"ADT": "DATE", "STARTDT": "DATE"}
    for table, present in (("adtte", {"USUBJID", "PARAMCD", "AVAL", "CNSR", "ADT", "STARTDT"}),
                           ("visits", {"USUBJID", "WNDAREA"})):
        rules = [r for r in row_rules(table, present) if r.kind not in ("unreadable", "codes")]
        with duckdb.connect() as con:
            con.register("f", frame.assign(__err=None))
            con.execute("CREATE TABLE t AS SELECT * FROM f")
            for col in ("ADT", "STARTDT"):
                con.execute(f'ALTER TABLE t ALTER "{col}" TYPE DATE')
            sql_hits = sorted(con.execute(hits_sql(rules, "t")).fetchall())
            cols = fetch_columns(rules, types)
            select = ", ".join(f'{e} AS "{n}"' for n, e in cols.items())
            batch = con.execute(f"SELECT __row, {select} FROM t").df().set_index("__row")
        hits = pandera_hits(batch, pandera_schemas(rules))
        assert sorted(zip(hits["row"], hits["rule"], strict=True)) == sql_hits
        assert sql_hits  # the frame does break some rules


def test_every_static_rule_names_a_column_of_its_table():
    for rule in STATIC_RULES:
        assert set(rule.columns) <= set(TABLES_ALL[rule.table].names), rule.id
        assert rule.message
        assert rule.severity in ("error", "warning")


def test_check_frame_reads_a_pandas_preview_like_the_loader():
    frame = pd.DataFrame({"USUBJID": ["A", None, "C"], "AGE": ["70", "old", "130"],
                          "SEX": ["M", "F", "X"]})
    issues = [(i.row, i.column, i.value, i.severity, i.message)
              for i in check_frame(frame, "adsl")]
    assert issues == [
        (2, "AGE", "old", "warning", "not a whole number; kept as missing"),
        (2, "USUBJID", None, "error", "subject identifier is missing"),
        (3, "AGE", "130", "warning", "implausible age (expected 18 to 110 years); kept as given"),
        (3, "SEX", "X", "warning", "not one of M, F; kept as given"),
    ]


def test_an_absent_cache_location_does_not_matter(tmp_path, monkeypatch):
    monkeypatch.setenv("DVA_CACHE_DIR", str(tmp_path / "fresh"))
    report = validate_extract(CORPUS / "ok_control")
    assert report.usable
    assert report.issues == ()
    assert Path(tmp_path / "fresh").exists()
