"""The DuckDB layer: bound values, checked column names, read-only, rebuilt on change."""

from __future__ import annotations

import shutil

import duckdb
import pandas as pd
import pytest

from analytics.model.filters import Clause, FilterError, FilterState
from analytics.store import DEMO_DIR, Store, database_for
from analytics.store.queries import where_clause


def test_filter_text_round_trips_and_is_order_independent():
    a = FilterState.parse(["SEX=M,F", "AGE>=70", "DIALFL!=Y"])
    b = FilterState.parse(["DIALFL!=Y", "AGE>=70", "SEX=M,F"])
    assert a == b
    assert hash(a) == hash(b)
    assert FilterState.parse(a.to_strings()) == a
    assert a.without(Clause("AGE", ">=", ("70",))) == FilterState.parse(["SEX=M,F", "DIALFL!=Y"])


@pytest.mark.parametrize("bad", ["SEX", "=M", "SEX=", "SEX=M,", "AGE>=1,2", "SE X=M", "SEX;--=M"])
def test_malformed_filters_are_refused(bad):
    with pytest.raises(FilterError):
        FilterState.parse([bad])


def test_values_are_bound_never_pasted(demo_store):
    hostile = "M' OR '1'='1"
    state = FilterState.parse([f"SEX={hostile}"])
    sql, params = where_clause(state, demo_store.column_types["adsl"])
    assert hostile not in sql
    assert params == [hostile]
    assert demo_store.count(state) == 0
    assert demo_store.cohort(state).n == 0


def test_unknown_columns_are_refused(demo_store):
    with pytest.raises(FilterError, match="unknown column 'PASSWORD'"):
        demo_store.cohort(FilterState.parse(["PASSWORD=x"]))
    with pytest.raises(KeyError):
        demo_store.levels("NOPE")
    with pytest.raises(KeyError):
        demo_store.tte_counts(None, "AFS", by="NOPE")


def test_filters_select_the_right_patients(demo_store):
    adsl = pd.read_csv(DEMO_DIR / "adsl.csv")
    cases = {
        ("SEX=F",): adsl["SEX"] == "F",
        ("AGE>=70", "DIALFL=N"): (adsl["AGE"] >= 70) & (adsl["DIALFL"] == "N"),
        ("RACE!=WHITE",): adsl["RACE"] != "WHITE",
        ("BMI<=25.5",): adsl["BMI"] <= 25.5,
        ("RUTHCAT=6", "SITEID=001,002,003"): (adsl["RUTHCAT"] == 6)
        & adsl["SITEID"].astype(str).str.zfill(3).isin(["001", "002", "003"]),
        ("ENRLDT>=2021-01-01",): adsl["ENRLDT"] >= "2021-01-01",
    }
    for items, mask in cases.items():
        cohort = demo_store.cohort(FilterState.parse(list(items)))
        assert cohort.n == int(mask.sum()), items
        assert set(cohort.adtte["USUBJID"]) <= set(cohort.adsl["USUBJID"])
        assert set(cohort.visits["USUBJID"]) <= set(cohort.adsl["USUBJID"])


def test_numeric_filter_on_text_is_explained(demo_store):
    with pytest.raises(FilterError, match="not a number"):
        demo_store.count(FilterState.parse(["AGE>=seventy"]))


def test_database_is_read_only(demo_store):
    with pytest.raises(duckdb.Error):
        demo_store._con.cursor().execute("DELETE FROM adsl")
    assert demo_store.count() == 105


@pytest.mark.slow
def test_changed_data_gets_a_new_database(tmp_path, monkeypatch):
    monkeypatch.setenv("DVA_CACHE_DIR", str(tmp_path / "cache"))
    src = tmp_path / "extract"
    shutil.copytree(DEMO_DIR, src)
    first = database_for(src)
    assert database_for(src) == first
    adsl = pd.read_csv(src / "adsl.csv", dtype=str, keep_default_na=False)
    adsl.iloc[1:].to_csv(src / "adsl.csv", index=False)  # drop one patient
    second = database_for(src)
    assert second != first
    store = Store(second)
    try:
        assert store.count() == 104
        q = store.quality()
        # the dropped patient's time-to-event rows are rejected, and named
        assert q.rows_read == q.rows_used + q.rows_rejected
        assert q.rows_rejected > 0
        assert {i.column for i in q.issues} == {"USUBJID"}
    finally:
        store.close()


def test_aggregated_counts_match_patient_rows(demo_store, demo_cohort):
    counts = demo_store.tte_counts(None, "AFS")
    rows = demo_cohort.endpoint("AFS")
    assert counts["N"].sum() == len(rows)
    assert counts["EVENT"].mul(counts["N"]).sum() == (rows["CNSR"] == 0).sum()
    by = demo_store.tte_counts(FilterState.parse(["AGE>=65"]), "OS", by="SEX")
    sub = demo_store.cohort(FilterState.parse(["AGE>=65"]))
    assert by.groupby("GRP")["N"].sum().to_dict() == sub.adsl["SEX"].value_counts().to_dict()


def test_a_moved_parquet_extract_gets_its_own_database(tmp_path, monkeypatch):
    monkeypatch.setenv("DVA_CACHE_DIR", str(tmp_path / "cache"))
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        for name in ("adsl", "adtte"):
            pd.read_csv(DEMO_DIR / f"{name}.csv").to_parquet(tmp_path / folder / f"{name}.parquet")
    first = Store.open(tmp_path / "a")
    first.close()
    shutil.rmtree(tmp_path / "a")  # same content elsewhere must not reuse views onto "a"
    second = Store.open(tmp_path / "b")
    try:
        assert second.count() == 105
        assert second.tte_counts(None, "AFS")["N"].sum() == 105
    finally:
        second.close()
