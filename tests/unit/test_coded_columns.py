"""Few-valued text columns of the subject table are stored as codes (ENUM), by
comparison with each value up to `COMPARED_MAX` values and by DuckDB's cast past it;
readers must see the file's text either way, including awkward values."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from analytics.extract import tables
from analytics.extract.loader import load_extract
from bench.registry import make_registry

AWKWARD = ["Y", "N", "it's", "  spaced  ", "ä-ö", "NULL", "x" * 40, "a,b"]


@pytest.mark.parametrize("n_values", [1, 2, tables.COMPARED_MAX, tables.COMPARED_MAX + 1, 8])
def test_coded_columns_read_back_as_the_files_text(tmp_path, n_values):
    src = make_registry(400, tmp_path / "reg", seed=2)
    adsl = pd.read_parquet(src / "adsl.parquet")
    rng = np.random.default_rng(n_values)
    values = np.array(AWKWARD[:n_values], dtype=object)
    column = values[rng.integers(0, n_values, len(adsl))]
    column[rng.random(len(adsl)) < 0.1] = None  # missing stays missing
    adsl["SMOKSTAT"] = column
    adsl.to_parquet(src / "adsl.parquet", index=False)
    con = duckdb.connect()
    load_extract(con, src)
    kind = con.execute(
        "SELECT data_type FROM information_schema.columns "
        "WHERE table_name = '__adsl_data' AND column_name = 'SMOKSTAT'"
    ).fetchone()
    assert kind is not None
    assert kind[0].startswith("ENUM")
    got = con.execute('SELECT "USUBJID", "SMOKSTAT" FROM adsl ORDER BY "USUBJID"').df()
    want = adsl[["USUBJID", "SMOKSTAT"]].sort_values("USUBJID").reset_index(drop=True)
    assert got["USUBJID"].tolist() == want["USUBJID"].tolist()
    assert (
        got["SMOKSTAT"].where(got["SMOKSTAT"].notna(), None).tolist() == want["SMOKSTAT"].tolist()
    )


def test_comparisons_give_what_the_cast_gives():
    con = duckdb.connect()
    values = AWKWARD[: tables.COMPARED_MAX]
    con.execute("CREATE TYPE t AS ENUM (SELECT unnest(?::VARCHAR[]))", [values])
    expr, params = tables._as_code("v", "t", values)
    assert expr.startswith("CASE")
    rows = con.execute(
        f"SELECT v, {expr} = CAST(v AS t) OR (v IS NULL AND {expr} IS NULL) "
        "FROM (SELECT unnest(?::VARCHAR[]) AS v)",
        [*params, *params, [*values, None]],
    ).fetchall()
    assert all(same for _, same in rows)
    assert len(rows) == len(values) + 1
    assert tables._as_code("v", "t", AWKWARD)[1] == []  # past the limit: the cast


@pytest.mark.parametrize("sample", [50, 100_000])  # found in the first rows, or only later
def test_a_column_of_many_values_stays_text(tmp_path, monkeypatch, sample):
    monkeypatch.setattr(tables, "SAMPLE_ROWS", sample)
    n = tables.CODED_MAX + 200
    src = make_registry(n, tmp_path / "reg", seed=4)
    adsl = pd.read_parquet(src / "adsl.parquet")
    # the first rows share one value; every later row has its own
    adsl["SMOKSTAT"] = ["same" if i < 60 else f"value {i}" for i in range(n)]
    adsl.to_parquet(src / "adsl.parquet", index=False)
    con = duckdb.connect()
    load_extract(con, src)
    kinds = dict(
        con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = '__adsl_data'"
        ).fetchall()
    )
    assert kinds["SMOKSTAT"] == "VARCHAR"
    assert kinds["SEX"].startswith("ENUM")  # the few-valued columns still are codes
    got = con.execute('SELECT "SMOKSTAT" FROM adsl ORDER BY "USUBJID"').fetchall()
    want = adsl.sort_values("USUBJID")["SMOKSTAT"].tolist()
    assert [r[0] for r in got] == want
