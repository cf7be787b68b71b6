"""Reading what real files hold without losing a row or taking the process down: YAML
alias bombs and oversized mapping files, very long CSV values, a quote that is never
closed, blank lines and rows, formulas without a saved value, time zone-aware Parquet
dates, and an extract given as one file."""

from __future__ import annotations

import contextlib
import io
import json
import re
import time
import tracemalloc
import zipfile
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import duckdb
import openpyxl
import pandas as pd
import pytest

from analytics.extract import read_csv
from analytics.extract.discovery import Source
from analytics.extract.issues import DataError
from analytics.extract.mapping import MAX_MAPPING_BYTES, load_mapping
from analytics.extract.read_csv import FIELD_LIMIT
from analytics.extract.stage import stage
from analytics.report.cli import main
from analytics.store import DEMO_DIR, Store, database_for
from analytics.store.validation import validate_extract
from tests.helpers import typed, watchdog, wide_frame

pytestmark = pytest.mark.slow  # each test builds a store from files it writes

ADSL_LINES = (DEMO_DIR / "adsl.csv").read_text(encoding="utf-8").splitlines(keepends=True)
ANCHORS = "YAML anchors and aliases (&name, *name) are not accepted in a mapping file"


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DVA_CACHE_DIR", str(tmp_path / "cache"))


def extract(folder: Path, adsl: str | None = None, **files: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "adsl.csv").write_text(adsl if adsl is not None else "".join(ADSL_LINES),
                                     encoding="utf-8")
    (folder / "adtte.csv").write_bytes((DEMO_DIR / "adtte.csv").read_bytes())
    for name, text in files.items():
        (folder / name.replace("_", ".")).write_text(text, encoding="utf-8")
    return folder


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def account(report) -> dict[str, tuple[int, int, int]]:
    return {f.file: (f.rows_read, f.rows_used, f.rows_rejected) for f in report.files}


# --- 1. mapping files: alias bombs, size, nesting ------------------------------------------

def alias_bomb(levels: int = 9, width: int = 9) -> str:
    names = [f"l{i}" for i in range(levels)]
    lines = [f"{names[0]}: &{names[0]} [{', '.join(['x'] * width)}]"]
    lines += [f"{n}: &{n} [{', '.join([f'*{p}'] * width)}]" for p, n in pairwise(names)]
    return "columns:\n  PATIENT: USUBJID\n" + "\n".join(lines) + "\n"


def test_a_yaml_alias_bomb_is_refused_at_once(tmp_path):
    path = tmp_path / "mapping.yaml"
    path.write_text(alias_bomb(), encoding="utf-8")  # 9**9 values once expanded
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with watchdog(5), pytest.raises(DataError) as info:
            load_mapping(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - start < 1
    assert peak < 20_000_000
    assert str(info.value).startswith(f"mapping.yaml line 3: {ANCHORS}")
    [issue] = info.value.issues
    assert (issue.file, issue.row, issue.severity) == ("mapping.yaml", 3, "error")


def test_even_one_anchor_is_refused_with_its_line(tmp_path):
    path = tmp_path / "mapping.yml"
    path.write_text("flag_values:\n  Yes: Y\nvalues:\n  DIALFL: &flags\n    Ja: Y\n"
                    "  DIABFL: *flags\n", encoding="utf-8")
    with pytest.raises(DataError, match=re.escape(f"mapping.yml line 4: {ANCHORS}")):
        load_mapping(path)


def test_the_validate_command_refuses_a_bomb_quickly(tmp_path, capsys):
    folder = extract(tmp_path / "x", mapping_yaml=alias_bomb())
    start = time.perf_counter()
    with watchdog(10):
        code, out, err = run_cli(capsys, "validate", "--data", str(folder))
    assert time.perf_counter() - start < 1
    assert code == 2
    assert ANCHORS in err
    assert len(err.strip().splitlines()) == 1
    report = json.loads(out)
    assert report["issues"][0]["file"] == "mapping.yaml"
    assert report["issues"][0]["row"] == 3


@pytest.mark.parametrize("name", ["mapping.toml", "mapping.yaml"])
def test_an_oversized_mapping_file_is_refused(tmp_path, name):
    path = tmp_path / name
    path.write_text("# a comment\n" * (MAX_MAPPING_BYTES // 12 + 10), encoding="utf-8")
    with pytest.raises(DataError, match=r"is 1\.0 MB; a mapping file is at most 1 MB"):
        load_mapping(path)


@pytest.mark.parametrize(("name", "text"), [
    ("mapping.yaml", "[" * 100_000),
    ("mapping.yaml", "a:\n" + "".join(" " * i + "b:\n" for i in range(1, 40))),
    ("mapping.toml", "a = " + "[" * 100_000),
    ("mapping.toml", "a = " + "[" * 2000 + "]" * 2000),
])
def test_deep_nesting_is_a_message_not_a_crash(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with watchdog(10), pytest.raises(DataError) as info:
        load_mapping(path)
    assert str(info.value).startswith(name)


# --- 2. long CSV values -----------------------------------------------------------------------

def with_cell(line: str, text: str) -> str:
    return line.rstrip("\n") + "," + text + "\n"


def test_a_200_kb_value_in_a_ragged_row_is_that_row_rejected(tmp_path, capsys):
    lines = list(ADSL_LINES)
    lines[4] = with_cell(lines[4], '"' + "x" * 200_000 + '"')  # one value too many
    folder = extract(tmp_path / "x", "".join(lines))
    code, _out, err = run_cli(capsys, "validate", "--data", str(folder))
    assert (code, err) == (0, "")
    report = validate_extract(folder)
    assert account(report)["adsl.csv"] == (105, 104, 1)
    [ragged] = [i for i in report.issues if i.file == "adsl.csv"]
    assert ragged.row == 4
    assert ragged.message.startswith("has 37 values but the header has 36 columns")


def test_a_long_value_in_a_well_formed_file_is_kept_whole(tmp_path):
    header, *rows = ADSL_LINES
    note = "y" * 3_000_000  # longer than DuckDB's line limit and Python's default
    lines = [with_cell(header, "NOTE"), *(with_cell(r, "") for r in rows)]
    lines[3] = with_cell(rows[2], note)
    store = Store.open(extract(tmp_path / "x", "".join(lines)))
    try:
        assert store.count() == 105
        got = store.query("SELECT NOTE FROM adsl WHERE NOTE IS NOT NULL")["NOTE"].tolist()
        assert got == [note]
        assert store.quality().issues == ()
    finally:
        store.close()


def test_a_value_beyond_the_limit_refuses_its_file_by_name(tmp_path, capsys):
    lines = list(ADSL_LINES)
    lines[6] = with_cell(lines[6], '"' + "z" * (FIELD_LIMIT + 10) + '"')
    folder = extract(tmp_path / "x", "".join(lines))
    code, out, err = run_cli(capsys, "validate", "--data", str(folder))
    assert code == 2
    assert "internal error" not in err
    [issue] = json.loads(out)["issues"]
    assert issue["file"] == "adsl.csv"
    assert issue["message"] == (f"a value on line 7 is longer than {FIELD_LIMIT:,} characters, "
                                "the most one CSV value may hold")


def test_a_file_that_fails_to_stage_leaves_nothing_behind(tmp_path, monkeypatch):
    bad = tmp_path / "bad.csv"
    bad.write_text("A,B\n1,2,3\n", encoding="utf-8")  # ragged: read by Python
    good = tmp_path / "good.csv"
    good.write_text("A,B\n1,2\n", encoding="utf-8")

    def broken(*args: object, **kwargs: object) -> Iterator[object]:
        raise DataError.of("bad.csv", "cannot be read")
        yield

    with duckdb.connect() as con:
        monkeypatch.setattr(read_csv, "_csv_rows", broken)
        with pytest.raises(DataError):
            stage(con, Source("adsl", bad, "csv", "bad.csv"), "s0", tmp_path)
        monkeypatch.undo()
        left = con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        assert left == []
        staged = stage(con, Source("adsl", good, "csv", "good.csv"), "s0", tmp_path)
        assert staged.rows == 1


# --- 3. a quote that is never closed ------------------------------------------------------

def stray(line: str, column: int) -> str:
    values = line.split(",")
    values[column] = '"' + values[column]
    return ",".join(values)


@pytest.mark.parametrize("column", [5, 35])  # SEX; EOSSTT, the last column
def test_a_stray_quote_rejects_its_row_and_no_other(tmp_path, capsys, column):
    lines = list(ADSL_LINES)
    lines[4] = stray(lines[4], column)  # row 4, line 5
    folder = extract(tmp_path / "x", "".join(lines))
    code, _out, err = run_cli(capsys, "validate", "--data", str(folder))
    assert (code, err) == (0, "")
    report = validate_extract(folder)
    data_lines = len(lines) - 1
    assert account(report)["adsl.csv"] == (data_lines, data_lines - 1, 1)
    errors = [i for i in report.issues if i.file == "adsl.csv"]
    assert [(i.row, i.severity) for i in errors] == [(4, "error")]
    assert errors[0].message == (
        'has a quote (") on line 5 of the file that is never closed, so the 101 line(s) after '
        "it would be read as part of one value: the row is rejected and the lines after it "
        "are read as rows")
    # the patient of row 4 is the only one whose time-to-event rows are left out
    store = Store.open(folder)
    try:
        assert store.count() == 104
        patient = lines[4].split(",")[1]
        assert store.count() + 1 == len({ln.split(",")[1] for ln in lines[1:]})
        assert patient not in set(store.query("SELECT USUBJID FROM adsl")["USUBJID"])
    finally:
        store.close()


def test_a_stray_quote_closed_by_a_later_one_loses_no_row(tmp_path):
    lines = list(ADSL_LINES)
    lines[4] = stray(lines[4], 34)  # DTHCAUS opens a quote ...
    values = lines[9].split(",")
    values[34] = 'died"'  # ... which a later row's value closes
    lines[9] = ",".join(values)
    report = validate_extract(extract(tmp_path / "x", "".join(lines)))
    read, used, rejected = account(report)["adsl.csv"]
    assert read == 105
    assert read == used + rejected
    assert 4 in {i.row for i in report.issues if i.severity == "error"}


def test_a_value_holding_line_breaks_is_one_row(tmp_path):
    header, *rows = ADSL_LINES
    values = rows[2].rstrip("\n").split(",")
    values[34] = '"first line\nsecond line, with a comma"'
    rows[2] = ",".join(values) + "\n"
    values = rows[7].split(",")
    values[5] = "X"  # an unknown code two rows further down
    rows[7] = ",".join(values)
    store = Store.open(extract(tmp_path / "x", header + "".join(rows)))
    try:
        assert store.count() == 105
        assert store.query("SELECT count(*) AS n FROM adsl WHERE DTHCAUS LIKE 'first line%'"
                           )["n"][0] == 1
        spans, code = store.quality().issues
        assert (code.row, code.column, code.value) == (8, "SEX", "X")
        # kept, and said: a value with line breaks is where an open quote would hide
        assert (spans.row, spans.severity) == (3, "warning")
        assert "lines 4-5 of the file" in spans.message
    finally:
        store.close()


def test_a_line_break_value_whose_inner_line_looks_like_a_row_is_kept(tmp_path):
    # the inner line of the value holds as many commas as a row: it is still one value,
    # because the line that opens it is no whole row with its quote read as a character
    header, *rows = ADSL_LINES
    n = header.count(",") + 1
    values = rows[2].rstrip("\n").split(",")
    values[34] = '"first line\n' + ",".join(["part"] * n) + '\nlast line"'
    rows[2] = ",".join(values) + "\n"
    report = validate_extract(extract(tmp_path / "x", header + "".join(rows)))
    read, used, rejected = account(report)["adsl.csv"]
    assert (read, used, rejected) == (105, 105, 0)
    [spans] = [i for i in report.issues if i.file == "adsl.csv"]
    assert "lines 4-6 of the file" in spans.message


def test_the_corpus_stray_quote_at_the_end_of_the_file_is_unchanged(tmp_path):
    lines = list(ADSL_LINES)
    lines[-1] = stray(lines[-1], 5)
    report = validate_extract(extract(tmp_path / "x", "".join(lines)))
    [issue] = [i for i in report.issues if i.file == "adsl.csv"]
    assert issue.row == 105
    assert issue.message.startswith("has 6 values but the header has 36 columns")


# --- 4. blank lines and rows keep the numbering of the file ---------------------------------

BLANK_NOTE = ("2 blank {what}s skipped (the first is row 3, {where} 4): they hold no data and "
              "are not counted as rows read; the rows after them keep their numbers in the "
              "file")


def _with_blanks_and_a_bad_age(frame: pd.DataFrame) -> list[list[str]]:
    rows = frame.astype(str).values.tolist()
    rows[2][list(frame.columns).index("AGE")] = "sixty"  # row 5 once two blanks precede it
    return [*rows[:2], [], [], *rows[2:]]


def _bad_age(issues) -> list[tuple[int | None, str | None]]:
    return [(i.row, i.value) for i in issues if i.column == "AGE"]


@pytest.mark.parametrize("ending", ["\n", "\r\n"])
def test_blank_csv_lines_keep_row_numbers(tmp_path, ending):
    frame = pd.read_csv(DEMO_DIR / "adsl.csv", dtype=str, keep_default_na=False)
    rows = _with_blanks_and_a_bad_age(frame)
    text = ending.join(",".join(r) for r in [list(frame.columns), *rows]) + ending * 3
    store = Store.open(extract(tmp_path / "x", text))
    try:
        q = store.quality()
        assert account(q)["adsl.csv"] == (105, 105, 0)
        assert _bad_age(q.issues) == [(5, "sixty")]  # line 6 of the file
        notes = [i.message for i in q.issues if i.row is None and i.file == "adsl.csv"]
        assert notes == [BLANK_NOTE.format(what="line", where="line")]
    finally:
        store.close()


def test_blank_spreadsheet_rows_keep_row_numbers(tmp_path):
    frame = pd.read_csv(DEMO_DIR / "adsl.csv", dtype=str, keep_default_na=False)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(frame.columns))
    for row in _with_blanks_and_a_bad_age(frame):
        sheet.append([v or None for v in row])
    book.save(tmp_path / "adsl.xlsx")
    (tmp_path / "adtte.csv").write_bytes((DEMO_DIR / "adtte.csv").read_bytes())
    store = Store.open(tmp_path)
    try:
        q = store.quality()
        assert account(q)["adsl.xlsx"] == (105, 105, 0)
        assert _bad_age(q.issues) == [(5, "sixty")]  # spreadsheet row 6
        notes = [i.message for i in q.issues if i.row is None and i.file == "adsl.xlsx"]
        assert notes == [BLANK_NOTE.format(what="row", where="spreadsheet row")]
    finally:
        store.close()


def test_a_wide_file_numbers_its_rows_the_same_way(tmp_path):
    frame = wide_frame()
    rows = _with_blanks_and_a_bad_age(frame)
    text = "\n".join(",".join(r) for r in [list(frame.columns), *rows]) + "\n"
    (tmp_path / "wide.csv").write_text(text, encoding="utf-8")
    store = Store.open(tmp_path)
    try:
        q = store.quality()
        assert account(q)["wide.csv"] == (105, 105, 0)
        assert _bad_age(q.issues) == [(5, "sixty")]
    finally:
        store.close()


def test_a_sheet_declaring_too_small_a_size_is_read_whole(tmp_path):
    """Some writers leave a stale <dimension>: openpyxl would stop at it."""
    frame = pd.read_csv(DEMO_DIR / "adsl.csv", dtype=str, keep_default_na=False)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(frame.columns))
    for row in frame.values.tolist():
        sheet.append([v or None for v in row])
    buf = io.BytesIO()
    book.save(buf)
    rewrite(buf.getvalue(), tmp_path / "adsl.xlsx",
            lambda xml: re.sub(r'<dimension ref="[^"]*"', '<dimension ref="A1:C3"', xml))
    (tmp_path / "adtte.csv").write_bytes((DEMO_DIR / "adtte.csv").read_bytes())
    store = Store.open(tmp_path)
    try:
        assert store.count() == 105
        assert store.quality().issues == ()
    finally:
        store.close()


# --- 5. formulas without a saved value ------------------------------------------------------

def rewrite(data: bytes, dest: Path, edit) -> None:
    """Save workbook bytes with the first worksheet's XML edited."""
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(dest, "w") as out:
        for info in src.infolist():
            content = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                content = edit(content.decode("utf-8")).encode("utf-8")
            out.writestr(info, content)


def formula_workbook(tmp_path: Path, saved: bool) -> Path:
    frame = pd.read_csv(DEMO_DIR / "adsl.csv", dtype=str, keep_default_na=False)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "adsl"
    sheet.append(list(frame.columns))
    for n, row in enumerate(frame.values.tolist()):
        cells: list[object] = [v or None for v in row]
        if n == 5:
            cells[3] = "=60+5"  # AGE in spreadsheet row 7, as a tool that cannot compute
        sheet.append(cells)
    buf = io.BytesIO()
    book.save(buf)
    path = tmp_path / "adsl.xlsx"
    if saved:  # as Excel saves it: the result beside the formula
        # an empty value is written <v /> or <v></v>, as openpyxl's XML writer has it
        rewrite(buf.getvalue(), path, lambda xml: re.sub(r"<f>60\+5</f><v\s*(/>|></v>)",
                                                         "<f>60+5</f><v>65</v>", xml))
    else:
        path.write_bytes(buf.getvalue())
    (tmp_path / "adtte.csv").write_bytes((DEMO_DIR / "adtte.csv").read_bytes())
    return tmp_path


def test_a_formula_without_a_saved_value_is_reported_per_cell(tmp_path):
    store = Store.open(formula_workbook(tmp_path, saved=False))
    try:
        [issue] = store.quality().issues
        assert (issue.file, issue.row, issue.column, issue.value, issue.severity) == (
            "adsl.xlsx, sheet adsl", 6, "AGE", "=60+5", "warning")
        assert issue.message == ("formula with no saved value (open and save the workbook in "
                                 "Excel to compute it); read as missing")
        age = store.query("SELECT AGE FROM adsl ORDER BY USUBJID")
        assert age["AGE"].isna().sum() == 1
    finally:
        store.close()


def test_a_formula_with_its_saved_value_is_read_silently(tmp_path):
    store = Store.open(formula_workbook(tmp_path, saved=True))
    try:
        assert store.quality().issues == ()
        assert 65 in set(store.query("SELECT AGE FROM adsl")["AGE"])
    finally:
        store.close()


# --- 6. time zone-aware Parquet dates -------------------------------------------------------

@pytest.mark.parametrize("zone", ["Europe/Berlin", "+02:00", "America/New_York"])
def test_a_date_stored_as_local_midnight_keeps_its_day(tmp_path, zone, demo_store):
    import datetime as dt

    tz = dt.timezone(dt.timedelta(hours=2)) if zone == "+02:00" else zone
    frame = typed("adsl")
    for col in [c for c in frame.columns if c.endswith("DT")]:
        frame[col] = pd.to_datetime(frame[col]).dt.tz_localize(tz)
    frame.to_parquet(tmp_path / "adsl.parquet", index=False)
    (tmp_path / "adtte.csv").write_bytes((DEMO_DIR / "adtte.csv").read_bytes())
    store = Store.open(tmp_path)
    try:
        assert store.quality().issues == ()
        cols = "USUBJID, ENRLDT, PROCDT, LSTCNTDT, DTHDT"
        got = store.query(f"SELECT {cols} FROM adsl ORDER BY USUBJID")
        want = demo_store.query(f"SELECT {cols} FROM adsl ORDER BY USUBJID")
        pd.testing.assert_frame_equal(got, want)
    finally:
        store.close()


# --- 7. an extract given as one file ---------------------------------------------------------

def headline(capsys, data: Path | None) -> dict:
    code, out, err = run_cli(capsys, "summary", *(["--data", str(data)] if data else []))
    assert (code, err) == (0, "")
    summary = json.loads(out)
    return {"n": summary["cohort"]["n"], "AFS": summary["endpoints"]["AFS"],
            "bayes": summary["bayes"]}


@pytest.fixture(scope="module")
def demo_headline():
    with contextlib.redirect_stdout(io.StringIO()) as out:
        assert main(["summary"]) == 0
    summary = json.loads(out.getvalue())
    return {"n": summary["cohort"]["n"], "AFS": summary["endpoints"]["AFS"],
            "bayes": summary["bayes"]}


def test_one_wide_csv_file_gives_the_folder_numbers(tmp_path, capsys, demo_headline):
    folder = tmp_path / "folder"
    folder.mkdir()
    wide_frame().to_csv(folder / "wide.csv", index=False)
    single = tmp_path / "PROMISE export 2024.csv"  # any name: one file is a wide file
    single.write_bytes((folder / "wide.csv").read_bytes())
    assert headline(capsys, single) == headline(capsys, folder) == demo_headline
    assert headline(capsys, single)["n"] == 105


@pytest.mark.parametrize("form", ["parquet", "wide sheet", "sheets per table"])
def test_one_parquet_or_workbook_file_is_an_extract(tmp_path, capsys, demo_headline, form):
    if form == "parquet":
        path = tmp_path / "export.parquet"
        frame = wide_frame().replace("", None)
        frame.to_parquet(path, index=False)
    elif form == "wide sheet":
        path = tmp_path / "export.xlsx"
        frame = wide_frame()
        book = openpyxl.Workbook()
        book.active.append(list(frame.columns))
        for row in frame.values.tolist():
            book.active.append([v or None for v in row])
        book.save(path)
    else:
        path = tmp_path / "trial.xlsx"
        book = openpyxl.Workbook()
        book.remove(book.active)
        for name in ("adsl", "adtte", "visits"):
            frame = pd.read_csv(DEMO_DIR / f"{name}.csv", dtype=str, keep_default_na=False)
            sheet = book.create_sheet(name)
            sheet.append(list(frame.columns))
            for row in frame.values.tolist():
                sheet.append([v or None for v in row])
        book.save(path)
    assert headline(capsys, path) == demo_headline


@pytest.mark.parametrize(("name", "needle"), [
    ("missing.csv", "no such file or folder"),
    ("adsl.csv", "holds adsl only: a single file is read as a wide file"),
    ("extract.zip", "a zip file is not read directly: unpack it and give the folder"),
    ("notes.txt", "cannot be read: a text file"),
    ("mapping.toml", "expected a folder holding an extract, or one table file"),
])
@pytest.mark.parametrize("command", ["summary", "validate"])
def test_a_file_that_is_not_an_extract_exits_2_with_one_paragraph(tmp_path, capsys, name,
                                                                 needle, command):
    path = tmp_path / name
    if name == "adsl.csv":
        path.write_bytes((DEMO_DIR / "adsl.csv").read_bytes())
    elif name != "missing.csv":
        path.write_text("x\n", encoding="utf-8")
    code, _out, err = run_cli(capsys, command, "--data", str(path))
    assert code == 2
    assert needle in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_the_database_of_one_file_follows_the_file(tmp_path):
    path = tmp_path / "export.csv"
    wide_frame().to_csv(path, index=False)
    (tmp_path / "dataset.json").write_text('{"name": "not this one", "synthetic": true}',
                                           encoding="utf-8")
    first = database_for(path)
    assert database_for(path) == first
    store = Store.open(path)
    try:
        # the folder around a file is not the extract's: its manifest does not apply
        assert (store.meta["source"], store.synthetic) == ("export.csv", False)
    finally:
        store.close()
    frame = wide_frame()
    frame.loc[0, "AGE"] = "71"
    frame.to_csv(path, index=False)
    assert database_for(path) != first
    assert database_for(tmp_path / "export.csv") == database_for(path)
