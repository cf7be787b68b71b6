"""The Subgroups, Wounds and Rutherford, and Patients and procedure pages, run headless
through Streamlit's AppTest on the bundled demo data.

Every expected number is computed here through `analytics` (never typed in), so the
tests check that each page shows exactly what the engine computes for the filters and
the comparison chosen, and that a filter leaving nobody reads as a plain message.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from analytics.analyses.safety import safety_view
from analytics.analyses.subgroups import DEFAULT_SUBGROUPS, SubgroupAnalysis
from analytics.analyses.tables import table1_view, table2_view
from analytics.analyses.visits import nearest_visit, rutherford_at, visit_cohort, wound_course
from analytics.model.filters import FilterState
from analytics.model.labels import DEFAULT as W  # the words the pages show
from analytics.model.schema import ADSL
from analytics.model.view import View
from analytics.report.frames import side_by_side, stack, subgroup_frame
from ui.sidebar import COMPARE
from ui.tables import in_words

APP = str(Path(__file__).resolve().parents[2] / "app.py")
SUBGROUPS = "pages/subgroups.py"
WOUNDS = "pages/wounds.py"
PATIENTS = "pages/patients.py"
# sidebar filters bound to the URL (tests/app/test_app.py uses the same)
URL_FILTERS = ("SEX", "DIALFL", "DIABFL", "AGEGR1", "RUTHCAT")
ALL = "All patients in view"
OPTIONS = View()  # the defaults the pages start with


@pytest.fixture
def at(monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.delenv("DVA_DATA_DIR", raising=False)
    return AppTest.from_file(APP, default_timeout=60)


def open_page(
    at: AppTest, page: str, filters: dict[str, str] | None = None, compare: str | None = None
) -> AppTest:
    """Open `page` with sidebar filters (column -> value) set through the URL, as a copied
    link would, and compare-by chosen in the sidebar."""
    for column, value in (filters or {}).items():
        at.query_params[column] = value
    at.run()
    assert not at.exception
    if compare is not None:
        at.selectbox(key=COMPARE).set_value(compare).run()
        assert not at.exception
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    if compare is not None:
        assert at.selectbox(key=COMPARE).value == compare
    return at


def cohort_for(store, filters: dict[str, str]):
    return store.cohort(FilterState.from_mapping({k: [v] for k, v in filters.items()}))


def group_cohorts(store, filters: dict[str, str], by: str) -> dict[str, object]:
    """Level -> cohort of the filtered patients with that level, levels with patients."""
    out = {}
    for level in (str(v) for v in store.levels(by)):
        cohort = cohort_for(store, {**filters, by: level})
        if cohort.n:
            out[level] = cohort
    return out


def group_name(by: str, level: str) -> str:
    return f"{ADSL.column(by).label}: {W.value(by, level)}"


def visits_in_words(frame: pd.DataFrame) -> pd.DataFrame:
    return in_words(frame, W, {"Visit": "AVISIT", "Rutherford class": "RUTHCAT"})


def frames_equal(shown: pd.DataFrame, expected: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(
        shown.reset_index(drop=True), expected.reset_index(drop=True), check_dtype=False
    )


def by_group(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    return {
        str(g): part.drop(columns="Group").reset_index(drop=True)
        for g, part in frame.groupby("Group", sort=False)
    }


def metrics(at: AppTest) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {}
    for m in at.metric:
        out.setdefault(m.label, []).append((m.value, m.delta))
    return out


def pct(share: float | None) -> str:
    return "–" if share is None else f"{100 * share:.1f}%"


@pytest.fixture(scope="module")
def empty_filters(demo_store) -> dict[str, str]:
    """A combination of sidebar filters that leaves no patient (found, not assumed)."""
    levels = {c: [str(v) for v in demo_store.levels(c)] for c in URL_FILTERS}
    for size in range(2, len(URL_FILTERS) + 1):
        for cols in itertools.combinations(URL_FILTERS, size):
            for values in itertools.product(*(levels[c] for c in cols)):
                chosen = dict(zip(cols, values, strict=True))
                if cohort_for(demo_store, chosen).n == 0:
                    return chosen
    pytest.fail("the demo has no empty combination of the sidebar filters")


# --- Subgroups -----------------------------------------------------------------------------


def expected_subgroups(cohort, endpoint: str, variables: list[str]) -> pd.DataFrame:
    res = (
        SubgroupAnalysis(landmark=OPTIONS.landmark, ci_type=OPTIONS.ci_type)
        .fit(cohort, endpoint, variables)
        .result_
    )
    return subgroup_frame(res.in_words(W))


def test_subgroups_table_matches_analytics(at, demo_store):
    filters = {"DIALFL": "N"}
    open_page(at, SUBGROUPS, filters)
    cohort = cohort_for(demo_store, filters)
    frames_equal(at.dataframe[0].value, expected_subgroups(cohort, "AFS", list(DEFAULT_SUBGROUPS)))


def test_subgroups_added_variable_endpoint_and_compare_by(at, demo_store):
    filters = {"SEX": "M"}
    open_page(at, SUBGROUPS, filters, compare="SMOKSTAT")
    at.multiselect(key="subgroups_extra").set_value(["BMI"]).run()
    at.selectbox(key="subgroups_endpoint").set_value("OS").run()
    assert not at.exception
    assert not at.error
    cohort = cohort_for(demo_store, filters)
    # the compare-by column joins the prespecified ones, then the column the user added
    variables = [*DEFAULT_SUBGROUPS, "SMOKSTAT", "BMI"]
    frames_equal(at.dataframe[0].value, expected_subgroups(cohort, "OS", variables))


def test_subgroups_age_split_from_age_and_the_extracts_own_age_groups(at, demo_store):
    open_page(at, SUBGROUPS)
    # the extract's AGEGR1 is no longer prespecified: it can be added as any other column
    at.multiselect(key="subgroups_extra").set_value(["AGEGR1"]).run()
    assert not at.exception
    shown = at.dataframe[0].value
    variables = [*DEFAULT_SUBGROUPS, "AGEGR1"]
    frames_equal(shown, expected_subgroups(demo_store.cohort(), "AFS", variables))
    age = shown.loc[shown["Variable"] == "Age at enrolment, split at 70 years", "Level"]
    assert list(age) == ["70 or younger", "Over 70"]
    assert (shown["Variable"] == "Age group").any()
    assert {"70 or younger", "Over 70"} <= set(shown["Level"])
    assert not shown["Level"].isin(["<=70", ">70"]).any()  # words, not codes
    captions = [c.value for c in at.caption]
    assert any("heterogeneity across levels (log-rank)" in c for c in captions)


# --- Wounds and Rutherford -----------------------------------------------------------------


def test_wounds_page_matches_analytics(at, demo_store):
    filters = {"DIABFL": "Y"}
    open_page(at, WOUNDS, filters)
    cohort = visit_cohort(demo_store, cohort_for(demo_store, filters).filters)
    visit = nearest_visit(cohort, OPTIONS.landmark)
    course = wound_course(cohort)
    v = course.visit(visit)
    ruth = rutherford_at(cohort, visit)
    shown = metrics(at)
    assert shown["Target wound healed"] == [
        (pct(v.share("HEALED")), f"{v.healed} of {v.assessed} assessed")
    ]
    assert shown["All wounds healed"] == [
        (pct(v.all_healed_share), f"{v.all_healed} of {v.all_assessed} assessed")
    ]
    assert shown["Rutherford class decreased"] == [
        (pct(ruth.share("decreased")), f"{ruth.decreased} of {ruth.paired} paired")
    ]
    frames_equal(at.dataframe[0].value, visits_in_words(stack({ALL: course.to_frame()}, "Group")))
    frames_equal(at.dataframe[1].value, visits_in_words(stack({ALL: ruth.change_frame()}, "Group")))
    frames_equal(at.dataframe[2].value, visits_in_words(stack({ALL: ruth.to_frame()}, "Group")))


def test_wounds_page_per_group_and_other_visit(at, demo_store):
    filters = {"SEX": "M"}
    open_page(at, WOUNDS, filters, compare="DIALFL")
    at.selectbox(key="wounds_visit").set_value("MONTH 12").run()
    assert not at.exception
    assert not at.error
    groups = {
        group_name("DIALFL", lv): visit_cohort(demo_store, c.filters)
        for lv, c in group_cohorts(demo_store, filters, "DIALFL").items()
    }
    assert len(groups) == 2
    shown = by_group(at.dataframe[0].value)
    assert set(shown) == set(groups)
    for name, cohort in groups.items():
        frames_equal(shown[name], visits_in_words(wound_course(cohort).to_frame()))
    change = by_group(at.dataframe[1].value)
    for name, cohort in groups.items():
        frames_equal(
            change[name], visits_in_words(rutherford_at(cohort, "MONTH 12").change_frame())
        )
    healed = metrics(at)["Target wound healed"]
    expected = []
    for cohort in groups.values():
        v = wound_course(cohort).visit("MONTH 12")
        expected.append((pct(v.share("HEALED")), f"{v.healed} of {v.assessed} assessed"))
    assert sorted(healed) == sorted(expected)


# --- Patients and procedure ----------------------------------------------------------------


def test_patients_page_matches_analytics(at, demo_store):
    filters = {"DIALFL": "Y"}
    open_page(at, PATIENTS, filters)
    state = cohort_for(demo_store, filters).filters
    day = OPTIONS.landmark
    frames = [d.value for d in at.dataframe]
    t1 = table1_view(demo_store, state)
    t2 = table2_view(demo_store, state, reintervention_day=day)
    # the paper's layout: one row per characteristic, a column per group, no "None"
    frames_equal(frames[0], side_by_side({ALL: t1}))
    frames_equal(frames[1], side_by_side({ALL: t2}))
    assert list(frames[0].columns) == ["Section", "Characteristic", f"{ALL} (n = {t1.n:,})"]
    assert not frames[0].isin(["None", None]).any().any()
    ae, _, dead = safety_view(demo_store, state, day)
    frames_equal(frames[2], in_words(ae.to_frame(), W, {"Term": "AETERM"}))
    frames_equal(frames[3], in_words(dead.to_frame(), W, {"Cause of death": "DTHCAUS"}))
    shown = metrics(at)
    assert shown["Any adverse event"] == [
        (pct(ae.share(ae.any_patients)), f"{ae.any_patients} of {ae.n} patients")
    ]
    assert shown["Serious adverse event"] == [
        (pct(ae.share(ae.serious_patients)), f"{ae.serious_patients} of {ae.n} patients")
    ]
    tech = t2.row("Technical success")
    assert shown["Technical success"] == [
        (f"{tech.percent:.1f}%", f"{tech.n} of {tech.denominator}")
    ]
    # missing values are visible: each row with some says how many, in words
    values = frames[0][f"{ALL} (n = {t1.n:,})"]
    for row, text in zip(t1.rows, values, strict=True):
        assert (f"missing {row.missing}" in text) == bool(row.missing), (row, text)


def test_patients_page_whole_follow_up(at, demo_store):
    open_page(at, PATIENTS)
    at.radio(key="patients_ae_window").set_value("Whole follow-up").run()
    assert not at.exception
    assert not at.error
    ae = safety_view(demo_store, FilterState(), None)[0]
    frames_equal(at.dataframe[2].value, in_words(ae.to_frame(), W, {"Term": "AETERM"}))


def test_patients_page_side_by_side_groups(at, demo_store):
    filters = {"AGEGR1": ">70"}
    open_page(at, PATIENTS, filters, compare="SEX")
    cohort = cohort_for(demo_store, filters)
    groups = {
        group_name("SEX", lv): c for lv, c in group_cohorts(demo_store, filters, "SEX").items()
    }
    shown = at.dataframe[0].value
    expected = side_by_side(
        {
            ALL: table1_view(demo_store, cohort.filters),
            **{n: table1_view(demo_store, c.filters) for n, c in groups.items()},
        }
    )
    assert set(shown.columns) == set(expected.columns)
    frames_equal(shown[list(expected.columns)], expected)


# --- nobody in view ------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("page", [SUBGROUPS, WOUNDS, PATIENTS])
def test_empty_cohort_reads_as_plain_words(at, page, empty_filters):
    open_page(at, page, empty_filters)
    assert any("No patients match" in i.value for i in at.info)
    assert not at.dataframe


def test_extract_without_visits_or_adverse_events(at, monkeypatch, tmp_path):
    """A registry extract may have no visits and no adverse-event table: the pages say so
    in words, with no exception."""
    demo = Path(__file__).resolve().parents[2] / "data" / "demo"
    for name in ("adsl.csv", "adtte.csv", "dataset.json"):
        (tmp_path / name).write_bytes((demo / name).read_bytes())
    monkeypatch.setenv("DVA_DATA_DIR", str(tmp_path))
    open_page(at, WOUNDS)
    assert any("No scheduled visits" in i.value for i in at.info)
    at.switch_page(PATIENTS).run()
    assert not at.exception
    assert not at.error
    n = len(pd.read_csv(tmp_path / "adsl.csv"))
    assert metrics(at)["Any adverse event"] == [("0.0%", f"0 of {n} patients")]
