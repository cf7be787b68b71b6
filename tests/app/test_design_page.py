"""The Trial design page run headless through Streamlit's AppTest, inside app.py's
routing (the app opens the demo data first) and on its own (it needs no data).

Expected figures are computed here through `analytics.analyses.design` and formatted here, so
the tests check that the page shows what the simulator computes for the settings in
the URL.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analytics.analyses.design import DEFAULT_SEED, DesignResult, GoldilocksDesign

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
PAGE = "pages/design.py"


@pytest.fixture
def at(monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.delenv("DVA_DATA_DIR", raising=False)
    return AppTest.from_file(APP, default_timeout=120)


def open_page(at: AppTest, **params: str) -> AppTest:
    for key, value in params.items():
        at.query_params[key] = value
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def shown(at: AppTest) -> dict[str, tuple[str, str]]:
    return {m.label: (m.value, m.delta) for m in at.main.metric}


def expected(res: DesignResult) -> dict[str, tuple[str, str]]:
    rate, goal = res.at_rate, res.at_goal
    return {
        f"Probability of success at a true rate of {100 * rate.true_rate:g}%": (
            f"{100 * rate.probability_of_success:.1f}%",
            f"Monte Carlo error {100 * rate.probability_of_success_se:.1f} points",
        ),
        "Expected sample size": (
            f"{rate.expected_sample_size:.1f}",
            f"of at most {res.settings.looks[-1]} patients",
        ),
        f"Type I error (true rate = goal, {100 * goal.true_rate:g}%)": (
            f"{goal.probability_of_success:.4f}",
            f"Monte Carlo error {goal.probability_of_success_se:.4f}",
        ),
        "Expected time to the end of the trial": (
            f"{rate.expected_duration_months:.1f} months",
            "from the first enrolment",
        ),
    }


def text(at: AppTest) -> str:
    return "\n".join(m.value for m in at.main.markdown)


def test_default_page_shows_the_plan_simulated_and_explains_the_differences(at):
    open_page(at)
    assert not at.main.error
    res = GoldilocksDesign().run(0.70, 10_000, DEFAULT_SEED).result_
    assert shown(at) == expected(res)
    # the only warning is the app's synthetic-data notice: the plan is not a what-if
    assert not [w for w in at.main.warning if w.value.startswith("What-if")]
    body = text(at)
    fixed = res.fixed
    # the discreteness argument, with the numbers the engine computes
    assert f"passed from {fixed.critical_count} successes" in body
    assert f"exact type I error of {fixed.type_one_error:.4f}" in body
    assert f"needs {fixed.required_critical_count} successes" in body
    assert f"threshold of {fixed.required_threshold:.10g}" in body
    assert "does not give every interim rule" in body
    # the stated design is compared with the simulation at the stated rates
    for rate in ("68%", "70%"):
        assert f"True rate {rate}: simulated probability of success" in body
    assert "stated 0.025" in body
    # two figures with their downloads, and the table with its own
    assert len(at.get("plotly_chart")) == 2
    assert at.main.dataframe[0].value.shape[0] == 3 + 2 * 3 + 1


def test_url_settings_are_simulated_and_named_as_a_what_if(at):
    open_page(
        at,
        design_rate="68",
        design_simulations="2000",
        design_looks="60, 105",
        design_seed="7",
        design_where="At the goal",
    )
    assert at.number_input(key="design_rate").value == 68
    assert at.radio(key="design_where").value == "At the goal"
    res = GoldilocksDesign(looks=(60, 105)).run(0.68, 2000, 7).result_
    assert shown(at) == expected(res)
    what_if = [w.value for w in at.main.warning if w.value.startswith("What-if design")]
    assert what_if == [
        "What-if design, not the trial's plan: looks at 60, 105 patients "
        "(plan: 60, 75, 90, 105 patients)."
    ]


def test_bad_looks_read_as_one_plain_sentence(at):
    open_page(at, design_looks="90, 60")
    assert [e.value for e in at.main.error] == [
        "These settings make no design: the looks must be numbers of patients in "
        "increasing order, for example 60,75,90,105."
    ]
    assert not at.main.metric


def test_cohort_filters_do_not_change_the_design(at):
    open_page(at, DIALFL="Y", design_simulations="1000")
    res = GoldilocksDesign().run(0.70, 1000, DEFAULT_SEED).result_
    assert shown(at) == expected(res)


def test_page_runs_without_the_app_and_its_data():
    page = AppTest.from_file(str(ROOT / PAGE), default_timeout=120)
    page.query_params["design_simulations"] = "1000"
    page.run()
    assert not page.exception
    assert not page.error
    res = GoldilocksDesign().run(0.70, 1000, DEFAULT_SEED).result_
    assert shown(page) == expected(res)
