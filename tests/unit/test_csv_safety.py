"""Every CSV the dashboard offers makes a cell that a spreadsheet would run as a formula
plain text (a leading single quote), whatever an uploaded extract put in it: the table
downloads, the numbers behind a figure and the rejected rows of the Data page."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest

from analytics.analyses.sites import compare_sites
from analytics.model.filters import FilterState
from analytics.report.frames import FORMULA_START, neutralise_formulas, table_csv
from analytics.store import DEMO_DIR, Store
from charts.export import to_csv
from charts.funnel import funnel_figure
from ui import source

HOSTILE = [
    '=HYPERLINK("http://example.invalid","click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def cells(data: bytes) -> list[str]:
    rows = csv.reader(io.StringIO(data.decode("utf-8"), newline=""))
    return [cell for row in rows if row and not row[0].startswith("# ") for cell in row]


def assert_inert(data: bytes) -> None:
    for cell in cells(data):
        if cell.startswith(FORMULA_START):
            # a plain negative number is data, not a formula
            float(cell)


def test_text_cells_and_column_names_are_neutralised_numbers_are_not():
    frame = pd.DataFrame({"Site": HOSTILE, "n": range(6), "Change": [-1.5] * 6})
    frame["=col"] = "x"
    out = neutralise_formulas(frame)
    assert list(out["Site"]) == ["'" + v for v in HOSTILE]
    assert list(out["Change"]) == [-1.5] * 6
    assert "'=col" in out.columns
    assert list(frame["Site"]) == HOSTILE  # the input is left as it was
    data = table_csv(frame, "Sites", "Filters: none")
    assert_inert(data)
    back = pd.read_csv(io.BytesIO(data), comment="#")
    assert back["Change"].tolist() == [-1.5] * 6


@pytest.fixture(scope="module")
def hostile_extract(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hostile")
    for name in ("adsl.csv", "adtte.csv", "visits.csv", "adae.csv", "dataset.json"):
        (folder / name).write_bytes((DEMO_DIR / name).read_bytes())
    adsl = pd.read_csv(folder / "adsl.csv", dtype=str, keep_default_na=False)
    sites = sorted(adsl["SITEID"].unique())
    adsl["SITEID"] = adsl["SITEID"].map(dict(zip(sites, HOSTILE * 4, strict=False)))
    adsl["SITEID"] = adsl["SITEID"].fillna(sites[0])
    adsl.to_csv(folder / "adsl.csv", index=False)
    tte = pd.read_csv(folder / "adtte.csv", dtype=str, keep_default_na=False)
    tte.loc[2, "AVAL"] = HOSTILE[0]  # a row the loader rejects, kept for download
    tte.to_csv(folder / "adtte.csv", index=False)
    return folder


def test_rejected_rows_download_is_inert(hostile_extract):
    store = Store.open(hostile_extract)
    try:
        data = source.rejected_csv(store.path, "adtte")
    finally:
        store.close()
    assert "'" + HOSTILE[0] in cells(data)
    assert_inert(data)


def test_figure_numbers_download_is_inert(hostile_extract):
    store = Store.open(hostile_extract)
    try:
        res = compare_sites(store, FilterState(), "afs", day=183)
    finally:
        store.close()
    data = to_csv(funnel_figure(res))
    shown = cells(data)
    assert any(c.startswith("'=HYPERLINK") for c in shown)
    assert_inert(data)
