"""Garbage in, a clear message out: random bytes, random CSV text, random column names
and values, truncated Parquet, broken workbooks, random mapping files (TOML and YAML,
anchors and aliases included), random wide files (also given alone as the extract) and
a registry with a garbage sub-folder either load into a usable store or raise a
DataError whose message names the file; never another exception, never a hang.

Each example runs under a watchdog (SIGALRM) so that a loop in Python fails the
example instead of stalling the suite; the pytest-timeout marker backs it up for
time spent inside DuckDB.
"""

from __future__ import annotations

import datetime as dt
import io
import string
import tempfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from analytics.extract.issues import DataError
from analytics.extract.wide import WIDE, WIDE_REQUIRED
from analytics.model.schema import ADSL, ADTTE
from analytics.store import DEMO_DIR, Store
from tests.helpers import TooSlowError, watchdog

EXAMPLE_SECONDS = 20
SETTINGS = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
ADTTE_CSV = (DEMO_DIR / "adtte.csv").read_bytes()
ADSL_CSV = (DEMO_DIR / "adsl.csv").read_bytes()

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]  # random extracts, many examples


def outcome(files: dict[str, bytes], named: str | tuple[str, ...], open_at: str = "") -> str:
    """Load an extract made of `files` (names may hold a sub-folder): 'usable' or
    'refused' with a message naming `named` (or one of them) or, when its rows merely
    left the other table without a usable row (a garbage adsl orphans every adtte row),
    that other file; any other exception fails the test. `open_at` opens one file of
    the extract instead of its folder."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "extract"
        folder.mkdir()
        for name, content in files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(content)
        refused: DataError | None = None
        with watchdog(EXAMPLE_SECONDS):
            try:
                store = Store.open(folder / open_at if open_at else folder)
            except DataError as exc:
                refused = exc
        if refused is not None:
            message = str(refused)
            names = (named,) if isinstance(named, str) else named
            assert any(n in message for n in names) or (
                "can be used" in message and any(f in message for f in files)), message
            assert refused.issues
            assert refused.issues[0].severity == "error"
            return "refused"
        try:
            assert store.count() > 0
            q = store.quality()
            assert q.rows_read == q.rows_used + q.rows_rejected
            for f in q.files:
                assert f.rows_read == f.rows_used + f.rows_rejected
            store.cohort()
            store.rejected_rows()
        finally:
            store.close()
        return "usable"


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DVA_CACHE_DIR", str(tmp_path / "cache"))


@SETTINGS
@given(st.binary(max_size=2000))
def test_random_bytes_as_a_table(data):
    outcome({"adsl.csv": data, "adtte.csv": ADTTE_CSV}, "adsl.csv")


CELL = st.one_of(
    st.text(alphabet=string.printable, max_size=12),
    st.sampled_from(["", "NA", ".", "1e309", "-0", "nan", "2021-02-30", "9999-12-31",
                     "0001-01-01", "2147483648", "-1", "1.5", '"', "\r", "Y", "N", "M"]),
    st.integers(-(2**63), 2**63 - 1).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
NAME = st.one_of(st.sampled_from([*ADSL.names, *ADTTE.names, "usubjid", "sex ", ""]),
                 st.text(max_size=10))


def _csv(header: list[str], rows: list[list[str]], delim: str) -> bytes:
    out = io.StringIO()
    pd.DataFrame(rows, columns=range(len(header))).to_csv(out, header=header, index=False,
                                                          sep=delim)
    return out.getvalue().encode("utf-8")


@SETTINGS
@given(st.data())
def test_random_csv_text(data):
    width = data.draw(st.integers(1, 6))
    header = data.draw(st.lists(NAME, min_size=width, max_size=width))
    rows = data.draw(st.lists(st.lists(CELL, min_size=width, max_size=width), max_size=6))
    delim = data.draw(st.sampled_from([",", ";", "\t", "|"]))
    table = data.draw(st.sampled_from(["adsl", "adtte"]))
    files = {"adsl.csv": ADSL_CSV, "adtte.csv": ADTTE_CSV}
    files[f"{table}.csv"] = _csv(header, rows, delim)
    event(outcome(files, f"{table}.csv"))


def mostly(valid: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """A valid value four times in five, garbage otherwise."""
    return st.sampled_from([True, True, True, True, False]).flatmap(
        lambda ok: valid if ok else CELL)


@SETTINGS
@given(st.data())
def test_random_values_under_the_right_names(data):
    """Right column names, wrong everything else: must load (errors reject rows)
    or be refused for having no usable row."""
    n = data.draw(st.integers(1, 5))
    adsl_cols = data.draw(st.lists(st.sampled_from(ADSL.names), min_size=1, max_size=8,
                                   unique=True))
    adsl_cols = ["USUBJID", *[c for c in adsl_cols if c != "USUBJID"]]
    ids = data.draw(st.lists(st.sampled_from(["A", "B", "C", "A", "B", ""]), min_size=n,
                             max_size=n))
    adsl = [[ids[i], *data.draw(st.lists(CELL, min_size=len(adsl_cols) - 1,
                                         max_size=len(adsl_cols) - 1))] for i in range(n)]
    tte_cols = ["USUBJID", "PARAMCD", "AVAL", "CNSR", *data.draw(
        st.lists(st.sampled_from(["ADT", "STARTDT", "PARAM"]), unique=True))]
    # mostly plausible times and codes, so that some extracts load and are checked
    aval = mostly(st.integers(0, 2000).map(str))
    cnsr = mostly(st.sampled_from(["0", "1", "4"]))
    tte = [[data.draw(mostly(st.sampled_from(["A", "B", "C"]))),
            data.draw(st.sampled_from(["OS", "PP", "PAP", "SP", ""])),
            data.draw(aval), data.draw(cnsr),
            *data.draw(st.lists(CELL, min_size=len(tte_cols) - 4, max_size=len(tte_cols) - 4))]
           for _ in range(data.draw(st.integers(1, 6)))]
    fmt = data.draw(st.sampled_from(["csv", "parquet"]))
    files: dict[str, bytes] = {}
    for name, cols, rows in (("adsl", adsl_cols, adsl), ("adtte", tte_cols, tte)):
        frame = pd.DataFrame(rows, columns=cols)
        if fmt == "csv":
            files[f"{name}.csv"] = _csv(cols, rows, ",")
        else:
            buf = io.BytesIO()
            frame.to_parquet(buf, index=False)
            files[f"{name}.parquet"] = buf.getvalue()
    event(outcome(files, f"adtte.{fmt}"))


def _parquet(frame: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buf)
    return buf.getvalue()


DEMO_TTE_PARQUET = _parquet(pd.read_csv(DEMO_DIR / "adtte.csv"))
DEMO_ADSL_PARQUET = _parquet(pd.read_csv(DEMO_DIR / "adsl.csv", dtype={"SITEID": str}))


@SETTINGS
@given(st.integers(0, len(DEMO_TTE_PARQUET)), st.binary(max_size=64))
def test_truncated_or_patched_parquet(cut, patch):
    broken = DEMO_TTE_PARQUET[:cut] + patch
    event(outcome({"adsl.parquet": DEMO_ADSL_PARQUET, "adtte.parquet": broken}, "adtte.parquet"))


@SETTINGS
@given(st.one_of(st.binary(max_size=300),
                 st.integers(0, 4000).map(lambda n: _workbook()[:n])))
def test_broken_workbooks(data):
    outcome({"adsl.xlsx": data, "adtte.csv": ADTTE_CSV}, "adsl.xlsx")


def _workbook() -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["USUBJID", "SEX"])
    sheet.append(["SYNTH-DVA-01-013-0001", "M"])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


@SETTINGS
@given(st.binary(max_size=400))
def test_random_bytes_as_sas_transport(data):
    outcome({"adsl.xpt": data, "adtte.csv": ADTTE_CSV}, "adsl.xpt")


# --- mapping files -----------------------------------------------------------------------

MAPPING_WORDS = st.sampled_from([
    "files", "columns", "values", "flag_values", "adsl", "adtte", "wide", "visits", "adae",
    "SEX", "USUBJID", "DIALFL", "AGE", "PATIENT", "Yes", "No", "Y", "N", "M", "F", "1", "2",
    "", "nope", "columns.adsl", "values.SEX", "\u00e9", "1979-05-27", "inf", "true", "null",
])
YAML_BITS = st.sampled_from([
    ": ", ":", "- ", "\n", "\n  ", "\n    ", "[", "]", "{", "}", ", ", "&a ", "&b ", "*a",
    "*b", "<<: *a", "!!str ", "!!python/object:os.system ", "'", '"', "# ", "|", ">", "~",
    "---\n", "...\n", "? ", "%YAML 1.1\n", "\t",
])
TOML_BITS = st.sampled_from([
    " = ", "=", "\n", "[", "]", "[[", "]]", "{", "}", ", ", ".", '"', "'", "'" * 3, '"' * 3,
    "# ", "\\", "\\u00", " ", "\t", "0x1F", "1e400", "[columns]\n", "[values.SEX]\n",
])


def _fragments(bits: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.lists(st.one_of(MAPPING_WORDS, bits, st.text(max_size=4)), max_size=60).map(
        "".join)


def _yaml_bomb(levels: int, width: int) -> str:
    lines = ["a0: &a0 [" + ", ".join(["x"] * width) + "]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]"
              for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def _toml(sections: dict[str, dict[str, str]]) -> str:
    out = []
    for section, items in sections.items():
        out.append(f"[{section}]")
        out += [f'"{k}" = "{v}"' for k, v in items.items()]
    return "\n".join(out) + "\n"


def _yaml(sections: dict[str, dict[str, str]]) -> str:
    out = []
    for section, items in sections.items():
        out.append(f"{section}:")
        out += [f"  '{k}': '{v}'" for k, v in items.items()]
    return "\n".join(out) + "\n"


SECTIONS = st.dictionaries(
    st.sampled_from(["files", "columns", "columns.adsl", "values.SEX", "values.DIALFL",
                     "flag_values", "colums"]),
    st.dictionaries(st.one_of(MAPPING_WORDS, st.text(alphabet=string.ascii_letters,
                                                     max_size=6)),
                    MAPPING_WORDS, max_size=4),
    max_size=4,
)


@SETTINGS
@given(st.data())
def test_random_mapping_files(data):
    kind = data.draw(st.sampled_from(["toml", "yaml"]))
    how = data.draw(st.sampled_from(["fragments", "sections", "bomb"]))
    if how == "fragments":
        text = data.draw(_fragments(TOML_BITS if kind == "toml" else YAML_BITS))
    elif how == "sections":
        sections = data.draw(SECTIONS)
        text = _toml(sections) if kind == "toml" else _yaml(sections)
    else:
        kind = "yaml"
        text = _yaml_bomb(data.draw(st.integers(1, 12)), data.draw(st.integers(1, 12)))
    files = {"adsl.csv": ADSL_CSV, "adtte.csv": ADTTE_CSV, f"mapping.{kind}": text.encode()}
    # a mapping may rename or recode a table's columns away: the table is named then
    event(outcome(files, (f"mapping.{kind}", "adsl.csv", "adtte.csv")))


# --- wide files and registries ------------------------------------------------------------

DATE = st.dates(dt.date(2019, 1, 1), dt.date(2023, 12, 31)).map(str)
WIDE_CODES = st.sampled_from(["A", "B", "C", "Y", "N", "M", "1"])


@SETTINGS
@given(st.data())
def test_random_wide_files(data):
    cols = data.draw(st.lists(st.sampled_from(WIDE.names), min_size=1, max_size=10,
                              unique=True))
    cols = [*dict.fromkeys([*data.draw(st.sampled_from([[], list(WIDE_REQUIRED)])), *cols])]
    if data.draw(st.booleans()):
        cols.append(data.draw(NAME))
    rows = [[data.draw(mostly(DATE if c.endswith("DT") else WIDE_CODES)) for c in cols]
            for _ in range(data.draw(st.integers(0, 6)))]
    fmt = data.draw(st.sampled_from(["csv", "parquet", "xlsx"]))
    alone = data.draw(st.booleans())  # the file given as the whole extract
    name = f"{'export' if alone else 'wide'}.{fmt}"
    if fmt == "csv":
        content = _csv(cols, rows, data.draw(st.sampled_from([",", ";"])))
    elif fmt == "parquet":
        if len(set(cols)) < len(cols):
            return  # Parquet cannot hold two columns of one name
        content = _parquet(pd.DataFrame(rows, columns=cols, dtype=object))
    else:
        content = _sheet_bytes(cols, rows)
    event(outcome({name: content}, name, open_at=name if alone else ""))


def _sheet_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


GARBAGE_NAMES = st.sampled_from(["adsl.csv", "adtte.csv", "wide.csv", "visits.csv",
                                 "patients.csv", "mapping.toml", "mapping.yaml",
                                 "dataset.json", "adsl.xlsx", "adae.parquet", "notes.txt"])


@SETTINGS
@given(st.data())
def test_a_registry_with_a_garbage_study(data):
    files = {"site-good/adsl.csv": ADSL_CSV, "site-good/adtte.csv": ADTTE_CSV}
    for name in data.draw(st.lists(GARBAGE_NAMES, min_size=1, max_size=4, unique=True)):
        files[f"site-garbage/{name}"] = data.draw(st.one_of(
            st.binary(max_size=300),
            st.sampled_from([ADSL_CSV, ADTTE_CSV, ADSL_CSV[:500], b"USUBJID\n\n\n"]),
            _fragments(YAML_BITS if name.endswith("yaml") else TOML_BITS).map(str.encode),
        ))
    event(outcome(files, "site-garbage"))


def _spin() -> None:
    with watchdog(1):
        while True:
            pass


def test_the_watchdog_stops_a_runaway_example():
    with pytest.raises(TooSlowError):
        _spin()
