"""Patients left out of a comparison for a missing value of the compare-by column are
counted and said, on the pages and in the command line's JSON, never dropped silently."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from analytics.report.cli import main
from tests.helpers import ROOT

BY = "DIABTYP"  # recorded for diabetic patients only: the others have no type


@pytest.fixture
def missing(demo_cohort) -> int:
    n = int(demo_cohort.adsl[BY].isna().sum())
    assert 0 < n < demo_cohort.n  # the demo must hold such patients for this test to mean anything
    return n


def _summary(capsys, *args: str) -> dict:
    assert main(["summary", *args]) == 0
    return json.loads(capsys.readouterr().out)


def test_the_json_counts_and_names_them(capsys, missing, demo_cohort):
    out = _summary(capsys, "--by", BY)
    assert out["cohort"]["not_compared"] == missing
    assert f"{missing} patients without a recorded diabetes type are not in the comparison" in (
        out["cohort"]["notes"]
    )
    assert sum(g["n"] for g in out["groups"].values()) == demo_cohort.n - missing
    every = _summary(capsys, "--by", "SEX")
    assert every["cohort"]["not_compared"] == 0
    assert not any("not in the comparison" in n for n in every["cohort"]["notes"])
    assert "not_compared" not in _summary(capsys)["cohort"]


@pytest.mark.parametrize("page", ["pages/afs.py", "pages/patients.py", "pages/wounds.py"])
def test_every_page_comparing_groups_says_so(page, missing):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.query_params["compare"] = BY
    at.switch_page(page)
    at.run()
    assert not at.exception
    said = " ".join(c.value for c in at.main.caption)
    assert f"{missing} patients without a recorded diabetes type are not in the comparison." in said
