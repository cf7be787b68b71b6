"""Kaplan-Meier engine against R survival 3.5-3 (tests/reference/r_survival, 1e-6).

Every row of every survfit CSV (three CI types, overall and by group), the
``summary(fit, times)`` landmark tables (extend = TRUE and FALSE), the
``summary(fit)$table`` medians and restricted means, and ``quantile(fit)``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from analytics.estimators.km import CI_TYPES, CIType, KaplanMeier

REF = Path(__file__).resolve().parents[1] / "reference" / "r_survival"
GROUPS = {"aml": "x", "lung": "sex", "veteran": "trt", "edge": "group"}
TOL = 1e-6


@cache
def data(name: str) -> pd.DataFrame:
    return pd.read_csv(REF / f"{name}_data.csv")


@cache
def summary_json(name: str) -> dict[str, Any]:
    out: dict[str, Any] = json.loads((REF / f"{name}_summary.json").read_text(encoding="utf-8"))
    return out


def as_float(values: Any) -> np.ndarray:
    """JSON null (R's NA) and NaN both become NaN."""
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def assert_close(actual: Any, expected: Any, what: str) -> None:
    """Equal NaN/Inf pattern; elsewhere |a - e| <= 1e-6 * max(1, |e|) (absolute for
    probabilities, relative for times and large standard errors)."""
    a = np.asarray(actual, dtype=float)
    e = np.asarray(expected, dtype=float)
    assert a.shape == e.shape, f"{what}: shape {a.shape} != {e.shape}"
    assert np.array_equal(np.isnan(a), np.isnan(e)), f"{what}: NaN at {a} vs R {e}"
    assert np.array_equal(np.isinf(a), np.isinf(e)), f"{what}: Inf at {a} vs R {e}"
    assert np.array_equal(a[np.isinf(a)], e[np.isinf(e)]), f"{what}: Inf signs differ"
    ok = np.isfinite(e)
    err = np.abs(a[ok] - e[ok]) / np.maximum(1.0, np.abs(e[ok]))
    assert err.size == 0 or err.max() <= TOL, f"{what}: max scaled error {err.max():.3g}"


def strata(name: str, by_group: bool) -> Iterator[tuple[str | None, pd.DataFrame]]:
    df = data(name)
    if not by_group:
        yield None, df
        return
    col = GROUPS[name]
    for level in pd.unique(df[col]):
        yield str(level), df[df[col] == level]


def fit(df: pd.DataFrame, ct: CIType) -> KaplanMeier:
    return KaplanMeier(ci_type=ct).fit(df["time"], df["event"])


CASES = [(name, by, ct) for name in GROUPS for by in (False, True) for ct in CI_TYPES]
IDS = [f"{n}-{'by_' + GROUPS[n] if b else 'overall'}-{c}" for n, b, c in CASES]


@pytest.mark.parametrize(("name", "by_group", "ct"), CASES, ids=IDS)
def test_survfit_rows(name: str, by_group: bool, ct: CIType) -> None:
    file = f"{name}_survfit_by_{GROUPS[name]}_{ct}.csv" if by_group else f"{name}_survfit_{ct}.csv"
    ref = pd.read_csv(REF / file)
    for level, df in strata(name, by_group):
        r = ref if level is None else ref[ref["strata"].astype(str) == level]
        assert len(r) > 0
        km = fit(df, ct)
        tag = f"{file} {level or ''}"
        assert_close(km.timeline_, r["time"], f"{tag} time")
        assert_close(km.at_risk_, r["n.risk"], f"{tag} n.risk")
        assert_close(km.observed_, r["n.event"], f"{tag} n.event")
        assert_close(km.censored_, r["n.censor"], f"{tag} n.censor")
        assert_close(km.survival_, r["surv"], f"{tag} surv")
        assert_close(km.std_err_, r["std.err"], f"{tag} std.err")
        assert_close(km.lower_, r["lower"], f"{tag} lower")
        assert_close(km.upper_, r["upper"], f"{tag} upper")
        assert_close(km.cumhaz_, r["cumhaz"], f"{tag} cumhaz")
        assert_close(np.sqrt(km.var_cumhaz_), r["std.chaz"], f"{tag} std.chaz")


def _section(name: str, by_group: bool) -> dict[str, Any]:
    sj = summary_json(name)
    out: dict[str, Any] = sj[f"by_{GROUPS[name]}"] if by_group else sj["overall"]
    return out


def _rows(table: dict[str, Any], level: str | None) -> dict[str, np.ndarray]:
    if level is None:
        return {k: np.asarray(v) for k, v in table.items()}
    mask = np.array([str(s) == level for s in table["strata"]])
    return {k: np.asarray(v, dtype=object)[mask] for k, v in table.items() if k != "strata"}


@pytest.mark.parametrize(("name", "by_group", "ct"), CASES, ids=IDS)
@pytest.mark.parametrize("extend", [True, False], ids=["extend", "no_extend"])
def test_summary_landmarks(name: str, by_group: bool, ct: CIType, extend: bool) -> None:
    section = _section(name, by_group)
    times = summary_json(name)["landmark_times"]
    table = section["summary" if extend else "summary_no_extend"][ct]
    for level, df in strata(name, by_group):
        r = _rows(table, level)
        lms = fit(df, ct).landmarks(times, extend=extend)
        tag = f"{name} {level or 'overall'} {ct} extend={extend}"
        assert_close([lm.day for lm in lms], as_float(r["time"]), f"{tag} time")
        assert_close([lm.at_risk for lm in lms], as_float(r["n.risk"]), f"{tag} n.risk")
        assert_close([lm.events for lm in lms], as_float(r["n.event"]), f"{tag} n.event")
        assert_close([lm.censored for lm in lms], as_float(r["n.censor"]), f"{tag} n.censor")
        assert_close([lm.estimate for lm in lms], as_float(r["surv"]), f"{tag} surv")
        assert_close([lm.std_err for lm in lms], as_float(r["std.err"]), f"{tag} std.err")
        assert_close([lm.lower for lm in lms], as_float(r["lower"]), f"{tag} lower")
        assert_close([lm.upper for lm in lms], as_float(r["upper"]), f"{tag} upper")
        assert_close([lm.cumhaz for lm in lms], as_float(r["cumhaz"]), f"{tag} cumhaz")


def _none_to_nan(x: float | None) -> float:
    return np.nan if x is None else x


@pytest.mark.parametrize(("name", "by_group", "ct"), CASES, ids=IDS)
def test_summary_table(name: str, by_group: bool, ct: CIType) -> None:
    """``summary(fit)$table``: counts, restricted mean (common end time across
    strata) with its SE, and the median by the print/table rule."""
    table = _section(name, by_group)["table"][ct]
    end = float(data(name)["time"].max())
    for level, df in strata(name, by_group):
        r = _rows(table, level)
        km = fit(df, ct)
        tag = f"{name} {level or 'overall'} {ct} table"
        rmean, se = km.restricted_mean(end)
        med = km.quantile_time(0.5, rule="table")
        assert_close([km.n_], as_float(r["records"]), f"{tag} records")
        assert_close([km.at_risk_.max()], as_float(r["n.max"]), f"{tag} n.max")
        assert_close([km.at_risk_[0]], as_float(r["n.start"]), f"{tag} n.start")
        assert_close([km.events_], as_float(r["events"]), f"{tag} events")
        assert_close([rmean], as_float(r["rmean"]), f"{tag} rmean")
        assert_close([se], as_float(r["se(rmean)"]), f"{tag} se(rmean)")
        assert_close([_none_to_nan(med.estimate)], as_float(r["median"]), f"{tag} median")
        assert_close([_none_to_nan(med.lower)], as_float(r["0.95LCL"]), f"{tag} LCL")
        assert_close([_none_to_nan(med.upper)], as_float(r["0.95UCL"]), f"{tag} UCL")


@pytest.mark.parametrize(("name", "by_group", "ct"), CASES, ids=IDS)
def test_quantiles(name: str, by_group: bool, ct: CIType) -> None:
    """``quantile(fit, c(.25, .5, .75))`` (probs on the F = 1 - S scale): the engine's rule."""
    table = _section(name, by_group)["quantile"][ct]
    for level, df in strata(name, by_group):
        r = _rows(table, level)
        km = fit(df, ct)
        got = [km.quantile_time(1 - float(q)) for q in r["prob"]]
        tag = f"{name} {level or 'overall'} {ct} quantile"
        assert_close([_none_to_nan(m.estimate) for m in got], as_float(r["quantile"]), tag)
        assert_close([_none_to_nan(m.lower) for m in got], as_float(r["lower"]), f"{tag} lower")
        assert_close([_none_to_nan(m.upper) for m in got], as_float(r["upper"]), f"{tag} upper")


def test_result_median_uses_quantile_rule() -> None:
    """The two R rules differ on edge group B (curve ends flat at 0.5) and on the aml
    log upper limit (non-monotone band); the engine reports quantile()'s values."""
    edge = data("edge")
    b = edge[edge["group"] == "B"]
    km = KaplanMeier("log").fit(b["time"], b["event"])
    assert km.result().median.estimate == 3.5
    assert km.quantile_time(0.5, rule="table").estimate == 2
    aml = data("aml")
    km = KaplanMeier("log").fit(aml["time"], aml["event"])
    assert km.result().median.upper == 48
    assert km.quantile_time(0.5, rule="table").upper == 45


def test_veteran_median_tolerance() -> None:
    """S = 0.49999999999999967 on [52, 53) counts as 0.5: median 52.5, not 52."""
    vet = data("veteran")
    arm = vet[vet["trt"] == 2]
    km = KaplanMeier("log").fit(arm["time"], arm["event"])
    assert km.quantile_time(0.5).estimate == 52.5
    assert km.quantile_time(0.5, rule="table").estimate == 52.5


@pytest.mark.parametrize("ct", CI_TYPES)
def test_before_first_time_band_is_one(ct: CIType) -> None:
    """R's summary() inserts a time-0 row with CI (1, 1), log-log included."""
    aml = data("aml")
    km = KaplanMeier(ct).fit(aml["time"], aml["event"])
    lo, hi = km.band_at([0.0, 4.999])
    assert lo.tolist() == [1.0, 1.0]
    assert hi.tolist() == [1.0, 1.0]
    lm = km.result(landmarks=(0,)).landmark(0)
    assert (lm.estimate, lm.lower, lm.upper, lm.std_err) == (1.0, 1.0, 1.0, 0.0)


def test_result_landmarks_count_between_landmarks() -> None:
    aml = data("aml")
    res = KaplanMeier("log").fit(aml["time"], aml["event"]).result(landmarks=(30, 10))
    assert [lm.day for lm in res.landmarks] == [10, 30]
    first, second = res.landmarks
    assert first.events == first.cumulative_events
    assert second.events == second.cumulative_events - first.cumulative_events
    assert second.censored == second.cumulative_censored - first.cumulative_censored
    assert "quantile.survfit" in res.provenance.method


@pytest.mark.parametrize("n", [24, 34])
def test_curve_ending_flat_within_rounding_of_half(n: int) -> None:
    """n/2 single deaths then censoring at 20: S ends flat at 0.5000000000000001 (n = 24)
    or 0.4999999999999999 (n = 34); either way R's quantile() midpoint rule applies."""
    half = n // 2
    t = np.r_[np.arange(1, half + 1), np.full(half, 20)]
    e = np.r_[np.ones(half), np.zeros(half)]
    km = KaplanMeier("log").fit(t, e)
    assert 0 < abs(km.survival_[-1] - 0.5) < 1e-15
    assert km.quantile_time(0.5).estimate == (half + 20) / 2
    assert km.quantile_time(0.5, rule="table").estimate == half
