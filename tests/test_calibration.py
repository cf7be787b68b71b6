"""The bundled synthetic cohort reproduces PROMISE II's published aggregate
figures, computed by the project's own analytics through the DuckDB layer.

The published numbers are read from ../shared at test time; none is written here.
"""

from __future__ import annotations

import re

import pytest

from analytics.analyses.outcomes import (
    adverse_events,
    deaths_by_cause,
    disposition,
    event_counts,
    procedural_success,
    reinterventions,
    rutherford_change,
    wound_healing,
)
from analytics.analyses.survival import kaplan_meier, times_events
from analytics.analyses.tables import table1, table2
from analytics.estimators.bayes import BayesianEndpoint
from analytics.model.filters import FilterState

RACE = {
    "White": "WHITE",
    "Black or African descent": "BLACK OR AFRICAN AMERICAN",
    "Asian": "ASIAN",
    "Unknown or declined": "UNKNOWN",
}
ETHNIC = {
    "Not Hispanic or Latino": "NOT HISPANIC OR LATINO",
    "Hispanic or Latino": "HISPANIC OR LATINO",
}
VEIN = {"Peroneal vein": "PERONEAL VEIN", "Posterior tibial vein": "POSTERIOR TIBIAL VEIN"}
ARTERY = {
    "Peroneal artery": "PERONEAL ARTERY",
    "Posterior tibial artery": "POSTERIOR TIBIAL ARTERY",
    "Tibioperoneal trunk": "TIBIOPERONEAL TRUNK",
}
NO_OPTION = {"no pedal target": "NO PEDAL TARGET", "no autogenous conduit": "NO AUTOGENOUS CONDUIT"}
LANDMARK = 183  # six months, in days


def _number(text: str) -> float:
    m = re.search(r"[-+]?\d*\.?\d+", text)
    assert m, f"no number in tolerance {text!r}"
    return float(m.group())


@pytest.fixture(scope="module")
def tol(published):
    t = published["tolerance"]
    assert t["counts"] == "exact"
    return {
        "km": _number(t["kaplan_meier_and_proportions"]) / 100,
        "bayes": _number(t["bayesian_posterior_probability"]),
        "median": _number(t["medians"]) / 100,
    }


@pytest.fixture(scope="module")
def t1(demo_cohort):
    return table1(demo_cohort)


@pytest.fixture(scope="module")
def t2(demo_cohort):
    return table2(demo_cohort)


def within_median(actual, target, tol):
    return abs(actual - target) <= tol["median"] * abs(target) + 1e-12


# --- design and Table 1 ---------------------------------------------------------------
def test_design_counts(demo_cohort, published):
    d = published["design"]
    assert demo_cohort.n == d["n_enrolled"]
    assert demo_cohort.manifest["n_screened"] == d["n_screened"]
    assert demo_cohort.adsl["SITEID"].nunique() == d["n_sites"]
    first, last = d["enrollment_window"]
    enrl = demo_cohort.adsl["ENRLDT"].astype(str).str[:7]
    assert enrl.min() == first
    assert enrl.max() == last


def test_table1_counts(t1, published):
    p = published["baseline_table1"]
    assert t1.row("Male", "Sex").n == p["male"]
    assert t1.row("Female", "Sex").n == p["female"]
    for name, code in RACE.items():
        assert t1.row(code, "Race").n == p["race"][name], name
    for name, code in ETHNIC.items():
        assert t1.row(code, "Ethnic group").n == p["ethnicity"][name], name
    assert t1.row("Black, or Hispanic or Latino").n == p["black_hispanic_or_latino_combined"]
    assert t1.row("History of smoking").n == p["smoking_history"]
    assert t1.row("CURRENT", "Smoking").n == p["smoking_current"]
    assert t1.row("FORMER", "Smoking").n == p["smoking_former"]
    for label, key in [
        ("Prior stroke", "prior_stroke"),
        ("Prior myocardial infarction", "prior_mi"),
        ("Hypertension", "hypertension"),
        ("Dyslipidaemia", "dyslipidemia"),
        ("Diabetes", "diabetes"),
        ("Chronic kidney disease", "ckd"),
        ("Dialysis", "dialysis"),
        ("Prior intervention on the target limb", "prior_intervention_target_limb"),
    ]:
        row = t1.row(label)
        assert row.missing == 0, label
        assert row.n == p[key], label
    assert t1.row("TYPE 1", "Diabetes type").n == p["diabetes_type1"]
    assert t1.row("TYPE 2", "Diabetes type").n == p["diabetes_type2"]
    assert t1.row("5", "Rutherford class").n == p["rutherford_5"]
    assert t1.row("6", "Rutherford class").n == p["rutherford_6"]
    for name, code in NO_OPTION.items():
        assert t1.row(code).n == p["no_option_reason"][name], name


def test_table1_continuous(t1, published, tol):
    p = published["baseline_table1"]
    age = t1.row("Median (range)", "Age, years")
    assert within_median(age.median, p["age_median"], tol)
    assert (age.minimum, age.maximum) == tuple(p["age_range"])
    bmi = t1.row("Median (range)", "Body-mass index")
    assert within_median(bmi.median, p["bmi_median"], tol)
    assert (bmi.minimum, bmi.maximum) == tuple(p["bmi_range"])


# --- Table 2 ------------------------------------------------------------------------------
def test_table2(t2, published, tol):
    p = published["procedure_table2"]
    assert t2.row("Technical success").n == p["technical_success"]
    for name, code in VEIN.items():
        assert t2.row(code, "Crossing vein").n == p["crossing_vein"][name]
    for name, code in ARTERY.items():
        assert t2.row(code, "Crossing artery").n == p["crossing_artery"][name]
    assert within_median(t2.row("Procedure time, min").median, p["procedure_minutes_median"], tol)
    assert within_median(t2.row("Radiation dose, mGy").median, p["radiation_mgy_median"], tol)
    assert within_median(t2.row("Contrast volume, mL").median, p["contrast_ml_median"], tol)
    assert (
        t2.row("Free from contrast-induced nephropathy at 72 h").n
        == p["free_of_contrast_nephropathy_72h"]
    )


def test_reinterventions_and_procedural_success(demo_cohort, published):
    p = published["procedure_table2"]
    r = reinterventions(demo_cohort, LANDMARK)
    assert (r.patients, r.denominator) == (
        p["reintervention_within_6mo"]["n"],
        p["reintervention_within_6mo"]["of"],
    )
    assert r.planned + r.unplanned == r.patients
    s = procedural_success(demo_cohort, 30)
    assert (s.n, s.denominator) == (p["procedural_success"]["n"], p["procedural_success"]["of"])


# --- six-month outcomes -------------------------------------------------------------------
def test_disposition_and_events(demo_cohort, published):
    o = published["outcomes_6_months"]
    d = disposition(demo_cohort, LANDMARK)
    assert (d.complete, d.lost_to_followup, d.withdrawn) == (
        o["followup_complete"],
        o["lost_to_followup"],
        o["withdrew"],
    )
    e = event_counts(demo_cohort, LANDMARK)
    assert e.major_amputations == o["major_amputations"]
    # "deaths" in the published AFS breakdown: deaths without a prior major amputation
    assert e.deaths_first == o["deaths"]


@pytest.mark.parametrize(
    ("paramcd", "key"),
    [
        ("AFS", "afs_kaplan_meier"),
        ("LS", "limb_salvage_kaplan_meier"),
        ("OS", "survival_kaplan_meier"),
        ("PP", "patency_primary"),
        ("PAP", "patency_primary_assisted"),
        ("SP", "patency_secondary"),
    ],
)
def test_kaplan_meier_at_six_months(demo_cohort, published, tol, paramcd, key):
    est = kaplan_meier(demo_cohort, paramcd, landmarks=(LANDMARK,)).landmark(LANDMARK)
    assert est.estimate == pytest.approx(published["outcomes_6_months"][key], abs=tol["km"])
    assert est.lower <= est.estimate <= est.upper


@pytest.mark.parametrize(("flag", "key"), [("Y", "afs_dialysis"), ("N", "afs_no_dialysis")])
def test_dialysis_subgroups(demo_store, published, tol, flag, key):
    target = published["outcomes_6_months"][key]
    cohort = demo_store.cohort(FilterState.parse([f"DIALFL={flag}"]))
    assert cohort.n == target["n"]
    afs = kaplan_meier(cohort, "AFS", landmarks=(LANDMARK,)).landmark(LANDMARK)
    os_ = kaplan_meier(cohort, "OS", landmarks=(LANDMARK,)).landmark(LANDMARK)
    assert afs.estimate == pytest.approx(target["afs"], abs=tol["km"])
    assert 1 - os_.estimate == pytest.approx(target["mortality"], abs=tol["km"])


def test_bayesian_primary_endpoint(demo_cohort, published, tol):
    d, o = published["design"], published["outcomes_6_months"]
    t, e = times_events(demo_cohort, "AFS")
    res = (
        BayesianEndpoint(
            day=LANDMARK,
            goal=d["performance_goal"],
            threshold=d["success_threshold_posterior_probability"],
        )
        .fit(t, e)
        .result_
    )
    # the default imputation, the Goldilocks design's piecewise-exponential model
    assert res.imputed
    assert res.imputation == "pwe"
    assert res.posterior_mean == pytest.approx(o["afs_bayes_posterior_mean"], abs=tol["bayes"])
    lo, hi = o["afs_bayes_credible_interval_95"]
    assert res.credible_interval[0] == pytest.approx(lo, abs=tol["bayes"])
    assert res.credible_interval[1] == pytest.approx(hi, abs=tol["bayes"])
    assert res.probability_above_goal == pytest.approx(
        o["afs_bayes_posterior_probability_above_goal"], abs=tol["bayes"]
    )
    assert res.success == (
        o["afs_bayes_posterior_probability_above_goal"]
        > d["success_threshold_posterior_probability"]
    )


def test_wounds_and_rutherford(demo_cohort, published, tol):
    o = published["outcomes_6_months"]
    w = wound_healing(demo_cohort, "MONTH 6")
    assert (w.healed, w.assessed) == (o["target_wound_healed"]["n"], o["target_wound_healed"]["of"])
    assert (w.healing, w.assessed) == (
        o["target_wound_healing"]["n"],
        o["target_wound_healing"]["of"],
    )
    assert (w.all_healed, w.all_assessed) == (
        o["all_wounds_healed"]["n"],
        o["all_wounds_healed"]["of"],
    )
    for visit, key in (("BASELINE", "wound_area_cm2_baseline"), ("MONTH 6", "wound_area_cm2_6mo")):
        a, target = w.area(visit), o[key]
        assert within_median(a.median, target["median"], tol), visit
        assert within_median(a.q1, target["iqr"][0], tol), visit
        assert within_median(a.q3, target["iqr"][1], tol), visit
    r = rutherford_change(demo_cohort, "MONTH 6")
    assert (r.decreased, r.paired) == (
        o["rutherford_decrease"]["n"],
        o["rutherford_decrease"]["of"],
    )


def test_adverse_events(demo_cohort, published):
    o = published["outcomes_6_months"]
    ae = adverse_events(demo_cohort, LANDMARK)
    assert (ae.any_patients, ae.n) == (o["any_adverse_event"]["n"], o["any_adverse_event"]["of"])
    toe = ae.term("TOE AMPUTATION")
    tma = ae.term("TRANSMETATARSAL AMPUTATION OR REVISION")
    assert (toe.events, toe.patients) == (
        o["minor_amputations"]["toe"]["amputations"],
        o["minor_amputations"]["toe"]["patients"],
    )
    spec = o["minor_amputations"]["transmetatarsal_or_revision"]
    assert (tma.events, tma.patients) == (spec["amputations"], spec["patients"])
    # COVID-19 over the whole follow-up
    assert adverse_events(demo_cohort, None).term("COVID-19").patients == o["covid19_infections"]
    assert deaths_by_cause(demo_cohort).get("COVID-19", 0) == o["covid19_deaths"]
