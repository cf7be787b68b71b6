"""The dashboard run headless through Streamlit's AppTest, on the bundled demo data.

Expected figures are computed here through `analytics`, never typed in, so the
tests check that the page shows exactly what the engine computes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import ui.context
from analytics.filters import FilterState
from analytics.headline import Headline, headline

APP = str(Path(__file__).resolve().parent.parent / "app.py")
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
    filters, head = dialysis
    assert 0 < head.n < head.n_total, "the demo needs patients on and off dialysis"
    at.run()
    at.multiselect(key="DIALFL").set_value(["Y"]).run()
    assert not at.exception
    assert f"{head.n:,} of {head.n_total:,} patients" in patients_line(at)
    assert shown_metrics(at) == expected_metrics(head)
    assert filters.describe() in " ".join(c.value for c in at.sidebar.caption)


def test_query_parameter_opens_filtered_view(at, dialysis):
    _, head = dialysis
    at.query_params["DIALFL"] = "Y"
    at.run()
    assert at.multiselect(key="DIALFL").value == ["Y"]
    assert shown_metrics(at) == expected_metrics(head)


def test_unknown_query_value_is_ignored(at, demo_cohort):
    at.query_params["DIALFL"] = "maybe"
    at.run()
    assert not at.exception
    assert at.multiselect(key="DIALFL").value == []
    assert shown_metrics(at) == expected_metrics(headline(demo_cohort))


def test_reset_clears_filters(at, demo_cohort):
    at.query_params["DIALFL"] = "Y"
    at.run()
    at.sidebar.button[0].click().run()
    assert at.multiselect(key="DIALFL").value == []
    assert f"{demo_cohort.n:,} of {demo_cohort.n:,} patients" in patients_line(at)


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
