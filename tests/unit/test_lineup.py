"""Endpoints read by position, and what decides it beside the one-pass copy.

The loader reads an endpoint by position when its rows, in file order, name the
subject file's patients in theirs. Its first rows are compared before the copy; the
rest, and the subject probe, run beside the copy, which is dropped and made again
when either fails. Whatever the order of the files, each patient must get their own
endpoints: the analysis table is compared with a pivot of the input made by pandas.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from analytics.extract import loader, pivot
from analytics.extract.loader import load_extract
from bench.registry import make_registry

N = 300


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, pd.DataFrame]:
    src = make_registry(N, tmp_path_factory.mktemp("registry"), seed=11)
    return pd.read_parquet(src / "adsl.parquet"), pd.read_parquet(src / "adtte.parquet")


def _write(folder: Path, adsl: pd.DataFrame, adtte: pd.DataFrame) -> Path:
    folder.mkdir()
    adsl.to_parquet(folder / "adsl.parquet", index=False)
    adtte.to_parquet(folder / "adtte.parquet", index=False)
    return folder


def _load(folder: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[duckdb.DuckDBPyConnection, list]:
    """Load `folder`; the connection, and each time the copy was dropped (the
    endpoints that did not line up, or a repeated identifier, found beside it)."""
    drops: list[int] = []
    real = loader.drop_subject_table

    def counted(load):
        drops.append(1)
        real(load)

    monkeypatch.setattr(loader, "drop_subject_table", counted)
    con = duckdb.connect()
    result = load_extract(con, folder)
    return con, [drops, result]


def _loaded_endpoints(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    codes = dict(con.execute("SELECT k, PARAMCD FROM __tte_codes").fetchall())
    wide = con.execute("SELECT * FROM __tte_pivot").df()
    parts = []
    for k, code in codes.items():
        part = wide.loc[wide[f"__t{k}"].notna(), ["USUBJID", f"__t{k}", f"__e{k}"]]
        part.columns = ["USUBJID", "AVAL", "EVENT"]
        parts.append(part.assign(PARAMCD=code))
    out = pd.concat(parts).astype({"AVAL": float, "EVENT": int})
    return out.sort_values(["USUBJID", "PARAMCD"]).reset_index(drop=True)


def _expected(adtte: pd.DataFrame) -> pd.DataFrame:
    out = adtte.assign(EVENT=(adtte["CNSR"] == 0).astype(int))[
        ["USUBJID", "AVAL", "EVENT", "PARAMCD"]
    ].astype({"AVAL": float})
    return out.sort_values(["USUBJID", "PARAMCD"]).reset_index(drop=True)


def _by_patient(adtte: pd.DataFrame, adsl: pd.DataFrame) -> pd.DataFrame:
    """Each patient's rows together, in the subject file's order."""
    order = {u: i for i, u in enumerate(adsl["USUBJID"])}
    return adtte.sort_values(
        ["USUBJID", "PARAMCD"], key=lambda c: c.map(order) if c.name == "USUBJID" else c
    )


def _swap(adtte: pd.DataFrame, code: str, at: int) -> pd.DataFrame:
    """The rows of endpoint `code` with its rows `at` and `at + 1` exchanged."""
    rows = adtte.index[adtte["PARAMCD"] == code]
    out = adtte.copy()
    a, b = rows[at], rows[at + 1]
    out.loc[a], out.loc[b] = adtte.loc[b].to_numpy(), adtte.loc[a].to_numpy()
    return out


@pytest.mark.parametrize(
    ("case", "prefix", "dropped"),
    [
        ("by endpoint", 50, 0),  # the files as a registry writes them: by position
        ("by patient", 50, 0),  # every endpoint of a patient together: by position
        ("late swap", 50, 1),  # differs after the first rows: found beside the copy
        ("early swap", 500, 0),  # differs within the first rows: found before it
        ("late gap", 50, 1),  # one patient short of one endpoint, late
        ("shuffled", 50, 0),  # another order altogether
    ],
)
def test_each_patient_gets_their_own_endpoints(
    registry, tmp_path, monkeypatch, case, prefix, dropped
):
    adsl, adtte = registry
    rng = np.random.default_rng(5)
    tte = {
        "by endpoint": adtte,
        "by patient": _by_patient(adtte, adsl),
        "late swap": _swap(adtte, "LS", 200),
        "early swap": _swap(adtte, "LS", 200),
        "late gap": adtte.drop(adtte.index[(adtte["PARAMCD"] == "OS")][250]),
        "shuffled": adtte.iloc[rng.permutation(len(adtte))],
    }[case]
    monkeypatch.setattr(pivot, "PREFIX_ROWS", prefix)
    con, (drops, result) = _load(_write(tmp_path / "x", adsl, tte), monkeypatch)
    assert not [i for i in result.issues if i.severity == "error"]
    pd.testing.assert_frame_equal(_loaded_endpoints(con), _expected(tte))
    assert len(drops) == dropped


def test_a_repeated_identifier_found_beside_the_copy_takes_the_checked_path(
    registry, tmp_path, monkeypatch
):
    adsl, adtte = registry
    repeated = pd.concat([adsl, adsl.iloc[[7]].assign(AGE=55)], ignore_index=True)
    con, (drops, result) = _load(_write(tmp_path / "x", repeated, adtte), monkeypatch)
    assert len(drops) == 1  # the copy was made, then dropped
    errors = [i for i in result.issues if i.severity == "error"]
    assert [(i.row, i.column) for i in errors] == [(N + 1, "USUBJID")]
    assert "duplicate USUBJID" in errors[0].message
    assert con.execute("SELECT count(*) FROM __tte_pivot").fetchone() == (N,)
    # the first row is kept, not the repeat
    age = con.execute(
        'SELECT "AGE" FROM __tte_pivot WHERE "USUBJID" = ?', [adsl["USUBJID"][7]]
    ).fetchone()
    assert age == (int(adsl["AGE"][7]),)
    pd.testing.assert_frame_equal(_loaded_endpoints(con), _expected(adtte))
