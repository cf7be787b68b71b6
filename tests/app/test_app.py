"""The dashboard run headless through Streamlit's AppTest, on the bundled demo data.

Expected figures are computed here through `analytics`, never typed in, so the
tests check that the page shows exactly what the engine computes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import ui.context
from analytics.analyses.headline import Headline, headline
from analytics.model.filters import FilterState
from analytics.model.view import View

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
PAGES = (
    ("pages/overview.py", "Overview", ""),
    ("pages/afs.py", "Amputation-free survival", ""),
    ("pages/primary_endpoint.py", "Primary endpoint", ""),
    ("pages/design.py", "Trial design", ""),
    ("pages/evidence.py", "Published evidence", ""),
    ("pages/patency.py", "Patency", ""),
    ("pages/subgroups.py", "Subgroups", ""),
    ("pages/wounds.py", "Wounds and Rutherford", ""),
    ("pages/patients.py", "Patients and procedure", ""),
    ("pages/sites.py", "Sites", ""),
    ("pages/audit.py", "NICE audit", ""),
    ("pages/report.py", "Committee report", ""),
    ("pages/data.py", "Data", ""),
    ("pages/glossary.py", "Glossary", ""),
)
KM_LABELS = {
    "AFS": "Amputation-free survival at 6 months",
    "LS": "Limb salvage at 6 months",
    "OS": "Overall survival at 6 months",
}


def expected_metrics(head: Headline) -> dict[str, tuple[str, str]]:
    """Label -> (value, CI text), written out independently of the app's helpers."""
    out = {}
    for code, label in KM_LABELS.items():
        lm = head.estimate(code).landmark
        out[label] = (
            f"{100 * lm.estimate:.1f}%",
            f"95% CI {100 * lm.lower:.1f}–{100 * lm.upper:.1f}",
        )
    return out


def shown_metrics(at: AppTest) -> dict[str, tuple[str, str]]:
    return {m.label: (m.value, m.delta) for m in at.metric if m.label in KM_LABELS.values()}


def patients_line(at: AppTest) -> str:
    return " ".join(m.value for m in at.sidebar.markdown)


@pytest.fixture
def at(monkeypatch: pytest.MonkeyPatch) -> AppTest:
    # Tests always use the bundled demo, whatever the developer's shell points at.
    monkeypatch.delenv("DVA_DATA_DIR", raising=False)
    return AppTest.from_file(APP, default_timeout=60)


@pytest.fixture(scope="module")
def dialysis(demo_store) -> tuple[FilterState, Headline]:
    filters = FilterState.from_mapping({"DIALFL": ["Y"]})
    return filters, headline(demo_store.cohort(filters))


def test_overview_runs_without_error(at):
    at.run()
    assert not at.exception
    assert not at.error


def test_synthetic_notice_is_shown(at, demo_store):
    assert demo_store.synthetic, "the bundled demo must be flagged synthetic"
    notice = demo_store.meta["notice"]
    assert notice
    at.run()
    assert notice in [w.value for w in at.warning]


def test_headline_metrics_match_analytics(at, demo_cohort):
    head = headline(demo_cohort)
    at.run()
    assert shown_metrics(at) == expected_metrics(head)
    assert f"{head.n:,} of {head.n_total:,} patients" in patients_line(at)


def test_bayesian_verdict_matches_analytics(at, demo_cohort):
    bayes = headline(demo_cohort).bayes
    assert bayes is not None
    at.run()
    mean = next(m for m in at.metric if m.label.startswith("Posterior mean AFS"))
    assert mean.value == f"{100 * bayes.posterior_mean:.1f}%"
    lo, hi = bayes.credible_interval
    assert mean.delta == f"95% credible interval {100 * lo:.1f}–{100 * hi:.1f}"
    p = bayes.probability_above_goal
    prob = next(m for m in at.metric if m.label.startswith("Probability the AFS rate"))
    assert prob.value == (">0.9999" if p > 0.9999 else "<0.0001" if p < 0.0001 else f"{p:.4f}")
    verdict = next(a.value for a in (*at.success, *at.info) if a.value.startswith("Performance"))
    assert verdict.startswith("Performance goal met" if bayes.success else "Performance goal not")


def test_dialysis_filter_changes_count_and_metrics(at, dialysis):
    _, head = dialysis
    assert 0 < head.n < head.n_total, "the demo needs patients on and off dialysis"
    at.run()
    at.multiselect(key="DIALFL").set_value(["Y"]).run()
    assert not at.exception
    assert f"{head.n:,} of {head.n_total:,} patients" in patients_line(at)
    assert shown_metrics(at) == expected_metrics(head)
    # above every page, and as a removable chip in the sidebar
    assert "Filters: On dialysis = Yes" in " ".join(c.value for c in at.main.caption)
    assert "On dialysis = Yes" in [b.label for b in at.sidebar.button]


def test_query_parameter_opens_filtered_view(at, dialysis):
    _, head = dialysis
    at.query_params["DIALFL"] = "Y"
    at.run()
    assert at.multiselect(key="DIALFL").value == ["Y"]
    assert shown_metrics(at) == expected_metrics(head)


def link_warning(at: AppTest) -> str:
    return " ".join(w.value for w in at.main.warning if "could not be used" in w.value)


def test_unusable_link_parts_are_named_not_dropped_silently(at, demo_cohort):
    at.query_params["DIALFL"] = ["maybe", "y"]
    at.query_params["compare"] = "NOSUCH"
    at.query_params["ci"] = "bogus"
    at.run()
    assert not at.exception
    assert at.multiselect(key="DIALFL").value == []
    assert shown_metrics(at) == expected_metrics(headline(demo_cohort))
    said = link_warning(at)
    assert "DIALFL='maybe': not a value in these data (values: Y, N)" in said
    assert "DIALFL='y': not a value in these data; did you mean 'Y'?" in said
    assert "compare=NOSUCH" in said
    assert "ci='bogus'" in said
    # the notice stays while the view is the one the link gave, and goes with a change
    at.run()
    assert link_warning(at) == said
    at.multiselect(key="SEX").set_value(["F"]).run()
    assert link_warning(at) == ""


def test_the_sidebar_is_drawn_from_the_links_view_and_returns_it(at):
    query = {
        "DIALFL": "Y",
        "AGE": ["60", "80"],
        "ENRL": ["2020-Q2", "2021-Q1"],
        "where": "BMI>=25",
        "compare": "SEX",
        "landmark": "365",
        "ci": "log",
        "goal": "60",
        "ticks": "6",
        "band": "false",
        "minrisk": "5",
    }
    for name, value in query.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception
    assert not link_warning(at)
    view = at.session_state["_dva_context"].view
    assert view.key == View.from_query(query).key
    assert at.slider(key="AGE").value == (60, 80)
    assert at.select_slider(key="ENRL").value == ("2020-Q2", "2021-Q1")
    assert at.text_input(key="where").value == "BMI>=25"
    assert at.selectbox(key="compare").value == "SEX"
    assert (at.number_input(key="landmark").value, at.selectbox(key="ci").value) == (365, "log")
    # what cannot go on a slider exactly (a bound outside the data) stays a text clause
    at2 = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at2.query_params["where"] = "AGE>=200"
    at2.run()
    assert at2.text_input(key="where").value == "AGE>=200"
    assert at2.session_state["_dva_context"].view.filters == FilterState.parse(["AGE>=200"])


def test_reset_clears_filters(at, demo_cohort):
    at.query_params["DIALFL"] = "Y"
    at.query_params["AGE"] = ["60", "80"]
    at.query_params["where"] = "BMI>=25"
    at.run()
    assert at.button(key="reset").disabled is False
    at.button(key="reset").click().run()
    assert at.multiselect(key="DIALFL").value == []
    assert at.text_input(key="where").value == ""
    assert at.slider(key="AGE").value == (
        int(demo_cohort.adsl.AGE.min()),
        int(demo_cohort.adsl.AGE.max()),
    )
    assert f"{demo_cohort.n:,} of {demo_cohort.n:,} patients" in patients_line(at)
    assert at.button(key="reset").disabled


def chip(at: AppTest, text: str):
    return next(b for b in at.sidebar.button if b.label == text)


def test_a_chip_removes_its_clause_only(at, demo_store):
    at.query_params["DIALFL"] = "Y"
    at.query_params["AGE"] = ["60", str(int(demo_store.query("SELECT max(AGE) m FROM adsl").m[0]))]
    at.run()
    both = FilterState.parse(["DIALFL=Y", "AGE>=60"])
    assert f"{demo_store.count(both):,} of" in patients_line(at)
    chip(at, "Age at enrolment ≥ 60 years").click().run()
    assert not at.exception
    dial = FilterState.parse(["DIALFL=Y"])
    assert f"{demo_store.count(dial):,} of" in patients_line(at)
    assert at.multiselect(key="DIALFL").value == ["Y"]
    chip(at, "On dialysis = Yes").click().run()
    assert at.multiselect(key="DIALFL").value == []
    assert f"{demo_store.count():,} of {demo_store.count():,}" in patients_line(at)


def test_enrolment_period_filters_by_quarter(at, demo_store):
    at.run()
    at.select_slider(key="ENRL").set_value(("2020-Q2", "2021-Q1")).run()
    assert not at.exception
    period = FilterState.parse(["ENRLDT>=2020-04-01", "ENRLDT<=2021-03-31"])
    n = demo_store.count(period)
    assert 0 < n < demo_store.count()
    assert f"{n:,} of {demo_store.count():,} patients" in patients_line(at)
    head = headline(demo_store.cohort(period))
    assert shown_metrics(at) == expected_metrics(head)


def test_other_filters_take_any_clause_and_refuse_nonsense_plainly(at, demo_store):
    at.query_params["where"] = "BMI>=30; SMOKSTAT=CURRENT"
    at.run()
    chosen = FilterState.parse(["BMI>=30", "SMOKSTAT=CURRENT"])
    assert f"{demo_store.count(chosen):,} of" in patients_line(at)
    at.text_input(key="where").set_value("NOSUCH>=1").run()
    assert not at.exception
    assert any("not applied" in e.value for e in at.sidebar.error)
    # and at the top of the page, where a collapsed sidebar cannot hide it
    assert "where: unknown column 'NOSUCH'" in link_warning(at)
    assert f"{demo_store.count():,} of {demo_store.count():,}" in patients_line(at)


def test_only_columns_with_values_are_offered(at, demo_store):
    at.run()
    # every multiselect shown is a subject column with at least two recorded values
    for widget in at.sidebar.multiselect:
        assert len(demo_store.levels(widget.key)) >= 2
    assert at.slider(key="AGE") is not None


@pytest.mark.parametrize("page", [p for p, _, _ in PAGES if (ROOT / p).exists()])
def test_every_registered_page_opens(at, page, dialysis):
    _, head = dialysis
    at.query_params["DIALFL"] = "Y"
    at.switch_page(page)
    at.run()
    assert not at.exception
    assert f"{head.n:,} of {head.n_total:,} patients" in patients_line(at)


def test_page_failure_reads_as_plain_words(at, monkeypatch):
    def broken():
        raise RuntimeError("boom")

    monkeypatch.setattr(ui.context, "current", broken)
    at.run()
    assert not at.exception
    assert any("could not be shown" in e.value for e in at.error)
    assert "boom" not in " ".join(e.value for e in at.error)


def test_missing_data_reads_as_plain_words(at, monkeypatch, tmp_path):
    monkeypatch.setenv("DVA_DATA_DIR", str(tmp_path))
    at.run()
    assert not at.exception
    assert any("could not be loaded" in e.value for e in at.error)


@pytest.mark.slow
@pytest.mark.parametrize("page", [p for p, _, _ in PAGES if (ROOT / p).exists()])
def test_every_registered_page_survives_an_empty_cohort(at, page):
    at.query_params["where"] = "AGE>=200"
    at.switch_page(page)
    at.run()
    assert not at.exception
    assert "0 of 105 patients" in patients_line(at)
