"""Filter text from a URL or the command line: limits checked before parsing, a parser
that reads each character once, and a plain message for what it refuses."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analytics.model.filters import (
    MAX_CLAUSE_CHARS,
    MAX_CLAUSES,
    MAX_FILTER_TEXT,
    Clause,
    FilterError,
    FilterState,
    split_clauses,
)


@pytest.mark.parametrize(
    ("text", "clause"),
    [
        ("DIALFL=N", Clause("DIALFL", "in", ("N",))),
        ("  sex = M , F  ", Clause("SEX", "in", ("M", "F"))),
        ("AGE>=70", Clause("AGE", ">=", ("70",))),
        ("AGE <= 70", Clause("AGE", "<=", ("70",))),
        ("RACE!=WHITE", Clause("RACE", "not_in", ("WHITE",))),
        ("XVEIN=PERONEAL VEIN", Clause("XVEIN", "in", ("PERONEAL VEIN",))),
        ("A_1=x=y", Clause("A_1", "in", ("x=y",))),
    ],
)
def test_clauses_parse_as_documented(text, clause):
    assert FilterState.parse([text]).clauses == (clause,)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("=N", "is not of the form"),
        ("1AGE>=3", "is not of the form"),
        ("AGE 70", "is not of the form"),
        ("AGE>", "is not of the form"),
        ("SEX=", "has an empty value"),
        ("SEX=M,,F", "has an empty value"),
        ("AGE>=1,2", "takes exactly one value"),
    ],
)
def test_malformed_clauses_are_named(text, needle):
    with pytest.raises(FilterError, match=needle):
        FilterState.parse([text])


PATHOLOGICAL = [
    "AGE=" + "1" + " " * 1_000_000 + "2",
    "AGE" + " " * 1_000_000 + "=1",
    "AGE=1" + " " * 1_000_000,
    " " * 1_000_000 + "x",
    "A" * 1_000_000,
    "SEX=" + "M," * 500_000,
    "=" * 1_000_000,
]


@pytest.mark.parametrize("text", PATHOLOGICAL, ids=range(len(PATHOLOGICAL)))
def test_a_million_characters_are_refused_within_a_second(text):
    start = time.perf_counter()
    with pytest.raises(FilterError) as err:
        FilterState.parse(split_clauses(text))
    assert time.perf_counter() - start < 1.0
    assert "characters long" in str(err.value)
    # the message quotes the start of the input, never all of it
    assert len(str(err.value)) < 300


def test_long_clauses_just_under_the_limits_parse_in_linear_time():
    padded = "AGE=" + "1" + " " * (MAX_CLAUSE_CHARS - 10)
    many = "; ".join(f"C{i}=1" for i in range(MAX_CLAUSES))
    start = time.perf_counter()
    for _ in range(200):
        FilterState.parse(split_clauses(padded))
        FilterState.parse(split_clauses(many))
    assert time.perf_counter() - start < 1.0
    assert len(FilterState.parse(split_clauses(many)).clauses) == MAX_CLAUSES


def test_counts_are_limited_before_anything_is_parsed():
    with pytest.raises(FilterError, match=f"more than {MAX_CLAUSES} filter clauses"):
        FilterState.parse(split_clauses("; ".join(f"C{i}=1" for i in range(MAX_CLAUSES + 1))))
    with pytest.raises(FilterError, match="more than 500 values"):
        FilterState.parse(["SEX=" + ",".join("M" * 1 for _ in range(501))])
    with pytest.raises(FilterError, match=f"at most {MAX_FILTER_TEXT:,} are read"):
        split_clauses(";" * (MAX_FILTER_TEXT + 1))


@pytest.mark.parametrize("padding", [30_000, 100_000])
def test_a_padded_url_clause_is_refused_plainly_and_quickly(monkeypatch, padding):
    monkeypatch.delenv("DVA_DATA_DIR", raising=False)
    app = str(Path(__file__).resolve().parents[2] / "app.py")
    AppTest.from_file(app, default_timeout=60).run()  # opening the demo is not timed
    at = AppTest.from_file(app, default_timeout=60)
    at.query_params["where"] = "BMI>=" + " " * padding + "25"
    start = time.perf_counter()
    at.run()
    assert time.perf_counter() - start < 5.0
    assert not at.exception
    said = " ".join(w.value for w in at.main.warning)
    assert "Part of this view could not be used" in said
    assert "where: the link's view is" in said
    assert "characters long" in said
    assert at.text_input(key="where").value == ""
