"""Subgroup (forest plot) analysis: agrees with the KM, Cox and log-rank engines,
keeps every level (with a reason when it cannot be estimated)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from analytics.compare import CoxPH, LogRankTest
from analytics.filters import FilterState
from analytics.km import KaplanMeier
from analytics.provenance import Provenance
from analytics.store import Cohort
from analytics.subgroups import DEFAULT_SUBGROUPS, SubgroupAnalysis


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
