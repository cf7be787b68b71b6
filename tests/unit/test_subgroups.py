"""Subgroup (forest plot) analysis: agrees with the KM, Cox and log-rank engines,
keeps every level (with a reason when it cannot be estimated)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import pytest

from analytics.analyses.subgroups import AGE_SPLIT, DEFAULT_SUBGROUPS, SubgroupAnalysis
from analytics.estimators import CoxPH, LogRankTest
from analytics.estimators.km import KaplanMeier
from analytics.model.filters import FilterState
from analytics.model.provenance import Provenance
from analytics.store import Cohort


def synthetic_cohort(n: int = 120, seed: int = 7) -> Cohort:
    rng = np.random.default_rng(seed)
    ids = [f"S-{i:04d}" for i in range(n)]
    sex = rng.choice(["M", "F"], n, p=[0.65, 0.35])
    dial = rng.choice(["Y", "N"], n, p=[0.2, 0.8])
    race = rng.choice(["WHITE", "BLACK OR AFRICAN AMERICAN", "UNKNOWN"], n, p=[0.6, 0.2, 0.2])
    race[:3] = "ASIAN"  # a level too small to estimate
    age = rng.integers(45, 90, n)
    bmi = np.round(rng.normal(28, 5, n), 1)
    bmi[5:9] = np.nan
    hazard = 0.003 * np.where(sex == "F", 0.6, 1.0) * np.where(dial == "Y", 2.5, 1.0)
    event_time = np.ceil(rng.exponential(1 / hazard))
    follow = rng.integers(100, 400, n)
    aval = np.minimum(event_time, follow).astype(float)
    cnsr = np.where(event_time <= follow, 0, 1)
    # "UNKNOWN" race patients never have the event: estimable KM, no hazard ratio.
    cnsr[race == "UNKNOWN"] = 1
    adsl = pd.DataFrame(
        {
            "USUBJID": ids,
            "SEX": sex,
            "DIALFL": dial,
            "AGEGR1": np.where(age <= 70, "<=70", ">70"),
            "DIABFL": rng.choice(["Y", "N"], n),
            "RACE": race,
            "ETHNIC": rng.choice(["HISPANIC OR LATINO", "NOT HISPANIC OR LATINO"], n),
            "RUTHCAT": rng.choice([5, 6], n),
            "AGE": age,
            "BMI": bmi,
            "ENRLDT": [f"2020-01-{1 + i % 28:02d}-{i}" for i in range(n)],
        }
    )
    adtte = pd.DataFrame(
        {"USUBJID": ids, "PARAMCD": "AFS", "PARAM": "Amputation-free survival", "AVAL": aval,
         "CNSR": cnsr}
    )
    return Cohort(
        filters=FilterState(),
        n_total=n,
        adsl=adsl,
        adtte=adtte,
        visits=pd.DataFrame(),
        adae=pd.DataFrame(),
        provenance=Provenance(filters=("synthetic",), data_fingerprint="f" * 64),
    )


@pytest.fixture(scope="module")
def cohort() -> Cohort:
    return synthetic_cohort()


def endpoint_rows(cohort: Cohort) -> pd.DataFrame:
    return cohort.adtte.merge(cohort.adsl, on="USUBJID")


def test_every_default_variable_and_level_is_reported(demo_cohort: Any) -> None:
    res = SubgroupAnalysis().fit(demo_cohort, "AFS").result_
    assert [v.variable for v in res.variables] == list(DEFAULT_SUBGROUPS)
    assert res.n == len(demo_cohort.endpoint("AFS"))
    for var in res.variables:
        assert sum(lv.n for lv in var.levels) + var.n_missing == res.n
        assert sum(lv.events for lv in var.levels) <= res.events
        if var.variable == AGE_SPLIT.name:
            observed = {"<=70" if a <= 70 else ">70" for a in demo_cohort.adsl["AGE"].dropna()}
        else:
            observed = {str(v) for v in demo_cohort.adsl[var.variable].dropna().unique()}
        assert {lv.level for lv in var.levels} == observed, "no level may be dropped"
        assert var.p_interaction is not None
        assert 0 < var.p_interaction <= 1
        for lv in var.levels:
            complete = lv.estimate is not None and (lv.is_reference or lv.hazard_ratio is not None)
            assert complete == (lv.reason is None), (var.variable, lv)
        assert var.level(var.reference or "").hazard_ratio == 1.0
    asian = res.variable("RACE").level("ASIAN")
    assert asian.n == 2
    assert asian.estimate is None
    assert "too few" in (asian.reason or "")
    assert res.provenance.data_fingerprint == demo_cohort.provenance.data_fingerprint
    assert "log-rank" in res.provenance.method


def test_levels_agree_with_the_engines(cohort: Cohort) -> None:
    res = SubgroupAnalysis(landmark=183, ci_type="log").fit(cohort, "AFS", ["SEX"]).result_
    sex = res.variable("SEX")
    assert sex.reference == "M"
    rows = endpoint_rows(cohort)
    t, e = rows["AVAL"].to_numpy(), (rows["CNSR"] == 0).to_numpy()
    for lv in sex.levels:
        sel = (rows["SEX"] == lv.level).to_numpy()
        lm = KaplanMeier("log").fit(t[sel], e[sel]).landmarks([183])[0]
        assert (lv.estimate, lv.lower, lv.upper, lv.at_risk) == (lm.estimate, lm.lower, lm.upper,
                                                                 lm.at_risk)
        assert (lv.n, lv.events) == (sel.sum(), e[sel].sum())
    cox = CoxPH(reference="M").fit(t, e, rows["SEX"]).result()
    f = sex.level("F")
    hr = cox.hazard_ratio("F")
    assert (f.hazard_ratio, f.hr_lower, f.hr_upper, f.p_value) == pytest.approx(
        (hr.hazard_ratio, hr.lower, hr.upper, hr.p_value), rel=1e-12
    )
    lr = LogRankTest().fit(t, e, rows["SEX"])
    assert sex.p_interaction == pytest.approx(lr.p_value_, rel=1e-12)
    assert sex.df == 1
    assert sex.cox_lr_p == pytest.approx(cox.likelihood_ratio.p_value, rel=1e-12)


def test_small_and_eventless_levels_are_kept_with_a_reason(cohort: Cohort) -> None:
    race = SubgroupAnalysis(min_n=5).fit(cohort, "AFS", ["RACE"]).result_.variable("RACE")
    assert [lv.level for lv in race.levels] == [
        "WHITE", "BLACK OR AFRICAN AMERICAN", "ASIAN", "UNKNOWN"
    ]
    asian, unknown = race.level("ASIAN"), race.level("UNKNOWN")
    assert (asian.n, asian.estimate, asian.hazard_ratio) == (3, None, None)
    assert "n = 3 < 5" in (asian.reason or "")
    assert (unknown.events, unknown.estimate, unknown.hazard_ratio) == (0, 1.0, None)
    assert "not estimable" in (unknown.reason or "")
    # The Cox model uses the estimable levels only.
    rows = endpoint_rows(cohort)
    keep = rows["RACE"].isin(["WHITE", "BLACK OR AFRICAN AMERICAN"]).to_numpy()
    cox = CoxPH(reference="WHITE").fit(
        rows["AVAL"][keep], (rows["CNSR"] == 0)[keep], rows["RACE"][keep]
    )
    black = race.level("BLACK OR AFRICAN AMERICAN")
    assert black.hazard_ratio == pytest.approx(float(cox.hazard_ratios_[0]), rel=1e-12)
    # The heterogeneity test still covers every level with patients.
    lr = LogRankTest().fit(rows["AVAL"], rows["CNSR"] == 0, rows["RACE"])
    assert race.p_interaction == pytest.approx(lr.p_value_, rel=1e-12)
    assert race.df == 3


def test_min_n_is_configurable(cohort: Cohort) -> None:
    race = SubgroupAnalysis(min_n=2).fit(cohort, "AFS", ["RACE"]).result_.variable("RACE")
    asian = race.level("ASIAN")
    assert asian.estimate is not None
    assert (asian.hazard_ratio is not None) == (asian.events >= 1)


def test_reference_override_and_fallback(cohort: Cohort) -> None:
    res = SubgroupAnalysis(references={"SEX": "F", "RACE": "ASIAN"}).fit(
        cohort, "AFS", ["SEX", "RACE", "DIALFL"]
    ).result_
    assert res.variable("SEX").reference == "F"
    assert res.variable("SEX").level("M").hazard_ratio is not None
    race = res.variable("RACE")
    assert race.reference == "WHITE"
    assert "'ASIAN' too small" in (race.note or "")
    assert res.variable("DIALFL").reference == "N", "flags default to N as reference"
    with pytest.raises(ValueError, match="not a level"):
        SubgroupAnalysis(references={"SEX": "X"}).fit(cohort, "AFS", ["SEX"])


def test_other_subject_columns(cohort: Cohort) -> None:
    res = SubgroupAnalysis().fit(cohort, "AFS", ["AGE", "BMI", "ENRLDT"]).result_
    age = res.variable("AGE")
    median_age = float(np.median(cohort.adsl["AGE"]))
    assert [lv.level for lv in age.levels] == [f"<={median_age:g}", f">{median_age:g}"]
    assert "median" in (age.note or "")
    bmi = res.variable("BMI")
    assert bmi.n_missing == 4
    assert sum(lv.n for lv in bmi.levels) == res.n - 4
    dates = res.variable("ENRLDT")
    assert dates.levels == ()
    assert "too many levels" in (dates.note or "")
    assert dates.p_interaction is None


def test_unknown_column_or_endpoint(cohort: Cohort) -> None:
    with pytest.raises(ValueError, match="unknown subject column"):
        SubgroupAnalysis().fit(cohort, "AFS", ["NOPE"])
    with pytest.raises(ValueError, match="no OS records"):
        SubgroupAnalysis().fit(cohort, "OS")


def test_breslow_option(cohort: Cohort) -> None:
    res = SubgroupAnalysis(ties="breslow").fit(cohort, "AFS", ["DIALFL"]).result_
    rows = endpoint_rows(cohort)
    cox = CoxPH("breslow", reference="N").fit(rows["AVAL"], rows["CNSR"] == 0, rows["DIALFL"])
    assert res.variable("DIALFL").level("Y").hazard_ratio == pytest.approx(
        float(cox.hazard_ratios_[0]), rel=1e-12
    )
    assert "Breslow" in res.provenance.method


# --- the paper's age split, prespecified variables the data lack, the p-value's name -----


def test_age_split_is_derived_from_age_whatever_agegr1_holds(cohort: Cohort) -> None:
    # an extract whose own age groups are not the paper's (CDISC's pilot: <65/65-80/>80)
    age = cohort.adsl["AGE"]
    pilot_groups = np.where(age < 65, "<65", np.where(age <= 80, "65-80", ">80"))
    other = replace(cohort, adsl=cohort.adsl.assign(AGEGR1=pilot_groups))
    res = SubgroupAnalysis().fit(other, "AFS").result_
    split = res.variable(AGE_SPLIT.name)
    assert split.label == "Age <=70 / >70 (from AGE)"
    assert [lv.level for lv in split.levels] == ["<=70", ">70"]
    assert split.reference == "<=70"
    rows = endpoint_rows(cohort)
    old = (rows["AGE"] > 70).to_numpy()
    assert (split.level("<=70").n, split.level(">70").n) == ((~old).sum(), old.sum())
    lr = LogRankTest().fit(rows["AVAL"], rows["CNSR"] == 0, np.where(old, ">70", "<=70"))
    assert split.p_interaction == pytest.approx(lr.p_value_, rel=1e-12)
    # the extract's own AGEGR1 stays available as any other subject column
    own = SubgroupAnalysis().fit(other, "AFS", ["AGEGR1"]).result_.variable("AGEGR1")
    assert {lv.level for lv in own.levels} == {"<65", "65-80", ">80"}
    # no AGEGR1 at all: the paper's split still comes from AGE
    without = replace(cohort, adsl=cohort.adsl.drop(columns="AGEGR1"))
    again = SubgroupAnalysis().fit(without, "AFS").result_.variable(AGE_SPLIT.name)
    assert again == split


def test_age_split_missing_ages_and_no_age_column(cohort: Cohort) -> None:
    ages = cohort.adsl["AGE"].astype(float).copy()
    ages.iloc[:7] = np.nan
    some = replace(cohort, adsl=cohort.adsl.assign(AGE=ages))
    split = SubgroupAnalysis().fit(some, "AFS").result_.variable(AGE_SPLIT.name)
    assert split.n_missing == 7
    assert sum(lv.n for lv in split.levels) == cohort.n - 7
    no_age = replace(cohort, adsl=cohort.adsl.drop(columns="AGE"))
    res = SubgroupAnalysis().fit(no_age, "AFS").result_
    gone = res.variable(AGE_SPLIT.name)
    assert gone.levels == ()
    assert gone.n_missing == res.n
    assert (gone.note or "").startswith("not in the data")
    assert "AGE" in (gone.note or "")


def test_prespecified_variable_missing_from_the_data_is_named(cohort: Cohort) -> None:
    no_dialysis = replace(cohort, adsl=cohort.adsl.drop(columns="DIALFL"))
    res = SubgroupAnalysis().fit(no_dialysis, "AFS").result_
    assert [v.variable for v in res.variables] == list(DEFAULT_SUBGROUPS)
    dial = res.variable("DIALFL")
    assert dial.levels == ()
    assert dial.note == "not in the data (no column DIALFL)"
    assert dial.p_interaction is None
    # asked for by name, a prespecified variable is kept the same way
    named = SubgroupAnalysis().fit(no_dialysis, "AFS", ["DIALFL", "SEX"]).result_
    assert named.variable("DIALFL") == dial
    # a column that is there but empty for every patient says so too
    empty = replace(cohort, adsl=cohort.adsl.assign(DIALFL=None))
    blank = SubgroupAnalysis().fit(empty, "AFS").result_.variable("DIALFL")
    assert blank.levels == ()
    assert blank.n_missing == cohort.n
    assert blank.note == "not in the data (no DIALFL recorded for these patients)"
    # any other unknown column is still refused
    with pytest.raises(ValueError, match="unknown subject column"):
        SubgroupAnalysis().fit(no_dialysis, "AFS", ["NOPE"])


def test_the_per_variable_p_is_named_for_what_it_tests(cohort: Cohort) -> None:
    res = SubgroupAnalysis().fit(cohort, "AFS", ["SEX"]).result_
    sex = res.variable("SEX")
    assert sex.p_heterogeneity == sex.p_interaction
    assert "heterogeneity across levels (log-rank" in res.provenance.method
    assert "no treatment interaction" in res.provenance.method


def test_one_level_with_an_infinite_ratio_leaves_the_others_estimated():
    # level C has all its events before anyone else's: its hazard ratio runs to infinity
    # (monotone likelihood); A and B must keep theirs, as in the fit without C
    base = synthetic_cohort(n=120, seed=3)
    adsl, adtte = base.adsl.copy(), base.adtte.copy()
    adsl["GRP"] = ["A"] * 60 + ["B"] * 50 + ["C"] * 10
    adtte["AVAL"] = adtte["AVAL"] + 20
    adtte.loc[110:, "AVAL"] = np.arange(1, 11, dtype=float)
    adtte.loc[110:, "CNSR"] = 0
    cohort = replace(base, adsl=adsl, adtte=adtte)
    var = SubgroupAnalysis().fit(cohort, "AFS", ["GRP"]).result_.variable("GRP")
    c = var.level("C")
    assert c.hazard_ratio is None
    assert "hazard ratio not estimable" in (c.reason or "")
    b = var.level("B")
    assert b.hazard_ratio is not None, b.reason
    keep = adtte["USUBJID"].isin(adsl.loc[adsl["GRP"] != "C", "USUBJID"]).to_numpy()
    rows = adtte[keep].merge(adsl[["USUBJID", "GRP"]], on="USUBJID")
    cox = CoxPH(reference="A").fit(
        rows["AVAL"].to_numpy(), (rows["CNSR"] == 0).to_numpy(), rows["GRP"].to_numpy()
    )
    assert b.hazard_ratio == pytest.approx(float(cox.hazard_ratios_[0]), rel=1e-8)
    assert b.hr_lower == pytest.approx(float(cox.lower_[0]), rel=1e-8)
