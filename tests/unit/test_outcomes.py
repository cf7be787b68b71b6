"""Outcomes, wounds, adverse events and Tables 1 and 2 on a small extract whose answers
are counted by hand."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.analyses.outcomes import (
    disposition,
    event_counts,
    procedural_success,
    reintervention_kind,
    reinterventions,
)
from analytics.analyses.safety import safety_view
from analytics.analyses.tables import table1_view, table2_view
from analytics.analyses.visits import rutherford_at, visit_cohort, wound_course
from analytics.estimators.km import KaplanMeier
from analytics.model.filters import FilterState
from analytics.store import Store

ADSL = pd.DataFrame(
    {
        "USUBJID": ["P1", "P2", "P3", "P4", "P5"],
        "AGE": [60, 75, "", 80, 55],
        "SEX": ["M", "F", "M", "M", "F"],
        "DIALFL": ["Y", "N", "N", "Y", "N"],
        "RUTHCAT": [5, 6, 6, 5, 5],
        "TECHSFL": ["Y", "Y", "Y", "Y", "N"],
        "PROCMIN": [100, 200, 300, 400, ""],
        "PROCDT": ["2021-01-01"] * 5,
        "LSTCNTDT": ["2021-12-31", "2021-03-01", "2021-12-31", "2021-02-01", "2021-01-31"],
        "EOSSTT": ["COMPLETED", "LOST TO FOLLOW-UP", "COMPLETED", "DEATH", "WITHDRAWN"],
        "DTHFL": ["N", "N", "N", "Y", "N"],
        "DTHCAUS": ["", "", "", "COVID-19", ""],
    }
)
# AFS: P1 amputation day 20, P4 death day 31; REINT: P2 day 10 (planned), P3 day 100
ADTTE = pd.DataFrame(
    {
        "USUBJID": ["P1", "P2", "P3", "P4", "P5"] * 2 + ["P1", "P2", "P3", "P4"],
        "PARAMCD": ["AFS"] * 5 + ["OS"] * 5 + ["REINT"] * 4,
        "AVAL": [20, 59, 364, 31, 30, 364, 59, 364, 31, 30, 20, 10, 100, 31],
        "CNSR": [0, 2, 1, 0, 3, 1, 2, 1, 0, 3, 5, 0, 0, 4],
        "EVNTDESC": [
            "MAJOR AMPUTATION",
            "LOST",
            "LC",
            "DEATH",
            "WD",
            "LC",
            "LOST",
            "LC",
            "DEATH",
            "WD",
            "MAJOR AMPUTATION",
            "PLANNED REINTERVENTION",
            "UNPLANNED REINTERVENTION",
            "DEATH",
        ],
    }
)
VISITS = pd.DataFrame(
    {
        "USUBJID": ["P1", "P2", "P3", "P1", "P3", "P5"],
        "AVISIT": ["BASELINE", "BASELINE", "BASELINE", "MONTH 6", "MONTH 6", "BASELINE"],
        "AVISITN": [0, 0, 0, 6, 6, 0],
        "WNDAREA": [4.0, 2.0, 9.0, "", 0.0, 1.0],
        "WNDSTAT": ["", "", "", "", "HEALED", ""],
        "ALLHLFL": ["N", "N", "N", "Y", "Y", "N"],
        "RUTHCAT": [5, 6, 6, "", 3, 5],
    }
)
ADAE = pd.DataFrame(
    {
        "USUBJID": ["P1", "P1", "P2", "P3"],
        "AESEQ": [1, 2, 1, 1],
        "AETERM": ["TOE AMPUTATION", "TOE AMPUTATION", "PNEUMONIA", "PNEUMONIA"],
        "AESER": ["N", "N", "Y", "Y"],
        "AEDEVFL": ["N", "N", "N", "N"],
        "ASTDY": [5, 15, 40, 300],
    }
)


EVERYONE = FilterState()


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("small")
    for name, frame in (("adsl", ADSL), ("adtte", ADTTE), ("visits", VISITS), ("adae", ADAE)):
        frame.to_csv(folder / f"{name}.csv", index=False)
    store = Store.open(folder)
    yield store
    store.close()


@pytest.fixture(scope="module")
def cohort(store):
    return store.cohort()


def test_event_counts(cohort):
    e = event_counts(cohort, 30)
    assert (e.major_amputations, e.deaths_first, e.deaths_all, e.afs_events) == (1, 0, 0, 1)
    e = event_counts(cohort, 183)
    assert (e.major_amputations, e.deaths_first, e.deaths_all, e.afs_events) == (1, 1, 1, 2)


def test_disposition(cohort):
    d = disposition(cohort, 183)
    assert (d.n, d.complete, d.lost_to_followup, d.withdrawn) == (5, 3, 1, 1)


def test_reinterventions_among_technical_successes(cohort):
    r = reinterventions(cohort, 183)
    assert (r.patients, r.planned, r.unplanned, r.denominator) == (2, 1, 1, 4)
    assert reinterventions(cohort, 30).patients == 1


def test_reintervention_kind_is_read_from_the_text_never_guessed():
    assert reintervention_kind("PLANNED REINTERVENTION") == "planned"
    assert reintervention_kind(" Unplanned reintervention") == "unplanned"
    for other in (
        "REINTERVENTION",
        "STAGED REINTERVENTION",
        "NOT PLANNED",
        "",
        None,
        float("nan"),
        pd.NA,
        3,
    ):
        assert reintervention_kind(other) is None, other


def test_reinterventions_by_the_kind_of_each_patients_first(cohort):
    r = reinterventions(cohort, 183)
    assert (r.kind_not_recorded, r.kind_recorded) == (0, True)
    # Several rows per patient cannot come through the loader (REINT is the time to the
    # first reintervention, one row per patient) but can be built by hand: only the
    # rows of the first reintervention day count, a patient once per kind found there.
    extra = pd.DataFrame(
        {
            "USUBJID": ["P2", "P3", "P1"],
            "PARAMCD": ["REINT"] * 3,
            "AVAL": [50, 100, 15],
            "CNSR": [0, 0, 0],
            "EVNTDESC": ["UNPLANNED REINTERVENTION", "PLANNED REINTERVENTION", "REINTERVENTION"],
        }
    )
    adtte = cohort.adtte.copy()
    p1 = (adtte["USUBJID"] == "P1") & (adtte["PARAMCD"] == "REINT")
    adtte = pd.concat([adtte[~p1], extra], ignore_index=True)
    several = replace(cohort, adtte=adtte)
    r = reinterventions(several, 183)
    # P1 unknown (day 15); P2 planned on day 10, its later unplanned one not counted;
    # P3 planned and unplanned on day 100: counted under both
    assert (r.patients, r.planned, r.unplanned, r.kind_not_recorded) == (3, 2, 1, 1)
    assert "first reintervention" in r.provenance.method
    assert reinterventions(several, 12).patients == 1  # P2 only


def test_reinterventions_whose_kind_is_not_recorded(cohort):
    adtte = cohort.adtte.copy()
    adtte.loc[(adtte["PARAMCD"] == "REINT") & (adtte["CNSR"] == 0), "EVNTDESC"] = "REINTERVENTION"
    r = reinterventions(replace(cohort, adtte=adtte), 183)
    assert (r.patients, r.planned, r.unplanned, r.kind_not_recorded) == (2, 0, 0, 2)
    assert not r.kind_recorded  # the zeros above are not counts of planned or unplanned


def test_procedural_success(cohort):
    # P1 amputated day 20, P2 reintervened day 10; P3 fine; P4 died day 31 (after 30)
    s = procedural_success(cohort, 30)
    assert (s.n, s.denominator) == (2, 4)


def test_wounds_and_rutherford(store):
    visits = visit_cohort(store, EVERYONE)
    course = wound_course(visits)
    w = course.visit("MONTH 6")
    assert (w.assessed, w.healed, w.healing, w.not_healing) == (1, 1, 0, 0)
    assert (w.all_assessed, w.all_healed) == (2, 2)
    base = course.visit("BASELINE")
    # areas 1, 2, 4, 9: definition 2 averages at whole positions
    assert (base.measured, base.area_median, base.area_q1, base.area_q3) == (4, 3.0, 1.5, 6.5)
    r = rutherford_at(visits, "MONTH 6")
    assert (r.paired, r.decreased, r.unchanged, r.increased) == (1, 1, 0, 0)


def test_adverse_events(store):
    ae, _, deaths = safety_view(store, EVERYONE, 183)
    assert (ae.any_patients, ae.serious_patients) == (2, 1)
    assert ae.term("TOE AMPUTATION").events == 2
    assert ae.term("TOE AMPUTATION").patients == 1
    assert ae.term("NOT THERE").patients == 0
    assert safety_view(store, EVERYONE, None)[0].term("PNEUMONIA").patients == 2
    assert [(c.cause, c.n) for c in deaths.causes] == [("COVID-19", 1)]


def test_tables_show_missing_values(store):
    t1 = table1_view(store, EVERYONE)
    age = t1.row("Median (range)", "Age, years")
    assert (age.missing, age.median, age.minimum, age.maximum) == (1, 67.5, 55.0, 80.0)
    assert "missing 1" in age.text()
    assert t1.row("Dialysis").n == 2
    assert t1.row("Dialysis").denominator == 5
    # columns the extract does not have are shown as such, not dropped, and never as 0
    assert t1.row("Hypertension").kind == "count"
    assert t1.row("Hypertension").missing == 5
    values = t1.to_frame().set_index("Characteristic")["Value"]
    assert values["Hypertension"] == "not recorded; missing 5"
    # rows derived from other columns: among patients with a value, missing shown
    black = t1.row("Black, or Hispanic or Latino")
    assert (black.n, black.denominator, black.missing) == (0, 0, 5)
    assert values["Black, or Hispanic or Latino"] == "not recorded; missing 5"
    t2 = table2_view(store, EVERYONE)
    cin = t2.row("Free from contrast-induced nephropathy at 72 h")
    assert (cin.n, cin.denominator, cin.missing) == (0, 0, 5)
    assert t2.row("Technical success").n == 4
    assert t2.row("Procedure time, min").missing == 1
    assert t2.row("Procedure time, min").median == 250.0  # 100, 200, 300, 400
    frame = t1.to_frame()
    assert list(frame.columns) == [
        "Section",
        "Characteristic",
        "Value",
        "n",
        "Denominator",
        "Missing",
    ]


@st.composite
def nested_patency(draw):
    """Per patient PP <= PAP <= SP; everyone still patent is censored at one common day."""
    n = draw(st.integers(1, 40))
    end = draw(st.integers(1, 400))
    rows = []
    for _ in range(n):
        pp = draw(st.one_of(st.none(), st.integers(0, end)))
        pap = None if pp is None else draw(st.one_of(st.none(), st.integers(pp, end)))
        sp = None if pap is None else draw(st.one_of(st.none(), st.integers(pap, end)))
        rows.append((end, pp, pap, sp))
    return rows


@settings(max_examples=60, deadline=None, derandomize=True)
@given(nested_patency())
def test_nested_patency_tiers_give_ordered_curves(rows):
    """With nested tiers and common administrative censoring the curves are ordered at
    every day. (With censoring between events they need not be: Kaplan-Meier gives the
    censored patient's mass to later events, so a later event can weigh more.)"""

    def fit(k):
        t = np.array([r[k] if r[k] is not None else r[0] for r in rows], dtype=float)
        e = np.array([r[k] is not None for r in rows], dtype=int)
        return KaplanMeier().fit(t, e)

    pp, pap, sp = fit(1), fit(2), fit(3)
    days = np.arange(0, 402)
    assert np.all(pp.survival_at(days) <= pap.survival_at(days) + 1e-12)
    assert np.all(pap.survival_at(days) <= sp.survival_at(days) + 1e-12)
