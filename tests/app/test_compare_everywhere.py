"""Every page honours compare-by or says why not, and with filters active each headline
shows its difference from all patients. Expected numbers come from the patient rows
(`headline`, `endpoint_cumulative_incidence`), not from the pages' own aggregates."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from analytics.analyses.headline import headline
from analytics.analyses.survival import endpoint_cumulative_incidence
from analytics.model.filters import FilterState
from tests.helpers import ROOT, open_page
from ui import fmt


def run(page: str, **query: str) -> AppTest:
    return open_page(AppTest.from_file(str(ROOT / "app.py"), default_timeout=90), page, **query)


def table(at: AppTest, first_column: str):
    return next(d.value for d in at.dataframe if d.value.columns[0] == first_column)


def test_each_headline_shows_its_difference_from_all_patients(demo_store):
    at = run("pages/overview.py", DIALFL="Y")
    every = headline(demo_store.cohort())
    some = headline(demo_store.cohort(FilterState.parse(["DIALFL=Y"])))
    shown = [m.value for m in at.main.markdown if "vs all" in m.value]
    for code in ("AFS", "LS", "OS"):
        a, s = every.estimate(code).landmark.estimate, some.estimate(code).landmark.estimate
        line = f"**{fmt.points(s - a)}** vs all {every.n} patients ({fmt.pct(a)})"
        assert line in shown
    assert not [m for m in run("pages/overview.py").main.markdown if "vs all" in m.value]


def test_points_read_as_a_signed_difference():
    assert fmt.points(0.067) == "+6.7 points"
    assert fmt.points(-0.032) == "−3.2 points"
    assert fmt.points(0.0004) == "no difference"


def test_the_overview_gives_every_group_its_headline(demo_store):
    at = run("pages/overview.py", compare="SEX")
    frame = table(at, "Sex")
    assert list(frame["Sex"]) == ["Male", "Female"]  # words, in the schema's order
    for code, (_, row) in zip(("M", "F"), frame.iterrows(), strict=True):
        head = headline(demo_store.cohort(FilterState.parse([f"SEX={code}"])))
        lm = head.estimate("AFS").landmark
        assert row["Patients"] == head.n
        assert row["Amputation-free survival"] == (
            f"{fmt.pct(lm.estimate)} ({fmt.ci_range(lm.lower, lm.upper)})"
        )
        assert row["P(AFS rate > 54%)"] == fmt.probability(head.bayes.probability_above_goal)


def test_the_primary_endpoint_is_given_per_group_as_descriptive(demo_store):
    at = run("pages/primary_endpoint.py", compare="SEX")
    frame = table(at, "Sex")
    assert set(frame["Sex"]) == {"Male", "Female"}
    assert "no adjustment for several groups" in " ".join(c.value for c in at.main.caption)


@pytest.mark.parametrize("ci_type", ["log-log", "plain"])
def test_competing_risks_are_given_per_group(demo_store, ci_type):
    at = run("pages/afs.py", compare="SEX", ci=ci_type)
    frame = table(at, "Sex")
    for code, (_, row) in zip(("M", "F"), frame.iterrows(), strict=True):
        assert row["Sex"] == {"M": "Male", "F": "Female"}[code]
        cohort = demo_store.cohort(FilterState.parse([f"SEX={code}"]))
        res = endpoint_cumulative_incidence(cohort, "LS", landmarks=(183,), ci_type=ci_type)
        for column, curve in (("Death as competing risk", res.aalen_johansen),
                              ("1 − Kaplan-Meier", res.one_minus_km)):
            lm = curve.landmark(183)
            assert row[column] == f"{fmt.pct(lm.estimate)} ({fmt.ci_range(lm.lower, lm.upper)})"


@pytest.mark.parametrize("page", ["pages/design.py", "pages/data.py"])
def test_pages_the_view_does_not_change_say_so(page):
    said = " ".join(c.value for c in run(page, compare="SEX").main.caption)
    assert "The filters and comparison in the sidebar do not apply here" in said
    said = " ".join(c.value for c in run(page).main.caption)
    assert "do not apply here" not in said


def test_the_glossary_defines_the_words_of_the_pages():
    at = run("pages/glossary.py")
    text = " ".join(m.value for m in at.main.markdown)
    for term in ("Amputation-free survival (AFS)", "Limb salvage", "Rutherford class",
                 "Primary patency", "Primary-assisted patency", "Secondary patency",
                 "Bayesian primary endpoint", "immortal-time bias"):
        assert term in text
