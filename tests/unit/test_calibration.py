"""The bundled synthetic cohort reproduces PROMISE II's published aggregate
figures, computed by the functions the pages and the command line run (the store's
aggregates and the few rows each reads).

The published numbers are read from ../shared at test time; none is written here.
"""

from __future__ import annotations

import re

import pytest

from analytics.analyses import views
from analytics.analyses.audit import AUDIT_ENDPOINTS, audit_view
from analytics.analyses.outcomes import disposition, event_counts
from analytics.analyses.safety import safety_view
from analytics.analyses.tables import table1_view, table2_view
from analytics.analyses.visits import rutherford_at, visit_cohort, wound_course
from analytics.estimators.bayes import BayesianEndpoint
from analytics.model.filters import FilterState
from analytics.model.labels import DEFAULT as W  # the words the tables show

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
EVERYONE = FilterState()


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
def t1(demo_store):
    return table1_view(demo_store, EVERYONE)


@pytest.fixture(scope="module")
def t2(demo_store):
    return table2_view(demo_store, EVERYONE, reintervention_day=LANDMARK, procedural_day=30)


def within_median(actual, target, tol):
    return abs(actual - target) <= tol["median"] * abs(target) + 1e-12


# --- design and Table 1 ---------------------------------------------------------------
def test_design_counts(demo_store, published):
    d = published["design"]
    counts = views.cohort_counts(demo_store, EVERYONE, LANDMARK)
    assert counts.enrolled == counts.in_view == d["n_enrolled"]
    assert counts.screened == d["n_screened"]
    assert len(demo_store.group_sizes(EVERYONE, "SITEID")) == d["n_sites"]
    first, last = d["enrollment_window"]
    enrl = [str(day)[:7] for day in demo_store.levels("ENRLDT")]
    assert min(enrl) == first
    assert max(enrl) == last


def test_table1_counts(t1, published):
    p = published["baseline_table1"]
    assert t1.row("Male", "Sex").n == p["male"]
    assert t1.row("Female", "Sex").n == p["female"]
    for name, code in RACE.items():
        assert t1.row(W.value("RACE", code), "Race").n == p["race"][name], name
    for name, code in ETHNIC.items():
        assert t1.row(W.value("ETHNIC", code), "Ethnic group").n == p["ethnicity"][name], name
    assert t1.row("Black, or Hispanic or Latino").n == p["black_hispanic_or_latino_combined"]
    assert t1.row("History of smoking").n == p["smoking_history"]
    assert t1.row("Current", "Smoking").n == p["smoking_current"]
    assert t1.row("Former", "Smoking").n == p["smoking_former"]
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
    assert t1.row("Type 1", "Diabetes type").n == p["diabetes_type1"]
    assert t1.row("Type 2", "Diabetes type").n == p["diabetes_type2"]
    assert t1.row("5 (minor tissue loss)", "Rutherford class").n == p["rutherford_5"]
    assert t1.row("6 (major tissue loss)", "Rutherford class").n == p["rutherford_6"]
    for name, code in NO_OPTION.items():
        assert t1.row(W.value("NOOPTRS", code)).n == p["no_option_reason"][name], name


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
        assert t2.row(W.value("XVEIN", code), "Crossing vein").n == p["crossing_vein"][name]
    for name, code in ARTERY.items():
        assert t2.row(W.value("XARTERY", code), "Crossing artery").n == p["crossing_artery"][name]
    assert within_median(t2.row("Procedure time, min").median, p["procedure_minutes_median"], tol)
    assert within_median(t2.row("Radiation dose, mGy").median, p["radiation_mgy_median"], tol)
    assert within_median(t2.row("Contrast volume, mL").median, p["contrast_ml_median"], tol)
    assert (
        t2.row("Free from contrast-induced nephropathy at 72 h").n
        == p["free_of_contrast_nephropathy_72h"]
    )


def test_reinterventions_and_procedural_success(demo_store, t2, published):
    p = published["procedure_table2"]
    target = (p["reintervention_within_6mo"]["n"], p["reintervention_within_6mo"]["of"])
    row = t2.row(f"Reintervention within {LANDMARK} days")
    assert (row.n, row.denominator) == target
    r = views.reintervention_view(demo_store, EVERYONE, LANDMARK)
    assert r is not None
    assert (r.patients, r.denominator) == target
    assert r.planned + r.unplanned == r.patients
    s = t2.row("Procedural success (at 30 days)")
    assert (s.n, s.denominator) == (p["procedural_success"]["n"], p["procedural_success"]["of"])


# --- six-month outcomes -------------------------------------------------------------------
def test_disposition_and_events(demo_store, published):
    o = published["outcomes_6_months"]
    assert views.cohort_counts(demo_store, EVERYONE, LANDMARK).followed == o["followup_complete"]
    # the rows the overview's follow-up count reads
    followed = views.subject_cohort(demo_store, EVERYONE, ["PROCDT", "LSTCNTDT", "EOSSTT"])
    d = disposition(followed, LANDMARK)
    assert (d.complete, d.lost_to_followup, d.withdrawn) == (
        o["followup_complete"],
        o["lost_to_followup"],
        o["withdrew"],
    )
    crude = audit_view(demo_store, EVERYONE, LANDMARK).item(
        f"Major amputation by day {LANDMARK} (crude)"
    )
    assert crude.n == o["major_amputations"]
    # the rows the audit's crude counts read
    events = views.subject_cohort(demo_store, EVERYONE, [], endpoints=AUDIT_ENDPOINTS)
    e = event_counts(events, LANDMARK)
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
def test_kaplan_meier_at_six_months(demo_store, published, tol, paramcd, key):
    view = views.survival_view(demo_store, EVERYONE, [paramcd], landmarks=(LANDMARK,))
    est = view.endpoints[paramcd].landmark(LANDMARK)
    assert est.estimate == pytest.approx(published["outcomes_6_months"][key], abs=tol["km"])
    assert est.lower <= est.estimate <= est.upper


@pytest.mark.parametrize(("flag", "key"), [("Y", "afs_dialysis"), ("N", "afs_no_dialysis")])
def test_dialysis_subgroups(demo_store, published, tol, flag, key):
    target = published["outcomes_6_months"][key]
    filters = FilterState.parse([f"DIALFL={flag}"])
    view = views.survival_view(demo_store, filters, ["AFS", "OS"], landmarks=(LANDMARK,))
    assert view.n == target["n"]
    afs = view.endpoints["AFS"].landmark(LANDMARK)
    os_ = view.endpoints["OS"].landmark(LANDMARK)
    assert afs.estimate == pytest.approx(target["afs"], abs=tol["km"])
    assert 1 - os_.estimate == pytest.approx(target["mortality"], abs=tol["km"])


def test_bayesian_primary_endpoint(demo_store, published, tol):
    d, o = published["design"], published["outcomes_6_months"]
    model = BayesianEndpoint(
        day=LANDMARK,
        goal=d["performance_goal"],
        threshold=d["success_threshold_posterior_probability"],
    )
    res = views.bayes_view(demo_store, EVERYONE, model)
    assert res is not None
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


def test_wounds_and_rutherford(demo_store, published, tol):
    o = published["outcomes_6_months"]
    visits = visit_cohort(demo_store, EVERYONE)
    course = wound_course(visits)
    w = course.visit("MONTH 6")
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
        a, target = course.visit(visit), o[key]
        assert within_median(a.area_median, target["median"], tol), visit
        assert within_median(a.area_q1, target["iqr"][0], tol), visit
        assert within_median(a.area_q3, target["iqr"][1], tol), visit
    r = rutherford_at(visits, "MONTH 6")
    assert (r.decreased, r.paired) == (
        o["rutherford_decrease"]["n"],
        o["rutherford_decrease"]["of"],
    )


def test_adverse_events(demo_store, published):
    o = published["outcomes_6_months"]
    ae, minor, _ = safety_view(demo_store, EVERYONE, LANDMARK)
    assert (ae.any_patients, ae.n) == (o["any_adverse_event"]["n"], o["any_adverse_event"]["of"])
    toe = minor.term("TOE AMPUTATION")
    tma = minor.term("TRANSMETATARSAL AMPUTATION OR REVISION")
    assert (toe.events, toe.patients) == (
        o["minor_amputations"]["toe"]["amputations"],
        o["minor_amputations"]["toe"]["patients"],
    )
    spec = o["minor_amputations"]["transmetatarsal_or_revision"]
    assert (tma.events, tma.patients) == (spec["amputations"], spec["patients"])
    # COVID-19 over the whole follow-up
    whole, _, deaths = safety_view(demo_store, EVERYONE, None)
    assert whole.term("COVID-19").patients == o["covid19_infections"]
    assert deaths.cause("COVID-19") == o["covid19_deaths"]
