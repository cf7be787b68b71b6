"""The survival pages (AFS, primary endpoint, patency) and the overview's cohort flow,
run headless through AppTest on the bundled demo.

Every expected figure is computed here through `analytics` on the filtered cohort's
patient rows (the per-patient path), while the app computes from DuckDB aggregates:
equal text means the page shows exactly what the engine computes. Formats are
written out here, independently of `ui.fmt`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from analytics.analyses import survival, views
from analytics.analyses.outcomes import disposition, reinterventions
from analytics.analyses.survival import endpoint_cumulative_incidence, kaplan_meier, times_events
from analytics.estimators import CoxPH, LogRankTest
from analytics.estimators.bayes import BayesianEndpoint
from analytics.model.filters import FilterState
from analytics.report.summary import summarize, summary_json
from tests.helpers import open_page
from ui.themes import figure_theme

APP = str(Path(__file__).resolve().parents[2] / "app.py")
MY_PAGES = ("pages/overview.py", "pages/afs.py", "pages/primary_endpoint.py", "pages/patency.py")
MONTH = 365.25 / 12


# --- formats, written out independently of the app ------------------------------------


def pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def limits(lo: float, hi: float) -> str:
    return f"{100 * lo:.1f}–{100 * hi:.1f}"


def median(km) -> str:
    return "NR" if km.median.estimate is None else f"{km.median.estimate / MONTH:.1f} months"


def p3(p: float) -> str:
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def prob(p: float) -> str:
    return ">0.9999" if p > 0.9999 else "<0.0001" if p < 0.0001 else f"{p:.4f}"


# --- helpers --------------------------------------------------------------------------


@pytest.fixture
def at(monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.delenv("DVA_DATA_DIR", raising=False)
    return AppTest.from_file(APP, default_timeout=90)


def metrics(at: AppTest) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {}
    for m in at.metric:
        out.setdefault(m.label, []).append((m.value, m.delta))
    return out


def table_rows(at: AppTest, first_column: str) -> dict[str, dict[str, str]]:
    for t in at.table:
        frame = t.value
        if first_column in frame.columns:
            return {
                str(r[first_column]): {k: str(v) for k, v in r.items()}
                for r in frame.to_dict("records")
            }
    raise AssertionError(f"no table with a {first_column!r} column")


def expected_estimates(cohort, codes: dict[str, str], day: float = 183) -> dict[str, dict]:
    out = {}
    for code, name in codes.items():
        km = kaplan_meier(cohort, code, landmarks=(day,))
        lm = km.landmarks[0]
        out[name] = {
            "Endpoint": name,
            "Patients": f"{km.n:,.0f}",
            "Events": f"{km.events:,.0f}",
            f"At {round(day / MONTH)} months": pct(lm.estimate),
            "95% CI": limits(lm.lower, lm.upper),
            f"At risk at day {day:g}": f"{lm.at_risk:,.0f}",
            "Median": median(km),
        }
    return out


AFS_CODES = {"AFS": "Amputation-free survival", "LS": "Limb salvage", "OS": "Overall survival"}
PATENCY_CODES = {
    "PP": "Primary patency",
    "PAP": "Primary-assisted patency",
    "SP": "Secondary patency",
    "REINT": "Freedom from reintervention",
}


@pytest.fixture(scope="module")
def diabetic(demo_store):
    filters = FilterState.from_mapping({"DIABFL": ["Y"]})
    return filters, demo_store.cohort(filters)


# --- Amputation-free survival -----------------------------------------------------------


def test_afs_figure_2b_table_matches_analytics(at, demo_cohort):
    open_page(at, "pages/afs.py")
    assert table_rows(at, "Endpoint") == expected_estimates(demo_cohort, AFS_CODES)
    assert at.get("plotly_chart"), "the Kaplan-Meier figure is drawn"


def test_afs_with_filter_and_compare_by_matches_analytics(at, demo_store, diabetic):
    filters, cohort = diabetic
    assert 0 < cohort.n < cohort.n_total
    open_page(at, "pages/afs.py", DIABFL="Y", compare="DIALFL")
    assert at.selectbox(key="compare").value == "DIALFL"
    assert table_rows(at, "Endpoint") == expected_estimates(cohort, AFS_CODES)

    t, e = times_events(cohort, "AFS")
    dial = cohort.adsl.set_index("USUBJID")["DIALFL"]
    g = dial.loc[cohort.endpoint("AFS")["USUBJID"]].to_numpy()
    lr = LogRankTest().fit(t, e, g).result()
    text = p3(lr.p_value)
    shown = " ".join(m.value for m in at.markdown)
    assert (f"Log-rank p < {text[1:]}" if text.startswith("<") else f"Log-rank p = {text}") in shown

    cox = CoxPH(ties="efron", reference="N").fit(t, e, g).result()
    # the groups in words: "Yes" and "No", not the codes Y and N
    shown_rows = table_rows(at, "On dialysis")
    rows = {code: shown_rows[word] for code, word in (("Y", "Yes"), ("N", "No"))}
    assert rows["N"]["Hazard ratio (95% CI)"] == "1 (reference)"
    hr = cox.hazard_ratio("Y")
    assert rows["Y"]["Hazard ratio (95% CI)"] == (
        f"{hr.hazard_ratio:.2f} ({hr.lower:.2f}–{hr.upper:.2f})"
    )
    assert rows["Y"]["p"] == p3(hr.p_value)
    for level in ("N", "Y"):
        group = demo_store.cohort(filters.merged(FilterState.from_mapping({"DIALFL": [level]})))
        km = kaplan_meier(group, "AFS", landmarks=(183,))
        lm = km.landmarks[0]
        assert rows[level]["Patients"] == f"{km.n:,.0f}"
        assert rows[level]["At 6 months"] == (
            f"{pct(lm.estimate)} (95% CI {limits(lm.lower, lm.upper)})"
        )


def test_afs_competing_risk_matches_analytics(at, diabetic):
    _filters, cohort = diabetic
    open_page(at, "pages/afs.py", DIABFL="Y")
    # 1 - KM takes the view's CI type (log-log by default), as the limb-salvage curve does
    res = endpoint_cumulative_incidence(cohort, "LS", landmarks=(183,), ci_type="log-log")
    aj, km = res.aalen_johansen.landmark(183), res.one_minus_km.landmark(183)
    shown = metrics(at)
    assert shown["Major amputation by 6 months, death as competing risk"] == [
        (pct(aj.estimate), f"95% CI {limits(aj.lower, aj.upper)}")
    ]
    assert shown["1 − Kaplan-Meier by 6 months, deaths censored"] == [
        (pct(km.estimate), f"95% CI {limits(km.lower, km.upper)}")
    ]


def test_small_groups_get_a_caution(at, demo_store):
    filters = FilterState.from_mapping({"DIALFL": ["Y"]})
    sizes = demo_store.group_sizes(filters, "SEX")
    small = {lv: n for lv, n in sizes.items() if n < 10}
    assert small, "the demo has fewer than 10 women on dialysis"
    open_page(at, "pages/afs.py", DIALFL="Y", compare="SEX")
    warnings = " ".join(w.value for w in at.warning)
    for level, n in small.items():
        assert f"Only {n} patient" in warnings
        assert f"Sex: {level}" in warnings


# --- Primary endpoint -----------------------------------------------------------------


def bayes_metrics(result) -> list[tuple[str, str]]:
    lo, hi = result.credible_interval
    return [(pct(result.posterior_mean), f"95% credible interval {limits(lo, hi)}")]


def test_primary_endpoint_matches_bayes_with_sensitivity(at, demo_cohort):
    open_page(at, "pages/primary_endpoint.py")
    t, e = times_events(demo_cohort, "AFS")
    result = BayesianEndpoint(day=183, goal=0.54).fit(t, e).result_
    cc = result.complete_case
    assert result.imputed
    assert cc is not None
    shown = metrics(at)
    assert shown["Posterior mean AFS rate at 6 months"] == bayes_metrics(result) + bayes_metrics(cc)
    assert [v for v, _ in shown["Probability the AFS rate exceeds 54%"]] == [
        prob(result.probability_above_goal),
        prob(cc.probability_above_goal),
    ]
    verdict = next(a.value for a in (*at.success, *at.info) if a.value.startswith("Performance"))
    assert verdict.startswith("Performance goal met" if result.success else "Performance goal not")
    # the method once, in the page's Methods
    methods = next(e for e in at.main.expander if e.label == "Methods")
    assert any(result.provenance.method.rstrip(".") in m.value for m in methods.markdown)
    assert at.get("plotly_chart")


def test_primary_endpoint_what_if_controls(at, diabetic):
    _filters, cohort = diabetic
    open_page(at, "pages/primary_endpoint.py", DIABFL="Y")
    at.number_input(key="pe_threshold").set_value(0.9)
    at.number_input(key="pe_a").set_value(2.0)
    at.number_input(key="pe_b").set_value(3.0)
    at.selectbox(key="pe_missing").set_value("none")
    at.number_input(key="pe_goal").set_value(50)
    at.run()
    assert not at.exception
    at.number_input(key="pe_landmark").set_value(365).run()
    assert not at.exception
    # the landmark and goal are the sidebar's: one value on every page
    assert at.number_input(key="landmark").value == 365
    assert at.number_input(key="goal").value == 50
    t, e = times_events(cohort, "AFS")
    main = BayesianEndpoint(day=365, goal=0.5, threshold=0.9, prior=(2, 3), impute=False)
    result = main.fit(t, e).result_
    imputed = BayesianEndpoint(day=365, goal=0.5, threshold=0.9, prior=(2, 3)).fit(t, e).result_
    shown = metrics(at)
    assert shown["Posterior mean AFS rate at 12 months"] == (
        bayes_metrics(result) + bayes_metrics(imputed)
    )
    assert shown["Probability the AFS rate exceeds 50%"][0][0] == prob(
        result.probability_above_goal
    )
    assert any("What-if analysis" in w.value for w in at.warning)
    # what the engine says a reader must know is on the page
    assert result.notes
    for note in result.notes:
        assert any(note in w.value for w in at.warning)
    if result.success is None:
        assert any(w.value.startswith(f"Not assessable: {result.verdict_note}") for w in at.warning)


def test_primary_endpoint_names_the_imputation_model_that_ran(at, demo_cohort):
    open_page(at, "pages/primary_endpoint.py")
    assert at.selectbox(key="pe_missing").value == "pwe"
    assert any("piecewise-exponential model" in c.value for c in at.caption)
    at.selectbox(key="pe_missing").set_value("km").run()
    assert not at.exception
    t, e = times_events(demo_cohort, "AFS")
    km = BayesianEndpoint(day=183, goal=0.54, imputation="km").fit(t, e).result_
    shown = metrics(at)
    assert shown["Posterior mean AFS rate at 6 months"][0] == bayes_metrics(km)[0]
    assert any("imputed from the Kaplan-Meier curve" in c.value for c in at.caption)
    assert any(
        "imputation from the Kaplan-Meier curve (plan: the piecewise-exponential model)"
        in w.value
        for w in at.warning
    )
    # the page shows the words
    assert "Imputed: Kaplan-Meier curve" in at.selectbox(key="pe_missing").options


def test_primary_endpoint_imputation_model_comes_from_the_url(at):
    # Streamlit binds a selectbox to the URL by the option's label
    open_page(at, "pages/primary_endpoint.py", pe_missing="Imputed: Kaplan-Meier curve")
    assert at.selectbox(key="pe_missing").value == "km"
    assert any("imputed from the Kaplan-Meier curve" in c.value for c in at.caption)


# --- Patency ----------------------------------------------------------------------------


def test_patency_matches_analytics(at, diabetic):
    _filters, cohort = diabetic
    open_page(at, "pages/patency.py", DIABFL="Y")
    assert table_rows(at, "Endpoint") == expected_estimates(cohort, PATENCY_CODES)
    reint = reinterventions(cohort, 183)
    shown = metrics(at)
    assert shown["Patients with a reintervention"] == [
        (
            f"{reint.patients:,}",
            f"{pct(reint.patients / reint.denominator)} of {reint.denominator:,}",
        )
    ]
    assert shown["Planned"][0][0] == f"{reint.planned:,}"
    assert shown["Unplanned"][0][0] == f"{reint.unplanned:,}"


def test_patency_compare_by(at, demo_cohort):
    open_page(at, "pages/patency.py", compare="SEX")
    at.selectbox(key="patency_compare").set_value("SP").run()
    assert not at.exception
    t, e = times_events(demo_cohort, "SP")
    sex = demo_cohort.adsl.set_index("USUBJID")["SEX"]
    g = sex.loc[demo_cohort.endpoint("SP")["USUBJID"]].to_numpy()
    lr = LogRankTest().fit(t, e, g).result()
    text = p3(lr.p_value)
    shown = " ".join(m.value for m in at.markdown)
    assert (f"Log-rank p < {text[1:]}" if text.startswith("<") else f"Log-rank p = {text}") in shown


# --- Overview ---------------------------------------------------------------------------


def test_overview_cohort_flow(at, demo_store, diabetic):
    _filters, cohort = diabetic
    open_page(at, "pages/overview.py", DIABFL="Y")
    shown = {label: values[0][0] for label, values in metrics(at).items()}
    assert shown["Screened"] == f"{demo_store.manifest['n_screened']:,}"
    assert shown["Enrolled"] == f"{cohort.n_total:,}"
    assert shown["In view"] == f"{cohort.n:,}"
    assert shown["Treated"] == f"{int((cohort.adsl['TECHSFL'] == 'Y').sum()):,}"
    assert shown["Followed to 6 months"] == f"{disposition(cohort, 183).complete:,}"


def test_view_options_come_from_the_url(at, demo_cohort):
    from analytics.analyses.headline import headline

    open_page(at, "pages/overview.py", landmark="365", ci="log", goal="60")
    head = headline(demo_cohort, day=365, goal=0.6, ci_type="log")
    shown = metrics(at)
    lm = head.estimate("AFS").landmark
    assert shown["Amputation-free survival at 12 months"] == [
        (pct(lm.estimate), f"95% CI {limits(lm.lower, lm.upper)}")
    ]
    assert "Probability the AFS rate exceeds 60%" in shown
    ctx = at.session_state["_dva_context"]
    assert (ctx.view.landmark, ctx.view.ci_type, ctx.view.goal) == (365, "log", 0.6)


# --- empty cohort, every page -----------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("page", MY_PAGES)
def test_empty_cohort_reads_as_plain_words(at, page):
    open_page(at, page, where="AGE>=200")
    assert not at.error
    assert any("No patients match" in i.value for i in at.info)
    assert "0 of 105 patients" in " ".join(m.value for m in at.sidebar.markdown)


@pytest.mark.slow
@pytest.mark.parametrize("page", MY_PAGES)
def test_every_page_runs_with_filters_and_compare_by(at, page):
    open_page(at, page, SEX="M", AGE=["50", "85"], compare="DIABFL", present="true")
    assert not at.error
    ctx = at.session_state["_dva_context"]
    assert ctx.compare_by == "DIABFL"
    assert ctx.view.presentation
    assert set(ctx.filters.to_strings()) == {"AGE<=85", "AGE>=50", "SEX=M"}


# --- the context contract ---------------------------------------------------------------


def test_context_contract(at, demo_store):
    open_page(at, "pages/overview.py", DIALFL="Y", compare="SEX")
    ctx = at.session_state["_dva_context"]
    filters = FilterState.from_mapping({"DIALFL": ["Y"]})
    assert ctx.filters == filters
    assert ctx.compare_by == "SEX"
    assert ctx.cohort.n == demo_store.count(filters)
    assert ctx.headline.n == ctx.cohort.n
    assert ctx.levels("SEX") == ["M", "F"]  # the schema's order, whatever the filter
    assert list(ctx.colours("SEX")) == ["M", "F"]
    groups = ctx.groups()
    assert {lv: g.n for lv, g in groups.items()} == demo_store.group_sizes(filters, "SEX")
    for level, group in groups.items():
        assert set(group.adsl["SEX"]) == {level}
        assert set(group.adsl["DIALFL"]) == {"Y"}
    assert figure_theme(ctx.view).name == "normal"
    assert ctx.view.min_at_risk == 10
    assert np.isclose(ctx.view.goal, 0.54)


def test_a_level_without_events_shows_why_it_has_no_hazard_ratio(demo_store):
    from analytics.analyses.views import survival_view
    from ui.survival import comparison_frame

    view = survival_view(demo_store, FilterState(), ["AFS"], by="SITEID")
    cmp = view.comparison["AFS"]
    assert cmp.not_estimable, "the demo has sites without an AFS event"
    frame = comparison_frame(view, "AFS", "SITEID", 183)
    shown = dict(zip(frame["Site"] if "Site" in frame else frame.iloc[:, 0],
                     frame["Hazard ratio (95% CI)"], strict=True))
    for level, reason in cmp.not_estimable.items():
        assert shown[level] == reason
        assert "not estimable" in reason
    for level in cmp.hazard_ratios:
        assert shown[level][0].isdigit()


def test_the_command_line_says_what_the_pages_say_when_groups_cannot_be_compared(
    demo_store, monkeypatch
):
    """One comparison for both: an ill-conditioned Cox fit leaves the pages a note and
    the command line the same note in `cohort.notes`, with no comparison, not a crash."""
    def ill_conditioned(*_args: object, **_kwargs: object) -> None:
        raise np.linalg.LinAlgError("Singular matrix")

    monkeypatch.setattr(survival, "compare_groups", ill_conditioned)
    note = "the groups could not be compared (Singular matrix)"
    view = views.survival_view(demo_store, FilterState(), ["AFS", "OS"], by="SEX")
    assert view.comparison_note == {"AFS": note, "OS": note}
    summary = summarize(
        demo_store, endpoints=["AFS", "OS"], by="SEX", bayes_endpoint=None, with_quality=False
    )
    assert summary.comparison_note == view.comparison_note
    doc = summary_json(summary)
    assert doc["comparison"] == {}
    assert doc["logrank_p"] is None
    assert doc["cohort"]["notes"] == [f"AFS: {note}", f"OS: {note}"]
