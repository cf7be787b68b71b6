"""Cox levels whose hazard ratio has no finite estimate (no events, monotone likelihood).

R's coxph warns "Loglik converged before variable k; coefficient may be infinite" and
prints a huge coefficient with a huge SE. CoxPH reports such a level as not estimable,
with the reason and no numbers, and gives the other levels the limit of the partial
likelihood: the fit on the data without the non-estimable levels' patients.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import analytics.estimators.cox_estimability as estimability
from analytics.estimators import TIES, CoxPH, HazardRatio, LogRankTest
from analytics.estimators.cox_likelihood import partial_likelihood
from analytics.estimators.grouping import group_rows
from analytics.report.cli import main
from analytics.report.summary import summarize, summary_json
from tests.helpers import ROOT

REF = Path(__file__).resolve().parents[1] / "reference" / "r_survival"
CELLTYPES = ["squamous", "smallcell", "adeno", "large"]

# Three groups; C has no events but its patients are at risk at most event times.
T3 = np.array([2, 3, 5, 7, 8, 11, 13, 14, 1, 4, 4, 6, 9, 10, 12, 15, 2, 5, 6, 9, 12, 16.0])
E3 = np.array([1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 1, 0, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0])
G3 = np.array(["A"] * 8 + ["B"] * 8 + ["C"] * 6)


@cache
def data(name: str) -> pd.DataFrame:
    return pd.read_csv(REF / f"{name}_data.csv")


@cache
def r_cox(name: str, label: str) -> dict[str, Any]:
    doc = json.loads((REF / f"{name}_tests.json").read_text(encoding="utf-8"))
    return next(c for c in doc["cox"] if c["label"] == label)


def fixed_fit(
    t: np.ndarray, e: np.ndarray, g: np.ndarray, reference: str, fixed: dict[str, float]
) -> dict[str, float]:
    """R's model on all the data with some coefficients held at a value (-40: a hazard
    ratio of 4e-18, where R's iterations head), the others maximised by Newton."""
    prep = group_rows(t, e, g, None, None, None)
    free = [i for i, lv in enumerate(prep.levels) if lv != reference and lv not in fixed]
    beta = np.zeros(len(prep.levels))
    for lv, value in fixed.items():
        beta[prep.levels.index(lv)] = value
    for _ in range(100):
        _, u, info = partial_likelihood(beta, prep.blocks, "efron")
        step = np.linalg.solve(info[np.ix_(free, free)], u[free])
        beta[free] += step
        if np.max(np.abs(step)) < 1e-13:
            break
    return {prep.levels[i]: float(beta[i]) for i in free}


def assert_same_estimates(full: CoxPH, reduced: CoxPH, tol: float = 1e-8) -> None:
    a, b = full.result(), reduced.result()
    for hr in b.hazard_ratios:
        got = a.hazard_ratio(hr.level)
        assert got.estimable
        for field in ("coef", "se", "hazard_ratio", "lower", "upper", "z", "p_value"):
            assert getattr(got, field) == pytest.approx(getattr(hr, field), rel=tol, abs=tol), (
                hr.level,
                field,
            )
    assert a.loglik == pytest.approx(b.loglik, rel=tol)
    assert a.likelihood_ratio.statistic == pytest.approx(b.likelihood_ratio.statistic, rel=tol)
    assert a.likelihood_ratio.df == b.likelihood_ratio.df


def assert_not_estimable(hr: HazardRatio, reason: str) -> None:
    assert not hr.estimable
    assert hr.note == reason
    assert hr.note.endswith("hazard ratio not estimable")
    numbers = (hr.coef, hr.se, hr.hazard_ratio, hr.lower, hr.upper, hr.z, hr.p_value)
    assert numbers == (None,) * 7


# --- (a) a hand-made data set ---------------------------------------------------------


@pytest.mark.parametrize("ties", TIES)
def test_zero_event_level_not_estimable_others_as_without_its_patients(ties):
    full = CoxPH(ties=ties, reference="A").fit(T3, E3, G3)
    keep = G3 != "C"
    reduced = CoxPH(ties=ties, reference="A").fit(T3[keep], E3[keep], G3[keep])
    assert reduced.converged_
    assert not full.converged_  # the full model's MLE does not exist
    assert full.notes_ == {"C": estimability.NO_EVENTS}
    assert full.n_fitted_ == keep.sum()
    res = full.result()
    assert_not_estimable(res.hazard_ratio("C"), estimability.NO_EVENTS)
    assert res.hazard_ratio("C").n == 6
    assert res.hazard_ratio("C").events == 0
    assert res.not_estimable == {"C": estimability.NO_EVENTS}
    assert "DID NOT CONVERGE" in res.provenance.method
    assert "'C'" in res.provenance.method
    assert_same_estimates(full, reduced)
    assert np.isnan(full.coef_[full.terms_.index("C")])
    assert np.all(np.isnan(full.var_[full.terms_.index("C")]))


def test_the_limit_is_r_model_with_the_zero_event_coefficient_at_minus_infinity():
    """The remaining coefficients of the full model, with C's held at -40, are those of
    the fit without C's patients: what R's coxph approaches as C's coefficient diverges."""
    limit = fixed_fit(T3, E3, G3, "A", {"C": -40.0})
    full = CoxPH(reference="A").fit(T3, E3, G3)
    assert full.coef_[full.terms_.index("B")] == pytest.approx(limit["B"], abs=1e-8)
    # and it is not the model that drops C's dummy (C's patients merged into A)
    merged = CoxPH(reference="A").fit(T3, E3, np.where(G3 == "C", "A", G3))
    assert abs(merged.coef_[0] - limit["B"]) > 1e-3


def test_zero_event_reference_leaves_nothing_estimable():
    fit = CoxPH(reference="C").fit(T3, E3, G3)
    assert fit.notes_ == {
        "A": estimability.NO_REFERENCE_EVENTS,
        "B": estimability.NO_REFERENCE_EVENTS,
    }
    res = fit.result()
    for hr in res.hazard_ratios:
        assert_not_estimable(hr, estimability.NO_REFERENCE_EVENTS)
    assert res.likelihood_ratio.df == 0
    assert math.isnan(res.likelihood_ratio.p_value)
    assert not res.converged


def test_level_censored_before_the_first_event_is_not_estimable():
    """Never at risk at an event time: the likelihood is flat in its coefficient."""
    t = np.r_[T3, [0.5, 0.5, 0.8]]
    e = np.r_[E3, [0, 0, 0]]
    g = np.r_[G3, ["D"] * 3]
    fit = CoxPH(reference="A").fit(t, e, g)
    assert fit.notes_ == {"C": estimability.NO_EVENTS, "D": estimability.NO_EVENTS}
    keep = np.isin(g, ["A", "B"])
    assert_same_estimates(fit, CoxPH(reference="A").fit(t[keep], e[keep], g[keep]))
    # survdiff: a group with expected 0 does not count towards the degrees of freedom
    lr = LogRankTest().fit(t, e, g)
    assert lr.expected_[list(lr.levels_).index("D")] == 0
    assert lr.df_ == 2
    assert lr.expected_[list(lr.levels_).index("C")] > 0
    assert np.isfinite(lr.chisq_)


@pytest.mark.parametrize(
    ("times", "reason"),
    [
        # every D patient dies before any other patient has an event: HR -> infinity
        ([0.2, 0.3, 0.4, 0.5], estimability.GROWS_WITHOUT_BOUND),
        # every D death comes after everyone else has left the risk set: HR -> 0
        ([20.0, 21, 22, 23], estimability.SHRINKS_TO_ZERO),
    ],
)
def test_monotone_likelihood_with_events(times, reason):
    t = np.r_[T3, times]
    e = np.r_[E3, [1, 1, 1, 1]]
    g = np.r_[G3, ["D"] * 4]
    fit = CoxPH(reference="A").fit(t, e, g)
    assert fit.notes_ == {"C": estimability.NO_EVENTS, "D": reason}
    assert_not_estimable(fit.result().hazard_ratio("D"), reason)
    keep = np.isin(g, ["A", "B"])
    assert_same_estimates(fit, CoxPH(reference="A").fit(t[keep], e[keep], g[keep]))


def test_reference_without_events_and_a_one_way_comparison():
    t = np.array([1, 2, 3, 10, 11, 12, 1.5, 2.5, 5, 6, 7, 8.0])
    e = np.array([0, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0])
    g = np.array(["A"] * 3 + ["C"] * 3 + ["B"] * 6)
    fit = CoxPH(reference="A").fit(t, e, g)
    assert fit.notes_ == {
        "B": estimability.NO_REFERENCE_EVENTS,
        "C": estimability.NO_REFERENCE_EVENTS,
    }
    # against C: A has no events; B's events come while C is at risk, C's after every
    # B patient has left: B's hazard ratio against C grows without bound
    fit = CoxPH(reference="C").fit(t, e, g)
    assert fit.notes_ == {"A": estimability.NO_EVENTS, "B": estimability.GROWS_WITHOUT_BOUND}


def test_never_compared_with_the_reference():
    """Strata x (A, C) and y (B, D) share no level: B and D are never in a risk set
    with A, so their hazard ratios against A are not identified; C's is, from x alone."""
    t = np.array([2, 3, 5, 7, 9, 1, 4, 6, 8, 10.0])
    e = np.array([1, 0, 1, 1, 0, 1, 1, 0, 1, 1])
    s = np.array(["x"] * 10 + ["y"] * 10)
    g = np.r_[np.array(["A"] * 5 + ["C"] * 5), np.array(["B"] * 5 + ["D"] * 5)]
    t, e = np.r_[t, t + 0.5], np.r_[e, e[::-1]]
    fit = CoxPH(reference="A").fit(t, e, g, strata=s)
    assert fit.notes_ == {"B": estimability.NEVER_COMPARED, "D": estimability.NEVER_COMPARED}
    assert_not_estimable(fit.result().hazard_ratio("B"), estimability.NEVER_COMPARED)
    x = s == "x"
    assert_same_estimates(fit, CoxPH(reference="A").fit(t[x], e[x], g[x], strata=s[x]))


def test_stratified_zero_event_level():
    s = np.array(["x", "y"] * 11)
    full = CoxPH(reference="A").fit(T3, E3, G3, strata=s)
    keep = G3 != "C"
    reduced = CoxPH(reference="A").fit(T3[keep], E3[keep], G3[keep], strata=s[keep])
    assert full.notes_ == {"C": estimability.NO_EVENTS}
    assert_same_estimates(full, reduced)


def test_aggregated_rows_give_the_same_notes():
    frame = pd.DataFrame({"t": T3, "e": E3, "g": G3})
    agg = frame.groupby(["t", "e", "g"], as_index=False).size()
    rows = CoxPH(reference="A").fit(T3, E3, G3)
    grouped = CoxPH(reference="A").fit(agg["t"], agg["e"], agg["g"], weights=agg["size"])
    assert grouped.notes_ == rows.notes_
    assert grouped.coef_[0] == pytest.approx(rows.coef_[0], abs=1e-12)


def test_one_patient_per_level_never_raises():
    rng = np.random.default_rng(3)
    n = 60
    t = rng.integers(1, 40, n).astype(float)
    e = (rng.random(n) < 0.6).astype(int)
    g = np.array([f"P{i:03d}" for i in range(n)])
    fit = CoxPH().fit(t, e, g)
    res = fit.result()
    for hr in res.hazard_ratios:
        if hr.estimable:  # only levels tied in death time with the reference
            assert hr.lower is not None
            assert hr.upper is not None
            assert np.isfinite([hr.lower, hr.upper]).all()
        else:
            assert hr.note
            assert hr.hazard_ratio is None
    lr = LogRankTest().fit(t, e, g)
    assert np.isfinite(lr.chisq_)
    assert lr.df_ == int(np.sum(lr.expected_ > 0)) - 1


# --- (b) R reference data with an artificial zero-event group --------------------------


def _with_zero_event_group(df: pd.DataFrame, column: str) -> pd.DataFrame:
    """Ten patients censored across the observed times: in many risk sets, no events."""
    times = np.quantile(df["time"], np.linspace(0.05, 0.95, 10)).round()
    extra = pd.DataFrame({"time": times, "event": 0, column: "zzz_no_events"})
    return pd.concat([df, extra], ignore_index=True)


@pytest.mark.parametrize(
    ("name", "column", "levels", "reference", "label"),
    [
        ("veteran", "celltype", CELLTYPES, "squamous", "celltype_ref_squamous_efron"),
        ("veteran", "celltype", CELLTYPES, "large", "celltype_ref_large_efron"),
        ("aml", "x", None, None, "x_efron"),
    ],
)
def test_r_data_plus_zero_event_group(name, column, levels, reference, label):
    df = data(name)
    aug = _with_zero_event_group(df, column)
    lv = None if levels is None else [*levels, "zzz_no_events"]
    full = CoxPH(reference=reference).fit(aug["time"], aug["event"], aug[column], levels=lv)
    plain = CoxPH(reference=reference).fit(df["time"], df["event"], df[column], levels=levels)
    assert full.notes_ == {"zzz_no_events": estimability.NO_EVENTS}
    assert_same_estimates(full, plain)
    # and still R's numbers for the real levels, to 1e-6
    ref = r_cox(name, label)["coefficients"]
    estimable = [hr for hr in full.result().hazard_ratios if hr.estimable]
    assert len(estimable) == len(ref["coef"])
    np.testing.assert_allclose([hr.coef for hr in estimable], ref["coef"], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose([hr.se for hr in estimable], ref["se_coef"], rtol=1e-6)
    np.testing.assert_allclose([hr.lower for hr in estimable], ref["lower_95"], rtol=1e-6)
    np.testing.assert_allclose([hr.upper for hr in estimable], ref["upper_95"], rtol=1e-6)
    # R's model with the zero-event coefficient far down gives the same
    limit = fixed_fit(
        aug["time"].to_numpy(float),
        aug["event"].to_numpy(int),
        aug[column].astype(str).to_numpy(),
        reference or sorted(df[column].astype(str).unique())[0],
        {"zzz_no_events": -40.0},
    )
    for hr in estimable:
        assert hr.coef == pytest.approx(limit[hr.level], abs=1e-8)
    # log-rank: the new group is at risk at event times, so it adds one df (survdiff)
    lr_aug = LogRankTest().fit(aug["time"], aug["event"], aug[column], levels=lv)
    lr = LogRankTest().fit(df["time"], df["event"], df[column], levels=levels)
    assert lr_aug.df_ == lr.df_ + 1
    assert np.isfinite(lr_aug.chisq_)


# --- (c), (d) the command line ---------------------------------------------------------


def _check_levels(doc: dict[str, Any]) -> int:
    """Every level: finite estimate, CI and p with lower <= estimate <= upper, or all
    null with a note. Returns the number of null levels."""
    nulls = 0
    for cmp in doc["comparison"].values():
        for entry in cmp["hazard_ratio"]["levels"].values():
            numbers = [entry[k] for k in ("estimate", "lower", "upper", "p")]
            if entry["estimate"] is None:
                assert numbers == [None] * 4
                assert entry["note"].endswith("not estimable")
                nulls += 1
            else:
                assert all(isinstance(x, float) and math.isfinite(x) for x in numbers)
                assert entry["lower"] <= entry["estimate"] <= entry["upper"]
                assert 0 <= entry["p"] <= 1
                assert "note" not in entry
    return nulls


def test_cli_by_site_reports_not_estimable_sites(capsys):
    code = main(["summary", "--by", "SITEID"])
    out, err = capsys.readouterr()
    assert code == 0
    assert err == ""
    doc = json.loads(out)
    assert _check_levels(doc) > 0  # the demo has sites without events for some endpoint
    assert doc["hazard_ratio"] == doc["comparison"][next(iter(doc["comparison"]))]["hazard_ratio"]
    for code, cmp in doc["comparison"].items():  # no level dropped silently
        compared = set(cmp["hazard_ratio"]["levels"]) | {cmp["hazard_ratio"]["reference"]}
        assert compared == {lv for lv, g in doc["groups"].items() if code in g["endpoints"]}


@pytest.mark.parametrize("column", ["USUBJID", "ENRLDT"])
def test_one_patient_per_level_compared_without_warnings(demo_store, column):
    """What the dashboard's Compare-by runs (summary.compare_groups), under the suite's
    warnings-as-errors: every level estimated or noted, the log-rank test finite."""
    s = summarize(demo_store, by=column, bayes_endpoint=None, with_quality=False)
    doc = summary_json(s)
    assert _check_levels(doc) > 0
    for code, cmp in s.comparison.items():
        assert math.isfinite(cmp.logrank_chisq), code
        with_records = {lv for lv, g in s.groups.items() if code in g.endpoints}
        assert set(cmp.levels()) | {cmp.reference} == with_records, code
        assert all(why.endswith("not estimable") for why in cmp.not_estimable.values())


@pytest.mark.slow
@pytest.mark.parametrize("column", ["USUBJID", "ENRLDT"])
def test_cli_one_patient_per_level_exits_cleanly(column):
    """The command line either compares such a column (exit 0, JSON as above) or refuses
    it (exit 2, one paragraph naming the column); never a crash or a warning."""
    proc = subprocess.run(
        [sys.executable, "-W", "always", "-m", "analytics", "summary", "--by", column],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode in (0, 2), proc.stderr
    if proc.returncode == 0:
        assert proc.stderr == ""
        assert _check_levels(json.loads(proc.stdout)) > 0
    else:
        assert proc.stdout == ""
        assert column in proc.stderr
        assert "Traceback" not in proc.stderr
        assert "Warning" not in proc.stderr
        assert proc.stderr.count("\n") == 1
