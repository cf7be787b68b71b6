"""An upload's limits (rows and columns per table file, the longest line, the upload's
size and what a zip unpacks to) are the deployment's, and are checked on the saved files
before any is read into a database: the 10,000-column Parquet file and the zip of an
extract with duplicated rows are refused at once, naming the file and the setting."""

from __future__ import annotations

import io
import time

import pandas as pd
import pyreadstat
import pytest

from analytics.extract import upload as uploads
from analytics.extract.limits import Limits, Shape, problem, shape
from tests.helpers import Uploaded, demo_file, small_extract, zipped


def test_the_limits_are_the_deployments(monkeypatch):
    assert Limits.from_environ({}) == Limits()
    found = Limits.from_environ({"DVA_MAX_ROWS": "1_000", "DVA_MAX_COLUMNS": "40"})
    assert (found.max_rows, found.max_columns) == (1000, 40)
    with pytest.raises(ValueError, match="DVA_MAX_COLUMNS='lots'"):
        Limits.from_environ({"DVA_MAX_COLUMNS": "lots"})
    with pytest.raises(ValueError, match="DVA_MAX_ROWS='0'"):
        Limits.from_environ({"DVA_MAX_ROWS": "0"})


def test_each_format_tells_its_shape_without_being_read(tmp_path):
    frame = pd.DataFrame({"A": range(7), "B": ["x"] * 7, "C": [1.5] * 7})
    frame.to_parquet(tmp_path / "t.parquet")
    frame.to_excel(tmp_path / "t.xlsx", index=False)
    pyreadstat.write_xport(frame, str(tmp_path / "t.xpt"))
    frame.to_csv(tmp_path / "t.csv", index=False, sep=";")
    for kind in ("parquet", "xlsx", "csv"):
        found = shape(tmp_path / f"t.{kind}", kind)
        assert (found.rows, found.columns) == (7, 3), kind
    # a transport file's rows are counted from its size: its last record's padding may
    # hold at most 80 bytes' worth of rows (17 bytes a row here)
    xpt = shape(tmp_path / "t.xpt", "xpt")
    assert xpt.columns == 3
    assert 7 <= xpt.rows <= 7 + 80 // 17
    lines = (tmp_path / "t.csv").read_bytes().splitlines()
    assert shape(tmp_path / "t.csv", "csv").longest_line == max(map(len, lines))


def test_a_line_longer_than_a_block_is_measured_whole(tmp_path):
    path = tmp_path / "long.csv"
    path.write_bytes(b"A,B\n1," + b"x" * (9 << 20) + b"\n2,y\n")
    found = shape(path, "csv")
    assert found == Shape(rows=2, columns=2, longest_line=2 + (9 << 20))
    assert "a line of 9,216 KB" in (problem("long.csv", found, Limits()) or "")


def test_ten_thousand_columns_are_refused_before_any_is_read(tmp_path):
    wide = pd.DataFrame({f"C{i}": [1, 2] for i in range(10_000)})
    buf = io.BytesIO()
    wide.to_parquet(buf)
    started = time.perf_counter()
    with pytest.raises(uploads.UploadError, match=r"adsl\.parquet: 10,000 columns.*at most 500"):
        uploads.save([Uploaded("adsl.parquet", buf.getvalue())], tmp_path)
    assert time.perf_counter() - started < 5
    assert list(tmp_path.iterdir()) == []  # nothing left behind


def test_a_zip_of_duplicated_rows_is_refused_by_its_rows(tmp_path, monkeypatch):
    """The demo's time-to-event rows, duplicated past the deployment's row limit."""
    monkeypatch.setenv("DVA_MAX_ROWS", "2000")
    adtte = demo_file("adtte").read_bytes()
    header, body = adtte.split(b"\n", 1)
    data = zipped(
        {
            "extract/adsl.csv": demo_file("adsl").read_bytes(),
            "extract/adtte.csv": header + b"\n" + body * 10,
        }
    )
    with pytest.raises(uploads.UploadError, match=r"adtte\.csv: [\d,]+ rows.*DVA_MAX_ROWS"):
        uploads.save([Uploaded("dup.zip", data)], tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_the_upload_and_unpacked_sizes_are_settings_too(tmp_path, monkeypatch):
    monkeypatch.setenv("DVA_UPLOAD_MB", "1")
    with pytest.raises(uploads.UploadError, match="larger than 1 MB"):
        uploads.save([Uploaded("adsl.csv", b"x" * (uploads.MB + 1))], tmp_path)
    monkeypatch.setenv("DVA_UPLOAD_MB", "200")
    monkeypatch.setenv("DVA_UNPACKED_MB", "1")
    bomb = zipped({"adsl.csv": b"0" * (2 * uploads.MB)})
    with pytest.raises(uploads.UploadError, match="unpacks to more than 1 MB"):
        uploads.save([Uploaded("bomb.zip", bomb)], tmp_path)


def test_an_extract_within_the_limits_is_saved(tmp_path):
    folder = small_extract(tmp_path / "x", 12)
    files = [Uploaded(p.name, p.read_bytes()) for p in sorted(folder.iterdir())]
    saved = uploads.save(files, tmp_path)
    assert sorted(p.name for p in saved.root.iterdir()) == ["adsl.csv", "adtte.csv"]
    saved.folder.remove()
