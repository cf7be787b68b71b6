"""The codelist (analytics.model.labels): every code of the data model reads in clinical
words, filter clauses read as sentences, an extract's own labels override the defaults
and cannot break a page."""

from __future__ import annotations

import math

import pytest

from analytics.model.filters import FilterState
from analytics.model.labels import DEFAULT, MAX_LABEL, NOT_RECORDED, sentence_case
from analytics.model.schema import TABLES


@pytest.mark.parametrize(
    ("column", "code", "words"),
    [
        ("SEX", "M", "Male"),
        ("SEX", "F", "Female"),
        ("DIALFL", "Y", "Yes"),
        ("DIALFL", "N", "No"),
        ("TECHSFL", "N", "No"),
        ("RACE", "BLACK OR AFRICAN AMERICAN", "Black or African American"),
        ("ETHNIC", "NOT HISPANIC OR LATINO", "Not Hispanic or Latino"),
        ("RUTHCAT", "5", "5 (minor tissue loss)"),
        ("RUTHCAT", 6, "6 (major tissue loss)"),
        ("AGEGR1", "<=70", "70 or younger"),
        ("AGEGR1", ">70", "Over 70"),
        ("EOSSTT", "LOST TO FOLLOW-UP", "Lost to follow-up"),
        ("AVISIT", "MONTH 6", "Month 6"),
        ("WNDSTAT", "NOT HEALING", "Not healing"),
        ("DIABTYP", "TYPE 2", "Type 2"),
        ("PARAMCD", "LS", "Limb salvage (freedom from above-ankle amputation)"),
        ("AETERM", "MI WITH AKI", "MI with AKI"),
        ("SITEID", "013", "013"),  # an identifier is shown as it is
        ("AETERM", "Already mixed Case", "Already mixed Case"),  # someone's own casing
        ("XARTERY", "SOMETHING NEW", "Something new"),
    ],
)
def test_codes_read_in_words(column, code, words):
    assert DEFAULT.value(column, code) == words


@pytest.mark.parametrize("missing", [None, "", math.nan])
def test_a_missing_value_reads_not_recorded(missing):
    assert DEFAULT.value("SEX", missing) == NOT_RECORDED


def test_every_code_of_the_model_has_words_not_capitals():
    for table in TABLES.values():
        for column in table.columns:
            for code in column.allowed:
                words = DEFAULT.value(column.name, code)
                in_capitals = words == words.upper() and any(c.isalpha() for c in words)
                assert not in_capitals, (column.name, code, words)


def test_columns_read_as_their_clinical_label():
    assert DEFAULT.column("DIALFL") == "On dialysis"
    assert DEFAULT.column("AGE") == "Age at enrolment"
    assert DEFAULT.column("AGE", units=True) == "Age at enrolment (years)"
    assert DEFAULT.column("RUTHCAT") == "Rutherford class at baseline"  # the subject table's
    assert DEFAULT.column("NEW_SCORE") == "New score"
    assert DEFAULT.level("SEX", "F") == "Sex: Female"


def test_filters_read_as_sentences():
    state = FilterState.parse(
        ["DIALFL=N", "SEX=F,M", "AGE>=60", "BMI<=30", "ENRLDT>=2020-04-01", "RUTHCAT!=6"]
    )
    assert [DEFAULT.clause(c) for c in state.clauses] == [
        "Age at enrolment ≥ 60 years",
        "Body-mass index ≤ 30 kg/m2",
        "On dialysis = No",
        "Enrolment date ≥ 1 Apr 2020",
        "Rutherford class at baseline ≠ 6 (major tissue loss)",
        "Sex = Female or Male",
    ]
    assert DEFAULT.filters(FilterState()) == "none (all patients)"


def test_an_extracts_own_labels_win_and_are_made_safe():
    own = DEFAULT.with_labels(
        {"DIALFL": "Haemodialysis", "SEX": "\x1b[31mGender\u202e\n"},
        {"SEX": {"M": "Man", "F": "Woman"}, "RACE": {"WHITE": "x" * 500}},
    )
    assert own.column("DIALFL") == "Haemodialysis"
    assert own.column("SEX") == "[31mGender"  # control and direction characters removed
    assert own.value("SEX", "F") == "Woman"
    assert own.value("DIALFL", "Y") == "Yes"  # what the extract does not label keeps its words
    assert len(own.value("RACE", "WHITE")) == MAX_LABEL
    assert DEFAULT.value("SEX", "F") == "Female"  # the defaults are unchanged
    assert own.with_labels({"DIALFL": "  "}).column("DIALFL") == "Haemodialysis"  # blank: ignored


def test_sentence_case_keeps_acronyms_and_proper_words():
    assert sentence_case("HISPANIC OR LATINO") == "Hispanic or Latino"
    assert sentence_case("CKD STAGE 5") == "CKD stage 5"
    assert sentence_case("COVID-19") == "COVID-19"
    assert sentence_case("12") == "12"
