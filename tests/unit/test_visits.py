"""Wounds and Rutherford class per visit (analytics.analyses.visits) and their figures
(charts.wounds), on a small extract whose answers are counted by hand and on the demo,
each read as the pages read it (`visit_cohort`)."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from analytics.analyses.visits import (
    BASELINE,
    nearest_visit,
    rutherford_at,
    visit_cohort,
    visit_names,
    wound_course,
)
from analytics.model.filters import FilterState
from analytics.model.labels import DEFAULT as DEFAULT_LABELS
from analytics.model.provenance import Provenance
from analytics.model.schema import VISIT_SCHEDULE
from analytics.store import Cohort, Store
from charts.export import figure_table, to_csv
from charts.wound_trends import all_healed_figure, wound_area_figure
from charts.wounds import healing_status_figure, rutherford_change_figure, short_visit

ADSL = pd.DataFrame(
    {
        "USUBJID": ["P1", "P2", "P3", "P4", "P5"],
        "SEX": ["M", "F", "M", "M", "F"],
        "DIALFL": ["Y", "N", "N", "Y", "N"],
        "RUTHCAT": [5, 6, 6, 5, 5],
        "PROCDT": ["2021-01-01"] * 5,
    }
)
ADTTE = pd.DataFrame(
    {
        "USUBJID": ["P1", "P2", "P3", "P4", "P5"],
        "PARAMCD": "AFS",
        "AVAL": [364, 100, 364, 150, 364],
        "CNSR": [1, 0, 1, 0, 1],
    }
)
# P1 heals by month 6 (class 5 -> 3); P2 loses the target wound to an amputation before
# month 6 (all-wounds status still recorded, no class); P3 heals partly (6 -> 5); P4 is
# not assessed at month 1 and has died by month 6; P5 gets worse (5 -> 6).
VISITS = pd.DataFrame(
    [
        # USUBJID, AVISIT, AVISITN, WNDAREA, WNDSTAT, ALLHLFL, RUTHCAT
        ("P1", "BASELINE", 0, 4.0, "", "N", 5),
        ("P1", "MONTH 1", 1, 3.0, "HEALING", "N", 5),
        ("P1", "MONTH 6", 6, 0.0, "HEALED", "Y", 3),
        ("P2", "BASELINE", 0, 2.0, "", "N", 6),
        ("P2", "MONTH 1", 1, 2.5, "NOT HEALING", "N", 6),
        ("P2", "MONTH 6", 6, None, "", "N", None),
        ("P3", "BASELINE", 0, 9.0, "", "N", 6),
        ("P3", "MONTH 1", 1, 8.0, "HEALING", "N", 6),
        ("P3", "MONTH 6", 6, 1.0, "HEALING", "N", 5),
        ("P4", "BASELINE", 0, 1.0, "", "N", 5),
        ("P4", "MONTH 1", 1, None, "", "", 5),
        ("P5", "BASELINE", 0, 6.0, "", "N", 5),
        ("P5", "MONTH 1", 1, 6.0, "NOT HEALING", "N", 6),
        ("P5", "MONTH 6", 6, 6.5, "NOT HEALING", "N", 6),
    ],
    columns=["USUBJID", "AVISIT", "AVISITN", "WNDAREA", "WNDSTAT", "ALLHLFL", "RUTHCAT"],
)


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    folder = tmp_path_factory.mktemp("visits")
    ADSL.to_csv(folder / "adsl.csv", index=False)
    VISITS.to_csv(folder / "visits.csv", index=False)
    ADTTE.to_csv(folder / "adtte.csv", index=False)
    store = Store.open(folder)
    yield visit_cohort(store, FilterState())
    store.close()


@pytest.fixture(scope="module")
def empty(tmp_path_factory):
    folder = tmp_path_factory.mktemp("visits_empty")
    ADSL.to_csv(folder / "adsl.csv", index=False)
    VISITS.to_csv(folder / "visits.csv", index=False)
    ADTTE.to_csv(folder / "adtte.csv", index=False)
    store = Store.open(folder)
    yield visit_cohort(store, FilterState.parse(["SEX=X"]))
    store.close()


@pytest.fixture(scope="module")
def demo_visits(demo_store):
    return visit_cohort(demo_store, FilterState())


def test_visits_in_schedule_order(cohort):
    assert visit_names(cohort) == list(VISIT_SCHEDULE)
    assert [v.visit for v in wound_course(cohort).visits] == list(VISIT_SCHEDULE)
    assert nearest_visit(cohort, 183) == "MONTH 6"
    assert nearest_visit(cohort, 25) == "MONTH 1"  # 25 days: nearer 1 month than 2 weeks
    assert nearest_visit(cohort, 20) == "WEEK 2"
    assert nearest_visit(cohort, 0) == "WEEK 2"  # baseline is never a follow-up visit
    assert nearest_visit(cohort, 0, after_baseline=False) == BASELINE


def test_baseline(cohort):
    v = wound_course(cohort).visit("BASELINE")
    assert (v.followed, v.assessed, v.healed, v.healing, v.not_healing) == (5, 0, 0, 0, 0)
    assert v.share("HEALED") is None  # no status at baseline: no denominator
    # areas 1, 2, 4, 6, 9: definition 2 takes x(ceil(np)) where np is not whole
    assert (v.measured, v.area_q1, v.area_median, v.area_q3) == (5, 2.0, 4.0, 6.0)
    assert (v.all_healed, v.all_assessed) == (0, 5)


def test_month_1(cohort):
    v = wound_course(cohort).visit("MONTH 1")
    # P4 was seen but its wound not assessed: followed 5, assessed 4
    assert (v.followed, v.assessed) == (5, 4)
    assert (v.healed, v.healing, v.not_healing) == (0, 2, 2)
    assert v.share("HEALING") == 0.5
    # areas 2.5, 3, 6, 8: averages at whole positions
    assert (v.measured, v.area_q1, v.area_median, v.area_q3) == (4, 2.75, 4.5, 7.0)
    assert (v.all_healed, v.all_assessed) == (0, 4)


def test_month_6_denominators_are_the_assessed(cohort):
    v = wound_course(cohort).visit("MONTH 6")
    assert (v.followed, v.assessed) == (4, 3)  # P4 died; P2's target wound was removed
    assert (v.healed, v.healing, v.not_healing) == (1, 1, 1)
    assert v.share("HEALED") == pytest.approx(1 / 3)
    assert (v.measured, v.area_q1, v.area_median, v.area_q3) == (3, 0.0, 1.0, 6.5)
    # all wounds healed: P2 (amputee) is assessed for it
    assert (v.all_healed, v.all_assessed) == (1, 4)
    assert v.all_healed_share == 0.25


def test_visits_without_records_are_zero(cohort):
    v = wound_course(cohort).visit("MONTH 12")
    assert (v.followed, v.assessed, v.measured, v.all_assessed) == (0, 0, 0, 0)
    assert v.area_median is None
    assert v.all_healed_share is None
    assert [s.visit for s in wound_course(cohort).status_visits] == ["MONTH 1", "MONTH 6"]


def test_named_visits_and_unknown_visit(cohort):
    course = wound_course(cohort, ["MONTH 6", "BASELINE"])
    assert [v.visit for v in course.visits] == ["MONTH 6", "BASELINE"]
    with pytest.raises(KeyError):
        wound_course(cohort, ["MONTH 7"])
    with pytest.raises(KeyError):
        wound_course(cohort).visit("MONTH 7")
    with pytest.raises(KeyError):
        wound_course(cohort).visit("MONTH 6").count("GONE")


def test_rutherford_at_month_6(cohort):
    r = rutherford_at(cohort, "MONTH 6")
    assert (r.assessed, r.paired) == (3, 3)
    assert [(c.rutherford, c.n) for c in r.classes] == [(3, 1), (5, 1), (6, 1)]
    assert [(c.rutherford, c.n) for c in r.baseline_classes] == [(5, 2), (6, 1)]
    assert (r.decreased, r.unchanged, r.increased) == (2, 0, 1)
    assert [(s.baseline, s.at_visit, s.n) for s in r.shifts] == [(5, 3, 1), (5, 6, 1), (6, 5, 1)]
    assert [s.change for s in r.shifts] == [-2, 1, -1]
    assert r.share("decreased") == pytest.approx(2 / 3)
    assert r.class_count(4) == 0
    with pytest.raises(KeyError):
        r.share("better")


def test_rutherford_at_month_1(cohort):
    r = rutherford_at(cohort, "MONTH 1")
    assert (r.assessed, r.paired) == (5, 5)
    assert (r.decreased, r.unchanged, r.increased) == (0, 4, 1)


def test_frames_hold_the_results(cohort):
    course = wound_course(cohort)
    frame = course.to_frame()
    assert list(frame["Visit"]) == [v.visit for v in course.visits]
    row = frame.set_index("Visit").loc["MONTH 6"]
    v = course.visit("MONTH 6")
    assert (row["Wound assessed"], row["Healed"], row["All wounds assessed"]) == (
        v.assessed,
        v.healed,
        v.all_assessed,
    )
    assert row["Healed share"] == v.share("HEALED")
    r = rutherford_at(cohort, "MONTH 6")
    change = r.change_frame().iloc[0]
    assert (change["Paired"], change["Decreased"], change["Increased"]) == (
        r.paired,
        r.decreased,
        r.increased,
    )
    assert list(r.to_frame()["Patients"]) == [c.n for c in r.classes]


def test_empty_cohort(empty):
    assert empty.n == 0
    course = wound_course(empty)
    assert all(v.assessed == 0 and v.area_median is None for v in course.visits)
    r = rutherford_at(empty, "MONTH 6")
    assert (r.assessed, r.paired, r.share("decreased")) == (0, 0, None)


def test_extra_visits_sorted_by_time():
    visits = VISITS.copy()
    extra = pd.DataFrame([("P1", "MONTH 4", 4, 2.0, "HEALING", "N", 5)], columns=visits.columns)
    visits = pd.concat([visits, extra], ignore_index=True)
    c = Cohort(FilterState(), 5, ADSL, pd.DataFrame(), visits, pd.DataFrame(), Provenance())
    names = visit_names(c)
    assert names.index("MONTH 3") < names.index("MONTH 4") < names.index("MONTH 6")
    assert wound_course(c).visit("MONTH 4").healing == 1


def test_demo_counts_add_up(demo_visits):
    """On the demo: the statuses add up to the assessed, the class shifts to the paired."""
    for v in wound_course(demo_visits).status_visits:
        assert v.healed + v.healing + v.not_healing == v.assessed <= v.followed
        assert v.all_healed <= v.all_assessed
    for visit in ("MONTH 1", "MONTH 6", "MONTH 12"):
        r = rutherford_at(demo_visits, visit)
        assert r.paired > 0
        assert r.decreased + r.unchanged + r.increased == r.paired
        assert sum(s.n for s in r.shifts) == r.paired
        assert sum(c.n for c in r.classes) == r.assessed


# --- figures ------------------------------------------------------------------------------


def _csv(fig) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(to_csv(fig)), comment="#")


def test_healing_status_figure_draws_the_counts(cohort, demo_visits):
    courses = {"Small": wound_course(cohort), "Demo": wound_course(demo_visits)}
    fig = healing_status_figure(courses, title="Status")
    table = figure_table(fig)
    for name, course in courses.items():
        for v in course.status_visits:
            for status, series in (("HEALED", "Healed"), ("NOT HEALING", "Not healing")):
                row = table[
                    (table["group"] == name)
                    & (table["series"] == series)
                    & (table["visit"] == DEFAULT_LABELS.value("AVISIT", v.visit))
                ].iloc[0]
                assert row["patients"] == v.count(status)
                assert row["assessed"] == v.assessed
                assert row["percent_of_assessed"] == pytest.approx(100 * v.share(status))
    # the visits in words, as the hover reads; those with no assessed patient
    # (baseline) are not drawn
    assert not {v for c in courses.values() for v in c.visits} & set(table["visit"])
    assert DEFAULT_LABELS.value("AVISIT", BASELINE) not in set(table["visit"])
    assert fig.layout.meta["footnote"] == courses["Small"].provenance.footnote()
    assert "Status" in to_csv(fig).decode().splitlines()[0]


def test_area_and_all_healed_figures(cohort):
    course = wound_course(cohort)
    area = _csv(wound_area_figure({"All": course}))
    m6 = area[area["visit"] == "Month 6"].iloc[0]  # the visit in words, as the hover reads
    v = course.visit("MONTH 6")
    assert (m6["median_cm2"], m6["q1_cm2"], m6["q3_cm2"], m6["measured"]) == (
        v.area_median,
        v.area_q1,
        v.area_q3,
        v.measured,
    )
    assert "Month 12" not in set(area["visit"])  # nothing measured there
    healed = _csv(all_healed_figure({"All": course}, colours={"All": "#000000"}))
    m6 = healed[healed["visit"] == "Month 6"].iloc[0]
    assert (m6["patients"], m6["assessed"]) == (v.all_healed, v.all_assessed)


def test_rutherford_figure(cohort, demo_visits):
    changes = {"Small": rutherford_at(cohort), "Demo": rutherford_at(demo_visits)}
    table = _csv(rutherford_change_figure(changes, theme="presentation"))
    for which in ("decreased", "unchanged", "increased"):
        rows = table[table["series"] == which]
        assert list(rows["patients"]) == [getattr(r, which) for r in changes.values()]
        assert list(rows["paired"]) == [r.paired for r in changes.values()]


def test_figures_need_something_to_draw():
    with pytest.raises(ValueError, match="no"):
        healing_status_figure({})


def test_short_visit_names():
    assert [short_visit(v) for v in ("BASELINE", "WEEK 2", "MONTH 12", "UNSCHEDULED")] == [
        "Baseline",
        "2 wk",
        "12 mo",
        "UNSCHEDULED",
    ]
